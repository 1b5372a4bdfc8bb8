//! `kasane layers`: each layer's files grouped by directory, largest first (dlayer's view).

use std::io::Write;

use kasane_image::layers_view::list_layers;

use crate::exit::Outcome;
use crate::image_input::{ImageArgs, bytes};

/// Arguments of `kasane layers`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    image: ImageArgs,
    /// Show only this layer (0 = bottom).
    #[arg(long)]
    layer: Option<usize>,
    /// Groups to show per layer.
    #[arg(long, default_value_t = 20)]
    top: usize,
    /// Group files by this many leading path components.
    #[arg(long, default_value_t = 8)]
    depth: usize,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(args: Args) -> anyhow::Result<Outcome> {
    let image = args.image.read()?;
    if let Some(n) = args.layer {
        anyhow::ensure!(
            n < image.layers.len(),
            "--layer {n}: the image has {} layers (0..{})",
            image.layers.len(),
            image.layers.len().saturating_sub(1)
        );
    }
    let listings = list_layers(&image, args.depth, args.top, args.layer);
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &listings)?;
        writeln!(out)?;
        return Ok(Outcome::Success);
    }
    for (i, l) in listings.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        writeln!(out, "{}", "=".repeat(80))?;
        writeln!(
            out,
            "[{}] {}  {} files, {} deletions",
            l.index,
            bytes(l.size),
            l.files,
            l.deletions
        )?;
        writeln!(
            out,
            "$ {}",
            l.instruction.as_deref().unwrap_or("(no history)")
        )?;
        writeln!(out, "{}", "=".repeat(80))?;
        for g in &l.groups {
            let files = if g.files > 1 {
                format!("  ({} files)", g.files)
            } else {
                String::new()
            };
            writeln!(out, "{:>10}  {}{files}", bytes(g.size), g.path)?;
        }
        if l.more_groups > 0 {
            writeln!(out, "{:>10}  ... {} more (--top)", "", l.more_groups)?;
        }
    }
    Ok(Outcome::Success)
}
