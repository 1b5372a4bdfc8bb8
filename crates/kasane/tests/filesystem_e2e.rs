//! End-to-end: `kasane export`, `squash`, `diff` and `explore` on images the real engine builds
//! (FROM kasane-busybox:latest), checked against the engine itself: `docker export` of a
//! container, `docker load` + `docker run` of a squashed image, known changes between two builds,
//! and the explorer driven under tmux.
//!
//! What `docker export` adds on top of the image (the container's init layer), and so the only
//! paths allowed to differ: `/.dockerenv`, `/dev` with `console`, `pts`, `shm`, `/etc` (created if
//! the image lacks it) with `hostname`, `hosts`, `mtab` (a symlink to /proc/mounts) and
//! `resolv.conf`, `/proc` and `/sys`.

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use kasane_testenv::{BUSYBOX_IMAGE, ImageCleanup, build_image, docker, save_image, unique_tag};

fn kasane() -> Command {
    Command::new(env!("CARGO_BIN_EXE_kasane"))
}

/// Runs kasane, returning (exit code, stdout, stderr).
fn run(args: &[&str]) -> (i32, String, String) {
    let out = kasane().args(args).output().expect("run kasane");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn run_ok(args: &[&str]) -> String {
    let (code, out, err) = run(args);
    assert_eq!(code, 0, "kasane {args:?} failed:\n{err}");
    out
}

/// The test image: every construct export and squash must get right.
fn dockerfile() -> String {
    format!(
        r#"FROM {BUSYBOX_IMAGE}
RUN mkdir -p /app/cache /app/keep /opq/sub /del/deep/er && echo one > /app/cache/a && echo two > /app/cache/b && echo keep > /app/keep/k && echo old > /opq/sub/old && echo top > /opq/top && echo gone > /del/deep/er/f && echo edit > /app/edit.txt && printf 'x%.0s' $(seq 1 3000) > /app/big.txt
ENV APP=1
RUN echo hello > /app/data.txt && ln /app/data.txt /app/data-hard && ln /app/data.txt /app/data-hard2 && ln -s data.txt /app/data-sym && ln -s /etc/passwd /app/abs-sym && ln -s ../../../../outside /app/climb-sym && mkfifo /app/fifo && chmod 4755 /app/data.txt && chown 1000:2000 /app/keep/k && touch "/app/name with spaces" && L=$(printf 'd%.0s' $(seq 1 120)) && mkdir -p /app/long/$L && echo deep > /app/long/$L/$(printf 'f%.0s' $(seq 1 150)) && echo café > "/app/utf8-é"
RUN rm -rf /app/cache /del && rm -rf /opq && mkdir -p /opq/sub && echo new > /opq/sub/new && chmod 700 /app/keep && echo changed >> /app/data.txt && echo edited > /app/edit.txt && chmod 600 /app/big.txt
COPY file.bin /app/file.bin
WORKDIR /app
"#
    )
}

fn file_bin() -> Vec<u8> {
    (0..20_000u32).map(|i| (i * 7 + i / 13) as u8).collect()
}

/// Builds the test image (and optionally a Dockerfile on top of it), saves it, returns paths.
struct Built {
    tag: String,
    archive: PathBuf,
}

fn build(
    name: &str,
    dockerfile: &str,
    buildkit: bool,
    dir: &Path,
    cleanup: &mut ImageCleanup,
) -> Built {
    let tag = unique_tag(name);
    let bin = file_bin();
    build_image(&tag, dockerfile, &[("file.bin", &bin)], buildkit);
    cleanup.0.push(tag.clone());
    let archive = dir.join(format!("{name}.tar"));
    save_image(&tag, &archive);
    Built { tag, archive }
}

/// One path of a filesystem as compared: kind, size, mode, owner, mtime, link target, content
/// hash, and the other names of its inode.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    kind: char,
    size: u64,
    mode: u32,
    owner: (u64, u64),
    mtime: u64,
    link: String,
    sha256: String,
    inode_names: Vec<String>,
}

fn sha(bytes: &[u8]) -> String {
    kasane_image::Digest::sha256_of(bytes).to_string()
}

/// A tar (`docker export` or `kasane export -o x.tar`) as path → Seen; hard links take their
/// inode's attributes and list every name of the inode.
fn tar_manifest(bytes: &[u8]) -> BTreeMap<String, Seen> {
    let mut out: BTreeMap<String, Seen> = BTreeMap::new();
    let mut links: Vec<(String, String)> = Vec::new();
    let mut ar = tar::Archive::new(bytes);
    for e in ar.entries().unwrap() {
        let mut e = e.unwrap();
        let path = e
            .path()
            .unwrap()
            .to_string_lossy()
            .trim_end_matches('/')
            .trim_start_matches("./")
            .to_owned();
        if path.is_empty() {
            continue;
        }
        let h = e.header().clone();
        let mut content = Vec::new();
        std::io::Read::read_to_end(&mut e, &mut content).unwrap();
        let link = e
            .link_name()
            .unwrap()
            .map(|l| l.to_string_lossy().into_owned())
            .unwrap_or_default();
        let kind = match h.entry_type() {
            tar::EntryType::Directory => 'd',
            tar::EntryType::Symlink => 'l',
            tar::EntryType::Regular | tar::EntryType::Continuous => 'f',
            tar::EntryType::Link => {
                links.push((path, link.trim_start_matches("./").to_owned()));
                continue;
            }
            tar::EntryType::Fifo => 'p',
            tar::EntryType::Char => 'c',
            tar::EntryType::Block => 'b',
            other => panic!("{path}: unexpected {other:?}"),
        };
        out.insert(
            path.clone(),
            Seen {
                kind,
                size: if kind == 'f' { content.len() as u64 } else { 0 },
                mode: h.mode().unwrap() & 0o7777,
                owner: (h.uid().unwrap(), h.gid().unwrap()),
                mtime: h.mtime().unwrap(),
                link: if kind == 'l' { link } else { String::new() },
                sha256: if kind == 'f' {
                    sha(&content)
                } else {
                    String::new()
                },
                inode_names: Vec::new(),
            },
        );
    }
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (path, target) in &links {
        groups
            .entry(target.clone())
            .or_insert_with(|| vec![target.clone()])
            .push(path.clone());
    }
    for (target, mut names) in groups {
        names.sort();
        let inode = out
            .get(&target)
            .unwrap_or_else(|| panic!("link target {target} missing"))
            .clone();
        for name in &names {
            let mut seen = inode.clone();
            seen.inode_names = names.clone();
            out.insert(name.clone(), seen);
        }
    }
    out
}

/// A directory written by `kasane export -o DIR`, as the same manifest.
fn dir_manifest(root: &Path) -> BTreeMap<String, Seen> {
    let mut out = BTreeMap::new();
    let mut inodes: BTreeMap<(u64, u64), Vec<String>> = BTreeMap::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            let md = std::fs::symlink_metadata(&p).unwrap();
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            let ft = md.file_type();
            use std::os::unix::fs::FileTypeExt;
            let kind = if ft.is_dir() {
                stack.push(p.clone());
                'd'
            } else if ft.is_symlink() {
                'l'
            } else if ft.is_file() {
                'f'
            } else if ft.is_fifo() {
                'p'
            } else if ft.is_char_device() {
                'c'
            } else {
                'b'
            };
            if kind == 'f' && md.nlink() > 1 {
                inodes
                    .entry((md.dev(), md.ino()))
                    .or_default()
                    .push(rel.clone());
            }
            out.insert(
                rel,
                Seen {
                    kind,
                    size: if kind == 'f' { md.len() } else { 0 },
                    mode: md.mode() & 0o7777,
                    owner: (u64::from(md.uid()), u64::from(md.gid())),
                    mtime: md.mtime() as u64,
                    link: if kind == 'l' {
                        std::fs::read_link(&p)
                            .unwrap()
                            .to_string_lossy()
                            .into_owned()
                    } else {
                        String::new()
                    },
                    sha256: if kind == 'f' {
                        sha(&std::fs::read(&p).unwrap())
                    } else {
                        String::new()
                    },
                    inode_names: Vec::new(),
                },
            );
        }
    }
    for mut names in inodes.into_values() {
        names.sort();
        for n in &names {
            out.get_mut(n).unwrap().inode_names = names.clone();
        }
    }
    out
}

/// The paths `docker export` adds or rewrites (the container's init layer).
const INIT_PATHS: &[&str] = &[
    ".dockerenv",
    "dev",
    "dev/console",
    "dev/pts",
    "dev/shm",
    "etc",
    "etc/hostname",
    "etc/hosts",
    "etc/mtab",
    "etc/resolv.conf",
    "proc",
    "sys",
];

/// `ours` must equal `docker`'s except for the init paths, which may be missing from ours or
/// differ; nothing else may.
fn assert_same_as_docker_export(
    ours: &BTreeMap<String, Seen>,
    docker: &BTreeMap<String, Seen>,
    what: &str,
) {
    let mut problems = Vec::new();
    for (path, theirs) in docker {
        if INIT_PATHS.contains(&path.as_str()) {
            continue;
        }
        match ours.get(path) {
            None => problems.push(format!("{path}: only in docker export: {theirs:?}")),
            Some(mine) if mine != theirs => {
                problems.push(format!("{path}:\n  kasane {mine:?}\n  docker {theirs:?}"))
            }
            Some(_) => {}
        }
    }
    for path in ours.keys() {
        if !docker.contains_key(path) {
            problems.push(format!("{path}: only in kasane export"));
        }
    }
    assert!(
        problems.is_empty(),
        "{what} differs from docker export:\n{}",
        problems.join("\n")
    );
    assert!(
        ours.len() > 250,
        "{what}: suspiciously few entries ({})",
        ours.len()
    );
}

fn docker_export(tag: &str) -> Vec<u8> {
    let id = String::from_utf8(docker(&["create", tag, "sh"]).stdout).unwrap();
    let id = id.trim();
    let out = docker(&["export", id]).stdout;
    docker(&["rm", id]);
    out
}

fn check_export(buildkit: bool) {
    kasane_testenv::require_engine();
    let work = tempfile::tempdir().unwrap();
    let mut cleanup = ImageCleanup::default();
    let name = if buildkit {
        "explore-export-bk"
    } else {
        "explore-export-legacy"
    };
    let img = build(name, &dockerfile(), buildkit, work.path(), &mut cleanup);
    let theirs = tar_manifest(&docker_export(&img.tag));
    // The engine's own listing has the constructs this test is about.
    for path in [
        "app/data-hard",
        "app/fifo",
        "opq/sub/new",
        "app/utf8-é",
        "app/climb-sym",
    ] {
        assert!(
            theirs.contains_key(path),
            "{path} missing from docker export"
        );
    }
    assert_eq!(
        theirs["app/data-hard"].inode_names,
        vec!["app/data-hard", "app/data-hard2"]
    );
    assert!(!theirs.contains_key("opq/sub/old") && !theirs.contains_key("app/cache"));

    let archive = img.archive.to_str().unwrap();
    let tar_out = work.path().join("fs.tar");
    let (_, _, err) = run(&["export", archive, "-o", tar_out.to_str().unwrap()]);
    assert!(
        err.starts_with("exported the filesystem after layer"),
        "{err}"
    );
    let ours = tar_manifest(&std::fs::read(&tar_out).unwrap());
    assert_same_as_docker_export(&ours, &theirs, "kasane export -o fs.tar");

    let dir_out = work.path().join("fs");
    run_ok(&["export", archive, "-o", dir_out.to_str().unwrap()]);
    let ours = dir_manifest(&dir_out);
    assert_same_as_docker_export(&ours, &theirs, "kasane export -o DIR");

    // `-o -` streams the same tar.
    let out = kasane()
        .args(["export", archive, "-q", "-o", "-"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        tar_manifest(&out.stdout),
        tar_manifest(&std::fs::read(&tar_out).unwrap())
    );
}

#[test]
#[ignore = "e2e: needs the Docker engine (scripts/test runs it)"]
fn export_gives_what_docker_export_gives_buildkit() {
    check_export(true);
}

#[test]
#[ignore = "e2e: needs the Docker engine (scripts/test runs it)"]
fn export_gives_what_docker_export_gives_legacy_builder() {
    check_export(false);
}

#[test]
#[ignore = "e2e: needs the Docker engine (scripts/test runs it)"]
fn export_of_an_earlier_layer_has_that_layers_files() {
    kasane_testenv::require_engine();
    let work = tempfile::tempdir().unwrap();
    let mut cleanup = ImageCleanup::default();
    let img = build(
        "explore-export-layer",
        &dockerfile(),
        true,
        work.path(),
        &mut cleanup,
    );
    let out = work.path().join("l2.tar");
    run_ok(&[
        "export",
        img.archive.to_str().unwrap(),
        "--layer",
        "2",
        "-o",
        out.to_str().unwrap(),
    ]);
    let fs = tar_manifest(&std::fs::read(&out).unwrap());
    assert!(fs.contains_key("app/cache/a") && fs.contains_key("opq/sub/old"));
    assert!(!fs.contains_key("app/data.txt"));
    assert_eq!(fs["app/edit.txt"].size, 5);
}

fn layer_count(tag: &str) -> usize {
    let out = docker(&["inspect", "--format", "{{len .RootFS.Layers}}", tag]).stdout;
    String::from_utf8(out).unwrap().trim().parse().unwrap()
}

#[test]
#[ignore = "e2e: needs the Docker engine (scripts/test runs it)"]
fn squashed_images_load_run_and_keep_the_filesystem() {
    kasane_testenv::require_engine();
    let work = tempfile::tempdir().unwrap();
    let mut cleanup = ImageCleanup::default();
    let img = build(
        "explore-squash",
        &dockerfile(),
        true,
        work.path(),
        &mut cleanup,
    );
    let archive = img.archive.to_str().unwrap();
    let original = work.path().join("original.tar");
    run_ok(&["export", archive, "-q", "-o", original.to_str().unwrap()]);
    let original = tar_manifest(&std::fs::read(&original).unwrap());
    let before = layer_count(&img.tag);
    assert!(before >= 5, "{before} layers");

    for from in [2usize, 0] {
        let tag = format!("{}:squashed-{from}", img.tag);
        cleanup.0.push(tag.clone());
        let out = work.path().join(format!("squashed-{from}.tar"));
        let (code, _, err) = run(&[
            "squash",
            archive,
            "-o",
            out.to_str().unwrap(),
            "--from-layer",
            &from.to_string(),
            "--tag",
            &tag,
        ]);
        assert_eq!(code, 0, "{err}");
        assert!(
            err.contains(&format!("{before} layers -> {}", from + 1)),
            "{err}"
        );
        let loaded =
            String::from_utf8(docker(&["load", "-i", out.to_str().unwrap()]).stdout).unwrap();
        assert!(loaded.contains(&format!("Loaded image: {tag}")), "{loaded}");
        assert_eq!(layer_count(&tag), from + 1);
        // It runs, with deleted files gone and kept ones there.
        let script = "cat /app/data.txt /opq/sub/new /app/data-hard && test ! -e /app/cache && test ! -e /del \
                      && test ! -e /opq/sub/old && test ! -e /opq/top && test -p /app/fifo && test -u /app/data.txt \
                      && stat -c %u:%g /app/keep/k && echo $APP && pwd";
        let ran = docker(&["run", "--rm", &tag, "sh", "-c", script]).stdout;
        assert_eq!(
            String::from_utf8(ran).unwrap(),
            "hello\nchanged\nnew\nhello\n1000:2000\n1\n/app\n"
        );
        // The engine holds exactly the original filesystem.
        let resaved = work.path().join(format!("resaved-{from}.tar"));
        save_image(&tag, &resaved);
        let fs = work.path().join(format!("fs-{from}.tar"));
        run_ok(&[
            "export",
            resaved.to_str().unwrap(),
            "-q",
            "-o",
            fs.to_str().unwrap(),
        ]);
        assert_eq!(
            tar_manifest(&std::fs::read(&fs).unwrap()),
            original,
            "squash from {from}"
        );
        // And `kasane diff` agrees: identical, exit 0.
        let (code, out, _) = run(&["diff", archive, resaved.to_str().unwrap(), "--mtime"]);
        assert_eq!(code, 0, "{out}");
        // History is kept, with the squash recorded.
        let history = String::from_utf8(
            docker(&["history", "--no-trunc", "--format", "{{.CreatedBy}}", &tag]).stdout,
        )
        .unwrap();
        assert!(
            history.starts_with(&format!("kasane squash --from-layer {from}\n")),
            "{history}"
        );
        assert!(
            history.contains("RUN /bin/sh -c rm -rf /app/cache /del"),
            "{history}"
        );
    }
}

#[test]
#[ignore = "e2e: needs the Docker engine (scripts/test runs it)"]
fn diff_reports_the_known_changes_between_two_builds() {
    kasane_testenv::require_engine();
    let work = tempfile::tempdir().unwrap();
    let mut cleanup = ImageCleanup::default();
    let a = build(
        "explore-diff-a",
        &dockerfile(),
        true,
        work.path(),
        &mut cleanup,
    );
    let after = format!(
        "FROM {}\nRUN echo new > /app/new.txt && rm /app/edit.txt && chmod 755 /app/file.bin && echo more >> /app/big.txt && ln -sf /etc/hosts /app/abs-sym && chown 5:5 /app/keep/k && rm -r /opq/sub\n",
        a.tag
    );
    let b = build("explore-diff-b", &after, true, work.path(), &mut cleanup);
    let (a_path, b_path) = (a.archive.to_str().unwrap(), b.archive.to_str().unwrap());
    let (code, out, err) = run(&["diff", a_path, b_path, "--json"]);
    assert_eq!(code, 1, "{err}");
    let d: serde_json::Value = serde_json::from_str(&out).unwrap();
    let paths = |key: &str| -> Vec<String> {
        d[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["path"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(paths("added"), vec!["/app/new.txt"]);
    assert_eq!(
        paths("removed"),
        vec!["/app/edit.txt", "/opq/sub", "/opq/sub/new"]
    );
    let changed: Vec<(String, Vec<String>)> = d["changed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["path"].as_str().unwrap().to_owned(),
                c["changes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|f| f["field"].as_str().unwrap().to_owned())
                    .collect(),
            )
        })
        .collect();
    let s = |v: &[&str]| v.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
    assert_eq!(
        changed,
        vec![
            ("/app/abs-sym".to_owned(), s(&["link_target"])),
            ("/app/big.txt".to_owned(), s(&["size", "content"])),
            ("/app/file.bin".to_owned(), s(&["mode"])),
            ("/app/keep/k".to_owned(), s(&["owner"])),
        ]
    );
    assert_eq!(
        d["b"]["bytes"].as_i64().unwrap() - d["a"]["bytes"].as_i64().unwrap(),
        // new.txt, edit.txt, big.txt's appended line, /opq/sub/new
        4 - 7 + 5 - 4
    );
    // Text output says the same; the same image twice is identical (exit 0), also across
    // formats (the OCI layout skopeo writes from the engine).
    let (code, text, _) = run(&["diff", a_path, b_path]);
    assert_eq!(code, 1);
    assert!(text.contains("  + /app/new.txt  file 4 B"), "{text}");
    assert!(
        text.contains("  ~ /app/file.bin  mode 0644 -> 0755"),
        "{text}"
    );
    assert!(text.contains("1 added, 3 removed, 4 changed"), "{text}");
    let oci = work.path().join("a-oci");
    kasane_testenv::save_oci_layout(&a.tag, &oci, kasane_testenv::LayerCompression::Gzip);
    let (code, text, _) = run(&["diff", a_path, oci.to_str().unwrap()]);
    assert_eq!(code, 0, "{text}");
    assert!(text.ends_with("the filesystems are identical\n"), "{text}");
}

/// The explorer under tmux, driven by keys on a real image, then quit: the terminal must be
/// back to normal (no alternate screen, canonical mode and echo on).
#[test]
#[ignore = "e2e: needs the Docker engine (scripts/test runs it)"]
fn explore_under_tmux() {
    kasane_testenv::require_engine();
    let work = tempfile::tempdir().unwrap();
    let mut cleanup = ImageCleanup::default();
    let img = build(
        "explore-tmux",
        &dockerfile(),
        true,
        work.path(),
        &mut cleanup,
    );
    let session = format!("kasane-explore-{}", std::process::id());
    let script = work.path().join("run.sh");
    std::fs::write(
        &script,
        format!(
            "cd {}\n{} explore {} --extract-to {}\necho EXITED=$?\nstty -a | grep -wE -- '-?(icanon|echo)'\nsleep 600\n",
            work.path().display(),
            env!("CARGO_BIN_EXE_kasane"),
            img.archive.display(),
            work.path().join("out").display(),
        ),
    )
    .unwrap();
    let tmux = |args: &[&str]| {
        let out = Command::new("tmux")
            .args(args)
            .output()
            .expect("tmux is installed");
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    struct Kill(String);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = Command::new("tmux")
                .args(["kill-session", "-t", &self.0])
                .output();
        }
    }
    tmux(&[
        "new-session",
        "-d",
        "-s",
        &session,
        "-x",
        "160",
        "-y",
        "45",
        &format!("sh {}", script.display()),
    ]);
    let _kill = Kill(session.clone());
    let screen = || tmux(&["capture-pane", "-p", "-t", &session]);
    let wait_for = |what: &str| -> String {
        let start = Instant::now();
        loop {
            let s = screen();
            if s.contains(what) {
                return s;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "waited for `{what}`; screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    // One key at a time: an Esc followed at once by another key reads as Alt+key.
    let keys = |k: &[&str]| {
        for key in k {
            tmux(&["send-keys", "-t", session.as_str(), key]);
            std::thread::sleep(Duration::from_millis(if *key == "Escape" {
                300
            } else {
                30
            }));
        }
    };
    // Every layer read: the waste panel has its numbers.
    let s = wait_for("Efficiency:");
    assert!(s.contains("RUN rm -rf /app/cache /del"), "{s}");
    assert_eq!(
        tmux(&["display", "-p", "-t", &session, "#{alternate_on}"]).trim(),
        "1"
    );
    // The layer that deleted /app/cache: removed paths are listed.
    keys(&["j", "j", "j", "j", "Tab", "c"]);
    let s = wait_for("changes only");
    assert!(
        s.contains("Layer 4 contents, its changes over layer 3"),
        "{s}"
    );
    assert!(
        s.contains("cache") && s.contains("edit.txt") && s.contains("big.txt"),
        "{s}"
    );
    // Filter, sort by name, view a file.
    keys(&["c", "/", "d", "a", "t", "a", ".", "t", "x", "t", "Enter"]);
    let s = wait_for("filter `data.txt`");
    assert!(s.contains("data.txt"), "{s}");
    keys(&["s"]);
    wait_for("[name, filter `data.txt`]");
    keys(&["j", "v"]);
    let s = wait_for("/app/data.txt (layer 4");
    assert!(s.contains("hello") && s.contains("changed"), "{s}");
    keys(&["Escape", "?"]);
    wait_for("Keys (any key closes)");
    keys(&["Escape"]);
    // Extract the file into the directory given on the command line.
    keys(&["x"]);
    wait_for("into directory:");
    keys(&["Enter"]);
    wait_for("extracted /app/data.txt to");
    assert_eq!(
        std::fs::read(work.path().join("out/data.txt")).unwrap(),
        b"hello\nchanged\n"
    );
    keys(&["q"]);
    let s = wait_for("EXITED=");
    assert!(s.contains("EXITED=0"), "{s}");
    assert!(
        !s.contains("Layers ("),
        "the TUI is gone from the screen:\n{s}"
    );
    assert_eq!(
        tmux(&["display", "-p", "-t", &session, "#{alternate_on}"]).trim(),
        "0"
    );
    let words: Vec<&str> = s.split_whitespace().collect();
    for mode in ["icanon", "echo"] {
        assert!(
            words.contains(&mode) && !words.contains(&format!("-{mode}").as_str()),
            "{mode} is on again after the explorer quits:\n{s}"
        );
    }
}
