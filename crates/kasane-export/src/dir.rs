//! A plan written into a host directory, without ever leaving it.
//!
//! Every call is relative to a directory file descriptor opened with `O_NOFOLLOW`: a symlink (or
//! anything that is not a directory) where a directory is expected is refused, never followed;
//! files are created with `O_CREAT | O_EXCL | O_NOFOLLOW`, so nothing that exists is overwritten
//! and no symlink is written through; hard links are made with `linkat` without
//! `AT_SYMLINK_FOLLOW`. Directory modes and times are applied last, deepest first, so a read-only
//! directory does not stop its own contents from being written.

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

use kasane_image::{FileKind, FileMeta, ImagePath};
use rustix::fs::{self as rfs, AtFlags, Mode, OFlags, Timespec, Timestamps, XattrFlags};
use rustix::io::Errno;

use crate::error::ExportError;
use crate::write::{Report, Sink};

/// How the target directory may be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetPolicy {
    /// The directory must be empty or not exist (it is created): `kasane export -o DIR`.
    Empty,
    /// The directory may hold other things; only new names are created inside it (extracting
    /// one file or directory from the explorer).
    NewNamesOnly,
}

/// Writes entries below a host directory.
#[derive(Debug)]
pub struct DirSink {
    root: OwnedFd,
    root_path: PathBuf,
    keep_owner: bool,
    /// Directories written, with their metadata, to finish last.
    dirs: Vec<(ImagePath, Option<FileMeta>)>,
    /// The directory opened last (files come grouped by directory).
    cached: Option<(ImagePath, OwnedFd)>,
    report: Report,
}

const DIR_OPEN: OFlags = OFlags::RDONLY
    .union(OFlags::DIRECTORY)
    .union(OFlags::NOFOLLOW)
    .union(OFlags::CLOEXEC);

fn errno_io(e: Errno) -> io::Error {
    io::Error::from_raw_os_error(e.raw_os_error())
}

impl DirSink {
    /// Opens (creating it if missing) the target directory `dir`. Owners are kept when
    /// `keep_owner` is set (it needs root).
    pub fn create(
        dir: &Path,
        policy: TargetPolicy,
        keep_owner: bool,
    ) -> Result<DirSink, ExportError> {
        let shown = dir.display().to_string();
        match std::fs::create_dir(dir) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                if policy == TargetPolicy::Empty {
                    let mut entries = std::fs::read_dir(dir).map_err(|source| ExportError::Io {
                        op: "read",
                        path: shown.clone(),
                        source,
                    })?;
                    if entries.next().is_some() {
                        return Err(ExportError::TargetNotEmpty { dir: shown });
                    }
                }
            }
            Err(source) => {
                return Err(ExportError::Io {
                    op: "create",
                    path: shown,
                    source,
                });
            }
        }
        // The directory the user named may itself be reached through symlinks (their choice);
        // everything below it is opened without following any.
        let root = rfs::open(
            dir,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| ExportError::Io {
            op: "open",
            path: shown,
            source: errno_io(e),
        })?;
        Ok(DirSink {
            root,
            root_path: dir.to_owned(),
            keep_owner,
            dirs: Vec::new(),
            cached: None,
            report: Report {
                ownership_kept: keep_owner,
                ..Report::default()
            },
        })
    }

    fn host(&self, path: &ImagePath) -> String {
        self.root_path
            .join(String::from_utf8_lossy(path.as_bytes()).as_ref())
            .display()
            .to_string()
    }

    fn fail(&self, op: &'static str, path: &ImagePath, e: Errno) -> ExportError {
        let shown = self.host(path);
        match e {
            Errno::EXIST => ExportError::Exists { path: shown },
            Errno::LOOP | Errno::NOTDIR => ExportError::NotADirectory { path: shown },
            _ => ExportError::Io {
                op,
                path: shown,
                source: errno_io(e),
            },
        }
    }

    /// Opens directory `path` below the root, component by component, never following a symlink.
    fn open_dir(&self, path: &ImagePath) -> Result<OwnedFd, ExportError> {
        let mut cur = rfs::openat(&self.root, ".", DIR_OPEN, Mode::empty())
            .map_err(|e| self.fail("open", &ImagePath::root(), e))?;
        let mut walked = ImagePath::root();
        for comp in path.components() {
            walked = walked.join(comp);
            cur = rfs::openat(&cur, comp, DIR_OPEN, Mode::empty())
                .map_err(|e| self.fail("open", &walked, e))?;
        }
        Ok(cur)
    }

    /// The parent directory of `path`, opened, and `path`'s last component.
    fn parent_of<'p>(&mut self, path: &'p ImagePath) -> Result<(OwnedFd, &'p [u8]), ExportError> {
        let parent = path.parent().unwrap_or_else(ImagePath::root);
        if let Some((cached, fd)) = &self.cached
            && *cached == parent
        {
            let fd = fd.try_clone().map_err(|source| ExportError::Io {
                op: "open",
                path: self.host(&parent),
                source,
            })?;
            return Ok((fd, path.file_name()));
        }
        let fd = self.open_dir(&parent)?;
        let keep = fd.try_clone().map_err(|source| ExportError::Io {
            op: "open",
            path: self.host(&parent),
            source,
        })?;
        self.cached = Some((parent, keep));
        Ok((fd, path.file_name()))
    }

    fn owner(
        &self,
        path: &ImagePath,
        meta: &FileMeta,
    ) -> Result<Option<(rfs::Uid, rfs::Gid)>, ExportError> {
        if !self.keep_owner {
            return Ok(None);
        }
        let (Ok(uid), Ok(gid)) = (u32::try_from(meta.uid), u32::try_from(meta.gid)) else {
            return Err(ExportError::OwnerOutOfRange {
                path: path.to_string(),
                uid: meta.uid,
                gid: meta.gid,
            });
        };
        if uid == u32::MAX || gid == u32::MAX {
            return Err(ExportError::OwnerOutOfRange {
                path: path.to_string(),
                uid: meta.uid,
                gid: meta.gid,
            });
        }
        Ok(Some((rfs::Uid::from_raw(uid), rfs::Gid::from_raw(gid))))
    }

    fn times(meta: Option<&FileMeta>) -> Timestamps {
        let secs = meta.map_or(0, |m| i64::try_from(m.mtime).unwrap_or(i64::MAX));
        let t = Timespec {
            tv_sec: secs,
            tv_nsec: 0,
        };
        Timestamps {
            last_access: t,
            last_modification: t,
        }
    }

    /// Owner, mode, extended attributes and mtime of an open file or directory, in that order
    /// (changing the owner clears setuid bits, so the mode comes after it).
    fn finish_fd(
        &mut self,
        fd: impl AsFd,
        path: &ImagePath,
        meta: Option<&FileMeta>,
    ) -> Result<(), ExportError> {
        let fd = fd.as_fd();
        if let Some(m) = meta
            && let Some((uid, gid)) = self.owner(path, m)?
        {
            rfs::fchown(fd, Some(uid), Some(gid)).map_err(|e| self.fail("chown", path, e))?;
        }
        let mode = meta.map_or(0o755, |m| m.mode);
        rfs::fchmod(fd, Mode::from_raw_mode(mode)).map_err(|e| self.fail("chmod", path, e))?;
        if let Some(m) = meta {
            for (name, value) in m.xattrs.iter() {
                if rfs::fsetxattr(fd, &**name, value, XattrFlags::empty()).is_err() {
                    self.report.xattrs_not_applied += 1;
                }
            }
        }
        rfs::futimens(fd, &Self::times(meta)).map_err(|e| self.fail("set times of", path, e))?;
        Ok(())
    }

    /// Owner and mtime of a name that cannot be opened (symlinks, devices, FIFOs).
    fn finish_name(
        &mut self,
        parent: &OwnedFd,
        name: &[u8],
        path: &ImagePath,
        meta: &FileMeta,
    ) -> Result<(), ExportError> {
        if let Some((uid, gid)) = self.owner(path, meta)? {
            rfs::chownat(
                parent,
                name,
                Some(uid),
                Some(gid),
                AtFlags::SYMLINK_NOFOLLOW,
            )
            .map_err(|e| self.fail("chown", path, e))?;
        }
        if meta.kind != FileKind::Symlink {
            // Devices and FIFOs were created just now with O_EXCL semantics; Linux cannot chmod
            // without following, so this follows only a name kasane itself created.
            rfs::chmodat(
                parent,
                name,
                Mode::from_raw_mode(meta.mode),
                AtFlags::empty(),
            )
            .map_err(|e| self.fail("chmod", path, e))?;
        }
        if !meta.xattrs.is_empty() {
            self.report.xattrs_not_applied += meta.xattrs.len() as u64;
        }
        rfs::utimensat(
            parent,
            name,
            &Self::times(Some(meta)),
            AtFlags::SYMLINK_NOFOLLOW,
        )
        .map_err(|e| self.fail("set times of", path, e))?;
        Ok(())
    }
}

impl Sink for DirSink {
    fn dir(&mut self, path: &ImagePath, meta: Option<&FileMeta>) -> Result<(), ExportError> {
        let (parent, name) = self.parent_of(path)?;
        rfs::mkdirat(&parent, name, Mode::from_raw_mode(0o700))
            .map_err(|e| self.fail("create directory", path, e))?;
        self.dirs.push((path.clone(), meta.cloned()));
        self.report.directories += 1;
        Ok(())
    }

    fn special(&mut self, path: &ImagePath, meta: &FileMeta) -> Result<(), ExportError> {
        let (parent, name) = self.parent_of(path)?;
        match meta.kind {
            FileKind::Symlink => {
                let target = meta.link_target.as_deref().unwrap_or_default();
                rfs::symlinkat(target, &parent, name)
                    .map_err(|e| self.fail("create symlink", path, e))?;
            }
            FileKind::CharDevice | FileKind::BlockDevice | FileKind::Fifo => {
                let kind = match meta.kind {
                    FileKind::CharDevice => rfs::FileType::CharacterDevice,
                    FileKind::BlockDevice => rfs::FileType::BlockDevice,
                    _ => rfs::FileType::Fifo,
                };
                if kind != rfs::FileType::Fifo && !self.keep_owner {
                    self.report.skipped_devices += 1;
                    return Ok(());
                }
                let (major, minor) = meta.device.unwrap_or((0, 0));
                rfs::mknodat(
                    &parent,
                    name,
                    kind,
                    Mode::from_raw_mode(0o600),
                    rfs::makedev(major, minor),
                )
                .map_err(|e| self.fail("create", path, e))?;
            }
            _ => {
                self.report.unsupported += 1;
                return Ok(());
            }
        }
        self.finish_name(&parent, name, path, meta)?;
        self.report.count(meta);
        Ok(())
    }

    fn whiteout(&mut self, path: &ImagePath) -> Result<(), ExportError> {
        Err(ExportError::WhiteoutInDirectory {
            path: path.to_string(),
        })
    }

    fn file(
        &mut self,
        path: &ImagePath,
        meta: &FileMeta,
        content: &mut dyn Read,
    ) -> Result<(), ExportError> {
        let (parent, name) = self.parent_of(path)?;
        let flags =
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let fd = rfs::openat(&parent, name, flags, Mode::from_raw_mode(0o600))
            .map_err(|e| self.fail("create", path, e))?;
        let mut file = File::from(fd);
        let copied = io::copy(&mut content.take(meta.size), &mut file).map_err(|source| {
            ExportError::Io {
                op: "write",
                path: self.host(path),
                source,
            }
        })?;
        if copied != meta.size {
            return Err(ExportError::Io {
                op: "write",
                path: self.host(path),
                source: io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the layer ended inside the file",
                ),
            });
        }
        self.finish_fd(&file, path, Some(meta))?;
        self.report.count(meta);
        Ok(())
    }

    fn link(
        &mut self,
        path: &ImagePath,
        target: &ImagePath,
        _meta: &FileMeta,
    ) -> Result<(), ExportError> {
        let (target_parent, target_name) = self.parent_of(target)?;
        let (parent, name) = self.parent_of(path)?;
        rfs::linkat(&target_parent, target_name, &parent, name, AtFlags::empty())
            .map_err(|e| self.fail("link", path, e))?;
        self.report.hardlinks += 1;
        Ok(())
    }

    fn finish(&mut self) -> Result<Report, ExportError> {
        self.cached = None;
        let mut dirs = std::mem::take(&mut self.dirs);
        // Deepest first: a directory's mtime is final only once nothing more is created in it.
        dirs.sort_by(|a, b| b.0.cmp(&a.0));
        for (path, meta) in &dirs {
            let fd = self.open_dir(path)?;
            self.finish_fd(&fd, path, meta.as_ref())?;
        }
        Ok(self.report.clone())
    }
}
