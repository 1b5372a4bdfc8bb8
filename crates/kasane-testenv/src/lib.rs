//! Test-only access to the environment `scripts/env up` prepares: the real Docker engine
//! (dockerd 20.10 with BuildKit), a registry on 127.0.0.1:5000, base images and peer tools.
//!
//! End-to-end tests are marked `#[ignore = "e2e: ..."]` so a plain `cargo test` reports them as
//! ignored (never as passed); `scripts/test` runs them with `--include-ignored` and
//! `KASANE_E2E=1`. When the engine is required and missing, every accessor here panics with a
//! message that says how to start it, so a test can never pass by silently skipping.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// The docker client that talks to the engine here. The 20.10 client from Debian's `docker.io`
/// is used on purpose: a newer client on PATH demands a buildx plugin that does not exist here.
pub const DOCKER: &str = "/usr/bin/docker";

/// Address of the local registry started by `scripts/env up`.
pub const REGISTRY: &str = "127.0.0.1:5000";

/// The Debian bookworm base image made with debootstrap by `scripts/env up`.
pub const DEBIAN_IMAGE: &str = "debian:bookworm";

/// A small image from scratch holding a static busybox, made by `scripts/env up`.
pub const BUSYBOX_IMAGE: &str = "kasane-busybox:latest";

/// Panics with a clear message unless the Docker engine answers.
pub fn require_engine() {
    let ok = Command::new(DOCKER)
        .args(["info", "--format", "{{.ServerVersion}}"])
        .output()
        .is_ok_and(|out| out.status.success());
    assert!(
        ok,
        "the Docker engine is required for this end-to-end test but does not answer; \
         run `scripts/env up` (as root) first"
    );
}

/// Runs `docker ARGS...`, panicking with its stderr when it fails.
pub fn docker(args: &[&str]) -> Output {
    require_engine();
    run_checked(Command::new(DOCKER).args(args))
}

/// Builds `dockerfile` in a fresh context directory holding `files` (relative path, contents),
/// tags the image `tag` and returns the build output. `buildkit` selects BuildKit or the
/// legacy builder.
pub fn build_image(tag: &str, dockerfile: &str, files: &[(&str, &[u8])], buildkit: bool) -> Output {
    require_engine();
    let dir = tempfile::tempdir().expect("temporary build context");
    for (name, contents) in files {
        let path = dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("context directory");
        }
        std::fs::write(&path, contents).expect("context file");
    }
    std::fs::write(dir.path().join("Dockerfile"), dockerfile).expect("Dockerfile");
    build_context(tag, dir.path(), buildkit)
}

/// Builds the context directory `dir` (with its `Dockerfile`) and tags the image `tag`.
pub fn build_context(tag: &str, dir: &Path, buildkit: bool) -> Output {
    require_engine();
    let mut cmd = Command::new(DOCKER);
    cmd.env("DOCKER_BUILDKIT", if buildkit { "1" } else { "0" })
        .args(["build", "-q", "-t", tag])
        .arg(dir);
    run_checked(&mut cmd)
}

/// Writes `docker save TAG` to `path` (the engine here writes the legacy archive format).
pub fn save_image(tag: &str, path: &Path) {
    require_engine();
    let path_str = path.to_str().expect("UTF-8 path");
    run_checked(Command::new(DOCKER).args(["save", "-o", path_str, tag]));
}

/// Layer compression of an OCI layout written by [`save_oci_layout`].
///
/// There is no uncompressed choice: skopeo 1.9 (Debian 12) either compresses anyway or, with
/// `--dest-oci-accept-uncompressed-layers`, stores plain tars labelled `tar+gzip`. Tests that
/// need uncompressed OCI layers must write them themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayerCompression {
    /// gzip layers, what skopeo writes by default.
    Gzip,
    /// zstd layers (`--dest-compress --dest-compress-format zstd`).
    Zstd,
}

/// Writes the engine's image `tag` as an OCI image layout in `dir` (created if missing; the
/// manifest is named `latest` in its `index.json`), using skopeo's `docker-daemon:` transport.
pub fn save_oci_layout(tag: &str, dir: &Path, compression: LayerCompression) {
    require_engine();
    let dest = format!("oci:{}:latest", dir.to_str().expect("UTF-8 path"));
    // skopeo's docker-daemon transport, unlike docker, does not default to `:latest`.
    let has_tag = tag
        .rsplit('/')
        .next()
        .is_some_and(|name| name.contains(':'));
    let source = if has_tag {
        format!("docker-daemon:{tag}")
    } else {
        format!("docker-daemon:{tag}:latest")
    };
    let mut args = vec!["copy", "--quiet"];
    if compression == LayerCompression::Zstd {
        args.extend(["--dest-compress", "--dest-compress-format", "zstd"]);
    }
    args.extend([source.as_str(), dest.as_str()]);
    skopeo(&args);
}

/// Runs `skopeo ARGS...`, panicking with its stderr when it fails.
pub fn skopeo(args: &[&str]) -> Output {
    run_checked(Command::new("skopeo").args(args))
}

/// Panics with a clear message unless the registry at [`REGISTRY`] answers `GET /v2/`.
pub fn require_registry() {
    let answer = registry_get("/v2/");
    assert!(
        answer
            .as_deref()
            .is_ok_and(|reply| reply.starts_with("HTTP/1.1 200")),
        "the registry at {REGISTRY} is required for this end-to-end test but does not answer \
         ({answer:?}); run `scripts/env up` (as root) first"
    );
}

/// Tags the engine's image `tag` as `127.0.0.1:5000/<tag>`, pushes it to the local registry
/// and returns that reference.
pub fn push_image(tag: &str) -> String {
    require_registry();
    let remote = format!("{REGISTRY}/{tag}");
    docker(&["tag", tag, &remote]);
    docker(&["push", "--quiet", &remote]);
    remote
}

/// Removes the images it holds when dropped, so a failing test cleans up after itself too.
#[derive(Debug, Default)]
pub struct ImageCleanup(pub Vec<String>);

impl Drop for ImageCleanup {
    fn drop(&mut self) {
        let tags: Vec<&str> = self.0.iter().map(String::as_str).collect();
        if !tags.is_empty() {
            let _ = Command::new(DOCKER)
                .args(["image", "rm", "--force"])
                .args(&tags)
                .output();
        }
    }
}

/// An image tag no other test (in this process, or any other) uses at the same time:
/// `kasane-e2e-<name>-<pid>-<n>`. `name` should say which crate and test it is for; characters
/// a tag may not hold become `-`.
pub fn unique_tag(name: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let name: String = name
        .chars()
        .map(|c| match c {
            'a'..='z' | '0'..='9' | '.' | '_' | '-' => c,
            'A'..='Z' => c.to_ascii_lowercase(),
            _ => '-',
        })
        .collect();
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("kasane-e2e-{name}-{}-{n}", std::process::id())
}

/// Path of a peer tool (`dive`, `hadolint`, `python` with the `dockerfile` package) installed by
/// `scripts/env up`. Panics when it is missing.
pub fn peer(name: &str) -> PathBuf {
    let path = peers_bin().join(name);
    assert!(
        path.exists(),
        "peer tool {} is missing; run `scripts/env up` first",
        path.display()
    );
    path
}

/// Directory holding the peer tools: `$KASANE_PEERS/bin`, default `/var/cache/kasane/peers/bin`.
pub fn peers_bin() -> PathBuf {
    let root = std::env::var_os("KASANE_PEERS")
        .map_or_else(|| PathBuf::from("/var/cache/kasane/peers"), PathBuf::from);
    root.join("bin")
}

/// One plain-HTTP GET to the registry, returning the raw reply (status line first).
fn registry_get(path: &str) -> std::io::Result<String> {
    use std::io::{Read, Write};
    let addr = REGISTRY.parse().expect("registry address");
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {REGISTRY}\r\nConnection: close\r\n\r\n"
    )?;
    let mut reply = String::new();
    stream.read_to_string(&mut reply)?;
    Ok(reply)
}

fn run_checked(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("could not run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The directory of the package whose test is running, as cargo (or nextest) tells the test at
/// run time. Not the compile-time `env!("CARGO_MANIFEST_DIR")`: the target directory is shared by
/// every checkout on the machine, and cargo reuses a test binary built by another checkout when
/// this one's sources are older, so a baked-in path could point at that other checkout.
pub fn package_dir() -> PathBuf {
    PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR for tests"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_tags_are_valid_and_distinct() {
        let a = unique_tag("Image/Layers test");
        let b = unique_tag("Image/Layers test");
        assert_ne!(a, b);
        let prefix = format!("kasane-e2e-image-layers-test-{}-", std::process::id());
        assert!(a.starts_with(&prefix), "{a}");
        assert!(
            a.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c)),
            "{a}"
        );
    }
}
