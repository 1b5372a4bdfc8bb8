//! `kasane ignore`: generate a .dockerignore (dignore's job, done right).

use std::io::Write;
use std::path::PathBuf;

use kasane_context::{
    ContextOptions, DiffLine, Engine, GeneratedIgnore, MinimalIgnore, analyze_context,
    context_sources, generate_from_dockerfile, generate_keep, line_diff,
};

use crate::exit::Outcome;

/// Arguments of `kasane ignore`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Paths to keep (directories or files, relative to the context); everything else is
    /// excluded. `.dockerignore` files inside kept directories are merged.
    #[arg(long, required_unless_present = "from_dockerfile", num_args = 1..)]
    keep: Vec<PathBuf>,
    /// Instead of --keep: the smallest file that still sends everything the Dockerfile's
    /// COPY/ADD sources (and context bind mounts) need.
    #[arg(long, conflicts_with = "keep")]
    from_dockerfile: bool,
    /// The Dockerfile for --from-dockerfile (default: CONTEXT/Dockerfile).
    #[arg(short = 'f', long = "file", requires = "from_dockerfile")]
    dockerfile: Option<PathBuf>,
    /// The build context directory.
    #[arg(short = 'C', long = "context", default_value = ".")]
    context: PathBuf,
    /// The build context directory (same as -C).
    #[arg(value_name = "DIR")]
    dir: Option<PathBuf>,
    /// Write the result to CONTEXT/.dockerignore (otherwise only print it and the diff).
    #[arg(long)]
    write: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(mut args: Args) -> anyhow::Result<Outcome> {
    if let Some(dir) = args.dir.take() {
        args.context = dir;
    }
    let target = args.context.join(".dockerignore");
    let existing = match std::fs::read(&target) {
        Ok(bytes) => Some(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(anyhow::anyhow!("cannot read {}: {e}", target.display())),
    };
    let (generated, minimal) = if args.from_dockerfile {
        let m = from_dockerfile(&args, existing.as_deref())?;
        let g = GeneratedIgnore {
            text: m.text.clone(),
            merged: Vec::new(),
            skipped: Vec::new(),
        };
        (g, Some(m))
    } else {
        let g = generate_keep(&args.context, &args.keep, existing.as_deref())?;
        (g, None)
    };
    if let Some(m) = &minimal
        && !m.unsent.is_empty()
    {
        anyhow::bail!(
            "the generated file would not send files the Dockerfile needs (please report): {}",
            m.unsent.join(", ")
        );
    }
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
            #[serde(skip_serializing_if = "Option::is_none")]
            from_dockerfile: Option<&'a MinimalIgnore>,
            diff: &'a [DiffLine],
            written: bool,
        }
        let rendered = Rendered {
            generated: &generated,
            from_dockerfile: minimal.as_ref(),
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

/// Generates the minimal file for the Dockerfile, from the context as BuildKit sends it now.
fn from_dockerfile(args: &Args, existing: Option<&[u8]>) -> anyhow::Result<MinimalIgnore> {
    let dockerfile = args
        .dockerfile
        .clone()
        .unwrap_or_else(|| args.context.join("Dockerfile"));
    let text = std::fs::read_to_string(&dockerfile)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", dockerfile.display()))?;
    let df = kasane_dockerfile::parse(&text)
        .map_err(|e| anyhow::anyhow!("{}: {e}", dockerfile.display()))?;
    let sources = context_sources(&df, &kasane_dockerfile::scope::BuildArgs::new());
    let options = ContextOptions {
        dockerfile: Some(&dockerfile),
        ignore_file: None,
        engine: Engine::BuildKit,
        top: 0,
    };
    let (_, current) = analyze_context(&args.context, &options)?;
    let rel = dockerfile
        .strip_prefix(&args.context)
        .ok()
        .map(|r| r.as_os_str().as_encoded_bytes().to_vec());
    Ok(generate_from_dockerfile(
        &args.context,
        &current,
        &sources,
        rel.as_deref(),
        existing,
    )?)
}
