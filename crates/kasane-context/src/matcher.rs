//! The ordered list of patterns and Docker's three ways of asking it about a path.

use crate::gopath;
use crate::pattern::{Dialect, IgnorePattern, PatternError};

/// What `PatternMatcher.New` builds from the lines of an ignore file: patterns in order, the
/// last matching one deciding (exceptions, `!pattern`, re-include).
#[derive(Debug, Clone)]
pub struct PatternMatcher {
    patterns: Vec<IgnorePattern>,
    exclusions: bool,
    dialect: Dialect,
}

/// Per-pattern results for a directory, handed to its children by walkers
/// ([`PatternMatcher::matches_using_parent_results`]). The default value means "no
/// information", as for a path at the top of the context.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MatchInfo {
    parent_matched: Vec<bool>,
}

impl PatternMatcher {
    /// Compiles `patterns` in order. Empty ones are skipped; the first bad one is an error.
    pub fn new<I, P>(patterns: I, dialect: Dialect) -> Result<Self, PatternError>
    where
        I: IntoIterator<Item = P>,
        P: AsRef<[u8]>,
    {
        let mut compiled = Vec::new();
        let mut exclusions = false;
        for raw in patterns {
            if let Some(pattern) = IgnorePattern::new(raw.as_ref(), dialect)? {
                exclusions |= pattern.is_exclusion();
                compiled.push(pattern);
            }
        }
        Ok(PatternMatcher {
            patterns: compiled,
            exclusions,
            dialect,
        })
    }

    /// The compiled patterns, in order.
    pub fn patterns(&self) -> &[IgnorePattern] {
        &self.patterns
    }

    /// Whether any pattern is an exception (`!pattern`).
    pub fn has_exclusions(&self) -> bool {
        self.exclusions
    }

    /// The dialect the patterns were compiled in.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// `MatchesOrParentMatches`: whether `path` (relative, `/`-separated) is excluded, a
    /// pattern counting as matching when it matches the path or any of its parent
    /// directories. Evaluation skips patterns that cannot change the answer, as Docker does,
    /// so a broken pattern only raises its error when reached.
    pub fn matches_or_parent_matches(&self, path: &[u8]) -> Result<bool, PatternError> {
        let parents = parent_prefixes(path);
        let mut matched = false;
        for pattern in &self.patterns {
            if pattern.is_exclusion() != matched {
                continue;
            }
            let mut hit = pattern.matches(path)?;
            if !hit {
                hit = parents.iter().any(|p| pattern.matches(p).unwrap_or(false));
            }
            if hit {
                matched = !pattern.is_exclusion();
            }
        }
        Ok(matched)
    }

    /// `MatchesUsingParentResults`: the walkers' form (BuildKit's fsutil and Docker 23+'s
    /// archive code). A pattern that matched the parent directory counts as matching; one
    /// that the parent skipped is tested against the path alone. This can differ from
    /// [`Self::matches_or_parent_matches`], and it is what engines actually send.
    pub fn matches_using_parent_results(
        &self,
        path: &[u8],
        parent: &MatchInfo,
    ) -> Result<(bool, MatchInfo), PatternError> {
        let known = !parent.parent_matched.is_empty();
        let mut info = MatchInfo {
            parent_matched: vec![false; self.patterns.len()],
        };
        let mut matched = false;
        let mut parents: Option<Vec<Vec<u8>>> = None;
        for (i, pattern) in self.patterns.iter().enumerate() {
            let mut hit = known && parent.parent_matched[i];
            if !hit {
                if pattern.is_exclusion() != matched {
                    continue;
                }
                hit = pattern.matches(path)?;
                if !hit && !known {
                    let parents = parents.get_or_insert_with(|| parent_prefixes(path));
                    hit = parents.iter().any(|p| pattern.matches(p).unwrap_or(false));
                }
            }
            info.parent_matched[i] = hit;
            if hit {
                matched = !pattern.is_exclusion();
            }
        }
        Ok((matched, info))
    }

    /// The deprecated `Matches`, which Docker 20.10 uses: a pattern of N components is tested
    /// against the path and against its parent of exactly N components, no other. With
    /// [`Dialect::Docker20`] every pattern is evaluated (as 20.10 did), so a broken one
    /// fails on any path.
    pub fn matches_legacy(&self, path: &[u8]) -> Result<bool, PatternError> {
        let parent = gopath::dir(path);
        let parent_dirs: Vec<&[u8]> = parent.split(|&b| b == b'/').collect();
        let evaluate_all = self.dialect == Dialect::Docker20;
        let mut matched = false;
        for pattern in &self.patterns {
            if !evaluate_all && pattern.is_exclusion() != matched {
                continue;
            }
            let mut hit = pattern.matches(path)?;
            if !hit && parent != b"." && pattern.dir_count() <= parent_dirs.len() {
                let prefix = parent_dirs[..pattern.dir_count()].join(&b'/');
                hit = pattern.matches(&prefix).unwrap_or(false);
            }
            if hit {
                matched = !pattern.is_exclusion();
            }
        }
        Ok(matched)
    }

    /// The package-level `MatchesOrParentMatches(file, patterns)`: cleans `file` first and
    /// never excludes the context root itself.
    pub fn matches_cleaned(&self, file: &[u8]) -> Result<bool, PatternError> {
        let file = gopath::clean(file);
        if file == b"." {
            return Ok(false);
        }
        self.matches_or_parent_matches(&file)
    }
}

/// `a`, `a/b` for `a/b/c` (Go: the components of `filepath.Dir(path)`, joined one by one).
fn parent_prefixes(path: &[u8]) -> Vec<Vec<u8>> {
    let parent = gopath::dir(path);
    if parent == b"." {
        return Vec::new();
    }
    let parts: Vec<&[u8]> = parent.split(|&b| b == b'/').collect();
    (1..=parts.len()).map(|n| parts[..n].join(&b'/')).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pm(patterns: &[&str]) -> PatternMatcher {
        PatternMatcher::new(patterns, Dialect::Moby).unwrap()
    }

    #[test]
    fn last_match_wins_and_parents_count() {
        let m = pm(&["*.md", "!README.md", "docs", "!docs/keep"]);
        assert!(m.matches_or_parent_matches(b"CHANGES.md").unwrap());
        assert!(!m.matches_or_parent_matches(b"README.md").unwrap());
        assert!(!m.matches_or_parent_matches(b"sub/x.md").unwrap());
        assert!(m.matches_or_parent_matches(b"docs/a/b").unwrap());
        assert!(!m.matches_or_parent_matches(b"docs/keep/b").unwrap());
    }

    #[test]
    fn parent_results_differ_from_full_parent_check() {
        // The parent `a` skips `!a` (nothing matched yet), so its child only tests `a/b`
        // against `a`, which fails: the walker excludes what the full check re-includes.
        let m = pm(&["a/b", "!a"]);
        assert!(!m.matches_or_parent_matches(b"a/b").unwrap());
        let (_, info_a) = m
            .matches_using_parent_results(b"a", &MatchInfo::default())
            .unwrap();
        let (excluded, _) = m.matches_using_parent_results(b"a/b", &info_a).unwrap();
        assert!(excluded);
    }

    #[test]
    fn legacy_checks_one_parent_only() {
        let m = pm(&["**/foo"]);
        assert!(m.matches_or_parent_matches(b"x/y/foo/z").unwrap());
        assert!(!m.matches_legacy(b"x/y/foo/z").unwrap());
        assert!(m.matches_legacy(b"x/foo/z").unwrap());
    }

    #[test]
    fn cleaned_form_never_excludes_root() {
        let m = pm(&["*"]);
        assert!(!m.matches_cleaned(b"./").unwrap());
        assert!(m.matches_cleaned(b"./a/").unwrap());
    }
}
