//! The line layer: BuildKit's `parser` package, reproduced on bytes.
//!
//! This pass reads physical lines the way BuildKit's scanner does, applies the
//! parser directives, joins continuation lines, splits each instruction into
//! keyword, flags and arguments with BuildKit's per-instruction rules, and reads
//! heredoc bodies. It records where every piece came from so the typed tree
//! (`crate::tree`) can carry spans, and it keeps the exact BuildKit values so the
//! BuildKit-shaped output (`crate::buildkit`) can be produced without a second
//! parse. It works on bytes because BuildKit does (Go strings are bytes).

use crate::Dialect;
use crate::error::ParseErrorKind;
use crate::gostr::{
    decode_rune, is_re_whitespace, is_space, is_space_byte_as_rune, keyword_lower,
    leading_space_len, push_char, trim_space_range,
};
use crate::heredoc::{self, Marker};
use crate::json_array::{JsonArray, parse_json_array};

/// BuildKit's scanner refuses lines longer than this (bytes, newline excluded).
pub(crate) const MAX_LINE_LEN: usize = 65_535;

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// A parsed file at the line layer.
#[derive(Debug, Clone)]
pub(crate) struct RawDoc {
    /// The file starts with a UTF-8 byte order mark (3 bytes, not part of any
    /// element).
    pub(crate) bom: bool,
    /// The escape token in effect (`\` or `` ` ``).
    pub(crate) escape: u8,
    pub(crate) directives: Vec<RawDirective>,
    /// Top-level elements in source order; together with the BOM they cover
    /// the input exactly.
    pub(crate) elements: Vec<RawElement>,
}

/// A parser directive line (`# escape=`, `# syntax=`, `# check=`).
#[derive(Debug, Clone)]
pub(crate) struct RawDirective {
    /// Lowercased name.
    pub(crate) name: String,
    pub(crate) name_range: (usize, usize),
    pub(crate) value_range: (usize, usize),
}

/// What a top-level element is.
#[derive(Debug, Clone)]
pub(crate) enum RawElement {
    /// A line outside instructions: blank, comment or directive.
    Line(RawLine),
    Instruction(Box<RawInstruction>),
}

/// The kind of a line outside instructions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LineKind {
    Blank,
    Comment,
    /// Index into `RawDoc::directives`.
    Directive(usize),
}

/// A whole physical line: `start..end` includes the line break, `content_end`
/// excludes it (and any `\r` before it).
#[derive(Debug, Clone, Copy)]
pub(crate) struct RawLine {
    pub(crate) kind: LineKind,
    pub(crate) start: usize,
    pub(crate) content_end: usize,
    pub(crate) end: usize,
}

/// A piece of the logical (joined) line and where it sits in the source.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Segment {
    pub(crate) logical: usize,
    pub(crate) source: usize,
    pub(crate) len: usize,
}

/// One instruction with everything BuildKit's parser knows about it.
#[derive(Debug, Clone)]
pub(crate) struct RawInstruction {
    /// Start of its first physical line (after the BOM on line 1).
    pub(crate) start: usize,
    /// Where the logical line starts (after leading whitespace).
    pub(crate) content_start: usize,
    /// End of the last consumed line, without the line break.
    pub(crate) content_end: usize,
    /// End of the last consumed line, with the line break.
    pub(crate) end: usize,
    /// 1-based, inclusive, as BuildKit counts them.
    pub(crate) start_line: usize,
    pub(crate) end_line: usize,
    /// The joined line (BuildKit's `Original`).
    pub(crate) logical: Vec<u8>,
    pub(crate) segments: Vec<Segment>,
    /// The nodes: `nodes[0]` is the instruction; for ONBUILD, `nodes[1]` is its
    /// trigger, and so on for (invalid) chained ONBUILDs.
    pub(crate) nodes: Vec<RawNode>,
    pub(crate) heredocs: Vec<RawHeredoc>,
    /// Comment lines inside the continuation (skipped by BuildKit).
    pub(crate) inner_comments: Vec<(usize, usize)>,
    /// Empty lines inside the continuation (a BuildKit warning).
    pub(crate) empty_continuations: Vec<(usize, usize)>,
    /// Comments directly above (BuildKit's `PrevComment`).
    pub(crate) prev_comments: Vec<String>,
}

/// How an instruction's arguments were read (BuildKit's line parser used).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RawForm {
    /// No arguments at all (nil `Next`).
    Empty,
    /// `parseMaybeJSON`/`parseMaybeJSONToList` found a JSON string array.
    Json,
    /// `parseMaybeJSON` fallback: the whole rest is one value.
    Shell,
    /// Whitespace-delimited list (FROM, EXPOSE, ADD/COPY/VOLUME fallback).
    List,
    /// `parseString`: the whole rest.
    Text,
    /// ENV/LABEL `key=value` pairs.
    KeyValue,
    /// ENV/LABEL legacy `key value`.
    KeyValueLegacy,
    /// ARG words (raw).
    Words,
    /// HEALTHCHECK: first value is the type, the rest as `Json`/`Shell`/`Empty`
    /// per `health_form`.
    Healthcheck,
    /// ONBUILD with a trigger (`nodes[i + 1]`).
    OnBuild,
    /// Unknown instruction: BuildKit keeps one empty value.
    Ignored,
}

/// A string BuildKit produced, with the logical range it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawValue {
    pub(crate) bytes: Vec<u8>,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

/// One node of the instruction (`splitCommand` + line parser result).
#[derive(Debug, Clone)]
pub(crate) struct RawNode {
    /// The keyword as written (logical range).
    pub(crate) cmd: (usize, usize),
    /// Go's lowercase of the keyword if it can be an instruction name.
    pub(crate) keyword: Option<String>,
    pub(crate) flags: Vec<RawValue>,
    /// `TrimSpace(args)`: the text after the flags.
    pub(crate) rest: (usize, usize),
    pub(crate) form: RawForm,
    /// For HEALTHCHECK: the form of the command part.
    pub(crate) health_form: RawForm,
    /// BuildKit's `Next` chain values.
    pub(crate) values: Vec<RawValue>,
    /// `Attributes["json"]`.
    pub(crate) json: bool,
}

/// A heredoc and its body.
#[derive(Debug, Clone)]
pub(crate) struct RawHeredoc {
    pub(crate) marker: Marker,
    /// Body lines (source range, line breaks included).
    pub(crate) body: (usize, usize),
    /// The terminator line (source range, without its line break).
    pub(crate) terminator: (usize, usize),
    /// Raw content as BuildKit stores it (no tab chomping).
    pub(crate) content: Vec<u8>,
}

/// A failure, with the source offset it is about.
#[derive(Debug, Clone)]
pub(crate) struct RawError {
    pub(crate) kind: ParseErrorKind,
    pub(crate) offset: usize,
}

/// Physical lines as BuildKit's scanner yields them.
struct Lines {
    /// `(start, end)` with the line break included.
    lines: Vec<(usize, usize)>,
    /// Index of the first line the scanner refuses (too long), if any.
    too_long: Option<usize>,
}

fn scan_lines(src: &[u8]) -> Lines {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut too_long = None;
    while start < src.len() {
        let end = match memchr_newline(&src[start..]) {
            Some(i) => start + i + 1,
            None => src.len(),
        };
        let content = if src[end - 1] == b'\n' {
            end - 1 - start
        } else {
            end - start
        };
        if content > MAX_LINE_LEN {
            too_long = Some(lines.len());
            lines.push((start, end));
            break;
        }
        lines.push((start, end));
        start = end;
    }
    Lines { lines, too_long }
}

fn memchr_newline(b: &[u8]) -> Option<usize> {
    b.iter().position(|&c| c == b'\n')
}

/// Go's `trimNewline`: drops every trailing `\r` and `\n`.
fn trim_newline(b: &[u8]) -> &[u8] {
    let mut end = b.len();
    while end > 0 && matches!(b[end - 1], b'\r' | b'\n') {
        end -= 1;
    }
    &b[..end]
}

fn is_comment(b: &[u8]) -> bool {
    let b = &b[leading_space_len(b)..];
    b.first() == Some(&b'#')
}

/// BuildKit's line continuation test: the last character that is not a space
/// or tab is the escape token, and the one before it (if any) is not.
/// Returns the length of the line without the escape and trailing blanks.
fn continuation_cut(b: &[u8], escape: u8) -> Option<usize> {
    let mut end = b.len();
    while end > 0 && matches!(b[end - 1], b' ' | b'\t') {
        end -= 1;
    }
    if end == 0 || b[end - 1] != escape {
        return None;
    }
    let p = end - 1;
    if p > 0 && b[p - 1] == escape {
        return None;
    }
    Some(p)
}

/// The directive parser's state.
struct Directives {
    done: bool,
    seen: Vec<String>,
    dialect: Dialect,
}

/// A directive found on a line: lowercased key, key range and value range
/// (relative to the line).
struct FoundDirective {
    key: String,
    key_range: (usize, usize),
    value_range: (usize, usize),
}

/// Go's RE2 `\s`.
fn is_re_s(c: u8) -> bool {
    matches!(c, b'\t' | b'\n' | 0x0C | b'\r' | b' ')
}

impl Directives {
    /// BuildKit's `DirectiveParser.ParseLine` on a trimmed line.
    fn parse_line(&mut self, line: &[u8]) -> Result<Option<FoundDirective>, ParseErrorKind> {
        if self.done {
            return Ok(None);
        }
        let Some(found) = self.match_line(line) else {
            self.done = true;
            return Ok(None);
        };
        let valid = matches!(found.key.as_str(), "syntax" | "escape")
            || (found.key == "check" && self.dialect == Dialect::Current);
        if !valid {
            self.done = true;
            return Ok(None);
        }
        if self.seen.contains(&found.key) {
            return Err(ParseErrorKind::DuplicateDirective(found.key));
        }
        self.seen.push(found.key.clone());
        Ok(Some(found))
    }

    fn match_line(&self, line: &[u8]) -> Option<FoundDirective> {
        if line.first() != Some(&b'#') {
            return None;
        }
        let mut i = 1;
        match self.dialect {
            Dialect::BuildKit012 => {
                while i < line.len() && is_re_s(line[i]) {
                    i += 1;
                }
            }
            Dialect::Current => i += leading_space_len(&line[1..]),
        }
        let key_start = i;
        if !line.get(i).is_some_and(u8::is_ascii_alphabetic) {
            return None;
        }
        while i < line.len() && line[i].is_ascii_alphanumeric() {
            i += 1;
        }
        let key_end = i;
        while i < line.len() && is_re_s(line[i]) {
            i += 1;
        }
        if line.get(i) != Some(&b'=') {
            return None;
        }
        i += 1;
        let rest = &line[i..];
        if rest.is_empty() {
            return None;
        }
        // `\s*(.+?)\s*$`: leading blanks go to `\s*` as long as one character
        // is left for the value; the value ends at the last non-blank.
        let lead = rest.iter().take_while(|&&c| is_re_s(c)).count();
        let (vs, ve) = if lead == rest.len() {
            // All blank: the value is the last character.
            let last = rest.len() - 1;
            (last, rest.len())
        } else {
            let mut ve = rest.len();
            while ve > lead && is_re_s(rest[ve - 1]) {
                ve -= 1;
            }
            (lead, ve)
        };
        Some(FoundDirective {
            key: String::from_utf8_lossy(&line[key_start..key_end]).to_ascii_lowercase(),
            key_range: (key_start, key_end),
            value_range: (i + vs, i + ve),
        })
    }
}

/// Parses `src` at the line layer.
pub(crate) fn parse(src: &[u8], dialect: Dialect) -> Result<RawDoc, RawError> {
    let Lines { lines, too_long } = scan_lines(src);
    let usable = too_long.unwrap_or(lines.len());
    let bom = src.starts_with(UTF8_BOM);
    let mut escape = b'\\';
    let mut directives = Directives {
        done: false,
        seen: Vec::new(),
        dialect,
    };
    let mut doc_directives = Vec::new();
    let mut elements = Vec::new();
    let mut comments: Vec<String> = Vec::new();
    let mut has_instruction = false;

    let mut i = 0;
    while i < usable {
        let (mut ls, le) = lines[i];
        if i == 0 && bom {
            ls += UTF8_BOM.len();
        }
        let raw = &src[ls..le];
        let line_no = i + 1;
        let mut is_comment_line = false;
        if is_comment(raw) {
            is_comment_line = true;
            let text = &raw[1.min(raw.len())..];
            let (a, b) = trim_space_range(text);
            if a == b {
                comments.clear();
            } else {
                comments.push(String::from_utf8_lossy(&text[a..b]).into_owned());
            }
        }
        // processLine: trim the line break, then leading whitespace.
        let no_nl = trim_newline(raw);
        let lead = leading_space_len(no_nl);
        let token_start = ls + lead;
        let token = &no_nl[lead..];
        let found = directives.parse_line(token).map_err(|kind| RawError {
            kind,
            offset: token_start,
        })?;
        let mut directive_index = None;
        if let Some(found) = found {
            if found.key == "escape" {
                let v = &token[found.value_range.0..found.value_range.1];
                if v != b"`" && v != b"\\" {
                    return Err(RawError {
                        kind: ParseErrorKind::InvalidEscapeToken(
                            String::from_utf8_lossy(v).into_owned(),
                        ),
                        offset: token_start + found.value_range.0,
                    });
                }
                escape = v[0];
            }
            if dialect == Dialect::Current {
                comments.pop();
            }
            directive_index = Some(doc_directives.len());
            doc_directives.push(RawDirective {
                name: found.key,
                name_range: (
                    token_start + found.key_range.0,
                    token_start + found.key_range.1,
                ),
                value_range: (
                    token_start + found.value_range.0,
                    token_start + found.value_range.1,
                ),
            });
        }
        // trimComments: a line starting with '#' is empty.
        let token: &[u8] = if token.first() == Some(&b'#') {
            &[]
        } else {
            token
        };
        let content_end = ls + no_nl.len();
        let (first_len, mut eol) = match continuation_cut(token, escape) {
            Some(cut) => (cut, false),
            None => (token.len(), true),
        };
        if eol && first_len == 0 {
            let kind = match directive_index {
                Some(d) => LineKind::Directive(d),
                None if is_comment_line => LineKind::Comment,
                None => LineKind::Blank,
            };
            elements.push(RawElement::Line(RawLine {
                kind,
                start: ls,
                content_end,
                end: le,
            }));
            i += 1;
            continue;
        }

        let start_line = line_no;
        let mut logical = Vec::with_capacity(first_len + 16);
        logical.extend_from_slice(&token[..first_len]);
        let mut segments = vec![Segment {
            logical: 0,
            source: token_start,
            len: first_len,
        }];
        let mut inner_comments = Vec::new();
        let mut empty_continuations = Vec::new();
        let mut last_end = le;
        let mut last_content_end = content_end;
        i += 1;
        while !eol && i < usable {
            let (cs, ce) = lines[i];
            i += 1;
            let craw = &src[cs..ce];
            let cno_nl = trim_newline(craw);
            last_end = ce;
            last_content_end = cs + cno_nl.len();
            if is_comment(craw) {
                inner_comments.push((cs, ce));
                continue;
            }
            if leading_space_len(cno_nl) == cno_nl.len() {
                empty_continuations.push((cs, ce));
                continue;
            }
            let len = match continuation_cut(cno_nl, escape) {
                Some(cut) => cut,
                None => {
                    eol = true;
                    cno_nl.len()
                }
            };
            segments.push(Segment {
                logical: logical.len(),
                source: cs,
                len,
            });
            logical.extend_from_slice(&cno_nl[..len]);
        }

        let nodes = parse_node_chain(&logical, escape, dialect).map_err(|kind| RawError {
            kind,
            offset: token_start,
        })?;

        let mut heredocs = Vec::new();
        // Without `<<` no word can be a heredoc marker (newer BuildKit checks
        // this too; for 0.12 it only saves work).
        if can_contain_heredoc(&nodes) && logical.windows(2).any(|w| w == b"<<") {
            let markers = heredoc::markers_in_line(&logical, dialect).map_err(|msg| RawError {
                kind: ParseErrorKind::HeredocDelimiter(msg),
                offset: token_start,
            })?;
            for marker in markers {
                let body_start = last_end;
                let mut content = Vec::new();
                let mut terminated = None;
                while i < usable {
                    let (hs, he) = lines[i];
                    i += 1;
                    let hraw = &src[hs..he];
                    let mut possible = trim_newline(hraw);
                    let mut tabs = 0;
                    if marker.chomp {
                        while tabs < possible.len() && possible[tabs] == b'\t' {
                            tabs += 1;
                        }
                        possible = &possible[tabs..];
                    }
                    last_end = he;
                    last_content_end = hs + trim_newline(hraw).len();
                    if possible == marker.name.as_bytes() {
                        terminated = Some((hs, hs + trim_newline(hraw).len()));
                        break;
                    }
                    content.extend_from_slice(hraw);
                }
                let Some((ts, te)) = terminated else {
                    return Err(RawError {
                        kind: ParseErrorKind::UnterminatedHeredoc,
                        offset: source_offset(&segments, marker.start),
                    });
                };
                heredocs.push(RawHeredoc {
                    marker,
                    body: (body_start, ts),
                    terminator: (ts, te),
                    content,
                });
            }
        }

        has_instruction = true;
        elements.push(RawElement::Instruction(Box::new(RawInstruction {
            start: ls,
            content_start: token_start,
            content_end: last_content_end,
            end: last_end,
            start_line,
            end_line: i,
            logical,
            segments,
            nodes,
            heredocs,
            inner_comments,
            empty_continuations,
            prev_comments: std::mem::take(&mut comments),
        })));
    }

    if !has_instruction {
        return Err(RawError {
            kind: ParseErrorKind::NoInstructions,
            offset: src.len(),
        });
    }
    if let Some(t) = too_long {
        return Err(RawError {
            kind: ParseErrorKind::LineTooLong,
            offset: lines[t].0,
        });
    }
    Ok(RawDoc {
        bom,
        escape,
        directives: doc_directives,
        elements,
    })
}

/// Maps a logical-line offset to a source offset.
pub(crate) fn source_offset(segments: &[Segment], logical: usize) -> usize {
    // The last segment whose logical start is <= offset.
    let idx = match segments.binary_search_by(|s| s.logical.cmp(&logical)) {
        Ok(i) => {
            // Several empty segments may start at the same offset: take the
            // last one that is not empty, or this one.
            let mut j = i;
            while j + 1 < segments.len() && segments[j + 1].logical == logical {
                j += 1;
            }
            j
        }
        Err(0) => 0,
        Err(i) => i - 1,
    };
    let s = segments[idx];
    s.source + (logical - s.logical).min(s.len)
}

/// Maps a logical range to a source range (the end maps to just after the
/// last byte of the range).
pub(crate) fn source_range(segments: &[Segment], start: usize, end: usize) -> (usize, usize) {
    let s = source_offset_start(segments, start);
    if end <= start {
        return (s, s);
    }
    let e = source_offset(segments, end - 1) + 1;
    (s, e.max(s))
}

/// Like `source_offset`, but an offset at a segment boundary maps to the start
/// of the next non-empty segment (where the text at that offset really is).
fn source_offset_start(segments: &[Segment], logical: usize) -> usize {
    for s in segments {
        if logical < s.logical + s.len {
            return s.source + logical.saturating_sub(s.logical);
        }
    }
    source_offset(segments, logical)
}

fn can_contain_heredoc(nodes: &[RawNode]) -> bool {
    let mut node = &nodes[0];
    if node.keyword.as_deref() == Some("onbuild") && node.form == RawForm::OnBuild {
        node = &nodes[1];
    }
    matches!(node.keyword.as_deref(), Some("add" | "copy" | "run")) && !node.json
}

/// `newNodeFromLine`, iteratively for ONBUILD chains.
fn parse_node_chain(
    line: &[u8],
    escape: u8,
    dialect: Dialect,
) -> Result<Vec<RawNode>, ParseErrorKind> {
    let mut nodes = Vec::new();
    let (mut start, mut end) = (0, line.len());
    loop {
        let node = parse_node(line, start, end, escape, dialect)?;
        let next = (node.form == RawForm::OnBuild).then_some(node.rest);
        nodes.push(node);
        match next {
            Some((s, e)) => {
                start = s;
                end = e;
            }
            None => return Ok(nodes),
        }
    }
}

/// `splitCommand` + dispatch for `line[start..end]`.
fn parse_node(
    line: &[u8],
    start: usize,
    end: usize,
    escape: u8,
    dialect: Dialect,
) -> Result<RawNode, ParseErrorKind> {
    let (ts, te) = trim_space_range(&line[start..end]);
    let (ts, te) = (start + ts, start + te);
    let ws = line[ts..te]
        .iter()
        .position(|&c| is_re_whitespace(c))
        .map(|p| ts + p);
    let (cmd, flags, rest) = match ws {
        None => ((ts, te), Vec::new(), (te, te)),
        Some(m) => {
            let mut after = m;
            while after < te && is_re_whitespace(line[after]) {
                after += 1;
            }
            let flag_escape = if dialect == Dialect::Current {
                escape
            } else {
                b'\\'
            };
            let (args_at, flags) = extract_builder_flags(line, after, te, flag_escape);
            let (rs, re) = match args_at {
                Some(a) => {
                    let (x, y) = trim_space_range(&line[a..te]);
                    (a + x, a + y)
                }
                None => (te, te),
            };
            ((ts, m), flags, (rs, re))
        }
    };
    let keyword = keyword_lower(&line[cmd.0..cmd.1]);
    let mut node = RawNode {
        cmd,
        keyword,
        flags,
        rest,
        form: RawForm::Empty,
        health_form: RawForm::Empty,
        values: Vec::new(),
        json: false,
    };
    let (rs, re) = rest;
    let r = &line[rs..re];
    let strict_json = dialect == Dialect::Current;
    match node.keyword.as_deref() {
        Some("add" | "copy" | "volume") => match parse_json_array(r, strict_json) {
            JsonArray::Strings(items) => set_json(&mut node, items, rs),
            JsonArray::NotStrings => return Err(ParseErrorKind::JsonNotStrings),
            JsonArray::Invalid => split_whitespace(&mut node, line, rs, re),
        },
        Some("arg") => {
            node.values = parse_words(line, rs, re, escape);
            if !node.values.is_empty() {
                node.form = RawForm::Words;
            }
        }
        Some("cmd" | "entrypoint" | "run" | "shell") => {
            let (form, values, json) = parse_maybe_json(line, rs, re, strict_json)?;
            node.form = form;
            node.values = values;
            node.json = json;
        }
        Some("env") => parse_name_val(&mut node, line, rs, re, escape, "ENV", dialect)?,
        Some("label") => parse_name_val(&mut node, line, rs, re, escape, "LABEL", dialect)?,
        Some("expose" | "from") => split_whitespace(&mut node, line, rs, re),
        Some("healthcheck") => {
            let mut sep = rs;
            while sep < re && !is_space_byte_as_rune(line[sep]) {
                sep += 1;
            }
            let mut next = sep;
            while next < re && is_space_byte_as_rune(line[next]) {
                next += 1;
            }
            if sep > rs {
                let (form, values, json) = parse_maybe_json(line, next, re, strict_json)?;
                node.form = RawForm::Healthcheck;
                node.health_form = form;
                node.values.push(RawValue {
                    bytes: line[rs..sep].to_vec(),
                    start: rs,
                    end: sep,
                });
                node.values.extend(values);
                node.json = json;
            }
        }
        Some("maintainer" | "stopsignal" | "user" | "workdir") => {
            if re > rs {
                node.form = RawForm::Text;
                node.values.push(RawValue {
                    bytes: r.to_vec(),
                    start: rs,
                    end: re,
                });
            }
        }
        Some("onbuild") => {
            if re > rs {
                node.form = RawForm::OnBuild;
            }
        }
        _ => {
            node.form = RawForm::Ignored;
            node.values.push(RawValue {
                bytes: Vec::new(),
                start: rs,
                end: rs,
            });
        }
    }
    Ok(node)
}

fn set_json(node: &mut RawNode, items: Vec<crate::json_array::JsonString>, offset: usize) {
    node.form = RawForm::Json;
    node.json = true;
    node.values = items
        .into_iter()
        .map(|s| RawValue {
            bytes: s.value,
            start: offset + s.start,
            end: offset + s.end,
        })
        .collect();
}

/// `parseMaybeJSON`: returns the form, the values and the json attribute.
fn parse_maybe_json(
    line: &[u8],
    rs: usize,
    re: usize,
    strict_json: bool,
) -> Result<(RawForm, Vec<RawValue>, bool), ParseErrorKind> {
    if re == rs {
        return Ok((RawForm::Empty, Vec::new(), false));
    }
    let r = &line[rs..re];
    // parseJSON trims leading Unicode space first (only HEALTHCHECK can leave
    // some, after a multi-byte space its byte loop did not skip).
    let js = rs + leading_space_len(r);
    match parse_json_array(&line[js..re], strict_json) {
        JsonArray::Strings(items) => {
            let values = items
                .into_iter()
                .map(|s| RawValue {
                    bytes: s.value,
                    start: js + s.start,
                    end: js + s.end,
                })
                .collect();
            Ok((RawForm::Json, values, true))
        }
        JsonArray::NotStrings => Err(ParseErrorKind::JsonNotStrings),
        JsonArray::Invalid => Ok((
            RawForm::Shell,
            vec![RawValue {
                bytes: r.to_vec(),
                start: rs,
                end: re,
            }],
            false,
        )),
    }
}

/// `parseStringsWhitespaceDelimited` (the rest is already trimmed, so there
/// are no empty words).
fn split_whitespace(node: &mut RawNode, line: &[u8], rs: usize, re: usize) {
    if re == rs {
        return;
    }
    node.form = RawForm::List;
    let mut i = rs;
    let mut word_start = rs;
    while i < re {
        if is_re_whitespace(line[i]) {
            node.values.push(RawValue {
                bytes: line[word_start..i].to_vec(),
                start: word_start,
                end: i,
            });
            while i < re && is_re_whitespace(line[i]) {
                i += 1;
            }
            word_start = i;
        } else {
            i += 1;
        }
    }
    node.values.push(RawValue {
        bytes: line[word_start..re].to_vec(),
        start: word_start,
        end: re,
    });
}

/// `parseNameVal` for ENV and LABEL.
fn parse_name_val(
    node: &mut RawNode,
    line: &[u8],
    rs: usize,
    re: usize,
    escape: u8,
    key: &str,
    dialect: Dialect,
) -> Result<(), ParseErrorKind> {
    let words = parse_words(line, rs, re, escape);
    if words.is_empty() {
        return Ok(());
    }
    let current = dialect == Dialect::Current;
    if !words[0].bytes.contains(&b'=') {
        // Legacy `KEY value`: split the raw rest once on whitespace.
        let Some(m) = line[rs..re]
            .iter()
            .position(|&c| is_re_whitespace(c))
            .map(|p| rs + p)
        else {
            return Err(ParseErrorKind::MissingValue(key.to_string()));
        };
        let mut v = m;
        while v < re && is_re_whitespace(line[v]) {
            v += 1;
        }
        node.form = RawForm::KeyValueLegacy;
        node.values.push(RawValue {
            bytes: line[rs..m].to_vec(),
            start: rs,
            end: m,
        });
        node.values.push(RawValue {
            bytes: line[v..re].to_vec(),
            start: v,
            end: re,
        });
        if current {
            node.values.push(RawValue {
                bytes: Vec::new(),
                start: m,
                end: m,
            });
        }
        return Ok(());
    }
    node.form = RawForm::KeyValue;
    for w in words {
        let Some(eq) = w.bytes.iter().position(|&c| c == b'=') else {
            return Err(ParseErrorKind::MissingEquals(
                String::from_utf8_lossy(&w.bytes).into_owned(),
            ));
        };
        // The word is the source text unless invalid UTF-8 was replaced; find
        // the '=' in the source for the ranges.
        let src_eq = line[w.start..w.end]
            .iter()
            .position(|&c| c == b'=')
            .map_or(w.start + eq.min(w.end - w.start), |p| w.start + p);
        node.values.push(RawValue {
            bytes: w.bytes[..eq].to_vec(),
            start: w.start,
            end: src_eq,
        });
        node.values.push(RawValue {
            bytes: w.bytes[eq + 1..].to_vec(),
            start: (src_eq + 1).min(w.end),
            end: w.end,
        });
        if current {
            node.values.push(RawValue {
                bytes: b"=".to_vec(),
                start: src_eq,
                end: (src_eq + 1).min(w.end),
            });
        }
    }
    Ok(())
}

/// `parseWords`: whitespace-separated words with quotes and escapes kept.
fn parse_words(line: &[u8], rs: usize, re: usize, escape: u8) -> Vec<RawValue> {
    #[derive(PartialEq)]
    enum Phase {
        Spaces,
        Word,
        Quote,
    }
    let escape = escape as char;
    let mut words = Vec::new();
    let mut phase = Phase::Spaces;
    let mut word: Vec<u8> = Vec::new();
    let mut word_start = rs;
    let mut quote = '\0';
    let mut blank_ok = false;
    let mut pos = rs;
    let mut ch = '\0';
    let mut width = 0;
    loop {
        if pos > re {
            break;
        }
        if pos != re {
            (ch, width) = decode_rune(&line[pos..re]);
        }
        if phase == Phase::Spaces {
            if pos == re {
                break;
            }
            if is_space(ch) {
                pos += width;
                continue;
            }
            phase = Phase::Word;
            word_start = pos;
        }
        if pos == re {
            if blank_ok || !word.is_empty() {
                words.push(RawValue {
                    bytes: word,
                    start: word_start,
                    end: re,
                });
            }
            break;
        }
        if phase == Phase::Word {
            if is_space(ch) {
                phase = Phase::Spaces;
                if blank_ok || !word.is_empty() {
                    words.push(RawValue {
                        bytes: std::mem::take(&mut word),
                        start: word_start,
                        end: pos,
                    });
                }
                word.clear();
                blank_ok = false;
                pos += width;
                continue;
            }
            if ch == '\'' || ch == '"' {
                quote = ch;
                blank_ok = true;
                phase = Phase::Quote;
            }
            if ch == escape {
                if pos + width == re {
                    pos += width;
                    continue;
                }
                push_char(&mut word, ch);
                pos += width;
                (ch, width) = decode_rune(&line[pos..re]);
            }
            push_char(&mut word, ch);
            pos += width;
            continue;
        }
        // In quotes.
        if ch == quote {
            phase = Phase::Word;
        }
        if ch == escape && quote != '\'' {
            if pos + width == re {
                phase = Phase::Word;
                pos += width;
                continue;
            }
            pos += width;
            push_char(&mut word, ch);
            (ch, width) = decode_rune(&line[pos..re]);
        }
        push_char(&mut word, ch);
        pos += width;
    }
    words
}

/// `extractBuilderFlags` on `line[start..end]`. Works byte by byte (each byte
/// taken as a rune, as BuildKit does). Returns where the arguments start
/// (`None`: no arguments) and the flag words with their ranges.
fn extract_builder_flags(
    line: &[u8],
    start: usize,
    end: usize,
    escape: u8,
) -> (Option<usize>, Vec<RawValue>) {
    #[derive(PartialEq)]
    enum Phase {
        Spaces,
        Word,
        Quote,
    }
    let mut words = Vec::new();
    let mut phase = Phase::Spaces;
    let mut word: Vec<u8> = Vec::new();
    let mut word_start = start;
    let mut quote = 0u8;
    let mut blank_ok = false;
    let mut pos = start;
    while pos <= end {
        let ch = if pos != end { line[pos] } else { 0 };
        if phase == Phase::Spaces {
            if pos == end {
                break;
            }
            if is_space_byte_as_rune(ch) {
                pos += 1;
                continue;
            }
            if ch != b'-' || pos + 1 == end || line[pos + 1] != b'-' {
                return (Some(pos), words);
            }
            phase = Phase::Word;
            word_start = pos;
        }
        if pos == end {
            if word != b"--" && (blank_ok || !word.is_empty()) {
                words.push(RawValue {
                    bytes: word,
                    start: word_start,
                    end,
                });
            }
            break;
        }
        if phase == Phase::Word {
            if is_space_byte_as_rune(ch) {
                phase = Phase::Spaces;
                if word == b"--" {
                    return (Some(pos), words);
                }
                if blank_ok || !word.is_empty() {
                    words.push(RawValue {
                        bytes: std::mem::take(&mut word),
                        start: word_start,
                        end: pos,
                    });
                }
                word.clear();
                blank_ok = false;
                pos += 1;
                continue;
            }
            if ch == b'\'' || ch == b'"' {
                quote = ch;
                blank_ok = true;
                phase = Phase::Quote;
                pos += 1;
                continue;
            }
            let mut c = ch;
            if ch == escape {
                if pos + 1 == end {
                    pos += 1;
                    continue;
                }
                pos += 1;
                c = line[pos];
            }
            push_char(&mut word, c as char);
            pos += 1;
            continue;
        }
        // In quotes.
        if ch == quote {
            phase = Phase::Word;
            pos += 1;
            continue;
        }
        let mut c = ch;
        if ch == escape {
            if pos + 1 == end {
                phase = Phase::Word;
                pos += 1;
                continue;
            }
            pos += 1;
            c = line[pos];
        }
        push_char(&mut word, c as char);
        pos += 1;
    }
    (None, words)
}

impl RawInstruction {
    /// Maps a logical range of this instruction to a source range.
    pub(crate) fn source_range(&self, start: usize, end: usize) -> (usize, usize) {
        source_range(&self.segments, start, end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(line: &str) -> RawNode {
        parse_node_chain(line.as_bytes(), b'\\', Dialect::BuildKit012)
            .unwrap()
            .remove(0)
    }

    fn values(n: &RawNode) -> Vec<String> {
        n.values
            .iter()
            .map(|v| String::from_utf8(v.bytes.clone()).unwrap())
            .collect()
    }

    fn flags(n: &RawNode) -> Vec<String> {
        n.flags
            .iter()
            .map(|v| String::from_utf8(v.bytes.clone()).unwrap())
            .collect()
    }

    #[test]
    fn splits_flags_and_args() {
        let n = node("COPY --from=a --chown='x y' src dst");
        assert_eq!(flags(&n), vec!["--from=a", "--chown=x y"]);
        assert_eq!(values(&n), vec!["src", "dst"]);
        let n = node("RUN -- --not-a-flag");
        assert!(n.flags.is_empty());
        assert_eq!(values(&n), vec!["--not-a-flag"]);
        let n = node("CMD --doit");
        assert_eq!(flags(&n), vec!["--doit"]);
        assert_eq!(n.form, RawForm::Empty);
    }

    #[test]
    fn env_forms() {
        let n = node("ENV a=1 b=\"2 3\"");
        assert_eq!(values(&n), vec!["a", "1", "b", "\"2 3\""]);
        let n = node("ENV PATH /usr/bin  /bin");
        assert_eq!(values(&n), vec!["PATH", "/usr/bin  /bin"]);
        assert!(matches!(
            parse_node_chain(b"ENV PATH", b'\\', Dialect::BuildKit012),
            Err(ParseErrorKind::MissingValue(_))
        ));
        let n = parse_node_chain(b"ENV a=1", b'\\', Dialect::Current)
            .unwrap()
            .remove(0);
        assert_eq!(values(&n), vec!["a", "1", "="]);
    }

    #[test]
    fn json_and_shell_forms() {
        let n = node("CMD [\"a\", \"b\"]");
        assert!(n.json);
        assert_eq!(values(&n), vec!["a", "b"]);
        let n = node("CMD ['a']");
        assert!(!n.json);
        assert_eq!(values(&n), vec!["['a']"]);
        let n = node("HEALTHCHECK --interval=5s CMD curl x");
        assert_eq!(values(&n), vec!["CMD", "curl x"]);
        let n = node("FOO bar");
        assert_eq!(values(&n), vec![""]);
    }

    #[test]
    fn onbuild_chain() {
        let nodes = parse_node_chain(b"ONBUILD RUN echo hi", b'\\', Dialect::BuildKit012).unwrap();
        assert_eq!(nodes.len(), 2);
        assert_eq!(values(&nodes[1]), vec!["echo hi"]);
    }

    #[test]
    fn continuation_rule() {
        assert_eq!(continuation_cut(b"a \\", b'\\'), Some(2));
        assert_eq!(continuation_cut(b"a \\ \t", b'\\'), Some(2));
        assert_eq!(continuation_cut(b"\\", b'\\'), Some(0));
        assert_eq!(continuation_cut(b"a\\\\", b'\\'), None);
        assert_eq!(continuation_cut(b"a`", b'`'), Some(1));
    }

    #[test]
    fn directive_values() {
        let d = Directives {
            done: false,
            seen: vec![],
            dialect: Dialect::BuildKit012,
        };
        let m = d.match_line(b"# escape = ` ").unwrap();
        assert_eq!(m.key, "escape");
        assert_eq!(&b"# escape = ` "[m.value_range.0..m.value_range.1], b"`");
        let m = d.match_line(b"#escape=  ").unwrap();
        assert_eq!(&b"#escape=  "[m.value_range.0..m.value_range.1], b" ");
        assert!(d.match_line(b"# 1x=y").is_none());
    }
}
