//! `kasane export`: the filesystem a container of the image would start with, as a directory or a
//! tar, without running anything.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use kasane_export::{DirSink, Report, Selection, TarSink, TargetPolicy, plan, write_plan};

use crate::exit::Outcome;
use crate::image_input::{ImageArgs, bytes};

/// Arguments of `kasane export`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    image: ImageArgs,
    /// Where to write: a directory (created; must be empty), FILE.tar, or `-` for a tar on stdout.
    #[arg(short, long, value_name = "DIR|FILE.tar|-")]
    output: PathBuf,
    /// The filesystem as it is after this layer (0 = the bottom one; default: the last).
    #[arg(long, value_name = "N")]
    layer: Option<usize>,
    /// Write a tar or a directory whatever the output's name says.
    #[arg(long, value_enum)]
    format: Option<Format>,
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// A directory tree.
    Dir,
    /// A tar archive.
    Tar,
}

pub(crate) fn run(args: Args) -> anyhow::Result<Outcome> {
    let to_stdout = args.output.as_os_str() == "-";
    let format = args.format.unwrap_or(
        if to_stdout || args.output.extension().is_some_and(|e| e == "tar") {
            Format::Tar
        } else {
            Format::Dir
        },
    );
    let (source, image) = args.image.read_with_source()?;
    let selection = Selection {
        upto_layer: args.layer,
        subtree: None,
    };
    let plan = plan::merged(&image, &selection)?;
    let report = match format {
        Format::Tar if to_stdout => {
            let out = std::io::stdout().lock();
            let mut sink = TarSink::new(std::io::BufWriter::new(out));
            let report = write_plan(source.as_ref(), &image, &plan, &mut sink)?;
            sink.into_inner()?.flush()?;
            report
        }
        Format::Tar => write_tar_file(&args.output, |file| {
            let mut sink = TarSink::new(std::io::BufWriter::new(file));
            let report = write_plan(source.as_ref(), &image, &plan, &mut sink)?;
            sink.into_inner()?.flush()?;
            Ok(report)
        })?,
        Format::Dir => {
            let keep_owner = kasane_export::running_as_root();
            let mut sink = DirSink::create(&args.output, TargetPolicy::Empty, keep_owner)?;
            write_plan(source.as_ref(), &image, &plan, &mut sink)?
        }
    };
    if !args.image.quiet {
        let layer = args.layer.unwrap_or(image.layers.len().saturating_sub(1));
        let target = if to_stdout {
            "stdout".to_owned()
        } else {
            args.output.display().to_string()
        };
        let mut err = std::io::stderr().lock();
        writeln!(
            err,
            "exported the filesystem after layer {layer} to {target}: {}",
            summary(&report)
        )?;
        for note in notes(&report, format == Format::Dir) {
            writeln!(err, "note: {note}")?;
        }
    }
    Ok(Outcome::Success)
}

/// Writes a tar next to `path` under a temporary name and renames it into place once complete,
/// so a failed export never leaves a truncated archive under the name the user gave.
pub(crate) fn write_tar_file<T>(
    path: &Path,
    write: impl FnOnce(&std::fs::File) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .with_context(|| format!("{}: not a file name", path.display()))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".kasane-{}.tmp", std::process::id()));
    let tmp = dir.join(tmp_name);
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .with_context(|| format!("create {}", tmp.display()))?;
    let result = write(&file).and_then(|v| {
        file.sync_all()?;
        std::fs::rename(&tmp, path).with_context(|| format!("rename to {}", path.display()))?;
        Ok(v)
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// `287 entries: 3 directories, 2 files (1.9 MB), 281 symlinks, 1 hard link`.
pub(crate) fn summary(r: &Report) -> String {
    let mut parts = Vec::new();
    let mut part = |n: u64, one: &str, many: &str| {
        if n > 0 {
            parts.push(format!("{n} {}", if n == 1 { one } else { many }));
        }
    };
    part(r.directories, "directory", "directories");
    part(r.files, "file", "files");
    part(r.symlinks, "symlink", "symlinks");
    part(r.hardlinks, "hard link", "hard links");
    part(r.devices, "device", "devices");
    part(r.fifos, "FIFO", "FIFOs");
    part(r.whiteouts, "whiteout", "whiteouts");
    format!(
        "{} entries ({}), {} of file contents",
        r.entries(),
        parts.join(", "),
        bytes(r.bytes)
    )
}

fn notes(r: &Report, to_dir: bool) -> Vec<String> {
    let mut notes = Vec::new();
    if to_dir && !r.ownership_kept {
        notes.push("owners were not kept: only root can set them (tar output keeps them)".into());
    }
    if r.skipped_devices > 0 {
        notes.push(format!(
            "{} device nodes were not created: only root can (tar output keeps them)",
            r.skipped_devices
        ));
    }
    if r.xattrs_not_applied > 0 {
        notes.push(format!(
            "{} extended attributes could not be set on this filesystem",
            r.xattrs_not_applied
        ));
    }
    if r.unsupported > 0 {
        notes.push(format!(
            "{} entries of unknown tar types were left out",
            r.unsupported
        ));
    }
    notes
}
