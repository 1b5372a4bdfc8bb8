//! `kasane context`: what a build sends as its context, and how long that takes.

use std::io::Write;
use std::path::PathBuf;

use kasane_context::{
    ContextOptions, ContextUsage, Engine, analyze_context, context_sources, context_usage,
    parse_rate,
};

use crate::exit::Outcome;
use crate::image_input::bytes;

/// Which engine's transfer rules to model.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum EngineArg {
    /// BuildKit (Docker 23+, buildx).
    Buildkit,
    /// The classic builder of Docker 23+ (DOCKER_BUILDKIT=0).
    Classic,
    /// Docker 20.10's built-in BuildKit.
    Docker20Buildkit,
    /// Docker 20.10's classic builder.
    Docker20Classic,
}

impl From<EngineArg> for Engine {
    fn from(e: EngineArg) -> Self {
        match e {
            EngineArg::Buildkit => Engine::BuildKit,
            EngineArg::Classic => Engine::Classic,
            EngineArg::Docker20Buildkit => Engine::Docker20BuildKit,
            EngineArg::Docker20Classic => Engine::Docker20Classic,
        }
    }
}

/// Arguments of `kasane context`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The build context directory.
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// The Dockerfile (default: DIR/Dockerfile); `<Dockerfile>.dockerignore` beside it wins.
    #[arg(short = 'f', long = "file")]
    dockerfile: Option<PathBuf>,
    /// Engine whose rules to apply.
    #[arg(long, value_enum, default_value = "buildkit")]
    engine: EngineArg,
    /// Bandwidth to the builder, for the time to send (e.g. 100Mbit/s, 1Gbps, 50MB/s).
    #[arg(long, default_value = "100Mbit/s")]
    bandwidth: String,
    /// Entries in the largest-directories and largest-files lists.
    #[arg(long, default_value_t = 10)]
    top: usize,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(serde::Serialize)]
struct Rendered<'a> {
    #[serde(flatten)]
    report: &'a kasane_context::ContextReport,
    bandwidth_bytes_per_second: f64,
    seconds_to_send: f64,
    /// What the Dockerfile's COPY/ADD use of the context (absent without a Dockerfile).
    #[serde(skip_serializing_if = "Option::is_none")]
    usage: Option<&'a ContextUsage>,
}

pub(crate) fn run(args: Args) -> anyhow::Result<Outcome> {
    let rate = parse_rate(&args.bandwidth)?;
    let dockerfile = args.dockerfile.clone().or_else(|| {
        let default = args.dir.join("Dockerfile");
        default.is_file().then_some(default)
    });
    let options = ContextOptions {
        dockerfile: dockerfile.as_deref(),
        ignore_file: None,
        engine: args.engine.into(),
        top: args.top,
    };
    let (report, walk) = analyze_context(&args.dir, &options)?;
    let usage = match &dockerfile {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
            let df = kasane_dockerfile::parse(&text)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            let sources = context_sources(&df, &kasane_dockerfile::scope::BuildArgs::new());
            Some(context_usage(&walk, &sources, args.top))
        }
        None => None,
    };
    let seconds = report.tar_bytes as f64 / rate;
    let mut out = std::io::stdout().lock();
    if args.json {
        let rendered = Rendered {
            report: &report,
            bandwidth_bytes_per_second: rate,
            seconds_to_send: seconds,
            usage: usage.as_ref(),
        };
        serde_json::to_writer_pretty(&mut out, &rendered)?;
        writeln!(out)?;
    } else {
        let ignore = match &report.ignore_file {
            Some(p) => format!("{} ({} patterns)", p.display(), report.patterns),
            None => "no ignore file".to_owned(),
        };
        writeln!(out, "context {}  [{ignore}]", args.dir.display())?;
        writeln!(
            out,
            "sends {} files, {} directories, {} symlinks: {} of content, {} as a tar stream",
            report.files,
            report.dirs,
            report.symlinks,
            bytes(report.bytes),
            bytes(report.tar_bytes)
        )?;
        writeln!(
            out,
            "leaves out {} files: {}",
            report.excluded_files,
            bytes(report.excluded_bytes)
        )?;
        writeln!(out, "time to send at {}: {seconds:.2} s", args.bandwidth)?;
        if !report.largest_dirs.is_empty() {
            writeln!(out, "\nlargest directories")?;
            for d in &report.largest_dirs {
                writeln!(
                    out,
                    "  {:>10}  {:>7} files  {}",
                    bytes(d.bytes),
                    d.files,
                    d.path
                )?;
            }
        }
        if !report.largest_files.is_empty() {
            writeln!(out, "\nlargest files")?;
            for f in &report.largest_files {
                writeln!(out, "  {:>10}  {}", bytes(f.bytes), f.path)?;
            }
        }
        if let (Some(usage), Some(path)) = (&usage, &dockerfile) {
            render_usage(&mut out, usage, &path.display().to_string())?;
        }
        if !report.problems.is_empty() {
            writeln!(out, "\nunreadable (the build would fail on these)")?;
            for p in &report.problems {
                writeln!(out, "  {}: {}", p.path, p.message)?;
            }
        }
    }
    Ok(if report.problems.is_empty() {
        Outcome::Success
    } else {
        Outcome::Findings
    })
}

fn render_usage(
    out: &mut impl Write,
    usage: &ContextUsage,
    dockerfile: &str,
) -> anyhow::Result<()> {
    writeln!(out, "\nused by {dockerfile}")?;
    if usage.instructions.is_empty() {
        writeln!(out, "  (no COPY/ADD reads the context)")?;
    }
    for u in &usage.instructions {
        let mut what = format!("{} {}", u.source.instruction, u.source.sources.join(" "));
        for e in &u.source.excludes {
            what.push_str(&format!(" --exclude={e}"));
        }
        writeln!(
            out,
            "  {:>10}  {:>7} files  {dockerfile}:{}  {what}",
            bytes(u.bytes),
            u.files,
            u.source.line
        )?;
        for m in &u.missing {
            writeln!(
                out,
                "  {:>10}  {:>7}        matches nothing sent: {m}",
                "", ""
            )?;
        }
    }
    writeln!(
        out,
        "\nsent but never used: {} files, {}",
        usage.unused_files,
        bytes(usage.unused_bytes)
    )?;
    for p in &usage.largest_unused {
        writeln!(
            out,
            "  {:>10}  {:>7} files  {}",
            bytes(p.bytes),
            p.files,
            p.path
        )?;
    }
    Ok(())
}
