//! `plan::merged` written to a directory and to a tar, on images the tests write: whiteouts,
//! opaque directories, overwrites, links and metadata; and hostile layers that must be refused
//! with nothing written anywhere.

#[path = "../../kasane-image/tests/image_builder/mod.rs"]
mod image_builder;

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use image_builder::*;
use kasane_export::{DirSink, ExportError, Selection, TarSink, TargetPolicy, plan, write_plan};
use kasane_image::{Image, ImagePath, Source};

/// A file system entry as compared in tests: kind, size, mode, link target, contents.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    kind: char,
    mode: u32,
    link: String,
    content: Vec<u8>,
}

fn read_dir_tree(root: &Path) -> BTreeMap<String, Seen> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            let md = std::fs::symlink_metadata(&p).unwrap();
            let rel = p.strip_prefix(root).unwrap().to_str().unwrap().to_owned();
            let ft = md.file_type();
            let (kind, link, content) = if ft.is_dir() {
                stack.push(p.clone());
                ('d', String::new(), Vec::new())
            } else if ft.is_symlink() {
                let t = std::fs::read_link(&p).unwrap();
                ('l', t.to_str().unwrap().to_owned(), Vec::new())
            } else if ft.is_file() {
                ('f', String::new(), std::fs::read(&p).unwrap())
            } else {
                ('o', String::new(), Vec::new())
            };
            out.insert(
                rel,
                Seen {
                    kind,
                    mode: md.permissions().mode() & 0o7777,
                    link,
                    content,
                },
            );
        }
    }
    out
}

fn read_tar(bytes: &[u8]) -> BTreeMap<String, Seen> {
    let mut out = BTreeMap::new();
    let mut ar = tar::Archive::new(bytes);
    for e in ar.entries().unwrap() {
        let mut e = e.unwrap();
        let path = e
            .path()
            .unwrap()
            .to_str()
            .unwrap()
            .trim_end_matches('/')
            .to_owned();
        let h = e.header().clone();
        let mut content = Vec::new();
        std::io::Read::read_to_end(&mut e, &mut content).unwrap();
        let kind = match h.entry_type() {
            tar::EntryType::Directory => 'd',
            tar::EntryType::Symlink => 'l',
            tar::EntryType::Regular => 'f',
            tar::EntryType::Link => 'h',
            _ => 'o',
        };
        let link = e
            .link_name()
            .unwrap()
            .map(|l| l.to_str().unwrap().to_owned())
            .unwrap_or_default();
        out.insert(
            path,
            Seen {
                kind,
                mode: h.mode().unwrap() & 0o7777,
                link,
                content,
            },
        );
    }
    out
}

fn image_of(layers: Vec<Vec<u8>>, dir: &Path) -> (Box<dyn Source>, Image) {
    layout_image(layers, dir)
}

fn export_dir(
    src: &dyn Source,
    image: &Image,
    selection: &Selection,
    target: &Path,
) -> Result<kasane_export::Report, ExportError> {
    let plan = plan::merged(image, selection)?;
    let mut sink = DirSink::create(
        target,
        TargetPolicy::Empty,
        kasane_export::running_as_root(),
    )?;
    write_plan(src, image, &plan, &mut sink)
}

fn export_tar(src: &dyn Source, image: &Image, selection: &Selection) -> Vec<u8> {
    let plan = plan::merged(image, selection).unwrap();
    let mut sink = TarSink::new(Vec::new());
    write_plan(src, image, &plan, &mut sink).unwrap();
    sink.into_inner().unwrap()
}

/// A name longer than a tar header's 100 bytes.
fn long_name() -> String {
    format!("app/{}", "x".repeat(150))
}

fn layered() -> Vec<Vec<u8>> {
    vec![
        LayerTar::new()
            .dir("etc/")
            .file("etc/motd", b"hello\n")
            .file_with("etc/shadow", b"secret\n", 0o640, 0, 42)
            .dir("var/")
            .dir("var/cache/")
            .file("var/cache/a", b"aaaa")
            .file("var/cache/b", b"bbbb")
            .dir("usr/")
            .dir("usr/bin/")
            .file_with("usr/bin/tool", b"#!/bin/sh\n", 0o4755, 0, 0)
            .symlink("bin", "usr/bin")
            .symlink("etc/localtime", "/usr/share/zoneinfo/UTC")
            .finish(),
        LayerTar::new()
            .dir("etc/")
            .whiteout("etc/motd")
            .file("etc/issue", b"kasane\n")
            .dir("var/cache/")
            .opaque("var/cache")
            .file("var/cache/c", b"cccc")
            .dir("app/")
            .file("app/data", b"data!")
            .hardlink("app/data-link", "app/data")
            .fifo("app/pipe")
            .pax_file(
                &[
                    ("SCHILY.xattr.user.kasane", b"yes"),
                    ("path", long_name().as_bytes()),
                ],
                "app/long",
                b"long name",
            )
            .finish(),
        LayerTar::new()
            .file_with("usr/bin/tool", b"#!/bin/sh\n", 0o755, 0, 0)
            .whiteout("app/data")
            .finish(),
    ]
}

#[test]
fn directory_and_tar_hold_the_merged_filesystem() {
    let work = tempfile::tempdir().unwrap();
    let (src, image) = image_of(layered(), &work.path().join("img"));
    let target = work.path().join("out");
    let report = export_dir(src.as_ref(), &image, &Selection::default(), &target).unwrap();
    let got = read_dir_tree(&target);
    let names: Vec<&str> = got.keys().map(String::as_str).collect();
    let long = long_name();
    let mut want = vec![
        "app",
        "app/data-link",
        "app/pipe",
        &long,
        "bin",
        "etc",
        "etc/issue",
        "etc/localtime",
        "etc/shadow",
        "usr",
        "usr/bin",
        "usr/bin/tool",
        "var",
        "var/cache",
        "var/cache/c",
    ];
    want.sort_unstable();
    assert_eq!(names, want);
    assert_eq!(got["app/data-link"].content, b"data!");
    assert_eq!(got["etc/localtime"].link, "/usr/share/zoneinfo/UTC");
    assert_eq!(got["bin"].link, "usr/bin");
    assert_eq!(got["usr/bin/tool"].mode, 0o755, "the chmod of layer 2 wins");
    assert_eq!(got["etc/shadow"].mode, 0o640);
    assert_eq!(got[long.as_str()].content, b"long name");
    assert_eq!(report.files, 6);
    assert_eq!(report.fifos, 1);
    if kasane_export::running_as_root() {
        let md = std::fs::metadata(target.join("etc/shadow")).unwrap();
        assert_eq!(md.gid(), 42);
        assert_eq!(md.mtime(), 1_700_000_000);
        let dir_md = std::fs::metadata(target.join("var/cache")).unwrap();
        assert_eq!(
            dir_md.mtime(),
            1_700_000_000,
            "directory times are set last"
        );
    }

    // The tar holds the same names and contents (the hard link as a link to the file it shares).
    let tar = read_tar(&export_tar(src.as_ref(), &image, &Selection::default()));
    assert_eq!(
        tar.keys().collect::<Vec<_>>(),
        got.keys().collect::<Vec<_>>()
    );
    for (path, seen) in &tar {
        let on_disk = &got[path];
        match seen.kind {
            'h' => assert_eq!(got[&seen.link].content, on_disk.content, "{path}"),
            'o' => assert_eq!(on_disk.kind, 'o'),
            _ => assert_eq!(seen, on_disk, "{path}"),
        }
    }
}

#[test]
fn a_hard_link_outlives_its_deleted_first_name() {
    // app/data was deleted in layer 2; its link keeps the content, as a file of its own.
    let work = tempfile::tempdir().unwrap();
    let (src, image) = image_of(layered(), &work.path().join("img"));
    let tar = read_tar(&export_tar(src.as_ref(), &image, &Selection::default()));
    assert_eq!(tar["app/data-link"].kind, 'f');
    assert_eq!(tar["app/data-link"].content, b"data!");
}

#[test]
fn exports_the_filesystem_of_an_earlier_layer() {
    let work = tempfile::tempdir().unwrap();
    let (src, image) = image_of(layered(), &work.path().join("img"));
    let sel = Selection {
        upto_layer: Some(0),
        subtree: None,
    };
    let tar = read_tar(&export_tar(src.as_ref(), &image, &sel));
    assert_eq!(tar["etc/motd"].content, b"hello\n");
    assert!(tar.contains_key("var/cache/a"));
    assert!(!tar.contains_key("app"));
    assert_eq!(tar["usr/bin/tool"].mode, 0o4755);
    let err = plan::merged(
        &image,
        &Selection {
            upto_layer: Some(3),
            subtree: None,
        },
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "there is no layer 3: the image has 3 (numbered from 0)"
    );
}

#[test]
fn extracts_one_subtree_relative_to_its_parent() {
    let work = tempfile::tempdir().unwrap();
    let (src, image) = image_of(layered(), &work.path().join("img"));
    let dest = work.path().join("dest");
    std::fs::create_dir(&dest).unwrap();
    std::fs::write(dest.join("unrelated"), b"kept").unwrap();
    let sel = Selection {
        upto_layer: None,
        subtree: Some(ImagePath::normalize(b"/app").unwrap().0),
    };
    let plan = plan::merged(&image, &sel).unwrap();
    let mut sink = DirSink::create(&dest, TargetPolicy::NewNamesOnly, false).unwrap();
    write_plan(src.as_ref(), &image, &plan, &mut sink).unwrap();
    let got = read_dir_tree(&dest);
    let long = long_name();
    assert_eq!(
        got.keys().map(String::as_str).collect::<Vec<_>>(),
        vec![
            "app",
            "app/data-link",
            "app/pipe",
            long.as_str(),
            "unrelated"
        ]
    );
    // A second extract of the same thing refuses to overwrite.
    let plan = plan::merged(&image, &sel).unwrap();
    let mut sink = DirSink::create(&dest, TargetPolicy::NewNamesOnly, false).unwrap();
    let err = write_plan(src.as_ref(), &image, &plan, &mut sink).unwrap_err();
    assert!(matches!(err, ExportError::Exists { .. }), "{err}");
    assert!(
        err.to_string()
            .ends_with("app already exists; kasane never overwrites"),
        "{err}"
    );
    // A path that does not exist at that layer.
    let err = plan::merged(
        &image,
        &Selection {
            upto_layer: Some(0),
            subtree: Some(ImagePath::normalize(b"/app").unwrap().0),
        },
    )
    .unwrap_err();
    assert_eq!(err.to_string(), "/app does not exist after layer 0");
}

#[test]
fn refuses_a_target_that_is_not_empty() {
    let work = tempfile::tempdir().unwrap();
    let (src, image) = image_of(layered(), &work.path().join("img"));
    let target = work.path().join("out");
    std::fs::create_dir(&target).unwrap();
    std::fs::write(target.join("precious"), b"keep me").unwrap();
    let err = export_dir(src.as_ref(), &image, &Selection::default(), &target).unwrap_err();
    assert!(
        err.to_string().ends_with(
            "out exists and is not empty; export writes into an empty or new directory only"
        ),
        "{err}"
    );
    assert_eq!(std::fs::read(target.join("precious")).unwrap(), b"keep me");
    assert_eq!(std::fs::read_dir(&target).unwrap().count(), 1);
}

/// Every file below `dir`, for before/after comparisons.
fn snapshot(dir: &Path) -> BTreeMap<String, Seen> {
    if dir.exists() {
        read_dir_tree(dir)
    } else {
        BTreeMap::new()
    }
}

/// Exports `layers` into `sandbox/out` and checks it is refused with `expected` and that nothing
/// was written: not in the target, not next to it, not at any absolute path the layers name.
fn assert_refused(layers: Vec<Vec<u8>>, expected: &str) {
    let work = tempfile::tempdir().unwrap();
    let (src, image) = image_of(layers, &work.path().join("img"));
    let sandbox = work.path().join("sandbox");
    std::fs::create_dir_all(sandbox.join("outside")).unwrap();
    std::fs::write(sandbox.join("outside/victim"), b"original").unwrap();
    let before = snapshot(&sandbox);
    let target = sandbox.join("out");
    let err = export_dir(src.as_ref(), &image, &Selection::default(), &target).unwrap_err();
    assert_eq!(err.to_string(), expected);
    let mut after = snapshot(&sandbox);
    // The (empty) target directory itself is not created: refusals come before any write.
    assert!(
        after.remove("out").is_none(),
        "nothing, not even the target, is created"
    );
    assert_eq!(before, after);
    // The tar writer refuses the same way.
    assert_eq!(
        plan::merged(&image, &Selection::default())
            .unwrap_err()
            .to_string(),
        expected
    );
}

#[test]
fn refuses_entries_climbing_above_the_root() {
    assert_refused(
        vec![
            LayerTar::new().dir("etc/").finish(),
            LayerTar::new()
                .file("ok", b"fine")
                .raw(b"../outside/victim", b"overwritten!")
                .raw(b"../../../tmp/kasane-escape", b"x")
                .finish(),
        ],
        "layer 1: entry `../outside/victim` climbs above the image root (`..`) (2 in this layer); refusing to export this image, nothing was written",
    );
}

#[test]
fn refuses_absolute_entry_names() {
    assert_refused(
        vec![LayerTar::new().raw(b"/tmp/kasane-absolute", b"x").finish()],
        "layer 0: entry `/tmp/kasane-absolute` is an absolute path (1 in this layer); refusing to export this image, nothing was written",
    );
}

#[test]
fn refuses_writing_through_an_absolute_symlink_pointing_out() {
    let victim_dir = tempfile::tempdir().unwrap();
    let target = victim_dir.path().to_str().unwrap().to_owned();
    assert_refused(
        vec![
            LayerTar::new().symlink("escape", &target).finish(),
            LayerTar::new().file("escape/pwned", b"x").finish(),
        ],
        &format!(
            "layer 1: /escape/pwned lies below /escape, a symlink to `{target}`; writing it would go through it, so kasane refuses (nothing was written)"
        ),
    );
    assert_eq!(std::fs::read_dir(victim_dir.path()).unwrap().count(), 0);
}

#[test]
fn refuses_a_symlinked_parent_directory_in_the_same_layer() {
    assert_refused(
        vec![
            LayerTar::new()
                .symlink("lib", "../outside")
                .file("lib/victim", b"overwritten!")
                .finish(),
        ],
        "layer 0: /lib/victim lies below /lib, a symlink to `../outside`; writing it would go through it, so kasane refuses (nothing was written)",
    );
}

#[test]
fn refuses_hard_links_to_missing_targets() {
    assert_refused(
        vec![
            LayerTar::new().file("a", b"a").finish(),
            LayerTar::new().hardlink("b", "does/not/exist").finish(),
        ],
        "layer 1: hard link /b points to /does/not/exist, which does not exist at that point; refusing (nothing was written)",
    );
    // A target deleted before the link's layer does not exist either.
    assert_refused(
        vec![
            LayerTar::new().file("a", b"a").finish(),
            LayerTar::new().whiteout("a").finish(),
            LayerTar::new().hardlink("b", "a").finish(),
        ],
        "layer 2: hard link /b points to /a, which does not exist at that point; refusing (nothing was written)",
    );
    // A link before its target in the same tar.
    assert_refused(
        vec![LayerTar::new().hardlink("b", "a").file("a", b"a").finish()],
        "layer 0: hard link /b points to /a, which does not exist at that point; refusing (nothing was written)",
    );
}

#[test]
fn refuses_hard_links_climbing_out_or_to_directories() {
    assert_refused(
        vec![LayerTar::new().hardlink("b", "../../etc/passwd").finish()],
        "layer 0: entry `../../etc/passwd` is a hard link whose target climbs above the image root (1 in this layer); refusing to export this image, nothing was written",
    );
    assert_refused(
        vec![LayerTar::new().dir("d/").hardlink("b", "d").finish()],
        "layer 0: hard link /b points to the directory /d; refusing (nothing was written)",
    );
}

#[test]
fn a_symlink_in_the_target_is_never_followed() {
    // The target directory's own content is checked by policy; here a symlink appears inside
    // it during an extract (NewNamesOnly): the writer must refuse to go through it.
    let work = tempfile::tempdir().unwrap();
    let (src, image) = image_of(layered(), &work.path().join("img"));
    let dest = work.path().join("dest");
    let outside = work.path().join("outside");
    std::fs::create_dir_all(&dest).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::os::unix::fs::symlink(&outside, dest.join("app")).unwrap();
    let sel = Selection {
        upto_layer: None,
        subtree: Some(ImagePath::normalize(b"/app").unwrap().0),
    };
    let plan = plan::merged(&image, &sel).unwrap();
    let mut sink = DirSink::create(&dest, TargetPolicy::NewNamesOnly, false).unwrap();
    let err = write_plan(src.as_ref(), &image, &plan, &mut sink).unwrap_err();
    assert!(matches!(err, ExportError::Exists { .. }), "{err}");
    assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);
}

#[test]
fn extended_attributes_are_kept() {
    let work = tempfile::tempdir().unwrap();
    let (src, image) = image_of(layered(), &work.path().join("img"));
    // In the tar: a PAX record before the entry.
    let bytes = export_tar(src.as_ref(), &image, &Selection::default());
    let mut ar = tar::Archive::new(&bytes[..]);
    let mut found = None;
    for e in ar.entries().unwrap() {
        let mut e = e.unwrap();
        if e.path().unwrap().to_str().unwrap() == long_name() {
            for ext in e.pax_extensions().unwrap().unwrap() {
                let ext = ext.unwrap();
                if ext.key().unwrap() == "SCHILY.xattr.user.kasane" {
                    found = Some(ext.value_bytes().to_vec());
                }
            }
        }
    }
    assert_eq!(found.as_deref(), Some(&b"yes"[..]));
    // In a directory, where the filesystem takes user.* attributes.
    let target = work.path().join("out");
    let report = export_dir(src.as_ref(), &image, &Selection::default(), &target).unwrap();
    let mut buf = [0u8; 16];
    match rustix::fs::getxattr(target.join(long_name()), "user.kasane", &mut buf[..]) {
        Ok(n) => {
            assert_eq!(&buf[..n], b"yes");
            assert_eq!(report.xattrs_not_applied, 0);
        }
        // tmpfs before Linux 6.6 and some overlay setups refuse user.* attributes: the report
        // must say so then.
        Err(_) => assert_eq!(report.xattrs_not_applied, 1),
    }
}
