//! Dockerfile parser that reads every Dockerfile as BuildKit does, losslessly.
//!
//! [`parse`] turns Dockerfile text into a [`Dockerfile`]: the source text plus a
//! syntax tree whose elements (instructions, comments, blank lines, parser
//! directives) cover the text exactly, so [`Dockerfile::print`] gives the input
//! back byte for byte and a [`Rewrite`] changes only the text of the nodes it
//! touches. Every instruction, flag, argument and heredoc carries its
//! [`Span`] (byte range with 1-based line and column).
//!
//! The parser follows BuildKit's own parser exactly: parser directives, the
//! escape character, line continuations (with the comment and empty lines
//! BuildKit skips inside them), CRLF, a leading BOM, heredocs, flags, the exec
//! (JSON) versus shell form, and BuildKit's errors. Two [`Dialect`]s exist:
//! today's BuildKit (the default) and BuildKit 0.12, which the conformance
//! corpus was made with.
//!
//! ```
//! use kasane_dockerfile::{parse, Arguments, InstructionKind};
//!
//! let src = "# syntax=docker/dockerfile:1\nFROM alpine:3.20 AS build\n\
//!            RUN --mount=type=cache,target=/root/.cache \\\n    apk add gcc\n";
//! let df = parse(src)?;
//! assert_eq!(df.directive("syntax").map(|d| d.value.as_str()), Some("docker/dockerfile:1"));
//!
//! let run = &df.instructions()[1];
//! assert_eq!(run.kind, InstructionKind::Run);
//! assert_eq!(run.flag("mount").and_then(|f| f.value.as_deref()), Some("type=cache,target=/root/.cache"));
//! match &run.args {
//!     Arguments::Shell(cmd) => assert_eq!(cmd.value, "apk add gcc"),
//!     other => panic!("unexpected {other:?}"),
//! }
//! assert_eq!((run.start_line(), run.end_line()), (3, 4));
//!
//! // Lossless: printing gives the input back; a rewrite touches only its node.
//! assert_eq!(df.print(), src);
//! let mut rw = df.rewrite();
//! rw.replace_instruction(0, "FROM alpine:3.21 AS build");
//! let out = rw.finish()?;
//! assert!(out.starts_with("# syntax=docker/dockerfile:1\nFROM alpine:3.21 AS build\nRUN"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod edit;
mod error;
mod gostr;
mod heredoc;
mod json_array;
mod raw;
mod span;
mod tree;

pub mod buildkit;
pub mod expand;
pub mod instructions;
pub mod scope;
pub mod stage;

pub use edit::{EditError, Rewrite};
pub use error::{ParseError, ParseErrorKind};
pub use span::{Position, Span};
pub use tree::{
    Arguments, Directive, Dockerfile, Element, Flag, Heredoc, Instruction, InstructionKind,
    KeyValue, ParseOptions, Trivia, TriviaKind, Warning, WarningKind, Word,
};

/// Which BuildKit parser to follow. They differ in small, documented ways
/// (see `docs/parser-conformance.md`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Dialect {
    /// Today's BuildKit Dockerfile frontend (1.x, 2026): `# check=` is a
    /// directive, flags use the escape character, text after a JSON array
    /// makes it shell form, `<< EOF` (with a space) is a heredoc.
    #[default]
    Current,
    /// BuildKit v0.12, as embedded in the `dockerfile` Python package that
    /// produced the conformance oracle.
    #[serde(rename = "buildkit_0_12")]
    BuildKit012,
}

/// Parses Dockerfile text with the default options (current BuildKit).
pub fn parse(source: &str) -> Result<Dockerfile, ParseError> {
    Dockerfile::parse(source)
}

/// Parses Dockerfile text with `options`.
pub fn parse_with(source: &str, options: ParseOptions) -> Result<Dockerfile, ParseError> {
    Dockerfile::parse_with(source, options)
}
