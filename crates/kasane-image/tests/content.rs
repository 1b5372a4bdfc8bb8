//! File bytes read back from layer blobs (`content`), and layers handed over as they are read
//! (`streaming`), on images the tests write.

mod image_builder;

use std::sync::Mutex;

use image_builder::*;
use kasane_image::content::{self, ContentError};
use kasane_image::streaming::read_layers_streaming;
use kasane_image::{Image, ImageReadOptions, NoProgress, Selector, source};

fn layers() -> Vec<Vec<u8>> {
    vec![
        LayerTar::new()
            .dir("etc/")
            .file("etc/motd", b"hello\n")
            .file("etc/big", &vec![7u8; 300_000])
            .finish(),
        LayerTar::new()
            .pax_global()
            .whiteout("etc/motd")
            .opaque("var")
            .file("var/log", b"log line\n")
            .hardlink("var/log2", "var/log")
            .file("etc/motd2", b"second\n")
            .finish(),
    ]
}

fn write(comp: Comp, dir: &std::path::Path) -> String {
    let img = TestImage::new(
        layers()
            .into_iter()
            .enumerate()
            .map(|(i, t)| TestLayer::new(t, comp, &format!("RUN step {i}")))
            .collect(),
    );
    oci_layout(&[("latest", &img)]).write_dir(dir);
    dir.to_str().unwrap().to_owned()
}

fn read(input: &str) -> (Box<dyn kasane_image::Source>, Image) {
    open_image(input)
}

fn index_of(image: &Image, layer: usize, path: &str) -> usize {
    image.layers[layer]
        .changes
        .entries
        .iter()
        .position(|e| e.path.to_string() == path)
        .unwrap()
}

#[test]
fn reads_files_back_from_every_compression() {
    for comp in [Comp::None, Comp::Gzip, Comp::GzipMulti, Comp::Zstd] {
        let dir = tempfile::tempdir().unwrap();
        let (src, image) = read(&write(comp, dir.path()));
        let motd2 = index_of(&image, 1, "/etc/motd2");
        let (bytes, truncated) =
            content::read_file(src.as_ref(), &image.layers[1], motd2, 1 << 20).unwrap();
        assert_eq!(bytes, b"second\n", "{comp:?}");
        assert!(!truncated);
        let big = index_of(&image, 0, "/etc/big");
        let (bytes, truncated) =
            content::read_file(src.as_ref(), &image.layers[0], big, 1000).unwrap();
        assert_eq!(bytes, vec![7u8; 1000]);
        assert!(truncated, "{comp:?}");
    }
}

#[test]
fn streams_wanted_files_in_tar_order_and_stops_after_the_last() {
    let dir = tempfile::tempdir().unwrap();
    let (src, image) = read(&write(Comp::Gzip, dir.path()));
    let layer = &image.layers[1];
    let wanted = vec![
        index_of(&image, 1, "/var/log"),
        index_of(&image, 1, "/etc/motd2"),
    ];
    let mut seen = Vec::new();
    content::stream_files(src.as_ref(), layer, &wanted, |i, entry, reader| {
        let mut s = String::new();
        reader.read_to_string(&mut s).unwrap();
        seen.push((i, entry.path.to_string(), s));
        Ok::<(), ContentError>(())
    })
    .unwrap();
    assert_eq!(
        seen,
        vec![
            (wanted[0], "/var/log".to_owned(), "log line\n".to_owned()),
            (wanted[1], "/etc/motd2".to_owned(), "second\n".to_owned()),
        ]
    );
}

#[test]
fn refuses_entries_that_are_not_regular_files() {
    let dir = tempfile::tempdir().unwrap();
    let (src, image) = read(&write(Comp::None, dir.path()));
    let link = index_of(&image, 1, "/var/log2");
    let err = content::read_file(src.as_ref(), &image.layers[1], link, 10).unwrap_err();
    assert!(
        matches!(err, ContentError::NotAFile { layer: 1, .. }),
        "{err}"
    );
    let err = content::read_file(src.as_ref(), &image.layers[1], 999, 10).unwrap_err();
    assert!(matches!(err, ContentError::NotAFile { .. }), "{err}");
}

#[test]
fn a_blob_changed_after_the_read_is_an_error_not_wrong_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let (src, image) = read(&write(Comp::None, dir.path()));
    // Rewrite layer 0's blob in place with the same names but other bytes.
    let blob = dir.path().join(image.layers[0].blob.location.clone());
    let other = LayerTar::new()
        .dir("etc/")
        .file("etc/motd", b"HELLO\n")
        .file("etc/big", &vec![7u8; 300_000])
        .finish();
    std::fs::write(&blob, other).unwrap();
    let motd = index_of(&image, 0, "/etc/motd");
    let err = content::read_file(src.as_ref(), &image.layers[0], motd, 100).unwrap_err();
    assert_eq!(
        err.to_string(),
        "layer 0: /etc/motd has different content; the image changed since it was read"
    );
    // Fewer entries than before.
    std::fs::write(&blob, LayerTar::new().dir("etc/").finish()).unwrap();
    let err = content::read_file(src.as_ref(), &image.layers[0], motd, 100).unwrap_err();
    assert!(err.to_string().contains("it ends before entry"), "{err}");
}

#[test]
fn streaming_hands_over_every_layer_once() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(Comp::Zstd, dir.path());
    let (src, _) = source::open(&input).unwrap();
    let resolved = src.resolve(&Selector::default()).unwrap();
    let got = Mutex::new(Vec::new());
    read_layers_streaming(
        src.as_ref(),
        &resolved,
        ImageReadOptions::default(),
        2,
        &NoProgress,
        &|i, r| {
            got.lock().unwrap().push((i, r.unwrap().entries.len()));
            true
        },
    );
    let mut got = got.into_inner().unwrap();
    got.sort_unstable();
    assert_eq!(got, vec![(0, 3), (1, 5)]);
    // A sink that says stop after the first layer: no more layers are started (one worker).
    let count = Mutex::new(0);
    read_layers_streaming(
        src.as_ref(),
        &resolved,
        ImageReadOptions::default(),
        1,
        &NoProgress,
        &|_, _| {
            *count.lock().unwrap() += 1;
            false
        },
    );
    assert_eq!(*count.lock().unwrap(), 1);
}
