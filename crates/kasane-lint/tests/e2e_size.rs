//! The size and speed rules, proven on real builds: each test lints a Dockerfile the rule
//! flags, builds it and its fixed form (the rule's own fix where it has one) with the real
//! engine, and checks that the image got smaller, or the rebuild reused the cache, by about
//! what the rule's message claims.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};

use kasane_lint::config::Config;
use kasane_lint::{Finding, LintOptions, lint_source};
use kasane_testenv::{BUSYBOX_IMAGE, DEBIAN_IMAGE, DOCKER, build_image, docker, require_engine};

const MB: i64 = 1_000_000;

/// Lints `src` with every rule on, with `context` as the build context.
fn lint(src: &str, context: Option<&Path>) -> Vec<Finding> {
    let config = Config {
        select: Some(vec!["all".into()]),
        ..Config::default()
    };
    lint_source(
        "Dockerfile",
        src,
        &LintOptions {
            config: &config,
            context,
            dockerfile: None,
        },
    )
    .findings
}

/// The findings of `code`, asserting there is at least one.
fn flagged(code: &str, src: &str, context: Option<&Path>) -> Vec<Finding> {
    let found: Vec<Finding> = lint(src, context)
        .into_iter()
        .filter(|f| f.code == code)
        .collect();
    assert!(!found.is_empty(), "{code} should flag:\n{src}");
    found
}

fn not_flagged(code: &str, src: &str, context: Option<&Path>) {
    let found: Vec<Finding> = lint(src, context)
        .into_iter()
        .filter(|f| f.code == code)
        .collect();
    assert!(
        found.is_empty(),
        "{code} should not flag:\n{src}\n{found:#?}"
    );
}

/// Applies the fixes of every finding of `code`, one after the other.
fn apply_fixes(code: &str, src: &str) -> String {
    let mut text = src.to_owned();
    // Re-lint after each fix so spans stay valid.
    for _ in 0..10 {
        let Some(fix) = lint(&text, None)
            .into_iter()
            .filter(|f| f.code == code)
            .find_map(|f| f.fix)
        else {
            break;
        };
        text = fix.apply(&text);
    }
    text
}

fn image_size(tag: &str) -> i64 {
    let out = docker(&["image", "inspect", "-f", "{{.Size}}", tag]);
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("image size")
}

fn image_layers(tag: &str) -> Vec<String> {
    let out = docker(&[
        "image",
        "inspect",
        "-f",
        "{{range .RootFS.Layers}}{{println .}}{{end}}",
        tag,
    ]);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

fn remove_images(tags: &[&str]) {
    let mut args = vec!["rmi", "-f"];
    args.extend_from_slice(tags);
    let _ = Command::new(DOCKER).args(&args).output();
}

/// Incompressible bytes (a fixed xorshift stream), so sizes mean what they say.
fn noise(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// A one-file ustar archive holding `name` with `data`.
fn tar_of(name: &str, data: &[u8]) -> Vec<u8> {
    let mut h = [0u8; 512];
    h[..name.len()].copy_from_slice(name.as_bytes());
    h[100..107].copy_from_slice(b"0000644");
    h[108..115].copy_from_slice(b"0000000");
    h[116..123].copy_from_slice(b"0000000");
    h[124..135].copy_from_slice(format!("{:011o}", data.len()).as_bytes());
    h[136..147].copy_from_slice(b"00000000000");
    h[156] = b'0';
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
    let mut out = h.to_vec();
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(512) * 512 + 1024, 0);
    out
}

fn within(actual: i64, claimed: i64, tolerance: f64) -> bool {
    (actual - claimed).abs() as f64 <= claimed as f64 * tolerance
}

#[test]
#[ignore = "e2e: needs the Docker engine (scripts/test runs it)"]
fn apt_lists_in_layer_kl301() {
    require_engine();
    let bad = format!(
        "FROM {DEBIAN_IMAGE}\nRUN apt-get update && apt-get install -y --no-install-recommends less\n"
    );
    let found = flagged("KL301", &bad, None);
    assert!(
        found[0].message.contains("tens of MB"),
        "{}",
        found[0].message
    );
    let good = apply_fixes("KL301", &bad);
    assert!(good.contains("rm -rf /var/lib/apt/lists/*"), "{good}");
    not_flagged("KL301", &good, None);
    let (a, b) = (
        "kasane-e2e-lint-kl301-flagged",
        "kasane-e2e-lint-kl301-fixed",
    );
    build_image(a, &bad, &[], true);
    build_image(b, &good, &[], true);
    let saved = image_size(a) - image_size(b);
    remove_images(&[a, b]);
    assert!(
        saved >= 10 * MB,
        "the fix saved only {saved} bytes; the message claims tens of MB"
    );
}

#[test]
#[ignore = "e2e: needs the Docker engine (scripts/test runs it)"]
fn apt_update_alone_kl302() {
    require_engine();
    let bad = format!(
        "FROM {DEBIAN_IMAGE}\nRUN apt-get update\nRUN apt-get install -y --no-install-recommends less && rm -rf /var/lib/apt/lists/*\n"
    );
    let found = flagged("KL302", &bad, None);
    assert!(found[0].message.contains("tens of MB"));
    let good = format!(
        "FROM {DEBIAN_IMAGE}\nRUN apt-get update && apt-get install -y --no-install-recommends less && rm -rf /var/lib/apt/lists/*\n"
    );
    not_flagged("KL302", &good, None);
    let (a, b) = (
        "kasane-e2e-lint-kl302-flagged",
        "kasane-e2e-lint-kl302-fixed",
    );
    build_image(a, &bad, &[], true);
    build_image(b, &good, &[], true);
    let saved = image_size(a) - image_size(b);
    remove_images(&[a, b]);
    assert!(
        saved >= 10 * MB,
        "merging saved only {saved} bytes; the message claims tens of MB"
    );
}

#[test]
#[ignore = "e2e: needs the Docker engine (scripts/test runs it)"]
fn install_recommends_kl303() {
    require_engine();
    let bad = format!(
        "FROM {DEBIAN_IMAGE}\nRUN apt-get update && apt-get install -y git && rm -rf /var/lib/apt/lists/*\n"
    );
    flagged("KL303", &bad, None);
    let good = apply_fixes("KL303", &bad);
    assert!(good.contains("--no-install-recommends"), "{good}");
    not_flagged("KL303", &good, None);
    let (a, b) = (
        "kasane-e2e-lint-kl303-flagged",
        "kasane-e2e-lint-kl303-fixed",
    );
    build_image(a, &bad, &[], true);
    build_image(b, &good, &[], true);
    let saved = image_size(a) - image_size(b);
    remove_images(&[a, b]);
    assert!(saved >= MB, "skipping recommends saved only {saved} bytes");
}

#[test]
#[ignore = "e2e: needs the Docker engine (scripts/test runs it)"]
fn removed_in_later_layer_kl304() {
    require_engine();
    let archive = tar_of("payload.bin", &noise(4_000_000));
    let context = tempfile::tempdir().unwrap();
    std::fs::write(context.path().join("app.tar"), &archive).unwrap();
    let bad = format!(
        "FROM {BUSYBOX_IMAGE}\nCOPY app.tar /tmp/\nRUN mkdir -p /opt && tar -xf /tmp/app.tar -C /opt\nRUN rm /tmp/app.tar\n"
    );
    let found = flagged("KL304", &bad, Some(context.path()));
    let claimed = archive.len() as i64;
    let shown = format!("{:.1} MB", claimed as f64 / 1e6);
    assert!(
        found[0].message.contains(&shown),
        "{} should state {shown}",
        found[0].message
    );
    let good = format!(
        "FROM {BUSYBOX_IMAGE}\nRUN --mount=type=bind,source=app.tar,target=/tmp/app.tar mkdir -p /opt && tar -xf /tmp/app.tar -C /opt\n"
    );
    not_flagged("KL304", &good, Some(context.path()));
    let (a, b) = (
        "kasane-e2e-lint-kl304-flagged",
        "kasane-e2e-lint-kl304-fixed",
    );
    build_image(a, &bad, &[("app.tar", &archive)], true);
    build_image(b, &good, &[("app.tar", &archive)], true);
    let saved = image_size(a) - image_size(b);
    remove_images(&[a, b]);
    assert!(
        within(saved, claimed, 0.05),
        "saved {saved} bytes, the message claims {claimed}"
    );
}

#[test]
#[ignore = "e2e: needs the Docker engine (scripts/test runs it)"]
fn chmod_in_separate_layer_kl305() {
    require_engine();
    let data = noise(3_000_000);
    let context = tempfile::tempdir().unwrap();
    std::fs::write(context.path().join("big.bin"), &data).unwrap();
    let bad =
        format!("FROM {BUSYBOX_IMAGE}\nCOPY big.bin /opt/big.bin\nRUN chmod 600 /opt/big.bin\n");
    let found = flagged("KL305", &bad, Some(context.path()));
    assert!(found[0].message.contains("3.0 MB"), "{}", found[0].message);
    let good = apply_fixes("KL305", &bad);
    assert!(good.contains("COPY --chmod=600 big.bin"), "{good}");
    not_flagged("KL305", &good, Some(context.path()));
    let (a, b) = (
        "kasane-e2e-lint-kl305-flagged",
        "kasane-e2e-lint-kl305-fixed",
    );
    build_image(a, &bad, &[("big.bin", &data)], true);
    build_image(b, &good, &[("big.bin", &data)], true);
    let mode = docker(&["run", "--rm", b, "stat", "-c", "%a", "/opt/big.bin"]);
    let saved = image_size(a) - image_size(b);
    remove_images(&[a, b]);
    assert_eq!(
        String::from_utf8_lossy(&mode.stdout).trim(),
        "600",
        "the fix keeps the mode"
    );
    assert!(
        within(saved, data.len() as i64, 0.05),
        "saved {saved} bytes, the message claims {}",
        data.len()
    );
}

#[test]
#[ignore = "e2e: needs the Docker engine (scripts/test runs it)"]
fn useradd_lastlog_kl306() {
    require_engine();
    let uid: i64 = 200_000;
    // Debian 12's shadow (4.13) no longer writes the logs; the message names the affected
    // versions, so reproduce one: Debian 11's useradd (shadow 4.8.1) on the bookworm base.
    let base = format!(
        "FROM {DEBIAN_IMAGE}\nRUN echo 'deb http://deb.debian.org/debian bullseye main' > /etc/apt/sources.list.d/bullseye.list \\\n && apt-get update && apt-get install -y --allow-downgrades passwd/bullseye && rm -rf /var/lib/apt/lists/*\n"
    );
    let bad = format!("{base}RUN useradd -u {uid} app\n");
    let found = flagged("KL306", &bad, None);
    assert!(
        found[0].message.contains("shadow before 4.13"),
        "{}",
        found[0].message
    );
    let claimed = uid * 324;
    assert!(
        found[0]
            .message
            .contains(&format!("{:.1} MB", claimed as f64 / 1e6)),
        "{}",
        found[0].message
    );
    let good = apply_fixes("KL306", &bad);
    not_flagged("KL306", &good, None);
    let (a, b) = (
        "kasane-e2e-lint-kl306-flagged",
        "kasane-e2e-lint-kl306-fixed",
    );
    build_image(a, &bad, &[], true);
    build_image(b, &good, &[], true);
    let saved = image_size(a) - image_size(b);
    remove_images(&[a, b]);
    assert!(
        within(saved, claimed, 0.05),
        "saved {saved} bytes, the message claims {claimed}"
    );
}

/// Serves `body` for every GET on 127.0.0.1 until `max` requests were answered.
fn serve(body: Vec<u8>, max: usize) -> (u16, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        for stream in listener.incoming().take(max) {
            let Ok(mut s) = stream else { continue };
            let _ = s.set_read_timeout(Some(std::time::Duration::from_secs(10)));
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(head.as_bytes());
            let _ = s.write_all(&body);
        }
    });
    (port, handle)
}

/// `docker build` of `dir` with the legacy builder on the host network (so RUN reaches
/// 127.0.0.1), without `-q` so the build output can be read.
fn legacy_build(tag: &str, dir: &Path, extra: &[&str]) -> Output {
    require_engine();
    let mut cmd = Command::new(DOCKER);
    cmd.env("DOCKER_BUILDKIT", "0")
        .args(["build", "-t", tag])
        .args(extra)
        .arg(dir);
    let out = cmd.output().expect("docker build");
    assert!(
        out.status.success(),
        "build failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
#[ignore = "e2e: needs the Docker engine (scripts/test runs it)"]
fn add_url_kl307() {
    require_engine();
    let archive = tar_of("payload.bin", &noise(3_000_000));
    let (port, server) = serve(archive.clone(), 4);
    let url = format!("http://127.0.0.1:{port}/app.tar");
    let bad = format!(
        "FROM {BUSYBOX_IMAGE}\nADD {url} /tmp/app.tar\nRUN mkdir -p /opt && tar -xf /tmp/app.tar -C /opt && rm /tmp/app.tar\n"
    );
    flagged("KL307", &bad, None);
    let good =
        format!("FROM {BUSYBOX_IMAGE}\nRUN mkdir -p /opt && wget -q -O- {url} | tar -x -C /opt\n");
    not_flagged("KL307", &good, None);
    let (a, b) = (
        "kasane-e2e-lint-kl307-flagged",
        "kasane-e2e-lint-kl307-fixed",
    );
    for (tag, src) in [(a, &bad), (b, &good)] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("Dockerfile"), src).unwrap();
        legacy_build(tag, dir.path(), &["--network", "host"]);
    }
    let saved = image_size(a) - image_size(b);
    remove_images(&[a, b]);
    drop(server);
    assert!(
        within(saved, archive.len() as i64, 0.05),
        "saved {saved} bytes; the download is {}",
        archive.len()
    );
}

#[test]
#[ignore = "e2e: needs the Docker engine (scripts/test runs it)"]
fn copy_all_before_install_kl401() {
    require_engine();
    // `pip` here stands in for any dependency installer: the rule is about the layer cache,
    // which does not depend on what the installer does. It records a fresh id per run.
    let pip: &[u8] = b"#!/bin/sh\ncat /proc/sys/kernel/random/uuid > /deps-installed\n";
    let req: &[u8] = b"flask==3.0\n";
    let bad = format!(
        "FROM {BUSYBOX_IMAGE}\nCOPY --chmod=755 pip /usr/local/bin/pip\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n"
    );
    flagged("KL401", &bad, None);
    let good = format!(
        "FROM {BUSYBOX_IMAGE}\nCOPY --chmod=755 pip /usr/local/bin/pip\nWORKDIR /app\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\nCOPY . .\n"
    );
    not_flagged("KL401", &good, None);
    // Build each twice, changing only a source file in between.
    let install_layer = |tag: &str, src: &str, version: &[u8]| -> String {
        build_image(
            tag,
            src,
            &[
                ("pip", pip),
                ("requirements.txt", req),
                ("src/main.py", version),
            ],
            true,
        );
        let out = docker(&["run", "--rm", tag, "cat", "/deps-installed"]);
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    let (a, b) = (
        "kasane-e2e-lint-kl401-flagged",
        "kasane-e2e-lint-kl401-fixed",
    );
    let bad1 = install_layer(a, &bad, b"print(1)\n");
    let bad2 = install_layer(a, &bad, b"print(2)\n");
    let good1 = install_layer(b, &good, b"print(1)\n");
    let good2 = install_layer(b, &good, b"print(2)\n");
    remove_images(&[a, b]);
    assert_ne!(bad1, bad2, "flagged: a source change re-ran the install");
    assert_eq!(good1, good2, "fixed: the install came from the cache");
}

#[test]
#[ignore = "e2e: needs the Docker engine (scripts/test runs it)"]
fn unused_stage_kl402() {
    require_engine();
    let marker = "KASANE-UNUSED-STAGE-RAN";
    let bad = format!(
        "FROM {BUSYBOX_IMAGE} AS old\nRUN echo {marker}\nFROM {BUSYBOX_IMAGE}\nRUN echo final\n"
    );
    flagged("KL402", &bad, None);
    let good = apply_fixes("KL402", &bad);
    not_flagged("KL402", &good, None);
    assert!(!good.contains(marker));
    let (a, b) = (
        "kasane-e2e-lint-kl402-flagged",
        "kasane-e2e-lint-kl402-fixed",
    );
    let run = |tag: &str, src: &str| {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("Dockerfile"), src).unwrap();
        // --no-cache so the step really runs (and prints) every time.
        String::from_utf8_lossy(&legacy_build(tag, dir.path(), &["--no-cache"]).stdout).into_owned()
    };
    let bad_out = run(a, &bad);
    let good_out = run(b, &good);
    remove_images(&[a, b]);
    assert!(
        bad_out.contains(marker),
        "the legacy builder built the unused stage:\n{bad_out}"
    );
    assert!(!good_out.contains(marker));
}

#[test]
#[ignore = "e2e: needs the Docker engine (scripts/test runs it)"]
fn mergeable_runs_kl403() {
    require_engine();
    let bad = format!(
        "FROM {BUSYBOX_IMAGE}\nRUN mkdir -p /app/data\nRUN chmod 700 /app/data\nRUN ln -s /app/data /data\n"
    );
    let found = flagged("KL403", &bad, None);
    assert_eq!(found.len(), 2);
    let good = apply_fixes("KL403", &bad);
    not_flagged("KL403", &good, None);
    let (a, b) = (
        "kasane-e2e-lint-kl403-flagged",
        "kasane-e2e-lint-kl403-fixed",
    );
    build_image(a, &bad, &[], true);
    build_image(b, &good, &[], true);
    let (la, lb) = (image_layers(a).len(), image_layers(b).len());
    let (sa, sb) = (image_size(a), image_size(b));
    let check = docker(&["run", "--rm", b, "stat", "-c", "%a", "/data/"]);
    remove_images(&[a, b]);
    assert_eq!(la - lb, 2, "one RUN instead of three saves two layers");
    assert!(sb <= sa);
    assert_eq!(
        String::from_utf8_lossy(&check.stdout).trim(),
        "700",
        "same result"
    );
}
