//! Bad input never panics: each case is a clear error naming what is wrong, or a warning and a
//! correct result.

mod image_builder;

use image_builder::*;
use kasane_image::{
    AnalysisOptions, Error, ImageReadOptions, NoProgress, Selector, analyze, read_image, source,
};

fn read_path(path: &str) -> Result<kasane_image::Image, Error> {
    let (src, tag) = source::open(path)?;
    let sel = Selector {
        tag,
        platform: None,
    };
    read_image(src.as_ref(), &sel, ImageReadOptions::default(), &NoProgress)
}

fn layout_with(layers: Vec<TestLayer>) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    oci_layout(&[("latest", &TestImage::new(layers))]).write_dir(dir.path());
    let p = dir.path().to_str().unwrap().to_owned();
    (dir, p)
}

fn small_tar() -> Vec<u8> {
    LayerTar::new()
        .file("a", &[1u8; 4096])
        .file("b", &[2u8; 4096])
        .finish()
}

fn err_text(r: Result<kasane_image::Image, Error>) -> String {
    match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => {
            let mut s = e.to_string();
            let mut src = std::error::Error::source(&e);
            while let Some(cause) = src {
                s.push_str(": ");
                s.push_str(&cause.to_string());
                src = cause.source();
            }
            s
        }
    }
}

/// Replaces a blob's bytes in a layout while keeping its name (= the digest it claims).
fn corrupt_blob(dir: &str, stored: &[u8], new: &[u8]) {
    let path = format!("{dir}/blobs/sha256/{}", &sha(stored)[7..]);
    std::fs::write(path, new).unwrap();
}

#[test]
fn truncated_layer_tar() {
    let tar = small_tar();
    let mut layer = TestLayer::new(tar.clone(), Comp::None, "x");
    layer.stored.truncate(700); // inside the first file's data
    let (_d, p) = layout_with(vec![layer]);
    let msg = err_text(read_path(&p));
    assert!(msg.contains("layer 0"), "{msg}");
    // The layout names the cut blob by its new digest, so the config's diff_id is what no longer
    // matches: named as the root cause, before the tar error it causes.
    assert!(msg.contains("diff_id mismatch"), "{msg}");
}

#[test]
fn truncated_tar_with_correct_digest_is_a_tar_error() {
    let mut tar = small_tar();
    tar.truncate(700);
    let (_d, p) = layout_with(vec![TestLayer::new(tar, Comp::None, "x")]);
    let msg = err_text(read_path(&p));
    assert!(
        msg.contains("layer 0")
            && msg.contains("malformed tar")
            && msg.contains("claims 4096 bytes"),
        "{msg}"
    );
}

#[test]
fn corrupt_gzip_and_zstd() {
    for comp in [Comp::Gzip, Comp::Zstd] {
        let layer = TestLayer::new(small_tar(), comp, "x");
        let (_d, p) = layout_with(vec![layer.clone()]);
        let mut bad = layer.stored.clone();
        let mid = bad.len() / 2;
        for b in &mut bad[mid..mid + 8] {
            *b ^= 0x5a;
        }
        corrupt_blob(&p, &layer.stored, &bad);
        let msg = err_text(read_path(&p));
        assert!(
            msg.contains("digest mismatch") && msg.contains(&sha(&layer.stored)),
            "{comp:?}: {msg}"
        );

        // The same corruption with a matching digest: a decoding error.
        let (_d2, p2) = layout_with(vec![TestLayer {
            stored: bad.clone(),
            tar: small_tar(),
            created_by: "x".into(),
        }]);
        let msg = err_text(read_path(&p2));
        assert!(
            msg.contains("layer 0") && (msg.contains("corrupt") || msg.contains("malformed")),
            "{comp:?}: {msg}"
        );
    }
}

#[test]
fn missing_blob_and_missing_config() {
    let layer = TestLayer::new(small_tar(), Comp::Gzip, "x");
    let (_d, p) = layout_with(vec![layer.clone()]);
    std::fs::remove_file(format!("{p}/blobs/sha256/{}", &sha(&layer.stored)[7..])).unwrap();
    let e = read_path(&p).unwrap_err();
    assert!(matches!(e, Error::MissingBlob { .. }), "{e}");
    assert!(
        e.to_string().contains("layer 0") && e.to_string().contains(&sha(&layer.stored)[7..]),
        "{e}"
    );
}

#[test]
fn manifest_pointing_outside_the_archive() {
    for evil in ["../../etc/passwd", "/etc/passwd"] {
        let mut f = Files::default();
        let img = TestImage::new(vec![TestLayer::new(small_tar(), Comp::None, "x")]);
        f.add("config.json", img.config());
        f.add("manifest.json", serde_json::to_vec(&serde_json::json!([{"Config": "config.json", "RepoTags": ["x:1"], "Layers": [evil]}])).unwrap());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("evil.tar");
        std::fs::write(&path, f.tar()).unwrap();
        let e = read_path(path.to_str().unwrap()).unwrap_err();
        assert!(matches!(e, Error::UnsafeReference { .. }), "{e}");
        assert!(e.to_string().contains(evil), "{e}");
    }
}

#[test]
fn escaping_and_absolute_entry_paths_are_warnings() {
    let tar = LayerTar::new()
        .raw(b"../../etc/evil", b"x")
        .raw(b"/etc/abs", b"abs")
        .file("ok", b"ok")
        .finish();
    let (_d, p) = layout_with(vec![TestLayer::new(tar, Comp::None, "x")]);
    let img = read_path(&p).unwrap();
    let paths: Vec<String> = img.layers[0]
        .changes
        .entries
        .iter()
        .map(|e| e.path.to_string())
        .collect();
    assert_eq!(paths, ["/etc/abs", "/ok"]);
    let a = analyze(&img, AnalysisOptions::default());
    let text: Vec<&str> = a.warnings.iter().map(|w| w.message.as_str()).collect();
    assert!(
        text.iter()
            .any(|w| w.contains("climbs above the root") && w.contains("../../etc/evil")),
        "{text:?}"
    );
    assert!(text.iter().any(|w| w.contains("absolute")), "{text:?}");
}

#[test]
fn entry_claiming_a_huge_size() {
    let mut tar = LayerTar::new().file("big", b"tiny").finish();
    // Rewrite the size field to 8 TB (octal) and fix the checksum.
    let size = format!("{:011o}\0", 0o77777777777u64);
    tar[124..136].copy_from_slice(size.as_bytes());
    let mut h = tar::Header::new_old();
    h.as_mut_bytes().copy_from_slice(&tar[..512]);
    h.set_cksum();
    tar[..512].copy_from_slice(h.as_bytes());
    let (_d, p) = layout_with(vec![TestLayer::new(tar, Comp::Gzip, "x")]);
    let msg = err_text(read_path(&p));
    assert!(msg.contains("claims 8589934591 bytes"), "{msg}");
}

#[test]
fn a_layer_of_100000_empty_files() {
    let mut b = LayerTar::new().dir("many/");
    for i in 0..100_000 {
        b = b.file(&format!("many/f{i:06}"), b"");
    }
    let (_d, p) = layout_with(vec![TestLayer::new(b.finish(), Comp::Zstd, "x")]);
    let img = read_path(&p).unwrap();
    assert_eq!(img.layers[0].changes.entries.len(), 100_001);
    let a = analyze(&img, AnalysisOptions::default());
    assert_eq!(a.image.final_entries, 100_001);
    assert_eq!(a.efficiency, 1.0);
    assert_eq!(a.waste.duplicate.bytes, 0, "empty files are not duplicates");
}

#[test]
fn not_an_image_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.tar");
    std::fs::write(&garbage, b"this is not a tar file at all, just text").unwrap();
    let msg = err_text(read_path(garbage.to_str().unwrap()));
    assert!(
        msg.contains("not an image") || msg.contains("not a readable tar"),
        "{msg}"
    );
    let empty_dir = dir.path().join("empty");
    std::fs::create_dir(&empty_dir).unwrap();
    let msg = err_text(read_path(empty_dir.to_str().unwrap()));
    assert!(msg.contains("index.json"), "{msg}");
    let msg = err_text(read_path("/nonexistent/image.tar"));
    assert!(msg.contains("/nonexistent/image.tar"), "{msg}");
}

#[test]
fn truncated_outer_archive() {
    let img = TestImage::new(vec![TestLayer::new(small_tar(), Comp::None, "x")]);
    let mut bytes = docker_legacy(&[("x:1", &img)]).tar();
    let len = bytes.len();
    bytes.truncate(len - 3000);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.tar");
    std::fs::write(&path, bytes).unwrap();
    let msg = err_text(read_path(path.to_str().unwrap()));
    assert!(
        msg.contains("truncated") || msg.contains("not a readable tar") || msg.contains("missing"),
        "{msg}"
    );
}

#[test]
fn config_with_wrong_digest() {
    let img = TestImage::new(vec![TestLayer::new(small_tar(), Comp::None, "x")]);
    let (_d, p) = layout_with(img.layers.clone());
    corrupt_blob(&p, &img.config(), b"{\"rootfs\":{}}");
    let e = read_path(&p).unwrap_err();
    assert!(matches!(e, Error::DigestMismatch { .. }), "{e}");
    assert!(e.to_string().contains("config"), "{e}");
}
