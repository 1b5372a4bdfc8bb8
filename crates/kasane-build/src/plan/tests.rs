use super::*;
use crate::{BuildOptions, stage_graph};

const NEXTJS: &str = "\
FROM node:20-alpine AS base
WORKDIR /app

FROM base AS deps
COPY package.json ./
RUN npm ci

FROM base AS development
COPY --from=deps /app/node_modules ./node_modules
CMD [\"npm\", \"run\", \"dev\"]

FROM base AS builder
COPY --from=deps /app/node_modules ./node_modules
RUN npm run build

FROM base AS production
COPY --from=builder /app/.next ./.next
CMD [\"npm\", \"start\"]
";

/// An unneeded stage and unnamed stages referenced by index.
const MIXED: &str = "\
FROM alpine AS tools
RUN echo tools > /t
FROM alpine AS lint
RUN echo lint
FROM alpine
RUN echo unnamed > /u
FROM tools
COPY --from=2 /u /u
";

struct Fixture {
    df: Dockerfile,
    graph: StageGraph,
}

fn fixture(text: &str) -> Fixture {
    let df = kasane_dockerfile::parse(text).unwrap();
    let graph = stage_graph(&df, &BuildOptions::default()).unwrap();
    Fixture { df, graph }
}

fn request<'a>(f: &'a Fixture, mode: Mode, target: Option<&str>) -> PlanRequest<'a> {
    let target = f.graph.resolve_target(target).unwrap();
    PlanRequest {
        graph: &f.graph,
        target,
        image: ImageRepo::parse("127.0.0.1:5000/app").unwrap(),
        dockerfile: "docker/Dockerfile".to_string(),
        context: ".".to_string(),
        build_args: Vec::new(),
        platforms: Vec::new(),
        push: true,
        tags: Vec::new(),
        prepared: prepare(&f.df, &f.graph, target, mode).unwrap(),
    }
}

fn bash_syntax_ok(script: &str) {
    let out = std::process::Command::new("bash")
        .args(["-n", "-c", script])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "bash -n: {}\n{script}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn planned_stages_of_the_nextjs_layout() {
    let f = fixture(NEXTJS);
    let t = f.graph.resolve_target(Some("production")).unwrap();
    let image = ImageRepo::parse("reg/app").unwrap();
    let planned = planned_stages(&f.graph, t, &image).unwrap();
    let names: Vec<&str> = planned.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["base", "deps", "builder", "production"]);
    assert_eq!(planned[3].needs, [0, 1, 3, 4]);
    assert_eq!(planned[2].tag, "reg/app:builder");
}

#[test]
fn unnamed_stages_get_stage_n_names_that_collide_with_nothing() {
    let f = fixture(
        "FROM alpine AS stage-1\nFROM alpine\nFROM stage-2-img\nCOPY --from=stage-1 /a /a\nCOPY --from=1 /b /b\n",
    );
    let all: BTreeSet<usize> = [0, 1, 2].into();
    let names = stage_names(&f.graph, &all).unwrap();
    assert_eq!(names[&0], "stage-1");
    assert_eq!(names[&1], "stage-1-unnamed");
    assert_eq!(names[&2], "stage-2");
}

#[test]
fn a_shadowed_duplicate_name_cannot_be_cached_on_its_own() {
    let f =
        fixture("FROM alpine AS x\nFROM x AS y\nFROM alpine AS x\nFROM y\nCOPY --from=x /a /a\n");
    let t = f.graph.resolve_target(None).unwrap();
    let err = planned_stages(&f.graph, t, &ImageRepo::parse("app").unwrap()).unwrap_err();
    assert!(
        matches!(
            err,
            PlanError::ShadowedStage {
                index: 0,
                later: 2,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn legacy_plan_prunes_names_and_caches_cumulatively_in_file_order() {
    let f = fixture(MIXED);
    let r = request(&f, Mode::Legacy, None);
    let prepared = r.prepared.as_ref().expect("a prepared copy");
    assert!(prepared.pruned && prepared.named);
    assert_eq!(
        prepared.text,
        "FROM alpine AS tools\nRUN echo tools > /t\nFROM alpine AS stage-2\nRUN echo unnamed > /u\n\
         FROM tools AS stage-3\nCOPY --from=1 /u /u\n"
    );
    let script = render(&r, Mode::Legacy).unwrap();
    bash_syntax_ok(&script);
    assert!(script.starts_with("#!/usr/bin/env bash\n"));
    assert!(script.contains("\nset -euo pipefail\nexport DOCKER_BUILDKIT=0\n"));
    assert!(script.contains(&format!(
        "sum=$( (sha256sum 2>/dev/null || shasum -a 256) < docker/Dockerfile)\n\
         if [ \"${{sum%% *}}\" != {} ]; then",
        prepared.original_sha256
    )));
    assert!(script.contains(&format!(
        "<<'KASANE_DOCKERFILE'\n{}KASANE_DOCKERFILE\n",
        prepared.text
    )));
    let builds: Vec<&str> = script
        .split("\n\n")
        .filter(|b| b.contains("docker build"))
        .collect();
    assert_eq!(builds.len(), 3);
    assert_eq!(
        builds[2],
        "# stage 3: stage-3 (unnamed)\n\
         pull_cache 127.0.0.1:5000/app:stage-3\n\
         docker build \\\n  -f \"$dockerfile\" \\\n  --target stage-3 \\\n  -t 127.0.0.1:5000/app:stage-3 \\\n  \
         --cache-from 127.0.0.1:5000/app:tools \\\n  --cache-from 127.0.0.1:5000/app:stage-2 \\\n  \
         --cache-from 127.0.0.1:5000/app:stage-3 \\\n  .\n\
         docker push 127.0.0.1:5000/app:stage-3\n"
    );
    assert!(!script.contains("lint"));
    assert!(!script.contains(" wait"));
}

#[test]
fn legacy_plan_uses_the_original_when_nothing_needs_changing() {
    let f = fixture("FROM alpine AS a\nRUN x\nFROM a AS b\nRUN y\n");
    let r = request(&f, Mode::Legacy, None);
    assert!(r.prepared.is_none());
    let script = render(&r, Mode::Legacy).unwrap();
    bash_syntax_ok(&script);
    assert!(script.contains("-f docker/Dockerfile"));
    assert!(!script.contains("mktemp"));
    // Inline mode never prunes: BuildKit skips unneeded stages itself.
    let f = fixture(NEXTJS);
    assert!(
        request(&f, Mode::Inline, Some("production"))
            .prepared
            .is_none()
    );
    assert!(
        request(&f, Mode::Legacy, Some("production"))
            .prepared
            .is_some()
    );
}

#[test]
fn inline_plan_imports_image_refs_of_every_needed_stage() {
    let f = fixture(NEXTJS);
    let r = request(&f, Mode::Inline, Some("production"));
    let script = render(&r, Mode::Inline).unwrap();
    bash_syntax_ok(&script);
    assert!(script.contains("export DOCKER_BUILDKIT=1\n"));
    let last = script
        .split("\n\n")
        .find(|b| b.contains("--target production"))
        .unwrap();
    assert_eq!(
        last,
        "# stage 4: production\n\
         docker build \\\n  -f docker/Dockerfile \\\n  --target production \\\n  \
         -t 127.0.0.1:5000/app:production \\\n  --build-arg BUILDKIT_INLINE_CACHE=1 \\\n  \
         --cache-from 127.0.0.1:5000/app:base \\\n  --cache-from 127.0.0.1:5000/app:deps \\\n  \
         --cache-from 127.0.0.1:5000/app:builder \\\n  --cache-from 127.0.0.1:5000/app:production \\\n  .\n\
         docker push 127.0.0.1:5000/app:production"
    );
    // castage's bug: bare stage names as cache sources.
    assert!(!script.contains("--cache-from base"));
    assert!(!script.contains("development"));
}

#[test]
fn quoting_build_args_platforms_and_extra_tags() {
    let f = fixture("FROM alpine AS a\nFROM a\n");
    let mut r = request(&f, Mode::Inline, None);
    r.context = "my context".into();
    r.dockerfile = "it's/Dockerfile".into();
    r.build_args = vec![("MSG".into(), "hello $USER; rm -rf /".into())];
    r.platforms = vec!["linux/amd64".into(), "linux/arm64".into()];
    r.tags = vec!["127.0.0.1:5000/app:latest".into()];
    r.prepared = prepare(&f.df, &f.graph, r.target, Mode::Inline).unwrap();
    let script = render(&r, Mode::Inline).unwrap();
    bash_syntax_ok(&script);
    assert!(script.contains("--build-arg 'MSG=hello $USER; rm -rf /'"));
    assert!(script.contains("--platform linux/amd64,linux/arm64"));
    assert!(script.contains("'my context'\n"));
    assert!(script.contains("shasum -a 256) < 'it'\\''s/Dockerfile')"));
    assert!(script.contains("-t 127.0.0.1:5000/app:stage-1 \\\n  -t 127.0.0.1:5000/app:latest"));
    assert!(script.contains("docker push 127.0.0.1:5000/app:latest\n"));
}

#[test]
fn no_push_lines_without_push() {
    let f = fixture(NEXTJS);
    let mut r = request(&f, Mode::Legacy, None);
    r.push = false;
    let script = render(&r, Mode::Legacy).unwrap();
    assert!(!script.contains("docker push"));
}

#[test]
fn registry_plan_is_one_build_with_a_max_mode_cache() {
    let f = fixture(MIXED);
    let r = request(&f, Mode::Registry, None);
    assert!(r.prepared.is_none());
    let script = render(&r, Mode::Registry).unwrap();
    bash_syntax_ok(&script);
    assert_eq!(script.matches("docker buildx build").count(), 1);
    assert!(script.contains(
        "--cache-from type=registry,ref=127.0.0.1:5000/app:buildcache \\\n  \
         --cache-to type=registry,ref=127.0.0.1:5000/app:buildcache,mode=max \\\n  --push \\\n  ."
    ));
    // The target is the unnamed last stage: no --target at all.
    assert!(!script.contains("--target"));
}

#[test]
fn the_embedded_copy_cannot_end_the_heredoc_early() {
    let text = "FROM alpine\nRUN <<KASANE_DOCKERFILE\necho hi\nKASANE_DOCKERFILE\nFROM alpine AS b\nCOPY --from=0 /a /a\n";
    let f = fixture(text);
    let r = request(&f, Mode::Legacy, None);
    let script = render(&r, Mode::Legacy).unwrap();
    bash_syntax_ok(&script);
    assert!(script.contains("<<'KASANE_DOCKERFILE_'\n"));
}

#[test]
fn huge_graphs_are_refused_not_ground_through() {
    let mut text = String::from("FROM alpine AS s0\n");
    for i in 1..=MAX_PLANNED_STAGES {
        text.push_str(&format!("FROM s{} AS s{i}\n", i - 1));
    }
    let f = fixture(&text);
    let t = f.graph.resolve_target(None).unwrap();
    let err = planned_stages(&f.graph, t, &ImageRepo::parse("app").unwrap()).unwrap_err();
    assert_eq!(err, PlanError::TooManyStages(MAX_PLANNED_STAGES + 1));
}
