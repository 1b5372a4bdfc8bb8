//! The smallest .dockerignore that still sends everything a Dockerfile's COPY/ADD sources need.
//!
//! The file is `*` followed by one exception per source root. A glob source stays a glob when
//! its wildcards are only in the last component and it matches only files: the classic builder
//! skips an excluded directory unless an exception literally starts with its path, so a glob
//! that names directories is written as the literal directories it matches instead. The
//! Dockerfile and the ignore file get exceptions of their own (the classic builder needs them
//! sent). Exclusion lines of the current file are carried over after the exceptions, so what
//! it left out stays out. The result is checked by walking the context with it for every
//! engine: [`MinimalIgnore::unsent`] lists needed files some engine would not send.

use std::collections::BTreeSet;
use std::path::Path;

use crate::generate::{GENERATED_HEADER, GenerateError, escape_literal};
use crate::ignorefile::read_all;
use crate::matcher::PatternMatcher;
use crate::usage::{ContextSource, SourceMatcher};
use crate::walk::{ContextWalk, Engine, EntryKind, WalkError, walk_context};

/// A generated minimal ignore file and its check.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MinimalIgnore {
    /// The complete file text.
    pub text: String,
    /// Files the sources need (with the current ignore file applied).
    pub needed_files: u64,
    /// Needed files that some engine would not send with the new file (empty when correct),
    /// as `engine: path`.
    pub unsent: Vec<String>,
    /// Whether a source uses the whole context, so nothing can be left out.
    pub whole_context: bool,
}

/// Why a minimal ignore file cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum MinimalError {
    /// A path cannot be written as a pattern.
    #[error(transparent)]
    Generate(#[from] GenerateError),
    /// Checking the result failed.
    #[error(transparent)]
    Walk(#[from] WalkError),
    /// A generated pattern does not compile (a bug).
    #[error("generated pattern does not compile: {0}")]
    Pattern(#[from] crate::pattern::PatternError),
}

/// Builds the minimal ignore file for `sources` over `current` (the walk with the current
/// ignore file, whose text is `existing`), then checks it by walking `context` for each
/// engine. `dockerfile` is the Dockerfile's path relative to the context, if it is inside.
pub fn generate_from_dockerfile(
    context: &Path,
    current: &ContextWalk,
    sources: &[ContextSource],
    dockerfile: Option<&[u8]>,
    existing: Option<&[u8]>,
) -> Result<MinimalIgnore, MinimalError> {
    let matchers: Vec<(String, SourceMatcher)> = sources
        .iter()
        .flat_map(|s| s.sources.iter())
        .map(|s| (s.clone(), SourceMatcher::new(s)))
        .collect();
    let whole_context = matchers
        .iter()
        .any(|(_, m)| matches!(m, SourceMatcher::All));
    let mut needed: Vec<&[u8]> = Vec::new();
    // Per source: the roots it matched and whether all of them are files.
    let mut roots: Vec<(BTreeSet<&[u8]>, bool)> = vec![(BTreeSet::new(), true); matchers.len()];
    for entry in &current.sent {
        if !matches!(entry.kind, EntryKind::File | EntryKind::Symlink) {
            continue;
        }
        let mut used = false;
        for ((_, m), (set, files_only)) in matchers.iter().zip(roots.iter_mut()) {
            if let Some(len) = m.root_len(&entry.path) {
                used = true;
                set.insert(&entry.path[..len]);
                *files_only &= len == entry.path.len();
            }
        }
        if used {
            needed.push(&entry.path);
        }
    }

    let mut lines: Vec<String> = Vec::new();
    if !whole_context {
        lines.push("*".into());
        let mut exceptions = BTreeSet::new();
        for ((text, m), (set, files_only)) in matchers.iter().zip(&roots) {
            match m {
                SourceMatcher::Glob(glob) if *files_only && !glob_in_parent(glob) => {
                    if !set.is_empty() {
                        exceptions.insert(String::from_utf8_lossy(glob).into_owned());
                    }
                }
                _ => {
                    for root in set {
                        exceptions.insert(lossless(&escape_literal(root)?, text)?);
                    }
                }
            }
        }
        lines.extend(exceptions.into_iter().map(|e| format!("!{e}")));
        if let Some(old) = existing {
            for line in read_all(old).unwrap_or_default() {
                let p = String::from_utf8_lossy(&line.pattern).into_owned();
                if !p.starts_with('!') && p.trim() != "*" {
                    lines.push(p);
                }
            }
        }
        for own in [dockerfile, Some(b".dockerignore".as_slice())]
            .into_iter()
            .flatten()
        {
            lines.push(format!(
                "!{}",
                lossless(&escape_literal(own)?, &String::from_utf8_lossy(own))?
            ));
        }
    } else if let Some(old) = existing {
        // Everything is needed: the current file is already as small as it can be.
        for line in read_all(old).unwrap_or_default() {
            lines.push(String::from_utf8_lossy(&line.pattern).into_owned());
        }
    }
    let mut text = format!("{GENERATED_HEADER} --from-dockerfile\n");
    for l in &lines {
        text.push_str(l);
        text.push('\n');
    }

    let mut unsent = Vec::new();
    for engine in [
        Engine::BuildKit,
        Engine::Classic,
        Engine::Docker20BuildKit,
        Engine::Docker20Classic,
    ] {
        let matcher = PatternMatcher::new(&lines, engine.dialect())?;
        let walk = walk_context(context, &matcher, engine)?;
        let sent: BTreeSet<&[u8]> = walk.sent.iter().map(|e| e.path.as_slice()).collect();
        for n in &needed {
            if !sent.contains(n) {
                unsent.push(format!("{engine:?}: {}", String::from_utf8_lossy(n)));
            }
        }
    }
    Ok(MinimalIgnore {
        text,
        needed_files: needed.len() as u64,
        unsent,
        whole_context,
    })
}

/// Whether a glob has wildcards before its last component.
fn glob_in_parent(glob: &[u8]) -> bool {
    let last_slash = glob.iter().rposition(|&b| b == b'/').unwrap_or(0);
    glob[..last_slash]
        .iter()
        .any(|b| matches!(b, b'*' | b'?' | b'[' | b'\\'))
}

/// The escaped pattern as text; names that are not UTF-8 cannot be written into the file.
fn lossless(escaped: &[u8], shown: &str) -> Result<String, GenerateError> {
    String::from_utf8(escaped.to_vec()).map_err(|_| GenerateError::Unrepresentable(shown.into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::walk::walk_context;
    use kasane_dockerfile::scope::BuildArgs;

    fn tree(files: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for f in files {
            let p = dir.path().join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, f.as_bytes()).unwrap();
        }
        dir
    }

    fn generate(dir: &Path, dockerfile: &str) -> MinimalIgnore {
        let df = kasane_dockerfile::parse(dockerfile).unwrap();
        let sources = crate::usage::context_sources(&df, &BuildArgs::new());
        let none = PatternMatcher::new(Vec::<&[u8]>::new(), crate::Dialect::Moby).unwrap();
        let current = walk_context(dir, &none, Engine::BuildKit).unwrap();
        generate_from_dockerfile(dir, &current, &sources, Some(b"Dockerfile"), None).unwrap()
    }

    #[test]
    fn literal_and_file_globs() {
        let dir = tree(&[
            "Dockerfile",
            "src/a.go",
            "src/b/c.go",
            "cfg/x.toml",
            "cfg/y.txt",
            "big/blob",
            "[weird]/f",
        ]);
        let m = generate(
            dir.path(),
            "FROM scratch\nCOPY src /s\nCOPY cfg/*.toml /c/\nCOPY [[]weird] /w\n",
        );
        assert_eq!(
            m.text,
            "# generated by kasane ignore --from-dockerfile\n*\n!\\[weird\\]\n!cfg/*.toml\n!src\n!Dockerfile\n!.dockerignore\n"
        );
        assert_eq!(m.needed_files, 4);
        assert!(m.unsent.is_empty(), "{:?}", m.unsent);
    }

    #[test]
    fn directory_globs_become_literal_roots() {
        let dir = tree(&[
            "svc-a/x/y",
            "svc-b/z",
            "other/q",
            "p/q1/go.mod",
            "p/q2/go.mod",
        ]);
        let m = generate(
            dir.path(),
            "FROM scratch\nCOPY svc-* /app/\nCOPY p/*/go.mod /m/\n",
        );
        assert!(m.text.contains("\n!svc-a\n!svc-b\n"), "{}", m.text);
        assert!(
            m.text.contains("\n!p/q1/go.mod\n!p/q2/go.mod\n"),
            "{}",
            m.text
        );
        assert!(!m.text.contains("other"));
        assert!(m.unsent.is_empty(), "{:?}", m.unsent);
    }

    #[test]
    fn whole_context_keeps_existing() {
        let dir = tree(&["a", "b/c"]);
        let m = generate(dir.path(), "FROM scratch\nCOPY . /app\n");
        assert!(m.whole_context);
        assert_eq!(m.text, "# generated by kasane ignore --from-dockerfile\n");
    }

    /// Property: on generated trees and Dockerfiles, every needed file is still sent by
    /// every engine.
    #[test]
    fn every_needed_file_is_sent_on_generated_trees() {
        let names = ["a", "b", "a.go", "b.md", "x y", "#h", "!n", "[k]"];
        let mut seed = 0x2545_f491_u64;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        for _ in 0..30 {
            let mut files = Vec::new();
            for _ in 0..12 {
                let depth = 1 + next(3);
                let parts: Vec<&str> = (0..depth).map(|_| names[next(names.len())]).collect();
                files.push(parts.join("/"));
            }
            // Drop paths whose prefix is also a file.
            files.sort();
            files.dedup();
            let files: Vec<String> = files
                .iter()
                .filter(|f| !files.iter().any(|g| f.starts_with(&format!("{g}/"))))
                .cloned()
                .collect();
            let refs: Vec<&str> = files.iter().map(String::as_str).collect();
            let dir = tree(&refs);
            let pick = |i: usize| {
                let f = &files[i % files.len()];
                match i % 3 {
                    0 => f.clone(),
                    1 => f.split('/').next().unwrap().to_owned(),
                    _ => match f.rsplit_once('/') {
                        Some((d, _)) => format!("{d}/*"),
                        None => "a*".to_owned(),
                    },
                }
            };
            let srcs: Vec<String> = (0..3)
                .map(|_| pick(next(100)))
                .filter(|s| !s.contains(['[', ' ', '#', '!']))
                .collect();
            if srcs.is_empty() {
                continue;
            }
            let df = format!("FROM scratch\nCOPY {} /d/\n", srcs.join(" "));
            let m = generate(dir.path(), &df);
            assert!(
                m.unsent.is_empty(),
                "{df}{files:?}\n{}{:?}",
                m.text,
                m.unsent
            );
        }
    }
}
