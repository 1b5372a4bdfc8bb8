//! `kasane fix`: applies the fixes of the lint rules, printing each change and its reason.

use anyhow::Context;
use kasane_rewrite::{FixChange, FixOptions, FixReport};

use super::merge::RewriteIo;
use crate::exit::Outcome;

/// Arguments of `kasane fix`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    io: RewriteIo,
    /// Only the fixes of these rules (codes, names or aliases; repeat or comma-separate).
    /// Naming a rule also applies its fixes marked unsafe.
    #[arg(long, value_name = "ID", value_delimiter = ',')]
    rule: Vec<String>,
    /// Also apply fixes marked unsafe: they may change which packages or files end up in the
    /// image, or need BuildKit; read the diff.
    #[arg(long = "unsafe")]
    allow_unsafe: bool,
}

pub(crate) fn run(args: Args) -> anyhow::Result<Outcome> {
    let input = args.io.read()?;
    let dockerfile = (args.io.file.as_os_str() != "-").then(|| args.io.file.clone());
    let context =
        (args.io.context.is_some() || dockerfile.is_some()).then(|| args.io.context_dir());
    let options = FixOptions {
        rules: args.rule.clone(),
        allow_unsafe: args.allow_unsafe,
        context: context.as_deref(),
        dockerfile: dockerfile.as_deref(),
    };
    let report = kasane_rewrite::fix(&input.name, &input.text, &options)
        .with_context(|| format!("fixing {}", input.name))?;
    let summary = summary(&report);
    let json = serde_json::to_value(&report.changes)?;
    let json = serde_json::json!({
        "changes": json,
        "skipped_unsafe": report.skipped_unsafe,
    });
    args.io.finish(&input, &report.text, &summary, json)
}

fn describe(c: &FixChange) -> String {
    format!(
        "line {}: {} {}: {}{}\n    why: {}",
        c.line,
        c.code,
        c.name,
        c.change,
        if c.is_unsafe { " [unsafe]" } else { "" },
        c.reason
    )
}

fn summary(r: &FixReport) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut round = 0;
    for c in &r.changes {
        if c.round != round {
            round = c.round;
            if round > 1 {
                out.push(format!(
                    "then, in the file as changed so far (round {round}):"
                ));
            }
        }
        out.push(describe(c));
    }
    if !r.skipped_unsafe.is_empty() {
        out.push(format!(
            "not applied, marked unsafe ({} fix{}; --unsafe or --rule ID applies them):",
            r.skipped_unsafe.len(),
            if r.skipped_unsafe.len() == 1 {
                ""
            } else {
                "es"
            }
        ));
        for c in &r.skipped_unsafe {
            out.push(format!(
                "  line {}: {} {}: {}",
                c.line, c.code, c.name, c.change
            ));
        }
    }
    out.push(match r.changes.len() {
        0 => "nothing to fix".to_owned(),
        1 => "1 fix applied".to_owned(),
        n => format!("{n} fixes applied"),
    });
    out
}
