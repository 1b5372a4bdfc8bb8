//! Checks that read the shell script of a RUN: package managers, sudo, cd, pipes, caches.

use std::collections::BTreeSet;

use kasane_dockerfile::Instruction;
use kasane_shell::package::{self, Action, Invocation, Manager};
use kasane_shell::{Command, Connector, files};

use super::moves;
use crate::diagnostic::{Applicability, Edit, Fix, Span};
use crate::engine::Sink;
use crate::model::{Model, RunShell};
use crate::pragma::Pragmas;
use crate::registry as r;

pub(crate) fn check(model: &Model<'_>, pragmas: &Pragmas, sink: &mut Sink<'_>) {
    let shipped = model.shipped_stages();
    let mut downloaders: Vec<Option<(&'static str, Span)>> = vec![None; model.stages.len()];
    let mut both_reported: BTreeSet<usize> = BTreeSet::new();
    for (i, run) in model.runs.iter().enumerate() {
        let Some(run) = run else { continue };
        let ins = &model.instrs[i];
        let stage = model.stage_of[i];
        let ctx = RunCtx {
            model,
            i,
            ins,
            run,
            shipped: stage.is_some_and(|s| shipped.contains(&s)),
        };
        let invs: Vec<(usize, Invocation<'_>)> =
            package::invocations(&run.script.commands).collect();
        commands(&ctx, sink);
        package_rules(&ctx, &invs, sink);
        pipefail(&ctx, pragmas, sink);
        if ctx.shipped {
            caches(&ctx, &invs, sink);
        }
        // DL4001: wget and curl in one stage.
        if let Some(s) = stage {
            for c in &run.script.commands {
                let tool = match c.program() {
                    Some("curl") => "curl",
                    Some("wget") => "wget",
                    _ => continue,
                };
                let word = &c.words[c.program_index().unwrap_or(0)];
                let at = run.span(word.span.clone());
                match downloaders[s] {
                    None => downloaders[s] = Some((tool, at)),
                    Some((first, first_at)) if first != tool && both_reported.insert(s) => {
                        let note = sink.note(first_at, format!("{first} is used here"));
                        sink.report(
                            r::WGET_AND_CURL,
                            at,
                            format!("this stage uses both {first} and {tool}; one download tool is enough"),
                        )
                        .notes
                        .push(note);
                    }
                    _ => {}
                }
            }
        }
    }
}

/// What every RUN check needs.
pub(crate) struct RunCtx<'m, 'a> {
    pub model: &'m Model<'a>,
    pub i: usize,
    pub ins: &'a Instruction,
    pub run: &'m RunShell,
    /// The stage ends up in the final image.
    pub shipped: bool,
}

impl RunCtx<'_, '_> {
    fn word_span(&self, w: &kasane_shell::Word) -> Span {
        self.run.span(w.span.clone())
    }

    fn command_span(&self, c: &Command) -> Span {
        self.run.span(c.span.clone())
    }

    /// Where to append `&& more` to the script, and the separator to use before it.
    fn append_point(&self) -> Option<(usize, String)> {
        moves::append_point(self.model, self.i)
    }

    /// True when a `RUN --mount=type=cache` covers `path` (or a parent of it).
    fn cache_mount_covers(&self, path: &str) -> bool {
        self.ins
            .flags
            .iter()
            .filter(|f| f.name == "mount")
            .any(|f| {
                let v = f.value.as_deref().unwrap_or_default();
                let is_cache = v.split(',').any(|p| p == "type=cache");
                let target = v.split(',').find_map(|p| {
                    p.strip_prefix("target=")
                        .or_else(|| p.strip_prefix("dst="))
                        .or_else(|| p.strip_prefix("destination="))
                });
                is_cache && target.is_some_and(|t| path.starts_with(t.trim_end_matches('/')))
            })
    }

    /// True when a later command of the script removes a path starting with one of
    /// `prefixes`, or runs a command matching `is_clean`.
    fn cleans_after(
        &self,
        after: usize,
        prefixes: &[&str],
        is_clean: impl Fn(&Command) -> bool,
    ) -> bool {
        self.run.script.commands[after + 1..].iter().any(|c| {
            is_clean(c)
                || files::removed_paths(c)
                    .iter()
                    .any(|p| prefixes.iter().any(|pre| p.value.starts_with(pre)))
        })
    }
}

/// sudo, cd, pointless commands, `ln -s ... /bin/sh`, useradd without -l.
fn commands(ctx: &RunCtx<'_, '_>, sink: &mut Sink<'_>) {
    for c in &ctx.run.script.commands {
        if let Some(sudo) = c.uses_sudo() {
            sink.report(
                r::SUDO,
                ctx.word_span(sudo),
                "sudo in RUN; use USER to switch users",
            );
        }
        let Some(pi) = c.program_index() else {
            continue;
        };
        let prog = &c.words[pi];
        match c.program() {
            Some("cd") if c.depth == 0 && !c.in_subshell && !ctx.run.heredoc => {
                sink.report(
                    r::CD_INSTEAD_OF_WORKDIR,
                    ctx.command_span(c),
                    "use WORKDIR instead of `cd`: WORKDIR also applies to the instructions after this RUN",
                );
            }
            Some(
                p @ ("ssh" | "vim" | "shutdown" | "service" | "ps" | "free" | "top" | "kill"
                | "mount" | "ifconfig" | "systemctl"),
            ) => {
                sink.report(
                    r::POINTLESS_COMMAND,
                    ctx.word_span(prog),
                    format!("`{p}` has no lasting effect in a build step"),
                );
            }
            Some("ln") => {
                let ops = files::operands(c);
                if ops.last().is_some_and(|w| w.value == "/bin/sh")
                    && c.program_args()
                        .iter()
                        .any(|w| w.value.starts_with('-') && w.value.contains('s'))
                {
                    sink.report(
                        r::SHELL_VIA_LN,
                        ctx.command_span(c),
                        "replacing /bin/sh changes the shell of every program in the image; use SHELL for RUN",
                    );
                }
            }
            Some("useradd") => useradd(ctx, c, sink),
            _ => {}
        }
    }
}

/// Bytes useradd reserves per UID on 64-bit glibc systems: a lastlog record (292) and a
/// faillog record (32).
const LOG_BYTES_PER_UID: u64 = 292 + 32;

fn useradd(ctx: &RunCtx<'_, '_>, c: &Command, sink: &mut Sink<'_>) {
    let args = c.program_args();
    let no_log = args.iter().any(|w| {
        let v = w.as_str();
        v == "--no-log-init" || (v.starts_with('-') && !v.starts_with("--") && v.contains('l'))
    });
    if no_log {
        return;
    }
    // `$UID` in a RUN is the ARG or ENV value at build time: resolve it like the shell will.
    let number = |text: &str| -> Option<u64> {
        let value = if text.contains('$') {
            ctx.model.expand(ctx.i, text)
        } else {
            text.to_owned()
        };
        value.parse().ok()
    };
    let uid = args.iter().enumerate().find_map(|(k, w)| {
        let v = w.as_str();
        if v == "-u" || v == "--uid" {
            args.get(k + 1).and_then(|n| number(&n.value))
        } else if let Some(n) = v.strip_prefix("--uid=") {
            number(n)
        } else if let Some(n) = v
            .strip_prefix("-u")
            .filter(|n| !n.is_empty() && !v.starts_with("--"))
        {
            number(n)
        } else {
            None
        }
    });
    let Some(uid) = uid.filter(|u| *u >= 65_536) else {
        return;
    };
    let mb = (uid * LOG_BYTES_PER_UID) as f64 / 1_000_000.0;
    let prog = &c.words[c.program_index().unwrap_or(0)];
    let at = ctx.word_span(prog);
    sink.report(
        r::USERADD_LASTLOG,
        ctx.command_span(c),
        format!("useradd with UID {uid} and without -l: shadow before 4.13 (Debian 11, Ubuntu 22.04, RHEL 9 and older) writes {mb:.1} MB of /var/log/lastlog and faillog (UID x {LOG_BYTES_PER_UID} bytes) into the layer"),
    )
    .fix = Some(Fix::new(
        "add -l (--no-log-init)",
        Applicability::Safe,
        vec![Edit::insert(at.end, " -l")],
    ));
}

fn word_list(ws: &[&kasane_shell::Word]) -> String {
    ws.iter()
        .map(|w| w.value.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// True when a package spec pins a version for its manager.
fn pinned(manager: Manager, spec: &str) -> bool {
    match manager {
        Manager::AptGet | Manager::Apt => {
            spec.contains('=') || spec.ends_with(".deb") || spec.contains('/')
        }
        Manager::Apk => {
            spec.contains('=')
                || spec.contains('~')
                || spec.ends_with(".apk")
                || spec.contains('<')
                || spec.contains('>')
        }
        Manager::Pip if spec.contains("://") => {
            // VCS and URL requirements are pinned by a ref after the path (`...repo@v1.2`)
            // or by a versioned archive name.
            spec.rsplit_once("://")
                .is_some_and(|(_, rest)| rest.contains('@'))
                || spec.ends_with(".whl")
        }
        Manager::Pip => {
            spec.contains(['=', '<', '>', '~', '@'])
                || spec.contains('/')
                || spec.ends_with(".whl")
                || spec.ends_with(".tar.gz")
                || spec.ends_with(".zip")
                || spec == "."
        }
        Manager::Npm | Manager::Yarn | Manager::Pnpm => {
            // name@version, @scope/name@version, paths, urls, tarballs
            let unscoped = spec.strip_prefix('@').unwrap_or(spec);
            unscoped.contains('@')
                || spec.contains(['/', ':']) && !spec.starts_with('@')
                || spec.ends_with(".tgz")
                || spec.starts_with('.')
        }
        Manager::Gem => spec.contains(':'),
        // Local packages (`./...`, `/src/cmd`) come from the context, not a registry.
        Manager::Go => spec.contains('@') || spec.starts_with(['.', '/']),
        Manager::Yum | Manager::Dnf | Manager::Microdnf | Manager::Zypper => {
            // name-version: a dash followed by a digit, or an rpm file / path
            spec.ends_with(".rpm")
                || spec.contains(['/', '=', '<', '>'])
                || spec.char_indices().any(|(k, ch)| {
                    ch == '-' && spec[k + 1..].starts_with(|d: char| d.is_ascii_digit())
                })
        }
        _ => true,
    }
}

fn pin_alias(manager: Manager) -> Option<&'static str> {
    Some(match manager {
        Manager::AptGet | Manager::Apt => "DL3008",
        Manager::Pip => "DL3013",
        Manager::Npm | Manager::Yarn | Manager::Pnpm => "DL3016",
        Manager::Apk => "DL3018",
        Manager::Gem => "DL3028",
        Manager::Yum => "DL3033",
        Manager::Zypper => "DL3037",
        Manager::Dnf | Manager::Microdnf => "DL3041",
        Manager::Go => "DL3062",
        _ => return None,
    })
}

fn package_rules(ctx: &RunCtx<'_, '_>, invs: &[(usize, Invocation<'_>)], sink: &mut Sink<'_>) {
    let commands = &ctx.run.script.commands;
    for (ci, inv) in invs {
        let c = &commands[*ci];
        let sub_end = inv.subcommand.map(|w| ctx.word_span(w).end);
        // DL3027: apt in scripts.
        if inv.manager == Manager::Apt {
            let f = sink.report(
                r::APT_NOT_APT_GET,
                ctx.word_span(inv.program),
                "`apt` has no stable scripting interface; use apt-get",
            );
            let sub = inv.subcommand.map_or("", |w| w.as_str());
            if matches!(
                sub,
                "install"
                    | "update"
                    | "upgrade"
                    | "remove"
                    | "purge"
                    | "autoremove"
                    | "dist-upgrade"
                    | "clean"
            ) && inv.program.value == "apt"
            {
                f.fix = Some(Fix::new(
                    "use apt-get",
                    Applicability::Safe,
                    vec![Edit::replace(ctx.word_span(inv.program), "apt-get")],
                ));
            }
        }
        if inv.action == Action::Install {
            // DL3014/DL3030/DL3034/DL3038: answer prompts.
            let (alias, yes) = match inv.manager {
                Manager::AptGet | Manager::Apt => (
                    Some("DL3014"),
                    inv.has_option(&["--yes", "--assume-yes", "--force-yes"], &['y'])
                        || inv.options.iter().any(|o| {
                            o.value == "-qq" || o.value == "-q=2" || o.value.contains("Assume-Yes")
                        }),
                ),
                Manager::Yum => (Some("DL3030"), inv.has_option(&["--assumeyes"], &['y'])),
                Manager::Dnf => (Some("DL3038"), inv.has_option(&["--assumeyes"], &['y'])),
                Manager::Zypper => (
                    Some("DL3034"),
                    inv.has_option(&["--non-interactive", "--no-confirm"], &['n', 'y']),
                ),
                _ => (None, true),
            };
            let piped_yes = c.before == Connector::Pipe
                && commands[..*ci]
                    .last()
                    .is_some_and(|p| p.program() == Some("yes"));
            if let (Some(alias), false, false) = (alias, yes, piped_yes) {
                let f = sink.report(
                    r::MISSING_YES,
                    ctx.command_span(c),
                    format!(
                        "{} install without -y aborts when it needs to ask",
                        inv.manager.as_str()
                    ),
                );
                f.aliases = vec![alias];
                if let Some(end) = sub_end {
                    f.fix = Some(Fix::new(
                        "add -y",
                        Applicability::Safe,
                        vec![Edit::insert(end, " -y")],
                    ));
                }
            }
            // Pinning (off by default).
            if let Some(alias) = pin_alias(inv.manager) {
                let go_install = inv.manager != Manager::Go
                    || inv
                        .subcommand
                        .is_some_and(|s| matches!(s.value.as_str(), "install" | "get" | "run"));
                let global_npm =
                    !matches!(inv.manager, Manager::Npm | Manager::Yarn | Manager::Pnpm)
                        || !inv.packages.is_empty();
                if go_install && global_npm && !inv.from_manifest {
                    let loose: Vec<&kasane_shell::Word> = inv
                        .packages
                        .iter()
                        .copied()
                        .filter(|p| !p.expands && !pinned(inv.manager, &p.value))
                        .filter(|_| {
                            !(inv.manager == Manager::Gem
                                && inv.has_option(&["-v", "--version"], &[]))
                        })
                        .collect();
                    if !loose.is_empty() {
                        let start = ctx.word_span(loose[0]).start;
                        let end = ctx.word_span(loose[loose.len() - 1]).end;
                        sink.report(
                            r::UNPINNED_PACKAGE,
                            Span::new(start, end.max(start)),
                            format!(
                                "{} installs without a version: {}",
                                inv.manager.as_str(),
                                word_list(&loose)
                            ),
                        )
                        .aliases = vec![alias];
                    }
                }
            }
            // DL3015: recommends (apt-get/apt only).
            if matches!(inv.manager, Manager::AptGet | Manager::Apt) && ctx.shipped {
                let off = inv.has_option(&["--no-install-recommends"], &[])
                    || inv
                        .options
                        .iter()
                        .any(|o| o.value.contains("Install-Recommends"))
                    || c.program_args()
                        .iter()
                        .any(|w| w.value.contains("Install-Recommends"));
                let configured =
                    (0..ctx.i).any(|j| model_text_mentions(ctx.model, j, "Install-Recommends"));
                if !off && !configured && !inv.packages.is_empty() {
                    let f = sink.report(
                        r::INSTALL_RECOMMENDS,
                        ctx.command_span(c),
                        "apt-get install without --no-install-recommends also installs every recommended package",
                    );
                    if let Some(end) = sub_end {
                        f.fix = Some(Fix::new(
                            "add --no-install-recommends",
                            Applicability::Unsafe,
                            vec![Edit::insert(end, " --no-install-recommends")],
                        ));
                    }
                }
            }
        }
    }
}

/// True when instruction `j` is a RUN in the same stage whose text mentions `needle`.
fn model_text_mentions(model: &Model<'_>, j: usize, needle: &str) -> bool {
    model.runs[j]
        .as_ref()
        .is_some_and(|r| r.text.text().contains(needle))
}

/// DL4006: pipes without pipefail.
fn pipefail(ctx: &RunCtx<'_, '_>, pragmas: &Pragmas, sink: &mut Sink<'_>) {
    let shell = ctx.model.before[ctx.i].shell.as_deref();
    if let Some(sh) = shell {
        if sh.iter().any(|a| a.contains("pipefail")) {
            return;
        }
        let prog =
            kasane_shell::base_name(sh.first().map_or("", String::as_str)).to_ascii_lowercase();
        if prog.contains("pwsh") || prog.contains("powershell") || prog.contains("cmd") {
            return;
        }
    }
    if pragmas
        .shell
        .as_deref()
        .is_some_and(|s| s.contains("pwsh") || s.contains("powershell") || s.contains("cmd"))
    {
        return;
    }
    let cmds = &ctx.run.script.commands;
    let mut k = 0;
    while k < cmds.len() {
        let c = &cmds[k];
        if c.program() == Some("set")
            && c.program_args()
                .iter()
                .any(|w| w.value.contains("pipefail"))
        {
            return;
        }
        if c.after != Connector::Pipe {
            k += 1;
            continue;
        }
        // A pipeline from k to the first command not followed by a pipe.
        let start = k;
        while k < cmds.len() && cmds[k].after == Connector::Pipe {
            k += 1;
        }
        let end = k.min(cmds.len() - 1);
        let harmless = cmds[start..end].iter().all(|p| {
            matches!(
                p.program(),
                Some("echo" | "printf" | "yes" | "true" | "seq")
            )
        });
        if !harmless {
            let s = ctx.command_span(&cmds[start]);
            let e = ctx.command_span(&cmds[end]);
            sink.report(
                r::PIPEFAIL,
                Span::new(s.start, e.end.max(s.start)),
                "the pipeline's status is its last command's: a failure before the `|` goes unnoticed; set -o pipefail (e.g. SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"])",
            );
        }
        k += 1;
    }
}

/// KL301 and KL302: package caches left in the layer, and `apt-get update` alone.
fn caches(ctx: &RunCtx<'_, '_>, invs: &[(usize, Invocation<'_>)], sink: &mut Sink<'_>) {
    let commands = &ctx.run.script.commands;
    let env_set = |name: &str| ctx.model.before[ctx.i].vars.knows(name);
    // KL302
    let apt_update = invs.iter().find(|(_, i)| {
        matches!(i.manager, Manager::AptGet | Manager::Apt) && i.action == Action::Update
    });
    let apt_install = invs.iter().any(|(_, i)| {
        matches!(i.manager, Manager::AptGet | Manager::Apt) && i.action == Action::Install
    });
    let lists_removed = commands.iter().any(|c| {
        files::removed_paths(c)
            .iter()
            .any(|p| p.value.starts_with("/var/lib/apt/lists"))
    });
    if let Some((ci, _)) = apt_update
        && !apt_install
        && !lists_removed
    {
        let f = sink.report(
                r::APT_UPDATE_ALONE,
                ctx.command_span(&commands[*ci]),
                "apt-get update without an install in the same RUN: its lists (tens of MB) stay in this layer and go stale in the cache",
            );
        f.aliases = vec!["DL3009"];
        f.fix = update_into_install(ctx);
        return;
    }
    let apk_update = invs
        .iter()
        .find(|(_, i)| i.manager == Manager::Apk && i.action == Action::Update);
    if let Some((ci, _)) = apk_update {
        let apk_add = invs
            .iter()
            .any(|(_, i)| i.manager == Manager::Apk && i.action == Action::Install);
        if !apk_add {
            sink.report(
                r::APT_UPDATE_ALONE,
                ctx.command_span(&commands[*ci]),
                "apk update without an add in the same RUN: its index stays in this layer and goes stale in the cache",
            );
        }
    }
    let append = ctx.append_point();
    for (ci, inv) in invs {
        let c = &commands[*ci];
        let cspan = ctx.command_span(c);
        let sub_end = inv.subcommand.map(|w| ctx.word_span(w).end);
        let report = |sink: &mut Sink<'_>, alias: &'static str, msg: String, fix: Option<Fix>| {
            let f = sink.report(r::PACKAGE_CACHE, cspan, msg);
            f.aliases = if alias.is_empty() {
                Vec::new()
            } else {
                vec![alias]
            };
            f.fix = fix;
        };
        let append_fix = |text: &str, what: &str| {
            append.as_ref().map(|(at, sep)| {
                Fix::new(
                    what.to_owned(),
                    Applicability::Safe,
                    vec![Edit::insert(*at, format!("{sep}{text}"))],
                )
            })
        };
        match (inv.manager, inv.action) {
            (Manager::AptGet | Manager::Apt, Action::Update)
                if !lists_removed && !ctx.cache_mount_covers("/var/lib/apt/lists") =>
            {
                let fix = match later_lists_removal(ctx) {
                    Later::Removal(k, rm, known) => move_removal_here(ctx, k, rm, known),
                    Later::AptUse => None,
                    // A cache mount on /var/cache/apt keeps its files out of the layer
                    // already; cleaning it would only throw the cache away.
                    Later::Nothing if ctx.cache_mount_covers("/var/cache/apt") => append_fix(
                        "rm -rf /var/lib/apt/lists/*",
                        "remove the apt lists in the same RUN",
                    ),
                    Later::Nothing => append_fix(
                        "apt-get clean && rm -rf /var/lib/apt/lists/*",
                        "clean apt's caches and remove its lists in the same RUN",
                    ),
                };
                report(
                        sink,
                        "DL3009",
                        "apt lists (/var/lib/apt/lists, tens of MB) downloaded here are not removed in this RUN, so they stay in the layer".into(),
                        fix,
                    );
            }
            (Manager::Apk, Action::Install) => {
                let no_cache = inv.has_option(&["--no-cache"], &[]);
                let cleaned = ctx.cleans_after(*ci, &["/var/cache/apk", "/etc/apk/cache"], |c| {
                    package::invocation(c).is_some_and(|i| {
                        i.manager == Manager::Apk && i.action == Action::CleanCache
                    })
                });
                if !no_cache
                    && !cleaned
                    && !ctx.cache_mount_covers("/var/cache/apk")
                    && !ctx.cache_mount_covers("/etc/apk/cache")
                {
                    report(
                        sink,
                        "DL3019",
                        "apk add without --no-cache leaves the package index in /var/cache/apk in this layer".into(),
                        sub_end.map(|end| Fix::new("add --no-cache", Applicability::Safe, vec![Edit::insert(end, " --no-cache")])),
                    );
                }
            }
            (Manager::Pip, Action::Install)
                if inv.subcommand.is_some_and(|s| s.value == "install") =>
            {
                let off = inv.has_option(&["--no-cache-dir"], &[])
                    || env_set("PIP_NO_CACHE_DIR")
                    || ctx.cleans_after(*ci, &["/root/.cache", "~/.cache", "$HOME/.cache"], |c| {
                        package::invocation(c).is_some_and(|i| {
                            i.manager == Manager::Pip && i.action == Action::CleanCache
                        })
                    })
                    || ctx.cache_mount_covers("/root/.cache/pip");
                if !off {
                    report(
                        sink,
                        "DL3042",
                        "pip install without --no-cache-dir keeps the downloaded wheels in ~/.cache/pip in this layer".into(),
                        sub_end.map(|end| Fix::new("add --no-cache-dir", Applicability::Safe, vec![Edit::insert(end, " --no-cache-dir")])),
                    );
                }
            }
            (Manager::Npm, Action::Install) => {
                let cleaned = ctx.cleans_after(*ci, &["/root/.npm", "~/.npm", "$HOME/.npm"], |c| {
                    package::invocation(c).is_some_and(|i| {
                        i.manager == Manager::Npm && i.action == Action::CleanCache
                    })
                }) || ctx.cache_mount_covers("/root/.npm");
                if !cleaned {
                    report(
                        sink,
                        "",
                        "npm's download cache (~/.npm) stays in this layer; run `npm cache clean --force` in the same RUN".into(),
                        append_fix("npm cache clean --force", "clean npm's cache in the same RUN"),
                    );
                }
            }
            (Manager::Yarn, Action::Install) => {
                let cleaned = ctx.cleans_after(
                    *ci,
                    &["/usr/local/share/.cache/yarn", "/root/.cache/yarn"],
                    |c| {
                        package::invocation(c).is_some_and(|i| {
                            i.manager == Manager::Yarn && i.action == Action::CleanCache
                        })
                    },
                ) || ctx.cache_mount_covers("/usr/local/share/.cache/yarn");
                if !cleaned {
                    report(
                        sink,
                        "DL3060",
                        "yarn's cache stays in this layer; run `yarn cache clean` in the same RUN"
                            .into(),
                        append_fix("yarn cache clean", "clean yarn's cache in the same RUN"),
                    );
                }
            }
            (
                m @ (Manager::Yum | Manager::Dnf | Manager::Microdnf | Manager::Zypper),
                Action::Install,
            ) => {
                let (alias, dir, clean) = match m {
                    Manager::Yum => ("DL3032", "/var/cache/yum", "yum clean all"),
                    Manager::Zypper => ("DL3036", "/var/cache/zypp", "zypper clean"),
                    Manager::Microdnf => ("DL3040", "/var/cache/yum", "microdnf clean all"),
                    _ => ("DL3040", "/var/cache/dnf", "dnf clean all"),
                };
                let cleaned = ctx.cleans_after(*ci, &[dir], |c| {
                    package::invocation(c)
                        .is_some_and(|i| i.manager == m && i.action == Action::CleanCache)
                }) || ctx.cache_mount_covers(dir);
                if !cleaned {
                    report(
                        sink,
                        alias,
                        format!(
                            "{} leaves its metadata and package cache ({dir}) in this layer; run `{clean}` in the same RUN",
                            m.as_str()
                        ),
                        append_fix(clean, &format!("run `{clean}` in the same RUN")),
                    );
                }
            }
            _ => {}
        }
    }
}

/// What the RUNs after an `apt-get update` do with the lists.
enum Later {
    /// RUN `.0` removes them with its command `.1`, and no RUN before that uses apt; `.2`:
    /// every command between runs a program known not to use apt.
    Removal(usize, usize, bool),
    /// A later RUN uses apt (and may need the lists) before any removal.
    AptUse,
    /// Nothing later in the stage touches them.
    Nothing,
}

fn mentions_apt(c: &Command) -> bool {
    c.words.iter().any(|w| {
        let name = kasane_shell::base_name(&w.value);
        name.starts_with("apt") || name == "dpkg" || name.starts_with("debconf")
    })
}

/// Programs that do not run apt behind one's back (a script or `make` might).
fn apt_free(program: &str) -> bool {
    super::layers::light(program)
        || matches!(
            program,
            "head"
                | "tail"
                | "tar"
                | "gzip"
                | "gunzip"
                | "unzip"
                | "xz"
                | "bzip2"
                | "zstd"
                | "curl"
                | "wget"
                | "git"
                | "find"
                | "grep"
                | "awk"
                | "sort"
                | "node"
                | "npm"
                | "yarn"
                | "pnpm"
                | "go"
                | "cargo"
                | "java"
                | "mvn"
                | "gradle"
                | "gem"
                | "bundle"
        )
        || program.starts_with("python")
        || program.starts_with("pip")
}

/// The first later RUN in the stage that removes /var/lib/apt/lists, unless apt is used first.
fn later_lists_removal(ctx: &RunCtx<'_, '_>) -> Later {
    let model = ctx.model;
    let stage = model.stage_of[ctx.i];
    let mut known = true;
    for k in ctx.i + 1..model.instrs.len() {
        if model.stage_of[k] != stage
            || model.instrs[k].kind == kasane_dockerfile::InstructionKind::From
        {
            break;
        }
        let Some(run) = &model.runs[k] else {
            if model.instrs[k].kind == kasane_dockerfile::InstructionKind::Run {
                // Exec form or a script kasane cannot read: it may use apt.
                return Later::AptUse;
            }
            continue;
        };
        for (ci, c) in run.script.commands.iter().enumerate() {
            if files::removed_paths(c)
                .iter()
                .any(|p| p.value.starts_with("/var/lib/apt/lists"))
            {
                return Later::Removal(k, ci, known);
            }
            let cleans = package::invocation(c).is_some_and(|inv| {
                matches!(inv.manager, Manager::AptGet | Manager::Apt)
                    && inv.action == Action::CleanCache
            });
            if mentions_apt(c) && !cleans {
                // A RUN that refreshes the lists first does not need the old ones.
                let refreshes = package::invocation(c).is_some_and(|inv| {
                    matches!(inv.manager, Manager::AptGet | Manager::Apt)
                        && inv.action == Action::Update
                });
                return if refreshes {
                    Later::Nothing
                } else {
                    Later::AptUse
                };
            }
            known &= c.program().is_some_and(apt_free);
        }
    }
    Later::Nothing
}

/// Moves the lists removal `rm` of RUN `k` to the end of this RUN: safe when every command in
/// between is `known` not to use apt.
fn move_removal_here(ctx: &RunCtx<'_, '_>, k: usize, rm: usize, known: bool) -> Option<Fix> {
    let model = ctx.model;
    let c = &model.runs[k].as_ref()?.script.commands[rm];
    let text = moves::command_text(model, k, c)?;
    if files::removed_paths(c)
        .iter()
        .any(|p| !p.value.starts_with("/var/lib/apt/lists"))
    {
        return None;
    }
    let (at, sep) = ctx.append_point()?;
    let mut edits = moves::remove_command(model, k, rm)?;
    // `apt-get clean` too: the package files and apt's binary caches in /var/cache/apt are
    // as much a leftover as the lists (images without docker-clean keep them).
    let cleaned = ctx.run.script.commands.iter().any(|c| {
        package::invocation(c).is_some_and(|inv| {
            matches!(inv.manager, Manager::AptGet | Manager::Apt)
                && inv.action == Action::CleanCache
        })
    });
    let clean = if cleaned || ctx.cache_mount_covers("/var/cache/apt") {
        ""
    } else {
        "apt-get clean && "
    };
    edits.push(Edit::insert(at, format!("{sep}{clean}{text}")));
    Some(Fix::new(
        format!(
            "clean apt's caches and remove its lists in this RUN instead of in the RUN on line {}",
            model.instrs[k].start_line()
        ),
        if known {
            Applicability::Safe
        } else {
            Applicability::Unsafe
        },
        edits,
    ))
}

/// KL302's fix: a RUN that only runs `apt-get update` moves into the next RUN, when that one
/// installs packages and nothing between them matters.
fn update_into_install(ctx: &RunCtx<'_, '_>) -> Option<Fix> {
    let model = ctx.model;
    let commands = &ctx.run.script.commands;
    if commands.len() != 1 || ctx.run.heredoc {
        return None;
    }
    let text = moves::command_text(model, ctx.i, &commands[0])?;
    let k = (ctx.i + 1..model.instrs.len())
        .find(|&k| model.instrs[k].kind == kasane_dockerfile::InstructionKind::Run)?;
    if !moves::quiet_between(model, ctx.i, k, text) {
        return None;
    }
    let installs = model.runs[k].as_ref().is_some_and(|r| {
        package::invocations(&r.script.commands).any(|(_, inv)| {
            matches!(inv.manager, Manager::AptGet | Manager::Apt) && inv.action == Action::Install
        })
    });
    if !installs {
        return None;
    }
    let prepend = moves::prepend(model, k, text)?;
    Some(Fix::new(
        format!(
            "run it in the RUN on line {} that installs",
            model.instrs[k].start_line()
        ),
        Applicability::Safe,
        vec![Edit::delete(crate::model::span(ctx.ins.extent)), prepend],
    ))
}
