//! `kasane analyze`: where an image's bytes went, dive's efficiency score, and a CI gate.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use kasane_image::analysis::{Analysis, AnalysisOptions, WasteCause};
use kasane_image::ci::{self, CiReport, CiRules, Origin, RuleValues, Status};

use crate::exit::Outcome;
use crate::image_input::{ImageArgs, bytes};

/// Arguments of `kasane analyze`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    image: ImageArgs,
    /// Print JSON (schema: docs/analyze-json.md) instead of text; combines with --ci.
    #[arg(long)]
    json: bool,
    /// Length of every list (largest files, wasted files, duplicates, merges).
    #[arg(long, default_value_t = 20)]
    top: usize,
    /// Evaluate dive's CI rules and exit 1 when one fails.
    #[arg(long)]
    ci: bool,
    /// dive's rule file (default: `.dive-ci` in the current directory, when present).
    #[arg(long, value_name = "PATH")]
    ci_config: Option<PathBuf>,
    /// kasane's config file with an `[analyze.ci]` table (default: `kasane.toml`, when present).
    #[arg(long, value_name = "PATH")]
    config: Option<PathBuf>,
    /// Fail when efficiency is below this ratio (dive's default 0.9; `disabled` turns it off).
    #[arg(long, value_name = "RATIO")]
    lowest_efficiency: Option<String>,
    /// Fail when reclaimable bytes exceed this (e.g. 20MB; dive's default: disabled).
    #[arg(long, value_name = "BYTES")]
    highest_wasted_bytes: Option<String>,
    /// Fail when reclaimable / user bytes exceed this ratio (dive's default 0.1).
    #[arg(long, value_name = "RATIO")]
    highest_user_wasted_percent: Option<String>,
}

pub(crate) fn run(args: Args) -> anyhow::Result<Outcome> {
    // Read the rules first: a bad config should fail before a long image read.
    let rules = if args.ci {
        Some(load_rules(&args)?)
    } else {
        None
    };
    let image = args.image.read()?;
    let analysis = kasane_image::analyze(&image, AnalysisOptions { top: args.top });
    let report = rules.as_ref().map(|r| ci::evaluate(r, &analysis));
    let mut out = std::io::stdout().lock();
    if args.json {
        let doc = serde_json::json!({
            "schema": "kasane.analyze/v1",
            "image": analysis.image,
            "efficiency": analysis.efficiency,
            "waste": analysis.waste,
            "layers": analysis.layers,
            "largest_files": analysis.largest_files,
            "wasted_files": analysis.wasted_files,
            "duplicates": analysis.duplicates,
            "merge_savings": analysis.merge_savings,
            "dive": analysis.dive,
            "warnings": analysis.warnings,
            "ci": report,
        });
        serde_json::to_writer_pretty(&mut out, &doc)?;
        writeln!(out)?;
        if let Some(r) = &report {
            // The verdict also goes to stderr, one line per failed rule, so CI logs show it.
            let mut err = std::io::stderr().lock();
            for res in r.results.iter().filter(|r| r.status == Status::Fail) {
                writeln!(err, "FAIL {}", res.reason)?;
            }
        }
    } else {
        render_text(&mut out, &analysis)?;
        if let Some(r) = &report {
            render_ci(&mut out, r)?;
        }
    }
    Ok(match report {
        Some(r) if !r.passed => Outcome::Findings,
        _ => Outcome::Success,
    })
}

fn load_rules(args: &Args) -> anyhow::Result<CiRules> {
    let mut rules = CiRules::default();
    let read = |explicit: &Option<PathBuf>,
                default: &str|
     -> anyhow::Result<Option<(String, String)>> {
        let path = explicit.clone().unwrap_or_else(|| PathBuf::from(default));
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(Some((path.display().to_string(), text))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && explicit.is_none() => Ok(None),
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    };
    if let Some((name, text)) = read(&args.config, "kasane.toml")? {
        let values = ci::parse_kasane_toml(&text, &name)?;
        rules.apply(&values, &Origin::KasaneConfig(name))?;
    }
    if let Some((name, text)) = read(&args.ci_config, ".dive-ci")? {
        let values = ci::parse_dive_ci(&text, &name)?;
        if !values.unknown_keys.is_empty() {
            anyhow::bail!(
                "{name}: unknown rule(s) {} (known: lowestEfficiency, highestWastedBytes, highestUserWastedPercent)",
                values.unknown_keys.join(", ")
            );
        }
        rules.apply(&values, &Origin::DiveCi(name))?;
    }
    let flags = RuleValues {
        lowest_efficiency: args.lowest_efficiency.clone(),
        highest_wasted_bytes: args.highest_wasted_bytes.clone(),
        highest_user_wasted_percent: args.highest_user_wasted_percent.clone(),
        unknown_keys: Vec::new(),
    };
    rules.apply(&flags, &Origin::CommandLine)?;
    Ok(rules)
}

fn render_text(out: &mut impl Write, a: &Analysis) -> anyhow::Result<()> {
    let img = &a.image;
    writeln!(
        out,
        "Image: {} ({}, {})",
        img.name.as_deref().unwrap_or("(untagged)"),
        img.source,
        img.platform
    )?;
    writeln!(
        out,
        "Size: {} in {} layers ({} stored), final filesystem {} in {} entries",
        bytes(img.total_size),
        img.layers,
        bytes(img.stored_size),
        bytes(img.final_size),
        img.final_entries
    )?;
    writeln!(
        out,
        "Efficiency: {:.4} % (dive's score)",
        a.efficiency * 100.0
    )?;
    let w = &a.waste;
    writeln!(
        out,
        "Reclaimable: {} ({:.2} % of the bytes added above layer 0)",
        bytes(w.reclaimable_bytes),
        w.user_wasted_percent * 100.0
    )?;
    writeln!(
        out,
        "  (dive would report {} wasted, {:.2} % of user bytes: it counts the copy that stays and misses directory deletions)",
        bytes(a.dive.wasted_bytes),
        a.dive.user_wasted_percent * 100.0
    )?;
    for (label, t) in [
        ("overwritten by a later layer", w.overwritten),
        ("deleted by a later layer", w.deleted),
        ("copied again only to change metadata", w.metadata_only),
        ("duplicate content at another path", w.duplicate),
    ] {
        writeln!(
            out,
            "  {label:<38} {:>10}  {} files",
            bytes(t.bytes),
            t.files
        )?;
    }

    writeln!(out, "\nLayers:")?;
    writeln!(
        out,
        "  {:>3}  {:>10}  {:>10}  {:>10}  instruction",
        "#", "size", "stored", "wasted"
    )?;
    for l in &a.layers {
        writeln!(
            out,
            "  {:>3}  {:>10}  {:>10}  {:>10}  {}",
            l.index,
            bytes(l.size),
            bytes(l.stored_size),
            bytes(l.wasted_bytes),
            one_line(l.instruction.as_deref().unwrap_or("(no history)"), 100)
        )?;
    }

    if !a.largest_files.is_empty() {
        writeln!(out, "\nLargest files:")?;
        for f in &a.largest_files {
            writeln!(
                out,
                "  {:>10}  {}  (layer {})",
                bytes(f.size),
                f.path,
                f.layer
            )?;
        }
    }
    if !a.wasted_files.is_empty() {
        writeln!(out, "\nWasted copies:")?;
        for f in &a.wasted_files {
            let why = match f.cause {
                WasteCause::Overwritten => "overwritten",
                WasteCause::Deleted => "deleted",
                WasteCause::MetadataOnly => "metadata changed",
                WasteCause::Duplicate => "duplicate",
            };
            writeln!(
                out,
                "  {:>10}  {}  (layer {}, {why} in layer {})",
                bytes(f.size),
                f.path,
                f.layer,
                f.by_layer
            )?;
        }
    }
    if !a.duplicates.is_empty() {
        writeln!(out, "\nDuplicate content:")?;
        for g in &a.duplicates {
            writeln!(
                out,
                "  {:>10}  {} copies of {}:",
                bytes(g.reclaimable_bytes),
                g.files.len(),
                bytes(g.size)
            )?;
            for f in &g.files {
                writeln!(out, "              {}  (layer {})", f.path, f.layer)?;
            }
        }
    }
    if !a.merge_savings.is_empty() {
        writeln!(out, "\nMerging layers would save:")?;
        for m in &a.merge_savings {
            writeln!(
                out,
                "  {:>10}  layers {}..{}{}: {} files",
                bytes(m.bytes),
                m.lower,
                m.upper,
                if m.adjacent {
                    ""
                } else {
                    " (and those between)"
                },
                m.files
            )?;
        }
    }
    if !a.warnings.is_empty() {
        writeln!(out, "\nWarnings:")?;
        for w in &a.warnings {
            match w.layer {
                Some(l) => writeln!(out, "  layer {l}: {}", w.message)?,
                None => writeln!(out, "  {}", w.message)?,
            }
        }
    }
    Ok(())
}

fn render_ci(out: &mut impl Write, r: &CiReport) -> anyhow::Result<()> {
    writeln!(out, "\nCI rules:")?;
    for res in &r.results {
        let tag = match res.status {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::Skip => "SKIP",
        };
        writeln!(out, "  {tag}  {}", res.reason)?;
    }
    let count = |s| r.results.iter().filter(|x| x.status == s).count();
    writeln!(
        out,
        "Result: {} [pass:{} fail:{} skip:{}]",
        if r.passed { "PASS" } else { "FAIL" },
        count(Status::Pass),
        count(Status::Fail),
        count(Status::Skip)
    )?;
    Ok(())
}

/// A command on one line: newlines shown as `↵`, cut to `max` characters.
fn one_line(s: &str, max: usize) -> String {
    let flat: String = s.replace('\n', " ↵ ");
    if flat.chars().count() <= max {
        flat
    } else {
        let cut: String = flat.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}
