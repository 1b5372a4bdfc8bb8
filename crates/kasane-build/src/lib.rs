//! Multi-stage builds: the stage graph of a Dockerfile, pruning it to what a
//! target needs, and CI cache plans that cache every stage.
//!
//! - [`stage_graph`] reads a parsed Dockerfile into a [`StageGraph`]: every
//!   stage, its base, and each dependency with the instruction that makes it
//!   (`FROM <stage>`, `COPY --from` by name or index, `RUN --mount=from=`,
//!   ONBUILD triggers of a stage base), with global ARGs and build args
//!   expanded as BuildKit does.
//! - [`prune`] writes a Dockerfile holding only the stages a target needs,
//!   numeric `--from` references renumbered, everything else byte for byte.
//! - [`plan`] turns the graph into a cache plan: a shell script for the legacy
//!   builder or BuildKit's inline cache, a buildx registry-cache script, a
//!   `docker-bake.hcl`, or GitHub Actions steps.
//!
//! ```
//! use kasane_build::{stage_graph, BuildOptions};
//!
//! let df = kasane_dockerfile::parse(
//!     "ARG BASE=alpine:3.20\nFROM ${BASE} AS build\nRUN make\n\
//!      FROM build AS test\nRUN make test\n\
//!      FROM scratch\nCOPY --from=0 /app /app\n",
//! )?;
//! let graph = stage_graph(&df, &BuildOptions::default())?;
//! let target = graph.resolve_target(None)?;
//! let needed = graph.needed(target)?;
//! assert_eq!(needed.into_iter().collect::<Vec<_>>(), [0, 2]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod graph;
pub mod plan;
mod prune;
mod resolve;
mod shell;

pub use graph::{
    Base, Dependency, ExternalImage, ImageUse, Source, Stage, StageGraph, Via, Warning, WarningKind,
};
pub use prune::{PruneError, Pruned, legacy_builder_gaps, prune, prune_with_names};
pub use resolve::{BuildOptions, stage_graph};
pub use shell::quote as shell_quote;

/// Why a Dockerfile's stages could not be worked out, with BuildKit's reason
/// where BuildKit refuses the same input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GraphError {
    /// No `FROM` at all.
    #[error("the Dockerfile has no stages (no FROM instruction)")]
    NoStages,
    /// Something other than ARG before the first FROM.
    #[error("line {line}: {keyword} before the first FROM: only ARG may come before it")]
    InstructionBeforeFrom {
        /// 1-based line.
        line: u32,
        /// The instruction.
        keyword: String,
    },
    /// `FROM a b`, `FROM a AS`, ...
    #[error("line {line}: FROM requires either one or three arguments (`FROM image [AS name]`)")]
    FromArguments {
        /// 1-based line.
        line: u32,
    },
    /// A stage name BuildKit refuses.
    #[error(
        "line {line}: invalid name for build stage: {name:?}, name can't start with a number or \
         contain symbols"
    )]
    InvalidStageName {
        /// 1-based line.
        line: u32,
        /// The name as written.
        name: String,
    },
    /// `FROM ${UNSET}`.
    #[error("line {line}: base name ({written}) should not be blank")]
    BlankBase {
        /// 1-based line.
        line: u32,
        /// The base as written.
        written: String,
    },
    /// A FROM image, FROM `--platform` or global ARG that does not expand.
    #[error("line {line}: {error}")]
    Expand {
        /// 1-based line.
        line: u32,
        /// The expansion error.
        error: kasane_dockerfile::expand::ExpandError,
    },
    /// `COPY --from=N` with no stage N.
    #[error(
        "line {line}: COPY --from={written}: invalid stage index {index} (the Dockerfile has \
         {count} stage{})",
        if *count == 1 { "" } else { "s" }
    )]
    StageIndexOutOfRange {
        /// 1-based line.
        line: u32,
        /// The reference as written.
        written: String,
        /// The index.
        index: i64,
        /// How many stages there are.
        count: usize,
    },
    /// `COPY --from=${X}`: BuildKit refuses variables in `--from`.
    #[error(
        "line {line}: COPY --from={written}: variable expansion is not supported for --from \
         (BuildKit refuses it); define a stage `FROM ${{VAR}} AS name` with a global ARG and \
         copy from that name"
    )]
    VariableInCopyFrom {
        /// 1-based line.
        line: u32,
        /// The reference as written.
        written: String,
    },
    /// `RUN --mount=from=${X}`: BuildKit refuses variables there too.
    #[error(
        "line {line}: RUN --mount from={written}: 'from' doesn't support variable expansion, \
         define an alias stage instead"
    )]
    VariableInMountFrom {
        /// 1-based line.
        line: u32,
        /// The reference as written.
        written: String,
    },
    /// A `--mount` value that is not valid CSV.
    #[error("line {line}: failed to parse csv mounts: {reason}")]
    BadMount {
        /// 1-based line.
        line: u32,
        /// What is wrong.
        reason: String,
    },
    /// Stages that depend on each other in a circle.
    #[error(
        "circular dependency between stages: {} ({})",
        stages.join(" -> "),
        steps.join(", ")
    )]
    Cycle {
        /// The stages around the circle, the first repeated at the end.
        stages: Vec<String>,
        /// The instruction behind each step, with its line.
        steps: Vec<String>,
    },
    /// `--target` names no stage.
    #[error(
        "target stage {target:?} could not be found{}{}",
        suggestion.as_ref().map(|s| format!("; did you mean {s:?}?")).unwrap_or_default(),
        if available.is_empty() {
            " (the Dockerfile has no named stages)".to_string()
        } else {
            format!(" (stages: {})", available.join(", "))
        }
    )]
    UnknownTarget {
        /// The target asked for.
        target: String,
        /// The closest stage name, if one is close.
        suggestion: Option<String>,
        /// Every stage name.
        available: Vec<String>,
    },
}
