//! What the end-to-end tests share: builds on the real engine with their logs, and an image's
//! filesystem as a comparable listing.

#![allow(dead_code)] // each test binary uses a different part

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use kasane_testenv::DOCKER;
use sha2::{Digest, Sha256};

/// A token unique to this test run, so no build cache from an earlier run can serve a step.
pub(crate) fn nonce() -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    format!("{}-{}", std::process::id(), t.as_nanos())
}

/// Writes `files` into `dir`.
pub(crate) fn write_files(dir: &Path, files: &[(&str, &str)]) {
    for (name, text) in files {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(path, text).unwrap();
    }
}

/// The outcome of a command: success, everything it printed, how long it took.
#[derive(Debug)]
pub(crate) struct Run {
    pub(crate) ok: bool,
    pub(crate) log: String,
    pub(crate) took: Duration,
}

/// Runs `cmd` with stderr merged after stdout.
pub(crate) fn run(cmd: &mut Command) -> Run {
    let start = Instant::now();
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("could not run {cmd:?}: {e}"));
    let took = start.elapsed();
    let mut log = String::from_utf8_lossy(&out.stdout).into_owned();
    log.push_str(&String::from_utf8_lossy(&out.stderr));
    Run {
        ok: out.status.success(),
        log,
        took,
    }
}

/// `docker build` of `dockerfile` (a path) in `context`, tagged `tag`, with plain progress.
pub(crate) fn build(
    context: &Path,
    dockerfile: &Path,
    tag: &str,
    buildkit: bool,
    extra: &[&str],
) -> Run {
    kasane_testenv::require_engine();
    let mut cmd = Command::new(DOCKER);
    cmd.env("DOCKER_BUILDKIT", if buildkit { "1" } else { "0" })
        .env("BUILDKIT_PROGRESS", "plain")
        .arg("build")
        .arg("-f")
        .arg(dockerfile)
        .args(["-t", tag])
        .args(extra)
        .arg(context);
    let r = run(&mut cmd);
    assert!(r.ok, "build of {tag} failed:\n{}", r.log);
    r
}

/// The files of image `tag` as a container sees them (`docker create` + `docker export`): path
/// to "kind mode uid:gid size sha256-or-link-target". Times are left out: they differ between
/// any two builds.
pub(crate) fn filesystem(tag: &str) -> BTreeMap<String, String> {
    let id = String::from_utf8(kasane_testenv::docker(&["create", tag, "true"]).stdout)
        .unwrap()
        .trim()
        .to_string();
    let out = Command::new(DOCKER).args(["export", &id]).output().unwrap();
    let _ = Command::new(DOCKER).args(["rm", "-f", &id]).output();
    assert!(out.status.success(), "docker export {tag} failed");
    let mut archive = tar::Archive::new(&out.stdout[..]);
    let mut files = BTreeMap::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let header = entry.header().clone();
        let path = entry.path().unwrap().display().to_string();
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut data).unwrap();
        let what = match header.entry_type() {
            tar::EntryType::Symlink | tar::EntryType::Link => {
                format!("-> {}", header.link_name().unwrap().unwrap().display())
            }
            _ => Sha256::digest(&data)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
        };
        files.insert(
            path,
            format!(
                "{:?} {:o} {}:{} {} {what}",
                header.entry_type(),
                header.mode().unwrap(),
                header.uid().unwrap(),
                header.gid().unwrap(),
                data.len(),
            ),
        );
    }
    files
}

/// The parts of an image's config a build decides (not the builder's bookkeeping).
pub(crate) fn config(tag: &str) -> serde_json::Value {
    let out = kasane_testenv::docker(&["image", "inspect", "--format", "{{json .Config}}", tag]);
    let c: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let keys = [
        "Env",
        "Cmd",
        "Entrypoint",
        "WorkingDir",
        "User",
        "Labels",
        "ExposedPorts",
    ];
    keys.iter()
        .map(|k| (k.to_string(), c[*k].clone()))
        .collect()
}

/// Removes images by tag, ignoring ones that are gone.
pub(crate) fn remove_images(tags: &[String]) {
    if !tags.is_empty() {
        let _ = Command::new(DOCKER)
            .args(["image", "rm", "--force"])
            .args(tags)
            .output();
    }
}

/// Whether the engine has an image `tag`.
pub(crate) fn has_image(tag: &str) -> bool {
    Command::new(DOCKER)
        .args(["image", "inspect", tag])
        .output()
        .is_ok_and(|o| o.status.success())
}
