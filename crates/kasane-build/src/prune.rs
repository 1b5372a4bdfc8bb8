//! Pruning a Dockerfile to the stages a target needs, for builders that would
//! otherwise build every stage before the target (the legacy builder).
//!
//! The result is the input with whole stages cut out: a stage is its `FROM`,
//! the comment lines directly above it, and everything up to the next stage.
//! Parser directives, global ARGs, comments, blank lines, line continuations
//! and heredocs of the kept stages stay byte for byte. Numeric `COPY
//! --from=N` references (also in ONBUILD triggers) are renumbered to the
//! stage's new position; names need no change.

use std::collections::{BTreeMap, BTreeSet};

use kasane_dockerfile::{
    Arguments, Dockerfile, EditError, Element, Instruction, InstructionKind, Rewrite, TriviaKind,
};

use crate::GraphError;
use crate::graph::StageGraph;

/// Why a Dockerfile could not be pruned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PruneError {
    /// The stage graph is broken, or the target unknown.
    #[error(transparent)]
    Graph(#[from] GraphError),
    /// The edits could not be applied (a bug: they are computed from the tree).
    #[error("could not rewrite the Dockerfile: {0}")]
    Edit(#[from] EditError),
}

/// A pruned Dockerfile and what changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pruned {
    /// The new text.
    pub text: String,
    /// Stages kept, by their index in the input.
    pub kept: Vec<usize>,
    /// Stages removed, by their index in the input.
    pub removed: Vec<usize>,
    /// Numeric references rewritten: (line in the input, old, new).
    pub renumbered: Vec<(u32, usize, usize)>,
    /// Unnamed stages given a name: (index in the input, name).
    pub named: Vec<(usize, String)>,
}

/// Keeps the stages `target` needs.
pub fn prune(df: &Dockerfile, graph: &StageGraph, target: usize) -> Result<Pruned, PruneError> {
    let keep = graph.needed(target)?;
    prune_with_names(df, graph, &keep, &BTreeMap::new())
}

/// Keeps the stages in `keep` and names the unnamed ones listed in `names`
/// (`FROM image AS name`), so that a builder can target them.
pub fn prune_with_names(
    df: &Dockerfile,
    graph: &StageGraph,
    keep: &BTreeSet<usize>,
    names: &BTreeMap<usize, String>,
) -> Result<Pruned, PruneError> {
    let stages = graph.stages();
    let regions = stage_regions(df, graph);
    let new_index: BTreeMap<usize, usize> = keep.iter().enumerate().map(|(n, &o)| (o, n)).collect();
    let mut rw = df.rewrite();
    let mut pruned = Pruned {
        text: String::new(),
        kept: keep.iter().copied().collect(),
        removed: Vec::new(),
        renumbered: Vec::new(),
        named: Vec::new(),
    };
    for stage in stages {
        if !keep.contains(&stage.index) {
            pruned.removed.push(stage.index);
            rw.replace(df.span(regions[stage.index].clone()), "");
            continue;
        }
        let instructions = &df.instructions()[stage.instructions.clone()];
        if let Some(name) = names.get(&stage.index)
            && stage.name.is_none()
            && let Some(image) = from_image_end(&instructions[0])
        {
            rw.replace(df.span(image..image), format!(" AS {name}"));
            pruned.named.push((stage.index, name.clone()));
        }
        for instruction in &instructions[1..] {
            renumber(df, instruction, &new_index, &mut rw, &mut pruned.renumbered);
            if let Some(trigger) = instruction.trigger() {
                renumber(df, trigger, &new_index, &mut rw, &mut pruned.renumbered);
            }
        }
    }
    pruned.text = rw.finish()?;
    Ok(pruned)
}

/// Byte range of each stage: from the comment lines right above its FROM to
/// where the next stage's range starts (or the end of the file).
///
/// Comments above the first stage stay when nothing but trivia comes before
/// them: cutting them could turn a later `# escape=` comment into a parser
/// directive. A byte-order mark stays too.
fn stage_regions(df: &Dockerfile, graph: &StageGraph) -> Vec<std::ops::Range<usize>> {
    let elements: Vec<Element<'_>> = df.elements().collect();
    let floor = if df.has_bom() {
        '\u{feff}'.len_utf8()
    } else {
        0
    };
    let starts: Vec<usize> = graph
        .stages()
        .iter()
        .map(|stage| {
            let from = &df.instructions()[stage.instructions.start];
            let at = elements
                .iter()
                .position(|e| matches!(e, Element::Instruction(i) if std::ptr::eq(*i, from)))
                .expect("every FROM is an element");
            let mut first = at;
            while first > 0
                && matches!(elements[first - 1], Element::Trivia(t) if t.kind == TriviaKind::Comment)
            {
                first -= 1;
            }
            let after_an_instruction = elements[..first]
                .iter()
                .any(|e| matches!(e, Element::Instruction(_)));
            if !after_an_instruction {
                first = at;
            }
            elements[first].extent().start.offset.max(floor)
        })
        .collect();
    let end = df.source().len();
    starts
        .iter()
        .enumerate()
        .map(|(n, &s)| s..starts.get(n + 1).copied().unwrap_or(end))
        .collect()
}

/// Where the image word of a FROM ends (to insert `AS name` after it).
fn from_image_end(from: &Instruction) -> Option<usize> {
    match &from.args {
        Arguments::List(words) if words.len() == 1 => Some(words[0].span.end.offset),
        _ => None,
    }
}

/// Rewrites a numeric `COPY --from=N` to the stage's new index.
fn renumber(
    df: &Dockerfile,
    instruction: &Instruction,
    new_index: &BTreeMap<usize, usize>,
    rw: &mut Rewrite<'_>,
    log: &mut Vec<(u32, usize, usize)>,
) {
    if instruction.kind != InstructionKind::Copy {
        return;
    }
    let Some(flag) = instruction.flag("from") else {
        return;
    };
    let Some(old) = flag.value.as_deref().and_then(|v| v.parse::<usize>().ok()) else {
        return;
    };
    // A trigger may point at a stage that is gone; it then never runs in the
    // pruned file (no kept stage builds on it), so it is left alone.
    if let Some(&new) = new_index.get(&old)
        && new != old
    {
        rw.replace(flag.span, format!("--from={new}"));
        log.push((df.position(flag.span.start.offset).line, old, new));
    }
}

/// What the stages in `set` use that only BuildKit understands, as
/// `(line, feature)`: the legacy builder (which pruned files are for) fails on
/// these.
pub fn legacy_builder_gaps(
    df: &Dockerfile,
    graph: &StageGraph,
    set: &BTreeSet<usize>,
) -> Vec<(u32, String)> {
    // (instruction, flag) pairs the legacy builder of Docker 20.10+ refuses.
    const BUILDKIT_FLAGS: [(InstructionKind, &str); 9] = [
        (InstructionKind::Run, "mount"),
        (InstructionKind::Run, "network"),
        (InstructionKind::Run, "security"),
        (InstructionKind::Copy, "link"),
        (InstructionKind::Copy, "parents"),
        (InstructionKind::Copy, "chmod"),
        (InstructionKind::Add, "link"),
        (InstructionKind::Add, "chmod"),
        (InstructionKind::Add, "checksum"),
    ];
    let mut gaps = Vec::new();
    for &s in set {
        for instruction in &df.instructions()[graph.stage(s).instructions.clone()] {
            for flag in &instruction.flags {
                if BUILDKIT_FLAGS.contains(&(instruction.kind, flag.name.as_str())) {
                    gaps.push((
                        instruction.start_line(),
                        format!("{} --{}", instruction.kind, flag.name),
                    ));
                }
            }
            if !instruction.heredocs.is_empty() {
                gaps.push((
                    instruction.start_line(),
                    format!("a heredoc in {}", instruction.kind),
                ));
            }
        }
    }
    gaps
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BuildOptions, stage_graph};

    fn prune_text(text: &str, target: Option<&str>) -> Pruned {
        let df = kasane_dockerfile::parse(text).unwrap();
        let g = stage_graph(&df, &BuildOptions::default()).unwrap();
        let t = g.resolve_target(target).unwrap();
        prune(&df, &g, t).unwrap()
    }

    #[test]
    fn keeps_directives_global_args_comments_and_heredocs_byte_for_byte() {
        let text = "# syntax=docker/dockerfile:1\r\n# escape=\\\r\n\r\n# versions\r\n\
                    ARG GO=1.22\r\nARG ALPINE=3.20\r\n\r\n\
                    # the builder\r\nFROM golang:${GO} AS build\r\n\
                    RUN <<EOF\r\ngo build \\\r\n  -o /app\r\nEOF\r\n\r\n\
                    # lint: not needed for the app\r\nFROM golangci/golangci-lint AS lint\r\n\
                    RUN golangci-lint run\r\n\r\n\
                    # final image\r\nFROM alpine:${ALPINE}\r\n\
                    COPY --from=build \\\r\n     /app /app\r\n";
        let p = prune_text(text, None);
        assert_eq!(p.removed, [1]);
        assert_eq!(
            p.text,
            "# syntax=docker/dockerfile:1\r\n# escape=\\\r\n\r\n# versions\r\n\
             ARG GO=1.22\r\nARG ALPINE=3.20\r\n\r\n\
             # the builder\r\nFROM golang:${GO} AS build\r\n\
             RUN <<EOF\r\ngo build \\\r\n  -o /app\r\nEOF\r\n\r\n\
             # final image\r\nFROM alpine:${ALPINE}\r\n\
             COPY --from=build \\\r\n     /app /app\r\n"
        );
    }

    #[test]
    fn renumbers_numeric_references_to_named_and_unnamed_stages() {
        let text = "FROM alpine AS unused\nRUN true\n\
                    FROM alpine AS needed\nRUN echo a > /a\n\
                    FROM alpine\nRUN echo b > /b\n\
                    FROM scratch\nCOPY --from=1 /a /a\nCOPY --from=2 /b /b\nCOPY --from=needed /a /c\n";
        let p = prune_text(text, None);
        assert_eq!(p.kept, [1, 2, 3]);
        assert_eq!(p.renumbered, [(8, 1, 0), (9, 2, 1)]);
        assert_eq!(
            p.text,
            "FROM alpine AS needed\nRUN echo a > /a\n\
             FROM alpine\nRUN echo b > /b\n\
             FROM scratch\nCOPY --from=0 /a /a\nCOPY --from=1 /b /b\nCOPY --from=needed /a /c\n"
        );
        // The result means the same: same graph shape under the new numbers.
        let df = kasane_dockerfile::parse(&p.text).unwrap();
        let g = stage_graph(&df, &BuildOptions::default()).unwrap();
        let on: Vec<_> = g.dependencies_of(2).filter_map(|d| d.on_stage()).collect();
        assert_eq!(on, [0, 1, 0]);
    }

    #[test]
    fn renumbers_onbuild_triggers_and_keeps_flag_layout() {
        let text = "FROM alpine AS x\nFROM alpine AS tools\n\
                    FROM alpine AS tpl\nONBUILD COPY --chown=1:1 --from=1 /t /t\n\
                    FROM tpl\n";
        let p = prune_text(text, None);
        assert_eq!(p.kept, [1, 2, 3]);
        assert_eq!(
            p.text,
            "FROM alpine AS tools\nFROM alpine AS tpl\nONBUILD COPY --chown=1:1 --from=0 /t /t\n\
             FROM tpl\n"
        );
    }

    #[test]
    fn a_target_that_needs_everything_is_unchanged() {
        let text = "FROM alpine AS a\n# trailing comment\n\nFROM a\nCOPY --from=0 /x /x";
        let p = prune_text(text, None);
        assert!(p.removed.is_empty());
        assert_eq!(p.text, text);
    }

    #[test]
    fn removes_trailing_stages_and_leading_comments_of_removed_stages() {
        let text = "ARG A=1\n# first\nFROM alpine AS a\n\n# second\n# (two lines)\nFROM alpine AS b\nRUN x\n";
        let p = prune_text(text, Some("a"));
        assert_eq!(p.text, "ARG A=1\n# first\nFROM alpine AS a\n\n");
        let p = prune_text(text, Some("b"));
        assert_eq!(
            p.text,
            "ARG A=1\n# second\n# (two lines)\nFROM alpine AS b\nRUN x\n"
        );
    }

    #[test]
    fn never_exposes_a_directive_or_drops_the_bom() {
        // `# escape=` after a plain comment is a comment; cutting the comment above the
        // first stage would make it a directive.
        let text = "# about this file\n# escape=`\nFROM alpine AS a\nFROM alpine AS b\n";
        let p = prune_text(text, Some("b"));
        assert_eq!(p.text, "# about this file\n# escape=`\nFROM alpine AS b\n");
        assert!(
            kasane_dockerfile::parse(&p.text)
                .unwrap()
                .directives()
                .is_empty()
        );
        let p = prune_text("\u{feff}FROM alpine AS a\nFROM alpine AS b\n", Some("b"));
        assert_eq!(p.text, "\u{feff}FROM alpine AS b\n");
    }

    #[test]
    fn finds_what_the_legacy_builder_cannot_build() {
        let text = "FROM alpine AS a\nRUN --mount=type=cache,target=/c true\n\
                    FROM alpine AS b\nCOPY --chmod=644 --from=a /x /x\nRUN <<EOF\ntrue\nEOF\n";
        let df = kasane_dockerfile::parse(text).unwrap();
        let g = stage_graph(&df, &BuildOptions::default()).unwrap();
        let gaps = legacy_builder_gaps(&df, &g, &BTreeSet::from([0, 1]));
        let gaps: Vec<String> = gaps.iter().map(|(l, w)| format!("{l}: {w}")).collect();
        assert_eq!(
            gaps,
            ["2: RUN --mount", "4: COPY --chmod", "5: a heredoc in RUN"]
        );
        assert!(legacy_builder_gaps(&df, &g, &BTreeSet::from([1])).len() == 2);
    }

    #[test]
    fn names_unnamed_stages_when_asked() {
        let text = "FROM alpine\nRUN a\nFROM --platform=linux/amd64 \\\n  alpine\n\
                    FROM scratch\nCOPY --from=0 /a /a\nCOPY --from=1 /a /b\n";
        let df = kasane_dockerfile::parse(text).unwrap();
        let g = stage_graph(&df, &BuildOptions::default()).unwrap();
        let keep: BTreeSet<usize> = [0, 1, 2].into();
        let names: BTreeMap<usize, String> =
            [(0, "stage-0".to_string()), (1, "stage-1".to_string())].into();
        let p = prune_with_names(&df, &g, &keep, &names).unwrap();
        assert_eq!(
            p.text,
            "FROM alpine AS stage-0\nRUN a\nFROM --platform=linux/amd64 \\\n  alpine AS stage-1\n\
             FROM scratch\nCOPY --from=0 /a /a\nCOPY --from=1 /a /b\n"
        );
        let df2 = kasane_dockerfile::parse(&p.text).unwrap();
        let g2 = stage_graph(&df2, &BuildOptions::default()).unwrap();
        assert_eq!(g2.stage(1).name.as_deref(), Some("stage-1"));
    }
}
