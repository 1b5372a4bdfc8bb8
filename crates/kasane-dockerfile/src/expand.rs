//! Variable expansion and word splitting exactly as BuildKit's shell lexer does them.
//!
//! BuildKit expands `$V`, `${V}` and a set of `${V…}` modifiers in the arguments of FROM, COPY,
//! ADD, ENV, LABEL, WORKDIR, USER, EXPOSE, VOLUME, STOPSIGNAL and ARG, removes quotes, and
//! handles the Dockerfile's escape character. [`Lexer`] reproduces that behaviour, including
//! its error messages and its odd corners (each is pinned by a test; the differences we chose
//! are listed below).
//!
//! ```
//! use std::collections::HashMap;
//! use kasane_dockerfile::expand::Lexer;
//!
//! let env = HashMap::from([("VERSION".to_string(), "1.2.3".to_string())]);
//! let lexer = Lexer::new('\\');
//! let out = lexer.process_word("app-${VERSION:-dev}${ARCH:+-$ARCH}.tar.gz", &env).unwrap();
//! assert_eq!(out.value, "app-1.2.3.tar.gz");
//! assert!(out.refs.matched.contains("VERSION"));
//! assert!(out.refs.unmatched.contains("ARCH"));
//!
//! let words = lexer.process_words(r#"a "b c" $VERSION"#, &env).unwrap();
//! assert_eq!(words.words, ["a", "b c", "1.2.3"]);
//! ```
//!
//! Supported forms: `$name`, `${name}`, `${name:-word}`, `${name-word}`, `${name:+word}`,
//! `${name+word}`, `${name:?message}`, `${name?message}`, `${name#pattern}`, `${name##pattern}`,
//! `${name%pattern}`, `${name%%pattern}`, `${name/pattern/replacement}` and
//! `${name//pattern/replacement}`; positional (`$1`, `$10`) and special parameters (`$@ $* $#
//! $? $- $$ $! $0`) are names that are normally unset. Any other modifier is an error
//! (`unsupported modifier (:=) in substitution`).
//!
//! Deliberate differences from BuildKit:
//! - `${…}` nested more than [`MAX_NESTING`] deep is an error instead of recursing without bound,
//!   and an expansion that grows past [`MAX_EXPANDED_LEN`] bytes is an error instead of
//!   exhausting memory.
//! - Environment keys are compared case-sensitively (BuildKit's Linux behaviour; on Windows it
//!   folds case).
//! - In error messages, the input is quoted like Go's `%q` for ASCII and common control
//!   characters; rare non-printable Unicode characters are printed as they are.

mod pattern;
mod unicode_class;

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::BuildHasher;

use pattern::{InvalidEscape, Pattern};
use unicode_class::{is_digit, is_letter};

/// How deep `${a:-${b:-…}}` may nest before expansion gives up with
/// [`ExpandErrorKind::TooDeep`] (BuildKit has no limit; no real Dockerfile comes close).
pub const MAX_NESTING: usize = 64;

/// How long (in bytes) an expansion may grow beyond its input before it fails with
/// [`ExpandErrorKind::TooLong`]: `$V$V$V…` or `${V//?/$V}` on a large value would otherwise
/// take all memory (BuildKit would try).
pub const MAX_EXPANDED_LEN: usize = 32 << 20;

/// Where the lexer looks variables up. Implemented for maps, pair slices, [`NoEnv`] and
/// closures wrapped in [`EnvFn`], so callers can hand in whatever scope they keep.
pub trait Env {
    /// The value of `name`, or `None` when it is unset (which differs from set but empty).
    fn get(&self, name: &str) -> Option<Cow<'_, str>>;
}

/// An environment in which nothing is set.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoEnv;

impl Env for NoEnv {
    fn get(&self, _name: &str) -> Option<Cow<'_, str>> {
        None
    }
}

/// A closure as an environment: `EnvFn(|name: &str| scope.lookup(name))`.
#[derive(Debug, Clone, Copy)]
pub struct EnvFn<F>(pub F);

impl<F: Fn(&str) -> Option<String>> Env for EnvFn<F> {
    fn get(&self, name: &str) -> Option<Cow<'_, str>> {
        (self.0)(name).map(Cow::Owned)
    }
}

impl<S: BuildHasher> Env for HashMap<String, String, S> {
    fn get(&self, name: &str) -> Option<Cow<'_, str>> {
        HashMap::get(self, name).map(|v| Cow::Borrowed(v.as_str()))
    }
}

impl Env for BTreeMap<String, String> {
    fn get(&self, name: &str) -> Option<Cow<'_, str>> {
        BTreeMap::get(self, name).map(|v| Cow::Borrowed(v.as_str()))
    }
}

/// `(name, value)` pairs; when a name repeats, the last pair wins (like BuildKit's
/// `EnvsFromSlice`).
impl<K: AsRef<str>, V: AsRef<str>> Env for [(K, V)] {
    fn get(&self, name: &str) -> Option<Cow<'_, str>> {
        self.iter()
            .rev()
            .find(|(k, _)| k.as_ref() == name)
            .map(|(_, v)| Cow::Borrowed(v.as_ref()))
    }
}

impl<T: Env + ?Sized> Env for &T {
    fn get(&self, name: &str) -> Option<Cow<'_, str>> {
        (**self).get(name)
    }
}

/// Which variables an expansion looked up: found (`matched`) or unset (`unmatched`).
/// BuildKit's UndefinedVar and UndefinedArgInFrom checks are built on `unmatched`. A name can
/// be empty (`${+x}` looks up the empty name) or a special parameter such as `@`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VarRefs {
    /// Names that were set (possibly to the empty string).
    pub matched: BTreeSet<String>,
    /// Names that were unset.
    pub unmatched: BTreeSet<String>,
}

/// The result of [`Lexer::process_word`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expanded {
    /// The expanded word, quotes removed, inner whitespace kept.
    pub value: String,
    /// Variables looked up.
    pub refs: VarRefs,
}

/// The result of [`Lexer::process_words`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpandedWords {
    /// The words, split on unquoted whitespace (including whitespace that came from an
    /// unquoted expansion).
    pub words: Vec<String>,
    /// Variables looked up.
    pub refs: VarRefs,
}

/// Expansion failed; displays as BuildKit does: `failed to process "INPUT": REASON`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("failed to process {}: {kind}", go_quote(input))]
pub struct ExpandError {
    /// The word being expanded.
    pub input: String,
    /// What went wrong.
    pub kind: ExpandErrorKind,
}

/// The reasons expansion can fail, with BuildKit's messages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExpandErrorKind {
    /// `'abc` without its closing quote.
    #[error("unexpected end of statement while looking for matching single-quote")]
    UnterminatedSingleQuote,
    /// `"abc` without its closing quote.
    #[error("unexpected end of statement while looking for matching double-quote")]
    UnterminatedDoubleQuote,
    /// `${name` or `${name:-word` without its `}`.
    #[error("syntax error: missing '}}'")]
    MissingBrace,
    /// `${name/pattern` without the `/` before the replacement.
    #[error("syntax error: missing '/' in ${{}}")]
    MissingSlash,
    /// `${}`, `${{…` or `${:…`.
    #[error("syntax error: bad substitution")]
    BadSubstitution,
    /// A modifier BuildKit does not implement, such as `:=` or `:#` (the text is the modifier).
    #[error("unsupported modifier ({0}) in substitution")]
    UnsupportedModifier(String),
    /// `${name?message}` with `name` unset, or `${name:?message}` with it unset or empty.
    #[error("{name}: {message}")]
    Required {
        /// The variable.
        name: String,
        /// The message from the word, or BuildKit's default.
        message: String,
    },
    /// A `#`, `%` or `/` pattern with a bad escape such as `\x`.
    #[error("invalid pattern ({pattern}) in substitution: {reason}")]
    InvalidPattern {
        /// The pattern as BuildKit reports it (reversed for `%` and `%%`).
        pattern: String,
        /// Why it was refused.
        reason: String,
    },
    /// `${…}` nested deeper than [`MAX_NESTING`].
    #[error("substitutions nested more than {limit} deep")]
    TooDeep {
        /// The limit, [`MAX_NESTING`].
        limit: usize,
    },
    /// The expansion grew past [`MAX_EXPANDED_LEN`] bytes.
    #[error("expansion longer than {limit} bytes")]
    TooLong {
        /// The limit in bytes.
        limit: usize,
    },
}

/// BuildKit's shell lexer (`shell.Lex`): one configuration of escape character and modes.
///
/// The default is what BuildKit uses to expand instruction arguments: `\` as escape, quotes and
/// escapes removed, unset variables expanded to nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lexer {
    escape: char,
    raw_quotes: bool,
    raw_escapes: bool,
    skip_process_quotes: bool,
    skip_unset: bool,
}

impl Default for Lexer {
    fn default() -> Self {
        Self::new('\\')
    }
}

impl Lexer {
    /// A lexer with `escape` as escape character (a Dockerfile's `# escape=` directive: `\` or
    /// `` ` ``).
    #[must_use]
    pub fn new(escape: char) -> Self {
        Self {
            escape,
            raw_quotes: false,
            raw_escapes: false,
            skip_process_quotes: false,
            skip_unset: false,
        }
    }

    /// The escape character.
    #[must_use]
    pub fn escape(&self) -> char {
        self.escape
    }

    /// Keep quote characters in the output (BuildKit `RawQuotes`).
    #[must_use]
    pub fn raw_quotes(mut self, on: bool) -> Self {
        self.raw_quotes = on;
        self
    }

    /// Keep escape characters in the output (BuildKit `RawEscapes`).
    #[must_use]
    pub fn raw_escapes(mut self, on: bool) -> Self {
        self.raw_escapes = on;
        self
    }

    /// Treat quotes as ordinary characters (BuildKit `SkipProcessQuotes`, used for heredoc
    /// bodies).
    #[must_use]
    pub fn skip_process_quotes(mut self, on: bool) -> Self {
        self.skip_process_quotes = on;
        self
    }

    /// Leave references to unset variables as they are written (BuildKit `SkipUnsetEnv`, used
    /// to find heredoc markers).
    #[must_use]
    pub fn skip_unset(mut self, on: bool) -> Self {
        self.skip_unset = on;
        self
    }

    /// Expands `word` as one word (BuildKit `ProcessWord`): quotes are removed and whitespace
    /// is kept.
    pub fn process_word<E: Env + ?Sized>(
        &self,
        word: &str,
        env: &E,
    ) -> Result<Expanded, ExpandError> {
        let mut run = Run::new(self, word, env, false);
        let (value, _) = run.top()?;
        Ok(Expanded {
            value,
            refs: run.refs,
        })
    }

    /// Expands `word` and splits the result on unquoted whitespace (BuildKit
    /// `ProcessWords`).
    ///
    /// Faithful to a BuildKit quirk: a `${name<modifier>word}` expansion discards the part of
    /// the current word built before it, so `a${x:-b}c` gives `["bc"]` (plain `$x` and `${x}`
    /// do not). BuildKit only splits EXPOSE arguments and heredoc markers this way.
    pub fn process_words<E: Env + ?Sized>(
        &self,
        word: &str,
        env: &E,
    ) -> Result<ExpandedWords, ExpandError> {
        let mut run = Run::new(self, word, env, true);
        let (_, words) = run.top()?;
        Ok(ExpandedWords {
            words,
            refs: run.refs,
        })
    }
}

/// Words being collected by one level of [`Run::until`]. The text of the word in progress lives
/// in [`Run::word_buf`], which every level shares, as in BuildKit.
#[derive(Default)]
struct WordList {
    words: Vec<String>,
    in_word: bool,
}

impl WordList {
    fn add_char(&mut self, buf: &mut String, c: char) {
        if c.is_whitespace() {
            if self.in_word && !buf.is_empty() {
                self.words.push(std::mem::take(buf));
                self.in_word = false;
            }
        } else {
            self.add_raw_char(buf, c);
        }
    }

    fn add_raw_char(&mut self, buf: &mut String, c: char) {
        buf.push(c);
        self.in_word = true;
    }

    fn add_str(&mut self, buf: &mut String, s: &str) {
        for c in s.chars() {
            self.add_char(buf, c);
        }
    }

    fn add_raw_str(&mut self, buf: &mut String, s: &str) {
        buf.push_str(s);
        self.in_word = true;
    }

    fn finish(mut self, buf: &mut String) -> Vec<String> {
        if !buf.is_empty() {
            self.words.push(std::mem::take(buf));
        }
        self.words
    }
}

/// One expansion in progress: the input, a cursor into it, and what has been looked up.
struct Run<'a, E: ?Sized> {
    lexer: &'a Lexer,
    env: &'a E,
    src: &'a str,
    pos: usize,
    split: bool,
    word_buf: String,
    depth: usize,
    refs: VarRefs,
}

const END_RUNE: char = '\u{FFFD}';

impl<'a, E: Env + ?Sized> Run<'a, E> {
    fn new(lexer: &'a Lexer, src: &'a str, env: &'a E, split: bool) -> Self {
        // Go's text/scanner, which BuildKit reads the word with, drops a leading byte order mark.
        let pos = if src.starts_with('\u{FEFF}') {
            '\u{FEFF}'.len_utf8()
        } else {
            0
        };
        Self {
            lexer,
            env,
            src,
            pos,
            split,
            word_buf: String::new(),
            depth: 0,
            refs: VarRefs::default(),
        }
    }

    fn top(&mut self) -> Result<(String, Vec<String>), ExpandError> {
        self.until(None, self.lexer.raw_escapes)
            .map_err(|kind| ExpandError {
                input: self.src.to_owned(),
                kind,
            })
    }

    fn peek(&self) -> Option<char> {
        self.src[self.pos..].chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    /// The most output one expansion of this input may produce.
    fn max_len(&self) -> usize {
        MAX_EXPANDED_LEN.max(self.src.len())
    }

    fn check_len(&self, len: usize) -> Result<(), ExpandErrorKind> {
        if len > self.max_len() {
            return Err(ExpandErrorKind::TooLong {
                limit: self.max_len(),
            });
        }
        Ok(())
    }

    fn at_end(&self) -> bool {
        self.pos >= self.src.len()
    }

    fn lookup(&mut self, name: &str) -> Option<String> {
        match self.env.get(name) {
            Some(v) => {
                if !self.refs.matched.contains(name) {
                    self.refs.matched.insert(name.to_owned());
                }
                Some(v.into_owned())
            }
            None => {
                if !self.refs.unmatched.contains(name) {
                    self.refs.unmatched.insert(name.to_owned());
                }
                None
            }
        }
    }

    /// Processes text up to `stop` (consumed) or the end of input when `stop` is `None`.
    fn until(
        &mut self,
        stop: Option<char>,
        raw_escapes: bool,
    ) -> Result<(String, Vec<String>), ExpandErrorKind> {
        let mut out = String::new();
        let mut words = WordList::default();
        self.word_buf.clear();
        while let Some(c) = self.peek() {
            if Some(c) == stop {
                self.bump();
                let words = if self.split {
                    words.finish(&mut self.word_buf)
                } else {
                    Vec::new()
                };
                return Ok((out, words));
            }
            let quotes = !self.lexer.skip_process_quotes;
            let (piece, splits) = match c {
                '$' => (self.dollar()?, true),
                '<' => (self.maybe_heredoc(), false),
                '\'' if quotes => (self.single_quote()?, false),
                '"' if quotes => (self.double_quote(raw_escapes)?, false),
                _ => {
                    self.bump();
                    let mut c = c;
                    let mut escaped = false;
                    if c == self.lexer.escape {
                        if raw_escapes {
                            out.push(c);
                            if self.split {
                                words.add_raw_char(&mut self.word_buf, c);
                            }
                        }
                        // A trailing escape is dropped.
                        let Some(next) = self.bump() else { break };
                        c = next;
                        escaped = true;
                    }
                    out.push(c);
                    if self.split {
                        if escaped {
                            words.add_raw_char(&mut self.word_buf, c);
                        } else {
                            words.add_char(&mut self.word_buf, c);
                        }
                    }
                    continue;
                }
            };
            out.push_str(&piece);
            self.check_len(out.len())?;
            if self.split {
                // Text from an unquoted expansion is split; quotes and `<<` stay whole.
                if splits {
                    words.add_str(&mut self.word_buf, &piece);
                } else {
                    words.add_raw_str(&mut self.word_buf, &piece);
                }
            }
        }
        if stop.is_some() {
            // Callers replace this with a message about the missing `}` or `/`.
            return Err(ExpandErrorKind::MissingBrace);
        }
        let words = if self.split {
            words.finish(&mut self.word_buf)
        } else {
            Vec::new()
        };
        Ok((out, words))
    }

    /// The word inside a `${…}` up to `stop`; running out of input becomes `at_end`.
    fn nested(
        &mut self,
        stop: char,
        raw_escapes: bool,
        at_end: ExpandErrorKind,
    ) -> Result<String, ExpandErrorKind> {
        if self.depth >= MAX_NESTING {
            return Err(ExpandErrorKind::TooDeep { limit: MAX_NESTING });
        }
        self.depth += 1;
        let result = self.until(Some(stop), raw_escapes);
        self.depth -= 1;
        match result {
            Ok((word, _)) => Ok(word),
            Err(e @ (ExpandErrorKind::TooDeep { .. } | ExpandErrorKind::TooLong { .. })) => Err(e),
            Err(_) if self.at_end() => Err(at_end),
            Err(e) => Err(e),
        }
    }

    fn single_quote(&mut self) -> Result<String, ExpandErrorKind> {
        self.bump();
        let raw = self.lexer.raw_quotes;
        let mut out = String::new();
        if raw {
            out.push('\'');
        }
        loop {
            match self.bump() {
                None => return Err(ExpandErrorKind::UnterminatedSingleQuote),
                Some('\'') => {
                    if raw {
                        out.push('\'');
                    }
                    return Ok(out);
                }
                Some(c) => out.push(c),
            }
        }
    }

    fn double_quote(&mut self, raw_escapes: bool) -> Result<String, ExpandErrorKind> {
        self.bump();
        let raw = self.lexer.raw_quotes;
        let escape = self.lexer.escape;
        let mut out = String::new();
        if raw {
            out.push('"');
        }
        loop {
            match self.peek() {
                None => return Err(ExpandErrorKind::UnterminatedDoubleQuote),
                Some('"') => {
                    self.bump();
                    if raw {
                        out.push('"');
                    }
                    return Ok(out);
                }
                Some('$') => {
                    let value = self.dollar()?;
                    out.push_str(&value);
                }
                Some(c) => {
                    self.bump();
                    let mut c = c;
                    if c == escape {
                        if raw_escapes {
                            out.push(c);
                        }
                        match self.peek() {
                            // An escape right before the end is dropped; the quote is unclosed.
                            None => continue,
                            // Only `"`, `$` and the escape itself can be escaped here.
                            Some(n) if n == '"' || n == '$' || n == escape => {
                                self.bump();
                                c = n;
                            }
                            Some(_) => {}
                        }
                    }
                    out.push(c);
                }
            }
        }
    }

    /// `<<` and the whitespace after it stay together, so `<< EOF` is one heredoc word.
    fn maybe_heredoc(&mut self) -> String {
        self.bump();
        if self.peek() != Some('<') {
            return "<".to_owned();
        }
        self.bump();
        let mut out = "<<".to_owned();
        while let Some(c @ ('\t' | '\r' | ' ')) = self.peek() {
            out.push(c);
            self.bump();
        }
        out
    }

    /// A name after `$`: a run of digits, one special parameter, or letters, digits and `_`.
    fn name(&mut self) -> String {
        let mut name = String::new();
        while let Some(c) = self.peek() {
            if name.is_empty() && is_digit(c) {
                while let Some(d) = self.peek().filter(|&d| is_digit(d)) {
                    name.push(d);
                    self.bump();
                }
                return name;
            }
            if name.is_empty() && matches!(c, '@' | '*' | '#' | '?' | '-' | '$' | '!' | '0') {
                self.bump();
                name.push(c);
                return name;
            }
            if !(is_letter(c) || is_digit(c) || c == '_') {
                break;
            }
            self.bump();
            name.push(c);
        }
        name
    }

    /// `$name` or `${…}`, at a `$`.
    fn dollar(&mut self) -> Result<String, ExpandErrorKind> {
        self.bump();
        if self.peek() != Some('{') {
            let name = self.name();
            if name.is_empty() {
                return Ok("$".to_owned());
            }
            return Ok(self.plain(&name, false));
        }
        self.bump();
        match self.peek() {
            None => return Err(ExpandErrorKind::MissingBrace),
            Some('{' | '}' | ':') => return Err(ExpandErrorKind::BadSubstitution),
            Some(_) => {}
        }
        let name = self.name();
        match self.bump() {
            Some('}') => Ok(self.plain(&name, true)),
            Some(first @ (':' | '+' | '-' | '?' | '#' | '%')) => self.modifier(&name, first),
            Some('/') => self.replace(&name),
            other => Err(ExpandErrorKind::UnsupportedModifier(
                other.unwrap_or(END_RUNE).to_string(),
            )),
        }
    }

    /// `$name` or `${name}`.
    fn plain(&mut self, name: &str, braced: bool) -> String {
        match self.lookup(name) {
            Some(value) => value,
            None if self.lexer.skip_unset && braced => format!("${{{name}}}"),
            None if self.lexer.skip_unset => format!("${name}"),
            None => String::new(),
        }
    }

    /// `${name<op>word}` after its first modifier character `first`.
    fn modifier(&mut self, name: &str, first: char) -> Result<String, ExpandErrorKind> {
        let null_is_unset = first == ':';
        let mut modifier = String::from(first);
        let op = if null_is_unset {
            let op = self.bump();
            modifier.push(op.unwrap_or(END_RUNE));
            op
        } else {
            Some(first)
        };
        let is_trim = matches!(op, Some('#' | '%'));
        if null_is_unset && is_trim {
            return Err(ExpandErrorKind::UnsupportedModifier(modifier));
        }
        let word = self.nested('}', is_trim, ExpandErrorKind::MissingBrace)?;
        let value = self.lookup(name);
        if value.is_none() && self.lexer.skip_unset {
            return Ok(format!("${{{name}{modifier}{word}}}"));
        }
        self.apply(name, op, &modifier, word, value, null_is_unset)
    }

    /// `${name/pattern/replacement}` or `${name//pattern/replacement}` after the first `/`.
    fn replace(&mut self, name: &str) -> Result<String, ExpandErrorKind> {
        let all = self.peek() == Some('/');
        if all {
            self.bump();
        }
        let pattern = self.nested('/', true, ExpandErrorKind::MissingSlash)?;
        let replacement = self.nested('}', true, ExpandErrorKind::MissingBrace)?;
        let value = self.lookup(name);
        if value.is_none() && self.lexer.skip_unset {
            // BuildKit writes one `/` back even for `//`.
            return Ok(format!("${{{name}/{pattern}/{replacement}}}"));
        }
        let compiled =
            Pattern::compile(&pattern, true).map_err(|e| invalid_pattern(&pattern, &e))?;
        let value = value.unwrap_or_default();
        if all {
            let limit = self.max_len();
            compiled
                .replace_all(&value, &replacement, limit)
                .ok_or(ExpandErrorKind::TooLong { limit })
        } else {
            Ok(compiled.replace_first(&value, &replacement))
        }
    }

    /// Applies `${name<op>word}` given the variable's value (`None` when unset).
    fn apply(
        &self,
        name: &str,
        op: Option<char>,
        modifier: &str,
        word: String,
        value: Option<String>,
        null_is_unset: bool,
    ) -> Result<String, ExpandErrorKind> {
        let unset_or_null = match &value {
            None => true,
            Some(v) => null_is_unset && v.is_empty(),
        };
        match op {
            Some('-') => Ok(if unset_or_null {
                word
            } else {
                value.unwrap_or_default()
            }),
            Some('+') => Ok(if unset_or_null { String::new() } else { word }),
            Some('?') => {
                let default = match &value {
                    None => "is not allowed to be unset",
                    Some(_) if unset_or_null => "is not allowed to be empty",
                    Some(v) => return Ok(v.clone()),
                };
                let message = if word.is_empty() {
                    default.to_owned()
                } else {
                    word
                };
                Err(ExpandErrorKind::Required {
                    name: name.to_owned(),
                    message,
                })
            }
            Some(c @ ('#' | '%')) => {
                // `##` and `%%` take the longest match, `#` and `%` the shortest.
                let (pattern, greedy) = match word.strip_prefix(c) {
                    Some(rest) => (rest, true),
                    None => (word.as_str(), false),
                };
                let value = value.unwrap_or_default();
                if c == '#' {
                    let compiled = Pattern::compile(pattern, greedy)
                        .map_err(|e| invalid_pattern(pattern, &e))?;
                    return Ok(compiled.trim_prefix(&value));
                }
                // A suffix is trimmed as a prefix of the reversed value.
                let reversed = pattern::reverse_pattern(pattern);
                let compiled = Pattern::compile(&reversed, greedy)
                    .map_err(|e| invalid_pattern(&reversed, &e))?;
                let backwards: String = value.chars().rev().collect();
                Ok(compiled.trim_prefix(&backwards).chars().rev().collect())
            }
            _ => Err(ExpandErrorKind::UnsupportedModifier(modifier.to_owned())),
        }
    }
}

fn invalid_pattern(pattern: &str, e: &InvalidEscape) -> ExpandErrorKind {
    ExpandErrorKind::InvalidPattern {
        pattern: pattern.to_owned(),
        reason: e.to_string(),
    }
}

/// Quotes `s` like Go's `%q` for the characters that matter in a Dockerfile.
fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
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
            c if u32::from(c) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", u32::from(c)));
            }
            c if c.is_control() || (c.is_whitespace() && c != ' ') || c == '\u{FEFF}' => {
                out.push_str(&format!("\\u{:04x}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn word(input: &str, env: &[(&str, &str)]) -> Result<String, ExpandErrorKind> {
        Lexer::default()
            .process_word(input, env)
            .map(|e| e.value)
            .map_err(|e| e.kind)
    }

    #[test]
    fn every_env_kind_answers() {
        let pairs: &[(&str, &str)] = &[("A", "1"), ("A", "2")];
        assert_eq!(word("$A", pairs).unwrap(), "2", "last pair wins");
        let map = HashMap::from([("A".to_owned(), "h".to_owned())]);
        let tree = BTreeMap::from([("A".to_owned(), "t".to_owned())]);
        let func = EnvFn(|n: &str| (n == "A").then(|| "f".to_owned()));
        let lexer = Lexer::default();
        assert_eq!(lexer.process_word("$A", &map).unwrap().value, "h");
        assert_eq!(lexer.process_word("$A", &tree).unwrap().value, "t");
        assert_eq!(lexer.process_word("$A$B", &func).unwrap().value, "f");
        assert_eq!(lexer.process_word("${A:-n}", &NoEnv).unwrap().value, "n");
        let dynamic: &dyn Env = &map;
        assert_eq!(lexer.process_word("$A", dynamic).unwrap().value, "h");
    }

    #[test]
    fn refs_record_found_and_unset_names() {
        let out = Lexer::default()
            .process_word("$A ${B:-$C} ${D+x} $A", &[("A", ""), ("C", "c")][..])
            .unwrap();
        assert_eq!(out.value, " c  ");
        let names = |s: &[&str]| s.iter().map(|s| (*s).to_owned()).collect::<BTreeSet<_>>();
        assert_eq!(out.refs.matched, names(&["A", "C"]));
        assert_eq!(out.refs.unmatched, names(&["B", "D"]));
    }

    #[test]
    fn errors_read_like_buildkit() {
        let err = Lexer::default()
            .process_word("a\t${X:=1}", &NoEnv)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "failed to process \"a\\t${X:=1}\": unsupported modifier (:=) in substitution"
        );
        assert_eq!(
            word("${X:?}", &[]).unwrap_err().to_string(),
            "X: is not allowed to be unset"
        );
        assert_eq!(
            word("${X:?}", &[("X", "")]).unwrap_err().to_string(),
            "X: is not allowed to be empty"
        );
    }

    #[test]
    fn words_quirk_of_modifiers_is_kept() {
        let words = Lexer::default()
            .process_words("a${x:-b}c d$x", &NoEnv)
            .unwrap()
            .words;
        assert_eq!(words, ["bc", "d"]);
    }

    #[test]
    fn deep_nesting_is_an_error_within_a_small_stack() {
        let run = || {
            let depth = 100_000;
            let input = "\"${U:-".repeat(depth) + &"}\"".repeat(depth);
            let lexer = Lexer::default();
            let kind = lexer.process_word(&input, &NoEnv).unwrap_err().kind;
            assert_eq!(kind, ExpandErrorKind::TooDeep { limit: MAX_NESTING });
            let kind = lexer.process_words(&input, &NoEnv).unwrap_err().kind;
            assert_eq!(kind, ExpandErrorKind::TooDeep { limit: MAX_NESTING });
            // Just inside the limit still works.
            let ok = "${U:-".repeat(MAX_NESTING) + "x" + &"}".repeat(MAX_NESTING);
            assert_eq!(lexer.process_word(&ok, &NoEnv).unwrap().value, "x");
            let unclosed = "${U:-".repeat(MAX_NESTING);
            assert_eq!(
                lexer.process_word(&unclosed, &NoEnv).unwrap_err().kind,
                ExpandErrorKind::MissingBrace
            );
        };
        std::thread::Builder::new()
            .stack_size(1024 * 1024)
            .spawn(run)
            .unwrap()
            .join()
            .unwrap();
    }

    #[test]
    fn huge_inputs_and_outputs_are_bounded() {
        let big = "a b ".repeat(250_000);
        assert_eq!(word(&big, &[]).unwrap().len(), big.len());
        assert_eq!(
            Lexer::default()
                .process_words(&big, &NoEnv)
                .unwrap()
                .words
                .len(),
            500_000
        );
        let value = "v".repeat(4 << 20);
        let env = [("V", value.as_str())];
        let many = "$V".repeat(9);
        assert_eq!(
            word(&many, &env),
            Err(ExpandErrorKind::TooLong {
                limit: MAX_EXPANDED_LEN
            })
        );
        let blowup = "${V//?/$V}";
        assert_eq!(
            word(blowup, &env),
            Err(ExpandErrorKind::TooLong {
                limit: MAX_EXPANDED_LEN
            })
        );
    }

    proptest! {
        #[test]
        fn never_panics(
            input in "[$\\{\\}:+?#%/'\"\\\\` \\t\\na-cV0@*\u{e9}<=-]{0,40}",
            escape in prop::sample::select(vec!['\\', '`']),
            flags in 0u8..16,
            split: bool,
        ) {
            let lexer = Lexer::new(escape)
                .raw_quotes(flags & 1 != 0)
                .raw_escapes(flags & 2 != 0)
                .skip_unset(flags & 4 != 0)
                .skip_process_quotes(flags & 8 != 0);
            let env: &[(&str, &str)] = &[("V", "a*b c"), ("a", "")];
            if split {
                let _ = lexer.process_words(&input, env);
            } else {
                let _ = lexer.process_word(&input, env);
            }
        }
    }
}
