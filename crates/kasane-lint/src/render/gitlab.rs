//! `--format gitlab`: GitLab Code Quality report (a JSON array of Code Climate issues).
//!
//! GitLab tracks an issue across pipelines by its `fingerprint`, so the fingerprint hashes the
//! file, the rule and the flagged text (not the line number, which moves when lines are added
//! above) plus how many identical issues came before it in the file.

use std::collections::HashMap;

use serde::Serialize;

use crate::diagnostic::{FileReport, Severity};

#[derive(Serialize)]
struct Issue<'a> {
    description: String,
    check_name: &'a str,
    fingerprint: String,
    severity: &'static str,
    location: IssueLocation<'a>,
}

#[derive(Serialize)]
struct IssueLocation<'a> {
    path: &'a str,
    positions: Positions,
}

#[derive(Serialize)]
struct Positions {
    begin: LineColumn,
    end: LineColumn,
}

#[derive(Serialize)]
struct LineColumn {
    line: usize,
    column: usize,
}

/// 64-bit FNV-1a: small, stable across versions and platforms, enough to tell issues apart.
fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for &b in *part {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
        // Separate parts so ("ab","c") and ("a","bc") differ.
        hash ^= 0xff;
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

pub(crate) fn render(reports: &[FileReport]) -> String {
    let mut issues = Vec::new();
    for report in reports {
        let mut seen: HashMap<u64, u32> = HashMap::new();
        for f in &report.findings {
            let text = report
                .source
                .get(f.location.span.start..f.location.span.end)
                .unwrap_or("");
            let base = fnv1a(&[report.path.as_bytes(), f.code.as_bytes(), text.as_bytes()]);
            let n = seen.entry(base).or_insert(0);
            let fingerprint = format!("{:016x}{:08x}", base, *n);
            *n += 1;
            issues.push(Issue {
                description: format!("{} {}: {}", f.code, f.name, f.message),
                check_name: f.code,
                fingerprint,
                severity: match f.severity {
                    Severity::Error => "critical",
                    Severity::Warning => "major",
                    Severity::Info => "minor",
                    Severity::Style => "info",
                },
                location: IssueLocation {
                    path: &report.path,
                    positions: Positions {
                        begin: LineColumn {
                            line: f.location.start.line,
                            column: f.location.start.column,
                        },
                        end: LineColumn {
                            line: f.location.end.line,
                            column: f.location.end.column,
                        },
                    },
                },
            });
        }
    }
    let mut out = serde_json::to_string_pretty(&issues).unwrap_or_else(|_| "[]".into());
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use crate::render::fixtures;

    #[test]
    fn gitlab_code_quality() {
        insta::assert_snapshot!(super::render(&fixtures::reports()));
    }

    #[test]
    fn fingerprints_differ_for_repeated_issues() {
        let mut reports = fixtures::reports();
        let dup = reports[0].findings[0].clone();
        reports[0].findings.push(dup);
        let out: serde_json::Value = serde_json::from_str(&super::render(&reports)).unwrap();
        let fps: Vec<&str> = out
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["fingerprint"].as_str().unwrap())
            .collect();
        assert_eq!(fps.len(), 3);
        assert_ne!(fps[0], fps[2]);
        assert_eq!(fps[0][..16], fps[2][..16]);
    }
}
