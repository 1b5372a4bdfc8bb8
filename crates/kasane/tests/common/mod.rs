//! What several CLI test files share.

use std::path::Path;

use assert_cmd::Command;

/// Runs `kasane ARGS` in `dir`: stdout, stderr (with `dir` shown as `[TMP]`) and the exit code.
pub(crate) fn run(args: &[&str], dir: &Path) -> (String, String, i32) {
    let out = Command::cargo_bin("kasane")
        .unwrap()
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    let clean = |b: &[u8]| String::from_utf8_lossy(b).replace(dir.to_str().unwrap(), "[TMP]");
    (
        clean(&out.stdout),
        clean(&out.stderr),
        out.status.code().unwrap_or(-1),
    )
}
