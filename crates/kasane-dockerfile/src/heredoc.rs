//! Finding heredoc markers (`<<EOF`, `<<-"EOF"`, `2<<EOF`) in an instruction
//! line, exactly as BuildKit finds them.
//!
//! BuildKit splits the whole instruction line into words with its shell lexer
//! (quotes and escapes kept, unset variables left as written) and then matches
//! each word against `^(\d*)<<(-?)([^<]*)$`. The delimiter is lexed again, with
//! and without quote removal, to learn its name and whether any part of it was
//! quoted (a quoted delimiter turns expansion of the body off). This module is a
//! faithful re-implementation of that lexer *in that mode only*; real variable
//! expansion lives in the expansion module.

use crate::Dialect;

/// A heredoc marker found in an instruction line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Marker {
    /// The delimiter, quotes removed.
    pub(crate) name: String,
    /// The file descriptor before `<<` (0 when none; Go's `ParseUint` result,
    /// which saturates on overflow).
    pub(crate) fd: u64,
    /// `<<-`: leading tabs are stripped from body lines and the terminator.
    pub(crate) chomp: bool,
    /// Whether the body is expanded (no part of the delimiter was quoted).
    pub(crate) expand: bool,
    /// Byte range of the marker word in the line.
    pub(crate) start: usize,
    pub(crate) end: usize,
}

/// Finds the heredoc markers of a line. An error is one BuildKit reports (it
/// fails the whole parse).
pub(crate) fn markers_in_line(line: &[u8], dialect: Dialect) -> Result<Vec<Marker>, String> {
    let current = dialect == Dialect::Current;
    let mut lexer = Lexer::new(line, current, true, true);
    // BuildKit ignores lexing errors of the whole line: no words, no heredocs.
    let words = match lexer.process() {
        Ok(w) => w,
        Err(_) => return Ok(Vec::new()),
    };
    let mut out = Vec::new();
    for w in words {
        if let Some(m) = parse_marker(&w.text, current)? {
            out.push(Marker {
                start: w.start,
                end: w.end,
                ..m
            });
        }
    }
    Ok(out)
}

/// BuildKit's `ParseHeredoc`: whether a single word is a heredoc marker.
/// Used by the instruction checks (a heredoc as COPY destination).
pub(crate) fn parse_marker(word: &str, current: bool) -> Result<Option<Marker>, String> {
    let b = word.as_bytes();
    let mut i = 0;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let digits = &word[..i];
    if !b[i..].starts_with(b"<<") {
        return Ok(None);
    }
    i += 2;
    let chomp = b.get(i) == Some(&b'-');
    if chomp {
        i += 1;
    }
    if current {
        // `\s*` (ASCII whitespace in Go's RE2).
        while i < b.len() && matches!(b[i], b'\t' | b'\n' | 0x0C | b'\r' | b' ') {
            i += 1;
        }
    }
    let rest = &word[i..];
    if rest.contains('<') {
        return Ok(None);
    }
    let fd = if digits.is_empty() {
        0
    } else {
        digits.parse::<u64>().unwrap_or(u64::MAX)
    };
    if rest.is_empty() {
        return Ok(None);
    }
    let cooked = Lexer::new(rest.as_bytes(), current, false, false).process()?;
    if cooked.len() != 1 {
        return Ok(None);
    }
    let raw = Lexer::new(rest.as_bytes(), current, true, false).process()?;
    if raw.len() != cooked.len() {
        return Err(format!(
            "internal lexing of heredoc produced inconsistent results: {rest}"
        ));
    }
    let quotes = |s: &str| s.bytes().filter(|&c| c == b'\'' || c == b'"').count();
    let name = cooked[0].text.clone();
    let expand = quotes(&name) == quotes(&raw[0].text);
    Ok(Some(Marker {
        name,
        fd,
        chomp,
        expand,
        start: 0,
        end: word.len(),
    }))
}

/// A word produced by the lexer, with the byte range of input it came from.
#[derive(Debug, Clone)]
struct LexWord {
    text: String,
    start: usize,
    end: usize,
}

/// `${…}` nested deeper than this is treated as a lexing error (BuildKit has no
/// limit; this keeps hostile input from exhausting the stack).
const MAX_NESTING: usize = 128;

/// End of input, as Go's `text/scanner` reports it.
const EOF: Option<char> = None;

/// BuildKit's shell lexer in "keep everything raw, expand nothing" mode.
struct Lexer {
    input: Vec<u8>,
    chars: Vec<(char, usize)>,
    len: usize,
    i: usize,
    current: bool,
    raw_quotes: bool,
    raw_escapes: bool,
    /// Newer BuildKit shares one word buffer between nested `processStopOn`
    /// calls (and resets it on entry); reproduced because it changes words.
    shared: WordBuf,
    /// Current `${…}` nesting.
    depth: usize,
}

#[derive(Debug, Default)]
struct WordBuf {
    text: String,
    start: usize,
    end: usize,
}

impl WordBuf {
    fn push_char(&mut self, c: char, start: usize, end: usize) {
        if self.text.is_empty() {
            self.start = start;
        }
        self.text.push(c);
        self.end = end;
    }
    fn push_str(&mut self, s: &str, start: usize, end: usize) {
        if self.text.is_empty() {
            self.start = start;
        }
        self.text.push_str(s);
        self.end = end;
    }
    fn take(&mut self) -> LexWord {
        LexWord {
            text: std::mem::take(&mut self.text),
            start: self.start,
            end: self.end,
        }
    }
}

/// One `processStopOn` frame's word state.
#[derive(Default)]
struct Words {
    words: Vec<LexWord>,
    in_word: bool,
    local: WordBuf,
}

impl Lexer {
    fn new(input: &[u8], current: bool, raw_quotes: bool, raw_escapes: bool) -> Self {
        let mut chars = Vec::with_capacity(input.len());
        let mut i = 0;
        while i < input.len() {
            let (c, w) = crate::gostr::decode_rune(&input[i..]);
            chars.push((c, i));
            i += w;
        }
        // text/scanner skips a byte order mark at the very start.
        let start = usize::from(chars.first().map(|c| c.0) == Some('\u{FEFF}'));
        Lexer {
            input: input.to_vec(),
            chars,
            len: input.len(),
            i: start,
            current,
            raw_quotes,
            raw_escapes,
            shared: WordBuf::default(),
            depth: 0,
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.i).map(|c| c.0)
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek();
        if c.is_some() {
            self.i += 1;
        }
        c
    }

    fn offset(&self) -> usize {
        self.chars.get(self.i).map_or(self.len, |c| c.1)
    }

    fn process(&mut self) -> Result<Vec<LexWord>, String> {
        self.process_stop_on(EOF, self.raw_escapes)
            .map(|(_, words)| words)
            .map_err(|e| {
                format!(
                    "failed to process {}: {e}",
                    crate::gostr::go_quote(&self.input)
                )
            })
    }

    fn buf<'a>(shared: &'a mut WordBuf, local: &'a mut WordBuf, current: bool) -> &'a mut WordBuf {
        if current { shared } else { local }
    }

    fn add_char(&mut self, w: &mut Words, c: char, start: usize, end: usize) {
        let current = self.current;
        let buf = Self::buf(&mut self.shared, &mut w.local, current);
        if crate::gostr::is_space(c) && w.in_word {
            if !buf.text.is_empty() {
                let word = buf.take();
                w.words.push(word);
                w.in_word = false;
            }
        } else if !crate::gostr::is_space(c) {
            buf.push_char(c, start, end);
            w.in_word = true;
        }
    }

    fn add_raw_char(&mut self, w: &mut Words, c: char, start: usize, end: usize) {
        let current = self.current;
        Self::buf(&mut self.shared, &mut w.local, current).push_char(c, start, end);
        w.in_word = true;
    }

    fn add_string(&mut self, w: &mut Words, s: &str, start: usize, end: usize) {
        for c in s.chars() {
            self.add_char(w, c, start, end);
        }
    }

    fn add_raw_string(&mut self, w: &mut Words, s: &str, start: usize, end: usize) {
        let current = self.current;
        Self::buf(&mut self.shared, &mut w.local, current).push_str(s, start, end);
        w.in_word = true;
    }

    fn get_words(&mut self, mut w: Words) -> Vec<LexWord> {
        let current = self.current;
        let buf = Self::buf(&mut self.shared, &mut w.local, current);
        if !buf.text.is_empty() {
            let word = buf.take();
            w.words.push(word);
        }
        w.words
    }

    fn process_stop_on(
        &mut self,
        stop: Option<char>,
        raw_escapes: bool,
    ) -> Result<(String, Vec<LexWord>), String> {
        let mut result = String::new();
        let mut w = Words::default();
        let saved_raw_escapes = self.raw_escapes;
        if self.current {
            self.shared.text.clear();
            self.raw_escapes = raw_escapes;
        }
        let out = self.process_stop_on_inner(stop, &mut result, &mut w);
        self.raw_escapes = saved_raw_escapes;
        out?;
        Ok((result, self.get_words(w)))
    }

    fn process_stop_on_inner(
        &mut self,
        stop: Option<char>,
        result: &mut String,
        w: &mut Words,
    ) -> Result<(), String> {
        while let Some(ch) = self.peek() {
            let start = self.offset();
            if stop == Some(ch) {
                self.next();
                return Ok(());
            }
            let special = match ch {
                '$' => Some(self.process_dollar()),
                '\'' => Some(self.process_single_quote()),
                '"' => Some(self.process_double_quote()),
                '<' if self.current => Some(self.process_possible_heredoc()),
                _ => None,
            };
            if let Some(tmp) = special {
                let tmp = tmp?;
                let end = self.offset();
                result.push_str(&tmp);
                if ch == '$' {
                    self.add_string(w, &tmp, start, end);
                } else {
                    self.add_raw_string(w, &tmp, start, end);
                }
                continue;
            }
            let mut ch = self.next().unwrap_or('\0');
            if ch == '\\' {
                if self.raw_escapes {
                    let end = self.offset();
                    self.add_raw_char(w, ch, start, end);
                    result.push(ch);
                }
                match self.next() {
                    None => break,
                    Some(c) => ch = c,
                }
                let end = self.offset();
                self.add_raw_char(w, ch, start, end);
            } else {
                let end = self.offset();
                self.add_char(w, ch, start, end);
            }
            result.push(ch);
        }
        if let Some(stop) = stop {
            return Err(format!(
                "unexpected end of statement while looking for matching {stop}"
            ));
        }
        Ok(())
    }

    fn process_single_quote(&mut self) -> Result<String, String> {
        let mut result = String::new();
        let ch = self.next();
        if self.raw_quotes {
            result.extend(ch);
        }
        loop {
            match self.next() {
                None => {
                    return Err(
                        "unexpected end of statement while looking for matching single-quote"
                            .to_string(),
                    );
                }
                Some('\'') => {
                    if self.raw_quotes {
                        result.push('\'');
                    }
                    return Ok(result);
                }
                Some(c) => result.push(c),
            }
        }
    }

    fn process_double_quote(&mut self) -> Result<String, String> {
        let mut result = String::new();
        let ch = self.next();
        if self.raw_quotes {
            result.extend(ch);
        }
        loop {
            match self.peek() {
                None => {
                    return Err(
                        "unexpected end of statement while looking for matching double-quote"
                            .to_string(),
                    );
                }
                Some('"') => {
                    self.next();
                    if self.raw_quotes {
                        result.push('"');
                    }
                    return Ok(result);
                }
                Some('$') => {
                    let v = self.process_dollar()?;
                    result.push_str(&v);
                }
                Some(_) => {
                    let mut ch = self.next().unwrap_or('\0');
                    if ch == '\\' {
                        if self.raw_escapes {
                            result.push(ch);
                        }
                        match self.peek() {
                            None => continue,
                            Some('"' | '$' | '\\') => ch = self.next().unwrap_or('\0'),
                            Some(_) => {}
                        }
                    }
                    result.push(ch);
                }
            }
        }
    }

    fn process_possible_heredoc(&mut self) -> Result<String, String> {
        self.next();
        if self.peek() != Some('<') {
            return Ok("<".to_string());
        }
        self.next();
        let mut result = String::from("<<");
        while let Some(c @ ('\t' | '\r' | ' ')) = self.peek() {
            result.push(c);
            self.next();
        }
        Ok(result)
    }

    fn process_dollar(&mut self) -> Result<String, String> {
        if self.depth >= MAX_NESTING {
            return Err(format!("substitutions nested more than {MAX_NESTING} deep"));
        }
        self.depth += 1;
        let out = self.process_dollar_inner();
        self.depth -= 1;
        out
    }

    fn process_dollar_inner(&mut self) -> Result<String, String> {
        self.next();
        if self.peek() != Some('{') {
            let name = self.process_name();
            if name.is_empty() {
                return Ok("$".to_string());
            }
            // Nothing is set: the reference is kept as written.
            return Ok(format!("${name}"));
        }
        self.next();
        match self.peek() {
            None => return Err("syntax error: missing '}'".to_string()),
            Some('{' | '}' | ':') => return Err("syntax error: bad substitution".to_string()),
            Some(_) => {}
        }
        let name = self.process_name();
        let ch = self.next();
        let mut chs = go_rune_string(ch);
        match ch {
            Some('}') => Ok(format!("${{{name}}}")),
            Some(':') | Some('+' | '-' | '?') => {
                let mut ch = ch;
                let null_is_unset = ch == Some(':');
                if null_is_unset {
                    ch = self.next();
                    chs.push_str(&go_rune_string(ch));
                }
                let raw = self.current && matches!(ch, Some('#' | '%'));
                if self.current && null_is_unset && raw {
                    return Err(format!("unsupported modifier ({chs}) in substitution"));
                }
                // Newer BuildKit lexes the word with raw escapes only for `#`/`%`;
                // 0.12 keeps the lexer's own setting.
                let word_raw = if self.current { raw } else { self.raw_escapes };
                let (word, _) = match self.process_stop_on(Some('}'), word_raw) {
                    Ok(v) => v,
                    Err(e) => {
                        if self.peek().is_none() {
                            return Err("syntax error: missing '}'".to_string());
                        }
                        return Err(e);
                    }
                };
                // Unset: kept as written (whatever the modifier).
                Ok(format!("${{{name}{chs}{word}}}"))
            }
            Some('#' | '%') if self.current => {
                let (word, _) = match self.process_stop_on(Some('}'), true) {
                    Ok(v) => v,
                    Err(e) => {
                        if self.peek().is_none() {
                            return Err("syntax error: missing '}'".to_string());
                        }
                        return Err(e);
                    }
                };
                Ok(format!("${{{name}{chs}{word}}}"))
            }
            Some('/') if self.current => {
                if self.peek() == Some('/') {
                    self.next();
                }
                let (pattern, _) = match self.process_stop_on(Some('/'), true) {
                    Ok(v) => v,
                    Err(e) => {
                        if self.peek().is_none() {
                            return Err("syntax error: missing '/' in ${}".to_string());
                        }
                        return Err(e);
                    }
                };
                let (replacement, _) = match self.process_stop_on(Some('}'), true) {
                    Ok(v) => v,
                    Err(e) => {
                        if self.peek().is_none() {
                            return Err("syntax error: missing '}'".to_string());
                        }
                        return Err(e);
                    }
                };
                Ok(format!("${{{name}/{pattern}/{replacement}}}"))
            }
            _ => Err(format!("unsupported modifier ({chs}) in substitution")),
        }
    }

    fn process_name(&mut self) -> String {
        let mut name = String::new();
        while let Some(ch) = self.peek() {
            if name.is_empty() && is_go_digit(ch) {
                while let Some(c) = self.peek() {
                    if !is_go_digit(c) {
                        break;
                    }
                    name.push(c);
                    self.next();
                }
                return name;
            }
            if name.is_empty() && matches!(ch, '@' | '*' | '#' | '?' | '-' | '$' | '!' | '0') {
                self.next();
                return ch.to_string();
            }
            if !is_go_letter(ch) && !is_go_digit(ch) && ch != '_' {
                break;
            }
            name.push(ch);
            self.next();
        }
        name
    }
}

/// Go's `string(rune)` for a scanner result; EOF (-1) is U+FFFD.
fn go_rune_string(c: Option<char>) -> String {
    c.unwrap_or('\u{FFFD}').to_string()
}

/// Go's `unicode.IsDigit` (approximated: Rust has no Nd-only test).
fn is_go_digit(c: char) -> bool {
    c.is_ascii_digit() || (!c.is_ascii() && c.is_numeric())
}

/// Go's `unicode.IsLetter` (approximated by Rust's Alphabetic property).
fn is_go_letter(c: char) -> bool {
    c.is_alphabetic()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(line: &str, dialect: Dialect) -> Vec<(String, bool, bool)> {
        markers_in_line(line.as_bytes(), dialect)
            .unwrap()
            .into_iter()
            .map(|m| (m.name, m.chomp, m.expand))
            .collect()
    }

    #[test]
    fn finds_markers() {
        let d = Dialect::BuildKit012;
        assert_eq!(names("RUN cat <<EOF", d), vec![("EOF".into(), false, true)]);
        assert_eq!(
            names("RUN cat <<-\"EOF\"", d),
            vec![("EOF".into(), true, false)]
        );
        assert_eq!(
            names("RUN <<a <<'b' x", d),
            vec![("a".into(), false, true), ("b".into(), false, false)]
        );
        assert_eq!(
            names("RUN cat <<eo'f'", d),
            vec![("eof".into(), false, false)]
        );
        assert_eq!(
            names("RUN cat <<eo\\'f", d),
            vec![("eo'f".into(), false, true)]
        );
        assert_eq!(names("RUN echo 'a <<EOF'", d), vec![]);
        assert_eq!(names("RUN echo \"unterminated <<EOF", d), vec![]);
        assert_eq!(names("RUN cat << EOF", d), vec![]);
        assert_eq!(
            names("RUN cat << EOF", Dialect::Current),
            vec![("EOF".into(), false, true)]
        );
    }

    #[test]
    fn marker_positions_and_fd() {
        let line = "COPY 3<<EOF /dst";
        let m = markers_in_line(line.as_bytes(), Dialect::BuildKit012).unwrap();
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].fd, 3);
        assert_eq!(&line[m[0].start..m[0].end], "3<<EOF");
    }

    #[test]
    fn delimiter_errors_are_reported() {
        // The line lexes; its second word, re-lexed alone, does not.
        let err = markers_in_line(br#"RUN <<${x:-" "}"#, Dialect::BuildKit012).unwrap_err();
        assert!(err.starts_with("failed to process"), "{err}");
        assert!(err.ends_with("syntax error: missing '}'"), "{err}");
    }
}
