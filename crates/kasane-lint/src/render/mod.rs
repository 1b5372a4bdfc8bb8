//! One renderer per output format, all reading the same [`FileReport`]s.
//!
//! Every renderer returns a `String`; the binary decides where it goes.

mod checkstyle;
mod github;
mod gitlab;
mod json;
mod sarif;
mod text;

use std::fmt;
use std::str::FromStr;

use crate::diagnostic::{FileReport, Severity};

pub use text::TextOptions;

/// The output formats `kasane lint --format` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Human-readable, with code frames (`file:line:col`).
    Text,
    /// One line per finding: `file:line:col: severity[code] message`.
    Concise,
    /// A JSON array of findings.
    Json,
    /// SARIF 2.1.0, for code-scanning dashboards.
    Sarif,
    /// Checkstyle XML, for Jenkins and friends.
    Checkstyle,
    /// GitLab Code Quality JSON.
    Gitlab,
    /// GitHub Actions workflow commands (annotations).
    Github,
}

impl Format {
    /// Every format with its name.
    pub const ALL: [(&'static str, Format); 7] = [
        ("text", Format::Text),
        ("concise", Format::Concise),
        ("json", Format::Json),
        ("sarif", Format::Sarif),
        ("checkstyle", Format::Checkstyle),
        ("gitlab", Format::Gitlab),
        ("github", Format::Github),
    ];
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = Format::ALL
            .iter()
            .find(|(_, fmt)| fmt == self)
            .map_or("text", |(n, _)| n);
        f.write_str(name)
    }
}

/// A format name that is not known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown format `{0}` (expected text, concise, json, sarif, checkstyle, gitlab or github)")]
pub struct UnknownFormat(pub String);

impl FromStr for Format {
    type Err = UnknownFormat;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::ALL
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(s))
            .map(|(_, f)| *f)
            .ok_or_else(|| UnknownFormat(s.to_owned()))
    }
}

/// Renders `reports` in `format`. `text` options matter only for [`Format::Text`].
pub fn render(format: Format, reports: &[FileReport], text: &TextOptions) -> String {
    match format {
        Format::Text => text::render(reports, text),
        Format::Concise => text::render_concise(reports),
        Format::Json => json::render(reports),
        Format::Sarif => sarif::render(reports),
        Format::Checkstyle => checkstyle::render(reports),
        Format::Gitlab => gitlab::render(reports),
        Format::Github => github::render(reports),
    }
}

/// Counts of findings by severity, for summaries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Findings at `error`.
    pub errors: usize,
    /// Findings at `warning`.
    pub warnings: usize,
    /// Findings at `info`.
    pub infos: usize,
    /// Findings at `style`.
    pub styles: usize,
    /// Files with at least one finding.
    pub files_with_findings: usize,
    /// Files looked at.
    pub files: usize,
}

impl Tally {
    /// Counts the findings in `reports`.
    pub fn of(reports: &[FileReport]) -> Tally {
        let mut t = Tally {
            files: reports.len(),
            ..Tally::default()
        };
        for r in reports {
            if !r.findings.is_empty() {
                t.files_with_findings += 1;
            }
            for f in &r.findings {
                match f.severity {
                    Severity::Error => t.errors += 1,
                    Severity::Warning => t.warnings += 1,
                    Severity::Info => t.infos += 1,
                    Severity::Style => t.styles += 1,
                }
            }
        }
        t
    }

    /// All findings.
    pub fn total(&self) -> usize {
        self.errors + self.warnings + self.infos + self.styles
    }
}

#[cfg(test)]
pub(crate) mod fixtures {
    //! Findings used by every renderer's snapshot tests.

    use crate::diagnostic::*;

    pub(crate) const SOURCE: &str = "FROM debian:bookworm\nRUN apt-get update && \\\n    apt-get install -y curl\nmaintainer me <me@example.com>\n";

    fn at(idx: &LineIndex, needle: &str) -> Location {
        let start = SOURCE.find(needle).expect("needle in fixture");
        idx.location(SOURCE, Span::new(start, start + needle.len()))
    }

    /// Two findings in `Dockerfile`, none in `other/Dockerfile`.
    pub(crate) fn reports() -> Vec<FileReport> {
        let idx = LineIndex::new(SOURCE);
        let install = at(&idx, "apt-get install -y curl");
        let lists_fix = Fix::new(
            "remove the apt lists in the same RUN",
            Applicability::Safe,
            vec![Edit::insert(
                install.span.end,
                " \\\n    && rm -rf /var/lib/apt/lists/*",
            )],
        );
        let findings = vec![
            Finding {
                code: "KL301",
                name: "package-cache-in-layer",
                aliases: vec!["DL3009"],
                severity: Severity::Warning,
                message: "apt lists stay in this layer: \"quoted\" & <escaped>, 100%".into(),
                location: install,
                fix: Some(lists_fix),
                notes: vec![Note {
                    message: "the lists were downloaded here".into(),
                    location: Some(at(&idx, "apt-get update")),
                }],
            },
            Finding {
                code: "KL108",
                name: "maintainer-deprecated",
                aliases: vec!["MaintainerDeprecated", "DL4000"],
                severity: Severity::Error,
                message: "MAINTAINER is deprecated".into(),
                location: at(&idx, "maintainer me <me@example.com>"),
                fix: None,
                notes: vec![Note {
                    message: "use LABEL org.opencontainers.image.authors=\"me\"".into(),
                    location: None,
                }],
            },
        ];
        vec![
            FileReport {
                path: "Dockerfile".into(),
                source: SOURCE.into(),
                findings,
            },
            FileReport {
                path: "other/Dockerfile".into(),
                source: "FROM scratch\n".into(),
                findings: vec![],
            },
        ]
    }
}
