//! `kasane squash`: layers N.. of an image squashed into one, as an archive `docker load` reads.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use kasane_squash::{SquashOptions, squash};

use crate::commands::export::{summary, write_tar_file};
use crate::exit::Outcome;
use crate::image_input::{ImageArgs, bytes};

/// Arguments of `kasane squash`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    image: ImageArgs,
    /// The archive to write (`docker save` format, uncompressed).
    #[arg(short, long, value_name = "OUT.tar")]
    output: PathBuf,
    /// The first layer to squash (0 = the bottom one, the default: everything becomes one layer).
    #[arg(long, value_name = "N", default_value_t = 0)]
    from_layer: usize,
    /// Tag the loaded image gets (`app:squashed`); without it `docker load` loads it untagged.
    #[arg(long, short, value_name = "NAME:TAG")]
    tag: Option<String>,
}

pub(crate) fn run(args: Args) -> anyhow::Result<Outcome> {
    let (source, image) = args.image.read_with_source()?;
    let options = SquashOptions {
        from_layer: args.from_layer,
        tag: args.tag.as_deref().map(with_tag),
        created_by: format!("kasane squash --from-layer {}", args.from_layer),
    };
    let report = write_tar_file(&args.output, |file| {
        let mut scratch = scratch_file(&args.output)?;
        let mut out = std::io::BufWriter::new(file);
        let report = squash(source.as_ref(), &image, &options, &mut scratch, &mut out)?;
        out.flush()?;
        Ok(report)
    })?;
    if !args.image.quiet {
        let mut err = std::io::stderr().lock();
        let last = report.layers_before - 1;
        let range = if args.from_layer == last {
            format!("rewrote layer {last}")
        } else {
            format!("squashed layers {}..{last} into one", args.from_layer)
        };
        writeln!(
            err,
            "{range}: {} layers -> {}; the new layer's tar is {} (the layers it replaces: {})",
            report.layers_before,
            report.layers_after,
            bytes(report.squashed_tar_bytes),
            bytes(report.replaced_tar_bytes),
        )?;
        writeln!(err, "squashed layer: {}", summary(&report.contents))?;
        writeln!(err, "image ID {}", report.image_id)?;
        for note in &report.notes {
            writeln!(err, "note: {note}")?;
        }
        writeln!(
            err,
            "load it with: docker load -i {}",
            args.output.display()
        )?;
    }
    Ok(Outcome::Success)
}

/// `app` → `app:latest`, as `docker tag` reads it (`docker load` refuses a name without a tag).
fn with_tag(name: &str) -> String {
    let last = name.rsplit('/').next().unwrap_or(name);
    if last.contains(':') || last.contains('@') {
        name.to_owned()
    } else {
        format!("{name}:latest")
    }
}

/// An anonymous file next to the output for the squashed layer (it can be as large as the image,
/// so not in memory, and not on a small /tmp): created, then unlinked while kept open.
fn scratch_file(output: &std::path::Path) -> anyhow::Result<std::fs::File> {
    let dir = match output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    let path = dir.join(format!(".kasane-squash-{}.layer", std::process::id()));
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path)
        .with_context(|| format!("create {}", path.display()))?;
    std::fs::remove_file(&path).with_context(|| format!("remove {}", path.display()))?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_get_the_latest_tag() {
        assert_eq!(super::with_tag("app"), "app:latest");
        assert_eq!(super::with_tag("app:1"), "app:1");
        assert_eq!(
            super::with_tag("localhost:5000/app"),
            "localhost:5000/app:latest"
        );
        assert_eq!(
            super::with_tag("localhost:5000/app:2"),
            "localhost:5000/app:2"
        );
    }
}
