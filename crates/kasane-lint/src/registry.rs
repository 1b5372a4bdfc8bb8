//! Every rule kasane knows: stable code, name, aliases, default severity, and the text
//! `kasane lint --explain` prints.
//!
//! Codes never change meaning once released. `KL0xx` are parse problems, `KL1xx` BuildKit's
//! build checks (aliased by their BuildKit names), `KL2xx` hadolint's rules that still matter
//! (aliased by their DL codes), `KL3xx` image-size rules and `KL4xx` build-speed rules.

use crate::diagnostic::Severity;

/// Which family a rule belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Category {
    /// The file does not parse as BuildKit reads it.
    Syntax,
    /// One of BuildKit's `docker build --check` rules.
    BuildCheck,
    /// A correctness or maintainability practice (most come from hadolint).
    Practice,
    /// Makes the image bigger than it needs to be.
    Size,
    /// Makes the build slower or its cache less useful.
    Speed,
}

impl Category {
    /// Lowercase name, used as a SARIF tag.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Syntax => "syntax",
            Category::BuildCheck => "buildkit-check",
            Category::Practice => "practice",
            Category::Size => "size",
            Category::Speed => "speed",
        }
    }
}

/// What a rule is, independent of any file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// Stable code, e.g. `KL301`.
    pub code: &'static str,
    /// Stable kebab-case name.
    pub name: &'static str,
    /// Other names: BuildKit check names and hadolint DL codes.
    pub aliases: &'static [&'static str],
    /// Family.
    pub category: Category,
    /// Severity unless configured otherwise.
    pub severity: Severity,
    /// Whether the rule runs unless configured otherwise.
    pub default_enabled: bool,
    /// Whether findings can carry a fix.
    pub fixable: bool,
    /// One line saying what the rule looks for.
    pub summary: &'static str,
    /// Why it matters, in a paragraph.
    pub explanation: &'static str,
    /// A Dockerfile the rule flags.
    pub bad: &'static str,
    /// The same Dockerfile, fixed.
    pub good: &'static str,
}

impl Rule {
    /// True when `id` is this rule's code, name or one of its aliases (case-insensitive).
    pub fn answers_to(&self, id: &str) -> bool {
        id.eq_ignore_ascii_case(self.code)
            || id.eq_ignore_ascii_case(self.name)
            || self.aliases.iter().any(|a| id.eq_ignore_ascii_case(a))
    }

    /// The text of `kasane lint --explain CODE`.
    pub fn explain(&self) -> String {
        let mut out = format!("{} {}: {}\n", self.code, self.name, self.summary);
        if !self.aliases.is_empty() {
            out.push_str(&format!("Also known as: {}\n", self.aliases.join(", ")));
        }
        out.push_str(&format!(
            "Category: {}. Default severity: {}.{}{}\n\n",
            self.category.as_str(),
            self.severity,
            if self.default_enabled {
                ""
            } else {
                " Off unless selected."
            },
            if self.fixable {
                " Findings carry a fix."
            } else {
                ""
            },
        ));
        out.push_str(&wrap(self.explanation.trim(), 92));
        out.push_str("\n\nFlagged:\n");
        for line in self.bad.trim_end().lines() {
            out.push_str("    ");
            out.push_str(line);
            out.push('\n');
        }
        out.push_str("\nBetter:\n");
        for line in self.good.trim_end().lines() {
            out.push_str("    ");
            out.push_str(line);
            out.push('\n');
        }
        out
    }
}

/// Wraps `text` at spaces so no line is longer than `width` (longer words stay whole).
fn wrap(text: &str, width: usize) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / width);
    let mut line_len = 0;
    for word in text.split_whitespace() {
        if line_len > 0 && line_len + 1 + word.len() > width {
            out.push('\n');
            line_len = 0;
        } else if line_len > 0 {
            out.push(' ');
            line_len += 1;
        }
        out.push_str(word);
        line_len += word.len();
    }
    out
}

/// Finds a rule by code, name or alias.
pub fn find(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.answers_to(id))
}

/// Finds a rule by its exact code.
pub fn by_code(code: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.code == code)
}

/// Every rule, in code order.
pub fn all() -> &'static [Rule] {
    RULES
}

macro_rules! rules {
    ($($ident:ident = {
        code: $code:literal, name: $name:literal, aliases: [$($alias:literal),* $(,)?],
        category: $cat:ident, severity: $sev:ident, enabled: $en:literal, fixable: $fix:literal,
        summary: $summary:literal,
        explanation: $expl:literal,
        bad: $bad:literal,
        good: $good:literal $(,)?
    }),* $(,)?) => {
        $(
            #[doc = $summary]
            pub const $ident: &Rule = &Rule {
                code: $code,
                name: $name,
                aliases: &[$($alias),*],
                category: Category::$cat,
                severity: Severity::$sev,
                default_enabled: $en,
                fixable: $fix,
                summary: $summary,
                explanation: $expl,
                bad: $bad,
                good: $good,
            };
        )*
        static RULES: &[Rule] = &[$(*$ident),*];
    };
}

include!("registry_rules.rs");

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_names_and_aliases_are_unique() {
        let mut seen = HashSet::new();
        for r in all() {
            assert!(seen.insert(r.code.to_ascii_lowercase()), "{}", r.code);
            assert!(seen.insert(r.name.to_ascii_lowercase()), "{}", r.name);
            for a in r.aliases {
                assert!(seen.insert(a.to_ascii_lowercase()), "alias {a} twice");
            }
        }
    }

    #[test]
    fn codes_are_sorted_and_well_formed() {
        let codes: Vec<&str> = all().iter().map(|r| r.code).collect();
        let mut sorted = codes.clone();
        sorted.sort_unstable();
        assert_eq!(codes, sorted);
        for r in all() {
            assert!(r.code.starts_with("KL") && r.code.len() == 5, "{}", r.code);
            assert!(
                r.name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{}",
                r.name
            );
            assert!(
                !r.summary.ends_with('.'),
                "{} summary ends with a dot",
                r.code
            );
            assert!(r.explanation.len() > 40, "{} needs an explanation", r.code);
            assert_ne!(r.bad.trim(), r.good.trim(), "{} example", r.code);
        }
    }

    #[test]
    fn lookup_by_alias_is_case_insensitive() {
        let r = find("dl4000").expect("DL4000 is an alias");
        assert_eq!(r.code, "KL108");
        assert_eq!(find("MaintainerDeprecated").map(|r| r.code), Some("KL108"));
        assert!(find("DL9999").is_none());
    }
}
