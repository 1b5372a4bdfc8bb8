//! `--format sarif`: SARIF 2.1.0 (OASIS), for GitHub code scanning and other dashboards.
//!
//! Columns are counted in Unicode code points (`columnKind: unicodeCodePoints`), which is how
//! kasane counts them everywhere; byte offsets are given too, so consumers that prefer them
//! need not recount. Fixes become SARIF `fixes` with byte-addressed replacements.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::diagnostic::{FileReport, Finding, Location, Severity};
use crate::registry;

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool<'a>,
    column_kind: &'static str,
    results: Vec<SarifResult<'a>>,
}

#[derive(Serialize)]
struct Tool<'a> {
    driver: Driver<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver<'a> {
    name: &'static str,
    version: &'static str,
    information_uri: &'static str,
    rules: Vec<RuleDescriptor<'a>>,
}

#[derive(Serialize)]
struct Text<'a> {
    text: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RuleDescriptor<'a> {
    id: &'a str,
    name: &'a str,
    short_description: Text<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    full_description: Option<Text<'a>>,
    default_configuration: DefaultConfiguration,
    properties: RuleProperties<'a>,
}

#[derive(Serialize)]
struct DefaultConfiguration {
    level: &'static str,
}

#[derive(Serialize)]
struct RuleProperties<'a> {
    aliases: &'a [&'static str],
    tags: [&'static str; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'a str,
    rule_index: usize,
    level: &'static str,
    message: Text<'a>,
    locations: [SarifLocation<'a>; 1],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related_locations: Vec<RelatedLocation<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    fixes: Vec<SarifFix<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifLocation<'a> {
    physical_location: PhysicalLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<Text<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RelatedLocation<'a> {
    id: usize,
    physical_location: PhysicalLocation,
    message: Text<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    region: Region,
}

#[derive(Serialize)]
struct ArtifactLocation {
    uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: usize,
    start_column: usize,
    end_line: usize,
    end_column: usize,
    byte_offset: usize,
    byte_length: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifFix<'a> {
    description: Text<'a>,
    artifact_changes: [ArtifactChange<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactChange<'a> {
    artifact_location: ArtifactLocation,
    replacements: Vec<Replacement<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Replacement<'a> {
    deleted_region: ByteRegion,
    inserted_content: Text<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ByteRegion {
    byte_offset: usize,
    byte_length: usize,
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info | Severity::Style => "note",
    }
}

/// A relative URI reference for a path: `/` separators, and the characters that would end or
/// break a URI reference percent-encoded.
fn path_uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(b as char)
            }
            b'\\' => out.push('/'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn physical(uri: &str, loc: &Location) -> PhysicalLocation {
    PhysicalLocation {
        artifact_location: ArtifactLocation {
            uri: uri.to_owned(),
        },
        region: Region {
            start_line: loc.start.line,
            start_column: loc.start.column,
            end_line: loc.end.line,
            end_column: loc.end.column,
            byte_offset: loc.span.start,
            byte_length: loc.span.end - loc.span.start,
        },
    }
}

fn result<'a>(uri: &str, f: &'a Finding, rule_index: usize) -> SarifResult<'a> {
    let related_locations = f
        .notes
        .iter()
        .filter_map(|n| n.location.as_ref().map(|l| (n, l)))
        .enumerate()
        .map(|(id, (n, l))| RelatedLocation {
            id,
            physical_location: physical(uri, l),
            message: Text { text: &n.message },
        })
        .collect();
    let fixes = f
        .fix
        .iter()
        .map(|fix| SarifFix {
            description: Text {
                text: &fix.description,
            },
            artifact_changes: [ArtifactChange {
                artifact_location: ArtifactLocation {
                    uri: uri.to_owned(),
                },
                replacements: fix
                    .edits
                    .iter()
                    .map(|e| Replacement {
                        deleted_region: ByteRegion {
                            byte_offset: e.span.start,
                            byte_length: e.span.end - e.span.start,
                        },
                        inserted_content: Text {
                            text: &e.replacement,
                        },
                    })
                    .collect(),
            }],
        })
        .collect();
    SarifResult {
        rule_id: f.code,
        rule_index,
        level: level(f.severity),
        message: Text { text: &f.message },
        locations: [SarifLocation {
            physical_location: physical(uri, &f.location),
            message: None,
        }],
        related_locations,
        fixes,
    }
}

pub(crate) fn render(reports: &[FileReport]) -> String {
    // The rules that produced findings, in code order, so `ruleIndex` is stable.
    let mut used: BTreeMap<&'static str, &Finding> = BTreeMap::new();
    for f in reports.iter().flat_map(|r| &r.findings) {
        used.entry(f.code).or_insert(f);
    }
    let index: BTreeMap<&str, usize> = used.keys().enumerate().map(|(i, c)| (*c, i)).collect();
    let rules = used
        .values()
        .map(|f| {
            let meta = registry::by_code(f.code);
            RuleDescriptor {
                id: f.code,
                name: f.name,
                short_description: Text {
                    text: meta.map_or(f.name, |r| r.summary),
                },
                full_description: meta.map(|r| Text {
                    text: r.explanation,
                }),
                default_configuration: DefaultConfiguration {
                    level: level(meta.map_or(f.severity, |r| r.severity)),
                },
                properties: RuleProperties {
                    aliases: meta.map_or(&[][..], |r| r.aliases),
                    tags: [meta.map_or("dockerfile", |r| r.category.as_str())],
                },
            }
        })
        .collect();
    let results = reports
        .iter()
        .flat_map(|r| {
            let uri = path_uri(&r.path);
            r.findings
                .iter()
                .map(|f| result(&uri, f, index[f.code]))
                .collect::<Vec<_>>()
        })
        .collect();
    let log = Log {
        schema: "https://json.schemastore.org/sarif-2.1.0.json",
        version: "2.1.0",
        runs: [Run {
            tool: Tool {
                driver: Driver {
                    name: "kasane",
                    version: env!("CARGO_PKG_VERSION"),
                    information_uri: "https://example.invalid/kasane",
                    rules,
                },
            },
            column_kind: "unicodeCodePoints",
            results,
        }],
    };
    let mut out = serde_json::to_string_pretty(&log).unwrap_or_default();
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use crate::render::fixtures;

    #[test]
    fn sarif_log() {
        let out = super::render(&fixtures::reports());
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["version"], "2.1.0");
        assert_eq!(v["runs"][0]["results"][0]["ruleIndex"], 1);
        insta::assert_snapshot!(out);
    }

    #[test]
    fn uris_are_percent_encoded() {
        assert_eq!(super::path_uri("a b/Docker#file"), "a%20b/Docker%23file");
        assert_eq!(super::path_uri("dir\\Dockerfile"), "dir/Dockerfile");
    }
}
