//! The stage model: which instructions belong to which `FROM`, and what each stage is built on.
//!
//! [`Stage`] is what the text says (name, raw base, raw platform, instructions);
//! [`StageBase`] is what the base turns out to be once `FROM ${BASE}` is expanded, which
//! [`crate::scope::resolve`] works out (see [`crate::scope::ResolvedStage`]).

use serde::Serialize;

/// One build stage as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stage {
    /// Position among the stages (what `COPY --from=0` means).
    pub index: usize,
    /// The name after `AS`, lowercased as BuildKit stores it.
    pub name: Option<String>,
    /// Index of the `FROM` instruction in the Dockerfile's instruction list.
    pub from: usize,
    /// Indices of the instructions after `FROM`, up to the next `FROM`.
    pub instructions: Vec<usize>,
    /// The image reference as written (`${BASE}:1.2`), before expansion.
    pub base_raw: String,
    /// The `--platform` value as written, before expansion.
    pub platform_raw: Option<String>,
}

/// What a stage is built on, after expansion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum StageBase {
    /// An image reference (as expanded; not normalised).
    Image(String),
    /// An earlier stage, by index: the expanded base equals that stage's name. A later stage
    /// of the same name is not visible, and a repeated name means the latest one before.
    Stage(usize),
    /// `scratch`: an empty filesystem.
    Scratch,
}
