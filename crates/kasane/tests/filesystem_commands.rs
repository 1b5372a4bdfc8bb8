//! CLI snapshots of `kasane diff` (text and JSON), `export`, `squash` and `explore` (summaries
//! and every refusal), on archives written here, byte for byte deterministic.

#[path = "../../kasane-image/tests/image_builder/mod.rs"]
mod image_builder;

mod common;
use std::path::Path;

use common::run;
use image_builder::*;

fn write_archive(dir: &Path, name: &str, layers: Vec<Vec<u8>>) -> String {
    let img = TestImage::new(
        layers
            .into_iter()
            .enumerate()
            .map(|(i, t)| {
                TestLayer::new(
                    t,
                    Comp::None,
                    &format!("RUN /bin/sh -c step-{i} # buildkit"),
                )
            })
            .collect(),
    );
    let path = dir.join(format!("{name}.tar"));
    std::fs::write(&path, docker_legacy(&[(&format!("{name}:1"), &img)]).tar()).unwrap();
    path.file_name().unwrap().to_str().unwrap().to_owned()
}

fn base() -> Vec<u8> {
    LayerTar::new()
        .dir("etc/")
        .file("etc/conf", b"one\n")
        .file_with("etc/run.sh", b"#!/bin/sh\n", 0o644, 0, 0)
        .dir("app/")
        .file("app/old.txt", b"old!!!!")
        .symlink("app/link", "old.txt")
        .file("app/owned", b"x")
        .dir("usr/")
        .dir("usr/lib/")
        .file("usr/lib/libbig.so", &vec![1u8; 12_000])
        .finish()
}

fn changed() -> Vec<u8> {
    LayerTar::new()
        .dir("etc/")
        .file("etc/conf", b"two!!\n")
        .file_with("etc/run.sh", b"#!/bin/sh\n", 0o755, 0, 0)
        .dir("app/")
        .whiteout("app/old.txt")
        .file("app/new.txt", b"brand new file")
        .symlink("app/link", "new.txt")
        .file_with("app/owned", b"x", 0o644, 1000, 1000)
        .dir("usr/lib/")
        .whiteout("usr/lib/libbig.so")
        .finish()
}

fn pair(dir: &Path) -> (String, String) {
    (
        write_archive(dir, "before", vec![base()]),
        write_archive(dir, "after", vec![base(), changed()]),
    )
}

#[test]
fn diff_text() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = pair(dir.path());
    let (out, err, code) = run(&["diff", &a, &b], dir.path());
    assert_eq!((code, err.as_str()), (1, ""), "images that differ exit 1");
    insta::assert_snapshot!(out);
}

#[test]
fn diff_json() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = pair(dir.path());
    let (out, _, code) = run(&["diff", "--json", "--depth", "1", &a, &b], dir.path());
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["schema"], "kasane.diff/v1");
    assert_eq!(v["identical"], false);
    insta::assert_snapshot!(out);
}

#[test]
fn diff_identical_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let (a, _) = pair(dir.path());
    let (out, _, code) = run(&["diff", &a, &a], dir.path());
    assert_eq!(code, 0);
    insta::assert_snapshot!(out);
    let (out, _, code) = run(&["diff", "--json", &a, &a], dir.path());
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["identical"], true);
}

#[test]
fn diff_of_a_missing_image() {
    let dir = tempfile::tempdir().unwrap();
    let (a, _) = pair(dir.path());
    let (out, err, code) = run(&["diff", &a, "nope.tar"], dir.path());
    assert_eq!((code, out.as_str()), (2, ""));
    insta::assert_snapshot!(err);
}

#[test]
fn export_and_squash_summaries() {
    let dir = tempfile::tempdir().unwrap();
    let (_, b) = pair(dir.path());
    let (out, err, code) = run(&["export", &b, "-o", "fs.tar"], dir.path());
    assert_eq!((code, out.as_str()), (0, ""));
    let (_, err_dir, code) = run(&["export", &b, "-o", "fs"], dir.path());
    assert_eq!(code, 0);
    let (_, err_squash, code) = run(
        &[
            "squash",
            &b,
            "-o",
            "squashed.tar",
            "--from-layer",
            "0",
            "--tag",
            "after:squashed",
        ],
        dir.path(),
    );
    assert_eq!(code, 0);
    // Not root: the directory export says owners were not kept.
    let err_dir = err_dir.replace(
        "note: owners were not kept: only root can set them (tar output keeps them)\n",
        "",
    );
    insta::assert_snapshot!(format!("{err}---\n{err_dir}---\n{err_squash}"));
    assert!(dir.path().join("fs/app/new.txt").exists());
    // Squashed and original: the same files.
    let (out, _, code) = run(&["diff", &b, "squashed.tar", "--mtime"], dir.path());
    assert_eq!(code, 0, "{out}");
    // No temporary files are left next to the outputs.
    let leftovers: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// Runs `kasane export` on an archive with `layers` and returns stderr; the export must be
/// refused (exit 2) with nothing written: no output directory, nothing outside.
fn refused(layers: Vec<Vec<u8>>) -> String {
    let dir = tempfile::tempdir().unwrap();
    let a = write_archive(dir.path(), "hostile", layers);
    std::fs::create_dir(dir.path().join("outside")).unwrap();
    let before: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    let (out, err, code) = run(&["export", &a, "-o", "fs"], dir.path());
    assert_eq!((code, out.as_str()), (2, ""));
    let after: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(before, after, "nothing was created");
    assert_eq!(
        std::fs::read_dir(dir.path().join("outside"))
            .unwrap()
            .count(),
        0
    );
    let (_, err_tar, code) = run(&["export", &a, "-o", "fs.tar"], dir.path());
    assert_eq!(code, 2);
    assert_eq!(err_tar, err, "tar output is refused the same way");
    assert!(!dir.path().join("fs.tar").exists());
    err
}

#[test]
fn export_refuses_dot_dot_entries() {
    insta::assert_snapshot!(refused(vec![
        LayerTar::new()
            .file("ok", b"fine")
            .raw(b"../outside/pwned", b"x")
            .finish()
    ]));
}

#[test]
fn export_refuses_writing_through_an_absolute_symlink() {
    insta::assert_snapshot!(refused(vec![
        LayerTar::new().symlink("escape", "/tmp").finish(),
        LayerTar::new().file("escape/pwned", b"x").finish(),
    ]));
}

#[test]
fn export_refuses_a_symlinked_parent_directory() {
    insta::assert_snapshot!(refused(vec![
        LayerTar::new()
            .symlink("lib", "../outside")
            .file("lib/pwned", b"x")
            .finish()
    ]));
}

#[test]
fn export_refuses_hard_links_to_missing_targets() {
    insta::assert_snapshot!(refused(vec![
        LayerTar::new().file("a", b"a").finish(),
        LayerTar::new().hardlink("b", "missing").finish(),
    ]));
}

#[test]
fn other_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (a, _) = pair(dir.path());
    std::fs::create_dir(dir.path().join("full")).unwrap();
    std::fs::write(dir.path().join("full/precious"), b"x").unwrap();
    let mut all = String::new();
    for args in [
        vec!["export", a.as_str(), "-o", "full"],
        vec!["export", a.as_str(), "--layer", "7", "-o", "x"],
        vec!["squash", a.as_str(), "-o", "s.tar", "--from-layer", "1"],
        vec!["explore", a.as_str()],
    ] {
        let (out, err, code) = run(&args, dir.path());
        assert_eq!((code, out.as_str()), (2, ""), "{args:?}");
        all.push_str(&format!("$ kasane {}\n{err}", args.join(" ")));
    }
    insta::assert_snapshot!(all);
    assert_eq!(
        std::fs::read(dir.path().join("full/precious")).unwrap(),
        b"x"
    );
    assert!(!dir.path().join("s.tar").exists());
}
