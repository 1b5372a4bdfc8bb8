//! `kasane cache-plan`: commands (a bash script, a bake file or GitHub Actions
//! steps) that build and cache every stage a target needs, so CI gets cache
//! hits for all of them, named or not.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use kasane_build::plan::{self, ImageRepo, Mode, PlanRequest};

use crate::build_input::BuildInput;
use crate::exit::Outcome;

/// Arguments of `kasane cache-plan`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    input: BuildInput,
    /// Repository for the stage images and caches (`registry:5000/team/app`); a tag, if given,
    /// prefixes the stage tags (`app:ci` gives `app:ci-builder`).
    #[arg(long, value_name = "REPO")]
    image: String,
    /// What to make.
    #[arg(long, value_enum, default_value_t = ModeArg::Inline)]
    mode: ModeArg,
    /// Push the stage images (script modes) or the final image (registry, bake, gha).
    #[arg(long)]
    push: bool,
    /// The build context directory, as the plan's commands should name it.
    #[arg(long, value_name = "DIR", default_value = ".")]
    context: String,
    /// The stage to build in the end (default: the last one).
    #[arg(long, value_name = "STAGE")]
    target: Option<String>,
    /// Another tag for the final image (repeatable), e.g. `registry:5000/team/app:latest`.
    #[arg(long = "tag", value_name = "IMAGE")]
    tags: Vec<String>,
    /// Write the plan here instead of standard output (scripts are made executable).
    #[arg(short = 'o', long, value_name = "FILE")]
    output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ModeArg {
    /// Legacy builder: per stage pull, `--target` build with `--cache-from` of every earlier
    /// stage, push.
    Legacy,
    /// BuildKit, inline cache in every stage image (`BUILDKIT_INLINE_CACHE=1`).
    Inline,
    /// buildx, one registry cache with `mode=max`.
    Registry,
    /// A docker-bake.hcl with one target per stage and a default group.
    Bake,
    /// GitHub Actions workflow steps (gha cache, one scope per stage).
    Gha,
}

impl From<ModeArg> for Mode {
    fn from(m: ModeArg) -> Self {
        match m {
            ModeArg::Legacy => Mode::Legacy,
            ModeArg::Inline => Mode::Inline,
            ModeArg::Registry => Mode::Registry,
            ModeArg::Bake => Mode::Bake,
            ModeArg::Gha => Mode::Gha,
        }
    }
}

pub(crate) fn run(args: Args) -> anyhow::Result<Outcome> {
    anyhow::ensure!(
        args.input.file.as_os_str() != "-",
        "cache-plan needs the Dockerfile as a file: the plan's builds name it with -f"
    );
    let image = ImageRepo::parse(&args.image)?;
    for tag in &args.tags {
        anyhow::ensure!(
            !tag.is_empty() && !tag.contains(char::is_whitespace),
            "--tag `{tag}` is not an image reference"
        );
    }
    let loaded = args.input.load(args.target.as_deref())?;
    let graph = &loaded.graph;
    let target = graph.resolve_target(args.target.as_deref())?;
    let mode = Mode::from(args.mode);
    let request = PlanRequest {
        graph,
        target,
        image,
        dockerfile: loaded.path.clone(),
        context: args.context.clone(),
        build_args: args.input.build_arg_pairs()?,
        platforms: args.input.platforms(),
        push: args.push,
        tags: args.tags.clone(),
        prepared: plan::prepare(&loaded.dockerfile, graph, target, mode)?,
    };
    let text = plan::render(&request, mode)?;
    match &args.output {
        Some(path) => {
            std::fs::write(path, &text).with_context(|| format!("writing {}", path.display()))?;
            if matches!(mode, Mode::Legacy | Mode::Inline | Mode::Registry) {
                make_executable(path)?;
            }
        }
        None => std::io::stdout().lock().write_all(text.as_bytes())?,
    }
    let mut err = std::io::stderr().lock();
    for w in graph.warnings() {
        writeln!(err, "warning: {w}")?;
    }
    if mode == Mode::Legacy {
        let needed = graph.needed(target)?;
        for (line, what) in kasane_build::legacy_builder_gaps(&loaded.dockerfile, graph, &needed) {
            writeln!(
                err,
                "warning: line {line}: {what} needs BuildKit; the legacy builder cannot build it"
            )?;
        }
    }
    Ok(Outcome::Success)
}

#[cfg(unix)]
fn make_executable(path: &std::path::Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mut perms = std::fs::metadata(path)?.permissions();
    perms.set_mode(perms.mode() | 0o111);
    std::fs::set_permissions(path, perms).with_context(|| format!("chmod +x {}", path.display()))
}

#[cfg(not(unix))]
fn make_executable(_path: &std::path::Path) -> anyhow::Result<()> {
    Ok(())
}
