//! Generated ignore files, proven with the matcher and the walker: every file under a kept
//! path that the kept directories' own ignore files do not exclude is sent, and nothing else.

use std::path::{Path, PathBuf};

use kasane_context::{
    Dialect, Engine, PatternMatcher, generate_keep, read_all, read_ignore_file, walk_context,
};

fn write(root: &Path, rel: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, rel).unwrap();
}

/// Whether a nested ignore file in `dir` (relative path) excludes `rel` when it is read as
/// if `dir` were the context root.
fn nested_excludes(root: &Path, rel: &str) -> bool {
    let mut excluded = false;
    let parts: Vec<&str> = rel.split('/').collect();
    for depth in 1..parts.len() {
        let dir = parts[..depth].join("/");
        let file = root.join(&dir).join(".dockerignore");
        if !file.is_file() {
            continue;
        }
        let patterns: Vec<Vec<u8>> = read_ignore_file(&file)
            .unwrap()
            .into_iter()
            .map(|l| l.pattern)
            .collect();
        let pm = PatternMatcher::new(&patterns, Dialect::Moby).unwrap();
        let inner = parts[depth..].join("/");
        excluded = pm.matches_or_parent_matches(inner.as_bytes()).unwrap();
    }
    excluded
}

#[test]
fn generated_file_keeps_exactly_the_kept_paths() {
    let mut seed: u64 = 0x6b65_6570;
    let mut next = |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    let names = [
        "a",
        "b",
        "src",
        "lib",
        "node_modules",
        "x.log",
        "k.log",
        "d+1",
        "#t",
        "!n",
    ];
    let nested = [
        "node_modules\n",
        "*.log\n!k.log\n",
        "*\n!src\n",
        "**/x.log\n",
        "./a\n",
    ];
    for round in 0..40 {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let mut files = Vec::new();
        for _ in 0..25 {
            let depth = 1 + next(4);
            let rel: Vec<&str> = (0..depth).map(|_| names[next(names.len())]).collect();
            let rel = rel.join("/");
            // A file cannot also be a directory.
            if files.iter().any(|f: &String| {
                f.starts_with(&format!("{rel}/")) || rel.starts_with(&format!("{f}/"))
            }) {
                continue;
            }
            write(root, &rel);
            files.push(rel);
        }
        let top: Vec<String> = files
            .iter()
            .map(|f| f.split('/').next().unwrap().to_owned())
            .collect();
        let mut keep: Vec<PathBuf> = Vec::new();
        for _ in 0..=next(2) {
            let f = &files[next(files.len())];
            let parts: Vec<&str> = f.split('/').collect();
            keep.push(parts[..1 + next(parts.len())].join("/").into());
        }
        for t in top.iter().take(2) {
            if root.join(t).is_dir() && next(2) == 0 {
                std::fs::write(
                    root.join(t).join(".dockerignore"),
                    nested[next(nested.len())],
                )
                .unwrap();
            }
        }
        let generated = generate_keep(root, &keep, None).unwrap();
        let patterns: Vec<Vec<u8>> = read_all(generated.text.as_bytes())
            .unwrap()
            .into_iter()
            .map(|l| l.pattern)
            .collect();
        let pm = PatternMatcher::new(&patterns, Dialect::Moby).unwrap();
        let walk = walk_context(root, &pm, Engine::BuildKit).unwrap();
        let sent: Vec<String> = walk
            .sent
            .iter()
            .filter(|e| e.kind == kasane_context::EntryKind::File)
            .map(|e| String::from_utf8_lossy(&e.path).into_owned())
            .collect();
        for f in &files {
            let kept = keep.iter().any(|k| {
                let k = k.to_str().unwrap();
                f == k || f.starts_with(&format!("{k}/"))
            });
            let expected = kept && !nested_excludes(root, f);
            assert_eq!(
                sent.contains(f),
                expected,
                "round {round}: {f} (keep {keep:?})\n{}",
                generated.text
            );
        }
        for s in &sent {
            assert!(
                files.contains(s) || s.ends_with(".dockerignore"),
                "unexpected {s}"
            );
        }
    }
}
