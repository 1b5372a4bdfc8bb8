//! Reading one layer blob in a single streaming pass: verify its digests, decompress it, and turn
//! its tar entries into a list of changes (additions and whiteouts) with full file metadata.

use std::io::{self, Read};
use std::sync::mpsc;

use xxhash_rust::xxh3::Xxh3;

use crate::compression::{Compression, Decoder};
use crate::digest::{Digest, Sha256Reader};
use crate::path::{ImagePath, PathIssue};
use crate::progress::Progress;

/// The kind of a filesystem entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    /// A regular file (its bytes are in the layer).
    Regular,
    /// A directory.
    Directory,
    /// A symbolic link ([`FileMeta::link_target`] is its raw target).
    Symlink,
    /// A hard link to an earlier path ([`FileMeta::link_target`] is that normalised path).
    Hardlink,
    /// A character device.
    CharDevice,
    /// A block device.
    BlockDevice,
    /// A named pipe.
    Fifo,
    /// Any other tar type flag, kept so nothing is silently lost.
    Other,
}

/// A 128-bit XXH3 hash of a regular file's contents. Collisions matter only by accident (it is
/// used to find duplicate content), so a fast non-cryptographic hash is enough.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ContentHash(pub u128);

impl serde::Serialize for ContentHash {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("xxh3:{:032x}", self.0))
    }
}

/// Extended attributes: name and raw value, in header order.
pub type Xattrs = Box<[(Box<str>, Box<[u8]>)]>;

/// Everything a layer's tar header (with PAX extensions) says about one path.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FileMeta {
    /// What the entry is.
    pub kind: FileKind,
    /// The raw tar type flag (`b'0'` regular, `b'5'` directory, ...).
    pub typeflag: u8,
    /// Size from the header: content bytes for regular files, usually 0 otherwise.
    pub size: u64,
    /// Permission bits including setuid, setgid and sticky (`mode & 0o7777`).
    pub mode: u32,
    /// Owner.
    pub uid: u64,
    /// Group.
    pub gid: u64,
    /// Modification time, seconds since the epoch.
    pub mtime: u64,
    /// Symlink target (raw) or hard-link target (normalised path bytes).
    #[serde(serialize_with = "serialize_lossy_opt")]
    pub link_target: Option<Box<[u8]>>,
    /// Device numbers of character and block devices.
    pub device: Option<(u32, u32)>,
    /// Extended attributes from PAX `SCHILY.xattr.*` records, in header order.
    #[serde(serialize_with = "serialize_xattrs")]
    pub xattrs: Xattrs,
    /// Hash of the contents (regular files only).
    pub content: Option<ContentHash>,
}

fn serialize_lossy_opt<S: serde::Serializer>(
    v: &Option<Box<[u8]>>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match v {
        Some(b) => s.serialize_some(&String::from_utf8_lossy(b)),
        None => s.serialize_none(),
    }
}

fn serialize_xattrs<S: serde::Serializer>(
    v: &[(Box<str>, Box<[u8]>)],
    s: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut m = s.serialize_map(Some(v.len()))?;
    for (k, val) in v {
        m.serialize_entry(k, &String::from_utf8_lossy(val))?;
    }
    m.end()
}

impl FileMeta {
    /// Whether the content (not the metadata) of two entries is the same file content.
    pub fn same_content(&self, other: &FileMeta) -> bool {
        self.kind == FileKind::Regular
            && other.kind == FileKind::Regular
            && self.size == other.size
            && self.content == other.content
    }

    /// Whether this entry is a directory.
    pub fn is_dir(&self) -> bool {
        self.kind == FileKind::Directory
    }
}

/// What one tar entry does to the filesystem below it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    /// Adds or replaces the path (a directory over a directory only replaces attributes).
    Add(FileMeta),
    /// `.wh.NAME`: deletes the path, and everything below it, from lower layers.
    Whiteout,
    /// `DIR/.wh..wh..opq`: hides everything lower layers had below the directory; entries of the
    /// same layer stay.
    Opaque,
}

/// One change in a layer: its path (for whiteouts the deleted path, for opaque markers the
/// directory) and what it does.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Entry {
    /// The normalised path the change applies to.
    pub path: ImagePath,
    /// The change itself.
    #[serde(flatten)]
    pub change: Change,
}

impl Entry {
    /// The file metadata, for additions.
    pub fn meta(&self) -> Option<&FileMeta> {
        match &self.change {
            Change::Add(m) => Some(m),
            _ => None,
        }
    }
}

/// Something odd in a layer that was worked around rather than refused.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LayerOddity {
    /// Entries named with an absolute path; read relative to the root.
    AbsolutePath,
    /// Entries whose `..` climbs above the root; skipped (no runtime would place them).
    EscapingPath,
    /// A whiteout named just `.wh.` (invalid per the OCI spec); skipped.
    InvalidWhiteout,
    /// A hard link whose target climbs above the root; kept without a target.
    EscapingLinkTarget,
    /// The same path appears more than once in the layer; the last entry wins.
    DuplicatePath,
}

/// A counted [`LayerOddity`] with its first example.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LayerWarning {
    /// What was odd.
    pub oddity: LayerOddity,
    /// How many entries had it.
    pub count: usize,
    /// The first offending name, as written in the tar.
    pub example: String,
}

/// A layer read from its blob: its changes in tar order plus what the stream proved.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LayerChanges {
    /// Changes in tar order. Consumers apply them in order (a duplicate path: the last wins).
    pub entries: Vec<Entry>,
    /// Σ of the tar header sizes of every entry (dive's layer size).
    pub size: u64,
    /// Bytes of the uncompressed tar stream.
    pub tar_bytes: u64,
    /// Bytes of the blob as stored.
    pub stored_bytes: u64,
    /// How the blob was compressed.
    pub compression: Compression,
    /// sha256 of the blob as stored (verified against the expected digest when one was given).
    pub blob_digest: Digest,
    /// sha256 of the uncompressed tar, when known (always for uncompressed blobs).
    pub diff_id: Option<Digest>,
    /// Odd entries that were worked around.
    pub warnings: Vec<LayerWarning>,
}

/// What is known about a blob before it is read, to verify it against.
#[derive(Debug, Clone, Default)]
pub struct BlobExpectation {
    /// The digest of the stored bytes (from a descriptor or a blob's file name).
    pub digest: Option<Digest>,
    /// The digest of the uncompressed tar (the config's `rootfs.diff_ids` entry).
    pub diff_id: Option<Digest>,
    /// Compute and verify the diff_id of compressed blobs too (a second sha256 pass over the
    /// uncompressed bytes). Uncompressed blobs always have it checked: it is the same hash.
    pub verify_compressed_diff_id: bool,
}

/// Why a layer blob could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LayerError {
    /// The blob's bytes do not hash to the digest it is stored under.
    #[error("digest mismatch: expected {expected}, the blob's content hashes to {actual}")]
    DigestMismatch {
        /// The digest the manifest or file name promised.
        expected: Digest,
        /// What the bytes hash to.
        actual: Digest,
    },
    /// The uncompressed tar does not hash to the config's diff_id.
    #[error(
        "diff_id mismatch: the config says {expected}, the uncompressed layer hashes to {actual}"
    )]
    DiffIdMismatch {
        /// The config's `rootfs.diff_ids` entry.
        expected: Digest,
        /// What the uncompressed bytes hash to.
        actual: Digest,
    },
    /// Reading the stored bytes failed.
    #[error("could not read the blob")]
    Read(#[source] io::Error),
    /// The gzip or zstd stream is corrupt.
    #[error("corrupt {compression} stream after {offset} bytes of output")]
    Decompress {
        /// Which decoder failed.
        compression: &'static str,
        /// Uncompressed bytes produced before the failure.
        offset: u64,
        /// The decoder's error.
        #[source]
        source: io::Error,
    },
    /// The tar inside is malformed or truncated.
    #[error("malformed tar: {0}")]
    Tar(String),
}

/// How a layer is read.
#[derive(Debug, Clone, Copy)]
pub struct ReadOptions {
    /// Hash the contents of regular files (needed for duplicate and metadata-only detection).
    pub hash_contents: bool,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            hash_contents: true,
        }
    }
}

const CHUNK: usize = 256 * 1024;

/// What the decoding thread learned.
struct StreamFacts {
    compression: Compression,
    blob_digest: Digest,
    stored_bytes: u64,
    diff_id: Option<Digest>,
    tar_bytes: u64,
    read_error: Option<io::Error>,
    decode_error: Option<(u64, io::Error)>,
}

/// Reads one layer blob: one streaming pass that hashes the stored bytes, decompresses them (by
/// magic bytes), optionally hashes the uncompressed tar, and parses the tar entries. Decoding and
/// hashing run on one thread, tar parsing and content hashing on another.
///
/// Errors are ordered by cause: a digest mismatch is reported before the decoding or tar error it
/// probably caused.
pub fn read_layer(
    stored: &mut (dyn Read + Send),
    expect: &BlobExpectation,
    options: ReadOptions,
    progress: &dyn Progress,
) -> Result<LayerChanges, LayerError> {
    let (tx, rx) = mpsc::sync_channel::<Chunk>(8);
    // Emptied chunks go back to the decoding thread: no allocation or zeroing per chunk.
    let (recycle_tx, recycle_rx) = mpsc::channel::<Vec<u8>>();
    let (facts, parsed) = std::thread::scope(|scope| {
        let producer =
            scope.spawn(move || decode_stream(stored, expect, tx, &recycle_rx, progress));
        let parsed = parse_tar(ChannelReader::new(rx, recycle_tx), options);
        let facts = producer
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        (facts, parsed)
    });

    // A failed read (a stalled or cut connection, a truncated archive) leaves the digest
    // incomplete: report the failure itself, not the mismatch it causes.
    if let Some(e) = facts.read_error {
        return Err(LayerError::Read(e));
    }
    if let Some(expected) = &expect.digest
        && expected.is_sha256()
        && *expected != facts.blob_digest
    {
        return Err(LayerError::DigestMismatch {
            expected: expected.clone(),
            actual: facts.blob_digest,
        });
    }
    if let Some((offset, source)) = facts.decode_error {
        return Err(LayerError::Decompress {
            compression: facts.compression.name(),
            offset,
            source,
        });
    }
    if let (Some(expected), Some(actual)) = (&expect.diff_id, &facts.diff_id)
        && expected.is_sha256()
        && expected != actual
    {
        return Err(LayerError::DiffIdMismatch {
            expected: expected.clone(),
            actual: actual.clone(),
        });
    }
    let parsed = parsed?;
    Ok(LayerChanges {
        entries: parsed.entries,
        size: parsed.size,
        tar_bytes: facts.tar_bytes,
        stored_bytes: facts.stored_bytes,
        compression: facts.compression,
        blob_digest: facts.blob_digest,
        diff_id: facts.diff_id,
        warnings: parsed.warnings,
    })
}

/// Counts bytes into the progress sink as they are read.
/// Remembers the first read error, so it is not mistaken for corruption.
struct Counted<'a, R> {
    inner: R,
    progress: &'a dyn Progress,
    failed: std::cell::Cell<Option<io::Error>>,
}

impl<R: Read> Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => {
                self.progress.advance(n as u64);
                Ok(n)
            }
            Err(e) => {
                if e.kind() != io::ErrorKind::Interrupted {
                    let copy = io::Error::new(e.kind(), e.to_string());
                    let old = self.failed.take();
                    self.failed.set(old.or(Some(copy)));
                }
                Err(e)
            }
        }
    }
}

fn decode_stream(
    stored: &mut (dyn Read + Send),
    expect: &BlobExpectation,
    tx: mpsc::SyncSender<Chunk>,
    recycled: &mpsc::Receiver<Vec<u8>>,
    progress: &dyn Progress,
) -> StreamFacts {
    let mut raw = Sha256Reader::new(Counted {
        inner: stored,
        progress,
        failed: std::cell::Cell::new(None),
    });
    // Sniff the compression from the first bytes, then put them back in front of the stream.
    let mut head = Vec::with_capacity(4);
    let mut read_error = None;
    while head.len() < 4 {
        let mut b = [0u8; 4];
        match raw.read(&mut b[..4 - head.len()]) {
            Ok(0) => break,
            Ok(n) => head.extend_from_slice(&b[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                read_error = Some(e);
                break;
            }
        }
    }
    let compression = Compression::sniff(&head);
    let chained = io::Cursor::new(head).chain(raw);
    let mut decoder = match Decoder::new(compression, chained) {
        Ok(d) => d,
        Err(e) => {
            // Only zstd can fail here (context allocation); report it as a decoding error.
            return StreamFacts {
                compression,
                blob_digest: Digest::sha256_of(&[]),
                stored_bytes: 0,
                diff_id: None,
                tar_bytes: 0,
                read_error,
                decode_error: Some((0, e)),
            };
        }
    };
    let hash_tar = compression != Compression::None && expect.verify_compressed_diff_id;
    let mut tar_sha = hash_tar.then(<sha2::Sha256 as sha2::Digest>::new);
    let mut tar_bytes = 0u64;
    let mut decode_error = None;
    let mut receiver_gone = false;
    loop {
        let mut chunk = recycled.try_recv().unwrap_or_else(|_| vec![0u8; CHUNK]);
        let mut filled = 0;
        // Fill whole chunks: fewer, larger messages keep the channel cheap.
        while filled < CHUNK {
            match decoder.read(&mut chunk[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    decode_error = Some((tar_bytes + filled as u64, e));
                    break;
                }
            }
        }
        tar_bytes += filled as u64;
        if let Some(h) = tar_sha.as_mut() {
            sha2::Digest::update(h, &chunk[..filled]);
        }
        let done = filled == 0 || decode_error.is_some();
        if filled > 0 && !receiver_gone && tx.send((chunk, filled)).is_err() {
            // The tar parser stopped (end marker or error). Keep decoding so the digests cover
            // every byte.
            receiver_gone = true;
        }
        if done {
            break;
        }
    }
    drop(tx);
    let raw = decoder.into_raw().into_inner().1;
    let failed_read = raw.get_ref().failed.take();
    let (blob_digest, stored_bytes) = match raw.finish() {
        Ok(done) => done,
        Err(e) => {
            read_error.get_or_insert(e);
            (Digest::sha256_of(&[]), 0)
        }
    };
    // A decoder error caused by the underlying read failing is a read error, not corruption.
    if let Some(e) = failed_read {
        read_error.get_or_insert(e);
        decode_error = None;
    }
    let diff_id = if compression == Compression::None {
        Some(blob_digest.clone())
    } else {
        tar_sha.map(|h| Digest::from_sha256(sha2::Digest::finalize(h).into()))
    };
    StreamFacts {
        compression,
        blob_digest,
        stored_bytes,
        diff_id,
        tar_bytes,
        read_error,
        decode_error,
    }
}

/// A buffer and how many of its bytes are filled.
type Chunk = (Vec<u8>, usize);

/// Reads the chunks the decoding thread sends; end of stream when it hangs up.
struct ChannelReader {
    rx: mpsc::Receiver<Chunk>,
    recycle: mpsc::Sender<Vec<u8>>,
    chunk: Vec<u8>,
    len: usize,
    pos: usize,
}

impl ChannelReader {
    fn new(rx: mpsc::Receiver<Chunk>, recycle: mpsc::Sender<Vec<u8>>) -> Self {
        ChannelReader {
            rx,
            recycle,
            chunk: Vec::new(),
            len: 0,
            pos: 0,
        }
    }
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.len {
            match self.rx.recv() {
                Ok((c, len)) => {
                    let done = std::mem::replace(&mut self.chunk, c);
                    if !done.is_empty() {
                        let _ = self.recycle.send(done);
                    }
                    self.len = len;
                    self.pos = 0;
                }
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.len - self.pos);
        buf[..n].copy_from_slice(&self.chunk[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

struct ParsedTar {
    entries: Vec<Entry>,
    size: u64,
    warnings: Vec<LayerWarning>,
}

#[derive(Default)]
struct Oddities(Vec<LayerWarning>);

impl Oddities {
    fn note(&mut self, oddity: LayerOddity, raw: &[u8]) {
        if let Some(w) = self.0.iter_mut().find(|w| w.oddity == oddity) {
            w.count += 1;
        } else {
            self.0.push(LayerWarning {
                oddity,
                count: 1,
                example: String::from_utf8_lossy(raw).into_owned(),
            });
        }
    }
}

const WHITEOUT: &[u8] = b".wh.";
const OPAQUE: &[u8] = b".wh..wh..opq";

fn tar_error(e: &io::Error) -> LayerError {
    LayerError::Tar(e.to_string())
}

fn parse_tar<R: Read>(reader: R, options: ReadOptions) -> Result<ParsedTar, LayerError> {
    let mut archive = tar::Archive::new(reader);
    let mut entries = Vec::new();
    let mut size = 0u64;
    let mut odd = Oddities::default();
    let mut seen = std::collections::HashSet::new();
    let mut buf = vec![0u8; 64 * 1024];
    for entry in archive.entries().map_err(|e| tar_error(&e))? {
        let mut entry = entry.map_err(|e| tar_error(&e))?;
        let header = entry.header();
        let typeflag = header.entry_type().as_byte();
        if matches!(typeflag, b'g' | b'x' | b'L' | b'K') {
            // Global PAX headers carry no file (dive aborts on them; they are legal).
            continue;
        }
        let raw_path = entry.path_bytes().into_owned();
        let declared = entry.size();
        size = size.saturating_add(declared);
        let (path, issue) = match ImagePath::normalize(&raw_path) {
            Ok(p) => p,
            Err(_) => {
                odd.note(LayerOddity::EscapingPath, &raw_path);
                continue;
            }
        };
        if issue == Some(PathIssue::Absolute) {
            odd.note(LayerOddity::AbsolutePath, &raw_path);
        }
        if path.is_root() {
            continue; // `./` itself: the root's attributes are not part of the analysis.
        }
        let name = path.file_name();
        if name == OPAQUE {
            let dir = path.parent().unwrap_or_else(ImagePath::root);
            entries.push(Entry {
                path: dir,
                change: Change::Opaque,
            });
            continue;
        }
        if let Some(target) = name.strip_prefix(WHITEOUT) {
            if target.is_empty() {
                odd.note(LayerOddity::InvalidWhiteout, &raw_path);
                continue;
            }
            let parent = path.parent().unwrap_or_else(ImagePath::root);
            entries.push(Entry {
                path: parent.join(target),
                change: Change::Whiteout,
            });
            continue;
        }

        let kind = match typeflag {
            b'0' | b'7' | b'S' => FileKind::Regular,
            b'\0' if raw_path.ends_with(b"/") => FileKind::Directory,
            b'\0' => FileKind::Regular,
            b'1' => FileKind::Hardlink,
            b'2' => FileKind::Symlink,
            b'3' => FileKind::CharDevice,
            b'4' => FileKind::BlockDevice,
            b'5' => FileKind::Directory,
            b'6' => FileKind::Fifo,
            _ => FileKind::Other,
        };
        let mode = header.mode().unwrap_or(0) & 0o7777;
        let mut uid = header.uid().unwrap_or(0);
        let mut gid = header.gid().unwrap_or(0);
        let mut mtime = header.mtime().unwrap_or(0);
        let device = if matches!(kind, FileKind::CharDevice | FileKind::BlockDevice) {
            match (header.device_major(), header.device_minor()) {
                (Ok(Some(a)), Ok(Some(b))) => Some((a, b)),
                _ => None,
            }
        } else {
            None
        };
        let mut xattrs: Vec<(Box<str>, Box<[u8]>)> = Vec::new();
        if let Ok(Some(pax)) = entry.pax_extensions() {
            for ext in pax.flatten() {
                let Ok(key) = ext.key() else { continue };
                if let Some(attr) = key.strip_prefix("SCHILY.xattr.") {
                    xattrs.push((attr.into(), ext.value_bytes().into()));
                    continue;
                }
                let parse = || {
                    std::str::from_utf8(ext.value_bytes())
                        .ok()
                        .and_then(|v| v.split('.').next()?.parse::<u64>().ok())
                };
                match key {
                    "uid" => uid = parse().unwrap_or(uid),
                    "gid" => gid = parse().unwrap_or(gid),
                    "mtime" => mtime = parse().unwrap_or(mtime),
                    _ => {}
                }
            }
        }
        let link_target = match kind {
            FileKind::Symlink => entry.link_name_bytes().map(|l| l.into_owned().into()),
            FileKind::Hardlink => match entry.link_name_bytes() {
                Some(l) => match ImagePath::normalize(&l) {
                    Ok((p, _)) => Some(p.as_bytes().into()),
                    Err(_) => {
                        odd.note(LayerOddity::EscapingLinkTarget, &l);
                        None
                    }
                },
                None => None,
            },
            _ => None,
        };

        let content = if kind == FileKind::Regular {
            let mut hasher = options.hash_contents.then(Xxh3::new);
            let mut got = 0u64;
            loop {
                let n = match entry.read(&mut buf) {
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(tar_error(&e)),
                };
                if n == 0 {
                    break;
                }
                got += n as u64;
                if let Some(h) = hasher.as_mut() {
                    h.update(&buf[..n]);
                }
            }
            if got < declared {
                return Err(LayerError::Tar(format!(
                    "entry {} claims {declared} bytes but the layer ends after {got}",
                    String::from_utf8_lossy(&raw_path)
                )));
            }
            hasher.map(|h| ContentHash(h.digest128()))
        } else {
            None
        };
        if !seen.insert(path.clone()) {
            odd.note(LayerOddity::DuplicatePath, &raw_path);
        }
        entries.push(Entry {
            path,
            change: Change::Add(FileMeta {
                kind,
                typeflag,
                size: declared,
                mode,
                uid,
                gid,
                mtime,
                link_target,
                device,
                xattrs: xattrs.into_boxed_slice(),
                content,
            }),
        });
    }
    Ok(ParsedTar {
        entries,
        size,
        warnings: odd.0,
    })
}
