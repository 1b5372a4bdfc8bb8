//! The script plans run by bash against a stand-in `docker` on PATH that records its calls and
//! fails on demand: the order of pulls, builds and pushes, the Dockerfile copy each build gets,
//! tolerated pull failures, and that a failed build or push or a changed Dockerfile stops the
//! plan with a failure status. (The real engine proves the caching itself: e2e_cache_plan.rs.)

use std::path::Path;
use std::process::Command;

use kasane_build::plan::{self, ImageRepo, Mode, PlanRequest};
use kasane_build::{BuildOptions, stage_graph};

const DOCKERFILE: &str = "\
FROM alpine AS base
RUN echo base
FROM alpine AS docs
RUN echo docs
FROM alpine
RUN echo unnamed > /u
FROM base AS builder
COPY --from=2 /u /u
FROM builder AS app
";

/// Records `docker ARGS` (one line a call, with DOCKER_BUILDKIT), keeps a copy of the file each
/// build names with -f, and exits 3 when the call matches the glob in $FAKE_FAIL.
const FAKE_DOCKER: &str = r#"#!/bin/sh
echo "DOCKER_BUILDKIT=${DOCKER_BUILDKIT:-unset} docker $*" >> "$FAKE_LOG"
prev=
for a in "$@"; do
  if [ "$prev" = "-f" ]; then
    cp "$a" "$FAKE_DIR/dockerfile.$$"
    echo "  -f $a" >> "$FAKE_LOG"
  fi
  prev=$a
done
case "docker $*" in
  $FAKE_FAIL) exit 3 ;;
esac
exit 0
"#;

struct Outcome {
    code: i32,
    calls: Vec<String>,
    stderr: String,
    copies: Vec<String>,
}

fn run_plan(mode: Mode, fail: &str, edit_dockerfile: bool) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let docker = bin.join("docker");
    std::fs::write(&docker, FAKE_DOCKER).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&docker, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(dir.path().join("Dockerfile"), DOCKERFILE).unwrap();

    let df = kasane_dockerfile::parse(DOCKERFILE).unwrap();
    let graph = stage_graph(&df, &BuildOptions::default()).unwrap();
    let target = graph.resolve_target(None).unwrap();
    let request = PlanRequest {
        graph: &graph,
        target,
        image: ImageRepo::parse("reg.example/app").unwrap(),
        dockerfile: "Dockerfile".into(),
        context: ".".into(),
        build_args: Vec::new(),
        platforms: Vec::new(),
        push: true,
        tags: Vec::new(),
        prepared: plan::prepare(&df, &graph, target, mode).unwrap(),
    };
    std::fs::write(
        dir.path().join("plan.sh"),
        plan::render(&request, mode).unwrap(),
    )
    .unwrap();
    if edit_dockerfile {
        std::fs::write(
            dir.path().join("Dockerfile"),
            DOCKERFILE.replace("echo base", "echo b"),
        )
        .unwrap();
    }
    let log = dir.path().join("calls.log");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("bash")
        .arg("plan.sh")
        .current_dir(dir.path())
        .env("PATH", path)
        .env("FAKE_LOG", &log)
        .env("FAKE_DIR", dir.path())
        .env(
            "FAKE_FAIL",
            if fail.is_empty() {
                "no-such-call"
            } else {
                fail
            },
        )
        .output()
        .unwrap();
    let calls: Vec<String> = std::fs::read_to_string(&log)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect();
    // The -f file is a temporary copy that the plan removes when it exits.
    for c in &calls {
        if let Some(p) = c.strip_prefix("  -f ")
            && Path::new(p).is_absolute()
        {
            assert!(!Path::new(p).exists(), "{p} was left behind");
        }
    }
    let copies = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("dockerfile."))
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .collect();
    Outcome {
        code: out.status.code().unwrap_or(-1),
        calls: calls
            .into_iter()
            .filter(|c| !c.starts_with("  -f "))
            .collect(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        copies,
    }
}

fn short(calls: &[String]) -> Vec<String> {
    // "DOCKER_BUILDKIT=0 docker build -f X --target builder ..." -> "build builder"
    calls
        .iter()
        .map(|c| {
            let words: Vec<&str> = c.split_whitespace().collect();
            match words[2] {
                "build" => {
                    let t = words
                        .iter()
                        .position(|w| *w == "--target")
                        .map(|i| words[i + 1]);
                    format!("build {}", t.unwrap_or("?"))
                }
                other => format!("{other} {}", words[3].rsplit(':').next().unwrap()),
            }
        })
        .collect()
}

#[test]
fn legacy_plan_pulls_builds_and_pushes_each_needed_stage_in_order() {
    let o = run_plan(Mode::Legacy, "", false);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(
        short(&o.calls),
        [
            "pull base",
            "build base",
            "push base",
            "pull stage-2",
            "build stage-2",
            "push stage-2",
            "pull builder",
            "build builder",
            "push builder",
            "pull app",
            "build app",
            "push app",
        ]
    );
    assert!(o.calls.iter().all(|c| c.starts_with("DOCKER_BUILDKIT=0 ")));
    // Every build got the pruned, named copy: no `docs` stage, `AS stage-2`, renumbered --from.
    assert_eq!(o.copies.len(), 4);
    for copy in &o.copies {
        assert_eq!(
            copy,
            "FROM alpine AS base\nRUN echo base\nFROM alpine AS stage-2\nRUN echo unnamed > /u\n\
             FROM base AS builder\nCOPY --from=1 /u /u\nFROM builder AS app\n"
        );
    }
}

#[test]
fn missing_cache_images_are_tolerated() {
    let o = run_plan(Mode::Legacy, "docker pull *", false);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(
        o.stderr.matches("no cache image").count(),
        4,
        "{}",
        o.stderr
    );
}

#[test]
fn a_failed_build_stops_the_plan_with_its_status() {
    let o = run_plan(Mode::Legacy, "docker build *--target builder*", false);
    assert_eq!(o.code, 3);
    assert_eq!(short(&o.calls).last().unwrap(), "build builder");
    let o = run_plan(Mode::Inline, "docker build *--target stage-2*", false);
    assert_eq!(o.code, 3);
    assert_eq!(
        short(&o.calls)[4..],
        ["build base", "push base", "build stage-2"]
    );
}

#[test]
fn a_failed_push_stops_the_plan() {
    let o = run_plan(Mode::Legacy, "docker push *:base", false);
    assert_eq!(o.code, 3);
    assert_eq!(short(&o.calls), ["pull base", "build base", "push base"]);
}

#[test]
fn a_changed_dockerfile_stops_the_plan_before_any_build() {
    let o = run_plan(Mode::Legacy, "", true);
    assert_eq!(o.code, 1);
    assert!(o.calls.is_empty(), "{:?}", o.calls);
    assert!(
        o.stderr
            .contains("Dockerfile changed since this plan was made"),
        "{}",
        o.stderr
    );
}

#[test]
fn inline_plan_pulls_its_cache_images_then_builds_with_buildkit() {
    let o = run_plan(Mode::Inline, "", false);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.calls.iter().all(|c| c.starts_with("DOCKER_BUILDKIT=1 ")));
    assert_eq!(
        short(&o.calls),
        [
            "pull base",
            "pull stage-2",
            "pull builder",
            "pull app",
            "build base",
            "push base",
            "build stage-2",
            "push stage-2",
            "build builder",
            "push builder",
            "build app",
            "push app",
        ]
    );
    let missing = run_plan(Mode::Inline, "docker pull *", false);
    assert_eq!(missing.code, 0, "{}", missing.stderr);
    assert_eq!(missing.stderr.matches("no cache image").count(), 4);
    // BuildKit skips unneeded stages itself: the copy only adds the name.
    assert!(
        o.copies
            .iter()
            .all(|c| c == &DOCKERFILE.replace("FROM alpine\n", "FROM alpine AS stage-2\n"))
    );
    let app = o.calls.iter().find(|c| c.contains("--target app")).unwrap();
    for stage in ["base", "stage-2", "builder", "app"] {
        assert!(
            app.contains(&format!("--cache-from reg.example/app:{stage}")),
            "{app}"
        );
    }
}
