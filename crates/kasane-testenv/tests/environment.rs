//! End-to-end checks that the environment `scripts/env up` prepares is really there and works:
//! both builders build on the busybox base and the result runs, images save in both formats,
//! the registry takes a push, and the peer tools run.

use std::path::{Path, PathBuf};
use std::process::Command;

use kasane_testenv::{
    BUSYBOX_IMAGE, DEBIAN_IMAGE, ImageCleanup, LayerCompression, build_image, docker, peer,
    push_image, save_image, save_oci_layout, skopeo, unique_tag,
};

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Builds a two-layer image on the busybox base with one builder and returns its tag.
fn build_greeting_image(name: &str, buildkit: bool) -> String {
    let tag = unique_tag(name);
    let dockerfile = format!(
        "FROM {BUSYBOX_IMAGE}\nCOPY greeting.txt /greeting.txt\nRUN cat /greeting.txt /greeting.txt > /twice.txt\n"
    );
    build_image(
        &tag,
        &dockerfile,
        &[("greeting.txt", b"hello from the context\n")],
        buildkit,
    );
    tag
}

#[test]
#[ignore = "e2e: needs the Docker engine (scripts/test runs it)"]
fn both_builders_build_on_busybox_and_the_image_runs() {
    for buildkit in [true, false] {
        let tag = build_greeting_image("testenv-builders", buildkit);
        let _cleanup = ImageCleanup(vec![tag.clone()]);
        let out = docker(&["run", "--rm", &tag, "cat", "/twice.txt"]);
        assert_eq!(
            stdout(&out),
            "hello from the context\nhello from the context\n",
            "buildkit={buildkit}"
        );
    }
}

#[test]
#[ignore = "e2e: needs the Docker engine (scripts/test runs it)"]
fn debian_base_image_is_bookworm() {
    for image in [DEBIAN_IMAGE, "debian:bookworm-slim"] {
        let out = docker(&["run", "--rm", image, "cat", "/etc/debian_version"]);
        assert!(stdout(&out).starts_with("12."), "{image}: {}", stdout(&out));
    }
}

#[test]
#[ignore = "e2e: needs the Docker engine (scripts/test runs it)"]
fn saved_images_come_as_docker_archive_and_oci_layouts() {
    let tag = build_greeting_image("testenv-save", true);
    let _cleanup = ImageCleanup(vec![tag.clone()]);
    let dir = tempfile::tempdir().unwrap();

    let archive = dir.path().join("image.tar");
    save_image(&tag, &archive);
    let listing = Command::new("tar")
        .arg("-tf")
        .arg(&archive)
        .output()
        .unwrap();
    assert!(listing.status.success());
    assert!(
        stdout(&listing).lines().any(|line| line == "manifest.json"),
        "docker save wrote no manifest.json:\n{}",
        stdout(&listing)
    );

    // The label must match the bytes: gzip and zstd frames start with these magic numbers.
    let cases: [(LayerCompression, &str, &[u8]); 2] = [
        (LayerCompression::Gzip, "tar+gzip", &[0x1f, 0x8b]),
        (
            LayerCompression::Zstd,
            "tar+zstd",
            &[0x28, 0xb5, 0x2f, 0xfd],
        ),
    ];
    for (compression, media_suffix, magic) in cases {
        let layout = dir.path().join(format!("{compression:?}"));
        save_oci_layout(&tag, &layout, compression);
        assert!(layout.join("oci-layout").is_file());
        let index = read_json(&layout.join("index.json"));
        let manifest = read_json(&blob_path(&layout, &index["manifests"][0]["digest"]));
        let layers = manifest["layers"].as_array().unwrap();
        // busybox's two layers, then COPY and RUN.
        assert_eq!(layers.len(), 4, "{compression:?}: {manifest}");
        for layer in layers {
            let media_type = format!("application/vnd.oci.image.layer.v1.{media_suffix}");
            assert_eq!(layer["mediaType"], media_type.as_str(), "{compression:?}");
            let blob = std::fs::read(blob_path(&layout, &layer["digest"])).unwrap();
            assert!(
                blob.starts_with(magic),
                "{compression:?} layer is not {media_suffix}"
            );
        }
    }
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// Where an OCI layout keeps the blob with this `sha256:` digest.
fn blob_path(layout: &Path, digest: &serde_json::Value) -> PathBuf {
    let hex = digest.as_str().unwrap().strip_prefix("sha256:").unwrap();
    layout.join("blobs/sha256").join(hex)
}

#[test]
#[ignore = "e2e: needs the Docker engine (scripts/test runs it)"]
fn registry_takes_a_push_and_serves_it_back() {
    let tag = build_greeting_image("testenv-registry", true);
    let remote = push_image(&tag);
    let _cleanup = ImageCleanup(vec![tag.clone(), remote.clone()]);

    let pushed = docker(&[
        "image",
        "inspect",
        "--format",
        "{{json .RepoDigests}}",
        &remote,
    ]);
    let inspect = skopeo(&[
        "inspect",
        "--tls-verify=false",
        &format!("docker://{remote}"),
    ]);
    let served: serde_json::Value = serde_json::from_slice(&inspect.stdout).unwrap();
    let digest = served["Digest"].as_str().unwrap();
    assert!(
        stdout(&pushed).contains(digest),
        "registry serves {digest}, engine pushed {}",
        stdout(&pushed)
    );
}

#[test]
#[ignore = "e2e: needs the Docker engine (scripts/test runs it)"]
fn peer_tools_run() {
    let version = |name: &str| {
        let out = Command::new(peer(name)).arg("--version").output().unwrap();
        assert!(out.status.success(), "{name} --version failed");
        stdout(&out)
    };
    assert!(version("dive").contains("0.13.1"));
    assert!(version("hadolint").contains("2.15.1"));

    // BuildKit's own parser, through the PyPI `dockerfile` package.
    let out = Command::new(peer("python"))
        .args([
            "-c",
            "import dockerfile; print([c.cmd for c in dockerfile.parse_string('FROM a\\nRUN b\\n')])",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout(&out), "['FROM', 'RUN']\n");
}
