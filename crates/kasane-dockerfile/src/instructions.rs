//! BuildKit's instruction layer: typed flags and the errors BuildKit gives when
//! it turns parsed instructions into commands.
//!
//! Parsing (the tree) accepts everything BuildKit's parser accepts; this step
//! then checks each instruction as BuildKit's `instructions` package does:
//! unknown and duplicate flags, flag value types, argument counts, RUN mount
//! options, HEALTHCHECK durations, ONBUILD triggers, SHELL in JSON form, stage
//! names, instructions before the first FROM. Messages are BuildKit's, and each
//! error points at the flag or argument at fault.
//!
//! Values are checked as written. Where BuildKit checks a value only after
//! variable expansion (most `--mount` options), a value containing `$` is left
//! for the expansion step.

use std::time::Duration;

use serde::Serialize;

use crate::heredoc::parse_marker;
use crate::span::Span;
use crate::tree::{Arguments, Dockerfile, Flag, Instruction, InstructionKind, Word};

/// An instruction BuildKit would refuse, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("line {}: {message}", span.start.line)]
pub struct InstructionError {
    /// BuildKit's message.
    pub message: String,
    /// The flag, argument or instruction at fault.
    pub span: Span,
    /// Index of the instruction in [`Dockerfile::instructions`].
    pub instruction: usize,
}

/// Mount types of `RUN --mount`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[allow(missing_docs)]
pub enum MountType {
    Bind,
    Cache,
    Tmpfs,
    Secret,
    Ssh,
}

/// Cache mount sharing modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[allow(missing_docs)]
pub enum Sharing {
    Shared,
    Private,
    Locked,
}

/// One `RUN --mount=...`, with values as written (not expanded).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mount {
    /// The flag it came from.
    pub span: Span,
    /// `type=` (default bind). `None` when the type is a variable.
    pub kind: Option<MountType>,
    /// `from=`
    pub from: Option<String>,
    /// `source=` / `src=`
    pub source: Option<String>,
    /// `target=` / `dst=` / `destination=`
    pub target: Option<String>,
    /// Read-only (explicit, or the type's default: bind, secret and ssh are).
    pub read_only: bool,
    /// `id=`
    pub id: Option<String>,
    /// `sharing=` (cache)
    pub sharing: Option<Sharing>,
    /// `required` (secret, ssh)
    pub required: bool,
    /// `size=` in bytes (tmpfs)
    pub size: Option<i64>,
    /// `mode=` (octal)
    pub mode: Option<u32>,
    /// `uid=`
    pub uid: Option<u32>,
    /// `gid=`
    pub gid: Option<u32>,
    /// `env=` (secret as an environment variable)
    pub env: Option<String>,
    /// Every `key=value` as written, lowercased keys, in order.
    pub options: Vec<(String, Option<String>)>,
}

/// `RUN --device=...`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Device {
    /// The flag it came from.
    pub span: Span,
    /// The device name.
    pub name: String,
    /// Whether the build fails without it.
    pub required: bool,
}

/// The checked flags and arguments of an instruction that has typed options.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "instruction", rename_all = "lowercase")]
#[non_exhaustive]
pub enum Command {
    /// FROM
    From {
        /// The base image or stage reference (unexpanded).
        image: String,
        /// `AS name`, lowercased as BuildKit stores it.
        stage_name: Option<String>,
        /// `--platform`
        platform: Option<String>,
    },
    /// RUN
    Run {
        /// `--mount`s.
        mounts: Vec<Mount>,
        /// `--network` (default, none, host).
        network: Option<String>,
        /// `--security` (sandbox, insecure).
        security: Option<String>,
        /// `--device`s.
        devices: Vec<Device>,
    },
    /// COPY
    Copy {
        /// `--from`
        from: Option<String>,
        /// `--chown`
        chown: Option<String>,
        /// `--chmod`
        chmod: Option<String>,
        /// `--link`
        link: bool,
        /// `--parents`
        parents: bool,
        /// `--exclude` patterns.
        exclude: Vec<String>,
        /// Sources (heredoc markers included).
        sources: Vec<String>,
        /// Destination.
        dest: String,
    },
    /// ADD
    Add {
        /// `--chown`
        chown: Option<String>,
        /// `--chmod`
        chmod: Option<String>,
        /// `--link`
        link: bool,
        /// `--keep-git-dir` (unset, true, false)
        keep_git_dir: Option<bool>,
        /// `--checksum`
        checksum: Option<String>,
        /// `--unpack` (unset, true, false)
        unpack: Option<bool>,
        /// `--exclude` patterns.
        exclude: Vec<String>,
        /// Sources (heredoc markers included).
        sources: Vec<String>,
        /// Destination.
        dest: String,
    },
    /// HEALTHCHECK
    Healthcheck {
        /// `None` for `HEALTHCHECK NONE`, else the test (`CMD` / `CMD-SHELL`
        /// then the command).
        test: Option<Vec<String>>,
        /// `--interval`
        interval: Option<Duration>,
        /// `--timeout`
        timeout: Option<Duration>,
        /// `--start-period`
        start_period: Option<Duration>,
        /// `--start-interval`
        start_interval: Option<Duration>,
        /// `--retries`
        retries: Option<i64>,
    },
    /// Any other instruction (no typed options).
    Other,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum FlagType {
    Bool,
    Str,
    Strings,
}

/// A flag after BuildKit's `BFlags.Parse`.
#[derive(Debug, Clone, Default)]
struct FlagValue<'a> {
    used: bool,
    value: Option<String>,
    values: Vec<String>,
    flags: Vec<&'a Flag>,
}

struct Flags<'a> {
    specs: Vec<(&'static str, FlagType, FlagValue<'a>)>,
}

impl<'a> Flags<'a> {
    fn new(specs: &[(&'static str, FlagType)]) -> Self {
        Flags {
            specs: specs
                .iter()
                .map(|&(n, t)| (n, t, FlagValue::default()))
                .collect(),
        }
    }

    fn get(&self, name: &str) -> &FlagValue<'a> {
        &self
            .specs
            .iter()
            .find(|s| s.0 == name)
            .expect("flag defined")
            .2
    }

    fn string(&self, name: &str) -> Option<String> {
        self.get(name).value.clone()
    }

    fn bool(&self, name: &str) -> bool {
        self.get(name).value.as_deref() == Some("true")
    }

    fn tristate(&self, name: &str) -> Option<bool> {
        let f = self.get(name);
        f.used.then(|| f.value.as_deref() == Some("true"))
    }

    /// BuildKit's `BFlags.Parse`.
    fn parse(&mut self, ins: &'a Instruction) -> Result<(), (String, Span)> {
        for flag in &ins.flags {
            let a = flag.text.as_str();
            if a == "--" {
                return Ok(());
            }
            let Some(body) = a.strip_prefix("--") else {
                return Err((format!("arg should start with -- : {a}"), flag.span));
            };
            let (name, value) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (body, None),
            };
            let flag_name = &a[..2 + name.len()];
            let Some(spec) = self.specs.iter_mut().find(|s| s.0 == name) else {
                let options: Vec<&str> = self.specs.iter().map(|s| s.0).collect();
                let msg =
                    with_suggestion(format!("unknown flag: {flag_name}"), name, &options, true);
                return Err((msg, flag.span));
            };
            if spec.2.used && spec.1 != FlagType::Strings {
                return Err((format!("duplicate flag specified: {flag_name}"), flag.span));
            }
            spec.2.used = true;
            spec.2.flags.push(flag);
            match spec.1 {
                FlagType::Bool => {
                    if value == Some("") {
                        return Err((format!("missing a value on flag: {flag_name}"), flag.span));
                    }
                    let v = value.unwrap_or("").to_lowercase();
                    spec.2.value = Some(match v.as_str() {
                        "true" | "" => "true".into(),
                        "false" => "false".into(),
                        _ => {
                            return Err((
                                format!(
                                    "expecting boolean value for flag {flag_name}, not: {}",
                                    value.unwrap_or("")
                                ),
                                flag.span,
                            ));
                        }
                    });
                }
                FlagType::Str | FlagType::Strings => {
                    let Some(v) = value else {
                        return Err((format!("missing a value on flag: {flag_name}"), flag.span));
                    };
                    if spec.1 == FlagType::Str {
                        spec.2.value = Some(v.to_string());
                    } else {
                        spec.2.values.push(v.to_string());
                    }
                }
            }
        }
        Ok(())
    }
}

/// BuildKit's "did you mean" suggestion (Levenshtein distance below 3).
fn with_suggestion(msg: String, val: &str, options: &[&str], case_sensitive: bool) -> String {
    let v = if case_sensitive {
        val.to_string()
    } else {
        val.to_lowercase()
    };
    let mut best: Option<String> = None;
    let mut min = 3;
    for opt in options {
        let o = if case_sensitive {
            opt.to_string()
        } else {
            opt.to_lowercase()
        };
        if o == v {
            return msg;
        }
        let d = levenshtein(&v, &o);
        if d < min {
            min = d;
            best = Some(if case_sensitive {
                o
            } else if val == val.to_lowercase() {
                o.to_lowercase()
            } else if val == val.to_uppercase() {
                o.to_uppercase()
            } else {
                o
            });
        }
    }
    match best {
        Some(m) => format!("{msg} (did you mean {m}?)"),
        None => msg,
    }
}

fn levenshtein(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let sub = prev[j - 1] + usize::from(a[i - 1] != b[j - 1]);
            cur[j] = sub.min(prev[j] + 1).min(cur[j - 1] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// BuildKit's `nodeArgs`: the argument values, flattened.
fn node_args(ins: &Instruction) -> Vec<(&str, Span)> {
    match &ins.args {
        Arguments::Trigger(t) => {
            let mut v = vec![(t.keyword.value.as_str(), t.keyword.span)];
            v.extend(node_args(t));
            v
        }
        Arguments::Unparsed(w) if ins.kind == InstructionKind::Onbuild => {
            vec![(w.value.as_str(), w.span)]
        }
        args => args
            .words()
            .into_iter()
            .map(|w: &Word| (w.value.as_str(), w.span))
            .collect(),
    }
}

/// Checks instruction `index` as BuildKit's instruction layer does and returns
/// its typed options.
pub fn check(ins: &Instruction, index: usize) -> Result<Command, InstructionError> {
    check_instruction(ins).map_err(|(message, span)| InstructionError {
        message,
        span,
        instruction: index,
    })
}

fn check_instruction(ins: &Instruction) -> Result<Command, (String, Span)> {
    let args = node_args(ins);
    let whole = ins.span;
    let count_err = |msg: String| Err((msg, whole));
    let name = ins.kind.as_str();
    let no_flags = |ins: &Instruction| Flags::new(&[]).parse(ins);
    use FlagType::{Bool, Str, Strings};
    match ins.kind {
        InstructionKind::Env | InstructionKind::Label => {
            no_flags(ins)?;
            let Arguments::KeyValues(pairs) = &ins.args else {
                return count_err(format!("{name} requires at least one argument"));
            };
            if let Some(p) = pairs.iter().find(|p| p.key.value.is_empty()) {
                return Err((format!("{name} names can not be blank"), p.span));
            }
            Ok(Command::Other)
        }
        InstructionKind::Maintainer
        | InstructionKind::Workdir
        | InstructionKind::User
        | InstructionKind::Stopsignal => {
            if args.len() != 1 {
                return count_err(format!("{name} requires exactly one argument"));
            }
            if ins.kind != InstructionKind::Stopsignal {
                no_flags(ins)?;
            }
            Ok(Command::Other)
        }
        InstructionKind::Add | InstructionKind::Copy => {
            if args.len() < 2 {
                return count_err(format!(
                    "{name} requires at least two arguments, but only one was provided. Destination could not be determined"
                ));
            }
            let mut flags = if ins.kind == InstructionKind::Add {
                Flags::new(&[
                    ("chown", Str),
                    ("chmod", Str),
                    ("link", Bool),
                    ("keep-git-dir", Bool),
                    ("checksum", Str),
                    ("unpack", Bool),
                    ("exclude", Strings),
                ])
            } else {
                Flags::new(&[
                    ("chown", Str),
                    ("from", Str),
                    ("chmod", Str),
                    ("link", Bool),
                    ("exclude", Strings),
                    ("parents", Bool),
                ])
            };
            flags.parse(ins)?;
            let (dest, dest_span) = args[args.len() - 1];
            if matches!(parse_marker(dest, true), Ok(Some(_))) {
                return Err((
                    format!("{name} cannot accept a heredoc as a destination"),
                    dest_span,
                ));
            }
            let sources = args[..args.len() - 1]
                .iter()
                .map(|a| a.0.to_string())
                .collect();
            let dest = dest.to_string();
            let exclude = flags.get("exclude").values.clone();
            Ok(if ins.kind == InstructionKind::Add {
                Command::Add {
                    chown: flags.string("chown"),
                    chmod: flags.string("chmod"),
                    link: flags.bool("link"),
                    keep_git_dir: flags.tristate("keep-git-dir"),
                    checksum: flags.string("checksum"),
                    unpack: flags.tristate("unpack"),
                    exclude,
                    sources,
                    dest,
                }
            } else {
                Command::Copy {
                    from: flags.string("from"),
                    chown: flags.string("chown"),
                    chmod: flags.string("chmod"),
                    link: flags.bool("link"),
                    parents: flags.bool("parents"),
                    exclude,
                    sources,
                    dest,
                }
            })
        }
        InstructionKind::From => {
            let stage_name = match args.len() {
                3 if args[1].0.eq_ignore_ascii_case("as") => {
                    let n = args[2].0.to_lowercase();
                    if !valid_stage_name(&n) {
                        return Err((
                            format!(
                                "invalid name for build stage: {}, name can't start with a number or contain symbols",
                                crate::gostr::go_quote(args[2].0.as_bytes())
                            ),
                            args[2].1,
                        ));
                    }
                    Some(n)
                }
                1 => None,
                _ => return count_err("FROM requires either one or three arguments".into()),
            };
            let mut flags = Flags::new(&[("platform", Str)]);
            flags.parse(ins)?;
            Ok(Command::From {
                image: args[0].0.to_string(),
                stage_name,
                platform: flags.string("platform"),
            })
        }
        InstructionKind::Onbuild => {
            if args.is_empty() {
                return count_err("ONBUILD requires at least one argument".into());
            }
            no_flags(ins)?;
            let trigger = args[0].0.trim().to_uppercase();
            match trigger.as_str() {
                "ONBUILD" => Err((
                    "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed".into(),
                    args[0].1,
                )),
                "MAINTAINER" | "FROM" => Err((
                    format!("{trigger} isn't allowed as an ONBUILD trigger"),
                    args[0].1,
                )),
                _ => Ok(Command::Other),
            }
        }
        InstructionKind::Run => check_run(ins),
        InstructionKind::Cmd | InstructionKind::Entrypoint => {
            no_flags(ins)?;
            Ok(Command::Other)
        }
        InstructionKind::Healthcheck => check_healthcheck(ins, &args),
        InstructionKind::Expose | InstructionKind::Volume => {
            if args.is_empty() {
                return count_err(format!("{name} requires at least one argument"));
            }
            no_flags(ins)?;
            if ins.kind == InstructionKind::Volume
                && let Some(a) = args.iter().find(|a| a.0.trim().is_empty())
            {
                return Err(("VOLUME specified can not be an empty string".into(), a.1));
            }
            Ok(Command::Other)
        }
        InstructionKind::Arg => {
            if args.is_empty() {
                return count_err("ARG requires at least one argument".into());
            }
            if let Some(a) = args.iter().find(|a| a.0.starts_with('=')) {
                return Err(("ARG names can not be blank".into(), a.1));
            }
            Ok(Command::Other)
        }
        InstructionKind::Shell => {
            no_flags(ins)?;
            match &ins.args {
                Arguments::Exec(items) if !items.is_empty() => Ok(Command::Other),
                Arguments::Empty | Arguments::Exec(_) => {
                    count_err("SHELL requires at least one argument".into())
                }
                _ => count_err("SHELL requires the arguments to be in JSON form".into()),
            }
        }
        InstructionKind::Unknown => {
            let upper: Vec<&str> = InstructionKind::ALL.iter().map(|k| k.as_str()).collect();
            let msg = format!("unknown instruction: {}", ins.keyword.value);
            Err((
                with_suggestion(msg, &ins.keyword.value, &upper, false),
                ins.keyword.span,
            ))
        }
    }
}

fn valid_stage_name(n: &str) -> bool {
    let mut chars = n.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'))
}

fn check_run(ins: &Instruction) -> Result<Command, (String, Span)> {
    use FlagType::{Str, Strings};
    let mut flags = Flags::new(&[
        ("mount", Strings),
        ("network", Str),
        ("security", Str),
        ("device", Strings),
    ]);
    flags.parse(ins)?;
    let mut mounts = Vec::new();
    let mount_flags = flags.get("mount").flags.clone();
    for (value, flag) in flags.get("mount").values.iter().zip(mount_flags) {
        mounts.push(parse_mount(value, flag.span)?);
    }
    let network = flags.string("network");
    if let Some(n) = &network
        && !matches!(n.as_str(), "default" | "none" | "host")
    {
        return Err((
            format!(
                "invalid network mode {}",
                crate::gostr::go_quote(n.as_bytes())
            ),
            flag_span(&flags, "network"),
        ));
    }
    let security = flags.string("security");
    if let Some(s) = &security
        && !matches!(s.as_str(), "sandbox" | "insecure")
    {
        return Err((
            format!(
                "security {} is not valid",
                crate::gostr::go_quote(s.as_bytes())
            ),
            flag_span(&flags, "security"),
        ));
    }
    let mut devices = Vec::new();
    let device_flags = flags.get("device").flags.clone();
    for (value, flag) in flags.get("device").values.iter().zip(device_flags) {
        devices.push(parse_device(value, flag.span)?);
    }
    Ok(Command::Run {
        mounts,
        network,
        security,
        devices,
    })
}

fn flag_span(flags: &Flags<'_>, name: &str) -> Span {
    flags
        .get(name)
        .flags
        .last()
        .map(|f| f.span)
        .unwrap_or_default()
}

/// Go's `csvvalue.Fields`: comma-separated, `"` quoting with `""` escapes.
fn csv_fields(s: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    if s.is_empty() {
        return Ok(out);
    }
    let mut cur = String::new();
    let mut chars = s.chars().peekable();
    let mut at_field_start = true;
    loop {
        match chars.next() {
            None => {
                out.push(cur);
                return Ok(out);
            }
            Some('"') if at_field_start => {
                // Quoted field.
                loop {
                    match chars.next() {
                        None => return Err("extraneous or missing \" in quoted-field".into()),
                        Some('"') => {
                            if chars.peek() == Some(&'"') {
                                chars.next();
                                cur.push('"');
                            } else {
                                break;
                            }
                        }
                        Some(c) => cur.push(c),
                    }
                }
                match chars.next() {
                    None => {
                        out.push(cur);
                        return Ok(out);
                    }
                    Some(',') => {
                        out.push(std::mem::take(&mut cur));
                        at_field_start = true;
                    }
                    Some(_) => return Err("extraneous or missing \" in quoted-field".into()),
                }
            }
            Some(',') => {
                out.push(std::mem::take(&mut cur));
                at_field_start = true;
            }
            Some('"') => return Err("bare \" in non-quoted-field".into()),
            Some(c) => {
                cur.push(c);
                at_field_start = false;
            }
        }
    }
}

fn parse_bool(v: &str) -> Option<bool> {
    // Go's strconv.ParseBool.
    match v {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

/// BuildKit's `parseMount`, on values as written. Checks that need the value
/// (type, sizes, numbers) are skipped for values holding a variable; BuildKit
/// makes them after expansion.
fn parse_mount(val: &str, span: Span) -> Result<Mount, (String, Span)> {
    let err = |m: String| Err((m, span));
    let fields = csv_fields(val).map_err(|e| (format!("failed to parse csv mounts: {e}"), span))?;
    let mut m = Mount {
        span,
        kind: Some(MountType::Bind),
        from: None,
        source: None,
        target: None,
        read_only: false,
        id: None,
        sharing: None,
        required: false,
        size: None,
        mode: None,
        uid: None,
        gid: None,
        env: None,
        options: Vec::new(),
    };
    let mut ro_auto = true;
    for field in &fields {
        let (key, value) = match field.split_once('=') {
            Some((k, v)) => (k.to_lowercase(), Some(v)),
            None => (field.to_lowercase(), None),
        };
        m.options.push((key.clone(), value.map(str::to_string)));
        let Some(value) = value else {
            match key.as_str() {
                "readonly" | "ro" => {
                    m.read_only = true;
                    ro_auto = false;
                }
                "readwrite" | "rw" => {
                    m.read_only = false;
                    ro_auto = false;
                }
                "required" => {
                    if matches!(m.kind, Some(MountType::Secret | MountType::Ssh) | None) {
                        m.required = true;
                    } else {
                        return err(format!(
                            "unexpected key '{key}' for mount type '{}'",
                            type_name(m.kind)
                        ));
                    }
                }
                _ => return err(format!("invalid field '{field}' must be a key=value pair")),
            }
            continue;
        };
        if key == "from"
            && let Some(i) = value.find('$')
            && i != value.len() - 1
        {
            return err(format!(
                "'{key}' doesn't support variable expansion, define alias stage instead"
            ));
        }
        let variable = value.contains('$');
        match key.as_str() {
            "type" => {
                if variable {
                    m.kind = None;
                    continue;
                }
                m.kind = Some(match value.to_lowercase().as_str() {
                    "bind" => MountType::Bind,
                    "cache" => MountType::Cache,
                    "tmpfs" => MountType::Tmpfs,
                    "secret" => MountType::Secret,
                    "ssh" => MountType::Ssh,
                    _ => {
                        let msg = format!(
                            "unsupported mount type {}",
                            crate::gostr::go_quote(value.as_bytes())
                        );
                        return err(with_suggestion(
                            msg,
                            value,
                            &["bind", "cache", "tmpfs", "secret", "ssh"],
                            true,
                        ));
                    }
                });
            }
            "from" => m.from = Some(value.to_string()),
            "source" | "src" => m.source = Some(value.to_string()),
            "target" | "dst" | "destination" => m.target = Some(value.to_string()),
            "readonly" | "ro" | "readwrite" | "rw" => {
                ro_auto = false;
                if variable {
                    continue;
                }
                let Some(b) = parse_bool(value) else {
                    return err(format!("invalid value for {key}: {value}"));
                };
                m.read_only = if key == "readonly" || key == "ro" {
                    b
                } else {
                    !b
                };
            }
            "required" => {
                if !matches!(m.kind, Some(MountType::Secret | MountType::Ssh) | None) {
                    return err(format!(
                        "unexpected key '{key}' for mount type '{}'",
                        type_name(m.kind)
                    ));
                }
                if variable {
                    continue;
                }
                let Some(b) = parse_bool(value) else {
                    return err(format!("invalid value for {key}: {value}"));
                };
                m.required = b;
            }
            "size" => {
                if !matches!(m.kind, Some(MountType::Tmpfs) | None) {
                    return err(format!(
                        "unexpected key '{key}' for mount type '{}'",
                        type_name(m.kind)
                    ));
                }
                if variable {
                    continue;
                }
                match ram_in_bytes(value) {
                    Some(n) => m.size = Some(n),
                    None => return err(format!("invalid value for {key}: {value}")),
                }
            }
            "id" => m.id = Some(value.to_string()),
            "sharing" => {
                if variable {
                    continue;
                }
                m.sharing = Some(match value.to_lowercase().as_str() {
                    "shared" => Sharing::Shared,
                    "private" => Sharing::Private,
                    "locked" => Sharing::Locked,
                    _ => {
                        let msg = format!(
                            "unsupported sharing value {}",
                            crate::gostr::go_quote(value.as_bytes())
                        );
                        return err(with_suggestion(
                            msg,
                            value,
                            &["shared", "private", "locked"],
                            true,
                        ));
                    }
                });
            }
            "mode" | "uid" | "gid" => {
                if variable {
                    continue;
                }
                let radix = if key == "mode" { 8 } else { 10 };
                let Ok(n) = u32::from_str_radix(value, radix) else {
                    return err(format!("invalid value {value} for {key}"));
                };
                match key.as_str() {
                    "mode" => m.mode = Some(n),
                    "uid" => m.uid = Some(n),
                    _ => m.gid = Some(n),
                }
            }
            "env" => m.env = Some(value.to_string()),
            _ => {
                let all = [
                    "type",
                    "from",
                    "source",
                    "target",
                    "readonly",
                    "id",
                    "sharing",
                    "required",
                    "size",
                    "mode",
                    "uid",
                    "gid",
                    "src",
                    "dst",
                    "destination",
                    "ro",
                    "rw",
                    "readwrite",
                    "env",
                ];
                return err(with_suggestion(
                    format!("unexpected key '{key}' in '{field}'"),
                    &key,
                    &all,
                    true,
                ));
            }
        }
    }
    let file_info = matches!(
        m.kind,
        Some(MountType::Secret | MountType::Ssh | MountType::Cache) | None
    );
    if !file_info {
        for (name, set) in [
            ("mode", m.mode.is_some()),
            ("uid", m.uid.is_some()),
            ("gid", m.gid.is_some()),
        ] {
            if set {
                return err(format!(
                    "{name} not allowed for \"{}\" type mounts",
                    type_name(m.kind)
                ));
            }
        }
    }
    if ro_auto {
        m.read_only = !matches!(m.kind, Some(MountType::Cache | MountType::Tmpfs));
    }
    if m.kind == Some(MountType::Secret) {
        if m.from.is_some() {
            return err("secret mount should not have a from".into());
        }
        if m.sharing.is_some() {
            return err("secret mount should not define sharing".into());
        }
        if m.source.is_none() && m.target.is_none() && m.id.is_none() {
            return err("invalid secret mount. one of source, target required".into());
        }
        if m.source.is_some() && m.id.is_some() {
            return err("both source and id can't be set".into());
        }
    }
    if m.sharing.is_some() && !matches!(m.kind, Some(MountType::Cache) | None) {
        return err(format!(
            "invalid cache sharing set for {} mount",
            type_name(m.kind)
        ));
    }
    Ok(m)
}

fn type_name(t: Option<MountType>) -> &'static str {
    match t {
        Some(MountType::Bind) => "bind",
        Some(MountType::Cache) => "cache",
        Some(MountType::Tmpfs) => "tmpfs",
        Some(MountType::Secret) => "secret",
        Some(MountType::Ssh) => "ssh",
        None => "",
    }
}

/// go-units `RAMInBytes`: `<number>[ ]<unit>` with binary units (k, m, g, t,
/// p), an optional `i` and `b`.
fn ram_in_bytes(s: &str) -> Option<i64> {
    let num_end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, rest) = s.split_at(num_end);
    if num.is_empty()
        || !num.as_bytes()[0].is_ascii_digit()
        || num.ends_with('.')
        || num.contains("..")
    {
        return None;
    }
    let n: f64 = num.parse().ok()?;
    let rest = rest.strip_prefix(' ').unwrap_or(rest).to_lowercase();
    let mut r = rest.as_str();
    let mut mult = 1f64;
    if let Some(c) = r.chars().next() {
        let p = match c {
            'k' => 1,
            'm' => 2,
            'g' => 3,
            't' => 4,
            'p' => 5,
            _ => 0,
        };
        if p > 0 {
            mult = 1024f64.powi(p);
            r = &r[1..];
        }
    }
    let r = r.strip_prefix('i').unwrap_or(r);
    let r = r.strip_prefix('b').unwrap_or(r);
    if !r.is_empty() {
        return None;
    }
    Some((n * mult) as i64)
}

/// BuildKit's `ParseDevice`.
fn parse_device(val: &str, span: Span) -> Result<Device, (String, Span)> {
    let fields =
        csv_fields(val).map_err(|e| (format!("failed to parse csv devices: {e}"), span))?;
    let mut d = Device {
        span,
        name: String::new(),
        required: false,
    };
    for field in &fields {
        match field.split_once('=') {
            None => {
                if field.eq_ignore_ascii_case("required") {
                    d.required = true;
                } else if d.name.is_empty() {
                    d.name = field.clone();
                } else {
                    return Err((
                        format!("invalid field '{field}' must be a key=value pair"),
                        span,
                    ));
                }
            }
            Some((k, v)) => match k.to_lowercase().as_str() {
                "name" => {
                    if !d.name.is_empty() {
                        return Err((format!("device name already set to {}", d.name), span));
                    }
                    d.name = v.to_string();
                }
                "required" => match parse_bool(v) {
                    Some(b) => d.required = b,
                    None => return Err((format!("invalid value for required: {v}"), span)),
                },
                key => {
                    if d.name.is_empty() {
                        d.name = field.clone();
                    } else {
                        let msg = format!("unexpected key '{key}' in '{field}'");
                        return Err((with_suggestion(msg, key, &["name", "required"], true), span));
                    }
                }
            },
        }
    }
    Ok(d)
}

fn check_healthcheck(ins: &Instruction, args: &[(&str, Span)]) -> Result<Command, (String, Span)> {
    use FlagType::Str;
    if args.is_empty() {
        return Err((
            "HEALTHCHECK requires at least one argument".into(),
            ins.span,
        ));
    }
    let typ = args[0].0.to_uppercase();
    if typ == "NONE" {
        if args.len() != 1 {
            return Err(("HEALTHCHECK NONE takes no arguments".into(), args[1].1));
        }
        return Ok(Command::Healthcheck {
            test: None,
            interval: None,
            timeout: None,
            start_period: None,
            start_interval: None,
            retries: None,
        });
    }
    let mut flags = Flags::new(&[
        ("interval", Str),
        ("timeout", Str),
        ("start-period", Str),
        ("start-interval", Str),
        ("retries", Str),
    ]);
    flags.parse(ins)?;
    if typ != "CMD" {
        return Err((
            format!(
                "Unknown type {} in HEALTHCHECK (try CMD)",
                crate::gostr::go_quote(typ.as_bytes())
            ),
            args[0].1,
        ));
    }
    let cmd: Vec<String> = args[1..].iter().map(|a| a.0.to_string()).collect();
    if cmd.is_empty() {
        return Err(("Missing command after HEALTHCHECK CMD".into(), ins.span));
    }
    let test = if ins.args.is_exec() {
        std::iter::once("CMD".to_string()).chain(cmd).collect()
    } else {
        vec!["CMD-SHELL".to_string(), cmd.join(" ")]
    };
    let mut durations = [None; 4];
    for (i, name) in ["interval", "timeout", "start-period", "start-interval"]
        .iter()
        .enumerate()
    {
        let Some(v) = flags.string(name) else {
            continue;
        };
        if v.is_empty() {
            continue;
        }
        let d = go_parse_duration(&v).map_err(|e| (e, flag_span(&flags, name)))?;
        if !d.is_zero() && d < Duration::from_millis(1) {
            return Err((
                format!("Interval \"{name}\" cannot be less than 1ms"),
                flag_span(&flags, name),
            ));
        }
        durations[i] = Some(d);
    }
    let retries = match flags.string("retries").filter(|v| !v.is_empty()) {
        None => None,
        Some(v) => {
            let n: i64 = match v.parse::<i32>() {
                Ok(n) => i64::from(n),
                Err(_) => {
                    let why = if v
                        .trim_start_matches(['+', '-'])
                        .chars()
                        .all(|c| c.is_ascii_digit())
                        && !v.trim_start_matches(['+', '-']).is_empty()
                    {
                        "value out of range"
                    } else {
                        "invalid syntax"
                    };
                    return Err((
                        format!(
                            "strconv.ParseInt: parsing {}: {why}",
                            crate::gostr::go_quote(v.as_bytes())
                        ),
                        flag_span(&flags, "retries"),
                    ));
                }
            };
            if n < 0 {
                return Err((
                    format!("--retries cannot be negative ({n})"),
                    flag_span(&flags, "retries"),
                ));
            }
            Some(n)
        }
    };
    Ok(Command::Healthcheck {
        test: Some(test),
        interval: durations[0],
        timeout: durations[1],
        start_period: durations[2],
        start_interval: durations[3],
        retries,
    })
}

/// Go's `time.ParseDuration`. A negative duration comes back as 1ns: BuildKit
/// only compares it with its 1ms minimum, which it fails either way.
fn go_parse_duration(s: &str) -> Result<Duration, String> {
    let quoted = crate::gostr::go_quote(s.as_bytes());
    let invalid = || format!("time: invalid duration {quoted}");
    let mut rest = s;
    let mut neg = false;
    if let Some(r) = rest.strip_prefix(['-', '+']) {
        neg = rest.starts_with('-');
        rest = r;
    }
    if rest == "0" {
        return Ok(Duration::ZERO);
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total: f64 = 0.0;
    while !rest.is_empty() {
        let int_end = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let (int, r) = rest.split_at(int_end);
        let mut r = r;
        let mut frac = "";
        if let Some(x) = r.strip_prefix('.') {
            let fe = x.find(|c: char| !c.is_ascii_digit()).unwrap_or(x.len());
            frac = &x[..fe];
            r = &x[fe..];
            if int.is_empty() && frac.is_empty() {
                return Err(invalid());
            }
        } else if int.is_empty() {
            return Err(invalid());
        }
        let unit_end = r
            .find(|c: char| c == '.' || c.is_ascii_digit())
            .unwrap_or(r.len());
        let (unit, r) = r.split_at(unit_end);
        if unit.is_empty() {
            return Err(format!("time: missing unit in duration {quoted}"));
        }
        let nanos: f64 = match unit {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => {
                return Err(format!(
                    "time: unknown unit {} in duration {quoted}",
                    crate::gostr::go_quote(unit.as_bytes())
                ));
            }
        };
        let v: f64 = format!(
            "{}.{}",
            if int.is_empty() { "0" } else { int },
            if frac.is_empty() { "0" } else { frac }
        )
        .parse()
        .map_err(|_| invalid())?;
        total += v * nanos;
        if total > 9.223_372_036_854_776e18 {
            return Err(invalid());
        }
        rest = r;
    }
    if neg && total > 0.0 {
        // Negative: less than the 1ms minimum.
        return Ok(Duration::from_nanos(1));
    }
    Ok(Duration::from_nanos(total as u64))
}

/// Checks every instruction of `df` as BuildKit's instruction layer would, in
/// order. BuildKit stops at the first error; this reports the first error of
/// each instruction, plus instructions that come before any FROM.
pub fn validate(df: &Dockerfile) -> Vec<InstructionError> {
    let mut errors = Vec::new();
    let mut seen_from = false;
    for (i, ins) in df.instructions().iter().enumerate() {
        match check(ins, i) {
            Err(e) => errors.push(e),
            Ok(_) => {
                if ins.kind == InstructionKind::From {
                    seen_from = true;
                } else if !seen_from && ins.kind != InstructionKind::Arg {
                    errors.push(InstructionError {
                        message: "no build stage in current context".into(),
                        span: ins.span,
                        instruction: i,
                    });
                }
            }
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse;

    fn first_error(src: &str) -> Option<String> {
        let df = parse(src).unwrap();
        validate(&df).into_iter().next().map(|e| e.message)
    }

    #[test]
    fn flags() {
        assert_eq!(
            first_error("FROM a\nCOPY --form=x a b\n").unwrap(),
            "unknown flag: --form (did you mean from?)"
        );
        assert_eq!(
            first_error("FROM a\nCOPY --from=x --from=y a b\n").unwrap(),
            "duplicate flag specified: --from"
        );
        assert_eq!(
            first_error("FROM a\nCOPY --link=maybe a b\n").unwrap(),
            "expecting boolean value for flag --link, not: maybe"
        );
        assert_eq!(
            first_error("FROM a\nCOPY --link= a b\n").unwrap(),
            "missing a value on flag: --link"
        );
        assert_eq!(
            first_error("FROM a\nCOPY --from a b\n").unwrap(),
            "missing a value on flag: --from"
        );
        assert_eq!(
            first_error("FROM a\nADD --from=x a b\n").unwrap(),
            "unknown flag: --from"
        );
        assert_eq!(
            first_error("FROM a\nCMD --x echo\n").unwrap(),
            "unknown flag: --x"
        );
        assert!(first_error("FROM a\nCOPY --exclude=a --exclude=b --parents a b\n").is_none());
    }

    #[test]
    fn argument_counts() {
        assert_eq!(
            first_error("FROM a\nCOPY a\n").unwrap(),
            "COPY requires at least two arguments, but only one was provided. Destination could not be determined"
        );
        assert_eq!(
            first_error("FROM a b\n").unwrap(),
            "FROM requires either one or three arguments"
        );
        assert_eq!(
            first_error("FROM a AS 1x\n").unwrap(),
            "invalid name for build stage: \"1x\", name can't start with a number or contain symbols"
        );
        assert_eq!(
            first_error("FROM a\nUSER\n").unwrap(),
            "USER requires exactly one argument"
        );
        assert_eq!(
            first_error("FROM a\nSHELL sh -c\n").unwrap(),
            "SHELL requires the arguments to be in JSON form"
        );
        assert_eq!(
            first_error("FROM a\nSHELL []\n").unwrap(),
            "SHELL requires at least one argument"
        );
        assert_eq!(
            first_error("FROM a\nONBUILD ONBUILD RUN x\n").unwrap(),
            "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"
        );
        assert_eq!(
            first_error("FROM a\nONBUILD from b\n").unwrap(),
            "FROM isn't allowed as an ONBUILD trigger"
        );
        assert_eq!(
            first_error("FROM a\nCOPY a <<EOF\nx\nEOF\n").unwrap(),
            "COPY cannot accept a heredoc as a destination"
        );
        assert_eq!(
            first_error("FROM a\nRUNN x\n").unwrap(),
            "unknown instruction: RUNN (did you mean RUN?)"
        );
        assert_eq!(
            first_error("RUN x\n").unwrap(),
            "no build stage in current context"
        );
        assert_eq!(
            first_error("FROM a\nENV =x\n").unwrap(),
            "ENV names can not be blank"
        );
        assert_eq!(
            first_error("FROM a\nARG =x\n").unwrap(),
            "ARG names can not be blank"
        );
    }

    #[test]
    fn mounts() {
        let df = parse("FROM a\nRUN --mount=type=cache,target=/c,sharing=locked,id=x --mount=type=secret,id=s,required echo\n").unwrap();
        let Ok(Command::Run { mounts, .. }) = check(&df.instructions()[1], 1) else {
            panic!()
        };
        assert_eq!(mounts.len(), 2);
        assert_eq!(mounts[0].kind, Some(MountType::Cache));
        assert!(!mounts[0].read_only);
        assert_eq!(mounts[0].sharing, Some(Sharing::Locked));
        assert!(mounts[1].read_only && mounts[1].required);
        assert_eq!(
            first_error("FROM a\nRUN --mount=type=bind,tagret=/x echo\n").unwrap(),
            "unexpected key 'tagret' in 'tagret=/x' (did you mean target?)"
        );
        assert_eq!(
            first_error("FROM a\nRUN --mount=type=cache,from=$X,target=/x echo\n").unwrap(),
            "'from' doesn't support variable expansion, define alias stage instead"
        );
        assert_eq!(
            first_error("FROM a\nRUN --mount=type=bind,uid=1,target=/x echo\n").unwrap(),
            "uid not allowed for \"bind\" type mounts"
        );
        assert_eq!(
            first_error("FROM a\nRUN --mount=type=secret echo\n").unwrap(),
            "invalid secret mount. one of source, target required"
        );
        assert_eq!(
            first_error("FROM a\nRUN --mount=type=tmpfs,target=/t,size=1g echo\n"),
            None
        );
        assert_eq!(
            first_error("FROM a\nRUN --network=bridge echo\n").unwrap(),
            "invalid network mode \"bridge\""
        );
        assert_eq!(
            first_error("FROM a\nRUN --security=insecure --device=/dev/x,required echo\n"),
            None
        );
    }

    #[test]
    fn healthcheck() {
        let df = parse("FROM a\nHEALTHCHECK --interval=1m30s --retries=3 CMD curl -f x\n").unwrap();
        let Ok(Command::Healthcheck {
            test,
            interval,
            retries,
            ..
        }) = check(&df.instructions()[1], 1)
        else {
            panic!()
        };
        assert_eq!(test.unwrap(), vec!["CMD-SHELL", "curl -f x"]);
        assert_eq!(interval, Some(Duration::from_secs(90)));
        assert_eq!(retries, Some(3));
        assert_eq!(
            first_error("FROM a\nHEALTHCHECK --interval=5 CMD x\n").unwrap(),
            "time: missing unit in duration \"5\""
        );
        assert_eq!(
            first_error("FROM a\nHEALTHCHECK --interval=1us CMD x\n").unwrap(),
            "Interval \"interval\" cannot be less than 1ms"
        );
        assert_eq!(
            first_error("FROM a\nHEALTHCHECK --retries=-1 CMD x\n").unwrap(),
            "--retries cannot be negative (-1)"
        );
        assert_eq!(
            first_error("FROM a\nHEALTHCHECK NONE x\n").unwrap(),
            "HEALTHCHECK NONE takes no arguments"
        );
        assert_eq!(
            first_error("FROM a\nHEALTHCHECK CMD\n").unwrap(),
            "Missing command after HEALTHCHECK CMD"
        );
        assert_eq!(
            first_error("FROM a\nHEALTHCHECK FOO x\n").unwrap(),
            "Unknown type \"FOO\" in HEALTHCHECK (try CMD)"
        );
    }

    #[test]
    fn error_spans_point_at_the_flag() {
        let df = parse("FROM a\nCOPY --chown=1 --bogus a b\n").unwrap();
        let e = &validate(&df)[0];
        assert_eq!(df.text(e.span), "--bogus");
        assert_eq!((e.span.start.line, e.span.start.column), (2, 16));
    }
}
