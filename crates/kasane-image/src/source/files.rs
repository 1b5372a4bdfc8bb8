//! Files of an archive or layout directory, opened by their path inside it. An archive is indexed
//! once (member name → byte range, without reading member contents), then members are read with
//! positioned reads, so several layers can stream from one file at the same time.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::resolve::{FormatHint, resolve_files};
use super::{ImageFormat, LayerBlob, ResolvedImage, Selector, Source};
use crate::error::Error;
use crate::path::ImagePath;

/// An opened member and its size.
pub(crate) type Opened<'a> = (Box<dyn Read + Send + 'a>, u64);

/// Read access to the named files of an archive or layout.
pub(crate) trait ImageFiles: Send + Sync {
    /// Opens `path` (normalised, relative); `Ok(None)` when it does not exist.
    fn open(&self, path: &str) -> Result<Option<Opened<'_>>, Error>;

    /// Human name for messages.
    fn name(&self) -> String;

    /// Reads a whole small file, refusing anything larger than `limit`.
    fn read_small(&self, path: &str, limit: u64) -> Result<Option<Vec<u8>>, Error> {
        let Some((mut r, size)) = self.open(path)? else {
            return Ok(None);
        };
        if size > limit {
            return Err(Error::Invalid(format!(
                "{path} in {} is {size} bytes, more than the {limit} bytes a JSON document may have",
                self.name()
            )));
        }
        let mut buf = Vec::with_capacity(size as usize);
        r.read_to_end(&mut buf).map_err(|source| Error::Io {
            path: format!("{}:{path}", self.name()),
            source,
        })?;
        Ok(Some(buf))
    }
}

#[derive(Debug, Clone)]
enum Member {
    Data { offset: u64, size: u64 },
    Link(String),
}

/// An indexed tar archive.
#[derive(Debug)]
pub(crate) struct TarFiles {
    path: PathBuf,
    file: Arc<File>,
    len: u64,
    members: HashMap<String, Member>,
}

impl TarFiles {
    pub(crate) fn open(path: &Path) -> Result<TarFiles, Error> {
        let io_err = |source| Error::Io {
            path: path.display().to_string(),
            source,
        };
        let file = File::open(path).map_err(io_err)?;
        let len = file.metadata().map_err(io_err)?.len();
        let mut archive = tar::Archive::new(BufReader::with_capacity(64 * 1024, &file));
        let mut members = HashMap::new();
        let not_tar = |e: io::Error| Error::UnknownFormat {
            input: path.display().to_string(),
            reason: format!("not a readable tar archive: {e}"),
        };
        for entry in archive.entries_with_seek().map_err(not_tar)? {
            let entry = entry.map_err(not_tar)?;
            let raw = entry.path_bytes().into_owned();
            let Ok((name, _)) = ImagePath::normalize(&raw) else {
                continue; // a member outside the archive root can never be referenced safely
            };
            let key = String::from_utf8_lossy(name.as_bytes()).into_owned();
            let member = match entry.header().entry_type() {
                tar::EntryType::Regular | tar::EntryType::Continuous => Member::Data {
                    offset: entry.raw_file_position(),
                    size: entry.size(),
                },
                tar::EntryType::Symlink | tar::EntryType::Link => {
                    match member_link_target(&name, &entry) {
                        Some(target) => Member::Link(target),
                        None => continue,
                    }
                }
                _ => continue,
            };
            members.insert(key, member);
        }
        Ok(TarFiles {
            path: path.to_owned(),
            file: Arc::new(file),
            len,
            members,
        })
    }

    fn lookup(&self, path: &str) -> Option<(u64, u64)> {
        let mut key = path;
        // Follow member links (skopeo stores duplicate layers as symlinks), with a bound.
        for _ in 0..16 {
            match self.members.get(key)? {
                Member::Data { offset, size } => return Some((*offset, *size)),
                Member::Link(t) => key = t,
            }
        }
        None
    }
}

impl ImageFiles for TarFiles {
    fn open(&self, path: &str) -> Result<Option<Opened<'_>>, Error> {
        let Some((offset, size)) = self.lookup(path) else {
            return Ok(None);
        };
        let end = offset.saturating_add(size);
        if end > self.len {
            return Err(Error::Invalid(format!(
                "{} is truncated: member {path} needs bytes up to {end} but the archive ends at {}",
                self.path.display(),
                self.len
            )));
        }
        Ok(Some((
            Box::new(FileRange {
                file: Arc::clone(&self.file),
                pos: offset,
                end,
            }),
            size,
        )))
    }

    fn name(&self) -> String {
        self.path.display().to_string()
    }
}

/// Where a link member of an image archive points, as a normalised path inside the archive:
/// symlinks resolve against the member's directory, hard links against the archive root.
pub(crate) fn member_link_target<R: Read>(
    path: &ImagePath,
    entry: &tar::Entry<'_, R>,
) -> Option<String> {
    let target = entry.link_name_bytes()?;
    let joined =
        if entry.header().entry_type() == tar::EntryType::Symlink && !target.starts_with(b"/") {
            let mut j = path
                .parent()
                .unwrap_or_else(ImagePath::root)
                .as_bytes()
                .to_vec();
            j.push(b'/');
            j.extend_from_slice(&target);
            j
        } else {
            target.into_owned()
        };
    let (t, _) = ImagePath::normalize(&joined).ok()?;
    Some(String::from_utf8_lossy(t.as_bytes()).into_owned())
}

/// A byte range of a shared file, read with positioned reads.
struct FileRange {
    file: Arc<File>,
    pos: u64,
    end: u64,
}

impl Read for FileRange {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.end - self.pos;
        if left == 0 {
            return Ok(0);
        }
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = self.file.read_at(&mut buf[..want], self.pos)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the archive ended inside a member (was it truncated while being read?)",
            ));
        }
        self.pos += n as u64;
        Ok(n)
    }
}

/// A directory (an OCI image layout).
#[derive(Debug)]
pub(crate) struct DirFiles {
    root: PathBuf,
}

impl ImageFiles for DirFiles {
    fn open(&self, path: &str) -> Result<Option<Opened<'_>>, Error> {
        let Ok((clean, _)) = ImagePath::normalize(path.as_bytes()) else {
            return Ok(None);
        };
        let full = self
            .root
            .join(String::from_utf8_lossy(clean.as_bytes()).as_ref());
        let io_err = |source| Error::Io {
            path: full.display().to_string(),
            source,
        };
        match File::open(&full) {
            Ok(f) => {
                let meta = f.metadata().map_err(io_err)?;
                if !meta.is_file() {
                    return Ok(None);
                }
                Ok(Some((
                    Box::new(BufReader::with_capacity(256 * 1024, f)),
                    meta.len(),
                )))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err(e)),
        }
    }

    fn name(&self) -> String {
        self.root.display().to_string()
    }
}

fn open_blob_in<'a>(
    files: &'a dyn ImageFiles,
    blob: &LayerBlob,
) -> Result<Box<dyn Read + Send + 'a>, Error> {
    match files.open(&blob.location)? {
        Some((r, _)) => Ok(r),
        None => Err(Error::MissingBlob {
            what: "layer".to_owned(),
            blob: blob.location.clone(),
            source_name: files.name(),
        }),
    }
}

/// A tar file: `docker save` (any version) or an OCI archive.
#[derive(Debug)]
pub struct ArchiveSource {
    files: TarFiles,
    hint: FormatHint,
}

impl ArchiveSource {
    /// Indexes the archive at `path`, reading it as whatever its content says it is.
    pub fn open(path: &Path) -> Result<ArchiveSource, Error> {
        Ok(ArchiveSource {
            files: TarFiles::open(path)?,
            hint: FormatHint::Auto,
        })
    }

    /// Indexes the archive, preferring `docker save`'s `manifest.json` (`docker-archive:`).
    pub fn open_docker(path: &Path) -> Result<ArchiveSource, Error> {
        Ok(ArchiveSource {
            files: TarFiles::open(path)?,
            hint: FormatHint::Docker,
        })
    }

    /// Indexes the archive, reading it as an OCI layout through `index.json` (`oci-archive:`).
    pub fn open_oci(path: &Path) -> Result<ArchiveSource, Error> {
        Ok(ArchiveSource {
            files: TarFiles::open(path)?,
            hint: FormatHint::Oci,
        })
    }
}

impl Source for ArchiveSource {
    fn describe(&self) -> String {
        match self.hint {
            FormatHint::Oci => format!("oci-archive:{}", self.files.name()),
            FormatHint::Docker => format!("docker-archive:{}", self.files.name()),
            FormatHint::Auto => self.files.name(),
        }
    }

    fn resolve(&self, selector: &Selector) -> Result<ResolvedImage, Error> {
        resolve_files(&self.files, self.hint, selector, ImageFormat::OciArchive)
    }

    fn open_blob(&self, blob: &LayerBlob) -> Result<Box<dyn Read + Send + '_>, Error> {
        open_blob_in(&self.files, blob)
    }
}

/// An OCI image layout directory.
#[derive(Debug)]
pub struct LayoutSource {
    files: DirFiles,
}

impl LayoutSource {
    /// Opens the layout at `dir`.
    pub fn open(dir: &Path) -> Result<LayoutSource, Error> {
        if !dir.is_dir() {
            return Err(Error::UnknownFormat {
                input: dir.display().to_string(),
                reason: "not a directory".to_owned(),
            });
        }
        Ok(LayoutSource {
            files: DirFiles {
                root: dir.to_owned(),
            },
        })
    }
}

impl Source for LayoutSource {
    fn describe(&self) -> String {
        format!("oci:{}", self.files.name())
    }

    fn resolve(&self, selector: &Selector) -> Result<ResolvedImage, Error> {
        resolve_files(
            &self.files,
            FormatHint::Oci,
            selector,
            ImageFormat::OciLayout,
        )
    }

    fn open_blob(&self, blob: &LayerBlob) -> Result<Box<dyn Read + Send + '_>, Error> {
        open_blob_in(&self.files, blob)
    }
}
