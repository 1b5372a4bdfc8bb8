//! Every rule: Dockerfiles it must flag (with the exact line and column) and Dockerfiles it
//! must leave alone. A meta-test checks that every rule has both kinds of case.

use std::collections::BTreeSet;

use kasane_lint::config::Config;
use kasane_lint::{LintOptions, lint_source, registry};

/// A rule code, a Dockerfile, and the expected 1-based (line, column) of each finding of that
/// rule. An empty list is a negative case.
type Case = (&'static str, &'static str, &'static [(usize, usize)]);

const CASES: &[Case] = &[
    // KL001 parse errors (BuildKit's parser and instruction layer)
    ("KL001", "FROM alpine\nCOPY only-one\n", &[(2, 1)]),
    ("KL001", "FROM alpine\nFROB x\n", &[(2, 1)]),
    ("KL001", "FROM alpine\nCOPY --form=a x y\n", &[(2, 6)]),
    ("KL001", "FROM alpine\nRUN <<EOF\necho\n", &[(2, 5)]),
    ("KL001", "FROM alpine AS build\nFROM Build\n", &[(2, 6)]),
    ("KL001", "FROM alpine AS Build\nFROM build\n", &[]),
    (
        "KL001",
        "FROM alpine\nCOPY a b\nRUN --mount=type=cache,target=/c true\n",
        &[],
    ),
    // KL101
    ("KL101", "FROM alpine AS Build\n", &[(1, 16)]),
    ("KL101", "FROM alpine AS build\n", &[]),
    // KL102
    ("KL102", "FROM alpine as build\n", &[(1, 13)]),
    ("KL102", "from alpine AS build\n", &[(1, 13)]),
    ("KL102", "FROM alpine AS build\nfrom alpine as other\n", &[]),
    // KL103
    ("KL103", "FROM alpine\nRUN echo a \\\n\n    b\n", &[(3, 1)]),
    ("KL103", "FROM alpine\nRUN echo a \\\n    b\n", &[]),
    // KL104
    ("KL104", "FROM alpine\nRUN a\nrun b\n", &[(3, 1)]),
    ("KL104", "FROM alpine\nRun a\n", &[(2, 1)]),
    ("KL104", "from alpine\nrun a\n", &[]),
    // KL105
    ("KL105", "FROM a AS x\nFROM b AS X\n", &[(2, 11)]),
    ("KL105", "FROM a AS x\nFROM b AS y\n", &[]),
    // KL106
    ("KL106", "FROM a AS scratch\n", &[(1, 11)]),
    ("KL106", "FROM scratch AS base\n", &[]),
    // KL107
    ("KL107", "FROM a\nCMD node server.js\n", &[(2, 1)]),
    (
        "KL107",
        "FROM a\nENTRYPOINT [\"node\"]\nCMD [\"server.js\"]\n",
        &[],
    ),
    (
        "KL107",
        "FROM a\nSHELL [\"/bin/bash\", \"-c\"]\nCMD node server.js\n",
        &[],
    ),
    // KL108
    ("KL108", "FROM a\nMAINTAINER me\n", &[(2, 1)]),
    (
        "KL108",
        "FROM a\nLABEL org.opencontainers.image.authors=me\n",
        &[],
    ),
    // KL109
    ("KL109", "FROM alpine:$VERSION\n", &[(1, 6)]),
    ("KL109", "ARG VERSION=3\nFROM alpine:$VERSION\n", &[]),
    ("KL109", "FROM --platform=$BUILDPLATFORM golang:1.22\n", &[]),
    // KL110
    ("KL110", "FROM a\nWORKDIR app\n", &[(2, 9)]),
    ("KL110", "FROM a\nWORKDIR /app\nWORKDIR sub\n", &[]),
    ("KL110", "FROM a\nWORKDIR $HOME/app\n", &[]),
    // KL111
    ("KL111", "ARG V=1\nFROM a\nCOPY app-$V.tar /\n", &[(3, 6)]),
    (
        "KL111",
        "FROM a\nARG VERSION=1\nCOPY app-$VERSON.tar /\n",
        &[(3, 6)],
    ),
    ("KL111", "FROM a\nCOPY app-$TARGETARCH /\n", &[(2, 6)]),
    ("KL111", "ARG V=1\nFROM a\nARG V\nCOPY app-$V.tar /\n", &[]),
    ("KL111", "FROM golang\nENV PATH=$GOPATH/bin:$PATH\n", &[]),
    // KL112
    ("KL112", "FROM a\nCMD [\"a\"]\nCMD [\"b\"]\n", &[(2, 1)]),
    ("KL112", "FROM a\nCMD [\"a\"]\nFROM b\nCMD [\"b\"]\n", &[]),
    // KL113
    ("KL113", "FROM a\nENV LANG C.UTF-8\n", &[(2, 5)]),
    ("KL113", "FROM a\nENV LANG=C.UTF-8\n", &[]),
    // KL114 never fires (needs the pulled image): negative only, see NEVER_FIRES.
    (
        "KL114",
        "FROM --platform=linux/arm64 alpine:3 AS arm64\n",
        &[],
    ),
    // KL115
    (
        "KL115",
        "FROM --platform=$TARGETPLATFORM alpine:3\n",
        &[(1, 6)],
    ),
    ("KL115", "FROM --platform=$BUILDPLATFORM alpine:3\n", &[]),
    // KL116
    ("KL116", "FROM a\nARG GITHUB_TOKEN\n", &[(2, 5)]),
    ("KL116", "FROM a\nENV DB_PASSWORD=x\n", &[(2, 5)]),
    ("KL116", "FROM a\nENV GPG_KEY_VERSION=1 TOKENIZER=x\n", &[]),
    // KL117
    ("KL117", "ARG TAG\nFROM alpine:${TAG}\n", &[(2, 6)]),
    ("KL117", "ARG TAG=3.20\nFROM alpine:${TAG}\n", &[]),
    // KL118
    (
        "KL118",
        "FROM --platform=linux/amd64 golang:1 AS build\n",
        &[(1, 6)],
    ),
    (
        "KL118",
        "FROM --platform=linux/amd64 golang:1 AS build-amd64\n",
        &[],
    ),
    // KL120 (experimental, selected in these tests)
    ("KL120", "FROM a\n# the version\nARG VERSION=1\n", &[(3, 1)]),
    (
        "KL120",
        "FROM a\n# VERSION the version\nARG VERSION=1\n",
        &[],
    ),
    // KL121
    ("KL121", "FROM a\nEXPOSE 53/UDP\n", &[(2, 8)]),
    ("KL121", "FROM a\nEXPOSE 53/udp\n", &[]),
    // KL122
    ("KL122", "FROM a\nEXPOSE 127.0.0.1:80:80\n", &[(2, 8)]),
    ("KL122", "FROM a\nEXPOSE 80 443/tcp 8000-8010\n", &[]),
    // KL201
    ("KL201", "FROM a\nUSER app\nUSER root\n", &[(3, 6)]),
    (
        "KL201",
        "FROM a AS build\nUSER root\nFROM a\nUSER app\n",
        &[],
    ),
    (
        "KL201",
        "FROM a AS base\nUSER 0\nFROM base\nRUN x\n",
        &[(2, 6)],
    ),
    // KL202
    ("KL202", "FROM a\nRUN cd /app && make\n", &[(2, 5)]),
    ("KL202", "FROM a\nRUN (cd /app && make)\n", &[]),
    // KL203
    ("KL203", "FROM a\nRUN sudo make install\n", &[(2, 5)]),
    ("KL203", "FROM a\nRUN make install\n", &[]),
    // KL204
    ("KL204", "FROM debian\n", &[(1, 6)]),
    ("KL204", "ARG TAG=1.2\nFROM img:${TAG}\n", &[]),
    (
        "KL204",
        "FROM debian:12 AS base\nFROM base\nFROM scratch\n",
        &[],
    ),
    ("KL204", "ARG IMG=debian\nFROM ${IMG}\n", &[(2, 6)]),
    // KL205
    ("KL205", "FROM debian:latest\n", &[(1, 6)]),
    ("KL205", "ARG TAG=latest\nFROM debian:$TAG\n", &[(2, 6)]),
    ("KL205", "ARG TAG=1.2\nFROM img:${TAG}\n", &[]),
    ("KL205", "FROM debian:latest@sha256:0123456789abcdef\n", &[]),
    // KL206 (off by default, selected here)
    ("KL206", "FROM a\nRUN apt-get install -y curl\n", &[(2, 24)]),
    (
        "KL206",
        "FROM a\nRUN pip install requests flask==3\n",
        &[(2, 17)],
    ),
    (
        "KL206",
        "FROM a\nRUN apt-get install -y curl=7.88 ./x.deb && pip install -r req.txt && npm ci\n",
        &[],
    ),
    // KL207
    ("KL207", "FROM a\nRUN apt-get install curl\n", &[(2, 5)]),
    ("KL207", "FROM a\nRUN yum install httpd\n", &[(2, 5)]),
    (
        "KL207",
        "FROM a\nRUN apt-get -qq install curl && yum -y install x && dnf install --assumeyes y\n",
        &[],
    ),
    // KL208
    ("KL208", "FROM a\nRUN apt install -y curl\n", &[(2, 5)]),
    ("KL208", "FROM a\nRUN apt-get install -y curl\n", &[]),
    // KL209
    ("KL209", "FROM a\nADD app.conf /etc/\n", &[(2, 1)]),
    ("KL209", "FROM a\nADD app.tar.gz /opt/\n", &[]),
    // KL210
    ("KL210", "FROM a\nCOPY a b /data\n", &[(2, 10)]),
    ("KL210", "FROM a\nCOPY a b /data/\n", &[]),
    // KL211
    (
        "KL211",
        "FROM golang AS build\nFROM alpine\nCOPY --from=biuld /a /b\n",
        &[(3, 6)],
    ),
    ("KL211", "FROM alpine\nCOPY --from=1 /a /b\n", &[(2, 6)]),
    (
        "KL211",
        "FROM golang AS build\nFROM alpine\nCOPY --from=build /a /b\nCOPY --from=0 /a /c\nCOPY --from=nginx:1 /e /f\n",
        &[],
    ),
    // KL212
    (
        "KL212",
        "FROM alpine AS app\nCOPY --from=app /a /b\n",
        &[(2, 6)],
    ),
    (
        "KL212",
        "FROM alpine AS files\nFROM alpine AS app\nCOPY --from=files /a /b\n",
        &[],
    ),
    // KL213 (needs trusted registries: see trusted_registries below)
    ("KL213", "FROM alpine:3\n", &[]),
    // KL214
    ("KL214", "FROM a\nONBUILD FROM b\n", &[(2, 9)]),
    ("KL214", "FROM a\nONBUILD RUN make\n", &[]),
    // KL215
    ("KL215", "FROM a\nENV DIR=/opt BIN=$DIR/bin\n", &[(2, 18)]),
    (
        "KL215",
        "FROM a\nENV DIR=/opt\nENV BIN=$DIR/bin PATH=/x:$PATH\n",
        &[],
    ),
    // KL216
    ("KL216", "FROM a\nCOPY package.json app/\n", &[(2, 19)]),
    (
        "KL216",
        "FROM a\nWORKDIR /srv\nCOPY package.json app/\n",
        &[],
    ),
    // KL217
    ("KL217", "FROM a\nEXPOSE 80000\n", &[(2, 8)]),
    ("KL217", "FROM a\nEXPOSE 65535\n", &[]),
    // KL218
    ("KL218", "RUN echo hi\nFROM a\n", &[(1, 1)]),
    ("KL218", "ARG A=1\nFROM a\n", &[]),
    // KL219
    (
        "KL219",
        "FROM a\nRUN curl -f https://x | tar -x\n",
        &[(2, 5)],
    ),
    (
        "KL219",
        "FROM a\nSHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\nRUN curl -f https://x | tar -x\n",
        &[],
    ),
    (
        "KL219",
        "FROM a\nRUN set -o pipefail && curl https://x | tar -x\n",
        &[],
    ),
    ("KL219", "FROM a\nRUN echo 'x' | tee /etc/y\n", &[]),
    // KL220
    ("KL220", "FROM a\nRUN ln -sf /bin/bash /bin/sh\n", &[(2, 5)]),
    (
        "KL220",
        "FROM a\nRUN ln -sf /bin/bash /usr/local/bin/sh2\n",
        &[],
    ),
    // KL221
    ("KL221", "FROM a\nRUN service nginx start\n", &[(2, 5)]),
    ("KL221", "FROM a\nRUN apt-get install -y vim\n", &[]),
    // KL222
    (
        "KL222",
        "FROM a AS build\nFROM b\nCOPY --from=build / /\n",
        &[(3, 19)],
    ),
    (
        "KL222",
        "FROM a AS build\nFROM b\nCOPY --from=build /out /out\n",
        &[],
    ),
    // KL223
    (
        "KL223",
        "FROM a\nRUN wget -q https://x/a\nRUN curl -fO https://x/b\n",
        &[(3, 5)],
    ),
    (
        "KL223",
        "FROM a AS one\nRUN wget -q https://x/a\nFROM a\nRUN curl -fO https://x/b\n",
        &[],
    ),
    // KL301
    (
        "KL301",
        "FROM debian\nRUN apt-get update && apt-get install -y curl\n",
        &[(2, 5)],
    ),
    ("KL301", "FROM alpine\nRUN apk add curl\n", &[(2, 5)]),
    ("KL301", "FROM python\nRUN pip install flask\n", &[(2, 5)]),
    ("KL301", "FROM node\nRUN npm ci\n", &[(2, 5)]),
    (
        "KL301",
        "FROM python\nONBUILD RUN pip install -r requirements.txt\n",
        &[(2, 13)],
    ),
    (
        "KL301",
        "FROM debian\nRUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n",
        &[],
    ),
    ("KL301", "FROM alpine\nRUN apk add --no-cache curl\n", &[]),
    (
        "KL301",
        "FROM python\nENV PIP_NO_CACHE_DIR=1\nRUN pip install flask && pip install --no-cache-dir x\n",
        &[],
    ),
    (
        "KL301",
        "FROM debian AS build\nRUN apt-get update && apt-get install -y gcc\nFROM scratch\nCOPY --from=build /x /x\n",
        &[],
    ),
    (
        "KL301",
        "FROM debian\nRUN --mount=type=cache,target=/var/lib/apt/lists apt-get update && apt-get install -y curl\n",
        &[],
    ),
    // KL302
    (
        "KL302",
        "FROM debian\nRUN apt-get update\nRUN apt-get install -y curl\n",
        &[(2, 5)],
    ),
    (
        "KL302",
        "FROM debian\nRUN apt-get update && apt-get install -y curl\n",
        &[],
    ),
    // KL303
    (
        "KL303",
        "FROM debian\nRUN apt-get install -y curl\n",
        &[(2, 5)],
    ),
    (
        "KL303",
        "FROM debian\nRUN apt-get install -y --no-install-recommends curl\n",
        &[],
    ),
    // KL304
    (
        "KL304",
        "FROM a\nCOPY app.tar.gz /tmp/\nRUN tar -xzf /tmp/app.tar.gz -C /opt\nRUN rm /tmp/app.tar.gz\n",
        &[(4, 8)],
    ),
    (
        "KL304",
        "FROM a\nRUN apt-get install -y gcc\nRUN apt-get purge -y gcc\n",
        &[(3, 22)],
    ),
    (
        "KL304",
        "FROM a\nRUN wget -O /tmp/x.tgz https://x && tar -xzf /tmp/x.tgz && rm /tmp/x.tgz\n",
        &[],
    ),
    (
        "KL304",
        "FROM a AS build\nCOPY x.tgz /tmp/\nRUN rm /tmp/x.tgz\nFROM b\nCOPY --from=build /opt /opt\n",
        &[],
    ),
    // KL305
    (
        "KL305",
        "FROM a\nCOPY app /opt/app\nRUN chmod -R 755 /opt/app\n",
        &[(3, 5)],
    ),
    (
        "KL305",
        "FROM a\nCOPY --chmod=755 app /opt/app\nRUN chmod 600 /etc/other\n",
        &[],
    ),
    // KL306
    (
        "KL306",
        "FROM debian\nRUN useradd -u 1000000 app\n",
        &[(2, 5)],
    ),
    (
        "KL306",
        "FROM debian\nRUN useradd -l -u 1000000 app && useradd -u 1000 other\n",
        &[],
    ),
    // KL307
    (
        "KL307",
        "FROM a\nADD https://example.com/x.tgz /tmp/\n",
        &[(2, 5)],
    ),
    (
        "KL307",
        "FROM a\nADD --checksum=sha256:abc https://example.com/x.tgz /tmp/\n",
        &[],
    ),
    // KL401
    (
        "KL401",
        "FROM node\nWORKDIR /app\nCOPY . .\nRUN npm ci\n",
        &[(3, 1)],
    ),
    (
        "KL401",
        "FROM node\nWORKDIR /app\nCOPY package*.json ./\nRUN npm ci\nCOPY . .\nRUN npm run build\n",
        &[],
    ),
    // KL402
    (
        "KL402",
        "FROM alpine AS old\nRUN true\nFROM alpine\n",
        &[(1, 1)],
    ),
    (
        "KL402",
        "FROM alpine AS build\nFROM alpine\nCOPY --from=build /a /a\n",
        &[],
    ),
    ("KL402", "FROM alpine AS test\nFROM alpine\n", &[]),
    // KL403
    (
        "KL403",
        "FROM a\nRUN mkdir -p /app/data\nRUN chown nobody /app/data\n",
        &[(3, 1)],
    ),
    (
        "KL403",
        "FROM a\nRUN apt-get update && apt-get install -y x\nRUN mkdir /a\n",
        &[],
    ),
    (
        "KL403",
        "FROM a\nRUN cd /app && mkdir x\nRUN mkdir y\n",
        &[],
    ),
];

/// Rules that cannot fire on a Dockerfile alone.
const NEVER_FIRES: &[&str] = &["KL114"];

fn all_rules() -> Config {
    Config {
        select: Some(vec!["all".into()]),
        ..Config::default()
    }
}

fn positions(code: &str, src: &str, config: &Config) -> Vec<(usize, usize)> {
    let report = lint_source(
        "Dockerfile",
        src,
        &LintOptions {
            config,
            context: None,
            dockerfile: None,
        },
    );
    report
        .findings
        .iter()
        .filter(|f| f.code == code)
        .map(|f| (f.location.start.line, f.location.start.column))
        .collect()
}

#[test]
fn every_case() {
    let config = all_rules();
    let mut failures = Vec::new();
    for (code, src, expected) in CASES {
        let got = positions(code, src, &config);
        if got != *expected {
            failures.push(format!(
                "{code}: expected {expected:?}, got {got:?} for\n{src}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failing cases:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_rule_has_a_positive_and_a_negative_case() {
    let mut positive = BTreeSet::new();
    let mut negative = BTreeSet::new();
    for (code, _, expected) in CASES {
        if expected.is_empty() {
            negative.insert(*code);
        } else {
            positive.insert(*code);
        }
    }
    positive.insert("KL213"); // trusted_registries below
    positive.extend(NEVER_FIRES);
    // KL119 reads the build context: tests/context.rs has its positive and negative cases.
    positive.insert("KL119");
    negative.insert("KL119");
    for r in registry::all() {
        assert!(positive.contains(r.code), "{} has no positive case", r.code);
        assert!(negative.contains(r.code), "{} has no negative case", r.code);
    }
}

#[test]
fn trusted_registries() {
    let config = Config {
        trusted_registries: vec!["registry.example.com".into(), "*.gcr.io".into()],
        ..Config::default()
    };
    assert_eq!(
        positions("KL213", "FROM quay.io/a/b:1\n", &config),
        [(1, 6)]
    );
    assert_eq!(positions("KL213", "FROM alpine:3\n", &config), [(1, 6)]);
    assert!(
        positions(
            "KL213",
            "FROM registry.example.com/a:1\nFROM eu.gcr.io/p/i:2\n",
            &config
        )
        .is_empty()
    );
    // Without a list the rule is inactive.
    assert!(positions("KL213", "FROM quay.io/a/b:1\n", &all_rules()).is_empty());
}

#[test]
fn arg_values_are_resolved_before_from_rules() {
    let config = all_rules();
    let src = "ARG TAG=1.2\nFROM img:${TAG}\n";
    assert!(positions("KL204", src, &config).is_empty());
    assert!(positions("KL205", src, &config).is_empty());
    // A stage name behind an ARG is a stage, not an untagged image.
    let src = "FROM alpine:3 AS base\nARG BASE=base\nFROM alpine:3\nFROM ${BASE}\n";
    let _ = positions("KL204", src, &config);
    let src = "ARG BASE=base\nFROM alpine:3 AS base\nFROM ${BASE}\n";
    assert!(positions("KL204", src, &config).is_empty());
    // A variable set by ENV and then by ARG is defined either way.
    let src = "FROM a\nENV V=1\nARG V=2\nWORKDIR /x\nCOPY f-$V /y/\n";
    assert!(positions("KL111", src, &config).is_empty());
}

/// ARG and ENV share one environment and the later one wins, as in BuildKit (the legacy
/// builder let ENV always win, which kasane's lint once did too).
#[test]
fn the_later_of_env_and_arg_wins() {
    let config = all_rules();
    let env_then_arg = "FROM a\nENV D=/srv\nARG D=srv\nWORKDIR $D\n";
    assert_eq!(positions("KL110", env_then_arg, &config), [(4, 9)]);
    let arg_then_env = "FROM a\nARG D=srv\nENV D=/srv\nWORKDIR $D\n";
    assert!(positions("KL110", arg_then_env, &config).is_empty());
    let port = "FROM a\nENV P=80\nARG P=70000\nEXPOSE $P\n";
    assert_eq!(positions("KL217", port, &config), [(4, 8)]);
    let port = "FROM a\nARG P=70000\nENV P=80\nEXPOSE $P\n";
    assert!(positions("KL217", port, &config).is_empty());
}

/// A stage built FROM another stage starts from its variables; a stage built on an image does
/// not. BuildKit re-applies the base stage's ENV values on top, so there an ENV beats a later
/// ARG of the same name.
#[test]
fn a_stage_built_on_a_stage_inherits_its_variables() {
    let config = all_rules();
    let src = "FROM alpine:3 AS base\nARG P=70000\nFROM base\nEXPOSE $P\n";
    assert_eq!(positions("KL217", src, &config), [(4, 8)]);
    let src = "FROM alpine:3 AS base\nARG P=70000\nFROM alpine:3\nEXPOSE $P\n";
    assert!(positions("KL217", src, &config).is_empty());
    let src = "FROM alpine:3 AS base\nENV P=80\nARG P=70000\nEXPOSE $P\nFROM base\nEXPOSE $P\n";
    assert_eq!(positions("KL217", src, &config), [(4, 8)]);
    // The working directory is inherited too.
    let src = "FROM alpine:3 AS base\nWORKDIR /app\nFROM base\nWORKDIR sub\n";
    assert!(positions("KL110", src, &config).is_empty());
    let src = "FROM alpine:3 AS base\nWORKDIR /app\nFROM alpine:3\nWORKDIR sub\n";
    assert_eq!(positions("KL110", src, &config), [(4, 9)]);
}

/// `--build-arg` values replace ARG defaults, for FROM (meta ARGs) and in stages.
#[test]
fn build_args_replace_arg_defaults() {
    let with = |args: &[(&str, &str)]| Config {
        build_args: args
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        ..all_rules()
    };
    let src = "ARG TAG=1.2\nFROM img:${TAG}\nARG DIR=/srv\nWORKDIR $DIR\n";
    assert!(positions("KL205", src, &with(&[])).is_empty());
    assert!(positions("KL110", src, &with(&[])).is_empty());
    let config = with(&[("TAG", "latest"), ("DIR", "srv")]);
    assert_eq!(positions("KL205", src, &config), [(2, 6)]);
    assert_eq!(positions("KL110", src, &config), [(4, 9)]);
    // A build arg an ARG does not declare changes nothing.
    let config = with(&[("OTHER", "latest")]);
    assert!(positions("KL205", src, &config).is_empty());
}

/// BuildKit compares a FROM base with the (lowercased) stage names exactly: `FROM Build` is an
/// image reference (which BuildKit rejects, moby/buildkit#2003), so stage `build` is unused.
#[test]
fn a_base_names_a_stage_only_when_it_matches_exactly() {
    let config = all_rules();
    let src = "FROM alpine:3 AS Build\nRUN make\nFROM Build\n";
    assert_eq!(positions("KL402", src, &config), [(1, 1)]);
    assert_eq!(positions("KL001", src, &config), [(3, 6)]);
    assert!(positions("KL204", src, &config).is_empty());
    let src = "FROM alpine:3 AS Build\nRUN make\nFROM build\n";
    assert!(positions("KL402", src, &config).is_empty());
}

#[test]
fn findings_inside_continuations_and_heredocs_point_at_the_exact_place() {
    let config = all_rules();
    let src = "FROM debian\nRUN set -e; \\\n    echo start; \\\n    sudo make install\n";
    assert_eq!(positions("KL203", src, &config), [(4, 5)]);
    let src = "FROM debian\nRUN <<EOF\nset -e\nmake\nsudo make install\nEOF\n";
    assert_eq!(positions("KL203", src, &config), [(5, 1)]);
    let src = "# escape=`\nFROM debian\nRUN echo a && `\n    sudo x\n";
    assert_eq!(positions("KL203", src, &config), [(4, 5)]);
}

#[test]
fn hadolint_pragmas_reach_the_findings_that_answer_to_their_code() {
    let config = Config::default();
    let src = "FROM debian:12\n# hadolint ignore=DL3009\nRUN apt-get update\nRUN apt-get update\n";
    assert_eq!(positions("KL302", src, &config), [(4, 5)]);
}
