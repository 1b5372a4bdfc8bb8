//! The stage model: which instructions belong to which `FROM`, and what each stage is built on.
//!
//! [`Stage`] is what the text says (name, raw base, raw platform, instructions);
//! [`StageBase`] is what the base turns out to be once `FROM ${BASE}` is expanded, which
//! [`crate::scope::resolve`] works out (see [`crate::scope::ResolvedStage`]).

use serde::Serialize;

use crate::{Arguments, Dockerfile, Instruction, InstructionKind};

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

/// The stages of `dockerfile` as written (no expansion: the base of `FROM ${BASE}` is only known
/// after [`crate::scope::resolve`]).
pub fn stages(dockerfile: &Dockerfile) -> Vec<Stage> {
    let mut stages: Vec<Stage> = Vec::new();
    for (index, instruction) in dockerfile.instructions().iter().enumerate() {
        if instruction.kind == InstructionKind::From {
            let (base_raw, platform_raw, name) = from_parts(instruction);
            stages.push(Stage {
                index: stages.len(),
                name: name.map(|n| n.to_lowercase()),
                from: index,
                instructions: Vec::new(),
                base_raw,
                platform_raw,
            });
        } else if let Some(stage) = stages.last_mut() {
            stage.instructions.push(index);
        }
    }
    stages
}

/// A FROM line's image, `--platform` and `AS` name, as written. A FROM without arguments (which
/// BuildKit rejects) still starts a stage, with an empty image.
pub(crate) fn from_parts(from: &Instruction) -> (String, Option<String>, Option<String>) {
    let platform = from.flag("platform").and_then(|f| f.value.clone());
    let Arguments::List(words) = &from.args else {
        return (String::new(), platform, None);
    };
    let name = match words.as_slice() {
        [_, as_kw, name] if as_kw.value.eq_ignore_ascii_case("as") => Some(name.value.clone()),
        _ => None,
    };
    let image = words.first().map(|w| w.value.clone()).unwrap_or_default();
    (image, platform, name)
}
