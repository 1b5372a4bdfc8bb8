use std::collections::BTreeSet;

use super::*;

fn graph(text: &str) -> StageGraph {
    graph_with(text, &BuildOptions::default())
}

fn graph_with(text: &str, options: &BuildOptions) -> StageGraph {
    let df = kasane_dockerfile::parse(text).expect("parses");
    stage_graph(&df, options).unwrap_or_else(|e| panic!("graph of {text:?}: {e}"))
}

fn error(text: &str) -> GraphError {
    let df = kasane_dockerfile::parse(text).expect("parses");
    stage_graph(&df, &BuildOptions::default()).expect_err("should fail")
}

fn needed(g: &StageGraph, target: Option<&str>) -> Vec<usize> {
    let t = g.resolve_target(target).unwrap();
    g.needed(t).unwrap().into_iter().collect()
}

/// `(stage, on, reason)` for every stage-to-stage edge.
fn edges(g: &StageGraph) -> Vec<(usize, usize, String)> {
    g.dependencies()
        .iter()
        .filter_map(|d| d.on_stage().map(|on| (d.stage, on, d.reason())))
        .collect()
}

fn images(g: &StageGraph, set: &[usize]) -> Vec<String> {
    let set: BTreeSet<usize> = set.iter().copied().collect();
    g.external_images(&set)
        .into_iter()
        .map(|e| e.reference)
        .collect()
}

#[test]
fn numeric_from_resolves_by_position_even_for_named_stages() {
    // targd drops this dependency: stage 0 has a name, so "0" is not in its map.
    let g = graph(
        "FROM golang:1.22 AS build\nRUN go build -o /app\n\
         FROM alpine AS unused\nRUN true\n\
         FROM scratch\nCOPY --from=0 /app /app\n",
    );
    assert_eq!(needed(&g, None), [0, 2]);
    let d = g.dependencies_of(2).next().unwrap();
    assert!(d.by_index);
    assert_eq!(d.reason(), "COPY --from=0");
    assert_eq!(d.line, 6);
}

#[test]
fn named_references_are_case_insensitive_and_mix_with_indices() {
    let g = graph(
        "FROM alpine AS Build\nRUN true\n\
         FROM alpine\nRUN true\n\
         FROM alpine AS app\nCOPY --from=BUILD /a /a\nCOPY --from=1 /b /b\n",
    );
    assert_eq!(g.stage(0).name.as_deref(), Some("build"));
    assert_eq!(
        edges(&g),
        [
            (2, 0, "COPY --from=BUILD".to_string()),
            (2, 1, "COPY --from=1".to_string())
        ]
    );
    assert_eq!(needed(&g, Some("app")), [0, 1, 2]);
    assert_eq!(needed(&g, Some("build")), [0]);
}

#[test]
fn from_a_stage_with_an_arg_built_name() {
    let text = "ARG FLAVOUR=release\nARG BASE=builder-${FLAVOUR}\n\
                FROM alpine AS builder-release\nRUN echo release\n\
                FROM alpine AS builder-debug\nRUN echo debug\n\
                FROM ${BASE}\nRUN true\n";
    let g = graph(text);
    assert_eq!(needed(&g, None), [0, 2]);
    assert_eq!(g.stage(2).base_written, "${BASE}");
    assert_eq!(
        g.stage(2).base,
        Base::Stage {
            index: 0,
            name: "builder-release".into()
        }
    );

    // --build-arg replaces the default of the ARG it names, and later
    // defaults see it.
    let mut options = BuildOptions::default();
    options.build_args.insert("FLAVOUR".into(), "debug".into());
    let g = graph_with(text, &options);
    assert_eq!(needed(&g, None), [1, 2]);
    options.build_args.clear();
    options
        .build_args
        .insert("BASE".into(), "builder-debug".into());
    assert_eq!(needed(&graph_with(text, &options), None), [1, 2]);
}

#[test]
fn build_args_only_reach_from_through_declared_global_args() {
    let mut options = BuildOptions::default();
    options.build_args.insert("BASE".into(), "x".into());
    let g = graph_with("FROM alpine AS x\nFROM ${BASE:-alpine}\n", &options);
    // BASE is not declared before FROM, so the build arg does not apply.
    assert_eq!(
        g.stage(1).base,
        Base::Image {
            reference: "alpine".into()
        }
    );
}

#[test]
fn args_inside_a_stage_are_not_global() {
    let g = graph("FROM alpine AS a\nARG BASE=a\nFROM ${BASE:-alpine}\n");
    assert_eq!(
        g.stage(1).base,
        Base::Image {
            reference: "alpine".into()
        }
    );
}

#[test]
fn platform_args_are_predefined_for_from() {
    let mut options = BuildOptions {
        platform: Some("linux/arm64".into()),
        ..BuildOptions::default()
    };
    let text = "FROM --platform=$BUILDPLATFORM golang AS build\n\
                FROM alpine AS run-arm64\nFROM alpine AS run-amd64\n\
                FROM run-${TARGETARCH}\nCOPY --from=build /a /a\n";
    let g = graph_with(text, &options);
    assert_eq!(needed(&g, None), [0, 1, 3]);
    assert_eq!(g.stage(0).platform, Some(Platform::host().format()));
    options.platform = Some("linux/amd64".into());
    assert_eq!(needed(&graph_with(text, &options), None), [0, 2, 3]);
}

#[test]
fn targetstage_is_the_target_or_the_last_stage() {
    let text = "ARG X=${TARGETSTAGE}\nFROM alpine AS a\nFROM alpine AS b\nFROM ${X}-img AS c\n";
    let g = graph(text);
    assert_eq!(
        g.stage(2).base,
        Base::Image {
            reference: "c-img".into()
        }
    );
    let options = BuildOptions {
        target: Some("a".into()),
        ..BuildOptions::default()
    };
    let g = graph_with(text, &options);
    assert_eq!(
        g.stage(2).base,
        Base::Image {
            reference: "a-img".into()
        }
    );
}

#[test]
fn copy_from_a_variable_is_refused_as_buildkit_does() {
    let err =
        error("ARG STAGE=build\nFROM alpine AS build\nFROM alpine\nCOPY --from=${STAGE} /a /a\n");
    assert_eq!(
        err,
        GraphError::VariableInCopyFrom {
            line: 4,
            written: "${STAGE}".into()
        }
    );
    assert!(
        err.to_string()
            .contains("variable expansion is not supported for --from")
    );
    assert!(matches!(
        error("FROM alpine AS b\nFROM alpine\nCOPY --from=$b /a /a\n"),
        GraphError::VariableInCopyFrom { .. }
    ));
    // Quotes are removed by the flag parser first, so this is plain `b`.
    let g = graph("FROM alpine AS b\nFROM alpine\nCOPY --from=\"b\" /a /a\n");
    assert_eq!(edges(&g), [(1, 0, "COPY --from=b".to_string())]);
}

#[test]
fn copy_from_an_image_is_an_external_image() {
    let g = graph(
        "FROM golang:1.22 AS build\n\
         FROM alpine:3.20\nCOPY --from=build /a /a\nCOPY --from=nginx:1.27 /etc/nginx /etc/nginx\n\
         COPY --from=ghcr.io/org/tool@sha256:abc /tool /tool\n",
    );
    assert_eq!(
        images(&g, &[0, 1]),
        [
            "golang:1.22",
            "alpine:3.20",
            "nginx:1.27",
            "ghcr.io/org/tool@sha256:abc"
        ]
    );
    assert_eq!(needed(&g, None), [0, 1]);
    assert!(g.warnings().is_empty(), "{:?}", g.warnings());
}

#[test]
fn run_mount_from_is_by_name_only() {
    let g = graph(
        "FROM alpine AS cache\nRUN mkdir /c\n\
         FROM alpine AS other\n\
         FROM alpine\n\
         RUN --mount=type=cache,from=cache,target=/c \\\n  --mount=type=bind,from=0,target=/z true\n",
    );
    assert_eq!(edges(&g), [(2, 0, "RUN --mount=from=cache".to_string())]);
    // `from=0` is not an index for mounts: it is an image called "0".
    assert_eq!(images(&g, &[2]), ["alpine", "0"]);
    assert_eq!(needed(&g, None), [0, 2]);
}

#[test]
fn run_mount_from_variables_and_bad_csv() {
    assert_eq!(
        error("FROM alpine\nRUN --mount=type=bind,from=$X,target=/x true\n"),
        GraphError::VariableInMountFrom {
            line: 2,
            written: "$X".into()
        }
    );
    // A trailing `$` is allowed by BuildKit.
    let g = graph("FROM alpine\nRUN --mount=from=x$,target=/x true\n");
    assert_eq!(images(&g, &[0]), ["alpine", "x$"]);
    // Quoted CSV fields.
    let g = graph("FROM alpine AS a\nFROM alpine\nRUN --mount=\"from=a\",target=/x true\n");
    assert_eq!(edges(&g), [(1, 0, "RUN --mount=from=a".to_string())]);
    assert!(matches!(
        error("FROM alpine\nRUN --mount='type=bind,\"from=a' true\n"),
        GraphError::BadMount { line: 2, .. }
    ));
}

#[test]
fn onbuild_triggers_of_a_stage_base_are_dependencies_of_the_child() {
    let g = graph(
        "FROM alpine AS tools\nRUN echo tools > /t\n\
         FROM alpine AS assets\nRUN echo assets > /a\n\
         FROM alpine AS template\nONBUILD COPY --from=tools /t /t\n\
         ONBUILD RUN --mount=from=assets,target=/m cp /m/a /a\n\
         FROM template AS app\nRUN true\n\
         FROM alpine AS other\n",
    );
    let d: Vec<_> = g
        .dependencies_of(3)
        .map(|d| (d.on_stage(), d.reason(), d.onbuild_of))
        .collect();
    assert_eq!(
        d,
        [
            (Some(2), "FROM template".to_string(), None),
            (Some(0), "ONBUILD COPY --from=tools".to_string(), Some(2)),
            (
                Some(1),
                "ONBUILD RUN --mount=from=assets".to_string(),
                Some(2)
            ),
        ]
    );
    assert_eq!(needed(&g, Some("app")), [0, 1, 2, 3]);
    // The template itself does not run its triggers.
    assert_eq!(needed(&g, Some("template")), [2]);
}

#[test]
fn onbuild_errors_only_matter_when_the_child_is_needed() {
    let text = "FROM alpine AS template\nONBUILD COPY --from=7 /t /t\n\
                FROM template AS child\n\
                FROM alpine AS app\n";
    let g = graph(text);
    assert_eq!(needed(&g, Some("app")), [2]);
    let child = g.resolve_target(Some("child")).unwrap();
    assert_eq!(
        g.needed(child).unwrap_err().to_string(),
        "line 2: COPY --from=7: invalid stage index 7 (the Dockerfile has 3 stages)"
    );
}

#[test]
fn missing_stage_index_is_an_error() {
    assert_eq!(
        error("FROM alpine\nFROM alpine\nCOPY --from=2 /a /a\n").to_string(),
        "line 3: COPY --from=2: invalid stage index 2 (the Dockerfile has 2 stages)"
    );
    assert!(matches!(
        error("FROM alpine\nCOPY --from=-1 /a /a\n"),
        GraphError::StageIndexOutOfRange { index: -1, .. }
    ));
}

#[test]
fn missing_stage_names_become_images_with_a_warning() {
    let g = graph("FROM alpine AS builder\nFROM alpine\nCOPY --from=buildr /a /a\n");
    assert_eq!(images(&g, &[1]), ["alpine", "buildr"]);
    let w: Vec<String> = g.warnings().iter().map(ToString::to_string).collect();
    assert_eq!(
        w,
        [
            "line 3: \"buildr\" is not a stage, so BuildKit will pull it as an image; did you mean \
          stage \"builder\"?"
        ]
    );
}

#[test]
fn from_a_later_stage_is_an_image_with_a_warning() {
    let g = graph("FROM app AS base\nFROM alpine AS app\n");
    assert_eq!(
        g.stage(0).base,
        Base::Image {
            reference: "app".into()
        }
    );
    assert!(matches!(
        g.warnings()[0].kind,
        WarningKind::ForwardFrom { defined_at: 1, .. }
    ));
    // FROM matches names exactly: `Base` is not the stage `base`.
    let g = graph("FROM alpine AS base\nFROM Base\n");
    assert_eq!(
        g.stage(1).base,
        Base::Image {
            reference: "Base".into()
        }
    );
    assert!(matches!(
        g.warnings()[0].kind,
        WarningKind::SimilarStageName { .. }
    ));
}

#[test]
fn copy_from_a_later_stage_is_allowed_and_cycles_are_errors() {
    let g = graph("FROM alpine AS app\nCOPY --from=tool /t /t\nFROM alpine AS tool\n");
    assert_eq!(needed(&g, Some("app")), [0, 1]);
    let err =
        error("FROM alpine AS a\nCOPY --from=b /x /x\nFROM alpine AS b\nCOPY --from=a /y /y\n");
    assert_eq!(
        err.to_string(),
        "circular dependency between stages: a -> b -> a (COPY --from=b (line 2), \
         COPY --from=a (line 4))"
    );
    assert!(matches!(
        error("FROM alpine AS a\nCOPY --from=a /x /x\n"),
        GraphError::Cycle { .. }
    ));
}

#[test]
fn duplicate_names_from_sees_the_latest_earlier_copy_sees_the_last() {
    let g = graph(
        "FROM alpine AS x\nFROM x AS y\nFROM debian AS x\nFROM x AS z\n\
         FROM scratch\nCOPY --from=x /a /a\n",
    );
    assert_eq!(
        edges(&g),
        [
            (1, 0, "FROM x".to_string()),
            (3, 2, "FROM x".to_string()),
            (4, 2, "COPY --from=x".to_string())
        ]
    );
    assert!(matches!(
        g.warnings()[0].kind,
        WarningKind::DuplicateStageName { first: 0, .. }
    ));
}

#[test]
fn scratch_is_no_image() {
    let g = graph("FROM scratch AS a\nFROM a\n");
    assert_eq!(g.stage(0).base, Base::Scratch);
    assert!(images(&g, &[0, 1]).is_empty());
}

#[test]
fn malformed_dockerfiles_are_clear_errors() {
    assert_eq!(error("ARG X=1\n"), GraphError::NoStages);
    assert_eq!(
        error("RUN true\nFROM alpine\n").to_string(),
        "line 1: RUN before the first FROM: only ARG may come before it"
    );
    assert_eq!(
        error("FROM alpine AS\n"),
        GraphError::FromArguments { line: 1 }
    );
    assert_eq!(
        error("FROM alpine foo bar\n"),
        GraphError::FromArguments { line: 1 }
    );
    assert_eq!(
        error("FROM alpine AS 1st\n").to_string(),
        "line 1: invalid name for build stage: \"1st\", name can't start with a number or \
         contain symbols"
    );
    assert_eq!(
        error("ARG BASE\nFROM ${BASE}\n").to_string(),
        "line 2: base name (${BASE}) should not be blank"
    );
    assert!(matches!(
        error("FROM ${BASE:?required}\n"),
        GraphError::Expand { line: 1, .. }
    ));
}

#[test]
fn stage_instruction_ranges_cover_the_file() {
    let df =
        kasane_dockerfile::parse("ARG A\nFROM alpine\nRUN a\nFROM alpine\nRUN b\nRUN c\n").unwrap();
    let g = stage_graph(&df, &BuildOptions::default()).unwrap();
    assert_eq!(g.stage(0).instructions, 1..3);
    assert_eq!(g.stage(1).instructions, 3..6);
}

#[test]
fn csv_fields_follow_go() {
    assert_eq!(csv_fields("a=1,b=2").unwrap(), ["a=1", "b=2"]);
    assert_eq!(csv_fields("\"a=1,2\",b").unwrap(), ["a=1,2", "b"]);
    assert_eq!(csv_fields("\"a\"\"b\"").unwrap(), ["a\"b"]);
    assert_eq!(csv_fields("").unwrap(), [""]);
    assert!(csv_fields("\"a").is_err());
    assert!(csv_fields("\"a\"b").is_err());
}
