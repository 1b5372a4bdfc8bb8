//! Reading an image archive (`docker save` of any version, an OCI archive) from a stream in one
//! pass, with no temporary copy: what the Docker engine's export endpoint sends.
//!
//! The archive's table of contents (`manifest.json`, `index.json`) may come last (the engine
//! writes it after the layers), so every member that could be a layer is read as one when it
//! passes (sha256, decompression, tar parsing: [`read_layer`]) and kept by its path; JSON members
//! are kept in memory. At the end the image is resolved from the JSON exactly as for a file
//! ([`super::resolve`]), and its layers are taken from what was read, each checked against the
//! digest its path names and the config's diff_id.

use std::collections::HashMap;
use std::io::{self, Read};
use std::sync::mpsc;

use super::files::{ImageFiles, Opened, member_link_target};
use super::oci::JSON_LIMIT;
use super::resolve::{FormatHint, digest_from_name, resolve_files};
use super::{ImageFormat, Selector};
use crate::error::Error;
use crate::image::{Image, ImageReadOptions, assemble_image};
use crate::layer::{BlobExpectation, LayerChanges, LayerError, ReadOptions, read_layer};
use crate::path::ImagePath;
use crate::progress::Progress;

/// All JSON members together may not hold more than this (a hostile stream could otherwise
/// fill memory with "documents").
const SMALL_TOTAL_LIMIT: u64 = 256 * 1024 * 1024;

/// The JSON members of a streamed archive, held in memory.
struct MemFiles {
    name: String,
    small: HashMap<String, Vec<u8>>,
    links: HashMap<String, String>,
}

impl MemFiles {
    fn target<'a>(&'a self, path: &'a str) -> &'a str {
        let mut key = path;
        for _ in 0..16 {
            match self.links.get(key) {
                Some(t) => key = t,
                None => break,
            }
        }
        key
    }
}

impl ImageFiles for MemFiles {
    fn open(&self, path: &str) -> Result<Option<Opened<'_>>, Error> {
        Ok(self
            .small
            .get(self.target(path))
            .map(|b| (Box::new(&b[..]) as Box<dyn Read + Send>, b.len() as u64)))
    }

    fn name(&self) -> String {
        self.name.clone()
    }
}

/// Reads the image `selector` picks from the archive streaming out of `reader`, in one pass.
/// `name` describes the stream in messages and in [`Image::source`].
pub fn read_archive_stream(
    reader: impl Read,
    name: &str,
    selector: &Selector,
    options: ImageReadOptions,
    progress: &dyn Progress,
) -> Result<Image, Error> {
    // A stream that breaks off is a read failure, not a malformed archive.
    let not_tar = |e: io::Error| match e.kind() {
        io::ErrorKind::UnexpectedEof
        | io::ErrorKind::TimedOut
        | io::ErrorKind::WouldBlock
        | io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe => Error::Io {
            path: name.to_owned(),
            source: e,
        },
        _ => Error::UnknownFormat {
            input: name.to_owned(),
            reason: format!("not a readable tar stream: {e}"),
        },
    };
    let mut files = MemFiles {
        name: name.to_owned(),
        small: HashMap::new(),
        links: HashMap::new(),
    };
    let mut layers: HashMap<String, Result<LayerChanges, LayerError>> = HashMap::new();
    let mut small_total = 0u64;
    progress.begin(0, None);
    let mut archive = tar::Archive::new(reader);
    for entry in archive.entries().map_err(not_tar)? {
        let mut entry = entry.map_err(not_tar)?;
        let Ok((path, _)) = ImagePath::normalize(&entry.path_bytes()) else {
            continue; // never referenced safely
        };
        let key = String::from_utf8_lossy(path.as_bytes()).into_owned();
        match entry.header().entry_type() {
            tar::EntryType::Regular | tar::EntryType::Continuous => {}
            tar::EntryType::Symlink | tar::EntryType::Link => {
                if let Some(target) = member_link_target(&path, &entry) {
                    files.links.insert(key, target);
                }
                continue;
            }
            _ => continue,
        }
        let size = entry.size();
        let mut first = [0u8; 1];
        let got = read_some(&mut entry, &mut first).map_err(not_tar)?;
        let looks_json = got == 1 && (first[0] == b'{' || first[0] == b'[');
        if got == 0 || (looks_json && size <= JSON_LIMIT) {
            small_total += size;
            if small_total > SMALL_TOTAL_LIMIT {
                return Err(Error::Invalid(format!(
                    "{name}: more than {SMALL_TOTAL_LIMIT} bytes of JSON members"
                )));
            }
            let mut bytes = Vec::with_capacity(size as usize);
            bytes.extend_from_slice(&first[..got]);
            entry.read_to_end(&mut bytes).map_err(not_tar)?;
            files.small.insert(key, bytes);
            continue;
        }
        let expect = BlobExpectation {
            digest: digest_from_name(&key),
            diff_id: None,
            verify_compressed_diff_id: options.verify_compressed_diff_ids,
        };
        let read_options = ReadOptions {
            hash_contents: options.hash_contents,
        };
        // The tar entry borrows the (single-threaded) archive, so the layer is read on its own
        // thread from a pipe this thread fills.
        let (tx, rx) = mpsc::sync_channel::<io::Result<Vec<u8>>>(4);
        let (result, copied) = std::thread::scope(|scope| {
            let worker = scope.spawn(move || {
                let mut pipe = Pipe {
                    rx,
                    buf: Vec::new(),
                    pos: 0,
                };
                read_layer(&mut pipe, &expect, read_options, progress)
            });
            let copied = pump(&first[..got], &mut entry, &tx);
            drop(tx);
            let result = worker
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p));
            (result, copied)
        });
        // A member the stream cut short ends the stream too: report that, not a layer error.
        copied.map_err(|source| Error::Io {
            path: format!("{name}:{key}"),
            source,
        })?;
        layers.insert(key, result);
    }
    let resolved = resolve_files(&files, FormatHint::Auto, selector, ImageFormat::OciArchive)?;
    let diff_ids = &resolved.config.rootfs.diff_ids;
    let mut changes = Vec::with_capacity(resolved.layers.len());
    for (index, blob) in resolved.layers.iter().enumerate() {
        let location = files.target(&blob.location).to_owned();
        let layer_err = |source: LayerError| Error::Layer {
            index,
            blob: blob.location.clone(),
            source: Box::new(source),
        };
        let read = match layers.get(&location) {
            Some(Ok(c)) => c.clone(),
            Some(Err(e)) => return Err(layer_err(copy_layer_error(e))),
            None => match files.small.get(&location) {
                // A layer that looked like JSON (a tar whose first file name starts with `{`).
                Some(bytes) => {
                    let expect = BlobExpectation {
                        digest: blob.digest.clone(),
                        diff_id: None,
                        verify_compressed_diff_id: options.verify_compressed_diff_ids,
                    };
                    let read_options = ReadOptions {
                        hash_contents: options.hash_contents,
                    };
                    read_layer(&mut &bytes[..], &expect, read_options, progress)
                        .map_err(layer_err)?
                }
                None => {
                    return Err(Error::MissingBlob {
                        what: format!("layer {index}"),
                        blob: blob.location.clone(),
                        source_name: name.to_owned(),
                    });
                }
            },
        };
        // The blob digest (from the member's name) was checked while it streamed past.
        if diff_ids.len() == resolved.layers.len()
            && let (Some(expected), Some(actual)) = (diff_ids.get(index), &read.diff_id)
            && expected.is_sha256()
            && expected != actual
        {
            return Err(layer_err(LayerError::DiffIdMismatch {
                expected: expected.clone(),
                actual: actual.clone(),
            }));
        }
        progress.layer_done(index);
        changes.push(read);
    }
    Ok(assemble_image(name.to_owned(), resolved, changes))
}

/// Sends `head`, then all of `entry`, down `tx` in chunks. The reader may hang up early (a layer
/// that failed): the rest of the entry is still read, so the stream stays in step.
fn pump(
    head: &[u8],
    entry: &mut impl Read,
    tx: &mpsc::SyncSender<io::Result<Vec<u8>>>,
) -> io::Result<()> {
    let mut open = tx.send(Ok(head.to_vec())).is_ok();
    loop {
        let mut chunk = vec![0u8; 256 * 1024];
        let n = match entry.read(&mut chunk) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                if open {
                    let _ = tx.send(Err(io::Error::new(e.kind(), e.to_string())));
                }
                return Err(e);
            }
        };
        chunk.truncate(n);
        if open {
            open = tx.send(Ok(chunk)).is_ok();
        }
    }
}

/// The reading end of [`pump`].
struct Pipe {
    rx: mpsc::Receiver<io::Result<Vec<u8>>>,
    buf: Vec<u8>,
    pos: usize,
}

impl Read for Pipe {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.buf.len() {
            match self.rx.recv() {
                Ok(Ok(chunk)) => {
                    self.buf = chunk;
                    self.pos = 0;
                }
                Ok(Err(e)) => return Err(e),
                Err(_) => return Ok(0),
            }
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Reads into `buf` until it is full or the stream ends; returns how much was read.
fn read_some(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// A layer error kept for a member, reported again for each layer that references it.
fn copy_layer_error(e: &LayerError) -> LayerError {
    match e {
        LayerError::DigestMismatch { expected, actual } => LayerError::DigestMismatch {
            expected: expected.clone(),
            actual: actual.clone(),
        },
        LayerError::DiffIdMismatch { expected, actual } => LayerError::DiffIdMismatch {
            expected: expected.clone(),
            actual: actual.clone(),
        },
        other => LayerError::Read(io::Error::new(
            io::ErrorKind::InvalidData,
            other.to_string(),
        )),
    }
}
