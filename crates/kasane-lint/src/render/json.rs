//! `--format json`: a flat array of findings, one object each, easy to filter with `jq`.
//!
//! Each object carries `file`, `code`, `name`, `aliases`, `severity`, `message`, `line`,
//! `column`, `end_line`, `end_column` (1-based, columns in characters, end exclusive),
//! the byte `span`, and `fix` and `notes` when present.

use serde::Serialize;

use crate::diagnostic::{FileReport, Finding, Fix, Note, Severity, Span};

#[derive(Serialize)]
struct JsonFinding<'a> {
    file: &'a str,
    code: &'a str,
    name: &'a str,
    aliases: &'a [&'static str],
    severity: Severity,
    message: &'a str,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    span: Span,
    #[serde(skip_serializing_if = "Option::is_none")]
    fix: Option<&'a Fix>,
    #[serde(skip_serializing_if = "<[Note]>::is_empty")]
    notes: &'a [Note],
}

impl<'a> JsonFinding<'a> {
    fn new(file: &'a str, f: &'a Finding) -> Self {
        JsonFinding {
            file,
            code: f.code,
            name: f.name,
            aliases: &f.aliases,
            severity: f.severity,
            message: &f.message,
            line: f.location.start.line,
            column: f.location.start.column,
            end_line: f.location.end.line,
            end_column: f.location.end.column,
            span: f.location.span,
            fix: f.fix.as_ref(),
            notes: &f.notes,
        }
    }
}

pub(crate) fn render(reports: &[FileReport]) -> String {
    let all: Vec<JsonFinding<'_>> = reports
        .iter()
        .flat_map(|r| r.findings.iter().map(|f| JsonFinding::new(&r.path, f)))
        .collect();
    let mut out = serde_json::to_string_pretty(&all).unwrap_or_else(|_| "[]".into());
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use crate::render::fixtures;

    #[test]
    fn json_findings() {
        let out = super::render(&fixtures::reports());
        let parsed: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(parsed[0]["line"], 3);
        assert_eq!(parsed[0]["column"], 5);
        insta::assert_snapshot!(out);
    }
}
