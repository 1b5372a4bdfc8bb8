//! What a download reports while it runs. The library never prints; the caller renders these.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::client::RootSource;

/// Something worth telling the user, in the order it happens.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// Where HTTPS trust comes from (sent once, for https URLs only).
    TlsRoots(RootSource),
    /// The server honours byte ranges: the file is fetched in `chunks` ranges over
    /// `connections` connections.
    Ranged {
        /// Size of the file.
        size: u64,
        /// Connections that will run (never more than there are chunks to fetch).
        connections: usize,
        /// Chunks still to fetch.
        chunks: usize,
        /// Bytes per chunk (the last may be shorter).
        chunk_size: u64,
    },
    /// The file is fetched over one connection, for this reason.
    SingleStream(SingleStreamReason),
    /// The server sent no length and no chunked framing: the end of the connection is taken as
    /// the end of the file, so a cut connection cannot be detected without a checksum.
    LengthUnknown,
    /// An earlier partial download of the same file is continued.
    Resuming {
        /// Bytes already complete.
        done: u64,
        /// Size of the file.
        total: u64,
    },
    /// An earlier partial download exists but is not trusted; it is started over.
    NotResuming(String),
    /// A request failed in a way another attempt may cure; it is retried after `delay`.
    Retrying {
        /// The failure, including what was asked for.
        error: String,
        /// This retry's number, from 1.
        retry: u32,
        /// Retries allowed.
        retries: u32,
        /// Pause before the retry.
        delay: Duration,
    },
    /// Bytes written so far (sent often; throttle when rendering).
    Progress {
        /// Bytes complete.
        done: u64,
        /// Size of the file, when known.
        total: Option<u64>,
    },
    /// All bytes are in; the file is being hashed before it is moved into place.
    Verifying,
}

/// Why a download runs over one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SingleStreamReason {
    /// The server answered a range request with the whole file (200).
    RangesIgnored,
    /// The server honours ranges but does not know the file's length.
    LengthUnknown,
    /// The server refused the first-byte range (416), as servers do for an empty file.
    RangeRefused,
}

impl std::fmt::Display for SingleStreamReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::RangesIgnored => "the server does not honour byte ranges",
            Self::LengthUnknown => "the server does not say how long the file is",
            Self::RangeRefused => "the server refused a range of the first byte",
        })
    }
}

/// Where events go. Called from every worker thread.
pub type Observer<'a> = &'a (dyn Fn(&Event) + Sync);

/// A shared byte counter that reports [`Event::Progress`].
pub(crate) struct Progress<'a> {
    done: AtomicU64,
    total: Option<u64>,
    observer: Observer<'a>,
}

impl<'a> Progress<'a> {
    pub(crate) fn new(done: u64, total: Option<u64>, observer: Observer<'a>) -> Self {
        Self {
            done: AtomicU64::new(done),
            total,
            observer,
        }
    }

    pub(crate) fn add(&self, bytes: u64) {
        let done = self.done.fetch_add(bytes, Ordering::Relaxed) + bytes;
        (self.observer)(&Event::Progress {
            done,
            total: self.total,
        });
    }

    /// Takes back bytes that have to be fetched again (a single stream restarting).
    pub(crate) fn sub(&self, bytes: u64) {
        let done = self.done.fetch_sub(bytes, Ordering::Relaxed) - bytes;
        (self.observer)(&Event::Progress {
            done,
            total: self.total,
        });
    }
}

impl std::fmt::Debug for Progress<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Progress")
            .field("done", &self.done)
            .field("total", &self.total)
            .finish_non_exhaustive()
    }
}
