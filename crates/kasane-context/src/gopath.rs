//! The parts of Go's `path/filepath` (Unix flavour, Go 1.19) that .dockerignore semantics
//! depend on: `Clean`, `Dir` and the syntax check of `Match`.
//!
//! Docker's code runs on Go strings, which are byte strings that are usually but not always
//! UTF-8, so everything here works on bytes.

/// Go's `filepath.Clean` for `/`-separated paths: the shortest equivalent path, processing
/// `.`, `..` and repeated separators lexically. An empty path becomes `.`.
pub(crate) fn clean(path: &[u8]) -> Vec<u8> {
    if path.is_empty() {
        return b".".to_vec();
    }
    let rooted = path[0] == b'/';
    let n = path.len();
    let mut out: Vec<u8> = Vec::with_capacity(n);
    let (mut r, mut dotdot) = (0, 0);
    if rooted {
        out.push(b'/');
        r = 1;
        dotdot = 1;
    }
    while r < n {
        if path[r] == b'/' || (path[r] == b'.' && (r + 1 == n || path[r + 1] == b'/')) {
            r += 1;
        } else if path[r] == b'.'
            && path.get(r + 1) == Some(&b'.')
            && (r + 2 == n || path[r + 2] == b'/')
        {
            r += 2;
            if out.len() > dotdot {
                // Back up to the previous separator (or to `dotdot`).
                let mut w = out.len() - 1;
                while w > dotdot && out[w] != b'/' {
                    w -= 1;
                }
                out.truncate(w);
            } else if !rooted {
                if !out.is_empty() {
                    out.push(b'/');
                }
                out.extend_from_slice(b"..");
                dotdot = out.len();
            }
        } else {
            if (rooted && out.len() != 1) || (!rooted && !out.is_empty()) {
                out.push(b'/');
            }
            while r < n && path[r] != b'/' {
                out.push(path[r]);
                r += 1;
            }
        }
    }
    if out.is_empty() {
        out.push(b'.');
    }
    out
}

/// Go's `filepath.Dir`: everything before the last separator, cleaned.
pub(crate) fn dir(path: &[u8]) -> Vec<u8> {
    match path.iter().rposition(|&b| b == b'/') {
        Some(i) => clean(&path[..=i]),
        None => clean(b""),
    }
}

/// Decodes one rune the way Go's `utf8.DecodeRune` does: `(char, width)`, with
/// `(U+FFFD, 1)` for an invalid or truncated sequence and `(U+FFFD, 0)` for empty input.
pub(crate) fn decode_rune(s: &[u8]) -> (char, usize) {
    let Some(&first) = s.first() else {
        return (char::REPLACEMENT_CHARACTER, 0);
    };
    if first < 0x80 {
        return (char::from(first), 1);
    }
    let width = match first {
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => return (char::REPLACEMENT_CHARACTER, 1),
    };
    match s.get(..width).and_then(|seq| std::str::from_utf8(seq).ok()) {
        Some(text) => (
            text.chars().next().unwrap_or(char::REPLACEMENT_CHARACTER),
            width,
        ),
        None => (char::REPLACEMENT_CHARACTER, 1),
    }
}

/// Go's `utf8.DecodeLastRune`: the last rune and its width, `(U+FFFD, 1)` when the input
/// does not end in a valid sequence.
pub(crate) fn decode_last_rune(s: &[u8]) -> (char, usize) {
    let end = s.len();
    if end == 0 {
        return (char::REPLACEMENT_CHARACTER, 0);
    }
    if s[end - 1] < 0x80 {
        return (char::from(s[end - 1]), 1);
    }
    // Back up to a byte that can start a rune, at most four bytes.
    let lim = end.saturating_sub(4);
    let mut start = end - 1;
    while start > lim && (s[start] & 0xC0) == 0x80 {
        start -= 1;
    }
    let (c, n) = decode_rune(&s[start..end]);
    if start + n != end {
        return (char::REPLACEMENT_CHARACTER, 1);
    }
    (c, n)
}

/// The text Go's regexp engine sees when it matches `s`: valid UTF-8 is kept, and every byte
/// that does not start a valid sequence becomes U+FFFD, one per byte.
pub(crate) fn go_decoded(s: &[u8]) -> std::borrow::Cow<'_, str> {
    if let Ok(text) = std::str::from_utf8(s) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(s.len() + 8);
    let mut i = 0;
    while i < s.len() {
        let (c, width) = decode_rune(&s[i..]);
        out.push(c);
        i += width.max(1);
    }
    std::borrow::Cow::Owned(out)
}

/// Why Go's `filepath.Match(pattern, name)` rejects a pattern (it has one error value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BadPattern;

/// Go 1.19's `filepath.Match` on Unix. Docker calls it as `Match(pattern, ".")` only to see
/// whether it returns `ErrBadPattern`; note that Go stops checking the syntax as soon as a
/// chunk without a leading `*` fails to match, so some malformed patterns pass.
pub(crate) fn filepath_match(pattern: &[u8], name: &[u8]) -> Result<bool, BadPattern> {
    let mut pattern = pattern;
    let mut name = name;
    'pattern: while !pattern.is_empty() {
        let (star, chunk, rest) = scan_chunk(pattern);
        pattern = rest;
        if star && chunk.is_empty() {
            // A trailing `*` matches the rest of the name unless it holds a separator.
            return Ok(!name.contains(&b'/'));
        }
        let (t, ok, err) = match_chunk(chunk, name);
        if ok && (t.is_empty() || !pattern.is_empty()) {
            name = t;
            continue;
        }
        if let Some(err) = err {
            return Err(err);
        }
        if star {
            let mut i = 0;
            while i < name.len() && name[i] != b'/' {
                let (t, ok, err) = match_chunk(chunk, &name[i + 1..]);
                if ok {
                    if pattern.is_empty() && !t.is_empty() {
                        i += 1;
                        continue;
                    }
                    name = t;
                    continue 'pattern;
                }
                if let Some(err) = err {
                    return Err(err);
                }
                i += 1;
            }
        }
        return Ok(false);
    }
    Ok(name.is_empty())
}

fn scan_chunk(pattern: &[u8]) -> (bool, &[u8], &[u8]) {
    let mut pattern = pattern;
    let mut star = false;
    while pattern.first() == Some(&b'*') {
        pattern = &pattern[1..];
        star = true;
    }
    let mut in_range = false;
    let mut i = 0;
    while i < pattern.len() {
        match pattern[i] {
            b'\\' if i + 1 < pattern.len() => i += 1,
            b'[' => in_range = true,
            b']' => in_range = false,
            b'*' if !in_range => break,
            _ => {}
        }
        i += 1;
    }
    (star, &pattern[..i], &pattern[i..])
}

/// Returns `(rest, ok, error)` like Go's `matchChunk`.
fn match_chunk<'a>(chunk: &[u8], s: &'a [u8]) -> (&'a [u8], bool, Option<BadPattern>) {
    let mut chunk = chunk;
    let mut s = s;
    let mut failed = false;
    while !chunk.is_empty() {
        if !failed && s.is_empty() {
            failed = true;
        }
        match chunk[0] {
            b'[' => {
                let mut r = '\0';
                if !failed {
                    let (c, n) = decode_rune(s);
                    r = c;
                    s = &s[n..];
                }
                chunk = &chunk[1..];
                let mut negated = false;
                if chunk.first() == Some(&b'^') {
                    negated = true;
                    chunk = &chunk[1..];
                }
                let mut matched = false;
                let mut nrange = 0;
                loop {
                    if chunk.first() == Some(&b']') && nrange > 0 {
                        chunk = &chunk[1..];
                        break;
                    }
                    let (lo, rest) = match get_esc(chunk) {
                        Ok(v) => v,
                        Err(e) => return (&[], false, Some(e)),
                    };
                    chunk = rest;
                    let mut hi = lo;
                    if chunk[0] == b'-' {
                        match get_esc(&chunk[1..]) {
                            Ok((h, rest)) => {
                                hi = h;
                                chunk = rest;
                            }
                            Err(e) => return (&[], false, Some(e)),
                        }
                    }
                    if lo <= r && r <= hi {
                        matched = true;
                    }
                    nrange += 1;
                }
                if matched == negated {
                    failed = true;
                }
            }
            b'?' => {
                if !failed {
                    if s[0] == b'/' {
                        failed = true;
                    }
                    let (_, n) = decode_rune(s);
                    s = &s[n..];
                }
                chunk = &chunk[1..];
            }
            c => {
                let mut literal = c;
                if c == b'\\' {
                    chunk = &chunk[1..];
                    if chunk.is_empty() {
                        return (&[], false, Some(BadPattern));
                    }
                    literal = chunk[0];
                }
                if !failed {
                    if literal != s[0] {
                        failed = true;
                    }
                    s = &s[1..];
                }
                chunk = &chunk[1..];
            }
        }
    }
    if failed {
        (&[], false, None)
    } else {
        (s, true, None)
    }
}

/// One possibly escaped character of a class. Go also fails when nothing follows it, which
/// is what catches an unterminated `[`.
fn get_esc(chunk: &[u8]) -> Result<(char, &[u8]), BadPattern> {
    let mut chunk = chunk;
    if chunk.is_empty() || chunk[0] == b'-' || chunk[0] == b']' {
        return Err(BadPattern);
    }
    if chunk[0] == b'\\' {
        chunk = &chunk[1..];
        if chunk.is_empty() {
            return Err(BadPattern);
        }
    }
    let (r, n) = decode_rune(chunk);
    let invalid = r == char::REPLACEMENT_CHARACTER && n == 1;
    let rest = &chunk[n..];
    if invalid || rest.is_empty() {
        return Err(BadPattern);
    }
    Ok((r, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> String {
        String::from_utf8(clean(s.as_bytes())).unwrap()
    }

    #[test]
    fn clean_matches_go() {
        for (input, want) in [
            ("", "."),
            (".", "."),
            ("/", "/"),
            ("//", "/"),
            ("a/b/", "a/b"),
            ("a//b", "a/b"),
            ("./a", "a"),
            ("a/./b", "a/b"),
            ("a/../b", "b"),
            ("../a", "../a"),
            ("a/../..", ".."),
            ("/../a", "/a"),
            ("a/b/../../../c", "../c"),
            ("..//../x", "../../x"),
            ("abc/def/..", "abc"),
            ("/abc/..", "/"),
        ] {
            assert_eq!(c(input), want, "clean({input:?})");
        }
    }

    #[test]
    fn dir_matches_go() {
        for (input, want) in [
            ("a/b/c", "a/b"),
            ("a", "."),
            ("/a", "/"),
            ("a/b/", "a/b"),
            ("", "."),
        ] {
            assert_eq!(String::from_utf8(dir(input.as_bytes())).unwrap(), want);
        }
    }

    #[test]
    fn match_validation_matches_go() {
        let bad = |p: &str| filepath_match(p.as_bytes(), b".").is_err();
        assert!(bad("["));
        assert!(bad("[]"));
        assert!(bad("[a-]"));
        assert!(bad("*["));
        assert!(bad("\\"));
        assert!(bad("x\\"));
        assert!(!bad("a*["), "Go stops checking once a plain chunk fails");
        assert!(!bad("[a]"));
        assert!(!bad("[^a-z]"));
        assert!(!bad("[!a]"));
        assert!(!bad("**"));
    }

    #[test]
    fn match_works_like_go() {
        let m = |p: &str, n: &str| filepath_match(p.as_bytes(), n.as_bytes()).unwrap();
        assert!(m("*.go", "a.go"));
        assert!(!m("*.go", "a/b.go"));
        assert!(m("a?c", "abc"));
        assert!(m("[a-c]x", "bx"));
        assert!(!m("[^a-c]x", "bx"));
        assert!(m("\\*", "*"));
    }

    #[test]
    fn decoding_is_per_byte_like_go() {
        assert_eq!(go_decoded(b"a\xe2\x82x"), "a\u{FFFD}\u{FFFD}x");
        assert_eq!(go_decoded(b"\xed\xa0\x80"), "\u{FFFD}\u{FFFD}\u{FFFD}");
        assert_eq!(go_decoded("é".as_bytes()), "é");
    }
}
