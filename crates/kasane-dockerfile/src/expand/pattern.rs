//! Shell patterns for `${v#p}`, `${v%p}` and `${v/p/r}`, matched the way BuildKit matches them.
//!
//! BuildKit turns the pattern into a Go regular expression (`*` becomes `.*` or `.*?`, `?`
//! becomes `.`, everything else is literal) and asks Go's leftmost-first engine for a match.
//! We compile the same three kinds of element into a tiny program and run it on a Pike VM
//! whose thread order gives the same leftmost-first answer, in time linear in the value for a
//! given pattern (a backtracking matcher would be exponential on `*a*a*a*…`). Two details of
//! Go's regexps carry over: `.` never matches `\n`, and a global replacement expands `$0`,
//! `${0}` and `$$` in the replacement text.

use std::fmt;

/// Why a pattern was refused (BuildKit: `invalid escape '\x'`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InvalidEscape(pub(crate) Option<char>);

impl fmt::Display for InvalidEscape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Go prints the end-of-input rune (-1) as U+FFFD.
        write!(f, "invalid escape '\\{}'", self.0.unwrap_or('\u{FFFD}'))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Inst {
    Char(char),
    /// Any character but `\n`.
    Any,
    /// Try the first target before the second.
    Split(usize, usize),
    Jmp(usize),
    Match,
}

/// A compiled shell pattern.
#[derive(Debug, Clone)]
pub(crate) struct Pattern {
    prog: Vec<Inst>,
}

impl Pattern {
    /// Compiles `pattern`: `*` any run (longest first when `greedy`), `?` one character, `\`
    /// escapes `*`, `?` and `\`, and is dropped before `}` and `/`.
    pub(crate) fn compile(pattern: &str, greedy: bool) -> Result<Self, InvalidEscape> {
        let mut prog = Vec::with_capacity(pattern.len() + 1);
        // Go's text/scanner drops a byte order mark at the very start of its input.
        let mut chars = pattern
            .strip_prefix('\u{FEFF}')
            .unwrap_or(pattern)
            .chars()
            .peekable();
        while let Some(c) = chars.next() {
            match c {
                '*' => {
                    let at = prog.len();
                    let (body, after) = (at + 1, at + 3);
                    prog.push(if greedy {
                        Inst::Split(body, after)
                    } else {
                        Inst::Split(after, body)
                    });
                    prog.push(Inst::Any);
                    prog.push(Inst::Jmp(at));
                }
                '?' => prog.push(Inst::Any),
                '\\' => match chars.peek() {
                    Some('}' | '/') => {}
                    _ => match chars.next() {
                        Some(e @ ('*' | '?' | '\\')) => prog.push(Inst::Char(e)),
                        other => return Err(InvalidEscape(other)),
                    },
                },
                c => prog.push(Inst::Char(c)),
            }
        }
        prog.push(Inst::Match);
        Ok(Self { prog })
    }

    /// The leftmost-first match in `text` starting at or after `from` (only at `from` when
    /// `anchored`), as a half-open range of character indices.
    pub(crate) fn find(
        &self,
        text: &[char],
        from: usize,
        anchored: bool,
    ) -> Option<(usize, usize)> {
        let n = self.prog.len();
        let mut clist = Threads::new(n);
        let mut nlist = Threads::new(n);
        let mut stack = Vec::new();
        let mut found = None;
        let mut pos = from;
        loop {
            if found.is_none() && (!anchored || pos == from) {
                // A thread starting here ranks below every thread that started earlier.
                self.add_thread(&mut clist, &mut stack, 0, pos);
            }
            if clist.list.is_empty() {
                break;
            }
            let here = text.get(pos).copied();
            for &(pc, start) in &clist.list {
                match self.prog[pc] {
                    Inst::Match => {
                        found = Some((start, pos));
                        // Threads after this one have lower priority: drop them.
                        break;
                    }
                    Inst::Char(c) if here == Some(c) => {
                        self.add_thread(&mut nlist, &mut stack, pc + 1, start);
                    }
                    Inst::Any if here.is_some_and(|c| c != '\n') => {
                        self.add_thread(&mut nlist, &mut stack, pc + 1, start);
                    }
                    _ => {}
                }
            }
            if here.is_none() {
                break;
            }
            std::mem::swap(&mut clist, &mut nlist);
            nlist.clear();
            pos += 1;
        }
        found
    }

    /// Adds the thread at `pc` and everything it reaches without reading, in priority order.
    fn add_thread(&self, list: &mut Threads, stack: &mut Vec<usize>, pc: usize, start: usize) {
        stack.push(pc);
        while let Some(pc) = stack.pop() {
            if !list.mark(pc) {
                continue;
            }
            match self.prog[pc] {
                Inst::Jmp(to) => stack.push(to),
                Inst::Split(first, second) => {
                    stack.push(second);
                    stack.push(first);
                }
                Inst::Char(_) | Inst::Any | Inst::Match => list.list.push((pc, start)),
            }
        }
    }

    /// `value` without its shortest (or longest, if compiled greedy) matching prefix.
    pub(crate) fn trim_prefix(&self, value: &str) -> String {
        let text: Vec<char> = value.chars().collect();
        match self.find(&text, 0, true) {
            Some((_, end)) => text[end..].iter().collect(),
            None => value.to_owned(),
        }
    }

    /// `value` with its first match replaced by `replacement`, taken literally.
    pub(crate) fn replace_first(&self, value: &str, replacement: &str) -> String {
        let text: Vec<char> = value.chars().collect();
        match self.find(&text, 0, false) {
            Some((start, end)) => {
                let mut out: String = text[..start].iter().collect();
                out.push_str(replacement);
                out.extend(&text[end..]);
                out
            }
            None => value.to_owned(),
        }
    }

    /// `value` with every match replaced, stepping past empty matches as Go's
    /// `Regexp.ReplaceAllString` does; `template` is expanded per match like Go's `Expand`.
    /// `None` when the result would exceed `limit` bytes.
    pub(crate) fn replace_all(&self, value: &str, template: &str, limit: usize) -> Option<String> {
        let text: Vec<char> = value.chars().collect();
        let mut out = String::with_capacity(value.len());
        let mut last_end = 0;
        let mut search = 0;
        while search <= text.len() {
            let Some((start, end)) = self.find(&text, search, false) else {
                break;
            };
            out.extend(&text[last_end..start]);
            // An empty match right after the previous match is not replaced again.
            if end > last_end || start == 0 {
                expand_template(&mut out, template, &text[start..end]);
                if out.len() > limit {
                    return None;
                }
            }
            last_end = end;
            search = if search + 1 > end { search + 1 } else { end };
        }
        out.extend(&text[last_end..]);
        Some(out)
    }
}

/// Threads of the Pike VM: `(pc, start)` in priority order, plus a per-step set of pcs.
struct Threads {
    list: Vec<(usize, usize)>,
    seen: Vec<bool>,
}

impl Threads {
    fn new(n: usize) -> Self {
        Self {
            list: Vec::new(),
            seen: vec![false; n],
        }
    }

    /// Marks `pc` as seen in this step; false when it already was.
    fn mark(&mut self, pc: usize) -> bool {
        !std::mem::replace(&mut self.seen[pc], true)
    }

    fn clear(&mut self) {
        self.list.clear();
        self.seen.fill(false);
    }
}

/// Go's `Regexp.Expand` for a pattern without groups: `$$` is `$`, `$0`/`${0}` the match,
/// any other `$name`/`${name}` nothing, and a `$` not followed by a name stays.
fn expand_template(out: &mut String, template: &str, matched: &[char]) {
    let mut rest = template;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        rest = &rest[at + 1..];
        if let Some(after) = rest.strip_prefix('$') {
            out.push('$');
            rest = after;
            continue;
        }
        match template_name(rest) {
            Some((name, after)) => {
                if name == "0" {
                    out.extend(matched);
                }
                rest = after;
            }
            None => out.push('$'),
        }
    }
    out.push_str(rest);
}

/// The name after a `$` in a replacement template (Go's `extract`) and the text after it.
fn template_name(s: &str) -> Option<(&str, &str)> {
    let (braced, body) = match s.strip_prefix('{') {
        Some(body) => (true, body),
        None => (false, s),
    };
    let len = body
        .char_indices()
        .find(|&(_, c)| {
            !(super::unicode_class::is_letter(c) || super::unicode_class::is_digit(c) || c == '_')
        })
        .map_or(body.len(), |(i, _)| i);
    if len == 0 {
        return None;
    }
    let name = &body[..len];
    let after = &body[len..];
    if braced {
        let after = after.strip_prefix('}')?;
        return Some((name, after));
    }
    Some((name, after))
}

/// Reverses a pattern but keeps each `\x` pair in order, so `a\*c` becomes `c\*a`; used to turn
/// a suffix match into a prefix match on the reversed value.
pub(crate) fn reverse_pattern(pattern: &str) -> String {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = vec!['\0'; chars.len()];
    let last = chars.len().saturating_sub(1);
    let mut i = 0;
    while i < chars.len() {
        let at = last - i;
        if chars[i] == '\\' && i != last {
            out[at - 1] = '\\';
            out[at] = chars[i + 1];
            i += 2;
        } else {
            out[at] = chars[i];
            i += 1;
        }
    }
    out.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, greedy: bool, text: &str, anchored: bool) -> Option<(usize, usize)> {
        let text: Vec<char> = text.chars().collect();
        Pattern::compile(p, greedy)
            .unwrap()
            .find(&text, 0, anchored)
    }

    #[test]
    fn leftmost_first_with_lazy_and_greedy_stars() {
        assert_eq!(m("*x", false, "axbx", true), Some((0, 2)));
        assert_eq!(m("*x", true, "axbx", true), Some((0, 4)));
        assert_eq!(m("b*", true, "abcb", false), Some((1, 4)));
        assert_eq!(m("b*", false, "abcb", false), Some((1, 2)));
        assert_eq!(m("", true, "abc", false), Some((0, 0)));
        assert_eq!(m("z", true, "abc", false), None);
        assert_eq!(m("b", true, "abc", true), None);
    }

    #[test]
    fn dot_does_not_cross_newlines() {
        assert_eq!(m("*", true, "a\nb", true), Some((0, 1)));
        assert_eq!(m("a?b", true, "a\nb", false), None);
    }

    #[test]
    fn escapes() {
        assert_eq!(m("\\*", true, "*a", true), Some((0, 1)));
        assert_eq!(m("\\}", true, "}", true), Some((0, 1)));
        assert_eq!(m("\\/", true, "/", true), Some((0, 1)));
        assert_eq!(
            Pattern::compile("\\x", true).unwrap_err().to_string(),
            "invalid escape '\\x'"
        );
        assert_eq!(
            Pattern::compile("\\", true).unwrap_err().to_string(),
            "invalid escape '\\\u{FFFD}'"
        );
    }

    #[test]
    fn reverse_keeps_escape_pairs() {
        assert_eq!(reverse_pattern("a\\*c"), "c\\*a");
        assert_eq!(reverse_pattern("\\\\\\ab"), "b\\a\\\\");
        assert_eq!(reverse_pattern("ab\\"), "\\ba");
        assert_eq!(reverse_pattern("👽\\🚀🖖"), "🖖\\🚀👽");
        assert_eq!(reverse_pattern(""), "");
    }

    #[test]
    fn replace_all_steps_like_go() {
        let p = Pattern::compile("", true).unwrap();
        assert_eq!(p.replace_all("abc", "-", 100).unwrap(), "-a-b-c-");
        let p = Pattern::compile("b*", true).unwrap();
        assert_eq!(p.replace_all("abcb", "<$0>", 100).unwrap(), "a<bcb>");
        let p = Pattern::compile("x?", true).unwrap();
        assert_eq!(
            p.replace_all("xaxx", "[$$ ${0} $1 $ ${0]", 100).unwrap(),
            "[$ xa  $ ${0][$ xx  $ ${0]"
        );
    }

    #[test]
    fn many_stars_stay_linear() {
        let pattern = "*a".repeat(200) + "b";
        let text = "a".repeat(5_000);
        let p = Pattern::compile(&pattern, true).unwrap();
        assert_eq!(p.trim_prefix(&text), text);
    }
}
