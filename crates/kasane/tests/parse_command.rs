//! CLI snapshots of `kasane parse`: the tree (JSON Lines), the BuildKit-shaped
//! output, errors and exit codes.

use assert_cmd::Command;

fn run(args: &[&str], stdin: Option<&str>) -> (i32, String, String) {
    let mut c = Command::cargo_bin("kasane").unwrap();
    c.current_dir(kasane_testenv::package_dir()).args(args);
    if let Some(s) = stdin {
        c.write_stdin(s);
    }
    let out = c.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

const FILE: &str = "tests/data/parse/Dockerfile";
const BAD: &str = "tests/data/parse/unterminated.Dockerfile";

#[test]
fn tree_json() {
    let (code, out, err) = run(&["parse", FILE], None);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim_end()).unwrap();
    assert_eq!(v["dockerfile"]["instructions"].as_array().unwrap().len(), 4);
    // The unknown flag is reported by the instruction checks, with its position.
    assert_eq!(
        v["instruction_errors"][0]["message"],
        "unknown flag: --bogus"
    );
    assert_eq!(v["instruction_errors"][0]["span"]["start"]["line"], 9);
    insta::assert_snapshot!(serde_json::to_string_pretty(&v).unwrap());
}

#[test]
fn buildkit_shape() {
    let (code, out, err) = run(&["parse", "--format", "buildkit", FILE, BAD], None);
    assert_eq!(code, 1, "one file does not parse: {err}");
    insta::assert_snapshot!(out);
}

#[test]
fn parse_error_has_a_position() {
    let (code, out, _) = run(&["parse", BAD], None);
    assert_eq!(code, 1);
    insta::assert_snapshot!(out);
}

#[test]
fn files_from_stdin_and_missing_files() {
    let (code, out, _) = run(
        &["parse", "--format", "buildkit", "--files-from", "-"],
        Some("tests/data/parse/Dockerfile\ntests/data/parse/missing\n"),
    );
    assert_eq!(code, 2, "a file that cannot be read is an input error");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2);
    assert!(lines[0].contains(r#""ok": true"#));
    assert!(lines[1].contains(r#""ok":false"#) && lines[1].contains("cannot read"));
}

#[test]
fn dialect_changes_env_values() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("Dockerfile");
    std::fs::write(&path, "FROM a\nENV k=v\n").unwrap();
    let p = path.to_str().unwrap();
    let (_, current, _) = run(
        &["parse", "--format", "buildkit", "--dialect", "current", p],
        None,
    );
    let (_, old, _) = run(&["parse", "--format", "buildkit", p], None);
    // Newer BuildKit adds the separator; 0.12 (the oracle's version, the default
    // for this format) does not.
    assert!(current.contains(r#""value": ["k", "v", "="]"#), "{current}");
    assert!(old.contains(r#""value": ["k", "v"]"#), "{old}");
}
