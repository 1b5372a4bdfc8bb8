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

/// What reading the stored bytes learned.
struct StoredFacts {
    blob_digest: Digest,
    stored_bytes: u64,
    /// The first read error (a stalled or cut connection, a truncated file).
    read_error: Option<io::Error>,
}

/// What decoding learned.
struct DecodedFacts {
    /// sha256 of the uncompressed tar, when it was hashed.
    tar_digest: Option<Digest>,
    tar_bytes: u64,
    /// Uncompressed bytes produced before the decoder failed, and its error.
    decode_error: Option<(u64, io::Error)>,
}

/// The stored bytes as read: hashed and counted into the progress sink.
type StoredReader<'a> = Sha256Reader<Counted<'a, &'a mut (dyn Read + Send)>>;

/// Reads one layer blob: one streaming pass that hashes the stored bytes, decompresses them (by
/// magic bytes), optionally hashes the uncompressed tar, and parses the tar entries. Tar parsing
/// and content hashing run on the calling thread. For a compressed blob, reading and hashing the
/// stored bytes and inflating them run on a thread each, so a big layer takes about its inflate
/// time alone; an uncompressed blob is read and hashed on one thread.
///
/// Errors are ordered by cause: a digest mismatch is reported before the decoding or tar error it
/// probably caused.
pub fn read_layer(
    stored: &mut (dyn Read + Send),
    expect: &BlobExpectation,
    options: ReadOptions,
    progress: &dyn Progress,
) -> Result<LayerChanges, LayerError> {
    let mut raw: StoredReader<'_> = Sha256Reader::new(Counted {
        inner: stored,
        progress,
        failed: std::cell::Cell::new(None),
    });
    // Sniff the compression from the first bytes, then put them back in front of the stream. A
    // failed read is remembered by `Counted` and reported below.
    let mut head = [0u8; 4];
    let (head_len, _) = fill(&mut raw, &mut head);
    let head = head[..head_len].to_vec();
    let compression = Compression::sniff(&head);
    let hash_tar = compression != Compression::None && expect.verify_compressed_diff_id;

    let (tx, rx) = mpsc::sync_channel::<Chunk>(8);
    // Emptied chunks go back to the thread that filled them: no allocation or zeroing per chunk.
    let (recycle_tx, recycle_rx) = mpsc::channel::<Vec<u8>>();
    let (stored, decoded, parsed) = std::thread::scope(|scope| {
        let decoding = if compression == Compression::None {
            scope.spawn(move || {
                let input = Decoder::Plain(io::Cursor::new(head).chain(raw));
                let (decoded, input) = decode_stream(input, false, tx, &recycle_rx);
                (decoded, finish_stored(input.into_inner().1))
            })
        } else {
            let (raw_tx, raw_rx) = mpsc::sync_channel::<Chunk>(8);
            let (raw_recycle_tx, raw_recycle_rx) = mpsc::channel::<Vec<u8>>();
            let reading = scope.spawn(move || pump_stored(raw, raw_tx, &raw_recycle_rx));
            scope.spawn(move || {
                let input = io::Cursor::new(head).chain(ChannelReader::new(raw_rx, raw_recycle_tx));
                let decoded = match Decoder::new(compression, input) {
                    Ok(decoder) => decode_stream(decoder, hash_tar, tx, &recycle_rx).0,
                    // Only zstd can fail here (context allocation); report it as a decoding error.
                    Err(e) => DecodedFacts {
                        tar_digest: None,
                        tar_bytes: 0,
                        decode_error: Some((0, e)),
                    },
                };
                // The decoder and its reader are gone by now: the reading thread hashes whatever
                // is left without sending it.
                let stored = reading
                    .join()
                    .unwrap_or_else(|p| std::panic::resume_unwind(p));
                (decoded, stored)
            })
        };
        let parsed = parse_tar(ChannelReader::new(rx, recycle_tx), options);
        let (decoded, stored) = decoding
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        (stored, decoded, parsed)
    });

    // A failed read (a stalled or cut connection, a truncated archive) leaves the digest
    // incomplete: report the failure itself, not the mismatch or decoding error it causes.
    if let Some(e) = stored.read_error {
        return Err(LayerError::Read(e));
    }
    if let Some(expected) = &expect.digest
        && expected.is_sha256()
        && *expected != stored.blob_digest
    {
        return Err(LayerError::DigestMismatch {
            expected: expected.clone(),
            actual: stored.blob_digest,
        });
    }
    if let Some((offset, source)) = decoded.decode_error {
        return Err(LayerError::Decompress {
            compression: compression.name(),
            offset,
            source,
        });
    }
    let diff_id = if compression == Compression::None {
        Some(stored.blob_digest.clone())
    } else {
        decoded.tar_digest
    };
    if let (Some(expected), Some(actual)) = (&expect.diff_id, &diff_id)
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
        tar_bytes: decoded.tar_bytes,
        stored_bytes: stored.stored_bytes,
        compression,
        blob_digest: stored.blob_digest,
        diff_id,
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

/// Reads into `buf` until it is full, the stream ends or a read fails; returns how much was
/// filled and the error, if one stopped it. Fewer bytes than `buf.len()` without an error means
/// the stream ended.
fn fill(reader: &mut impl Read, buf: &mut [u8]) -> (usize, Option<io::Error>) {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return (filled, Some(e)),
        }
    }
    (filled, None)
}

/// Hashes the rest of the stored bytes (unless a read already failed) and reports them.
fn finish_stored(raw: StoredReader<'_>) -> StoredFacts {
    if let Some(e) = raw.get_ref().failed.take() {
        // Reading on after a failure could wait out another timeout; the digest is moot anyway.
        return StoredFacts {
            blob_digest: Digest::sha256_of(&[]),
            stored_bytes: Sha256Reader::bytes(&raw),
            read_error: Some(e),
        };
    }
    match raw.finish() {
        Ok((blob_digest, stored_bytes)) => StoredFacts {
            blob_digest,
            stored_bytes,
            read_error: None,
        },
        Err(e) => StoredFacts {
            blob_digest: Digest::sha256_of(&[]),
            stored_bytes: 0,
            read_error: Some(e),
        },
    }
}

/// Reads the stored bytes to their end in whole chunks and sends them to the decoding thread.
/// When the decoder hangs up (the compressed stream ended or is corrupt) the rest is still read
/// and hashed, so the digest covers every byte.
fn pump_stored(
    mut raw: StoredReader<'_>,
    tx: mpsc::SyncSender<Chunk>,
    recycled: &mpsc::Receiver<Vec<u8>>,
) -> StoredFacts {
    let mut spare = None;
    loop {
        let mut chunk = spare
            .take()
            .or_else(|| recycled.try_recv().ok())
            .unwrap_or_else(|| vec![0u8; CHUNK]);
        let (filled, error) = fill(&mut raw, &mut chunk);
        if filled > 0
            && let Err(mpsc::SendError((back, _))) = tx.send((chunk, filled))
        {
            spare = Some(back);
        }
        if error.is_some() || filled < CHUNK {
            break;
        }
    }
    drop(tx);
    finish_stored(raw)
}

/// Decodes `decoder` to its end in whole chunks, sending them to the tar parser (and hashing
/// them when `hash_tar`). Gives the raw stream back for its digest.
fn decode_stream<R: Read>(
    mut decoder: Decoder<R>,
    hash_tar: bool,
    tx: mpsc::SyncSender<Chunk>,
    recycled: &mpsc::Receiver<Vec<u8>>,
) -> (DecodedFacts, R) {
    let mut tar_sha = hash_tar.then(<sha2::Sha256 as sha2::Digest>::new);
    let mut tar_bytes = 0u64;
    let mut spare = None;
    let decode_error = loop {
        let mut chunk = spare
            .take()
            .or_else(|| recycled.try_recv().ok())
            .unwrap_or_else(|| vec![0u8; CHUNK]);
        let (filled, error) = fill(&mut decoder, &mut chunk);
        if let Some(h) = tar_sha.as_mut() {
            sha2::Digest::update(h, &chunk[..filled]);
        }
        let done = error.is_some() || filled < CHUNK;
        let decode_error = error.map(|e| (tar_bytes + filled as u64, e));
        tar_bytes += filled as u64;
        // When the tar parser has stopped (end marker or error), keep decoding so the digests
        // cover every byte.
        if filled > 0
            && let Err(mpsc::SendError((back, _))) = tx.send((chunk, filled))
        {
            spare = Some(back);
        }
        if done {
            break decode_error;
        }
    };
    drop(tx);
    let tar_digest = tar_sha.map(|h| Digest::from_sha256(sha2::Digest::finalize(h).into()));
    let decoded = DecodedFacts {
        tar_digest,
        tar_bytes,
        decode_error,
    };
    (decoded, decoder.into_raw())
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

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::progress::NoProgress;

    /// A layer tar with one file of `size` pseudo-random bytes (they barely compress, so the
    /// gzip blob is several chunks long too).
    fn layer_tar(size: usize) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let data: Vec<u8> = (0..size)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        let mut header = tar::Header::new_gnu();
        header.set_size(size as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append_data(&mut header, "big", &data[..]).unwrap();
        builder.into_inner().unwrap()
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    fn read(blob: &[u8], expect: &BlobExpectation) -> Result<LayerChanges, LayerError> {
        let mut stored: &[u8] = blob;
        read_layer(&mut stored, expect, ReadOptions::default(), &NoProgress)
    }

    /// Yields `good` bytes of `data`, then fails like a dropped connection.
    struct Cut<'a> {
        data: &'a [u8],
        good: usize,
    }

    impl Read for Cut<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.good == 0 {
                return Err(io::Error::new(io::ErrorKind::ConnectionReset, "cut"));
            }
            let n = buf.len().min(self.good).min(self.data.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            self.good -= n;
            Ok(n)
        }
    }

    #[test]
    fn both_pipelines_give_the_same_layer_and_digests() {
        // Several chunks long, so the channels and buffer recycling are exercised.
        let tar = layer_tar(3 * CHUNK + 123);
        let gz = gzip(&tar);
        let expect_gz = BlobExpectation {
            digest: Some(Digest::sha256_of(&gz)),
            diff_id: Some(Digest::sha256_of(&tar)),
            verify_compressed_diff_id: true,
        };
        let plain = read(&tar, &BlobExpectation::default()).unwrap();
        let packed = read(&gz, &expect_gz).unwrap();
        assert_eq!(plain.compression, Compression::None);
        assert_eq!(packed.compression, Compression::Gzip);
        assert_eq!(plain.entries, packed.entries);
        assert_eq!(plain.tar_bytes, tar.len() as u64);
        assert_eq!(packed.tar_bytes, tar.len() as u64);
        assert_eq!(packed.stored_bytes, gz.len() as u64);
        assert_eq!(packed.blob_digest, Digest::sha256_of(&gz));
        assert_eq!(plain.diff_id, Some(Digest::sha256_of(&tar)));
        assert_eq!(packed.diff_id, Some(Digest::sha256_of(&tar)));
    }

    #[test]
    fn the_digest_covers_bytes_after_the_compressed_stream() {
        let tar = layer_tar(2 * CHUNK);
        let mut blob = gzip(&tar);
        let clean = Digest::sha256_of(&blob);
        blob.extend_from_slice(&[0u8; 5 * CHUNK]);
        let expect = BlobExpectation {
            digest: Some(clean),
            ..BlobExpectation::default()
        };
        match read(&blob, &expect) {
            Err(LayerError::DigestMismatch { actual, .. }) => {
                assert_eq!(actual, Digest::sha256_of(&blob));
            }
            other => panic!("expected a digest mismatch, got {other:?}"),
        }
    }

    #[test]
    fn a_read_failure_is_reported_as_such_for_every_compression() {
        let tar = layer_tar(4 * CHUNK);
        for blob in [tar.clone(), gzip(&tar)] {
            assert!(blob.len() > 3 * CHUNK);
            for good in [0, 3, CHUNK / 2, blob.len() / 2, blob.len() - 1] {
                let mut cut = Cut { data: &blob, good };
                let result = read_layer(
                    &mut cut,
                    &BlobExpectation::default(),
                    ReadOptions::default(),
                    &NoProgress,
                );
                assert!(
                    matches!(result, Err(LayerError::Read(ref e)) if e.kind() == io::ErrorKind::ConnectionReset),
                    "cut after {good} bytes: {result:?}"
                );
            }
        }
    }

    #[test]
    fn corrupt_gzip_with_the_right_digest_is_a_decoding_error() {
        let tar = layer_tar(2 * CHUNK);
        let mut blob = gzip(&tar);
        let middle = blob.len() / 2;
        for b in &mut blob[middle..middle + 64] {
            *b ^= 0x5a;
        }
        let expect = BlobExpectation {
            digest: Some(Digest::sha256_of(&blob)),
            ..BlobExpectation::default()
        };
        assert!(matches!(
            read(&blob, &expect),
            Err(LayerError::Decompress {
                compression: "gzip",
                ..
            })
        ));
    }
}
