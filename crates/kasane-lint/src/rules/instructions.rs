//! Checks that read one instruction at a time (with the scope before it).

use std::collections::BTreeSet;

use kasane_dockerfile::scope::{PLATFORM_ARGS, ResolvedInstruction, VarOrigin};
use kasane_dockerfile::{Arguments, Instruction, InstructionKind, WarningKind};

use super::{instruction_span, keyword_span, list_words, suggest};
use crate::diagnostic::{Applicability, Edit, Fix, Span};
use crate::engine::Sink;
use crate::model::{Model, is_predefined_arg, span};
use crate::registry as r;

pub(crate) fn check(model: &Model<'_>, sink: &mut Sink<'_>) {
    empty_continuations(model, sink);
    casing(model, sink);
    let first_from = model
        .instrs
        .iter()
        .position(|i| i.kind == InstructionKind::From)
        .unwrap_or(model.instrs.len());
    for (i, ins) in model.instrs.iter().enumerate() {
        validate(model, i, ins, sink);
        undefined_vars(model, i, ins, sink);
        if i < first_from && !matches!(ins.kind, InstructionKind::Arg | InstructionKind::Unknown) {
            sink.report(
                r::INSTRUCTION_BEFORE_FROM,
                keyword_span(ins),
                format!(
                    "{} before the first FROM; only ARG may come before FROM",
                    ins.kind
                ),
            );
        }
        match ins.kind {
            InstructionKind::Maintainer => maintainer(model, ins, sink),
            InstructionKind::Env | InstructionKind::Label => {
                legacy_key_value(model, ins, sink);
                if ins.kind == InstructionKind::Env {
                    env_self_reference(model, ins, sink);
                    secrets_env(ins, sink);
                }
            }
            InstructionKind::Arg => {
                secrets_arg(ins, sink);
                definition_description(ins, sink);
            }
            InstructionKind::Cmd | InstructionKind::Entrypoint => json_args(model, i, ins, sink),
            InstructionKind::Workdir => workdir_relative(model, i, ins, sink),
            InstructionKind::Expose => expose(model, i, ins, sink),
            InstructionKind::Copy | InstructionKind::Add => copy_add(model, i, ins, sink),
            InstructionKind::Onbuild => onbuild(ins, sink),
            InstructionKind::From => definition_description(ins, sink),
            _ => {}
        }
    }
}

fn empty_continuations(model: &Model<'_>, sink: &mut Sink<'_>) {
    for w in model.df.warnings() {
        if w.kind != WarningKind::EmptyContinuationLine {
            continue;
        }
        let s = span(w.span);
        // Delete the whole line, line break included.
        let line_start = model.src[..s.start].rfind('\n').map_or(0, |p| p + 1);
        let line_end = model.src[s.end..]
            .find('\n')
            .map_or(model.src.len(), |p| s.end + p + 1);
        let at = Span::new(line_start, line_start.max(s.end));
        sink.report(
            r::EMPTY_CONTINUATION,
            at,
            "empty line inside a continued instruction (BuildKit will make this an error)",
        )
        .fix = Some(Fix::new(
            "remove the empty line",
            Applicability::Safe,
            vec![Edit::delete(Span::new(line_start, line_end))],
        ));
    }
}

fn is_upper(s: &str) -> bool {
    !s.chars().any(|c| c.is_ascii_lowercase())
}

fn is_lower(s: &str) -> bool {
    !s.chars().any(|c| c.is_ascii_uppercase())
}

/// StageNameCasing, FromAsCasing and ConsistentInstructionCasing.
fn casing(model: &Model<'_>, sink: &mut Sink<'_>) {
    let (mut upper, mut lower) = (0usize, 0usize);
    for ins in model.instrs {
        let k = &ins.keyword.value;
        if is_upper(k) {
            upper += 1;
        } else if is_lower(k) {
            lower += 1;
        }
    }
    let want_lower = lower > upper;
    for ins in model.instrs {
        let k = &ins.keyword.value;
        let ok = if want_lower { is_lower(k) } else { is_upper(k) };
        if ok || ins.kind == InstructionKind::Unknown {
            continue;
        }
        let expected = if want_lower {
            k.to_ascii_lowercase()
        } else {
            k.to_ascii_uppercase()
        };
        let why = if is_upper(k) || is_lower(k) {
            format!(
                "most instructions are {}",
                if want_lower { "lowercase" } else { "uppercase" }
            )
        } else {
            "mixed-case keyword".to_owned()
        };
        let fix = Fix::new(
            format!("write `{expected}`"),
            Applicability::Safe,
            vec![Edit::replace(keyword_span(ins), expected.clone())],
        );
        sink.report(
            r::INSTRUCTION_CASING,
            keyword_span(ins),
            format!("`{k}` should be written `{expected}` ({why})"),
        )
        .fix = Some(fix);
    }
    for st in &model.stages {
        if let Some(name) = st.name_word
            && name.value != name.value.to_ascii_lowercase()
        {
            let lower = name.value.to_ascii_lowercase();
            sink.report(
                r::STAGE_NAME_CASING,
                span(name.span),
                format!("stage name `{}` should be lowercase", name.value),
            )
            .fix = Some(Fix::new(
                format!("rename to `{lower}`"),
                Applicability::Safe,
                vec![Edit::replace(span(name.span), lower)],
            ));
        }
        if let Some(as_word) = st.as_word {
            let from = &st.from_instr.keyword.value;
            let from_upper = is_upper(from);
            if from_upper != is_upper(&as_word.value) && (from_upper || is_lower(from)) {
                let expected = if from_upper { "AS" } else { "as" };
                sink.report(
                    r::FROM_AS_CASING,
                    span(as_word.span),
                    format!("`{}` does not match the casing of `{from}`", as_word.value),
                )
                .fix = Some(Fix::new(
                    format!("write `{expected}`"),
                    Applicability::Safe,
                    vec![Edit::replace(span(as_word.span), expected)],
                ));
            }
        }
    }
}

/// Flags each instruction accepts (BuildKit's instruction layer).
fn allowed_flags(kind: InstructionKind) -> &'static [&'static str] {
    match kind {
        InstructionKind::From => &["platform"],
        InstructionKind::Copy => &["from", "chown", "chmod", "link", "parents", "exclude"],
        InstructionKind::Add => &[
            "chown",
            "chmod",
            "link",
            "keep-git-dir",
            "checksum",
            "unpack",
            "exclude",
        ],
        InstructionKind::Run => &["mount", "network", "security", "device"],
        InstructionKind::Healthcheck => &[
            "interval",
            "timeout",
            "start-period",
            "start-interval",
            "retries",
        ],
        _ => &[],
    }
}

/// BuildKit's instruction-layer errors that the syntax tree does not report.
fn validate(model: &Model<'_>, _i: usize, ins: &Instruction, sink: &mut Sink<'_>) {
    if ins.kind == InstructionKind::Unknown {
        let k = ins.keyword.value.to_ascii_lowercase();
        let names = InstructionKind::ALL.map(|k| k.as_str());
        let mut msg = format!("unknown instruction: {}", ins.keyword.value);
        if let Some(s) = suggest(&k.to_ascii_uppercase(), names) {
            msg.push_str(&format!(" (did you mean {s}?)"));
        }
        sink.report(r::PARSE_ERROR, keyword_span(ins), msg);
        return;
    }
    let allowed = allowed_flags(ins.kind);
    for f in &ins.flags {
        if !allowed.contains(&f.name.as_str()) {
            let mut msg = format!("unknown flag: --{}", f.name);
            if let Some(s) = suggest(&f.name, allowed.iter().copied()) {
                msg.push_str(&format!(" (did you mean --{s}?)"));
            }
            sink.report(r::PARSE_ERROR, span(f.span), msg);
        } else if f.name == "from" && f.value.as_deref().is_some_and(|v| v.contains('$')) {
            sink.report(
                r::PARSE_ERROR,
                span(f.span),
                "variable expansion is not supported for --from; define a stage with FROM and use its name",
            );
        }
    }
    let n = list_words(ins).len();
    match ins.kind {
        InstructionKind::Copy | InstructionKind::Add if n < 2 => {
            sink.report(
                r::PARSE_ERROR,
                instruction_span(ins),
                format!(
                    "{} requires at least two arguments, but only {n} provided",
                    ins.kind
                ),
            );
        }
        InstructionKind::From if n != 1 && n != 3 => {
            sink.report(
                r::PARSE_ERROR,
                instruction_span(ins),
                "FROM requires either one or three arguments",
            );
        }
        InstructionKind::From if n == 3 && !list_words(ins)[1].value.eq_ignore_ascii_case("as") => {
            sink.report(
                r::PARSE_ERROR,
                span(list_words(ins)[1].span),
                "FROM with three arguments needs AS as the second",
            );
        }
        InstructionKind::Shell if !matches!(ins.args, Arguments::Exec(_)) => {
            sink.report(
                r::PARSE_ERROR,
                instruction_span(ins),
                "SHELL requires the arguments to be in JSON form",
            );
        }
        _ => {}
    }
    let _ = model;
}

/// The words of an instruction that BuildKit expands itself.
fn expanded_words(ins: &Instruction) -> Vec<&kasane_dockerfile::Word> {
    match ins.kind {
        InstructionKind::Copy
        | InstructionKind::Add
        | InstructionKind::Workdir
        | InstructionKind::User
        | InstructionKind::Expose
        | InstructionKind::Volume
        | InstructionKind::Stopsignal
        | InstructionKind::Label => ins.args.words(),
        InstructionKind::Env => match &ins.args {
            Arguments::KeyValues(kv) => kv.iter().map(|p| &p.value).collect(),
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// UndefinedVar, limited to what a Dockerfile alone can prove: a base image may set any
/// variable, so kasane reports only names declared before FROM but not in the stage, the
/// automatic platform ARGs used without `ARG NAME`, and names one edit away from a declared
/// variable.
fn undefined_vars(model: &Model<'_>, i: usize, ins: &Instruction, sink: &mut Sink<'_>) {
    if model.stage_of[i].is_none() {
        return;
    }
    let vars = model.before[i].vars;
    for w in expanded_words(ins) {
        if !w.value.contains('$') || w.value.starts_with("<<") {
            continue;
        }
        let Ok(e) = model.lexer.process_word(&w.value, &*vars.env) else {
            continue;
        };
        for name in &e.refs.unmatched {
            if vars.knows(name) || is_predefined_arg(name) {
                continue;
            }
            let msg = if model.scope.meta_declared.contains(name) {
                format!(
                    "`${name}` is declared before FROM but not in this stage; add `ARG {name}` after FROM to use it here"
                )
            } else if PLATFORM_ARGS.contains(&name.as_str()) {
                format!(
                    "`${name}` is an automatic platform ARG; declare it with `ARG {name}` in the stage to use it here"
                )
            } else if let Some(s) = suggest(name, dockerfile_names(vars)) {
                format!("`${name}` is not defined; did you mean `${s}`?")
            } else {
                continue;
            };
            sink.report(r::UNDEFINED_VAR, span(w.span), msg);
        }
    }
}

/// The variable names the Dockerfile itself sets or declares before an instruction (not those
/// of the base image or BuildKit's default `PATH`: `$GOPATH` is not a typo of `$PATH`).
fn dockerfile_names(vars: &ResolvedInstruction) -> impl Iterator<Item = &str> {
    let set = vars
        .env
        .iter()
        .filter(|(_, v)| matches!(v.origin, VarOrigin::Arg(_) | VarOrigin::Env(_)))
        .map(|(name, _)| name);
    let declared = vars.declared.iter().map(String::as_str);
    set.chain(declared).collect::<BTreeSet<_>>().into_iter()
}

fn maintainer(model: &Model<'_>, ins: &Instruction, sink: &mut Sink<'_>) {
    let value = match &ins.args {
        Arguments::Text(w) => w.value.trim().to_owned(),
        _ => String::new(),
    };
    let f = sink.report(
        r::MAINTAINER_DEPRECATED,
        keyword_span(ins),
        "MAINTAINER is deprecated; use the org.opencontainers.image.authors label",
    );
    if !value.is_empty() && !value.contains(['\\', '\n']) {
        let escaped = value.replace('"', "\\\"");
        let label = if is_upper(&ins.keyword.value) {
            "LABEL"
        } else {
            "label"
        };
        f.fix = Some(Fix::new(
            "replace by a LABEL",
            Applicability::Safe,
            vec![Edit::replace(
                instruction_span(ins),
                format!("{label} org.opencontainers.image.authors=\"{escaped}\""),
            )],
        ));
    }
    let _ = model;
}

fn legacy_key_value(model: &Model<'_>, ins: &Instruction, sink: &mut Sink<'_>) {
    let Arguments::KeyValues(pairs) = &ins.args else {
        return;
    };
    for kv in pairs.iter().filter(|kv| !kv.has_equals) {
        let key = &kv.key.value;
        let value = kv.value.value.trim_end();
        let f = sink.report(
            r::LEGACY_KEY_VALUE,
            span(kv.span),
            format!(
                "`{} {key} <value>` is the legacy form; write `{key}=<value>`",
                ins.kind
            ),
        );
        let plain = !value.contains(['"', '\'', '\\', '\n', '`']);
        if plain {
            let new_value = if value.contains(char::is_whitespace) || value.is_empty() {
                format!("\"{value}\"")
            } else {
                value.to_owned()
            };
            f.fix = Some(Fix::new(
                format!("write `{key}={new_value}`"),
                Applicability::Safe,
                vec![Edit::replace(
                    Span::new(
                        span(kv.key.span).start,
                        span(kv.value.span).start + value.len(),
                    ),
                    format!("{key}={new_value}"),
                )],
            ));
        }
    }
    let _ = model;
}

/// Names of variables referenced in `text` (`$NAME`, `${NAME...}`), skipping `\$` and
/// single-quoted text.
pub(crate) fn referenced_vars(text: &str) -> Vec<&str> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut in_single = false;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'\'' => {
                in_single = !in_single;
                i += 1;
            }
            b'$' if !in_single => {
                let start = if b.get(i + 1) == Some(&b'{') {
                    i + 2
                } else {
                    i + 1
                };
                let mut end = start;
                while end < b.len() && (b[end].is_ascii_alphanumeric() || b[end] == b'_') {
                    end += 1;
                }
                if end > start && !b[start].is_ascii_digit() {
                    out.push(&text[start..end]);
                }
                i = end.max(i + 1);
            }
            _ => i += 1,
        }
    }
    out
}

fn env_self_reference(model: &Model<'_>, ins: &Instruction, sink: &mut Sink<'_>) {
    let Arguments::KeyValues(pairs) = &ins.args else {
        return;
    };
    for (j, kv) in pairs.iter().enumerate() {
        for name in referenced_vars(&kv.value.value) {
            if let Some(def) = pairs[..j].iter().find(|p| p.key.value == name) {
                let note = sink.note(span(def.key.span), "defined here, in the same ENV");
                let f = sink.report(
                    r::ENV_SELF_REFERENCE,
                    span(kv.value.span),
                    format!(
                        "`{name}` is set by this same ENV, but the value here is the one from before it"
                    ),
                );
                f.notes.push(note);
            }
        }
    }
    let _ = model;
}

/// BuildKit's secret-name test: a `_`-delimited token that names a secret, and none that
/// marks it as harmless.
pub(crate) fn looks_secret(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let tokens: Vec<&str> = lower.split('_').collect();
    let has = |words: &[&str]| tokens.iter().any(|t| words.contains(t));
    has(&[
        "apikey",
        "auth",
        "credential",
        "credentials",
        "key",
        "password",
        "pword",
        "passwd",
        "secret",
        "token",
    ]) && !has(&["public", "file", "version"])
}

fn secrets_env(ins: &Instruction, sink: &mut Sink<'_>) {
    let Arguments::KeyValues(pairs) = &ins.args else {
        return;
    };
    for kv in pairs {
        if looks_secret(&kv.key.value) {
            sink.report(
                r::SECRETS_IN_ARG_OR_ENV,
                span(kv.key.span),
                format!(
                    "ENV `{}` looks like a secret; ENV values are stored in the image config",
                    kv.key.value
                ),
            );
        }
    }
}

fn secrets_arg(ins: &Instruction, sink: &mut Sink<'_>) {
    for w in list_words(ins) {
        let name = w.value.split('=').next().unwrap_or_default();
        if looks_secret(name) {
            let s = span(w.span);
            sink.report(
                r::SECRETS_IN_ARG_OR_ENV,
                Span::new(s.start, s.start + name.len()),
                format!(
                    "ARG `{name}` looks like a secret; ARG values are stored in the image history"
                ),
            );
        }
    }
}

fn definition_description(ins: &Instruction, sink: &mut Sink<'_>) {
    let name = match ins.kind {
        InstructionKind::Arg => list_words(ins)
            .first()
            .map(|w| w.value.split('=').next().unwrap_or_default().to_owned()),
        InstructionKind::From => list_words(ins).get(2).map(|w| w.value.clone()),
        _ => None,
    };
    let (Some(name), Some(first)) = (name, ins.comments.first()) else {
        return;
    };
    let first_word = first.split_whitespace().next().unwrap_or_default();
    if first_word != name {
        sink.report(
            r::INVALID_DEFINITION_DESCRIPTION,
            keyword_span(ins),
            format!("the comment above should start with `{name}` to describe it (`# {name} <description>`)"),
        );
    }
}

fn json_args(model: &Model<'_>, i: usize, ins: &Instruction, sink: &mut Sink<'_>) {
    let Arguments::Shell(w) = &ins.args else {
        return;
    };
    if model.before[i].shell.is_some() || model.stage_of[i].is_none() {
        return;
    }
    let f = sink.report(
        r::JSON_ARGS,
        instruction_span(ins),
        format!(
            "{} in shell form runs under /bin/sh, which does not pass signals on; use the JSON form",
            ins.kind
        ),
    );
    // Converting is safe only when the shell would not have done anything.
    let cmd = w.value.trim();
    let special = |c: char| "$&|;<>*?\"'\\`~(){}[]#=!\n".contains(c);
    if !cmd.is_empty() && !cmd.contains(special) {
        let items: Vec<String> = cmd.split_whitespace().map(|s| format!("\"{s}\"")).collect();
        f.fix = Some(Fix::new(
            "use the JSON (exec) form",
            Applicability::Safe,
            vec![Edit::replace(
                span(w.span),
                format!("[{}]", items.join(", ")),
            )],
        ));
    }
}

fn is_absolute(path: &str) -> bool {
    let b = path.as_bytes();
    path.starts_with('/')
        || path.starts_with('\\')
        || (b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':')
}

fn workdir_relative(model: &Model<'_>, i: usize, ins: &Instruction, sink: &mut Sink<'_>) {
    let Arguments::Text(w) = &ins.args else {
        return;
    };
    if model.before[i].workdir_set || model.stage_of[i].is_none() {
        return;
    }
    let Ok(e) = model.lexer.process_word(&w.value, model.before[i].env()) else {
        return;
    };
    // A variable that is not ours to know (set by the base image) may hold an absolute path.
    if !e.refs.unmatched.is_empty() || is_absolute(&e.value) {
        return;
    }
    sink.report(
        r::WORKDIR_RELATIVE,
        span(w.span),
        format!(
            "relative WORKDIR `{}` depends on the base image's working directory",
            e.value
        ),
    );
}

fn expose(model: &Model<'_>, i: usize, ins: &Instruction, sink: &mut Sink<'_>) {
    for w in list_words(ins) {
        let Ok(e) = model.lexer.process_word(&w.value, model.before[i].env()) else {
            continue;
        };
        if !e.refs.unmatched.is_empty() || e.value.is_empty() {
            continue;
        }
        let value = e.value;
        let s = span(w.span);
        if value.contains(':') {
            sink.report(
                r::EXPOSE_INVALID_FORMAT,
                s,
                format!("EXPOSE `{value}` names an address or a host port; EXPOSE takes `port[/protocol]`"),
            );
            continue;
        }
        let (ports, proto) = match value.split_once('/') {
            Some((p, pr)) => (p, Some(pr)),
            None => (value.as_str(), None),
        };
        if let Some(pr) = proto
            && pr != pr.to_ascii_lowercase()
        {
            let f = sink.report(
                r::EXPOSE_PROTO_CASING,
                s,
                format!("protocol `{pr}` should be lowercase"),
            );
            if w.value == value {
                f.fix = Some(Fix::new(
                    format!("write `{}`", pr.to_ascii_lowercase()),
                    Applicability::Safe,
                    vec![Edit::replace(
                        s,
                        format!("{ports}/{}", pr.to_ascii_lowercase()),
                    )],
                ));
            }
        }
        for p in ports.split('-') {
            if let Ok(n) = p.parse::<u64>()
                && n > 65535
            {
                sink.report(r::INVALID_PORT, s, format!("port {n} is outside 0-65535"));
            }
        }
    }
}

const ARCHIVE_SUFFIXES: &[&str] = &[
    ".tar",
    ".tar.gz",
    ".tgz",
    ".tar.bz2",
    ".tbz",
    ".tbz2",
    ".tar.xz",
    ".txz",
    ".tar.zst",
    ".tzst",
    ".tar.lz",
    ".tar.lzma",
    ".tlz",
    ".tar.z",
    ".taz",
    ".gz",
    ".bz2",
    ".xz",
    ".zst",
    ".lz",
    ".lzma",
];

pub(crate) fn is_archive(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    ARCHIVE_SUFFIXES.iter().any(|s| lower.ends_with(s))
}

pub(crate) fn is_url(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://") || lower.starts_with("ftp://")
}

fn is_git(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    lower.starts_with("git@")
        || lower.starts_with("git://")
        || lower.contains(".git#")
        || lower.ends_with(".git")
}

fn copy_add(model: &Model<'_>, i: usize, ins: &Instruction, sink: &mut Sink<'_>) {
    let words = list_words(ins);
    if words.len() < 2 {
        return;
    }
    let (sources, dest) = words.split_at(words.len() - 1);
    let dest = &dest[0];
    let dest_value = model.expand(i, &dest.value);
    // DL3021: several sources need a directory destination.
    if sources.len() > 1 && !dest_value.ends_with('/') && !dest_value.contains('$') {
        sink.report(
            r::COPY_DEST_NOT_DIR,
            span(dest.span),
            format!(
                "{} with {} sources needs a destination ending in `/`",
                ins.kind,
                sources.len()
            ),
        )
        .fix = (!matches!(ins.args, Arguments::Exec(_))).then(|| {
            Fix::new(
                "add the trailing slash",
                Applicability::Safe,
                vec![Edit::insert(span(dest.span).end, "/")],
            )
        });
    }
    // DL3045: relative destination without WORKDIR.
    if model.stage_of[i].is_some()
        && !model.before[i].workdir_set
        && !is_absolute(&dest_value)
        && !dest.value.starts_with('$')
        && !dest_value.is_empty()
    {
        sink.report(
            r::COPY_RELATIVE_DEST,
            span(dest.span),
            format!("relative destination `{dest_value}` with no WORKDIR set: it depends on the base image"),
        );
    }
    if ins.kind != InstructionKind::Add {
        return;
    }
    let values: Vec<String> = sources.iter().map(|s| model.expand(i, &s.value)).collect();
    let urls: Vec<usize> = (0..values.len())
        .filter(|&k| is_url(&values[k]) && !is_git(&values[k]))
        .collect();
    if !urls.is_empty() && ins.flag("checksum").is_none() {
        for k in urls {
            sink.report(
                r::ADD_URL,
                span(sources[k].span),
                "ADD downloads into its own layer: the file stays in the image and is fetched again to check it on every build; download, unpack and clean up in one RUN instead",
            );
        }
    }
    let local_plain = values
        .iter()
        .all(|v| !is_url(v) && !is_git(v) && !is_archive(v) && !v.starts_with("<<"));
    if local_plain {
        let fixable = values.iter().all(|v| !v.contains(['*', '?', '[', '$']))
            && ins.flag("checksum").is_none()
            && ins.flag("keep-git-dir").is_none()
            && ins.flag("unpack").is_none();
        let f = sink.report(
            r::ADD_INSTEAD_OF_COPY,
            keyword_span(ins),
            "ADD of local files that are not archives; COPY does the same and says so",
        );
        if fixable {
            let copy = if is_upper(&ins.keyword.value) {
                "COPY"
            } else {
                "copy"
            };
            f.fix = Some(Fix::new(
                "use COPY",
                Applicability::Safe,
                vec![Edit::replace(keyword_span(ins), copy)],
            ));
        }
    }
}

fn onbuild(ins: &Instruction, sink: &mut Sink<'_>) {
    let Some(t) = ins.trigger() else {
        return;
    };
    if matches!(
        t.kind,
        InstructionKind::Onbuild | InstructionKind::From | InstructionKind::Maintainer
    ) {
        sink.report(
            r::ONBUILD_TRIGGER,
            keyword_span(t),
            format!("{} is not allowed as an ONBUILD trigger", t.kind),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names_follow_buildkit() {
        for yes in [
            "GITHUB_TOKEN",
            "password",
            "AWS_SECRET_ACCESS_KEY",
            "API_KEY",
            "auth",
        ] {
            assert!(looks_secret(yes), "{yes}");
        }
        for no in [
            "TOKENIZER",
            "KEYBOARD",
            "PUBLIC_KEY",
            "KEY_FILE",
            "GPG_KEY_VERSION",
            "PATH",
        ] {
            assert!(!looks_secret(no), "{no}");
        }
    }

    #[test]
    fn variable_references() {
        assert_eq!(referenced_vars("$A/${B:-x} \\$C '$D' $1"), ["A", "B"]);
    }
}
