//! The GitHub Actions plan: a workflow whose job builds one stage per step
//! with `docker/build-push-action` and the `gha` cache backend.

use yaml_rust2::YamlEmitter;
use yaml_rust2::yaml::{Hash, Yaml};

use super::{Mode, PlanRequest, PlannedStage, header_comment, targetable, untargetable_note};

fn s(text: impl Into<String>) -> Yaml {
    Yaml::String(text.into())
}

fn map(pairs: Vec<(&str, Yaml)>) -> Yaml {
    let mut h = Hash::new();
    for (k, v) in pairs {
        h.insert(s(k), v);
    }
    Yaml::Hash(h)
}

/// A cache scope per stage: scopes do not share an index, so parallel or
/// successive targets never overwrite each other's cache.
fn scope(request: &PlanRequest<'_>, stage: &str) -> String {
    let repo: String = request
        .image
        .repository
        .rsplit('/')
        .next()
        .unwrap_or("image")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("{repo}-{stage}")
}

pub(super) fn render(request: &PlanRequest<'_>, stages: &[PlannedStage]) -> String {
    let built = targetable(request, stages);
    let mut steps = vec![
        map(vec![("uses", s("actions/checkout@v4"))]),
        map(vec![
            (
                "name",
                s("Set up Docker Buildx (the gha cache needs a docker-container builder)"),
            ),
            ("uses", s("docker/setup-buildx-action@v3")),
        ]),
    ];
    for stage in &built {
        let is_target = stage.index == request.target;
        let mut with: Vec<(&str, Yaml)> = vec![
            ("context", s(request.context.clone())),
            ("file", s(request.dockerfile.clone())),
        ];
        if let Some(name) = &request.graph.stage(stage.index).name {
            with.push(("target", s(name.clone())));
        }
        if !request.build_args.is_empty() {
            let lines: Vec<String> = request
                .build_args
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            with.push(("build-args", s(lines.join("\n"))));
        }
        if !request.platforms.is_empty() {
            with.push(("platforms", s(request.platforms.join(","))));
        }
        let from: Vec<String> = stage
            .needs
            .iter()
            .filter_map(|n| built.iter().find(|p| p.index == *n))
            .map(|p| format!("type=gha,scope={}", scope(request, &p.name)))
            .collect();
        with.push(("cache-from", s(from.join("\n"))));
        with.push((
            "cache-to",
            s(format!(
                "type=gha,scope={},mode=max",
                scope(request, &stage.name)
            )),
        ));
        if is_target {
            let mut tags = vec![stage.tag.clone()];
            tags.extend(request.tags.iter().cloned());
            with.push(("tags", s(tags.join("\n"))));
            with.push(("push", Yaml::Boolean(request.push)));
            if !request.push && request.platforms.len() <= 1 {
                with.push(("load", Yaml::Boolean(true)));
            }
        } else {
            with.push(("outputs", s("type=cacheonly")));
        }
        let title = if is_target {
            format!("Build {} (the target)", stage.name)
        } else {
            format!("Cache stage {}", stage.name)
        };
        steps.push(map(vec![
            ("name", s(title)),
            ("uses", s("docker/build-push-action@v6")),
            ("with", map(with)),
        ]));
    }
    let workflow = map(vec![
        ("name", s("build")),
        ("on", Yaml::Array(vec![s("push"), s("workflow_dispatch")])),
        (
            "jobs",
            map(vec![(
                "build",
                map(vec![
                    ("runs-on", s("ubuntu-latest")),
                    ("steps", Yaml::Array(steps)),
                ]),
            )]),
        ),
    ]);
    let mut out = header_comment(request, Mode::Gha, stages);
    out.push_str(
        "#\n# Copy the steps into your job, or use the file as .github/workflows/build.yml.\n\
         # Each stage is a step with its own gha cache scope (mode=max).\n",
    );
    out.push_str(&untargetable_note(request, stages, "targeted"));
    if request.push {
        out.push_str("# Pushing needs a registry login first (docker/login-action).\n");
    }
    let mut body = String::new();
    let mut emitter = YamlEmitter::new(&mut body);
    emitter.multiline_strings(true);
    emitter
        .dump(&workflow)
        .expect("writing YAML to a String cannot fail");
    out.push_str(&body);
    out.push('\n');
    out
}
