//! Building a Dockerfile text on the local Docker engine and measuring the image, so a rewrite
//! can show what it saved (`kasane merge --build`, `kasane fix --build`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Serialize;

/// Which engine to use and how.
#[derive(Debug, Clone)]
pub struct Engine {
    /// The docker client.
    pub docker: PathBuf,
    /// `DOCKER_BUILDKIT=1` (true) or `0` (the legacy builder); `None` keeps the environment's.
    pub buildkit: Option<bool>,
    /// Extra arguments for `docker build` (`--build-arg`, `--target`, ...).
    pub build_args: Vec<String>,
}

/// A built image's measurements.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BuiltImage {
    /// The tag it was built as.
    pub tag: String,
    /// The image ID.
    pub id: String,
    /// Uncompressed size of its layers, as the engine reports it.
    pub size: u64,
    /// Layers that hold files (instructions that only change the config add none).
    pub layers: usize,
}

/// Why a build or a measurement failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// The docker client could not be started.
    #[error("cannot run {docker}: {source}")]
    Spawn {
        /// The client.
        docker: String,
        /// The error.
        source: std::io::Error,
    },
    /// `docker build` failed.
    #[error("building {tag} failed:\n{output}")]
    Build {
        /// The tag.
        tag: String,
        /// The end of the build's output.
        output: String,
    },
    /// `docker image inspect` gave something unexpected.
    #[error("cannot measure {tag}: {detail}")]
    Inspect {
        /// The tag.
        tag: String,
        /// What was wrong.
        detail: String,
    },
}

impl Engine {
    /// The `docker` on PATH (or `$KASANE_DOCKER`), with the environment's builder.
    pub fn from_env() -> Engine {
        Engine {
            docker: std::env::var_os("KASANE_DOCKER")
                .map_or_else(|| PathBuf::from("docker"), PathBuf::from),
            buildkit: None,
            build_args: Vec::new(),
        }
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new(&self.docker);
        if let Some(bk) = self.buildkit {
            cmd.env("DOCKER_BUILDKIT", if bk { "1" } else { "0" });
        }
        cmd
    }

    fn spawn_error(&self, source: std::io::Error) -> EngineError {
        EngineError::Spawn {
            docker: self.docker.display().to_string(),
            source,
        }
    }

    /// Builds `dockerfile` (the text, sent on stdin) with `context` as build context, tags it
    /// `tag` and measures it.
    pub fn build(
        &self,
        tag: &str,
        dockerfile: &str,
        context: &Path,
    ) -> Result<BuiltImage, EngineError> {
        let mut child = self
            .command()
            .args(["build", "-q", "-f", "-", "-t", tag])
            .args(&self.build_args)
            .arg(context)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| self.spawn_error(e))?;
        if let Some(mut stdin) = child.stdin.take() {
            // A build that fails early closes stdin; its output says why.
            let _ = stdin.write_all(dockerfile.as_bytes());
        }
        let out = child.wait_with_output().map_err(|e| self.spawn_error(e))?;
        if !out.status.success() {
            let text = String::from_utf8_lossy(&out.stderr);
            let lines: Vec<&str> = text.lines().collect();
            let tail = lines[lines.len().saturating_sub(20)..].join("\n");
            return Err(EngineError::Build {
                tag: tag.to_owned(),
                output: tail,
            });
        }
        self.measure(tag)
    }

    /// The size and layer count of an existing image.
    pub fn measure(&self, tag: &str) -> Result<BuiltImage, EngineError> {
        let out = self
            .command()
            .args([
                "image",
                "inspect",
                "-f",
                "{{.Id}} {{.Size}} {{len .RootFS.Layers}}",
                tag,
            ])
            .output()
            .map_err(|e| self.spawn_error(e))?;
        let inspect_error = |detail: String| EngineError::Inspect {
            tag: tag.to_owned(),
            detail,
        };
        if !out.status.success() {
            return Err(inspect_error(
                String::from_utf8_lossy(&out.stderr).trim().to_owned(),
            ));
        }
        let text = String::from_utf8_lossy(&out.stdout);
        let fields: Vec<&str> = text.split_whitespace().collect();
        match fields.as_slice() {
            [id, size, layers] => Ok(BuiltImage {
                tag: tag.to_owned(),
                id: (*id).to_owned(),
                size: size
                    .parse()
                    .map_err(|_| inspect_error(format!("size `{size}`")))?,
                layers: layers
                    .parse()
                    .map_err(|_| inspect_error(format!("layer count `{layers}`")))?,
            }),
            _ => Err(inspect_error(format!(
                "unexpected output `{}`",
                text.trim()
            ))),
        }
    }
}

/// Two builds, before and after a rewrite.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Comparison {
    /// The original.
    pub before: BuiltImage,
    /// The rewritten file.
    pub after: BuiltImage,
}

impl Comparison {
    /// Bytes saved (negative when the rewrite grew the image).
    pub fn saved(&self) -> i64 {
        self.before.size as i64 - self.after.size as i64
    }

    /// The share of the original size saved, in percent.
    pub fn saved_percent(&self) -> f64 {
        if self.before.size == 0 {
            0.0
        } else {
            self.saved() as f64 * 100.0 / self.before.size as f64
        }
    }
}

/// Builds `before` and `after` as `TAG_PREFIX:before` and `TAG_PREFIX:after`.
pub fn compare(
    engine: &Engine,
    tag_prefix: &str,
    before: &str,
    after: &str,
    context: &Path,
) -> Result<Comparison, EngineError> {
    Ok(Comparison {
        before: engine.build(&format!("{tag_prefix}:before"), before, context)?,
        after: engine.build(&format!("{tag_prefix}:after"), after, context)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_client_is_a_spawn_error() {
        let engine = Engine {
            docker: PathBuf::from("/nonexistent/docker"),
            buildkit: Some(true),
            build_args: Vec::new(),
        };
        let err = engine
            .build("t", "FROM scratch\n", Path::new("."))
            .unwrap_err();
        assert!(matches!(err, EngineError::Spawn { .. }), "{err}");
    }

    #[test]
    fn savings() {
        let img = |size| BuiltImage {
            tag: String::new(),
            id: String::new(),
            size,
            layers: 1,
        };
        let c = Comparison {
            before: img(200),
            after: img(150),
        };
        assert_eq!(c.saved(), 50);
        assert!((c.saved_percent() - 25.0).abs() < 1e-9);
    }
}
