//! End-to-end: expansions compared with what the real engine does, under both its built-in
//! BuildKit and its legacy builder (dockerd 20.10). That BuildKit predates `${V-w}`, `${V+w}`,
//! `#`, `%` and `/`, so this covers `$V`, `${V}`, `:-`, `:+`, `:?`, `?`, special and positional
//! parameters, quotes and both escape characters; the newer operators are checked against
//! BuildKit's own lexer in `expand_vectors.rs`. Values come back through `docker inspect`.

use std::process::Command;

use kasane_dockerfile::expand::Lexer;
use kasane_testenv::{BUSYBOX_IMAGE, DOCKER, build_image, docker, require_engine};
use serde_json::Value;

/// Label values as written in the Dockerfile (one word each, as LABEL's `k=v` form needs).
const LABELS: &[&str] = &[
    "$V",
    "${V}",
    "${V}x",
    "$V-x",
    "$V_x",
    "${U}",
    "x${U}y",
    "${V:-w}",
    "${E:-w}",
    "${U:-w}",
    "${V:+w}",
    "${E:+w}",
    "${U:+w}",
    "${V:?m}",
    "${V?m}",
    "${E?m}",
    "\"${W}\"",
    "${W}",
    "'$V'",
    "\"$V\"'$V'",
    "\\$V",
    "\"\\$V\"",
    "\"a\\\"b\"",
    "a\\\\b",
    "\"a\\b\"",
    "${U:-${V:-x}}",
    "${U:-\"q q\"}",
    "${U:-'$V'}",
    "${V:+\"[$W]\"}",
    "$1",
    "${1:-one}",
    "$@x",
    "$$",
    "$.",
    "a$",
    "${U:-\\}}",
    "é$V",
    "${V:-$E}",
    "${E:-$V}",
    "\"${U:-a b}\"",
];

/// The ARGs before the labels: name and raw default.
const ARGS: &[(&str, &str)] = &[
    ("V", "value"),
    ("E", ""),
    ("W", "\"a b  c\""),
    ("P", "8080"),
];

/// Expands `raw` with our lexer in `env`, panicking with context on error.
fn expand(lexer: &Lexer, raw: &str, env: &[(String, String)]) -> String {
    lexer
        .process_word(raw, env)
        .unwrap_or_else(|e| panic!("{raw:?}: {e}"))
        .value
}

fn inspect(tag: &str, field: &str) -> Value {
    let out = docker(&[
        "inspect",
        "-f",
        &format!("{{{{json .Config.{field}}}}}"),
        tag,
    ]);
    serde_json::from_slice(&out.stdout).expect("docker inspect JSON")
}

fn remove(tag: &str) {
    let _ = Command::new(DOCKER).args(["rmi", "-f", tag]).output();
}

#[test]
#[ignore = "e2e: needs the Docker engine (scripts/test runs it)"]
fn expansions_match_the_engine() {
    require_engine();
    let lexer = Lexer::new('\\');
    let mut env = vec![(
        "PATH".to_owned(),
        "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".to_owned(),
    )];
    let mut dockerfile = format!("FROM {BUSYBOX_IMAGE}\n");
    for (name, raw) in ARGS {
        dockerfile.push_str(&format!("ARG {name}={raw}\n"));
        let value = expand(&lexer, raw, &env);
        env.push(((*name).to_owned(), value));
    }
    for (i, raw) in LABELS.iter().enumerate() {
        dockerfile.push_str(&format!("LABEL k{i:02}={raw}\n"));
    }
    let env_raw = [("X1", "${V:-w}"), ("X2", "\"${W}\""), ("X3", "${U:-d}")];
    let env_line: Vec<String> = env_raw.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let workdir = "/w/${V:+on}/${U:-d}";
    let user = "${U:-1000}:${V:+0}";
    let stopsignal = "${U:-SIGKILL}";
    let expose = ["${P:-80}/tcp", "${U:-81}"];
    let volumes = ["${U:-/data}", "/v/$V"];
    dockerfile.push_str(&format!(
        "ENV {}\nWORKDIR {workdir}\nUSER {user}\nSTOPSIGNAL {stopsignal}\nEXPOSE {}\nVOLUME {}\n",
        env_line.join(" "),
        expose.join(" "),
        volumes.join(" ")
    ));

    for buildkit in [true, false] {
        let tag = format!(
            "kasane-e2e-dockerfile-expand-{}",
            if buildkit { "buildkit" } else { "legacy" }
        );
        build_image(&tag, &dockerfile, &[], buildkit);
        let labels = inspect(&tag, "Labels");
        for (i, raw) in LABELS.iter().enumerate() {
            let want = expand(&lexer, raw, &env);
            assert_eq!(
                labels[format!("k{i:02}")].as_str(),
                Some(want.as_str()),
                "LABEL value {raw:?} (buildkit={buildkit})\n{dockerfile}"
            );
        }
        let image_env: Vec<String> = serde_json::from_value(inspect(&tag, "Env")).unwrap();
        for (k, raw) in env_raw {
            let want = format!("{k}={}", expand(&lexer, raw, &env));
            assert!(
                image_env.contains(&want),
                "ENV {k}={raw}: want {want:?} in {image_env:?}"
            );
        }
        assert_eq!(
            inspect(&tag, "WorkingDir"),
            expand(&lexer, workdir, &env).as_str()
        );
        assert_eq!(inspect(&tag, "User"), expand(&lexer, user, &env).as_str());
        assert_eq!(
            inspect(&tag, "StopSignal"),
            expand(&lexer, stopsignal, &env).as_str()
        );
        let mut want_ports: Vec<String> = Vec::new();
        for raw in expose {
            for port in lexer.process_words(raw, env.as_slice()).unwrap().words {
                want_ports.push(if port.contains('/') {
                    port
                } else {
                    format!("{port}/tcp")
                });
            }
        }
        let ports = inspect(&tag, "ExposedPorts");
        let mut got_ports: Vec<String> = ports.as_object().unwrap().keys().cloned().collect();
        want_ports.sort();
        got_ports.sort();
        assert_eq!(got_ports, want_ports, "EXPOSE");
        let vols = inspect(&tag, "Volumes");
        let mut got_vols: Vec<String> = vols.as_object().unwrap().keys().cloned().collect();
        let mut want_vols: Vec<String> = volumes
            .iter()
            .map(|raw| expand(&lexer, raw, &env))
            .collect();
        got_vols.sort();
        want_vols.sort();
        assert_eq!(got_vols, want_vols, "VOLUME");
        remove(&tag);
    }
}

#[test]
#[ignore = "e2e: needs the Docker engine (scripts/test runs it)"]
fn backtick_escape_matches_the_engine() {
    require_engine();
    let lexer = Lexer::new('`');
    let env = [("V".to_owned(), "value".to_owned())];
    let labels = [
        "`$V",
        "a``b",
        "\"a`\"b\"",
        "\"`$V\"",
        "a\\b",
        "\"a\\b\"",
        "${U:-`}}",
    ];
    let mut dockerfile = format!("# escape=`\nFROM {BUSYBOX_IMAGE}\nARG V=value\n");
    for (i, raw) in labels.iter().enumerate() {
        dockerfile.push_str(&format!("LABEL k{i}={raw}\n"));
    }
    for buildkit in [true, false] {
        let tag = format!(
            "kasane-e2e-dockerfile-backtick-{}",
            if buildkit { "buildkit" } else { "legacy" }
        );
        build_image(&tag, &dockerfile, &[], buildkit);
        let got = inspect(&tag, "Labels");
        for (i, raw) in labels.iter().enumerate() {
            let want = expand(&lexer, raw, &env);
            assert_eq!(
                got[format!("k{i}")].as_str(),
                Some(want.as_str()),
                "{raw:?} (buildkit={buildkit})"
            );
        }
        remove(&tag);
    }
}

#[test]
#[ignore = "e2e: needs the Docker engine (scripts/test runs it)"]
fn expansion_errors_match_the_engine() {
    require_engine();
    let lexer = Lexer::new('\\');
    let env = [
        ("V".to_owned(), "value".to_owned()),
        ("E".to_owned(), String::new()),
    ];
    for raw in [
        "${U:?m}",
        "${U?}",
        "${E:?}",
        "${V:=x}",
        "${V",
        "'a",
        "\"a",
        "${}",
        "${V:x}",
        "\"${U:-a'b}\"",
    ] {
        assert!(
            lexer.process_word(raw, &env[..]).is_err(),
            "{raw:?} should fail"
        );
        let dockerfile = format!("FROM {BUSYBOX_IMAGE}\nARG V=value\nARG E=\nLABEL k={raw}\n");
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("Dockerfile"), &dockerfile).unwrap();
        for buildkit in ["1", "0"] {
            let tag = format!("kasane-e2e-dockerfile-experr-{buildkit}");
            let out = Command::new(DOCKER)
                .env("DOCKER_BUILDKIT", buildkit)
                .args(["build", "-q", "-t", &tag])
                .arg(dir.path())
                .output()
                .unwrap();
            if out.status.success() {
                remove(&tag);
            }
            assert!(
                !out.status.success(),
                "the engine accepted LABEL k={raw} (DOCKER_BUILDKIT={buildkit})"
            );
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                stderr.contains("failed to process"),
                "{raw:?}: unexpected failure: {stderr}"
            );
        }
    }
}
