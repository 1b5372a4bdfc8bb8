//! The `kasane` command as a user runs it: one integration test binary, one module per
//! subcommand (add yours with a `mod` line), snapshots under `snapshots/`.

mod help;
mod rewrite;

use std::process::{Command, Output};

/// `kasane` from this build, in a fixed environment: 100 columns, no colour, so output
/// snapshots do not depend on the terminal the tests run in.
pub(crate) fn kasane() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kasane"));
    cmd.env("COLUMNS", "100")
        .env("NO_COLOR", "1")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("LINES");
    cmd
}

/// Runs `kasane ARGS...` and renders what a user sees: the exit code, stdout and stderr.
pub(crate) fn run(args: &[&str]) -> String {
    render(&kasane().args(args).output().expect("run kasane"))
}

/// Renders a finished run for a snapshot.
pub(crate) fn render(out: &Output) -> String {
    let code = out
        .status
        .code()
        .map_or_else(|| "killed by a signal".to_owned(), |c| c.to_string());
    format!(
        "exit code: {code}\n--- stdout\n{}--- stderr\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
