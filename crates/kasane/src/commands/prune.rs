//! `kasane prune`: a Dockerfile with only the stages a target needs, so that
//! the legacy builder (which builds every stage before `--target`) builds
//! nothing else.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;

use super::merge::write_atomically;
use crate::build_input::BuildInput;
use crate::exit::Outcome;

/// Arguments of `kasane prune`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    input: BuildInput,
    /// The stage to keep, with everything it needs.
    #[arg(long, value_name = "STAGE")]
    target: String,
    /// Write the pruned Dockerfile here instead of standard output (written only once pruning
    /// has succeeded).
    #[arg(short = 'o', long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Write nothing; exit 1 when FILE (-o) is missing or differs from what prune would write.
    #[arg(long, requires = "output")]
    check: bool,
}

pub(crate) fn run(args: Args) -> anyhow::Result<Outcome> {
    let loaded = args.input.load(Some(&args.target))?;
    let graph = &loaded.graph;
    let target = graph.resolve_target(Some(&args.target))?;
    let pruned = kasane_build::prune(&loaded.dockerfile, graph, target)?;
    verify(&pruned.text, &args.input, &args.target, pruned.kept.len())?;

    let removed: Vec<String> = pruned
        .removed
        .iter()
        .map(|&i| graph.stage(i).label())
        .collect();
    let summary = format!(
        "kept {} of {} stages for {}{}{}",
        pruned.kept.len(),
        graph.stages().len(),
        graph.stage(target).label(),
        if removed.is_empty() {
            String::new()
        } else {
            format!("; removed {}", removed.join(", "))
        },
        if pruned.renumbered.is_empty() {
            String::new()
        } else {
            let lines: Vec<String> = pruned
                .renumbered
                .iter()
                .map(|(line, old, new)| format!("line {line}: --from={old} -> --from={new}"))
                .collect();
            format!("; renumbered {}", lines.join(", "))
        }
    );
    let mut err = std::io::stderr().lock();
    let kept = pruned.kept.iter().copied().collect();
    for (line, what) in kasane_build::legacy_builder_gaps(&loaded.dockerfile, graph, &kept) {
        writeln!(
            err,
            "warning: line {line}: {what} needs BuildKit; the legacy builder cannot build it"
        )?;
    }
    match (&args.output, args.check) {
        (Some(path), true) => {
            let current = std::fs::read(path);
            match current {
                Ok(bytes) if bytes == pruned.text.as_bytes() => {
                    writeln!(err, "{} is up to date ({summary})", path.display())?;
                    Ok(Outcome::Success)
                }
                Ok(_) => {
                    writeln!(
                        err,
                        "{} is stale: it differs from `kasane prune --target {}` of {}; run it \
                         again without --check to update it",
                        path.display(),
                        args.target,
                        loaded.path
                    )?;
                    Ok(Outcome::Findings)
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    writeln!(
                        err,
                        "{} does not exist; run prune without --check to write it",
                        path.display()
                    )?;
                    Ok(Outcome::Findings)
                }
                Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
            }
        }
        (Some(path), false) => {
            write_atomically(path, pruned.text.as_bytes())?;
            writeln!(err, "wrote {} ({summary})", path.display())?;
            Ok(Outcome::Success)
        }
        (None, _) => {
            std::io::stdout().lock().write_all(pruned.text.as_bytes())?;
            writeln!(err, "{summary}")?;
            Ok(Outcome::Success)
        }
    }
}

/// The pruned file must parse and its target must need every stage left;
/// anything else is a bug, and writing it would hand the user a broken file.
fn verify(text: &str, input: &BuildInput, target: &str, kept: usize) -> anyhow::Result<()> {
    let df = kasane_dockerfile::parse(text)
        .context("internal error: the pruned Dockerfile does not parse")?;
    let options = kasane_build::BuildOptions {
        build_args: input.build_arg_pairs()?.into_iter().collect(),
        platform: input.platforms().first().cloned(),
        target: Some(target.to_string()),
    };
    let graph = kasane_build::stage_graph(&df, &options)
        .context("internal error: the pruned Dockerfile has no valid stage graph")?;
    let t = graph.resolve_target(Some(target))?;
    let needed = graph.needed(t)?;
    anyhow::ensure!(
        needed.len() == kept && graph.stages().len() == kept,
        "internal error: the pruned Dockerfile's target needs {} of its {} stages",
        needed.len(),
        graph.stages().len()
    );
    Ok(())
}
