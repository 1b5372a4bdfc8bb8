//! `kasane ignore`: generate a .dockerignore (dignore's job, done right).

use std::io::Write;
use std::path::PathBuf;

use kasane_context::{DiffLine, generate_keep, line_diff};

use crate::exit::Outcome;

/// Arguments of `kasane ignore`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Paths to keep (directories or files, relative to the context); everything else is
    /// excluded. `.dockerignore` files inside kept directories are merged.
    #[arg(long, required = true, num_args = 1..)]
    keep: Vec<PathBuf>,
    /// The build context directory.
    #[arg(short = 'C', long = "context", default_value = ".")]
    context: PathBuf,
    /// Write the result to CONTEXT/.dockerignore (otherwise only print it and the diff).
    #[arg(long)]
    write: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(args: Args) -> anyhow::Result<Outcome> {
    let target = args.context.join(".dockerignore");
    let existing = match std::fs::read(&target) {
        Ok(bytes) => Some(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(anyhow::anyhow!("cannot read {}: {e}", target.display())),
    };
    let generated = generate_keep(&args.context, &args.keep, existing.as_deref())?;
    let old = existing
        .as_deref()
        .map(String::from_utf8_lossy)
        .unwrap_or_default();
    let diff = line_diff(&old, &generated.text);
    let changed = diff.iter().any(|d| !matches!(d, DiffLine::Same(_)));
    if args.write && changed {
        let tmp = args.context.join(".dockerignore.kasane-tmp");
        std::fs::write(&tmp, &generated.text)?;
        std::fs::rename(&tmp, &target)?;
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        #[derive(serde::Serialize)]
        struct Rendered<'a> {
            #[serde(flatten)]
            generated: &'a kasane_context::GeneratedIgnore,
            diff: &'a [DiffLine],
            written: bool,
        }
        let rendered = Rendered {
            generated: &generated,
            diff: &diff,
            written: args.write && changed,
        };
        serde_json::to_writer_pretty(&mut out, &rendered)?;
        writeln!(out)?;
        return Ok(Outcome::Success);
    }
    write!(out, "{}", generated.text)?;
    for s in &generated.skipped {
        writeln!(
            out,
            "# skipped {}:{} `{}`: {}",
            s.file, s.line, s.pattern, s.reason
        )?;
    }
    writeln!(out, "\n# diff against {}", target.display())?;
    if !changed {
        writeln!(out, "# (no change)")?;
    }
    for d in diff.iter().filter(|d| !matches!(d, DiffLine::Same(_))) {
        match d {
            DiffLine::Added(l) => writeln!(out, "+{l}")?,
            DiffLine::Removed(l) => writeln!(out, "-{l}")?,
            DiffLine::Same(_) => {}
        }
    }
    if args.write && changed {
        writeln!(out, "# wrote {}", target.display())?;
    } else if changed {
        writeln!(
            out,
            "# not written: pass --write to update {}",
            target.display()
        )?;
    }
    Ok(Outcome::Success)
}
