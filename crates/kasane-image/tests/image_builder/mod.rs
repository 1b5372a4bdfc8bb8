//! Writes the images the tests read: layer tars with every entry kind, compressed any way, packed
//! as legacy `docker save`, Docker 25+, containerd-store, OCI layout directory or OCI archive.
#![allow(dead_code, unreachable_pub)] // each test binary uses a different part

use std::io::Write;
use std::path::Path;

use serde_json::{Value, json};

pub fn sha(bytes: &[u8]) -> String {
    kasane_image::Digest::sha256_of(bytes).to_string()
}

fn hexof(bytes: &[u8]) -> String {
    sha(bytes)[7..].to_owned()
}

/// A layer tar under construction.
pub struct LayerTar {
    b: tar::Builder<Vec<u8>>,
}

fn header(kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(mode);
    h.set_size(size);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(1_700_000_000);
    h
}

impl Default for LayerTar {
    fn default() -> Self {
        Self::new()
    }
}

impl LayerTar {
    pub fn new() -> LayerTar {
        LayerTar {
            b: tar::Builder::new(Vec::new()),
        }
    }

    pub fn dir(mut self, path: &str) -> Self {
        let mut h = header(tar::EntryType::Directory, 0o755, 0);
        self.b.append_data(&mut h, path, &[][..]).unwrap();
        self
    }

    pub fn file(self, path: &str, content: &[u8]) -> Self {
        self.file_with(path, content, 0o644, 0, 0)
    }

    pub fn file_with(mut self, path: &str, content: &[u8], mode: u32, uid: u64, gid: u64) -> Self {
        let mut h = header(tar::EntryType::Regular, mode, content.len() as u64);
        h.set_uid(uid);
        h.set_gid(gid);
        self.b.append_data(&mut h, path, content).unwrap();
        self
    }

    pub fn symlink(mut self, path: &str, target: &str) -> Self {
        let mut h = header(tar::EntryType::Symlink, 0o777, 0);
        self.b.append_link(&mut h, path, target).unwrap();
        self
    }

    pub fn hardlink(mut self, path: &str, target: &str) -> Self {
        let mut h = header(tar::EntryType::Link, 0o644, 0);
        self.b.append_link(&mut h, path, target).unwrap();
        self
    }

    pub fn char_device(mut self, path: &str, major: u32, minor: u32) -> Self {
        let mut h = header(tar::EntryType::Char, 0o666, 0);
        h.set_device_major(major).unwrap();
        h.set_device_minor(minor).unwrap();
        self.b.append_data(&mut h, path, &[][..]).unwrap();
        self
    }

    pub fn fifo(mut self, path: &str) -> Self {
        let mut h = header(tar::EntryType::Fifo, 0o644, 0);
        self.b.append_data(&mut h, path, &[][..]).unwrap();
        self
    }

    /// A file preceded by a PAX header carrying `records` (xattrs, long path, ...).
    pub fn pax_file(mut self, records: &[(&str, &[u8])], short_name: &str, content: &[u8]) -> Self {
        self.b
            .append_pax_extensions(records.iter().copied())
            .unwrap();
        let mut h = header(tar::EntryType::Regular, 0o644, content.len() as u64);
        self.b.append_data(&mut h, short_name, content).unwrap();
        self
    }

    /// A PAX global header (`g`), which carries no file.
    pub fn pax_global(mut self) -> Self {
        let body = b"30 comment=made by a test tool\n";
        let mut h = tar::Header::new_ustar();
        h.set_entry_type(tar::EntryType::XGlobalHeader);
        h.set_size(body.len() as u64);
        h.set_path("pax_global_header").unwrap();
        h.set_cksum();
        self.b.append(&h, &body[..]).unwrap();
        self
    }

    pub fn whiteout(self, path: &str) -> Self {
        let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
        let wh = if dir.is_empty() {
            format!(".wh.{name}")
        } else {
            format!("{dir}/.wh.{name}")
        };
        self.file(&wh, b"")
    }

    pub fn opaque(self, dir: &str) -> Self {
        self.file(&format!("{dir}/.wh..wh..opq"), b"")
    }

    /// A raw header with any name (no normalisation by the tar crate).
    pub fn raw(mut self, name: &[u8], content: &[u8]) -> Self {
        let mut h = header(tar::EntryType::Regular, 0o644, content.len() as u64);
        {
            let gnu = h.as_gnu_mut().unwrap();
            gnu.name[..name.len()].copy_from_slice(name);
        }
        h.set_cksum();
        self.b.append(&h, content).unwrap();
        self
    }

    pub fn finish(self) -> Vec<u8> {
        self.b.into_inner().unwrap()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Comp {
    None,
    Gzip,
    /// gzip written as several members (pigz-like).
    GzipMulti,
    Zstd,
}

pub fn compress(tar: &[u8], c: Comp) -> Vec<u8> {
    match c {
        Comp::None => tar.to_vec(),
        Comp::Gzip => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            e.write_all(tar).unwrap();
            e.finish().unwrap()
        }
        Comp::GzipMulti => {
            let mut out = Vec::new();
            for part in tar.chunks(tar.len().div_ceil(3).max(1)) {
                out.extend(compress(part, Comp::Gzip));
            }
            out
        }
        Comp::Zstd => zstd::encode_all(tar, 3).unwrap(),
    }
}

/// One layer of a test image.
#[derive(Clone)]
pub struct TestLayer {
    pub tar: Vec<u8>,
    pub stored: Vec<u8>,
    pub created_by: String,
}

impl TestLayer {
    pub fn new(tar: Vec<u8>, comp: Comp, created_by: &str) -> TestLayer {
        TestLayer {
            stored: compress(&tar, comp),
            tar,
            created_by: created_by.to_owned(),
        }
    }

    fn media_type(&self) -> &'static str {
        match self.stored.first() {
            Some(0x1f) => "application/vnd.oci.image.layer.v1.tar+gzip",
            Some(0x28) => "application/vnd.oci.image.layer.v1.tar+zstd",
            _ => "application/vnd.oci.image.layer.v1.tar",
        }
    }
}

/// A test image: layers plus config details.
#[derive(Clone)]
pub struct TestImage {
    pub layers: Vec<TestLayer>,
    pub arch: String,
    /// Extra history entries with `empty_layer: true`, placed before layer k.
    pub empty_steps_before: Vec<(usize, String)>,
}

impl TestImage {
    pub fn new(layers: Vec<TestLayer>) -> TestImage {
        TestImage {
            layers,
            arch: "amd64".into(),
            empty_steps_before: Vec::new(),
        }
    }

    pub fn arch(mut self, a: &str) -> Self {
        self.arch = a.into();
        self
    }

    pub fn config(&self) -> Vec<u8> {
        let mut history = Vec::new();
        for (k, l) in self.layers.iter().enumerate() {
            for (before, step) in &self.empty_steps_before {
                if *before == k {
                    history.push(json!({"created_by": step, "empty_layer": true}));
                }
            }
            history.push(json!({"created_by": l.created_by}));
        }
        serde_json::to_vec(&json!({
            "architecture": self.arch,
            "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": self.layers.iter().map(|l| sha(&l.tar)).collect::<Vec<_>>()},
            "history": history,
        }))
        .unwrap()
    }

    fn manifest(&self) -> Vec<u8> {
        let config = self.config();
        serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha(&config), "size": config.len()},
            "layers": self.layers.iter().map(|l| json!({"mediaType": l.media_type(), "digest": sha(&l.stored), "size": l.stored.len()})).collect::<Vec<_>>(),
        }))
        .unwrap()
    }

    fn platform(&self) -> Value {
        json!({"architecture": self.arch, "os": "linux"})
    }
}

/// Files of an archive or layout, in order.
#[derive(Default)]
pub struct Files(pub Vec<(String, Vec<u8>)>);

impl Files {
    pub fn add(&mut self, name: &str, data: Vec<u8>) {
        if !self.0.iter().any(|(n, _)| n == name) {
            self.0.push((name.to_owned(), data));
        }
    }

    pub fn blob(&mut self, data: &[u8]) -> String {
        let name = format!("blobs/sha256/{}", hexof(data));
        self.add(&name, data.to_vec());
        name
    }

    pub fn tar(&self) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, data) in &self.0 {
            let mut h = header(tar::EntryType::Regular, 0o644, data.len() as u64);
            b.append_data(&mut h, name, &data[..]).unwrap();
        }
        b.into_inner().unwrap()
    }

    pub fn write_dir(&self, dir: &Path) {
        for (name, data) in &self.0 {
            let p = dir.join(name);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, data).unwrap();
        }
    }
}

/// Legacy `docker save`: `<id>/layer.tar`, `<config-hex>.json`, manifest.json, repositories.
pub fn docker_legacy(images: &[(&str, &TestImage)]) -> Files {
    let mut f = Files::default();
    let mut manifest = Vec::new();
    for (tag, img) in images {
        let config = img.config();
        let config_name = format!("{}.json", hexof(&config));
        f.add(&config_name, config.clone());
        let mut layers = Vec::new();
        for (k, l) in img.layers.iter().enumerate() {
            // v1 ids are not diff_ids: derive something else on purpose.
            let id = hexof(format!("{}{k}{tag}", hexof(&l.tar)).as_bytes());
            f.add(&format!("{id}/VERSION"), b"1.0".to_vec());
            f.add(&format!("{id}/json"), b"{}".to_vec());
            f.add(&format!("{id}/layer.tar"), l.tar.clone());
            layers.push(format!("{id}/layer.tar"));
        }
        manifest.push(json!({"Config": config_name, "RepoTags": [tag], "Layers": layers}));
    }
    f.0.insert(
        0,
        (
            "manifest.json".into(),
            serde_json::to_vec(&manifest).unwrap(),
        ),
    );
    f
}

/// Docker 25+ `docker save` (OCI layout inside plus manifest.json); with compressed layers this is
/// what the containerd image store writes.
pub fn docker_oci(tag: &str, img: &TestImage) -> Files {
    let mut f = Files::default();
    let config = img.config();
    let config_name = f.blob(&config);
    let layers: Vec<String> = img.layers.iter().map(|l| f.blob(&l.stored)).collect();
    let manifest = img.manifest();
    f.blob(&manifest);
    f.add(
        "index.json",
        serde_json::to_vec(&json!({"schemaVersion": 2, "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sha(&manifest), "size": manifest.len(),
            "annotations": {"io.containerd.image.name": format!("docker.io/library/{tag}"), "org.opencontainers.image.ref.name": tag.rsplit(':').next().unwrap()}
        }]}))
        .unwrap(),
    );
    f.add("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec());
    f.add(
        "manifest.json",
        serde_json::to_vec(&json!([{"Config": config_name, "RepoTags": [tag], "Layers": layers}]))
            .unwrap(),
    );
    f
}

/// An OCI image layout with one entry per `(ref name, image)`.
pub fn oci_layout(images: &[(&str, &TestImage)]) -> Files {
    let mut f = Files::default();
    f.add("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec());
    let mut entries = Vec::new();
    for (tag, img) in images {
        f.blob(&img.config());
        for l in &img.layers {
            f.blob(&l.stored);
        }
        let m = img.manifest();
        f.blob(&m);
        entries.push(json!({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sha(&m), "size": m.len(),
            "annotations": {"org.opencontainers.image.ref.name": tag}}));
    }
    f.add(
        "index.json",
        serde_json::to_vec(&json!({"schemaVersion": 2, "manifests": entries})).unwrap(),
    );
    f
}

/// An OCI layout holding one multi-platform index (plus a buildx-style attestation manifest).
pub fn oci_multi_platform(tag: &str, images: &[&TestImage]) -> Files {
    let mut f = Files::default();
    f.add("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec());
    let mut manifests = Vec::new();
    for img in images {
        f.blob(&img.config());
        for l in &img.layers {
            f.blob(&l.stored);
        }
        let m = img.manifest();
        f.blob(&m);
        manifests.push(json!({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sha(&m), "size": m.len(), "platform": img.platform()}));
    }
    // An attestation manifest whose blob is absent, as `docker save` often leaves it.
    manifests.push(
        json!({"mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": sha(b"attestation"), "size": 11,
        "platform": {"architecture": "unknown", "os": "unknown"},
        "annotations": {"vnd.docker.reference.type": "attestation-manifest"}}),
    );
    let index = serde_json::to_vec(&json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": manifests})).unwrap();
    f.blob(&index);
    f.add("index.json", serde_json::to_vec(&json!({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.index.v1+json", "digest": sha(&index), "size": index.len(),
        "annotations": {"org.opencontainers.image.ref.name": tag}}]})).unwrap());
    f
}

/// Opens `input` (any form `source::open` reads) and reads its only image with default options.
pub fn open_image(input: &str) -> (Box<dyn kasane_image::Source>, kasane_image::Image) {
    let (src, _) = kasane_image::source::open(input).unwrap();
    let image = kasane_image::read_image(
        src.as_ref(),
        &kasane_image::Selector::default(),
        kasane_image::ImageReadOptions::default(),
        &kasane_image::NoProgress,
    )
    .unwrap();
    (src, image)
}

/// Writes `layers` (gzip, `RUN step N`) as an OCI layout in `dir` and reads it back.
pub fn layout_image(
    layers: Vec<Vec<u8>>,
    dir: &Path,
) -> (Box<dyn kasane_image::Source>, kasane_image::Image) {
    let img = TestImage::new(
        layers
            .into_iter()
            .enumerate()
            .map(|(i, t)| TestLayer::new(t, Comp::Gzip, &format!("RUN step {i}")))
            .collect(),
    );
    oci_layout(&[("latest", &img)]).write_dir(dir);
    open_image(dir.to_str().unwrap())
}
