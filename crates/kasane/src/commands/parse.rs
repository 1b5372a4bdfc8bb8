//! `kasane parse`: parse Dockerfiles and print their syntax tree.
//!
//! Two formats, both JSON Lines (one object per file, in the order given):
//! `json` is kasane's own lossless tree (schema in docs/dockerfile-tree.md);
//! `buildkit` is exactly the line BuildKit's parser gives through the
//! `dockerfile` Python package (the shape of the conformance oracle), so the
//! two can be diffed. Files are parsed in parallel; output order is stable.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use kasane_dockerfile::{Dialect, Dockerfile, ParseOptions, buildkit, instructions};

use crate::exit::Outcome;

/// Arguments of `kasane parse`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Dockerfiles to parse.
    #[arg(required_unless_present = "files_from")]
    files: Vec<PathBuf>,

    /// Also parse the files listed in this file, one path a line (`-` reads
    /// the list from standard input).
    #[arg(long, value_name = "LIST")]
    files_from: Option<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    format: Format,

    /// Which BuildKit parser to follow. Default: `current`, except `0.12` for
    /// `--format buildkit` (the version that produced the conformance oracle).
    #[arg(long, value_enum)]
    dialect: Option<DialectArg>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// kasane's own tree (JSON Lines: {"file", "ok", "dockerfile",
    /// "instruction_errors"} or {"file", "ok", "error"}).
    Json,
    /// BuildKit's parse in the shape of the oracle (JSON Lines).
    Buildkit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum DialectArg {
    /// Today's BuildKit Dockerfile frontend.
    Current,
    /// BuildKit v0.12 (the `dockerfile` Python package).
    #[value(name = "0.12")]
    V012,
}

/// Files parsed per batch: parsed in parallel, then written in order.
const BATCH: usize = 512;

pub(crate) fn run(args: Args) -> anyhow::Result<Outcome> {
    let mut files = args.files.clone();
    if let Some(list) = &args.files_from {
        files.extend(read_list(list)?);
    }
    let dialect = match (args.dialect, args.format) {
        (Some(DialectArg::Current), _) => Dialect::Current,
        (Some(DialectArg::V012), _) | (None, Format::Buildkit) => Dialect::BuildKit012,
        (None, Format::Json) => Dialect::Current,
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut worst = Outcome::Success;
    for batch in files.chunks(BATCH) {
        let results = parse_batch(batch, args.format, dialect, threads);
        for r in results {
            out.write_all(r.line.as_bytes())?;
            out.write_all(b"\n")?;
            worst = worse(worst, r.outcome);
        }
    }
    out.flush()?;
    Ok(worst)
}

fn worse(a: Outcome, b: Outcome) -> Outcome {
    let rank = |o: Outcome| match o {
        Outcome::Success => 0,
        Outcome::Findings => 1,
        Outcome::InputError => 2,
    };
    if rank(b) > rank(a) { b } else { a }
}

fn read_list(list: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let reader: Box<dyn BufRead> = if list == Path::new("-") {
        Box::new(std::io::stdin().lock())
    } else {
        let f = std::fs::File::open(list)
            .with_context(|| format!("cannot open file list {}", list.display()))?;
        Box::new(std::io::BufReader::new(f))
    };
    let mut files = Vec::new();
    for line in reader.lines() {
        let line = line.with_context(|| format!("cannot read file list {}", list.display()))?;
        if !line.is_empty() {
            files.push(PathBuf::from(line));
        }
    }
    Ok(files)
}

struct FileResult {
    line: String,
    outcome: Outcome,
}

fn parse_batch(
    files: &[PathBuf],
    format: Format,
    dialect: Dialect,
    threads: usize,
) -> Vec<FileResult> {
    if threads <= 1 || files.len() < 2 {
        return files
            .iter()
            .map(|f| parse_one(f, format, dialect))
            .collect();
    }
    let chunk = files.len().div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = files
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    part.iter()
                        .map(|f| parse_one(f, format, dialect))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

fn parse_one(path: &Path, format: Format, dialect: Dialect) -> FileResult {
    let name = path.to_string_lossy();
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            let line = serde_json::json!({
                "file": name,
                "ok": false,
                "error": format!("cannot read {}: {e}", path.display()),
            });
            return FileResult {
                line: line.to_string(),
                outcome: Outcome::InputError,
            };
        }
    };
    match format {
        Format::Buildkit => {
            let line = buildkit::json_line(&name, &bytes, dialect);
            let outcome = if line.ok {
                Outcome::Success
            } else {
                Outcome::Findings
            };
            FileResult {
                line: line.text,
                outcome,
            }
        }
        Format::Json => match Dockerfile::parse_bytes(&bytes, ParseOptions::dialect(dialect)) {
            Ok(df) => {
                let errors = instructions::validate(&df);
                let line = serde_json::json!({
                    "file": name,
                    "ok": true,
                    "dockerfile": df,
                    "instruction_errors": errors,
                });
                FileResult {
                    line: line.to_string(),
                    outcome: Outcome::Success,
                }
            }
            Err(e) => {
                let line = serde_json::json!({
                    "file": name,
                    "ok": false,
                    "error": {
                        "message": e.kind.to_string(),
                        "line": e.line,
                        "column": e.column,
                        "offset": e.offset,
                    },
                });
                FileResult {
                    line: line.to_string(),
                    outcome: Outcome::Findings,
                }
            }
        },
    }
}
