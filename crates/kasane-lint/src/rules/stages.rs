//! Checks on stages: FROM (with ARG values resolved), stage names, `--from` references,
//! the final USER and stages nobody needs.

use std::collections::HashMap;

use kasane_dockerfile::{Arguments, InstructionKind};

use super::{keyword_span, list_words, suggest};
use crate::config::registry_trusted;
use crate::diagnostic::{Applicability, Edit, Fix, Span};
use crate::engine::Sink;
use crate::model::{Model, Stage, span};
use crate::registry as r;

pub(crate) fn check(model: &Model<'_>, sink: &mut Sink<'_>) {
    let mut names: HashMap<&str, usize> = HashMap::new();
    for st in &model.stages {
        from_checks(model, st, sink);
        if let (Some(name), Some(word)) = (st.name, st.name_word) {
            if let Some(&first) = names.get(name) {
                let note = sink.note(
                    span(
                        model.stages[first]
                            .name_word
                            .map_or(model.stages[first].from_instr.span, |w| w.span),
                    ),
                    "first defined here",
                );
                sink.report(
                    r::DUPLICATE_STAGE_NAME,
                    span(word.span),
                    format!("stage name `{name}` is already used"),
                )
                .notes
                .push(note);
            } else {
                names.insert(name, st.index);
            }
            if name == "scratch" || name == "context" {
                sink.report(
                    r::RESERVED_STAGE_NAME,
                    span(word.span),
                    format!("`{name}` is a reserved name and cannot name a stage"),
                );
            }
        }
        stage_instructions(model, st, sink);
        multiple_instructions(model, st, sink);
    }
    last_user_root(model, sink);
    unused_stages(model, sink);
}

/// The parts of an image reference.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ImageRef<'a> {
    pub registry: Option<&'a str>,
    pub path: &'a str,
    pub tag: Option<&'a str>,
    pub digest: Option<&'a str>,
}

/// Splits `[registry/]path[:tag][@digest]`.
pub(crate) fn parse_image(reference: &str) -> ImageRef<'_> {
    let (rest, digest) = match reference.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (reference, None),
    };
    let last_slash = rest.rfind('/');
    let (rest, tag) = match rest.rfind(':') {
        Some(c) if last_slash.is_none_or(|s| c > s) => (&rest[..c], Some(&rest[c + 1..])),
        _ => (rest, None),
    };
    let (registry, path) = match rest.split_once('/') {
        Some((first, p)) if first.contains(['.', ':']) || first == "localhost" => (Some(first), p),
        _ => (None, rest),
    };
    ImageRef {
        registry,
        path,
        tag,
        digest,
    }
}

/// A loose validity test of a reference (BuildKit uses the distribution grammar).
fn valid_reference(reference: &str) -> bool {
    if reference.is_empty() || reference.contains(char::is_whitespace) {
        return false;
    }
    let r = parse_image(reference);
    let path_ok = !r.path.is_empty()
        && r.path.split('/').all(|c| {
            !c.is_empty()
                && c.chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || "._-".contains(ch))
                && c.chars()
                    .next()
                    .is_some_and(|ch| ch.is_ascii_alphanumeric())
        });
    let tag_ok = r.tag.is_none_or(|t| {
        !t.is_empty()
            && t.len() <= 128
            && t.chars()
                .all(|ch| ch.is_ascii_alphanumeric() || "._-".contains(ch))
            && !t.starts_with(['.', '-'])
    });
    let digest_ok = r.digest.is_none_or(|d| d.contains(':') && d.len() > 7);
    path_ok && tag_ok && digest_ok
}

fn from_checks(model: &Model<'_>, st: &Stage<'_>, sink: &mut Sink<'_>) {
    let Some(word) = st.image_word else {
        return;
    };
    let word_span = span(word.span);
    if !st.undeclared_in_image.is_empty() {
        let meta_names = &model.scope.meta_declared;
        for name in &st.undeclared_in_image {
            let mut msg =
                format!("FROM uses `${name}`, which no ARG before the first FROM declares");
            if let Some(s) = suggest(name, meta_names.iter().map(String::as_str)) {
                msg.push_str(&format!(" (did you mean `{s}`?)"));
            }
            sink.report(r::UNDEFINED_ARG_IN_FROM, word_span, msg);
        }
    }
    if let Some(p) = st.platform {
        platform_checks(st, p, sink);
    }
    let Some(image) = st.image else {
        return;
    };
    let uses_vars = word.value.contains('$');
    // What the ARGs were resolved with.
    let values = if sink.config.build_args.is_empty() {
        "the ARG defaults"
    } else {
        "the build args and ARG defaults"
    };
    if uses_vars && !valid_reference(image) && st.undeclared_in_image.is_empty() {
        let shown = if image.is_empty() {
            "an empty reference".to_owned()
        } else {
            format!("`{image}`")
        };
        sink.report(
            r::INVALID_DEFAULT_ARG_IN_FROM,
            word_span,
            format!("with {values} this FROM gives {shown}"),
        );
        return;
    }
    // BuildKit looks a base up among the (lowercased) stage names exactly, so `FROM Build`
    // after `AS build` is an image reference, and an invalid one (moby/buildkit#2003).
    let lower = image.to_lowercase();
    if st.base.is_none()
        && lower != image
        && model.stages[..st.index]
            .iter()
            .any(|s| s.name == Some(lower.as_str()))
    {
        sink.report(
            r::PARSE_ERROR,
            word_span,
            format!(
                "`{image}` is not the stage `{lower}`: BuildKit compares a base with the lowercased stage names exactly, reads `{image}` as an image reference and fails (repository names must be lowercase); write `FROM {lower}`"
            ),
        );
        return;
    }
    if st.base.is_some() || image.eq_ignore_ascii_case("scratch") || image.is_empty() {
        return;
    }
    let reference = parse_image(image);
    let resolved = if uses_vars {
        format!(" (`{image}` with {values})")
    } else {
        String::new()
    };
    if reference.tag.is_none() && reference.digest.is_none() {
        sink.report(
            r::UNTAGGED_IMAGE,
            word_span,
            format!(
                "base image `{image}` has no tag, so it means `:latest`{}",
                if uses_vars { resolved.as_str() } else { "" }
            ),
        );
    } else if reference.tag == Some("latest") && reference.digest.is_none() {
        sink.report(
            r::LATEST_TAG,
            word_span,
            format!("base image uses the `latest` tag{resolved}; pin a release"),
        );
    }
    let trusted = &sink.config.trusted_registries;
    if !trusted.is_empty() {
        let host = reference.registry.unwrap_or("docker.io");
        if !registry_trusted(host, trusted) {
            sink.report(
                r::UNTRUSTED_REGISTRY,
                word_span,
                format!("registry `{host}` is not in the trusted list"),
            );
        }
    }
}

fn platform_checks(st: &Stage<'_>, p: &kasane_dockerfile::Flag, sink: &mut Sink<'_>) {
    let value = p.value.as_deref().unwrap_or_default();
    let s = span(p.span);
    if value == "$TARGETPLATFORM" || value == "${TARGETPLATFORM}" {
        // Delete the flag and the blank after it.
        sink.report(
            r::REDUNDANT_TARGET_PLATFORM,
            s,
            "--platform=$TARGETPLATFORM is the default and can go",
        )
        .fix = Some(Fix::new(
            "remove the flag",
            Applicability::Safe,
            vec![Edit::delete(Span::new(s.start, s.end + 1))],
        ));
    } else if !value.contains('$') && !value.is_empty() {
        let name = st.name.unwrap_or_default();
        let mentioned = value
            .split('/')
            .any(|part| !part.is_empty() && name.contains(&part.to_ascii_lowercase()));
        if !mentioned {
            sink.report(
                r::FROM_PLATFORM_CONST,
                s,
                format!(
                    "--platform={value} is fixed: the stage ignores the platform the build asks for"
                ),
            );
        }
    }
}

/// Checks on instructions that need the stage: `COPY --from` references.
fn stage_instructions(model: &Model<'_>, st: &Stage<'_>, sink: &mut Sink<'_>) {
    for i in st.from + 1..st.end {
        let ins = &model.instrs[i];
        if ins.kind != InstructionKind::Copy {
            continue;
        }
        let Some(flag) = ins.flag("from") else {
            continue;
        };
        let Some(value) = flag.value.as_deref() else {
            continue;
        };
        if value.contains('$') || value.is_empty() {
            continue;
        }
        let fspan = span(flag.span);
        let lower = value.to_lowercase();
        if st.name == Some(lower.as_str()) {
            sink.report(
                r::COPY_FROM_SELF,
                fspan,
                format!("--from={value} names the stage this COPY is in"),
            );
            continue;
        }
        let target = model.stage_ref(value, st.from);
        if let Ok(n) = value.parse::<usize>() {
            if n >= st.index {
                sink.report(
                    r::COPY_FROM_UNKNOWN,
                    fspan,
                    format!(
                        "--from={n}: stage {n} is not an earlier stage (this is stage {})",
                        st.index
                    ),
                );
            }
        } else if target.is_none() && !value.contains(['/', ':', '.', '@']) {
            let names: Vec<&str> = model.stages.iter().filter_map(|s| s.name).collect();
            let mut msg = format!(
                "--from={value} names no earlier stage, so BuildKit pulls the image `docker.io/library/{lower}`"
            );
            if let Some(s) = suggest(&lower, names.iter().copied()) {
                msg.push_str(&format!("; did you mean `{s}`?"));
            }
            sink.report(r::COPY_FROM_UNKNOWN, fspan, msg);
        }
        // DL3067: copying a whole filesystem from another stage.
        let words = list_words(ins);
        if words.len() >= 2 {
            for src in &words[..words.len() - 1] {
                if matches!(src.value.as_str(), "/" | "/." | "/*") {
                    sink.report(
                        r::COPY_WHOLE_STAGE,
                        span(src.span),
                        format!("copies the whole filesystem of `{value}`; copy only what the image needs"),
                    );
                }
            }
        }
    }
}

/// MultipleInstructionsDisallowed: earlier CMD, ENTRYPOINT and HEALTHCHECK of a stage are
/// overridden by the last one.
fn multiple_instructions(model: &Model<'_>, st: &Stage<'_>, sink: &mut Sink<'_>) {
    for (kind, alias) in [
        (InstructionKind::Cmd, "DL4003"),
        (InstructionKind::Entrypoint, "DL4004"),
        (InstructionKind::Healthcheck, "DL3012"),
    ] {
        let all: Vec<usize> = (st.from + 1..st.end)
            .filter(|&i| model.instrs[i].kind == kind)
            .collect();
        let Some((&last, earlier)) = all.split_last() else {
            continue;
        };
        for &i in earlier {
            let ins = &model.instrs[i];
            let note = sink.note(keyword_span(&model.instrs[last]), "this one takes effect");
            let f = sink.report(
                r::MULTIPLE_INSTRUCTIONS,
                keyword_span(ins),
                format!("this {kind} has no effect: a later {kind} in the stage replaces it"),
            );
            f.aliases = vec!["MultipleInstructionsDisallowed", alias];
            f.notes.push(note);
            f.fix = Some(Fix::new(
                format!("remove the overridden {kind}"),
                Applicability::Safe,
                vec![Edit::delete(span(ins.extent))],
            ));
        }
    }
}

fn is_root(user: &str) -> bool {
    let name = user.split(':').next().unwrap_or_default();
    name == "root" || name == "0"
}

/// DL3002: only the final stage's last USER matters (following its FROM chain).
fn last_user_root(model: &Model<'_>, sink: &mut Sink<'_>) {
    let mut cur = model.stages.last().map(|s| s.index);
    while let Some(si) = cur {
        let st = &model.stages[si];
        let last_user = (st.from + 1..st.end)
            .rev()
            .find(|&i| model.instrs[i].kind == InstructionKind::User);
        if let Some(i) = last_user {
            let ins = &model.instrs[i];
            if let Arguments::Text(w) = &ins.args {
                let value = model.expand(i, &w.value);
                if is_root(value.trim()) {
                    sink.report(
                        r::LAST_USER_ROOT,
                        span(w.span),
                        "the image runs as root: its last USER is root",
                    );
                }
            }
            return;
        }
        cur = st.base;
    }
}

/// Stage names that look like build targets chosen with `--target`.
fn looks_like_target(name: &str) -> bool {
    const WORDS: &[&str] = &[
        "test",
        "lint",
        "dev",
        "debug",
        "ci",
        "check",
        "doc",
        "bench",
        "e2e",
        "local",
        "release",
        "prod",
        "final",
        "export",
        "artifact",
        "package",
        "publish",
        "deploy",
        "run",
        "image",
        "app",
        "server",
        "client",
        "web",
        "api",
        "worker",
        "slim",
        "full",
        "min",
        "alpine",
        "debian",
        "ubuntu",
        "windows",
        "linux",
        "gpu",
        "cpu",
        "cuda",
        "standalone",
        "all",
        "bin",
        "dist",
        "out",
        "output",
        "base",
        "stage",
        "staging",
        "demo",
        "sample",
        "example",
        "tool",
        "cli",
        "service",
        "daemon",
        "nginx",
        "backend",
        "frontend",
        "docs",
        "unit",
        "integration",
    ];
    WORDS.iter().any(|w| name.contains(w))
}

fn unused_stages(model: &Model<'_>, sink: &mut Sink<'_>) {
    if model.stages.len() < 2 {
        return;
    }
    let needed = model.needed_by_final();
    for st in &model.stages {
        if needed.contains(&st.index) {
            continue;
        }
        if st.name.is_some_and(looks_like_target) {
            continue;
        }
        let what = st
            .name
            .map_or_else(|| format!("stage {}", st.index), |n| format!("stage `{n}`"));
        let last = &model.instrs[st.end - 1];
        let start = st.from_instr.extent.start.offset;
        let end = last.extent.end.offset;
        sink.report(
            r::UNUSED_STAGE,
            keyword_span(st.from_instr),
            format!("{what} is not needed by the final stage: BuildKit skips it, the legacy builder builds it for nothing"),
        )
        .fix = Some(Fix::new(
            format!("remove {what}"),
            Applicability::Unsafe,
            vec![Edit::delete(Span::new(start, end))],
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_references() {
        let r = parse_image("registry.example.com:5000/team/app:1.2@sha256:abc");
        assert_eq!(r.registry, Some("registry.example.com:5000"));
        assert_eq!(r.path, "team/app");
        assert_eq!(r.tag, Some("1.2"));
        assert_eq!(r.digest, Some("sha256:abc"));
        let r = parse_image("localhost:5000/app");
        assert_eq!(
            (r.registry, r.path, r.tag),
            (Some("localhost:5000"), "app", None)
        );
        let r = parse_image("debian");
        assert_eq!((r.registry, r.tag), (None, None));
        assert!(valid_reference("debian:bookworm"));
        assert!(!valid_reference("debian:"));
        assert!(!valid_reference(""));
        assert!(!valid_reference("Debian"));
        assert!(!valid_reference(":1.2"));
    }
}
