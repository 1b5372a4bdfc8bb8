//! Where images come from. A [`Source`] resolves one image to its config and layer blobs and
//! opens each blob as a byte stream; everything after that (digest checks, decompression, tar
//! parsing, analysis) is shared by every source.
//!
//! Built in: `docker save` archives (legacy, Docker 25+, containerd store), OCI archives and OCI
//! layout directories ([`ArchiveSource`], [`LayoutSource`], opened by [`open`]); an archive that
//! can only be streamed once (the Docker engine's export) is read by [`read_archive_stream`]. Live sources
//! (the Docker Engine API, registries) implement the same trait; [`oci::select_manifest`] and
//! [`oci::resolve_manifest`] do the index and manifest walking for any source that can fetch blobs
//! by digest.

mod files;
mod input;
pub mod oci;
mod resolve;
mod stream;

use std::fmt;
use std::io::Read;

pub use files::{ArchiveSource, LayoutSource};
pub use input::{InputKind, open, parse_input};
pub use stream::read_archive_stream;

use crate::digest::Digest;
use crate::error::Error;
use crate::spec::{ImageConfig, Platform};

/// Which image of a source to read.
#[derive(Debug, Clone, Default)]
pub struct Selector {
    /// A tag or name (`latest`, `app:1.2`, `docker.io/library/app:1.2`); `None` = the only one.
    pub tag: Option<String>,
    /// The platform; `None` = the host's, falling back to the only image when there is one.
    pub platform: Option<Platform>,
}

/// The on-disk format an image was found in.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ImageFormat {
    /// `docker save` with `<id>/layer.tar` members (Docker ≤ 24, podman, skopeo).
    DockerArchive,
    /// `docker save` with an OCI layout inside (Docker 25+, containerd store), read through its
    /// `manifest.json`.
    DockerArchiveOci,
    /// A tar of an OCI image layout.
    OciArchive,
    /// An OCI image layout directory.
    OciLayout,
    /// A registry, read over the Registry HTTP API v2.
    Registry,
    /// Defined by another source (a registry, the Docker engine).
    Other(String),
}

/// One layer blob to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerBlob {
    /// Where the source finds it: a path inside the archive or layout, or a digest.
    pub location: String,
    /// The digest of the stored bytes, when known (OCI blobs; legacy layer.tar files have none).
    pub digest: Option<Digest>,
    /// The media type the manifest declares (compression is still sniffed from the bytes).
    pub media_type: Option<String>,
    /// The size the manifest declares.
    pub size: Option<u64>,
}

/// An image resolved to its config and layers, ready to be read.
#[derive(Debug, Clone)]
pub struct ResolvedImage {
    /// The name or tag it was found under, if any.
    pub name: Option<String>,
    /// The format it was read from.
    pub format: ImageFormat,
    /// The manifest's digest (OCI sources).
    pub manifest_digest: Option<Digest>,
    /// The config's digest, when known.
    pub config_digest: Option<Digest>,
    /// The parsed image config.
    pub config: ImageConfig,
    /// Layers bottom first, parallel to `config.rootfs.diff_ids`.
    pub layers: Vec<LayerBlob>,
    /// Things worth telling the user that did not stop the read.
    pub notes: Vec<String>,
}

/// Anything that yields an image's manifest and config and a byte stream per layer blob.
///
/// Implementations must be usable from several threads at once: layers are read in parallel, each
/// through its own [`Source::open_blob`] stream.
pub trait Source: Send + Sync + fmt::Debug {
    /// A short description for messages (`docker-archive:/tmp/app.tar`).
    fn describe(&self) -> String;

    /// Finds the image `selector` asks for.
    fn resolve(&self, selector: &Selector) -> Result<ResolvedImage, Error>;

    /// Opens one layer blob, as stored (possibly compressed). The caller verifies digests.
    fn open_blob(&self, blob: &LayerBlob) -> Result<Box<dyn Read + Send + '_>, Error>;
}
