//! Edits that move a shell command from one RUN to another, for the fixes that put a cleanup,
//! a chmod or an `apt-get update` into the RUN where it saves a layer's worth of bytes.
//!
//! A move keeps the build's meaning when the command runs in the same conditions: same RUN
//! flags and shell, and nothing between the two RUNs that could see the difference (only
//! instructions that change the image config, and ENV/ARG only when the command uses no
//! variable). The callers mark a fix unsafe when they cannot prove that.

use kasane_dockerfile::{Arguments, InstructionKind};
use kasane_shell::{Command, Connector};

use super::continuation;
use crate::diagnostic::{Edit, Span};
use crate::model::{Model, RunShell, span};

/// True when nothing between instructions `a` and `b` (exclusive) changes what a command
/// `text` sees if it runs in RUN `a` instead of RUN `b` (or the other way round), and both
/// RUNs run with the same flags and shell.
pub(crate) fn quiet_between(model: &Model<'_>, a: usize, b: usize, text: &str) -> bool {
    let flags = |i: usize| {
        model.instrs[i]
            .flags
            .iter()
            .map(|f| f.text.as_str())
            .collect::<Vec<_>>()
    };
    flags(a) == flags(b) && inert_between(model, a, b, text)
}

/// True when `a` and `b` are in one stage and every instruction between them only changes
/// the image config (ENV and ARG count only when `text` uses no variable).
pub(crate) fn inert_between(model: &Model<'_>, a: usize, b: usize, text: &str) -> bool {
    let (lo, hi) = (a.min(b), a.max(b));
    model.stage_of[lo] == model.stage_of[hi]
        && model.instrs[lo + 1..hi].iter().all(|ins| match ins.kind {
            InstructionKind::Label
            | InstructionKind::Expose
            | InstructionKind::Cmd
            | InstructionKind::Entrypoint
            | InstructionKind::Stopsignal
            | InstructionKind::Healthcheck
            | InstructionKind::Maintainer
            | InstructionKind::Onbuild => true,
            InstructionKind::Env | InstructionKind::Arg => !text.contains('$'),
            _ => false,
        })
}

/// The position of `c` (a reference into `run`'s script) among its commands.
pub(crate) fn command_index(run: &RunShell, c: &Command) -> Option<usize> {
    run.script.commands.iter().position(|x| std::ptr::eq(x, c))
}

/// The file text of command `c` of RUN `i`.
pub(crate) fn command_text<'m>(model: &'m Model<'_>, i: usize, c: &Command) -> Option<&'m str> {
    let run = model.runs[i].as_ref()?;
    let s = run.span(c.span.clone());
    model.src.get(s.start..s.end)
}

/// Where `&& text` can be appended to RUN `i`, and the separator to put before it: only when
/// nothing (a comment, a trailing `;` or `&`) follows the last command of a shell-form RUN.
pub(crate) fn append_point(model: &Model<'_>, i: usize) -> Option<(usize, String)> {
    let run = model.runs[i].as_ref()?;
    let last = run.script.commands.last()?;
    if run.heredoc {
        return Some((run.span(last.span.clone()).end, "\n".to_owned()));
    }
    let text = run.text.text();
    if text.trim_end().len() != last.span.end || last.after == Connector::Background {
        return None;
    }
    Some((
        run.span(last.span.clone()).end,
        format!("{}&& ", continuation(model, &model.instrs[i])),
    ))
}

/// True when command `ci` of RUN `i` can be taken out alone: top level, joined by `&&` or `;`
/// on both sides, its failure not tested.
fn detachable(commands: &[Command], ci: usize) -> bool {
    let c = &commands[ci];
    let joined =
        |k: &Connector| matches!(k, Connector::Start | Connector::And | Connector::Sequence);
    c.depth == 0
        && !c.tested
        && !c.in_subshell
        && joined(&c.before)
        && (ci + 1 == commands.len() || joined(&commands[ci + 1].before))
}

/// Edits that remove command `ci` from RUN `i`: the whole instruction when it is the RUN's
/// only command, else the command and the connector that joins it.
pub(crate) fn remove_command(model: &Model<'_>, i: usize, ci: usize) -> Option<Vec<Edit>> {
    let run = model.runs[i].as_ref()?;
    let cmds = &run.script.commands;
    if run.heredoc || ci >= cmds.len() {
        return None;
    }
    if cmds.len() == 1 {
        return Some(vec![Edit::delete(span(model.instrs[i].extent))]);
    }
    if !detachable(cmds, ci) {
        return None;
    }
    let range = if ci == 0 {
        cmds[0].span.start..cmds[1].span.start
    } else {
        cmds[ci - 1].span.end..cmds[ci].span.end
    };
    let s = run.span(range);
    Some(vec![Edit::delete(Span::new(s.start, s.end))])
}

/// Edits that prepend `text && ` to the script of RUN `i`, when the script's top level is
/// joined only by `&&` and pipes (so a failure of `text` still stops everything after it).
pub(crate) fn prepend(model: &Model<'_>, i: usize, text: &str) -> Option<Edit> {
    let run = model.runs[i].as_ref()?;
    let ins = &model.instrs[i];
    let Arguments::Shell(w) = &ins.args else {
        return None;
    };
    if run.heredoc
        || !ins.heredocs.is_empty()
        || run.script.commands.is_empty()
        || run.script.commands.iter().any(|c| {
            c.depth == 0
                && !matches!(
                    c.before,
                    Connector::Start | Connector::And | Connector::Pipe
                )
        })
    {
        return None;
    }
    Some(Edit::insert(span(w.span).start, format!("{text} && ")))
}
