//! Dockerfile rewrites that keep meaning.
//!
//! - [`merge()`]: joins consecutive RUN, ENV, LABEL and COPY/ADD instructions into one where the
//!   build does exactly what it did before (minid's idea without its bugs), and says why it left
//!   every other neighbouring pair alone.
//! - [`fix()`]: applies the fixes of kasane's lint rules until none is left, recording each
//!   change with the rule and the reason.
//! - [`unified_diff`]: the change as a unified diff, for `--diff`.
//! - [`engine`]: builds the original and the rewritten file on the local Docker engine and
//!   measures both images (`--build`).
//!
//! Every rewrite is a set of text edits on the lossless syntax tree, so comments, directives
//! and the formatting of untouched instructions stay byte for byte, and every result is parsed
//! again before it is returned.

pub mod engine;
mod fix;
mod merge;
mod textdiff;

pub use fix::{FixChange, FixOptions, FixReport, fix};
pub use merge::{Merge, MergeOptions, MergeReport, Refusal, Refused, merge};
pub use textdiff::unified_diff;

/// Why a rewrite could not be produced.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RewriteError {
    /// The input does not parse as a Dockerfile.
    #[error("the Dockerfile does not parse")]
    Parse(#[from] kasane_dockerfile::ParseError),
    /// The edits could not be applied, or their result does not parse (a bug in kasane).
    #[error("internal error: the rewrite failed")]
    Edit(#[from] kasane_dockerfile::EditError),
    /// `--rule` named no known rule.
    #[error("unknown rule `{0}` (kasane lint --list-rules shows them)")]
    UnknownRule(String),
}
