//! Live image sources for kasane: images read straight from the Docker engine
//! (`docker-daemon:NAME[:TAG]`, through the Engine API on its socket) or from a registry
//! (`docker://REGISTRY/NAME[:TAG|@DIGEST]`, through the Registry HTTP API v2, no daemon needed),
//! as [`kasane_image::Source`]s, so every image command reads them like archives.
//!
//! - [`engine`] — [`EngineClient`] (an HTTP/1.1 client on the unix socket, `DOCKER_HOST`
//!   honoured) and [`DaemonSource`].
//! - [`registry`] — [`RegistryClient`]: manifests and blobs, anonymous, basic and bearer-token
//!   authentication ([`auth`]) with credentials from `~/.docker/config.json` and credential
//!   helpers ([`credentials`]), timeouts on every read, every manifest checked against its digest.
//! - [`RegistrySource`] — the registry as a source: the index entry for the wanted platform, its
//!   config, and layer blobs streamed in parallel into the analysis (each checked against its
//!   digest by kasane-image), optionally saved as an OCI layout on the way.
//! - [`open`] — picks the source an input names; bare names go to the local engine first, then
//!   to the registry.
//!
//! The library never prints, and no error or `Debug` output carries a password or token.

pub mod auth;
mod base64;
pub mod credentials;
pub mod engine;
mod error;
mod http1;
mod layout;
pub mod reference;
pub mod registry;
mod registry_source;
mod transfer;
pub mod trust;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub use engine::{DaemonSource, Endpoint, EngineClient, read_from_engine};
pub use error::RemoteError;
pub use reference::Reference;
pub use registry::{RegistryClient, RegistryOptions};
pub use registry_source::{RegistrySource, resolve_top};
pub use transfer::TransferObserver;
pub use trust::CertSource;

use kasane_image::Source;

/// A live image named on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LiveInput {
    /// `docker-daemon:NAME[:TAG]`: the local engine only.
    Daemon(String),
    /// `docker://REF`: the registry only.
    Registry(Reference),
    /// A bare name: the local engine if it has it, else the registry.
    Bare(String, Reference),
}

impl LiveInput {
    /// Recognises `docker://` and `docker-daemon:` references. Bare names are not recognised
    /// here (a bare string may be a file): see [`LiveInput::bare`].
    pub fn parse_prefixed(input: &str) -> Option<Result<LiveInput, RemoteError>> {
        if let Some(rest) = input.strip_prefix("docker://") {
            return Some(
                Reference::parse(rest)
                    .map(LiveInput::Registry)
                    .map_err(RemoteError::from),
            );
        }
        let rest = input.strip_prefix("docker-daemon:")?;
        let rest = rest.strip_prefix("//").unwrap_or(rest);
        Some(if rest.is_empty() {
            Err(RemoteError::Engine {
                endpoint: "docker-daemon:".to_owned(),
                detail: "no image name after `docker-daemon:`".to_owned(),
            })
        } else {
            Ok(LiveInput::Daemon(rest.to_owned()))
        })
    }

    /// A bare image name (`app:1`, `127.0.0.1:5000/app`); `None` when `input` does not read as
    /// one, or reads like an archive file name (`app.tar`).
    pub fn bare(input: &str) -> Option<LiveInput> {
        const ARCHIVE_ENDINGS: [&str; 5] = [".tar", ".tgz", ".tar.gz", ".tar.zst", ".oci"];
        if ARCHIVE_ENDINGS.iter().any(|e| input.ends_with(e)) {
            return None;
        }
        let reference = Reference::parse(input).ok()?;
        Some(LiveInput::Bare(input.to_owned(), reference))
    }
}

/// How to open live sources.
#[derive(Debug, Clone, Default)]
pub struct LiveOptions {
    /// Registry settings.
    pub registry: RegistryOptions,
    /// The engine's endpoint (`None`: from `DOCKER_HOST`).
    pub engine: Option<Endpoint>,
    /// Save what is read from a registry as an OCI layout here.
    pub save: Option<PathBuf>,
    /// Per-transfer progress.
    pub observer: Option<Arc<dyn TransferObserver>>,
}

/// Where a live input will be read from.
#[derive(Debug)]
pub enum Located {
    /// The local engine has it.
    Engine {
        /// The engine.
        client: EngineClient,
        /// The name to export.
        name: String,
    },
    /// A registry.
    Registry {
        /// The image.
        reference: Reference,
        /// The bare name that was not found in the local engine, if that is why.
        fallback_from: Option<String>,
    },
}

fn engine_client(options: &LiveOptions) -> Result<EngineClient, RemoteError> {
    let endpoint = match &options.engine {
        Some(e) => e.clone(),
        None => Endpoint::from_env()?,
    };
    Ok(EngineClient::new(endpoint, Duration::from_secs(60)))
}

/// Decides where `input` is read from: `docker-daemon:` the engine, `docker://` the registry, a
/// bare name the engine when it has the image (and `--save` is not asked for), else the
/// registry.
pub fn locate(input: &LiveInput, options: &LiveOptions) -> Result<Located, RemoteError> {
    match input {
        LiveInput::Daemon(name) => {
            if options.save.is_some() {
                return Err(RemoteError::Engine {
                    endpoint: format!("docker-daemon:{name}"),
                    detail: "--save works with registry references (docker://...) only".to_owned(),
                });
            }
            Ok(Located::Engine {
                client: engine_client(options)?,
                name: name.clone(),
            })
        }
        LiveInput::Registry(reference) => Ok(Located::Registry {
            reference: reference.clone(),
            fallback_from: None,
        }),
        LiveInput::Bare(name, reference) => {
            // The local engine first, as `docker run` does; when it is not there (or has no such
            // image), the registry.
            if options.save.is_none()
                && let Ok(client) = engine_client(options)
                && let Ok(Some(_)) = client.inspect(name)
            {
                return Ok(Located::Engine {
                    client,
                    name: name.clone(),
                });
            }
            Ok(Located::Registry {
                reference: reference.clone(),
                fallback_from: Some(name.clone()),
            })
        }
    }
}

/// Opens the source `input` names (see [`locate`]). The engine's export is spooled to a
/// temporary file ([`DaemonSource`]); [`read_from_engine`] reads it without one when no layer
/// needs reading twice.
pub fn open(input: &LiveInput, options: &LiveOptions) -> Result<Box<dyn Source>, RemoteError> {
    match locate(input, options)? {
        Located::Engine { client, name } => Ok(Box::new(DaemonSource::open(
            &client,
            &name,
            options.observer.clone(),
        )?)),
        Located::Registry {
            reference,
            fallback_from,
        } => {
            let source = registry_source(&reference, options)?;
            Ok(match fallback_from {
                Some(name) => Box::new(RegistryFallback {
                    name,
                    inner: source,
                }),
                None => source,
            })
        }
    }
}

fn registry_source(
    reference: &Reference,
    options: &LiveOptions,
) -> Result<Box<dyn Source>, RemoteError> {
    let mut source = RegistrySource::new(reference.clone(), &options.registry)?;
    if let Some(dir) = &options.save {
        source = source.save_to(dir)?;
    }
    if let Some(observer) = &options.observer {
        source = source.observe(Arc::clone(observer));
    }
    Ok(Box::new(source))
}

/// Parses `bytes` as the engine's HTTP response (head and de-framed body). For the fuzz target
/// only: the engine client reads responses from its socket the same way.
#[doc(hidden)]
pub fn read_engine_response(bytes: &[u8]) -> std::io::Result<(u16, Vec<u8>)> {
    http1::parse_canned(bytes)
}

/// The registry, read because the local engine did not have a bare name: failures to find the
/// image say that the engine was tried first.
#[derive(Debug)]
struct RegistryFallback {
    name: String,
    inner: Box<dyn Source>,
}

impl Source for RegistryFallback {
    fn describe(&self) -> String {
        self.inner.describe()
    }

    fn resolve(
        &self,
        selector: &kasane_image::Selector,
    ) -> Result<kasane_image::ResolvedImage, kasane_image::Error> {
        self.inner.resolve(selector).map_err(|e| {
            kasane_image::Error::Invalid(format!(
                "`{}` is no file and no image in the local Docker engine, and the registry \
                 failed: {e}",
                self.name
            ))
        })
    }

    fn open_blob(
        &self,
        blob: &kasane_image::LayerBlob,
    ) -> Result<Box<dyn std::io::Read + Send + '_>, kasane_image::Error> {
        self.inner.open_blob(blob)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_live_inputs() {
        assert!(matches!(
            LiveInput::parse_prefixed("docker://127.0.0.1:5000/app:1"),
            Some(Ok(LiveInput::Registry(r))) if r.repository == "app"
        ));
        assert_eq!(
            LiveInput::parse_prefixed("docker-daemon:app:1")
                .unwrap()
                .unwrap(),
            LiveInput::Daemon("app:1".into())
        );
        assert_eq!(
            LiveInput::parse_prefixed("docker-daemon://app")
                .unwrap()
                .unwrap(),
            LiveInput::Daemon("app".into())
        );
        assert!(
            LiveInput::parse_prefixed("docker-daemon:")
                .unwrap()
                .is_err()
        );
        let bad = LiveInput::parse_prefixed("docker://Bad/Name")
            .unwrap()
            .unwrap_err();
        assert!(
            bad.to_string()
                .contains("`Bad/Name` is not an image reference"),
            "{bad}"
        );
        assert!(LiveInput::parse_prefixed("oci:dir").is_none());
        assert!(LiveInput::bare("app.tar").is_none());
        assert!(LiveInput::bare("./x").is_none());
        assert!(matches!(LiveInput::bare("app:1"), Some(LiveInput::Bare(n, _)) if n == "app:1"));
    }
}
