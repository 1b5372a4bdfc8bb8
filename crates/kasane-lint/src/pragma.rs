//! Inline pragmas and BuildKit check directives found in a Dockerfile's comments.
//!
//! - `# kasane ignore=KL301,DL3008 reason...` in the comment block directly above an
//!   instruction silences those rules for that instruction; `# kasane global ignore=...`
//!   for the whole file.
//! - `# hadolint ignore=DL3008,SC2086` and `# hadolint global ignore=...` work the same way
//!   (a trailing `# comment` is allowed); `# hadolint shell=pwsh` sets the shell.
//! - `# check=skip=Rule1,Rule2;error=true` as a parser directive at the top of the file skips
//!   BuildKit checks for the whole file (`skip=all` skips all of them) and makes the rest
//!   errors with `error=true`; the same comment directly above an instruction applies to that
//!   instruction only.
//!
//! "Directly above" means in the run of comment lines that ends on the line before the
//! instruction, with no empty line in between.

use std::collections::HashMap;

/// What the pragmas of one file say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pragmas {
    /// Selectors ignored in the whole file.
    pub file_ignores: Vec<String>,
    /// Selectors ignored for the instruction starting on a line (1-based).
    pub line_ignores: HashMap<usize, Vec<String>>,
    /// BuildKit check names skipped in the whole file (`all` included as is).
    pub check_skip: Vec<String>,
    /// BuildKit check names skipped for the instruction starting on a line.
    pub line_check_skip: HashMap<usize, Vec<String>>,
    /// `# check=error=true`: BuildKit checks are errors.
    pub check_error: bool,
    /// The shell named by `# hadolint shell=...` or `# kasane shell=...`.
    pub shell: Option<String>,
}

impl Pragmas {
    /// Scans the comment lines of `text`.
    pub fn scan(text: &str) -> Pragmas {
        let mut p = Pragmas::default();
        // Pending per-instruction pragmas of the current comment block.
        let mut block_ignores: Vec<String> = Vec::new();
        let mut block_skips: Vec<String> = Vec::new();
        let mut in_directives = true;
        for (i, raw) in text.lines().enumerate() {
            let line_no = i + 1;
            let line = raw.trim_start_matches('\u{feff}').trim();
            let Some(comment) = line.strip_prefix('#') else {
                if !line.is_empty() {
                    if !block_ignores.is_empty() {
                        p.line_ignores
                            .entry(line_no)
                            .or_default()
                            .append(&mut block_ignores);
                    }
                    if !block_skips.is_empty() {
                        p.line_check_skip
                            .entry(line_no)
                            .or_default()
                            .append(&mut block_skips);
                    }
                }
                block_ignores.clear();
                block_skips.clear();
                in_directives = false;
                continue;
            };
            let body = comment.trim();
            if let Some((key, value)) = directive(body) {
                if key.eq_ignore_ascii_case("check") {
                    let (skips, error) = parse_check(value);
                    if in_directives {
                        p.check_skip.extend(skips);
                        p.check_error |= error;
                    } else {
                        block_skips.extend(skips);
                    }
                    continue;
                }
                if in_directives
                    && (key.eq_ignore_ascii_case("syntax") || key.eq_ignore_ascii_case("escape"))
                {
                    continue;
                }
            }
            in_directives = false;
            let mut words = body.split_whitespace();
            let tool = words.next().unwrap_or_default();
            if !tool.eq_ignore_ascii_case("kasane") && !tool.eq_ignore_ascii_case("hadolint") {
                continue;
            }
            let mut next = words.next().unwrap_or_default();
            let global = next.eq_ignore_ascii_case("global");
            if global {
                next = words.next().unwrap_or_default();
            }
            if let Some(list) = strip_prefix_ci(next, "ignore=") {
                let ids = list
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned);
                if global {
                    p.file_ignores.extend(ids);
                } else {
                    block_ignores.extend(ids);
                }
            } else if let Some(shell) = strip_prefix_ci(next, "shell=") {
                p.shell = Some(shell.to_owned());
            }
        }
        p
    }

    /// Selectors that apply to the instruction starting on `line`.
    pub fn ignores_for(&self, line: usize) -> impl Iterator<Item = &str> {
        self.file_ignores
            .iter()
            .chain(self.line_ignores.get(&line).into_iter().flatten())
            .map(String::as_str)
    }

    /// BuildKit check names skipped for the instruction starting on `line`.
    pub fn check_skips_for(&self, line: usize) -> impl Iterator<Item = &str> {
        self.check_skip
            .iter()
            .chain(self.line_check_skip.get(&line).into_iter().flatten())
            .map(String::as_str)
    }
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    (s.len() >= prefix.len() && s[..prefix.len()].eq_ignore_ascii_case(prefix))
        .then(|| &s[prefix.len()..])
}

/// `key=value` with a name-like key, as BuildKit recognises directives.
fn directive(body: &str) -> Option<(&str, &str)> {
    let (key, value) = body.split_once('=')?;
    let key = key.trim();
    let mut chars = key.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric());
    valid.then(|| (key, value.trim()))
}

/// Parses `skip=A,B;error=true;experimental=C` into the skipped names and the error flag.
fn parse_check(value: &str) -> (Vec<String>, bool) {
    let mut skips = Vec::new();
    let mut error = false;
    for part in value.split(';') {
        let Some((k, v)) = part.split_once('=') else {
            continue;
        };
        match k.trim().to_ascii_lowercase().as_str() {
            "skip" => skips.extend(
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned),
            ),
            "error" => error = v.trim().eq_ignore_ascii_case("true"),
            _ => {}
        }
    }
    (skips, error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kasane_and_hadolint_ignores_attach_to_the_next_instruction() {
        let text = "FROM a\n# kasane ignore=KL301,KL303 the lists are needed later\n# hadolint ignore=DL3008 # pinned elsewhere\nRUN apt-get update\n\n# kasane ignore=KL403\n\nRUN x\n";
        let p = Pragmas::scan(text);
        let on4: Vec<_> = p.ignores_for(4).collect();
        assert_eq!(on4, ["KL301", "KL303", "DL3008"]);
        // An empty line breaks the block.
        assert_eq!(p.ignores_for(8).count(), 0);
        assert_eq!(p.ignores_for(1).count(), 0);
    }

    #[test]
    fn global_ignores_and_shell() {
        let p = Pragmas::scan(
            "# hadolint global ignore=DL3006\n# kasane global ignore=KL113\n# hadolint shell=pwsh\nFROM a\n",
        );
        assert_eq!(p.file_ignores, ["DL3006", "KL113"]);
        assert_eq!(p.shell.as_deref(), Some("pwsh"));
    }

    #[test]
    fn check_directive_at_the_top_and_above_an_instruction() {
        let p = Pragmas::scan(
            "# syntax=docker/dockerfile:1\n# check=skip=JSONArgsRecommended,StageNameCasing;error=true\nFROM a\n# check=skip=MaintainerDeprecated\nMAINTAINER me\n",
        );
        assert_eq!(p.check_skip, ["JSONArgsRecommended", "StageNameCasing"]);
        assert!(p.check_error);
        assert_eq!(
            p.check_skips_for(5).collect::<Vec<_>>(),
            [
                "JSONArgsRecommended",
                "StageNameCasing",
                "MaintainerDeprecated"
            ]
        );
    }

    #[test]
    fn check_after_other_comments_is_not_a_file_directive() {
        let p = Pragmas::scan("# a comment\n# check=skip=all\nFROM a\n");
        assert!(p.check_skip.is_empty());
        assert_eq!(p.check_skips_for(3).collect::<Vec<_>>(), ["all"]);
    }

    #[test]
    fn not_pragmas() {
        let p = Pragmas::scan("# kasane is great\n#hadolint\nRUN a # kasane ignore=KL301\n");
        assert_eq!(p, Pragmas::default());
    }
}
