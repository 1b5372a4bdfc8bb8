//! Go string semantics on bytes.
//!
//! BuildKit is written in Go, where strings are byte sequences that are decoded
//! rune by rune only where a function asks for it. To split and trim exactly as
//! BuildKit does, the parser works on bytes and uses these helpers, which
//! decode UTF-8 the way Go does (an invalid byte is `U+FFFD` of width 1).

/// The replacement character Go yields for an invalid byte.
pub(crate) const RUNE_ERROR: char = '\u{FFFD}';

/// Decodes the rune at the start of `b` like Go's `utf8.DecodeRune`: returns the
/// rune and its width; an invalid or truncated sequence is `U+FFFD` of width 1.
/// `b` must not be empty.
pub(crate) fn decode_rune(b: &[u8]) -> (char, usize) {
    let b0 = b[0];
    if b0 < 0x80 {
        return (b0 as char, 1);
    }
    let (len, lo, hi) = match b0 {
        0xC2..=0xDF => (2, 0x80, 0xBF),
        0xE0 => (3, 0xA0, 0xBF),
        0xE1..=0xEC | 0xEE..=0xEF => (3, 0x80, 0xBF),
        0xED => (3, 0x80, 0x9F),
        0xF0 => (4, 0x90, 0xBF),
        0xF1..=0xF3 => (4, 0x80, 0xBF),
        0xF4 => (4, 0x80, 0x8F),
        _ => return (RUNE_ERROR, 1),
    };
    if b.len() < len || !(lo..=hi).contains(&b[1]) {
        return (RUNE_ERROR, 1);
    }
    if b[2..len].iter().any(|&c| !(0x80..=0xBF).contains(&c)) {
        return (RUNE_ERROR, 1);
    }
    match std::str::from_utf8(&b[..len]) {
        Ok(s) => (s.chars().next().unwrap_or(RUNE_ERROR), len),
        Err(_) => (RUNE_ERROR, 1),
    }
}

/// Decodes the rune that ends at `end` (exclusive) like Go's
/// `utf8.DecodeLastRune`. `end` must be greater than zero.
pub(crate) fn decode_last_rune(b: &[u8], end: usize) -> (char, usize) {
    let start_min = end.saturating_sub(4);
    let mut start = end - 1;
    while start > start_min && (b[start] & 0xC0) == 0x80 {
        start -= 1;
    }
    let (r, w) = decode_rune(&b[start..end]);
    if start + w != end {
        return (RUNE_ERROR, 1);
    }
    (r, w)
}

/// Go's `unicode.IsSpace`.
pub(crate) fn is_space(c: char) -> bool {
    // Rust's White_Space property is the same set as Go's IsSpace.
    c.is_whitespace()
}

/// Go's `unicode.IsSpace(rune(b))` for a single byte taken as a rune (BuildKit
/// does this in a few byte loops, which makes 0x85 and 0xA0 spaces).
pub(crate) fn is_space_byte_as_rune(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | 0x0B | 0x0C | b'\r' | b' ' | 0x85 | 0xA0)
}

/// The length of the leading run of `unicode.IsSpace` runes.
pub(crate) fn leading_space_len(b: &[u8]) -> usize {
    let mut i = 0;
    while i < b.len() {
        let (c, w) = decode_rune(&b[i..]);
        if c == RUNE_ERROR && w == 1 || !is_space(c) {
            break;
        }
        i += w;
    }
    i
}

/// The length of `b` without its trailing run of `unicode.IsSpace` runes.
pub(crate) fn trimmed_end(b: &[u8]) -> usize {
    let mut end = b.len();
    while end > 0 {
        let (c, w) = decode_last_rune(b, end);
        if c == RUNE_ERROR && w == 1 || !is_space(c) {
            break;
        }
        end -= w;
    }
    end
}

/// Go's `strings.TrimSpace`, as a range into `b`.
pub(crate) fn trim_space_range(b: &[u8]) -> (usize, usize) {
    let start = leading_space_len(b);
    let end = start + trimmed_end(&b[start..]);
    (start, end)
}

/// Whether `b` is one of the bytes of the regexp class `[\t\v\f\r ]`.
pub(crate) fn is_re_whitespace(b: u8) -> bool {
    matches!(b, b'\t' | 0x0B | 0x0C | b'\r' | b' ')
}

/// Appends `c` as UTF-8 (Go's `string(rune)` / `WriteRune`).
pub(crate) fn push_char(out: &mut Vec<u8>, c: char) {
    let mut buf = [0u8; 4];
    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
}

/// Go's `strings.ToLower` restricted to what matters for instruction names:
/// the result is compared with ASCII keywords, so only runes whose simple
/// lowercase is ASCII matter (ASCII letters, KELVIN SIGN and LATIN CAPITAL
/// LETTER I WITH DOT ABOVE). Returns `None` when the lowered text cannot be
/// ASCII.
pub(crate) fn keyword_lower(b: &[u8]) -> Option<String> {
    let mut out = String::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let (c, w) = decode_rune(&b[i..]);
        let lc = match c {
            'A'..='Z' => c.to_ascii_lowercase(),
            '\u{212A}' => 'k',
            '\u{0130}' => 'i',
            c if c.is_ascii() => c,
            _ => return None,
        };
        out.push(lc);
        i += w;
    }
    Some(out)
}

/// Go's `strconv.Quote` (as used by `%q`), close enough for error messages:
/// printable runes are kept, the usual escapes are used, invalid bytes are
/// `\xNN`, and non-printable runes are `\uNNNN` / `\UNNNNNNNN`.
pub(crate) fn go_quote(b: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(b.len() + 2);
    out.push('"');
    let mut i = 0;
    while i < b.len() {
        let (c, w) = decode_rune(&b[i..]);
        if c == RUNE_ERROR && w == 1 {
            let _ = write!(out, "\\x{:02x}", b[i]);
            i += 1;
            continue;
        }
        i += w;
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if is_go_printable(c) => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if (c as u32) < 0x10000 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\U{:08x}", c as u32);
            }
        }
    }
    out.push('"');
    out
}

/// An approximation of Go's `unicode.IsPrint` without Unicode tables: control,
/// format, separator (other than ASCII space), private-use and noncharacter
/// code points are not printable.
fn is_go_printable(c: char) -> bool {
    let u = c as u32;
    if u < 0x20 || (0x7F..0xA0).contains(&u) {
        return false;
    }
    if c == ' ' {
        return true;
    }
    if c.is_whitespace() {
        return false;
    }
    !matches!(u,
        0xAD | 0x600..=0x605 | 0x61C | 0x6DD | 0x70F | 0x180E | 0x200B..=0x200F
        | 0x202A..=0x202E | 0x2060..=0x206F | 0xFEFF | 0xFFF9..=0xFFFB
        | 0xE000..=0xF8FF | 0xF0000..=0x10FFFF | 0xFDD0..=0xFDEF)
        && (u & 0xFFFE) != 0xFFFE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_like_go() {
        assert_eq!(decode_rune(b"a"), ('a', 1));
        assert_eq!(decode_rune("é".as_bytes()), ('é', 2));
        assert_eq!(decode_rune(b"\xC3"), (RUNE_ERROR, 1));
        assert_eq!(decode_rune(b"\xED\xA0\x80"), (RUNE_ERROR, 1));
        assert_eq!(decode_rune(b"\xF4\x90\x80\x80"), (RUNE_ERROR, 1));
        assert_eq!(decode_last_rune("aé".as_bytes(), 3), ('é', 2));
        assert_eq!(decode_last_rune(b"a\xA9", 2), (RUNE_ERROR, 1));
    }

    #[test]
    fn trims_unicode_space() {
        let s = "\u{a0} x \u{3000}".as_bytes();
        let (a, b) = trim_space_range(s);
        assert_eq!(&s[a..b], b"x");
        assert_eq!(trim_space_range(b"\xA0x"), (0, 2));
    }

    #[test]
    fn quotes_like_go() {
        assert_eq!(go_quote(b"a\"b\\\n"), r#""a\"b\\\n""#);
        assert_eq!(go_quote(b"\x00\xff\xe2\x80\x8b"), r#""\x00\xff\u200b""#);
        assert_eq!(go_quote("♥".as_bytes()), "\"♥\"");
    }

    #[test]
    fn lowers_keywords_like_go() {
        assert_eq!(keyword_lower(b"RuN").as_deref(), Some("run"));
        assert_eq!(
            keyword_lower("WOR\u{212A}DIR".as_bytes()).as_deref(),
            Some("workdir")
        );
        assert_eq!(keyword_lower("Ä".as_bytes()), None);
    }
}
