//! A plan written as a tar stream: what `docker export` writes, or a layer.

use std::ffi::OsStr;
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use kasane_image::{FileKind, FileMeta, ImagePath};

use crate::error::ExportError;
use crate::write::{Report, Sink};

/// Writes entries to a tar stream (GNU headers, PAX records for extended attributes).
pub struct TarSink<W: Write> {
    builder: tar::Builder<W>,
    report: Report,
}

impl<W: Write> std::fmt::Debug for TarSink<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TarSink")
            .field("report", &self.report)
            .finish()
    }
}

fn host(path: &[u8]) -> &Path {
    Path::new(OsStr::from_bytes(path))
}

fn io_err(path: &ImagePath, source: io::Error) -> ExportError {
    ExportError::Io {
        op: "write tar entry",
        path: path.to_string(),
        source,
    }
}

impl<W: Write> TarSink<W> {
    /// A sink writing to `out`.
    pub fn new(out: W) -> Self {
        let mut builder = tar::Builder::new(out);
        builder.mode(tar::HeaderMode::Complete);
        TarSink {
            builder,
            report: Report {
                ownership_kept: true,
                ..Report::default()
            },
        }
    }

    /// Finishes the archive and gives back the writer.
    pub fn into_inner(self) -> io::Result<W> {
        self.builder.into_inner()
    }

    fn header(meta: Option<&FileMeta>, kind: tar::EntryType) -> tar::Header {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        match meta {
            Some(m) => {
                h.set_mode(m.mode);
                h.set_uid(m.uid);
                h.set_gid(m.gid);
                h.set_mtime(m.mtime);
            }
            None => {
                h.set_mode(0o755);
                h.set_uid(0);
                h.set_gid(0);
                h.set_mtime(0);
            }
        }
        h.set_size(0);
        h
    }

    /// One PAX header for the next entry: its extended attributes and, for symlink targets longer
    /// than the header's 100 bytes, the target itself (kept byte for byte, never re-normalised).
    fn pax(
        &mut self,
        path: &ImagePath,
        meta: &FileMeta,
        long_link: Option<&[u8]>,
    ) -> Result<(), ExportError> {
        let mut records: Vec<(String, &[u8])> = meta
            .xattrs
            .iter()
            .map(|(k, v)| (format!("SCHILY.xattr.{k}"), &v[..]))
            .collect();
        if let Some(target) = long_link {
            records.push(("linkpath".to_owned(), target));
        }
        if records.is_empty() {
            return Ok(());
        }
        self.builder
            .append_pax_extensions(records.iter().map(|(k, v)| (k.as_str(), *v)))
            .map_err(|e| io_err(path, e))
    }
}

impl<W: Write> Sink for TarSink<W> {
    fn dir(&mut self, path: &ImagePath, meta: Option<&FileMeta>) -> Result<(), ExportError> {
        if let Some(m) = meta {
            self.pax(path, m, None)?;
        }
        let mut h = Self::header(meta, tar::EntryType::Directory);
        let mut name = path.as_bytes().to_vec();
        name.push(b'/');
        self.builder
            .append_data(&mut h, host(&name), io::empty())
            .map_err(|e| io_err(path, e))?;
        self.report.directories += 1;
        Ok(())
    }

    fn special(&mut self, path: &ImagePath, meta: &FileMeta) -> Result<(), ExportError> {
        let target = meta.link_target.as_deref().unwrap_or_default();
        let long = meta.kind == FileKind::Symlink && target.len() > 100;
        self.pax(path, meta, long.then_some(target))?;
        let kind = match meta.kind {
            FileKind::Symlink => tar::EntryType::Symlink,
            FileKind::CharDevice => tar::EntryType::Char,
            FileKind::BlockDevice => tar::EntryType::Block,
            FileKind::Fifo => tar::EntryType::Fifo,
            _ => tar::EntryType::new(meta.typeflag),
        };
        let mut h = Self::header(Some(meta), kind);
        if let Some((major, minor)) = meta.device {
            h.set_device_major(major).map_err(|e| io_err(path, e))?;
            h.set_device_minor(minor).map_err(|e| io_err(path, e))?;
        }
        if meta.kind == FileKind::Symlink {
            // The target goes in raw: the tar crate's own setter would re-normalise it.
            let slot = &mut h.as_old_mut().linkname;
            let n = target.len().min(slot.len());
            slot[..n].copy_from_slice(&target[..n]);
        }
        self.builder
            .append_data(&mut h, host(path.as_bytes()), io::empty())
            .map_err(|e| io_err(path, e))?;
        self.report.count(meta);
        Ok(())
    }

    fn whiteout(&mut self, path: &ImagePath) -> Result<(), ExportError> {
        let parent = path.parent().unwrap_or_else(ImagePath::root);
        let mut name = b".wh.".to_vec();
        name.extend_from_slice(path.file_name());
        let marker = parent.join(&name);
        let mut h = Self::header(None, tar::EntryType::Regular);
        h.set_mode(0o600);
        self.builder
            .append_data(&mut h, host(marker.as_bytes()), io::empty())
            .map_err(|e| io_err(path, e))?;
        self.report.whiteouts += 1;
        Ok(())
    }

    fn file(
        &mut self,
        path: &ImagePath,
        meta: &FileMeta,
        content: &mut dyn Read,
    ) -> Result<(), ExportError> {
        self.pax(path, meta, None)?;
        let mut h = Self::header(Some(meta), tar::EntryType::Regular);
        h.set_size(meta.size);
        // Exactly `size` bytes: a short read would corrupt the archive, so it fails instead.
        let mut exact = content.take(meta.size);
        self.builder
            .append_data(&mut h, host(path.as_bytes()), &mut exact)
            .map_err(|e| io_err(path, e))?;
        if exact.limit() != 0 {
            return Err(io_err(
                path,
                io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the layer ended inside the file",
                ),
            ));
        }
        self.report.count(meta);
        Ok(())
    }

    fn link(
        &mut self,
        path: &ImagePath,
        target: &ImagePath,
        meta: &FileMeta,
    ) -> Result<(), ExportError> {
        let mut h = Self::header(Some(meta), tar::EntryType::Link);
        self.builder
            .append_link(&mut h, host(path.as_bytes()), host(target.as_bytes()))
            .map_err(|e| io_err(path, e))?;
        self.report.hardlinks += 1;
        Ok(())
    }

    fn finish(&mut self) -> Result<Report, ExportError> {
        self.builder.finish().map_err(|e| ExportError::Io {
            op: "finish",
            path: "tar".to_owned(),
            source: e,
        })?;
        Ok(self.report.clone())
    }
}
