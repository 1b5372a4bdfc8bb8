//! Writing a [`Plan`]: the order is the plan's, the destination a [`Sink`] (a directory or a
//! tar). File contents are streamed from each layer blob once.

use std::io::Read;

use kasane_image::content::stream_files;
use kasane_image::{FileKind, FileMeta, Image, ImagePath, Source};

use crate::error::ExportError;
use crate::plan::{Item, Plan};

/// What was written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Directories.
    pub directories: u64,
    /// Regular files.
    pub files: u64,
    /// Bytes of regular-file contents.
    pub bytes: u64,
    /// Symbolic links.
    pub symlinks: u64,
    /// Hard links.
    pub hardlinks: u64,
    /// Character and block devices.
    pub devices: u64,
    /// FIFOs.
    pub fifos: u64,
    /// Whiteouts (layer tars only).
    pub whiteouts: u64,
    /// Devices not created because only root may (directory exports as another user).
    pub skipped_devices: u64,
    /// Entries of unknown kinds that were not written.
    pub unsupported: u64,
    /// Whether owners (uid/gid) were kept: always in tars, as root in directories.
    pub ownership_kept: bool,
    /// Extended attributes the target refused (filesystem without support, or not root).
    pub xattrs_not_applied: u64,
}

impl Report {
    /// Entries written.
    pub fn entries(&self) -> u64 {
        self.directories
            + self.files
            + self.symlinks
            + self.hardlinks
            + self.devices
            + self.fifos
            + self.whiteouts
    }

    pub(crate) fn count(&mut self, meta: &FileMeta) {
        match meta.kind {
            FileKind::Directory => self.directories += 1,
            FileKind::Regular => {
                self.files += 1;
                self.bytes += meta.size;
            }
            FileKind::Symlink => self.symlinks += 1,
            FileKind::Hardlink => self.hardlinks += 1,
            FileKind::CharDevice | FileKind::BlockDevice => self.devices += 1,
            FileKind::Fifo => self.fifos += 1,
            FileKind::Other => self.unsupported += 1,
        }
    }
}

/// Where a plan is written.
pub trait Sink {
    /// A directory; `None` metadata for directories no layer names.
    fn dir(&mut self, path: &ImagePath, meta: Option<&FileMeta>) -> Result<(), ExportError>;
    /// A symlink, device or FIFO.
    fn special(&mut self, path: &ImagePath, meta: &FileMeta) -> Result<(), ExportError>;
    /// A whiteout for `path`.
    fn whiteout(&mut self, path: &ImagePath) -> Result<(), ExportError>;
    /// A regular file with its contents (exactly `meta.size` bytes).
    fn file(
        &mut self,
        path: &ImagePath,
        meta: &FileMeta,
        content: &mut dyn Read,
    ) -> Result<(), ExportError>;
    /// A hard link to a path written before; `meta` is the inode's (for the tar header).
    fn link(
        &mut self,
        path: &ImagePath,
        target: &ImagePath,
        meta: &FileMeta,
    ) -> Result<(), ExportError>;
    /// Completes the output (directory metadata, the tar's end blocks) and says what was written.
    fn finish(&mut self) -> Result<Report, ExportError>;
}

/// Writes `plan` (made from `image`) to `sink`, reading file contents from `source`.
pub fn write_plan(
    source: &dyn Source,
    image: &Image,
    plan: &Plan<'_>,
    sink: &mut dyn Sink,
) -> Result<Report, ExportError> {
    for item in &plan.items {
        match item {
            Item::Dir { path, meta } => sink.dir(path, *meta)?,
            Item::Special { path, meta } => sink.special(path, meta)?,
            Item::Whiteout { path } => sink.whiteout(path)?,
        }
    }
    for (&layer, files) in &plan.files {
        let wanted: Vec<usize> = files.iter().map(|f| f.entry).collect();
        let mut next = files.iter();
        stream_files(source, &image.layers[layer], &wanted, |entry, _, reader| {
            let file = next.next().expect("one visit per wanted entry");
            debug_assert_eq!(file.entry, entry);
            sink.file(&file.path, file.meta, reader)
        })?;
    }
    for link in &plan.links {
        sink.link(&link.path, &link.target, link.meta)?;
    }
    let mut report = sink.finish()?;
    report.unsupported += plan.unsupported.len() as u64;
    Ok(report)
}
