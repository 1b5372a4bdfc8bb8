//! `kasane merge`: fewer layers by merging consecutive RUN, ENV, LABEL and COPY/ADD where the
//! build stays the same. Also the input and output handling `kasane fix` shares: reading the
//! Dockerfile, `-o`, `--in-place`, `--diff`, `--json` and `--build`.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use kasane_rewrite::engine::{Comparison, Engine};
use kasane_rewrite::{MergeOptions, MergeReport};

use crate::exit::Outcome;

/// Arguments of `kasane merge`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    io: RewriteIo,
    /// Keep the RUN after a COPY of dependency manifests (package.json, go.mod, ...) apart
    /// from the RUNs after it, and manifests apart from other files, so the dependency layer
    /// stays cached (`--keep-cache-boundaries=false` merges them too).
    #[arg(
        long,
        default_value_t = true,
        num_args = 0..=1,
        default_missing_value = "true",
        action = clap::ArgAction::Set,
        value_name = "BOOL"
    )]
    keep_cache_boundaries: bool,
}

/// Input and output of a rewrite, shared by `merge` and `fix`.
#[derive(Debug, clap::Args)]
pub(crate) struct RewriteIo {
    /// The Dockerfile (`-` reads standard input).
    #[arg(
        short = 'f',
        long = "file",
        default_value = "Dockerfile",
        value_name = "FILE"
    )]
    pub(crate) file: PathBuf,
    /// Write the rewritten Dockerfile to FILE instead of standard output.
    #[arg(short = 'o', long, value_name = "FILE", conflicts_with_all = ["in_place", "diff"])]
    pub(crate) output: Option<PathBuf>,
    /// Rewrite the Dockerfile itself.
    #[arg(long, conflicts_with = "diff")]
    pub(crate) in_place: bool,
    /// Print a unified diff instead of the file; exit 1 when there is a change.
    #[arg(long)]
    pub(crate) diff: bool,
    /// Print what changed and the new text as JSON on standard output.
    #[arg(long, conflicts_with_all = ["diff"])]
    pub(crate) json: bool,
    /// Build the original and the rewritten file on the local engine and report size and
    /// layer count before and after.
    #[arg(long)]
    pub(crate) build: bool,
    /// Build context (for --build, and for the lint rules `fix` runs) [default: the
    /// Dockerfile's directory].
    #[arg(long, value_name = "DIR")]
    pub(crate) context: Option<PathBuf>,
    /// Image name for --build: the images are tagged NAME:before and NAME:after.
    #[arg(
        long,
        default_value = "kasane-rewrite",
        value_name = "NAME",
        requires = "build"
    )]
    pub(crate) tag: String,
    /// Docker client for --build [default: $KASANE_DOCKER, or docker on PATH].
    #[arg(long, value_name = "PATH", requires = "build")]
    pub(crate) docker: Option<PathBuf>,
}

/// The Dockerfile as read.
pub(crate) struct Input {
    /// The path as the user gave it (`-` for standard input).
    pub(crate) name: String,
    pub(crate) text: String,
}

impl RewriteIo {
    /// Reads the Dockerfile.
    pub(crate) fn read(&self) -> anyhow::Result<Input> {
        let stdin = self.file.as_os_str() == "-";
        anyhow::ensure!(
            !(stdin && self.in_place),
            "--in-place needs a file, not standard input"
        );
        let mut bytes = Vec::new();
        if stdin {
            std::io::stdin().lock().read_to_end(&mut bytes)?;
        } else {
            bytes = std::fs::read(&self.file)
                .with_context(|| format!("reading {}", self.file.display()))?;
        }
        let text = String::from_utf8(bytes).map_err(|e| {
            anyhow::anyhow!(
                "{} is not UTF-8 (byte {})",
                self.file.display(),
                e.utf8_error().valid_up_to()
            )
        })?;
        Ok(Input {
            name: self.file.display().to_string(),
            text,
        })
    }

    pub(crate) fn context_dir(&self) -> PathBuf {
        match &self.context {
            Some(c) => c.clone(),
            None if self.file.as_os_str() == "-" => PathBuf::from("."),
            None => match self.file.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                _ => PathBuf::from("."),
            },
        }
    }

    /// Writes the result where the user asked, then the summary lines (to stderr, or into
    /// the JSON document), then builds when asked. `json` is the report to embed.
    pub(crate) fn finish(
        &self,
        input: &Input,
        text: &str,
        summary: &[String],
        json: serde_json::Value,
    ) -> anyhow::Result<Outcome> {
        let changed = text != input.text;
        let mut out = std::io::stdout().lock();
        let mut err = std::io::stderr().lock();
        if self.json {
            let doc = serde_json::json!({
                "schema": "kasane.rewrite/v1",
                "file": input.name,
                "changed": changed,
                "report": json,
                "text": text,
            });
            serde_json::to_writer_pretty(&mut out, &doc).map_err(std::io::Error::from)?;
            writeln!(out)?;
        } else {
            for line in summary {
                writeln!(err, "{line}")?;
            }
        }
        let mut outcome = Outcome::Success;
        if self.diff {
            let name = input.name.trim_start_matches("./").trim_start_matches('/');
            write!(
                out,
                "{}",
                kasane_rewrite::unified_diff(name, &input.text, text)
            )?;
            if changed {
                outcome = Outcome::Findings;
            }
        } else if self.in_place {
            if changed {
                write_atomically(&self.file, text.as_bytes())?;
                writeln!(err, "rewrote {}", self.file.display())?;
            }
        } else if let Some(path) = &self.output {
            write_atomically(path, text.as_bytes())?;
            writeln!(err, "wrote {}", path.display())?;
        } else if !self.json {
            out.write_all(text.as_bytes())?;
        }
        out.flush()?;
        if self.build {
            let mut engine = Engine::from_env();
            if let Some(d) = &self.docker {
                engine.docker = d.clone();
            }
            let context = self.context_dir();
            writeln!(
                err,
                "building {}:before and {}:after (context {})",
                self.tag,
                self.tag,
                context.display()
            )?;
            let cmp =
                kasane_rewrite::engine::compare(&engine, &self.tag, &input.text, text, &context)?;
            writeln!(err, "{}", comparison(&cmp))?;
        }
        Ok(outcome)
    }
}

/// `before: 476.6 MB in 14 layers; after: ...; saved ...`.
pub(crate) fn comparison(c: &Comparison) -> String {
    format!(
        "before: {} in {} layers; after: {} in {} layers; saved {} ({:.1}%) and {} layers",
        mb(c.before.size),
        c.before.layers,
        mb(c.after.size),
        c.after.layers,
        mb(c.saved().unsigned_abs()),
        c.saved_percent(),
        c.before.layers as i64 - c.after.layers as i64,
    )
}

fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

pub(crate) fn run(args: Args) -> anyhow::Result<Outcome> {
    let input = args.io.read()?;
    let df = kasane_dockerfile::parse(&input.text)
        .with_context(|| format!("{} does not parse", input.name))?;
    let report = kasane_rewrite::merge(
        &df,
        MergeOptions {
            keep_cache_boundaries: args.keep_cache_boundaries,
        },
    )?;
    let summary = summary(&report);
    let json = serde_json::to_value(MergeJson {
        merges: &report.merges,
        refusals: &report.refusals,
        instructions_before: report.instructions_before,
        instructions_after: report.instructions_after,
    })?;
    args.io.finish(&input, &report.text, &summary, json)
}

#[derive(serde::Serialize)]
struct MergeJson<'a> {
    merges: &'a [kasane_rewrite::Merge],
    refusals: &'a [kasane_rewrite::Refusal],
    instructions_before: usize,
    instructions_after: usize,
}

fn summary(r: &MergeReport) -> Vec<String> {
    let mut out = Vec::new();
    for m in &r.merges {
        let lines: Vec<String> = m.lines.iter().map(u32::to_string).collect();
        let mut line = format!("merged {} on lines {}", m.kind, lines.join(", "));
        if !m.subshells.is_empty() {
            let s: Vec<String> = m.subshells.iter().map(u32::to_string).collect();
            line.push_str(&format!(
                " (line {} in a subshell: it changes shell state)",
                s.join(", ")
            ));
        }
        out.push(line);
    }
    for k in &r.refusals {
        out.push(format!(
            "kept {} on lines {} and {} apart: {}",
            k.kind, k.line, k.next_line, k.reason
        ));
    }
    out.push(format!(
        "{} instructions before, {} after",
        r.instructions_before, r.instructions_after
    ));
    out
}

/// Writes through a temporary file in the same directory and a rename, so a failure never
/// leaves a truncated file behind.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    // Not a regular file (`/dev/stdout`, a pipe): write into it, never replace it.
    if std::fs::metadata(path).is_ok_and(|m| !m.is_file()) {
        return std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()));
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .with_context(|| format!("{} is not a file path", path.display()))?;
    let tmp = dir.join(format!(
        ".{}.kasane-tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| {
        let _ = std::fs::remove_file(&tmp);
        format!("renaming {} to {}", tmp.display(), path.display())
    })?;
    Ok(())
}
