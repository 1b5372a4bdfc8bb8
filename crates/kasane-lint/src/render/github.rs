//! `--format github`: GitHub Actions workflow commands, which the runner turns into
//! annotations on the pull request (`::warning file=…,line=…::message`).

use std::fmt::Write;

use crate::diagnostic::{FileReport, Severity};

/// Escapes the message part of a workflow command.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value (`file=`, `title=`): also `:` and `,`.
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

pub(crate) fn render(reports: &[FileReport]) -> String {
    let mut out = String::new();
    for report in reports {
        for f in &report.findings {
            let command = match f.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Info | Severity::Style => "notice",
            };
            let _ = writeln!(
                out,
                "::{command} file={},line={},col={},endLine={},endColumn={},title={}::{}",
                escape_property(&report.path),
                f.location.start.line,
                f.location.start.column,
                f.location.end.line,
                f.location.end.column,
                escape_property(&format!("{} {}", f.code, f.name)),
                escape_data(&f.message),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::render::fixtures;

    #[test]
    fn github_annotations() {
        insta::assert_snapshot!(super::render(&fixtures::reports()));
    }

    #[test]
    fn escapes_newlines_and_separators() {
        assert_eq!(super::escape_data("a\nb%"), "a%0Ab%25");
        assert_eq!(super::escape_property("a:b,c"), "a%3Ab%2Cc");
    }
}
