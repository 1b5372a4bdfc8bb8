//! Runs the rules over one Dockerfile and applies configuration and pragmas.

use std::path::Path;

use crate::config::Config;
use crate::diagnostic::{FileReport, Finding, LineIndex, Location, Note, Severity, Span};
use crate::model::{self, Model};
use crate::pragma::Pragmas;
use crate::registry::{self, Category, Rule};
use crate::rules;

/// What a lint run needs besides the file.
#[derive(Debug, Clone, Copy)]
pub struct LintOptions<'a> {
    /// Rule selection, severities, trusted registries.
    pub config: &'a Config,
    /// The build context directory, when known: used for `.dockerignore` (KL119) and for the
    /// sizes of copied files in size findings. Without it those parts are skipped.
    pub context: Option<&'a Path>,
    /// The Dockerfile's path, when it is a file: BuildKit prefers `<Dockerfile>.dockerignore`
    /// beside it over the context's `.dockerignore`.
    pub dockerfile: Option<&'a Path>,
}

/// Collects findings while the rules run.
#[derive(Debug)]
pub(crate) struct Sink<'a> {
    pub config: &'a Config,
    pub src: &'a str,
    index: LineIndex,
    found: Vec<(&'static Rule, Finding)>,
}

impl<'a> Sink<'a> {
    fn new(config: &'a Config, src: &'a str) -> Self {
        Sink {
            config,
            src,
            index: LineIndex::new(src),
            found: Vec::new(),
        }
    }

    /// The location of `span`.
    pub(crate) fn location(&self, span: Span) -> Location {
        self.index.location(self.src, span)
    }

    /// A note pointing at `span`.
    pub(crate) fn note(&self, span: Span, message: impl Into<String>) -> Note {
        Note {
            message: message.into(),
            location: Some(self.location(span)),
        }
    }

    /// Records a finding of `rule` at `span`; the caller may add a fix, notes or narrow its
    /// aliases through the returned reference.
    pub(crate) fn report(
        &mut self,
        rule: &'static Rule,
        span: Span,
        message: impl Into<String>,
    ) -> &mut Finding {
        let finding = Finding {
            code: rule.code,
            name: rule.name,
            aliases: rule.aliases.to_vec(),
            severity: rule.severity,
            message: message.into(),
            location: self.location(span),
            fix: None,
            notes: Vec::new(),
        };
        self.found.push((rule, finding));
        &mut self.found.last_mut().expect("just pushed").1
    }
}

/// Lints one file given as bytes (which need not be UTF-8).
pub fn lint_bytes(path: &str, bytes: &[u8], options: &LintOptions<'_>) -> FileReport {
    match std::str::from_utf8(bytes) {
        Ok(text) => lint_source(path, text, options),
        Err(e) => {
            let source = String::from_utf8_lossy(bytes).into_owned();
            let mut sink = Sink::new(options.config, &source);
            let at = e.valid_up_to();
            sink.report(
                registry::PARSE_ERROR,
                Span::new(at, at + e.error_len().unwrap_or(1)),
                format!("the file is not valid UTF-8 (byte {at}); BuildKit cannot read it"),
            );
            let findings = finish(sink, &Pragmas::default(), &[]);
            FileReport {
                path: path.to_owned(),
                source,
                findings,
            }
        }
    }
}

/// Lints one Dockerfile.
pub fn lint_source(path: &str, text: &str, options: &LintOptions<'_>) -> FileReport {
    let mut sink = Sink::new(options.config, text);
    let pragmas = Pragmas::scan(text);
    let mut starts = Vec::new();
    match kasane_dockerfile::parse(text) {
        Ok(df) => {
            let scope = model::resolve(&df, &options.config.build_args);
            let model = Model::build(&df, &scope);
            starts = df
                .instructions()
                .iter()
                .map(|i| {
                    (
                        i.extent.start.offset,
                        i.extent.end.offset,
                        i.start_line() as usize,
                    )
                })
                .collect();
            rules::run(&model, &pragmas, options, &mut sink);
        }
        Err(e) => {
            let at = e.offset.min(text.len());
            let end = text[at..].find('\n').map_or(text.len(), |n| at + n);
            let end = text[..end].trim_end_matches('\r').len().max(at);
            sink.report(
                registry::PARSE_ERROR,
                Span::new(at, end),
                e.kind.to_string(),
            );
        }
    }
    let findings = finish(sink, &pragmas, &starts);
    FileReport {
        path: path.to_owned(),
        source: text.to_owned(),
        findings,
    }
}

/// Applies configuration, pragmas and `# check=` directives, then sorts.
fn finish(
    sink: Sink<'_>,
    pragmas: &Pragmas,
    instructions: &[(usize, usize, usize)],
) -> Vec<Finding> {
    let config = sink.config;
    let mut out: Vec<Finding> = Vec::with_capacity(sink.found.len());
    for (rule, mut finding) in sink.found {
        let Some(mut severity) = config.judge(rule, &finding) else {
            continue;
        };
        // The instruction the finding is in decides which pragmas apply.
        let at = finding.location.span.start;
        let idx = instructions.partition_point(|(start, _, _)| *start <= at);
        let line = idx
            .checked_sub(1)
            .map(|i| instructions[i])
            .filter(|(_, end, _)| at <= *end)
            .map_or(finding.location.start.line, |(_, _, line)| line);
        if !config.disable_ignore_pragma
            && pragmas.ignores_for(line).any(|id| {
                crate::config::selects_finding(id, rule, &finding) || finding.answers_to(id)
            })
        {
            continue;
        }
        if rule.category == Category::BuildCheck {
            let skipped = pragmas.check_skips_for(line).any(|id| {
                id.eq_ignore_ascii_case("all")
                    || rule.aliases.iter().any(|a| a.eq_ignore_ascii_case(id))
            });
            if skipped {
                continue;
            }
            if pragmas.check_error {
                severity = Severity::Error;
            }
        }
        finding.severity = severity;
        out.push(finding);
    }
    out.sort_by(|a, b| {
        (a.location.span.start, a.location.span.end, a.code).cmp(&(
            b.location.span.start,
            b.location.span.end,
            b.code,
        ))
    });
    out.dedup_by(|a, b| a.code == b.code && a.location == b.location && a.message == b.message);
    out
}
