//! Applying the lint rules' fixes.
//!
//! The fixes themselves live with their rules in `kasane-lint` (a [`kasane_lint::Fix`] is a
//! set of text edits); this module only decides which to apply and in what order. Each round
//! lints the current text and applies every selected fix whose edits do not touch another's,
//! then lints again, because one fix can make another possible (moving `apt-get update` into
//! the install RUN lets the lists be removed there). It stops when no fix is left, so running
//! it twice changes nothing the second time.

use std::collections::HashSet;
use std::path::Path;

use kasane_lint::config::Config;
use kasane_lint::{Applicability, Edit, Finding, Fix, LintOptions, lint_source};
use serde::Serialize;

use crate::RewriteError;

/// More rounds than any real file needs; a guard against two fixes undoing each other.
const MAX_ROUNDS: usize = 32;

/// What to fix.
#[derive(Debug, Clone, Default)]
pub struct FixOptions<'a> {
    /// Only these rules (codes, names or aliases); empty means every rule that is on by
    /// default. Naming a rule also allows its unsafe fixes.
    pub rules: Vec<String>,
    /// Also apply fixes marked unsafe (they need a look: they may change which packages or
    /// files end up in the image, or need BuildKit).
    pub allow_unsafe: bool,
    /// The build context, for rules that look at it (sizes, .dockerignore).
    pub context: Option<&'a Path>,
    /// The Dockerfile's path, for `<Dockerfile>.dockerignore`.
    pub dockerfile: Option<&'a Path>,
}

/// One applied fix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FixChange {
    /// The rule's code (`KL301`).
    pub code: &'static str,
    /// The rule's name.
    pub name: &'static str,
    /// The line the finding was on, in the text of its round (round 1 is the input).
    pub line: usize,
    /// Which round applied it.
    pub round: usize,
    /// What the fix does.
    pub change: String,
    /// Why: the finding's message.
    pub reason: String,
    /// Whether the fix is marked unsafe.
    #[serde(rename = "unsafe")]
    pub is_unsafe: bool,
}

/// The result of [`fix`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FixReport {
    /// The fixed text (the input when nothing applied).
    pub text: String,
    /// The fixes applied, in order.
    pub changes: Vec<FixChange>,
    /// Findings with an unsafe fix that was not applied (without `allow_unsafe`).
    pub skipped_unsafe: Vec<FixChange>,
}

/// Applies the selected fixes to `text` until none is left.
pub fn fix(path: &str, text: &str, options: &FixOptions<'_>) -> Result<FixReport, RewriteError> {
    for id in &options.rules {
        if kasane_lint::registry::find(id).is_none() {
            return Err(RewriteError::UnknownRule(id.clone()));
        }
    }
    kasane_dockerfile::parse(text)?;
    let config = Config {
        select: (!options.rules.is_empty()).then(|| options.rules.clone()),
        ..Config::default()
    };
    let lint = LintOptions {
        config: &config,
        context: options.context,
        dockerfile: options.dockerfile,
    };
    let allow_unsafe = options.allow_unsafe || !options.rules.is_empty();
    let mut current = text.to_owned();
    let mut changes = Vec::new();
    let mut skipped_unsafe = Vec::new();
    let mut seen: HashSet<String> = HashSet::from([current.clone()]);
    // Fixes that did not remove their finding (a rule bug, or input the rule misreads): they
    // are undone and not tried again, so a second run has nothing left to repeat.
    let mut blocked: HashSet<Key> = HashSet::new();
    // The text before the last round, where its findings should be gone if their fixes worked
    // (the finding's key with its start mapped through the round's edits), and how many
    // changes came before it.
    let mut last: Option<Round> = None;
    let mut round = 0;
    for step in 1..=MAX_ROUNDS {
        let report = lint_source(path, &current, &lint);
        if let Some(Round {
            before,
            expected,
            count,
        }) = last.take()
        {
            let back = still_there(&report.findings, expected);
            if !back.is_empty() {
                current = before;
                changes.truncate(count);
                blocked.extend(back);
                round -= 1;
                continue;
            }
        }
        round += 1;
        let mut candidates: Vec<&Finding> = Vec::new();
        for f in &report.findings {
            let Some(fx) = &f.fix else { continue };
            if fx.applicability == Applicability::Unsafe && !allow_unsafe {
                if step == 1 {
                    skipped_unsafe.push(change(f, fx, round));
                }
                continue;
            }
            if !blocked.contains(&key(f, f.location.span.start)) {
                candidates.push(f);
            }
        }
        let chosen = disjoint(&candidates);
        if chosen.is_empty() {
            break;
        }
        let before = current.clone();
        // All at once when the result parses; otherwise the first one that does on its own.
        let together = apply(&current, chosen.iter().flat_map(|f| edits(f)));
        let done: Vec<&Finding> = if parses(&together) && !seen.contains(&together) {
            current = together;
            chosen
        } else {
            let one = chosen.into_iter().find_map(|f| {
                let t = apply(&current, edits(f));
                (parses(&t) && !seen.contains(&t)).then_some((f, t))
            });
            match one {
                Some((f, t)) => {
                    current = t;
                    vec![f]
                }
                None => break,
            }
        };
        seen.insert(current.clone());
        let all: Vec<&Edit> = done.iter().flat_map(|f| edits(f)).collect();
        let count = changes.len();
        let mut expected = Vec::new();
        for f in done {
            if let Some(fx) = &f.fix {
                let start = f.location.span.start;
                if let Some(moved) = shifted(&all, start, f.location.span.end) {
                    expected.push((key(f, start), key(f, moved)));
                }
                changes.push(change(f, fx, round));
            }
        }
        last = Some(Round {
            before,
            expected,
            count,
        });
    }
    // Out of rounds right after one: check it like any other.
    if let Some(r) = last {
        let report = lint_source(path, &current, &lint);
        if !still_there(&report.findings, r.expected).is_empty() {
            current = r.before;
            changes.truncate(r.count);
        }
    }
    Ok(FixReport {
        text: current,
        changes,
        skipped_unsafe,
    })
}

/// What an applied round leaves to check in the next one.
struct Round {
    /// The text before it.
    before: String,
    /// Each fixed finding's key, and its key in the new text if it were still there.
    expected: Vec<(Key, Key)>,
    /// How many changes came before it.
    count: usize,
}

/// The findings of a round (keys before it) that are still there after it.
fn still_there(findings: &[Finding], expected: Vec<(Key, Key)>) -> Vec<Key> {
    let now: HashSet<Key> = findings
        .iter()
        .filter(|f| f.fix.is_some())
        .map(|f| key(f, f.location.span.start))
        .collect();
    expected
        .into_iter()
        .filter(|(_, after)| now.contains(after))
        .map(|(was, _)| was)
        .collect()
}

/// A finding in one text: its rule, its message and where it starts.
type Key = (&'static str, String, usize);

fn key(f: &Finding, start: usize) -> Key {
    (f.code, f.message.clone(), start)
}

/// Where text at `start..end` starts after `edits` (sorted or not), or `None` when an edit
/// touches it (the text the finding pointed at changed, so it may well be fixed).
fn shifted(edits: &[&Edit], start: usize, end: usize) -> Option<usize> {
    let mut delta: isize = 0;
    for e in edits {
        if e.span.end <= start && !(e.span.start == e.span.end && e.span.start == start) {
            delta += e.replacement.len() as isize - (e.span.end - e.span.start) as isize;
        } else if e.span.start < end.max(start + 1) && e.span.end >= start {
            return None;
        }
    }
    Some((start as isize + delta) as usize)
}

fn change(f: &Finding, fx: &Fix, round: usize) -> FixChange {
    FixChange {
        code: f.code,
        name: f.name,
        line: f.location.start.line,
        round,
        change: fx.description.clone(),
        reason: f.message.clone(),
        is_unsafe: fx.applicability == Applicability::Unsafe,
    }
}

fn edits(f: &Finding) -> impl Iterator<Item = &Edit> {
    f.fix.iter().flat_map(|fx| fx.edits.iter())
}

/// Findings whose fixes touch no text another chosen fix touches, in position order.
fn disjoint<'f>(candidates: &[&'f Finding]) -> Vec<&'f Finding> {
    let mut taken: Vec<kasane_lint::Span> = Vec::new();
    let mut out = Vec::new();
    for f in candidates {
        let spans: Vec<kasane_lint::Span> = edits(f).map(|e| e.span).collect();
        let clash = spans.iter().any(|s| taken.iter().any(|t| touches(*s, *t)));
        if !clash {
            taken.extend(spans);
            out.push(*f);
        }
    }
    out
}

/// Two edits conflict when their ranges overlap, one's insertion point lies inside the
/// other's range, or they start at the same point (two findings often carry the same
/// insertion; the second waits for the next round, where it is usually gone).
fn touches(a: kasane_lint::Span, b: kasane_lint::Span) -> bool {
    let inside = |p: usize, s: kasane_lint::Span| s.start < p && p < s.end;
    (a.start < b.end && b.start < a.end)
        || (a.start == a.end && inside(a.start, b))
        || (b.start == b.end && inside(b.start, a))
        || a.start == b.start
}

fn apply<'e>(text: &str, edits: impl Iterator<Item = &'e Edit>) -> String {
    Fix::new("", Applicability::Safe, edits.cloned().collect()).apply(text)
}

fn parses(text: &str) -> bool {
    kasane_dockerfile::parse(text).is_ok()
}

#[cfg(test)]
mod tests;
