//! Test-only access to the environment `scripts/env up` prepares: the real Docker engine
//! (dockerd 20.10 with BuildKit), a registry on 127.0.0.1:5000, base images and peer tools.
//!
//! End-to-end tests are marked `#[ignore = "e2e: ..."]` so a plain `cargo test` reports them as
//! ignored (never as passed); `scripts/test` runs them with `--include-ignored` and
//! `KASANE_E2E=1`. When the engine is required and missing, every accessor here panics with a
//! message that says how to start it, so a test can never pass by silently skipping.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

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
