//! The one diagnostics model every rule produces and every renderer reads.
//!
//! A [`Finding`] is self-contained: its positions are already resolved to 1-based lines and
//! columns, so renderers never need to re-scan the source (the text renderer still gets the
//! source to draw code frames).

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

/// How serious a finding is. Ordered: `Style < Info < Warning < Error`, so
/// `finding.severity >= fail_level` is the CI gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Cosmetic: casing, formatting, conventions.
    Style,
    /// Worth knowing; often a size or speed improvement.
    Info,
    /// Likely a mistake or a real cost.
    Warning,
    /// The build fails or does something the author cannot have meant.
    Error,
}

impl Severity {
    /// Every severity, lowest first.
    pub const ALL: [Severity; 4] = [
        Severity::Style,
        Severity::Info,
        Severity::Warning,
        Severity::Error,
    ];

    /// The lowercase name used in configs and output (`error`, `warning`, `info`, `style`).
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Style => "style",
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A severity name that is not one of `error`, `warning`, `info`, `style`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown severity `{0}` (expected error, warning, info or style)")]
pub struct UnknownSeverity(pub String);

impl FromStr for Severity {
    type Err = UnknownSeverity;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "error" => Ok(Severity::Error),
            "warning" | "warn" => Ok(Severity::Warning),
            "info" => Ok(Severity::Info),
            "style" => Ok(Severity::Style),
            _ => Err(UnknownSeverity(s.to_owned())),
        }
    }
}

/// A half-open byte range `start..end` in the Dockerfile's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// The range `start..end`.
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }

    /// The span covering both `self` and `other`.
    pub fn cover(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }
}

impl From<std::ops::Range<usize>> for Span {
    fn from(r: std::ops::Range<usize>) -> Self {
        Span::new(r.start, r.end)
    }
}

/// A 1-based line and a 1-based column counted in Unicode characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
pub struct Position {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters (not bytes) from the start of the line.
    pub column: usize,
}

/// Where a finding (or a note) points: the byte span and its resolved start and end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Location {
    /// Bytes in the file.
    pub span: Span,
    /// Position of `span.start`.
    pub start: Position,
    /// Position of `span.end` (exclusive end, like the span).
    pub end: Position,
}

/// One replacement of a byte range by new text.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Edit {
    /// Bytes to replace (empty for an insertion).
    pub span: Span,
    /// The new text.
    pub replacement: String,
}

impl Edit {
    /// Insert `text` at byte `at`.
    pub fn insert(at: usize, text: impl Into<String>) -> Self {
        Edit {
            span: Span::new(at, at),
            replacement: text.into(),
        }
    }

    /// Replace `span` by `text`.
    pub fn replace(span: Span, text: impl Into<String>) -> Self {
        Edit {
            span,
            replacement: text.into(),
        }
    }

    /// Delete `span`.
    pub fn delete(span: Span) -> Self {
        Edit::replace(span, "")
    }
}

/// Whether applying a fix can change what the build does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Applicability {
    /// The build's result stays the same (apart from the improvement the rule names).
    Safe,
    /// Probably right, but a human should look (e.g. it changes which files are copied).
    Unsafe,
}

/// A suggested change, as text edits that do not overlap.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Fix {
    /// What the fix does, in a few words.
    pub description: String,
    /// Whether `kasane fix` may apply it without asking.
    pub applicability: Applicability,
    /// The edits, sorted by start.
    pub edits: Vec<Edit>,
}

impl Fix {
    /// A fix made of `edits` (sorted here).
    pub fn new(
        description: impl Into<String>,
        applicability: Applicability,
        mut edits: Vec<Edit>,
    ) -> Self {
        edits.sort_by_key(|e| (e.span.start, e.span.end));
        Fix {
            description: description.into(),
            applicability,
            edits,
        }
    }

    /// Applies the edits to `text`. Edits that overlap an earlier one, or that do not fall on
    /// character boundaries of `text`, are skipped.
    pub fn apply(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut pos = 0;
        for edit in &self.edits {
            if edit.span.start < pos
                || edit.span.end > text.len()
                || edit.span.start > edit.span.end
                || !text.is_char_boundary(edit.span.start)
                || !text.is_char_boundary(edit.span.end)
            {
                continue;
            }
            out.push_str(&text[pos..edit.span.start]);
            out.push_str(&edit.replacement);
            pos = edit.span.end;
        }
        out.push_str(&text[pos..]);
        out
    }
}

/// Extra context for a finding: another place involved, or a hint.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Note {
    /// What the note says.
    pub message: String,
    /// Where it points, when it points somewhere.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
}

/// One problem found in one Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Finding {
    /// The rule's stable code, e.g. `KL301`.
    pub code: &'static str,
    /// The rule's stable kebab-case name, e.g. `apt-lists-left-in-layer`.
    pub name: &'static str,
    /// The other names this finding answers to (a hadolint DL code, a BuildKit check name).
    /// Pragmas and configs that name any of them affect it.
    pub aliases: Vec<&'static str>,
    /// Effective severity (after configuration).
    pub severity: Severity,
    /// One sentence saying what is wrong here.
    pub message: String,
    /// The exact place.
    pub location: Location,
    /// A suggested change, when the rule knows one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<Fix>,
    /// Further context.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<Note>,
}

impl Finding {
    /// True when `id` names this finding's rule: its code, its name or one of its aliases
    /// (case-insensitive).
    pub fn answers_to(&self, id: &str) -> bool {
        id.eq_ignore_ascii_case(self.code)
            || id.eq_ignore_ascii_case(self.name)
            || self.aliases.iter().any(|a| id.eq_ignore_ascii_case(a))
    }
}

/// The findings of one file, with what the renderers need to show them.
#[derive(Debug, Clone)]
pub struct FileReport {
    /// The path as the user gave it (shown in every format).
    pub path: String,
    /// The file's text (lossily decoded when it was not UTF-8), for code frames.
    pub source: String,
    /// Findings sorted by position.
    pub findings: Vec<Finding>,
}

/// Maps byte offsets to lines and columns for one text.
#[derive(Debug, Clone)]
pub struct LineIndex {
    /// Byte offset of the start of every line.
    line_starts: Vec<usize>,
}

impl LineIndex {
    /// Indexes `text`. A line ends at `\n`; a `\r` before it belongs to no column count.
    pub fn new(text: &str) -> Self {
        let mut line_starts = Vec::with_capacity(text.len() / 32 + 1);
        line_starts.push(0);
        line_starts.extend(memchr_newlines(text.as_bytes()).map(|i| i + 1));
        LineIndex { line_starts }
    }

    /// The number of lines (a trailing newline starts an empty last line).
    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// Byte range of 1-based `line`, without its line ending.
    pub fn line_span(&self, text: &str, line: usize) -> Span {
        let start = self.line_starts[line - 1];
        let mut end = self
            .line_starts
            .get(line)
            .map_or(text.len(), |next| next - 1);
        if end > start && text.as_bytes()[end - 1] == b'\r' {
            end -= 1;
        }
        Span::new(start, end.max(start))
    }

    /// The position of byte `offset` (clamped to the text and to a character boundary).
    pub fn position(&self, text: &str, offset: usize) -> Position {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.line_starts.partition_point(|&s| s <= offset);
        let start = self.line_starts[line - 1];
        let column = text[start..offset].chars().count() + 1;
        Position { line, column }
    }

    /// A [`Location`] for `span` in `text`.
    pub fn location(&self, text: &str, span: Span) -> Location {
        Location {
            span,
            start: self.position(text, span.start),
            end: self.position(text, span.end.max(span.start)),
        }
    }
}

fn memchr_newlines(bytes: &[u8]) -> impl Iterator<Item = usize> + '_ {
    bytes
        .iter()
        .enumerate()
        .filter_map(|(i, &b)| (b == b'\n').then_some(i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_characters_and_lines() {
        let text = "FROM a\r\nRUN é x\n\nCMD y";
        let idx = LineIndex::new(text);
        assert_eq!(idx.line_count(), 4);
        assert_eq!(idx.position(text, 0), Position { line: 1, column: 1 });
        let x = text.find('x').unwrap();
        assert_eq!(idx.position(text, x), Position { line: 2, column: 7 });
        assert_eq!(idx.line_span(text, 1), Span::new(0, 6));
        assert_eq!(
            &text[idx.line_span(text, 2).start..idx.line_span(text, 2).end],
            "RUN é x"
        );
        let c = text.find("CMD").unwrap();
        assert_eq!(idx.position(text, c), Position { line: 4, column: 1 });
        assert_eq!(idx.position(text, 999), Position { line: 4, column: 6 });
    }

    #[test]
    fn position_inside_a_multibyte_character_moves_back() {
        let text = "é";
        let idx = LineIndex::new(text);
        assert_eq!(idx.position(text, 1), Position { line: 1, column: 1 });
    }

    #[test]
    fn severity_order_and_names() {
        assert!(Severity::Error > Severity::Warning);
        assert!(Severity::Info > Severity::Style);
        for s in Severity::ALL {
            assert_eq!(s.as_str().parse::<Severity>().unwrap(), s);
        }
        assert!("fatal".parse::<Severity>().is_err());
    }

    #[test]
    fn fix_applies_sorted_edits_and_skips_overlaps() {
        let fix = Fix::new(
            "t",
            Applicability::Safe,
            vec![
                Edit::insert(3, "X"),
                Edit::replace(Span::new(0, 1), "a"),
                Edit::delete(Span::new(0, 2)),
            ],
        );
        assert_eq!(fix.apply("ABCD"), "aBCXD");
    }
}
