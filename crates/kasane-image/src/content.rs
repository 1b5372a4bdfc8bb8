//! File contents, read back from layer blobs. Reading an image keeps metadata and content hashes
//! only; whoever needs the bytes (a viewer, an export, a squash) streams the layer again here and
//! gets each wanted regular file as a reader, checked against the hash and size seen the first
//! time.

use std::io::{self, Read};

use xxhash_rust::xxh3::Xxh3;

use crate::compression::Decoder;
use crate::error::Error;
use crate::image::Layer;
use crate::layer::{Entry, FileKind};
use crate::path::ImagePath;
use crate::source::Source;

/// Why file contents could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum ContentError {
    /// The blob could not be opened.
    #[error("layer {layer}: could not open its blob")]
    Open {
        /// The layer.
        layer: usize,
        /// Why.
        #[source]
        source: Box<Error>,
    },
    /// The blob could not be decompressed or its tar read.
    #[error("layer {layer}: could not read its tar again")]
    Read {
        /// The layer.
        layer: usize,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The blob no longer holds what was read from it the first time.
    #[error("layer {layer}: {what}; the image changed since it was read")]
    Changed {
        /// The layer.
        layer: usize,
        /// What differs.
        what: String,
    },
    /// An entry index that is not a regular file of the layer was asked for.
    #[error("layer {layer}: entry {entry} is not a regular file")]
    NotAFile {
        /// The layer.
        layer: usize,
        /// The entry index.
        entry: usize,
    },
}

/// Opens a layer's blob from `source` and decompresses it: the layer's tar stream.
pub fn open_layer_tar<'s>(
    source: &'s dyn Source,
    layer: &Layer,
) -> Result<Box<dyn Read + Send + 's>, ContentError> {
    let raw = source
        .open_blob(&layer.blob)
        .map_err(|e| ContentError::Open {
            layer: layer.index,
            source: Box::new(e),
        })?;
    let decoder =
        Decoder::new(layer.changes.compression, raw).map_err(|source| ContentError::Read {
            layer: layer.index,
            source,
        })?;
    Ok(Box::new(decoder))
}

/// Streams `layer` again and calls `visit(entry_index, entry, reader)` for each regular file whose
/// index (into [`crate::LayerChanges::entries`]) is in `wanted` (sorted ascending), in tar order.
/// Reading stops after the last wanted entry.
///
/// Each file's bytes are checked against the size and content hash recorded when the layer was
/// first read: if the blob changed in between, a [`ContentError::Changed`] follows the visit (the
/// visitor must treat what it wrote as suspect). The visitor need not read everything.
pub fn stream_files<E: From<ContentError>>(
    source: &dyn Source,
    layer: &Layer,
    wanted: &[usize],
    mut visit: impl FnMut(usize, &Entry, &mut dyn Read) -> Result<(), E>,
) -> Result<(), E> {
    let Some(&last) = wanted.last() else {
        return Ok(());
    };
    let entries = &layer.changes.entries;
    for &w in wanted {
        let is_file = entries
            .get(w)
            .and_then(Entry::meta)
            .is_some_and(|m| m.kind == FileKind::Regular);
        if !is_file {
            return Err(ContentError::NotAFile {
                layer: layer.index,
                entry: w,
            }
            .into());
        }
    }
    let read_err = |source: io::Error| ContentError::Read {
        layer: layer.index,
        source,
    };
    let changed = |what: String| ContentError::Changed {
        layer: layer.index,
        what,
    };
    let tar_stream = open_layer_tar(source, layer)?;
    let mut archive = tar::Archive::new(tar_stream);
    let mut next_wanted = wanted.iter().copied().peekable();
    let mut index = 0usize;
    for tar_entry in archive.entries().map_err(read_err)? {
        let mut tar_entry = tar_entry.map_err(read_err)?;
        let typeflag = tar_entry.header().entry_type().as_byte();
        let raw = tar_entry.path_bytes().into_owned();
        let Some(path) = counted_entry_path(typeflag, &raw) else {
            continue;
        };
        let this = index;
        index += 1;
        if next_wanted.peek() != Some(&this) {
            continue;
        }
        next_wanted.next();
        let entry = &entries[this];
        if entry.path != path {
            return Err(changed(format!("entry {this} is {} but was {}", path, entry.path)).into());
        }
        let meta = entry.meta().expect("checked above: a regular file");
        let mut checked = CheckedReader {
            inner: &mut tar_entry,
            hash: Xxh3::new(),
            bytes: 0,
        };
        visit(this, entry, &mut checked)?;
        io::copy(&mut checked, &mut io::sink()).map_err(read_err)?;
        if checked.bytes != meta.size {
            return Err(changed(format!(
                "{} has {} bytes, not {}",
                entry.path, checked.bytes, meta.size
            ))
            .into());
        }
        if meta
            .content
            .is_some_and(|h| h.0 != checked.hash.digest128())
        {
            return Err(changed(format!("{} has different content", entry.path)).into());
        }
        if this == last {
            return Ok(());
        }
    }
    Err(changed(format!(
        "it ends before entry {last} (it has {index} entries)"
    ))
    .into())
}

/// Reads up to `limit` bytes of the regular file at `entry` of `layer`. Returns the bytes and
/// whether the file is longer than `limit`.
pub fn read_file(
    source: &dyn Source,
    layer: &Layer,
    entry: usize,
    limit: usize,
) -> Result<(Vec<u8>, bool), ContentError> {
    let mut out = Vec::new();
    let mut truncated = false;
    stream_files(source, layer, &[entry], |_, _, reader| {
        let mut limited = reader.take(limit as u64);
        limited
            .read_to_end(&mut out)
            .map_err(|source| ContentError::Read {
                layer: layer.index,
                source,
            })?;
        let mut probe = [0u8; 1];
        truncated = reader
            .read(&mut probe)
            .map_err(|source| ContentError::Read {
                layer: layer.index,
                source,
            })?
            > 0;
        Ok::<(), ContentError>(())
    })?;
    Ok((out, truncated))
}

/// The path a tar entry is recorded under in [`crate::LayerChanges::entries`], or `None` for tar
/// members that the layer reader does not record (extension headers, names climbing above the
/// root, the root itself, the invalid whiteout `.wh.`). Must agree with the layer reader; the
/// path comparison in [`stream_files`] turns any disagreement into an error, never wrong bytes.
fn counted_entry_path(typeflag: u8, raw: &[u8]) -> Option<ImagePath> {
    if matches!(typeflag, b'g' | b'x' | b'L' | b'K') {
        return None;
    }
    let (path, _) = ImagePath::normalize(raw).ok()?;
    if path.is_root() {
        return None;
    }
    let name = path.file_name();
    if name == b".wh..wh..opq" {
        return Some(path.parent().unwrap_or_else(ImagePath::root));
    }
    if let Some(target) = name.strip_prefix(b".wh.") {
        if target.is_empty() {
            return None;
        }
        let parent = path.parent().unwrap_or_else(ImagePath::root);
        return Some(parent.join(target));
    }
    Some(path)
}

/// Hashes and counts what passes through, to check it against the first read.
struct CheckedReader<'a, R> {
    inner: &'a mut R,
    hash: Xxh3,
    bytes: u64,
}

impl<R: Read> Read for CheckedReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}
