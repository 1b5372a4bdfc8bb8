//! Build contexts: what `docker build` sends and why.
//!
//! - [`PatternMatcher`]: .dockerignore matching with exactly the semantics of
//!   `github.com/moby/patternmatcher` (or of Docker 20.10's `pkg/fileutils`, see [`Dialect`]),
//!   checked differentially against the Go implementation and against a real engine.
//! - [`read_all`] and [`locate_ignore_file`]: reading ignore files and choosing which one a
//!   build uses.
//! - [`walk_context`] and [`analyze_context`]: the entries a given engine sends (exceptions,
//!   pruning, symlinks sent as links, unreadable entries) and a size report.
//! - [`generate_keep`]: a .dockerignore that keeps only named paths, merging nested ignore
//!   files.
//! - [`context_sources`] and [`context_usage`]: which part of the context each COPY/ADD of a
//!   Dockerfile uses, and what is sent but never used.
//! - [`generate_from_dockerfile`]: the smallest .dockerignore that sends what those need.

mod generate;
mod gopath;
mod ignorefile;
mod matcher;
mod minimal;
mod pattern;
mod re2;
mod report;
mod usage;
mod walk;

pub use generate::{
    DiffLine, GENERATED_HEADER, GenerateError, GeneratedIgnore, SkippedPattern, escape_literal,
    generate_keep, line_diff,
};
pub use ignorefile::{
    Builder, IgnoreFileError, IgnoreLine, locate_ignore_file, read_all, read_ignore_file,
};
pub use matcher::{MatchInfo, PatternMatcher};
pub use minimal::{MinimalError, MinimalIgnore, generate_from_dockerfile};
pub use pattern::{Dialect, IgnorePattern, PatternError, go_regex_is_match};
pub use report::{
    ContextError, ContextOptions, ContextReport, Problem, RateError, SizedPath, analyze_context,
    parse_rate,
};
pub use usage::{ContextSource, ContextUsage, SourceUse, context_sources, context_usage};
pub use walk::{
    ContextEntry, ContextWalk, Engine, EntryKind, WalkError, WalkProblem, walk_context,
};
