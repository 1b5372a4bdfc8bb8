//! Fixes applied through the lint rules, with their traps. Every case also checks that a
//! second run changes nothing.

use super::*;

fn fixed_with(src: &str, options: &FixOptions<'_>) -> FixReport {
    let report = fix("Dockerfile", src, options).unwrap();
    kasane_dockerfile::parse(&report.text).unwrap();
    let again = fix("Dockerfile", &report.text, options).unwrap();
    assert_eq!(again.text, report.text, "not idempotent for {src:?}");
    assert!(again.changes.is_empty(), "{:?}", again.changes);
    report
}

fn fixed(src: &str) -> FixReport {
    fixed_with(src, &FixOptions::default())
}

fn text(src: &str) -> String {
    fixed(src).text
}

fn unsafe_text(src: &str) -> String {
    fixed_with(
        src,
        &FixOptions {
            allow_unsafe: true,
            ..FixOptions::default()
        },
    )
    .text
}

fn codes(r: &FixReport) -> Vec<&str> {
    r.changes.iter().map(|c| c.code).collect()
}

#[test]
fn unknown_rules_and_bad_input_are_errors() {
    let options = FixOptions {
        rules: vec!["KL999".into()],
        ..FixOptions::default()
    };
    assert!(matches!(
        fix("D", "FROM a\n", &options),
        Err(RewriteError::UnknownRule(_))
    ));
    assert!(matches!(
        fix("D", "FROM a\nRUN <<EOF\nx\n", &FixOptions::default()),
        Err(RewriteError::Parse(_))
    ));
}

#[test]
fn apt_lists_are_removed_in_the_same_run() {
    let r = fixed("FROM debian\nRUN apt-get update && apt-get install -y curl\n");
    assert_eq!(
        r.text,
        "FROM debian\nRUN apt-get update && apt-get install -y curl && apt-get clean && rm -rf /var/lib/apt/lists/*\n"
    );
    assert_eq!(codes(&r), ["KL301"]);
    assert!(r.changes[0].reason.contains("apt lists"));
}

#[test]
fn a_lone_apt_get_update_moves_into_the_install_and_the_later_cleanup_follows() {
    let r = fixed(
        "FROM debian\nRUN apt-get update\nENV DEBIAN_FRONTEND=noninteractive\nRUN apt-get install -y curl\nRUN curl --version\nRUN rm -rf /var/lib/apt/lists/*\n",
    );
    assert_eq!(
        r.text,
        "FROM debian\nENV DEBIAN_FRONTEND=noninteractive\nRUN apt-get update && apt-get install -y curl && apt-get clean && rm -rf /var/lib/apt/lists/*\nRUN curl --version\n"
    );
    assert_eq!(codes(&r), ["KL302", "KL301"]);
    assert_eq!(r.changes[1].round, 2);
}

#[test]
fn the_update_stays_where_moving_it_would_change_meaning() {
    // `;` in the install RUN: a failed update would no longer stop the build.
    let seq = "FROM debian\nRUN apt-get update\nRUN apt-get install -y curl; echo done\n";
    assert_eq!(text(seq), seq);
    // A COPY between, different flags, or more than the update in its RUN.
    for src in [
        "FROM debian\nRUN apt-get update\nCOPY x /x\nRUN apt-get install -y curl\n",
        "FROM debian\nRUN apt-get update\nRUN --network=none apt-get install -y curl\n",
        "FROM debian\nRUN apt-get update && echo hi\nRUN apt-get install -y curl\n",
    ] {
        assert!(
            !codes(&fixed(src)).contains(&"KL302"),
            "{src}: {:?}",
            fixed(src).changes
        );
    }
}

#[test]
fn lists_are_not_removed_before_a_later_run_that_needs_them() {
    let src = "FROM debian\nRUN apt-get update && apt-get install -y curl\nRUN apt-get install -y git\nRUN rm -rf /var/lib/apt/lists/*\n";
    assert_eq!(text(src), src);
    // A later RUN that updates first does not need them.
    let src2 = "FROM debian\nRUN apt-get update && apt-get install -y curl\nRUN apt-get update && apt-get install -y git && rm -rf /var/lib/apt/lists/*\n";
    assert_eq!(
        text(src2),
        "FROM debian\nRUN apt-get update && apt-get install -y curl && apt-get clean && rm -rf /var/lib/apt/lists/*\nRUN apt-get update && apt-get install -y git && rm -rf /var/lib/apt/lists/*\n"
    );
}

#[test]
fn a_cleanup_moves_past_unknown_programs_only_when_asked() {
    // `./deps.sh` may run apt-get itself and need the lists.
    let src = "FROM debian\nRUN apt-get update && apt-get install -y make\nRUN ./deps.sh\nRUN rm -rf /var/lib/apt/lists/*\n";
    let r = fixed(src);
    assert_eq!(r.text, src);
    assert_eq!(r.skipped_unsafe[0].code, "KL301");
}

#[test]
fn a_cleanup_inside_a_longer_run_moves_without_its_neighbours() {
    let r = fixed(
        "FROM debian\nRUN apt-get update && apt-get install -y git\nRUN git --version && rm -rf /var/lib/apt/lists/* && echo ok\n",
    );
    assert_eq!(
        r.text,
        "FROM debian\nRUN apt-get update && apt-get install -y git && apt-get clean && rm -rf /var/lib/apt/lists/*\nRUN git --version && echo ok\n"
    );
}

#[test]
fn chmod_moves_into_the_run_that_created_the_files() {
    let r = fixed("FROM debian\nRUN python3 -m venv /opt/venv\nRUN chmod -R go-w /opt/venv\n");
    assert_eq!(
        r.text,
        "FROM debian\nRUN python3 -m venv /opt/venv && chmod -R go-w /opt/venv\n"
    );
    assert_eq!(codes(&r), ["KL305"]);
    assert!(!r.changes[0].is_unsafe);
    // A RUN between that names the directory adds to it: no fix at all.
    let src = "FROM debian\nRUN python3 -m venv /opt/venv\nRUN /opt/venv/bin/pip install --no-cache-dir x\nRUN chmod -R go-w /opt/venv\n";
    let r = fixed_with(
        src,
        &FixOptions {
            allow_unsafe: true,
            ..FixOptions::default()
        },
    );
    assert!(!codes(&r).contains(&"KL305"), "{:?}", r.changes);
    // One that does not name it may still add files: unsafe, reported, not applied.
    let src = "FROM debian\nRUN python3 -m venv /opt/venv\nRUN make install\nRUN chmod -R go-w /opt/venv\n";
    let r = fixed(src);
    assert_eq!(r.text, src);
    assert!(r.skipped_unsafe.iter().any(|c| c.code == "KL305"));
    // A variable between: ENV could change what the command means.
    let env =
        "FROM debian\nRUN git clone https://x.test/r.git /src\nENV M=755\nRUN chmod -R $M /src\n";
    assert!(fixed(env).changes.is_empty());
}

#[test]
fn a_file_created_then_deleted_later_is_deleted_where_it_was_created() {
    assert_eq!(
        text(
            "FROM debian\nRUN curl -o /tmp/a.tgz https://x.test/a.tgz\nLABEL a=b\nRUN rm -f /tmp/a.tgz\n"
        ),
        "FROM debian\nRUN curl -o /tmp/a.tgz https://x.test/a.tgz && rm -f /tmp/a.tgz\nLABEL a=b\n"
    );
    // A RUN in between might read it without naming it: unsafe.
    let src =
        "FROM debian\nRUN curl -o /tmp/a.tgz https://x.test/a.tgz\nRUN make\nRUN rm /tmp/a.tgz\n";
    assert_eq!(text(src), src);
    assert_eq!(
        unsafe_text(src),
        "FROM debian\nRUN curl -o /tmp/a.tgz https://x.test/a.tgz && rm /tmp/a.tgz\nRUN make\n"
    );
}

#[test]
fn a_removal_after_a_use_of_the_file_stays_where_it_is() {
    // `dpkg -i` reads the file before the rm in the same RUN: moving the rm would break it.
    let src = "FROM debian\nRUN curl -sSL -o app.deb https://x.test/app.deb\nRUN dpkg -i app.deb && rm app.deb\n";
    assert_eq!(unsafe_text(src), src);
    // Neither when a RUN between names it.
    let src = "FROM debian\nRUN curl -o /tmp/a.tgz https://x.test/a.tgz\nRUN tar -xzf /tmp/a.tgz -C /opt\nRUN echo && rm /tmp/a.tgz\n";
    assert_eq!(unsafe_text(src), src);
    // A chmod after other commands in its RUN is moved only when asked (they may add files).
    let src = "FROM debian\nRUN python3 -m venv /opt/venv\nRUN echo hi > /etc/motd && chmod -R go-w /opt/venv\n";
    assert_eq!(text(src), src);
    assert_eq!(
        unsafe_text(src),
        "FROM debian\nRUN python3 -m venv /opt/venv && chmod -R go-w /opt/venv\nRUN echo hi > /etc/motd\n"
    );
}

#[test]
fn copied_then_deleted_becomes_a_bind_mount_only_when_asked() {
    let src = "FROM alpine\nCOPY app.tar.gz /tmp/\nRUN tar -xzf /tmp/app.tar.gz -C /opt && rm /tmp/app.tar.gz\n";
    let safe = fixed(src);
    assert_eq!(safe.text, src);
    assert_eq!(safe.skipped_unsafe[0].code, "KL304");
    assert_eq!(
        unsafe_text(src),
        "FROM alpine\nRUN --mount=type=bind,source=app.tar.gz,target=/tmp/app.tar.gz,rw tar -xzf /tmp/app.tar.gz -C /opt\n"
    );
    // Naming the rule applies it too.
    let named = fixed_with(
        src,
        &FixOptions {
            rules: vec!["removed-in-later-layer".into()],
            ..FixOptions::default()
        },
    );
    assert_eq!(named.changes.len(), 1);
    // Flags on the COPY, globs, or a RUN between: no fix.
    for keep in [
        "FROM alpine\nCOPY --chown=1 app.tar.gz /tmp/\nRUN tar -xzf /tmp/app.tar.gz && rm /tmp/app.tar.gz\n",
        "FROM alpine\nCOPY app.tar.gz /tmp/\nRUN echo\nRUN tar -xzf /tmp/app.tar.gz && rm /tmp/app.tar.gz\n",
    ] {
        assert_eq!(unsafe_text(keep), keep);
    }
}

#[test]
fn rule_selection_and_the_flag_fixes() {
    let src =
        "FROM debian\nRUN apt-get update && apt-get install curl && rm -rf /var/lib/apt/lists/*\n";
    // -y is safe; --no-install-recommends changes what is installed, so it needs asking.
    let r = fixed(src);
    assert_eq!(codes(&r), ["KL207"]);
    assert_eq!(
        r.text,
        "FROM debian\nRUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n"
    );
    let only = fixed_with(
        src,
        &FixOptions {
            rules: vec!["DL3015".into()],
            ..FixOptions::default()
        },
    );
    assert_eq!(codes(&only), ["KL303"]);
    assert!(only.text.contains("install --no-install-recommends curl"));
    assert_eq!(
        text("FROM alpine\nRUN apk add curl\n"),
        "FROM alpine\nRUN apk add --no-cache curl\n"
    );
    assert_eq!(
        text("FROM python:3\nRUN pip install flask==3.0\n"),
        "FROM python:3\nRUN pip install --no-cache-dir flask==3.0\n"
    );
}

#[test]
fn heredocs_and_exec_form_survive_fixing() {
    let src =
        "FROM debian\nRUN <<EOF\napt-get update\napt-get install -y curl\nEOF\nCMD [\"curl\"]\n";
    let r = fixed(src);
    assert!(r.text.contains("<<EOF\n"), "{}", r.text);
    assert!(r.text.ends_with("EOF\nCMD [\"curl\"]\n"), "{}", r.text);
}

#[test]
fn manifests_are_copied_before_the_install_when_the_context_has_them() {
    let ctx = tempfile::tempdir().unwrap();
    let src =
        "FROM node:20\nWORKDIR /app\nCOPY --chown=node . .\nRUN npm ci\nCMD [\"node\", \"i.js\"]\n";
    let options = |dir| FixOptions {
        allow_unsafe: true,
        context: Some(dir),
        ..FixOptions::default()
    };
    // No package.json in the context: nothing to copy first, no fix (npm's cache is cleaned).
    let cleaned = src.replace("npm ci", "npm ci && npm cache clean --force");
    assert_eq!(fixed_with(src, &options(ctx.path())).text, cleaned);
    std::fs::write(ctx.path().join("package.json"), "{}").unwrap();
    std::fs::write(ctx.path().join("package-lock.json"), "{}").unwrap();
    let r = fixed_with(src, &options(ctx.path()));
    assert_eq!(
        r.text,
        "FROM node:20\nWORKDIR /app\nCOPY --chown=node package.json package-lock.json ./\nRUN npm ci && npm cache clean --force\nCOPY --chown=node . .\nCMD [\"node\", \"i.js\"]\n"
    );
    assert!(r.changes[0].is_unsafe);
    // Ignored by .dockerignore, or a workspace: no fix.
    std::fs::write(ctx.path().join(".dockerignore"), "package-lock.json\n").unwrap();
    assert_eq!(fixed_with(src, &options(ctx.path())).text, cleaned);
    std::fs::remove_file(ctx.path().join(".dockerignore")).unwrap();
    std::fs::write(ctx.path().join("pnpm-workspace.yaml"), "").unwrap();
    assert_eq!(fixed_with(src, &options(ctx.path())).text, cleaned);
    // Go: go.mod and go.sum.
    let go = tempfile::tempdir().unwrap();
    std::fs::write(go.path().join("go.mod"), "module x\n").unwrap();
    let src = "FROM golang\nWORKDIR /src\nCOPY . /src\nRUN go mod download\n";
    assert_eq!(
        fixed_with(src, &options(go.path())).text,
        "FROM golang\nWORKDIR /src\nCOPY go.mod /src/\nRUN go mod download\nCOPY . /src\n"
    );
}
