//! Every archive and layout format, every compression, read from archives the tests write.

mod image_builder;

use image_builder::*;
use kasane_image::{
    Change, Compression, Error, FileKind, ImageFormat, ImageReadOptions, NoProgress, Platform,
    Selector, read_image, source,
};

fn base_layer() -> Vec<u8> {
    LayerTar::new()
        .dir("etc/")
        .file("etc/os-release", b"ID=test\n")
        .dir("bin/")
        .file_with("bin/tool", &[7u8; 5000], 0o755, 0, 0)
        .finish()
}

fn app_layer() -> Vec<u8> {
    LayerTar::new()
        .dir("app/")
        .file("app/main.py", b"print('hi')\n")
        .finish()
}

fn two_layer_image(comp: Comp) -> TestImage {
    let mut img = TestImage::new(vec![
        TestLayer::new(base_layer(), comp, "/bin/sh -c #(nop) ADD file:abc in / "),
        TestLayer::new(app_layer(), comp, "COPY . /app # buildkit"),
    ]);
    img.empty_steps_before = vec![(1, "ENV A=b".into())];
    img
}

fn read(
    input: &str,
    tag: Option<&str>,
    platform: Option<&str>,
) -> Result<kasane_image::Image, Error> {
    let (src, t) = source::open(input)?;
    let selector = Selector {
        tag: tag.map(str::to_owned).or(t),
        platform: platform.map(|p| Platform::parse(p).unwrap()),
    };
    read_image(
        src.as_ref(),
        &selector,
        ImageReadOptions::default(),
        &NoProgress,
    )
}

fn write_tar(dir: &tempfile::TempDir, name: &str, files: &Files) -> String {
    let p = dir.path().join(name);
    std::fs::write(&p, files.tar()).unwrap();
    p.to_str().unwrap().to_owned()
}

fn check_two_layers(img: &kasane_image::Image) {
    assert_eq!(img.layers.len(), 2);
    assert_eq!(
        img.layers[0].instruction.as_deref(),
        Some("ADD file:abc in /")
    );
    assert_eq!(img.layers[1].instruction.as_deref(), Some("COPY . /app"));
    let paths: Vec<String> = img.layers[0]
        .changes
        .entries
        .iter()
        .map(|e| e.path.to_string())
        .collect();
    assert_eq!(paths, ["/etc", "/etc/os-release", "/bin", "/bin/tool"]);
    let tool = img.layers[0].changes.entries[3].meta().unwrap();
    assert_eq!(
        (tool.kind, tool.size, tool.mode),
        (FileKind::Regular, 5000, 0o755)
    );
    assert_eq!(img.layers[0].changes.size, 5008);
    assert_eq!(img.layers[1].changes.size, 12);
    assert_eq!(
        img.layers[0].diff_id.as_ref().unwrap().to_string(),
        sha(&base_layer())
    );
}

#[test]
fn legacy_docker_save() {
    let dir = tempfile::tempdir().unwrap();
    let img = two_layer_image(Comp::None);
    let path = write_tar(&dir, "legacy.tar", &docker_legacy(&[("app:1", &img)]));
    let read = read(&path, None, None).unwrap();
    assert_eq!(read.format, ImageFormat::DockerArchive);
    assert_eq!(read.name.as_deref(), Some("app:1"));
    check_two_layers(&read);
    // The uncompressed blob's digest is its diff_id, checked.
    assert_eq!(
        read.layers[1].changes.diff_id.as_ref().unwrap().to_string(),
        sha(&app_layer())
    );
    assert_eq!(read.layers[1].changes.compression, Compression::None);
}

#[test]
fn docker_25_archive_with_oci_layout_inside() {
    let dir = tempfile::tempdir().unwrap();
    let img = two_layer_image(Comp::None);
    let path = write_tar(&dir, "d25.tar", &docker_oci("app:1", &img));
    let read_docker = read(&path, None, None).unwrap();
    assert_eq!(read_docker.format, ImageFormat::DockerArchiveOci);
    check_two_layers(&read_docker);
    // The same archive through its index.json.
    let via_index = read(&format!("oci-archive:{path}"), None, None).unwrap();
    assert_eq!(via_index.format, ImageFormat::OciArchive);
    check_two_layers(&via_index);
}

#[test]
fn containerd_store_archive_with_compressed_layers() {
    let dir = tempfile::tempdir().unwrap();
    for comp in [Comp::Gzip, Comp::Zstd, Comp::GzipMulti] {
        let img = two_layer_image(comp);
        let path = write_tar(&dir, "ctr.tar", &docker_oci("app:1", &img));
        let read = read(&format!("docker-archive:{path}"), None, None).unwrap();
        check_two_layers(&read);
        let expected = if comp == Comp::Zstd {
            Compression::Zstd
        } else {
            Compression::Gzip
        };
        assert_eq!(read.layers[0].changes.compression, expected);
        assert_eq!(
            read.layers[0].blob.digest.as_ref().unwrap().to_string(),
            sha(&img.layers[0].stored)
        );
    }
}

#[test]
fn oci_layout_directories_every_compression() {
    for comp in [Comp::None, Comp::Gzip, Comp::GzipMulti, Comp::Zstd] {
        let dir = tempfile::tempdir().unwrap();
        let img = two_layer_image(comp);
        oci_layout(&[("latest", &img)]).write_dir(dir.path());
        let d = dir.path().to_str().unwrap();
        let bare = read(d, None, None).unwrap();
        assert_eq!(bare.format, ImageFormat::OciLayout);
        check_two_layers(&bare);
        check_two_layers(&read(&format!("oci:{d}:latest"), None, None).unwrap());
        // gzip written in several members is read to the end.
        assert_eq!(bare.layers[0].changes.tar_bytes, base_layer().len() as u64);
    }
}

#[test]
fn compressed_diff_ids_are_verified_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let mut img = two_layer_image(Comp::Gzip);
    // A config that lies about layer 1's diff_id; the blob digests are right.
    img.layers[1].tar = b"not the tar that was compressed".to_vec();
    oci_layout(&[("latest", &img)]).write_dir(dir.path());
    let (src, _) = source::open(dir.path().to_str().unwrap()).unwrap();
    let fast = read_image(
        src.as_ref(),
        &Selector::default(),
        ImageReadOptions::default(),
        &NoProgress,
    );
    assert!(
        fast.is_ok(),
        "without the option only blob digests are checked"
    );
    let options = ImageReadOptions {
        verify_compressed_diff_ids: true,
        ..ImageReadOptions::default()
    };
    let err = read_image(src.as_ref(), &Selector::default(), options, &NoProgress).unwrap_err();
    assert!(err.to_string().contains("layer 1"), "{err}");
    assert!(
        matches!(&err, Error::Layer { source, .. }
            if matches!(**source, kasane_image::LayerError::DiffIdMismatch { .. })),
        "{err:?}"
    );
}

#[test]
fn oci_archive_picks_by_tag() {
    let dir = tempfile::tempdir().unwrap();
    let a = two_layer_image(Comp::Gzip);
    let b = TestImage::new(vec![TestLayer::new(app_layer(), Comp::Zstd, "COPY x /")]);
    let path = write_tar(&dir, "multi.tar", &oci_layout(&[("v1", &a), ("v2", &b)]));
    assert_eq!(
        read(&format!("oci-archive:{path}:v2"), None, None)
            .unwrap()
            .layers
            .len(),
        1
    );
    assert_eq!(
        read(&format!("{path}:v1"), None, None)
            .unwrap()
            .layers
            .len(),
        2
    );
    let err = read(&path, None, None).unwrap_err();
    assert!(matches!(err, Error::Ambiguous { .. }), "{err}");
    assert!(err.to_string().contains("v1, v2"), "{err}");
    let err = read(&path, Some("v3"), None).unwrap_err();
    assert!(matches!(err, Error::NoSuchImage { .. }), "{err}");
}

#[test]
fn multi_image_docker_archive_picks_by_tag() {
    let dir = tempfile::tempdir().unwrap();
    let a = two_layer_image(Comp::None);
    let b = TestImage::new(vec![TestLayer::new(app_layer(), Comp::None, "COPY x /")]);
    let path = write_tar(
        &dir,
        "two.tar",
        &docker_legacy(&[("app:1", &a), ("tool:2", &b)]),
    );
    assert_eq!(
        read(&format!("{path}:tool:2"), None, None)
            .unwrap()
            .layers
            .len(),
        1
    );
    assert_eq!(
        read(&path, Some("docker.io/library/app:1"), None)
            .unwrap()
            .layers
            .len(),
        2
    );
    let err = read(&path, None, None).unwrap_err();
    assert!(err.to_string().contains("app:1; tool:2"), "{err}");
}

#[test]
fn multi_platform_index_defaults_to_the_host() {
    let dir = tempfile::tempdir().unwrap();
    let amd = two_layer_image(Comp::Gzip).arch("amd64");
    let arm =
        TestImage::new(vec![TestLayer::new(app_layer(), Comp::Gzip, "COPY x /")]).arch("arm64");
    oci_multi_platform("latest", &[&arm, &amd]).write_dir(dir.path());
    let d = dir.path().to_str().unwrap();
    let host = Platform::host();
    let default = read(d, None, None).unwrap();
    assert_eq!(default.platform().architecture, host.architecture);
    let arm_read = read(d, None, Some("linux/arm64")).unwrap();
    assert_eq!(arm_read.layers.len(), 1);
    assert_eq!(arm_read.platform().to_string(), "linux/arm64");
    let err = read(d, None, Some("linux/s390x")).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("linux/s390x") && msg.contains("linux/amd64") && msg.contains("linux/arm64"),
        "{msg}"
    );
    assert!(
        !msg.contains("unknown"),
        "attestations are not platforms: {msg}"
    );
}

#[test]
fn symlinked_layer_members_are_followed() {
    // skopeo's docker-archive stores a repeated layer once and links to it.
    let dir = tempfile::tempdir().unwrap();
    let layer = base_layer();
    let img = TestImage::new(vec![
        TestLayer::new(layer.clone(), Comp::None, "A"),
        TestLayer::new(layer.clone(), Comp::None, "B"),
    ]);
    let config = img.config();
    let hex = &sha(&layer)[7..];
    let mut b = tar::Builder::new(Vec::new());
    let mut add = |name: &str, data: &[u8]| {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, name, data).unwrap();
    };
    let manifest = serde_json::json!([{"Config": "config.json", "RepoTags": ["x:1"], "Layers": [format!("{hex}.tar"), "copy.tar"]}]);
    add("manifest.json", &serde_json::to_vec(&manifest).unwrap());
    add("config.json", &config);
    add(&format!("{hex}.tar"), &layer);
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Symlink);
    h.set_size(0);
    b.append_link(&mut h, "copy.tar", format!("{hex}.tar"))
        .unwrap();
    let path = dir.path().join("linked.tar");
    std::fs::write(&path, b.into_inner().unwrap()).unwrap();
    let read = read(path.to_str().unwrap(), None, None).unwrap();
    assert_eq!(read.layers[1].changes.entries.len(), 4);
}

#[test]
fn tar_features_hard_links_symlinks_devices_xattrs_long_names() {
    let long_dir = "usr/share/".to_owned() + &"d".repeat(120);
    let gnu_long = format!("{long_dir}/gnu-long-name.txt");
    let pax_long = format!("{long_dir}/{}", "p".repeat(150));
    let tar = LayerTar::new()
        .pax_global()
        .file("data/orig", b"shared bytes")
        .hardlink("data/link", "data/orig")
        .symlink("data/sym", "../data/orig")
        .char_device("dev/null", 1, 3)
        .fifo("run/pipe")
        .pax_file(
            &[
                ("SCHILY.xattr.security.capability", b"\x01\x02"),
                ("SCHILY.xattr.user.note", b"hi"),
            ],
            "bin/ping",
            b"ping",
        )
        .file(&gnu_long, b"gnu")
        .pax_file(&[("path", pax_long.as_bytes())], "short-name", b"pax")
        .pax_file(
            &[("uid", b"70000"), ("gid", b"80000")],
            "home/big-ids",
            b"ids",
        )
        .finish();
    let dir = tempfile::tempdir().unwrap();
    let img = TestImage::new(vec![TestLayer::new(tar, Comp::Gzip, "RUN x")]);
    oci_layout(&[("latest", &img)]).write_dir(dir.path());
    let image = read(dir.path().to_str().unwrap(), None, None).unwrap();
    let entries = &image.layers[0].changes.entries;
    let get = |p: &str| {
        entries
            .iter()
            .find(|e| e.path.to_string() == p)
            .unwrap_or_else(|| panic!("{p} missing"))
    };
    let link = get("/data/link").meta().unwrap();
    assert_eq!(link.kind, FileKind::Hardlink);
    assert_eq!(link.link_target.as_deref().unwrap(), b"data/orig");
    let sym = get("/data/sym").meta().unwrap();
    assert_eq!(
        (sym.kind, sym.link_target.as_deref().unwrap()),
        (FileKind::Symlink, &b"../data/orig"[..])
    );
    assert_eq!(get("/dev/null").meta().unwrap().device, Some((1, 3)));
    assert_eq!(get("/run/pipe").meta().unwrap().kind, FileKind::Fifo);
    let ping = get("/bin/ping").meta().unwrap();
    assert_eq!(ping.xattrs.len(), 2);
    assert_eq!(&*ping.xattrs[0].0, "security.capability");
    assert_eq!(&ping.xattrs[0].1[..], b"\x01\x02");
    assert_eq!(get(&format!("/{gnu_long}")).meta().unwrap().size, 3);
    assert_eq!(get(&format!("/{pax_long}")).meta().unwrap().size, 3);
    let ids = get("/home/big-ids").meta().unwrap();
    assert_eq!((ids.uid, ids.gid), (70000, 80000));
    assert!(
        entries
            .iter()
            .all(|e| !e.path.to_string().contains("pax_global"))
    );
    assert!(matches!(entries[0].change, Change::Add(_)));
}
