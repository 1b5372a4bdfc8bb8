//! The lossless syntax tree.
//!
//! A [`Dockerfile`] keeps its source text and a list of elements (instructions
//! and the lines between them) that cover the text exactly, so printing it gives
//! the input back byte for byte. Every node carries its [`Span`]. Values are the
//! strings BuildKit's parser produces (quotes kept where BuildKit keeps them);
//! variable expansion happens later, in the expansion module.

use serde::Serialize;

use crate::Dialect;
use crate::error::{ParseError, ParseErrorKind};
use crate::raw::{self, LineKind, RawDoc, RawElement, RawForm, RawInstruction, RawNode};
use crate::span::{LineIndex, PositionCursor, Span};

/// ONBUILD triggers nested deeper than this (only possible in files BuildKit's
/// instruction layer rejects anyway) keep their text unparsed.
const MAX_TRIGGER_DEPTH: usize = 16;

/// How to parse.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ParseOptions {
    /// Which BuildKit version's parser to follow.
    pub dialect: Dialect,
}

impl ParseOptions {
    /// Options for `dialect`.
    pub fn dialect(dialect: Dialect) -> Self {
        ParseOptions { dialect }
    }
}

/// A parsed Dockerfile: the source text and its syntax tree.
#[derive(Debug, Clone, Serialize)]
pub struct Dockerfile {
    #[serde(skip)]
    source: String,
    #[serde(skip)]
    lines: LineIndex,
    dialect: Dialect,
    bom: bool,
    escape: char,
    directives: Vec<Directive>,
    instructions: Vec<Instruction>,
    trivia: Vec<Trivia>,
    #[serde(skip)]
    layout: Vec<ElementRef>,
    warnings: Vec<Warning>,
}

/// The instruction keywords BuildKit knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "UPPERCASE")]
#[allow(missing_docs)]
pub enum InstructionKind {
    Add,
    Arg,
    Cmd,
    Copy,
    Entrypoint,
    Env,
    Expose,
    From,
    Healthcheck,
    Label,
    Maintainer,
    Onbuild,
    Run,
    Shell,
    Stopsignal,
    User,
    Volume,
    Workdir,
    /// Anything else. BuildKit's parser accepts it; its instruction layer
    /// fails with "unknown instruction".
    Unknown,
}

impl InstructionKind {
    /// Every known kind.
    pub const ALL: [InstructionKind; 18] = [
        Self::Add,
        Self::Arg,
        Self::Cmd,
        Self::Copy,
        Self::Entrypoint,
        Self::Env,
        Self::Expose,
        Self::From,
        Self::Healthcheck,
        Self::Label,
        Self::Maintainer,
        Self::Onbuild,
        Self::Run,
        Self::Shell,
        Self::Stopsignal,
        Self::User,
        Self::Volume,
        Self::Workdir,
    ];

    /// The keyword in upper case (`"UNKNOWN"` for unknown ones).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Add => "ADD",
            Self::Arg => "ARG",
            Self::Cmd => "CMD",
            Self::Copy => "COPY",
            Self::Entrypoint => "ENTRYPOINT",
            Self::Env => "ENV",
            Self::Expose => "EXPOSE",
            Self::From => "FROM",
            Self::Healthcheck => "HEALTHCHECK",
            Self::Label => "LABEL",
            Self::Maintainer => "MAINTAINER",
            Self::Onbuild => "ONBUILD",
            Self::Run => "RUN",
            Self::Shell => "SHELL",
            Self::Stopsignal => "STOPSIGNAL",
            Self::User => "USER",
            Self::Volume => "VOLUME",
            Self::Workdir => "WORKDIR",
            Self::Unknown => "UNKNOWN",
        }
    }

    /// The kind for a keyword as BuildKit matches it (case-insensitively).
    pub fn from_keyword(keyword: &str) -> Self {
        crate::gostr::keyword_lower(keyword.as_bytes())
            .map_or(Self::Unknown, |k| Self::from_lower(&k))
    }

    fn from_lower(k: &str) -> Self {
        match k {
            "add" => Self::Add,
            "arg" => Self::Arg,
            "cmd" => Self::Cmd,
            "copy" => Self::Copy,
            "entrypoint" => Self::Entrypoint,
            "env" => Self::Env,
            "expose" => Self::Expose,
            "from" => Self::From,
            "healthcheck" => Self::Healthcheck,
            "label" => Self::Label,
            "maintainer" => Self::Maintainer,
            "onbuild" => Self::Onbuild,
            "run" => Self::Run,
            "shell" => Self::Shell,
            "stopsignal" => Self::Stopsignal,
            "user" => Self::User,
            "volume" => Self::Volume,
            "workdir" => Self::Workdir,
            _ => Self::Unknown,
        }
    }
}

impl std::fmt::Display for InstructionKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A piece of text and the value BuildKit's parser made of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Word {
    /// Where the text is (it may run over continuation lines).
    pub span: Span,
    /// BuildKit's value: for JSON strings the decoded string; for flags the
    /// word with quotes and escapes processed; otherwise the text itself with
    /// continuations joined.
    pub value: String,
}

/// A `--name[=value]` flag before the arguments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Flag {
    /// The flag word in the source.
    pub span: Span,
    /// The word as BuildKit extracted it (`--mount=type=cache,target=/c`):
    /// quotes removed and escapes applied.
    pub text: String,
    /// The name without `--` (`mount`).
    pub name: String,
    /// The part after the first `=`, if there is one.
    pub value: Option<String>,
}

/// A `key=value` (or legacy `key value`) pair of ENV or LABEL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyValue {
    /// The whole pair.
    pub span: Span,
    /// The key, as written (quotes kept).
    pub key: Word,
    /// The value, as written (quotes kept; expansion removes them).
    pub value: Word,
    /// `false` for the legacy `ENV key value` form.
    pub has_equals: bool,
}

/// An instruction's arguments, in the form BuildKit read them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "form", content = "items", rename_all = "snake_case")]
pub enum Arguments {
    /// No arguments.
    Empty,
    /// The exec form: a JSON array of strings (RUN, CMD, ENTRYPOINT, SHELL,
    /// ADD, COPY, VOLUME).
    Exec(Vec<Word>),
    /// The shell form: the rest of the line as one string (RUN, CMD,
    /// ENTRYPOINT, SHELL).
    Shell(Word),
    /// Whitespace-separated words (FROM, EXPOSE; ADD, COPY and VOLUME when not
    /// JSON).
    List(Vec<Word>),
    /// The rest of the line as one value (MAINTAINER, STOPSIGNAL, USER,
    /// WORKDIR).
    Text(Word),
    /// ENV and LABEL pairs.
    KeyValues(Vec<KeyValue>),
    /// ARG words, raw (`NAME`, `NAME=value`, quotes kept).
    Words(Vec<Word>),
    /// HEALTHCHECK: the type word (`CMD`, `NONE`, ...) and the command
    /// (`Empty`, `Exec` or `Shell`).
    Healthcheck {
        /// `CMD`, `NONE`, or whatever was written.
        kind: Word,
        /// The command after the type.
        command: Box<Arguments>,
    },
    /// ONBUILD: the trigger instruction.
    Trigger(Box<Instruction>),
    /// An unknown instruction (BuildKit ignores its text), or an ONBUILD chain
    /// nested too deep to be worth a tree; the text is kept.
    Unparsed(Word),
}

impl Arguments {
    /// Whether this is the exec (JSON) form, including `HEALTHCHECK CMD [..]`.
    pub fn is_exec(&self) -> bool {
        match self {
            Arguments::Exec(_) => true,
            Arguments::Healthcheck { command, .. } => command.is_exec(),
            _ => false,
        }
    }

    /// The argument words in order (the key and value of each pair; the
    /// HEALTHCHECK type then its command; nothing for a trigger).
    pub fn words(&self) -> Vec<&Word> {
        match self {
            Arguments::Empty | Arguments::Trigger(_) => Vec::new(),
            Arguments::Exec(w) | Arguments::List(w) | Arguments::Words(w) => w.iter().collect(),
            Arguments::Shell(w) | Arguments::Text(w) | Arguments::Unparsed(w) => vec![w],
            Arguments::KeyValues(kv) => kv.iter().flat_map(|p| [&p.key, &p.value]).collect(),
            Arguments::Healthcheck { kind, command } => {
                let mut v = vec![kind];
                v.extend(command.words());
                v
            }
        }
    }
}

/// A heredoc (`<<EOF` ... `EOF`) attached to RUN, COPY or ADD.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Heredoc {
    /// The delimiter with quotes removed.
    pub name: String,
    /// The file descriptor written before `<<` (0 when none).
    pub fd: u64,
    /// `<<-`: leading tabs are removed from the body.
    pub chomp: bool,
    /// Whether variables in the body are expanded (the delimiter was not
    /// quoted).
    pub expand: bool,
    /// The marker word in the instruction line (`<<-"EOF"`).
    pub marker: Span,
    /// The body lines, line breaks included (empty for an empty body).
    pub body: Span,
    /// The terminator line, without its line break.
    pub terminator: Span,
    /// The body as BuildKit stores it (tabs not yet removed).
    pub content: String,
}

impl Heredoc {
    /// The body as the build uses it: with `<<-`, leading tabs of every line
    /// removed.
    pub fn chomped_content(&self) -> String {
        if !self.chomp {
            return self.content.clone();
        }
        let mut out = String::with_capacity(self.content.len());
        for line in self.content.split_inclusive('\n') {
            out.push_str(line.trim_start_matches('\t'));
        }
        out
    }
}

/// One instruction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Instruction {
    /// Which instruction.
    pub kind: InstructionKind,
    /// The keyword as written (`run`, `Run`, `RUN`).
    pub keyword: Word,
    /// Flags before the arguments.
    pub flags: Vec<Flag>,
    /// The arguments.
    pub args: Arguments,
    /// The text after the flags (BuildKit's argument string), as a span.
    pub args_span: Span,
    /// Heredoc bodies, in marker order. For ONBUILD they belong to the ONBUILD
    /// instruction (as in BuildKit), not to its trigger.
    pub heredocs: Vec<Heredoc>,
    /// From the keyword to the end of the last line (heredoc terminators
    /// included, the final line break excluded).
    pub span: Span,
    /// The whole lines: `span` plus leading indentation and the final line
    /// break. The extents of all elements cover the file.
    pub extent: Span,
    /// The instruction as BuildKit reports it: continuation lines joined,
    /// comment and empty lines inside dropped (heredoc bodies not included).
    pub original: String,
    /// The comment lines directly above, without `#` (BuildKit's
    /// `PrevComment`; a lone `#` line clears it).
    pub comments: Vec<String>,
    /// Comment lines inside a line continuation (BuildKit skips them).
    pub inner_comments: Vec<Span>,
}

impl Instruction {
    /// 1-based first line.
    pub fn start_line(&self) -> u32 {
        self.span.start.line
    }

    /// 1-based last line (heredoc terminators included).
    pub fn end_line(&self) -> u32 {
        // The span ends before the final line break, so its end is on the
        // last line.
        self.span.end.line
    }

    /// The flag named `name` (the last one, if repeated).
    pub fn flag(&self, name: &str) -> Option<&Flag> {
        self.flags.iter().rev().find(|f| f.name == name)
    }

    /// The ONBUILD trigger, if this is an ONBUILD with one.
    pub fn trigger(&self) -> Option<&Instruction> {
        match &self.args {
            Arguments::Trigger(t) => Some(t),
            _ => None,
        }
    }
}

/// A parser directive (`# syntax=`, `# escape=`, `# check=`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Directive {
    /// Lowercased name.
    pub name: String,
    /// The value as written.
    pub value: String,
    /// The directive line without its line break.
    pub span: Span,
    /// The name as written.
    pub name_span: Span,
    /// The value.
    pub value_span: Span,
}

/// What a line outside instructions is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TriviaKind {
    /// Empty or whitespace only.
    Blank,
    /// A comment line.
    Comment,
    /// A parser directive line (index into [`Dockerfile::directives`]).
    Directive(usize),
}

/// A line outside instructions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Trivia {
    /// What it is.
    pub kind: TriviaKind,
    /// The line without its line break.
    pub span: Span,
    /// The line with its line break.
    pub extent: Span,
}

/// Something BuildKit's parser warns about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// What.
    pub kind: WarningKind,
    /// Where.
    pub span: Span,
}

/// Kinds of parser warnings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum WarningKind {
    /// An empty line inside a line continuation (BuildKit check
    /// NoEmptyContinuation).
    EmptyContinuationLine,
}

/// A top-level element of the file, in source order.
#[derive(Debug, Clone, Copy)]
pub enum Element<'a> {
    /// An instruction.
    Instruction(&'a Instruction),
    /// A line outside instructions.
    Trivia(&'a Trivia),
}

impl Element<'_> {
    /// The whole lines the element covers.
    pub fn extent(&self) -> Span {
        match self {
            Element::Instruction(i) => i.extent,
            Element::Trivia(t) => t.extent,
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum ElementRef {
    Instruction(usize),
    Trivia(usize),
}

impl Dockerfile {
    /// Parses with the default options (current BuildKit).
    pub fn parse(source: &str) -> Result<Dockerfile, ParseError> {
        Self::parse_with(source, ParseOptions::default())
    }

    /// Parses with `options`.
    pub fn parse_with(source: &str, options: ParseOptions) -> Result<Dockerfile, ParseError> {
        let raw = raw::parse(source.as_bytes(), options.dialect)
            .map_err(|e| ParseError::at(e.kind, source.as_bytes(), e.offset))?;
        let lines = LineIndex::new(source);
        Ok(Builder::new(source, &lines, options.dialect).build(raw))
    }

    /// Parses bytes; they must be UTF-8 (the error gives the first bad byte).
    pub fn parse_bytes(source: &[u8], options: ParseOptions) -> Result<Dockerfile, ParseError> {
        match std::str::from_utf8(source) {
            Ok(s) => Self::parse_with(s, options),
            Err(e) => Err(ParseError::at(
                ParseErrorKind::InvalidUtf8,
                source,
                e.valid_up_to(),
            )),
        }
    }

    /// The source text.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The text of `span`.
    pub fn text(&self, span: Span) -> &str {
        &self.source[span.range()]
    }

    /// The position of a byte offset.
    pub fn position(&self, offset: usize) -> crate::Position {
        self.lines.position(&self.source, offset)
    }

    /// The span of a byte range.
    pub fn span(&self, range: std::ops::Range<usize>) -> Span {
        self.lines.span(&self.source, range.start, range.end)
    }

    /// The parser dialect used.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Whether the file starts with a UTF-8 byte order mark.
    pub fn has_bom(&self) -> bool {
        self.bom
    }

    /// The escape character in effect (`\` or `` ` ``).
    pub fn escape(&self) -> char {
        self.escape
    }

    /// The parser directives, in order.
    pub fn directives(&self) -> &[Directive] {
        &self.directives
    }

    /// The directive named `name` (lowercase), if present.
    pub fn directive(&self, name: &str) -> Option<&Directive> {
        self.directives.iter().find(|d| d.name == name)
    }

    /// The instructions, in order.
    pub fn instructions(&self) -> &[Instruction] {
        &self.instructions
    }

    /// Lines outside instructions, in order.
    pub fn trivia(&self) -> &[Trivia] {
        &self.trivia
    }

    /// Parser warnings.
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// Every element in source order. Their extents, after the BOM, cover the
    /// whole file.
    pub fn elements(&self) -> impl Iterator<Item = Element<'_>> + '_ {
        self.layout.iter().map(|r| match *r {
            ElementRef::Instruction(i) => Element::Instruction(&self.instructions[i]),
            ElementRef::Trivia(i) => Element::Trivia(&self.trivia[i]),
        })
    }

    /// Prints the tree back: the BOM and each element's text. For an unchanged
    /// tree this is the input, byte for byte.
    pub fn print(&self) -> String {
        let mut out = String::with_capacity(self.source.len());
        if self.bom {
            out.push('\u{FEFF}');
        }
        for e in self.elements() {
            out.push_str(self.text(e.extent()));
        }
        out
    }
}

impl std::fmt::Display for Dockerfile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.print())
    }
}

/// Builds the tree from the line layer.
struct Builder<'a> {
    src: &'a str,
    lines: &'a LineIndex,
    cursor: std::cell::RefCell<PositionCursor<'a>>,
    dialect: Dialect,
}

impl<'a> Builder<'a> {
    fn new(src: &'a str, lines: &'a LineIndex, dialect: Dialect) -> Self {
        Builder {
            src,
            lines,
            cursor: std::cell::RefCell::new(PositionCursor::new(lines, src)),
            dialect,
        }
    }

    fn span(&self, start: usize, end: usize) -> Span {
        self.cursor.borrow_mut().span(start, end)
    }

    fn string(bytes: &[u8]) -> String {
        String::from_utf8_lossy(bytes).into_owned()
    }

    fn build(self, raw: RawDoc) -> Dockerfile {
        let directives: Vec<Directive> = raw
            .directives
            .iter()
            .map(|d| {
                let line_start = self.src[..d.name_range.0].rfind('\n').map_or(0, |p| p + 1);
                let line_start = if line_start == 0 && raw.bom {
                    3
                } else {
                    line_start
                };
                let line_end = self.src[d.value_range.1..]
                    .find('\n')
                    .map_or(self.src.len(), |p| d.value_range.1 + p);
                let line_end = self.src[..line_end]
                    .trim_end_matches(['\r', '\n'])
                    .len()
                    .max(d.value_range.1);
                Directive {
                    name: d.name.clone(),
                    value: self.src[d.value_range.0..d.value_range.1].to_string(),
                    span: self.span(line_start, line_end),
                    name_span: self.span(d.name_range.0, d.name_range.1),
                    value_span: self.span(d.value_range.0, d.value_range.1),
                }
            })
            .collect();
        let mut instructions = Vec::new();
        let mut trivia = Vec::new();
        let mut layout = Vec::new();
        let mut warnings = Vec::new();
        for element in raw.elements {
            match element {
                RawElement::Line(l) => {
                    let kind = match l.kind {
                        LineKind::Blank => TriviaKind::Blank,
                        LineKind::Comment => TriviaKind::Comment,
                        LineKind::Directive(d) => TriviaKind::Directive(d),
                    };
                    layout.push(ElementRef::Trivia(trivia.len()));
                    trivia.push(Trivia {
                        kind,
                        span: self.span(l.start, l.content_end),
                        extent: self.span(l.start, l.end),
                    });
                }
                RawElement::Instruction(ri) => {
                    for &(s, e) in &ri.empty_continuations {
                        let end = s + self.src[s..e].trim_end_matches(['\r', '\n']).len();
                        warnings.push(Warning {
                            kind: WarningKind::EmptyContinuationLine,
                            span: self.span(s, end),
                        });
                    }
                    layout.push(ElementRef::Instruction(instructions.len()));
                    instructions.push(self.instruction(&ri));
                }
            }
        }
        Dockerfile {
            source: self.src.to_string(),
            lines: self.lines.clone(),
            dialect: self.dialect,
            bom: raw.bom,
            escape: raw.escape as char,
            directives,
            instructions,
            trivia,
            layout,
            warnings,
        }
    }

    fn word(&self, ri: &RawInstruction, v: &raw::RawValue) -> Word {
        let (s, e) = ri.source_range(v.start, v.end);
        Word {
            span: self.span(s, e),
            value: Self::string(&v.bytes),
        }
    }

    fn lspan(&self, ri: &RawInstruction, start: usize, end: usize) -> Span {
        let (s, e) = ri.source_range(start, end);
        self.span(s, e)
    }

    fn instruction(&self, ri: &RawInstruction) -> Instruction {
        let mut ins = self.node(ri, 0);
        ins.span = self.span(ri.content_start, ri.content_end);
        ins.extent = self.span(ri.start, ri.end);
        ins.original = Self::string(&ri.logical);
        ins.comments = ri.prev_comments.clone();
        ins.inner_comments = ri
            .inner_comments
            .iter()
            .map(|&(s, e)| {
                let end = s + self.src[s..e].trim_end_matches(['\r', '\n']).len();
                self.span(s, end)
            })
            .collect();
        ins.heredocs = ri
            .heredocs
            .iter()
            .map(|h| Heredoc {
                name: h.marker.name.clone(),
                fd: h.marker.fd,
                chomp: h.marker.chomp,
                expand: h.marker.expand,
                marker: self.lspan(ri, h.marker.start, h.marker.end),
                body: self.span(h.body.0, h.body.1),
                terminator: self.span(h.terminator.0, h.terminator.1),
                content: Self::string(&h.content),
            })
            .collect();
        ins
    }

    /// The instruction for `ri.nodes[index]` (an ONBUILD trigger for index > 0).
    fn node(&self, ri: &RawInstruction, index: usize) -> Instruction {
        let n: &RawNode = &ri.nodes[index];
        let kind = n
            .keyword
            .as_deref()
            .map_or(InstructionKind::Unknown, InstructionKind::from_lower);
        let keyword = Word {
            span: self.lspan(ri, n.cmd.0, n.cmd.1),
            value: Self::string(&ri.logical[n.cmd.0..n.cmd.1]),
        };
        let flags = n
            .flags
            .iter()
            .map(|f| {
                let text = Self::string(&f.bytes);
                let body = text.strip_prefix("--").unwrap_or(&text);
                let (name, value) = match body.split_once('=') {
                    Some((n, v)) => (n.to_string(), Some(v.to_string())),
                    None => (body.to_string(), None),
                };
                Flag {
                    span: self.lspan(ri, f.start, f.end),
                    text,
                    name,
                    value,
                }
            })
            .collect();
        let rest_word = || Word {
            span: self.lspan(ri, n.rest.0, n.rest.1),
            value: Self::string(&ri.logical[n.rest.0..n.rest.1]),
        };
        let words =
            |vals: &[raw::RawValue]| vals.iter().map(|v| self.word(ri, v)).collect::<Vec<_>>();
        let args = match n.form {
            RawForm::Empty => Arguments::Empty,
            RawForm::Json => Arguments::Exec(words(&n.values)),
            RawForm::Shell => Arguments::Shell(self.word(ri, &n.values[0])),
            RawForm::List => Arguments::List(words(&n.values)),
            RawForm::Text => Arguments::Text(self.word(ri, &n.values[0])),
            RawForm::Words => Arguments::Words(words(&n.values)),
            RawForm::KeyValue | RawForm::KeyValueLegacy => {
                // Newer BuildKit adds the separator as a third value.
                let step = if self.dialect == Dialect::Current {
                    3
                } else {
                    2
                };
                let pairs = n
                    .values
                    .chunks(step)
                    .map(|c| {
                        let key = self.word(ri, &c[0]);
                        let value = self.word(ri, &c[1]);
                        KeyValue {
                            span: self.lspan(ri, c[0].start, c[1].end.max(c[0].end)),
                            key,
                            value,
                            has_equals: n.form == RawForm::KeyValue,
                        }
                    })
                    .collect();
                Arguments::KeyValues(pairs)
            }
            RawForm::Healthcheck => {
                let kind = self.word(ri, &n.values[0]);
                let rest = &n.values[1..];
                let command = match n.health_form {
                    RawForm::Json => Arguments::Exec(words(rest)),
                    RawForm::Shell => Arguments::Shell(self.word(ri, &rest[0])),
                    _ => Arguments::Empty,
                };
                Arguments::Healthcheck {
                    kind,
                    command: Box::new(command),
                }
            }
            RawForm::OnBuild => {
                if index + 1 >= MAX_TRIGGER_DEPTH {
                    Arguments::Unparsed(rest_word())
                } else {
                    let mut t = self.node(ri, index + 1);
                    let tn = &ri.nodes[index + 1];
                    let (s, e) = ri.source_range(tn.cmd.0, n.rest.1);
                    t.span = self.span(s, e);
                    t.extent = t.span;
                    t.original = Self::string(&ri.logical[n.rest.0..n.rest.1]);
                    Arguments::Trigger(Box::new(t))
                }
            }
            RawForm::Ignored => Arguments::Unparsed(rest_word()),
        };
        let span = self.lspan(ri, n.cmd.0, n.rest.1.max(n.cmd.1));
        Instruction {
            kind,
            keyword,
            flags,
            args,
            args_span: self.lspan(ri, n.rest.0, n.rest.1),
            heredocs: Vec::new(),
            span,
            extent: span,
            original: String::new(),
            comments: Vec::new(),
            inner_comments: Vec::new(),
        }
    }
}
