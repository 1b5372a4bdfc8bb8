//! Reading a parsed Dockerfile into a [`StageGraph`], resolving every stage
//! reference the way BuildKit's `dockerfile2llb` does.
//!
//! - `FROM <word>`: the word is expanded with the global scope (the automatic
//!   platform ARGs, `TARGETSTAGE`, and the ARGs before the first FROM with
//!   `--build-arg` values replacing their defaults). The result names a stage
//!   only if an *earlier* stage has exactly that (lower-case) name; otherwise
//!   it is an image, and `scratch` is nothing.
//! - `COPY --from=<word>`: never expanded: BuildKit refuses any word that
//!   expansion would change ("variable expansion is not supported for
//!   --from"), and so do we. A number is a stage index (any stage, even a
//!   later one); otherwise the name of any stage (case-insensitive, the last
//!   one with it); otherwise an image.
//! - `RUN --mount=...,from=<word>`: by name only, never by index; a `$` that
//!   is not the last character is refused.
//! - ONBUILD: when a stage is built `FROM` another stage, the `COPY --from`
//!   and `RUN --mount=from=` triggers of that base run in it and are its
//!   dependencies. Their errors only count if the stage is needed, as BuildKit
//!   evaluates triggers only for the stages it builds.
//!
//! FROM lines are expanded by `kasane_dockerfile::scope`, the project's one
//! model of BuildKit's ARG scoping (automatic platform ARGs, `TARGETSTAGE`,
//! meta ARGs with `--build-arg` values).

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

use kasane_dockerfile::expand::{Lexer, NoEnv};
use kasane_dockerfile::scope::{self, BuildArgs, Field, Platform};
use kasane_dockerfile::stage::StageBase;
use kasane_dockerfile::{Arguments, Dockerfile, Instruction, InstructionKind};

use crate::GraphError;
use crate::graph::{
    Base, Dependency, Source, Stage, StageGraph, Via, Warning, WarningKind, closest,
};

/// The inputs of a build that change what its stages mean.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildOptions {
    /// `--build-arg NAME=VALUE` values.
    pub build_args: BTreeMap<String, String>,
    /// `--platform` (the first, if several): sets `TARGETPLATFORM` and
    /// friends. Default: the host's.
    pub platform: Option<String>,
    /// `--target`: sets `TARGETSTAGE`. Default: the last stage's name.
    pub target: Option<String>,
}

/// Reads the stages of `df` and what each depends on.
pub fn stage_graph(df: &Dockerfile, options: &BuildOptions) -> Result<StageGraph, GraphError> {
    let lexer = Lexer::new(df.escape());
    let instructions = df.instructions();
    let from_positions: Vec<usize> = instructions
        .iter()
        .enumerate()
        .filter(|(_, i)| i.kind == InstructionKind::From)
        .map(|(n, _)| n)
        .collect();
    let Some(&first_from) = from_positions.first() else {
        return Err(GraphError::NoStages);
    };
    let meta_args = &instructions[..first_from];
    if let Some(bad) = meta_args.iter().find(|i| i.kind != InstructionKind::Arg) {
        return Err(GraphError::InstructionBeforeFrom {
            line: bad.start_line(),
            keyword: bad.keyword.value.to_ascii_uppercase(),
        });
    }

    let mut heads = Vec::with_capacity(from_positions.len());
    for &at in &from_positions {
        heads.push(read_from(&instructions[at])?);
    }
    // The global scope and each FROM's expansion come from the shared ARG scoping engine.
    let resolved = scope::resolve(df, &build_args(options));
    for meta in &resolved.meta_args {
        if let Some(error) = meta.errors().next() {
            return Err(GraphError::Expand {
                line: instructions[meta.instruction].start_line(),
                error: error.clone(),
            });
        }
    }

    let mut stages: Vec<Stage> = Vec::with_capacity(heads.len());
    let mut dependencies = Vec::new();
    let mut warnings = Vec::new();
    let mut first_named: HashMap<&str, usize> = HashMap::new();
    for (index, (head, rs)) in heads.iter().zip(&resolved.stages).enumerate() {
        let at = from_positions[index];
        let end = from_positions
            .get(index + 1)
            .copied()
            .unwrap_or(instructions.len());
        let line = instructions[at].start_line();
        if let Some(error) = rs.from.errors().next() {
            return Err(GraphError::Expand {
                line,
                error: error.clone(),
            });
        }
        let expanded = rs
            .from
            .value(Field::FromImage)
            .unwrap_or_default()
            .to_string();
        let base = match &rs.base {
            None => {
                return Err(GraphError::BlankBase {
                    line,
                    written: head.base_written.clone(),
                });
            }
            Some(StageBase::Stage(on)) => Base::Stage {
                index: *on,
                name: expanded.clone(),
            },
            Some(StageBase::Scratch) => Base::Scratch,
            Some(StageBase::Image(reference)) => Base::Image {
                reference: reference.clone(),
            },
        };
        let platform = rs.from.value(Field::FromPlatform).map(str::to_string);
        // FROM takes the (expanded) base as a stage name only among earlier stages.
        match &base {
            Base::Stage { index: on, .. } => dependencies.push(Dependency {
                stage: index,
                on: Source::Stage { index: *on },
                via: Via::From,
                written: head.base_written.clone(),
                by_index: false,
                onbuild_of: None,
                line,
            }),
            Base::Image { reference } => dependencies.push(Dependency {
                stage: index,
                on: Source::Image {
                    reference: reference.clone(),
                },
                via: Via::From,
                written: head.base_written.clone(),
                by_index: false,
                onbuild_of: None,
                line,
            }),
            Base::Scratch => {}
        }
        if let Some(name) = &head.name
            && let Some(&first) = first_named.get(name.as_str())
        {
            warnings.push(Warning {
                stage: index,
                line,
                kind: WarningKind::DuplicateStageName {
                    name: name.clone(),
                    first,
                },
            });
        }
        if let Some(name) = &head.name {
            first_named.entry(name.as_str()).or_insert(index);
        }
        stages.push(Stage {
            index,
            name: head.name.clone(),
            base,
            base_written: head.base_written.clone(),
            platform,
            line,
            instructions: at..end,
        });
    }

    let names = StageNames::new(&stages);
    let mut deferred = Vec::new();
    for stage in &stages {
        // FROM of a later stage's name: an image to BuildKit, surely a mistake.
        if let Base::Image { reference } = &stage.base {
            if let Some(later) = names.last_named(reference).filter(|&i| i >= stage.index) {
                warnings.push(Warning {
                    stage: stage.index,
                    line: stage.line,
                    kind: WarningKind::ForwardFrom {
                        name: reference.clone(),
                        defined_at: later,
                    },
                });
            } else {
                names.warn_if_similar(stage.index, stage.line, reference, &mut warnings);
            }
        }
        for instruction in &instructions[stage.instructions.start + 1..stage.instructions.end] {
            let found = references(instruction, &lexer, &names, stage.index, None)?;
            for d in &found {
                names.warn_if_similar_dep(d, &mut warnings);
            }
            dependencies.extend(found);
        }
        if let Base::Stage { index: base, .. } = stage.base {
            let base_range = stages[base].instructions.clone();
            for onbuild in &instructions[base_range.start + 1..base_range.end] {
                let Some(trigger) = onbuild.trigger() else {
                    continue;
                };
                match references(trigger, &lexer, &names, stage.index, Some(base)) {
                    Ok(found) => dependencies.extend(found),
                    Err(e) => deferred.push((stage.index, e)),
                }
            }
        }
    }
    StageGraph::with_details(stages, dependencies, warnings, deferred)
}

/// What a FROM line says before expansion.
struct FromHead {
    name: Option<String>,
    base_written: String,
}

fn read_from(from: &Instruction) -> Result<FromHead, GraphError> {
    let line = from.start_line();
    let words: Vec<&str> = match &from.args {
        Arguments::List(words) => words.iter().map(|w| w.value.as_str()).collect(),
        _ => Vec::new(),
    };
    let name = match words.as_slice() {
        [_] => None,
        [_, as_kw, name] if as_kw.eq_ignore_ascii_case("as") => {
            let lower = name.to_ascii_lowercase();
            if !valid_stage_name(&lower) {
                return Err(GraphError::InvalidStageName {
                    line,
                    name: (*name).to_string(),
                });
            }
            Some(lower)
        }
        _ => return Err(GraphError::FromArguments { line }),
    };
    Ok(FromHead {
        name,
        base_written: words[0].to_string(),
    })
}

/// BuildKit's `^[a-z][a-z0-9-_.]*$`.
fn valid_stage_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c))
}

/// The build's inputs in the shape of the scoping engine.
fn build_args(options: &BuildOptions) -> BuildArgs {
    let mut args = BuildArgs::new();
    for (k, v) in &options.build_args {
        args = args.arg(k, v);
    }
    if let Some(t) = &options.target {
        args = args.target(t);
    }
    let first = options
        .platform
        .as_deref()
        .and_then(|p| p.split(',').next());
    if let Some(p) = first.and_then(|p| Platform::parse(p.trim())) {
        args = args.target_platform(p);
    }
    args
}

/// Stage names as `COPY --from` and `RUN --mount=from=` see them.
struct StageNames<'a> {
    stages: &'a [Stage],
    /// Lower-case name to the last stage with it.
    last: HashMap<&'a str, usize>,
    /// Answers of `warn_if_similar` by reference (files repeat them).
    similar: RefCell<HashMap<String, Option<String>>>,
}

/// Above this many stages the misspelling check (an edit distance to every
/// stage name) is skipped: it would be quadratic on a hostile file.
const SIMILAR_NAME_LIMIT: usize = 1000;

impl<'a> StageNames<'a> {
    fn new(stages: &'a [Stage]) -> Self {
        let last = stages
            .iter()
            .filter_map(|s| s.name.as_deref().map(|n| (n, s.index)))
            .collect();
        StageNames {
            stages,
            last,
            similar: RefCell::new(HashMap::new()),
        }
    }

    /// The last stage named `name`, case-insensitively.
    fn last_named(&self, name: &str) -> Option<usize> {
        self.last.get(name.to_ascii_lowercase().as_str()).copied()
    }

    fn warn_if_similar(&self, stage: usize, line: u32, reference: &str, out: &mut Vec<Warning>) {
        // Only bare names can be misspelt stage names; `node:20` or
        // `ghcr.io/x/y` are images for sure.
        if reference.contains(['/', ':', '@']) || self.stages.len() > SIMILAR_NAME_LIMIT {
            return;
        }
        let similar = self
            .similar
            .borrow_mut()
            .entry(reference.to_string())
            .or_insert_with(|| {
                let names = self.stages.iter().filter_map(|s| s.name.as_deref());
                closest(reference, names).map(str::to_string)
            })
            .clone();
        if let Some(similar) = similar {
            out.push(Warning {
                stage,
                line,
                kind: WarningKind::SimilarStageName {
                    reference: reference.to_string(),
                    stage_name: similar,
                },
            });
        }
    }

    fn warn_if_similar_dep(&self, d: &Dependency, out: &mut Vec<Warning>) {
        if let Source::Image { reference } = &d.on {
            self.warn_if_similar(d.stage, d.line, reference, out);
        }
    }
}

/// The stage and image references of one instruction (`COPY --from`, `RUN
/// --mount=from=`), as dependencies of `stage`.
fn references(
    instruction: &Instruction,
    lexer: &Lexer,
    names: &StageNames<'_>,
    stage: usize,
    onbuild_of: Option<usize>,
) -> Result<Vec<Dependency>, GraphError> {
    let line = instruction.start_line();
    let make = |on: Source, via: Via, written: &str, by_index: bool| Dependency {
        stage,
        on,
        via,
        written: written.to_string(),
        by_index,
        onbuild_of,
        line,
    };
    let mut out = Vec::new();
    match instruction.kind {
        InstructionKind::Copy => {
            if let Some(written) = instruction.flag("from").and_then(|f| f.value.as_deref()) {
                let (on, by_index) = copy_source(written, lexer, names, line)?;
                out.push(make(on, Via::CopyFrom, written, by_index));
            }
        }
        InstructionKind::Run => {
            for mount in instruction.flags.iter().filter(|f| f.name == "mount") {
                let Some(value) = mount.value.as_deref() else {
                    continue;
                };
                if let Some(from) = mount_from(value, line)? {
                    let on = match names.last_named(&from) {
                        Some(index) => Source::Stage { index },
                        None => Source::Image {
                            reference: from.clone(),
                        },
                    };
                    out.push(make(on, Via::RunMount, &from, false));
                }
            }
        }
        _ => {}
    }
    Ok(out)
}

/// What `COPY --from=<written>` refers to, and whether by index.
fn copy_source(
    written: &str,
    lexer: &Lexer,
    names: &StageNames<'_>,
    line: u32,
) -> Result<(Source, bool), GraphError> {
    let unexpanded = lexer
        .process_word(written, &NoEnv)
        .map_err(|error| GraphError::Expand { line, error })?;
    if unexpanded.value != written {
        return Err(GraphError::VariableInCopyFrom {
            line,
            written: written.to_string(),
        });
    }
    // Go's strconv.Atoi: optional sign, decimal digits, fits in 64 bits.
    if let Ok(index) = written.parse::<i64>() {
        let count = names.stages.len();
        return match usize::try_from(index).ok().filter(|&i| i < count) {
            Some(index) => Ok((Source::Stage { index }, true)),
            None => Err(GraphError::StageIndexOutOfRange {
                line,
                written: written.to_string(),
                index,
                count,
            }),
        };
    }
    Ok(match names.last_named(written) {
        Some(index) => (Source::Stage { index }, false),
        None => (
            Source::Image {
                reference: written.to_string(),
            },
            false,
        ),
    })
}

/// The `from=` of one `--mount` value (CSV fields `key=value`), if any.
fn mount_from(value: &str, line: u32) -> Result<Option<String>, GraphError> {
    let mut from = None;
    for field in csv_fields(value).map_err(|reason| GraphError::BadMount { line, reason })? {
        let Some((key, v)) = field.split_once('=') else {
            continue;
        };
        if key.eq_ignore_ascii_case("from") {
            if let Some(dollar) = v.find('$')
                && dollar != v.len() - 1
            {
                return Err(GraphError::VariableInMountFrom {
                    line,
                    written: v.to_string(),
                });
            }
            from = Some(v.to_string());
        }
    }
    Ok(from.filter(|f| !f.is_empty()))
}

/// Splits one CSV record as Go's `encoding/csv` does (no lazy quotes): a
/// field either has no `"` or is wholly quoted, with `""` for a quote.
fn csv_fields(record: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut chars = record.chars().peekable();
    loop {
        let mut field = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    Some('"') => break,
                    Some(c) => field.push(c),
                    None => return Err("extraneous or missing \" in quoted-field".to_string()),
                }
            }
            match chars.next() {
                None => {
                    fields.push(field);
                    return Ok(fields);
                }
                Some(',') => fields.push(field),
                Some(_) => return Err("extraneous or missing \" in quoted-field".to_string()),
            }
        } else {
            loop {
                match chars.next() {
                    None => {
                        fields.push(field);
                        return Ok(fields);
                    }
                    Some(',') => break,
                    Some('"') => return Err("bare \" in non-quoted-field".to_string()),
                    Some(c) => field.push(c),
                }
            }
            fields.push(field);
        }
    }
}

#[cfg(test)]
mod tests;
