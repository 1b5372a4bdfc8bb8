//! The `kasane` command: turns arguments into library calls and renders the results.
//!
//! Libraries never print; everything a user sees is written here. Errors travel as
//! `anyhow::Error` and are rendered once, in [`main`].

mod build_input;
mod cli;
mod commands;
mod exit;
mod image_input;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use crate::exit::Outcome;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(outcome) => outcome.code(),
        Err(err) => {
            // A closed pipe (`kasane ... | head`) is not an error the user needs to see.
            if is_broken_pipe(&err) {
                return Outcome::Success.code();
            }
            let mut stderr = std::io::stderr().lock();
            let _ = writeln!(stderr, "error: {err:#}");
            Outcome::InputError.code()
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
