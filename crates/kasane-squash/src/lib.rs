//! Squashing: layers `N..` of an image become one layer, written with the untouched layers below
//! them as a `docker save` archive that `docker load` accepts.
//!
//! The squashed layer is [`kasane_export::plan::layer_range`]: every entry the squashed layers
//! leave visible (with its parent directories), an explicit whiteout for every path of the lower
//! layers they removed (an opaque directory becomes whiteouts of each hidden child, which every
//! runtime understands), and hard links made self-contained. Files deleted within the range are
//! gone for good. The layers below `N` are copied uncompressed, their diff_ids checked while
//! copying. The config keeps everything (runtime config, unknown fields); `rootfs.diff_ids` is
//! rewritten, the history entries of the squashed layers are kept but marked `empty_layer`, and a
//! final entry records the squash.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};

use kasane_export::{ExportError, Report, TarSink, plan, write_plan};
use kasane_image::content::{ContentError, open_layer_tar};
use kasane_image::image::map_history;
use kasane_image::spec::History;
use kasane_image::{Digest, Image, Source};
use sha2::Digest as _;

/// How to squash.
#[derive(Debug, Clone)]
pub struct SquashOptions {
    /// The first layer to squash (0 = all of them); it and every layer above become one.
    pub from_layer: usize,
    /// The name the loaded image gets (`app:squashed`); `None` loads it untagged.
    pub tag: Option<String>,
    /// The `created_by` of the history entry recording the squash.
    pub created_by: String,
}

/// What a squash wrote.
#[derive(Debug, Clone)]
pub struct SquashReport {
    /// Layers of the input image.
    pub layers_before: usize,
    /// Layers of the output image.
    pub layers_after: usize,
    /// The new image's ID (the digest of its config).
    pub image_id: Digest,
    /// The diff_id of the squashed layer.
    pub squashed_diff_id: Digest,
    /// Bytes of the squashed layer's tar.
    pub squashed_tar_bytes: u64,
    /// Σ tar sizes of the layers that were squashed.
    pub replaced_tar_bytes: u64,
    /// What the squashed layer holds.
    pub contents: Report,
    /// Things worth telling the user.
    pub notes: Vec<String>,
}

/// Why a squash failed.
#[derive(Debug, thiserror::Error)]
pub enum SquashError {
    /// `--from-layer` beyond the image's layers.
    #[error("there is no layer {layer} to squash from: the image has {layers} (numbered from 0)")]
    NoSuchLayer {
        /// The layer asked for.
        layer: usize,
        /// How many there are.
        layers: usize,
    },
    /// The squashed layer could not be planned or written.
    #[error(transparent)]
    Export(#[from] ExportError),
    /// A lower layer could not be read back.
    #[error(transparent)]
    Content(#[from] ContentError),
    /// A lower layer's contents do not match its diff_id.
    #[error("layer {layer}: its uncompressed tar hashes to {actual}, the config says {expected}")]
    DiffIdMismatch {
        /// The layer.
        layer: usize,
        /// The config's diff_id.
        expected: Digest,
        /// What the bytes hash to.
        actual: Digest,
    },
    /// Writing the archive failed.
    #[error("{what}")]
    Io {
        /// What was being written.
        what: String,
        /// Why.
        #[source]
        source: io::Error,
    },
}

fn io_err(what: impl Into<String>) -> impl FnOnce(io::Error) -> SquashError {
    let what = what.into();
    move |source| SquashError::Io { what, source }
}

/// Squashes layers `options.from_layer..` of `image` (read from `source`) and writes the result
/// as a `docker save` archive to `out`. `scratch` is an empty, readable and writable file that
/// holds the squashed layer while its size and digest are computed (it can be large).
pub fn squash(
    source: &dyn Source,
    image: &Image,
    options: &SquashOptions,
    scratch: &mut File,
    out: impl Write,
) -> Result<SquashReport, SquashError> {
    let count = image.layers.len();
    let from = options.from_layer;
    if from >= count {
        return Err(SquashError::NoSuchLayer {
            layer: from,
            layers: count,
        });
    }
    let mut notes = Vec::new();

    // 1. The squashed layer, into the scratch file, hashed as it is written.
    let plan = plan::layer_range(image, from, count - 1)?;
    let mut sink = TarSink::new(HashingWriter::new(&mut *scratch));
    let contents = write_plan(source, image, &plan, &mut sink)?;
    let hashed = sink
        .into_inner()
        .map_err(io_err("write the squashed layer"))?;
    let (squashed_diff_id, squashed_tar_bytes) = hashed.finish();

    // 2. The archive: lower layers (uncompressed, checked), the squashed layer, config, manifest.
    let mut archive = tar::Builder::new(out);
    let mut diff_ids = Vec::with_capacity(from + 1);
    let mut layer_paths = Vec::with_capacity(from + 1);
    let mut written = std::collections::HashSet::new();
    for layer in &image.layers[..from] {
        let path = match layer
            .diff_id
            .clone()
            .or_else(|| layer.changes.diff_id.clone())
        {
            Some(d) => format!("{}/layer.tar", d.encoded()),
            None => format!("layer-{}/layer.tar", layer.index),
        };
        if written.insert(path.clone()) {
            let mut reader = HashingReader::new(open_layer_tar(source, layer)?);
            append(&mut archive, &path, layer.changes.tar_bytes, &mut reader)?;
            let (actual, _) = reader.finish();
            let expected = layer
                .diff_id
                .clone()
                .or_else(|| layer.changes.diff_id.clone());
            if let Some(expected) = expected
                && expected.is_sha256()
                && expected != actual
            {
                return Err(SquashError::DiffIdMismatch {
                    layer: layer.index,
                    expected,
                    actual,
                });
            }
            diff_ids.push(actual);
        } else {
            let again = diff_ids[layer_paths.iter().position(|p| *p == path).unwrap_or(0)].clone();
            diff_ids.push(again);
        }
        layer_paths.push(path);
    }
    let squashed_path = format!("{}/layer.tar", squashed_diff_id.encoded());
    if written.insert(squashed_path.clone()) {
        scratch
            .seek(SeekFrom::Start(0))
            .map_err(io_err("read the squashed layer back"))?;
        append(
            &mut archive,
            &squashed_path,
            squashed_tar_bytes,
            &mut (&mut *scratch).take(squashed_tar_bytes),
        )?;
    }
    diff_ids.push(squashed_diff_id.clone());
    layer_paths.push(squashed_path);

    let mut config = image.config.clone();
    config.rootfs.kind = "layers".to_owned();
    config.rootfs.diff_ids = diff_ids;
    config.history = squashed_history(image, options, &mut notes);
    let config_bytes = serde_json::to_vec(&config).map_err(|e| SquashError::Io {
        what: "serialise the config".to_owned(),
        source: io::Error::other(e),
    })?;
    let image_id = Digest::sha256_of(&config_bytes);
    let config_path = format!("{}.json", image_id.encoded());
    append(
        &mut archive,
        &config_path,
        config_bytes.len() as u64,
        &mut &config_bytes[..],
    )?;
    let manifest = serde_json::json!([{
        "Config": config_path,
        "RepoTags": options.tag.as_ref().map(|t| vec![t.clone()]),
        "Layers": layer_paths,
    }]);
    let manifest_bytes = serde_json::to_vec(&manifest).map_err(|e| SquashError::Io {
        what: "serialise manifest.json".to_owned(),
        source: io::Error::other(e),
    })?;
    append(
        &mut archive,
        "manifest.json",
        manifest_bytes.len() as u64,
        &mut &manifest_bytes[..],
    )?;
    archive
        .into_inner()
        .and_then(|mut w| w.flush())
        .map_err(io_err("finish the archive"))?;

    Ok(SquashReport {
        layers_before: count,
        layers_after: from + 1,
        image_id,
        squashed_diff_id,
        squashed_tar_bytes,
        replaced_tar_bytes: image.layers[from..]
            .iter()
            .map(|l| l.changes.tar_bytes)
            .sum(),
        contents,
        notes,
    })
}

/// The history of the squashed image: entries of the squashed layers kept but marked
/// `empty_layer` (they no longer make a layer of their own), then one entry for the squash.
fn squashed_history(
    image: &Image,
    options: &SquashOptions,
    notes: &mut Vec<String>,
) -> Vec<History> {
    let count = image.layers.len();
    let from = options.from_layer;
    let mut history = image.config.history.clone();
    let (mapped, _) = map_history(&history, count);
    if mapped.iter().all(Option::is_some) && count > 0 {
        // The k-th entry that made a layer belongs to layer k.
        let mut layer = 0;
        for h in &mut history {
            if h.empty_layer {
                continue;
            }
            if layer >= from {
                h.empty_layer = true;
            }
            layer += 1;
        }
    } else if !history.is_empty() {
        notes.push(
            "the config's history does not line up with its layers; it is kept as it is, with \
             the squash entry added"
                .to_owned(),
        );
    }
    let last = count - 1;
    history.push(History {
        created: image.config.created.clone(),
        created_by: Some(options.created_by.clone()),
        comment: Some(if from == last {
            format!("kasane squash: layer {from} rewritten")
        } else {
            format!("kasane squash: layers {from}..{last} squashed into one")
        }),
        author: None,
        empty_layer: false,
    });
    history
}

fn append(
    archive: &mut tar::Builder<impl Write>,
    path: &str,
    size: u64,
    data: &mut dyn Read,
) -> Result<(), SquashError> {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(tar::EntryType::Regular);
    header.set_size(size);
    header.set_mode(0o644);
    header.set_mtime(0);
    let mut exact = data.take(size);
    archive
        .append_data(&mut header, path, &mut exact)
        .map_err(io_err(format!("write {path}")))?;
    if exact.limit() != 0 {
        return Err(SquashError::Io {
            what: format!("write {path}"),
            source: io::Error::new(io::ErrorKind::UnexpectedEof, "its source ended early"),
        });
    }
    Ok(())
}

/// Counts and hashes what is written through it (the squashed layer's diff_id).
struct HashingWriter<W> {
    inner: W,
    hash: sha2::Sha256,
    bytes: u64,
}

impl<W: Write> HashingWriter<W> {
    fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hash: sha2::Sha256::new(),
            bytes: 0,
        }
    }

    fn finish(self) -> (Digest, u64) {
        (Digest::from_sha256(self.hash.finalize().into()), self.bytes)
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Hashes what is read through it (a lower layer's diff_id, checked while it is copied).
struct HashingReader<R> {
    inner: R,
    hash: sha2::Sha256,
}

impl<R: Read> HashingReader<R> {
    fn new(inner: R) -> Self {
        HashingReader {
            inner,
            hash: sha2::Sha256::new(),
        }
    }

    /// Reads what is left (so the digest covers the whole stream) and returns the digest.
    fn finish(mut self) -> (Digest, u64) {
        let rest = io::copy(&mut self, &mut io::sink()).unwrap_or(0);
        (Digest::from_sha256(self.hash.finalize().into()), rest)
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
}
