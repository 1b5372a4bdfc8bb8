//! `kasane merge` and `kasane fix`: what they print, write and exit with.

use std::path::{Path, PathBuf};

use crate::{kasane, render};

fn data() -> PathBuf {
    kasane_testenv::package_dir().join("tests/cli/data/rewrite")
}

fn example() -> PathBuf {
    kasane_testenv::package_dir().join("../../examples/python-venv")
}

fn run_in(dir: impl AsRef<Path>, args: &[&str]) -> String {
    render(&kasane().current_dir(dir).args(args).output().unwrap())
}

#[test]
fn merge_prints_the_file_and_explains_each_decision() {
    insta::assert_snapshot!(run_in(data(), &["merge"]));
}

#[test]
fn merge_diff_exits_1_on_a_change_and_0_without() {
    insta::assert_snapshot!(run_in(data(), &["merge", "--diff"]));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Dockerfile"), "FROM a\nRUN b\n").unwrap();
    insta::assert_snapshot!(
        "merge_diff_nothing",
        run_in(dir.path(), &["merge", "--diff"])
    );
}

#[test]
fn merge_json() {
    insta::assert_snapshot!(run_in(
        data(),
        &["merge", "--json", "--keep-cache-boundaries=false"]
    ));
}

#[test]
fn fix_explains_each_change_and_lists_unsafe_ones() {
    insta::assert_snapshot!(run_in(example(), &["fix", "--diff"]));
}

#[test]
fn fix_json_with_unsafe() {
    insta::assert_snapshot!(run_in(example(), &["fix", "--json", "--unsafe"]));
}

#[test]
fn fix_one_rule() {
    insta::assert_snapshot!(run_in(example(), &["fix", "--rule", "KL305", "--diff"]));
}

#[test]
fn in_place_and_output_files_and_a_second_run_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("Dockerfile");
    std::fs::copy(example().join("Dockerfile"), &path).unwrap();
    let first = kasane()
        .current_dir(dir.path())
        .args(["fix", "--in-place"])
        .output()
        .unwrap();
    assert!(first.status.success(), "{}", render(&first));
    assert!(first.stdout.is_empty());
    let fixed = std::fs::read_to_string(&path).unwrap();
    assert_ne!(
        fixed,
        std::fs::read_to_string(example().join("Dockerfile")).unwrap()
    );
    insta::assert_snapshot!("fix_second_run", run_in(dir.path(), &["fix", "--in-place"]));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), fixed);
    // merge -o, then merge of the result: nothing more to merge.
    let out = dir.path().join("Merged");
    let m = kasane()
        .current_dir(dir.path())
        .args(["merge", "-o", "Merged"])
        .output()
        .unwrap();
    assert!(m.status.success(), "{}", render(&m));
    let merged = std::fs::read_to_string(&out).unwrap();
    let again = kasane()
        .current_dir(dir.path())
        .args(["merge", "-f", "Merged", "--diff"])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(0), "{}", render(&again));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), merged);
}

#[test]
fn bad_input_is_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Dockerfile"), "FROM a\nRUN <<EOF\nno end\n").unwrap();
    let mut out = String::new();
    for args in [
        &["merge"][..],
        &["fix"],
        &["fix", "--rule", "KL999"],
        &["merge", "-f", "missing"],
        &["fix", "-f", "-", "--in-place"],
        &["merge", "--diff", "--in-place"],
    ] {
        out.push_str(&format!("$ kasane {}\n", args.join(" ")));
        out.push_str(&run_in(dir.path(), args));
        out.push('\n');
    }
    insta::assert_snapshot!(out);
}

#[test]
fn reads_standard_input() {
    let mut child = kasane()
        .args(["merge", "-f", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"FROM a\nLABEL a=1\nLABEL b=2\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "FROM a\nLABEL a=1 \\\n    b=2\n"
    );
}
