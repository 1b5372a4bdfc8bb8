//! A forgiving reader for the POSIX shell scripts found in RUN: it splits the text into simple
//! commands with their words, assignments and redirections, and records how commands are
//! connected (`&&`, `||`, `;`, `|`, newlines) and nested (subshells, groups, if/while/for/case).
//!
//! It never fails: unterminated quotes or substitutions run to the end of the text, and
//! constructs it does not model become ordinary words. Offsets are logical offsets into the
//! [`ShellText`](crate::ShellText) that was read.

use std::ops::Range;

/// One shell word: its logical span and its value with quotes removed and escapes applied.
/// Expansions (`$x`, `${x}`, `$(...)`, backticks) stay in the value as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// Logical byte range of the word as written (quotes included).
    pub span: Range<usize>,
    /// The word's value after quote removal.
    pub value: String,
    /// True when any part was quoted or escaped.
    pub quoted: bool,
    /// True when the word contains an unquoted or double-quoted expansion.
    pub expands: bool,
}

impl Word {
    /// The value as a `&str`.
    pub fn as_str(&self) -> &str {
        &self.value
    }
}

/// How a command is joined to the one before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connector {
    /// First command of the script.
    Start,
    /// `&&`
    And,
    /// `||`
    Or,
    /// `;` or a newline
    Sequence,
    /// `|` or `|&`
    Pipe,
    /// `&` (the previous command runs in the background)
    Background,
}

/// A redirection such as `> file`, `2>&1`, `<<EOF`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    /// The operator with its file descriptor, as written (`>`, `2>>`, `&>`, `<<-`).
    pub op: String,
    /// The target word (file, fd or heredoc delimiter), when there is one.
    pub target: Option<Word>,
    /// Logical span of the whole redirection.
    pub span: Range<usize>,
}

/// One simple command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// `NAME=value` words before the command name.
    pub assignments: Vec<Word>,
    /// The command name and its arguments.
    pub words: Vec<Word>,
    /// Redirections anywhere in the command.
    pub redirects: Vec<Redirect>,
    /// Logical span from the first to the last token of the command.
    pub span: Range<usize>,
    /// How it joins the previous command.
    pub before: Connector,
    /// How it joins the next command (`Sequence` for the last one).
    pub after: Connector,
    /// Nesting level: 0 at top level, +1 inside each subshell, group, if, loop or case.
    pub depth: usize,
    /// True for commands whose failure is tested rather than fatal (if/while conditions, the
    /// left side of `||`, commands negated with `!`).
    pub tested: bool,
    /// True when the command runs in a subshell (`( ... )`), so `cd` or `export` in it do not
    /// affect commands after the subshell.
    pub in_subshell: bool,
}

impl Command {
    /// The command's words as strings.
    pub fn argv(&self) -> impl Iterator<Item = &str> {
        self.words.iter().map(Word::as_str)
    }

    /// The base name of the program (`/usr/bin/apt-get` gives `apt-get`).
    pub fn name(&self) -> Option<&str> {
        self.words.first().map(|w| base_name(&w.value))
    }

    /// The index of the real program after wrappers such as `sudo`, `env VAR=x`, `nice`,
    /// `time`, `command`, `exec`, `nohup`, `timeout 10`. Returns `None` when nothing is left.
    pub fn program_index(&self) -> Option<usize> {
        let mut i = 0;
        while let Some(w) = self.words.get(i) {
            let name = base_name(&w.value);
            match name {
                "sudo" | "doas" => {
                    i += 1;
                    // sudo's options; -u/-g/-C/-p take a value.
                    while let Some(o) = self.words.get(i) {
                        let v = o.as_str();
                        if !v.starts_with('-') {
                            break;
                        }
                        i += if matches!(v, "-u" | "-g" | "-C" | "-p" | "-h" | "-D" | "-U") {
                            2
                        } else {
                            1
                        };
                    }
                }
                "env" => {
                    i += 1;
                    while let Some(o) = self.words.get(i) {
                        let v = o.as_str();
                        if v.starts_with('-') || is_assignment(v) {
                            i += if matches!(v, "-u" | "-C" | "-S") {
                                2
                            } else {
                                1
                            };
                        } else {
                            break;
                        }
                    }
                }
                "nice" | "ionice" | "stdbuf" | "timeout" | "time" | "command" | "exec"
                | "nohup" | "builtin" | "eatmydata" => {
                    i += 1;
                    while let Some(o) = self.words.get(i) {
                        let v = o.as_str();
                        if v.starts_with('-') {
                            i += if matches!(v, "-n" | "-c" | "-s" | "-k") {
                                2
                            } else {
                                1
                            };
                        } else if name == "timeout"
                            && v.chars().next().is_some_and(|c| c.is_ascii_digit())
                        {
                            i += 1;
                        } else {
                            break;
                        }
                    }
                }
                _ => return Some(i),
            }
        }
        None
    }

    /// The real program's name (see [`Command::program_index`]).
    pub fn program(&self) -> Option<&str> {
        self.program_index()
            .map(|i| base_name(&self.words[i].value))
    }

    /// The words after the real program.
    pub fn program_args(&self) -> &[Word] {
        match self.program_index() {
            Some(i) => &self.words[i + 1..],
            None => &[],
        }
    }

    /// True when a wrapper before the program is `sudo` (or `doas`).
    pub fn uses_sudo(&self) -> Option<&Word> {
        let end = self.program_index().unwrap_or(self.words.len());
        self.words[..end]
            .iter()
            .find(|w| matches!(base_name(&w.value), "sudo" | "doas"))
    }
}

/// True when every quote and backquote in `text` is closed and it does not end in an escape: text appended
/// after it is read as new words, not swallowed by an open string.
pub fn quotes_balanced(text: &str) -> bool {
    let mut single = false;
    let mut double = false;
    let mut backtick = false;
    let mut escaped = false;
    for c in text.chars() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' if !single => escaped = true,
            '\'' if !double => single = !single,
            '"' if !single => double = !double,
            '`' if !single => backtick = !backtick,
            _ => {}
        }
    }
    !single && !double && !backtick && !escaped
}

/// The last `/`-separated part of a path.
pub fn base_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// True for `NAME=value` with a valid shell name.
pub fn is_assignment(word: &str) -> bool {
    let Some((name, _)) = word.split_once('=') else {
        return false;
    };
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A read script: its simple commands in order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Script {
    /// Every simple command, in source order.
    pub commands: Vec<Command>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(Word),
    Op(Op, Range<usize>),
    Redirect(String, Range<usize>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    And,
    Or,
    Semi,
    DoubleSemi,
    Pipe,
    Amp,
    Newline,
    Open,
    Close,
}

struct Lexer<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    /// Heredoc delimiters waiting for the next newline: (delimiter, strip tabs).
    pending_heredocs: Vec<(String, bool)>,
}

impl<'a> Lexer<'a> {
    fn new(text: &'a str) -> Self {
        Lexer {
            text,
            bytes: text.as_bytes(),
            pos: 0,
            pending_heredocs: Vec::new(),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn peek_at(&self, n: usize) -> Option<u8> {
        self.bytes.get(self.pos + n).copied()
    }

    fn tokens(mut self) -> Vec<Token> {
        let mut out = Vec::new();
        let mut heredoc: Option<bool> = None;
        while let Some(tok) = self.next_token() {
            match (&tok, heredoc.take()) {
                (Token::Word(w), Some(strip_tabs)) => {
                    self.pending_heredocs.push((w.value.clone(), strip_tabs));
                }
                (Token::Redirect(op, _), _) if op.ends_with("<<") || op.ends_with("<<-") => {
                    heredoc = Some(op.ends_with('-'));
                }
                _ => {}
            }
            out.push(tok);
        }
        out
    }

    fn next_token(&mut self) -> Option<Token> {
        loop {
            // Blanks and escaped newlines (line continuation inside a heredoc script).
            while let Some(b) = self.peek() {
                if b == b' ' || b == b'\t' || b == b'\r' {
                    self.pos += 1;
                } else if b == b'\\' && self.peek_at(1) == Some(b'\n') {
                    self.pos += 2;
                } else {
                    break;
                }
            }
            let b = self.peek()?;
            if b == b'#' {
                while let Some(c) = self.peek() {
                    if c == b'\n' {
                        break;
                    }
                    self.pos += 1;
                }
                continue;
            }
            let start = self.pos;
            let two = self.text.get(self.pos..self.pos + 2).unwrap_or("");
            let op = |lexer: &mut Self, op: Op, len: usize| {
                lexer.pos += len;
                Some(Token::Op(op, start..start + len))
            };
            return match b {
                b'\n' => {
                    self.pos += 1;
                    self.skip_heredoc_bodies();
                    Some(Token::Op(Op::Newline, start..start + 1))
                }
                b'&' if two == "&&" => op(self, Op::And, 2),
                b'|' if two == "||" => op(self, Op::Or, 2),
                b'|' if two == "|&" => op(self, Op::Pipe, 2),
                b'|' => op(self, Op::Pipe, 1),
                b';' if two == ";;" => op(self, Op::DoubleSemi, 2),
                b';' => op(self, Op::Semi, 1),
                b'&' if two == "&>" => self.redirect(start),
                b'&' => op(self, Op::Amp, 1),
                b'(' => op(self, Op::Open, 1),
                b')' => op(self, Op::Close, 1),
                b'<' | b'>' => self.redirect(start),
                b'0'..=b'9' if self.is_fd_redirect() => self.redirect(start),
                _ => Some(Token::Word(self.word())),
            };
        }
    }

    fn is_fd_redirect(&self) -> bool {
        let mut i = self.pos;
        while i < self.bytes.len() && self.bytes[i].is_ascii_digit() {
            i += 1;
        }
        matches!(self.bytes.get(i), Some(b'<' | b'>'))
    }

    fn redirect(&mut self, start: usize) -> Option<Token> {
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
        if self.peek() == Some(b'&') {
            self.pos += 1;
        }
        let op_start = self.pos;
        while self
            .peek()
            .is_some_and(|b| matches!(b, b'<' | b'>' | b'&' | b'|' | b'-'))
        {
            // `>&-`, `<<-`, `>|`, `<<<`, `>>`: operators are at most 3 characters.
            if self.pos - op_start >= 3 {
                break;
            }
            // `-` only after `<<` or `>&`/`<&`.
            if self.peek() == Some(b'-')
                && !matches!(&self.text[op_start..self.pos], "<<" | ">&" | "<&")
            {
                break;
            }
            self.pos += 1;
        }
        let op = self.text[start..self.pos].to_owned();
        Some(Token::Redirect(op, start..self.pos))
    }

    /// Skips heredoc bodies announced on the line just ended.
    fn skip_heredoc_bodies(&mut self) {
        for (delim, strip_tabs) in std::mem::take(&mut self.pending_heredocs) {
            while self.pos < self.bytes.len() {
                let end = self.text[self.pos..]
                    .find('\n')
                    .map_or(self.bytes.len(), |i| self.pos + i);
                let mut line = &self.text[self.pos..end];
                line = line.strip_suffix('\r').unwrap_or(line);
                if strip_tabs {
                    line = line.trim_start_matches('\t');
                }
                self.pos = (end + 1).min(self.bytes.len());
                if line == delim {
                    break;
                }
            }
        }
    }

    /// Reads one word up to an unquoted blank or operator character.
    fn word(&mut self) -> Word {
        let start = self.pos;
        let mut value = String::new();
        let mut quoted = false;
        let mut expands = false;
        while let Some(b) = self.peek() {
            match b {
                b' ' | b'\t' | b'\r' | b'\n' | b';' | b'&' | b'|' | b'<' | b'>' | b'(' | b')' => {
                    break;
                }
                b'\\' => {
                    quoted = true;
                    self.pos += 1;
                    if let Some(c) = self.next_char()
                        && c != '\n'
                    {
                        value.push(c);
                    }
                }
                b'\'' => {
                    quoted = true;
                    self.pos += 1;
                    let end = self.text[self.pos..]
                        .find('\'')
                        .map_or(self.bytes.len(), |i| self.pos + i);
                    value.push_str(&self.text[self.pos..end]);
                    self.pos = (end + 1).min(self.bytes.len());
                }
                b'"' => {
                    quoted = true;
                    self.pos += 1;
                    while let Some(c) = self.peek() {
                        match c {
                            b'"' => {
                                self.pos += 1;
                                break;
                            }
                            b'\\' => {
                                self.pos += 1;
                                match self.peek() {
                                    Some(n @ (b'"' | b'\\' | b'$' | b'`')) => {
                                        value.push(n as char);
                                        self.pos += 1;
                                    }
                                    Some(b'\n') => self.pos += 1,
                                    _ => value.push('\\'),
                                }
                            }
                            b'$' | b'`' => {
                                expands = true;
                                let s = self.pos;
                                self.expansion();
                                value.push_str(&self.text[s..self.pos]);
                            }
                            _ => {
                                if let Some(ch) = self.next_char() {
                                    value.push(ch);
                                }
                            }
                        }
                    }
                }
                b'$' if self.peek_at(1) == Some(b'\'') => {
                    // ANSI-C quoting: keep the text, treat as quoted.
                    quoted = true;
                    self.pos += 2;
                    let s = self.pos;
                    while let Some(c) = self.peek() {
                        if c == b'\\' {
                            self.pos += 2;
                        } else if c == b'\'' {
                            break;
                        } else {
                            self.pos += 1;
                        }
                    }
                    self.pos = self.pos.min(self.bytes.len());
                    value.push_str(&self.text[s..self.pos]);
                    self.pos = (self.pos + 1).min(self.bytes.len());
                }
                b'$' | b'`' => {
                    expands = true;
                    let s = self.pos;
                    self.expansion();
                    value.push_str(&self.text[s..self.pos]);
                }
                _ => {
                    if let Some(ch) = self.next_char() {
                        value.push(ch);
                    }
                }
            }
        }
        Word {
            span: start..self.pos,
            value,
            quoted,
            expands,
        }
    }

    fn next_char(&mut self) -> Option<char> {
        let c = self.text[self.pos..].chars().next()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    /// Skips `$name`, `${...}`, `$(...)`, `$((...))` or a backtick substitution.
    fn expansion(&mut self) {
        match (self.peek(), self.peek_at(1)) {
            (Some(b'`'), _) => {
                self.pos += 1;
                while let Some(c) = self.peek() {
                    self.pos += 1;
                    if c == b'\\' {
                        self.pos += 1;
                    } else if c == b'`' {
                        break;
                    }
                }
            }
            (Some(b'$'), Some(b'{')) => {
                self.pos += 2;
                self.skip_balanced(b'{', b'}');
            }
            (Some(b'$'), Some(b'(')) => {
                self.pos += 2;
                self.skip_balanced(b'(', b')');
            }
            (Some(b'$'), Some(c)) if c.is_ascii_alphabetic() || c == b'_' => {
                self.pos += 1;
                while self
                    .peek()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_')
                {
                    self.pos += 1;
                }
            }
            (Some(b'$'), Some(c)) if c.is_ascii_digit() || b"@*#?-$!".contains(&c) => {
                self.pos += 2;
            }
            _ => self.pos += 1,
        }
        self.pos = self.pos.min(self.bytes.len());
    }

    /// Skips to the byte after the `close` matching an already consumed `open`, minding
    /// quotes and nested substitutions.
    fn skip_balanced(&mut self, open: u8, close: u8) {
        let mut depth = 1usize;
        while let Some(c) = self.peek() {
            match c {
                b'\\' => self.pos += 2,
                b'\'' if open == b'(' => {
                    self.pos += 1;
                    let end = self.text[self.pos..]
                        .find('\'')
                        .map_or(self.bytes.len(), |i| self.pos + i);
                    self.pos = end + 1;
                }
                b'"' => {
                    self.pos += 1;
                    while let Some(d) = self.peek() {
                        if d == b'\\' {
                            self.pos += 2;
                            continue;
                        }
                        if d == b'$' || d == b'`' {
                            self.expansion();
                            continue;
                        }
                        self.pos += 1;
                        if d == b'"' {
                            break;
                        }
                    }
                }
                b'$' | b'`' if c != close => self.expansion(),
                _ => {
                    self.pos += 1;
                    if c == open {
                        depth += 1;
                    } else if c == close {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                }
            }
            self.pos = self.pos.min(self.bytes.len());
        }
        self.pos = self.pos.min(self.bytes.len());
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Frame {
    Subshell,
    Group,
    If,
    Loop,
    Case,
}

/// Reads `text` as a shell script.
pub fn parse(text: &str) -> Script {
    let tokens = Lexer::new(text).tokens();
    let mut builder = Builder::default();
    let mut iter = tokens.into_iter().peekable();
    while let Some(tok) = iter.next() {
        match tok {
            Token::Word(w) => builder.word(w),
            Token::Redirect(op, span) => {
                let target = match iter.peek() {
                    Some(Token::Word(_)) => match iter.next() {
                        Some(Token::Word(w)) => Some(w),
                        _ => None,
                    },
                    _ => None,
                };
                let end = target.as_ref().map_or(span.end, |t| t.span.end);
                builder.redirect(Redirect {
                    op,
                    target,
                    span: span.start..end,
                });
            }
            Token::Op(op, span) => builder.op(op, span),
        }
    }
    builder.finish()
}

#[derive(Default)]
struct Builder {
    commands: Vec<Command>,
    current: Option<Command>,
    next_before: Option<Connector>,
    frames: Vec<Frame>,
    /// True while reading an if/while/until condition.
    in_condition: bool,
    negate_next: bool,
    /// Inside `for NAME in ...` up to `do`: words are not a command.
    in_for_header: bool,
    /// Reading a case pattern (after `in` or `;;`, up to `)`).
    in_case_pattern: bool,
}

const KEYWORDS: &[&str] = &[
    "if", "then", "elif", "else", "fi", "while", "until", "do", "done", "for", "select", "case",
    "esac", "{", "}", "!", "in",
];

impl Builder {
    fn depth(&self) -> usize {
        self.frames.len()
    }

    fn in_subshell(&self) -> bool {
        self.frames.contains(&Frame::Subshell)
    }

    fn word(&mut self, w: Word) {
        if self.in_case_pattern {
            if w.value == "esac" && !w.quoted {
                self.in_case_pattern = false;
                self.frames.pop();
                self.end_command(Connector::Sequence);
            }
            return;
        }
        let at_command_start = self
            .current
            .as_ref()
            .is_none_or(|c| c.words.is_empty() && c.assignments.is_empty());
        if at_command_start && !w.quoted && KEYWORDS.contains(&w.value.as_str()) && self.keyword(&w)
        {
            return;
        }
        if self.in_for_header {
            return;
        }
        let before = self.next_before.unwrap_or(Connector::Start);
        let depth = self.depth();
        let tested = self.in_condition || self.negate_next;
        let in_subshell = self.in_subshell();
        let cmd = self.current.get_or_insert_with(|| Command {
            assignments: Vec::new(),
            words: Vec::new(),
            redirects: Vec::new(),
            span: w.span.clone(),
            before,
            after: Connector::Sequence,
            depth,
            tested,
            in_subshell,
        });
        cmd.span.end = w.span.end;
        if cmd.words.is_empty() && !w.quoted && is_assignment(&w.value) {
            cmd.assignments.push(w);
        } else {
            cmd.words.push(w);
        }
    }

    /// Handles a reserved word at command position. Returns false when it is an ordinary word.
    fn keyword(&mut self, w: &Word) -> bool {
        match w.value.as_str() {
            "if" | "while" | "until" => {
                self.end_command(Connector::Sequence);
                self.frames.push(if w.value == "if" {
                    Frame::If
                } else {
                    Frame::Loop
                });
                self.in_condition = true;
            }
            "elif" => {
                self.end_command(Connector::Sequence);
                self.in_condition = true;
            }
            "then" | "else" => {
                self.end_command(Connector::Sequence);
                self.in_condition = false;
            }
            "do" => {
                self.end_command(Connector::Sequence);
                self.in_condition = false;
                self.in_for_header = false;
            }
            "fi" | "done" | "esac" | "}" => {
                self.end_command(Connector::Sequence);
                self.frames.pop();
                self.in_condition = false;
            }
            "for" | "select" => {
                self.end_command(Connector::Sequence);
                self.frames.push(Frame::Loop);
                self.in_for_header = true;
            }
            "case" => {
                self.end_command(Connector::Sequence);
                self.frames.push(Frame::Case);
                // `case WORD in`: skip like a for header until the first pattern.
                self.in_for_header = true;
            }
            "in" => {
                if self.frames.last() == Some(&Frame::Case) && self.in_for_header {
                    self.in_for_header = false;
                    self.in_case_pattern = true;
                    return true;
                }
                return self.in_for_header;
            }
            "{" => {
                self.end_command(Connector::Sequence);
                self.frames.push(Frame::Group);
            }
            "!" => {
                self.negate_next = true;
            }
            _ => return false,
        }
        true
    }

    fn redirect(&mut self, r: Redirect) {
        if self.in_for_header {
            return;
        }
        let before = self.next_before.unwrap_or(Connector::Start);
        let depth = self.depth();
        let tested = self.in_condition || self.negate_next;
        let in_subshell = self.in_subshell();
        let cmd = self.current.get_or_insert_with(|| Command {
            assignments: Vec::new(),
            words: Vec::new(),
            redirects: Vec::new(),
            span: r.span.clone(),
            before,
            after: Connector::Sequence,
            depth,
            tested,
            in_subshell,
        });
        cmd.span.end = r.span.end;
        cmd.redirects.push(r);
    }

    fn op(&mut self, op: Op, _span: Range<usize>) {
        if self.in_case_pattern {
            if op == Op::Close {
                self.in_case_pattern = false;
            }
            return;
        }
        match op {
            Op::And => self.end_command(Connector::And),
            Op::Or => self.end_command(Connector::Or),
            Op::Pipe => self.end_command(Connector::Pipe),
            Op::Amp => self.end_command(Connector::Background),
            Op::Semi | Op::Newline => self.end_command(Connector::Sequence),
            Op::DoubleSemi => {
                self.end_command(Connector::Sequence);
                if self.frames.last() == Some(&Frame::Case) {
                    self.in_case_pattern = true;
                }
            }
            Op::Open => {
                let has_words = self.current.as_ref().is_some_and(|c| !c.words.is_empty());
                if has_words {
                    // `name() { ...; }`: a function definition; the name is not a command.
                    self.current = None;
                } else {
                    self.end_command(Connector::Sequence);
                    self.frames.push(Frame::Subshell);
                }
            }
            Op::Close => {
                if self.frames.last() == Some(&Frame::Subshell) {
                    self.end_command(Connector::Sequence);
                    self.frames.pop();
                }
            }
        }
    }

    fn end_command(&mut self, connector: Connector) {
        if let Some(mut cmd) = self.current.take() {
            cmd.after = connector;
            if connector == Connector::Or {
                cmd.tested = true;
            }
            self.commands.push(cmd);
            self.negate_next = false;
        } else if let Some(last) = self.commands.last_mut() {
            // `a && ( b )`: the operator after a closing group joins the group to what
            // follows; record it on the group's last command.
            if connector != Connector::Sequence {
                last.after = connector;
            }
        }
        self.next_before = Some(connector);
    }

    fn finish(mut self) -> Script {
        self.end_command(Connector::Sequence);
        Script {
            commands: self.commands,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(s: &Script) -> Vec<String> {
        s.commands
            .iter()
            .map(|c| c.argv().collect::<Vec<_>>().join(" "))
            .collect()
    }

    #[test]
    fn quote_balance() {
        assert!(quotes_balanced("echo 'a \\' \"b \\\" c\""));
        assert!(!quotes_balanced("echo \"open"));
        assert!(!quotes_balanced("echo 'open"));
        assert!(!quotes_balanced("echo \\"));
        assert!(!quotes_balanced("dpkg -i a`b.deb"));
        assert!(quotes_balanced("echo `date` '`'"));
    }

    #[test]
    fn splits_on_operators() {
        let s = parse("apt-get update && apt-get install -y curl || true; echo done | tee log &");
        assert_eq!(
            names(&s),
            [
                "apt-get update",
                "apt-get install -y curl",
                "true",
                "echo done",
                "tee log"
            ]
        );
        let c: Vec<_> = s.commands.iter().map(|c| (c.before, c.after)).collect();
        assert_eq!(
            c,
            [
                (Connector::Start, Connector::And),
                (Connector::And, Connector::Or),
                (Connector::Or, Connector::Sequence),
                (Connector::Sequence, Connector::Pipe),
                (Connector::Pipe, Connector::Background),
            ]
        );
        assert!(s.commands[1].tested);
        assert!(!s.commands[0].tested);
    }

    #[test]
    fn quotes_and_escapes() {
        let text = r#"echo 'a b' "c \"d\" $HOME" e\ f $'g\n' "x"y"#;
        let s = parse(text);
        let w = &s.commands[0].words;
        assert_eq!(w[1].value, "a b");
        assert_eq!(w[2].value, "c \"d\" $HOME");
        assert!(w[2].expands);
        assert_eq!(w[3].value, "e f");
        assert_eq!(w[4].value, "g\\n");
        assert_eq!(w[5].value, "xy");
        assert_eq!(&text[w[5].span.clone()], "\"x\"y");
    }

    #[test]
    fn substitutions_are_one_word() {
        let s = parse("echo $(cat a | grep \"b)\") `x y` ${A:-b c} end");
        assert_eq!(s.commands.len(), 1);
        let w: Vec<_> = s.commands[0].argv().collect();
        assert_eq!(
            w,
            [
                "echo",
                "$(cat a | grep \"b)\")",
                "`x y`",
                "${A:-b c}",
                "end"
            ]
        );
    }

    #[test]
    fn assignments_and_redirects() {
        let s = parse("DEBIAN_FRONTEND=noninteractive apt-get install -y x > /dev/null 2>&1");
        let c = &s.commands[0];
        assert_eq!(c.assignments[0].value, "DEBIAN_FRONTEND=noninteractive");
        assert_eq!(
            c.argv().collect::<Vec<_>>(),
            ["apt-get", "install", "-y", "x"]
        );
        assert_eq!(c.redirects.len(), 2);
        assert_eq!(c.redirects[0].op, ">");
        assert_eq!(c.redirects[0].target.as_ref().unwrap().value, "/dev/null");
        assert_eq!(c.redirects[1].op, "2>&");
        assert_eq!(c.redirects[1].target.as_ref().unwrap().value, "1");
    }

    #[test]
    fn control_structures_nest() {
        let s = parse(
            "if [ -f x ]; then rm x; else touch y; fi && for f in a b; do echo $f; done && (cd /tmp && make) && { ls; }",
        );
        assert_eq!(
            names(&s),
            [
                "[ -f x ]", "rm x", "touch y", "echo $f", "cd /tmp", "make", "ls"
            ]
        );
        let depths: Vec<_> = s.commands.iter().map(|c| c.depth).collect();
        assert_eq!(depths, [1, 1, 1, 1, 1, 1, 1]);
        assert!(s.commands[0].tested);
        assert!(!s.commands[1].tested);
        assert!(s.commands[4].in_subshell);
        assert!(!s.commands[6].in_subshell);
    }

    #[test]
    fn case_patterns_are_not_commands() {
        let s = parse(
            "case \"$ARCH\" in amd64) A=x ;; arm64|aarch64) echo arm ;; *) exit 1 ;; esac; echo after",
        );
        assert_eq!(names(&s), ["", "echo arm", "exit 1", "echo after"]);
        assert_eq!(s.commands[0].assignments[0].value, "A=x");
    }

    #[test]
    fn comments_and_newlines() {
        let s = parse("# setup\nset -e\nmake \\\n  all # build it\necho ok");
        assert_eq!(names(&s), ["set -e", "make all", "echo ok"]);
    }

    #[test]
    fn heredoc_bodies_inside_scripts_are_skipped() {
        let s = parse("cat <<EOF > /etc/x\nrm -rf /\nEOF\necho after");
        assert_eq!(names(&s), ["cat", "echo after"]);
        assert_eq!(s.commands[0].redirects[0].op, "<<");
    }

    #[test]
    fn wrappers_are_skipped_to_find_the_program() {
        let s = parse("sudo -u root env A=1 nice -n 5 /usr/bin/apt-get install x");
        let c = &s.commands[0];
        assert_eq!(c.program(), Some("apt-get"));
        assert_eq!(c.program_args()[0].value, "install");
        assert!(c.uses_sudo().is_some());
        assert_eq!(
            parse("timeout 10 curl x").commands[0].program(),
            Some("curl")
        );
    }

    #[test]
    fn never_panics_on_unterminated_input() {
        for s in [
            "'abc", "\"abc", "$(abc", "${abc", "`abc", "a \\", "(((", ")))", "fi fi", "<<", "2>",
        ] {
            let _ = parse(s);
        }
    }
}
