//! One .dockerignore pattern, compiled the way Docker compiles it.

use regex_automata::meta::Regex;

use crate::gopath;
use crate::re2;

/// Whose pattern compiler to reproduce. The two differ on purpose-built inputs only, but they
/// differ: kasane predicts what a given engine does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Dialect {
    /// `github.com/moby/patternmatcher` (v0.5+, used by Docker 23+ and current BuildKit):
    /// literal fast paths; `. + ( ) $` are literal characters, while `|` and `{n,m}` act as
    /// regexp operators whenever the pattern needs a regexp (an overflow in its escape table).
    #[default]
    Moby,
    /// `pkg/fileutils` of Docker 20.10 (its classic builder and its built-in BuildKit): every
    /// pattern is a Go regexp in which only `.` and `$` are escaped, so `+`, `|`, `( )` and
    /// `{n,m}` act as regexp operators and a leading `^` is an anchor.
    Docker20,
}

/// Why a pattern cannot be used. Docker reports the same conditions.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    /// A lone `!`.
    #[error("illegal exclusion pattern: \"!\"")]
    IllegalExclusion,
    /// Rejected by Go's `filepath.Match` syntax check (e.g. an unterminated `[`).
    #[error("syntax error in pattern `{pattern}`")]
    BadPattern {
        /// The cleaned pattern.
        pattern: String,
    },
    /// Accepted by the syntax check but the regexp Docker builds from it does not compile;
    /// Docker fails on the first path it matches against it.
    #[error("syntax error in pattern `{pattern}` (its regexp does not compile: {reason})")]
    BadRegexp {
        /// The cleaned pattern.
        pattern: String,
        /// What Go's regexp parser would reject.
        reason: String,
    },
}

#[derive(Debug, Clone)]
enum MatchKind {
    Exact,
    /// `foo/**`: a plain prefix test (the prefix is the pattern minus its last two bytes).
    Prefix,
    /// `**/foo`: a plain suffix test, and `**/foo` also matches `foo`.
    Suffix,
    Regex(Result<Box<Regex>, PatternError>),
}

/// One compiled pattern: what `PatternMatcher.New` keeps for a line of the ignore file.
#[derive(Debug, Clone)]
pub struct IgnorePattern {
    cleaned: Vec<u8>,
    exclusion: bool,
    dirs: usize,
    kind: MatchKind,
}

impl IgnorePattern {
    /// Compiles one raw pattern as `PatternMatcher.New` does: trims whitespace, cleans the
    /// path, splits off a leading `!`, checks the syntax. Returns `Ok(None)` for an empty line.
    pub fn new(raw: &[u8], dialect: Dialect) -> Result<Option<Self>, PatternError> {
        let trimmed = go_trim_space(raw);
        if trimmed.is_empty() {
            return Ok(None);
        }
        let mut cleaned = gopath::clean(trimmed);
        let exclusion = cleaned[0] == b'!';
        if exclusion {
            if cleaned.len() == 1 {
                return Err(PatternError::IllegalExclusion);
            }
            cleaned.remove(0);
        }
        if gopath::filepath_match(&cleaned, b".").is_err() {
            return Err(PatternError::BadPattern {
                pattern: String::from_utf8_lossy(&cleaned).into_owned(),
            });
        }
        let dirs = cleaned.split(|&b| b == b'/').count();
        let kind = compile(&cleaned, dialect);
        Ok(Some(IgnorePattern {
            cleaned,
            exclusion,
            dirs,
            kind,
        }))
    }

    /// The cleaned pattern, without its `!`.
    pub fn text(&self) -> &[u8] {
        &self.cleaned
    }

    /// Whether this is an exception (`!pattern`), which re-includes what it matches.
    pub fn is_exclusion(&self) -> bool {
        self.exclusion
    }

    /// Number of `/`-separated components (what the deprecated `Matches` compares parents by).
    pub(crate) fn dir_count(&self) -> usize {
        self.dirs
    }

    /// Whether the pattern matches `path` itself (not its parents).
    pub fn matches(&self, path: &[u8]) -> Result<bool, PatternError> {
        let p = &self.cleaned;
        Ok(match &self.kind {
            MatchKind::Exact => path == p.as_slice(),
            MatchKind::Prefix => path.starts_with(&p[..p.len() - 2]),
            MatchKind::Suffix => {
                let suffix = &p[2..];
                path.ends_with(suffix) || (suffix.first() == Some(&b'/') && path == &suffix[1..])
            }
            MatchKind::Regex(Ok(re)) => re.is_match(gopath::go_decoded(path).as_bytes()),
            MatchKind::Regex(Err(e)) => return Err(e.clone()),
        })
    }

    /// The error this pattern raises when matched, if its regexp does not compile.
    pub fn regexp_error(&self) -> Option<&PatternError> {
        match &self.kind {
            MatchKind::Regex(Err(e)) => Some(e),
            _ => None,
        }
    }
}

/// Go's `strings.TrimSpace`: strips leading and trailing runes that are `unicode.IsSpace`;
/// a byte that is not valid UTF-8 stops the trimming.
pub(crate) fn go_trim_space(s: &[u8]) -> &[u8] {
    let mut start = 0;
    while start < s.len() {
        let (c, n) = gopath::decode_rune(&s[start..]);
        if !is_go_space(c) {
            break;
        }
        start += n;
    }
    let mut end = s.len();
    while end > start {
        let (c, n) = gopath::decode_last_rune(&s[start..end]);
        if !is_go_space(c) {
            break;
        }
        end -= n;
    }
    &s[start..end]
}

/// Go's `unicode.IsSpace`.
fn is_go_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\x0B' | '\x0C' | '\r' | ' ' | '\u{85}' | '\u{A0}'
    ) || (c as u32 > 0xFF && c.is_whitespace())
}

/// Reads runes as Go's `text/scanner` does: a byte-order mark is skipped at the very start,
/// and each byte that does not begin a valid sequence is one U+FFFD.
struct Runes<'a> {
    s: &'a [u8],
    pos: usize,
}

impl<'a> Runes<'a> {
    fn new(s: &'a [u8]) -> Self {
        let mut runes = Runes { s, pos: 0 };
        if runes.peek() == Some('\u{FEFF}') {
            runes.next();
        }
        runes
    }

    fn peek(&self) -> Option<char> {
        (self.pos < self.s.len()).then(|| gopath::decode_rune(&self.s[self.pos..]).0)
    }

    fn next(&mut self) -> Option<char> {
        if self.pos >= self.s.len() {
            return None;
        }
        let (c, n) = gopath::decode_rune(&self.s[self.pos..]);
        self.pos += n.max(1);
        Some(c)
    }
}

/// Translates a cleaned pattern into Docker's match kind and, when needed, its Go regexp.
fn compile(cleaned: &[u8], dialect: Dialect) -> MatchKind {
    let escaped: &[char] = match dialect {
        // moby/patternmatcher means to escape `.+()|{}$`, but its lookup table keeps one bit
        // per byte in a `uint8` shifted by `char/8`, which overflows to zero for `|{}` (all
        // above 63): only `.+()$` are escaped, and `|`, `{n,m}` stay regexp operators.
        Dialect::Moby => &['.', '+', '(', ')', '$'],
        Dialect::Docker20 => &['.', '$'],
    };
    let mut kind = MatchKind::Exact;
    let mut regex_needed = dialect == Dialect::Docker20;
    let mut re = String::from("^");
    let mut scan = Runes::new(cleaned);
    let mut i = 0;
    while let Some(ch) = scan.next() {
        if ch == '*' {
            if scan.peek() == Some('*') {
                scan.next();
                if scan.peek() == Some('/') {
                    scan.next();
                }
                if scan.peek().is_none() {
                    if matches!(kind, MatchKind::Exact) && !regex_needed {
                        kind = MatchKind::Prefix;
                    } else {
                        re.push_str(".*");
                        regex_needed = true;
                    }
                } else {
                    re.push_str("(.*/)?");
                    regex_needed = true;
                }
                if i == 0 && dialect == Dialect::Moby {
                    kind = MatchKind::Suffix;
                    regex_needed = false;
                }
            } else {
                re.push_str("[^/]*");
                regex_needed = true;
            }
        } else if ch == '?' {
            re.push_str("[^/]");
            regex_needed = true;
        } else if escaped.contains(&ch) {
            re.push('\\');
            re.push(ch);
        } else if ch == '\\' {
            // A trailing backslash stays a lone `\` in the regexp (which then escapes the `$`).
            match scan.next() {
                Some(next) => {
                    re.push('\\');
                    re.push(next);
                    regex_needed = true;
                }
                None => re.push('\\'),
            }
        } else if ch == '[' || ch == ']' {
            re.push(ch);
            regex_needed = true;
        } else {
            re.push(ch);
        }
        i += 1;
    }
    if !regex_needed {
        return kind;
    }
    re.push('$');
    MatchKind::Regex(
        build_regex(&re)
            .map(Box::new)
            .map_err(|reason| PatternError::BadRegexp {
                pattern: String::from_utf8_lossy(cleaned).into_owned(),
                reason,
            }),
    )
}

fn build_regex(go_regex: &str) -> Result<Regex, String> {
    let hir = re2::parse(go_regex).map_err(|e| e.0)?;
    Regex::builder()
        .configure(Regex::config().utf8_empty(false))
        .build_from_hir(&hir)
        .map_err(|e| e.to_string())
}

/// Compiles a Go regexp string and reports whether it matches `text` (searching, unanchored,
/// like Go's `MatchString`). Exposed for the differential test of the regexp layer.
#[doc(hidden)]
pub fn go_regex_is_match(go_regex: &str, text: &[u8]) -> Result<bool, String> {
    let re = build_regex(go_regex)?;
    Ok(re.is_match(gopath::go_decoded(text).as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, path: &str) -> bool {
        IgnorePattern::new(pattern.as_bytes(), Dialect::Moby)
            .unwrap()
            .unwrap()
            .matches(path.as_bytes())
            .unwrap()
    }

    fn m20(pattern: &str, path: &str) -> bool {
        IgnorePattern::new(pattern.as_bytes(), Dialect::Docker20)
            .unwrap()
            .unwrap()
            .matches(path.as_bytes())
            .unwrap()
    }

    #[test]
    fn moby_fast_paths_and_regexps() {
        assert!(m("foo", "foo"));
        assert!(!m("foo", "foo/bar"), "parents are the matcher's job");
        assert!(m("foo/**", "foo/bar/baz"));
        assert!(m("**/foo", "a/b/foo"));
        assert!(m("**/foo", "foo"));
        assert!(m("**", "anything/at/all"));
        assert!(m("*.md", "README.md"));
        assert!(!m("*.md", "docs/README.md"));
        assert!(m("a?c", "abc"));
        assert!(!m("a?c", "a/c"));
        assert!(m("[^a]x", "bx"));
        assert!(m("[!a]x", "!x"), "[!a] is a class holding ! and a");
        assert!(!m("[!a]x", "bx"));
        assert!(m("a+", "a+"));
        assert!(!m("a+", "aa"));
        assert!(m("^q", "^q"), "no metacharacter: an exact match");
        assert!(m("a/**/b", "a/b"));
        assert!(m("a/**/b", "a/x/y/b"));
        assert!(m("\\*", "*"));
        assert!(m("x*\\d", "xa7"), "\\d is a Go regexp digit class");
    }

    #[test]
    fn docker20_regexp_operators() {
        assert!(m20("a+", "aa"));
        assert!(!m20("a+", "a+"));
        assert!(m20("^q", "q"));
        assert!(m20("(x|y)z", "yz"));
        assert!(m20("foo", "foo"));
        assert!(m20("**/foo", "a/foo"));
    }

    #[test]
    fn errors() {
        assert_eq!(
            IgnorePattern::new(b"!", Dialect::Moby).unwrap_err(),
            PatternError::IllegalExclusion
        );
        assert!(matches!(
            IgnorePattern::new(b"[", Dialect::Moby),
            Err(PatternError::BadPattern { .. })
        ));
        let late = IgnorePattern::new(b"a*[", Dialect::Moby).unwrap().unwrap();
        assert!(matches!(
            late.matches(b"a"),
            Err(PatternError::BadRegexp { .. })
        ));
        assert!(IgnorePattern::new(b"  ", Dialect::Moby).unwrap().is_none());
    }

    #[test]
    fn trim_space_like_go() {
        assert_eq!(go_trim_space(b"  a b \t"), b"a b");
        assert_eq!(go_trim_space("\u{3000}x\u{85}".as_bytes()), b"x");
        assert_eq!(go_trim_space(b"\xffx \xff "), b"\xffx \xff");
    }
}
