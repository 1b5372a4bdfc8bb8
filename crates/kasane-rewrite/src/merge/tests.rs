//! Every merge and every refusal, including the traps minid falls into.

use super::*;

fn run(src: &str) -> MergeReport {
    let df = kasane_dockerfile::parse(src).unwrap();
    let report = merge(&df, MergeOptions::default()).unwrap();
    // Every result parses, and merging it again changes nothing.
    let again = merge(
        &kasane_dockerfile::parse(&report.text).unwrap(),
        MergeOptions::default(),
    )
    .unwrap();
    assert_eq!(again.text, report.text, "not idempotent for {src:?}");
    report
}

fn merged(src: &str) -> String {
    run(src).text
}

fn refusal(src: &str) -> Refused {
    let r = run(src);
    assert_eq!(r.text, src, "expected no merge");
    r.refusals.first().expect("a refusal").reason.clone()
}

#[test]
fn consecutive_runs_become_one() {
    let r = run(
        "FROM a\nRUN apt-get update\nRUN apt-get install -y curl\nRUN rm -rf /var/lib/apt/lists/*\n",
    );
    assert_eq!(
        r.text,
        "FROM a\nRUN apt-get update \\\n    && apt-get install -y curl \\\n    && rm -rf /var/lib/apt/lists/*\n"
    );
    assert_eq!(r.merges.len(), 1);
    assert_eq!(r.merges[0].lines, vec![2, 3, 4]);
    assert_eq!((r.instructions_before, r.instructions_after), (4, 2));
}

#[test]
fn comments_directives_and_formatting_elsewhere_stay() {
    let src = "# syntax=docker/dockerfile:1\n# escape=\\\nFROM a\n\n# install\nRUN  a \\\n  && b\nRUN c\n\nCMD [\"x\"]   \n";
    assert_eq!(
        merged(src),
        "# syntax=docker/dockerfile:1\n# escape=\\\nFROM a\n\n# install\nRUN  a \\\n  && b \\\n    && c\n\nCMD [\"x\"]   \n"
    );
}

#[test]
fn blank_lines_between_are_absorbed_but_comments_block() {
    assert_eq!(
        merged("FROM a\nRUN a\n\nRUN b\n"),
        "FROM a\nRUN a \\\n    && b\n"
    );
    assert_eq!(refusal("FROM a\nRUN a\n# why b\nRUN b\n"), Refused::Comment);
}

#[test]
fn flags_must_be_identical() {
    assert_eq!(
        refusal("FROM a\nRUN --mount=type=cache,target=/c a\nRUN b\n"),
        Refused::DifferentFlags
    );
    assert_eq!(
        refusal("FROM a\nRUN a\nRUN --network=none b\n"),
        Refused::DifferentFlags
    );
    assert_eq!(
        merged("FROM a\nRUN --mount=type=secret,id=k a\nRUN --mount=type=secret,id=k b\n"),
        "FROM a\nRUN --mount=type=secret,id=k a \\\n    && b\n"
    );
}

#[test]
fn exec_form_is_left_alone() {
    assert_eq!(
        refusal("FROM a\nRUN [\"a\", \"b\"]\nRUN c\n"),
        Refused::ExecForm
    );
    assert_eq!(
        refusal("FROM a\nRUN c\nRUN [\"a\", \"b\"]\n"),
        Refused::ExecForm
    );
}

#[test]
fn heredocs_are_left_alone() {
    let src = "FROM a\nRUN <<EOF\necho hi\nEOF\nRUN b\n";
    assert_eq!(merged(src), src);
    assert_eq!(
        refusal("FROM a\nRUN b\nRUN cat <<EOF\nx\nEOF\n"),
        Refused::Heredoc
    );
    let copy = "FROM a\nCOPY <<EOF /d/\nx\nEOF\nCOPY b /d/\n";
    assert_eq!(merged(copy), copy);
}

#[test]
fn cd_export_set_umask_and_functions_do_not_leak() {
    for first in [
        "cd /tmp",
        "export A=1",
        "set -e",
        "umask 077",
        "A=1",
        "f() { echo hi; }",
        "trap 'rm x' EXIT",
        "exit 0",
        "exec true",
        "cd /src && make",
        "if true; then cd /x; fi",
    ] {
        let src = format!("FROM a\nRUN {first}\nRUN pwd\n");
        let r = run(&src);
        assert_eq!(
            r.text,
            format!("FROM a\nRUN ( {first} ) \\\n    && pwd\n"),
            "{first}"
        );
        assert_eq!(r.merges[0].subshells, vec![2]);
    }
    // The last RUN leaks into nothing: no subshell needed.
    assert_eq!(
        merged("FROM a\nRUN make\nRUN cd /x\n"),
        "FROM a\nRUN make \\\n    && cd /x\n"
    );
    // A cd inside a subshell already ends there.
    assert_eq!(
        merged("FROM a\nRUN (cd /x && make)\nRUN pwd\n"),
        "FROM a\nRUN (cd /x && make) \\\n    && pwd\n"
    );
}

#[test]
fn scripts_that_do_not_end_cleanly_are_not_joined() {
    for first in ["a # comment", "a;", "sleep 1 &", "echo 'open"] {
        let src = format!("FROM a\nRUN {first}\nRUN b\n");
        assert_eq!(refusal(&src), Refused::UnfinishedScript, "{first}");
    }
    // Closing keywords are fine.
    assert_eq!(
        merged("FROM a\nRUN if true; then a; fi\nRUN b\n"),
        "FROM a\nRUN if true; then a; fi \\\n    && b\n"
    );
    assert_eq!(
        merged("FROM a\nRUN for x in 1 2; do echo $x; done\nRUN b\n"),
        "FROM a\nRUN for x in 1 2; do echo $x; done \\\n    && b\n"
    );
}

#[test]
fn a_non_posix_shell_blocks_run_merges() {
    let src = "FROM a\nSHELL [\"pwsh\", \"-Command\"]\nRUN a\nRUN b\n";
    assert_eq!(refusal(src), Refused::NonPosixShell);
    // bash is fine, and a later stage starts over with /bin/sh.
    assert_eq!(
        merged("FROM a\nSHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\nRUN a\nRUN b\n"),
        "FROM a\nSHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\nRUN a \\\n    && b\n"
    );
    let stages = "FROM a AS win\nSHELL [\"cmd\", \"/S\", \"/C\"]\nFROM win\nRUN a\nRUN b\nFROM a\nRUN c\nRUN d\n";
    let r = run(stages);
    assert_eq!(r.merges.len(), 1, "{}", r.text);
    assert_eq!(r.merges[0].lines, vec![7, 8]);
}

#[test]
fn env_pairs_merge_unless_a_later_one_refers_to_an_earlier_one() {
    assert_eq!(
        merged("FROM a\nENV A=1 B=2\nENV C=3\n"),
        "FROM a\nENV A=1 B=2 \\\n    C=3\n"
    );
    for reference in [
        "$A",
        "${A}",
        "${A:-x}",
        "${A-x}",
        "${A:+x}",
        "${A+x}",
        "${A?x}",
        "${A:?x}",
        "${A#p}",
        "${A##p}",
        "${A%p}",
        "${A%%p}",
        "${A/p/r}",
        "${A//p/r}",
        "x${A}y",
        "\"$A\"",
        "${B:-$A}",
    ] {
        let src = format!("FROM a\nENV A=1\nENV C={reference}\n");
        assert_eq!(
            refusal(&src),
            Refused::Reference { name: "A".into() },
            "{reference}"
        );
    }
    // A reference to a variable set before both is fine: both see the same value.
    assert_eq!(
        merged("FROM a\nENV PATH=/x:$PATH\nENV B=$HOME\n"),
        "FROM a\nENV PATH=/x:$PATH \\\n    B=$HOME\n"
    );
    // Keys can refer too.
    assert_eq!(
        refusal("FROM a\nENV A=k\nENV ${A}_X=1\n"),
        Refused::Reference { name: "A".into() }
    );
}

#[test]
fn multi_pair_and_quoted_env_and_label_keep_their_text() {
    let src = "FROM a\nENV A=1 B=\"two words\" C='$lit'\nENV D=4 E=5\nLABEL a=1 \"b c\"=\"d e\"\nLABEL f=$A\n";
    assert_eq!(
        merged(src),
        "FROM a\nENV A=1 B=\"two words\" C='$lit' \\\n    D=4 E=5\nLABEL a=1 \"b c\"=\"d e\" \\\n    f=$A\n"
    );
}

#[test]
fn legacy_key_value_lines_are_not_merged() {
    assert_eq!(
        refusal("FROM a\nENV A foo bar\nENV B=1\n"),
        Refused::LegacyForm
    );
    assert_eq!(
        refusal("FROM a\nLABEL a=1\nLABEL b two\n"),
        Refused::LegacyForm
    );
}

#[test]
fn copy_needs_same_flags_and_a_directory_destination() {
    assert_eq!(
        merged("FROM a\nCOPY a /x/\nCOPY b c /x/\n"),
        "FROM a\nCOPY a b c /x/\n"
    );
    assert_eq!(
        refusal("FROM a\nCOPY a /x\nCOPY b /x\n"),
        Refused::DestinationNotDirectory
    );
    assert_eq!(
        refusal("FROM a\nCOPY a ./foo/\nCOPY b ./foo\n"),
        Refused::DifferentDestination
    );
    assert_eq!(
        refusal("FROM a\nCOPY --chown=1 a /x/\nCOPY b /x/\n"),
        Refused::DifferentFlags
    );
    assert_eq!(
        merged("FROM a\nCOPY --from=b --chmod=755 a /x/\nCOPY --from=b --chmod=755 c /x/\n"),
        "FROM a\nCOPY --from=b --chmod=755 a c /x/\n"
    );
    assert_eq!(
        refusal("FROM a\nCOPY [\"my file\", \"/d/\"]\nCOPY b /d/\n"),
        Refused::ExecForm
    );
    let kinds = "FROM a\nCOPY a /d/\nADD b /d/\n";
    assert_eq!(merged(kinds), kinds);
    assert_eq!(
        refusal("FROM a\nADD https://x.test/a /d/\nADD b /d/\n"),
        Refused::Remote
    );
    assert_eq!(
        refusal("FROM a\nADD a.zip /d/\nADD ${REPO}/b.zip /d/\n"),
        Refused::Remote
    );
    assert_eq!(
        merged("FROM a\nADD a.tgz /d/\nADD b.tgz /d/\n"),
        "FROM a\nADD a.tgz b.tgz /d/\n"
    );
}

#[test]
fn copy_sources_over_continuation_lines() {
    assert_eq!(
        merged("FROM a\nCOPY a \\\n  b /x/\nCOPY c /x/\n"),
        "FROM a\nCOPY a \\\n  b c /x/\n"
    );
}

#[test]
fn cache_boundaries_after_dependency_manifests() {
    let src = "FROM node\nWORKDIR /app\nCOPY package.json ./\nCOPY package-lock.json ./\nRUN npm ci\nRUN npm run lint\nCOPY src/ ./\nRUN npm run build\n";
    let r = run(src);
    assert_eq!(
        r.text,
        "FROM node\nWORKDIR /app\nCOPY package.json package-lock.json ./\nRUN npm ci\nRUN npm run lint\nCOPY src/ ./\nRUN npm run build\n"
    );
    assert!(
        r.refusals
            .iter()
            .any(|x| x.reason == Refused::CacheBoundary && x.line == 5)
    );
    // Manifests are not merged with sources.
    assert_eq!(
        refusal("FROM a\nCOPY go.mod go.sum ./\nCOPY cmd/ ./\n"),
        Refused::CacheBoundary
    );
    // Without the option both merge.
    let df = kasane_dockerfile::parse(src).unwrap();
    let off = merge(
        &df,
        MergeOptions {
            keep_cache_boundaries: false,
        },
    )
    .unwrap();
    assert!(
        off.text.contains("RUN npm ci \\\n    && npm run lint\n"),
        "{}",
        off.text
    );
}

#[test]
fn stages_are_boundaries_and_onbuild_is_left_alone() {
    let src = "FROM a AS one\nRUN a\nFROM a\nRUN b\nONBUILD RUN c\nONBUILD RUN d\n";
    assert_eq!(merged(src), src);
}

#[test]
fn crlf_and_backtick_escape_are_kept() {
    assert_eq!(
        merged("FROM a\r\nRUN a\r\nRUN b\r\n"),
        "FROM a\r\nRUN a \\\r\n    && b\r\n"
    );
    assert_eq!(
        merged("# escape=`\nFROM a\nRUN a\nRUN b\n"),
        "# escape=`\nFROM a\nRUN a `\n    && b\n"
    );
}

#[test]
fn referenced_names_cover_every_form() {
    assert_eq!(
        referenced_names("$A ${B} ${C:-$D} ${E#x} $_f1 $1 $$"),
        vec!["A", "B", "C", "D", "E", "_f1"]
    );
}
