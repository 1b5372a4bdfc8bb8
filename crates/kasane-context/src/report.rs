//! The context report: what a build sends, how big it is, and how long it takes to send.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::ignorefile::{IgnoreFileError, locate_ignore_file, read_ignore_file};
use crate::matcher::PatternMatcher;
use crate::pattern::PatternError;
use crate::walk::{ContextWalk, Engine, EntryKind, WalkError, walk_context};

/// A path with a size, for the "largest" lists.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SizedPath {
    /// Path relative to the context root (lossy UTF-8 for display).
    pub path: String,
    /// Bytes of file content at or below the path.
    pub bytes: u64,
    /// Files at or below the path.
    pub files: u64,
}

/// An entry the engine would fail on.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    /// Path relative to the context root.
    pub path: String,
    /// What went wrong.
    pub message: String,
}

/// Everything `kasane context` reports about one context.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ContextReport {
    /// The engine modelled.
    pub engine: Engine,
    /// The ignore file used, if any.
    pub ignore_file: Option<PathBuf>,
    /// Number of patterns in it.
    pub patterns: usize,
    /// Regular files sent.
    pub files: u64,
    /// Directories sent.
    pub dirs: u64,
    /// Symbolic links sent (as links).
    pub symlinks: u64,
    /// FIFOs, sockets and devices sent.
    pub other: u64,
    /// Bytes of file content sent.
    pub bytes: u64,
    /// Size of the context as an uncompressed tar stream (what the classic builder sends).
    pub tar_bytes: u64,
    /// Files and links the ignore file leaves out.
    pub excluded_files: u64,
    /// Bytes of content the ignore file leaves out.
    pub excluded_bytes: u64,
    /// The largest files sent, biggest first.
    pub largest_files: Vec<SizedPath>,
    /// The directories holding the most bytes sent, biggest first.
    pub largest_dirs: Vec<SizedPath>,
    /// Entries that could not be read (the build would fail on them).
    pub problems: Vec<Problem>,
}

/// Why a context cannot be reported on.
#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    /// The ignore file cannot be read.
    #[error(transparent)]
    IgnoreFile(#[from] IgnoreFileError),
    /// A pattern is invalid (the build fails the same way).
    #[error("{}: {source}", path.display())]
    Pattern {
        /// The ignore file.
        path: PathBuf,
        /// The bad pattern.
        source: PatternError,
    },
    /// The walk failed.
    #[error(transparent)]
    Walk(#[from] WalkError),
}

/// Options for [`analyze_context`].
#[derive(Debug, Clone)]
pub struct ContextOptions<'a> {
    /// The Dockerfile (for the per-Dockerfile ignore file and the classic builder's rule
    /// that the Dockerfile and `.dockerignore` are always sent).
    pub dockerfile: Option<&'a Path>,
    /// Use this ignore file instead of looking for one; `Some(None)` means none at all.
    pub ignore_file: Option<Option<&'a Path>>,
    /// The engine to model.
    pub engine: Engine,
    /// How many entries the "largest" lists hold.
    pub top: usize,
}

/// Walks `context` as `options.engine` would and reports what it sends.
pub fn analyze_context(
    context: &Path,
    options: &ContextOptions<'_>,
) -> Result<(ContextReport, ContextWalk), ContextError> {
    let engine = options.engine;
    let ignore_file = match options.ignore_file {
        Some(explicit) => explicit.map(Path::to_path_buf),
        None => locate_ignore_file(context, options.dockerfile, engine.builder()),
    };
    let mut patterns: Vec<Vec<u8>> = match &ignore_file {
        Some(path) => read_ignore_file(path)?
            .into_iter()
            .map(|l| l.pattern)
            .collect(),
        None => Vec::new(),
    };
    let pattern_count = patterns.len();
    let pattern_error = |source| ContextError::Pattern {
        path: ignore_file.clone().unwrap_or_default(),
        source,
    };
    let mut matcher = PatternMatcher::new(&patterns, engine.dialect()).map_err(pattern_error)?;
    if engine.builder() == crate::ignorefile::Builder::Classic {
        // The CLI always sends `.dockerignore` and the Dockerfile (the daemon drops them
        // again), adding exceptions for them when the patterns exclude them.
        let mut extra = vec![b".dockerignore".to_vec()];
        if let Some(rel) = options
            .dockerfile
            .and_then(|d| d.strip_prefix(context).ok())
            .map(|r| r.as_os_str().as_encoded_bytes().to_vec())
        {
            extra.push(rel);
        }
        for keep in extra {
            if matcher.matches_cleaned(&keep).unwrap_or(false) {
                patterns.push([b"!".as_slice(), &keep].concat());
            }
        }
        matcher = PatternMatcher::new(&patterns, engine.dialect()).map_err(pattern_error)?;
    }
    let walk = walk_context(context, &matcher, engine)?;
    let report = summarize(&walk, engine, ignore_file, pattern_count, options.top);
    Ok((report, walk))
}

fn summarize(
    walk: &ContextWalk,
    engine: Engine,
    ignore_file: Option<PathBuf>,
    patterns: usize,
    top: usize,
) -> ContextReport {
    let mut report = ContextReport {
        engine,
        ignore_file,
        patterns,
        files: 0,
        dirs: 0,
        symlinks: 0,
        other: 0,
        bytes: 0,
        tar_bytes: 1024,
        excluded_files: walk.excluded.len() as u64,
        excluded_bytes: walk.excluded.iter().map(|e| e.size).sum(),
        largest_files: Vec::new(),
        largest_dirs: Vec::new(),
        problems: walk
            .problems
            .iter()
            .map(|p| Problem {
                path: String::from_utf8_lossy(&p.path).into_owned(),
                message: p.message.clone(),
            })
            .collect(),
    };
    let mut dirs: HashMap<&[u8], (u64, u64)> = HashMap::new();
    let mut files = Vec::new();
    for entry in &walk.sent {
        report.tar_bytes += tar_entry_size(&entry.path, entry.size);
        match entry.kind {
            EntryKind::File => {
                report.files += 1;
                report.bytes += entry.size;
                files.push(entry);
                for dir in parent_dirs(&entry.path) {
                    let slot = dirs.entry(dir).or_default();
                    slot.0 += entry.size;
                    slot.1 += 1;
                }
            }
            EntryKind::Dir => report.dirs += 1,
            EntryKind::Symlink => report.symlinks += 1,
            EntryKind::Other => report.other += 1,
        }
    }
    files.sort_by(|a, b| b.size.cmp(&a.size).then(a.path.cmp(&b.path)));
    report.largest_files = files
        .iter()
        .take(top)
        .map(|e| SizedPath {
            path: String::from_utf8_lossy(&e.path).into_owned(),
            bytes: e.size,
            files: 1,
        })
        .collect();
    let mut dirs: Vec<_> = dirs.into_iter().collect();
    dirs.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(b.0)));
    report.largest_dirs = dirs
        .into_iter()
        .take(top)
        .map(|(path, (bytes, files))| SizedPath {
            path: String::from_utf8_lossy(path).into_owned(),
            bytes,
            files,
        })
        .collect();
    report
}

/// Bytes an entry takes in a tar stream: a 512-byte header (plus a PAX header pair for
/// names that do not fit ustar's 100+155 bytes), and the content padded to 512 bytes.
/// The directories above a context path, nearest first (`a/b/c` gives `a/b`, then `a`).
pub(crate) fn parent_dirs(path: &[u8]) -> impl Iterator<Item = &[u8]> {
    std::iter::successors(Some(path), |p| {
        p.iter().rposition(|&b| b == b'/').map(|i| &p[..i])
    })
    .skip(1)
}

fn tar_entry_size(path: &[u8], size: u64) -> u64 {
    let long_name = path.len() > 100 && !ustar_splittable(path);
    let pax = if long_name || !path.is_ascii() {
        1024
    } else {
        0
    };
    512 + pax + size.div_ceil(512) * 512
}

fn ustar_splittable(path: &[u8]) -> bool {
    path.len() <= 256
        && path
            .iter()
            .enumerate()
            .any(|(i, &b)| b == b'/' && i <= 155 && path.len() - i - 1 <= 100 && i > 0)
}

/// Why a bandwidth could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "cannot read bandwidth `{0}`: use a number and a unit such as 100Mbit/s, 1Gbps, 50MB/s or 10MiB/s"
)]
pub struct RateError(pub String);

/// Parses a transfer rate such as `100Mbit/s`, `1Gbps`, `50MB/s`, `10MiB/s` into bytes per
/// second. Bits use SI prefixes; `B` means bytes.
pub fn parse_rate(text: &str) -> Result<f64, RateError> {
    let err = || RateError(text.to_owned());
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let value: f64 = number.parse().map_err(|_| err())?;
    let unit = unit.trim();
    let unit = unit.strip_suffix("/s").unwrap_or(unit);
    let (prefix, rest) = match unit.char_indices().nth(1) {
        Some(_) if unit.len() > 1 && "kKMGT".contains(&unit[..1]) => unit.split_at(1),
        _ => ("", unit),
    };
    let (binary, rest) = match rest.strip_prefix('i') {
        Some(r) => (true, r),
        None => (false, rest),
    };
    let multiplier: f64 = match (prefix, binary) {
        ("", _) => 1.0,
        ("k" | "K", false) => 1e3,
        ("M", false) => 1e6,
        ("G", false) => 1e9,
        ("T", false) => 1e12,
        ("k" | "K", true) => 1024.0,
        ("M", true) => 1024.0 * 1024.0,
        ("G", true) => 1024.0 * 1024.0 * 1024.0,
        _ => return Err(err()),
    };
    let bits = match rest {
        "bit" | "bps" | "b" => true,
        "B" | "Bps" => false,
        _ => return Err(err()),
    };
    let bytes = value * multiplier / if bits { 8.0 } else { 1.0 };
    if bytes > 0.0 && bytes.is_finite() {
        Ok(bytes)
    } else {
        Err(err())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parent_dirs_nearest_first() {
        let dirs: Vec<&[u8]> = parent_dirs(b"a/b/c").collect();
        assert_eq!(dirs, [&b"a/b"[..], &b"a"[..]]);
        assert_eq!(parent_dirs(b"top").count(), 0);
    }

    #[test]
    fn rates() {
        assert_eq!(parse_rate("100Mbit/s").unwrap(), 12.5e6);
        assert_eq!(parse_rate("1Gbps").unwrap(), 125e6);
        assert_eq!(parse_rate("50MB/s").unwrap(), 50e6);
        assert_eq!(parse_rate("10MiB/s").unwrap(), 10.0 * 1024.0 * 1024.0);
        assert_eq!(parse_rate("800kbit").unwrap(), 100e3);
        assert!(parse_rate("fast").is_err());
        assert!(parse_rate("0MB/s").is_err());
        assert!(parse_rate("10 parsecs").is_err());
    }

    #[test]
    fn tar_sizes() {
        assert_eq!(tar_entry_size(b"a", 0), 512);
        assert_eq!(tar_entry_size(b"a", 1), 1024);
        assert_eq!(tar_entry_size(b"a", 512), 1024);
        assert_eq!(tar_entry_size(&[b'a'; 120], 0), 1536);
    }
}
