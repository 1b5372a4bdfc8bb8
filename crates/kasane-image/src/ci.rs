//! The CI gate: dive's three rules with dive's defaults, configured from dive's `.dive-ci`, from
//! kasane's own `kasane.toml` (`[analyze.ci]`) and from the command line.
//!
//! Precedence, lowest first: dive's defaults, `kasane.toml`, `.dive-ci`, command-line flags. A key
//! missing from a file leaves the value from the level below (dive instead resets it to its
//! default: dive issue #606); to switch a rule off write `disabled` (or `off`, `false`, `""`).
//! Every rule reports where its threshold came from.

use std::fmt;

use crate::analysis::Analysis;

/// The three rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum RuleKind {
    /// Fails when the efficiency score is below the threshold.
    #[serde(rename = "lowestEfficiency")]
    LowestEfficiency,
    /// Fails when reclaimable bytes exceed the threshold.
    #[serde(rename = "highestWastedBytes")]
    HighestWastedBytes,
    /// Fails when reclaimable bytes / user bytes exceed the threshold.
    #[serde(rename = "highestUserWastedPercent")]
    HighestUserWastedPercent,
}

impl RuleKind {
    /// dive's (camelCase) name.
    pub fn name(self) -> &'static str {
        match self {
            RuleKind::LowestEfficiency => "lowestEfficiency",
            RuleKind::HighestWastedBytes => "highestWastedBytes",
            RuleKind::HighestUserWastedPercent => "highestUserWastedPercent",
        }
    }

    const ALL: [RuleKind; 3] = [
        RuleKind::LowestEfficiency,
        RuleKind::HighestWastedBytes,
        RuleKind::HighestUserWastedPercent,
    ];
}

/// Where a threshold came from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", content = "path", rename_all = "snake_case")]
pub enum Origin {
    /// dive's default.
    Default,
    /// kasane's config file.
    KasaneConfig(String),
    /// A `.dive-ci` file.
    DiveCi(String),
    /// A command-line flag.
    CommandLine,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default => write!(f, "dive's default"),
            Origin::KasaneConfig(p) | Origin::DiveCi(p) => write!(f, "{p}"),
            Origin::CommandLine => write!(f, "command line"),
        }
    }
}

/// A rule's threshold: `None` = disabled.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Rule {
    /// Which rule.
    pub kind: RuleKind,
    /// The threshold (a ratio, or bytes for `highestWastedBytes`); `None` when disabled.
    pub threshold: Option<f64>,
    /// Where it was set.
    pub origin: Origin,
}

/// The three rules' settings.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CiRules {
    /// The rules, in dive's order of evaluation.
    pub rules: Vec<Rule>,
}

/// Raw rule values from one source (`None` = not set there).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleValues {
    /// `lowestEfficiency`.
    pub lowest_efficiency: Option<String>,
    /// `highestWastedBytes`.
    pub highest_wasted_bytes: Option<String>,
    /// `highestUserWastedPercent`.
    pub highest_user_wasted_percent: Option<String>,
    /// Keys under `rules` that are none of these (reported, not fatal).
    pub unknown_keys: Vec<String>,
}

impl RuleValues {
    fn get(&self, kind: RuleKind) -> Option<&str> {
        match kind {
            RuleKind::LowestEfficiency => self.lowest_efficiency.as_deref(),
            RuleKind::HighestWastedBytes => self.highest_wasted_bytes.as_deref(),
            RuleKind::HighestUserWastedPercent => self.highest_user_wasted_percent.as_deref(),
        }
    }

    fn set(&mut self, key: &str, value: String) {
        match key {
            "lowestEfficiency" | "lowest-efficiency" => self.lowest_efficiency = Some(value),
            "highestWastedBytes" | "highest-wasted-bytes" => {
                self.highest_wasted_bytes = Some(value)
            }
            "highestUserWastedPercent" | "highest-user-wasted-percent" => {
                self.highest_user_wasted_percent = Some(value);
            }
            other => self.unknown_keys.push(other.to_owned()),
        }
    }
}

/// A bad CI setting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{origin}: {message}")]
pub struct CiConfigError {
    /// Where.
    pub origin: String,
    /// What is wrong.
    pub message: String,
}

impl Default for CiRules {
    fn default() -> Self {
        CiRules {
            rules: vec![
                Rule {
                    kind: RuleKind::LowestEfficiency,
                    threshold: Some(0.9),
                    origin: Origin::Default,
                },
                Rule {
                    kind: RuleKind::HighestWastedBytes,
                    threshold: None,
                    origin: Origin::Default,
                },
                Rule {
                    kind: RuleKind::HighestUserWastedPercent,
                    threshold: Some(0.1),
                    origin: Origin::Default,
                },
            ],
        }
    }
}

fn is_disabled(v: &str) -> bool {
    let v = v.trim();
    v.is_empty()
        || v.eq_ignore_ascii_case("disabled")
        || v.eq_ignore_ascii_case("off")
        || v.eq_ignore_ascii_case("false")
}

/// Parses a byte count the way dive does (go-humanize): `20MB` = 20,000,000, `20MiB` =
/// 20,971,520, case-insensitive, a bare number is bytes.
pub fn parse_bytes(s: &str) -> Option<f64> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ','))
        .unwrap_or(s.len());
    let number: f64 = s[..split].replace(',', "").parse().ok()?;
    let unit = s[split..].trim().to_ascii_lowercase();
    let mult: f64 = match unit.as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "ki" | "kib" => 1024.0,
        "m" | "mb" => 1e6,
        "mi" | "mib" => 1024f64.powi(2),
        "g" | "gb" => 1e9,
        "gi" | "gib" => 1024f64.powi(3),
        "t" | "tb" => 1e12,
        "ti" | "tib" => 1024f64.powi(4),
        "p" | "pb" => 1e15,
        "pi" | "pib" => 1024f64.powi(5),
        _ => return None,
    };
    (number >= 0.0).then_some(number * mult)
}

impl CiRules {
    /// Applies the values one source sets, on top of the current ones.
    pub fn apply(&mut self, values: &RuleValues, origin: &Origin) -> Result<(), CiConfigError> {
        for kind in RuleKind::ALL {
            let Some(raw) = values.get(kind) else {
                continue;
            };
            let err = |message: String| CiConfigError {
                origin: origin.to_string(),
                message,
            };
            let threshold = if is_disabled(raw) {
                None
            } else if kind == RuleKind::HighestWastedBytes {
                Some(parse_bytes(raw).ok_or_else(|| {
                    err(format!(
                        "{}: `{raw}` is not a byte count (e.g. 20MB, 20MiB)",
                        kind.name()
                    ))
                })?)
            } else {
                let v: f64 = raw
                    .trim()
                    .parse()
                    .map_err(|_| err(format!("{}: `{raw}` is not a number", kind.name())))?;
                if !(0.0..=1.0).contains(&v) {
                    return Err(err(format!(
                        "{}: {v} is outside 0..1 (write ratios: 0.9 = 90%)",
                        kind.name()
                    )));
                }
                Some(v)
            };
            if let Some(rule) = self.rules.iter_mut().find(|r| r.kind == kind) {
                rule.threshold = threshold;
                rule.origin = origin.clone();
            }
        }
        Ok(())
    }
}

/// Reads a `.dive-ci` file: YAML with the rules under `rules:` (dive's camelCase keys; the
/// kebab-case keys of newer dive work too). Only the subset dive's files use is accepted: a
/// mapping of scalars, comments, quoted or plain values.
pub fn parse_dive_ci(text: &str, origin: &str) -> Result<RuleValues, CiConfigError> {
    let mut values = RuleValues::default();
    let mut section: Option<String> = None;
    for (n, line) in text.lines().enumerate() {
        let err = |message: &str| CiConfigError {
            origin: format!("{origin}:{}", n + 1),
            message: message.to_owned(),
        };
        let line = strip_comment(line);
        if line.trim().is_empty() || line.trim() == "---" {
            continue;
        }
        if line.starts_with('\t') {
            return Err(err("tabs are not allowed for indentation in YAML"));
        }
        let indent = line.len() - line.trim_start().len();
        let Some((key, value)) = line.trim().split_once(':') else {
            return Err(err("expected `key: value`"));
        };
        let key = unquote(key.trim());
        let value = value.trim();
        if indent == 0 {
            section = Some(key.to_owned());
            if !value.is_empty() && key == "rules" {
                return Err(err(
                    "`rules:` must be followed by indented `key: value` lines",
                ));
            }
            continue;
        }
        if section.as_deref() == Some("rules") {
            values.set(key, unquote(value).to_owned());
        }
    }
    Ok(values)
}

fn strip_comment(line: &str) -> &str {
    let mut quote = None;
    let bytes = line.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match (quote, b) {
            (None, b'\'' | b'"') => quote = Some(b),
            (Some(q), c) if c == q => quote = None,
            (None, b'#') if i == 0 || bytes[i - 1].is_ascii_whitespace() => return &line[..i],
            _ => {}
        }
    }
    line
}

fn unquote(s: &str) -> &str {
    let s = s.trim();
    for q in ['"', '\''] {
        if s.len() >= 2 && s.starts_with(q) && s.ends_with(q) {
            return &s[1..s.len() - 1];
        }
    }
    s
}

/// Reads kasane's own config (`kasane.toml`): the `[analyze.ci]` table with kebab-case keys
/// `lowest-efficiency`, `highest-wasted-bytes`, `highest-user-wasted-percent` (numbers or
/// strings such as `"20MB"` and `"disabled"`).
pub fn parse_kasane_toml(text: &str, origin: &str) -> Result<RuleValues, CiConfigError> {
    let err = |message: String| CiConfigError {
        origin: origin.to_owned(),
        message,
    };
    let doc: toml::Table = toml::from_str(text).map_err(|e| err(e.to_string()))?;
    let mut values = RuleValues::default();
    let Some(ci) = doc
        .get("analyze")
        .and_then(|a| a.get("ci"))
        .and_then(toml::Value::as_table)
    else {
        return Ok(values);
    };
    for (key, value) in ci {
        let v = match value {
            toml::Value::String(s) => s.clone(),
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Float(f) => f.to_string(),
            toml::Value::Boolean(false) => "disabled".to_owned(),
            other => return Err(err(format!("analyze.ci.{key}: unexpected value {other}"))),
        };
        values.set(key, v);
    }
    Ok(values)
}

/// A rule's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Within the threshold.
    Pass,
    /// Beyond it.
    Fail,
    /// Disabled.
    Skip,
}

/// One rule, evaluated.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RuleResult {
    /// The rule and its threshold.
    #[serde(flatten)]
    pub rule: Rule,
    /// The measured value.
    pub value: f64,
    /// Outcome.
    pub status: Status,
    /// One line saying why (for failures: the value against the threshold).
    pub reason: String,
}

/// The CI verdict.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CiReport {
    /// True when no rule failed.
    pub passed: bool,
    /// Each rule.
    pub results: Vec<RuleResult>,
}

/// Evaluates the rules against an analysis. Comparisons are strict as in dive: efficiency fails
/// below the threshold, waste fails above it. The waste rules measure kasane's reclaimable bytes
/// (dive counts the copy that stays too: dive issue #684).
pub fn evaluate(rules: &CiRules, analysis: &Analysis) -> CiReport {
    let results: Vec<RuleResult> = rules
        .rules
        .iter()
        .map(|rule| {
            let value = match rule.kind {
                RuleKind::LowestEfficiency => analysis.efficiency,
                RuleKind::HighestWastedBytes => analysis.waste.reclaimable_bytes as f64,
                RuleKind::HighestUserWastedPercent => analysis.waste.user_wasted_percent,
            };
            let (status, reason) = match rule.threshold {
                None => (
                    Status::Skip,
                    format!("{}: disabled ({})", rule.kind.name(), rule.origin),
                ),
                Some(t) => {
                    let failed = match rule.kind {
                        RuleKind::LowestEfficiency => value < t,
                        _ => value > t,
                    };
                    let shown = |v: f64| match rule.kind {
                        RuleKind::HighestWastedBytes => format!("{v:.0} bytes"),
                        _ => format!("{v:.4}"),
                    };
                    let what = match rule.kind {
                        RuleKind::LowestEfficiency => "efficiency",
                        RuleKind::HighestWastedBytes => "reclaimable bytes",
                        RuleKind::HighestUserWastedPercent => "reclaimable / user bytes",
                    };
                    let cmp = match (rule.kind, failed) {
                        (RuleKind::LowestEfficiency, true) => "<",
                        (RuleKind::LowestEfficiency, false) => ">=",
                        (_, true) => ">",
                        (_, false) => "<=",
                    };
                    (
                        if failed { Status::Fail } else { Status::Pass },
                        format!(
                            "{}: {what} {} {cmp} threshold {} ({})",
                            rule.kind.name(),
                            shown(value),
                            shown(t),
                            rule.origin
                        ),
                    )
                }
            };
            RuleResult {
                rule: rule.clone(),
                value,
                status,
                reason,
            }
        })
        .collect();
    CiReport {
        passed: results.iter().all(|r| r.status != Status::Fail),
        results,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_like_go_humanize() {
        assert_eq!(parse_bytes("20MB"), Some(20_000_000.0));
        assert_eq!(parse_bytes("20MiB"), Some(20_971_520.0));
        assert_eq!(parse_bytes("20mib"), Some(20_971_520.0));
        assert_eq!(parse_bytes("1.5 GB"), Some(1.5e9));
        assert_eq!(parse_bytes("512"), Some(512.0));
        assert_eq!(parse_bytes("12 parsecs"), None);
    }

    #[test]
    fn dive_ci_missing_keys_keep_lower_levels() {
        let text = "rules:\n  # lowestEfficiency: 0.95\n  highestWastedBytes: 20MB # twenty\n  highestUserWastedPercent: 'disabled'\n";
        let v = parse_dive_ci(text, ".dive-ci").unwrap();
        assert_eq!(v.lowest_efficiency, None);
        let mut rules = CiRules::default();
        let kasane =
            parse_kasane_toml("[analyze.ci]\nlowest-efficiency = 0.8\n", "kasane.toml").unwrap();
        rules
            .apply(&kasane, &Origin::KasaneConfig("kasane.toml".into()))
            .unwrap();
        rules.apply(&v, &Origin::DiveCi(".dive-ci".into())).unwrap();
        assert_eq!(rules.rules[0].threshold, Some(0.8));
        assert_eq!(
            rules.rules[0].origin,
            Origin::KasaneConfig("kasane.toml".into())
        );
        assert_eq!(rules.rules[1].threshold, Some(20_000_000.0));
        assert_eq!(rules.rules[2].threshold, None);
    }

    #[test]
    fn bad_values_are_errors_with_their_origin() {
        let mut rules = CiRules::default();
        let v = parse_dive_ci("rules:\n  lowestEfficiency: 95\n", ".dive-ci").unwrap();
        let e = rules
            .apply(&v, &Origin::DiveCi(".dive-ci".into()))
            .unwrap_err();
        assert!(e.to_string().contains("outside 0..1"), "{e}");
        assert!(parse_dive_ci("rules:\n\tx: 1\n", "f").is_err());
    }
}
