//! End-to-end cache proof on the real engine and registry: run a `legacy` or `inline` plan once
//! (cold), remove the engine's copies of its images and the build cache, and run it again: every
//! RUN and COPY step of every stage, named or not, must come from the cache, and no RUN may
//! execute. A plain build after the same wipe proves the wipe (its RUN steps do execute) and
//! gives the cold time to compare with.
//!
//! Only this test's own images are removed (`docker rmi` of its tags); the BuildKit cache is
//! cleared with `docker builder prune -af`, which is shared but only a cache.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use kasane_build::plan::{self, ImageRepo, Mode, PlanRequest};
use kasane_build::{BuildOptions, stage_graph};
use kasane_testenv::{BUSYBOX_IMAGE, DOCKER, REGISTRY};

/// Stages: base, dependencies, development (not needed), an unnamed stage used by index,
/// builder, production. The RUN steps sleep a little, as real installs and builds take time.
/// Every stage's first step carries the nonce (base's LABEL, the unnamed stage's RUN): a step
/// the first run took from the engine's local cache (another test's `WORKDIR /app` on the same
/// base) would be missing from the inline cache it exports (moby/buildkit#1981), and the proof
/// would depend on what ran before it.
fn dockerfile(nonce: &str) -> String {
    let run =
        |stage: &str, work: &str| format!("RUN m={stage}; echo \"ran:$m-{nonce}\" && {work}\n");
    format!(
        "FROM {BUSYBOX_IMAGE} AS base\nLABEL e2e.run={nonce}\nWORKDIR /app\n{}\n\
         FROM base AS dependencies\nCOPY package.json ./\n{}\n\
         FROM base AS development\nCOPY --from=dependencies /app/node_modules ./node_modules\n{}\n\
         FROM {BUSYBOX_IMAGE}\n{}\n\
         FROM base AS builder\nCOPY --from=dependencies /app/node_modules ./node_modules\n\
         COPY --from=3 /tool /usr/local/bin/tool\nCOPY src ./src\n{}\n\
         FROM base AS production\nCOPY --from=builder /app/dist ./dist\n{}CMD [\"ls\", \"dist\"]\n",
        run("base", "echo base > /app/base"),
        run(
            "dependencies",
            "sleep 2 && mkdir node_modules && cp package.json node_modules/"
        ),
        run("development", "sleep 2"),
        run(
            "unnamed",
            "sleep 2 && printf '#!/bin/sh\\necho tool\\n' > /tool && chmod +x /tool"
        ),
        run(
            "builder",
            "sleep 2 && mkdir dist && cat src/* > dist/app.js && tool > dist/tool.txt"
        ),
        run("production", "ls dist > /app/manifest"),
    )
}

const NEEDED: [&str; 5] = ["base", "dependencies", "unnamed", "builder", "production"];

struct Setup {
    dir: tempfile::TempDir,
    nonce: String,
    tags: Vec<String>,
    script: String,
}

fn setup(mode: Mode) -> Setup {
    kasane_testenv::require_engine();
    kasane_testenv::require_registry();
    let nonce = common::nonce();
    let dir = tempfile::tempdir().unwrap();
    let text = dockerfile(&nonce);
    common::write_files(
        dir.path(),
        &[
            ("Dockerfile", &text),
            ("package.json", "{\"name\": \"app\"}\n"),
            ("src/index.js", "console.log(1);\n"),
        ],
    );
    let df = kasane_dockerfile::parse(&text).unwrap();
    let graph = stage_graph(&df, &BuildOptions::default()).unwrap();
    let target = graph.resolve_target(Some("production")).unwrap();
    let mode_name = format!("{mode:?}").to_ascii_lowercase();
    let repo = format!("{REGISTRY}/kasane-e2e-cacheplan-{mode_name}-{nonce}");
    let image = ImageRepo::parse(&repo).unwrap();
    let request = PlanRequest {
        graph: &graph,
        target,
        image: image.clone(),
        dockerfile: "Dockerfile".into(),
        context: ".".into(),
        build_args: Vec::new(),
        platforms: Vec::new(),
        push: true,
        tags: Vec::new(),
        prepared: plan::prepare(&df, &graph, target, mode).unwrap(),
    };
    let script = plan::render(&request, mode).unwrap();
    std::fs::write(dir.path().join("plan.sh"), &script).unwrap();
    let tags = plan::planned_stages(&graph, target, &image)
        .unwrap()
        .into_iter()
        .map(|s| s.tag)
        .collect();
    Setup {
        dir,
        nonce,
        tags,
        script,
    }
}

/// Runs `plan.sh` in `dir` with the engine's own 20.10 client as `docker` (a newer client on
/// PATH here wants a buildx plugin that is not installed).
fn run_plan(dir: &Path) -> common::Run {
    let bin = dir.join("bin");
    if !bin.exists() {
        std::fs::create_dir(&bin).unwrap();
        std::os::unix::fs::symlink(DOCKER, bin.join("docker")).unwrap();
    }
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    common::run(
        Command::new("bash")
            .arg("plan.sh")
            .current_dir(dir)
            .env("PATH", path)
            .env("BUILDKIT_PROGRESS", "plain"),
    )
}

/// Removes this test's images from the engine and clears the build cache.
fn wipe(tags: &[String]) {
    common::remove_images(tags);
    let prune = common::run(Command::new(DOCKER).args(["builder", "prune", "-af"]));
    assert!(prune.ok, "docker builder prune failed: {}", prune.log);
    for t in tags {
        assert!(
            !common::has_image(t),
            "{t} is still in the engine after the wipe"
        );
    }
}

fn markers(log: &str, nonce: &str) -> Vec<String> {
    NEEDED
        .iter()
        .chain(&["development"])
        .filter(|s| log.contains(&format!("ran:{s}-{nonce}")))
        .map(|s| s.to_string())
        .collect()
}

/// Per step of the legacy builder's log (`Step i/n : INSTR`): whether it used the cache.
fn legacy_steps(log: &str) -> Vec<(String, bool)> {
    let mut steps = Vec::new();
    let mut current: Option<(String, bool, bool)> = None;
    for line in log.lines() {
        if let Some(rest) = line.strip_prefix("Step ") {
            if let Some((title, cached, ran)) = current.take() {
                steps.push((title, cached && !ran));
            }
            current = Some((rest.to_string(), false, false));
        } else if let Some(c) = current.as_mut() {
            c.1 |= line.contains("---> Using cache");
            c.2 |= line.contains("---> Running in");
        }
    }
    if let Some((title, cached, ran)) = current {
        steps.push((title, cached && !ran));
    }
    steps
}

/// Per BuildKit vertex (`#N [stage i/n] INSTR`) of every build in a plain-progress log: its
/// title and whether it was `CACHED`.
fn buildkit_steps(log: &str) -> Vec<(String, bool)> {
    let mut steps = Vec::new();
    // Vertex numbers restart with every build; each build starts by loading its definition.
    for build in log.split("[internal] load build definition") {
        let mut titles: BTreeMap<String, String> = BTreeMap::new();
        let mut cached: Vec<String> = Vec::new();
        for line in build.lines() {
            let Some(rest) = line.strip_prefix('#') else {
                continue;
            };
            let Some((id, what)) = rest.split_once(' ') else {
                continue;
            };
            if what == "CACHED" {
                cached.push(id.to_string());
            } else if what.starts_with('[') && !what.starts_with("[internal]") {
                titles
                    .entry(id.to_string())
                    .or_insert_with(|| what.to_string());
            }
        }
        for (id, title) in titles {
            steps.push((title, cached.contains(&id)));
        }
    }
    steps
}

fn exercise(mode: Mode) {
    let buildkit = mode == Mode::Inline;
    let s = setup(mode);
    let _cleanup = kasane_testenv::ImageCleanup(s.tags.clone());
    assert!(s.script.contains("set -euo pipefail"));

    // 1. Cold: nothing in the registry yet (the plan must cope), nothing in the cache.
    let first = run_plan(s.dir.path());
    assert!(first.ok, "first run failed:\n{}", first.log);
    assert_eq!(
        markers(&first.log, &s.nonce),
        NEEDED,
        "first run:\n{}",
        first.log
    );
    for t in &s.tags {
        assert!(common::has_image(t), "{t} was not built");
    }

    // 2. Wipe, and prove it: a plain build of the target now runs its RUN steps.
    wipe(&s.tags);
    let plain_tag = kasane_testenv::unique_tag("build-cacheplan-plain");
    let _plain_cleanup = kasane_testenv::ImageCleanup(vec![plain_tag.clone()]);
    let cold = common::build(
        s.dir.path(),
        &s.dir.path().join("Dockerfile"),
        &plain_tag,
        buildkit,
        &["--target", "production"],
    );
    let ran_cold = markers(&cold.log, &s.nonce);
    assert!(
        NEEDED.iter().all(|m| ran_cold.contains(&m.to_string())),
        "after the wipe a plain build must run every needed stage:\n{}",
        cold.log
    );
    common::remove_images(std::slice::from_ref(&plain_tag));
    wipe(&s.tags);

    // 3. Warm, twice: the plan again on an engine that has nothing but the base image. The
    // second warm run imports images that were themselves built from the cache, which is
    // where dockerd's inline cache loses records (moby/buildkit#1981) unless the plan pulls.
    let second = warm_run(&s, buildkit);
    wipe(&s.tags);
    let third = warm_run(&s, buildkit);

    eprintln!(
        "cache-plan {mode:?}: first run (cold, builds and pushes {} stages) {:.1}s; plain cold \
         build of the target {:.1}s; warm runs after wiping the engine {:.1}s and {:.1}s ({} \
         RUN/COPY steps each, all from the cache)",
        s.tags.len(),
        first.took.as_secs_f64(),
        cold.took.as_secs_f64(),
        second.0.took.as_secs_f64(),
        third.0.took.as_secs_f64(),
        second.1,
    );
}

/// Runs the plan on a wiped engine and checks that every RUN and COPY step of every needed
/// stage came from the cache; returns the run and how many steps were checked.
fn warm_run(s: &Setup, buildkit: bool) -> (common::Run, usize) {
    let warm = run_plan(s.dir.path());
    assert!(warm.ok, "warm run failed:\n{}", warm.log);
    assert!(
        markers(&warm.log, &s.nonce).is_empty(),
        "a RUN step executed on a warm run:\n{}",
        warm.log
    );
    let steps = if buildkit {
        buildkit_steps(&warm.log)
    } else {
        legacy_steps(&warm.log)
    };
    let checked: Vec<&(String, bool)> = steps
        .iter()
        .filter(|(t, _)| t.contains(" RUN ") || t.contains(" COPY "))
        .collect();
    let uncached: Vec<&&(String, bool)> = checked.iter().filter(|(_, c)| !c).collect();
    assert!(
        uncached.is_empty(),
        "steps not from the cache: {uncached:#?}\n{}",
        warm.log
    );
    // Every needed stage, the unnamed one included, was built and its steps checked.
    let runs = checked.iter().filter(|(t, _)| t.contains(" RUN ")).count();
    assert!(
        runs >= NEEDED.len(),
        "only {runs} RUN steps seen:\n{}",
        warm.log
    );
    for m in NEEDED {
        assert!(
            checked.iter().any(|(t, _)| t.contains(&format!("m={m};"))),
            "no cached RUN of stage {m}:\n{}",
            warm.log
        );
    }
    assert!(
        warm.log.contains("stage-3"),
        "the unnamed stage was not built on its own"
    );

    let n = checked.len();
    (warm, n)
}

#[test]
#[ignore = "e2e: needs the Docker engine (scripts/test runs it)"]
fn legacy_plan_hits_the_cache_for_every_stage_after_a_wipe() {
    exercise(Mode::Legacy);
}

#[test]
#[ignore = "e2e: needs the Docker engine (scripts/test runs it)"]
fn inline_plan_hits_the_cache_for_every_stage_after_a_wipe() {
    exercise(Mode::Inline);
}

/// A plan for a Dockerfile whose `builder` stage fails: the script must stop there, with a
/// failure status, before building anything after it.
#[test]
#[ignore = "e2e: needs the Docker engine (scripts/test runs it)"]
fn a_failed_build_or_push_fails_the_plan() {
    kasane_testenv::require_engine();
    let nonce = common::nonce();
    let text = format!(
        "FROM {BUSYBOX_IMAGE} AS first\nRUN echo first-{nonce}\n\
         FROM first AS builder\nRUN exit 7\n\
         FROM first AS last\nCOPY --from=builder /x /x\nRUN m=last; echo \"ran:$m\"\n"
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Dockerfile"), &text).unwrap();
    let df = kasane_dockerfile::parse(&text).unwrap();
    let graph = stage_graph(&df, &BuildOptions::default()).unwrap();
    let target = graph.resolve_target(None).unwrap();
    for (repo, push) in [
        (
            format!("{REGISTRY}/kasane-e2e-cacheplan-fail-{nonce}"),
            false,
        ),
        // Nothing listens on port 9: the pull is tolerated, the push is not.
        (
            format!("127.0.0.1:9/kasane-e2e-cacheplan-nopush-{nonce}"),
            true,
        ),
    ] {
        let image = ImageRepo::parse(&repo).unwrap();
        let tags: Vec<String> = plan::planned_stages(&graph, target, &image)
            .unwrap()
            .into_iter()
            .map(|s| s.tag)
            .collect();
        let _cleanup = kasane_testenv::ImageCleanup(tags.clone());
        let request = PlanRequest {
            graph: &graph,
            target,
            image,
            dockerfile: "Dockerfile".into(),
            context: ".".into(),
            build_args: Vec::new(),
            platforms: Vec::new(),
            push,
            tags: Vec::new(),
            prepared: plan::prepare(&df, &graph, target, Mode::Legacy).unwrap(),
        };
        std::fs::write(
            dir.path().join("plan.sh"),
            plan::render(&request, Mode::Legacy).unwrap(),
        )
        .unwrap();
        let r = run_plan(dir.path());
        assert!(!r.ok, "the plan should fail:\n{}", r.log);
        assert!(
            r.log.contains("no cache image"),
            "a missing cache image is tolerated:\n{}",
            r.log
        );
        assert!(
            !r.log.contains("ran:last"),
            "nothing may run after the failure:\n{}",
            r.log
        );
        if push {
            // The first stage built, its push failed, and the plan stopped there.
            assert!(common::has_image(&tags[0]));
            assert!(!r.log.contains("exit 7"), "{}", r.log);
        } else {
            assert!(r.log.contains("exit 7") || r.log.contains("returned a non-zero code: 7"));
        }
    }
}
