//! What can go wrong talking to a registry or the Docker engine. Every message names the registry
//! or engine endpoint, and none ever carries a password, token or `Authorization` header.

/// Why a live image could not be read.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    /// The reference itself is malformed.
    #[error(transparent)]
    Reference(#[from] crate::reference::ReferenceError),
    /// The registry could not be reached or the connection failed.
    #[error("registry {registry}: {what}: {detail}")]
    Transport {
        /// The registry host.
        registry: String,
        /// What was being requested.
        what: String,
        /// The transport's complaint.
        detail: String,
    },
    /// No byte arrived within the timeout.
    #[error("registry {registry}: {what}: no answer for {seconds} s (timed out)")]
    Timeout {
        /// The registry host.
        registry: String,
        /// What was being requested.
        what: String,
        /// The timeout.
        seconds: u64,
    },
    /// The registry refused the credentials, or asked for some and there were none.
    #[error("registry {registry}: authentication failed: {detail}")]
    Auth {
        /// The registry host.
        registry: String,
        /// What happened (never the secret).
        detail: String,
    },
    /// The registry has no such manifest or blob.
    #[error("registry {registry}: {what} not found (HTTP 404){detail}")]
    NotFound {
        /// The registry host.
        registry: String,
        /// What was asked for.
        what: String,
        /// The registry's error message, when it gave one.
        detail: String,
    },
    /// Any other unexpected HTTP status.
    #[error("registry {registry}: {what}: HTTP {status}{detail}")]
    Status {
        /// The registry host.
        registry: String,
        /// What was asked for.
        what: String,
        /// The status.
        status: u16,
        /// The registry's error message, when it gave one.
        detail: String,
    },
    /// The registry answered with something that is not what was asked for.
    #[error("registry {registry}: {what}: {detail}")]
    Protocol {
        /// The registry host.
        registry: String,
        /// What was asked for.
        what: String,
        /// What is wrong.
        detail: String,
    },
    /// A manifest's bytes do not match the digest they were asked by (or announced with).
    #[error("registry {registry}: {what}: digest mismatch: expected {expected}, got {actual}")]
    DigestMismatch {
        /// The registry host.
        registry: String,
        /// What was fetched.
        what: String,
        /// The digest promised.
        expected: String,
        /// The digest of the bytes received.
        actual: String,
    },
    /// A registry's certificate directory (`certs.d/HOST/`, `--cert-dir`) is unusable.
    #[error("registry {registry}: certificates: {path}: {detail}")]
    Certificates {
        /// The registry host.
        registry: String,
        /// The file or directory at fault.
        path: String,
        /// What is wrong with it.
        detail: String,
    },
    /// `~/.docker/config.json` or a credential helper failed.
    #[error("credentials for {registry}: {detail}")]
    Credentials {
        /// The registry host.
        registry: String,
        /// What went wrong.
        detail: String,
    },
    /// The Docker engine could not be reached or answered unexpectedly.
    #[error("Docker engine at {endpoint}: {detail}")]
    Engine {
        /// Where it was looked for (`unix:///var/run/docker.sock`).
        endpoint: String,
        /// What went wrong.
        detail: String,
    },
    /// The engine has no image of that name.
    #[error("Docker engine at {endpoint}: no image `{name}`")]
    NoSuchLocalImage {
        /// The endpoint.
        endpoint: String,
        /// The name asked for.
        name: String,
    },
    /// Writing the `--save` layout failed.
    #[error("saving to {path}: {source}")]
    Save {
        /// The file being written.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl From<RemoteError> for kasane_image::Error {
    fn from(e: RemoteError) -> Self {
        kasane_image::Error::Invalid(e.to_string())
    }
}
