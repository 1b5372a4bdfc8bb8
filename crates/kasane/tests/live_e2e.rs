//! End-to-end: live image sources against the real engine and the real registry at
//! 127.0.0.1:5000. One image, built by the engine and pushed to the registry, read six ways —
//! from the daemon (`docker-daemon:` and a bare name), from the registry (`docker://`), from
//! `docker save`, from an OCI layout `skopeo copy` wrote (gzip and zstd), and from the layout
//! `--save` wrote — gives the same `kasane analyze --json` once the fields that describe where
//! and how the bytes were stored are set aside: the source, its format, the manifest digest
//! (the daemon's export has none), each layer's stored digest, compression and stored size.
//! Everything else — config digest, diff_ids, files, sizes, waste, dive's figures — must match.

use std::path::Path;
use std::process::Command;

use kasane_testenv::{
    BUSYBOX_IMAGE, ImageCleanup, REGISTRY, build_image, push_image, require_engine,
    require_registry, save_image, skopeo, unique_tag,
};
use serde_json::Value;

fn kasane() -> Command {
    Command::new(env!("CARGO_BIN_EXE_kasane"))
}

fn run(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let out = kasane()
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("run kasane");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn analyze(image: &str, extra: &[&str]) -> Value {
    let mut args = vec!["analyze", "--json", "-q", image];
    args.extend_from_slice(extra);
    let (code, out, err) = run(&args, &[]);
    assert_eq!(code, 0, "kasane analyze {image} failed:\n{err}");
    serde_json::from_str(&out).expect("analyze JSON")
}

/// Sets aside what describes storage, not the image.
fn image_only(mut v: Value) -> Value {
    let image = v["image"].as_object_mut().expect("image object");
    for k in ["source", "format", "manifest_digest", "stored_size", "name"] {
        image.remove(k);
    }
    for layer in v["layers"].as_array_mut().expect("layers") {
        let layer = layer.as_object_mut().expect("layer object");
        for k in ["digest", "compression", "stored_size"] {
            layer.remove(k);
        }
    }
    v
}

const DOCKERFILE_TAIL: &str = "\
RUN mkdir -p /data && echo one > /data/a && cp /bin/busybox /data/copy && echo gone > /data/tmp
RUN rm /data/tmp && echo two >> /data/a && chmod 600 /data/copy
COPY blob.bin /data/blob.bin
";

#[test]
#[ignore = "e2e: needs the Docker engine and the registry (scripts/test runs it)"]
fn the_same_image_analyses_the_same_from_every_source() {
    require_engine();
    require_registry();
    let tag = unique_tag("live-same");
    let blob: Vec<u8> = (0..300_000u32).map(|i| (i * 31 / 7) as u8).collect();
    build_image(
        &tag,
        &format!("FROM {BUSYBOX_IMAGE}\n{DOCKERFILE_TAIL}"),
        &[("blob.bin", &blob)],
        true,
    );
    let remote = push_image(&tag);
    let _cleanup = ImageCleanup(vec![tag.clone(), remote.clone()]);
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("image.tar");
    save_image(&tag, &archive);
    let gz = dir.path().join("gz");
    let zst = dir.path().join("zst");
    let from = format!("docker://{remote}");
    skopeo(&[
        "copy",
        "--quiet",
        "--src-tls-verify=false",
        &from,
        &format!("oci:{}:latest", gz.display()),
    ]);
    skopeo(&[
        "copy",
        "--quiet",
        "--src-tls-verify=false",
        "--dest-compress",
        "--dest-compress-format",
        "zstd",
        &from,
        &format!("oci:{}:latest", zst.display()),
    ]);
    let saved = dir.path().join("saved");

    let reference = image_only(analyze(&format!("docker-daemon:{tag}"), &[]));
    let others = [
        (
            format!("docker://{remote}"),
            vec!["--save", saved.to_str().unwrap()],
        ),
        (tag.clone(), vec![]),
        (remote.clone(), vec![]),
        (archive.display().to_string(), vec![]),
        (format!("oci:{}:latest", gz.display()), vec![]),
        (format!("oci:{}:latest", zst.display()), vec![]),
    ];
    for (image, extra) in &others {
        let mut got = image_only(analyze(image, extra));
        let mut want = reference.clone();
        if image.starts_with("oci:") {
            // skopeo rewrites a Docker config as an OCI config when it writes an OCI layout:
            // other bytes, so another config digest. The diff_ids, compared per layer, still
            // tie it to the same layers.
            got["image"]["config_digest"] = Value::Null;
            want["image"]["config_digest"] = Value::Null;
        }
        assert_eq!(
            got, want,
            "{image} analyses differently from the daemon's export"
        );
    }
    // --save wrote a layout that reads back the same, with the registry's own blobs.
    assert!(saved.join("index.json").exists());
    let from_saved = analyze(&saved.display().to_string(), &[]);
    assert_eq!(image_only(from_saved.clone()), reference);
    let from_registry = analyze(&format!("docker://{remote}"), &[]);
    assert_eq!(from_saved["layers"], from_registry["layers"]);
    assert_eq!(
        from_saved["image"]["manifest_digest"],
        from_registry["image"]["manifest_digest"]
    );
    // The registry's manifest is the one the registry serves for the tag.
    let inspect = skopeo(&["inspect", "--tls-verify=false", &from]).stdout;
    let inspect: Value = serde_json::from_slice(&inspect).unwrap();
    assert_eq!(inspect["Digest"], from_registry["image"]["manifest_digest"]);
}

#[test]
#[ignore = "e2e: needs the Docker engine and the registry (scripts/test runs it)"]
fn every_image_command_reads_live_references() {
    require_engine();
    require_registry();
    let tag = unique_tag("live-commands");
    build_image(
        &tag,
        &format!("FROM {BUSYBOX_IMAGE}\nRUN echo hi > /hello\n"),
        &[],
        true,
    );
    let remote = push_image(&tag);
    let _cleanup = ImageCleanup(vec![tag.clone(), remote.clone()]);
    let registry_ref = format!("docker://{remote}");
    let daemon_ref = format!("docker-daemon:{tag}");
    let dir = tempfile::tempdir().unwrap();
    let ok = |args: &[&str]| {
        let (code, out, err) = run(args, &[]);
        assert_eq!(code, 0, "kasane {args:?}:\n{err}");
        out
    };
    let layers = ok(&["layers", "-q", &registry_ref]);
    assert!(layers.contains("hello"), "{layers}");
    let out = dir.path().join("fs");
    ok(&["export", "-q", &registry_ref, "-o", out.to_str().unwrap()]);
    assert_eq!(std::fs::read(out.join("hello")).unwrap(), b"hi\n");
    let squashed = dir.path().join("squashed.tar");
    ok(&[
        "squash",
        "-q",
        &daemon_ref,
        "-o",
        squashed.to_str().unwrap(),
    ]);
    assert!(squashed.metadata().unwrap().len() > 1_000_000);
    // The same image from the engine and from the registry: no difference.
    let (code, out, err) = run(&["diff", "-q", &daemon_ref, &registry_ref], &[]);
    assert_eq!(code, 0, "diff found differences:\n{out}\n{err}");
}

#[test]
#[ignore = "e2e: needs the Docker engine and the registry (scripts/test runs it)"]
fn live_failures_are_clear() {
    require_engine();
    require_registry();
    let missing = format!("docker://{REGISTRY}/kasane-e2e-live-no-such-image:v9");
    let (code, _, err) = run(&["analyze", "-q", &missing], &[]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(REGISTRY) && err.contains("not found (HTTP 404)"),
        "{err}"
    );
    let (code, _, err) = run(
        &["analyze", "-q", "docker-daemon:kasane-e2e-live-no-such:v1"],
        &[],
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("no image `kasane-e2e-live-no-such:v1`"),
        "{err}"
    );
    // A bare name neither the engine nor the registry has: both are named.
    let bare = format!("{REGISTRY}/kasane-e2e-live-nowhere:v1");
    let (code, _, err) = run(&["analyze", "-q", &bare], &[]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("no image in the local Docker engine") && err.contains("HTTP 404"),
        "{err}"
    );
    // DOCKER_HOST is honoured: a socket that does not exist is named.
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("nothing.sock");
    let host = format!("unix://{}", sock.display());
    let (code, _, err) = run(
        &["analyze", "-q", &format!("docker-daemon:{BUSYBOX_IMAGE}")],
        &[("DOCKER_HOST", &host)],
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(&host) && err.contains("is dockerd running"),
        "{err}"
    );
    // --save refuses sources that are not registries.
    let (code, _, err) = run(
        &[
            "analyze",
            "-q",
            "--save",
            dir.path().join("x").to_str().unwrap(),
            &format!("docker-daemon:{BUSYBOX_IMAGE}"),
        ],
        &[],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--save"), "{err}");
    assert!(!Path::new(&dir.path().join("x")).exists());
}
