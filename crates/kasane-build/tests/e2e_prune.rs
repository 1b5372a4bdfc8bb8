//! End-to-end: a Dockerfile pruned to a target, built by the legacy builder (which builds every
//! stage before the target), gives the same image as BuildKit building that target from the
//! original, and runs only the stages the target needs.
//!
//! Each stage's RUN prints `ran:<stage>-<nonce>` through a shell variable, so the token is in
//! the build log only when the step really ran (the step's own title shows `$m`, not the token).

mod common;

use std::collections::BTreeSet;

use kasane_build::{BuildOptions, prune, stage_graph};

/// A stage body that proves it ran: prints a token and leaves a file.
fn marker(stage: &str) -> String {
    format!("RUN m={stage}; echo \"ran:$m-@NONCE@\" && mkdir -p /stages && echo $m > /stages/$m\n")
}

struct Case {
    name: &'static str,
    dockerfile: String,
    target: &'static str,
    /// Stages (by marker name) the target needs.
    needed: &'static [&'static str],
    /// Stages it does not.
    unneeded: &'static [&'static str],
    files: Vec<(&'static str, &'static str)>,
    /// Build the reference (the original, `--target`) with BuildKit; otherwise with the legacy
    /// builder, for what this engine's BuildKit (v0.8, in dockerd 20.10) cannot build.
    reference_buildkit: bool,
    /// Files the final image must have.
    must_have: &'static [&'static str],
}

fn run_case(case: &Case) {
    kasane_testenv::require_engine();
    let nonce = common::nonce();
    let dir = tempfile::tempdir().unwrap();
    let original = case.dockerfile.replace("@NONCE@", &nonce);
    let mut files = case.files.clone();
    files.push(("Dockerfile", &original));
    common::write_files(dir.path(), &files);

    let df = kasane_dockerfile::parse(&original).unwrap();
    let graph = stage_graph(&df, &BuildOptions::default()).unwrap();
    let target = graph.resolve_target(Some(case.target)).unwrap();
    let pruned = prune(&df, &graph, target).unwrap();
    std::fs::write(dir.path().join("Dockerfile.pruned"), &pruned.text).unwrap();

    let reference_tag = kasane_testenv::unique_tag(&format!("build-prune-{}-reference", case.name));
    let legacy_tag = kasane_testenv::unique_tag(&format!("build-prune-{}-legacy", case.name));
    let _cleanup = kasane_testenv::ImageCleanup(vec![reference_tag.clone(), legacy_tag.clone()]);

    // The pruned file first: the legacy builder's cache must not serve it from a build of
    // the original.
    let legacy = common::build(
        dir.path(),
        &dir.path().join("Dockerfile.pruned"),
        &legacy_tag,
        false,
        &[],
    );

    let reference = common::build(
        dir.path(),
        &dir.path().join("Dockerfile"),
        &reference_tag,
        case.reference_buildkit,
        &["--target", case.target],
    );
    let ran = |log: &str| -> BTreeSet<String> {
        case.needed
            .iter()
            .chain(case.unneeded)
            .filter(|s| log.contains(&format!("ran:{s}-{nonce}")))
            .map(|s| s.to_string())
            .collect()
    };
    let needed: BTreeSet<String> = case.needed.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        ran(&legacy.log),
        needed,
        "legacy build of the pruned file:\n{}",
        legacy.log
    );
    if case.reference_buildkit {
        assert_eq!(
            ran(&reference.log),
            needed,
            "BuildKit build of the original:\n{}",
            reference.log
        );
    }

    // Without pruning, the legacy builder would have run the unneeded stages before the target
    // (the needed stages are cached by now; the unneeded ones run for the first time).
    let unneeded: BTreeSet<String> = case.unneeded.iter().map(|s| s.to_string()).collect();
    if !case.reference_buildkit {
        assert_eq!(
            ran(&reference.log),
            unneeded,
            "legacy build of the original:\n{}",
            reference.log
        );
    } else if !case.unneeded.is_empty() {
        let unpruned_tag =
            kasane_testenv::unique_tag(&format!("build-prune-{}-unpruned", case.name));
        let _c = kasane_testenv::ImageCleanup(vec![unpruned_tag.clone()]);
        let unpruned = common::build(
            dir.path(),
            &dir.path().join("Dockerfile"),
            &unpruned_tag,
            false,
            &["--target", case.target],
        );
        assert_eq!(
            ran(&unpruned.log),
            unneeded,
            "the legacy builder builds the unneeded stages of the original:\n{}",
            unpruned.log
        );
    }

    let fs_reference = common::filesystem(&reference_tag);
    let fs_legacy = common::filesystem(&legacy_tag);
    assert!(
        fs_reference.keys().any(|p| p.starts_with("stages/")),
        "{fs_reference:?}"
    );
    for f in case.must_have {
        assert!(fs_legacy.contains_key(*f), "{f} missing: {fs_legacy:?}");
    }
    assert_eq!(
        fs_legacy, fs_reference,
        "filesystems differ for {}",
        case.name
    );
    assert_eq!(common::config(&legacy_tag), common::config(&reference_tag));
    eprintln!(
        "{}: kept {:?}, removed {:?}, renumbered {:?}; {} files identical",
        case.name,
        pruned.kept,
        pruned.removed,
        pruned.renumbered,
        fs_reference.len()
    );
}

const BUSYBOX: &str = kasane_testenv::BUSYBOX_IMAGE;

#[test]
#[ignore = "e2e: needs the Docker engine (scripts/test runs it)"]
fn nextjs_layout_production_and_development() {
    let dockerfile = format!(
        "# Next.js-style layout\n\
         FROM {BUSYBOX} AS base\nWORKDIR /app\n{}\
         FROM base AS dependencies\nCOPY package.json ./\n{}RUN mkdir node_modules && cp package.json node_modules/installed\n\n\
         # development: not needed by production\n\
         FROM base AS development\nCOPY --from=dependencies /app/node_modules ./node_modules\nCOPY . .\n{}CMD [\"sh\", \"-c\", \"echo dev\"]\n\n\
         FROM base AS builder\nCOPY --from=dependencies /app/node_modules ./node_modules\nCOPY src ./src\n{}RUN mkdir -p .next && cat src/* > .next/standalone.js\n\n\
         FROM base AS production\nENV NODE_ENV=production\n\
         COPY --from=builder /app/.next/standalone.js ./server.js\n{}\
         EXPOSE 3000\nCMD [\"sh\", \"-c\", \"cat server.js\"]\n",
        marker("base"),
        marker("dependencies"),
        marker("development"),
        marker("builder"),
        marker("production"),
    );
    let files = vec![
        ("package.json", "{\"name\": \"app\"}\n"),
        ("src/page.js", "export default 1;\n"),
    ];
    run_case(&Case {
        name: "nextjs-production",
        dockerfile: dockerfile.clone(),
        target: "production",
        needed: &["base", "dependencies", "builder", "production"],
        unneeded: &["development"],
        files: files.clone(),
        reference_buildkit: true,
        must_have: &["app/server.js", "stages/production"],
    });
    run_case(&Case {
        name: "nextjs-development",
        dockerfile,
        target: "development",
        needed: &["base", "dependencies", "development"],
        unneeded: &[],
        files,
        reference_buildkit: true,
        must_have: &[],
    });
}

#[test]
#[ignore = "e2e: needs the Docker engine (scripts/test runs it)"]
fn numeric_references_are_renumbered() {
    // Stage 0 and 3 are not needed; `--from=1` (a named stage) and `--from=2` (an unnamed one)
    // must become 0 and 1, or the legacy builder copies from the wrong stage or fails.
    let dockerfile = format!(
        "FROM {BUSYBOX} AS unused-first\n{}\
         FROM {BUSYBOX} AS lib\n{}RUN echo lib > /lib.txt\n\
         FROM {BUSYBOX}\n{}RUN echo unnamed > /unnamed.txt\n\
         FROM {BUSYBOX} AS unused-middle\n{}RUN echo wrong > /lib.txt && echo wrong > /unnamed.txt\n\
         FROM {BUSYBOX} AS app\nCOPY --from=1 /lib.txt /lib.txt\nCOPY --from=2 /unnamed.txt /unnamed.txt\n{}",
        marker("unused-first"),
        marker("lib"),
        marker("unnamed"),
        marker("unused-middle"),
        marker("app"),
    );
    run_case(&Case {
        name: "numeric",
        dockerfile,
        target: "app",
        needed: &["lib", "unnamed", "app"],
        unneeded: &["unused-first", "unused-middle"],
        files: Vec::new(),
        reference_buildkit: true,
        must_have: &["lib.txt", "unnamed.txt", "stages/app"],
    });
}

#[test]
#[ignore = "e2e: needs the Docker engine (scripts/test runs it)"]
fn arg_built_from_and_onbuild_triggers() {
    // FROM ${BASE} names a stage through a global ARG; the template's ONBUILD trigger copies
    // from `assets` into the stage built on it.
    let dockerfile = format!(
        "ARG FLAVOUR=release\nARG BASE=runtime-${{FLAVOUR}}\n\
         FROM {BUSYBOX} AS runtime-debug\n{}\
         FROM {BUSYBOX} AS runtime-release\n{}\
         FROM {BUSYBOX} AS assets\n{}RUN echo asset > /asset.txt\n\
         FROM {BUSYBOX} AS unused-assets\n{}\
         FROM ${{BASE}} AS template\n{}ONBUILD COPY --from=assets /asset.txt /from-trigger.txt\n\
         FROM template AS app\n{}",
        marker("runtime-debug"),
        marker("runtime-release"),
        marker("assets"),
        marker("unused-assets"),
        marker("template"),
        marker("app"),
    );
    run_case(&Case {
        name: "arg-onbuild",
        dockerfile,
        target: "app",
        needed: &["runtime-release", "assets", "template", "app"],
        unneeded: &["runtime-debug", "unused-assets"],
        files: Vec::new(),
        // ONBUILD COPY --from=<stage> needs Dockerfile frontend 1.11 (BuildKit 0.17); the
        // BuildKit in dockerd 20.10 fails on it, the legacy builder runs it.
        reference_buildkit: false,
        must_have: &["from-trigger.txt", "stages/runtime-release"],
    });
}

#[test]
#[ignore = "e2e: needs the Docker engine (scripts/test runs it)"]
fn comments_directives_and_continuations_survive() {
    let dockerfile = format!(
        "# escape=\\\n# a comment about the file\n\n\
         # the build stage\nFROM {BUSYBOX} AS build\n{}RUN echo one \\\n  # a comment inside a continuation\n  > /one.txt\n\n\
         # docs: not needed\nFROM {BUSYBOX} AS docs\n{}\n\
         FROM {BUSYBOX} AS final\nCOPY --from=build /one.txt /one.txt\n{}",
        marker("build"),
        marker("docs"),
        marker("final"),
    );
    run_case(&Case {
        name: "comments",
        dockerfile,
        target: "final",
        needed: &["build", "final"],
        unneeded: &["docs"],
        files: Vec::new(),
        reference_buildkit: true,
        must_have: &[],
    });
}

#[test]
#[ignore = "e2e: needs the Docker engine (scripts/test runs it)"]
fn run_mount_from_keeps_its_source_stage_with_buildkit() {
    // The legacy builder has no RUN --mount, so both builds here use BuildKit: the pruned file
    // must still hold the mount's source stage and give the same image.
    kasane_testenv::require_engine();
    let nonce = common::nonce();
    let text = format!(
        "FROM {BUSYBOX} AS cache-source\nRUN echo cached-{nonce} > /data.txt\n\
         FROM {BUSYBOX} AS unused\nRUN echo unused-{nonce}\n\
         FROM {BUSYBOX} AS app\nRUN --mount=type=bind,from=cache-source,target=/mnt cp /mnt/data.txt /data.txt\n"
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Dockerfile"), &text).unwrap();
    let df = kasane_dockerfile::parse(&text).unwrap();
    let graph = stage_graph(&df, &BuildOptions::default()).unwrap();
    let pruned = prune(&df, &graph, graph.resolve_target(Some("app")).unwrap()).unwrap();
    assert_eq!(pruned.removed, [1]);
    std::fs::write(dir.path().join("Dockerfile.pruned"), &pruned.text).unwrap();
    let a = kasane_testenv::unique_tag("build-prune-mount-a");
    let b = kasane_testenv::unique_tag("build-prune-mount-b");
    let _cleanup = kasane_testenv::ImageCleanup(vec![a.clone(), b.clone()]);
    common::build(
        dir.path(),
        &dir.path().join("Dockerfile"),
        &a,
        true,
        &["--target", "app"],
    );
    common::build(
        dir.path(),
        &dir.path().join("Dockerfile.pruned"),
        &b,
        true,
        &[],
    );
    let fs = common::filesystem(&b);
    assert!(fs.contains_key("data.txt"), "{fs:?}");
    assert_eq!(fs, common::filesystem(&a));
}
