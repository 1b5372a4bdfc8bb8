//! `kasane parse`: placeholder wiring until the Dockerfile parser lands (issue 3).

use std::path::PathBuf;

use crate::exit::Outcome;

/// Arguments of `kasane parse`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Dockerfiles to parse.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

pub(crate) fn run(args: Args) -> anyhow::Result<Outcome> {
    anyhow::bail!(
        "parse is not built yet ({} file(s) given)",
        args.files.len()
    )
}
