//! kasane's image engine: read container images in every format `docker save`, containerd and OCI
//! tools write, apply their layers, and explain where every byte went.
//!
//! # The pipeline and its main types
//!
//! ```text
//!  input string ──source::open──▶ dyn Source ──read_image──▶ Image ──StackedTree::build──▶ merged tree
//!                                  (resolve,                  (config,                          │
//!                                   open_blob)                 Layer: LayerChanges)      analyze ▼
//!                                                                                        Analysis
//! ```
//!
//! - [`Source`] — anything that resolves an image ([`Selector`]: tag, platform) to a
//!   [`ResolvedImage`] (config plus [`LayerBlob`]s) and opens each blob as a byte stream. Built in:
//!   [`ArchiveSource`] (legacy `docker save`, Docker 25+ and containerd-store archives, OCI
//!   archives) and [`LayoutSource`] (OCI layout directories); [`source::open`] picks one from a
//!   `docker-archive:`/`oci-archive:`/`oci:` reference or from the content. Live sources (Docker
//!   Engine API, registries) implement the trait; [`source::oci`] walks indexes and manifests for
//!   any source that can fetch blobs by digest.
//! - [`read_image`] → [`Image`]: every layer read in parallel, in one streaming pass each
//!   ([`read_layer`]): sha256 of the stored bytes checked against its digest, compression sniffed
//!   from magic bytes (gzip incl. multi-member, zstd, none), diff_id checked for uncompressed
//!   layers, tar entries parsed (PAX and GNU long names, hard links, symlinks, devices, xattrs).
//! - [`Layer`] holds [`LayerChanges`]: the layer's [`Entry`]s in tar order, each a path
//!   ([`ImagePath`]) and a [`Change`]: `Add(`[`FileMeta`]`)` with kind, size, mode, uid/gid, mtime,
//!   link target, device numbers, xattrs and a [`ContentHash`]; `Whiteout`; or `Opaque`.
//! - [`StackedTree`] — all layers on one path trie, whiteouts and opaque directories applied as the
//!   OCI layer spec says: each entry's [`Fate`] (visible, overwritten, metadata-only copy,
//!   deleted, and by which layer), and the merged filesystem ([`StackedTree::walk_merged`],
//!   [`StackedTree::visible_entry`]). Export, diff and squash build on this.
//! - [`analyze`] → [`Analysis`]: sizes per layer with their instruction, largest files, waste by
//!   cause (reclaimable bytes never count the copy that must stay), duplicates, merge savings, and
//!   dive's efficiency score computed with dive's exact algorithm ([`dive_figures`]).
//! - [`content`] — file bytes read back from a layer blob on demand (checked against the hashes
//!   of the first read), for viewers, exports and squashes; [`streaming`] — layers handed to a
//!   front end one by one as they are read.
//! - [`ci`] — dive's three CI rules with dive's defaults, `.dive-ci` and `kasane.toml` config.
//! - [`layers_view`] — dlayer's per-layer listing grouped by directory depth.
//!
//! The library never prints; it reports progress through [`Progress`] and returns typed errors
//! ([`Error`], [`LayerError`]).

pub mod analysis;
pub mod ci;
pub mod compression;
pub mod content;
pub mod digest;
pub mod dive;
mod error;
pub mod image;
pub mod layer;
pub mod layers_view;
pub mod path;
pub mod progress;
pub mod size;
pub mod source;
pub mod spec;
pub mod streaming;
#[cfg(test)]
mod test_layers;
pub mod tree;
mod trie;

pub use analysis::{Analysis, AnalysisOptions, WasteCause, analyze};
pub use compression::Compression;
pub use digest::Digest;
pub use dive::{DiveFigures, dive_figures};
pub use error::Error;
pub use image::{
    Image, ImageReadOptions, Layer, assemble_image, assemble_layer, read_image, read_one_layer,
};
pub use layer::{
    BlobExpectation, Change, ContentHash, Entry, FileKind, FileMeta, LayerChanges, LayerError,
    ReadOptions, read_layer,
};
pub use path::ImagePath;
pub use progress::{NoProgress, Progress};
pub use source::{
    ArchiveSource, ImageFormat, LayerBlob, LayoutSource, ResolvedImage, Selector, Source,
};
pub use spec::Platform;
pub use tree::{Fate, NodeId, Occurrence, StackedTree};
