//! The text a shell sees, and where each of its bytes came from in the Dockerfile.
//!
//! BuildKit joins the physical lines of a continued RUN into one logical line (dropping the
//! escape character, the line break, comment lines and empty lines) before the shell reads it.
//! [`ShellText`] does the same join and keeps a piece table, so every word the shell reader
//! finds maps back to its exact bytes in the file, also on continuation lines and in heredocs.

use std::ops::Range;

/// A run of logical text that is contiguous in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Piece {
    /// Offset in the logical text.
    logical: usize,
    /// Offset in the file.
    file: usize,
    /// Length in bytes.
    len: usize,
}

/// Logical shell text plus the map back to file offsets.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ShellText {
    text: String,
    pieces: Vec<Piece>,
}

impl ShellText {
    /// Text that is contiguous in the file, starting at byte `file_offset` (a heredoc body, a
    /// one-line RUN).
    pub fn contiguous(text: &str, file_offset: usize) -> ShellText {
        ShellText {
            text: text.to_owned(),
            pieces: vec![Piece {
                logical: 0,
                file: file_offset,
                len: text.len(),
            }],
        }
    }

    /// Joins the physical lines of a continued instruction the way BuildKit does.
    ///
    /// `raw` is the file's text from the first byte of the command (after the keyword and
    /// flags) to the end of the instruction's last line; `file_offset` is where `raw` starts.
    /// A line ending in `escape` (then optional spaces or tabs) continues on the next line; the
    /// escape, the trailing blanks and the line break are dropped. Inside a continuation, lines
    /// that are empty or all blanks, and lines whose first non-blank character is `#`, are
    /// skipped. `\r\n` line endings are handled. The join stops after the first line that does
    /// not continue.
    pub fn join_continued(raw: &str, file_offset: usize, escape: char) -> ShellText {
        let mut out = ShellText::default();
        let mut pos = 0;
        let mut first = true;
        while pos <= raw.len() {
            let line_end = raw[pos..].find('\n').map_or(raw.len(), |i| pos + i);
            let mut content_end = line_end;
            if content_end > pos && raw.as_bytes()[content_end - 1] == b'\r' {
                content_end -= 1;
            }
            let line = &raw[pos..content_end];
            let trimmed_start = line.trim_start_matches(is_blank);
            if !first && (trimmed_start.is_empty() || trimmed_start.starts_with('#')) {
                // Skipped inside a continuation: empty or comment line.
                if line_end >= raw.len() {
                    break;
                }
                pos = line_end + 1;
                continue;
            }
            first = false;
            let without_blanks = line.trim_end_matches([' ', '\t']);
            let continues = without_blanks.ends_with(escape);
            let keep = if continues {
                &line[..without_blanks.len() - escape.len_utf8()]
            } else {
                line
            };
            out.push(keep, file_offset + pos);
            if !continues || line_end >= raw.len() {
                break;
            }
            pos = line_end + 1;
        }
        out
    }

    fn push(&mut self, text: &str, file: usize) {
        if text.is_empty() {
            return;
        }
        self.pieces.push(Piece {
            logical: self.text.len(),
            file,
            len: text.len(),
        });
        self.text.push_str(text);
    }

    /// The logical text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The file offset of logical byte `offset`. An offset on the boundary of two pieces maps
    /// to the start of the later one.
    pub fn file_offset(&self, offset: usize) -> usize {
        self.map(offset, false)
    }

    /// The file byte range of the logical range `range`. The end is mapped to the end of the
    /// piece holding the range's last byte, so a word never swallows a line break.
    pub fn file_span(&self, range: Range<usize>) -> Range<usize> {
        let start = self.map(range.start, false);
        let end = if range.end > range.start {
            self.map(range.end, true)
        } else {
            start
        };
        start..end.max(start)
    }

    fn map(&self, offset: usize, as_end: bool) -> usize {
        if self.pieces.is_empty() {
            return 0;
        }
        let idx = if as_end {
            // The piece whose range (logical, logical+len] holds the offset.
            self.pieces
                .partition_point(|p| p.logical + p.len < offset)
                .min(self.pieces.len() - 1)
        } else {
            self.pieces
                .partition_point(|p| p.logical <= offset)
                .saturating_sub(1)
        };
        let p = self.pieces[idx];
        p.file + offset.saturating_sub(p.logical).min(p.len)
    }
}

fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_continuations_and_maps_back() {
        let file = "RUN apt-get update && \\\n    apt-get install -y curl\n";
        let raw_start = 4;
        let raw = &file[raw_start..file.len() - 1];
        let t = ShellText::join_continued(raw, raw_start, '\\');
        assert_eq!(t.text(), "apt-get update &&     apt-get install -y curl");
        let curl = t.text().find("curl").unwrap();
        let span = t.file_span(curl..curl + 4);
        assert_eq!(&file[span], "curl");
        let install = t.text().find("apt-get install").unwrap();
        assert_eq!(&file[t.file_span(install..install + 7)], "apt-get");
    }

    #[test]
    fn skips_comment_and_empty_lines_inside_continuation() {
        let raw = "a \\\n# comment \\\n\n   \t\n  b \\\r\n  c\nd";
        let t = ShellText::join_continued(raw, 100, '\\');
        assert_eq!(t.text(), "a   b   c");
        let c = t.text().find('c').unwrap();
        assert_eq!(t.file_offset(c), 100 + raw.find("c\n").unwrap());
    }

    #[test]
    fn backtick_escape_and_trailing_blanks() {
        let raw = "a `  \n b";
        let t = ShellText::join_continued(raw, 0, '`');
        assert_eq!(t.text(), "a  b");
    }

    #[test]
    fn stops_at_the_first_line_that_does_not_continue() {
        let t = ShellText::join_continued("a\nb", 0, '\\');
        assert_eq!(t.text(), "a");
    }

    #[test]
    fn spans_do_not_cross_into_the_next_piece() {
        let raw = "ab\\\ncd";
        let t = ShellText::join_continued(raw, 0, '\\');
        assert_eq!(t.text(), "abcd");
        assert_eq!(t.file_span(0..2), 0..2);
        assert_eq!(t.file_span(2..4), 4..6);
        assert_eq!(t.file_span(1..3), 1..5);
    }
}
