//! Expansion checked against BuildKit's behaviour, case by case:
//! - `data/buildkit-shell/envVarTest` and `wordsTest`: BuildKit's own data-driven vectors
//!   (see `data/buildkit-shell/NOTICE`), read the way BuildKit's `lex_test.go` reads them;
//! - `data/expand-cases.jsonl`: our cases for every operator, option and error, whose expected
//!   output, error text and matched/unmatched sets were produced by BuildKit's shell package.
//!
//! Every case runs; any mismatch fails the test with a list of all mismatches.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use kasane_dockerfile::expand::{Env, Lexer};
use serde::Deserialize;

fn data(name: &str) -> String {
    let path = kasane_testenv::package_dir().join("tests/data").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// BuildKit on Windows compares environment keys without regard to case.
struct WindowsEnv(Vec<(String, String)>);

impl Env for WindowsEnv {
    fn get(&self, name: &str) -> Option<Cow<'_, str>> {
        let name = name.to_uppercase();
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k.to_uppercase() == name)
            .map(|(_, v)| Cow::Borrowed(v.as_str()))
    }
}

fn report(failures: &[String], total: usize, what: &str) {
    assert!(total > 0, "no {what} cases were read");
    assert!(
        failures.is_empty(),
        "{} of {total} {what} cases differ from BuildKit:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn buildkit_env_var_vectors() {
    let pairs: Vec<(String, String)> = [
        ("PWD", "/home"),
        ("SHELL", "bash"),
        ("KOREAN", "한국어"),
        ("NULL", ""),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    let unix: &[(String, String)] = &pairs;
    let windows = WindowsEnv(pairs.clone());
    let lexer = Lexer::new('\\');
    let (mut total, mut failures) = (0, Vec::new());
    for (n, line) in data("buildkit-shell/envVarTest").lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let parts: Vec<&str> = line.trim().split('|').collect();
        assert_eq!(parts.len(), 3, "line {}: {line:?}", n + 1);
        let (platform, input, expected) = (parts[0].trim(), parts[1].trim(), parts[2].trim());
        // BuildKit runs A and U cases on Unix and A and W cases on Windows; we run both sides,
        // the Windows side with case-insensitive keys as BuildKit's Windows build has them.
        let envs: Vec<(&str, &dyn Env)> = match platform {
            "A" => vec![("unix", &unix as &dyn Env), ("windows", &windows)],
            "U" => vec![("unix", &unix as &dyn Env)],
            "W" => vec![("windows", &windows as &dyn Env)],
            other => panic!("line {}: unknown platform {other:?}", n + 1),
        };
        for (side, env) in envs {
            total += 1;
            let got = lexer.process_word(input, env);
            let ok = match (&got, expected) {
                (Err(_), "error") => true,
                (Ok(out), want) => want != "error" && out.value == want,
                (Err(_), _) => false,
            };
            if !ok {
                failures.push(format!(
                    "line {} ({side}): {input:?} want {expected:?}, got {got:?}",
                    n + 1
                ));
            }
        }
    }
    report(&failures, total, "envVarTest");
    // 226 A lines run twice, 2 U and 2 W lines once.
    assert_eq!(total, 456);
}

#[test]
fn buildkit_words_vectors() {
    // BuildKit's test means to run this file twice (a second time with raw quotes and
    // skip-unset) but its second pass reads an exhausted file and checks nothing; the second
    // pass's expectations would not hold, so we run the first, effective pass only.
    let lexer = Lexer::new('\\');
    let mut env: Vec<(String, String)> = Vec::new();
    let (mut total, mut failures) = (0, Vec::new());
    for (n, line) in data("buildkit-shell/wordsTest").lines().enumerate() {
        if line.starts_with('#') {
            continue;
        }
        if let Some(rest) = line.strip_prefix("ENV ") {
            let rest = rest.trim_start_matches(' ');
            let (k, v) = rest.split_once('=').unwrap_or((rest, ""));
            env.push((k.to_owned(), v.to_owned()));
            continue;
        }
        let parts: Vec<&str> = line.split('|').collect();
        assert_eq!(parts.len(), 2, "line {}: {line:?}", n + 1);
        let input = parts[0].trim();
        let expected: Vec<&str> = parts[1].trim_start_matches(' ').split(',').collect();
        total += 1;
        let got = match lexer.process_words(input, env.as_slice()) {
            Ok(out) => out.words,
            Err(_) => vec!["error".to_owned()],
        };
        if got != expected {
            failures.push(format!(
                "line {}: {input:?} want {expected:?}, got {got:?}",
                n + 1
            ));
        }
    }
    report(&failures, total, "wordsTest");
    assert_eq!(total, 24);
}

/// One line of `expand-cases.jsonl` (the same shape the differential harness feeds BuildKit).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    input: String,
    #[serde(default)]
    env: BTreeMap<String, String>,
    #[serde(default)]
    escape: Option<char>,
    #[serde(default)]
    words: bool,
    #[serde(default)]
    raw_quotes: bool,
    #[serde(default)]
    raw_escapes: bool,
    #[serde(default)]
    skip_unset: bool,
    #[serde(default)]
    skip_process_quotes: bool,
    /// Expected value of a one-word expansion.
    #[serde(default)]
    result: Option<String>,
    /// Expected words of a split expansion.
    #[serde(default)]
    expect_words: Option<Vec<String>>,
    /// Expected error message, in full.
    #[serde(default)]
    err: Option<String>,
    #[serde(default)]
    matched: Option<BTreeSet<String>>,
    #[serde(default)]
    unmatched: Option<BTreeSet<String>>,
    /// What the case shows (for readers).
    #[serde(default)]
    note: Option<String>,
}

#[test]
fn own_cases_match_buildkit() {
    let text = match std::env::var("KASANE_EXPAND_CASES") {
        // Lets a local differential run point the same checks at a generated file.
        Ok(path) => std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}")),
        Err(_) => data("expand-cases.jsonl"),
    };
    let (mut total, mut failures) = (0, Vec::new());
    for (n, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let case: Case =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("line {}: {e}", n + 1));
        assert!(
            case.err.is_some() || case.result.is_some() || case.expect_words.is_some(),
            "line {}: a case needs an expectation",
            n + 1
        );
        total += 1;
        let lexer = Lexer::new(case.escape.unwrap_or('\\'))
            .raw_quotes(case.raw_quotes)
            .raw_escapes(case.raw_escapes)
            .skip_unset(case.skip_unset)
            .skip_process_quotes(case.skip_process_quotes);
        let mut problems = Vec::new();
        let (got_err, refs) = if case.words {
            match lexer.process_words(&case.input, &case.env) {
                Ok(out) => {
                    if Some(&out.words) != case.expect_words.as_ref() {
                        problems.push(format!(
                            "words {:?}, want {:?}",
                            out.words, case.expect_words
                        ));
                    }
                    (None, None)
                }
                Err(e) => (Some(e.to_string()), None),
            }
        } else {
            match lexer.process_word(&case.input, &case.env) {
                Ok(out) => {
                    if Some(&out.value) != case.result.as_ref() {
                        problems.push(format!("value {:?}, want {:?}", out.value, case.result));
                    }
                    (None, Some(out.refs))
                }
                Err(e) => (Some(e.to_string()), None),
            }
        };
        if got_err != case.err {
            problems.push(format!("error {got_err:?}, want {:?}", case.err));
        }
        if let Some(refs) = refs {
            if let Some(want) = &case.matched
                && &refs.matched != want
            {
                problems.push(format!("matched {:?}, want {want:?}", refs.matched));
            }
            if let Some(want) = &case.unmatched
                && &refs.unmatched != want
            {
                problems.push(format!("unmatched {:?}, want {want:?}", refs.unmatched));
            }
        }
        if !problems.is_empty() {
            failures.push(format!(
                "line {} {:?}{}: {}",
                n + 1,
                case.input,
                case.note.map(|n| format!(" ({n})")).unwrap_or_default(),
                problems.join("; ")
            ));
        }
    }
    report(&failures, total, "expand-cases");
}
