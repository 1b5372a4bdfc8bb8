//! The context walk: which entries a build sends, decided the way each engine decides.

use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::ignorefile::Builder;
use crate::matcher::{MatchInfo, PatternMatcher};
use crate::pattern::{Dialect, PatternError};

/// The engine whose context transfer to reproduce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Engine {
    /// BuildKit (fsutil) as in Docker 23+ and buildx: per-path results from the parent
    /// directory, an excluded directory is skipped only when no exception could re-include
    /// anything below it, and excluded directories are sent only when something inside is.
    BuildKit,
    /// The classic builder of Docker 23+: same matching, but an excluded directory is skipped
    /// unless an exception literally starts with its path.
    Classic,
    /// Docker 20.10's built-in BuildKit: 20.10 patterns, the deprecated one-parent check, and
    /// excluded directories it descends into are sent (empty) themselves.
    Docker20BuildKit,
    /// Docker 20.10's classic builder.
    Docker20Classic,
}

impl Engine {
    /// The pattern dialect this engine compiles with.
    pub fn dialect(self) -> Dialect {
        match self {
            Engine::BuildKit | Engine::Classic => Dialect::Moby,
            Engine::Docker20BuildKit | Engine::Docker20Classic => Dialect::Docker20,
        }
    }

    /// Which builder, for choosing the ignore file.
    pub fn builder(self) -> Builder {
        match self {
            Engine::BuildKit | Engine::Docker20BuildKit => Builder::BuildKit,
            Engine::Classic | Engine::Docker20Classic => Builder::Classic,
        }
    }
}

/// What kind of entry the build sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EntryKind {
    /// A regular file (its content is sent).
    File,
    /// A directory.
    Dir,
    /// A symbolic link, sent as a link and never followed.
    Symlink,
    /// A FIFO, socket or device node.
    Other,
}

/// One entry of the context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextEntry {
    /// Path relative to the context root, `/`-separated, as bytes (names need not be UTF-8).
    pub path: Vec<u8>,
    /// What it is.
    pub kind: EntryKind,
    /// Content size in bytes (regular files only).
    pub size: u64,
}

/// Something the walk could not read. Engines fail the build on these unless the path is
/// excluded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalkProblem {
    /// Path relative to the context root.
    pub path: Vec<u8>,
    /// What went wrong.
    pub message: String,
}

/// The result of walking a context.
#[derive(Debug, Clone, Default)]
pub struct ContextWalk {
    /// Entries sent, in walk order (sorted by name within each directory).
    pub sent: Vec<ContextEntry>,
    /// Files and links left out, with their sizes (what the ignore file saves).
    pub excluded: Vec<ContextEntry>,
    /// Entries that could not be read.
    pub problems: Vec<WalkProblem>,
}

/// Why a walk failed.
#[derive(Debug, thiserror::Error)]
pub enum WalkError {
    /// The context root cannot be read.
    #[error("cannot read the context directory {path}: {source}")]
    Root {
        /// The context root.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A pattern failed while matching (Docker fails the build the same way).
    #[error("error matching {path}: {source}")]
    Pattern {
        /// The path being matched.
        path: String,
        /// The pattern error.
        source: PatternError,
    },
}

/// Walks `root` and decides every entry with `matcher` the way `engine` does.
pub fn walk_context(
    root: &Path,
    matcher: &PatternMatcher,
    engine: Engine,
) -> Result<ContextWalk, WalkError> {
    let meta = std::fs::metadata(root).map_err(|source| WalkError::Root {
        path: root.to_path_buf(),
        source,
    })?;
    if !meta.is_dir() {
        return Err(WalkError::Root {
            path: root.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::NotADirectory, "not a directory"),
        });
    }
    let walker = Walker {
        matcher,
        engine,
        prune_allowed: prune_allowed(matcher, engine),
    };
    let mut out = ContextWalk::default();
    let mut pending_dirs = Vec::new();
    walker.walk_dir(
        root,
        &mut Vec::new(),
        &MatchInfo::default(),
        false,
        &mut pending_dirs,
        &mut out,
    )?;
    Ok(out)
}

/// fsutil's `onlyPrefixExcludeExceptions`: BuildKit gives up skipping excluded directories
/// when any exception still holds a pattern character after dropping a trailing `/**` or `/*`.
fn prune_allowed(matcher: &PatternMatcher, engine: Engine) -> bool {
    if engine != Engine::BuildKit {
        return true;
    }
    !matcher.patterns().iter().any(|p| {
        p.is_exclusion()
            && without_trailing_glob(p.text())
                .iter()
                .any(|b| b"*[]?^\\".contains(b))
    })
}

fn without_trailing_glob(p: &[u8]) -> &[u8] {
    let p = p.strip_suffix(b"/**").unwrap_or(p);
    p.strip_suffix(b"/*").unwrap_or(p)
}

struct Walker<'a> {
    matcher: &'a PatternMatcher,
    engine: Engine,
    prune_allowed: bool,
}

impl Walker<'_> {
    fn is_excluded(&self, path: &[u8], parent: &MatchInfo) -> Result<(bool, MatchInfo), WalkError> {
        let result = match self.engine {
            Engine::BuildKit | Engine::Classic => {
                self.matcher.matches_using_parent_results(path, parent)
            }
            Engine::Docker20BuildKit | Engine::Docker20Classic => self
                .matcher
                .matches_legacy(path)
                .map(|m| (m, MatchInfo::default())),
        };
        result.map_err(|source| WalkError::Pattern {
            path: String::from_utf8_lossy(path).into_owned(),
            source,
        })
    }

    /// Whether an excluded directory must still be walked because an exception may
    /// re-include something below it.
    fn must_descend(&self, dir: &[u8]) -> bool {
        if !self.matcher.has_exclusions() {
            return false;
        }
        if !self.prune_allowed {
            return true;
        }
        let mut dir_slash = dir.to_vec();
        dir_slash.push(b'/');
        self.matcher.patterns().iter().any(|p| {
            if !p.is_exclusion() {
                return false;
            }
            let text = if self.engine == Engine::BuildKit {
                without_trailing_glob(p.text())
            } else {
                p.text()
            };
            let mut pat_slash = text.to_vec();
            pat_slash.push(b'/');
            pat_slash.starts_with(&dir_slash)
        })
    }

    /// Walks one directory. `rel` is its path relative to the root (empty for the root);
    /// `excluded_above` is true inside an excluded directory that is walked for exceptions;
    /// `pending` holds excluded ancestors that BuildKit sends only once something inside is.
    fn walk_dir(
        &self,
        dir: &Path,
        rel: &mut Vec<u8>,
        info: &MatchInfo,
        excluded_above: bool,
        pending: &mut Vec<ContextEntry>,
        out: &mut ContextWalk,
    ) -> Result<(), WalkError> {
        let mut names: Vec<_> = match std::fs::read_dir(dir) {
            Ok(entries) => entries
                .filter_map(Result::ok)
                .map(|e| e.file_name())
                .collect(),
            Err(e) => {
                if rel.is_empty() {
                    return Err(WalkError::Root {
                        path: dir.to_path_buf(),
                        source: e,
                    });
                }
                if !excluded_above {
                    out.problems.push(WalkProblem {
                        path: rel.clone(),
                        message: e.to_string(),
                    });
                }
                return Ok(());
            }
        };
        names.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
        for name in names {
            let full = dir.join(&name);
            let base = rel.len();
            if !rel.is_empty() {
                rel.push(b'/');
            }
            rel.extend_from_slice(name.as_bytes());
            let result = self.visit(&full, rel, info, pending, out);
            rel.truncate(base);
            result?;
        }
        Ok(())
    }

    fn visit(
        &self,
        full: &Path,
        rel: &mut Vec<u8>,
        parent_info: &MatchInfo,
        pending: &mut Vec<ContextEntry>,
        out: &mut ContextWalk,
    ) -> Result<(), WalkError> {
        let (excluded, info) = self.is_excluded(rel, parent_info)?;
        let meta = match std::fs::symlink_metadata(full) {
            Ok(meta) => meta,
            Err(e) => {
                if !excluded {
                    out.problems.push(WalkProblem {
                        path: rel.clone(),
                        message: e.to_string(),
                    });
                }
                return Ok(());
            }
        };
        let file_type = meta.file_type();
        let kind = if file_type.is_dir() {
            EntryKind::Dir
        } else if file_type.is_file() {
            EntryKind::File
        } else if file_type.is_symlink() {
            EntryKind::Symlink
        } else {
            EntryKind::Other
        };
        let entry = ContextEntry {
            path: rel.clone(),
            kind,
            size: if kind == EntryKind::File {
                meta.size()
            } else {
                0
            },
        };
        if kind != EntryKind::Dir {
            if excluded {
                out.excluded.push(entry);
            } else {
                out.sent.append(pending);
                out.sent.push(entry);
            }
            return Ok(());
        }
        if !excluded {
            out.sent.append(pending);
            out.sent.push(entry);
            return self.walk_dir(full, rel, &info, false, pending, out);
        }
        if !self.must_descend(rel) {
            self.tally_excluded(full, rel, out);
            return Ok(());
        }
        match self.engine {
            Engine::Docker20BuildKit => {
                out.sent.append(pending);
                out.sent.push(entry);
                self.walk_dir(full, rel, &info, true, pending, out)
            }
            Engine::BuildKit | Engine::Classic | Engine::Docker20Classic => {
                // Sent only if something inside is (BuildKit), or created implicitly by the
                // daemon when it unpacks a file below it (classic builder).
                let depth = pending.len();
                pending.push(entry);
                let result = self.walk_dir(full, rel, &info, true, pending, out);
                pending.truncate(depth);
                result
            }
        }
    }

    /// Records the files and links of a skipped directory as excluded (for the report).
    fn tally_excluded(&self, dir: &Path, rel: &mut Vec<u8>, out: &mut ContextWalk) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.filter_map(Result::ok) {
            let Ok(file_type) = entry.file_type() else {
                continue;
            };
            let base = rel.len();
            rel.push(b'/');
            rel.extend_from_slice(entry.file_name().as_bytes());
            if file_type.is_dir() {
                self.tally_excluded(&entry.path(), rel, out);
            } else {
                let size = if file_type.is_file() {
                    entry.metadata().map(|m| m.len()).unwrap_or(0)
                } else {
                    0
                };
                let kind = if file_type.is_file() {
                    EntryKind::File
                } else if file_type.is_symlink() {
                    EntryKind::Symlink
                } else {
                    EntryKind::Other
                };
                out.excluded.push(ContextEntry {
                    path: rel.clone(),
                    kind,
                    size,
                });
            }
            rel.truncate(base);
        }
    }
}
