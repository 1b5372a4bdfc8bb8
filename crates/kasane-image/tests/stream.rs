//! Archives read from a stream in one pass (the Docker engine's export) give the same image as
//! the same archive read from a file, whatever the member order; a cut or corrupted stream is an
//! error, never a panic or a half-read image.

mod image_builder;

use image_builder::*;
use kasane_image::source::read_archive_stream;
use kasane_image::{Error, Image, ImageReadOptions, NoProgress, Selector, read_image, source};

fn image(comp: Comp) -> TestImage {
    TestImage::new(vec![
        TestLayer::new(
            LayerTar::new()
                .dir("etc/")
                .file("etc/a", b"one\n")
                .file_with("etc/big", &[3u8; 40_000], 0o600, 1, 2)
                .finish(),
            comp,
            "COPY . /",
        ),
        TestLayer::new(
            LayerTar::new()
                .file("etc/.wh.big", b"")
                .file("etc/a", b"two\n")
                .finish(),
            comp,
            "RUN rm /etc/big",
        ),
    ])
}

fn from_file(tar: &[u8]) -> Image {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("image.tar");
    std::fs::write(&path, tar).unwrap();
    let (src, _) = source::open(path.to_str().unwrap()).unwrap();
    read_image(
        src.as_ref(),
        &Selector::default(),
        ImageReadOptions::default(),
        &NoProgress,
    )
    .unwrap()
}

fn from_stream(tar: &[u8]) -> Result<Image, Error> {
    read_archive_stream(
        tar,
        "stream",
        &Selector::default(),
        ImageReadOptions::default(),
        &NoProgress,
    )
}

fn assert_same(a: &Image, b: &Image) {
    assert_eq!(a.layers.len(), b.layers.len());
    assert_eq!(a.config_digest, b.config_digest);
    assert_eq!(a.format, b.format);
    for (x, y) in a.layers.iter().zip(&b.layers) {
        assert_eq!(x.changes.entries, y.changes.entries);
        assert_eq!(x.changes.blob_digest, y.changes.blob_digest);
        assert_eq!(x.instruction, y.instruction);
    }
}

#[test]
fn every_archive_kind_streams_like_the_file() {
    let img = image(Comp::Gzip);
    let plain = image(Comp::None);
    let zstd = image(Comp::Zstd);
    let mut legacy = docker_legacy(&[("app:1", &plain)]);
    // The engine writes manifest.json last: the stream must not need it first.
    let manifest = legacy.0.remove(0);
    legacy.0.push(manifest);
    for files in [
        legacy,
        docker_legacy(&[("app:1", &plain)]),
        docker_oci("app:1", &img),
        docker_oci("app:1", &zstd),
        oci_layout(&[("v1", &img)]),
    ] {
        let tar = files.tar();
        let streamed = from_stream(&tar).unwrap();
        assert_same(&streamed, &from_file(&tar));
        assert_eq!(streamed.source, "stream");
    }
}

#[test]
fn a_cut_stream_is_an_error() {
    let tar = docker_legacy(&[("app:1", &image(Comp::None))]).tar();
    for cut in [10, 600, tar.len() / 2, tar.len() - 1500] {
        assert!(from_stream(&tar[..cut]).is_err(), "cut at {cut}");
    }
    assert!(from_stream(b"not a tar at all, just words").is_err());
}

#[test]
fn a_corrupted_layer_fails_its_diff_id() {
    let plain = image(Comp::None);
    let mut files = docker_legacy(&[("app:1", &plain)]);
    let (_, layer) = files
        .0
        .iter_mut()
        .find(|(n, _)| n.ends_with("layer.tar"))
        .unwrap();
    // Flip a byte of file content (not of a header, so the tar still parses).
    let at = layer.windows(4).position(|w| w == b"one\n").unwrap();
    layer[at] = b'X';
    let e = from_stream(&files.tar()).unwrap_err();
    let text = format!(
        "{e}: {}",
        std::error::Error::source(&e)
            .map(ToString::to_string)
            .unwrap_or_default()
    );
    assert!(
        text.contains("diff_id") || text.contains("digest"),
        "{text}"
    );
}
