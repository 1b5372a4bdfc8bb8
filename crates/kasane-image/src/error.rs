//! The errors of reading an image. Each says what was being read and where.

use std::io;

use crate::digest::Digest;
use crate::layer::LayerError;

/// Why an image could not be read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be opened or read.
    #[error("{path}")]
    Io {
        /// The file (or archive member) being read.
        path: String,
        /// What went wrong.
        #[source]
        source: io::Error,
    },
    /// The input is neither an image archive nor an OCI layout.
    #[error("{input}: not an image ({reason})")]
    UnknownFormat {
        /// What was given.
        input: String,
        /// What is missing or wrong.
        reason: String,
    },
    /// A JSON document could not be parsed.
    #[error("{what} is not valid JSON")]
    Json {
        /// Which document.
        what: String,
        /// The parser's complaint.
        #[source]
        source: serde_json::Error,
    },
    /// A referenced blob is not in the archive or layout.
    #[error("{what} {blob} is missing from {source_name}")]
    MissingBlob {
        /// What the blob is (`layer 3`, `config`, `manifest`).
        what: String,
        /// Its digest or path.
        blob: String,
        /// The archive or layout.
        source_name: String,
    },
    /// A JSON blob's bytes do not match its digest.
    #[error("{what} {blob}: digest mismatch: expected {expected}, its content hashes to {actual}")]
    DigestMismatch {
        /// What the blob is.
        what: String,
        /// Its path or digest.
        blob: String,
        /// The promised digest.
        expected: Digest,
        /// The actual digest.
        actual: Digest,
    },
    /// No image carries the requested tag.
    #[error("no image named `{wanted}` in {source_name}; it holds: {available}")]
    NoSuchImage {
        /// The tag asked for.
        wanted: String,
        /// The archive or layout.
        source_name: String,
        /// The names it holds.
        available: String,
    },
    /// Several images and no tag to choose one.
    #[error("{source_name} holds several images ({available}); choose one with `PATH:TAG`")]
    Ambiguous {
        /// The archive or layout.
        source_name: String,
        /// The names it holds.
        available: String,
    },
    /// No manifest for the requested platform.
    #[error(
        "no image for platform {wanted} in {source_name} (it has: {available}); choose one with --platform"
    )]
    NoMatchingPlatform {
        /// The platform asked for.
        wanted: String,
        /// The archive or layout.
        source_name: String,
        /// The platforms it has.
        available: String,
    },
    /// A manifest names a path outside the archive (`../x`, `/etc/x`).
    #[error("{what} points outside the archive: `{path}`")]
    UnsafeReference {
        /// Which reference.
        what: String,
        /// The offending path.
        path: String,
    },
    /// A layer blob could not be read.
    #[error("layer {index} ({blob})")]
    Layer {
        /// Its position, 0 = bottom.
        index: usize,
        /// Its location in the source.
        blob: String,
        /// What went wrong.
        #[source]
        source: Box<LayerError>,
    },
    /// Anything else malformed, described.
    #[error("{0}")]
    Invalid(String),
}
