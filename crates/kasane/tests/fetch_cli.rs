//! `kasane fetch` as users see it: messages and exit codes (insta snapshots), against the
//! in-process test server.

use std::path::Path;
use std::process::Output;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use assert_cmd::Command;
use kasane_testserver::{Content, Framing, Reply, Request, Server, pattern};

const SIZE: usize = 300_000;

fn data() -> Vec<u8> {
    pattern(SIZE, 5)
}

fn server(script: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Server {
    Server::builder(Content::bytes(data(), "v1"))
        .script(script)
        .start()
}

fn kasane(dir: &Path, args: &[&str]) -> Output {
    Command::cargo_bin("kasane")
        .unwrap()
        .current_dir(dir)
        .arg("fetch")
        .args(args)
        .output()
        .unwrap()
}

/// Exit code, stdout and stderr in one text, with ports, paths and timings made stable.
fn render(out: &Output, dir: &Path) -> String {
    let text = format!(
        "exit: {}\n--- stdout\n{}--- stderr\n{}",
        out.status
            .code()
            .map_or("signal".to_owned(), |c| c.to_string()),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    text.replace(&dir.display().to_string(), "[DIR]")
}

macro_rules! snapshot {
    ($name:expr, $text:expr) => {
        insta::with_settings!({filters => vec![
            (r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]"),
            (r"in \d+\.\d s \([^)]*\)", "in [TIME]"),
            (r"in \d+\.\d s$", "in [DELAY]"),
            (r"(?m)in \d+\.\d s$", "in [DELAY]"),
        ]}, {
            insta::assert_snapshot!($name, $text);
        });
    };
}

fn dir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

fn sha256_hex(bytes: &[u8]) -> String {
    let d = dir();
    std::fs::write(d.path().join("x"), bytes).unwrap();
    let out = std::process::Command::new("sha256sum")
        .arg(d.path().join("x"))
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()[..64].to_owned()
}

#[test]
fn ranged_download_prints_the_digest_and_where_it_went() {
    let server = server(|_| Reply::honest());
    let d = dir();
    let out = kasane(
        d.path(),
        &[&server.url("tool.tar.gz"), "-j", "3", "--chunk", "64K"],
    );
    snapshot!("ranged_success", render(&out, d.path()));
    assert_eq!(std::fs::read(d.path().join("tool.tar.gz")).unwrap(), data());
}

#[test]
fn quiet_prints_only_the_digest() {
    let server = server(|_| Reply::honest());
    let d = dir();
    let out = kasane(d.path(), &[&server.url("f"), "-q", "-o", "sub.bin"]);
    snapshot!("quiet", render(&out, d.path()));
}

#[test]
fn server_without_ranges_is_named() {
    let server = server(|_| Reply {
        ignore_range: true,
        ..Reply::honest()
    });
    let d = dir();
    let out = kasane(d.path(), &[&server.url("f.bin")]);
    snapshot!("ranges_ignored", render(&out, d.path()));
    assert_eq!(std::fs::read(d.path().join("f.bin")).unwrap(), data());
}

#[test]
fn missing_length_is_warned_about_unless_a_checksum_is_given() {
    let server = server(|_| Reply {
        ignore_range: true,
        framing: Framing::Close,
        ..Reply::honest()
    });
    let d = dir();
    let out = kasane(d.path(), &[&server.url("f.bin")]);
    snapshot!("length_unknown", render(&out, d.path()));
    let sha = sha256_hex(&data());
    let out = kasane(d.path(), &[&server.url("f.bin"), "--sha256", &sha]);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("warning"));
}

#[test]
fn not_found_is_an_error_and_writes_nothing() {
    let server = server(|_| Reply {
        status: Some(404),
        ..Reply::honest()
    });
    let d = dir();
    let out = kasane(d.path(), &[&server.url("missing.tgz")]);
    snapshot!("not_found", render(&out, d.path()));
    assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 0);
}

#[test]
fn checksum_mismatch_is_an_error_and_writes_nothing() {
    let server = server(|_| Reply::honest());
    let d = dir();
    let wrong = "ab".repeat(32);
    let out = kasane(d.path(), &[&server.url("f.bin"), "--sha256", &wrong]);
    snapshot!("checksum_mismatch", render(&out, d.path()));
    assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 0);
}

#[test]
fn lying_content_range_is_an_error() {
    // Only the first range lies: with several lying, whichever connection answers first would be
    // the one reported.
    let server = server(|r| Reply {
        content_range: (r.range.as_deref() == Some("bytes=0-102399"))
            .then(|| "bytes 0-99/300000".to_owned()),
        ..Reply::honest()
    });
    let d = dir();
    let out = kasane(d.path(), &[&server.url("f.bin"), "--chunk", "100K"]);
    snapshot!("lying_content_range", render(&out, d.path()));
    assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 0);
}

#[test]
fn interrupted_download_says_how_to_resume_and_resumes() {
    let healed = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&healed);
    let server = server(move |r| Reply {
        cut_after: (!flag.load(Ordering::SeqCst)
            && r.range.as_deref().is_some_and(|x| x.ends_with("-299999")))
        .then_some(7),
        ..Reply::honest()
    });
    let d = dir();
    let args = [
        &server.url("f.bin")[..],
        "-j",
        "1",
        "--chunk",
        "100000",
        "--retries",
        "1",
    ];
    let out = kasane(d.path(), &args);
    snapshot!("interrupted", render(&out, d.path()));
    healed.store(true, Ordering::SeqCst);
    let out = kasane(d.path(), &args);
    snapshot!("resumed", render(&out, d.path()));
    assert_eq!(std::fs::read(d.path().join("f.bin")).unwrap(), data());
}

#[test]
fn url_without_a_file_name_needs_an_output() {
    let d = dir();
    let out = kasane(d.path(), &["http://127.0.0.1:9/"]);
    snapshot!("no_file_name", render(&out, d.path()));
}

#[test]
fn bad_arguments_are_usage_errors() {
    let d = dir();
    for (name, args) in [
        ("bad_sha256", &["http://h/f", "--sha256", "xyz"][..]),
        ("bad_chunk", &["http://h/f", "--chunk", "8X"][..]),
        ("bad_jobs", &["http://h/f", "-j", "0"][..]),
        ("bad_scheme", &["ftp://h/f"][..]),
    ] {
        let out = kasane(d.path(), args);
        snapshot!(name, render(&out, d.path()));
    }
}

#[test]
fn help() {
    let d = dir();
    let out = kasane(d.path(), &["--help"]);
    snapshot!("help", render(&out, d.path()));
}
