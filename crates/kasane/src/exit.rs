//! Exit codes, documented in the README: 0 ok, 1 findings or a failed CI gate,
//! 2 usage or input error (clap also exits 2 on bad usage).

use std::process::ExitCode;

/// How a command ended, mapped to the process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Exit 0: the command did its job and found nothing to complain about.
    Success,
    /// Exit 1: the command worked and found problems (lint findings, a failed CI rule,
    /// a stale pruned file, images that differ).
    #[allow(dead_code)] // used by the commands that report findings
    Findings,
    /// Exit 2: bad usage or input that could not be read.
    InputError,
}

impl Outcome {
    pub(crate) fn code(self) -> ExitCode {
        match self {
            Outcome::Success => ExitCode::SUCCESS,
            Outcome::Findings => ExitCode::from(1),
            Outcome::InputError => ExitCode::from(2),
        }
    }
}
