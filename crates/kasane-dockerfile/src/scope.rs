//! ARG and ENV scoping exactly as BuildKit applies it, and the expanded value of every
//! instruction argument BuildKit expands.
//!
//! [`resolve`] walks a Dockerfile the way BuildKit's `dockerfile2llb` does and records, for every
//! instruction, the variables visible to it, the ARG names declared before it, and the expanded
//! values of its arguments (each with the variables it found and did not find):
//!
//! - ARGs before the first `FROM` (meta ARGs) and the automatic platform ARGs (`BUILDPLATFORM`,
//!   `TARGETOS`, …, `TARGETSTAGE`) are seen by `FROM` lines only (image and `--platform`); a
//!   stage sees one after declaring it again (`ARG VERSION`), with the global value.
//! - Inside a stage an ARG takes effect from its line; `--build-arg` replaces its default (which
//!   is then not evaluated); several ARGs in one instruction apply one after the other.
//! - ENV pairs in one instruction are all expanded with the values from before it.
//! - ARG and ENV share one environment, where the later one wins; a stage built `FROM` another
//!   stage starts from that stage's environment, with that stage's ENV values on top.
//! - A stage built on an image starts from the image's ENV (when [`ImageEnv`] knows it) plus a
//!   default `PATH`.
//! - The proxy ARGs (`HTTP_PROXY`, …) reach RUN without being declared, but are not expanded
//!   anywhere else unless declared ([`Resolved::proxy`]).
//!
//! ```
//! use kasane_dockerfile::scope::{resolve, BuildArgs, Field};
//! use kasane_dockerfile::stage::StageBase;
//! use kasane_dockerfile::Dockerfile;
//!
//! let text = "ARG BASE=alpine\nFROM ${BASE}:3.20 AS app\nARG DIR=/srv\nWORKDIR $DIR/app\nCOPY $MISSING /x\n";
//! let df = Dockerfile::parse(text).unwrap();
//! let resolved = resolve(&df, &BuildArgs::new().arg("DIR", "/opt"));
//! let app = resolved.stage("app").unwrap();
//! assert_eq!(app.base, Some(StageBase::Image("alpine:3.20".into())));
//! let workdir = &app.instructions[1];
//! assert_eq!(workdir.value(Field::Workdir), Some("/opt/app"));
//! let copy = &app.instructions[2];
//! assert!(copy.undefined().contains("MISSING"));
//! ```

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::Serialize;

use crate::expand::{Env, ExpandError, Lexer, VarRefs};
use crate::stage::{Stage, StageBase, from_parts};
use crate::{Arguments, Dockerfile, Instruction, InstructionKind, Word};

/// The `PATH` BuildKit gives a Linux stage whose image has none.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// ARGs BuildKit defines globally from the build and target platforms (and the target stage).
pub const PLATFORM_ARGS: [&str; 11] = [
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

/// Build args that reach RUN without an ARG instruction (and are kept out of the image history).
pub const PROXY_ARGS: [&str; 10] = [
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
];

/// ARGs BuildKit reads for itself and never puts in the environment.
const NON_ENV_ARGS: [&str; 2] = ["BUILDKIT_SBOM_SCAN_CONTEXT", "BUILDKIT_SBOM_SCAN_STAGE"];

/// An OS/architecture pair as BuildKit formats it (`linux/arm64`, `linux/arm/v7`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Platform {
    /// `linux`, `windows`, …
    pub os: String,
    /// `amd64`, `arm64`, …
    pub architecture: String,
    /// `v7`, `v8`, … or empty.
    pub variant: String,
    /// Windows version, usually empty.
    pub os_version: String,
}

impl Platform {
    /// A platform from its parts.
    pub fn new(os: &str, architecture: &str, variant: &str) -> Self {
        Self {
            os: os.to_owned(),
            architecture: architecture.to_owned(),
            variant: variant.to_owned(),
            os_version: String::new(),
        }
    }

    /// The platform this program runs on, named the way Go/containerd name it.
    pub fn host() -> Self {
        let arch = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "x86" => "386",
            "aarch64" => "arm64",
            "powerpc64" if cfg!(target_endian = "little") => "ppc64le",
            "powerpc64" => "ppc64",
            "loongarch64" => "loong64",
            other => other,
        };
        let variant = if arch == "arm" { "v7" } else { "" };
        Self::new(std::env::consts::OS, arch, variant)
    }

    /// Parses `os/arch[/variant]`; `None` for any other shape.
    pub fn parse(s: &str) -> Option<Self> {
        let parts: Vec<&str> = s.split('/').collect();
        match parts.as_slice() {
            [os, arch] if !os.is_empty() && !arch.is_empty() => Some(Self::new(os, arch, "")),
            [os, arch, variant] if !os.is_empty() && !arch.is_empty() && !variant.is_empty() => {
                Some(Self::new(os, arch, variant))
            }
            _ => None,
        }
    }

    /// `os/arch[/variant]` (containerd's `platforms.Format`).
    pub fn format(&self) -> String {
        let mut s = format!("{}/{}", self.os, self.architecture);
        if !self.variant.is_empty() {
            s.push('/');
            s.push_str(&self.variant);
        }
        s
    }

    /// Like [`Platform::format`] with the OS version in parentheses when there is one
    /// (containerd's `platforms.FormatAll`).
    fn format_all(&self) -> String {
        if self.os_version.is_empty() {
            return self.format();
        }
        let mut s = format!("{}({})/{}", self.os, self.os_version, self.architecture);
        if !self.variant.is_empty() {
            s.push('/');
            s.push_str(&self.variant);
        }
        s
    }
}

/// What the build is asked to do: `--build-arg` values, `--target` and the platforms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildArgs {
    values: BTreeMap<String, String>,
    target: Option<String>,
    build_platform: Platform,
    target_platform: Option<Platform>,
}

impl Default for BuildArgs {
    fn default() -> Self {
        Self::new()
    }
}

impl BuildArgs {
    /// No build args, no target (the last stage), host build and target platform.
    pub fn new() -> Self {
        Self {
            values: BTreeMap::new(),
            target: None,
            build_platform: Platform::host(),
            target_platform: None,
        }
    }

    /// Adds `--build-arg NAME=VALUE`.
    #[must_use]
    pub fn arg(mut self, name: &str, value: &str) -> Self {
        self.values.insert(name.to_owned(), value.to_owned());
        self
    }

    /// Sets `--target`.
    #[must_use]
    pub fn target(mut self, stage: &str) -> Self {
        self.target = Some(stage.to_owned());
        self
    }

    /// Sets the build platform (default: the host).
    #[must_use]
    pub fn build_platform(mut self, platform: Platform) -> Self {
        self.build_platform = platform;
        self
    }

    /// Sets `--platform` (default: the build platform).
    #[must_use]
    pub fn target_platform(mut self, platform: Platform) -> Self {
        self.target_platform = Some(platform);
        self
    }

    /// The `--build-arg` values.
    pub fn values(&self) -> &BTreeMap<String, String> {
        &self.values
    }

    fn target_platform_or_default(&self) -> &Platform {
        self.target_platform
            .as_ref()
            .unwrap_or(&self.build_platform)
    }
}

/// Looks up the ENV of a base image, when the caller knows it (from a registry or a local
/// store). Without it, a stage built on an image starts with only the default `PATH`, and
/// [`ResolvedStage::base_env_known`] says so.
pub trait ImageEnv {
    /// The `Config.Env` of `image` as `(name, value)` pairs, or `None` if unknown.
    fn env(&self, image: &str) -> Option<Vec<(String, String)>>;
}

/// Knows no image.
#[derive(Debug, Clone, Copy, Default)]
pub struct UnknownImages;

impl ImageEnv for UnknownImages {
    fn env(&self, _image: &str) -> Option<Vec<(String, String)>> {
        None
    }
}

/// Where a variable's value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "instruction", rename_all = "snake_case")]
pub enum VarOrigin {
    /// An automatic platform ARG (`TARGETOS`, …), possibly set by `--build-arg`.
    Platform,
    /// An ARG instruction (index into the Dockerfile's instructions), before the first FROM or
    /// in a stage; its value may come from `--build-arg` or the global scope.
    Arg(usize),
    /// An ENV instruction.
    Env(usize),
    /// The base image's configuration.
    Image,
    /// BuildKit's default `PATH`.
    DefaultPath,
}

/// A variable and its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Var {
    /// The value (shared: environments are snapshotted at every ARG and ENV).
    #[serde(serialize_with = "serialize_str")]
    pub value: Arc<str>,
    /// Where it was set.
    pub origin: VarOrigin,
}

fn serialize_str<S: serde::Serializer>(value: &Arc<str>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(value)
}

/// The variables visible at one point of the build.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct VarEnv {
    vars: BTreeMap<String, Var>,
}

impl VarEnv {
    /// The variable `name`.
    pub fn var(&self, name: &str) -> Option<&Var> {
        self.vars.get(name)
    }

    /// The value of `name`.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(|v| &*v.value)
    }

    /// All variables, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Var)> {
        self.vars.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// How many variables there are.
    pub fn len(&self) -> usize {
        self.vars.len()
    }

    /// Whether nothing is set.
    pub fn is_empty(&self) -> bool {
        self.vars.is_empty()
    }

    fn set(&mut self, name: &str, value: impl Into<Arc<str>>, origin: VarOrigin) {
        let value = value.into();
        self.vars.insert(name.to_owned(), Var { value, origin });
    }
}

impl Env for VarEnv {
    fn get(&self, name: &str) -> Option<Cow<'_, str>> {
        self.value(name).map(Cow::Borrowed)
    }
}

/// Which argument of an instruction a value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// FROM's image reference.
    FromImage,
    /// FROM's `--platform`.
    FromPlatform,
    /// An ARG's default value.
    ArgDefault,
    /// An ENV key.
    EnvKey,
    /// An ENV value.
    EnvValue,
    /// A LABEL key.
    LabelKey,
    /// A LABEL value.
    LabelValue,
    /// A COPY or ADD source.
    Source,
    /// A COPY or ADD destination.
    Destination,
    /// COPY/ADD `--chown`.
    Chown,
    /// COPY/ADD `--chmod`.
    Chmod,
    /// ADD `--checksum`.
    Checksum,
    /// A COPY/ADD heredoc body whose delimiter was not quoted.
    Heredoc,
    /// WORKDIR's path.
    Workdir,
    /// USER's value.
    User,
    /// One EXPOSE argument; it can expand to several ports, joined here by single spaces.
    Expose,
    /// One VOLUME path.
    Volume,
    /// STOPSIGNAL's value.
    StopSignal,
}

/// One expanded argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpandedField {
    /// Which argument.
    pub field: Field,
    /// Its text before expansion.
    pub raw: String,
    /// The value, or why BuildKit would fail the build here.
    pub value: Result<String, ExpandError>,
    /// The variables it looked up.
    pub refs: VarRefs,
}

/// What one instruction sees and what its arguments expand to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedInstruction {
    /// Index into the Dockerfile's instructions.
    pub instruction: usize,
    /// The variables visible to it (the values from before it).
    pub env: Arc<VarEnv>,
    /// ARG names declared before it in its scope (with or without a value), including those
    /// inherited from a base stage. BuildKit does not report these as undefined.
    pub declared: Arc<BTreeSet<String>>,
    /// Its expanded arguments, in BuildKit's order.
    pub fields: Vec<ExpandedField>,
}

impl ResolvedInstruction {
    /// The expanded value of the first `field` that expanded without error.
    pub fn value(&self, field: Field) -> Option<&str> {
        self.fields_of(field).find_map(|f| f.value.as_deref().ok())
    }

    /// Every argument of kind `field`.
    pub fn fields_of(&self, field: Field) -> impl Iterator<Item = &ExpandedField> {
        self.fields.iter().filter(move |f| f.field == field)
    }

    /// Variables its arguments used that were unset and not declared as ARGs: what BuildKit's
    /// UndefinedVar check reports (for FROM, what UndefinedArgInFrom reports, before removing
    /// names declared as meta ARGs without a value; see [`Resolved::meta_declared`]).
    pub fn undefined(&self) -> BTreeSet<&str> {
        self.fields
            .iter()
            .flat_map(|f| f.refs.unmatched.iter())
            .filter(|name| !self.declared.contains(*name))
            .map(String::as_str)
            .collect()
    }

    /// The expansion errors, in order.
    pub fn errors(&self) -> impl Iterator<Item = &ExpandError> {
        self.fields.iter().filter_map(|f| f.value.as_ref().err())
    }

    /// Whether `name` is known here: set (by ARG, ENV, the base image or the default `PATH`)
    /// or declared as an ARG without a value. A name that is not known is what
    /// [`ResolvedInstruction::undefined`] reports when an argument uses it.
    pub fn knows(&self, name: &str) -> bool {
        self.env.var(name).is_some() || self.declared.contains(name)
    }
}

/// A stage with its base worked out and each instruction resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedStage {
    /// The stage as written.
    pub stage: Stage,
    /// The FROM line: its image and platform expanded with the global scope.
    pub from: ResolvedInstruction,
    /// What the stage is built on; `None` when the FROM reference failed to expand or expanded
    /// to nothing (BuildKit: `base name (…) should not be blank`).
    pub base: Option<StageBase>,
    /// The stage's platform: its own expanded `--platform`, its base stage's, or `None` for
    /// the target platform.
    pub platform: Option<String>,
    /// The base stage's ONBUILD triggers, which BuildKit runs first in this stage (each
    /// `instruction` is the index of the ONBUILD line in the base stage). The ONBUILD triggers
    /// of base images are not known and not run.
    pub triggers: Vec<ResolvedInstruction>,
    /// The instructions after FROM, in order.
    pub instructions: Vec<ResolvedInstruction>,
    /// Whether the base image's ENV was known (always true for `scratch`; inherited through
    /// base stages). When false, names from the image look undefined here.
    pub base_env_known: bool,
    /// The environment after the last instruction.
    pub env: Arc<VarEnv>,
    /// The ARG names declared by the end of the stage (a stage built on it inherits them).
    pub declared: Arc<BTreeSet<String>>,
    /// The image's ENV configuration after the last instruction (what `docker inspect` shows).
    pub image_env: BTreeMap<String, String>,
}

impl ResolvedStage {
    /// The resolved instruction with Dockerfile index `instruction`.
    pub fn instruction(&self, instruction: usize) -> Option<&ResolvedInstruction> {
        self.instructions
            .iter()
            .find(|i| i.instruction == instruction)
    }
}

/// A whole Dockerfile resolved for one set of build args.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The meta ARG instructions (before the first FROM).
    pub meta_args: Vec<ResolvedInstruction>,
    /// Every meta ARG name, with or without a value.
    pub meta_declared: BTreeSet<String>,
    /// What FROM lines see: platform ARGs and meta ARGs.
    pub global: Arc<VarEnv>,
    /// The stages, in order.
    pub stages: Vec<ResolvedStage>,
    /// The stage `--target` names (the last stage by default); `None` when no stage has that
    /// name.
    pub target: Option<usize>,
    /// Proxy build args, which RUN sees without an ARG.
    pub proxy: BTreeMap<String, String>,
}

impl Resolved {
    /// The stage named `name` (case-insensitive, as BuildKit's `--target` and `--from`); the
    /// last one if several share it.
    pub fn stage(&self, name: &str) -> Option<&ResolvedStage> {
        let name = name.to_lowercase();
        self.stages
            .iter()
            .rev()
            .find(|s| s.stage.name.as_deref() == Some(name.as_str()))
    }

    /// The resolved instruction with Dockerfile index `instruction`, wherever it is.
    pub fn instruction(&self, instruction: usize) -> Option<&ResolvedInstruction> {
        self.instructions().find(|i| i.instruction == instruction)
    }

    /// Every resolved instruction in Dockerfile order: the meta ARGs, then each stage's FROM
    /// and its instructions. A base stage's ONBUILD triggers, replayed in the stages built on
    /// it ([`ResolvedStage::triggers`]), are not included.
    pub fn instructions(&self) -> impl Iterator<Item = &ResolvedInstruction> {
        self.meta_args.iter().chain(
            self.stages
                .iter()
                .flat_map(|s| std::iter::once(&s.from).chain(&s.instructions)),
        )
    }

    /// The resolved instruction of each of `count` instructions, by Dockerfile index (`None`
    /// for what BuildKit does not walk, such as a non-ARG line before the first FROM): one
    /// pass, for callers that look up every instruction.
    pub fn by_instruction(&self, count: usize) -> Vec<Option<&ResolvedInstruction>> {
        let mut out = vec![None; count];
        for resolved in self.instructions() {
            if let Some(slot) = out.get_mut(resolved.instruction) {
                *slot = Some(resolved);
            }
        }
        out
    }

    /// The stage the base of stage `index` is, following `FROM <stage>` one step.
    pub fn base_stage(&self, index: usize) -> Option<usize> {
        match self.stages.get(index)?.base {
            Some(StageBase::Stage(j)) => Some(j),
            _ => None,
        }
    }
}

/// Resolves `dockerfile` for `args`, with base images' ENV unknown (see [`resolve_with`]).
pub fn resolve(dockerfile: &Dockerfile, args: &BuildArgs) -> Resolved {
    resolve_with(dockerfile, args, &UnknownImages)
}

/// Resolves `dockerfile` for `args`, asking `images` for the ENV of base images.
pub fn resolve_with(dockerfile: &Dockerfile, args: &BuildArgs, images: &dyn ImageEnv) -> Resolved {
    let steps: Vec<Step> = dockerfile.instructions().iter().map(Step::of).collect();
    resolve_steps(&steps, dockerfile.escape(), args, images)
}

/// The parts of an instruction that scoping reads, taken from the syntax tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    From {
        image: String,
        platform: Option<String>,
        name: Option<String>,
    },
    /// `(name, default)` pairs.
    Arg(Vec<(String, Option<String>)>),
    /// `(key, value)` pairs.
    Env(Vec<(String, String)>),
    /// `(key, value)` pairs.
    Label(Vec<(String, String)>),
    /// Single words, each expanded on its own, and heredoc bodies to expand.
    Words {
        fields: Vec<(Field, String)>,
        heredocs: Vec<String>,
    },
    /// EXPOSE arguments, each expanded and split.
    Expose(Vec<String>),
    /// An ONBUILD trigger: nothing here, run in the stages built on this one.
    Onbuild(Box<Step>),
    /// Nothing BuildKit expands.
    Other,
}

impl Step {
    /// What BuildKit expands in `instruction`, as its instruction layer splits it.
    fn of(instruction: &Instruction) -> Self {
        match (instruction.kind, &instruction.args) {
            (InstructionKind::From, _) => {
                let (image, platform, name) = from_parts(instruction);
                Step::From {
                    image,
                    platform,
                    name,
                }
            }
            // `NAME` or `NAME=default`, split at the first `=` (quotes stay in the name).
            (InstructionKind::Arg, Arguments::Words(words)) => Step::Arg(
                words
                    .iter()
                    .map(|w| match w.value.split_once('=') {
                        Some((k, v)) => (k.to_owned(), Some(v.to_owned())),
                        None => (w.value.clone(), None),
                    })
                    .collect(),
            ),
            (InstructionKind::Env, Arguments::KeyValues(pairs)) => Step::Env(
                pairs
                    .iter()
                    .map(|p| (p.key.value.clone(), p.value.value.clone()))
                    .collect(),
            ),
            (InstructionKind::Label, Arguments::KeyValues(pairs)) => Step::Label(
                pairs
                    .iter()
                    .map(|p| (p.key.value.clone(), p.value.value.clone()))
                    .collect(),
            ),
            (
                InstructionKind::Copy | InstructionKind::Add,
                Arguments::List(words) | Arguments::Exec(words),
            ) => copy_step(instruction, words),
            (InstructionKind::Workdir, Arguments::Text(w)) => single(Field::Workdir, w),
            (InstructionKind::User, Arguments::Text(w)) => single(Field::User, w),
            (InstructionKind::Stopsignal, Arguments::Text(w)) => single(Field::StopSignal, w),
            (InstructionKind::Volume, Arguments::List(words) | Arguments::Exec(words)) => {
                Step::Words {
                    fields: words
                        .iter()
                        .map(|w| (Field::Volume, w.value.clone()))
                        .collect(),
                    heredocs: Vec::new(),
                }
            }
            (InstructionKind::Expose, Arguments::List(words)) => {
                Step::Expose(words.iter().map(|w| w.value.clone()).collect())
            }
            (InstructionKind::Onbuild, Arguments::Trigger(trigger)) => {
                Step::Onbuild(Box::new(Step::of(trigger)))
            }
            _ => Step::Other,
        }
    }
}

fn single(field: Field, word: &Word) -> Step {
    Step::Words {
        fields: vec![(field, word.value.clone())],
        heredocs: Vec::new(),
    }
}

/// COPY/ADD: `--chown`, `--chmod`, ADD's `--checksum`, the sources, the destination, and the
/// bodies of heredoc sources whose delimiter was not quoted (BuildKit's order).
fn copy_step(instruction: &Instruction, words: &[Word]) -> Step {
    let mut fields = Vec::new();
    let mut flags = vec![("chown", Field::Chown), ("chmod", Field::Chmod)];
    if instruction.kind == InstructionKind::Add {
        flags.push(("checksum", Field::Checksum));
    }
    for (name, field) in flags {
        if let Some(value) = instruction.flag(name).and_then(|f| f.value.clone()) {
            fields.push((field, value));
        }
    }
    let mut heredocs = Vec::new();
    if let Some((dest, sources)) = words.split_last() {
        for word in sources {
            match instruction.heredocs.iter().find(|h| h.marker == word.span) {
                Some(h) if h.expand => heredocs.push(h.chomped_content()),
                Some(_) => {}
                None => fields.push((Field::Source, word.value.clone())),
            }
        }
        fields.push((Field::Destination, dest.value.clone()));
    }
    Step::Words { fields, heredocs }
}

/// Resolves `steps` (one per instruction, in order) with `escape` as escape character.
pub(crate) fn resolve_steps(
    steps: &[Step],
    escape: char,
    args: &BuildArgs,
    images: &dyn ImageEnv,
) -> Resolved {
    let lexer = Lexer::new(escape);
    let first_from = steps
        .iter()
        .position(|s| matches!(s, Step::From { .. }))
        .unwrap_or(steps.len());
    let stage_names: Vec<Option<String>> = steps
        .iter()
        .filter_map(|s| match s {
            Step::From { name, .. } => Some(name.as_ref().map(|n| n.to_lowercase())),
            _ => None,
        })
        .collect();
    // TARGETSTAGE is --target, else the last stage's name, else "default".
    let target_name = args
        .target
        .clone()
        .or_else(|| stage_names.last().cloned().flatten())
        .unwrap_or_else(|| "default".to_owned());

    let mut global = platform_args(args, &target_name);
    let mut meta_args = Vec::new();
    let mut meta_declared = BTreeSet::new();
    for (index, step) in steps[..first_from].iter().enumerate() {
        // Only ARG may precede FROM (BuildKit rejects anything else before parsing further).
        let Step::Arg(pairs) = step else { continue };
        let env_before = Arc::new(global.clone());
        let mut fields = Vec::new();
        for (name, default) in pairs {
            meta_declared.insert(name.clone());
            let value = match (args.values.get(name), default) {
                (Some(v), _) => Some(v.clone()),
                (None, Some(raw)) => {
                    expand_field(&lexer, Field::ArgDefault, raw, &global, &mut fields)
                }
                (None, None) => None,
            };
            if let Some(value) = value {
                global.set(name, value, VarOrigin::Arg(index));
            }
        }
        meta_args.push(ResolvedInstruction {
            instruction: index,
            env: env_before,
            declared: Arc::new(BTreeSet::new()),
            fields,
        });
    }
    let global = Arc::new(global);

    let mut stages: Vec<ResolvedStage> = Vec::new();
    let mut index = first_from;
    while index < steps.len() {
        let Step::From {
            image,
            platform,
            name,
        } = &steps[index]
        else {
            index += 1;
            continue;
        };
        let end = steps[index + 1..]
            .iter()
            .position(|s| matches!(s, Step::From { .. }))
            .map_or(steps.len(), |p| index + 1 + p);
        let stage = Stage {
            index: stages.len(),
            name: name.as_ref().map(|n| n.to_lowercase()),
            from: index,
            instructions: (index + 1..end).collect(),
            base_raw: image.clone(),
            platform_raw: platform.clone(),
        };
        let resolved = resolve_stage(&lexer, stage, steps, &global, &stages, args, images);
        stages.push(resolved);
        index = end;
    }

    let target = {
        let wanted = target_name.to_lowercase();
        match &args.target {
            Some(_) => stages
                .iter()
                .rposition(|s| s.stage.name.as_deref() == Some(wanted.as_str())),
            None => stages.len().checked_sub(1),
        }
    };
    let proxy = args
        .values
        .iter()
        .filter(|(k, _)| PROXY_ARGS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Resolved {
        meta_args,
        meta_declared,
        global,
        stages,
        target,
        proxy,
    }
}

/// BuildKit's automatic global ARGs, with `--build-arg` overrides.
fn platform_args(args: &BuildArgs, target_stage: &str) -> VarEnv {
    let build = &args.build_platform;
    let target = args.target_platform_or_default();
    let values = [
        build.format(),
        build.os.clone(),
        build.os_version.clone(),
        build.architecture.clone(),
        build.variant.clone(),
        target.format_all(),
        target.os.clone(),
        target.os_version.clone(),
        target.architecture.clone(),
        target.variant.clone(),
        target_stage.to_owned(),
    ];
    let mut env = VarEnv::default();
    for (name, value) in PLATFORM_ARGS.iter().zip(values) {
        let value = args.values.get(*name).cloned().unwrap_or(value);
        env.set(name, value, VarOrigin::Platform);
    }
    env
}

/// Expands `raw` as one word into `fields`, returning the value when it expanded.
fn expand_field(
    lexer: &Lexer,
    field: Field,
    raw: &str,
    env: &VarEnv,
    fields: &mut Vec<ExpandedField>,
) -> Option<String> {
    let (value, refs) = match lexer.process_word(raw, env) {
        Ok(out) => (Ok(out.value), out.refs),
        Err(e) => (Err(e), VarRefs::default()),
    };
    let ok = value.as_ref().ok().cloned();
    fields.push(ExpandedField {
        field,
        raw: raw.to_owned(),
        value,
        refs,
    });
    ok
}

/// The state of a stage while its instructions are walked.
struct StageState {
    env: VarEnv,
    declared: BTreeSet<String>,
    image_env: BTreeMap<String, String>,
}

fn resolve_stage(
    lexer: &Lexer,
    stage: Stage,
    steps: &[Step],
    global: &Arc<VarEnv>,
    earlier: &[ResolvedStage],
    args: &BuildArgs,
    images: &dyn ImageEnv,
) -> ResolvedStage {
    let mut from_fields = Vec::new();
    let base_name = expand_field(
        lexer,
        Field::FromImage,
        &stage.base_raw,
        global,
        &mut from_fields,
    );
    let own_platform = stage
        .platform_raw
        .as_ref()
        .and_then(|raw| expand_field(lexer, Field::FromPlatform, raw, global, &mut from_fields));
    let from = ResolvedInstruction {
        instruction: stage.from,
        env: Arc::clone(global),
        declared: Arc::new(BTreeSet::new()),
        fields: from_fields,
    };

    // An earlier stage of that exact (expanded) name, the latest one if several.
    let base = base_name.filter(|n| !n.is_empty()).map(|n| {
        match earlier
            .iter()
            .rposition(|s| s.stage.name.as_deref() == Some(n.as_str()))
        {
            Some(j) => StageBase::Stage(j),
            None if n == "scratch" => StageBase::Scratch,
            None => StageBase::Image(n),
        }
    });

    let (mut state, platform, base_env_known) = match &base {
        Some(StageBase::Stage(j)) => {
            let parent = &earlier[*j];
            let mut env = (*parent.env).clone();
            // BuildKit re-applies the image's ENV when a stage starts from another stage, so an
            // ENV value wins over an ARG of the same name set after it in the parent.
            for (k, v) in &parent.image_env {
                let origin = parent.env.var(k).map_or(VarOrigin::Image, |var| var.origin);
                env.set(k, v.clone(), origin);
            }
            let state = StageState {
                env,
                declared: (*parent.declared).clone(),
                image_env: parent.image_env.clone(),
            };
            (state, parent.platform.clone(), parent.base_env_known)
        }
        other => {
            let (image_env, known) = match other {
                Some(StageBase::Image(reference)) => match images.env(reference) {
                    Some(env) => (env, true),
                    None => (Vec::new(), false),
                },
                _ => (Vec::new(), true),
            };
            let os = own_platform
                .as_deref()
                .and_then(Platform::parse)
                .map_or_else(|| args.target_platform_or_default().os.clone(), |p| p.os);
            let mut state = StageState {
                env: VarEnv::default(),
                declared: BTreeSet::new(),
                image_env: BTreeMap::new(),
            };
            for (k, v) in image_env {
                state.env.set(&k, v.clone(), VarOrigin::Image);
                state.image_env.insert(k, v);
            }
            if os != "windows" && !state.image_env.contains_key("PATH") {
                state
                    .env
                    .set("PATH", DEFAULT_PATH.to_owned(), VarOrigin::DefaultPath);
                state
                    .image_env
                    .insert("PATH".to_owned(), DEFAULT_PATH.to_owned());
            }
            (state, own_platform, known)
        }
    };

    let mut env_snapshot = Arc::new(state.env.clone());
    let mut declared_snapshot = Arc::new(state.declared.clone());
    let mut walk = |index: usize, step: &Step| {
        let mut fields = Vec::new();
        let before = Arc::clone(&env_snapshot);
        let declared_before = Arc::clone(&declared_snapshot);
        if apply_step(lexer, step, index, &mut state, global, args, &mut fields) {
            env_snapshot = Arc::new(state.env.clone());
            declared_snapshot = Arc::new(state.declared.clone());
        }
        ResolvedInstruction {
            instruction: index,
            env: before,
            declared: declared_before,
            fields,
        }
    };
    // A stage built on another stage first runs that stage's ONBUILD triggers.
    let triggers: Vec<ResolvedInstruction> = match &base {
        Some(StageBase::Stage(j)) => earlier[*j]
            .stage
            .instructions
            .iter()
            .filter_map(|&index| match &steps[index] {
                Step::Onbuild(trigger) => Some(walk(index, trigger)),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    let instructions: Vec<ResolvedInstruction> = stage
        .instructions
        .iter()
        .map(|&index| walk(index, &steps[index]))
        .collect();

    ResolvedStage {
        stage,
        from,
        base,
        platform,
        triggers,
        instructions,
        base_env_known,
        env: env_snapshot,
        declared: declared_snapshot,
        image_env: state.image_env,
    }
}

/// Applies one instruction to the stage state, recording its expanded fields. Returns whether
/// the environment or the declared names changed.
fn apply_step(
    lexer: &Lexer,
    step: &Step,
    index: usize,
    state: &mut StageState,
    global: &VarEnv,
    args: &BuildArgs,
    fields: &mut Vec<ExpandedField>,
) -> bool {
    match step {
        Step::Arg(pairs) => {
            for (name, default) in pairs {
                let value = match (args.values.get(name), default) {
                    // --build-arg wins, and the default is then not evaluated.
                    (Some(v), _) => Some(v.clone()),
                    // Each default sees the ARGs before it in the same instruction.
                    (None, Some(raw)) => {
                        expand_field(lexer, Field::ArgDefault, raw, &state.env, fields)
                    }
                    // A bare ARG takes the global value (meta ARG or platform ARG), if any.
                    (None, None) => global.value(name).map(str::to_owned),
                };
                if let Some(value) = value
                    && !NON_ENV_ARGS.contains(&name.as_str())
                {
                    state.env.set(name, value, VarOrigin::Arg(index));
                }
                state.declared.insert(name.clone());
            }
            true
        }
        Step::Env(pairs) => {
            // Every pair sees the environment from before the instruction.
            let mut updates = Vec::with_capacity(pairs.len());
            for (key, value) in pairs {
                let key = expand_field(lexer, Field::EnvKey, key, &state.env, fields);
                let value = expand_field(lexer, Field::EnvValue, value, &state.env, fields);
                if let (Some(k), Some(v)) = (key, value) {
                    updates.push((k, v));
                }
            }
            for (k, v) in updates {
                state.env.set(&k, v.clone(), VarOrigin::Env(index));
                state.image_env.insert(k, v);
            }
            true
        }
        Step::Label(pairs) => {
            for (key, value) in pairs {
                expand_field(lexer, Field::LabelKey, key, &state.env, fields);
                expand_field(lexer, Field::LabelValue, value, &state.env, fields);
            }
            false
        }
        Step::Words {
            fields: words,
            heredocs,
        } => {
            for (field, raw) in words {
                expand_field(lexer, *field, raw, &state.env, fields);
            }
            // BuildKit expands heredoc bodies with `\` as escape and quotes left alone.
            let raw_lexer = Lexer::new('\\').skip_process_quotes(true);
            for body in heredocs {
                expand_field(&raw_lexer, Field::Heredoc, body, &state.env, fields);
            }
            false
        }
        Step::Expose(ports) => {
            for raw in ports {
                let (value, refs) = match lexer.process_words(raw, &state.env) {
                    Ok(out) => (Ok(out.words.join(" ")), out.refs),
                    Err(e) => (Err(e), VarRefs::default()),
                };
                fields.push(ExpandedField {
                    field: Field::Expose,
                    raw: raw.clone(),
                    value,
                    refs,
                });
            }
            false
        }
        Step::From { .. } | Step::Onbuild(_) | Step::Other => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(image: &str, name: Option<&str>) -> Step {
        Step::From {
            image: image.to_owned(),
            platform: None,
            name: name.map(str::to_owned),
        }
    }

    fn from_platform(image: &str, platform: &str) -> Step {
        Step::From {
            image: image.to_owned(),
            platform: Some(platform.to_owned()),
            name: None,
        }
    }

    fn arg(pairs: &[(&str, Option<&str>)]) -> Step {
        Step::Arg(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.map(str::to_owned)))
                .collect(),
        )
    }

    fn env(pairs: &[(&str, &str)]) -> Step {
        Step::Env(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    fn workdir(raw: &str) -> Step {
        Step::Words {
            fields: vec![(Field::Workdir, raw.to_owned())],
            heredocs: Vec::new(),
        }
    }

    fn amd64() -> BuildArgs {
        BuildArgs::new().build_platform(Platform::new("linux", "amd64", ""))
    }

    fn run(steps: &[Step], args: &BuildArgs) -> Resolved {
        resolve_steps(steps, '\\', args, &UnknownImages)
    }

    /// The WORKDIR value of instruction `index`.
    fn wd(resolved: &Resolved, index: usize) -> String {
        let i = resolved.instruction(index).expect("instruction");
        match &i.fields[0].value {
            Ok(v) => v.clone(),
            Err(e) => format!("error: {e}"),
        }
    }

    #[test]
    fn meta_args_reach_from_lines_only() {
        let steps = [
            arg(&[("BASE", Some("alpine")), ("TAG", Some("${BASE}-3"))]),
            from("$BASE:$TAG", None),
            workdir("/$BASE"),
        ];
        let r = run(&steps, &amd64());
        assert_eq!(
            r.stages[0].base,
            Some(StageBase::Image("alpine:alpine-3".into()))
        );
        assert_eq!(wd(&r, 2), "/");
        assert_eq!(
            r.instruction(2).unwrap().undefined(),
            BTreeSet::from(["BASE"])
        );
        assert_eq!(
            r.meta_declared,
            BTreeSet::from(["BASE".to_owned(), "TAG".to_owned()])
        );
    }

    #[test]
    fn redeclared_meta_arg_takes_the_global_value() {
        let steps = [
            arg(&[("V", Some("global")), ("NOVAL", None)]),
            from("scratch", None),
            arg(&[("V", None), ("NOVAL", None)]),
            workdir("/$V/${NOVAL:-unset}"),
        ];
        let r = run(&steps, &amd64());
        assert_eq!(wd(&r, 3), "/global/unset");
        // Declared without a value: unset, but not undefined.
        assert!(r.instruction(3).unwrap().undefined().is_empty());
        let r = run(&steps, &amd64().arg("V", "cli").arg("NOVAL", "x"));
        assert_eq!(wd(&r, 3), "/cli/x");
    }

    #[test]
    fn build_arg_replaces_defaults_without_evaluating_them() {
        let steps = [
            from("scratch", None),
            arg(&[("A", Some("${U:?boom}"))]),
            workdir("/$A"),
        ];
        let r = run(&steps, &amd64());
        assert!(r.instruction(1).unwrap().errors().next().is_some());
        let r = run(&steps, &amd64().arg("A", "given"));
        assert_eq!(wd(&r, 2), "/given");
        assert!(r.instruction(1).unwrap().fields.is_empty());
    }

    #[test]
    fn arg_takes_effect_from_its_line() {
        let steps = [
            from("scratch", None),
            workdir("/${A:-before}"),
            arg(&[("A", Some("after"))]),
            workdir("/${A:-before}"),
        ];
        let r = run(&steps, &amd64());
        assert_eq!(wd(&r, 1), "/before");
        assert_eq!(wd(&r, 3), "/after");
    }

    #[test]
    fn args_in_one_instruction_apply_in_order() {
        let steps = [
            from("scratch", None),
            arg(&[("A", Some("1")), ("B", Some("$A-2"))]),
            workdir("/$B"),
        ];
        assert_eq!(wd(&run(&steps, &amd64()), 2), "/1-2");
    }

    #[test]
    fn env_pairs_see_values_from_before_the_instruction() {
        let steps = [
            from("scratch", None),
            env(&[("A", "old")]),
            env(&[("A", "new"), ("B", "$A")]),
            workdir("/$A/$B"),
        ];
        let r = run(&steps, &amd64());
        assert_eq!(wd(&r, 3), "/new/old");
        assert_eq!(
            r.stages[0].image_env.get("B").map(String::as_str),
            Some("old")
        );
    }

    #[test]
    fn env_keys_are_expanded_too() {
        let steps = [
            from("scratch", None),
            arg(&[("K", Some("NAME"))]),
            env(&[("$K", "v")]),
            workdir("/$NAME"),
        ];
        assert_eq!(wd(&run(&steps, &amd64()), 3), "/v");
    }

    #[test]
    fn the_later_of_arg_and_env_wins() {
        let steps = [
            from("scratch", Some("base")),
            env(&[("X", "env")]),
            arg(&[("X", Some("arg"))]),
            workdir("/$X"),
            arg(&[("Y", Some("arg"))]),
            env(&[("Y", "env")]),
            workdir("/$Y"),
        ];
        let r = run(&steps, &amd64());
        assert_eq!(wd(&r, 3), "/arg");
        assert_eq!(wd(&r, 6), "/env");
        assert_eq!(
            r.stages[0].image_env.get("X").map(String::as_str),
            Some("env")
        );
    }

    #[test]
    fn a_stage_inherits_its_base_stage() {
        let steps = [
            from("scratch", Some("base")),
            env(&[("X", "env")]),
            arg(&[("X", Some("arg")), ("A", Some("a")), ("D", None)]),
            from("base", Some("child")),
            workdir("/$X/$A/${D:-d}"),
            from("scratch", None),
            workdir("/${X:-none}/${A:-none}"),
        ];
        let r = run(&steps, &amd64());
        assert_eq!(r.stages[1].base, Some(StageBase::Stage(0)));
        // ENV values are re-applied on top of the inherited environment.
        assert_eq!(wd(&r, 4), "/env/a/d");
        assert!(r.instruction(4).unwrap().declared.contains("D"));
        assert!(r.instruction(4).unwrap().undefined().is_empty());
        assert_eq!(r.stages[2].base, Some(StageBase::Scratch));
        assert_eq!(wd(&r, 6), "/none/none");
    }

    #[test]
    fn stage_references_are_exact_earlier_and_latest() {
        let steps = [
            from("scratch", Some("Build")),
            from("build", None),
            from("Build", None),
            from("later", None),
            from("scratch", Some("later")),
            from("scratch", Some("build")),
            from("build", None),
        ];
        let r = run(&steps, &amd64());
        assert_eq!(r.stages[0].stage.name.as_deref(), Some("build"));
        assert_eq!(r.stages[1].base, Some(StageBase::Stage(0)));
        assert_eq!(r.stages[2].base, Some(StageBase::Image("Build".into())));
        assert_eq!(r.stages[3].base, Some(StageBase::Image("later".into())));
        assert_eq!(r.stages[6].base, Some(StageBase::Stage(5)));
    }

    #[test]
    fn from_an_arg_can_name_a_stage() {
        let steps = [
            arg(&[("FLAVOR", Some("dev"))]),
            from("scratch", Some("dev")),
            from("scratch", Some("prod")),
            from("$FLAVOR", None),
        ];
        assert_eq!(
            run(&steps, &amd64()).stages[2].base,
            Some(StageBase::Stage(0))
        );
        let r = run(&steps, &amd64().arg("FLAVOR", "prod"));
        assert_eq!(r.stages[2].base, Some(StageBase::Stage(1)));
    }

    #[test]
    fn blank_or_failing_base_has_no_base() {
        let steps = [
            arg(&[("B", None)]),
            from("$B", None),
            from("${B:?no base}", None),
        ];
        let r = run(&steps, &amd64());
        assert_eq!(r.stages[0].base, None);
        assert_eq!(r.stages[1].base, None);
        assert!(r.stages[1].from.errors().next().is_some());
        // Declared meta ARGs without value are not reported by UndefinedArgInFrom.
        assert!(r.stages[0].from.undefined().contains("B"));
        assert!(r.meta_declared.contains("B"));
    }

    #[test]
    fn platform_args_are_global_and_follow_the_platforms() {
        let steps = [
            from_platform("scratch", "$BUILDPLATFORM"),
            workdir("/${TARGETOS:-none}"),
            arg(&[
                ("TARGETPLATFORM", None),
                ("TARGETOS", None),
                ("TARGETARCH", None),
                ("TARGETVARIANT", None),
                ("BUILDPLATFORM", None),
                ("TARGETSTAGE", None),
            ]),
            workdir(
                "/$TARGETPLATFORM/$TARGETOS/$TARGETARCH/[$TARGETVARIANT]/$BUILDPLATFORM/$TARGETSTAGE",
            ),
        ];
        let args = amd64().target_platform(Platform::new("linux", "arm", "v7"));
        let r = run(&steps, &args);
        assert_eq!(r.stages[0].platform.as_deref(), Some("linux/amd64"));
        assert_eq!(wd(&r, 1), "/none");
        assert_eq!(
            wd(&r, 3),
            "/linux/arm/v7/linux/arm/[v7]/linux/amd64/default"
        );
        let r = run(&steps, &args.arg("TARGETARCH", "riscv64"));
        assert_eq!(
            wd(&r, 3),
            "/linux/arm/v7/linux/riscv64/[v7]/linux/amd64/default"
        );
    }

    #[test]
    fn target_stage_names_the_target() {
        let steps = [
            from("scratch", Some("a")),
            from("scratch", Some("b")),
            arg(&[("TARGETSTAGE", None)]),
            workdir("/$TARGETSTAGE"),
        ];
        let r = run(&steps, &amd64());
        assert_eq!((wd(&r, 3).as_str(), r.target), ("/b", Some(1)));
        let r = run(&steps, &amd64().target("A"));
        assert_eq!(r.target, Some(0));
        assert_eq!(wd(&r, 3), "/A");
        assert_eq!(run(&steps, &amd64().target("zzz")).target, None);
    }

    #[test]
    fn proxy_args_stay_out_of_expansion_unless_declared() {
        let steps = [
            from("scratch", None),
            workdir("/${HTTP_PROXY:-unset}"),
            arg(&[("HTTP_PROXY", None)]),
            workdir("/${HTTP_PROXY:-unset}"),
        ];
        let r = run(
            &steps,
            &amd64().arg("HTTP_PROXY", "http://p").arg("OTHER", "x"),
        );
        assert_eq!(wd(&r, 1), "/unset");
        assert_eq!(wd(&r, 3), "/http://p");
        assert_eq!(
            r.proxy,
            BTreeMap::from([("HTTP_PROXY".to_owned(), "http://p".to_owned())])
        );
    }

    #[test]
    fn undeclared_build_args_are_not_visible() {
        let steps = [from("scratch", None), workdir("/${X:-unset}")];
        assert_eq!(wd(&run(&steps, &amd64().arg("X", "1")), 1), "/unset");
    }

    #[test]
    fn path_defaults_and_image_env() {
        struct Known;
        impl ImageEnv for Known {
            fn env(&self, image: &str) -> Option<Vec<(String, String)>> {
                (image == "known").then(|| vec![("HOME".to_owned(), "/root".to_owned())])
            }
        }
        let steps = [
            from("known", None),
            workdir("$HOME:$PATH"),
            from("unknown", None),
            workdir("${HOME:-none}"),
            from_platform("scratch", "windows/amd64"),
            workdir("/${PATH:-none}"),
        ];
        let r = resolve_steps(&steps, '\\', &amd64(), &Known);
        assert_eq!(wd(&r, 1), format!("/root:{DEFAULT_PATH}"));
        assert!(r.stages[0].base_env_known);
        assert_eq!(wd(&r, 3), "none");
        assert!(!r.stages[1].base_env_known);
        assert_eq!(wd(&r, 5), "/none");
    }

    #[test]
    fn non_env_args_are_declared_but_not_set() {
        let steps = [
            from("scratch", None),
            arg(&[("BUILDKIT_SBOM_SCAN_STAGE", Some("true"))]),
            workdir("/${BUILDKIT_SBOM_SCAN_STAGE:-unset}"),
        ];
        let r = run(&steps, &amd64());
        assert_eq!(wd(&r, 2), "/unset");
        assert!(r.instruction(2).unwrap().undefined().is_empty());
    }

    #[test]
    fn expose_labels_and_heredocs() {
        let steps = [
            from("scratch", None),
            arg(&[("P", Some("80 443"))]),
            Step::Expose(vec!["$P".into(), "${Q:-8080}/udp".into()]),
            Step::Label(vec![("k-$P".into(), "\"v $P\"".into())]),
            Step::Words {
                fields: vec![
                    (Field::Source, "a$P".into()),
                    (Field::Destination, "/d".into()),
                ],
                heredocs: vec!["echo \"$P\" '$P'\n".into()],
            },
        ];
        let r = run(&steps, &amd64());
        let expose = r.instruction(2).unwrap();
        let ports: Vec<&str> = expose
            .fields_of(Field::Expose)
            .map(|f| f.value.as_deref().unwrap())
            .collect();
        assert_eq!(ports, ["80 443", "8080/udp"]);
        assert_eq!(expose.undefined(), BTreeSet::from(["Q"]));
        let label = r.instruction(3).unwrap();
        assert_eq!(label.value(Field::LabelKey), Some("k-80 443"));
        assert_eq!(label.value(Field::LabelValue), Some("v 80 443"));
        let copy = r.instruction(4).unwrap();
        assert_eq!(
            copy.value(Field::Heredoc),
            Some("echo \"80 443\" '80 443'\n")
        );
    }

    #[test]
    fn escape_character_applies() {
        let steps = [
            from("scratch", None),
            arg(&[("A", Some("x"))]),
            workdir("/`$A\\$A"),
        ];
        let r = resolve_steps(&steps, '`', &amd64(), &UnknownImages);
        assert_eq!(wd(&r, 2), "/$A\\x");
    }

    #[test]
    fn base_stage_onbuild_triggers_run_first_in_the_child() {
        let steps = [
            from("scratch", Some("base")),
            Step::Onbuild(Box::new(env(&[("OB", "from-$WHO")]))),
            env(&[("WHO", "base")]),
            from("base", None),
            workdir("/${OB:-none}"),
            from("scratch", None),
            workdir("/${OB:-none}"),
        ];
        let r = run(&steps, &amd64());
        // Not in the stage that declares it.
        assert_eq!(r.stages[0].env.value("OB"), None);
        assert_eq!(r.stages[1].triggers.len(), 1);
        assert_eq!(r.stages[1].triggers[0].instruction, 1);
        assert_eq!(wd(&r, 4), "/from-base");
        assert_eq!(
            r.stages[1].image_env.get("OB").map(String::as_str),
            Some("from-base")
        );
        assert!(r.stages[2].triggers.is_empty());
        assert_eq!(wd(&r, 6), "/none");
    }

    #[test]
    fn known_names_are_set_or_declared() {
        let steps = [
            arg(&[("G", Some("g"))]),
            from("scratch", Some("base")),
            arg(&[("BARE", None), ("G", None)]),
            env(&[("E", "e")]),
            workdir("/$BARE/$E/$G/$NOPE"),
        ];
        let r = run(&steps, &amd64());
        let w = r.instruction(4).unwrap();
        for name in ["BARE", "E", "G", "PATH"] {
            assert!(w.knows(name), "{name}");
        }
        assert!(!w.knows("NOPE"));
        assert_eq!(w.undefined(), BTreeSet::from(["NOPE"]));
        // A meta ARG is not known in a stage until it is declared there.
        assert!(!r.instruction(2).unwrap().knows("G"));
    }

    #[test]
    fn every_instruction_is_found_once_by_index() {
        let steps = [
            arg(&[("A", Some("1"))]),
            from("scratch", Some("base")),
            Step::Onbuild(Box::new(env(&[("OB", "x")]))),
            from("base", None),
            workdir("/$OB"),
        ];
        let r = run(&steps, &amd64());
        let order: Vec<usize> = r.instructions().map(|i| i.instruction).collect();
        assert_eq!(order, [0, 1, 2, 3, 4]);
        let index = r.by_instruction(steps.len() + 1);
        assert_eq!(index.len(), 6);
        for (k, found) in index.iter().enumerate().take(5) {
            assert_eq!(found.map(|i| i.instruction), Some(k));
        }
        assert!(index[5].is_none());
        // The ONBUILD line is the base stage's, not its replay in the child.
        assert!(index[2].unwrap().fields.is_empty());
        assert_eq!(index[2].unwrap().env.value("OB"), None);
        assert_eq!(r.stages[1].triggers[0].instruction, 2);
        assert_eq!(r.base_stage(1), Some(0));
        assert_eq!(r.base_stage(0), None);
        assert_eq!(r.base_stage(9), None);
    }

    #[test]
    fn snapshots_are_shared_until_something_changes() {
        let steps = [
            from("scratch", None),
            workdir("/a"),
            workdir("/b"),
            env(&[("A", "1")]),
            workdir("/c"),
        ];
        let r = run(&steps, &amd64());
        let s = &r.stages[0].instructions;
        assert!(Arc::ptr_eq(&s[0].env, &s[1].env));
        assert!(Arc::ptr_eq(&s[1].env, &s[2].env));
        assert!(!Arc::ptr_eq(&s[2].env, &s[3].env));
        assert_eq!(s[3].env.value("A"), Some("1"));
        assert_eq!(s[3].env.var("A").unwrap().origin, VarOrigin::Env(3));
    }
}
