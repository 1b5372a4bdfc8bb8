//! Parallel ranged HTTP downloads, done carefully.
//!
//! [`Download::run`] probes the server with a one-byte range request, then fetches the file in
//! chunks over N separate HTTP/1.1 connections (one `ureq` agent each), writing every range
//! straight to its offset in a partial file beside the output. Every reply is checked: a range
//! must come back as `206` with exactly the `Content-Range` asked for, the length announced,
//! and the same `ETag`/`Last-Modified` as the probe saw. Servers without ranges get one stream.
//! Transient failures are retried per chunk with backoff; an interrupted download keeps its
//! complete chunks and resumes. The output appears only by a rename once every byte is in and
//! the SHA-256 matches (when one was given).
//!
//! The library never prints: progress and notices arrive as [`Event`]s.

mod checksum;
mod client;
mod content_range;
mod error;
mod event;
mod name;
mod partial;
mod probe;
mod ranged;
mod retry;
mod stream;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

pub use checksum::Sha256Digest;
pub use client::RootSource;
pub use content_range::{ByteRange, ContentRange, ContentRangeError};
pub use error::{FetchError, Requested};
pub use event::{Event, Observer, SingleStreamReason};
pub use name::{file_name_from_url, resolve_output};
pub use partial::ResumeState;

use client::{Client, Validators};
use event::Progress;
use partial::Partial;
use probe::Probe;
use ranged::RangedDownload;
use retry::RetryPolicy;

/// Chunks per connection the default chunk size aims for, so a slow connection's last chunk
/// does not leave the others idle for long.
const CHUNKS_PER_CONNECTION: u64 = 4;
/// Bounds of the default chunk size.
const MIN_CHUNK: u64 = 1 << 20;
const MAX_CHUNK: u64 = 16 << 20;

/// One download: where from, where to, and how.
#[derive(Debug, Clone)]
pub struct Download {
    url: String,
    output: PathBuf,
    connections: usize,
    chunk_size: Option<u64>,
    sha256: Option<Sha256Digest>,
    retries: u32,
    timeout: Duration,
    first_backoff: Duration,
}

/// How a finished download went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// The file written.
    pub output: PathBuf,
    /// Its length.
    pub bytes: u64,
    /// Its SHA-256 (checked against the expected one, when given).
    pub sha256: Sha256Digest,
    /// Connections used: 1 for a single stream.
    pub connections: usize,
    /// Whether byte ranges were used.
    pub ranged: bool,
    /// Bytes taken over from an earlier interrupted run.
    pub resumed: u64,
}

impl Download {
    /// A download of `url` into `output` with the defaults: 8 connections, chunk size chosen
    /// from the file size, 5 retries per request starting at 0.5 s, a 30 s stall timeout.
    pub fn new(url: impl Into<String>, output: impl Into<PathBuf>) -> Self {
        Self {
            url: url.into(),
            output: output.into(),
            connections: 8,
            chunk_size: None,
            sha256: None,
            retries: 5,
            timeout: Duration::from_secs(30),
            first_backoff: Duration::from_millis(500),
        }
    }

    /// Parallel connections (at least 1).
    pub fn connections(mut self, connections: usize) -> Self {
        self.connections = connections.max(1);
        self
    }

    /// Bytes per ranged request (at least 1). By default: size / (4 × connections), between
    /// 1 and 16 MiB. A resumed download keeps the chunk size it started with.
    pub fn chunk_size(mut self, bytes: u64) -> Self {
        self.chunk_size = Some(bytes.max(1));
        self
    }

    /// The SHA-256 the file must have; without a match nothing is written.
    pub fn sha256(mut self, digest: Sha256Digest) -> Self {
        self.sha256 = Some(digest);
        self
    }

    /// Retries per request for transient failures (0 = one attempt).
    pub fn retries(mut self, retries: u32) -> Self {
        self.retries = retries;
        self
    }

    /// Longest wait for a connection, a reply, or the next byte of a body.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Pause before the first retry; each later retry doubles it (capped at 10 s).
    pub fn first_backoff(mut self, delay: Duration) -> Self {
        self.first_backoff = delay;
        self
    }

    /// Runs the download, reporting to `observer`. On success the output holds the complete,
    /// verified file. On failure nothing is at the output path (an existing file there is left
    /// as it was); only [`FetchError::Interrupted`] keeps a partial file beside it.
    pub fn run(&self, observer: Observer<'_>) -> Result<Summary, FetchError> {
        let https = check_url(&self.url)?;
        let (client, roots) = Client::new(https, self.timeout);
        if let Some(roots) = roots {
            observer(&Event::TlsRoots(roots));
        }
        let partial = Partial::open(&self.output)?;
        let policy = RetryPolicy {
            retries: self.retries,
            first_delay: self.first_backoff,
        };
        let cancelled = AtomicBool::new(false);
        let agent = client.agent();
        let probed = probe::probe(&agent, &self.url, &policy, &cancelled, observer);
        match probed {
            Err(e) => {
                partial.release();
                Err(e)
            }
            Ok(Probe::Ranged { size, validators }) => {
                let job = RangedJob {
                    download: self,
                    client: &client,
                    policy,
                    cancelled: &cancelled,
                    observer,
                };
                job.run(partial, agent, size, &validators)
            }
            Ok(Probe::Whole { reason, response }) => {
                observer(&Event::SingleStream(reason));
                let total = response
                    .as_ref()
                    .and_then(|r| client::content_length(r.headers()).ok().flatten());
                let progress = Progress::new(0, total, observer);
                let result = partial.start_over(0).and_then(|()| {
                    stream::download_whole(
                        &agent, &self.url, response, &partial, &policy, &cancelled, &progress,
                        observer,
                    )
                });
                let (bytes, digest) = match result {
                    Ok(done) => done,
                    Err(e) => {
                        partial.discard();
                        return Err(e);
                    }
                };
                self.finish(partial, bytes, digest, 1, false, 0)
            }
        }
    }

    /// Checks the digest and moves the file into place.
    fn finish(
        &self,
        partial: Partial,
        bytes: u64,
        digest: Sha256Digest,
        connections: usize,
        ranged: bool,
        resumed: u64,
    ) -> Result<Summary, FetchError> {
        if let Some(expected) = self.sha256.filter(|&e| e != digest) {
            partial.discard();
            return Err(FetchError::ChecksumMismatch {
                expected: expected.to_string(),
                actual: digest.to_string(),
            });
        }
        partial.commit(&self.output)?;
        Ok(Summary {
            output: self.output.clone(),
            bytes,
            sha256: digest,
            connections,
            ranged,
            resumed,
        })
    }
}

/// The ranged path of one run.
struct RangedJob<'a> {
    download: &'a Download,
    client: &'a Client,
    policy: RetryPolicy,
    cancelled: &'a AtomicBool,
    observer: Observer<'a>,
}

impl RangedJob<'_> {
    fn run(
        &self,
        partial: Partial,
        agent: ureq::Agent,
        size: u64,
        validators: &Validators,
    ) -> Result<Summary, FetchError> {
        let d = self.download;
        let persist = validators.any();
        let state = match self.resumable(&partial, size, validators) {
            Some(state) => {
                (self.observer)(&Event::Resuming {
                    done: state.done_bytes(),
                    total: size,
                });
                state
            }
            None => {
                let chunk_size = d
                    .chunk_size
                    .unwrap_or_else(|| default_chunk_size(size, d.connections))
                    .max(size.div_ceil(partial::MAX_CHUNKS));
                let count = ResumeState::chunk_count(size, chunk_size);
                let state = ResumeState {
                    url: d.url.clone(),
                    size,
                    chunk_size,
                    etag: validators.etag.clone(),
                    last_modified: validators.last_modified.clone(),
                    done: vec![false; usize::try_from(count).unwrap_or(usize::MAX)],
                };
                let prepared = partial.start_over(size).and_then(|()| {
                    if persist {
                        partial.save_state(&state)
                    } else {
                        Ok(())
                    }
                });
                if let Err(e) = prepared {
                    partial.discard();
                    return Err(e);
                }
                state
            }
        };
        let resumed = state.done_bytes();
        let progress = Progress::new(resumed, Some(size), self.observer);
        let ranged = RangedDownload {
            client: self.client,
            url: &d.url,
            size,
            validators,
            partial: &partial,
            state: Mutex::new(state),
            persist,
            policy: self.policy,
            progress: &progress,
            cancelled: self.cancelled,
        };
        let pending = ranged.pending().len();
        let connections = d.connections.clamp(1, pending.max(1));
        let chunk_size = ranged.state.lock().map_or(0, |s| s.chunk_size);
        (self.observer)(&Event::Ranged {
            size,
            connections,
            chunks: pending,
            chunk_size,
        });
        if let Err(e) = ranged.run(connections, agent, self.observer) {
            let kept = ranged.state.lock().map_or(0, |state| state.done_bytes());
            let resumable = persist
                && kept > 0
                && (e.is_transient()
                    || matches!(e, FetchError::GaveUp { .. } | FetchError::Io { .. }));
            if resumable {
                return Err(FetchError::Interrupted {
                    cause: Box::new(e),
                    partial: partial.path.clone(),
                    kept,
                    total: size,
                });
            }
            partial.discard();
            return Err(e);
        }
        (self.observer)(&Event::Verifying);
        let digest = match checksum::hash_file(&partial.file, &partial.path) {
            Ok(digest) => digest,
            Err(e) => {
                partial.discard();
                return Err(e);
            }
        };
        d.finish(partial, size, digest, connections, true, resumed)
    }

    /// The earlier run's state, when it describes this very file and can be trusted.
    fn resumable(
        &self,
        partial: &Partial,
        size: u64,
        validators: &Validators,
    ) -> Option<ResumeState> {
        let state = match partial.load_state() {
            Ok(Some(state)) => state,
            Ok(None) => return None,
            Err(reason) => {
                (self.observer)(&Event::NotResuming(format!(
                    "its state is unreadable: {reason}"
                )));
                return None;
            }
        };
        let earlier = Validators {
            etag: state.etag.clone(),
            last_modified: state.last_modified.clone(),
        };
        let comparable = (earlier.etag.is_some() && validators.etag.is_some())
            || (earlier.last_modified.is_some() && validators.last_modified.is_some());
        let refusal = if state.url != self.download.url {
            Some("it was started from another URL".to_owned())
        } else if state.size != size {
            Some(format!(
                "the file's length changed from {} to {size}",
                state.size
            ))
        } else if let Some(change) = earlier.changed_in(validators) {
            Some(format!("the file changed ({change})"))
        } else if !comparable {
            Some(
                "the server sends no ETag or Last-Modified to prove the file is the same"
                    .to_owned(),
            )
        } else if partial.len().ok() != Some(size) {
            Some("the partial file has the wrong length".to_owned())
        } else {
            None
        };
        match refusal {
            Some(reason) => {
                (self.observer)(&Event::NotResuming(reason));
                None
            }
            None => Some(state),
        }
    }
}

/// size / (4 × connections), between 1 and 16 MiB.
fn default_chunk_size(size: u64, connections: usize) -> u64 {
    (size / (CHUNKS_PER_CONNECTION * connections.max(1) as u64)).clamp(MIN_CHUNK, MAX_CHUNK)
}

/// Accepts `http://` and `https://` URLs without whitespace; returns whether it is HTTPS.
fn check_url(url: &str) -> Result<bool, FetchError> {
    let invalid = |reason: &str| FetchError::InvalidUrl {
        url: url.to_owned(),
        reason: reason.to_owned(),
    };
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    let https = if lower.starts_with("https://") {
        true
    } else if lower.starts_with("http://") {
        false
    } else {
        return Err(invalid("only http:// and https:// URLs can be fetched"));
    };
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid("it contains whitespace or control characters"));
    }
    let rest = &url[if https { 8 } else { 7 }..];
    if rest.is_empty() || rest.starts_with('/') {
        return Err(invalid("it has no host"));
    }
    Ok(https)
}

/// Where a partial download of `output` is kept (for messages and cleanup by callers).
pub fn partial_path(output: &Path) -> PathBuf {
    let name = output
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    output
        .parent()
        .unwrap_or(Path::new(""))
        .join(format!(".{name}.kasane-part"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_chunks_aim_for_four_per_connection_within_bounds() {
        assert_eq!(default_chunk_size(256 << 20, 8), 8 << 20);
        assert_eq!(default_chunk_size(256 << 20, 1), 16 << 20);
        assert_eq!(default_chunk_size(10, 8), 1 << 20);
        // A server claiming an absurd length cannot make the chunk table absurd.
        let huge = u64::MAX / 2;
        let chunk = default_chunk_size(huge, 8).max(huge.div_ceil(partial::MAX_CHUNKS));
        assert!(ResumeState::chunk_count(huge, chunk) <= partial::MAX_CHUNKS);
    }

    #[test]
    fn only_http_urls_with_a_host() {
        assert!(!check_url("http://h/x").unwrap());
        assert!(check_url("HTTPS://h").unwrap());
        for bad in [
            "ftp://h/x",
            "h/x",
            "http://",
            "http:///x",
            "http://h/a b",
            "http://h/\n",
        ] {
            assert!(check_url(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn partial_path_is_hidden_beside_the_output() {
        assert_eq!(
            partial_path(Path::new("/a/b.tgz")),
            PathBuf::from("/a/.b.tgz.kasane-part")
        );
    }
}
