//! Round trip over the real-world corpus: every file that parses prints back
//! byte for byte, its elements tile the file, and every node's span lies inside
//! its instruction.
//!
//! The corpus is `shared/corpus/dockerfiles.tar.zst`; this test unpacks it once
//! into `$KASANE_CACHE/corpus-dockerfiles` (as `scripts/conformance-parser`
//! does), or reads `KASANE_CORPUS_DIR` when set. `scripts/test` runs it.

use std::path::PathBuf;
use std::process::Command;

use kasane_dockerfile::{Arguments, Dialect, Dockerfile, Instruction, ParseOptions, Span};

/// The unpacked corpus directory (`…/all`), unpacking it when needed.
fn corpus_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("KASANE_CORPUS_DIR") {
        return PathBuf::from(dir);
    }
    let root = kasane_testenv::package_dir().join("../..");
    let shared = std::env::var_os("KASANE_SHARED").map_or_else(
        || {
            let beside = root.join("../shared");
            if beside.join("corpus").is_dir() {
                beside
            } else {
                PathBuf::from("/work/shared")
            }
        },
        PathBuf::from,
    );
    let archive = shared.join("corpus/dockerfiles.tar.zst");
    let meta = std::fs::metadata(&archive)
        .unwrap_or_else(|e| panic!("the corpus archive {} is required: {e}", archive.display()));
    let cache = std::env::var_os("KASANE_CACHE").map_or_else(
        || PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/kasane"),
        PathBuf::from,
    );
    let dir = cache.join("corpus-dockerfiles");
    let modified = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs());
    // The same stamp as scripts/conformance-parser writes (`stat -c '%s %Y'`).
    let stamp = format!("{} {modified}", meta.len());
    let stamp_file = dir.join(".stamp");
    if std::fs::read_to_string(&stamp_file)
        .ok()
        .map(|s| s.trim().to_string())
        != Some(stamp.clone())
    {
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("cache directory");
        let status = Command::new("sh")
            .arg("-c")
            .arg("zstd -dc \"$1\" | tar -x -C \"$2\"")
            .arg("sh")
            .arg(&archive)
            .arg(&dir)
            .status()
            .expect("zstd and tar run");
        assert!(status.success(), "unpacking {} failed", archive.display());
        std::fs::write(&stamp_file, format!("{stamp}\n")).expect("stamp");
    }
    dir.join("all")
}

fn corpus_files() -> Vec<PathBuf> {
    let dir = corpus_dir();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("corpus directory is readable")
        .map(|e| e.expect("directory entry").path())
        .collect();
    files.sort();
    assert!(
        files.len() > 1000,
        "corpus at {dir:?} looks incomplete: {} files",
        files.len()
    );
    files
}

fn inside(outer: Span, inner: Span) -> bool {
    outer.start.offset <= inner.start.offset && inner.end.offset <= outer.end.offset
}

/// Checks one instruction's spans; returns a description of the first problem.
fn check_instruction(df: &Dockerfile, ins: &Instruction, outer: Span) -> Result<(), String> {
    let mut spans = vec![("keyword", ins.keyword.span), ("args", ins.args_span)];
    spans.extend(ins.flags.iter().map(|f| ("flag", f.span)));
    for w in ins.args.words() {
        spans.push(("argument", w.span));
    }
    for h in &ins.heredocs {
        spans.extend([
            ("marker", h.marker),
            ("body", h.body),
            ("terminator", h.terminator),
        ]);
        if df.text(h.terminator).trim_start_matches('\t') != h.name {
            return Err(format!(
                "heredoc terminator {:?} is not {:?}",
                df.text(h.terminator),
                h.name
            ));
        }
    }
    for (what, s) in spans {
        if !inside(outer, s) {
            return Err(format!(
                "{what} span {:?} outside {:?}",
                s.range(),
                outer.range()
            ));
        }
        if df.position(s.start.offset) != s.start {
            return Err(format!("{what} span has a wrong position"));
        }
    }
    if !df
        .text(ins.keyword.span)
        .eq_ignore_ascii_case(&ins.keyword.value)
        && df.text(ins.keyword.span) != ins.keyword.value
    {
        return Err(format!(
            "keyword text {:?} vs {:?}",
            df.text(ins.keyword.span),
            ins.keyword.value
        ));
    }
    if let Arguments::Trigger(t) = &ins.args {
        check_instruction(df, t, outer)?;
    }
    Ok(())
}

fn check_file(bytes: &[u8], dialect: Dialect) -> Result<bool, String> {
    let Ok(df) = Dockerfile::parse_bytes(bytes, ParseOptions::dialect(dialect)) else {
        return Ok(false);
    };
    let printed = df.print();
    if printed.as_bytes() != bytes {
        return Err("print() differs from the input".into());
    }
    let mut at = if df.has_bom() { 3 } else { 0 };
    for e in df.elements() {
        let x = e.extent();
        if x.start.offset != at {
            return Err(format!(
                "gap or overlap at byte {at} (next element starts at {})",
                x.start.offset
            ));
        }
        at = x.end.offset;
    }
    if at != bytes.len() {
        return Err(format!("elements end at {at}, file at {}", bytes.len()));
    }
    for ins in df.instructions() {
        if !inside(ins.extent, ins.span) {
            return Err("instruction span outside its extent".into());
        }
        check_instruction(&df, ins, ins.span)?;
    }
    Ok(true)
}

#[test]
#[ignore = "conformance: reads the 95,709-file corpus (scripts/test runs it in the ci profile)"]
fn corpus_round_trip() {
    let files = corpus_files();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = files.len().div_ceil(threads);
    let results: Vec<(usize, Vec<String>)> = std::thread::scope(|s| {
        let handles: Vec<_> = files
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    let mut ok = 0;
                    let mut failures = Vec::new();
                    for f in part {
                        let bytes = std::fs::read(f).expect("corpus file is readable");
                        for dialect in [Dialect::BuildKit012, Dialect::Current] {
                            match check_file(&bytes, dialect) {
                                Ok(true) => ok += 1,
                                Ok(false) => {}
                                Err(e) => {
                                    failures.push(format!("{} ({dialect:?}): {e}", f.display()))
                                }
                            }
                        }
                    }
                    (ok, failures)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("worker"))
            .collect()
    });
    let ok: usize = results.iter().map(|r| r.0).sum();
    let failures: Vec<&String> = results.iter().flat_map(|r| &r.1).collect();
    eprintln!(
        "round trip: {ok} parses checked over {} files, {} failures",
        files.len(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} failures, first: {:#?}",
        failures.len(),
        &failures[..failures.len().min(20)]
    );
    // Nearly every corpus file parses (21 do not, per the oracle).
    assert!(ok > 2 * (files.len() - 100), "only {ok} successful parses");
}
