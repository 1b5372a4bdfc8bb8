//! What the rules know about a Dockerfile beyond its syntax tree: stages and how they depend
//! on each other, the ARG/ENV scope before each instruction (so values are resolved as
//! BuildKit resolves them), the working directory, user and shell, and the shell script of
//! every RUN with exact file spans.

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use kasane_dockerfile::expand::{Env, Lexer};
use kasane_dockerfile::{Arguments, Dockerfile, Flag, Instruction, InstructionKind, Word};
use kasane_shell::{Script, ShellText};

use crate::diagnostic::Span;

/// BuildKit's automatic platform ARGs: global, usable in FROM without a declaration, and in a
/// stage only after `ARG NAME`.
pub(crate) const PLATFORM_ARGS: &[&str] = &[
    "BUILDPLATFORM",
    "BUILDOS",
    "BUILDOSVERSION",
    "BUILDARCH",
    "BUILDVARIANT",
    "TARGETPLATFORM",
    "TARGETOS",
    "TARGETOSVERSION",
    "TARGETARCH",
    "TARGETVARIANT",
    "TARGETSTAGE",
];

/// Values for the automatic platform ARGs when resolving FROM (BuildKit fills them in from
/// the build; a typical linux/amd64 build is assumed).
const PLATFORM_VALUES: &[(&str, &str)] = &[
    ("BUILDPLATFORM", "linux/amd64"),
    ("BUILDOS", "linux"),
    ("BUILDOSVERSION", ""),
    ("BUILDARCH", "amd64"),
    ("BUILDVARIANT", ""),
    ("TARGETPLATFORM", "linux/amd64"),
    ("TARGETOS", "linux"),
    ("TARGETOSVERSION", ""),
    ("TARGETARCH", "amd64"),
    ("TARGETVARIANT", ""),
    ("TARGETSTAGE", ""),
];

/// ARGs every RUN sees without a declaration (proxies) and BuildKit's built-in ones.
pub(crate) const PREDEFINED_ARGS: &[&str] = &[
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "FTP_PROXY",
    "ftp_proxy",
    "NO_PROXY",
    "no_proxy",
    "ALL_PROXY",
    "all_proxy",
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

/// Converts a parser span to a diagnostic span.
pub(crate) fn span(s: kasane_dockerfile::Span) -> Span {
    Span::new(s.start.offset, s.end.offset)
}

/// Variables in scope: name to value (`None` when declared without a value, which expands
/// to nothing).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Scope {
    pub vars: BTreeMap<String, Option<String>>,
    /// Names set by ENV (an ARG of the same name does not change them).
    pub env: BTreeSet<String>,
}

impl Env for Scope {
    fn get(&self, name: &str) -> Option<std::borrow::Cow<'_, str>> {
        self.vars
            .get(name)
            .and_then(|v| v.as_deref())
            .map(std::borrow::Cow::Borrowed)
    }
}

impl Scope {
    pub(crate) fn declares(&self, name: &str) -> bool {
        self.vars.contains_key(name)
    }
}

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
    /// The image reference with ARG defaults applied (`None` when expansion failed).
    pub image: Option<String>,
    /// Names the image reference uses that no meta ARG declares.
    pub undeclared_in_image: BTreeSet<String>,
    /// The `AS` keyword word, when present.
    pub as_word: Option<&'a Word>,
    /// The stage name word, when present.
    pub name_word: Option<&'a Word>,
    /// The stage name, lowercased as BuildKit compares it.
    pub name: Option<String>,
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
pub(crate) struct Before {
    /// ARG and ENV variables in scope.
    pub scope: Rc<Scope>,
    /// Absolute working directory (`/` when never set).
    pub workdir: Rc<str>,
    /// True when an absolute WORKDIR was set in this stage or a stage it is built on.
    pub workdir_set: bool,
    /// The SHELL in effect (`None`: the default `/bin/sh -c`).
    pub shell: Option<Rc<[String]>>,
}

/// Everything the rules read about one Dockerfile.
#[derive(Debug)]
pub(crate) struct Model<'a> {
    pub df: &'a Dockerfile,
    pub src: &'a str,
    pub instrs: &'a [Instruction],
    /// ARGs before the first FROM: instruction index and each declared name with its default.
    pub meta: Vec<(usize, String, Option<String>)>,
    pub stages: Vec<Stage<'a>>,
    /// The stage of each instruction (`None` before the first FROM).
    pub stage_of: Vec<Option<usize>>,
    /// State before each instruction.
    pub before: Vec<Before>,
    /// The shell script of each shell-form RUN.
    pub runs: Vec<Option<RunShell>>,
    pub lexer: Lexer,
}

/// Splits an ARG word `NAME=value` (quotes kept by the parser) into name and expanded value.
pub(crate) fn arg_decl(word: &str, lexer: &Lexer, scope: &Scope) -> (String, Option<String>) {
    match word.split_once('=') {
        Some((name, value)) => {
            let v = lexer
                .process_word(value, scope)
                .map_or_else(|_| value.to_owned(), |e| e.value);
            (name.to_owned(), Some(v))
        }
        None => (word.to_owned(), None),
    }
}

/// Removes BuildKit's quoting from an ENV/LABEL key or value without expanding anything.
fn expand_in(lexer: &Lexer, text: &str, scope: &Scope) -> String {
    lexer
        .process_word(text, scope)
        .map_or_else(|_| text.to_owned(), |e| e.value)
}

impl<'a> Model<'a> {
    pub(crate) fn build(df: &'a Dockerfile) -> Model<'a> {
        let instrs = df.instructions();
        let lexer = Lexer::new(df.escape());
        let mut meta = Vec::new();
        let mut meta_scope = Scope::default();
        let mut stages: Vec<Stage<'a>> = Vec::new();
        let mut stage_of = Vec::with_capacity(instrs.len());
        let mut before = Vec::with_capacity(instrs.len());
        // State at the end of each stage, for stages built on it.
        let mut stage_end_state: Vec<Before> = Vec::new();
        let root = Before {
            scope: Rc::new(Scope::default()),
            workdir: Rc::from("/"),
            workdir_set: false,
            shell: None,
        };
        let mut cur = root.clone();

        for (i, ins) in instrs.iter().enumerate() {
            if ins.kind == InstructionKind::From {
                if let Some(last) = stages.last_mut() {
                    last.end = i;
                    stage_end_state.push(cur.clone());
                }
                let stage = Self::stage(&lexer, &meta_scope, &stages, i, ins);
                cur = match stage.base {
                    Some(b) => stage_end_state[b].clone(),
                    None => root.clone(),
                };
                stages.push(stage);
                stage_of.push(Some(stages.len() - 1));
                before.push(cur.clone());
                continue;
            }
            let in_stage = stages.last().map(|s| s.index);
            stage_of.push(in_stage);
            before.push(cur.clone());
            match (ins.kind, &ins.args) {
                (InstructionKind::Arg, Arguments::Words(words)) => {
                    for w in words {
                        if in_stage.is_none() {
                            let (name, value) = arg_decl(&w.value, &lexer, &meta_scope);
                            meta.push((i, name.clone(), value.clone()));
                            meta_scope.vars.insert(name, value);
                        } else {
                            let (name, value) = arg_decl(&w.value, &lexer, &cur.scope);
                            // A redeclared ARG without a value takes the global default.
                            let value =
                                value.or_else(|| meta_scope.vars.get(&name).cloned().flatten());
                            // ENV always wins over ARG.
                            let scope = Rc::make_mut(&mut cur.scope);
                            if !scope.env.contains(&name) {
                                scope.vars.insert(name, value);
                            }
                        }
                    }
                }
                (InstructionKind::Env, Arguments::KeyValues(pairs)) if in_stage.is_some() => {
                    // Every value uses the scope from before the instruction.
                    let old = cur.scope.clone();
                    let scope = Rc::make_mut(&mut cur.scope);
                    for kv in pairs {
                        let key = expand_in(&lexer, &kv.key.value, &old);
                        let value = expand_in(&lexer, &kv.value.value, &old);
                        scope.env.insert(key.clone());
                        scope.vars.insert(key, Some(value));
                    }
                }
                (InstructionKind::Workdir, Arguments::Text(w)) if in_stage.is_some() => {
                    let dir = expand_in(&lexer, &w.value, &cur.scope);
                    let abs = dir.starts_with('/');
                    cur.workdir = Rc::from(join_path(&cur.workdir, &dir).as_str());
                    cur.workdir_set |= abs;
                }
                (InstructionKind::Shell, Arguments::Exec(words)) if in_stage.is_some() => {
                    let shell: Vec<String> = words.iter().map(|w| w.value.clone()).collect();
                    cur.shell = Some(Rc::from(shell));
                }
                _ => {}
            }
        }
        if let Some(last) = stages.last_mut() {
            last.end = instrs.len();
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
            meta,
            stages,
            stage_of,
            before,
            runs,
            lexer,
        }
    }

    fn stage(
        lexer: &Lexer,
        meta_scope: &Scope,
        earlier: &[Stage<'a>],
        i: usize,
        ins: &'a Instruction,
    ) -> Stage<'a> {
        let words: &[Word] = match &ins.args {
            Arguments::List(w) => w,
            _ => &[],
        };
        let image_word = words.first();
        // FROM sees the meta ARGs and the automatic platform ARGs (which have values when
        // BuildKit runs; here they are declared without one).
        let mut scope = meta_scope.clone();
        for (name, value) in PLATFORM_VALUES {
            scope
                .vars
                .entry((*name).to_owned())
                .or_insert_with(|| Some((*value).to_owned()));
        }
        let (image, undeclared) = match image_word {
            Some(w) => match lexer.process_word(&w.value, &scope) {
                Ok(e) => {
                    let undeclared = e
                        .refs
                        .unmatched
                        .into_iter()
                        .filter(|n| !scope.declares(n))
                        .collect();
                    (Some(e.value), undeclared)
                }
                Err(_) => (None, BTreeSet::new()),
            },
            None => (None, BTreeSet::new()),
        };
        let (as_word, name_word) = if words.len() >= 3 && words[1].value.eq_ignore_ascii_case("as")
        {
            (words.get(1), words.get(2))
        } else {
            (None, None)
        };
        let name = name_word.map(|w| w.value.to_ascii_lowercase());
        let base = image.as_ref().and_then(|img| {
            let lower = img.to_ascii_lowercase();
            earlier
                .iter()
                .rev()
                .find(|s| s.name.as_deref() == Some(lower.as_str()))
                .map(|s| s.index)
        });
        Stage {
            index: earlier.len(),
            from: i,
            end: i + 1,
            from_instr: ins,
            image_word,
            image,
            undeclared_in_image: undeclared,
            as_word,
            name_word,
            name,
            base,
            platform: ins.flag("platform"),
        }
    }

    /// The stage a `--from` value names: a stage name (case-insensitive) defined before
    /// instruction `at`, or a stage index.
    pub(crate) fn stage_ref(&self, value: &str, at: usize) -> Option<usize> {
        if let Ok(n) = value.parse::<usize>() {
            return (n < self.stages.len()).then_some(n);
        }
        let lower = value.to_ascii_lowercase();
        self.stages
            .iter()
            .filter(|s| s.from < at)
            .rev()
            .find(|s| s.name.as_deref() == Some(lower.as_str()))
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
                    let lower = f.to_ascii_lowercase();
                    let target = f
                        .parse::<usize>()
                        .ok()
                        .filter(|n| *n < self.stages.len())
                        .or_else(|| {
                            self.stages
                                .iter()
                                .find(|t| t.name.as_deref() == Some(lower.as_str()))
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
        expand_in(&self.lexer, text, &self.before[i].scope)
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
        let m = Model::build(&df);
        f(&m);
    }

    #[test]
    fn meta_args_resolve_in_from() {
        model_of(
            "ARG TAG=1.2\nARG IMG=alpine\nFROM ${IMG}:${TAG} AS Build\nFROM build\n",
            |m| {
                assert_eq!(m.stages[0].image.as_deref(), Some("alpine:1.2"));
                assert_eq!(m.stages[0].name.as_deref(), Some("build"));
                assert_eq!(m.stages[1].base, Some(0));
                assert!(m.stages[0].undeclared_in_image.is_empty());
            },
        );
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
                assert_eq!(
                    b.scope.vars.get("V").cloned().flatten().as_deref(),
                    Some("1")
                );
                assert_eq!(
                    b.scope.vars.get("A").cloned().flatten().as_deref(),
                    Some("x")
                );
                assert_eq!(
                    b.scope.vars.get("B").cloned().flatten().as_deref(),
                    Some("")
                );
                assert_eq!(&*b.workdir, "/app/sub");
                assert!(b.workdir_set);
                assert_eq!(b.shell.as_deref().map(|s| s[0].as_str()), Some("/bin/bash"));
            },
        );
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
