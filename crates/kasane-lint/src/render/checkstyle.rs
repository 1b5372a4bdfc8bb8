//! `--format checkstyle`: Checkstyle XML, one `<file>` per Dockerfile (also the clean ones,
//! so CI dashboards count them).

use std::fmt::Write;

use crate::diagnostic::{FileReport, Severity};

/// Escapes text for an XML attribute value.
fn escape_xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            // Other control characters are not allowed in XML 1.0 at all.
            c if (c as u32) < 0x20 => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

pub(crate) fn render(reports: &[FileReport]) -> String {
    let mut out =
        String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<checkstyle version=\"4.3\">\n");
    for report in reports {
        let _ = writeln!(out, "  <file name=\"{}\">", escape_xml(&report.path));
        for f in &report.findings {
            let severity = match f.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Info | Severity::Style => "info",
            };
            let _ = writeln!(
                out,
                "    <error line=\"{}\" column=\"{}\" severity=\"{severity}\" message=\"{}\" source=\"kasane.{}\"/>",
                f.location.start.line,
                f.location.start.column,
                escape_xml(&f.message),
                f.code,
            );
        }
        out.push_str("  </file>\n");
    }
    out.push_str("</checkstyle>\n");
    out
}

#[cfg(test)]
mod tests {
    use crate::render::fixtures;

    #[test]
    fn checkstyle_xml() {
        insta::assert_snapshot!(super::render(&fixtures::reports()));
    }

    #[test]
    fn escapes_markup_and_control_characters() {
        assert_eq!(
            super::escape_xml("a<&>\"'\n\u{1}"),
            "a&lt;&amp;&gt;&quot;&apos;&#10;\u{FFFD}"
        );
    }
}
