//! What the rules know about a Dockerfile beyond its syntax tree: stages and how they depend
//! on each other, the ARG/ENV variables before each instruction (from
//! [`kasane_dockerfile::scope`], which resolves them exactly as BuildKit does), the working
//! directory and shell, and the shell script of every RUN with exact file spans.

use std::collections::BTreeSet;
use std::rc::Rc;
use std::sync::{Arc, LazyLock};

use kasane_dockerfile::expand::Lexer;
use kasane_dockerfile::scope::{
    self, BuildArgs, Field, Platform, Resolved, ResolvedInstruction, VarEnv,
};
use kasane_dockerfile::{Arguments, Dockerfile, Flag, Instruction, InstructionKind, Word};
use kasane_shell::{Script, ShellText};

use crate::diagnostic::Span;

/// ARGs BuildKit reads for itself: a RUN may use them without declaring them. (The proxy ARGs,
/// which BuildKit also passes to RUN undeclared, are [`scope::PROXY_ARGS`].)
const BUILDKIT_ARGS: &[&str] = &[
    "BUILDKIT_BUILD_NAME",
    "BUILDKIT_CACHE_MOUNT_NS",
    "BUILDKIT_CONTEXT_KEEP_GIT_DIR",
    "BUILDKIT_INLINE_CACHE",
    "BUILDKIT_MULTI_PLATFORM",
    "BUILDKIT_SANDBOX_HOSTNAME",
    "BUILDKIT_SYNTAX",
    "SOURCE_DATE_EPOCH",
    "BUILDKIT_SBOM_SCAN_CONTEXT",
    "BUILDKIT_SBOM_SCAN_STAGE",
];

/// Whether `name` is an ARG every build defines without a declaration (a proxy or one of
/// BuildKit's own).
pub(crate) fn is_predefined_arg(name: &str) -> bool {
    scope::PROXY_ARGS.contains(&name) || BUILDKIT_ARGS.contains(&name)
}

/// Converts a parser span to a diagnostic span.
pub(crate) fn span(s: kasane_dockerfile::Span) -> Span {
    Span::new(s.start.offset, s.end.offset)
}

/// The variables of an instruction BuildKit never walks (anything but ARG before the first
/// FROM, which BuildKit rejects): nothing is set or declared.
static NO_VARS: LazyLock<ResolvedInstruction> = LazyLock::new(|| ResolvedInstruction {
    instruction: usize::MAX,
    env: Arc::default(),
    declared: Arc::default(),
    fields: Vec::new(),
});

/// One stage: a FROM and the instructions up to the next FROM.
#[derive(Debug, Clone)]
pub(crate) struct Stage<'a> {
    /// Position among stages.
    pub index: usize,
    /// Index of the FROM instruction.
    pub from: usize,
    /// One past the index of the stage's last instruction.
    pub end: usize,
    /// The FROM instruction.
    pub from_instr: &'a Instruction,
    /// The image word as written.
    pub image_word: Option<&'a Word>,
    /// The image reference with the meta ARGs applied (`None` when expansion failed).
    pub image: Option<&'a str>,
    /// Names the image reference uses that no meta ARG declares.
    pub undeclared_in_image: BTreeSet<&'a str>,
    /// The `AS` keyword word, when present.
    pub as_word: Option<&'a Word>,
    /// The stage name word, when present.
    pub name_word: Option<&'a Word>,
    /// The stage name, lowercased as BuildKit compares it.
    pub name: Option<&'a str>,
    /// The earlier stage this one is built on (`FROM <stage>`).
    pub base: Option<usize>,
    /// `--platform`, when given.
    pub platform: Option<&'a Flag>,
}

/// The shell script a RUN executes, with the map back to the file.
#[derive(Debug, Clone)]
pub(crate) struct RunShell {
    pub text: ShellText,
    pub script: Script,
    /// True when the script is a heredoc body.
    pub heredoc: bool,
}

impl RunShell {
    /// The file span of a logical range of the script.
    pub(crate) fn span(&self, range: std::ops::Range<usize>) -> Span {
        let r = self.text.file_span(range);
        Span::new(r.start, r.end)
    }
}

/// State before an instruction, as the build sees it.
#[derive(Debug, Clone)]
pub(crate) struct Before<'a> {
    /// The ARG and ENV variables visible to it and its expanded arguments, from
    /// [`kasane_dockerfile::scope`]. A FROM sees the meta and platform ARGs.
    pub vars: &'a ResolvedInstruction,
    /// Absolute working directory (`/` when never set).
    pub workdir: Rc<str>,
    /// True when an absolute WORKDIR was set in this stage or a stage it is built on.
    pub workdir_set: bool,
    /// The SHELL in effect (`None`: the default `/bin/sh -c`).
    pub shell: Option<Rc<[String]>>,
}

impl Before<'_> {
    /// The variable values.
    pub(crate) fn env(&self) -> &VarEnv {
        &self.vars.env
    }
}

/// The working directory and SHELL, which lint tracks itself (scope tracks the variables).
#[derive(Debug, Clone)]
struct Place {
    workdir: Rc<str>,
    workdir_set: bool,
    shell: Option<Rc<[String]>>,
}

impl Default for Place {
    fn default() -> Self {
        Place {
            workdir: Rc::from("/"),
            workdir_set: false,
            shell: None,
        }
    }
}

/// Everything the rules read about one Dockerfile.
#[derive(Debug)]
pub(crate) struct Model<'a> {
    pub df: &'a Dockerfile,
    pub src: &'a str,
    pub instrs: &'a [Instruction],
    /// ARG/ENV scoping of the whole file, as BuildKit resolves it.
    pub scope: &'a Resolved,
    pub stages: Vec<Stage<'a>>,
    /// The stage of each instruction (`None` before the first FROM).
    pub stage_of: Vec<Option<usize>>,
    /// State before each instruction.
    pub before: Vec<Before<'a>>,
    /// The shell script of each shell-form RUN.
    pub runs: Vec<Option<RunShell>>,
    pub lexer: Lexer,
}

/// Resolves the ARG and ENV scoping of `df` for the build lint assumes: these `--build-arg`
/// values, the last stage as target, and a linux/amd64 build (so the platform ARGs have the
/// values a typical build gives them, whatever the host).
pub(crate) fn resolve(df: &Dockerfile, build_args: &[(String, String)]) -> Resolved {
    let args = build_args.iter().fold(
        BuildArgs::new().build_platform(Platform::new("linux", "amd64", "")),
        |args, (name, value)| args.arg(name, value),
    );
    scope::resolve(df, &args)
}

impl<'a> Model<'a> {
    /// The model of `df`, whose scoping [`resolve`] worked out.
    pub(crate) fn build(df: &'a Dockerfile, scope: &'a Resolved) -> Model<'a> {
        let instrs = df.instructions();
        let lexer = Lexer::new(df.escape());
        let vars = scope.by_instruction(instrs.len());
        let vars_of = |i: usize| vars[i].unwrap_or(&NO_VARS);
        let stages: Vec<Stage<'a>> = scope
            .stages
            .iter()
            .map(|st| Self::stage(instrs, scope, st))
            .collect();
        let mut stage_of = Vec::with_capacity(instrs.len());
        let mut before = Vec::with_capacity(instrs.len());
        // Working directory and shell at the end of each stage, for stages built on it.
        let mut stage_end: Vec<Place> = Vec::new();
        let mut place = Place::default();
        let mut cur_stage: Option<usize> = None;

        for (i, ins) in instrs.iter().enumerate() {
            if ins.kind == InstructionKind::From {
                if cur_stage.is_some() {
                    stage_end.push(place.clone());
                }
                let index = cur_stage.map_or(0, |s| s + 1);
                cur_stage = Some(index);
                place = match stages.get(index).and_then(|s| s.base) {
                    Some(b) => stage_end[b].clone(),
                    None => Place::default(),
                };
            }
            stage_of.push(cur_stage);
            before.push(Before {
                vars: vars_of(i),
                workdir: place.workdir.clone(),
                workdir_set: place.workdir_set,
                shell: place.shell.clone(),
            });
            if cur_stage.is_none() {
                continue;
            }
            match (ins.kind, &ins.args) {
                (InstructionKind::Workdir, Arguments::Text(w)) => {
                    let dir = vars_of(i).value(Field::Workdir).unwrap_or(&w.value);
                    place.workdir_set |= dir.starts_with('/');
                    place.workdir = Rc::from(join_path(&place.workdir, dir).as_str());
                }
                (InstructionKind::Shell, Arguments::Exec(words)) => {
                    place.shell = Some(words.iter().map(|w| w.value.clone()).collect());
                }
                _ => {}
            }
        }
        let escape = df.escape();
        let runs = instrs
            .iter()
            .map(|ins| run_shell(df.source(), ins, escape))
            .collect();
        Model {
            df,
            src: df.source(),
            instrs,
            scope,
            stages,
            stage_of,
            before,
            runs,
            lexer,
        }
    }

    /// Lint's view of a stage scope resolved.
    fn stage(
        instrs: &'a [Instruction],
        scope: &'a Resolved,
        resolved: &'a scope::ResolvedStage,
    ) -> Stage<'a> {
        let st = &resolved.stage;
        let ins = &instrs[st.from];
        let words: &[Word] = match &ins.args {
            Arguments::List(w) => w,
            _ => &[],
        };
        let image_field = resolved.from.fields_of(Field::FromImage).next();
        let image = image_field.and_then(|f| f.value.as_deref().ok());
        // UndefinedArgInFrom: a meta ARG declared without a value is not reported.
        let undeclared_in_image = image_field
            .into_iter()
            .flat_map(|f| f.refs.unmatched.iter())
            .filter(|n| !scope.meta_declared.contains(*n))
            .map(String::as_str)
            .collect();
        let (as_word, name_word) = if words.len() >= 3 && words[1].value.eq_ignore_ascii_case("as")
        {
            (words.get(1), words.get(2))
        } else {
            (None, None)
        };
        Stage {
            index: st.index,
            from: st.from,
            end: st.instructions.last().map_or(st.from + 1, |&i| i + 1),
            from_instr: ins,
            image_word: words.first(),
            image,
            undeclared_in_image,
            as_word,
            name_word,
            name: st.name.as_deref(),
            base: scope.base_stage(st.index),
            platform: ins.flag("platform"),
        }
    }

    /// The stage a `--from` value names: a stage name (case-insensitive) defined before
    /// instruction `at`, or a stage index.
    pub(crate) fn stage_ref(&self, value: &str, at: usize) -> Option<usize> {
        if let Ok(n) = value.parse::<usize>() {
            return (n < self.stages.len()).then_some(n);
        }
        let lower = value.to_lowercase();
        self.stages
            .iter()
            .filter(|s| s.from < at)
            .rev()
            .find(|s| s.name == Some(lower.as_str()))
            .map(|s| s.index)
    }

    /// The stages each stage needs directly: its base and every `COPY --from` / mount
    /// `from=` that names a stage.
    pub(crate) fn dependencies(&self) -> Vec<BTreeSet<usize>> {
        let mut deps = vec![BTreeSet::new(); self.stages.len()];
        for s in &self.stages {
            if let Some(b) = s.base {
                deps[s.index].insert(b);
            }
            for i in s.from + 1..s.end {
                let ins = &self.instrs[i];
                let mut froms: Vec<String> = Vec::new();
                if let Some(f) = ins.flag("from").and_then(|f| f.value.clone()) {
                    froms.push(f);
                }
                for m in ins.flags.iter().filter(|f| f.name == "mount") {
                    if let Some(v) = &m.value {
                        for part in v.split(',') {
                            if let Some(from) = part.strip_prefix("from=") {
                                froms.push(from.to_owned());
                            }
                        }
                    }
                }
                for f in froms {
                    // BuildKit resolves --from against every stage name, also later ones.
                    let lower = f.to_lowercase();
                    let target = f
                        .parse::<usize>()
                        .ok()
                        .filter(|n| *n < self.stages.len())
                        .or_else(|| {
                            self.stages
                                .iter()
                                .find(|t| t.name == Some(lower.as_str()))
                                .map(|t| t.index)
                        });
                    if let Some(t) = target
                        && t != s.index
                    {
                        deps[s.index].insert(t);
                    }
                }
            }
        }
        deps
    }

    /// Stages the last stage needs, transitively (the last stage included).
    pub(crate) fn needed_by_final(&self) -> BTreeSet<usize> {
        let deps = self.dependencies();
        let mut seen = BTreeSet::new();
        let mut todo: Vec<usize> = self.stages.last().map(|s| s.index).into_iter().collect();
        while let Some(s) = todo.pop() {
            if seen.insert(s) {
                todo.extend(deps[s].iter().copied());
            }
        }
        seen
    }

    /// Stages whose layers end up in the final image: the last stage and the stages it is
    /// built on through FROM.
    pub(crate) fn shipped_stages(&self) -> BTreeSet<usize> {
        let mut out = BTreeSet::new();
        let mut cur = self.stages.last().map(|s| s.index);
        while let Some(s) = cur {
            if !out.insert(s) {
                break;
            }
            cur = self.stages[s].base;
        }
        out
    }

    /// Expands `text` with the scope before instruction `i`.
    pub(crate) fn expand(&self, i: usize, text: &str) -> String {
        self.lexer
            .process_word(text, self.before[i].env())
            .map_or_else(|_| text.to_owned(), |e| e.value)
    }
}

/// Joins `path` onto the directory `base` and normalises `.` and `..`.
pub(crate) fn join_path(base: &str, path: &str) -> String {
    let full = if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("{}/{}", base.trim_end_matches('/'), path)
    };
    let mut parts: Vec<&str> = Vec::new();
    for part in full.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    format!("/{}", parts.join("/"))
}

/// Interpreters whose heredoc scripts kasane reads as shell.
fn is_posix_shell(name: &str) -> bool {
    matches!(
        kasane_shell::base_name(name),
        "sh" | "bash" | "ash" | "dash" | "ksh" | "zsh" | "busybox"
    )
}

/// Builds the script of a shell-form RUN.
fn run_shell(src: &str, ins: &Instruction, escape: char) -> Option<RunShell> {
    if ins.kind == InstructionKind::Onbuild {
        // ONBUILD RUN runs in the child build: lint it like a RUN.
        return ins.trigger().and_then(|t| run_shell(src, t, escape));
    }
    if ins.kind != InstructionKind::Run {
        return None;
    }
    let Arguments::Shell(word) = &ins.args else {
        return None;
    };
    let raw = src.get(word.span.start.offset..word.span.end.offset)?;
    let line = ShellText::join_continued(raw, word.span.start.offset, escape);
    if let Some(doc) = ins.heredocs.first() {
        // `RUN <<EOF` or `RUN <<EOF bash`: the body is the script. Anything else feeds the
        // heredoc to a command, and the command line is the script.
        let rest: Vec<&str> = line
            .text()
            .split_whitespace()
            .filter(|w| !w.contains("<<"))
            .collect();
        let shebang = doc
            .content
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("#!"));
        let interpreter_is_shell = match (rest.as_slice(), shebang) {
            ([], None) => true,
            ([], Some(s)) => s.split_whitespace().next().is_some_and(is_posix_shell),
            ([one], _) => is_posix_shell(one),
            _ => false,
        };
        if rest.len() <= 1 && ins.heredocs.len() == 1 {
            if !interpreter_is_shell {
                return None;
            }
            let body_start = doc.body.start.offset;
            let body = src.get(body_start..doc.body.end.offset)?;
            let text = ShellText::contiguous(body, body_start);
            let script = kasane_shell::parse(text.text());
            return Some(RunShell {
                text,
                script,
                heredoc: true,
            });
        }
    }
    let script = kasane_shell::parse(line.text());
    Some(RunShell {
        text: line,
        script,
        heredoc: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model_of(src: &str, f: impl FnOnce(&Model<'_>)) {
        let df = kasane_dockerfile::parse(src).expect("parses");
        let scope = resolve(&df, &[]);
        let m = Model::build(&df, &scope);
        f(&m);
    }

    #[test]
    fn meta_args_resolve_in_from() {
        model_of(
            "ARG TAG=1.2\nARG IMG=alpine\nFROM ${IMG}:${TAG} AS Build\nFROM build\n",
            |m| {
                assert_eq!(m.stages[0].image, Some("alpine:1.2"));
                assert_eq!(m.stages[0].name, Some("build"));
                assert_eq!(m.stages[1].base, Some(0));
                assert!(m.stages[0].undeclared_in_image.is_empty());
            },
        );
        // BuildKit compares a base with the lowercased stage names exactly.
        model_of("FROM alpine AS build\nFROM Build\n", |m| {
            assert_eq!(m.stages[1].base, None);
            assert_eq!(m.stages[1].image, Some("Build"));
        });
        model_of("FROM alpine:$NOPE\n", |m| {
            assert!(m.stages[0].undeclared_in_image.contains("NOPE"));
        });
        model_of("FROM --platform=$BUILDPLATFORM golang:$TARGETARCH\n", |m| {
            assert!(m.stages[0].undeclared_in_image.is_empty());
        });
    }

    #[test]
    fn stage_scope_env_workdir_shell() {
        model_of(
            "ARG V=1\nFROM a\nARG V\nENV A=x B=$A\nWORKDIR /app\nWORKDIR sub\nSHELL [\"/bin/bash\", \"-c\"]\nRUN true\n",
            |m| {
                let last = m.instrs.len() - 1;
                let b = &m.before[last];
                assert_eq!(b.env().value("V"), Some("1"));
                assert_eq!(b.env().value("A"), Some("x"));
                assert_eq!(b.env().value("B"), Some(""));
                assert_eq!(&*b.workdir, "/app/sub");
                assert!(b.workdir_set);
                assert_eq!(b.shell.as_deref().map(|s| s[0].as_str()), Some("/bin/bash"));
            },
        );
    }

    #[test]
    fn variables_follow_buildkit() {
        let src =
            "FROM a AS base\nENV X=env\nARG X=arg\nWORKDIR /$X\nFROM base\nWORKDIR $X\nRUN true\n";
        model_of(src, |m| {
            // In one stage the later of ENV and ARG wins.
            assert_eq!(m.before[3].env().value("X"), Some("arg"));
            assert_eq!(&*m.before[4].workdir, "/arg");
            // A stage built on it gets its ENV values back on top, and its working directory.
            assert_eq!(m.before[6].env().value("X"), Some("env"));
            assert_eq!(&*m.before[6].workdir, "/arg/env");
            assert!(m.before[6].workdir_set);
            // FROM sees the global scope; a line BuildKit never walks sees nothing.
            assert_eq!(m.before[4].env().value("X"), None);
        });
        model_of("RUN x\nFROM a\n", |m| {
            assert!(m.before[0].env().is_empty());
            assert_eq!(m.stage_of[0], None);
        });
    }

    #[test]
    fn stage_graph() {
        model_of(
            "FROM a AS base\nFROM base AS build\nRUN make\nFROM a AS unused\nFROM scratch\nCOPY --from=build /out /out\n",
            |m| {
                let needed = m.needed_by_final();
                assert_eq!(needed.into_iter().collect::<Vec<_>>(), [0, 1, 3]);
                assert_eq!(m.shipped_stages().into_iter().collect::<Vec<_>>(), [3]);
            },
        );
    }

    #[test]
    fn run_scripts_map_to_the_file() {
        let src = "FROM a\nRUN apt-get update && \\\n    apt-get install -y curl\nRUN <<EOF\nset -e\nrm -rf /x\nEOF\n";
        model_of(src, |m| {
            let r = m.runs[1].as_ref().unwrap();
            let w = &r.script.commands[1].words[3];
            assert_eq!(w.value, "curl");
            let s = r.span(w.span.clone());
            assert_eq!(&src[s.start..s.end], "curl");
            let h = m.runs[2].as_ref().unwrap();
            assert!(h.heredoc);
            let rm = &h.script.commands[1].words[2];
            let s = h.span(rm.span.clone());
            assert_eq!(&src[s.start..s.end], "/x");
        });
    }

    #[test]
    fn paths_join() {
        assert_eq!(join_path("/", "app"), "/app");
        assert_eq!(join_path("/a/b", "../c/./d"), "/a/c/d");
        assert_eq!(join_path("/a", "/x/"), "/x");
    }
}
