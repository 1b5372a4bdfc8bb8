//! Everything that can make a download fail.
//!
//! Each message is complete in itself (it names the underlying error), so no variant exposes
//! that error again as `source()`: a renderer that prints the chain would say it twice.

use std::path::PathBuf;

use crate::content_range::ByteRange;

/// Why a download failed. Every variant leaves nothing at the output path; only
/// [`FetchError::Interrupted`] keeps the partial file (for a later resume).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// The URL cannot be fetched (not http/https, or malformed).
    #[error("invalid URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A `--sha256` value that is not 64 hexadecimal digits.
    #[error("invalid sha256 {0:?}: expected 64 hexadecimal digits")]
    InvalidDigest(String),
    /// The server answered with an HTTP status that is not success.
    #[error("the server answered HTTP {status} for {what}")]
    Status {
        /// What was asked for (the whole file, or a range).
        what: Requested,
        /// The status code.
        status: u16,
    },
    /// The connection failed, timed out or broke.
    #[error("{what}: {error}")]
    Transport {
        /// What was asked for.
        what: Requested,
        /// The error from the HTTP client.
        error: ureq::Error,
    },
    /// Reading the response body failed (reset, timeout, malformed chunked encoding).
    #[error("{what}: reading the response failed after {received} bytes: {error}")]
    Body {
        /// What was asked for.
        what: Requested,
        /// How many bytes of the body had arrived.
        received: u64,
        /// The error.
        error: std::io::Error,
    },
    /// No byte arrived within the timeout.
    #[error("{what}: no data for longer than the timeout, after {received} bytes")]
    Stalled {
        /// What was asked for.
        what: Requested,
        /// How many bytes of the body had arrived.
        received: u64,
    },
    /// The body ended before all the bytes announced had arrived.
    #[error("{what}: the connection closed after {received} of {expected} bytes")]
    ShortBody {
        /// What was asked for.
        what: Requested,
        /// Bytes received.
        received: u64,
        /// Bytes expected.
        expected: u64,
    },
    /// The server sent more bytes than it announced or than were asked for.
    #[error("{what}: the server sent more than the {expected} bytes asked for")]
    LongBody {
        /// What was asked for.
        what: Requested,
        /// Bytes expected.
        expected: u64,
    },
    /// A 206 reply whose `Content-Range` (or `Content-Length`) does not describe the range asked
    /// for.
    #[error("{asked}: the server answered with {answer}")]
    WrongRange {
        /// The range asked for.
        asked: ByteRange,
        /// What the server's headers said, quoted.
        answer: String,
    },
    /// The file on the server is not the one the download started with.
    #[error("the file on the server changed during the download ({0}); run the command again")]
    RemoteChanged(String),
    /// The downloaded bytes do not have the expected SHA-256.
    #[error(
        "checksum mismatch: expected sha256 {expected}, got {actual}; the download was discarded"
    )]
    ChecksumMismatch {
        /// The expected digest, hex.
        expected: String,
        /// The digest of what arrived, hex.
        actual: String,
    },
    /// Reading or writing a local file failed.
    #[error("{}: {error}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        error: std::io::Error,
    },
    /// Another `kasane fetch` is writing the same output.
    #[error("{} is being written by another download", path.display())]
    Busy {
        /// The partial file that is locked.
        path: PathBuf,
    },
    /// A transient failure that did not go away within the retry budget.
    #[error("gave up after {attempts} attempts: {last}")]
    GaveUp {
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        last: Box<FetchError>,
    },
    /// Stopped because another connection of the same download failed (that failure is the
    /// one reported; this one never leaves [`crate::Download::run`]).
    #[error("cancelled")]
    Cancelled,
    /// The download stopped, but what arrived is kept beside the output for a resume.
    #[error("{cause}\n{kept} of {total} bytes are kept in {}; run the same command again to resume", partial.display())]
    Interrupted {
        /// Why it stopped.
        cause: Box<FetchError>,
        /// The partial file.
        partial: PathBuf,
        /// Bytes already complete in it.
        kept: u64,
        /// Size of the whole file.
        total: u64,
    },
}

impl FetchError {
    /// True for failures that another attempt may cure: broken or stalled connections, short
    /// bodies, and the statuses servers use for "busy" (408, 429, 5xx).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Status { status, .. } => matches!(status, 408 | 429 | 500..=599),
            Self::Transport { error, .. } => matches!(
                error,
                ureq::Error::Io(_)
                    | ureq::Error::Timeout(_)
                    | ureq::Error::ConnectionFailed
                    | ureq::Error::Protocol(_)
            ),
            Self::Body { .. } | Self::Stalled { .. } | Self::ShortBody { .. } => true,
            _ => false,
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |error| Self::Io { path, error }
    }
}

/// What a request asked for, for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requested {
    /// The whole file (probe or single stream).
    Whole,
    /// One range of it.
    Range(ByteRange),
}

impl std::fmt::Display for Requested {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Whole => f.write_str("the file"),
            Self::Range(range) => write!(f, "{range}"),
        }
    }
}
