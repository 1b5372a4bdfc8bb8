//! CLI snapshots of `kasane lint`: text, JSON and the other formats, exit codes, --explain,
//! config files and pragmas.

use assert_cmd::Command;

fn kasane() -> Command {
    let mut c = Command::cargo_bin("kasane").unwrap();
    c.current_dir(kasane_testenv::package_dir());
    c.env("NO_COLOR", "1");
    c
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = kasane().args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

const FLAGGED: &str = "tests/data/lint/Dockerfile";
const CLEAN: &str = "tests/data/lint/clean.Dockerfile";

#[test]
fn text_output_and_exit_code() {
    let (code, out, err) = run(&["lint", FLAGGED]);
    assert_eq!(code, 1, "{err}");
    insta::assert_snapshot!(out);
}

#[test]
fn json_output() {
    let (code, out, _) = run(&["lint", "--format", "json", FLAGGED]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(
        v.as_array()
            .unwrap()
            .iter()
            .all(|f| f["line"].is_u64() && f["column"].is_u64())
    );
    insta::assert_snapshot!(out);
}

#[test]
fn other_formats() {
    for format in ["sarif", "checkstyle", "gitlab", "github", "concise"] {
        let (code, out, _) = run(&["lint", "-f", format, FLAGGED]);
        assert_eq!(code, 1, "{format}");
        insta::assert_snapshot!(format!("format_{format}"), out);
    }
}

#[test]
fn clean_file_exits_zero() {
    let (code, out, _) = run(&["lint", CLEAN]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out, "No problems in 1 file.\n");
}

#[test]
fn fail_level_decides_the_exit_code() {
    assert_eq!(run(&["lint", "--fail-level", "none", FLAGGED]).0, 0);
    assert_eq!(
        run(&[
            "lint",
            "--fail-level",
            "error",
            "--ignore",
            "KL001",
            FLAGGED
        ])
        .0,
        0
    );
    assert_eq!(run(&["lint", "--fail-level", "style", CLEAN]).0, 0);
}

#[test]
fn explain_and_list() {
    let (code, out, _) = run(&["lint", "--explain", "DL3009"]);
    assert_eq!(code, 0);
    insta::assert_snapshot!(out);
    let (code, out, _) = run(&["lint", "--list-rules"]);
    assert_eq!(code, 0);
    assert!(out.lines().count() >= 55, "{out}");
    let (code, _, err) = run(&["lint", "--explain", "DL9999"]);
    assert_eq!(code, 2);
    assert!(err.contains("DL9999"));
}

#[test]
fn bad_input_is_a_clear_error() {
    let (code, _, err) = run(&["lint", "tests/data/lint/missing"]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot read tests/data/lint/missing"), "{err}");
    let (code, _, err) = run(&["lint", "--select", "KL999", FLAGGED]);
    assert_eq!(code, 2);
    assert!(err.contains("KL999"), "{err}");
    let (code, _, err) = run(&["lint", "-f", "xml", FLAGGED]);
    assert_eq!(code, 2);
    assert!(err.contains("xml"), "{err}");
}

#[test]
fn configs_and_pragmas() {
    let dir = tempfile::tempdir().unwrap();
    let df = dir.path().join("Dockerfile");
    std::fs::write(
        &df,
        "FROM debian:bookworm\n# hadolint ignore=DL3009\nRUN apt-get update && apt-get install -y --no-install-recommends curl\nRUN apt update && apt install -y git\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join(".hadolint.yaml"),
        "ignored: [DL3027]\nfailure-threshold: error\n",
    )
    .unwrap();
    let out = kasane()
        .current_dir(dir.path())
        .args(["lint", "-f", "concise", "Dockerfile"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        !text.contains("KL208"),
        "DL3027 ignored by .hadolint.yaml:\n{text}"
    );
    assert!(
        !text.contains(":3:5: warning[KL301]"),
        "DL3009 ignored by the pragma:\n{text}"
    );
    assert!(text.contains(":4:5: warning[KL301]"), "{text}");
    assert_eq!(out.status.code(), Some(0), "failure-threshold: error");
    std::fs::write(
        dir.path().join("kasane.toml"),
        "[lint]\nfail-level = \"warning\"\n",
    )
    .unwrap();
    let out = kasane()
        .current_dir(dir.path())
        .args(["lint", "Dockerfile"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "kasane.toml layered over .hadolint.yaml"
    );
}

#[test]
fn files_from_and_stdin() {
    let (code, out, _) = run(&[
        "lint",
        "-f",
        "concise",
        "--files-from",
        "tests/data/lint/list.txt",
    ]);
    assert_eq!(code, 1);
    assert!(out.contains("Dockerfile:2:"), "{out}");
    let out = kasane()
        .args(["lint", "-f", "concise", "-"])
        .write_stdin("FROM debian\n")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "-:1:6: warning[KL204] base image `debian` has no tag, so it means `:latest`\n"
    );
}

#[test]
fn build_args_resolve_args() {
    let lint = |extra: &[&str]| {
        let out = kasane()
            .args(["lint", "-f", "concise", "--select", "KL205"])
            .args(extra)
            .arg("-")
            .write_stdin("ARG TAG=1.2\nFROM debian:${TAG}\n")
            .output()
            .unwrap();
        (out.status.code(), String::from_utf8(out.stdout).unwrap())
    };
    assert_eq!(lint(&[]), (Some(0), String::new()));
    let (code, out) = lint(&["--build-arg", "TAG=latest"]);
    assert_eq!(code, Some(1));
    insta::assert_snapshot!(out);
    let (code, _, err) = run(&["lint", "--build-arg", "TAG", FLAGGED]);
    assert_eq!(code, 2);
    assert!(err.contains("NAME=VALUE"), "{err}");
    // `NAME` alone takes the value from the environment, as docker does.
    let from_env = kasane()
        .env("TAG", "latest")
        .args([
            "lint",
            "-f",
            "concise",
            "--select",
            "KL205",
            "--build-arg",
            "TAG",
            "-",
        ])
        .write_stdin("ARG TAG=1.2\nFROM debian:${TAG}\n")
        .output()
        .unwrap();
    assert_eq!(from_env.status.code(), Some(1));
    assert_eq!(String::from_utf8(from_env.stdout).unwrap(), out);
}
