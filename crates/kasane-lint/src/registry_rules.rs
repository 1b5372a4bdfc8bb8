// The rule table, included by registry.rs. One entry per rule, in code order.
rules! {
    PARSE_ERROR = {
        code: "KL001", name: "parse-error", aliases: ["DL1000"],
        category: Syntax, severity: Error, enabled: true, fixable: false,
        summary: "The Dockerfile does not parse the way BuildKit reads it",
        explanation: "BuildKit refuses this file (or this instruction) before building anything. \
Unlike hadolint, kasane keeps linting the rest of the file and lets you silence this finding \
like any other, but `docker build` will still fail until it is fixed.",
        bad: "FROM alpine\nCOPY only-one-argument\n",
        good: "FROM alpine\nCOPY app.conf /etc/app.conf\n",
    },
    STAGE_NAME_CASING = {
        code: "KL101", name: "stage-name-casing", aliases: ["StageNameCasing"],
        category: BuildCheck, severity: Warning, enabled: true, fixable: true,
        summary: "Stage names should be lowercase",
        explanation: "BuildKit lowercases stage names when it resolves `--from` and `FROM <stage>`, \
so `Builder` and `builder` are the same stage. Writing them in lowercase avoids the surprise of \
two names that look different but collide.",
        bad: "FROM alpine AS Builder\n",
        good: "FROM alpine AS builder\n",
    },
    FROM_AS_CASING = {
        code: "KL102", name: "from-as-casing", aliases: ["FromAsCasing"],
        category: BuildCheck, severity: Warning, enabled: true, fixable: true,
        summary: "The AS keyword should match the casing of FROM",
        explanation: "A consistent style makes stage boundaries easy to spot: `FROM x AS y` or \
`from x as y`, not a mix.",
        bad: "FROM alpine as builder\n",
        good: "FROM alpine AS builder\n",
    },
    EMPTY_CONTINUATION = {
        code: "KL103", name: "empty-continuation-line", aliases: ["NoEmptyContinuation"],
        category: BuildCheck, severity: Warning, enabled: true, fixable: true,
        summary: "Empty line inside a continued instruction",
        explanation: "An empty line after a line continuation is skipped silently today, but BuildKit \
has announced it will become an error. It also hides where an instruction really ends.",
        bad: "FROM alpine\nRUN apk add \\\n\n    curl\n",
        good: "FROM alpine\nRUN apk add \\\n    curl\n",
    },
    INSTRUCTION_CASING = {
        code: "KL104", name: "inconsistent-instruction-casing", aliases: ["ConsistentInstructionCasing"],
        category: BuildCheck, severity: Warning, enabled: true, fixable: true,
        summary: "Instructions should all use the same casing",
        explanation: "Instruction keywords are case-insensitive, but mixing `RUN` and `run` (or \
writing `Run`) makes a Dockerfile harder to read. The casing most instructions use wins; \
mixed-case keywords are always flagged.",
        bad: "FROM alpine\nrun echo hi\n",
        good: "FROM alpine\nRUN echo hi\n",
    },
    DUPLICATE_STAGE_NAME = {
        code: "KL105", name: "duplicate-stage-name", aliases: ["DuplicateStageName", "DL3024"],
        category: BuildCheck, severity: Error, enabled: true, fixable: false,
        summary: "Stage names should be unique",
        explanation: "When two stages share a name, `COPY --from` and `FROM <name>` silently pick \
one of them. Give every stage its own name.",
        bad: "FROM alpine AS build\nFROM debian AS build\n",
        good: "FROM alpine AS build-alpine\nFROM debian AS build-debian\n",
    },
    RESERVED_STAGE_NAME = {
        code: "KL106", name: "reserved-stage-name", aliases: ["ReservedStageName", "DL3063"],
        category: BuildCheck, severity: Error, enabled: true, fixable: false,
        summary: "Stage name is reserved (scratch or context)",
        explanation: "`scratch` means the empty image and `context` names the build context in \
`COPY --from`; a stage with one of these names cannot be referenced reliably.",
        bad: "FROM alpine AS scratch\n",
        good: "FROM alpine AS base\n",
    },
    JSON_ARGS = {
        code: "KL107", name: "json-args-recommended", aliases: ["JSONArgsRecommended", "DL3025"],
        category: BuildCheck, severity: Warning, enabled: true, fixable: true,
        summary: "Use the JSON (exec) form for CMD and ENTRYPOINT",
        explanation: "In shell form the command runs under `/bin/sh -c`, which becomes PID 1 and \
does not forward signals: `docker stop` waits its full timeout and then kills the process. The \
JSON form runs the program directly. Not reported when the stage changed SHELL on purpose.",
        bad: "FROM alpine\nCMD nginx -g 'daemon off;'\n",
        good: "FROM alpine\nCMD [\"nginx\", \"-g\", \"daemon off;\"]\n",
    },
    MAINTAINER_DEPRECATED = {
        code: "KL108", name: "maintainer-deprecated", aliases: ["MaintainerDeprecated", "DL4000"],
        category: BuildCheck, severity: Warning, enabled: true, fixable: true,
        summary: "MAINTAINER is deprecated",
        explanation: "MAINTAINER has been deprecated for years; the OCI annotation label \
`org.opencontainers.image.authors` says the same thing and tools read it.",
        bad: "FROM alpine\nMAINTAINER Jane <jane@example.com>\n",
        good: "FROM alpine\nLABEL org.opencontainers.image.authors=\"Jane <jane@example.com>\"\n",
    },
    UNDEFINED_ARG_IN_FROM = {
        code: "KL109", name: "undefined-arg-in-from", aliases: ["UndefinedArgInFrom"],
        category: BuildCheck, severity: Warning, enabled: true, fixable: false,
        summary: "FROM uses a variable that no ARG before the first FROM declares",
        explanation: "Only ARGs declared before the first FROM (and BuildKit's automatic platform \
ARGs) can be used in FROM. An undeclared name expands to the empty string, which usually gives \
an invalid image reference or the wrong image.",
        bad: "FROM alpine:${VERSION}\n",
        good: "ARG VERSION=3.20\nFROM alpine:${VERSION}\n",
    },
    WORKDIR_RELATIVE = {
        code: "KL110", name: "workdir-relative-path", aliases: ["WorkdirRelativePath", "DL3000"],
        category: BuildCheck, severity: Warning, enabled: true, fixable: false,
        summary: "Relative WORKDIR before any absolute WORKDIR in the stage",
        explanation: "A relative WORKDIR is resolved against the base image's working directory, \
which you do not control and which can change with a new base image. Set an absolute WORKDIR \
first; relative ones after it are fine.",
        bad: "FROM alpine\nWORKDIR app\n",
        good: "FROM alpine\nWORKDIR /app\n",
    },
    UNDEFINED_VAR = {
        code: "KL111", name: "undefined-var", aliases: ["UndefinedVar"],
        category: BuildCheck, severity: Warning, enabled: true, fixable: false,
        summary: "Variable used where no ARG or ENV defines it",
        explanation: "Instructions that BuildKit expands itself (COPY, ADD, ENV, LABEL, WORKDIR, USER, \
EXPOSE, VOLUME, STOPSIGNAL) replace an undefined `$VAR` by the empty string without a word. \
Usually it is a typo, or an ARG declared before FROM that was not redeclared in the stage.",
        bad: "FROM alpine\nARG VERSION=1\nCOPY app-$VERSON.tar /app/\n",
        good: "FROM alpine\nARG VERSION=1\nCOPY app-$VERSION.tar /app/\n",
    },
    MULTIPLE_INSTRUCTIONS = {
        code: "KL112", name: "multiple-instructions-disallowed",
        aliases: ["MultipleInstructionsDisallowed", "DL4003", "DL4004", "DL3012"],
        category: BuildCheck, severity: Warning, enabled: true, fixable: true,
        summary: "Only the last CMD, ENTRYPOINT or HEALTHCHECK of a stage takes effect",
        explanation: "A stage keeps only its last CMD, ENTRYPOINT and HEALTHCHECK; earlier ones are \
dead code that misleads readers. The finding points at the earlier instruction.",
        bad: "FROM alpine\nCMD [\"a\"]\nCMD [\"b\"]\n",
        good: "FROM alpine\nCMD [\"b\"]\n",
    },
    LEGACY_KEY_VALUE = {
        code: "KL113", name: "legacy-key-value-format", aliases: ["LegacyKeyValueFormat"],
        category: BuildCheck, severity: Warning, enabled: true, fixable: true,
        summary: "Use ENV/LABEL key=value instead of the legacy `key value` form",
        explanation: "The space-separated form sets a single variable to the whole rest of the line, \
so `ENV A 1 B 2` sets A to `1 B 2`. The `key=value` form is unambiguous and can set several \
variables at once.",
        bad: "FROM alpine\nENV LANG C.UTF-8\n",
        good: "FROM alpine\nENV LANG=C.UTF-8\n",
    },
    INVALID_BASE_IMAGE_PLATFORM = {
        code: "KL114", name: "invalid-base-image-platform", aliases: ["InvalidBaseImagePlatform"],
        category: BuildCheck, severity: Warning, enabled: false, fixable: false,
        summary: "Base image was pulled for a platform other than the one requested",
        explanation: "BuildKit raises this while building, after it has resolved the base image's \
manifest. kasane lint reads only the Dockerfile, so it cannot know which platforms an image \
offers; the rule is listed so its BuildKit name is recognised in `# check=skip=` directives and \
configs, and it never fires.",
        bad: "FROM --platform=linux/arm64 amd64-only-image\n",
        good: "FROM --platform=linux/amd64 amd64-only-image\n",
    },
    REDUNDANT_TARGET_PLATFORM = {
        code: "KL115", name: "redundant-target-platform", aliases: ["RedundantTargetPlatform", "DL3065"],
        category: BuildCheck, severity: Info, enabled: true, fixable: true,
        summary: "FROM --platform=$TARGETPLATFORM is the default",
        explanation: "Stages are built for the target platform unless told otherwise, so \
`--platform=$TARGETPLATFORM` adds nothing.",
        bad: "FROM --platform=$TARGETPLATFORM alpine\n",
        good: "FROM alpine\n",
    },
    SECRETS_IN_ARG_OR_ENV = {
        code: "KL116", name: "secrets-used-in-arg-or-env", aliases: ["SecretsUsedInArgOrEnv", "DL3064"],
        category: BuildCheck, severity: Warning, enabled: true, fixable: false,
        summary: "ARG or ENV name suggests it holds a secret",
        explanation: "ARG values are recorded in the image history and ENV values in the image \
config: anyone who can pull the image can read them. Pass secrets with \
`RUN --mount=type=secret` instead.",
        bad: "FROM alpine\nARG GITHUB_TOKEN\nRUN fetch-private \"$GITHUB_TOKEN\"\n",
        good: "FROM alpine\nRUN --mount=type=secret,id=github_token,env=GITHUB_TOKEN fetch-private \"$GITHUB_TOKEN\"\n",
    },
    INVALID_DEFAULT_ARG_IN_FROM = {
        code: "KL117", name: "invalid-default-arg-in-from", aliases: ["InvalidDefaultArgInFrom"],
        category: BuildCheck, severity: Warning, enabled: true, fixable: false,
        summary: "With default ARG values the FROM image reference is empty or invalid",
        explanation: "The build works only when the right `--build-arg` is passed. Give the ARG a \
default that makes a valid reference so a plain `docker build` works too.",
        bad: "ARG TAG\nFROM alpine:${TAG}\n",
        good: "ARG TAG=3.20\nFROM alpine:${TAG}\n",
    },
    FROM_PLATFORM_CONST = {
        code: "KL118", name: "from-platform-flag-const-disallowed",
        aliases: ["FromPlatformFlagConstDisallowed", "DL3029"],
        category: BuildCheck, severity: Warning, enabled: true, fixable: false,
        summary: "FROM --platform with a constant value",
        explanation: "A fixed platform in FROM makes the image build for that platform whatever the \
user asks for. Use `$BUILDPLATFORM` (for cross-compiling stages) or `$TARGETPLATFORM`. Not \
reported when the stage name mentions the platform's OS or architecture, which shows it was \
meant. hadolint's DL3029 flags every --platform; kasane follows BuildKit.",
        bad: "FROM --platform=linux/amd64 golang AS build\n",
        good: "FROM --platform=$BUILDPLATFORM golang AS build\n",
    },
    COPY_IGNORED_FILE = {
        code: "KL119", name: "copy-ignored-file", aliases: ["CopyIgnoredFile"],
        category: BuildCheck, severity: Warning, enabled: true, fixable: false,
        summary: "COPY or ADD source is excluded by .dockerignore",
        explanation: "A source that .dockerignore excludes is not in the build context, so the COPY \
fails or copies less than it seems to. Checked when a `.dockerignore` (or \
`<Dockerfile>.dockerignore`) sits next to the Dockerfile.",
        bad: "# .dockerignore: *.md\nFROM alpine\nCOPY README.md /doc/\n",
        good: "# .dockerignore: *.md\n#                !README.md\nFROM alpine\nCOPY README.md /doc/\n",
    },
    INVALID_DEFINITION_DESCRIPTION = {
        code: "KL120", name: "invalid-definition-description", aliases: ["InvalidDefinitionDescription"],
        category: BuildCheck, severity: Style, enabled: false, fixable: false,
        summary: "Comment above ARG or FROM should start with the name it describes",
        explanation: "BuildKit (experimentally) reads a comment directly above an ARG or a named FROM \
as its description, in the form `# <name> <description>`. A comment in another form is not \
picked up; separate unrelated comments with an empty line. Experimental in BuildKit, so off \
unless selected.",
        bad: "# the version to build\nARG VERSION=1\n",
        good: "# VERSION the version to build\nARG VERSION=1\n",
    },
    EXPOSE_PROTO_CASING = {
        code: "KL121", name: "expose-proto-casing", aliases: ["ExposeProtoCasing"],
        category: BuildCheck, severity: Warning, enabled: true, fixable: true,
        summary: "EXPOSE protocol should be lowercase",
        explanation: "Protocols are written `tcp`, `udp` or `sctp`.",
        bad: "FROM alpine\nEXPOSE 53/UDP\n",
        good: "FROM alpine\nEXPOSE 53/udp\n",
    },
    EXPOSE_INVALID_FORMAT = {
        code: "KL122", name: "expose-invalid-format", aliases: ["ExposeInvalidFormat"],
        category: BuildCheck, severity: Warning, enabled: true, fixable: false,
        summary: "EXPOSE should not map ports or name an IP address",
        explanation: "EXPOSE documents the ports the container listens on. Host addresses and \
`host:container` mappings belong to `docker run -p`; BuildKit ignores them here and has \
announced they will become an error.",
        bad: "FROM alpine\nEXPOSE 127.0.0.1:80:80\n",
        good: "FROM alpine\nEXPOSE 80\n",
    },
    LAST_USER_ROOT = {
        code: "KL201", name: "last-user-root", aliases: ["DL3002"],
        category: Practice, severity: Warning, enabled: true, fixable: false,
        summary: "The final stage switches to root as its last USER",
        explanation: "A container that runs as root turns any escape into root on the host's \
kernel. Only the last USER of the final stage matters: builder stages may use root freely, and \
an image that never sets USER inherits its base image's choice.",
        bad: "FROM alpine\nUSER app\nRUN build\nUSER root\n",
        good: "FROM alpine\nUSER root\nRUN build\nUSER app\n",
    },
    CD_INSTEAD_OF_WORKDIR = {
        code: "KL202", name: "cd-instead-of-workdir", aliases: ["DL3003"],
        category: Practice, severity: Info, enabled: true, fixable: false,
        summary: "Use WORKDIR instead of `cd` to change directory for later instructions",
        explanation: "`cd` lasts only until the end of its RUN. When a RUN starts with `cd` into a \
directory, WORKDIR says the same thing once and keeps applying to later instructions.",
        bad: "FROM alpine\nRUN cd /app && make\n",
        good: "FROM alpine\nWORKDIR /app\nRUN make\n",
    },
    SUDO = {
        code: "KL203", name: "sudo-in-run", aliases: ["DL3004"],
        category: Practice, severity: Warning, enabled: true, fixable: false,
        summary: "Do not use sudo in RUN",
        explanation: "sudo behaves unpredictably without a terminal and adds a package to the image. \
Switch with USER, or run as root where root is needed.",
        bad: "FROM debian\nUSER app\nRUN sudo apt-get install -y curl\n",
        good: "FROM debian\nRUN apt-get install -y curl\nUSER app\n",
    },
    UNTAGGED_IMAGE = {
        code: "KL204", name: "untagged-base-image", aliases: ["DL3006"],
        category: Practice, severity: Warning, enabled: true, fixable: false,
        summary: "Base image has no tag or digest",
        explanation: "Without a tag, FROM means `:latest`, which changes under you: the same \
Dockerfile builds a different image next month. ARG values are resolved first, and stage names \
and `scratch` are not images, so they are never flagged.",
        bad: "FROM debian\n",
        good: "FROM debian:bookworm\n",
    },
    LATEST_TAG = {
        code: "KL205", name: "latest-tag", aliases: ["DL3007"],
        category: Practice, severity: Warning, enabled: true, fixable: false,
        summary: "Base image uses the `latest` tag",
        explanation: "`latest` moves whenever the publisher pushes; pin a release tag (or a digest) \
so rebuilds are reproducible and cache-friendly.",
        bad: "FROM debian:latest\n",
        good: "FROM debian:bookworm\n",
    },
    UNPINNED_PACKAGE = {
        code: "KL206", name: "unpinned-package",
        aliases: ["DL3008", "DL3013", "DL3016", "DL3018", "DL3028", "DL3033", "DL3037", "DL3041", "DL3062"],
        category: Practice, severity: Warning, enabled: false, fixable: false,
        summary: "Package installed without a version",
        explanation: "An unpinned package can change between builds. Pinning is a trade-off: OS \
distributions drop old package versions, so a pinned `apt-get install curl=7.88.1-10` breaks the \
build when the mirror moves on. That is why this rule (hadolint's DL3008, DL3013, DL3016, DL3018, \
DL3028, DL3033, DL3037, DL3041 and DL3062 in one) is off unless selected. Each finding answers to \
the DL code of its package manager.",
        bad: "FROM python:3.12\nRUN pip install requests\n",
        good: "FROM python:3.12\nRUN pip install requests==2.32.3\n",
    },
    MISSING_YES = {
        code: "KL207", name: "missing-assume-yes", aliases: ["DL3014", "DL3030", "DL3034", "DL3038"],
        category: Practice, severity: Warning, enabled: true, fixable: true,
        summary: "Package install without -y waits for an answer that never comes",
        explanation: "A build has no terminal: when apt-get, yum, dnf or zypper asks for \
confirmation, it reads end of input and aborts the build. Pass `-y` (zypper: \
`--non-interactive`).",
        bad: "FROM debian:bookworm\nRUN apt-get update && apt-get install curl\n",
        good: "FROM debian:bookworm\nRUN apt-get update && apt-get install -y curl\n",
    },
    APT_NOT_APT_GET = {
        code: "KL208", name: "apt-instead-of-apt-get", aliases: ["DL3027"],
        category: Practice, severity: Warning, enabled: true, fixable: true,
        summary: "Use apt-get (or apt-cache) in scripts, not apt",
        explanation: "`apt` is meant for people: its output and options may change between \
releases and it warns that it has no stable command-line interface. `apt-get` is the scripting \
interface.",
        bad: "FROM debian:bookworm\nRUN apt update && apt install -y curl\n",
        good: "FROM debian:bookworm\nRUN apt-get update && apt-get install -y curl\n",
    },
    ADD_INSTEAD_OF_COPY = {
        code: "KL209", name: "add-instead-of-copy", aliases: ["DL3020"],
        category: Practice, severity: Warning, enabled: true, fixable: true,
        summary: "Use COPY for local files; ADD only for archives and remote sources",
        explanation: "ADD also unpacks local tar archives and fetches URLs, so a reader cannot tell \
what an ADD of a plain file will do. COPY does only what it says.",
        bad: "FROM alpine\nADD app.conf /etc/app.conf\n",
        good: "FROM alpine\nCOPY app.conf /etc/app.conf\n",
    },
    COPY_DEST_NOT_DIR = {
        code: "KL210", name: "copy-multiple-sources-dest-not-dir", aliases: ["DL3021"],
        category: Practice, severity: Error, enabled: true, fixable: true,
        summary: "COPY or ADD with several sources needs a destination ending in /",
        explanation: "With more than one source the destination must be a directory, written with \
a trailing slash; otherwise the build fails.",
        bad: "FROM alpine\nCOPY a.txt b.txt /data\n",
        good: "FROM alpine\nCOPY a.txt b.txt /data/\n",
    },
    COPY_FROM_UNKNOWN = {
        code: "KL211", name: "copy-from-unknown-stage", aliases: ["DL3022"],
        category: Practice, severity: Warning, enabled: true, fixable: false,
        summary: "COPY --from names no earlier stage",
        explanation: "`--from` takes a stage name, a stage index or an image reference. A numeric \
index must name an earlier stage; a plain name that matches no stage is pulled as an image, \
which is rarely meant when it looks like a stage name (no registry, tag or path). Names that \
look like image references are not flagged, unlike hadolint's DL3022.",
        bad: "FROM golang AS build\nFROM alpine\nCOPY --from=biuld /out/app /app\n",
        good: "FROM golang AS build\nFROM alpine\nCOPY --from=build /out/app /app\n",
    },
    COPY_FROM_SELF = {
        code: "KL212", name: "copy-from-own-stage", aliases: ["DL3023"],
        category: Practice, severity: Error, enabled: true, fixable: false,
        summary: "COPY --from names the stage it is in",
        explanation: "A stage cannot copy from itself: BuildKit reports a circular dependency.",
        bad: "FROM alpine AS app\nCOPY --from=app /a /b\n",
        good: "FROM alpine AS files\nFROM alpine AS app\nCOPY --from=files /a /b\n",
    },
    UNTRUSTED_REGISTRY = {
        code: "KL213", name: "untrusted-registry", aliases: ["DL3026"],
        category: Practice, severity: Error, enabled: true, fixable: false,
        summary: "Base image comes from a registry that is not in the trusted list",
        explanation: "Active only when `trusted-registries` is configured (kasane.toml, or \
`trustedRegistries` in .hadolint.yaml). Images without a registry host come from docker.io. \
Patterns may start with `*.` to match subdomains.",
        bad: "# trusted-registries = [\"registry.example.com\"]\nFROM quay.io/foo/bar:1\n",
        good: "# trusted-registries = [\"registry.example.com\"]\nFROM registry.example.com/foo/bar:1\n",
    },
    ONBUILD_TRIGGER = {
        code: "KL214", name: "onbuild-forbidden-trigger", aliases: ["DL3043"],
        category: Practice, severity: Error, enabled: true, fixable: false,
        summary: "ONBUILD cannot trigger ONBUILD, FROM or MAINTAINER",
        explanation: "BuildKit rejects these triggers when the image is used as a base.",
        bad: "FROM alpine\nONBUILD FROM debian\n",
        good: "FROM alpine\nONBUILD RUN echo child build\n",
    },
    ENV_SELF_REFERENCE = {
        code: "KL215", name: "env-self-reference", aliases: ["DL3044"],
        category: Practice, severity: Warning, enabled: true, fixable: false,
        summary: "ENV uses a variable that the same ENV defines",
        explanation: "Every value in one ENV instruction is expanded with the variables as they \
were before the instruction, so `ENV A=1 B=$A` does not set B to 1. Split the ENV in two.",
        bad: "FROM alpine\nENV DIR=/opt/app BIN=$DIR/bin\n",
        good: "FROM alpine\nENV DIR=/opt/app\nENV BIN=$DIR/bin\n",
    },
    COPY_RELATIVE_DEST = {
        code: "KL216", name: "copy-relative-destination", aliases: ["DL3045"],
        category: Practice, severity: Warning, enabled: true, fixable: false,
        summary: "COPY to a relative destination before any WORKDIR",
        explanation: "A relative destination is resolved against the base image's working \
directory, which you do not control. Set WORKDIR first or use an absolute path.",
        bad: "FROM node:20\nCOPY package.json app/\n",
        good: "FROM node:20\nWORKDIR /srv\nCOPY package.json app/\n",
    },
    INVALID_PORT = {
        code: "KL217", name: "invalid-port", aliases: ["DL3011"],
        category: Practice, severity: Error, enabled: true, fixable: false,
        summary: "EXPOSE port outside 0-65535",
        explanation: "Ports are 16-bit numbers; anything above 65535 is a typo that BuildKit passes on \
to the image config, where the runtime rejects it.",
        bad: "FROM alpine\nEXPOSE 80000\n",
        good: "FROM alpine\nEXPOSE 8000\n",
    },
    INSTRUCTION_BEFORE_FROM = {
        code: "KL218", name: "instruction-before-from", aliases: ["DL3061"],
        category: Practice, severity: Error, enabled: true, fixable: false,
        summary: "Only ARG may come before the first FROM",
        explanation: "A Dockerfile starts with parser directives, comments, global ARGs and then \
FROM. Anything else before the first FROM is a build error.",
        bad: "RUN echo hi\nFROM alpine\n",
        good: "FROM alpine\nRUN echo hi\n",
    },
    PIPEFAIL = {
        code: "KL219", name: "pipe-without-pipefail", aliases: ["DL4006"],
        category: Practice, severity: Warning, enabled: true, fixable: false,
        summary: "A pipe in RUN hides failures of all but its last command",
        explanation: "`curl -f url | tar x` succeeds when curl fails, because a pipeline's status \
is its last command's. Set `SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]` (any bash \
path), or `set -o pipefail` in the same RUN. Not reported when the shell already fails on pipe \
errors, when the pipe's first command cannot fail in a way that matters (echo, printf, cat of a \
file, yes), or in non-POSIX shells.",
        bad: "FROM debian\nRUN curl -fsSL https://example.com/x.tgz | tar -xz\n",
        good: "FROM debian\nSHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\nRUN curl -fsSL https://example.com/x.tgz | tar -xz\n",
    },
    SHELL_VIA_LN = {
        code: "KL220", name: "shell-replaced-by-symlink", aliases: ["DL4005"],
        category: Practice, severity: Warning, enabled: true, fixable: false,
        summary: "Use SHELL to change the default shell, not a /bin/sh symlink",
        explanation: "Replacing /bin/sh changes the shell for every program in the image, not just \
for the build. SHELL changes it for RUN only.",
        bad: "FROM debian\nRUN ln -sf /bin/bash /bin/sh\n",
        good: "FROM debian\nSHELL [\"/bin/bash\", \"-c\"]\n",
    },
    POINTLESS_COMMAND = {
        code: "KL221", name: "pointless-command-in-run", aliases: ["DL3001"],
        category: Practice, severity: Info, enabled: true, fixable: false,
        summary: "Command that does nothing useful during a build",
        explanation: "RUN executes in a throwaway container: starting services (`service x start`, \
`systemctl`), interactive tools (vim, top, ssh) and process commands (ps, kill, free, mount, \
ifconfig, shutdown) have no effect on the image. Start services in CMD or ENTRYPOINT.",
        bad: "FROM debian\nRUN service nginx start\n",
        good: "FROM debian\nCMD [\"nginx\", \"-g\", \"daemon off;\"]\n",
    },
    COPY_WHOLE_STAGE = {
        code: "KL222", name: "copy-whole-stage", aliases: ["DL3067"],
        category: Practice, severity: Warning, enabled: true, fixable: false,
        summary: "COPY --from of a whole stage's filesystem",
        explanation: "Copying `/` from another stage brings its whole OS along, defeating the point \
of a multi-stage build. Copy the directories the final image needs.",
        bad: "FROM golang AS build\nFROM alpine\nCOPY --from=build / /\n",
        good: "FROM golang AS build\nFROM alpine\nCOPY --from=build /out/app /usr/local/bin/app\n",
    },
    WGET_AND_CURL = {
        code: "KL223", name: "wget-and-curl", aliases: ["DL4001"],
        category: Practice, severity: Info, enabled: true, fixable: false,
        summary: "Both wget and curl are used; one download tool is enough",
        explanation: "Each tool (and its libraries) costs space when it has to be installed. Pick \
one for the whole Dockerfile.",
        bad: "FROM debian\nRUN wget -q https://example.com/a && curl -fsSLO https://example.com/b\n",
        good: "FROM debian\nRUN curl -fsSLO https://example.com/a && curl -fsSLO https://example.com/b\n",
    },
    PACKAGE_CACHE = {
        code: "KL301", name: "package-cache-in-layer",
        aliases: ["DL3009", "DL3019", "DL3032", "DL3036", "DL3040", "DL3042", "DL3060"],
        category: Size, severity: Warning, enabled: true, fixable: true,
        summary: "Package manager cache left in the layer",
        explanation: "Package managers keep downloaded indexes and packages: apt's lists \
(/var/lib/apt/lists, typically 15-45 MB), apk's index, pip's wheel cache, npm's and yarn's \
caches, dnf/yum/zypper metadata. A layer is frozen when its RUN ends, so the cache must be removed \
in the same RUN (or never written: `apk add --no-cache`, `pip install --no-cache-dir`), or kept \
out of the image with `RUN --mount=type=cache`. Removing it in a later RUN saves nothing.",
        bad: "FROM debian:bookworm\nRUN apt-get update && apt-get install -y curl\n",
        good: "FROM debian:bookworm\nRUN apt-get update && apt-get install -y curl \\\n    && rm -rf /var/lib/apt/lists/*\n",
    },
    APT_UPDATE_ALONE = {
        code: "KL302", name: "apt-update-alone", aliases: [],
        category: Size, severity: Warning, enabled: true, fixable: true,
        summary: "apt-get update in a RUN without the install that needs it",
        explanation: "The lists downloaded by a lone `apt-get update` stay in their own layer for \
good, and the layer cache keeps reusing them: a later change to the install line runs against \
stale lists and fails with 404s once the mirror moves on. Update, install and clean in one RUN. \
The fix moves a RUN that only updates into the install RUN right after it.",
        bad: "FROM debian:bookworm\nRUN apt-get update\nRUN apt-get install -y curl\n",
        good: "FROM debian:bookworm\nRUN apt-get update && apt-get install -y curl \\\n    && rm -rf /var/lib/apt/lists/*\n",
    },
    INSTALL_RECOMMENDS = {
        code: "KL303", name: "apt-install-recommends", aliases: ["DL3015"],
        category: Size, severity: Info, enabled: true, fixable: true,
        summary: "apt-get install without --no-install-recommends",
        explanation: "By default apt also installs every recommended package, often doubling what \
lands in the image (documentation tools, X libraries, ...). Install exactly what you need with \
`--no-install-recommends` and add the few recommends you use by name.",
        bad: "FROM debian:bookworm\nRUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n",
        good: "FROM debian:bookworm\nRUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*\n",
    },
    REMOVED_IN_LATER_LAYER = {
        code: "KL304", name: "removed-in-later-layer", aliases: [],
        category: Size, severity: Warning, enabled: true, fixable: true,
        summary: "Files removed in a later layer than the one that added them",
        explanation: "Layers only add: deleting a file in a later RUN hides it (a whiteout) but \
its bytes stay in the layer that created it, and every pull downloads them. Remove temporary \
files in the same RUN that creates them, or download, unpack and clean in one RUN instead of \
COPY/ADD followed by RUN. Only stages that end up in the image are checked: builder stages that \
are only copied from do not ship their layers. The fix moves an `rm` into the RUN that created \
the file (marked unsafe when a RUN in between might read it), or turns `COPY f` followed by a \
RUN that uses and deletes it into `RUN --mount=type=bind` (unsafe: it needs BuildKit).",
        bad: "FROM alpine\nCOPY app.tar.gz /tmp/\nRUN tar -xzf /tmp/app.tar.gz -C /opt\nRUN rm /tmp/app.tar.gz\n",
        good: "FROM alpine\nRUN --mount=type=bind,source=app.tar.gz,target=/tmp/app.tar.gz tar -xzf /tmp/app.tar.gz -C /opt\n",
    },
    CHMOD_SEPARATE_LAYER = {
        code: "KL305", name: "chmod-in-separate-layer", aliases: [],
        category: Size, severity: Info, enabled: true, fixable: true,
        summary: "chmod or chown of files added by an earlier layer copies them again",
        explanation: "Changing a file's mode or owner in a later layer stores the whole file a \
second time in that layer. Reported as info for single files and as a warning for recursive \
changes or files of a megabyte or more. Set ownership and mode while copying (`COPY --chown=... \
--chmod=...`) or in the RUN that created the files.",
        bad: "FROM alpine\nCOPY app /opt/app\nRUN chmod -R 755 /opt/app\n",
        good: "FROM alpine\nCOPY --chmod=755 app /opt/app\n",
    },
    USERADD_LASTLOG = {
        code: "KL306", name: "useradd-without-no-log-init", aliases: ["DL3046"],
        category: Size, severity: Info, enabled: true, fixable: true,
        summary: "useradd with a high UID and without -l bloats the image",
        explanation: "useradd from shadow before 4.13 (Debian 11, Ubuntu 22.04, RHEL 9 and older \
bases) records the new user in /var/log/lastlog and faillog, sparse files indexed by UID (324 \
bytes per UID). A layer stores them at full length, so a UID like 1000000 adds hundreds of \
megabytes of zeros. shadow 4.13 (Debian 12) no longer writes them, which is why this is info, \
not a warning. `useradd -l` (`--no-log-init`) skips them everywhere. Reported from UID 65536 up.",
        bad: "FROM debian:bookworm\nRUN useradd -u 1000000 app\n",
        good: "FROM debian:bookworm\nRUN useradd -l -u 1000000 app\n",
    },
    ADD_URL = {
        code: "KL307", name: "add-url", aliases: [],
        category: Size, severity: Warning, enabled: true, fixable: false,
        summary: "ADD of a URL",
        explanation: "ADD downloads into its own layer, so an archive it fetches stays in the image \
even after a later RUN unpacks and deletes it, and the download is repeated to check it on \
every build. Download, unpack and delete in one RUN (curl or wget), or use \
`ADD --checksum=sha256:...` when the file itself must stay.",
        bad: "FROM alpine\nADD https://example.com/tool.tar.gz /tmp/\nRUN tar -xzf /tmp/tool.tar.gz -C /opt && rm /tmp/tool.tar.gz\n",
        good: "FROM alpine\nRUN wget -qO- https://example.com/tool.tar.gz | tar -xz -C /opt\n",
    },
    COPY_ALL_BEFORE_INSTALL = {
        code: "KL401", name: "copy-all-before-install", aliases: [],
        category: Speed, severity: Warning, enabled: true, fixable: true,
        summary: "The whole context is copied before the dependency install",
        explanation: "The layer cache is invalidated by any change to what a COPY brings in. With \
`COPY . .` before `npm ci`, `pip install -r`, `go mod download`, `bundle install` and the like, \
every source edit reinstalls all dependencies. Copy the manifest and lock files first, install, \
then copy the rest. The fix (unsafe: an install may read other files, such as postinstall \
scripts) does that for npm, yarn, pnpm and go when the build context is known and holds them.",
        bad: "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci\n",
        good: "FROM node:20\nWORKDIR /app\nCOPY package.json package-lock.json ./\nRUN npm ci\nCOPY . .\n",
    },
    UNUSED_STAGE = {
        code: "KL402", name: "unused-stage", aliases: [],
        category: Speed, severity: Warning, enabled: true, fixable: true,
        summary: "A stage that the final stage does not need",
        explanation: "No path of FROM and COPY --from (or RUN --mount from=) leads from the final \
stage to this one. BuildKit skips it when building the default target, but the legacy builder \
builds it anyway, and readers have to work out that it is dead. Remove it, or build it on purpose \
with `--target`. Stages named like a target (test, lint, dev, debug, ...) are not reported.",
        bad: "FROM alpine AS old\nRUN slow-step\nFROM alpine\nCMD [\"true\"]\n",
        good: "FROM alpine\nCMD [\"true\"]\n",
    },
    MERGEABLE_RUNS = {
        code: "KL403", name: "mergeable-runs", aliases: ["DL3059"],
        category: Speed, severity: Info, enabled: true, fixable: true,
        summary: "Consecutive RUNs that could be one without losing cache",
        explanation: "Every RUN adds a layer. Consecutive RUNs that are all quick, local commands \
(mkdir, ln, chmod, echo, useradd, ...) gain nothing from separate cache entries, so merging them \
saves layers without making rebuilds slower. RUNs that install packages, download or compile are \
left alone: merging those would throw away useful cache, which is why kasane does not flag every \
pair like hadolint's DL3059. The merge keeps the meaning: RUNs with different flags, heredocs, \
exec form, or a `cd`/`export`/`set` that would leak into the next command are not merged.",
        bad: "FROM alpine\nRUN mkdir -p /app/data\nRUN chown nobody /app/data\n",
        good: "FROM alpine\nRUN mkdir -p /app/data \\\n    && chown nobody /app/data\n",
    },
}
