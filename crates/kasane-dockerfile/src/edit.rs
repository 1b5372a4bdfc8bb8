//! Text edits on a parsed Dockerfile that leave everything else untouched.
//!
//! A [`Rewrite`] collects replacements of source ranges (a node's span, a whole
//! instruction, an insertion between instructions) and applies them at once.
//! Text outside the edited ranges is copied byte for byte, so comments, blank
//! lines, line endings and formatting of untouched instructions survive.

use crate::ParseError;
use crate::span::Span;
use crate::tree::{Dockerfile, ParseOptions};

/// Why a rewrite could not be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EditError {
    /// Two edits change overlapping text.
    #[error("edits overlap at bytes {first:?} and {second:?}")]
    Overlap {
        /// The earlier edit's range.
        first: std::ops::Range<usize>,
        /// The later edit's range.
        second: std::ops::Range<usize>,
    },
    /// An instruction index past the end.
    #[error("no instruction {0}")]
    NoSuchInstruction(usize),
    /// A range outside the source.
    #[error("range {0:?} is outside the source")]
    OutOfRange(std::ops::Range<usize>),
    /// The rewritten text does not parse.
    #[error("the rewritten Dockerfile does not parse: {0}")]
    Reparse(#[from] ParseError),
}

/// A set of edits on one [`Dockerfile`]; see [`Dockerfile::rewrite`].
#[derive(Debug, Clone)]
pub struct Rewrite<'a> {
    df: &'a Dockerfile,
    edits: Vec<Edit>,
    error: Option<EditError>,
}

#[derive(Debug, Clone)]
struct Edit {
    start: usize,
    end: usize,
    text: String,
    /// Order of insertion, to keep several insertions at one point in order.
    seq: usize,
}

impl Dockerfile {
    /// Starts a set of edits.
    pub fn rewrite(&self) -> Rewrite<'_> {
        Rewrite {
            df: self,
            edits: Vec::new(),
            error: None,
        }
    }
}

impl<'a> Rewrite<'a> {
    fn push(&mut self, start: usize, end: usize, text: String) -> &mut Self {
        if start > end || end > self.df.source().len() {
            self.error.get_or_insert(EditError::OutOfRange(start..end));
            return self;
        }
        let seq = self.edits.len();
        self.edits.push(Edit {
            start,
            end,
            text,
            seq,
        });
        self
    }

    fn instruction_extent(&mut self, index: usize) -> Option<(Span, Span)> {
        match self.df.instructions().get(index) {
            Some(i) => Some((i.span, i.extent)),
            None => {
                self.error
                    .get_or_insert(EditError::NoSuchInstruction(index));
                None
            }
        }
    }

    /// The line break to use next to an instruction: its own, or for a last
    /// line without one, the file's.
    fn line_break(&self, extent: Span) -> &'static str {
        let text = self.df.text(extent);
        let crlf = if text.ends_with('\n') {
            text.ends_with("\r\n")
        } else {
            self.df.source().contains("\r\n")
        };
        if crlf { "\r\n" } else { "\n" }
    }

    /// Replaces the text of `span` (any node's span) with `text`.
    pub fn replace(&mut self, span: Span, text: impl Into<String>) -> &mut Self {
        self.push(span.start.offset, span.end.offset, text.into())
    }

    /// Replaces instruction `index` (from its keyword to the end of its last
    /// line; indentation and the final line break stay) with `text`.
    pub fn replace_instruction(&mut self, index: usize, text: impl Into<String>) -> &mut Self {
        match self.instruction_extent(index) {
            Some((span, _)) => self.replace(span, text),
            None => self,
        }
    }

    /// Removes instruction `index` with its whole lines (comment lines above it
    /// are kept).
    pub fn remove_instruction(&mut self, index: usize) -> &mut Self {
        match self.instruction_extent(index) {
            Some((_, extent)) => self.push(extent.start.offset, extent.end.offset, String::new()),
            None => self,
        }
    }

    /// Inserts `text` as new lines before instruction `index` (a line break is
    /// added after it).
    pub fn insert_before(&mut self, index: usize, text: impl Into<String>) -> &mut Self {
        match self.instruction_extent(index) {
            Some((_, extent)) => {
                let nl = self.line_break(extent);
                let mut text = text.into();
                text.push_str(nl);
                self.push(extent.start.offset, extent.start.offset, text)
            }
            None => self,
        }
    }

    /// Inserts `text` as new lines after instruction `index`.
    pub fn insert_after(&mut self, index: usize, text: impl Into<String>) -> &mut Self {
        match self.instruction_extent(index) {
            Some((_, extent)) => {
                let nl = self.line_break(extent);
                let ends_with_break = self.df.text(extent).ends_with('\n');
                let mut out = String::new();
                if !ends_with_break {
                    out.push_str(nl);
                }
                out.push_str(&text.into());
                if ends_with_break {
                    out.push_str(nl);
                }
                self.push(extent.end.offset, extent.end.offset, out)
            }
            None => self,
        }
    }

    /// Applies the edits and returns the new text.
    pub fn finish(mut self) -> Result<String, EditError> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        let src = self.df.source();
        self.edits.sort_by_key(|e| (e.start, e.end, e.seq));
        let mut out = String::with_capacity(src.len());
        let mut at = 0;
        let mut prev: Option<&Edit> = None;
        for e in &self.edits {
            if let Some(p) = prev {
                // Insertions at the same point are fine; anything else that
                // starts before the previous edit ends overlaps.
                if e.start < p.end {
                    return Err(EditError::Overlap {
                        first: p.start..p.end,
                        second: e.start..e.end,
                    });
                }
            }
            out.push_str(&src[at..e.start]);
            out.push_str(&e.text);
            at = e.end;
            prev = Some(e);
        }
        out.push_str(&src[at..]);
        Ok(out)
    }

    /// Applies the edits and parses the result with the same dialect.
    pub fn apply(self) -> Result<Dockerfile, EditError> {
        let dialect = self.df.dialect();
        let text = self.finish()?;
        Ok(Dockerfile::parse_with(
            &text,
            ParseOptions::dialect(dialect),
        )?)
    }
}

#[cfg(test)]
mod tests {
    use crate::parse;

    const SRC: &str = "FROM a\n# keep me\nRUN x \\\n  y\n\nCMD [\"z\"]\n";

    #[test]
    fn replace_keeps_the_rest() {
        let df = parse(SRC).unwrap();
        let mut rw = df.rewrite();
        rw.replace_instruction(1, "RUN x && y");
        assert_eq!(
            rw.finish().unwrap(),
            "FROM a\n# keep me\nRUN x && y\n\nCMD [\"z\"]\n"
        );
    }

    #[test]
    fn insert_and_remove() {
        let df = parse(SRC).unwrap();
        let mut rw = df.rewrite();
        rw.remove_instruction(1)
            .insert_before(2, "USER app")
            .insert_after(2, "EXPOSE 80");
        let out = rw.apply().unwrap();
        assert_eq!(
            out.print(),
            "FROM a\n# keep me\n\nUSER app\nCMD [\"z\"]\nEXPOSE 80\n"
        );
    }

    #[test]
    fn insert_after_last_line_without_break() {
        let df = parse("FROM a").unwrap();
        let mut rw = df.rewrite();
        rw.insert_after(0, "RUN b");
        assert_eq!(rw.finish().unwrap(), "FROM a\nRUN b");
    }

    #[test]
    fn crlf_is_kept() {
        let df = parse("FROM a\r\nRUN b\r\n").unwrap();
        let mut rw = df.rewrite();
        rw.insert_before(1, "USER x");
        assert_eq!(rw.finish().unwrap(), "FROM a\r\nUSER x\r\nRUN b\r\n");
    }

    #[test]
    fn overlaps_and_bad_indexes_are_errors() {
        let df = parse(SRC).unwrap();
        let mut rw = df.rewrite();
        rw.replace_instruction(1, "A").remove_instruction(1);
        assert!(matches!(rw.finish(), Err(crate::EditError::Overlap { .. })));
        let mut rw = df.rewrite();
        rw.remove_instruction(9);
        assert!(matches!(
            rw.finish(),
            Err(crate::EditError::NoSuchInstruction(9))
        ));
    }

    #[test]
    fn edits_a_flag_value() {
        let df = parse("COPY --from=build /a /b\n").unwrap();
        let flag = df.instructions()[0].flag("from").unwrap().clone();
        let mut rw = df.rewrite();
        rw.replace(flag.span, "--from=base");
        assert_eq!(rw.finish().unwrap(), "COPY --from=base /a /b\n");
    }
}
