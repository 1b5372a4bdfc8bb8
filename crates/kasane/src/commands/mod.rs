//! One module per subcommand. Each has an `Args` struct (clap) and a `run` function that
//! calls the libraries and renders their results.

pub(crate) mod analyze;
pub(crate) mod cache_plan;
pub(crate) mod context;
pub(crate) mod diff;
pub(crate) mod explore;
pub(crate) mod export;
pub(crate) mod fetch;
pub(crate) mod fix;
pub(crate) mod ignore;
pub(crate) mod layers;
pub(crate) mod lint;
pub(crate) mod merge;
pub(crate) mod parse;
pub(crate) mod prune;
pub(crate) mod squash;
pub(crate) mod stages;

use crate::cli::{Cli, Command};
use crate::exit::Outcome;

/// Runs the chosen subcommand.
pub(crate) fn run(cli: Cli) -> anyhow::Result<Outcome> {
    match cli.command {
        Command::Parse(args) => parse::run(args),
        Command::Analyze(args) => analyze::run(args),
        Command::Layers(args) => layers::run(args),
        Command::Stages(args) => stages::run(args),
        Command::Prune(args) => prune::run(args),
        Command::CachePlan(args) => cache_plan::run(args),
        Command::Fetch(args) => fetch::run(args),
        Command::Context(args) => context::run(args),
        Command::Ignore(args) => ignore::run(args),
        Command::Lint(args) => lint::run(args),
        Command::Merge(args) => merge::run(args),
        Command::Fix(args) => fix::run(args),
        Command::Export(args) => export::run(args),
        Command::Squash(args) => squash::run(args),
        Command::Diff(args) => diff::run(args),
        Command::Explore(args) => explore::run(args),
    }
}
