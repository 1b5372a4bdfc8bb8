//! `kasane stages`: the stage graph of a Dockerfile: every stage, what it
//! depends on and why, what a target needs, parallel levels, external images.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io::Write;

use kasane_build::{Base, Dependency, Source, StageGraph, Via};
use serde_json::json;

use crate::build_input::{BuildInput, Loaded};
use crate::exit::Outcome;

/// Arguments of `kasane stages`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    input: BuildInput,
    /// The stage to build (default: the last one, as docker build does).
    #[arg(long, value_name = "STAGE")]
    target: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// For people.
    Text,
    /// For programs (schema `kasane.stages/v1`).
    Json,
    /// Graphviz (`dot -Tsvg`).
    Dot,
    /// A Mermaid flowchart (renders in GitHub Markdown).
    Mermaid,
}

/// What every format shows.
struct View<'a> {
    loaded: &'a Loaded,
    graph: &'a StageGraph,
    target: usize,
    needed: BTreeSet<usize>,
}

pub(crate) fn run(args: Args) -> anyhow::Result<Outcome> {
    let loaded = args.input.load(args.target.as_deref())?;
    let graph = &loaded.graph;
    let target = graph.resolve_target(args.target.as_deref())?;
    let needed = graph.needed(target)?;
    let view = View {
        loaded: &loaded,
        graph,
        target,
        needed,
    };
    let text = match args.format {
        Format::Text => text(&view),
        Format::Json => {
            let mut s = serde_json::to_string_pretty(&json_doc(&view))?;
            s.push('\n');
            s
        }
        Format::Dot => dot(&view),
        Format::Mermaid => mermaid(&view),
    };
    std::io::stdout().lock().write_all(text.as_bytes())?;
    if args.format != Format::Text && args.format != Format::Json {
        let mut err = std::io::stderr().lock();
        for w in graph.warnings() {
            writeln!(err, "warning: {w}")?;
        }
    }
    Ok(Outcome::Success)
}

fn label(graph: &StageGraph, i: usize) -> String {
    graph.stage(i).label()
}

fn source_text(graph: &StageGraph, s: &Source) -> String {
    match s {
        Source::Stage { index } => label(graph, *index),
        Source::Image { reference } => format!("image {reference}"),
    }
}

fn base_text(graph: &StageGraph, i: usize) -> String {
    let stage = graph.stage(i);
    let what = match &stage.base {
        Base::Stage { index, .. } => format!("stage {}", label(graph, *index)),
        Base::Image { reference } => format!("image {reference}"),
        Base::Scratch => "scratch".to_string(),
    };
    let expanded = match &stage.base {
        Base::Stage { name, .. } => name.as_str(),
        Base::Image { reference } => reference.as_str(),
        Base::Scratch => "scratch",
    };
    let mut out = format!("FROM {what}");
    if stage.base_written != expanded {
        let _ = write!(out, " (written {})", stage.base_written);
    }
    if let Some(p) = &stage.platform {
        let _ = write!(out, ", platform {p}");
    }
    out
}

fn text(v: &View<'_>) -> String {
    let g = v.graph;
    let mut out = String::new();
    let _ = writeln!(out, "Dockerfile: {}", v.loaded.path);
    let _ = writeln!(out, "Target: {} (stage {})", label(g, v.target), v.target);
    let _ = writeln!(out, "\nStages:");
    let width = g
        .stages()
        .iter()
        .map(|s| s.label().len())
        .max()
        .unwrap_or(0);
    for stage in g.stages() {
        let i = stage.index;
        let mark = if i == v.target {
            "  [target]"
        } else if v.needed.contains(&i) {
            ""
        } else {
            "  [not needed]"
        };
        let _ = writeln!(
            out,
            "  {i:>2}  {:width$}  {}{mark}",
            stage.label(),
            base_text(g, i)
        );
        for d in g.dependencies_of(i) {
            if d.via == Via::From && d.onbuild_of.is_none() {
                continue; // shown on the stage line
            }
            let _ = writeln!(
                out,
                "      {:width$}  needs {}: {}, line {}{}",
                "",
                source_text(g, &d.on),
                d.reason(),
                d.line,
                onbuild_note(g, d)
            );
        }
    }
    let needed: Vec<String> = v.needed.iter().map(|&i| label(g, i)).collect();
    let _ = writeln!(
        out,
        "\nNeeded by {} ({} of {}): {}",
        label(g, v.target),
        needed.len(),
        g.stages().len(),
        needed.join(", ")
    );
    let unneeded: Vec<String> = (0..g.stages().len())
        .filter(|i| !v.needed.contains(i))
        .map(|i| label(g, i))
        .collect();
    let _ = writeln!(
        out,
        "Not needed: {}",
        if unneeded.is_empty() {
            "none".to_string()
        } else {
            unneeded.join(", ")
        }
    );
    let _ = writeln!(
        out,
        "\nParallel levels (each level can build once the ones before are done):"
    );
    for (n, level) in g.levels(&v.needed).iter().enumerate() {
        let names: Vec<String> = level.iter().map(|&i| label(g, i)).collect();
        let _ = writeln!(out, "  {}: {}", n + 1, names.join(", "));
    }
    let images = g.external_images(&v.needed);
    let _ = writeln!(out, "\nExternal images the target pulls:");
    if images.is_empty() {
        let _ = writeln!(out, "  none");
    }
    for e in images {
        let uses: Vec<String> = e
            .used_by
            .iter()
            .map(|u| {
                format!(
                    "{} in {} (line {})",
                    via_keyword(u.via),
                    label(g, u.stage),
                    u.line
                )
            })
            .collect();
        let _ = writeln!(out, "  {}  {}", e.reference, uses.join(", "));
    }
    if !g.warnings().is_empty() {
        let _ = writeln!(out, "\nWarnings:");
        for w in g.warnings() {
            let _ = writeln!(out, "  {w}");
        }
    }
    out
}

fn onbuild_note(g: &StageGraph, d: &Dependency) -> String {
    match d.onbuild_of {
        Some(b) => format!(" (trigger of base stage {})", label(g, b)),
        None => String::new(),
    }
}

fn via_keyword(via: Via) -> &'static str {
    match via {
        Via::From => "FROM",
        Via::CopyFrom => "COPY --from",
        Via::RunMount => "RUN --mount",
    }
}

fn json_doc(v: &View<'_>) -> serde_json::Value {
    let g = v.graph;
    let stages: Vec<serde_json::Value> = g
        .stages()
        .iter()
        .map(|s| {
            let deps: Vec<serde_json::Value> = g
                .dependencies_of(s.index)
                .map(|d| {
                    let mut doc = serde_json::to_value(d).unwrap_or_default();
                    doc["reason"] = json!(d.reason());
                    doc
                })
                .collect();
            json!({
                "index": s.index,
                "name": s.name,
                "label": s.label(),
                "line": s.line,
                "base": s.base,
                "base_written": s.base_written,
                "platform": s.platform,
                "needed": v.needed.contains(&s.index),
                "target": s.index == v.target,
                "dependencies": deps,
            })
        })
        .collect();
    let warnings: Vec<serde_json::Value> = g
        .warnings()
        .iter()
        .map(|w| {
            let mut doc = serde_json::to_value(w).unwrap_or_default();
            doc["message"] = json!(w.to_string());
            doc
        })
        .collect();
    json!({
        "schema": "kasane.stages/v1",
        "dockerfile": v.loaded.path,
        "target": { "index": v.target, "name": g.stage(v.target).name, "label": label(g, v.target) },
        "stages": stages,
        "needed": v.needed,
        "not_needed": (0..g.stages().len()).filter(|i| !v.needed.contains(i)).collect::<Vec<_>>(),
        "levels": g.levels(&v.needed),
        "external_images": g.external_images(&v.needed),
        "warnings": warnings,
    })
}

/// A string for DOT (double-quoted) or Mermaid (`#quot;` for quotes).
fn dot_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

fn mermaid_string(s: &str) -> String {
    let escaped: String = s
        .chars()
        .map(|c| match c {
            '"' => "#quot;".to_string(),
            '<' => "#lt;".to_string(),
            '>' => "#gt;".to_string(),
            c => c.to_string(),
        })
        .collect();
    format!("\"{escaped}\"")
}

/// Every image node: (id, reference), in order of first use by any stage.
fn image_nodes(g: &StageGraph) -> Vec<(String, String)> {
    let all: BTreeSet<usize> = (0..g.stages().len()).collect();
    g.external_images(&all)
        .into_iter()
        .enumerate()
        .map(|(n, e)| (format!("i{n}"), e.reference))
        .collect()
}

fn node_id(images: &[(String, String)], s: &Source) -> String {
    match s {
        Source::Stage { index } => format!("s{index}"),
        Source::Image { reference } => images
            .iter()
            .find(|(_, r)| r == reference)
            .map(|(id, _)| id.clone())
            .unwrap_or_default(),
    }
}

fn edge_label(d: &Dependency) -> String {
    match (d.via, d.onbuild_of) {
        (Via::From, None) => "FROM".to_string(),
        _ => d.reason(),
    }
}

fn dot(v: &View<'_>) -> String {
    let g = v.graph;
    let images = image_nodes(g);
    let mut out = String::from("digraph stages {\n  rankdir=LR;\n  node [shape=box];\n");
    for s in g.stages() {
        let mut attrs = vec![format!(
            "label={}",
            dot_string(&format!("{}: {}", s.index, s.label()))
        )];
        if s.index == v.target {
            attrs.push("penwidth=3".to_string());
        } else if !v.needed.contains(&s.index) {
            attrs.push("style=dashed".to_string());
            attrs.push("color=gray".to_string());
        }
        let _ = writeln!(out, "  s{} [{}];", s.index, attrs.join(", "));
    }
    for (id, reference) in &images {
        let _ = writeln!(
            out,
            "  {id} [label={}, shape=ellipse];",
            dot_string(reference)
        );
    }
    // Edges point the way layers flow: from what is used to the stage using it.
    for d in g.dependencies() {
        let _ = writeln!(
            out,
            "  {} -> s{} [label={}];",
            node_id(&images, &d.on),
            d.stage,
            dot_string(&edge_label(d))
        );
    }
    out.push_str("}\n");
    out
}

fn mermaid(v: &View<'_>) -> String {
    let g = v.graph;
    let images = image_nodes(g);
    let mut out = String::from("flowchart LR\n");
    for s in g.stages() {
        let _ = writeln!(
            out,
            "  s{}[{}]",
            s.index,
            mermaid_string(&format!("{}: {}", s.index, s.label()))
        );
    }
    for (id, reference) in &images {
        let _ = writeln!(out, "  {id}([{}])", mermaid_string(reference));
    }
    for d in g.dependencies() {
        let _ = writeln!(
            out,
            "  {} -->|{}| s{}",
            node_id(&images, &d.on),
            mermaid_string(&edge_label(d)),
            d.stage
        );
    }
    out.push_str(
        "  classDef target stroke-width:3px\n  classDef unneeded stroke-dasharray:5 5,color:#888\n",
    );
    let _ = writeln!(out, "  class s{} target", v.target);
    let unneeded: Vec<String> = (0..g.stages().len())
        .filter(|i| !v.needed.contains(i))
        .map(|i| format!("s{i}"))
        .collect();
    if !unneeded.is_empty() {
        let _ = writeln!(out, "  class {} unneeded", unneeded.join(","));
    }
    out
}
