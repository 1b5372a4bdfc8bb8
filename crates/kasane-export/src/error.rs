//! Why an export, or a layer-range plan, was refused or failed. Refusals (unsafe entries, missing
//! link targets, a non-empty target) are found before anything is written.

use std::io;

use kasane_image::content::ContentError;

/// Why an export was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The image has no layers.
    #[error("the image has no layers")]
    NoLayers,
    /// A layer number beyond the image's layers.
    #[error("there is no layer {layer}: the image has {layers} (numbered from 0)")]
    NoSuchLayer {
        /// The layer asked for.
        layer: usize,
        /// How many the image has.
        layers: usize,
    },
    /// The path to extract does not exist in the chosen filesystem.
    #[error("{path} does not exist after layer {layer}")]
    NoSuchPath {
        /// The path asked for.
        path: String,
        /// The layer whose filesystem was searched.
        layer: usize,
    },
    /// A layer entry whose name would land outside the target.
    #[error(
        "layer {layer}: entry `{name}` {what} ({count} in this layer); refusing to export this image, nothing was written"
    )]
    UnsafeEntry {
        /// The layer.
        layer: usize,
        /// The first offending name, as the tar has it.
        name: String,
        /// What is wrong with it.
        what: &'static str,
        /// How many entries of the layer have the problem.
        count: usize,
    },
    /// An entry that a runtime would write through a symlink (or into a file).
    #[error(
        "layer {layer}: {path} lies below {ancestor}, a {ancestor_kind}; writing it would go through it, so kasane refuses (nothing was written)"
    )]
    BelowNonDirectory {
        /// The layer holding the entry.
        layer: usize,
        /// The entry's path.
        path: String,
        /// The non-directory above it.
        ancestor: String,
        /// What that is (`symlink to /etc`).
        ancestor_kind: String,
    },
    /// A hard link whose target does not exist when its layer is applied.
    #[error(
        "layer {layer}: hard link {path} points to {target}, which does not exist at that point; refusing (nothing was written)"
    )]
    HardLinkTargetMissing {
        /// The layer holding the link.
        layer: usize,
        /// The link.
        path: String,
        /// Its target.
        target: String,
    },
    /// A hard link to a directory.
    #[error(
        "layer {layer}: hard link {path} points to the directory {target}; refusing (nothing was written)"
    )]
    HardLinkToDirectory {
        /// The layer holding the link.
        layer: usize,
        /// The link.
        path: String,
        /// Its target.
        target: String,
    },
    /// The export directory exists and is not empty.
    #[error("{dir} exists and is not empty; export writes into an empty or new directory only")]
    TargetNotEmpty {
        /// The directory.
        dir: String,
    },
    /// Something already exists where an entry should go.
    #[error("{path} already exists; kasane never overwrites")]
    Exists {
        /// The host path.
        path: String,
    },
    /// A path component on the host is a symlink or not a directory.
    #[error("{path} is a symlink or not a directory; kasane never writes through symlinks")]
    NotADirectory {
        /// The host path.
        path: String,
    },
    /// An owner the host cannot represent.
    #[error("{path}: owner {uid}:{gid} is out of range")]
    OwnerOutOfRange {
        /// The entry.
        path: String,
        /// Its uid.
        uid: u64,
        /// Its gid.
        gid: u64,
    },
    /// A whiteout in a plan written to a directory (whiteouts only exist in layer tars).
    #[error("{path}: a whiteout cannot be written to a directory")]
    WhiteoutInDirectory {
        /// The whiteout's path.
        path: String,
    },
    /// A file system call failed.
    #[error("{op} {path}")]
    Io {
        /// What was being done (`create`, `write`, `link`).
        op: &'static str,
        /// The host path (or tar member).
        path: String,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// File contents could not be read back from a layer.
    #[error(transparent)]
    Content(#[from] ContentError),
}
