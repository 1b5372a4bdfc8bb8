//! The stage graph of a multi-stage Dockerfile: its stages, what each one
//! depends on and why, what a target needs, and which stages can build at the
//! same time.
//!
//! The graph only knows stages, references and line numbers, so it can be
//! built by hand (see the tests) as well as from a Dockerfile
//! ([`crate::stage_graph`]). It follows BuildKit's `dockerfile2llb`:
//!
//! - a target needs the stages reachable from it through `FROM <stage>`,
//!   `COPY --from`, `RUN --mount=from=` and the ONBUILD triggers of a stage
//!   base (`resolveReachableStages` and `initOnBuildTriggers`);
//! - a cycle anywhere is an error (`validateCircularDependency`), even among
//!   stages the target does not need;
//! - `--target` is looked up by name, case-insensitively, and a repeated name
//!   means the last stage with it; without a target the last stage is built.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Serialize;

use crate::GraphError;

/// One build stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stage {
    /// Position among the stages (what `COPY --from=0` means).
    pub index: usize,
    /// The name after `AS`, lower-cased as BuildKit stores it.
    pub name: Option<String>,
    /// What the stage is built on, after ARG expansion.
    pub base: Base,
    /// The base as written in the Dockerfile (`${BASE}:1.2`).
    pub base_written: String,
    /// `--platform`, expanded, if given.
    pub platform: Option<String>,
    /// 1-based line of its `FROM`.
    pub line: u32,
    /// Index of its `FROM` in the Dockerfile's instruction list, and the end
    /// (exclusive) of its instructions. Both 0 for hand-made graphs.
    #[serde(skip)]
    pub instructions: std::ops::Range<usize>,
}

impl Stage {
    /// A stage with no instructions, for graphs built by hand.
    pub fn new(index: usize, name: Option<&str>, base: Base, line: u32) -> Self {
        let base_written = match &base {
            Base::Stage { name, .. } => name.clone(),
            Base::Image { reference } => reference.clone(),
            Base::Scratch => "scratch".to_string(),
        };
        Stage {
            index,
            name: name.map(str::to_ascii_lowercase),
            base,
            base_written,
            platform: None,
            line,
            instructions: 0..0,
        }
    }

    /// How BuildKit shows the stage: its name, or `stage-N` when it has none.
    pub fn label(&self) -> String {
        match &self.name {
            Some(n) => n.clone(),
            None => format!("stage-{}", self.index),
        }
    }
}

/// What a stage is built on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Base {
    /// An earlier stage (`FROM builder`).
    Stage {
        /// Its index.
        index: usize,
        /// The name it was referred to by (after expansion).
        name: String,
    },
    /// An image (`FROM alpine:3.20`), as expanded.
    Image {
        /// The reference.
        reference: String,
    },
    /// `FROM scratch`: nothing.
    Scratch,
}

/// What a dependency points at.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Source {
    /// A stage of the same Dockerfile.
    Stage {
        /// Its index.
        index: usize,
    },
    /// An image from a registry (BuildKit treats every name that is not a
    /// stage as one).
    Image {
        /// The reference as written.
        reference: String,
    },
}

/// The instruction that creates a dependency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    /// `FROM <stage or image>`.
    From,
    /// `COPY --from=<stage name, stage index or image>`.
    CopyFrom,
    /// `RUN --mount=...,from=<stage name or image>` (by name only).
    RunMount,
}

/// One edge of the graph: `stage` needs `on` because of an instruction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dependency {
    /// The stage that depends.
    pub stage: usize,
    /// What it depends on.
    pub on: Source,
    /// Which instruction makes it depend.
    pub via: Via,
    /// The reference as written (`builder`, `0`, `${BASE}`).
    pub written: String,
    /// Whether a numeric `COPY --from=N` resolved it by position.
    pub by_index: bool,
    /// Set when the instruction is an ONBUILD trigger of the stage's base
    /// stage (the index of that base): it runs in `stage`, not where it is
    /// written.
    pub onbuild_of: Option<usize>,
    /// 1-based line of the instruction.
    pub line: u32,
}

impl Dependency {
    /// The stage depended on, if it is one.
    pub fn on_stage(&self) -> Option<usize> {
        match self.on {
            Source::Stage { index } => Some(index),
            Source::Image { .. } => None,
        }
    }

    /// The instruction as a short phrase: `FROM base`, `COPY --from=0`,
    /// `RUN --mount=from=cache`, `ONBUILD COPY --from=x`.
    pub fn reason(&self) -> String {
        let what = match self.via {
            Via::From => format!("FROM {}", self.written),
            Via::CopyFrom => format!("COPY --from={}", self.written),
            Via::RunMount => format!("RUN --mount=from={}", self.written),
        };
        match self.onbuild_of {
            Some(_) => format!("ONBUILD {what}"),
            None => what,
        }
    }
}

/// Something that is probably a mistake but that BuildKit accepts (it
/// treats the name as an image to pull).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// The stage where it is written.
    pub stage: usize,
    /// 1-based line.
    pub line: u32,
    /// What it is.
    pub kind: WarningKind,
}

/// Kinds of [`Warning`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum WarningKind {
    /// `FROM name` where `name` is a stage defined later: FROM only sees
    /// earlier stages, so BuildKit pulls an image called `name`.
    ForwardFrom {
        /// The name.
        name: String,
        /// The later stage with that name.
        defined_at: usize,
    },
    /// A reference that is no stage name but looks like a misspelt one.
    SimilarStageName {
        /// The reference as written.
        reference: String,
        /// The stage name it resembles.
        stage_name: String,
    },
    /// Two stages with one name: FROM sees the latest before it, `COPY
    /// --from` and `--target` the last in the file.
    DuplicateStageName {
        /// The name.
        name: String,
        /// The earlier stage with it.
        first: usize,
    },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: ", self.line)?;
        match &self.kind {
            WarningKind::ForwardFrom { name, defined_at } => write!(
                f,
                "FROM {name}: stage {name:?} is defined later (stage {defined_at}); FROM only sees \
                 earlier stages, so BuildKit will pull an image called {name:?}"
            ),
            WarningKind::SimilarStageName {
                reference,
                stage_name,
            } => write!(
                f,
                "{reference:?} is not a stage, so BuildKit will pull it as an image; did you mean \
                 stage {stage_name:?}?"
            ),
            WarningKind::DuplicateStageName { name, first } => write!(
                f,
                "stage name {name:?} is also used by stage {first}; COPY --from and --target \
                 mean the last one"
            ),
        }
    }
}

/// An image the build pulls, with every place that uses it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExternalImage {
    /// The reference as expanded.
    pub reference: String,
    /// Where it is used: (stage, instruction kind, line).
    pub used_by: Vec<ImageUse>,
}

/// One use of an [`ExternalImage`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImageUse {
    /// The stage that uses it.
    pub stage: usize,
    /// How.
    pub via: Via,
    /// 1-based line.
    pub line: u32,
}

/// The stages of a Dockerfile and their dependencies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StageGraph {
    stages: Vec<Stage>,
    /// Grouped by stage (in the order given within a stage).
    dependencies: Vec<Dependency>,
    /// Where each stage's dependencies start in `dependencies` (one more entry
    /// than stages).
    #[serde(skip)]
    starts: Vec<usize>,
    warnings: Vec<Warning>,
    /// Errors that only matter when the stage is needed: BuildKit evaluates
    /// ONBUILD triggers only for stages it builds.
    #[serde(skip)]
    deferred: Vec<(usize, GraphError)>,
}

impl StageGraph {
    /// A graph of `stages` (in order, `stages[i].index == i`) and
    /// `dependencies`. Fails on a cycle, a stage index out of range or an
    /// empty list of stages.
    pub fn new(stages: Vec<Stage>, dependencies: Vec<Dependency>) -> Result<Self, GraphError> {
        Self::with_details(stages, dependencies, Vec::new(), Vec::new())
    }

    pub(crate) fn with_details(
        stages: Vec<Stage>,
        mut dependencies: Vec<Dependency>,
        warnings: Vec<Warning>,
        deferred: Vec<(usize, GraphError)>,
    ) -> Result<Self, GraphError> {
        if stages.is_empty() {
            return Err(GraphError::NoStages);
        }
        for (i, s) in stages.iter().enumerate() {
            assert_eq!(s.index, i, "stages must be given in order");
        }
        for d in &dependencies {
            for i in [Some(d.stage), d.on_stage()].into_iter().flatten() {
                if i >= stages.len() {
                    return Err(GraphError::StageIndexOutOfRange {
                        line: d.line,
                        written: d.written.clone(),
                        index: i as i64,
                        count: stages.len(),
                    });
                }
            }
        }
        dependencies.sort_by_key(|d| d.stage);
        let mut starts = Vec::with_capacity(stages.len() + 1);
        let mut at = 0;
        for s in 0..=stages.len() {
            while at < dependencies.len() && dependencies[at].stage < s {
                at += 1;
            }
            starts.push(at);
        }
        let graph = StageGraph {
            stages,
            dependencies,
            starts,
            warnings,
            deferred,
        };
        graph.check_cycles()?;
        Ok(graph)
    }

    /// The stages, in file order.
    pub fn stages(&self) -> &[Stage] {
        &self.stages
    }

    /// Stage `index`.
    pub fn stage(&self, index: usize) -> &Stage {
        &self.stages[index]
    }

    /// Every dependency, by stage then line.
    pub fn dependencies(&self) -> &[Dependency] {
        &self.dependencies
    }

    /// The dependencies of stage `index`.
    pub fn dependencies_of(&self, index: usize) -> impl Iterator<Item = &Dependency> {
        self.dependencies[self.starts[index]..self.starts[index + 1]].iter()
    }

    /// Probable mistakes BuildKit accepts.
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// The stage a `--target` selects: by name, case-insensitively, the last
    /// stage with that name; with no target, the last stage.
    pub fn resolve_target(&self, target: Option<&str>) -> Result<usize, GraphError> {
        let Some(target) = target else {
            return Ok(self.stages.len() - 1);
        };
        if let Some(i) = self.stage_by_name(target) {
            return Ok(i);
        }
        let available: Vec<String> = self.stages.iter().filter_map(|s| s.name.clone()).collect();
        let suggestion = closest(target, available.iter().map(String::as_str)).map(str::to_string);
        Err(GraphError::UnknownTarget {
            target: target.to_string(),
            suggestion,
            available,
        })
    }

    /// The last stage named `name` (case-insensitive), as `COPY --from` and
    /// `--target` see it.
    pub fn stage_by_name(&self, name: &str) -> Option<usize> {
        let name = name.to_ascii_lowercase();
        self.stages
            .iter()
            .rev()
            .find(|s| s.name.as_deref() == Some(name.as_str()))
            .map(|s| s.index)
    }

    /// The stages `target` needs, itself included.
    pub fn needed(&self, target: usize) -> Result<BTreeSet<usize>, GraphError> {
        let mut seen = BTreeSet::new();
        let mut todo = vec![target];
        while let Some(s) = todo.pop() {
            if !seen.insert(s) {
                continue;
            }
            todo.extend(self.dependencies_of(s).filter_map(Dependency::on_stage));
        }
        if let Some((_, err)) = self.deferred.iter().find(|(s, _)| seen.contains(s)) {
            return Err(err.clone());
        }
        Ok(seen)
    }

    /// The stages in `set` grouped into levels: a stage's level is one more
    /// than the highest level of the stages it depends on, so the stages of one
    /// level can build in parallel once the levels before are done.
    pub fn levels(&self, set: &BTreeSet<usize>) -> Vec<Vec<usize>> {
        let mut level: BTreeMap<usize, usize> = BTreeMap::new();
        // The graph is acyclic (checked in `new`), so this terminates; the
        // order of `topological_order` makes one pass enough.
        for s in self.topological_order(set) {
            let l = self
                .dependencies_of(s)
                .filter_map(Dependency::on_stage)
                .filter(|d| set.contains(d))
                .map(|d| level[&d] + 1)
                .max()
                .unwrap_or(0);
            level.insert(s, l);
        }
        let mut out: Vec<Vec<usize>> = Vec::new();
        for (s, l) in level {
            if out.len() <= l {
                out.resize(l + 1, Vec::new());
            }
            out[l].push(s);
        }
        out
    }

    /// The stages in `set`, each after every stage it depends on; ties in file
    /// order.
    pub fn topological_order(&self, set: &BTreeSet<usize>) -> Vec<usize> {
        // Iterative post-order DFS: a chain of thousands of stages must not
        // exhaust the stack.
        let mut done = BTreeSet::new();
        let mut out = Vec::with_capacity(set.len());
        for &root in set {
            if done.contains(&root) {
                continue;
            }
            let mut stack: Vec<(usize, Vec<usize>)> = vec![(root, self.deps_in(root, set))];
            done.insert(root);
            while let Some((s, pending)) = stack.last_mut() {
                match pending.pop() {
                    Some(d) if done.insert(d) => {
                        let deps = self.deps_in(d, set);
                        stack.push((d, deps));
                    }
                    Some(_) => {}
                    None => {
                        out.push(*s);
                        stack.pop();
                    }
                }
            }
        }
        out
    }

    /// The stages in `set` that `s` depends on, highest index first (so that
    /// popping visits them in file order).
    fn deps_in(&self, s: usize, set: &BTreeSet<usize>) -> Vec<usize> {
        let deps: BTreeSet<usize> = self
            .dependencies_of(s)
            .filter_map(Dependency::on_stage)
            .filter(|d| set.contains(d))
            .collect();
        deps.into_iter().rev().collect()
    }

    /// Images pulled by the stages in `set` (FROM, `COPY --from`, `RUN
    /// --mount=from=`), in order of first use. `scratch` is not an image.
    pub fn external_images(&self, set: &BTreeSet<usize>) -> Vec<ExternalImage> {
        let mut out: Vec<ExternalImage> = Vec::new();
        for d in self.dependencies.iter().filter(|d| set.contains(&d.stage)) {
            if let Source::Image { reference } = &d.on {
                let usage = ImageUse {
                    stage: d.stage,
                    via: d.via,
                    line: d.line,
                };
                match out.iter_mut().find(|e| &e.reference == reference) {
                    Some(e) => e.used_by.push(usage),
                    None => out.push(ExternalImage {
                        reference: reference.clone(),
                        used_by: vec![usage],
                    }),
                }
            }
        }
        out
    }

    fn check_cycles(&self) -> Result<(), GraphError> {
        // Iterative three-colour DFS; the path is kept to name the cycle.
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            New,
            OnPath,
            Done,
        }
        let n = self.stages.len();
        let mut mark = vec![Mark::New; n];
        let edges: Vec<Vec<&Dependency>> = (0..n)
            .map(|s| {
                self.dependencies_of(s)
                    .filter(|d| d.on_stage().is_some())
                    .collect()
            })
            .collect();
        for root in 0..n {
            if mark[root] != Mark::New {
                continue;
            }
            // (stage, next edge to look at, edge that led here)
            let mut path: Vec<(usize, usize, Option<&Dependency>)> = vec![(root, 0, None)];
            mark[root] = Mark::OnPath;
            while let Some(top) = path.last_mut() {
                let (s, next) = (top.0, top.1);
                if let Some(&edge) = edges[s].get(next) {
                    top.1 += 1;
                    let to = edge.on_stage().unwrap_or(s);
                    match mark[to] {
                        Mark::New => {
                            mark[to] = Mark::OnPath;
                            path.push((to, 0, Some(edge)));
                        }
                        Mark::OnPath => {
                            let start = path.iter().position(|p| p.0 == to).unwrap_or(0);
                            let mut cycle: Vec<&Dependency> =
                                path[start + 1..].iter().filter_map(|p| p.2).collect();
                            cycle.push(edge);
                            return Err(self.cycle_error(&cycle));
                        }
                        Mark::Done => {}
                    }
                } else {
                    mark[s] = Mark::Done;
                    path.pop();
                }
            }
        }
        Ok(())
    }

    fn cycle_error(&self, edges: &[&Dependency]) -> GraphError {
        let mut stages: Vec<String> = edges.iter().map(|d| self.stages[d.stage].label()).collect();
        if let Some(first) = stages.first().cloned() {
            stages.push(first);
        }
        GraphError::Cycle {
            stages,
            steps: edges
                .iter()
                .map(|d| format!("{} (line {})", d.reason(), d.line))
                .collect(),
        }
    }
}

/// The candidate closest to `word` by edit distance, if it is close enough to
/// be a likely typo (at most a third of the word, and at least one edit).
pub(crate) fn closest<'a>(
    word: &str,
    candidates: impl Iterator<Item = &'a str>,
) -> Option<&'a str> {
    let word = word.to_ascii_lowercase();
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .map(|c| (edit_distance(&word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == cb {
                prev
            } else {
                1 + prev.min(cur).min(row[j])
            };
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(r: &str) -> Base {
        Base::Image {
            reference: r.to_string(),
        }
    }

    fn on_stage(i: usize, name: &str) -> Base {
        Base::Stage {
            index: i,
            name: name.to_string(),
        }
    }

    fn dep(stage: usize, on: usize, via: Via, written: &str, line: u32) -> Dependency {
        Dependency {
            stage,
            on: Source::Stage { index: on },
            via,
            written: written.to_string(),
            by_index: written.parse::<usize>().is_ok(),
            onbuild_of: None,
            line,
        }
    }

    fn img_dep(stage: usize, r: &str, via: Via, line: u32) -> Dependency {
        Dependency {
            stage,
            on: Source::Image {
                reference: r.to_string(),
            },
            via,
            written: r.to_string(),
            by_index: false,
            onbuild_of: None,
            line,
        }
    }

    /// The Next.js layout: base, deps, development, builder, production.
    fn nextjs() -> StageGraph {
        StageGraph::new(
            vec![
                Stage::new(0, Some("base"), image("node:20-alpine"), 1),
                Stage::new(1, Some("deps"), on_stage(0, "base"), 4),
                Stage::new(2, Some("development"), on_stage(0, "base"), 8),
                Stage::new(3, Some("builder"), on_stage(0, "base"), 13),
                Stage::new(4, Some("production"), on_stage(0, "base"), 18),
            ],
            vec![
                img_dep(0, "node:20-alpine", Via::From, 1),
                dep(1, 0, Via::From, "base", 4),
                dep(2, 0, Via::From, "base", 8),
                dep(2, 1, Via::CopyFrom, "deps", 10),
                dep(3, 0, Via::From, "base", 13),
                dep(3, 1, Via::CopyFrom, "deps", 15),
                dep(4, 0, Via::From, "base", 18),
                dep(4, 3, Via::CopyFrom, "builder", 20),
            ],
        )
        .unwrap()
    }

    #[test]
    fn nextjs_production_needs_all_but_development() {
        let g = nextjs();
        let t = g.resolve_target(Some("production")).unwrap();
        assert_eq!(t, 4);
        let needed = g.needed(t).unwrap();
        assert_eq!(needed, BTreeSet::from([0, 1, 3, 4]));
        assert_eq!(g.levels(&needed), vec![vec![0], vec![1], vec![3], vec![4]]);
        let dev = g
            .needed(g.resolve_target(Some("development")).unwrap())
            .unwrap();
        assert_eq!(dev, BTreeSet::from([0, 1, 2]));
    }

    #[test]
    fn default_target_is_the_last_stage_and_names_are_case_insensitive() {
        let g = nextjs();
        assert_eq!(g.resolve_target(None).unwrap(), 4);
        assert_eq!(g.resolve_target(Some("BUILDER")).unwrap(), 3);
    }

    #[test]
    fn unknown_target_suggests_the_closest_name() {
        let g = nextjs();
        let err = g.resolve_target(Some("prodution")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "target stage \"prodution\" could not be found; did you mean \"production\"? \
             (stages: base, deps, development, builder, production)"
        );
        let err = g.resolve_target(Some("0")).unwrap_err();
        assert!(matches!(
            err,
            GraphError::UnknownTarget {
                suggestion: None,
                ..
            }
        ));
    }

    #[test]
    fn numeric_and_named_references_to_the_same_stage() {
        // 0 named "build", 1 unnamed, 2 copies from 0 by index and from 1 by index.
        let g = StageGraph::new(
            vec![
                Stage::new(0, Some("build"), image("golang"), 1),
                Stage::new(1, None, image("alpine"), 3),
                Stage::new(2, Some("app"), Base::Scratch, 5),
            ],
            vec![
                dep(2, 0, Via::CopyFrom, "0", 6),
                dep(2, 1, Via::CopyFrom, "1", 7),
                dep(2, 0, Via::CopyFrom, "build", 8),
            ],
        )
        .unwrap();
        let needed = g.needed(2).unwrap();
        assert_eq!(needed, BTreeSet::from([0, 1, 2]));
        assert_eq!(g.levels(&needed), vec![vec![0, 1], vec![2]]);
        assert_eq!(g.stage(1).label(), "stage-1");
        assert_eq!(g.dependencies_of(2).filter(|d| d.by_index).count(), 2);
    }

    #[test]
    fn unreachable_stages_are_not_needed_and_parallel_levels_are_found() {
        // 0 <- 1, 0 <- 2, {1, 2} <- 4; 3 unreachable
        let g = StageGraph::new(
            vec![
                Stage::new(0, Some("base"), image("debian"), 1),
                Stage::new(1, Some("a"), on_stage(0, "base"), 2),
                Stage::new(2, Some("b"), on_stage(0, "base"), 3),
                Stage::new(3, Some("lint"), image("hadolint"), 4),
                Stage::new(4, Some("out"), Base::Scratch, 5),
            ],
            vec![
                img_dep(0, "debian", Via::From, 1),
                dep(1, 0, Via::From, "base", 2),
                dep(2, 0, Via::From, "base", 3),
                img_dep(3, "hadolint", Via::From, 4),
                dep(4, 1, Via::CopyFrom, "a", 6),
                dep(4, 2, Via::RunMount, "b", 7),
                img_dep(4, "busybox", Via::CopyFrom, 8),
            ],
        )
        .unwrap();
        let needed = g.needed(4).unwrap();
        assert_eq!(needed, BTreeSet::from([0, 1, 2, 4]));
        assert_eq!(g.levels(&needed), vec![vec![0], vec![1, 2], vec![4]]);
        let images: Vec<_> = g
            .external_images(&needed)
            .into_iter()
            .map(|e| e.reference)
            .collect();
        assert_eq!(images, ["debian", "busybox"]);
        let all: BTreeSet<usize> = (0..5).collect();
        assert_eq!(g.external_images(&all).len(), 3);
    }

    #[test]
    fn forward_reference_orders_topologically() {
        // Stage 0 copies from the later stage 1 by name (BuildKit allows it).
        let g = StageGraph::new(
            vec![
                Stage::new(0, Some("app"), image("alpine"), 1),
                Stage::new(1, Some("tool"), image("golang"), 3),
            ],
            vec![dep(0, 1, Via::CopyFrom, "tool", 2)],
        )
        .unwrap();
        let needed = g.needed(0).unwrap();
        assert_eq!(g.topological_order(&needed), vec![1, 0]);
        assert_eq!(g.levels(&needed), vec![vec![1], vec![0]]);
    }

    #[test]
    fn cycles_are_errors_with_the_path() {
        let err = StageGraph::new(
            vec![
                Stage::new(0, Some("a"), image("alpine"), 1),
                Stage::new(1, Some("b"), image("alpine"), 3),
                Stage::new(2, Some("c"), image("alpine"), 5),
            ],
            vec![
                dep(0, 1, Via::CopyFrom, "b", 2),
                dep(1, 2, Via::CopyFrom, "c", 4),
                dep(2, 0, Via::RunMount, "a", 6),
            ],
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "circular dependency between stages: a -> b -> c -> a (COPY --from=b (line 2), \
             COPY --from=c (line 4), RUN --mount=from=a (line 6))"
        );
    }

    #[test]
    fn a_stage_copying_from_itself_is_a_cycle() {
        let err = StageGraph::new(
            vec![Stage::new(0, None, image("alpine"), 1)],
            vec![dep(0, 0, Via::CopyFrom, "0", 2)],
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "circular dependency between stages: stage-0 -> stage-0 (COPY --from=0 (line 2))"
        );
    }

    #[test]
    fn a_cycle_among_unneeded_stages_is_still_an_error() {
        // BuildKit validates every stage, not only the ones the target needs.
        let err = StageGraph::new(
            vec![
                Stage::new(0, Some("x"), image("alpine"), 1),
                Stage::new(1, Some("y"), image("alpine"), 2),
                Stage::new(2, Some("app"), image("alpine"), 3),
            ],
            vec![
                dep(0, 1, Via::CopyFrom, "y", 1),
                dep(1, 0, Via::CopyFrom, "x", 2),
            ],
        )
        .unwrap_err();
        assert!(matches!(err, GraphError::Cycle { .. }));
    }

    #[test]
    fn out_of_range_dependency_is_an_error() {
        let err = StageGraph::new(
            vec![Stage::new(0, None, image("alpine"), 1)],
            vec![dep(0, 3, Via::CopyFrom, "3", 2)],
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "line 2: COPY --from=3: invalid stage index 3 (the Dockerfile has 1 stage)"
        );
    }

    #[test]
    fn deferred_errors_only_fail_targets_that_need_the_stage() {
        let g = StageGraph::with_details(
            vec![
                Stage::new(0, Some("a"), image("alpine"), 1),
                Stage::new(1, Some("b"), on_stage(0, "a"), 3),
                Stage::new(2, Some("c"), image("alpine"), 5),
            ],
            vec![dep(1, 0, Via::From, "a", 3)],
            Vec::new(),
            vec![(
                1,
                GraphError::StageIndexOutOfRange {
                    line: 2,
                    written: "9".into(),
                    index: 9,
                    count: 3,
                },
            )],
        )
        .unwrap();
        assert!(g.needed(2).is_ok());
        assert!(g.needed(0).is_ok());
        assert!(g.needed(1).is_err());
    }

    #[test]
    fn duplicate_names_resolve_to_the_last_stage() {
        let g = StageGraph::new(
            vec![
                Stage::new(0, Some("x"), image("alpine"), 1),
                Stage::new(1, Some("x"), image("debian"), 2),
            ],
            Vec::new(),
        )
        .unwrap();
        assert_eq!(g.resolve_target(Some("x")).unwrap(), 1);
    }

    #[test]
    fn a_chain_of_many_stages_does_not_exhaust_the_stack() {
        let n = 10_000;
        let mut stages = vec![Stage::new(0, Some("s0"), image("alpine"), 1)];
        let mut deps = Vec::new();
        for i in 1..n {
            stages.push(Stage::new(i, None, on_stage(i - 1, "x"), i as u32 + 1));
            deps.push(dep(i, i - 1, Via::From, "x", i as u32 + 1));
        }
        let g = StageGraph::new(stages, deps).unwrap();
        let needed = g.needed(n - 1).unwrap();
        assert_eq!(needed.len(), n);
        assert_eq!(g.topological_order(&needed), (0..n).collect::<Vec<_>>());
        assert_eq!(g.levels(&needed).len(), n);
    }

    #[test]
    fn closest_names() {
        let names = ["builder", "base", "production"];
        assert_eq!(closest("buildr", names.iter().copied()), Some("builder"));
        assert_eq!(closest("bse", names.iter().copied()), Some("base"));
        assert_eq!(closest("xyz", names.iter().copied()), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
