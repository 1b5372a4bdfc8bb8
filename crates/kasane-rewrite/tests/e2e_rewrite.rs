//! `merge` and `fix` proven on the real engine: the rewritten Dockerfile builds, its final
//! filesystem is the original's (apart from the caches a fix removed and files no two builds
//! write alike), and the image is smaller with fewer layers.
//!
//! Files that differ between any two builds of the same Dockerfile are named in
//! [`NONDETERMINISTIC`]; they may differ in content (and logs in size), nothing else.

use std::path::{Path, PathBuf};

use kasane_diff::{DiffOptions, ImageDiff, diff};
use kasane_image::{Image, ImageReadOptions, NoProgress, Selector};
use kasane_rewrite::engine::{BuiltImage, Engine};
use kasane_rewrite::{FixOptions, MergeOptions, fix, merge};
use kasane_testenv::{BUSYBOX_IMAGE, DEBIAN_IMAGE, DOCKER, docker, require_engine, unique_tag};

/// Files whose bytes change with every build: the logs apt and dpkg write, ldconfig's cache,
/// apt's binary package caches (they hold the lists' mtimes), and (matched by suffix) Python
/// bytecode, whose header holds its source's mtime.
const NONDETERMINISTIC: &[&str] = &[
    "/var/log/",
    "/var/cache/ldconfig/aux-cache",
    "/var/cache/apt/pkgcache.bin",
    "/var/cache/apt/srcpkgcache.bin",
];

/// What the fixes remove on purpose: apt's lists and caches.
const APT_CACHES: &[&str] = &["/var/lib/apt/lists/", "/var/cache/apt/"];

fn example_dir() -> PathBuf {
    kasane_testenv::package_dir().join("../../examples/python-venv")
}

fn engine() -> Engine {
    Engine {
        docker: PathBuf::from(DOCKER),
        buildkit: Some(true),
        build_args: Vec::new(),
    }
}

fn build(tag: &str, dockerfile: &str, context: &Path) -> BuiltImage {
    engine()
        .build(tag, dockerfile, context)
        .unwrap_or_else(|e| panic!("{e}\n--- Dockerfile\n{dockerfile}"))
}

/// Reads an engine image with kasane's image engine (via `docker save`).
fn read(tag: &str) -> Image {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("image.tar");
    kasane_testenv::save_image(tag, &archive);
    let (source, _) = kasane_image::source::open(archive.to_str().unwrap()).unwrap();
    kasane_image::read_image(
        source.as_ref(),
        &Selector {
            tag: None,
            platform: None,
        },
        ImageReadOptions::default(),
        &NoProgress,
    )
    .unwrap()
}

fn under(path: &str, prefixes: &[&str]) -> bool {
    prefixes
        .iter()
        .any(|p| path == p.trim_end_matches('/') || (p.ends_with('/') && path.starts_with(p)))
}

/// Asserts that `after`'s filesystem is `before`'s, except for paths under `removable` that
/// `after` lacks (or holds less of) and the files no two builds write alike.
fn assert_same_filesystem(before: &str, after: &str, removable: &[&str]) -> ImageDiff {
    let d = diff(&read(before), &read(after), DiffOptions::default());
    let added: Vec<String> = d.added.iter().map(|e| e.path.to_string()).collect();
    assert!(
        added.is_empty(),
        "{after} has files {before} lacks: {added:?}"
    );
    let removed: Vec<String> = d
        .removed
        .iter()
        .map(|e| e.path.to_string())
        .filter(|p| !under(p, removable))
        .collect();
    assert!(removed.is_empty(), "{after} lost files: {removed:?}");
    for c in &d.changed {
        let path = c.path.to_string();
        let fields: Vec<&str> = c.changes.iter().map(|f| f.field).collect();
        let nondeterministic = (under(&path, NONDETERMINISTIC) || path.ends_with(".pyc"))
            && fields.iter().all(|f| matches!(*f, "content" | "size"));
        // A directory whose cache contents went keeps existing; its own fields must match.
        assert!(
            nondeterministic || under(&path, removable) && fields == ["content"],
            "{path} differs between {before} and {after}: {:?}",
            c.changes
        );
    }
    d
}

fn remove_images(tags: &[&str]) {
    let mut args = vec!["rmi", "-f"];
    args.extend(tags);
    docker(&args);
}

fn example_dockerfile() -> String {
    std::fs::read_to_string(example_dir().join("Dockerfile"))
        .unwrap()
        .replace("FROM debian:bookworm", &format!("FROM {DEBIAN_IMAGE}"))
}

fn report(what: &str, before: &BuiltImage, after: &BuiltImage) -> f64 {
    let saved = before.size as f64 - after.size as f64;
    let percent = saved * 100.0 / before.size as f64;
    eprintln!(
        "{what}: {:.1} MB in {} layers -> {:.1} MB in {} layers: saved {:.1} MB ({percent:.1}%)",
        before.size as f64 / 1e6,
        before.layers,
        after.size as f64 / 1e6,
        after.layers,
        saved / 1e6,
    );
    percent
}

#[test]
#[ignore = "e2e: needs the Docker engine (scripts/test runs it)"]
fn fix_alone_removes_a_quarter_of_the_debian_python_image() {
    require_engine();
    let original = example_dockerfile();
    let fixed = fix("Dockerfile", &original, &FixOptions::default()).unwrap();
    let codes: Vec<&str> = fixed.changes.iter().map(|c| c.code).collect();
    for code in ["KL302", "KL301", "KL305", "KL304"] {
        assert!(codes.contains(&code), "{code} not applied: {codes:?}");
    }
    let (a, b) = (
        unique_tag("rewrite-fix-before"),
        unique_tag("rewrite-fix-after"),
    );
    let before = build(&a, &original, &example_dir());
    let after = build(&b, &fixed.text, &example_dir());
    let percent = report("kasane fix", &before, &after);
    let d = assert_same_filesystem(&a, &b, APT_CACHES);
    eprintln!(
        "filesystems: {} paths only in the original (apt caches), {} changed",
        d.removed.len(),
        d.changed.len()
    );
    remove_images(&[&a, &b]);
    assert!(after.layers < before.layers, "{before:?} {after:?}");
    assert!(percent >= 25.0, "kasane fix saved only {percent:.1}%");
}

#[test]
#[ignore = "e2e: needs the Docker engine (scripts/test runs it)"]
fn merge_alone_keeps_the_debian_python_image_and_drops_layers() {
    require_engine();
    let original = example_dockerfile();
    let df = kasane_dockerfile::parse(&original).unwrap();
    let merged = merge(&df, MergeOptions::default()).unwrap();
    assert!(merged.merges.len() >= 3, "{:?}", merged.merges);
    let (a, b) = (
        unique_tag("rewrite-merge-before"),
        unique_tag("rewrite-merge-after"),
    );
    let before = build(&a, &original, &example_dir());
    let after = build(&b, &merged.text, &example_dir());
    let percent = report("kasane merge", &before, &after);
    // Merging moves no cleanup: the file system is the same, only the layers differ.
    assert_same_filesystem(&a, &b, &[]);
    remove_images(&[&a, &b]);
    assert!(after.layers < before.layers, "{before:?} {after:?}");
    assert!(percent > 0.0, "merge made the image no smaller");
}

#[test]
#[ignore = "e2e: needs the Docker engine (scripts/test runs it)"]
fn fix_with_unsafe_fixes_then_merge_on_the_debian_python_image() {
    require_engine();
    let original = example_dockerfile();
    let fixed = fix(
        "Dockerfile",
        &original,
        &FixOptions {
            allow_unsafe: true,
            ..FixOptions::default()
        },
    )
    .unwrap();
    assert!(
        fixed.text.contains("--mount=type=bind,source=vendor.tar"),
        "{}",
        fixed.text
    );
    let df = kasane_dockerfile::parse(&fixed.text).unwrap();
    let both = merge(&df, MergeOptions::default()).unwrap();
    let (a, b) = (
        unique_tag("rewrite-both-before"),
        unique_tag("rewrite-both-after"),
    );
    let before = build(&a, &original, &example_dir());
    let after = build(&b, &both.text, &example_dir());
    let percent = report("kasane fix --unsafe, then kasane merge", &before, &after);
    assert_same_filesystem(&a, &b, APT_CACHES);
    remove_images(&[&a, &b]);
    assert!(after.layers < before.layers && percent >= 25.0);
}

/// A Go-style multi-stage build on busybox: shell-state traps (cd, export, umask, a function)
/// that minid would leak into the next command, a file chmod'ed after it was created, one
/// deleted in a later RUN, ENV pairs that refer to each other, and COPYs into one directory.
const GO_STYLE: &str = r#"FROM kasane-busybox:latest AS build
WORKDIR /src
ENV GOPATH=/go
ENV GOBIN=$GOPATH/bin
ENV CGO_ENABLED=0 GOOS=linux
COPY go.mod ./
COPY go.sum ./
RUN mkdir -p /out /go/bin /tmp
RUN cd /tmp && echo "built in $(pwd)" > /out/where-cd
RUN pwd > /out/where-next
RUN export GOFLAGS=-trimpath && echo "$GOFLAGS" > /out/flags
RUN echo "GOFLAGS=${GOFLAGS:-unset}" > /out/flags-next
RUN umask 077 && touch /out/private
RUN touch /out/public
RUN greet() { echo "hello $1"; } && greet builder > /out/greeting
RUN head -c 3000000 /dev/zero > /out/app
RUN ["/bin/sh", "-c", "echo exec form > /out/exec"]

FROM kasane-busybox:latest
LABEL org.example.name=app
LABEL org.example.tier=backend
COPY --from=build /out/app /srv/bin/
COPY --from=build /out/greeting /srv/bin/
COPY --from=build /out/ /srv/out/
COPY go.mod /srv/
RUN mkdir -p /srv/tools /tmp && head -c 2000000 /dev/zero > /srv/tools/helper
RUN chmod 755 /srv/tools/helper
RUN head -c 2000000 /dev/zero > /tmp/objects.a
RUN rm /tmp/objects.a
CMD ["/srv/bin/app"]
"#;

#[test]
#[ignore = "e2e: needs the Docker engine (scripts/test runs it)"]
fn go_style_multi_stage_merge_and_fix_keep_meaning() {
    require_engine();
    let ctx = tempfile::tempdir().unwrap();
    std::fs::write(
        ctx.path().join("go.mod"),
        "module example.com/app\n\ngo 1.22\n",
    )
    .unwrap();
    std::fs::write(ctx.path().join("go.sum"), "").unwrap();
    let original = GO_STYLE.replace("kasane-busybox:latest", BUSYBOX_IMAGE);
    let df = kasane_dockerfile::parse(&original).unwrap();
    let merged = merge(&df, MergeOptions::default()).unwrap();
    // The cd, export, umask and function RUNs went into subshells.
    assert_eq!(merged.merges[0].kind, "ENV");
    let subshells: Vec<u32> = merged
        .merges
        .iter()
        .flat_map(|m| m.subshells.clone())
        .collect();
    assert_eq!(subshells, vec![9, 11, 13, 15], "{}", merged.text);
    let fixed = fix("Dockerfile", &original, &FixOptions::default()).unwrap();
    let codes: Vec<&str> = fixed.changes.iter().map(|c| c.code).collect();
    assert!(
        codes.contains(&"KL305") && codes.contains(&"KL304"),
        "{codes:?}"
    );

    let tags: Vec<String> = ["before", "merged", "fixed"]
        .iter()
        .map(|t| unique_tag(&format!("rewrite-go-{t}")))
        .collect();
    let before = build(&tags[0], &original, ctx.path());
    let after_merge = build(&tags[1], &merged.text, ctx.path());
    let after_fix = build(&tags[2], &fixed.text, ctx.path());
    report("go-style, kasane merge", &before, &after_merge);
    report("go-style, kasane fix", &before, &after_fix);
    // What the commands wrote proves the state did not leak: the files are identical.
    assert_same_filesystem(&tags[0], &tags[1], &[]);
    assert_same_filesystem(&tags[0], &tags[2], &[]);
    let out = docker(&[
        "run",
        "--rm",
        &tags[1],
        "cat",
        "/srv/out/where-cd",
        "/srv/out/where-next",
        "/srv/out/flags-next",
    ]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "built in /tmp\n/src\nGOFLAGS=unset\n"
    );
    let t: Vec<&str> = tags.iter().map(String::as_str).collect();
    remove_images(&t);
    assert!(after_merge.layers < before.layers);
}
