//! What `stages`, `prune` and `cache-plan` share: the Dockerfile to read and
//! the build inputs that change what its stages mean (build args, platform).

use std::io::Read;
use std::path::PathBuf;

use anyhow::Context;
use kasane_build::{BuildOptions, StageGraph};
use kasane_dockerfile::Dockerfile;

/// One `--build-arg` as docker reads it: `NAME=VALUE`, or `NAME` alone to take the value from
/// the environment. A clap value parser too.
pub(crate) fn parse_build_arg(arg: &str) -> Result<(String, String), String> {
    match arg.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        Some(_) => Err(format!("--build-arg `{arg}`: the name is empty")),
        None if arg.is_empty() => Err("--build-arg: the name is empty".to_string()),
        None => std::env::var(arg)
            .map(|v| (arg.to_string(), v))
            .map_err(|_| {
                format!(
                    "--build-arg `{arg}`: not NAME=VALUE, and {arg} is not set in the environment"
                )
            }),
    }
}

/// The Dockerfile and build inputs.
#[derive(Debug, clap::Args)]
pub(crate) struct BuildInput {
    /// The Dockerfile (`-` reads standard input).
    #[arg(
        short = 'f',
        long = "file",
        value_name = "PATH",
        default_value = "Dockerfile"
    )]
    pub(crate) file: PathBuf,
    /// A build argument, `NAME=VALUE` (or `NAME` to take the value from the environment, as
    /// docker does). Global ARGs use it in FROM lines.
    #[arg(long = "build-arg", value_name = "NAME=VALUE")]
    pub(crate) build_args: Vec<String>,
    /// Target platform(s), `os/arch[/variant]`, comma-separated or repeated; the first sets
    /// TARGETPLATFORM, TARGETOS, TARGETARCH and TARGETVARIANT for FROM lines (default: this
    /// host's).
    #[arg(long, value_name = "PLATFORM")]
    pub(crate) platform: Vec<String>,
}

/// A read Dockerfile with its stage graph.
#[derive(Debug)]
pub(crate) struct Loaded {
    /// The path as given (for messages and `-f` in plans).
    pub(crate) path: String,
    pub(crate) dockerfile: Dockerfile,
    pub(crate) graph: StageGraph,
}

impl BuildInput {
    /// `--build-arg` values as pairs, in order.
    pub(crate) fn build_arg_pairs(&self) -> anyhow::Result<Vec<(String, String)>> {
        self.build_args
            .iter()
            .map(|arg| parse_build_arg(arg).map_err(|e| anyhow::anyhow!(e)))
            .collect()
    }

    /// The platforms, split on commas.
    pub(crate) fn platforms(&self) -> Vec<String> {
        self.platform
            .iter()
            .flat_map(|p| p.split(','))
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect()
    }

    /// Reads and parses the Dockerfile and builds its stage graph.
    pub(crate) fn load(&self, target: Option<&str>) -> anyhow::Result<Loaded> {
        let path = self.file.display().to_string();
        let text = if path == "-" {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .context("reading the Dockerfile from standard input")?;
            s
        } else {
            std::fs::read_to_string(&self.file).with_context(|| format!("reading {path}"))?
        };
        let dockerfile =
            kasane_dockerfile::parse(&text).with_context(|| format!("parsing {path}"))?;
        let platforms = self.platforms();
        for p in &platforms {
            let parts = p.split('/').count();
            anyhow::ensure!(
                (2..=3).contains(&parts) && !p.split('/').any(str::is_empty),
                "--platform `{p}`: expected os/arch[/variant]"
            );
        }
        let options = BuildOptions {
            build_args: self.build_arg_pairs()?.into_iter().collect(),
            platform: platforms.first().cloned(),
            target: target.map(str::to_string),
        };
        let graph = kasane_build::stage_graph(&dockerfile, &options)
            .with_context(|| format!("reading the stages of {path}"))?;
        Ok(Loaded {
            path,
            dockerfile,
            graph,
        })
    }
}
