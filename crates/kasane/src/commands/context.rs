//! `kasane context`: what a build sends as its context, and how long that takes.

use std::io::Write;
use std::path::PathBuf;

use kasane_context::{ContextOptions, Engine, analyze_context, parse_rate};

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
    let (report, _) = analyze_context(&args.dir, &options)?;
    let seconds = report.tar_bytes as f64 / rate;
    let mut out = std::io::stdout().lock();
    if args.json {
        let rendered = Rendered {
            report: &report,
            bandwidth_bytes_per_second: rate,
            seconds_to_send: seconds,
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
