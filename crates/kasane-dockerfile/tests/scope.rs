//! Scoping and expansion through the whole pipeline: Dockerfile text, parser, `scope::resolve`.
//! (Each rule is also unit-tested on its own in `src/scope.rs`.)

use std::collections::BTreeSet;

use kasane_dockerfile::scope::{BuildArgs, Platform, Resolved, resolve};
use kasane_dockerfile::stage::{StageBase, stages};
use kasane_dockerfile::{Dockerfile, parse};

fn amd64() -> BuildArgs {
    BuildArgs::new().build_platform(Platform::new("linux", "amd64", ""))
}

fn resolved(text: &str, args: &BuildArgs) -> (Dockerfile, Resolved) {
    let df = parse(text).unwrap_or_else(|e| panic!("{e}"));
    let r = resolve(&df, args);
    (df, r)
}

/// Every expanded value of the instruction on 1-based `line`, as `Field=value` (or `=error`).
fn line(df: &Dockerfile, r: &Resolved, line: u32) -> Vec<String> {
    let index = df
        .instructions()
        .iter()
        .position(|i| i.start_line() == line)
        .unwrap_or_else(|| panic!("no instruction on line {line}"));
    r.instruction(index)
        .expect("resolved")
        .fields
        .iter()
        .map(|f| match &f.value {
            Ok(v) => format!("{:?}={v}", f.field),
            Err(e) => format!("{:?}=error: {}", f.field, e.kind),
        })
        .collect()
}

#[test]
fn copy_add_fields_in_buildkit_order() {
    let text = "FROM scratch\n\
                ARG U=app G=grp SRC=src\n\
                COPY --from=build --chown=$U:$G --chmod=${MODE:-644} $SRC/a [\"x\"] /dst/$U/\n\
                ADD --checksum=sha256:$G --chown=$U https://x/$SRC.tgz /\n\
                COPY [\"$SRC\", \"/d $U\"]\n\
                COPY <<-EOF <<'RAW' $SRC /heredocs/\n\
                \tvalue $U\n\
                \tEOF\n\
                $U stays\n\
                RAW\n";
    let (df, r) = resolved(text, &amd64());
    assert_eq!(
        line(&df, &r, 3),
        [
            "Chown=app:grp",
            "Chmod=644",
            "Source=src/a",
            "Source=[x]",
            "Destination=/dst/app/"
        ]
    );
    assert_eq!(
        line(&df, &r, 4),
        [
            "Chown=app",
            "Checksum=sha256:grp",
            "Source=https://x/src.tgz",
            "Destination=/"
        ]
    );
    assert_eq!(line(&df, &r, 5), ["Source=src", "Destination=/d app"]);
    // The `<<-EOF` body is chomped and expanded; the quoted `RAW` body is not expanded.
    assert_eq!(
        line(&df, &r, 6),
        [
            "Source=src",
            "Destination=/heredocs/",
            "Heredoc=value app\n"
        ]
    );
    let copy = r.instruction(2).unwrap();
    assert_eq!(copy.undefined(), BTreeSet::from(["MODE"]));
}

#[test]
fn env_label_workdir_user_volume_expose_stopsignal() {
    let text = "FROM scratch\n\
                ENV A=1 B=\"two words\"\n\
                ENV C $A and $B\n\
                LABEL \"k$A\"=\"v $B\" plain=$C\n\
                WORKDIR /w/${A}\n\
                USER \"u$A:g\"\n\
                VOLUME [\"/v$A\", \"/x\"]\n\
                VOLUME /a$A /b\n\
                EXPOSE ${PORTS:-80} $A/udp ${B:+8080 x}\n\
                STOPSIGNAL SIG${SIG:-TERM}\n\
                RUN echo $UNDEFINED_IN_RUN\n\
                ONBUILD COPY $A /x\n";
    let (df, r) = resolved(text, &amd64());
    assert_eq!(
        line(&df, &r, 2),
        ["EnvKey=A", "EnvValue=1", "EnvKey=B", "EnvValue=two words"]
    );
    assert_eq!(line(&df, &r, 3), ["EnvKey=C", "EnvValue=1 and two words"]);
    assert_eq!(
        line(&df, &r, 4),
        [
            "LabelKey=k1",
            "LabelValue=v two words",
            "LabelKey=plain",
            "LabelValue=1 and two words"
        ]
    );
    assert_eq!(line(&df, &r, 5), ["Workdir=/w/1"]);
    assert_eq!(line(&df, &r, 6), ["User=u1:g"]);
    assert_eq!(line(&df, &r, 7), ["Volume=/v1", "Volume=/x"]);
    assert_eq!(line(&df, &r, 8), ["Volume=/a1", "Volume=/b"]);
    // Arguments are split on whitespace before expansion (so `${B:+8080 x}` is two broken
    // words), and each expands to possibly several ports.
    assert_eq!(
        line(&df, &r, 9),
        [
            "Expose=80",
            "Expose=1/udp",
            "Expose=error: syntax error: missing '}'",
            "Expose=x}"
        ]
    );
    assert_eq!(line(&df, &r, 10), ["StopSignal=SIGTERM"]);
    // RUN and ONBUILD are left to the shell and to the child image.
    assert!(line(&df, &r, 11).is_empty());
    assert!(line(&df, &r, 12).is_empty());
}

#[test]
fn stages_and_bases() {
    let text = "ARG BASE=alpine\n\
                ARG VARIANT\n\
                FROM ${BASE}:3 AS Build\n\
                FROM build AS test\n\
                FROM --platform=$BUILDPLATFORM ${VARIANT:-scratch}\n\
                COPY --from=test /a /b\n\
                FROM $UNSET\n";
    let df = parse(text).unwrap();
    let written = stages(&df);
    assert_eq!(written.len(), 4);
    assert_eq!(written[0].name.as_deref(), Some("build"));
    assert_eq!(written[0].base_raw, "${BASE}:3");
    assert_eq!(written[2].platform_raw.as_deref(), Some("$BUILDPLATFORM"));
    assert_eq!(written[2].instructions, [5]);

    let r = resolve(&df, &amd64());
    let bases: Vec<_> = r.stages.iter().map(|s| s.base.clone()).collect();
    assert_eq!(
        bases,
        [
            Some(StageBase::Image("alpine:3".into())),
            Some(StageBase::Stage(0)),
            Some(StageBase::Scratch),
            None,
        ]
    );
    assert_eq!(r.stages[2].platform.as_deref(), Some("linux/amd64"));
    assert_eq!(r.stages[3].from.undefined(), BTreeSet::from(["UNSET"]));
    assert_eq!(r.stages[2].from.undefined(), BTreeSet::from(["VARIANT"]));
    assert!(r.meta_declared.contains("VARIANT"));
    let r = resolve(&df, &amd64().arg("VARIANT", "build").arg("BASE", "debian"));
    assert_eq!(r.stages[0].base, Some(StageBase::Image("debian:3".into())));
    assert_eq!(r.stages[2].base, Some(StageBase::Stage(0)));
    assert_eq!(r.stage("TEST").map(|s| s.stage.index), Some(1));
}

#[test]
fn escape_directive_reaches_expansion() {
    let text = "# escape=`\nFROM scratch\nARG A=x\nWORKDIR C:\\dir\\`$A\\$A\n";
    let (df, r) = resolved(text, &amd64());
    assert_eq!(line(&df, &r, 4), ["Workdir=C:\\dir\\$A\\x"]);
}

#[test]
fn errors_are_recorded_and_resolution_goes_on() {
    let text =
        "FROM scratch\nENV A=${X:?needX} B=ok\nWORKDIR /${A:-noA}/$B\nLABEL x=${Y:=1}\nUSER $B\n";
    let (df, r) = resolved(text, &amd64());
    assert_eq!(
        line(&df, &r, 2),
        [
            "EnvKey=A",
            "EnvValue=error: X: needX",
            "EnvKey=B",
            "EnvValue=ok"
        ]
    );
    assert_eq!(line(&df, &r, 3), ["Workdir=/noA/ok"]);
    assert_eq!(
        line(&df, &r, 4),
        [
            "LabelKey=x",
            "LabelValue=error: unsupported modifier (:=) in substitution"
        ]
    );
    assert_eq!(line(&df, &r, 5), ["User=ok"]);
}

mod hostile {
    use super::*;
    use proptest::prelude::*;

    /// Lines that exercise stage references, ARG/ENV scoping, triggers and expansion errors.
    const LINES: &[&str] = &[
        "ARG A=${B:-x}",
        "ARG B",
        "ARG C=$A$A$A",
        "FROM ${A} AS a",
        "FROM a AS b",
        "FROM b",
        "FROM --platform=$BUILDPLATFORM scratch AS c",
        "FROM ${UNSET}",
        "ENV A=$C C=${A:?e}",
        "ENV $A=1",
        "LABEL l=${A//x/$C}",
        "ONBUILD ENV O=$A",
        "ONBUILD ARG A=o",
        "COPY --chown=$A <<EOF $C /d\n$A\nEOF",
        "EXPOSE ${A:-1 2} $C",
        "WORKDIR ${A:-${B:-${C}}}",
        "USER ${A#x}",
        "VOLUME [\"$A\"]",
        "STOPSIGNAL ${A%%*}",
    ];

    proptest! {
        #[test]
        fn any_mix_of_lines_resolves(lines in prop::collection::vec(prop::sample::select(LINES), 1..24)) {
            let text = lines.join("\n") + "\n";
            if let Ok(df) = parse(&text) {
                let r = resolve(&df, &BuildArgs::new().arg("B", "y").target("b"));
                prop_assert_eq!(r.stages.len(), stages(&df).len());
            }
        }
    }

    #[test]
    fn exponential_env_growth_is_cut_off() {
        let mut text = String::from("FROM scratch\nENV A=aaaaaaaaaaaaaaaa\n");
        // 16 bytes doubled 21 times reach the 32 MiB limit; the last doublings fail.
        for _ in 0..23 {
            text.push_str("ENV A=$A$A\n");
        }
        text.push_str("WORKDIR /$A\n");
        let df = parse(&text).unwrap();
        let r = resolve(&df, &BuildArgs::new());
        let instructions = &r.stages[0].instructions;
        // A stops at 16 << 21 bytes (32 MiB, the limit); longer expansions fail.
        assert_eq!(r.stages[0].env.value("A").map(str::len), Some(16 << 21));
        let failed: Vec<bool> = instructions
            .iter()
            .map(|i| i.errors().next().is_some())
            .collect();
        assert_eq!(failed.iter().filter(|f| **f).count(), 3, "{failed:?}");
    }
}
