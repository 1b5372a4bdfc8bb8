//! The checks, grouped by what they read: single instructions, stages, RUN scripts, and
//! relations between layers.

mod instructions;
mod layers;
mod moves;
mod shell;
mod stages;

use kasane_dockerfile::{Arguments, Instruction, Word};

use crate::diagnostic::Span;
use crate::engine::{LintOptions, Sink};
use crate::model::{Model, span};
use crate::pragma::Pragmas;

/// Runs every check.
pub(crate) fn run(
    model: &Model<'_>,
    pragmas: &Pragmas,
    options: &LintOptions<'_>,
    sink: &mut Sink<'_>,
) {
    instructions::check(model, sink);
    stages::check(model, sink);
    shell::check(model, pragmas, sink);
    layers::check(model, options, sink);
}

/// The argument words of ADD/COPY/VOLUME/FROM/EXPOSE (list or exec form).
pub(crate) fn list_words(ins: &Instruction) -> &[Word] {
    match &ins.args {
        Arguments::List(w) | Arguments::Exec(w) | Arguments::Words(w) => w,
        _ => &[],
    }
}

/// The span of the keyword.
pub(crate) fn keyword_span(ins: &Instruction) -> Span {
    span(ins.keyword.span)
}

/// The span of the instruction's text (without trailing newline or heredoc bodies).
pub(crate) fn instruction_span(ins: &Instruction) -> Span {
    span(ins.span)
}

/// Edit distance with adjacent transpositions (optimal string alignment), for "did you
/// mean" suggestions (small inputs only).
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

/// The closest candidate within a small distance, for suggestions.
pub(crate) fn suggest<'c>(
    name: &str,
    candidates: impl IntoIterator<Item = &'c str>,
) -> Option<&'c str> {
    let limit = (name.chars().count() / 3).clamp(1, 3);
    candidates
        .into_iter()
        .filter(|c| *c != name)
        .map(|c| {
            (
                edit_distance(&name.to_ascii_lowercase(), &c.to_ascii_lowercase()),
                c,
            )
        })
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Where a line break plus indentation goes when a fix adds to a RUN: `" \\\n    "` when the
/// RUN already spans several lines, `" "` otherwise.
pub(crate) fn continuation(model: &Model<'_>, ins: &Instruction) -> String {
    if ins.start_line() != ins.span.end.line {
        format!(" {}\n    ", model.df.escape())
    } else {
        " ".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_are_close_names() {
        assert_eq!(suggest("biuld", ["build", "test"]), Some("build"));
        assert_eq!(suggest("x", ["build"]), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
