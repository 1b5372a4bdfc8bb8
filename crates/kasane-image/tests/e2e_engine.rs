//! End-to-end: images built by the real Docker engine, read in every format the engine and skopeo
//! write, checked against what the Dockerfile did and against dive's own `--json` output.

use std::path::Path;
use std::process::Command;

use kasane_image::analysis::{Analysis, WasteCause};
use kasane_image::{
    AnalysisOptions, ImageReadOptions, NoProgress, Selector, analyze, read_image, source,
};
use kasane_testenv as env;

const E2E: &str = "e2e: needs the Docker engine (scripts/test runs it)";

/// A multi-stage build: a payload made in a builder stage, copied, chmod'ed (a metadata-only
/// copy), a file added then deleted, a config overwritten, and a duplicate made with cp.
const DOCKERFILE: &str = "\
FROM kasane-busybox:latest AS build
RUN mkdir -p /out && head -c 300000 /dev/urandom > /out/payload.bin

FROM kasane-busybox:latest
COPY --from=build /out/payload.bin /app/payload.bin
RUN chmod 600 /app/payload.bin
COPY big.txt /app/big.txt
RUN rm /app/big.txt
COPY v1.conf /etc/app.conf
COPY v2.conf /etc/app.conf
RUN cp /app/payload.bin /app/payload-copy.bin
";

fn build(tag: &str, buildkit: bool) {
    let big = vec![b'x'; 200_000];
    env::build_image(
        tag,
        DOCKERFILE,
        &[
            ("big.txt", &big),
            ("v1.conf", b"version = 1\n"),
            ("v2.conf", b"version = 2, longer\n"),
        ],
        buildkit,
    );
}

fn analyze_input(input: &str) -> Analysis {
    let (src, tag) = source::open(input).unwrap_or_else(|e| panic!("{input}: {e}"));
    let sel = Selector {
        tag,
        platform: None,
    };
    let image = read_image(src.as_ref(), &sel, ImageReadOptions::default(), &NoProgress)
        .unwrap_or_else(|e| panic!("{input}: {e:?}"));
    analyze(&image, AnalysisOptions { top: 1000 })
}

fn dive_json(tar: &Path) -> serde_json::Value {
    let out = tar.with_extension("dive.json");
    // dive does not truncate an existing file (dive issue #502): start from none.
    let _ = std::fs::remove_file(&out);
    let status = Command::new(env::peer("dive"))
        .arg("--json")
        .arg(&out)
        .arg(format!("docker-archive://{}", tar.display()))
        .env_remove("CI")
        .output()
        .expect("run dive");
    assert!(
        status.status.success(),
        "dive failed: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap()
}

fn wasted<'a>(
    a: &'a Analysis,
    path: &str,
    cause: WasteCause,
) -> &'a kasane_image::analysis::WastedFile {
    a.wasted_files
        .iter()
        .find(|w| w.path.to_string() == path && w.cause == cause)
        .unwrap_or_else(|| panic!("{path} not wasted as {cause:?}: {:#?}", a.wasted_files))
}

fn check_against_the_build(a: &Analysis) {
    let chmod = wasted(a, "/app/payload.bin", WasteCause::MetadataOnly);
    assert_eq!(chmod.size, 300_000);
    assert_eq!(wasted(a, "/app/big.txt", WasteCause::Deleted).size, 200_000);
    assert_eq!(wasted(a, "/etc/app.conf", WasteCause::Overwritten).size, 12);
    let dup = a
        .duplicates
        .iter()
        .find(|d| d.size == 300_000)
        .expect("payload duplicate");
    let paths: Vec<String> = dup.files.iter().map(|f| f.path.to_string()).collect();
    assert_eq!(paths, ["/app/payload-copy.bin", "/app/payload.bin"]);
    assert_eq!(a.waste.metadata_only.bytes, 300_000);
    assert_eq!(a.waste.deleted.bytes, 200_000);
    assert_eq!(a.waste.overwritten.bytes, 12);
    assert_eq!(a.waste.duplicate.bytes, 300_000);
    assert_eq!(a.waste.reclaimable_bytes, 800_012);
    assert!(
        a.largest_files
            .iter()
            .any(|f| f.path.to_string() == "/bin/busybox")
    );
    assert!(
        a.layers
            .iter()
            .any(|l| l.instruction.as_deref() == Some("RUN chmod 600 /app/payload.bin")),
        "{:#?}",
        a.layers
    );
}

fn check_against_dive(a: &Analysis, dive: &serde_json::Value) {
    let score = dive["image"]["efficiencyScore"].as_f64().unwrap();
    assert!(
        (a.efficiency - score).abs() < 1e-9,
        "kasane {} vs dive {score}",
        a.efficiency
    );
    assert_eq!(
        a.dive.wasted_bytes,
        dive["image"]["inefficientBytes"].as_u64().unwrap()
    );
    assert_eq!(
        a.image.total_size,
        dive["image"]["sizeBytes"].as_u64().unwrap()
    );
    let layers = dive["layer"].as_array().unwrap();
    assert_eq!(layers.len(), a.layers.len());
    for (ours, theirs) in a.layers.iter().zip(layers) {
        assert_eq!(
            ours.size,
            theirs["sizeBytes"].as_u64().unwrap(),
            "layer {}",
            ours.index
        );
    }
}

#[test]
#[ignore = "e2e: needs the Docker engine (scripts/test runs it)"]
fn multi_stage_build_both_builders_agree_with_dive() {
    let _ = E2E;
    let dir = tempfile::tempdir().unwrap();
    for (tag, buildkit) in [
        ("kasane-e2e-image-waste-bk:latest", true),
        ("kasane-e2e-image-waste-legacy:latest", false),
    ] {
        build(tag, buildkit);
        let tar = dir
            .path()
            .join(format!("{}.tar", if buildkit { "bk" } else { "legacy" }));
        env::save_image(tag, &tar);
        let a = analyze_input(tar.to_str().unwrap());
        check_against_the_build(&a);
        check_against_dive(&a, &dive_json(&tar));
        // dive counts both copies of the chmod'ed payload; kasane keeps one.
        assert!(a.dive.wasted_bytes >= 600_000, "{}", a.dive.wasted_bytes);
        assert_eq!(a.image.name.as_deref(), Some(tag));
    }
}

/// Directory deletions (dive charges the directory once and its files not at all), a directory
/// deleted and recreated in one step (overlay2 writes an opaque marker, which dive ignores), hard
/// links and a symlink: kasane must still match dive's score exactly, and see the real waste.
const DIRECTORY_DOCKERFILE: &str = "\
FROM kasane-busybox:latest
RUN mkdir -p /data/sub /cache && head -c 50000 /dev/urandom > /data/sub/a.bin \\
 && head -c 70000 /dev/urandom > /data/b.bin && head -c 30000 /dev/urandom > /cache/old.bin \\
 && ln /data/b.bin /data/b-link.bin && ln -s /data/b.bin /data/b-sym
RUN rm -rf /data
RUN rm -rf /cache && mkdir /cache && echo fresh > /cache/new.txt
";

#[test]
#[ignore = "e2e: needs the Docker engine (scripts/test runs it)"]
fn directory_deletions_and_opaque_directories_agree_with_dive() {
    let dir = tempfile::tempdir().unwrap();
    for (tag, buildkit) in [
        ("kasane-e2e-image-dirs-bk:latest", true),
        ("kasane-e2e-image-dirs-legacy:latest", false),
    ] {
        env::build_image(tag, DIRECTORY_DOCKERFILE, &[], buildkit);
        let tar = dir.path().join("dirs.tar");
        env::save_image(tag, &tar);
        let a = analyze_input(tar.to_str().unwrap());
        check_against_dive(&a, &dive_json(&tar));
        // Everything under /data (the hard link shares b.bin's bytes) and /cache/old.bin is gone.
        assert_eq!(
            a.waste.deleted.bytes,
            50_000 + 70_000 + 30_000,
            "{:#?}",
            a.wasted_files
        );
        assert!(wasted(&a, "/cache/old.bin", WasteCause::Deleted).size == 30_000);
        assert_eq!(a.waste.duplicate.bytes, 0, "hard links are not duplicates");
        assert!(
            a.dive.wasted_bytes < 150_000,
            "dive misses directory deletions: {}",
            a.dive.wasted_bytes
        );
    }
}

fn skopeo(args: &[&str]) {
    let out = Command::new("skopeo")
        .args(args)
        .output()
        .expect("skopeo is installed by scripts/env");
    assert!(
        out.status.success(),
        "skopeo {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
#[ignore = "e2e: needs the Docker engine (scripts/test runs it)"]
fn oci_layouts_archives_and_docker_25_tars_read_the_same() {
    let tag = "kasane-e2e-image-oci:latest";
    build(tag, true);
    let dir = tempfile::tempdir().unwrap();
    let d = |n: &str| dir.path().join(n).to_str().unwrap().to_owned();
    let legacy = d("legacy.tar");
    env::save_image(tag, Path::new(&legacy));
    let reference = analyze_input(&legacy);

    let gzip_dir = d("gzip");
    skopeo(&[
        "copy",
        &format!("docker-daemon:{tag}"),
        &format!("oci:{gzip_dir}:app"),
    ]);
    let zstd_tar = d("zstd.tar");
    skopeo(&[
        "copy",
        "--dest-compress-format",
        "zstd",
        "--dest-compress",
        &format!("oci:{gzip_dir}:app"),
        &format!("oci-archive:{zstd_tar}:app"),
    ]);
    let plain_dir = d("plain");
    skopeo(&[
        "copy",
        "--dest-decompress",
        &format!("oci:{gzip_dir}:app"),
        &format!("oci:{plain_dir}:app"),
    ]);
    let docker25 = d("docker25.tar");
    docker_25_tar(Path::new(&plain_dir), tag, Path::new(&docker25));

    for input in [
        format!("oci:{gzip_dir}:app"),
        gzip_dir.clone(),
        format!("oci-archive:{zstd_tar}:app"),
        zstd_tar.clone(),
        plain_dir.clone(),
        docker25.clone(),
        format!("docker-archive:{docker25}"),
    ] {
        let a = analyze_input(&input);
        check_against_the_build(&a);
        assert_eq!(a.efficiency, reference.efficiency, "{input}");
        assert_eq!(a.waste, reference.waste, "{input}");
        assert_eq!(a.image.total_size, reference.image.total_size, "{input}");
    }
    let zstd = analyze_input(&zstd_tar);
    assert!(
        zstd.layers
            .iter()
            .all(|l| l.compression == kasane_image::Compression::Zstd)
    );
    let gz = analyze_input(&gzip_dir);
    assert!(
        gz.layers
            .iter()
            .all(|l| l.compression == kasane_image::Compression::Gzip)
    );
    // dive reads the hand-built Docker 25 tar too: same score.
    check_against_dive(&analyze_input(&docker25), &dive_json(Path::new(&docker25)));
}

/// Packs an uncompressed OCI layout as Docker 25's `docker save` does: the layout plus a
/// `manifest.json` pointing at `blobs/sha256/...`.
fn docker_25_tar(layout: &Path, tag: &str, out: &Path) {
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    let digest = index["manifests"][0]["digest"].as_str().unwrap();
    let blob = |d: &str| format!("blobs/sha256/{}", d.trim_start_matches("sha256:"));
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(layout.join(blob(digest))).unwrap()).unwrap();
    let docker_manifest = serde_json::json!([{
        "Config": blob(manifest["config"]["digest"].as_str().unwrap()),
        "RepoTags": [tag],
        "Layers": manifest["layers"].as_array().unwrap().iter().map(|l| blob(l["digest"].as_str().unwrap())).collect::<Vec<_>>(),
    }]);
    std::fs::write(
        layout.join("manifest.json"),
        serde_json::to_vec(&docker_manifest).unwrap(),
    )
    .unwrap();
    let status = Command::new("tar")
        .arg("-C")
        .arg(layout)
        .arg("-cf")
        .arg(out)
        .args(["manifest.json", "index.json", "oci-layout", "blobs"]) // names without `./`, as Docker writes them
        .status()
        .unwrap();
    assert!(status.success());
}
