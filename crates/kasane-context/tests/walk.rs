//! Context walks on hostile trees: symlink loops, non-UTF-8 names, exceptions under
//! excluded directories, and the engines' different pruning rules.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use kasane_context::{Engine, EntryKind, PatternMatcher, walk_context};

fn touch(root: &Path, rel: &str, size: usize) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, vec![b'x'; size]).unwrap();
}

fn sent(root: &Path, patterns: &[&str], engine: Engine) -> Vec<String> {
    let matcher = PatternMatcher::new(patterns, engine.dialect()).unwrap();
    let walk = walk_context(root, &matcher, engine).unwrap();
    walk.sent
        .iter()
        .map(|e| String::from_utf8_lossy(&e.path).into_owned())
        .collect()
}

#[test]
fn symlinks_are_sent_as_links_and_loops_do_not_hang() {
    let dir = tempfile::tempdir().unwrap();
    touch(dir.path(), "a/f", 3);
    std::os::unix::fs::symlink("..", dir.path().join("a/up")).unwrap();
    std::os::unix::fs::symlink("loop", dir.path().join("loop")).unwrap();
    let matcher = PatternMatcher::new::<_, &str>([], Engine::BuildKit.dialect()).unwrap();
    let walk = walk_context(dir.path(), &matcher, Engine::BuildKit).unwrap();
    let kinds: Vec<_> = walk
        .sent
        .iter()
        .map(|e| (String::from_utf8_lossy(&e.path).into_owned(), e.kind))
        .collect();
    assert_eq!(
        kinds,
        [
            ("a".to_owned(), EntryKind::Dir),
            ("a/f".to_owned(), EntryKind::File),
            ("a/up".to_owned(), EntryKind::Symlink),
            ("loop".to_owned(), EntryKind::Symlink),
        ]
    );
}

#[test]
fn non_utf8_names_are_kept_as_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let name = OsStr::from_bytes(b"caf\xe9");
    std::fs::write(dir.path().join(name), b"x").unwrap();
    std::fs::write(dir.path().join("keep"), b"x").unwrap();
    let matcher = PatternMatcher::new(["caf?"], Engine::BuildKit.dialect()).unwrap();
    let walk = walk_context(dir.path(), &matcher, Engine::BuildKit).unwrap();
    assert_eq!(walk.sent.len(), 1);
    assert_eq!(walk.excluded[0].path, b"caf\xe9");
}

#[test]
fn exceptions_below_excluded_directories_depend_on_the_engine() {
    let dir = tempfile::tempdir().unwrap();
    touch(dir.path(), "x/keep/k", 1);
    touch(dir.path(), "x/other", 1);
    let patterns = ["*", "!*/keep"];
    // BuildKit walks on (a wildcard exception) and re-includes x/keep, sending x lazily.
    assert_eq!(
        sent(dir.path(), &patterns, Engine::BuildKit),
        ["x", "x/keep", "x/keep/k"]
    );
    // The classic builder only descends for a literal prefix.
    assert!(sent(dir.path(), &patterns, Engine::Classic).is_empty());
    assert!(sent(dir.path(), &patterns, Engine::Docker20BuildKit).is_empty());
}

#[test]
fn docker20_buildkit_sends_descended_excluded_directories() {
    let dir = tempfile::tempdir().unwrap();
    touch(dir.path(), "a/b/w", 1);
    touch(dir.path(), "a/b/z", 1);
    let patterns = ["*", "!a/b/w/x"];
    assert_eq!(
        sent(dir.path(), &patterns, Engine::Docker20BuildKit),
        ["a", "a/b"]
    );
    assert!(sent(dir.path(), &patterns, Engine::BuildKit).is_empty());
}

#[test]
fn excluded_trees_are_tallied() {
    let dir = tempfile::tempdir().unwrap();
    touch(dir.path(), "node_modules/p/index.js", 100);
    touch(dir.path(), "src/main.rs", 10);
    let matcher = PatternMatcher::new(["node_modules"], Engine::BuildKit.dialect()).unwrap();
    let walk = walk_context(dir.path(), &matcher, Engine::BuildKit).unwrap();
    assert_eq!(walk.excluded.len(), 1);
    assert_eq!(walk.excluded[0].size, 100);
    assert_eq!(walk.sent.len(), 2);
}

#[test]
fn a_missing_root_is_an_error() {
    let matcher = PatternMatcher::new::<_, &str>([], Engine::BuildKit.dialect()).unwrap();
    assert!(walk_context(Path::new("/nonexistent/ctx"), &matcher, Engine::BuildKit).is_err());
}
