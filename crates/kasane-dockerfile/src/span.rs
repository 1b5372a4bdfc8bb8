//! Positions in the source: byte offsets with 1-based line and column.

use serde::Serialize;

/// A point in the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
pub struct Position {
    /// Byte offset from the start of the file (a BOM counts).
    pub offset: usize,
    /// 1-based line number (lines end at `\n`), as BuildKit numbers them.
    pub line: u32,
    /// 1-based column, counted in characters (Unicode scalar values).
    pub column: u32,
}

/// A range of the source: `start` inclusive, `end` exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
pub struct Span {
    /// First byte.
    pub start: Position,
    /// Just past the last byte.
    pub end: Position,
}

impl Span {
    /// The byte range, for slicing the source.
    pub fn range(&self) -> std::ops::Range<usize> {
        self.start.offset..self.end.offset
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.end.offset - self.start.offset
    }

    /// Whether the span covers no bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether `offset` lies inside the span.
    pub fn contains(&self, offset: usize) -> bool {
        self.range().contains(&offset)
    }
}

/// Turns byte offsets into positions for one source text.
#[derive(Debug, Clone)]
pub(crate) struct LineIndex {
    line_starts: Vec<usize>,
}

impl LineIndex {
    pub(crate) fn new(src: &str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(
            src.bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'\n')
                .map(|(i, _)| i + 1),
        );
        LineIndex { line_starts }
    }

    /// The position of `offset` (moved back to a character boundary).
    pub(crate) fn position(&self, src: &str, offset: usize) -> Position {
        let mut offset = offset.min(src.len());
        while !src.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.line_starts.partition_point(|&s| s <= offset);
        let line_start = self.line_starts[line - 1];
        let column = src[line_start..offset].chars().count() + 1;
        Position {
            offset,
            line: u32::try_from(line).unwrap_or(u32::MAX),
            column: u32::try_from(column).unwrap_or(u32::MAX),
        }
    }

    /// The span of `start..end`, widened to character boundaries.
    pub(crate) fn span(&self, src: &str, start: usize, end: usize) -> Span {
        let mut end = end.min(src.len()).max(start.min(src.len()));
        while !src.is_char_boundary(end) {
            end += 1;
        }
        Span {
            start: self.position(src, start),
            end: self.position(src, end),
        }
    }
}

/// Computes positions for offsets that mostly come in increasing order (as a
/// tree is built), counting characters only from the previous position on the
/// same line, so building spans for a long line stays linear.
#[derive(Debug)]
pub(crate) struct PositionCursor<'a> {
    index: &'a LineIndex,
    src: &'a str,
    /// Line (1-based), offset and column of the last position computed.
    last: (usize, usize, u32),
}

impl<'a> PositionCursor<'a> {
    pub(crate) fn new(index: &'a LineIndex, src: &'a str) -> Self {
        PositionCursor {
            index,
            src,
            last: (0, 0, 0),
        }
    }

    pub(crate) fn position(&mut self, offset: usize) -> Position {
        let src = self.src;
        let mut offset = offset.min(src.len());
        while !src.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.index.line_starts.partition_point(|&s| s <= offset);
        let (from, base) = if self.last.0 == line && self.last.1 <= offset {
            (self.last.1, self.last.2 as usize)
        } else {
            (self.index.line_starts[line - 1], 1)
        };
        let column = base + src[from..offset].chars().count();
        let column = u32::try_from(column).unwrap_or(u32::MAX);
        self.last = (line, offset, column);
        Position {
            offset,
            line: u32::try_from(line).unwrap_or(u32::MAX),
            column,
        }
    }

    pub(crate) fn span(&mut self, start: usize, end: usize) -> Span {
        let src = self.src;
        let mut end = end.min(src.len()).max(start.min(src.len()));
        while !src.is_char_boundary(end) {
            end += 1;
        }
        let start = self.position(start);
        Span {
            start,
            end: self.position(end),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions() {
        let src = "ab\nçd\n";
        let idx = LineIndex::new(src);
        assert_eq!(
            idx.position(src, 0),
            Position {
                offset: 0,
                line: 1,
                column: 1
            }
        );
        assert_eq!(
            idx.position(src, 3),
            Position {
                offset: 3,
                line: 2,
                column: 1
            }
        );
        assert_eq!(
            idx.position(src, 5),
            Position {
                offset: 5,
                line: 2,
                column: 2
            }
        );
        // Inside 'ç': moved back to its start.
        assert_eq!(idx.position(src, 4).offset, 3);
        assert_eq!(idx.span(src, 3, 4).range(), 3..5);
        assert_eq!(
            idx.position(src, 7),
            Position {
                offset: 7,
                line: 3,
                column: 1
            }
        );
    }
}
