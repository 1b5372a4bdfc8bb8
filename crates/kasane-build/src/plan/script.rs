//! The bash plans: `legacy`, `inline` and `registry`.
//!
//! Every script runs under `set -euo pipefail` and builds one stage at a time,
//! so a failed build or push stops it with that command's status (castage ran
//! builds in the background behind a bare `wait`, which hides failures). A
//! cache image that does not exist yet is no error: the legacy plan's pull
//! says so and goes on, and BuildKit ignores a `--cache-from` it cannot
//! import.

use super::{Mode, PlanError, PlanRequest, PlannedStage, header_comment};
use crate::shell::quote;

/// Bash text built line by line.
struct Script {
    text: String,
}

impl Script {
    fn new(request: &PlanRequest<'_>, mode: Mode, stages: &[PlannedStage]) -> Self {
        let mut text = String::from("#!/usr/bin/env bash\n");
        text.push_str(&header_comment(request, mode, stages));
        Script { text }
    }

    fn line(&mut self, line: &str) {
        self.text.push_str(line);
        self.text.push('\n');
    }

    fn comment(&mut self, line: &str) {
        self.line(&format!("# {line}"));
    }

    /// A command, each word quoted except the shell expressions we wrote;
    /// a long one with one option (and its value) a line.
    fn command(&mut self, words: &[Word]) {
        let rendered: Vec<String> = words.iter().map(Word::render).collect();
        let one_line = rendered.join(" ");
        if one_line.len() <= 100 {
            self.line(&one_line);
            return;
        }
        // `docker build` then one option (with its value) per line.
        let mut lines: Vec<String> = Vec::new();
        let mut iter = rendered.into_iter().peekable();
        let mut head = Vec::new();
        while let Some(w) = iter.peek() {
            if w.starts_with('-') {
                break;
            }
            head.push(iter.next().unwrap_or_default());
        }
        lines.push(head.join(" "));
        while let Some(w) = iter.next() {
            let mut l = w.clone();
            let takes_value = w.starts_with('-')
                && !w.contains('=')
                && !FLAGS_WITHOUT_VALUE.contains(&w.as_str());
            if takes_value && let Some(v) = iter.next() {
                l.push(' ');
                l.push_str(&v);
            }
            lines.push(l);
        }
        self.line(&lines.join(" \\\n  "));
    }

    fn blank(&mut self) {
        self.text.push('\n');
    }
}

const FLAGS_WITHOUT_VALUE: [&str; 3] = ["--push", "--load", "--pull"];

/// A command word: quoted unless it is a shell expression we wrote.
enum Word {
    Text(String),
    Shell(&'static str),
}

impl Word {
    fn render(&self) -> String {
        match self {
            Word::Text(t) => quote(t),
            Word::Shell(s) => (*s).to_string(),
        }
    }
}

fn t(s: impl Into<String>) -> Word {
    Word::Text(s.into())
}

/// The Dockerfile the builds name with `-f`: the original, or the embedded
/// copy written to a temporary file.
fn dockerfile_word(request: &PlanRequest<'_>) -> Word {
    match request.prepared {
        Some(_) => Word::Shell("\"$dockerfile\""),
        None => t(request.dockerfile.clone()),
    }
}

/// Writes the prepared Dockerfile (if any) to a temporary file, after
/// checking that the original has not changed since the plan was made.
fn embed_prepared(script: &mut Script, request: &PlanRequest<'_>) {
    let Some(prepared) = &request.prepared else {
        return;
    };
    script.comment(&format!(
        "The builds use a copy of {}, embedded below:",
        request.dockerfile
    ));
    if prepared.pruned {
        script.comment("  - without the stages the target does not need (the legacy builder");
        script.comment("    builds every stage before --target);");
    }
    if prepared.named {
        script.comment("  - with names for unnamed stages (--target takes names only).");
    }
    script.comment("The plan refuses to run once the original has changed.");
    let original = quote(&request.dockerfile);
    // GNU coreutils, or the Perl tool macOS has.
    script.line(&format!(
        "sum=$( (sha256sum 2>/dev/null || shasum -a 256) < {original})"
    ));
    script.line(&format!(
        "if [ \"${{sum%% *}}\" != {} ]; then",
        quote(&prepared.original_sha256)
    ));
    script.line(&format!(
        "  echo {} >&2",
        quote(&format!(
            "kasane: {} changed since this plan was made; make it again with kasane cache-plan",
            request.dockerfile
        ))
    ));
    script.line("  exit 1");
    script.line("fi");
    script.line("dockerfile=$(mktemp)");
    script.line("trap 'rm -f \"$dockerfile\"' EXIT");
    let mut delimiter = String::from("KASANE_DOCKERFILE");
    while prepared.text.lines().any(|l| l == delimiter) {
        delimiter.push('_');
    }
    script.line(&format!("cat > \"$dockerfile\" <<'{delimiter}'"));
    script.text.push_str(&prepared.text);
    if !prepared.text.ends_with('\n') {
        script.text.push('\n');
    }
    script.line(&delimiter);
    script.blank();
}

/// Options every `docker build` of the plan shares.
fn common_build_options(request: &PlanRequest<'_>, words: &mut Vec<Word>) {
    for (k, v) in &request.build_args {
        words.push(t("--build-arg"));
        words.push(t(format!("{k}={v}")));
    }
    if !request.platforms.is_empty() {
        words.push(t("--platform"));
        words.push(t(request.platforms.join(",")));
    }
}

/// Tags of stage `s`: its stage tag, plus the extra tags for the target.
fn tags_of(request: &PlanRequest<'_>, s: &PlannedStage) -> Vec<String> {
    let mut tags = vec![s.tag.clone()];
    if s.index == request.target {
        tags.extend(request.tags.iter().cloned());
    }
    tags
}

fn push_lines(script: &mut Script, request: &PlanRequest<'_>, s: &PlannedStage) {
    if request.push {
        for tag in tags_of(request, s) {
            script.command(&[t("docker"), t("push"), t(tag)]);
        }
    }
}

/// The legacy builder plan (castage's classic mode, corrected).
pub(super) fn legacy(request: &PlanRequest<'_>, stages: &[PlannedStage]) -> String {
    let mut script = Script::new(request, Mode::Legacy, stages);
    script.comment(
        "Each stage is pulled (if it was pushed before), built with --target and --cache-from",
    );
    script.comment("of itself and every stage before it, tagged, and pushed (with --push).");
    script.line("set -euo pipefail");
    script.line("export DOCKER_BUILDKIT=0");
    script.blank();
    embed_prepared(&mut script, request);
    pull_cache_function(&mut script);
    // The legacy builder builds every stage before --target, in file order,
    // so the cache sources are all stages up to this one in file order.
    let mut in_file_order: Vec<&PlannedStage> = stages.iter().collect();
    in_file_order.sort_by_key(|s| s.index);
    for (n, s) in in_file_order.iter().enumerate() {
        script.blank();
        script.comment(&stage_comment(s));
        script.command(&[t("pull_cache"), t(s.tag.clone())]);
        let mut words = vec![t("docker"), t("build"), t("-f"), dockerfile_word(request)];
        words.extend([t("--target"), t(s.name.clone())]);
        for tag in tags_of(request, s) {
            words.extend([t("-t"), t(tag)]);
        }
        for earlier in &in_file_order[..=n] {
            words.extend([t("--cache-from"), t(earlier.tag.clone())]);
        }
        common_build_options(request, &mut words);
        words.push(t(request.context.clone()));
        script.command(&words);
        push_lines(&mut script, request, s);
    }
    script.text
}

/// The BuildKit inline-cache plan.
pub(super) fn inline(request: &PlanRequest<'_>, stages: &[PlannedStage]) -> String {
    let mut script = Script::new(request, Mode::Inline, stages);
    script.comment("Each stage is built with BuildKit, its image carrying inline cache metadata");
    script
        .comment("(BUILDKIT_INLINE_CACHE=1), importing the cache images of every stage it needs,");
    script.comment("and pushed (with --push) so the next run, on any machine, can import it.");
    script.line("set -euo pipefail");
    script.line("export DOCKER_BUILDKIT=1");
    script.blank();
    embed_prepared(&mut script, request);
    script
        .comment("The cache images are pulled first (a missing one is fine): BuildKit in dockerd");
    script
        .comment("drops cache records of steps it took from a remote inline cache when it exports");
    script.comment("the cache again, so without local copies every second run would miss");
    script.comment("(moby/buildkit#1981, #1992; seen on dockerd 20.10).");
    pull_cache_function(&mut script);
    for s in stages {
        script.command(&[t("pull_cache"), t(s.tag.clone())]);
    }
    script.blank();
    let tag_of = |i: usize| {
        stages
            .iter()
            .find(|p| p.index == i)
            .map(|p| p.tag.clone())
            .unwrap_or_default()
    };
    for s in stages {
        script.comment(&stage_comment(s));
        let mut words = vec![t("docker"), t("build"), t("-f"), dockerfile_word(request)];
        words.extend([t("--target"), t(s.name.clone())]);
        for tag in tags_of(request, s) {
            words.extend([t("-t"), t(tag)]);
        }
        words.extend([t("--build-arg"), t("BUILDKIT_INLINE_CACHE=1")]);
        for &need in &s.needs {
            words.extend([t("--cache-from"), t(tag_of(need))]);
        }
        common_build_options(request, &mut words);
        words.push(t(request.context.clone()));
        script.command(&words);
        push_lines(&mut script, request, s);
        script.blank();
    }
    script.text
}

/// The buildx registry-cache plan: one build, one `mode=max` cache ref.
pub(super) fn registry(
    request: &PlanRequest<'_>,
    stages: &[PlannedStage],
) -> Result<String, PlanError> {
    let mut script = Script::new(request, Mode::Registry, stages);
    let cache = request.image.tag_for("buildcache")?;
    let target = stages
        .iter()
        .find(|s| s.index == request.target)
        .expect("the target is planned");
    script
        .comment("One build; its registry cache is exported with mode=max, which keeps the layers");
    script.comment(&format!(
        "of every intermediate step of every stage above, named or not, in {cache}."
    ));
    script.comment(
        "Registry cache export needs a docker-container builder; one is created if missing.",
    );
    script.line("set -euo pipefail");
    script.blank();
    script.line("builder=kasane-cache");
    script.line(
        "docker buildx inspect \"$builder\" >/dev/null 2>&1 || docker buildx create --name \"$builder\" --driver docker-container >/dev/null",
    );
    let mut words = vec![
        t("docker"),
        t("buildx"),
        t("build"),
        t("--builder"),
        Word::Shell("\"$builder\""),
        t("-f"),
        t(request.dockerfile.clone()),
    ];
    if let Some(name) = &request.graph.stage(request.target).name {
        words.extend([t("--target"), t(name.clone())]);
    }
    for tag in tags_of(request, target) {
        words.extend([t("-t"), t(tag)]);
    }
    words.extend([
        t("--cache-from"),
        t(format!("type=registry,ref={cache}")),
        t("--cache-to"),
        t(format!("type=registry,ref={cache},mode=max")),
    ]);
    common_build_options(request, &mut words);
    if request.push {
        words.push(t("--push"));
    } else if request.platforms.len() <= 1 {
        words.push(t("--load"));
    } else {
        // Several platforms cannot be loaded into the engine: cache only.
        words.extend([t("--output"), t("type=cacheonly")]);
    }
    words.push(t(request.context.clone()));
    script.blank();
    script.command(&words);
    Ok(script.text)
}

/// `pull_cache IMAGE`: pulls it, or says it is not there yet and goes on.
fn pull_cache_function(script: &mut Script) {
    script.line("pull_cache() {");
    script.line(
        "  docker pull \"$1\" || echo \"kasane: no cache image $1 yet (first run?); building without it\" >&2",
    );
    script.line("}");
}

fn stage_comment(s: &PlannedStage) -> String {
    format!(
        "stage {}: {}{}",
        s.index,
        s.name,
        if s.unnamed { " (unnamed)" } else { "" }
    )
}
