//! Checks that relate layers to each other: files removed or re-permissioned in a later layer
//! than the one that added them, the whole context copied before the dependency install, and
//! consecutive RUNs that could be one.

use kasane_dockerfile::{Arguments, InstructionKind};
use kasane_shell::package::{self, Action};
use kasane_shell::{Connector, files};

use super::{list_words, moves};
use crate::diagnostic::{Applicability, Edit, Fix, Span};
use crate::engine::{LintOptions, Sink};
use crate::model::{Model, join_path, span};
use crate::registry as r;

pub(crate) fn check(model: &Model<'_>, options: &LintOptions<'_>, sink: &mut Sink<'_>) {
    let shipped = model.shipped_stages();
    for st in &model.stages {
        if shipped.contains(&st.index) {
            added_then_changed(model, st.index, options, sink);
        }
        copy_all_before_install(model, st.from, st.end, options, sink);
    }
    mergeable_runs(model, sink);
    copy_ignored(model, options, sink);
}

/// The .dockerignore a BuildKit build of this context would use, compiled.
fn ignore_matcher(options: &LintOptions<'_>) -> Option<kasane_context::PatternMatcher> {
    let context = options.context?;
    let path = kasane_context::locate_ignore_file(
        context,
        options.dockerfile,
        kasane_context::Builder::BuildKit,
    )?;
    let lines = kasane_context::read_ignore_file(&path).ok()?;
    kasane_context::PatternMatcher::new(
        lines.iter().map(|l| l.pattern.as_slice()),
        kasane_context::Dialect::Moby,
    )
    .ok()
}

/// CopyIgnoredFile: a COPY/ADD source that .dockerignore leaves out of the context.
fn copy_ignored(model: &Model<'_>, options: &LintOptions<'_>, sink: &mut Sink<'_>) {
    let has_copy = model
        .instrs
        .iter()
        .any(|i| matches!(i.kind, InstructionKind::Copy | InstructionKind::Add));
    if !has_copy {
        return;
    }
    let Some(matcher) = ignore_matcher(options) else {
        return;
    };
    for (i, ins) in model.instrs.iter().enumerate() {
        if !matches!(ins.kind, InstructionKind::Copy | InstructionKind::Add)
            || ins.flag("from").is_some()
        {
            continue;
        }
        let words = list_words(ins);
        if words.len() < 2 {
            continue;
        }
        for w in &words[..words.len() - 1] {
            let v = model.expand(i, &w.value);
            if v.starts_with("<<") || super::instructions::is_url(&v) {
                continue;
            }
            let cleaned = join_path("/", &v);
            let rel = cleaned.trim_start_matches('/');
            if rel.is_empty() {
                continue;
            }
            if matcher.matches_cleaned(rel.as_bytes()).unwrap_or(false) {
                sink.report(
                    r::COPY_IGNORED_FILE,
                    span(w.span),
                    format!(
                        "`{v}` is excluded by .dockerignore, so it is not in the build context"
                    ),
                );
            }
        }
    }
}

/// Something an instruction put into its layer.
#[derive(Debug, Clone)]
struct Added {
    /// Absolute path.
    path: String,
    /// True when it is (or may be) a directory tree: removing anything under it counts.
    tree: bool,
    /// The instruction that added it.
    instr: usize,
    /// Its size when known (a COPY source found in the build context).
    bytes: Option<u64>,
}

/// Directories too broad to treat as "added by one instruction".
fn too_broad(path: &str) -> bool {
    matches!(
        path,
        "/" | "/usr"
            | "/usr/local"
            | "/usr/local/bin"
            | "/usr/bin"
            | "/bin"
            | "/sbin"
            | "/etc"
            | "/opt"
            | "/var"
            | "/tmp"
            | "/root"
            | "/home"
            | "/srv"
            | "/lib"
            | "/usr/lib"
            | "/usr/share"
            | "/var/lib"
            | "/var/cache"
            | "/var/tmp"
            | "/app"
    )
}

/// Paths that are package caches: KL301 reports those.
fn is_package_cache(path: &str) -> bool {
    [
        "/var/lib/apt/lists",
        "/var/cache/apt",
        "/var/cache/apk",
        "/root/.cache",
        "/root/.npm",
        "/var/cache/yum",
        "/var/cache/dnf",
    ]
    .iter()
    .any(|c| path.starts_with(c))
}

/// `~` and `$HOME` as root's home (builds run as root unless USER says otherwise).
fn home(path: &str) -> String {
    if let Some(rest) = path.strip_prefix('~') {
        format!("/root{rest}")
    } else {
        path.to_owned()
    }
}

/// Shell-style glob match of `pattern` (with `*` and `?`) against `text`; `*` does not cross
/// `/`.
fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' && t[ti] != '/' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star.filter(|_| t[mark] != '/') {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

/// True when removing `removed` (a path or glob) deletes something of `added`.
fn removes(removed: &str, added: &Added) -> bool {
    let under = |parent: &str, child: &str| {
        child.len() > parent.len()
            && child.starts_with(parent)
            && child.as_bytes()[parent.len()] == b'/'
    };
    glob(removed, &added.path)
        || (added.tree && under(&added.path, removed))
        || (!removed.contains(['*', '?']) && under(removed, &added.path) && !too_broad(removed))
}

/// The size of a context file, when the context is known.
fn context_size(options: &LintOptions<'_>, source: &str) -> Option<u64> {
    let dir = options.context?;
    if source.contains(['*', '?', '$']) {
        return None;
    }
    let meta = std::fs::metadata(dir.join(source.trim_start_matches('/'))).ok()?;
    meta.is_file().then_some(meta.len())
}

fn human(bytes: u64) -> String {
    if bytes >= 1_000_000 {
        format!("{:.1} MB", bytes as f64 / 1e6)
    } else if bytes >= 1_000 {
        format!("{:.1} kB", bytes as f64 / 1e3)
    } else {
        format!("{bytes} bytes")
    }
}

/// What COPY or ADD instruction `i` adds.
fn copy_added(model: &Model<'_>, i: usize, options: &LintOptions<'_>) -> Vec<Added> {
    let ins = &model.instrs[i];
    let words = list_words(ins);
    if words.len() < 2 {
        return Vec::new();
    }
    let workdir = &model.before[i].workdir;
    let (sources, dest) = words.split_at(words.len() - 1);
    let dest_value = model.expand(i, &dest[0].value);
    let dest_abs = join_path(workdir, &dest_value);
    let into_dir = dest_value.ends_with('/') || sources.len() > 1;
    let from_stage = ins.flag("from").is_some();
    let mut out = Vec::new();
    for s in sources {
        let v = model.expand(i, &s.value);
        if v.starts_with("<<") || super::instructions::is_url(&v) {
            // Heredoc or download: a file named after the heredoc/URL in dest.
            let name = v.rsplit('/').next().unwrap_or_default();
            let path = if into_dir {
                join_path(&dest_abs, name)
            } else {
                dest_abs.clone()
            };
            out.push(Added {
                path,
                tree: false,
                instr: i,
                bytes: None,
            });
            continue;
        }
        let trimmed = v.trim_end_matches('/');
        let is_dir_like = v == "." || v.ends_with('/') || v.contains('*') || from_stage;
        let base = trimmed.rsplit('/').next().unwrap_or(trimmed);
        let bytes = if from_stage {
            None
        } else {
            context_size(options, &v)
        };
        if into_dir && !is_dir_like && !base.is_empty() && base != "." {
            out.push(Added {
                path: join_path(&dest_abs, base),
                tree: bytes.is_none(),
                instr: i,
                bytes,
            });
        } else if !too_broad(&dest_abs) {
            out.push(Added {
                path: dest_abs.clone(),
                tree: true,
                instr: i,
                bytes,
            });
        }
    }
    out
}

/// What RUN `i` adds: download outputs, clones, copies, extraction directories.
fn run_added(model: &Model<'_>, i: usize) -> Vec<Added> {
    let Some(run) = &model.runs[i] else {
        return Vec::new();
    };
    let workdir = &model.before[i].workdir;
    let mut out = Vec::new();
    for c in &run.script.commands {
        if c.depth == 0 && c.program() == Some("cd") {
            // Relative paths after a cd are not ours to resolve.
            break;
        }
        let download_file = match files::download(c).map(|d| d.output) {
            Some(files::DownloadOutput::File { path, .. }) => Some(path),
            _ => None,
        };
        let created: Vec<String> = match download_file {
            Some(p) => vec![p],
            None => files::created_paths(c)
                .iter()
                .map(|w| w.value.clone())
                .collect(),
        };
        for p in created {
            if p.contains('$') || p.is_empty() || matches!(c.program(), Some("mkdir" | "touch")) {
                continue;
            }
            let abs = join_path(workdir, &p);
            if too_broad(&abs) {
                continue;
            }
            let tree = !matches!(c.program(), Some("curl" | "wget"))
                && !c
                    .redirects
                    .iter()
                    .any(|r| r.target.as_ref().is_some_and(|t| t.value == p));
            out.push(Added {
                path: abs,
                tree,
                instr: i,
                bytes: None,
            });
        }
    }
    out
}

/// KL304 and KL305 in one stage of the final image (following its FROM chain).
fn added_then_changed(
    model: &Model<'_>,
    stage: usize,
    options: &LintOptions<'_>,
    sink: &mut Sink<'_>,
) {
    // The instructions of the stage and of the stages it is built on, in build order.
    let mut chain = vec![stage];
    while let Some(b) = model.stages[*chain.last().unwrap_or(&stage)].base {
        if chain.contains(&b) {
            break;
        }
        chain.push(b);
    }
    chain.reverse();
    let mut added: Vec<Added> = Vec::new();
    let mut packages: Vec<(String, usize)> = Vec::new();
    for &s in &chain {
        let st = &model.stages[s];
        for i in st.from + 1..st.end {
            let ins = &model.instrs[i];
            match ins.kind {
                InstructionKind::Copy | InstructionKind::Add => {
                    added.extend(copy_added(model, i, options))
                }
                InstructionKind::Run => {
                    if s == stage {
                        changes_in_run(model, i, &added, &packages, sink);
                    }
                    added.extend(run_added(model, i));
                    if let Some(run) = &model.runs[i] {
                        for (_, inv) in package::invocations(&run.script.commands) {
                            if inv.manager.is_os() && inv.action == Action::Install {
                                packages.extend(inv.packages.iter().map(|p| (p.value.clone(), i)));
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

fn line_of(model: &Model<'_>, i: usize) -> u32 {
    model.instrs[i].start_line()
}

fn changes_in_run(
    model: &Model<'_>,
    i: usize,
    added: &[Added],
    packages: &[(String, usize)],
    sink: &mut Sink<'_>,
) {
    let Some(run) = &model.runs[i] else { return };
    let workdir = &model.before[i].workdir;
    let commands = &run.script.commands;
    for c in commands {
        if c.depth == 0 && c.program() == Some("cd") {
            break;
        }
        for w in files::removed_paths(c) {
            if w.value.contains('$') || w.value.is_empty() {
                continue;
            }
            let abs = join_path(workdir, &home(&w.value));
            if is_package_cache(&abs) {
                continue;
            }
            if let Some(a) = added.iter().find(|a| removes(&abs, a)) {
                let fix = removal_fix(model, i, c, &abs, a);
                let kind = model.instrs[a.instr].kind;
                let size = a.bytes.map_or_else(String::new, |b| {
                    format!("; its {} stay in the image", human(b))
                });
                let note = sink.note(
                    super::keyword_span(&model.instrs[a.instr])
                        .cover(span(model.instrs[a.instr].span)),
                    format!("`{}` was added here", a.path),
                );
                let f = sink.report(
                    r::REMOVED_IN_LATER_LAYER,
                    run.span(w.span.clone()),
                    format!(
                        "`{abs}` was added by the {kind} on line {}; removing it in a later layer hides it but does not shrink the image{size}",
                        line_of(model, a.instr)
                    ),
                )
;
                f.notes.push(note);
                f.fix = fix;
            }
        }
        if let Some(inv) = package::invocation(c)
            && inv.manager.is_os()
            && inv.action == Action::Remove
        {
            for p in &inv.packages {
                if let Some((_, at)) = packages.iter().find(|(name, _)| name == &p.value) {
                    sink.report(
                            r::REMOVED_IN_LATER_LAYER,
                            run.span(p.span.clone()),
                            format!(
                                "package `{}` was installed by the RUN on line {}; removing it in a later RUN does not shrink the image",
                                p.value,
                                line_of(model, *at)
                            ),
                        );
                }
            }
        }
        if let Some(m) = files::mode_change(c) {
            let tool = match m.tool {
                files::ModeTool::Chmod => "chmod",
                files::ModeTool::Chown => "chown",
                files::ModeTool::Chgrp => "chgrp",
            };
            for t in &m.targets {
                if t.value.contains(['$', '*']) {
                    continue;
                }
                let abs = join_path(workdir, &t.value);
                let Some(a) = added.iter().find(|a| {
                    a.path == abs
                        || (a.tree
                            && abs.starts_with(&a.path)
                            && abs.as_bytes().get(a.path.len()) == Some(&b'/'))
                }) else {
                    continue;
                };
                let source = &model.instrs[a.instr];
                let size = a
                    .bytes
                    .map_or_else(String::new, |b| format!(" ({})", human(b)));
                let big = m.recursive || a.bytes.is_some_and(|b| b >= 1_000_000);
                let f = sink.report(
                    r::CHMOD_SEPARATE_LAYER,
                    run.span(c.span.clone()),
                    format!(
                        "{tool} of `{abs}`, added by the {} on line {}, stores the files again in this layer{size}",
                        source.kind,
                        source.start_line()
                    ),
                );
                if big {
                    f.severity = crate::diagnostic::Severity::Warning;
                }
                f.fix = chmod_fix(model, i, c, &m, a, commands.len());
                break;
            }
        }
    }
}

/// KL305's fix. For files a COPY/ADD added: a lone `chmod MODE path` / `chown OWNER path`
/// becomes `--chmod`/`--chown` of that COPY and the RUN goes. For files a RUN created: the
/// command moves to the end of that RUN (safe when nothing between them could see the
/// difference).
fn chmod_fix(
    model: &Model<'_>,
    i: usize,
    c: &kasane_shell::Command,
    m: &files::ModeChange<'_>,
    a: &Added,
    command_count: usize,
) -> Option<Fix> {
    let source = &model.instrs[a.instr];
    if c.uses_sudo().is_some() {
        return None;
    }
    if source.kind == InstructionKind::Run {
        let target = m.targets.first()?;
        return move_command(
            model,
            i,
            c,
            &target.value,
            a.instr,
            format!(
                "run it at the end of the RUN on line {} that created the files",
                source.start_line()
            ),
        );
    }
    if command_count != 1 || !matches!(source.kind, InstructionKind::Copy | InstructionKind::Add) {
        return None;
    }
    let spec = m.spec?.value.clone();
    let (flag, value) = match m.tool {
        files::ModeTool::Chmod
            if spec.len() >= 3 && spec.chars().all(|d| ('0'..='7').contains(&d)) =>
        {
            ("chmod", spec)
        }
        files::ModeTool::Chown if !spec.contains(['$', ' ']) => ("chown", spec),
        _ => return None,
    };
    if source.flag(flag).is_some() || m.targets.len() != 1 {
        return None;
    }
    let run = &model.instrs[i];
    Some(Fix::new(
        format!("use COPY --{flag}={value} and drop this RUN"),
        Applicability::Unsafe,
        vec![
            Edit::insert(span(source.keyword.span).end, format!(" --{flag}={value}")),
            Edit::delete(span(run.extent)),
        ],
    ))
}

/// Moves command `c` of RUN `i`, which works on `path`, to the end of the earlier RUN `to`.
/// Not offered when a command before it in its RUN, or a RUN between, names the file (it would
/// run after the move and miss it). Safe when `c` is its RUN's first command and only config
/// instructions lie between; unsafe otherwise (a RUN between may still touch the file).
fn move_command(
    model: &Model<'_>,
    i: usize,
    c: &kasane_shell::Command,
    path: &str,
    to: usize,
    description: String,
) -> Option<Fix> {
    let run = model.runs[i].as_ref()?;
    let ci = moves::command_index(run, c)?;
    let text = moves::command_text(model, i, c)?;
    if to >= i || model.runs[to].as_ref().is_none_or(|r| r.heredoc) {
        return None;
    }
    let name = path
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(path);
    if name.is_empty() {
        return None;
    }
    let names = |c: &kasane_shell::Command| c.words.iter().any(|w| w.value.contains(name));
    let earlier = run.script.commands[..ci].iter().any(names);
    let between = (to + 1..i).any(|k| {
        model.runs[k]
            .as_ref()
            .is_some_and(|r| r.script.commands.iter().any(names))
            || (model.instrs[k].kind == InstructionKind::Run && model.runs[k].is_none())
    });
    if earlier || between {
        return None;
    }
    let quiet = ci == 0 && moves::quiet_between(model, to, i, text);
    let (at, sep) = moves::append_point(model, to)?;
    let mut edits = moves::remove_command(model, i, ci)?;
    edits.push(Edit::insert(at, format!("{sep}{text}")));
    let applicability = if quiet {
        Applicability::Safe
    } else {
        Applicability::Unsafe
    };
    Some(Fix::new(description, applicability, edits))
}

/// KL304's fix for a single removed path. A file a RUN created: the `rm` moves into that RUN.
/// A file a plain `COPY src dest` added just before this RUN: the COPY goes and this RUN
/// mounts `src` at `dest` instead (BuildKit only, so unsafe).
fn removal_fix(
    model: &Model<'_>,
    i: usize,
    c: &kasane_shell::Command,
    abs: &str,
    a: &Added,
) -> Option<Fix> {
    if files::removed_paths(c).len() != 1 || c.uses_sudo().is_some() {
        return None;
    }
    let source = &model.instrs[a.instr];
    match source.kind {
        InstructionKind::Run if a.path == abs => move_command(
            model,
            i,
            c,
            abs,
            a.instr,
            format!(
                "remove it at the end of the RUN on line {} that created it",
                source.start_line()
            ),
        ),
        InstructionKind::Copy => {
            let words = list_words(source);
            let plain = |v: &str| {
                !v.is_empty()
                    && !v.contains(['*', '?', '[', '$', ',', '=', ' ', '"', '\'', '\\'])
                    && !v.starts_with("<<")
                    && !v.contains("://")
            };
            let Arguments::List(_) = &source.args else {
                return None;
            };
            if !source.flags.is_empty()
                || !source.heredocs.is_empty()
                || words.len() != 2
                || a.path != abs
                || !plain(&words[0].value)
                || words[0].value.ends_with('/')
                || !plain(abs)
                || !moves::inert_between(model, a.instr, i, "")
            {
                return None;
            }
            let run = model.runs[i].as_ref()?;
            let ci = moves::command_index(run, c)?;
            let mut edits = vec![Edit::delete(span(source.extent))];
            if run.script.commands.len() == 1 {
                // Copied and deleted with nothing in between: both go.
                edits.push(Edit::delete(span(model.instrs[i].extent)));
            } else {
                edits.extend(moves::remove_command(model, i, ci)?);
                edits.push(Edit::insert(
                    span(model.instrs[i].keyword.span).end,
                    format!(
                        " --mount=type=bind,source={},target={abs},rw",
                        words[0].value
                    ),
                ));
            }
            Some(Fix::new(
                format!(
                    "mount {} into this RUN instead of copying it on line {} (needs BuildKit)",
                    words[0].value,
                    source.start_line()
                ),
                Applicability::Unsafe,
                edits,
            ))
        }
        _ => None,
    }
}

/// True for a COPY/ADD that copies the whole context (`.`, `./`, `*`).
fn copies_everything(model: &Model<'_>, i: usize) -> bool {
    let ins = &model.instrs[i];
    if !matches!(ins.kind, InstructionKind::Copy | InstructionKind::Add)
        || ins.flag("from").is_some()
    {
        return false;
    }
    let words = list_words(ins);
    words.len() >= 2
        && words[..words.len() - 1]
            .iter()
            .any(|w| matches!(w.value.as_str(), "." | "./" | "*" | "./*" | "./."))
}

fn copy_all_before_install(
    model: &Model<'_>,
    from: usize,
    end: usize,
    options: &LintOptions<'_>,
    sink: &mut Sink<'_>,
) {
    let mut copy_all: Option<usize> = None;
    for i in from + 1..end {
        if copy_all.is_none() && copies_everything(model, i) {
            copy_all = Some(i);
            continue;
        }
        let (Some(c), Some(run)) = (copy_all, &model.runs[i]) else {
            continue;
        };
        let install = run.script.commands.iter().find_map(|cmd| {
            let inv = package::invocation(cmd)?;
            let sub = inv.subcommand.map_or("", |w| w.as_str());
            let install = (inv.action == Action::Install && inv.from_manifest)
                || (inv.manager == package::Manager::Go && sub == "mod")
                || (inv.manager == package::Manager::Cargo && sub == "fetch");
            install.then_some(cmd)
        });
        if let Some(cmd) = install {
            let what = cmd
                .words
                .iter()
                .take(3)
                .map(|w| w.value.as_str())
                .collect::<Vec<_>>()
                .join(" ");
            let note = sink.note(
                run.span(cmd.span.clone()),
                "dependencies are installed here",
            );
            let fix = manifests_first_fix(model, c, i, cmd, options);
            let f = sink.report(
                r::COPY_ALL_BEFORE_INSTALL,
                span(model.instrs[c].span),
                format!("the whole context is copied before `{what}`: any source change reinstalls every dependency; copy the manifest and lock files first"),
            );
            f.notes.push(note);
            f.fix = fix;
            return;
        }
    }
}

/// The manifest and lock files an install reads, relative to the context (the install runs
/// where `COPY . DEST` put the context). `None` when kasane cannot tell the install needs
/// nothing else (workspaces, local packages, a requirements file that includes others).
fn install_manifests(
    inv: &package::Invocation<'_>,
    context: &std::path::Path,
) -> Option<Vec<String>> {
    let exists = |p: &str| context.join(p).is_file();
    let optional = |names: &[&str]| -> Vec<String> {
        names
            .iter()
            .filter(|n| exists(n))
            .map(|n| (*n).to_owned())
            .collect()
    };
    let mut files = match inv.manager {
        package::Manager::Npm | package::Manager::Yarn | package::Manager::Pnpm => {
            if context.join(".yarn").exists() || exists("pnpm-workspace.yaml") {
                return None;
            }
            let mut v = vec!["package.json".to_owned()];
            v.extend(optional(&[
                "package-lock.json",
                "npm-shrinkwrap.json",
                "yarn.lock",
                "pnpm-lock.yaml",
                ".npmrc",
                ".yarnrc",
            ]));
            v
        }
        package::Manager::Go => {
            if exists("go.work") {
                return None;
            }
            let mut v = vec!["go.mod".to_owned()];
            v.extend(optional(&["go.sum"]));
            v
        }
        _ => return None,
    };
    files.dedup();
    files.iter().all(|f| exists(f)).then_some(files)
}

/// KL401's fix: copy the manifests, install, then copy everything (unsafe: the install may
/// read other files, such as postinstall scripts or local packages).
fn manifests_first_fix(
    model: &Model<'_>,
    copy: usize,
    run: usize,
    cmd: &kasane_shell::Command,
    options: &LintOptions<'_>,
) -> Option<Fix> {
    let context = options.context?;
    let ins = &model.instrs[copy];
    let words = list_words(ins);
    let rs = model.runs[run].as_ref()?;
    if run != copy + 1
        || words.len() != 2
        || !matches!(ins.args, Arguments::List(_))
        || rs.heredoc
        || !rs
            .script
            .commands
            .iter()
            .all(|c| c.depth == 0 && package::invocation(c).is_some())
        || !model.instrs[run].heredocs.is_empty()
    {
        return None;
    }
    let inv = package::invocation(cmd)?;
    let files = install_manifests(&inv, context)?;
    if let Some(matcher) = ignore_matcher(options)
        && files
            .iter()
            .any(|f| matcher.matches_cleaned(f.as_bytes()).unwrap_or(true))
    {
        return None;
    }
    let dest = model.df.text(words[1].span);
    if dest.contains('$') {
        return None;
    }
    let dest = if dest == "." {
        "./".to_owned()
    } else if dest.ends_with('/') {
        dest.to_owned()
    } else {
        format!("{dest}/")
    };
    let head = &model.src[ins.span.start.offset..words[0].span.start.offset];
    let nl = if model.src.contains("\r\n") {
        "\r\n"
    } else {
        "\n"
    };
    let run_text = model.df.text(model.instrs[run].span);
    Some(Fix::new(
        format!(
            "copy {} first and install before copying the rest",
            files.join(", ")
        ),
        Applicability::Unsafe,
        vec![
            Edit::insert(
                ins.span.start.offset,
                format!("{head}{} {dest}{nl}{run_text}{nl}", files.join(" ")),
            ),
            Edit::delete(span(model.instrs[run].extent)),
        ],
    ))
}

/// Programs that are quick, local and deterministic: separate cache entries buy nothing.
pub(crate) fn light(program: &str) -> bool {
    matches!(
        program,
        "mkdir"
            | "ln"
            | "chmod"
            | "chown"
            | "chgrp"
            | "echo"
            | "printf"
            | "touch"
            | "cp"
            | "mv"
            | "rm"
            | "useradd"
            | "adduser"
            | "groupadd"
            | "addgroup"
            | "usermod"
            | "sed"
            | "true"
            | "ls"
            | "install"
            | "rmdir"
            | "test"
            | "["
            | "id"
            | "env"
            | "tee"
            | "cat"
            | "unlink"
            | "update-alternatives"
            | "locale-gen"
            | "localedef"
            | "ldconfig"
            | "setcap"
    )
}

fn mergeable(model: &Model<'_>, i: usize) -> bool {
    let Some(run) = &model.runs[i] else {
        return false;
    };
    let ins = &model.instrs[i];
    !run.heredoc
        && ins.heredocs.is_empty()
        && !run.script.commands.is_empty()
        && run
            .script
            .commands
            .iter()
            .all(|c| c.program().is_some_and(light) && c.after != Connector::Background)
}

/// DL3059, with judgement: only consecutive RUNs of quick commands.
fn mergeable_runs(model: &Model<'_>, sink: &mut Sink<'_>) {
    for i in 1..model.instrs.len() {
        let (a, b) = (&model.instrs[i - 1], &model.instrs[i]);
        if a.kind != InstructionKind::Run || b.kind != InstructionKind::Run {
            continue;
        }
        if model.stage_of[i] != model.stage_of[i - 1]
            || !mergeable(model, i - 1)
            || !mergeable(model, i)
        {
            continue;
        }
        let flags = |ins: &kasane_dockerfile::Instruction| {
            ins.flags.iter().map(|f| f.text.clone()).collect::<Vec<_>>()
        };
        if flags(a) != flags(b) {
            continue;
        }
        let Some(ra) = &model.runs[i - 1] else {
            continue;
        };
        // State the first RUN leaves for its own later commands would leak into the second.
        if ra
            .script
            .commands
            .iter()
            .any(|c| c.depth == 0 && !c.in_subshell && files::changes_shell_state(c))
        {
            continue;
        }
        let f = sink.report(
            r::MERGEABLE_RUNS,
            super::keyword_span(b),
            "this RUN and the one before it are quick local commands: one RUN would save a layer and lose no useful cache",
        );
        // The fix joins the scripts: everything from the end of the first script to the
        // start of the second becomes `&&`. Not offered when a comment sits in between or at
        // the end of the first script (it would swallow the second).
        let Arguments::Shell(wb) = &b.args else {
            continue;
        };
        let last = ra
            .script
            .commands
            .last()
            .map(|c| c.span.end)
            .unwrap_or_default();
        let between_clean = a.extent.end.offset == b.extent.start.offset;
        if ra.text.text().trim_end().len() == last && between_clean {
            let end_a = ra.span(last.saturating_sub(1)..last).end;
            let start_b = span(wb.span).start;
            f.fix = Some(Fix::new(
                "merge into the previous RUN",
                Applicability::Safe,
                vec![Edit::replace(
                    Span::new(end_a, start_b),
                    format!(" {}\n    && ", model.df.escape()),
                )],
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob("/tmp/*", "/tmp/a.tgz"));
        assert!(!glob("/tmp/*", "/tmp/a/b"));
        assert!(glob("/tmp/a?.tgz", "/tmp/ab.tgz"));
        assert!(glob("/x", "/x"));
        assert!(!glob("/x", "/xy"));
    }

    #[test]
    fn removal_matching() {
        let file = Added {
            path: "/tmp/a.tgz".into(),
            tree: false,
            instr: 0,
            bytes: None,
        };
        assert!(removes("/tmp/a.tgz", &file));
        assert!(removes("/tmp/*.tgz", &file));
        assert!(!removes("/tmp", &file), "too broad a parent");
        let tree = Added {
            path: "/opt/src".into(),
            tree: true,
            instr: 0,
            bytes: None,
        };
        assert!(removes("/opt/src/docs", &tree));
        assert!(removes("/opt/src", &tree));
        assert!(!removes("/opt/srcx", &tree));
    }

    #[test]
    fn light_commands() {
        assert!(light("mkdir"));
        assert!(!light("apt-get"));
        assert!(!light("git"));
    }

    #[test]
    fn sizes_are_human() {
        assert_eq!(human(5_000_000), "5.0 MB");
        assert_eq!(human(999), "999 bytes");
    }
}
