//! The Docker Engine API on its socket (`DOCKER_HOST`, default `unix:///var/run/docker.sock`):
//! whether an image is local (`GET /images/NAME/json`) and its export (`GET /images/NAME/get`,
//! the stream `docker save` writes), as a kasane-image [`Source`].
//!
//! Two ways to read the export: [`read_from_engine`] streams it in one pass into an [`Image`]
//! with no copy on disk (the engine writes `manifest.json`, which orders the layers, at the end,
//! so every layer is read as it passes and ordered afterwards; what `analyze`, `layers` and
//! `diff` need). [`DaemonSource`] spools it to a temporary file first, because the commands that
//! show or extract file contents (`explore`, `export`, `squash`) read layer blobs again later,
//! which needs random access; the spool lives in `$TMPDIR` and is deleted with the source.

use std::fmt;
use std::io::{self, Read};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use kasane_image::{
    ArchiveSource, Digest, Error, Image, ImageReadOptions, LayerBlob, Progress, ResolvedImage,
    Selector, Source,
};

use crate::error::RemoteError;
use crate::http1::{self, Stream};
use crate::transfer::{ObservedReader, TransferObserver};

/// The engine's default socket.
pub const DEFAULT_SOCKET: &str = "/var/run/docker.sock";

/// Where the engine listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// A unix socket.
    Unix(PathBuf),
    /// Plain TCP (`tcp://host:port`; TLS is not supported).
    Tcp(String),
}

impl Endpoint {
    /// `DOCKER_HOST`, or the default socket.
    pub fn from_env() -> Result<Endpoint, RemoteError> {
        match std::env::var("DOCKER_HOST") {
            Ok(v) if !v.is_empty() => Endpoint::parse(&v),
            _ => Ok(Endpoint::Unix(PathBuf::from(DEFAULT_SOCKET))),
        }
    }

    /// Parses `unix:///path` or `tcp://host:port`.
    pub fn parse(s: &str) -> Result<Endpoint, RemoteError> {
        if let Some(path) = s.strip_prefix("unix://") {
            return Ok(Endpoint::Unix(PathBuf::from(path)));
        }
        if let Some(addr) = s.strip_prefix("tcp://") {
            if std::env::var_os("DOCKER_TLS_VERIFY").is_some_and(|v| !v.is_empty()) {
                return Err(RemoteError::Engine {
                    endpoint: s.to_owned(),
                    detail: "TLS connections to the engine are not supported".to_owned(),
                });
            }
            let addr = addr.trim_end_matches('/');
            return Ok(Endpoint::Tcp(addr.to_owned()));
        }
        Err(RemoteError::Engine {
            endpoint: s.to_owned(),
            detail: "DOCKER_HOST must be unix:///PATH or tcp://HOST:PORT".to_owned(),
        })
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Unix(p) => write!(f, "unix://{}", p.display()),
            Endpoint::Tcp(a) => write!(f, "tcp://{a}"),
        }
    }
}

/// What the engine says about a local image.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LocalImage {
    /// The image ID (its config digest).
    pub id: String,
    /// Its tags.
    #[serde(default)]
    pub repo_tags: Option<Vec<String>>,
    /// Its size as the engine counts it.
    #[serde(default)]
    pub size: Option<u64>,
}

/// A client for the engine.
#[derive(Debug, Clone)]
pub struct EngineClient {
    endpoint: Endpoint,
    timeout: Duration,
}

impl EngineClient {
    /// A client for `endpoint`; `timeout` bounds each wait for data.
    pub fn new(endpoint: Endpoint, timeout: Duration) -> EngineClient {
        EngineClient { endpoint, timeout }
    }

    /// The endpoint, for messages.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    fn err(&self, detail: impl Into<String>) -> RemoteError {
        RemoteError::Engine {
            endpoint: self.endpoint.to_string(),
            detail: detail.into(),
        }
    }

    fn connect(&self, timeout: Duration) -> Result<Box<dyn Stream>, RemoteError> {
        let t = Some(timeout);
        let stream: Box<dyn Stream> = match &self.endpoint {
            Endpoint::Unix(path) => {
                let s = UnixStream::connect(path)
                    .map_err(|e| self.err(format!("cannot connect ({e}); is dockerd running?")))?;
                s.set_read_timeout(t)
                    .and_then(|()| s.set_write_timeout(t))
                    .map_err(|e| self.err(e.to_string()))?;
                Box::new(s)
            }
            Endpoint::Tcp(addr) => {
                let s = TcpStream::connect(addr)
                    .map_err(|e| self.err(format!("cannot connect ({e}); is dockerd running?")))?;
                s.set_read_timeout(t)
                    .and_then(|()| s.set_write_timeout(t))
                    .map_err(|e| self.err(e.to_string()))?;
                Box::new(s)
            }
        };
        Ok(stream)
    }

    fn request(&self, path: &str, timeout: Duration) -> Result<http1::Response, RemoteError> {
        let stream = self.connect(timeout)?;
        http1::get(stream, path).map_err(|e| self.io_err(&e))
    }

    fn io_err(&self, e: &io::Error) -> RemoteError {
        if matches!(
            e.kind(),
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
        ) {
            self.err(format!(
                "no answer for {} s (timed out)",
                self.timeout.as_secs()
            ))
        } else {
            self.err(e.to_string())
        }
    }

    /// The image `name` if the engine has it, `None` if it does not.
    pub fn inspect(&self, name: &str) -> Result<Option<LocalImage>, RemoteError> {
        let path = format!(
            "/images/{}/json",
            escape_name(name).ok_or_else(|| self.bad_name(name))?
        );
        let response = self.request(&path, self.timeout)?;
        let status = response.status;
        let body = response
            .body
            .read_limited(16 * 1024 * 1024)
            .map_err(|e| self.io_err(&e))?;
        match status {
            200 => serde_json::from_slice(&body)
                .map(Some)
                .map_err(|e| self.err(format!("image {name}: unreadable inspect answer: {e}"))),
            404 => Ok(None),
            s => Err(self.err(format!("image {name}: HTTP {s}{}", engine_message(&body)))),
        }
    }

    /// The export of image `name` as `docker save` writes it, as a stream.
    pub fn export(&self, name: &str) -> Result<impl Read + Send + use<>, RemoteError> {
        let path = format!(
            "/images/{}/get",
            escape_name(name).ok_or_else(|| self.bad_name(name))?
        );
        // The engine assembles the export before the first byte: allow it a long first wait.
        let response = self.request(&path, self.timeout.max(Duration::from_secs(300)))?;
        if response.status != 200 {
            let status = response.status;
            let body = response.body.read_limited(64 * 1024).unwrap_or_default();
            return Err(if status == 404 {
                RemoteError::NoSuchLocalImage {
                    endpoint: self.endpoint.to_string(),
                    name: name.to_owned(),
                }
            } else {
                self.err(format!(
                    "export of {name}: HTTP {status}{}",
                    engine_message(&body)
                ))
            });
        }
        Ok(response.body)
    }

    fn bad_name(&self, name: &str) -> RemoteError {
        self.err(format!("`{name}` is not an image name or ID"))
    }
}

/// The name as a path segment; `None` for characters no image name has.
fn escape_name(name: &str) -> Option<&str> {
    let ok = !name.is_empty()
        && !name.starts_with('/')
        && !name.split('/').any(|c| c == ".." || c == ".")
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-/:@".contains(&b));
    ok.then_some(name)
}

/// The engine's `{"message": "..."}`, for error messages.
fn engine_message(body: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            v.get("message")?
                .as_str()
                .map(|m| format!(": {}", m.chars().take(300).collect::<String>()))
        })
        .unwrap_or_default()
}

/// The export of `name`, with `observer` watching its bytes (as one transfer named by the image
/// ID). Exported by ID, so a tag moved meanwhile cannot swap the image under the reader.
fn observed_export(
    client: &EngineClient,
    name: &str,
    observer: Option<Arc<dyn TransferObserver>>,
) -> Result<Box<dyn Read + Send>, RemoteError> {
    let image = client
        .inspect(name)?
        .ok_or_else(|| RemoteError::NoSuchLocalImage {
            endpoint: client.endpoint.to_string(),
            name: name.to_owned(),
        })?;
    let export = client.export(&image.id)?;
    Ok(match (observer, image.id.parse::<Digest>()) {
        (Some(o), Ok(id)) => Box::new(ObservedReader::new(export, id, None, o)),
        _ => Box::new(export),
    })
}

/// Reads image `name` from the engine in one pass over its export, with no copy on disk.
pub fn read_from_engine(
    client: &EngineClient,
    name: &str,
    selector: &Selector,
    options: ImageReadOptions,
    progress: &dyn Progress,
    observer: Option<Arc<dyn TransferObserver>>,
) -> Result<Image, Error> {
    let export = observed_export(client, name, observer)?;
    let described = format!("docker-daemon:{name}");
    let by_platform = Selector {
        tag: None,
        platform: selector.platform.clone(),
    };
    let mut image = kasane_image::source::read_archive_stream(
        io::BufReader::with_capacity(256 * 1024, export),
        &described,
        &by_platform,
        options,
        progress,
    )
    .map_err(|e| match e {
        // The stream is the engine's connection: say so.
        Error::Io { path, source } => Error::Io {
            path: format!("{path}: reading the export from {}", client.endpoint),
            source,
        },
        Error::UnknownFormat { input, reason } => Error::UnknownFormat {
            input: format!("{input} (the export from {})", client.endpoint),
            reason,
        },
        e => e,
    })?;
    image.name = Some(name.to_owned());
    Ok(image)
}

/// An image in the local engine, read through its export.
#[derive(Debug)]
pub struct DaemonSource {
    name: String,
    endpoint: String,
    archive: ArchiveSource,
    /// Keeps the spool alive as long as the archive reads from it.
    _spool: tempfile::NamedTempFile,
}

impl DaemonSource {
    /// Exports `name` from the engine into a temporary spool and indexes it. `observer` sees the
    /// export's bytes arrive (as one transfer named by the image ID).
    pub fn open(
        client: &EngineClient,
        name: &str,
        observer: Option<Arc<dyn TransferObserver>>,
    ) -> Result<DaemonSource, RemoteError> {
        let mut export = observed_export(client, name, observer)?;
        let mut spool = tempfile::Builder::new()
            .prefix(".kasane-daemon-export-")
            .suffix(".tar")
            .tempfile()
            .map_err(|e| {
                client.err(format!(
                    "cannot create a temporary file for the export: {e}"
                ))
            })?;
        io::copy(&mut export, spool.as_file_mut())
            .map_err(|e| client.err(format!("export of {name}: {e}")))?;
        let archive = ArchiveSource::open_docker(spool.path())
            .map_err(|e| client.err(format!("export of {name}: {e}")))?;
        Ok(DaemonSource {
            name: name.to_owned(),
            endpoint: client.endpoint.to_string(),
            archive,
            _spool: spool,
        })
    }
}

impl Source for DaemonSource {
    fn describe(&self) -> String {
        format!("docker-daemon:{}", self.name)
    }

    fn resolve(&self, selector: &Selector) -> Result<ResolvedImage, Error> {
        // The export holds this one image; a tag in the selector was already used to find it.
        let mut resolved = self.archive.resolve(&Selector {
            tag: None,
            platform: selector.platform.clone(),
        })?;
        resolved.name = Some(self.name.clone());
        Ok(resolved)
    }

    fn open_blob(&self, blob: &LayerBlob) -> Result<Box<dyn Read + Send + '_>, Error> {
        self.archive.open_blob(blob).map_err(|e| match e {
            Error::MissingBlob { what, blob, .. } => Error::MissingBlob {
                what,
                blob,
                source_name: format!("the export of {} from {}", self.name, self.endpoint),
            },
            e => e,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_docker_host() {
        assert_eq!(
            Endpoint::parse("unix:///run/user/1000/docker.sock").unwrap(),
            Endpoint::Unix("/run/user/1000/docker.sock".into())
        );
        assert_eq!(
            Endpoint::parse("tcp://127.0.0.1:2375").unwrap().to_string(),
            "tcp://127.0.0.1:2375"
        );
        assert!(Endpoint::parse("ssh://me@host").is_err());
    }

    #[test]
    fn image_names_are_safe_path_segments() {
        assert!(escape_name("127.0.0.1:5000/app:v1").is_some());
        assert!(escape_name("sha256:abc").is_some());
        for bad in ["", "../x", "a/../b", "a b", "a?b", "/x", "a#b"] {
            assert!(escape_name(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn a_missing_socket_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let client = EngineClient::new(
            Endpoint::Unix(dir.path().join("none.sock")),
            Duration::from_secs(1),
        );
        let e = client.inspect("app").unwrap_err().to_string();
        assert!(
            e.contains("none.sock") && e.contains("is dockerd running"),
            "{e}"
        );
    }
}
