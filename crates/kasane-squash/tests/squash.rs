//! Squashing images the tests write: the output archive is read back by kasane's own reader and
//! must have fewer layers, the same merged filesystem, the lower layers untouched, and the
//! history and diff_ids rewritten.

#[path = "../../kasane-image/tests/image_builder/mod.rs"]
mod image_builder;

use image_builder::*;
use kasane_export::{Selection, TarSink, plan, write_plan};
use kasane_image::{Image, Source};
use kasane_squash::{SquashOptions, squash};

fn layers() -> Vec<Vec<u8>> {
    vec![
        LayerTar::new()
            .dir("etc/")
            .file("etc/motd", b"hello\n")
            .dir("var/")
            .dir("var/cache/")
            .file("var/cache/a", b"aaaa")
            .file("var/cache/b", b"bbbb")
            .symlink("bin", "usr/bin")
            .finish(),
        LayerTar::new()
            .dir("app/")
            .file("app/data", b"data!")
            .hardlink("app/data-link", "app/data")
            .file("app/tmp", &vec![1u8; 50_000])
            .finish(),
        LayerTar::new()
            .dir("etc/")
            .whiteout("etc/motd")
            .dir("var/cache/")
            .opaque("var/cache")
            .file("var/cache/c", b"cccc")
            .dir("app/")
            .whiteout("app/tmp")
            .file_with("app/data", b"data!", 0o600, 0, 0)
            .finish(),
        LayerTar::new()
            .dir("app/")
            .hardlink("app/base-link", "etc/../var/cache/c")
            .finish(),
    ]
}

fn read(input: &str) -> (Box<dyn Source>, Image) {
    open_image(input)
}

/// The merged filesystem as a sorted listing (kind, mode, owner, size, link target, content).
fn listing(src: &dyn Source, image: &Image) -> Vec<String> {
    let plan = plan::merged(image, &Selection::default()).unwrap();
    let mut sink = TarSink::new(Vec::new());
    write_plan(src, image, &plan, &mut sink).unwrap();
    let bytes = sink.into_inner().unwrap();
    let mut ar = tar::Archive::new(&bytes[..]);
    let mut out = Vec::new();
    for e in ar.entries().unwrap() {
        let mut e = e.unwrap();
        let h = e.header().clone();
        let mut content = Vec::new();
        std::io::Read::read_to_end(&mut e, &mut content).unwrap();
        out.push(format!(
            "{} {:?} {:o} {}:{} {} -> {:?} {}",
            e.path().unwrap().display(),
            h.entry_type(),
            h.mode().unwrap(),
            h.uid().unwrap(),
            h.gid().unwrap(),
            content.len(),
            e.link_name().unwrap(),
            String::from_utf8_lossy(&content)
                .chars()
                .take(8)
                .collect::<String>()
        ));
    }
    out.sort();
    out
}

fn squashed(from: usize, comp: Comp) -> (Vec<String>, Vec<String>, Image, tempfile::TempDir) {
    let work = tempfile::tempdir().unwrap();
    let img = TestImage::new(
        layers()
            .into_iter()
            .enumerate()
            .map(|(i, t)| TestLayer::new(t, comp, &format!("RUN step {i}")))
            .collect(),
    );
    let mut img = img;
    img.empty_steps_before = vec![(1, "ENV A=1".to_owned()), (3, "WORKDIR /app".to_owned())];
    let input = work.path().join("in");
    oci_layout(&[("latest", &img)]).write_dir(&input);
    let (src, image) = read(input.to_str().unwrap());
    let before = listing(src.as_ref(), &image);
    let out_path = work.path().join("out.tar");
    let mut scratch = tempfile::tempfile().unwrap();
    let out = std::fs::File::create(&out_path).unwrap();
    let report = squash(
        src.as_ref(),
        &image,
        &SquashOptions {
            from_layer: from,
            tag: Some("squashed:test".into()),
            created_by: format!("kasane squash --from-layer {from}"),
        },
        &mut scratch,
        out,
    )
    .unwrap();
    assert_eq!(report.layers_after, from + 1);
    let (src2, image2) = read(out_path.to_str().unwrap());
    assert_eq!(image2.layers.len(), from + 1);
    assert_eq!(Some(&report.image_id), image2.config_digest.as_ref());
    let after = listing(src2.as_ref(), &image2);
    (before, after, image2, work)
}

#[test]
fn squashing_keeps_the_filesystem_and_drops_layers() {
    for comp in [Comp::None, Comp::Gzip, Comp::Zstd] {
        for from in 0..4 {
            let (before, after, image, _work) = squashed(from, comp);
            assert_eq!(before, after, "from layer {from}, {comp:?}");
            assert!(image.notes.is_empty(), "{:?}", image.notes);
            // Everything deleted in the squashed range is physically gone.
            let last = image.layers.last().unwrap();
            let paths: Vec<String> = last
                .changes
                .entries
                .iter()
                .map(|e| e.path.to_string())
                .collect();
            if from <= 1 {
                assert!(!paths.contains(&"/app/tmp".to_owned()), "{paths:?}");
            }
        }
    }
}

#[test]
fn whiteouts_replace_deleted_lower_paths_and_opaque_directories() {
    let (_, _, image, _work) = squashed(2, Comp::Gzip);
    let last = image.layers.last().unwrap();
    let mut whiteouts: Vec<String> = last
        .changes
        .entries
        .iter()
        .filter(|e| matches!(e.change, kasane_image::Change::Whiteout))
        .map(|e| e.path.to_string())
        .collect();
    whiteouts.sort();
    // The opaque /var/cache becomes explicit whiteouts of what it hid.
    assert_eq!(
        whiteouts,
        vec!["/app/tmp", "/etc/motd", "/var/cache/a", "/var/cache/b"]
    );
    assert!(
        !last
            .changes
            .entries
            .iter()
            .any(|e| matches!(e.change, kasane_image::Change::Opaque))
    );
}

#[test]
fn history_and_diff_ids_are_rewritten() {
    let (_, _, image, _work) = squashed(1, Comp::Gzip);
    let history: Vec<(String, bool)> = image
        .config
        .history
        .iter()
        .map(|h| (h.created_by.clone().unwrap_or_default(), h.empty_layer))
        .collect();
    assert_eq!(
        history,
        vec![
            ("RUN step 0".to_owned(), false),
            ("ENV A=1".to_owned(), true),
            ("RUN step 1".to_owned(), true),
            ("RUN step 2".to_owned(), true),
            ("WORKDIR /app".to_owned(), true),
            ("RUN step 3".to_owned(), true),
            ("kasane squash --from-layer 1".to_owned(), false),
        ]
    );
    assert_eq!(image.config.rootfs.diff_ids.len(), 2);
    // Every diff_id was verified by the reader (uncompressed legacy layers).
    for layer in &image.layers {
        assert_eq!(layer.changes.diff_id.as_ref(), layer.diff_id.as_ref());
    }
    assert_eq!(
        image.layers[1].instruction.as_deref(),
        Some("kasane squash --from-layer 1")
    );
    assert_eq!(image.name.as_deref(), Some("squashed:test"));
}

#[test]
fn refuses_a_layer_beyond_the_image() {
    let work = tempfile::tempdir().unwrap();
    let img = TestImage::new(vec![TestLayer::new(
        layers().remove(0),
        Comp::None,
        "RUN a",
    )]);
    oci_layout(&[("latest", &img)]).write_dir(work.path());
    let (src, image) = read(work.path().to_str().unwrap());
    let err = squash(
        src.as_ref(),
        &image,
        &SquashOptions {
            from_layer: 1,
            tag: None,
            created_by: "x".into(),
        },
        &mut tempfile::tempfile().unwrap(),
        Vec::new(),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "there is no layer 1 to squash from: the image has 1 (numbered from 0)"
    );
}
