//! Merging consecutive instructions into one layer, only where the build's result stays the
//! same.
//!
//! The traps minid falls into, and what happens here instead:
//! - RUNs with different flags (`--mount`, `--network`, `--security`) are not merged.
//! - Exec-form RUNs, COPY/ADD in JSON form and anything with a heredoc are left exactly as
//!   they are.
//! - A RUN whose script changes shell state (`cd`, `export`, `set`, `umask`, `trap`, functions,
//!   variables, `exit`, `exec`, ...) runs in a subshell `( ... )` inside the merged RUN, so the
//!   next command starts from the state it started from before.
//! - A script that does not end cleanly (a trailing comment, `;`, `&`) is not joined to the
//!   next one: the comment would swallow it, `& &&` is a syntax error.
//! - ENV pairs are merged only when no later pair refers to a key set earlier, in any `$`
//!   form (`${v-x}`, `${v+x}`, `${v?x}`, `${v#p}`, `${v%p}`, `${v/p/r}`, ...): one ENV
//!   expands every value with the variables from before it.
//! - Multi-pair and legacy-form ENV/LABEL are never re-serialised: the pairs' text is kept as
//!   written, and legacy `ENV key value` lines are not merged at all.
//! - COPY/ADD are merged only with identical flags and an identical destination that ends in
//!   `/` (several sources need a directory destination).
//! - Comments between instructions block a merge (they would be lost or moved).
//! - With `keep_cache_boundaries`, the RUN that follows a COPY of dependency manifests
//!   (package.json, go.mod, requirements.txt, ...) is not merged with the RUNs after it, and
//!   manifests are not merged into a COPY of other files, so the dependency layer stays cached.

use kasane_dockerfile::{Arguments, Dockerfile, Instruction, InstructionKind};
use kasane_shell::{Connector, files};
use serde::Serialize;

use crate::RewriteError;

/// How to merge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MergeOptions {
    /// Keep the RUN after a dependency-manifest COPY (and the manifest COPY itself) apart, so
    /// the dependency install stays cached when sources change.
    pub keep_cache_boundaries: bool,
}

impl Default for MergeOptions {
    fn default() -> Self {
        MergeOptions {
            keep_cache_boundaries: true,
        }
    }
}

/// One merge: several instructions became one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Merge {
    /// The instruction keyword (`RUN`, `ENV`, `LABEL`, `COPY`, `ADD`).
    pub kind: &'static str,
    /// The first line of each merged instruction, in the input.
    pub lines: Vec<u32>,
    /// Lines of RUNs whose script was put in a subshell because it changes shell state.
    pub subshells: Vec<u32>,
}

/// Why two neighbouring instructions of the same kind were not merged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Refused {
    /// A comment sits between them.
    Comment,
    /// One of them is in exec (JSON) form.
    ExecForm,
    /// One of them has a heredoc.
    Heredoc,
    /// Their flags differ.
    DifferentFlags,
    /// The SHELL in effect is not a POSIX shell, so `&&` and `( )` may mean something else.
    NonPosixShell,
    /// The earlier script does not end cleanly (`;`, `&`, a comment or an open construct).
    UnfinishedScript,
    /// A legacy `ENV key value` / `LABEL key value` line.
    LegacyForm,
    /// A later ENV value or key refers to a variable an earlier pair sets.
    Reference {
        /// The variable.
        name: String,
    },
    /// COPY/ADD destinations differ.
    DifferentDestination,
    /// The COPY/ADD destination does not end in `/`.
    DestinationNotDirectory,
    /// An ADD of a URL or git repository.
    Remote,
    /// A dependency-manifest cache boundary (`keep_cache_boundaries`).
    CacheBoundary,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refused::Comment => f.write_str("a comment sits between them"),
            Refused::ExecForm => f.write_str("exec (JSON) form is kept exactly as written"),
            Refused::Heredoc => f.write_str("heredocs are kept exactly as written"),
            Refused::DifferentFlags => f.write_str("their flags differ"),
            Refused::NonPosixShell => f.write_str("the SHELL in effect is not a POSIX shell"),
            Refused::UnfinishedScript => f.write_str(
                "the earlier script does not end cleanly (a trailing `;`, `&` or comment)",
            ),
            Refused::LegacyForm => {
                f.write_str("legacy `key value` form (kasane fix --rule KL113 converts it)")
            }
            Refused::Reference { name } => write!(
                f,
                "`${name}` refers to the value set just before; one instruction would see the old one"
            ),
            Refused::DifferentDestination => f.write_str("their destinations differ"),
            Refused::DestinationNotDirectory => f.write_str(
                "the destination does not end in `/` (several sources need a directory)",
            ),
            Refused::Remote => f.write_str("ADD of a URL or repository is kept on its own"),
            Refused::CacheBoundary => f.write_str(
                "cache boundary after a dependency-manifest COPY (--keep-cache-boundaries)",
            ),
        }
    }
}

/// A neighbouring pair left apart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refusal {
    /// The instruction keyword.
    pub kind: &'static str,
    /// First line of the earlier instruction.
    pub line: u32,
    /// First line of the later one.
    pub next_line: u32,
    /// Why.
    #[serde(flatten)]
    pub reason: Refused,
}

/// The result of [`merge`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MergeReport {
    /// The rewritten Dockerfile (the input itself when nothing was merged).
    pub text: String,
    /// What was merged.
    pub merges: Vec<Merge>,
    /// Neighbours of the same kind left apart, and why.
    pub refusals: Vec<Refusal>,
    /// Instructions before.
    pub instructions_before: usize,
    /// Instructions after.
    pub instructions_after: usize,
}

/// Merges what can be merged in `df`; see the module documentation for the rules.
pub fn merge(df: &Dockerfile, options: MergeOptions) -> Result<MergeReport, RewriteError> {
    let ins = df.instructions();
    let posix = posix_shell_before(ins);
    let boundary = boundaries(ins);
    let mut merges = Vec::new();
    let mut refusals = Vec::new();
    let mut rw = df.rewrite();
    let mut removed = 0;
    let mut i = 0;
    while i < ins.len() {
        let mut group = match Group::start(df, &ins[i]) {
            Ok(Some(g)) => g,
            Ok(None) => {
                i += 1;
                continue;
            }
            Err(reason) => {
                if ins.get(i + 1).is_some_and(|n| n.kind == ins[i].kind) {
                    refusals.push(Refusal {
                        kind: ins[i].kind.as_str(),
                        line: ins[i].start_line(),
                        next_line: ins[i + 1].start_line(),
                        reason,
                    });
                }
                i += 1;
                continue;
            }
        };
        let mut j = i + 1;
        while j < ins.len() && ins[j].kind == ins[i].kind {
            let ctx = Ctx {
                df,
                prev: &ins[j - 1],
                next: &ins[j],
                posix: posix[j],
                boundary_prev: options.keep_cache_boundaries && boundary[j - 1],
                options,
            };
            match group.join(&ctx) {
                Ok(()) => j += 1,
                Err(reason) => {
                    refusals.push(Refusal {
                        kind: ins[i].kind.as_str(),
                        line: ins[j - 1].start_line(),
                        next_line: ins[j].start_line(),
                        reason,
                    });
                    break;
                }
            }
        }
        if j - i > 1 {
            let first = &ins[i];
            let last = &ins[j - 1];
            let range = first.span.start.offset..last.span.end.offset;
            rw.replace(df.span(range), group.text(df));
            merges.push(Merge {
                kind: first.kind.as_str(),
                lines: ins[i..j].iter().map(Instruction::start_line).collect(),
                subshells: group.subshells.clone(),
            });
            removed += j - i - 1;
        }
        i = j;
    }
    let text = if merges.is_empty() {
        df.source().to_owned()
    } else {
        let out = rw.apply()?;
        out.print()
    };
    Ok(MergeReport {
        text,
        merges,
        refusals,
        instructions_before: ins.len(),
        instructions_after: ins.len() - removed,
    })
}

/// What a join decision needs.
struct Ctx<'a> {
    df: &'a Dockerfile,
    prev: &'a Instruction,
    next: &'a Instruction,
    posix: bool,
    boundary_prev: bool,
    options: MergeOptions,
}

/// Instructions being merged, and how to print them as one.
struct Group<'a> {
    members: Vec<&'a Instruction>,
    /// RUN: which members go into a subshell.
    wrap: Vec<bool>,
    subshells: Vec<u32>,
    /// ENV: the keys set so far.
    keys: Vec<String>,
    /// COPY/ADD: whether the sources so far are all dependency manifests.
    manifests: bool,
}

impl<'a> Group<'a> {
    /// A group starting at `first`: `None` for kinds that are never merged, the reason for
    /// one whose form cannot be merged.
    fn start(df: &Dockerfile, first: &'a Instruction) -> Result<Option<Group<'a>>, Refused> {
        let mergeable = matches!(
            first.kind,
            InstructionKind::Run
                | InstructionKind::Env
                | InstructionKind::Label
                | InstructionKind::Copy
                | InstructionKind::Add
        );
        if !mergeable {
            return Ok(None);
        }
        shape(df, first)?;
        Ok(Some(Group {
            members: vec![first],
            wrap: vec![false],
            subshells: Vec::new(),
            keys: env_keys(first),
            manifests: copy_sources(first).is_some_and(|s| all_manifests(&s)),
        }))
    }

    /// Adds `ctx.next` to the group, or says why not.
    fn join(&mut self, ctx: &Ctx<'a>) -> Result<(), Refused> {
        let between = &ctx.df.source()[ctx.prev.extent.end.offset..ctx.next.extent.start.offset];
        if !between.trim().is_empty() {
            return Err(Refused::Comment);
        }
        shape(ctx.df, ctx.next)?;
        match ctx.next.kind {
            InstructionKind::Run => {
                if !ctx.posix {
                    return Err(Refused::NonPosixShell);
                }
                if flag_texts(ctx.prev) != flag_texts(ctx.next) {
                    return Err(Refused::DifferentFlags);
                }
                if ctx.boundary_prev {
                    return Err(Refused::CacheBoundary);
                }
                let script = shell_value(ctx.prev).unwrap_or_default();
                if !ends_cleanly(script) {
                    return Err(Refused::UnfinishedScript);
                }
                if leaks_state(script) {
                    let last = self.wrap.len() - 1;
                    self.wrap[last] = true;
                    self.subshells.push(ctx.prev.start_line());
                }
                self.wrap.push(false);
            }
            InstructionKind::Env => {
                for kv in pairs(ctx.next) {
                    let text = format!("{} {}", kv.key.value, kv.value.value);
                    if let Some(name) = referenced_names(&text)
                        .into_iter()
                        .find(|n| self.keys.contains(n))
                    {
                        return Err(Refused::Reference { name });
                    }
                }
                self.keys.extend(env_keys(ctx.next));
            }
            InstructionKind::Label => {}
            _ => {
                // COPY / ADD
                if flag_texts(ctx.prev) != flag_texts(ctx.next) {
                    return Err(Refused::DifferentFlags);
                }
                let (a, b) = (list(ctx.prev), list(ctx.next));
                let (da, db) = (&a[a.len() - 1], &b[b.len() - 1]);
                if ctx.df.text(da.span) != ctx.df.text(db.span) {
                    return Err(Refused::DifferentDestination);
                }
                if !da.value.ends_with('/') {
                    return Err(Refused::DestinationNotDirectory);
                }
                let sources = copy_sources(ctx.next).unwrap_or_default();
                if ctx.options.keep_cache_boundaries && all_manifests(&sources) != self.manifests {
                    return Err(Refused::CacheBoundary);
                }
            }
        }
        self.members.push(ctx.next);
        Ok(())
    }

    /// The merged instruction's text (from the first keyword to the end of the last one).
    fn text(&self, df: &Dockerfile) -> String {
        let nl = if df.source().contains("\r\n") {
            "\r\n"
        } else {
            "\n"
        };
        let cont = format!(" {}{nl}    ", df.escape());
        let first = self.members[0];
        let head_end = |ins: &Instruction| match &ins.args {
            Arguments::Shell(w) => w.span.start.offset,
            _ => ins.args_span.start.offset,
        };
        match first.kind {
            InstructionKind::Run => {
                let mut out = df.source()[first.span.start.offset..head_end(first)].to_owned();
                for (k, m) in self.members.iter().enumerate() {
                    let Arguments::Shell(w) = &m.args else {
                        continue;
                    };
                    if k > 0 {
                        out.push_str(&cont);
                        out.push_str("&& ");
                    }
                    let script = df.text(w.span);
                    if self.wrap[k] {
                        out.push_str("( ");
                        out.push_str(script);
                        out.push_str(" )");
                    } else {
                        out.push_str(script);
                    }
                }
                out
            }
            InstructionKind::Env | InstructionKind::Label => {
                let mut out = df.text(first.span).to_owned();
                for m in &self.members[1..] {
                    out.push_str(&cont);
                    out.push_str(df.text(m.args_span));
                }
                out
            }
            _ => {
                let words = list(first);
                let dest = &words[words.len() - 1];
                let mut out = df.source()[first.span.start.offset..dest.span.start.offset]
                    .trim_end()
                    .to_owned();
                for m in &self.members[1..] {
                    let w = list(m);
                    let sources = &w[..w.len() - 1];
                    out.push(' ');
                    out.push_str(
                        &df.source()[sources[0].span.start.offset
                            ..sources[sources.len() - 1].span.end.offset],
                    );
                }
                out.push(' ');
                out.push_str(&df.source()[dest.span.start.offset..first.span.end.offset]);
                out
            }
        }
    }
}

/// Whether an instruction has a form this module can merge at all.
fn shape(_df: &Dockerfile, ins: &Instruction) -> Result<(), Refused> {
    if !ins.heredocs.is_empty() {
        return Err(Refused::Heredoc);
    }
    match (&ins.kind, &ins.args) {
        (InstructionKind::Run, Arguments::Shell(_)) => Ok(()),
        (InstructionKind::Run, _) => Err(Refused::ExecForm),
        (InstructionKind::Env | InstructionKind::Label, Arguments::KeyValues(kv)) => {
            if kv.is_empty() || kv.iter().any(|p| !p.has_equals) {
                Err(Refused::LegacyForm)
            } else {
                Ok(())
            }
        }
        (InstructionKind::Copy | InstructionKind::Add, Arguments::List(words)) => {
            if words.len() < 2 {
                return Err(Refused::DestinationNotDirectory);
            }
            if words.iter().any(|w| w.value.starts_with("<<")) {
                return Err(Refused::Heredoc);
            }
            if ins.kind == InstructionKind::Add
                && words[..words.len() - 1].iter().any(|w| is_remote(&w.value))
            {
                return Err(Refused::Remote);
            }
            Ok(())
        }
        (InstructionKind::Copy | InstructionKind::Add, _) => Err(Refused::ExecForm),
        _ => Err(Refused::ExecForm),
    }
}

/// A URL or git source, or one whose value a variable decides (it may expand to a URL).
fn is_remote(source: &str) -> bool {
    source.contains("://") || source.starts_with("git@") || source.contains('$')
}

fn flag_texts(ins: &Instruction) -> Vec<&str> {
    ins.flags.iter().map(|f| f.text.as_str()).collect()
}

fn shell_value(ins: &Instruction) -> Option<&str> {
    match &ins.args {
        Arguments::Shell(w) => Some(&w.value),
        _ => None,
    }
}

fn pairs(ins: &Instruction) -> &[kasane_dockerfile::KeyValue] {
    match &ins.args {
        Arguments::KeyValues(kv) => kv,
        _ => &[],
    }
}

fn list(ins: &Instruction) -> &[kasane_dockerfile::Word] {
    match &ins.args {
        Arguments::List(w) => w,
        _ => &[],
    }
}

/// The variable names an ENV sets (quotes around a key removed).
fn env_keys(ins: &Instruction) -> Vec<String> {
    if ins.kind != InstructionKind::Env {
        return Vec::new();
    }
    pairs(ins)
        .iter()
        .map(|kv| kv.key.value.trim_matches(['"', '\'']).to_owned())
        .collect()
}

/// Every name that follows a `$` or `${` in `text`, whatever the quoting or modifier: a
/// superset of what BuildKit's lexer can expand, which is what a merge check needs.
pub(crate) fn referenced_names(text: &str) -> Vec<String> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut k = 0;
    while k < b.len() {
        if b[k] != b'$' {
            k += 1;
            continue;
        }
        k += 1;
        while k < b.len() && b[k] == b'{' {
            k += 1;
        }
        let start = k;
        if k < b.len() && (b[k].is_ascii_alphabetic() || b[k] == b'_') {
            while k < b.len() && (b[k].is_ascii_alphanumeric() || b[k] == b'_') {
                k += 1;
            }
            out.push(text[start..k].to_owned());
        }
    }
    out
}

/// The sources of a COPY/ADD in list form.
fn copy_sources(ins: &Instruction) -> Option<Vec<String>> {
    if !matches!(ins.kind, InstructionKind::Copy | InstructionKind::Add) {
        return None;
    }
    let w = list(ins);
    (w.len() >= 2).then(|| w[..w.len() - 1].iter().map(|w| w.value.clone()).collect())
}

/// Files that declare dependencies: copying them alone before the install keeps the install
/// cached while sources change.
fn is_manifest(path: &str) -> bool {
    let name = path
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(path);
    matches!(
        name,
        "package.json"
            | "package-lock.json"
            | "npm-shrinkwrap.json"
            | "yarn.lock"
            | ".yarnrc.yml"
            | "pnpm-lock.yaml"
            | "pnpm-workspace.yaml"
            | "bun.lockb"
            | "Pipfile"
            | "Pipfile.lock"
            | "pyproject.toml"
            | "poetry.lock"
            | "uv.lock"
            | "setup.py"
            | "setup.cfg"
            | "go.mod"
            | "go.sum"
            | "go.work"
            | "go.work.sum"
            | "Cargo.toml"
            | "Cargo.lock"
            | "Gemfile"
            | "Gemfile.lock"
            | "composer.json"
            | "composer.lock"
            | "pom.xml"
            | "build.gradle"
            | "build.gradle.kts"
            | "settings.gradle"
            | "settings.gradle.kts"
            | "gradle.properties"
            | "mix.exs"
            | "mix.lock"
            | "Package.swift"
            | "Package.resolved"
            | "pubspec.yaml"
            | "pubspec.lock"
            | "packages.lock.json"
            | "Directory.Packages.props"
    ) || (name.starts_with("requirements") && name.ends_with(".txt"))
        || name.ends_with(".csproj")
        || name.ends_with(".fsproj")
        || name.ends_with(".gemspec")
}

fn all_manifests(sources: &[String]) -> bool {
    !sources.is_empty() && sources.iter().all(|s| is_manifest(s))
}

/// For each instruction: true for a RUN that follows a COPY/ADD of only dependency manifests
/// (ARG, ENV, LABEL, WORKDIR and USER in between do not count).
fn boundaries(ins: &[Instruction]) -> Vec<bool> {
    let mut out = vec![false; ins.len()];
    let mut after_manifest = false;
    for (k, i) in ins.iter().enumerate() {
        match i.kind {
            InstructionKind::Copy | InstructionKind::Add => {
                after_manifest = copy_sources(i).is_some_and(|s| all_manifests(&s));
            }
            InstructionKind::Run => {
                out[k] = after_manifest;
                after_manifest = false;
            }
            InstructionKind::Arg
            | InstructionKind::Env
            | InstructionKind::Label
            | InstructionKind::Workdir
            | InstructionKind::User => {}
            _ => after_manifest = false,
        }
    }
    out
}

/// For each instruction: whether the SHELL in effect is a POSIX shell (the default `/bin/sh -c`
/// or one of sh, bash, dash, ash, ksh, zsh, busybox). A stage built on an earlier stage
/// inherits its SHELL.
fn posix_shell_before(ins: &[Instruction]) -> Vec<bool> {
    let mut out = Vec::with_capacity(ins.len());
    let mut stages: Vec<(Option<String>, bool)> = Vec::new();
    let mut cur = true;
    for i in ins {
        match i.kind {
            InstructionKind::From => {
                if let Some((name, posix)) = stages.last_mut() {
                    let _ = name;
                    *posix = cur;
                }
                let words = list(i);
                let base = words.first().map(|w| w.value.to_ascii_lowercase());
                let name = match words {
                    [_, a, n, ..] if a.value.eq_ignore_ascii_case("as") => {
                        Some(n.value.to_ascii_lowercase())
                    }
                    _ => None,
                };
                cur = base
                    .and_then(|b| {
                        stages
                            .iter()
                            .rev()
                            .find(|(n, _)| n.as_deref() == Some(b.as_str()))
                            .map(|(_, p)| *p)
                    })
                    .unwrap_or(true);
                stages.push((name, cur));
            }
            InstructionKind::Shell => {
                cur = match &i.args {
                    Arguments::Exec(w) => w.first().is_some_and(|p| {
                        matches!(
                            kasane_shell::base_name(&p.value),
                            "sh" | "bash" | "dash" | "ash" | "ksh" | "mksh" | "zsh" | "busybox"
                        )
                    }),
                    _ => false,
                };
            }
            _ => {}
        }
        out.push(cur);
    }
    out
}

/// Whether text can follow `script` after ` && `: its last command ends the text, apart from
/// closing `)`, `}`, `fi`, `done` or `esac`, and it does not run in the background.
fn ends_cleanly(script: &str) -> bool {
    let parsed = kasane_shell::parse(script);
    let Some(last) = parsed.commands.last() else {
        return false;
    };
    if last.after == Connector::Background {
        return false;
    }
    let tail = &script[last.span.end.min(script.len())..];
    let mut closers = 0usize;
    let mut prev_semicolon = false;
    for token in tail.split_whitespace() {
        for part in token.split_inclusive(';') {
            let word = part.trim_end_matches(';');
            match word {
                "" => {}
                ")" | "}" | "fi" | "done" | "esac" | "))" => closers += 1,
                _ => return false,
            }
            prev_semicolon = part.ends_with(';');
        }
    }
    // Every closer must match a construct the script opened; a trailing `;` is not allowed.
    !prev_semicolon && closers <= last.depth && balanced_quotes(script)
}

/// A cheap check that quotes are closed (an open quote would swallow what is appended).
fn balanced_quotes(script: &str) -> bool {
    let mut single = false;
    let mut double = false;
    let mut escaped = false;
    for c in script.chars() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' if !single => escaped = true,
            '\'' if !double => single = !single,
            '"' if !single => double = !double,
            _ => {}
        }
    }
    !single && !double && !escaped
}

/// Whether running `script` changes state that a command after it in the same shell would
/// see: directory, variables, options, traps, umask, functions, aliases, or the shell itself
/// ending (`exit`, `exec`).
fn leaks_state(script: &str) -> bool {
    let parsed = kasane_shell::parse(script);
    let command_leaks = parsed.commands.iter().filter(|c| !c.in_subshell).any(|c| {
        files::changes_shell_state(c)
            || matches!(c.name(), Some("exec" | "command" | "builtin"))
            || matches!(
                c.program(),
                Some(
                    "exit"
                        | "return"
                        | "shift"
                        | "break"
                        | "continue"
                        | "eval"
                        | "read"
                        | "getopts"
                        | "hash"
                        | "wait"
                        | "function"
                )
            )
    });
    // Function definitions (`name() { ...; }`) are not commands to the reader.
    command_leaks || script.contains("()") || script.contains("( )")
}

#[cfg(test)]
mod tests;
