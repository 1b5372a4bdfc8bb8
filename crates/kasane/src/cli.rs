//! Command-line definitions. Each subcommand's arguments live beside its code in
//! `commands/<name>.rs`; this file only lists them.

use clap::{Parser, Subcommand};

use crate::commands;

/// kasane (重ね, "layers"): make container images smaller and their builds faster.
#[derive(Debug, Parser)]
#[command(name = "kasane", version, about, long_about = None, propagate_version = true)]
#[command(after_help = "Exit codes: 0 ok, 1 findings or a failed CI gate, 2 usage or input error.")]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Every subcommand, one line of help each.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Parse Dockerfiles and print their syntax tree (kasane's own JSON, or BuildKit's shape).
    Parse(commands::parse::Args),
    /// Explain where an image's bytes went: sizes, waste by cause, efficiency, a CI gate.
    Analyze(commands::analyze::Args),
    /// List each layer's files grouped by directory, largest first (dlayer's view).
    Layers(commands::layers::Args),
    /// Show a Dockerfile's stages: dependencies and why, what a target needs, parallel levels.
    Stages(commands::stages::Args),
    /// Write a Dockerfile with only the stages a target needs (for the legacy builder).
    Prune(commands::prune::Args),
    /// Make a CI cache plan that caches every stage a target needs (script, bake or GHA).
    CachePlan(commands::cache_plan::Args),
    /// Download a file in parallel ranged requests, checked and resumable (rget done right).
    Fetch(commands::fetch::Args),
    /// Show what a build sends as its context: sizes, largest parts, time to send.
    Context(commands::context::Args),
    /// Generate a .dockerignore that keeps only the named paths (dignore, fixed).
    Ignore(commands::ignore::Args),
    /// Lint Dockerfiles: BuildKit's checks, hadolint's rules that matter, size and speed.
    Lint(commands::lint::Args),
    /// Merge consecutive RUN/ENV/LABEL/COPY into fewer layers where the build stays the same.
    Merge(commands::merge::Args),
    /// Apply the lint rules' fixes, printing each change and why; --build measures the result.
    Fix(commands::fix::Args),
    /// Write the filesystem a container of the image starts with, as a directory or a tar.
    Export(commands::export::Args),
    /// Squash layers N.. of an image into one and write an archive `docker load` reads.
    Squash(commands::squash::Args),
    /// Compare two images' filesystems: added, removed, changed files; exit 1 if they differ.
    Diff(commands::diff::Args),
    /// Explore an image in a terminal UI: layers, their files, waste, contents, extraction.
    Explore(commands::explore::Args),
}
