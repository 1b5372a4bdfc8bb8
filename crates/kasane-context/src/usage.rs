//! Which part of the context each COPY/ADD (and `RUN --mount=type=bind`) of a Dockerfile uses,
//! and what is sent but used by none of them.
//!
//! Sources follow BuildKit's rules: a source is cleaned and taken relative to the context root
//! (a leading `/` or `..` cannot leave it); a source with `*`, `?`, `[` or `\` is a Go
//! `filepath.Match` glob matched against paths with the same number of components; whatever a
//! source names is copied recursively when it is a directory. Not from the context: `--from`
//! sources, ADD of URLs and git references, heredoc sources, `RUN --mount` with `from=`.
//! `--exclude` patterns are .dockerignore-style patterns matched against the path relative to
//! the matched source (BuildKit's copy applies them below the source it resolved).
//! `--parents` only changes the destination, so it does not change what is used.

use std::collections::HashMap;

use kasane_dockerfile::scope::{BuildArgs, Field, resolve};
use kasane_dockerfile::{Dockerfile, InstructionKind};

use crate::gopath::{clean, filepath_match};
use crate::matcher::PatternMatcher;
use crate::pattern::Dialect;
use crate::report::{SizedPath, parent_dirs};
use crate::walk::{ContextWalk, EntryKind};

/// One instruction that reads from the build context.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ContextSource {
    /// 1-based line of the instruction.
    pub line: u32,
    /// `COPY`, `ADD` or `RUN` (a bind mount).
    pub instruction: String,
    /// Its sources, expanded, as written relative to the context.
    pub sources: Vec<String>,
    /// Its `--exclude` patterns.
    pub excludes: Vec<String>,
}

/// What one [`ContextSource`] uses of the context.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SourceUse {
    /// The instruction.
    #[serde(flatten)]
    pub source: ContextSource,
    /// Files (and symlinks) sent that it uses.
    pub files: u64,
    /// Bytes of those files.
    pub bytes: u64,
    /// Sources that match nothing sent (the build fails on these, except for globs).
    pub missing: Vec<String>,
}

/// The context usage of a whole Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ContextUsage {
    /// Each instruction reading the context, in Dockerfile order.
    pub instructions: Vec<SourceUse>,
    /// Files sent that no instruction uses.
    pub unused_files: u64,
    /// Bytes of those files.
    pub unused_bytes: u64,
    /// The largest unused paths (directories whose content is all unused, or files), biggest
    /// first.
    pub largest_unused: Vec<SizedPath>,
}

/// Whether a COPY/ADD source is a remote one (URL or git reference), which ADD fetches itself.
fn is_remote(source: &str) -> bool {
    let lower = source.to_ascii_lowercase();
    ["http://", "https://", "git://", "git@", "ssh://"]
        .iter()
        .any(|p| lower.starts_with(p))
}

/// The instructions of `df` that read from the build context, with sources expanded for
/// `args`. All stages are included (BuildKit only reads what the target needs).
pub fn context_sources(df: &Dockerfile, args: &BuildArgs) -> Vec<ContextSource> {
    let resolved = resolve(df, args);
    let instructions = df.instructions();
    let mut out = Vec::new();
    for stage in &resolved.stages {
        for ri in &stage.instructions {
            let Some(ins) = instructions.get(ri.instruction) else {
                continue;
            };
            match ins.kind {
                InstructionKind::Copy | InstructionKind::Add => {
                    if ins.flag("from").is_some() {
                        continue;
                    }
                    let sources: Vec<String> = ri
                        .fields_of(Field::Source)
                        .filter_map(|f| f.value.clone().ok())
                        .filter(|s| !(ins.kind == InstructionKind::Add && is_remote(s)))
                        .collect();
                    if sources.is_empty() {
                        continue;
                    }
                    let excludes = ins
                        .flags
                        .iter()
                        .filter(|f| f.name == "exclude")
                        .filter_map(|f| f.value.clone())
                        .collect();
                    out.push(ContextSource {
                        line: ins.start_line(),
                        instruction: if ins.kind == InstructionKind::Copy {
                            "COPY".into()
                        } else {
                            "ADD".into()
                        },
                        sources,
                        excludes,
                    });
                }
                InstructionKind::Run => {
                    for mount in ins.flags.iter().filter(|f| f.name == "mount") {
                        if let Some(source) = bind_mount_source(mount.value.as_deref()) {
                            out.push(ContextSource {
                                line: ins.start_line(),
                                instruction: "RUN".into(),
                                sources: vec![source],
                                excludes: Vec::new(),
                            });
                        }
                    }
                }
                _ => {}
            }
        }
    }
    out
}

/// The context path a `--mount` value binds, when it is a bind mount of the context.
fn bind_mount_source(value: Option<&str>) -> Option<String> {
    let mut kind = "bind";
    let mut source = "/";
    for part in value?.split(',') {
        let (key, val) = part.split_once('=').unwrap_or((part, ""));
        match key.trim().to_ascii_lowercase().as_str() {
            "type" => kind = val,
            "from" => return None,
            "source" | "src" => source = val,
            _ => {}
        }
    }
    (kind == "bind").then(|| source.to_owned())
}

/// A cleaned source, ready to match paths relative to the context root.
#[derive(Debug)]
pub(crate) enum SourceMatcher {
    /// The whole context.
    All,
    /// A literal path.
    Literal(Vec<u8>),
    /// A `filepath.Match` glob.
    Glob(Vec<u8>),
}

impl SourceMatcher {
    pub(crate) fn new(source: &str) -> Self {
        // BuildKit resolves sources inside the context: `/a`, `../a` and `a` are the same.
        let mut cleaned = clean(format!("/{source}").as_bytes());
        cleaned.remove(0);
        if cleaned.is_empty() {
            return SourceMatcher::All;
        }
        if cleaned
            .iter()
            .any(|b| matches!(b, b'*' | b'?' | b'[' | b'\\'))
        {
            SourceMatcher::Glob(cleaned)
        } else {
            SourceMatcher::Literal(cleaned)
        }
    }

    /// The length of the prefix of `path` this source names (the root its content is copied
    /// from), if it names `path` or a parent of it.
    pub(crate) fn root_len(&self, path: &[u8]) -> Option<usize> {
        match self {
            SourceMatcher::All => Some(0),
            SourceMatcher::Literal(lit) => (path == lit.as_slice()
                || (path.starts_with(lit) && path.get(lit.len()) == Some(&b'/')))
            .then_some(lit.len()),
            SourceMatcher::Glob(glob) => {
                let depth = glob.iter().filter(|&&b| b == b'/').count();
                let end = path
                    .iter()
                    .enumerate()
                    .filter(|(_, b)| **b == b'/')
                    .map(|(i, _)| i)
                    .nth(depth)
                    .unwrap_or(path.len());
                filepath_match(glob, &path[..end])
                    .unwrap_or(false)
                    .then_some(end)
            }
        }
    }
}

/// For each of `sources`, whether it uses the file at `path` (net of `excludes`).
fn uses(sources: &[SourceMatcher], excludes: Option<&PatternMatcher>, path: &[u8]) -> Vec<bool> {
    sources
        .iter()
        .map(|s| match s.root_len(path) {
            None => false,
            Some(root) => {
                let Some(excludes) = excludes else {
                    return true;
                };
                let rel = if root == path.len() {
                    path.rsplit(|&b| b == b'/').next().unwrap_or(path)
                } else if root == 0 {
                    path
                } else {
                    &path[root + 1..]
                };
                !excludes.matches_or_parent_matches(rel).unwrap_or(false)
            }
        })
        .collect()
}

/// Works out which sent files each of `sources` uses, and what no source uses.
pub fn context_usage(walk: &ContextWalk, sources: &[ContextSource], top: usize) -> ContextUsage {
    let compiled: Vec<(Vec<SourceMatcher>, Option<PatternMatcher>)> = sources
        .iter()
        .map(|s| {
            let excludes = (!s.excludes.is_empty())
                .then(|| PatternMatcher::new(&s.excludes, Dialect::Moby).ok())
                .flatten();
            (
                s.sources.iter().map(|x| SourceMatcher::new(x)).collect(),
                excludes,
            )
        })
        .collect();
    let mut uses_out: Vec<SourceUse> = sources
        .iter()
        .map(|s| SourceUse {
            source: s.clone(),
            files: 0,
            bytes: 0,
            missing: Vec::new(),
        })
        .collect();
    let mut hit = vec![vec![false; 0]; sources.len()];
    for (h, s) in hit.iter_mut().zip(sources) {
        *h = vec![false; s.sources.len()];
    }
    let mut unused: Vec<(&[u8], u64)> = Vec::new();
    // Directories: (bytes, files, any used file below).
    let mut dirs: HashMap<&[u8], (u64, u64, bool)> = HashMap::new();
    for entry in &walk.sent {
        if !matches!(entry.kind, EntryKind::File | EntryKind::Symlink) {
            continue;
        }
        let mut used = false;
        for (i, (matchers, excludes)) in compiled.iter().enumerate() {
            let per_source = uses(matchers, excludes.as_ref(), &entry.path);
            if per_source.iter().any(|&b| b) {
                used = true;
                uses_out[i].files += 1;
                uses_out[i].bytes += entry.size;
            }
            for (h, b) in hit[i].iter_mut().zip(per_source) {
                *h |= b;
            }
        }
        for dir in parent_dirs(&entry.path) {
            let slot = dirs.entry(dir).or_default();
            slot.0 += entry.size;
            slot.1 += 1;
            slot.2 |= used;
        }
        if !used {
            unused.push((&entry.path, entry.size));
        }
    }
    for ((u, h), s) in uses_out.iter_mut().zip(&hit).zip(sources) {
        u.missing = s
            .sources
            .iter()
            .zip(h)
            .filter(|(_, h)| !**h)
            .map(|(s, _)| s.clone())
            .collect();
    }
    let unused_files = unused.len() as u64;
    let unused_bytes = unused.iter().map(|u| u.1).sum();
    // Report the topmost wholly-unused directory instead of each file inside it.
    let wholly_unused = |p: &[u8]| dirs.get(p).is_some_and(|d| !d.2);
    let mut largest: HashMap<&[u8], (u64, u64)> = HashMap::new();
    for (path, size) in &unused {
        let mut top_path: &[u8] = path;
        let mut p: &[u8] = path;
        while let Some(slash) = p.iter().rposition(|&b| b == b'/') {
            p = &p[..slash];
            if wholly_unused(p) {
                top_path = p;
            }
        }
        let slot = largest.entry(top_path).or_default();
        slot.0 += size;
        slot.1 += 1;
    }
    let mut largest: Vec<_> = largest.into_iter().collect();
    largest.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(b.0)));
    ContextUsage {
        instructions: uses_out,
        unused_files,
        unused_bytes,
        largest_unused: largest
            .into_iter()
            .take(top)
            .map(|(path, (bytes, files))| SizedPath {
                path: String::from_utf8_lossy(path).into_owned(),
                bytes,
                files,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::walk::ContextEntry;

    fn walk(files: &[(&str, u64)]) -> ContextWalk {
        ContextWalk {
            sent: files
                .iter()
                .map(|(p, s)| ContextEntry {
                    path: p.as_bytes().to_vec(),
                    kind: EntryKind::File,
                    size: *s,
                })
                .collect(),
            ..ContextWalk::default()
        }
    }

    fn sources(text: &str) -> Vec<ContextSource> {
        let df = Dockerfile::parse(text).unwrap();
        context_sources(&df, &BuildArgs::new())
    }

    #[test]
    fn finds_context_sources_only() {
        let s = sources(
            "FROM scratch AS b\nCOPY a b /x/\nCOPY --from=b /x /y\nADD https://e.com/f /f\n\
             ADD --exclude=*.md docs /d\nARG D=src\nCOPY $D/*.go /s/\n\
             RUN --mount=type=bind,source=tools,target=/t --mount=type=cache,target=/c \
             --mount=from=b,target=/b true\n",
        );
        let got: Vec<_> = s
            .iter()
            .map(|s| (s.line, s.instruction.as_str(), s.sources.join(" ")))
            .collect();
        assert_eq!(
            got,
            vec![
                (2, "COPY", "a b".to_owned()),
                (5, "ADD", "docs".to_owned()),
                (7, "COPY", "src/*.go".to_owned()),
                (8, "RUN", "tools".to_owned()),
            ]
        );
        assert_eq!(s[1].excludes, vec!["*.md".to_owned()]);
    }

    #[test]
    fn heredoc_sources_are_not_context() {
        let s = sources("FROM scratch\nCOPY <<EOF /x\nhi\nEOF\n");
        assert!(s.is_empty(), "{s:?}");
    }

    #[test]
    fn usage_counts_dirs_globs_excludes_and_unused() {
        let w = walk(&[
            ("Dockerfile", 10),
            ("src/a.go", 100),
            ("src/b.go", 200),
            ("src/sub/c.go", 300),
            ("docs/x.md", 5),
            ("docs/y.txt", 7),
            ("node_modules/big/i.js", 1000),
            ("node_modules/big/j.js", 2000),
        ]);
        let s = sources(
            "FROM scratch\nCOPY src/*.go /s/\nCOPY --exclude=*.md docs /d\nCOPY /nope ./docs/../src/sub /z\n",
        );
        let u = context_usage(&w, &s, 5);
        let counts: Vec<_> = u.instructions.iter().map(|i| (i.files, i.bytes)).collect();
        assert_eq!(counts, vec![(2, 300), (1, 7), (1, 300)]);
        assert_eq!(u.instructions[2].missing, vec!["/nope".to_owned()]);
        assert!(u.instructions[0].missing.is_empty());
        assert_eq!((u.unused_files, u.unused_bytes), (4, 3015));
        assert_eq!(u.largest_unused[0].path, "node_modules");
        assert_eq!(
            (u.largest_unused[0].bytes, u.largest_unused[0].files),
            (3000, 2)
        );
        let rest: Vec<_> = u.largest_unused[1..].iter().map(|p| &p.path).collect();
        assert_eq!(rest, vec!["Dockerfile", "docs/x.md"]);
    }

    #[test]
    fn dot_source_uses_everything() {
        let w = walk(&[("a", 1), ("b/c", 2)]);
        let u = context_usage(&w, &sources("FROM scratch\nCOPY . /app\n"), 5);
        assert_eq!((u.instructions[0].files, u.unused_files), (2, 0));
    }

    #[test]
    fn glob_matches_directories_recursively() {
        let w = walk(&[("svc-a/x/y", 1), ("svc-b/z", 2), ("other/q", 4)]);
        let u = context_usage(&w, &sources("FROM scratch\nCOPY svc-* /app/\n"), 5);
        assert_eq!((u.instructions[0].files, u.instructions[0].bytes), (2, 3));
        assert_eq!(u.unused_bytes, 4);
    }
}
