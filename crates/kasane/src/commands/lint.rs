//! `kasane lint`: BuildKit's checks, hadolint's rules that still matter, and the size and
//! speed practices, with exact locations.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Context;
use kasane_lint::config::{Config, FailLevel};
use kasane_lint::render::{self, Format, TextOptions};
use kasane_lint::{FileReport, LintOptions, registry};

use crate::exit::Outcome;

/// Arguments of `kasane lint`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Dockerfiles to lint (`-` reads standard input).
    #[arg(required_unless_present_any = ["explain", "list_rules", "files_from"])]
    files: Vec<PathBuf>,
    /// Also lint the files listed in this file, one path a line (`-` for standard input).
    #[arg(long, value_name = "LIST")]
    files_from: Option<PathBuf>,
    /// Output format.
    #[arg(long, short = 'f', default_value = "text", value_parser = parse_format)]
    format: Format,
    /// Exit 1 when a finding is at or above this level: error, warning, info, style or none
    /// [default: warning, or the config's fail-level].
    #[arg(long, value_parser = parse_fail_level)]
    fail_level: Option<FailLevel>,
    /// Configuration file: kasane.toml, or a .hadolint.yaml. Default: .hadolint.yaml and
    /// kasane.toml in the current directory, when present.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Print what a rule checks and why (by code, name, BuildKit check name or DL code).
    #[arg(long, value_name = "ID")]
    explain: Option<String>,
    /// List every rule.
    #[arg(long)]
    list_rules: bool,
    /// Only these rules (codes, names, aliases, code prefixes or categories; comma-separated).
    #[arg(long, value_delimiter = ',')]
    select: Vec<String>,
    /// Also these rules, on top of the defaults (e.g. unpinned-package).
    #[arg(long, value_delimiter = ',')]
    extend_select: Vec<String>,
    /// Not these rules.
    #[arg(long, value_delimiter = ',')]
    ignore: Vec<String>,
    /// Build context directory, for .dockerignore and file sizes [default: each Dockerfile's
    /// directory].
    #[arg(long)]
    context: Option<PathBuf>,
    /// Show fixes as diffs in text output.
    #[arg(long)]
    show_fixes: bool,
    /// Colour: auto, always or never.
    #[arg(long, default_value = "auto")]
    color: String,
    /// Resolve ARGs with this build arg, as `docker build --build-arg` does (repeatable; `NAME`
    /// alone takes the value from the environment).
    #[arg(long = "build-arg", value_name = "NAME=VALUE", value_parser = crate::build_input::parse_build_arg)]
    build_args: Vec<(String, String)>,
}

fn parse_format(s: &str) -> Result<Format, String> {
    s.parse().map_err(|e: render::UnknownFormat| e.to_string())
}

fn parse_fail_level(s: &str) -> Result<FailLevel, String> {
    s.parse()
}

pub(crate) fn run(args: Args) -> anyhow::Result<Outcome> {
    let mut out = std::io::stdout().lock();
    if let Some(id) = &args.explain {
        let Some(rule) = registry::find(id) else {
            anyhow::bail!("no rule is called `{id}` (see `kasane lint --list-rules`)");
        };
        out.write_all(rule.explain().as_bytes())?;
        return Ok(Outcome::Success);
    }
    if args.list_rules {
        for r in registry::all() {
            writeln!(
                out,
                "{} {:<38} {:<8} {}{}",
                r.code,
                r.name,
                r.severity,
                r.summary,
                if r.aliases.is_empty() {
                    String::new()
                } else {
                    format!(" [{}]", r.aliases.join(", "))
                }
            )?;
        }
        return Ok(Outcome::Success);
    }

    let mut config = match &args.config {
        Some(path) => Config::load(path)?,
        None => Config::discover(Path::new("."))?,
    };
    let cli = Config {
        select: (!args.select.is_empty()).then(|| args.select.clone()),
        extend_select: args.extend_select.clone(),
        ignore: args.ignore.clone(),
        fail_level: args.fail_level,
        build_args: args.build_args.clone(),
        ..Config::default()
    };
    for s in cli
        .select
        .iter()
        .flatten()
        .chain(&cli.extend_select)
        .chain(&cli.ignore)
    {
        let known = registry::all()
            .iter()
            .any(|r| kasane_lint::config::selects_rule(s, r));
        if !known && !kasane_lint::config::is_foreign_code(s) {
            anyhow::bail!("`{s}` names no rule (see `kasane lint --list-rules`)");
        }
    }
    config.merge(cli);
    let fail_level = config.fail_level.unwrap_or(FailLevel::DEFAULT);

    let mut files = args.files.clone();
    if let Some(list) = &args.files_from {
        let text = if list.as_os_str() == "-" {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .context("cannot read the file list from standard input")?;
            s
        } else {
            std::fs::read_to_string(list)
                .with_context(|| format!("cannot read {}", list.display()))?
        };
        files.extend(
            text.lines()
                .filter(|l| !l.trim().is_empty())
                .map(PathBuf::from),
        );
    }
    // Only the text and GitLab renderers read the source; dropping it early keeps memory
    // flat on large batches.
    let keep_source = matches!(args.format, Format::Text | Format::Gitlab);
    let (reports, errors) = lint_all(&files, &config, args.context.as_deref(), keep_source);
    let color = match args.color.as_str() {
        "always" => true,
        "never" => false,
        _ => std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal(),
    };
    let text = TextOptions {
        color,
        show_fixes: args.show_fixes,
    };
    out.write_all(render::render(args.format, &reports, &text).as_bytes())?;
    out.flush()?;
    let mut stderr = std::io::stderr().lock();
    for e in &errors {
        writeln!(stderr, "error: {e:#}")?;
    }
    let failed = reports
        .iter()
        .flat_map(|r| &r.findings)
        .any(|f| fail_level.fails(f.severity));
    Ok(if !errors.is_empty() {
        Outcome::InputError
    } else if failed {
        Outcome::Findings
    } else {
        Outcome::Success
    })
}

/// Lints every file on all cores; reports keep the order of `files`.
fn lint_all(
    files: &[PathBuf],
    config: &Config,
    context: Option<&Path>,
    keep_source: bool,
) -> (Vec<FileReport>, Vec<anyhow::Error>) {
    let next = AtomicUsize::new(0);
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(files.len().max(1));
    let mut results: Vec<Option<anyhow::Result<FileReport>>> = Vec::new();
    results.resize_with(files.len(), || None);
    let chunks: Vec<Vec<(usize, anyhow::Result<FileReport>)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(path) = files.get(i) else { break };
                        // A bug in one rule must not lose the other files' results.
                        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            lint_one(path, config, context).map(|mut r| {
                                if !keep_source {
                                    r.source = String::new();
                                }
                                r
                            })
                        }))
                        .unwrap_or_else(|_| {
                            Err(anyhow::anyhow!(
                                "internal error while linting {} (please report it)",
                                path.display()
                            ))
                        });
                        done.push((i, result));
                    }
                    done
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    });
    for (i, r) in chunks.into_iter().flatten() {
        results[i] = Some(r);
    }
    let mut reports = Vec::with_capacity(files.len());
    let mut errors = Vec::new();
    for r in results.into_iter().flatten() {
        match r {
            Ok(rep) => reports.push(rep),
            Err(e) => errors.push(e),
        }
    }
    (reports, errors)
}

fn lint_one(path: &Path, config: &Config, context: Option<&Path>) -> anyhow::Result<FileReport> {
    let (name, bytes) = if path.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .context("cannot read standard input")?;
        ("-".to_owned(), buf)
    } else {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        (path.display().to_string(), bytes)
    };
    let dir = context.map(Path::to_path_buf).or_else(|| {
        (path.as_os_str() != "-").then(|| path.parent().map(Path::to_path_buf).unwrap_or_default())
    });
    let dir = dir.map(|d| {
        if d.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            d
        }
    });
    let options = LintOptions {
        config,
        context: dir.as_deref(),
        dockerfile: (path.as_os_str() != "-").then_some(path),
    };
    Ok(kasane_lint::lint_bytes(&name, &bytes, &options))
}
