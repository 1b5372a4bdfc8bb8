//! Writing an image's filesystem out: the merged filesystem after any layer (whiteouts and opaque
//! directories applied) as a directory or a tar (`kasane export`, the explorer's extract), or the
//! changes of a range of layers as one layer tar (`kasane squash`).
//!
//! ```text
//!  Image ──plan::merged / plan::layer_range──▶ Plan ──write_plan(source, sink)──▶ DirSink | TarSink
//!          (every refusal happens here,             (contents streamed from each
//!           before anything is written)              layer blob once, hash-checked)
//! ```
//!
//! Safety: a [`Plan`] refuses images whose layers hold entries that climb above the root, absolute
//! names, entries that would be written through a symlink (or into a file), and hard links whose
//! target is missing or a directory. [`DirSink`] then writes with `*at()` calls relative to
//! directories opened with `O_NOFOLLOW`, never follows a symlink, never overwrites. Symlinks
//! themselves are written as they are, absolute ones included (as `docker export` does).

mod archive;
mod dir;
mod error;
pub mod plan;
mod write;

pub use archive::TarSink;
pub use dir::{DirSink, TargetPolicy};
pub use error::ExportError;
pub use plan::{Plan, Selection};
pub use write::{Report, Sink, write_plan};

/// Whether this process may keep owners and create devices (it runs as root).
pub fn running_as_root() -> bool {
    rustix::process::geteuid().is_root()
}
