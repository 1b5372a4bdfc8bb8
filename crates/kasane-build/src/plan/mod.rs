//! CI cache plans for multi-stage builds: commands that build, tag and cache
//! every stage a target needs, so that a fresh CI machine gets cache hits for
//! all of them (moby/moby#34715: pushing only the final image loses the cache
//! of every earlier stage).
//!
//! Five shapes ([`Mode`]):
//! - `legacy`: a bash script for the legacy builder: per stage, pull its
//!   cache image (a missing one is fine), build it with `--target` and
//!   `--cache-from` of itself and every stage before it, then push it.
//! - `inline`: the same with BuildKit and `BUILDKIT_INLINE_CACHE=1`; each
//!   build imports the cache images of the stages it needs.
//! - `registry`: one `docker buildx build` with a `mode=max` registry cache,
//!   which holds every intermediate stage in one cache ref.
//! - `bake`: a `docker-bake.hcl` with one target per stage, each with its own
//!   `mode=max` cache ref (parallel targets would overwrite a shared one), and
//!   a `default` group.
//! - `gha`: a GitHub Actions workflow building one stage per step with the
//!   `gha` cache backend, one cache scope per stage.
//!
//! Unnamed stages get the tag `stage-N`, BuildKit's own name for them (N is
//! the stage's index in the original Dockerfile). `--target` only takes
//! names, so the script modes build from a copy of the Dockerfile that names
//! them; the legacy builder also builds every stage before `--target`, so its
//! copy is pruned to the stages the target needs. The copy is embedded in the
//! script, which refuses to run once the original has changed.

mod bake;
mod gha;
mod image;
mod script;

use std::collections::{BTreeMap, BTreeSet};

use kasane_dockerfile::Dockerfile;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::GraphError;
use crate::graph::StageGraph;
use crate::prune::{PruneError, prune_with_names};

pub use image::{ImageError, ImageRepo};

/// The kind of plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Legacy builder: pull, build `--target` with `--cache-from`, push.
    Legacy,
    /// BuildKit with inline cache metadata in each stage image.
    Inline,
    /// buildx with a `mode=max` registry cache.
    Registry,
    /// A `docker-bake.hcl`.
    Bake,
    /// GitHub Actions steps.
    Gha,
}

/// Everything a plan is made from.
#[derive(Debug, Clone)]
pub struct PlanRequest<'a> {
    /// The stage graph.
    pub graph: &'a StageGraph,
    /// The stage to build in the end.
    pub target: usize,
    /// Where the cache images go: a repository, optionally with a tag that
    /// then prefixes the stage tags (`repo:v1` gives `repo:v1-builder`).
    pub image: ImageRepo,
    /// The Dockerfile path as the builds should name it (`-f`).
    pub dockerfile: String,
    /// The build context directory.
    pub context: String,
    /// `--build-arg` pairs, in order.
    pub build_args: Vec<(String, String)>,
    /// `--platform` values.
    pub platforms: Vec<String>,
    /// Push the stage images (and the final image).
    pub push: bool,
    /// Extra tags for the final image.
    pub tags: Vec<String>,
    /// The Dockerfile copy the script modes build from, when one is needed.
    pub prepared: Option<PreparedDockerfile>,
}

/// A copy of the Dockerfile adapted for the plan (pruned and/or with names
/// for unnamed stages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedDockerfile {
    /// Its text.
    pub text: String,
    /// SHA-256 (hex) of the original it was made from.
    pub original_sha256: String,
    /// Whether stages were cut out.
    pub pruned: bool,
    /// Whether unnamed stages were named.
    pub named: bool,
}

/// Why no plan could be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    /// The stage graph is broken.
    #[error(transparent)]
    Graph(#[from] GraphError),
    /// The Dockerfile copy could not be made.
    #[error(transparent)]
    Prune(#[from] PruneError),
    /// `--image` is not a repository.
    #[error(transparent)]
    Image(#[from] ImageError),
    /// More stages than a plan can sensibly build one by one (each build lists
    /// the cache images of everything it needs, so a plan grows with the
    /// square of the stage count).
    #[error("the target needs {0} stages; cache plans handle at most {MAX_PLANNED_STAGES}")]
    TooManyStages(usize),
    /// A stage that shares its name with a later stage cannot be built on its
    /// own: `--target` means the later one.
    #[error(
        "stage {index} is named {name:?} like stage {later}; --target {name} means stage \
         {later}, so stage {index} cannot be built and cached on its own; rename one of them"
    )]
    ShadowedStage {
        /// The earlier stage.
        index: usize,
        /// The shared name.
        name: String,
        /// The later stage.
        later: usize,
    },
}

/// The most stages a plan builds (real Dockerfiles have tens).
pub const MAX_PLANNED_STAGES: usize = 1000;

/// One stage the plan builds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedStage {
    /// Index in the original Dockerfile.
    pub index: usize,
    /// Its name, or `stage-N`.
    pub name: String,
    /// Whether the Dockerfile gives it no name.
    pub unnamed: bool,
    /// The image it is tagged as.
    pub tag: String,
    /// The stages it needs, itself included, in build order.
    pub needs: Vec<usize>,
}

/// The stages a plan for `target` builds, in build order (each after what it
/// needs), with their names and tags.
pub fn planned_stages(
    graph: &StageGraph,
    target: usize,
    image: &ImageRepo,
) -> Result<Vec<PlannedStage>, PlanError> {
    let needed = graph.needed(target)?;
    if needed.len() > MAX_PLANNED_STAGES {
        return Err(PlanError::TooManyStages(needed.len()));
    }
    let names = stage_names(graph, &needed)?;
    let mut out = Vec::new();
    for s in graph.topological_order(&needed) {
        let closure = graph.needed(s)?;
        out.push(PlannedStage {
            index: s,
            name: names[&s].clone(),
            unnamed: graph.stage(s).name.is_none(),
            tag: image.tag_for(&names[&s])?,
            needs: graph.topological_order(&closure),
        });
    }
    Ok(out)
}

/// A name for every stage in `set`: its own, or `stage-N` (made unique
/// against every stage name and every reference in the Dockerfile).
fn stage_names(
    graph: &StageGraph,
    set: &BTreeSet<usize>,
) -> Result<BTreeMap<usize, String>, PlanError> {
    let taken: BTreeSet<String> = graph
        .stages()
        .iter()
        .filter_map(|s| s.name.clone())
        .chain(
            graph
                .dependencies()
                .iter()
                .map(|d| d.written.to_ascii_lowercase()),
        )
        .collect();
    let mut out = BTreeMap::new();
    for &s in set {
        let stage = graph.stage(s);
        let name = match &stage.name {
            Some(n) => {
                let last = graph.stage_by_name(n).unwrap_or(s);
                if last != s {
                    return Err(PlanError::ShadowedStage {
                        index: s,
                        name: n.clone(),
                        later: last,
                    });
                }
                n.clone()
            }
            None => {
                let mut n = format!("stage-{s}");
                while taken.contains(&n) {
                    n.push_str("-unnamed");
                }
                n
            }
        };
        out.insert(s, name);
    }
    Ok(out)
}

/// The Dockerfile copy a script plan in `mode` must build from, or `None`
/// when the original will do: the legacy builder needs the stages the target
/// does not need cut out; both script modes need unnamed stages named.
pub fn prepare(
    df: &Dockerfile,
    graph: &StageGraph,
    target: usize,
    mode: Mode,
) -> Result<Option<PreparedDockerfile>, PlanError> {
    if !matches!(mode, Mode::Legacy | Mode::Inline) {
        return Ok(None);
    }
    let needed = graph.needed(target)?;
    let names: BTreeMap<usize, String> = stage_names(graph, &needed)?
        .into_iter()
        .filter(|(s, _)| graph.stage(*s).name.is_none())
        .collect();
    let keep: BTreeSet<usize> = match mode {
        Mode::Legacy => needed,
        _ => (0..graph.stages().len()).collect(),
    };
    let pruned = prune_with_names(df, graph, &keep, &names)?;
    if pruned.text == df.source() {
        return Ok(None);
    }
    Ok(Some(PreparedDockerfile {
        text: pruned.text,
        original_sha256: sha256_hex(df.source().as_bytes()),
        pruned: !pruned.removed.is_empty(),
        named: !pruned.named.is_empty(),
    }))
}

/// Makes the plan: a bash script, an HCL bake file or a GitHub Actions
/// workflow (YAML), as text.
pub fn render(request: &PlanRequest<'_>, mode: Mode) -> Result<String, PlanError> {
    let stages = planned_stages(request.graph, request.target, &request.image)?;
    Ok(match mode {
        Mode::Legacy => script::legacy(request, &stages),
        Mode::Inline => script::inline(request, &stages),
        Mode::Registry => script::registry(request, &stages)?,
        Mode::Bake => bake::render(request, &stages)?,
        Mode::Gha => gha::render(request, &stages),
    })
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The stages a build-per-stage plan builds on their own: every named stage
/// and the target. Unnamed stages cannot be targeted in bake or GitHub
/// Actions (no Dockerfile copy there); their layers are in the `mode=max`
/// caches of the stages that need them.
fn targetable<'s>(request: &PlanRequest<'_>, stages: &'s [PlannedStage]) -> Vec<&'s PlannedStage> {
    stages
        .iter()
        .filter(|s| !s.unnamed || s.index == request.target)
        .collect()
}

/// The header every plan starts with, as `#` comment lines.
fn header_comment(request: &PlanRequest<'_>, mode: Mode, stages: &[PlannedStage]) -> String {
    header(request, mode, stages)
        .iter()
        .map(|line| format!("# {line}\n").replace("# \n", "#\n"))
        .collect()
}

/// The comment naming the unnamed stages a bake file or workflow cannot
/// target (`what`: "bake targets", "targeted"), if there are any.
fn untargetable_note(request: &PlanRequest<'_>, stages: &[PlannedStage], what: &str) -> String {
    let unnamed: Vec<&str> = stages
        .iter()
        .filter(|s| s.unnamed && s.index != request.target)
        .map(|s| s.name.as_str())
        .collect();
    if unnamed.is_empty() {
        return String::new();
    }
    format!(
        "# Unnamed stages ({}) cannot be {what}; their layers are in the mode=max\n\
         # cache of every stage that needs them.\n",
        unnamed.join(", ")
    )
}

/// Header lines shared by every plan (without comment markers).
fn header(request: &PlanRequest<'_>, mode: Mode, stages: &[PlannedStage]) -> Vec<String> {
    let target = request.graph.stage(request.target).label();
    let mode_name = match mode {
        Mode::Legacy => "legacy",
        Mode::Inline => "inline",
        Mode::Registry => "registry",
        Mode::Bake => "bake",
        Mode::Gha => "gha",
    };
    let mut lines = vec![
        format!(
            "Made by `kasane cache-plan --mode {mode_name}` from {}, target {target}.",
            request.dockerfile
        ),
        "Stages the target needs, in build order:".to_string(),
    ];
    for s in stages {
        lines.push(format!(
            "  {:>2} {}{}",
            s.index,
            s.name,
            if s.unnamed { " (unnamed)" } else { "" }
        ));
    }
    lines
}

#[cfg(test)]
mod tests;
