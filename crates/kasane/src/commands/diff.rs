//! `kasane diff`: what changed between two images' filesystems; exit 1 when they differ, as
//! diff(1) does.

use std::io::Write;

use kasane_diff::{DiffOptions, ImageDiff, OneSided, serde_json_kind};
use kasane_image::FileKind;

use crate::exit::Outcome;
use crate::image_input::{ImageArgs, bytes};

/// Arguments of `kasane diff`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The first image (the "before"), in any form `kasane analyze` reads.
    image_a: String,
    /// The second image (the "after").
    image_b: String,
    /// Platform to pick from multi-platform images, `os/arch[/variant]`.
    #[arg(long)]
    platform: Option<String>,
    /// Print JSON (`kasane.diff/v1`) instead of text.
    #[arg(long)]
    json: bool,
    /// Also report modification times (off by default: every rebuild changes them).
    #[arg(long)]
    mtime: bool,
    /// Deepest directory level of the size-by-directory table.
    #[arg(long, default_value_t = 2, value_name = "N")]
    depth: usize,
    /// No progress on stderr.
    #[arg(long, short)]
    quiet: bool,
    /// Registry access (`docker://` and bare names).
    #[command(flatten)]
    registry: crate::image_input::RegistryArgs,
}

pub(crate) fn run(args: Args) -> anyhow::Result<Outcome> {
    let read = |image: &str| {
        ImageArgs {
            image: image.to_owned(),
            platform: args.platform.clone(),
            verify_diff_ids: false,
            quiet: args.quiet,
            registry: args.registry.clone(),
            save: None,
        }
        .read()
    };
    let a = read(&args.image_a)?;
    let b = read(&args.image_b)?;
    let options = DiffOptions {
        mtime: args.mtime,
        depth: args.depth,
    };
    let d = kasane_diff::diff(&a, &b, options);
    let mut out = std::io::stdout().lock();
    if args.json {
        let doc = JsonDoc {
            schema: "kasane.diff/v1",
            diff: &d,
        };
        // As an io::Error, so a closed pipe is recognised as one.
        serde_json::to_writer_pretty(&mut out, &doc).map_err(std::io::Error::from)?;
        writeln!(out)?;
    } else {
        render_text(&mut out, &d)?;
    }
    Ok(if d.identical {
        Outcome::Success
    } else {
        Outcome::Findings
    })
}

/// The JSON document: the schema name first, then the diff.
#[derive(serde::Serialize)]
struct JsonDoc<'a> {
    schema: &'static str,
    #[serde(flatten)]
    diff: &'a ImageDiff,
}

fn describe(e: &OneSided) -> String {
    let s = &e.state;
    match s.kind {
        FileKind::Regular => format!("file {}", bytes(s.size)),
        FileKind::Directory if s.implied => "directory (implied)".to_owned(),
        FileKind::Symlink | FileKind::Hardlink => format!(
            "{} -> {}",
            serde_json_kind(s.kind),
            s.link_target.as_deref().unwrap_or("")
        ),
        other => serde_json_kind(other).to_owned(),
    }
}

fn signed(delta: i64) -> String {
    let magnitude = bytes(delta.unsigned_abs());
    match delta {
        d if d > 0 => format!("+{magnitude}"),
        d if d < 0 => format!("-{magnitude}"),
        _ => magnitude,
    }
}

fn side(s: &kasane_diff::Side) -> String {
    let name = s
        .name
        .as_deref()
        .map(|n| format!(" ({n})"))
        .unwrap_or_default();
    format!(
        "{}{name}: {} layer{}, {} entries, {}",
        s.source,
        s.layers,
        if s.layers == 1 { "" } else { "s" },
        s.entries,
        bytes(s.bytes)
    )
}

fn render_text(out: &mut impl Write, d: &ImageDiff) -> std::io::Result<()> {
    writeln!(out, "--- {}", side(&d.a))?;
    writeln!(out, "+++ {}", side(&d.b))?;
    if d.identical {
        writeln!(out, "the filesystems are identical")?;
        return Ok(());
    }
    if !d.added.is_empty() {
        writeln!(out, "\nadded ({}):", d.added.len())?;
        for e in &d.added {
            writeln!(out, "  + {}  {}", e.path, describe(e))?;
        }
    }
    if !d.removed.is_empty() {
        writeln!(out, "\nremoved ({}):", d.removed.len())?;
        for e in &d.removed {
            writeln!(out, "  - {}  {}", e.path, describe(e))?;
        }
    }
    if !d.changed.is_empty() {
        writeln!(out, "\nchanged ({}):", d.changed.len())?;
        for c in &d.changed {
            let what: Vec<String> = c
                .changes
                .iter()
                .map(|f| match f.field {
                    "size" => format!(
                        "size {} -> {}",
                        bytes(f.a.parse().unwrap_or(0)),
                        bytes(f.b.parse().unwrap_or(0))
                    ),
                    "content" => format!("content {} -> {}", short(&f.a), short(&f.b)),
                    other => format!("{other} {} -> {}", empty(&f.a), empty(&f.b)),
                })
                .collect();
            writeln!(out, "  ~ {}  {}", c.path, what.join(", "))?;
        }
    }
    if !d.directories.is_empty() {
        writeln!(out, "\nsize change by directory:")?;
        for dir in &d.directories {
            let mut counts = Vec::new();
            if dir.added > 0 {
                counts.push(format!("+{}", dir.added));
            }
            if dir.removed > 0 {
                counts.push(format!("-{}", dir.removed));
            }
            if dir.changed > 0 {
                counts.push(format!("~{}", dir.changed));
            }
            writeln!(
                out,
                "  {:>10}  {}  ({})",
                signed(dir.delta),
                dir.path,
                counts.join(" ")
            )?;
        }
    }
    writeln!(
        out,
        "\n{} added, {} removed, {} changed; {} -> {} ({})",
        d.added.len(),
        d.removed.len(),
        d.changed.len(),
        bytes(d.a.bytes),
        bytes(d.b.bytes),
        signed(d.b.bytes as i64 - d.a.bytes as i64)
    )
}

/// `xxh3:0123456789abcdef…` → `xxh3:01234567`: enough to tell contents apart by eye.
fn short(hash: &str) -> String {
    if hash.is_empty() {
        return "none".to_owned();
    }
    hash.chars().take(13).collect()
}

fn empty(v: &str) -> &str {
    if v.is_empty() { "(none)" } else { v }
}
