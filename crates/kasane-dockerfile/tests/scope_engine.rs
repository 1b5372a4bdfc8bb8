//! End-to-end: ARG/ENV scoping compared with the real engine (dockerd 20.10). Each Dockerfile
//! writes what it sees into LABELs; the image's labels and ENV (`docker inspect`) must equal
//! what `scope::resolve` says the same build produces. The shared rules run under both the
//! built-in BuildKit and the legacy builder; the rules where they differ (see
//! docs/dockerfile-expansion.md) run under BuildKit only.

use std::collections::BTreeMap;
use std::process::Command;

use kasane_dockerfile::parse;
use kasane_dockerfile::scope::{BuildArgs, Field, ImageEnv, Resolved, resolve_with};
use kasane_dockerfile::stage::StageBase;
use kasane_testenv::{DOCKER, docker, require_engine};

/// Base image ENV straight from the engine.
struct EngineImages;

impl ImageEnv for EngineImages {
    fn env(&self, image: &str) -> Option<Vec<(String, String)>> {
        let out = docker(&["image", "inspect", "-f", "{{json .Config.Env}}", image]);
        let env: Vec<String> = serde_json::from_slice(&out.stdout).ok()?;
        Some(
            env.iter()
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        )
    }
}

/// The labels and ENV `resolved` says the image of stage `target` gets: every LABEL and ENV
/// along its chain of base stages, later ones winning.
fn expected(
    resolved: &Resolved,
    target: usize,
) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    let mut chain = vec![target];
    while let Some(StageBase::Stage(base)) = resolved.stages[*chain.last().unwrap()].base {
        chain.push(base);
    }
    let mut labels = BTreeMap::new();
    for &stage in chain.iter().rev() {
        for instruction in &resolved.stages[stage].instructions {
            let keys = instruction.fields_of(Field::LabelKey);
            let values = instruction.fields_of(Field::LabelValue);
            for (k, v) in keys.zip(values) {
                let (Ok(k), Ok(v)) = (&k.value, &v.value) else {
                    panic!("LABEL failed to expand: {k:?} {v:?}");
                };
                labels.insert(k.clone(), v.clone());
            }
        }
    }
    (labels, resolved.stages[target].image_env.clone())
}

fn inspect_map(tag: &str, field: &str) -> BTreeMap<String, String> {
    let out = docker(&[
        "image",
        "inspect",
        "-f",
        &format!("{{{{json .Config.{field}}}}}"),
        tag,
    ]);
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    match value {
        serde_json::Value::Object(map) => map
            .into_iter()
            .map(|(k, v)| (k, v.as_str().unwrap().to_owned()))
            .collect(),
        serde_json::Value::Array(items) => items
            .iter()
            .filter_map(|kv| kv.as_str()?.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        _ => BTreeMap::new(),
    }
}

/// Builds every stage of `dockerfile` with `build_args` under each builder in `builders` and
/// compares labels and ENV with `scope::resolve`.
fn check(name: &str, dockerfile: &str, build_args: &[(&str, &str)], builders: &[bool]) {
    require_engine();
    let df = parse(dockerfile).unwrap();
    let mut args = BuildArgs::new();
    for (k, v) in build_args {
        args = args.arg(k, v);
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Dockerfile"), dockerfile).unwrap();
    let resolved = resolve_with(&df, &args, &EngineImages);
    for target in 0..resolved.stages.len() {
        let stage_name = resolved.stages[target]
            .stage
            .name
            .clone()
            .expect("named stages");
        let (want_labels, want_env) = expected(&resolved, target);
        for &buildkit in builders {
            let tag = format!(
                "kasane-e2e-dockerfile-scope-{name}-{stage_name}-{}",
                if buildkit { "bk" } else { "legacy" }
            );
            let mut cmd = Command::new(DOCKER);
            cmd.env("DOCKER_BUILDKIT", if buildkit { "1" } else { "0" })
                .args(["build", "-q", "-t", &tag, "--target", &stage_name]);
            for (k, v) in build_args {
                cmd.args(["--build-arg", &format!("{k}={v}")]);
            }
            let out = cmd.arg(dir.path()).output().unwrap();
            assert!(
                out.status.success(),
                "build of {stage_name} failed (buildkit={buildkit}): {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let got_labels = inspect_map(&tag, "Labels");
            let got_env = inspect_map(&tag, "Env");
            let _ = Command::new(DOCKER).args(["rmi", "-f", &tag]).output();
            assert_eq!(
                got_labels, want_labels,
                "labels of {stage_name} (buildkit={buildkit}, args {build_args:?})"
            );
            assert_eq!(
                got_env, want_env,
                "ENV of {stage_name} (buildkit={buildkit}, args {build_args:?})"
            );
        }
    }
}

/// Rules today's BuildKit, dockerd 20.10's BuildKit and its legacy builder all share (built on
/// `kasane_testenv::BUSYBOX_IMAGE`).
const SHARED: &str = r#"ARG META=m1
ARG META2=${META}-2
ARG NODEF
ARG OVER=default
FROM kasane-busybox:latest AS base
LABEL a_meta_invisible="[${META:-none}][${META2:-none}]"
ARG META
ARG META2
ARG NODEF
ARG OVER
LABEL b_redeclared="[$META][$META2][${NODEF:-none}][$OVER]"
LABEL c_before_decl="[${LATE:-before}]"
ARG LATE=late
LABEL d_after_decl="[$LATE]"
ENV E1=old
ENV E1=new E2=$E1 "E$LATE"=keyed
LABEL e_env="[$E1][$E2][${Elate:-nokey}]"
ARG STAGEARG=sdefault
ARG CLIONLY
LABEL f_build_args="[$STAGEARG][${CLIONLY:-none}][${UNDECLARED:-none}]"
LABEL "label_$LATE"="$PATH"
ONBUILD ENV OB=onbuild-$E1

FROM base AS child
LABEL g_child_env="[$E1][$E2][${OB:-none}]"

FROM kasane-busybox:latest AS other
LABEL h_other="[${E1:-none}][${LATE:-none}][${META:-none}]"
"#;

#[test]
#[ignore = "e2e: needs the Docker engine (scripts/test runs it)"]
fn shared_scoping_rules_match_the_engine() {
    check("shared", SHARED, &[], &[true, false]);
    check(
        "shared-args",
        SHARED,
        &[
            ("META", "cli-meta"),
            ("OVER", "cli"),
            ("STAGEARG", "scli"),
            ("CLIONLY", "c"),
            ("UNDECLARED", "u"),
        ],
        &[true, false],
    );
}

/// Rules where BuildKit and the legacy builder differ; we follow BuildKit.
const BUILDKIT_ONLY: &str = r#"FROM kasane-busybox:latest AS base
ENV X=env
ARG X=arg
ARG A=a
LABEL i_arg_over_env="[$X]"
LABEL j_proxy="[${HTTP_PROXY:-unset}]"
ARG TARGETPLATFORM
ARG TARGETOS
ARG TARGETARCH
ARG BUILDPLATFORM
ARG BUILDOS
ARG BUILDARCH
LABEL k_platform="[$TARGETPLATFORM][$TARGETOS][$TARGETARCH][$BUILDPLATFORM][$BUILDOS][$BUILDARCH]"

FROM base AS child
LABEL l_child="[$A][$X][$TARGETOS]"
"#;

#[test]
#[ignore = "e2e: needs the Docker engine (scripts/test runs it)"]
fn buildkit_scoping_rules_match_the_engine() {
    check(
        "buildkit",
        BUILDKIT_ONLY,
        &[("HTTP_PROXY", "http://proxy:3128")],
        &[true],
    );
}
