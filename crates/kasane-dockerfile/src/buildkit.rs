//! BuildKit's view of a Dockerfile, in the shape of the conformance oracle.
//!
//! The oracle (`shared/corpus/oracle-all.jsonl`) is what the `dockerfile`
//! Python package (BuildKit's Go parser behind a C extension) returns for each
//! file, written with Python's `json.dumps`. [`json_line`] produces the same
//! line, byte for byte, including the two quirks of that package: strings are
//! passed to Python as C strings (cut at the first NUL byte) and decoded as
//! strict UTF-8 (an undecodable string fails the whole file with Python's
//! `UnicodeDecodeError` message).

use std::borrow::Cow;
use std::fmt::Write;

use crate::Dialect;
use crate::raw::{self, RawDoc, RawElement, RawForm};

/// One instruction as the oracle reports it (Go strings: bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command<'a> {
    /// The keyword as written.
    pub cmd: &'a [u8],
    /// ONBUILD's trigger keyword (empty when none).
    pub sub_cmd: &'a [u8],
    /// Exec (JSON) form.
    pub json: bool,
    /// The joined line, plus heredoc bodies and terminators.
    pub original: Cow<'a, [u8]>,
    /// 1-based first line.
    pub start_line: usize,
    /// 1-based last line.
    pub end_line: usize,
    /// Flag words.
    pub flags: Vec<&'a [u8]>,
    /// BuildKit's `Next` chain values.
    pub value: Vec<&'a [u8]>,
    /// Heredocs: name, file descriptor, content.
    pub heredocs: Vec<(&'a [u8], u64, &'a [u8])>,
}

/// What BuildKit's parser makes of `source`: the line-layer document, or the
/// error message. [`commands`] turns the document into the oracle's records.
pub fn parse_raw(source: &[u8], dialect: Dialect) -> Result<RawParse, String> {
    raw::parse(source, dialect)
        .map(RawParse)
        .map_err(|e| e.kind.to_string())
}

/// The result of [`parse_raw`] (opaque).
#[derive(Debug, Clone)]
pub struct RawParse(RawDoc);

/// The instructions of a parsed file as the oracle reports them.
pub fn commands(parsed: &RawParse) -> Vec<Command<'_>> {
    commands_of(&parsed.0)
}

fn commands_of(doc: &RawDoc) -> Vec<Command<'_>> {
    let mut out = Vec::new();
    for e in &doc.elements {
        let RawElement::Instruction(ri) = e else {
            continue;
        };
        let top = &ri.nodes[0];
        let cmd = &ri.logical[top.cmd.0..top.cmd.1];
        let flags = top.flags.iter().map(|f| &f.bytes[..]).collect();
        // The package reports ONBUILD's trigger in place of the instruction,
        // and (a quirk) drops ONBUILD heredocs, which sit on the outer node.
        let (node, sub_cmd, heredocs) = if top.form == RawForm::OnBuild {
            let t = &ri.nodes[1];
            (t, &ri.logical[t.cmd.0..t.cmd.1], &[][..])
        } else {
            (top, &[][..], &ri.heredocs[..])
        };
        let value = if node.form == RawForm::OnBuild {
            // A nested ONBUILD's `Next` is a node holding only children.
            vec![&[][..]]
        } else {
            node.values.iter().map(|v| &v.bytes[..]).collect()
        };
        let original = if heredocs.is_empty() {
            Cow::Borrowed(&ri.logical[..])
        } else {
            let mut original = ri.logical.clone();
            original.push(b'\n');
            for h in heredocs {
                original.extend_from_slice(&h.content);
                original.extend_from_slice(h.marker.name.as_bytes());
                original.push(b'\n');
            }
            Cow::Owned(original)
        };
        out.push(Command {
            cmd,
            sub_cmd,
            json: node.json,
            original,
            start_line: ri.start_line,
            end_line: ri.end_line,
            flags,
            value,
            heredocs: heredocs
                .iter()
                .map(|h| (h.marker.name.as_bytes(), h.marker.fd, &h.content[..]))
                .collect(),
        });
    }
    out
}

/// A line in the oracle's format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OracleLine {
    /// The JSON text, without a line break.
    pub text: String,
    /// Whether the file parsed (`"ok": true`).
    pub ok: bool,
}

/// The oracle line for `file` with content `source`.
pub fn json_line(file: &str, source: &[u8], dialect: Dialect) -> OracleLine {
    let mut out = String::with_capacity(source.len() * 2 + 64);
    out.push_str("{\"file\": ");
    push_json_str(&mut out, file);
    let error = match parse_raw(source, dialect) {
        Ok(parsed) => {
            let cmds = commands(&parsed);
            match to_python(&cmds) {
                Ok(py) => {
                    out.push_str(", \"ok\": true, \"instructions\": [");
                    for (i, c) in py.iter().enumerate() {
                        if i > 0 {
                            out.push_str(", ");
                        }
                        push_command(&mut out, c);
                    }
                    out.push_str("]}");
                    return OracleLine {
                        text: out,
                        ok: true,
                    };
                }
                Err(e) => e,
            }
        }
        Err(e) => e,
    };
    out.push_str(", \"ok\": false, \"error\": ");
    push_json_str(&mut out, &error);
    out.push('}');
    OracleLine {
        text: out,
        ok: false,
    }
}

/// A command after the trip through C strings and Python.
struct PyCommand<'a> {
    cmd: Option<Cow<'a, str>>,
    sub_cmd: Option<Cow<'a, str>>,
    json: bool,
    original: Option<Cow<'a, str>>,
    start_line: usize,
    end_line: usize,
    flags: Vec<Cow<'a, str>>,
    value: Vec<Cow<'a, str>>,
    heredocs: Vec<(Cow<'a, str>, i64, Cow<'a, str>)>,
}

/// Converts like the Python package: each string is cut at its first NUL and
/// decoded as UTF-8, in the package's order; the first failure fails the file.
fn to_python<'a>(cmds: &'a [Command<'a>]) -> Result<Vec<PyCommand<'a>>, String> {
    cmds.iter()
        .map(|c| {
            let opt = |b: &'a [u8]| -> Result<Option<Cow<'a, str>>, String> {
                if b.is_empty() {
                    Ok(None)
                } else {
                    py_string(b).map(Some)
                }
            };
            let cmd = opt(c.cmd)?;
            let sub_cmd = opt(c.sub_cmd)?;
            let original = opt(&c.original)?;
            let flags = c
                .flags
                .iter()
                .map(|f| py_string(f))
                .collect::<Result<_, _>>()?;
            let value = c
                .value
                .iter()
                .map(|v| py_string(v))
                .collect::<Result<_, _>>()?;
            let heredocs = c
                .heredocs
                .iter()
                .map(|(n, fd, content)| {
                    // C.long(uint): values past i64 wrap around.
                    Ok((py_string(n)?, *fd as i64, py_string(content)?))
                })
                .collect::<Result<_, String>>()?;
            Ok(PyCommand {
                cmd,
                sub_cmd,
                json: c.json,
                original,
                start_line: c.start_line,
                end_line: c.end_line,
                flags,
                value,
                heredocs,
            })
        })
        .collect()
}

/// `PyUnicode_FromString(C.CString(s))`.
fn py_string(b: &[u8]) -> Result<Cow<'_, str>, String> {
    let b = match b.iter().position(|&c| c == 0) {
        Some(p) => &b[..p],
        None => b,
    };
    match std::str::from_utf8(b) {
        Ok(s) => Ok(Cow::Borrowed(s)),
        Err(e) => Err(python_decode_error(b, e.valid_up_to())),
    }
}

/// Python's `UnicodeDecodeError` message for the bad sequence at `at`.
fn python_decode_error(b: &[u8], at: usize) -> String {
    let lead = b[at];
    let (len, lo, hi) = match lead {
        0xC2..=0xDF => (2, 0x80, 0xBF),
        0xE0 => (3, 0xA0, 0xBF),
        0xE1..=0xEC | 0xEE..=0xEF => (3, 0x80, 0xBF),
        0xED => (3, 0x80, 0x9F),
        0xF0 => (4, 0x90, 0xBF),
        0xF1..=0xF3 => (4, 0x80, 0xBF),
        0xF4 => (4, 0x80, 0x8F),
        _ => (0, 0, 0),
    };
    let (end, reason) = if len == 0 {
        (at + 1, "invalid start byte")
    } else {
        let mut k = 1;
        let mut reason = "unexpected end of data";
        while k < len {
            match b.get(at + k) {
                None => break,
                Some(&c) => {
                    let (l, h) = if k == 1 { (lo, hi) } else { (0x80, 0xBF) };
                    if !(l..=h).contains(&c) {
                        reason = "invalid continuation byte";
                        break;
                    }
                }
            }
            k += 1;
        }
        (at + k, reason)
    };
    if end == at + 1 {
        format!("'utf-8' codec can't decode byte 0x{lead:02x} in position {at}: {reason}")
    } else {
        format!(
            "'utf-8' codec can't decode bytes in position {at}-{}: {reason}",
            end - 1
        )
    }
}

fn push_command(out: &mut String, c: &PyCommand<'_>) {
    out.push_str("{\"cmd\": ");
    push_opt(out, c.cmd.as_deref());
    out.push_str(", \"sub_cmd\": ");
    push_opt(out, c.sub_cmd.as_deref());
    out.push_str(if c.json {
        ", \"json\": true"
    } else {
        ", \"json\": false"
    });
    out.push_str(", \"original\": ");
    push_opt(out, c.original.as_deref());
    let _ = write!(
        out,
        ", \"start_line\": {}, \"end_line\": {}",
        c.start_line, c.end_line
    );
    out.push_str(", \"flags\": ");
    push_list(out, &c.flags);
    out.push_str(", \"value\": ");
    push_list(out, &c.value);
    out.push_str(", \"heredocs\": [");
    for (i, (name, fd, content)) in c.heredocs.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str("{\"name\": ");
        push_json_str(out, name);
        let _ = write!(out, ", \"fd\": {fd}, \"content\": ");
        push_json_str(out, content);
        out.push('}');
    }
    out.push_str("]}");
}

fn push_opt(out: &mut String, s: Option<&str>) {
    match s {
        Some(s) => push_json_str(out, s),
        None => out.push_str("null"),
    }
}

fn push_list(out: &mut String, items: &[Cow<'_, str>]) {
    out.push('[');
    for (i, s) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        push_json_str(out, s);
    }
    out.push(']');
}

/// Python's `json.dumps(s, ensure_ascii=False)` for a string.
fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    let b = s.as_bytes();
    let mut run = 0;
    for (i, &c) in b.iter().enumerate() {
        let esc = match c {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            8 => "\\b",
            12 => "\\f",
            0..=0x1F => "",
            _ => continue,
        };
        // Only ASCII bytes are escaped, so `run..i` is on char boundaries.
        out.push_str(&s[run..i]);
        if esc.is_empty() {
            let _ = write!(out, "\\u{c:04x}");
        } else {
            out.push_str(esc);
        }
        run = i + 1;
    }
    out.push_str(&s[run..]);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_decode_messages() {
        assert_eq!(
            py_string(b"\x80\x03]q").unwrap_err(),
            "'utf-8' codec can't decode byte 0x80 in position 0: invalid start byte"
        );
        assert_eq!(
            py_string(b"a\xe2\x82\xe2").unwrap_err(),
            "'utf-8' codec can't decode bytes in position 1-2: invalid continuation byte"
        );
        assert_eq!(
            py_string(b"\xf0\x90\x80").unwrap_err(),
            "'utf-8' codec can't decode bytes in position 0-2: unexpected end of data"
        );
        // Cut at NUL first.
        assert_eq!(py_string(b"ab\0\xff").unwrap(), "ab");
    }

    #[test]
    fn line_shape() {
        let line = json_line("f", b"FROM a\nRUN <<EOF\nhi\nEOF\n", Dialect::BuildKit012).text;
        assert_eq!(
            line,
            "{\"file\": \"f\", \"ok\": true, \"instructions\": [\
             {\"cmd\": \"FROM\", \"sub_cmd\": null, \"json\": false, \"original\": \"FROM a\", \
             \"start_line\": 1, \"end_line\": 1, \"flags\": [], \"value\": [\"a\"], \"heredocs\": []}, \
             {\"cmd\": \"RUN\", \"sub_cmd\": null, \"json\": false, \"original\": \"RUN <<EOF\\nhi\\nEOF\\n\", \
             \"start_line\": 2, \"end_line\": 4, \"flags\": [], \"value\": [\"<<EOF\"], \
             \"heredocs\": [{\"name\": \"EOF\", \"fd\": 0, \"content\": \"hi\\n\"}]}]}"
        );
        assert_eq!(
            json_line("e", b"# only a comment\n", Dialect::BuildKit012).text,
            "{\"file\": \"e\", \"ok\": false, \"error\": \"file with no instructions\"}"
        );
    }
}
