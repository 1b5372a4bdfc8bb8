//! The exec (JSON array) form, decided exactly as BuildKit decides it.
//!
//! BuildKit decodes the arguments with Go's `encoding/json` into `[]interface{}`
//! and then requires every element to be a string. What matters is which of
//! three outcomes a text gets: a string array (exec form), valid JSON with a
//! non-string element (a hard error), or anything else (silently the shell
//! form). This is a small scanner that reproduces Go's grammar, its nesting
//! limit, its number range check and its string decoding (invalid UTF-8 and
//! lone surrogates become U+FFFD), and records where each string came from.

use crate::gostr::{decode_rune, push_char};

/// Go's `encoding/json` nesting limit.
const MAX_DEPTH: usize = 10_000;

/// One string element of an exec-form array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JsonString {
    /// Byte range of the string literal (quotes included) in the input.
    pub(crate) start: usize,
    pub(crate) end: usize,
    /// The decoded value.
    pub(crate) value: Vec<u8>,
}

/// How BuildKit reads a text that may be a JSON array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum JsonArray {
    /// A JSON array of strings: the exec form.
    Strings(Vec<JsonString>),
    /// Valid JSON whose top-level array holds a non-string: BuildKit fails with
    /// "when using JSON array syntax, arrays must be comprised of strings only".
    NotStrings,
    /// Not a JSON array (syntax error, too deep, number out of range): BuildKit
    /// falls back to the shell form.
    Invalid,
}

/// Reads `input` (which BuildKit has already left-trimmed) as a JSON array.
/// With `strict_end`, text after the array must be whitespace only (Go's
/// `json.Unmarshal`, newer BuildKit); without it, anything after the array is
/// ignored (Go's `json.Decoder`, BuildKit 0.12).
pub(crate) fn parse_json_array(input: &[u8], strict_end: bool) -> JsonArray {
    if input.first() != Some(&b'[') {
        return JsonArray::Invalid;
    }
    let mut p = Parser { b: input, pos: 0 };
    match p.array() {
        Ok((strings, all_strings)) => {
            if strict_end {
                p.skip_ws();
                if p.pos != input.len() {
                    return JsonArray::Invalid;
                }
            }
            if all_strings {
                JsonArray::Strings(strings)
            } else {
                JsonArray::NotStrings
            }
        }
        Err(()) => JsonArray::Invalid,
    }
}

struct Parser<'a> {
    b: &'a [u8],
    pos: usize,
}

/// What a container on the stack is, and where in it the scanner is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Frame {
    Array,
    Object,
}

impl Parser<'_> {
    fn skip_ws(&mut self) {
        while let Some(&c) = self.b.get(self.pos) {
            if matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    /// Scans the top-level array iteratively (no recursion, so no stack limit
    /// other than Go's own depth limit). Returns the top-level strings and
    /// whether every top-level element was a string.
    fn array(&mut self) -> Result<(Vec<JsonString>, bool), ()> {
        let mut strings = Vec::new();
        let mut all_strings = true;
        let mut stack: Vec<Frame> = vec![Frame::Array];
        self.pos += 1; // '['
        // `expect_value_or_close`: just after '[' (a ']' may close it).
        let mut just_opened = true;
        loop {
            self.skip_ws();
            let frame = *stack.last().ok_or(())?;
            if just_opened {
                let close = if frame == Frame::Array { b']' } else { b'}' };
                if self.peek() == Some(close) {
                    self.pos += 1;
                    stack.pop();
                    if stack.is_empty() {
                        return Ok((strings, all_strings));
                    }
                    just_opened = false;
                    continue_after_value(self, &mut stack)?;
                    if stack.is_empty() {
                        return Ok((strings, all_strings));
                    }
                    continue;
                }
            }
            if frame == Frame::Object {
                // key
                if self.peek() != Some(b'"') {
                    return Err(());
                }
                self.string()?;
                self.skip_ws();
                if self.peek() != Some(b':') {
                    return Err(());
                }
                self.pos += 1;
                self.skip_ws();
            }
            // a value
            let top_level = stack.len() == 1;
            let start = self.pos;
            match self.peek().ok_or(())? {
                b'"' => {
                    let value = self.string()?;
                    if top_level {
                        strings.push(JsonString {
                            start,
                            end: self.pos,
                            value,
                        });
                    }
                }
                c @ (b'[' | b'{') => {
                    if top_level {
                        all_strings = false;
                    }
                    self.pos += 1;
                    stack.push(if c == b'[' {
                        Frame::Array
                    } else {
                        Frame::Object
                    });
                    if stack.len() > MAX_DEPTH {
                        return Err(());
                    }
                    just_opened = true;
                    continue;
                }
                b't' => self.literal(b"true")?,
                b'f' => self.literal(b"false")?,
                b'n' => self.literal(b"null")?,
                b'-' | b'0'..=b'9' => self.number()?,
                _ => return Err(()),
            }
            if top_level && self.b[start] != b'"' {
                all_strings = false;
            }
            just_opened = false;
            continue_after_value(self, &mut stack)?;
            if stack.is_empty() {
                return Ok((strings, all_strings));
            }
        }

        /// After a value: a ',' (next value) or the closing bracket of the
        /// current container, possibly closing several containers in a row.
        fn continue_after_value(p: &mut Parser<'_>, stack: &mut Vec<Frame>) -> Result<(), ()> {
            loop {
                p.skip_ws();
                let frame = *stack.last().ok_or(())?;
                let close = if frame == Frame::Array { b']' } else { b'}' };
                match p.peek() {
                    Some(b',') => {
                        p.pos += 1;
                        return Ok(());
                    }
                    Some(c) if c == close => {
                        p.pos += 1;
                        stack.pop();
                        if stack.is_empty() {
                            return Ok(());
                        }
                    }
                    _ => return Err(()),
                }
            }
        }
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), ()> {
        if self.b[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(())
        }
    }

    /// A JSON number; Go rejects (as a type error) numbers that overflow f64.
    fn number(&mut self) -> Result<(), ()> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                while matches!(self.peek(), Some(b'0'..=b'9')) {
                    self.pos += 1;
                }
            }
            _ => return Err(()),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(());
            }
            while matches!(self.peek(), Some(b'0'..=b'9')) {
                self.pos += 1;
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(());
            }
            while matches!(self.peek(), Some(b'0'..=b'9')) {
                self.pos += 1;
            }
        }
        let text = std::str::from_utf8(&self.b[start..self.pos]).map_err(|_| ())?;
        match text.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(()),
            _ => Err(()),
        }
    }

    /// A string literal starting at `"`; returns the decoded bytes.
    fn string(&mut self) -> Result<Vec<u8>, ()> {
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            let c = self.peek().ok_or(())?;
            match c {
                b'"' => {
                    self.pos += 1;
                    return Ok(out);
                }
                b'\\' => {
                    self.pos += 1;
                    let e = self.peek().ok_or(())?;
                    self.pos += 1;
                    match e {
                        b'"' | b'\\' | b'/' => out.push(e),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'u' => {
                            let r = self.hex4().ok_or(())?;
                            self.pos += 4;
                            if (0xD800..0xE000).contains(&r) {
                                // A surrogate: only a high one followed by an
                                // escaped low one makes a pair.
                                let pair = if r < 0xDC00 && self.b[self.pos..].starts_with(b"\\u") {
                                    self.pos += 2;
                                    let r2 = self.hex4();
                                    self.pos -= 2;
                                    r2.filter(|r2| (0xDC00..0xE000).contains(r2))
                                } else {
                                    None
                                };
                                match pair {
                                    Some(r2) => {
                                        let cp = 0x10000 + ((r - 0xD800) << 10) + (r2 - 0xDC00);
                                        push_char(
                                            &mut out,
                                            char::from_u32(cp).unwrap_or('\u{FFFD}'),
                                        );
                                        self.pos += 6;
                                    }
                                    None => push_char(&mut out, '\u{FFFD}'),
                                }
                            } else {
                                push_char(&mut out, char::from_u32(r).unwrap_or('\u{FFFD}'));
                            }
                        }
                        _ => return Err(()),
                    }
                }
                0..=0x1F => return Err(()),
                0x20..=0x7F => {
                    out.push(c);
                    self.pos += 1;
                }
                _ => {
                    let (r, w) = decode_rune(&self.b[self.pos..]);
                    if r == '\u{FFFD}' && w == 1 {
                        push_char(&mut out, '\u{FFFD}');
                    } else {
                        out.extend_from_slice(&self.b[self.pos..self.pos + w]);
                    }
                    self.pos += w;
                }
            }
        }
    }

    /// The 4 hex digits at the current position, without consuming them.
    fn hex4(&self) -> Option<u32> {
        let h = self.b.get(self.pos..self.pos + 4)?;
        let mut v = 0u32;
        for &c in h {
            let d = (c as char).to_digit(16)?;
            v = v * 16 + d;
        }
        Some(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(input: &str, strict: bool) -> Option<Vec<String>> {
        match parse_json_array(input.as_bytes(), strict) {
            JsonArray::Strings(v) => Some(
                v.into_iter()
                    .map(|s| String::from_utf8(s.value).unwrap())
                    .collect(),
            ),
            _ => None,
        }
    }

    #[test]
    fn string_arrays() {
        assert_eq!(
            values(r#"["a", "b c"]"#, false),
            Some(vec!["a".into(), "b c".into()])
        );
        assert_eq!(values("[]", false), Some(vec![]));
        assert_eq!(
            values(r#"[ "\u00e9\n\/" ]"#, false),
            Some(vec!["é\n/".into()])
        );
        assert_eq!(
            values(r#"["\ud83d\ude00"]"#, false),
            Some(vec!["😀".into()])
        );
        assert_eq!(
            values(r#"["\ud83d"]"#, false),
            Some(vec!["\u{FFFD}".into()])
        );
        assert_eq!(
            values(r#"["\ud83d\u0041"]"#, false),
            Some(vec!["\u{FFFD}A".into()])
        );
    }

    #[test]
    fn trailing_text() {
        assert_eq!(values(r#"["a"] b"#, false), Some(vec!["a".into()]));
        assert_eq!(values(r#"["a"] b"#, true), None);
        assert_eq!(values("[\"a\"] \n", true), Some(vec!["a".into()]));
    }

    #[test]
    fn outcomes() {
        assert_eq!(parse_json_array(b"[1]", false), JsonArray::NotStrings);
        assert_eq!(
            parse_json_array(br#"["a", [], {"k": [null]}]"#, false),
            JsonArray::NotStrings
        );
        assert_eq!(parse_json_array(b"[1e999]", false), JsonArray::Invalid);
        assert_eq!(parse_json_array(b"['a']", false), JsonArray::Invalid);
        assert_eq!(parse_json_array(b"[\"a\",]", false), JsonArray::Invalid);
        assert_eq!(parse_json_array(b"[\"a", false), JsonArray::Invalid);
        assert_eq!(parse_json_array(b"[\"\t\"]", false), JsonArray::Invalid);
        assert_eq!(parse_json_array(b"[01]", false), JsonArray::Invalid);
        assert_eq!(parse_json_array(b"[\"\\x\"]", false), JsonArray::Invalid);
    }

    #[test]
    fn depth_limit() {
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert_eq!(
            parse_json_array(ok.as_bytes(), false),
            JsonArray::NotStrings
        );
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert_eq!(parse_json_array(deep.as_bytes(), false), JsonArray::Invalid);
    }
}
