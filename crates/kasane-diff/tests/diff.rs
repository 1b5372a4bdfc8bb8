//! Comparing images the tests write: every kind of difference, whiteouts and opaque directories
//! applied before comparing, mtimes ignored unless asked for.

#[path = "../../kasane-image/tests/image_builder/mod.rs"]
mod image_builder;

use image_builder::*;
use kasane_diff::{DiffOptions, diff};
use kasane_image::Image;

fn image(layers: Vec<Vec<u8>>) -> Image {
    let dir = tempfile::tempdir().unwrap();
    layout_image(layers, dir.path()).1
}

fn base() -> Vec<u8> {
    LayerTar::new()
        .dir("etc/")
        .file("etc/conf", b"one\n")
        .file("etc/same", b"same")
        .file_with("etc/run.sh", b"#!/bin/sh\n", 0o644, 0, 0)
        .dir("app/")
        .file("app/old.txt", b"old!!!!")
        .symlink("app/link", "old.txt")
        .file("app/owned", b"x")
        .finish()
}

fn paths(list: &[kasane_diff::OneSided]) -> Vec<String> {
    list.iter().map(|e| e.path.to_string()).collect()
}

#[test]
fn reports_each_kind_of_change() {
    let a = image(vec![base()]);
    let b = image(vec![
        base(),
        LayerTar::new()
            .dir("etc/")
            .file("etc/conf", b"two!!\n")
            .file_with("etc/run.sh", b"#!/bin/sh\n", 0o755, 0, 0)
            .dir("app/")
            .whiteout("app/old.txt")
            .file("app/new.txt", b"brand new file")
            .symlink("app/link", "new.txt")
            .file_with("app/owned", b"x", 0o644, 1000, 1000)
            .dir("app/sub/")
            .finish(),
    ]);
    let d = diff(&a, &b, DiffOptions::default());
    assert!(!d.identical);
    assert_eq!(paths(&d.added), vec!["/app/new.txt", "/app/sub"]);
    assert_eq!(paths(&d.removed), vec!["/app/old.txt"]);
    let changed: Vec<(String, Vec<&str>)> = d
        .changed
        .iter()
        .map(|c| {
            (
                c.path.to_string(),
                c.changes.iter().map(|f| f.field).collect(),
            )
        })
        .collect();
    assert_eq!(
        changed,
        vec![
            ("/app/link".to_owned(), vec!["link_target"]),
            ("/app/owned".to_owned(), vec!["owner"]),
            ("/etc/conf".to_owned(), vec!["size", "content"]),
            ("/etc/run.sh".to_owned(), vec!["mode"]),
        ]
    );
    let conf = &d.changed[2];
    assert_eq!(conf.size_delta, 2);
    assert_eq!(
        (conf.changes[0].a.as_str(), conf.changes[0].b.as_str()),
        ("4", "6")
    );
    // Size by directory: /app gained 14 - 7 bytes, /etc 2.
    let dirs: Vec<(String, i64, u64, u64, u64)> = d
        .directories
        .iter()
        .map(|x| (x.path.to_string(), x.delta, x.added, x.removed, x.changed))
        .collect();
    assert_eq!(
        dirs,
        vec![
            ("/app".to_owned(), 7, 2, 1, 2),
            ("/etc".to_owned(), 2, 0, 0, 2),
        ]
    );
}

#[test]
fn identical_filesystems_from_different_layers_and_mtimes() {
    // The same final files, reached through different layers (a file written then deleted, an
    // opaque directory) and with other mtimes: identical unless mtimes are compared.
    let a = image(vec![base()]);
    let mut later = LayerTar::new();
    later = later.dir("etc/").dir("app/");
    let b = image(vec![
        LayerTar::new()
            .dir("etc/")
            .file("etc/conf", b"one\n")
            .file("etc/same", b"same")
            .file_with("etc/run.sh", b"#!/bin/sh\n", 0o644, 0, 0)
            .dir("app/")
            .file("app/tmp", b"temporary")
            .finish(),
        later
            .opaque("app")
            .file("app/old.txt", b"old!!!!")
            .symlink("app/link", "old.txt")
            .file("app/owned", b"x")
            .finish(),
    ]);
    let d = diff(&a, &b, DiffOptions::default());
    assert!(d.identical, "{d:#?}");
    assert_eq!(d.a.bytes, d.b.bytes);
    assert_eq!(d.b.layers, 2);

    // Other mtimes show with `mtime: true`.
    let mut c = base();
    // Patch every header's mtime: rebuild the layer with another time.
    let mut rebuilt = tar::Builder::new(Vec::new());
    for e in tar::Archive::new(&c[..]).entries().unwrap() {
        let mut e = e.unwrap();
        let mut h = e.header().clone();
        h.set_mtime(1_800_000_000);
        h.set_cksum();
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut e, &mut data).unwrap();
        rebuilt.append(&h, &data[..]).unwrap();
    }
    c = rebuilt.into_inner().unwrap();
    let c = image(vec![c]);
    assert!(diff(&a, &c, DiffOptions::default()).identical);
    let with_mtime = diff(
        &a,
        &c,
        DiffOptions {
            mtime: true,
            ..DiffOptions::default()
        },
    );
    assert_eq!(with_mtime.changed.len(), 8);
    assert!(
        with_mtime
            .changed
            .iter()
            .all(|c| c.changes[0].field == "mtime")
    );
}

#[test]
fn a_file_replaced_by_a_directory_changes_kind() {
    let a = image(vec![LayerTar::new().file("x", b"file").finish()]);
    let b = image(vec![LayerTar::new().dir("x/").file("x/y", b"y").finish()]);
    let d = diff(&a, &b, DiffOptions::default());
    assert_eq!(paths(&d.added), vec!["/x/y"]);
    assert_eq!(d.changed[0].changes[0].field, "kind");
    assert_eq!(d.changed[0].changes[0].a, "regular");
    assert_eq!(d.changed[0].changes[0].b, "directory");
}
