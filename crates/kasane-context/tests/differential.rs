//! Differential tests against moby/patternmatcher itself (Go, Debian's
//! golang-github-moby-patternmatcher-dev), through the small program in `tests/go-oracle`.
//!
//! Thousands of generated pattern lists and paths cover every metacharacter, exceptions,
//! parents, `..`, trailing slashes, Unicode and invalid UTF-8; every decision of every
//! matching mode must be identical, errors included. The Go table tests of the package are
//! run as data too. A second test checks the Go-regexp layer on its own.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use kasane_context::{Dialect, MatchInfo, PatternMatcher, go_regex_is_match};

const GO_SOURCE: &str = "/usr/share/gocode/src/github.com/moby/patternmatcher";

/// Builds the oracle offline against the Debian package; panics (never skips) when Go or
/// the package is missing.
fn oracle() -> PathBuf {
    let gopath = std::env::var("KASANE_GOPATH").unwrap_or_else(|_| "/usr/share/gocode".into());
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("go-oracle");
    let src = kasane_testenv::package_dir().join("tests/go-oracle");
    let status = Command::new("go")
        .args(["build", "-o"])
        .arg(&out)
        .arg(".")
        .current_dir(&src)
        .env("GO111MODULE", "off")
        .env("GOFLAGS", "")
        .env("GOPATH", &gopath)
        .env(
            "GOCACHE",
            PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("gocache"),
        )
        .status()
        .unwrap_or_else(|e| {
            panic!("the Go toolchain (Debian golang-go) is required for this test: {e}")
        });
    assert!(
        status.success(),
        "building the Go oracle failed; it needs golang-github-moby-patternmatcher-dev under {gopath}"
    );
    out
}

fn ask(oracle: &Path, input: &str) -> Vec<String> {
    let mut child = Command::new(oracle)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        // text/scanner reports invalid UTF-8 in patterns on stderr; that is expected here.
        .stderr(Stdio::null())
        .spawn()
        .expect("run go-oracle");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_owned();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().expect("go-oracle output");
    writer.join().expect("writer").expect("write to go-oracle");
    assert!(out.status.success(), "go-oracle failed");
    String::from_utf8(out.stdout)
        .expect("ASCII answers")
        .lines()
        .map(str::to_owned)
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A small deterministic generator (SplitMix64), so failures reproduce from the seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a [u8]]) -> &'a [u8] {
        items[self.below(items.len())]
    }
}

const PATTERN_PIECES: &[&[u8]] = &[
    b"a",
    b"b",
    b"ab",
    b"abc",
    b"x",
    b".",
    b"..",
    b"/",
    b"/",
    b"/",
    b"*",
    b"*",
    b"**",
    b"**/",
    b"?",
    b"[a-c]",
    b"[^a]",
    b"[!a]",
    b"[",
    b"]",
    b"[]a]",
    b"[a-]",
    b"\\",
    b"\\*",
    b"\\?",
    b"\\[",
    b"\\d",
    b"\\w",
    b"\\s",
    b"\\b",
    b"\\Q",
    b"\\E",
    b"\\x41",
    b"\\pL",
    b"\\p{Greek}",
    b"[[:alpha:]]",
    b"[[:foo:]]",
    b"\\1",
    b"\\.",
    b"\xc3\xa9",
    "日".as_bytes(),
    b"+",
    b"(",
    b")",
    b"|",
    b"{",
    b"}",
    b"{2}",
    b"$",
    b"^",
    b"-",
    b" ",
    b"!",
    b"#",
    b"\xff",
    b"\xef\xbb\xbf",
    b".md",
    b"node_modules",
    b"\t",
];

const COMMON_PIECES: &[&[u8]] = &[
    b"a",
    b"b",
    b"ab",
    b"x",
    b"/",
    b"/",
    b"*",
    b"**",
    b"**/",
    b"?",
    b".md",
    b"[a-c]",
    b"[^a]",
    b"node_modules",
    b"\xc3\xa9",
];

const PATH_SEGMENTS: &[&[u8]] = &[
    b"a",
    b"b",
    b"ab",
    b"abc",
    b"x",
    b"A",
    b"1",
    b".a",
    b"a.b",
    b"a.md",
    b".md",
    b"\xc3\xa9",
    "日本".as_bytes(),
    b"a+",
    b"aa",
    b"(x)",
    b"x|y",
    b"$",
    b"^",
    b"^a",
    b"*",
    b"?",
    b"[a]",
    b"\xff",
    b"\xe2\x82",
    b"a b",
    b"!a",
    b"#a",
    b"-",
    b"]",
    b"\\",
    b"a\nb",
    b"node_modules",
    b"G",
    b"\xce\xb1",
];

fn gen_pattern(rng: &mut Rng) -> Vec<u8> {
    let mut p = Vec::new();
    match rng.below(10) {
        0 => p.extend_from_slice(b"!"),
        1 => p.extend_from_slice(b"/"),
        2 => p.extend_from_slice(b"./"),
        3 => p.extend_from_slice(b" !"),
        _ => {}
    }
    for _ in 0..=rng.below(5) {
        // Mostly ordinary pieces, so that many patterns are valid and match something.
        let pieces = if rng.below(10) < 7 {
            COMMON_PIECES
        } else {
            PATTERN_PIECES
        };
        p.extend_from_slice(rng.pick(pieces));
    }
    if rng.below(8) == 0 {
        p.push(b'/');
    }
    p
}

fn gen_path(rng: &mut Rng, dirty: bool) -> Vec<u8> {
    let mut p = Vec::new();
    for i in 0..=rng.below(4) {
        if i > 0 {
            p.push(b'/');
        }
        if dirty && rng.below(6) == 0 {
            p.extend_from_slice(rng.pick(&[b".", b"..", b""]));
        } else {
            p.extend_from_slice(rng.pick(PATH_SEGMENTS));
        }
    }
    if dirty && rng.below(4) == 0 {
        p.push(b'/');
    }
    p
}

#[derive(Debug)]
struct Case {
    patterns: Vec<Vec<u8>>,
    queries: Vec<(char, Vec<u8>)>,
    /// Expected answers from the Go table tests, when the case comes from there.
    expected: Option<bool>,
}

fn verdict(r: Result<bool, kasane_context::PatternError>) -> String {
    match r {
        Ok(true) => "1".into(),
        Ok(false) => "0".into(),
        Err(_) => "E".into(),
    }
}

/// kasane's answer for one query, computed the way the oracle computes Go's.
fn ours(pm: &PatternMatcher, mode: char, path: &[u8]) -> String {
    match mode {
        'f' => verdict(pm.matches_cleaned(path)),
        'm' => verdict(pm.matches_or_parent_matches(path)),
        'l' => verdict(pm.matches_legacy(path)),
        'u' => {
            let parts: Vec<&[u8]> = path.split(|&b| b == b'/').collect();
            let mut info = MatchInfo::default();
            let mut last = false;
            for i in 0..parts.len() {
                let prefix = parts[..=i].join(&b'/');
                match pm.matches_using_parent_results(&prefix, &info) {
                    Ok((m, next)) => {
                        last = m;
                        info = next;
                    }
                    Err(_) => return "E".into(),
                }
            }
            verdict(Ok(last))
        }
        _ => unreachable!(),
    }
}

/// Reads the table tests of patternmatcher_test.go (`{"pattern", "text", pass}` and the
/// multi-pattern form) as data.
fn go_table_cases() -> Vec<Case> {
    let text = std::fs::read_to_string(Path::new(GO_SOURCE).join("patternmatcher_test.go"))
        .expect("patternmatcher_test.go from golang-github-moby-patternmatcher-dev");
    let mut cases = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        let Some(body) = line.strip_prefix('{').and_then(|l| l.strip_suffix("},")) else {
            continue;
        };
        let (patterns_part, rest) = if let Some(multi) = body.strip_prefix("[]string{") {
            let Some((list, rest)) = multi.split_once("}, ") else {
                continue;
            };
            (list.to_owned(), rest.to_owned())
        } else {
            let Some((first, rest)) = go_string(body) else {
                continue;
            };
            let Some(rest) = rest.strip_prefix(", ") else {
                continue;
            };
            (
                format!("\"{}\"", first.replace('\\', "\\\\")),
                rest.to_owned(),
            )
        };
        let mut patterns = Vec::new();
        let mut list = patterns_part.as_str();
        while let Some((s, rest)) = go_string(list) {
            patterns.push(s.into_bytes());
            list = rest.trim_start_matches(", ");
        }
        let Some((path, rest)) = go_string(&rest) else {
            continue;
        };
        let expected = match rest.trim_start_matches(", ").split(',').next() {
            Some("true") => true,
            Some("false") => false,
            _ => continue,
        };
        cases.push(Case {
            patterns,
            queries: vec![('m', path.clone().into_bytes()), ('u', path.into_bytes())],
            expected: Some(expected),
        });
    }
    assert!(cases.len() > 60, "found only {} table cases", cases.len());
    cases
}

/// A leading Go interpreted string literal (only the escapes the table uses).
fn go_string(s: &str) -> Option<(String, &str)> {
    let s = s.strip_prefix('"')?;
    let mut out = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, &s[i + 1..])),
            '\\' => out.push(chars.next()?.1),
            c => out.push(c),
        }
    }
    None
}

#[test]
#[ignore = "conformance: needs Go and Debian's moby/patternmatcher (scripts/test runs it)"]
fn matcher_agrees_with_moby_patternmatcher() {
    let oracle = oracle();
    let mut rng = Rng(0x6b61_7361_6e65);
    let mut cases = go_table_cases();
    let table_cases = cases.len();
    for _ in 0..6000 {
        let patterns = (0..=rng.below(4)).map(|_| gen_pattern(&mut rng)).collect();
        let mut queries = Vec::new();
        for _ in 0..6 {
            let path = gen_path(&mut rng, false);
            for mode in ['m', 'u', 'l'] {
                queries.push((mode, path.clone()));
            }
            queries.push(('f', gen_path(&mut rng, true)));
        }
        cases.push(Case {
            patterns,
            queries,
            expected: None,
        });
    }

    let mut input = String::new();
    for case in &cases {
        for p in &case.patterns {
            input.push_str(&format!("P {}\n", hex(p)));
        }
        for (mode, path) in &case.queries {
            input.push_str(&format!("Q {mode} {}\n", hex(path)));
        }
        input.push_str("E\n");
    }
    let answers = ask(&oracle, &input);

    let mut next = answers.iter();
    let (mut compared, mut new_errors, mut errors, mut matched) = (0, 0, 0, 0);
    let mut disagreements = Vec::new();
    for case in &cases {
        let pm = PatternMatcher::new(&case.patterns, Dialect::Moby).ok();
        let go_new_failed = pm.is_none();
        let first = next.next().expect("an answer per case");
        if first == "N" {
            compared += 1;
            new_errors += 1;
            if !go_new_failed {
                disagreements.push(format!("New: Go fails, kasane accepts {:?}", case.patterns));
            }
            continue;
        }
        if go_new_failed {
            disagreements.push(format!("New: Go accepts, kasane fails {:?}", case.patterns));
        }
        let mut go_answers = vec![first.clone()];
        go_answers.extend(next.by_ref().take(case.queries.len() - 1).cloned());
        for ((mode, path), go) in case.queries.iter().zip(&go_answers) {
            compared += 1;
            errors += usize::from(go == "E");
            matched += usize::from(go == "1");
            let mine = match &pm {
                Some(pm) => ours(pm, *mode, path),
                None => "N".into(),
            };
            if &mine != go {
                disagreements.push(format!(
                    "mode {mode}: patterns {:?} path {:?}: Go {go}, kasane {mine}",
                    case.patterns
                        .iter()
                        .map(|p| String::from_utf8_lossy(p).into_owned())
                        .collect::<Vec<_>>(),
                    String::from_utf8_lossy(path)
                ));
            }
            if let Some(expected) = case.expected {
                let want = if expected { "1" } else { "0" };
                assert_eq!(go, want, "Go disagrees with its own table: {case:?}");
            }
        }
    }
    eprintln!(
        "moby/patternmatcher differential: {compared} decisions over {} cases ({table_cases} from \
         the Go table tests): {matched} excluded, {errors} errors, {new_errors} rejected \
         pattern lists; {} disagreements",
        cases.len(),
        disagreements.len()
    );
    assert!(
        disagreements.is_empty(),
        "{} disagreements, first ones:\n{}",
        disagreements.len(),
        disagreements
            .iter()
            .take(25)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

const REGEX_PIECES: &[&str] = &[
    "a",
    "b",
    "é",
    "/",
    ".",
    "*",
    "+",
    "?",
    "*?",
    "|",
    "(",
    ")",
    "()",
    "[",
    "]",
    "[^/]",
    "[a-c]",
    "[]a]",
    "[a-]",
    "[^]",
    "[[:alpha:]]",
    "[[:^digit:]]",
    "[:x:]",
    "[\\d]",
    "{",
    "}",
    "{2}",
    "{1,}",
    "{,2}",
    "{0}",
    "{01}",
    "{2,1}",
    "{1001}",
    "^",
    "$",
    "\\",
    "\\.",
    "\\*",
    "\\d",
    "\\D",
    "\\s",
    "\\w",
    "\\W",
    "\\b",
    "\\B",
    "\\A",
    "\\z",
    "\\Q",
    "\\E",
    "\\x41",
    "\\x{3b1}",
    "\\x4",
    "\\0",
    "\\01",
    "\\7",
    "\\8",
    "\\pL",
    "\\p{Greek}",
    "\\PL",
    "\\p{^Latin}",
    "\\p{Foo}",
    "\\p",
    "\\n",
    "\\t",
    "\\v",
    "\\e",
    "\\x{d800}",
    "[\\x{d000}-\\x{e000}]",
    "\\C",
    "\\_",
    "\\-",
    "\\é",
    "-",
    ":",
    "(.*/)?",
    ".*",
];

const REGEX_TEXTS: &[&[u8]] = &[
    b"",
    b"a",
    b"b",
    b"ab",
    b"aa",
    b"a/b",
    b"/",
    b".",
    b"A",
    b"1",
    b"\xc3\xa9",
    b"\xce\xb1",
    b"a b",
    b"\t",
    b"\x0b",
    b"\n",
    b"\xff",
    b"[",
    b"]",
    b"-",
    b"{",
    b"{2}",
    b"_",
    b"ab/ab",
];

#[test]
#[ignore = "conformance: needs Go (scripts/test runs it)"]
fn go_regexp_layer_agrees_with_go() {
    let oracle = oracle();
    let mut rng = Rng(0x5245_3221);
    let mut cases = Vec::new();
    for _ in 0..8000 {
        let mut re = String::new();
        if rng.below(2) == 0 {
            re.push('^');
        }
        for _ in 0..=rng.below(5) {
            re.push_str(REGEX_PIECES[rng.below(REGEX_PIECES.len())]);
        }
        if rng.below(2) == 0 {
            re.push('$');
        }
        let texts: Vec<Vec<u8>> = (0..6)
            .map(|_| {
                let mut t = Vec::new();
                for _ in 0..=rng.below(3) {
                    t.extend_from_slice(rng.pick(REGEX_TEXTS));
                }
                t
            })
            .collect();
        cases.push((re, texts));
    }
    let mut input = String::new();
    for (re, texts) in &cases {
        input.push_str(&format!("R {}", hex(re.as_bytes())));
        for t in texts {
            input.push_str(&format!(" {}", hex(t)));
        }
        input.push('\n');
    }
    let answers = ask(&oracle, &input);
    let mut disagreements = Vec::new();
    let mut compared = 0;
    for ((re, texts), go) in cases.iter().zip(&answers) {
        let mine = match texts
            .iter()
            .map(|t| go_regex_is_match(re, t))
            .collect::<Result<Vec<bool>, String>>()
        {
            Ok(v) => v.iter().map(|&b| if b { '1' } else { '0' }).collect(),
            Err(_) => "E".to_owned(),
        };
        compared += if go == "E" { 1 } else { texts.len() };
        if &mine != go {
            disagreements.push(format!("{re:?}: Go {go}, kasane {mine} on {texts:?}"));
        }
    }
    eprintln!(
        "Go regexp differential: {} expressions, {compared} decisions, {} disagreements",
        cases.len(),
        disagreements.len()
    );
    assert!(
        disagreements.is_empty(),
        "{} disagreements, first ones:\n{}",
        disagreements.len(),
        disagreements
            .iter()
            .take(25)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
