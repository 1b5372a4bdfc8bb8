//! Parse errors: what BuildKit's parser rejects, with where.

use crate::gostr::go_quote;

/// Why a Dockerfile could not be parsed. The messages are BuildKit's own, so
/// they can be compared with `docker build` output.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// The file holds no instruction (empty, or only comments and blank lines).
    #[error("file with no instructions")]
    NoInstructions,
    /// A physical line is longer than BuildKit's scanner accepts.
    #[error(
        "dockerfile line greater than max allowed size of {}",
        crate::raw::MAX_LINE_LEN
    )]
    LineTooLong,
    /// A parser directive appears twice.
    #[error("only one {0} parser directive can be used")]
    DuplicateDirective(String),
    /// `# escape=` with something other than `\` or `` ` ``.
    #[error("invalid escape token '{0}' does not match ` or \\")]
    InvalidEscapeToken(String),
    /// ENV or LABEL in the legacy `KEY value` form without a value; holds the
    /// instruction name.
    #[error("{0} must have two arguments")]
    MissingValue(String),
    /// ENV or LABEL in the `key=value` form with a word that has no `=`.
    #[error("Syntax error - can't find = in {}. Must be of the form: name=value", go_quote(.0.as_bytes()))]
    MissingEquals(String),
    /// An exec-form (JSON) array with an element that is not a string.
    #[error("when using JSON array syntax, arrays must be comprised of strings only")]
    JsonNotStrings,
    /// The file ends before a heredoc's terminator line.
    #[error("unterminated heredoc")]
    UnterminatedHeredoc,
    /// A heredoc delimiter BuildKit's shell lexer cannot read (the message is
    /// the lexer's).
    #[error("{0}")]
    HeredocDelimiter(String),
    /// The input is not UTF-8 (kasane's tree holds text; see
    /// `docs/parser-conformance.md` for how this relates to BuildKit).
    #[error("invalid UTF-8")]
    InvalidUtf8,
}

/// A parse failure and where it happened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {kind}")]
pub struct ParseError {
    /// What went wrong.
    pub kind: ParseErrorKind,
    /// Byte offset in the input.
    pub offset: usize,
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
}

impl ParseError {
    pub(crate) fn at(kind: ParseErrorKind, src: &[u8], offset: usize) -> Self {
        let offset = offset.min(src.len());
        let before = &src[..offset];
        let line_start = before
            .iter()
            .rposition(|&c| c == b'\n')
            .map_or(0, |p| p + 1);
        let line = before.iter().filter(|&&c| c == b'\n').count() + 1;
        let column = String::from_utf8_lossy(&src[line_start..offset])
            .chars()
            .count()
            + 1;
        ParseError {
            kind,
            offset,
            line: u32::try_from(line).unwrap_or(u32::MAX),
            column: u32::try_from(column).unwrap_or(u32::MAX),
        }
    }
}
