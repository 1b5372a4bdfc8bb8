//! Human-readable output: one code frame per finding (rustc style, drawn by
//! annotate-snippets), and a one-line-per-finding concise form.

use std::fmt::Write;

use annotate_snippets::{AnnotationKind, Group, Level, Patch, Renderer, Snippet};

use super::Tally;
use crate::diagnostic::{FileReport, Finding, LineIndex, Severity, Span};

/// Options of the text renderer.
#[derive(Debug, Clone, Copy, Default)]
pub struct TextOptions {
    /// Use ANSI colours.
    pub color: bool,
    /// Show the fix (as a diff) under each finding that has one.
    pub show_fixes: bool,
}

pub(crate) fn render(reports: &[FileReport], options: &TextOptions) -> String {
    let renderer = if options.color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let mut out = String::new();
    for report in reports {
        if report.findings.is_empty() {
            continue;
        }
        let index = LineIndex::new(&report.source);
        for finding in &report.findings {
            let groups = finding_groups(report, &index, finding, options);
            out.push_str(&renderer.render(&groups));
            out.push_str("\n\n");
        }
    }
    out.push_str(&summary(&Tally::of(reports)));
    out.push('\n');
    out
}

/// `Found 3 problems (1 error, 2 warnings) in 1 of 2 files.` or `No problems in 2 files.`
pub(crate) fn summary(t: &Tally) -> String {
    let files = plural(t.files, "file");
    if t.total() == 0 {
        return format!("No problems in {files}.");
    }
    let mut parts = Vec::new();
    for (n, word) in [
        (t.errors, "error"),
        (t.warnings, "warning"),
        (t.infos, "info"),
        (t.styles, "style"),
    ] {
        if n > 0 {
            parts.push(if word == "error" || word == "warning" {
                plural(n, word)
            } else {
                format!("{n} {word}")
            });
        }
    }
    format!(
        "Found {} ({}) in {} of {files}.",
        plural(t.total(), "problem"),
        parts.join(", "),
        t.files_with_findings,
    )
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn level(severity: Severity) -> Level<'static> {
    match severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
        Severity::Info => Level::INFO,
        Severity::Style => Level::NOTE.with_name(Some("style")),
    }
}

/// The lines `first..=last` of `report.source` as a snippet window: its text, the byte
/// offset it starts at and its first line number.
struct Window<'a> {
    text: &'a str,
    offset: usize,
    first_line: usize,
}

impl<'a> Window<'a> {
    fn covering(source: &'a str, index: &LineIndex, spans: &[Span]) -> Window<'a> {
        let first = spans
            .iter()
            .map(|s| index.position(source, s.start).line)
            .min()
            .unwrap_or(1);
        let last = spans
            .iter()
            .map(|s| index.position(source, s.end).line)
            .max()
            .unwrap_or(first);
        let start = index.line_span(source, first).start;
        let end = index.line_span(source, last.min(index.line_count())).end;
        Window {
            text: &source[start..end.max(start)],
            offset: start,
            first_line: first,
        }
    }

    fn local(&self, span: Span) -> std::ops::Range<usize> {
        let clamp = |b: usize| b.saturating_sub(self.offset).min(self.text.len());
        clamp(span.start)..clamp(span.end.max(span.start))
    }
}

fn finding_groups<'a>(
    report: &'a FileReport,
    index: &LineIndex,
    finding: &'a Finding,
    options: &TextOptions,
) -> Vec<Group<'a>> {
    let mut spans = vec![finding.location.span];
    spans.extend(
        finding
            .notes
            .iter()
            .filter_map(|n| n.location.map(|l| l.span)),
    );
    let window = Window::covering(&report.source, index, &spans);

    let mut snippet = Snippet::source(window.text)
        .line_start(window.first_line)
        .path(report.path.as_str())
        .fold(true)
        .annotation(AnnotationKind::Primary.span(window.local(finding.location.span)));
    for note in &finding.notes {
        if let Some(loc) = note.location {
            snippet = snippet.annotation(
                AnnotationKind::Context
                    .span(window.local(loc.span))
                    .label(note.message.as_str()),
            );
        }
    }
    let mut title = level(finding.severity)
        .primary_title(finding.message.as_str())
        .id(finding.code)
        .element(snippet);
    for note in finding.notes.iter().filter(|n| n.location.is_none()) {
        title = title.element(Level::NOTE.message(note.message.as_str()));
    }
    let mut rule = format!("rule: {}", finding.name);
    if !finding.aliases.is_empty() {
        let _ = write!(rule, " (also {})", finding.aliases.join(", "));
    }
    title = title.element(Level::NOTE.message(rule));
    let mut groups = vec![title];

    if let Some(fix) = &finding.fix {
        if options.show_fixes {
            let edit_spans: Vec<Span> = fix.edits.iter().map(|e| e.span).collect();
            let fix_window = Window::covering(&report.source, index, &edit_spans);
            let mut patch_snippet = Snippet::source(fix_window.text)
                .line_start(fix_window.first_line)
                .path(report.path.as_str());
            for edit in &fix.edits {
                patch_snippet = patch_snippet.patch(Patch::new(
                    fix_window.local(edit.span),
                    edit.replacement.as_str(),
                ));
            }
            groups.push(
                Level::HELP
                    .secondary_title(format!("fix: {}", fix.description))
                    .element(patch_snippet),
            );
        } else {
            groups.push(Group::with_title(
                Level::HELP.secondary_title(format!("fix available: {}", fix.description)),
            ));
        }
    }
    groups
}

pub(crate) fn render_concise(reports: &[FileReport]) -> String {
    let mut out = String::new();
    for report in reports {
        for f in &report.findings {
            let _ = writeln!(
                out,
                "{}:{}:{}: {}[{}] {}",
                report.path,
                f.location.start.line,
                f.location.start.column,
                f.severity,
                f.code,
                f.message
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::fixtures;

    #[test]
    fn text_with_code_frames() {
        let out = render(&fixtures::reports(), &TextOptions::default());
        insta::assert_snapshot!(out);
    }

    #[test]
    fn text_with_fix_diffs() {
        let options = TextOptions {
            color: false,
            show_fixes: true,
        };
        insta::assert_snapshot!(render(&fixtures::reports(), &options));
    }

    #[test]
    fn concise() {
        insta::assert_snapshot!(render_concise(&fixtures::reports()));
    }

    #[test]
    fn summary_wording() {
        let mut t = Tally {
            files: 1,
            ..Tally::default()
        };
        assert_eq!(summary(&t), "No problems in 1 file.");
        t.warnings = 2;
        t.infos = 1;
        t.files_with_findings = 1;
        t.files = 3;
        assert_eq!(
            summary(&t),
            "Found 3 problems (2 warnings, 1 info) in 1 of 3 files."
        );
    }
}
