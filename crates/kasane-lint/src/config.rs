//! Lint configuration: `kasane.toml` (`[lint]` table) and hadolint's `.hadolint.yaml`.
//!
//! ```toml
//! [lint]
//! select = ["all"]                 # codes, names, aliases, code prefixes (KL3), categories
//! extend-select = ["DL3008"]       # turn on rules that are off by default
//! ignore = ["KL113", "DL3059"]
//! fail-level = "warning"           # error | warning | info | style | none
//! trusted-registries = ["registry.example.com", "*.gcr.io"]
//!
//! [lint.severity]
//! KL403 = "warning"
//! ```
//!
//! Selectors match a finding by its rule's code, name or category, or by one of the finding's
//! own aliases, so `ignore = ["DL3008"]` drops only the apt findings of `unpinned-package`.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use yaml_rust2::{Yaml, YamlLoader};

use crate::diagnostic::{Finding, Severity};
use crate::registry::Rule;

/// An error reading a configuration file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML or has unknown keys.
    #[error("{path}: {message}")]
    Toml {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// The file is not valid YAML or has values of the wrong type.
    #[error("{path}: {message}")]
    Yaml {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A value is not allowed (an unknown severity, a selector that names no rule).
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// The severity at or above which `kasane lint` exits 1; `None` never fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailLevel(pub Option<Severity>);

impl FailLevel {
    /// The default: warnings and errors fail.
    pub const DEFAULT: FailLevel = FailLevel(Some(Severity::Warning));

    /// True when `severity` reaches the level.
    pub fn fails(self, severity: Severity) -> bool {
        self.0.is_some_and(|level| severity >= level)
    }
}

impl std::str::FromStr for FailLevel {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "none" | "never" | "ignore" => Ok(FailLevel(None)),
            other => other
                .parse::<Severity>()
                .map(|s| FailLevel(Some(s)))
                .map_err(|e| format!("{e}; or none")),
        }
    }
}

/// How to lint: which rules, at what severity, and when to fail.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    /// When set, only findings matching one of these selectors are kept.
    pub select: Option<Vec<String>>,
    /// Selectors added to the default set (or to `select`).
    pub extend_select: Vec<String>,
    /// Selectors whose findings are dropped.
    pub ignore: Vec<String>,
    /// Severity overrides: selector to severity, applied in order (later wins).
    pub severity: Vec<(String, Severity)>,
    /// Registries FROM may pull from (KL213); empty means the rule is inactive.
    pub trusted_registries: Vec<String>,
    /// When to exit 1.
    pub fail_level: Option<FailLevel>,
    /// Ignore inline `# kasane ignore=` and `# hadolint ignore=` pragmas.
    pub disable_ignore_pragma: bool,
    /// Files the configuration was read from, for messages.
    pub sources: Vec<PathBuf>,
    /// `--build-arg NAME=VALUE` pairs ARGs are resolved with, as in the build (a later pair for
    /// the same name wins).
    pub build_args: Vec<(String, String)>,
}

/// True when `selector` matches `rule` as a whole: `all`, a category, a code prefix
/// (`KL3`), the code, the name or any alias.
pub fn selects_rule(selector: &str, rule: &Rule) -> bool {
    let s = selector.trim();
    s.eq_ignore_ascii_case("all")
        || s.eq_ignore_ascii_case(rule.category.as_str())
        || (s.len() >= 2
            && s.len() < rule.code.len()
            && rule.code[..s.len()].eq_ignore_ascii_case(s))
        || rule.answers_to(s)
}

/// True when `selector` matches this finding: one of the finding's own aliases, or like
/// [`selects_rule`] except that an alias of the rule must also be one of the finding's.
pub fn selects_finding(selector: &str, rule: &Rule, finding: &Finding) -> bool {
    let s = selector.trim();
    if finding.aliases.iter().any(|a| a.eq_ignore_ascii_case(s)) {
        return true;
    }
    if rule.aliases.iter().any(|a| a.eq_ignore_ascii_case(s)) {
        return false;
    }
    selects_rule(s, rule)
}

impl Config {
    /// Whether `rule` may produce findings at all (used to skip work).
    pub fn rule_enabled(&self, rule: &Rule) -> bool {
        let selected = match &self.select {
            Some(list) => list.iter().any(|s| selects_rule(s, rule)),
            None => rule.default_enabled,
        } || self.extend_select.iter().any(|s| selects_rule(s, rule));
        // A rule is off only when an ignore names it as a whole (not one of its aliases,
        // which drops just the findings of that alias).
        let ignored = self.ignore.iter().any(|s| {
            selects_rule(s, rule)
                && !(rule.aliases.len() > 1
                    && rule.aliases.iter().any(|a| a.eq_ignore_ascii_case(s)))
        });
        selected && !ignored
    }

    /// Whether this finding is kept, and at which severity.
    pub fn judge(&self, rule: &Rule, finding: &Finding) -> Option<Severity> {
        let by_default = match &self.select {
            Some(list) => list.iter().any(|s| selects_finding(s, rule, finding)),
            None => rule.default_enabled,
        };
        let selected = by_default
            || self
                .extend_select
                .iter()
                .any(|s| selects_finding(s, rule, finding));
        if !selected
            || self
                .ignore
                .iter()
                .any(|s| selects_finding(s, rule, finding))
        {
            return None;
        }
        let mut severity = finding.severity;
        for (s, sev) in &self.severity {
            if selects_finding(s, rule, finding) {
                severity = *sev;
            }
        }
        Some(severity)
    }

    /// Layers `other` over `self`: lists are appended, scalars replaced when set.
    pub fn merge(&mut self, other: Config) {
        if other.select.is_some() {
            self.select = other.select;
        }
        self.extend_select.extend(other.extend_select);
        self.ignore.extend(other.ignore);
        self.severity.extend(other.severity);
        self.trusted_registries.extend(other.trusted_registries);
        if other.fail_level.is_some() {
            self.fail_level = other.fail_level;
        }
        self.disable_ignore_pragma |= other.disable_ignore_pragma;
        self.sources.extend(other.sources);
        self.build_args.extend(other.build_args);
    }

    /// Reads a config file: `.yaml`/`.yml` as hadolint's format, anything else as kasane.toml.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.to_owned(),
            source,
        })?;
        let is_yaml = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"));
        let mut config = if is_yaml {
            Config::from_hadolint_yaml(&text, path)?
        } else {
            Config::from_kasane_toml(&text, path)?
        };
        config.sources.push(path.to_owned());
        Ok(config)
    }

    /// Finds and reads the configuration for the current directory `dir`: `.hadolint.yaml`
    /// (or `.yml`) first, then `kasane.toml` layered over it.
    pub fn discover(dir: &Path) -> Result<Config, ConfigError> {
        let mut config = Config::default();
        for name in [".hadolint.yaml", ".hadolint.yml"] {
            let p = dir.join(name);
            if p.is_file() {
                config.merge(Config::load(&p)?);
                break;
            }
        }
        let p = dir.join("kasane.toml");
        if p.is_file() {
            config.merge(Config::load(&p)?);
        }
        Ok(config)
    }

    /// Parses the `[lint]` table of a kasane.toml. Other tables belong to other commands and
    /// are not looked at.
    pub fn from_kasane_toml(text: &str, path: &Path) -> Result<Config, ConfigError> {
        #[derive(Deserialize)]
        struct File {
            #[serde(default)]
            lint: Option<LintTable>,
        }
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields, rename_all = "kebab-case")]
        struct LintTable {
            select: Option<Vec<String>>,
            #[serde(default)]
            extend_select: Vec<String>,
            #[serde(default)]
            ignore: Vec<String>,
            #[serde(default)]
            severity: std::collections::BTreeMap<String, String>,
            #[serde(default)]
            trusted_registries: Vec<String>,
            fail_level: Option<String>,
            #[serde(default)]
            disable_ignore_pragma: bool,
        }
        let file: File = toml::from_str(text).map_err(|e| ConfigError::Toml {
            path: path.to_owned(),
            message: e.to_string().trim_end().to_owned(),
        })?;
        let Some(lint) = file.lint else {
            return Ok(Config::default());
        };
        let invalid = |message: String| ConfigError::Invalid {
            path: path.to_owned(),
            message,
        };
        let mut severity = Vec::new();
        for (selector, level) in lint.severity {
            let level = level
                .parse::<Severity>()
                .map_err(|e| invalid(format!("[lint.severity] {selector}: {e}")))?;
            severity.push((selector, level));
        }
        let fail_level = lint
            .fail_level
            .map(|s| {
                s.parse::<FailLevel>()
                    .map_err(|e| invalid(format!("fail-level: {e}")))
            })
            .transpose()?;
        let config = Config {
            select: lint.select,
            extend_select: lint.extend_select,
            ignore: lint.ignore,
            severity,
            trusted_registries: lint.trusted_registries,
            fail_level,
            disable_ignore_pragma: lint.disable_ignore_pragma,
            sources: Vec::new(),
            build_args: Vec::new(),
        };
        config.check_selectors().map_err(invalid)?;
        Ok(config)
    }

    /// Parses hadolint's configuration: `ignored`, `override`, `trustedRegistries`,
    /// `failure-threshold`, `no-fail` and `disable-ignore-pragma`. Keys kasane has no use for
    /// (`format`, `no-color`, `label-schema`, `strict-labels`) are accepted and not used.
    pub fn from_hadolint_yaml(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let err = |message: String| ConfigError::Yaml {
            path: path.to_owned(),
            message,
        };
        let docs = YamlLoader::load_from_str(text).map_err(|e| err(e.to_string()))?;
        let mut config = Config::default();
        let Some(doc) = docs.into_iter().next() else {
            return Ok(config);
        };
        let map = match doc {
            Yaml::Hash(h) => h,
            Yaml::Null => return Ok(config),
            _ => return Err(err("expected a mapping at the top level".into())),
        };
        for (key, value) in map {
            let Some(key) = key.as_str().map(str::to_owned) else {
                continue;
            };
            match key.as_str() {
                "ignored" => {
                    config.ignore =
                        yaml_strings(&value).map_err(|m| err(format!("ignored: {m}")))?
                }
                "trustedRegistries" => {
                    config.trusted_registries =
                        yaml_strings(&value).map_err(|m| err(format!("trustedRegistries: {m}")))?;
                }
                "override" => {
                    let Yaml::Hash(levels) = value else {
                        return Err(err(
                            "override: expected a mapping of levels to rule lists".into()
                        ));
                    };
                    for (level, rules) in levels {
                        let level_name = level.as_str().unwrap_or_default().to_owned();
                        let severity = level_name
                            .parse::<Severity>()
                            .map_err(|e| err(format!("override: {e}")))?;
                        for rule in yaml_strings(&rules)
                            .map_err(|m| err(format!("override.{level_name}: {m}")))?
                        {
                            config.severity.push((rule, severity));
                        }
                    }
                }
                "failure-threshold" => {
                    let v = value
                        .as_str()
                        .ok_or_else(|| err("failure-threshold: expected a string".into()))?;
                    config.fail_level = Some(
                        v.parse::<FailLevel>()
                            .map_err(|e| err(format!("failure-threshold: {e}")))?,
                    );
                }
                "no-fail" if value.as_bool() == Some(true) => {
                    config.fail_level = Some(FailLevel(None));
                }
                "disable-ignore-pragma" => {
                    config.disable_ignore_pragma = value.as_bool() == Some(true);
                }
                _ => {}
            }
        }
        Ok(config)
    }

    /// Rejects selectors that name no rule, so typos do not silently select nothing.
    /// Unknown DL and SC codes are allowed: hadolint configs name rules kasane does not have.
    fn check_selectors(&self) -> Result<(), String> {
        let lists = self
            .select
            .iter()
            .flatten()
            .chain(&self.extend_select)
            .chain(&self.ignore)
            .chain(self.severity.iter().map(|(s, _)| s));
        for s in lists {
            let known = crate::registry::all().iter().any(|r| selects_rule(s, r));
            if !known && !is_foreign_code(s) {
                return Err(format!("`{s}` names no rule (see `kasane lint --explain`)"));
            }
        }
        Ok(())
    }
}

/// hadolint codes kasane does not implement (`DL3047`, `SC2086`).
pub fn is_foreign_code(s: &str) -> bool {
    let upper = s.to_ascii_uppercase();
    (upper.starts_with("DL") || upper.starts_with("SC"))
        && upper.len() > 2
        && upper[2..].bytes().all(|b| b.is_ascii_digit())
}

fn yaml_strings(value: &Yaml) -> Result<Vec<String>, String> {
    match value {
        Yaml::String(s) => Ok(vec![s.clone()]),
        Yaml::Array(items) => items
            .iter()
            .map(|i| match i {
                Yaml::String(s) => Ok(s.clone()),
                Yaml::Integer(n) => Ok(n.to_string()),
                _ => Err("expected strings".to_owned()),
            })
            .collect(),
        Yaml::Null => Ok(Vec::new()),
        _ => Err("expected a string or a list of strings".into()),
    }
}

/// Matches a registry host against `trusted` patterns (`*.example.com` matches subdomains).
pub fn registry_trusted(host: &str, trusted: &[String]) -> bool {
    trusted.iter().any(|p| {
        if let Some(suffix) = p.strip_prefix("*.") {
            host.len() > suffix.len() + 1
                && host.ends_with(suffix)
                && host.as_bytes()[host.len() - suffix.len() - 1] == b'.'
        } else if p == "*" {
            true
        } else {
            host.eq_ignore_ascii_case(p)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry;

    fn finding(rule: &Rule, alias: &'static str) -> Finding {
        let loc = crate::diagnostic::Location {
            span: Default::default(),
            start: Default::default(),
            end: Default::default(),
        };
        Finding {
            code: rule.code,
            name: rule.name,
            aliases: vec![alias],
            severity: rule.severity,
            message: String::new(),
            location: loc,
            fix: None,
            notes: vec![],
        }
    }

    #[test]
    fn kasane_toml_round_trip() {
        let c = Config::from_kasane_toml(
            r#"
            [build]
            other = 1
            [lint]
            extend-select = ["DL3008"]
            ignore = ["KL113", "size"]
            fail-level = "error"
            trusted-registries = ["*.gcr.io"]
            [lint.severity]
            KL403 = "warning"
            "#,
            Path::new("kasane.toml"),
        )
        .unwrap();
        assert_eq!(c.extend_select, ["DL3008"]);
        assert_eq!(c.fail_level, Some(FailLevel(Some(Severity::Error))));
        assert_eq!(c.severity, [("KL403".to_owned(), Severity::Warning)]);
        assert!(!c.rule_enabled(registry::PACKAGE_CACHE));
        assert!(!c.rule_enabled(registry::LEGACY_KEY_VALUE));
        assert!(c.rule_enabled(registry::UNPINNED_PACKAGE));
        let apt = finding(registry::UNPINNED_PACKAGE, "DL3008");
        let pip = finding(registry::UNPINNED_PACKAGE, "DL3013");
        assert_eq!(
            c.judge(registry::UNPINNED_PACKAGE, &apt),
            Some(Severity::Warning)
        );
        assert_eq!(c.judge(registry::UNPINNED_PACKAGE, &pip), None);
    }

    #[test]
    fn kasane_toml_errors_name_the_problem() {
        let e = Config::from_kasane_toml("[lint]\nignor = []\n", Path::new("k.toml")).unwrap_err();
        assert!(e.to_string().contains("ignor"), "{e}");
        let e = Config::from_kasane_toml("[lint]\nignore = [\"KL999\"]\n", Path::new("k.toml"))
            .unwrap_err();
        assert!(e.to_string().contains("KL999"), "{e}");
        let e = Config::from_kasane_toml("[lint]\nfail-level = \"fatal\"\n", Path::new("k.toml"))
            .unwrap_err();
        assert!(e.to_string().contains("fatal"), "{e}");
        assert!(Config::from_kasane_toml("[lint\n", Path::new("k.toml")).is_err());
        // Codes kasane does not implement are fine (they come from hadolint habits).
        assert!(
            Config::from_kasane_toml(
                "[lint]\nignore = [\"DL3047\", \"SC2086\"]\n",
                Path::new("k.toml")
            )
            .is_ok()
        );
    }

    #[test]
    fn hadolint_yaml() {
        let c = Config::from_hadolint_yaml(
            "ignored:\n  - DL3008\n  - DL3059\noverride:\n  error:\n    - DL3009\n  info: [DL3015]\ntrustedRegistries: docker.io\nfailure-threshold: warning\nlabel-schema:\n  author: text\n",
            Path::new(".hadolint.yaml"),
        )
        .unwrap();
        assert_eq!(c.ignore, ["DL3008", "DL3059"]);
        assert_eq!(c.trusted_registries, ["docker.io"]);
        assert_eq!(c.fail_level, Some(FailLevel(Some(Severity::Warning))));
        assert!(!c.rule_enabled(registry::MERGEABLE_RUNS));
        let lists = finding(registry::PACKAGE_CACHE, "DL3009");
        assert_eq!(
            c.judge(registry::PACKAGE_CACHE, &lists),
            Some(Severity::Error)
        );
        let apk = finding(registry::PACKAGE_CACHE, "DL3019");
        assert_eq!(
            c.judge(registry::PACKAGE_CACHE, &apk),
            Some(Severity::Warning)
        );
    }

    #[test]
    fn hadolint_yaml_errors() {
        assert!(Config::from_hadolint_yaml("ignored: {a: 1}\n", Path::new("h.yaml")).is_err());
        assert!(Config::from_hadolint_yaml("[1, 2]\n", Path::new("h.yaml")).is_err());
        assert!(Config::from_hadolint_yaml("a: [\n", Path::new("h.yaml")).is_err());
        assert!(
            Config::from_hadolint_yaml("failure-threshold: loud\n", Path::new("h.yaml")).is_err()
        );
        assert_eq!(
            Config::from_hadolint_yaml("", Path::new("h.yaml")).unwrap(),
            Config::default()
        );
        let c = Config::from_hadolint_yaml("no-fail: true\n", Path::new("h.yaml")).unwrap();
        assert_eq!(c.fail_level, Some(FailLevel(None)));
    }

    #[test]
    fn selectors() {
        assert!(selects_rule("KL3", registry::PACKAGE_CACHE));
        assert!(selects_rule("size", registry::PACKAGE_CACHE));
        assert!(selects_rule("all", registry::PACKAGE_CACHE));
        assert!(selects_rule(
            "package-cache-in-layer",
            registry::PACKAGE_CACHE
        ));
        assert!(!selects_rule("KL30", registry::MERGEABLE_RUNS));
        assert!(!selects_rule("K", registry::MERGEABLE_RUNS));
    }

    #[test]
    fn trusted_registry_patterns() {
        let t = vec!["*.gcr.io".to_owned(), "docker.io".to_owned()];
        assert!(registry_trusted("eu.gcr.io", &t));
        assert!(!registry_trusted("gcr.io", &t));
        assert!(!registry_trusted("evilgcr.io", &t));
        assert!(registry_trusted("docker.io", &t));
        assert!(!registry_trusted("quay.io", &t));
    }

    #[test]
    fn fail_levels() {
        assert!(FailLevel::DEFAULT.fails(Severity::Error));
        assert!(!FailLevel::DEFAULT.fails(Severity::Info));
        assert!(!"none".parse::<FailLevel>().unwrap().fails(Severity::Error));
        assert!("style".parse::<FailLevel>().unwrap().fails(Severity::Style));
    }
}
