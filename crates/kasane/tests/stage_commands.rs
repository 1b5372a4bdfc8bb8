//! CLI snapshots of `kasane stages`, `kasane prune` and `kasane cache-plan` on the shipped
//! examples (every format and mode), plus their errors and exit codes.

use std::path::PathBuf;

use assert_cmd::Command;

fn root() -> PathBuf {
    kasane_testenv::package_dir().join("../..")
}

/// Runs kasane in the workspace root; returns (exit code, stdout, stderr).
fn kasane(args: &[&str]) -> (i32, String, String) {
    let out = Command::cargo_bin("kasane")
        .unwrap()
        .current_dir(root())
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn ok(args: &[&str]) -> String {
    let (code, stdout, stderr) = kasane(args);
    assert_eq!(code, 0, "kasane {args:?} failed: {stderr}");
    stdout
}

const NEXTJS: &str = "examples/nextjs/Dockerfile";
const GO: &str = "examples/go-service/Dockerfile";

#[test]
fn stages_text() {
    insta::assert_snapshot!(
        "stages_nextjs_text",
        ok(&["stages", "-f", NEXTJS, "--target", "production"])
    );
    insta::assert_snapshot!("stages_go_text", ok(&["stages", "-f", GO]));
    insta::assert_snapshot!(
        "stages_go_text_runtime_alpine",
        ok(&[
            "stages",
            "-f",
            GO,
            "--build-arg",
            "RUNTIME=alpine",
            "--build-arg",
            "GO_VERSION=1.23"
        ])
    );
}

#[test]
fn stages_json() {
    let out = ok(&[
        "stages",
        "-f",
        GO,
        "--format",
        "json",
        "--build-arg",
        "RUNTIME=alpine",
    ]);
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["schema"], "kasane.stages/v1");
    assert_eq!(doc["needed"], serde_json::json!([0, 1, 3, 5, 6]));
    insta::assert_snapshot!("stages_go_json", out);
}

#[test]
fn stages_dot_and_mermaid() {
    insta::assert_snapshot!(
        "stages_go_dot",
        ok(&["stages", "-f", GO, "--format", "dot"])
    );
    insta::assert_snapshot!(
        "stages_nextjs_mermaid",
        ok(&[
            "stages", "-f", NEXTJS, "--format", "mermaid", "--target", "builder"
        ])
    );
}

#[test]
fn prune_to_stdout_with_a_summary() {
    let (code, stdout, stderr) = kasane(&["prune", "-f", GO, "--target", "release"]);
    assert_eq!(code, 0, "{stderr}");
    insta::assert_snapshot!("prune_go_release", stdout);
    assert_eq!(
        stderr,
        "warning: line 16: RUN --mount needs BuildKit; the legacy builder cannot build it\n\
         kept 4 of 7 stages for release; removed test, certs, alpine\n"
    );
    let dir = tempfile::tempdir().unwrap();
    let numeric = dir.path().join("Dockerfile");
    std::fs::write(
        &numeric,
        "FROM alpine AS a\nFROM alpine\nFROM scratch\nCOPY --from=1 /x /x\n",
    )
    .unwrap();
    let (_, stdout, stderr) = kasane(&["prune", "-f", numeric.to_str().unwrap(), "--target", "2"]);
    assert!(stderr.contains("could not be found"), "{stderr}");
    assert!(stdout.is_empty());
    std::fs::write(
        &numeric,
        "FROM alpine AS a\nFROM alpine\nFROM scratch AS out\nCOPY --from=1 /x /x\n",
    )
    .unwrap();
    let (_, stdout, stderr) =
        kasane(&["prune", "-f", numeric.to_str().unwrap(), "--target", "out"]);
    assert_eq!(
        stdout,
        "FROM alpine\nFROM scratch AS out\nCOPY --from=0 /x /x\n"
    );
    assert_eq!(
        stderr,
        "kept 2 of 3 stages for out; removed a; renumbered line 4: --from=1 -> --from=0\n"
    );
    let (_, stdout, _) = kasane(&["prune", "-f", NEXTJS, "--target", "production"]);
    insta::assert_snapshot!("prune_nextjs_production", stdout);
}

#[test]
fn prune_writes_and_checks_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("Dockerfile.production");
    let out_s = out.to_str().unwrap();
    let args = ["prune", "-f", NEXTJS, "--target", "production", "-o", out_s];
    // Missing file: stale.
    let (code, _, stderr) = kasane(&[&args[..], &["--check"]].concat());
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("does not exist"), "{stderr}");
    let (code, stdout, stderr) = kasane(&args);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.is_empty());
    assert!(stderr.starts_with("wrote "), "{stderr}");
    let written = std::fs::read_to_string(&out).unwrap();
    assert!(!written.contains("AS development"));
    // Fresh: up to date.
    let (code, _, stderr) = kasane(&[&args[..], &["--check"]].concat());
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("is up to date"), "{stderr}");
    // Edited: stale, and --check writes nothing.
    std::fs::write(&out, written.replace("npm run build", "npm run build:fast")).unwrap();
    let (code, _, stderr) = kasane(&[&args[..], &["--check"]].concat());
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("is stale"), "{stderr}");
    assert!(
        std::fs::read_to_string(&out)
            .unwrap()
            .contains("build:fast")
    );
}

#[test]
fn prune_never_truncates_the_output_on_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("keep");
    std::fs::write(&out, "precious").unwrap();
    let (code, _, stderr) = kasane(&[
        "prune",
        "-f",
        NEXTJS,
        "--target",
        "nope",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("target stage \"nope\" could not be found"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "precious");
}

#[test]
fn cache_plans_for_every_mode() {
    for mode in ["legacy", "inline", "registry", "bake", "gha"] {
        for (name, file) in [("nextjs", NEXTJS), ("go", GO)] {
            let out = ok(&[
                "cache-plan",
                "-f",
                file,
                "--image",
                "registry.example:5000/team/app",
                "--mode",
                mode,
                "--push",
                "--build-arg",
                "GO_VERSION=1.23",
            ]);
            insta::assert_snapshot!(format!("cache_plan_{name}_{mode}"), out);
        }
    }
}

#[test]
fn cache_plan_options() {
    let out = ok(&[
        "cache-plan",
        "-f",
        NEXTJS,
        "--image",
        "registry.example/app:ci",
        "--mode",
        "inline",
        "--target",
        "builder",
        "--context",
        "my app",
        "--platform",
        "linux/amd64",
        "--tag",
        "registry.example/app:latest",
    ]);
    insta::assert_snapshot!("cache_plan_nextjs_inline_options", out);
}

#[test]
fn cache_plan_writes_an_executable_script() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("plan.sh");
    ok(&[
        "cache-plan",
        "-f",
        GO,
        "--image",
        "app",
        "--mode",
        "legacy",
        "-o",
        out.to_str().unwrap(),
    ]);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&out).unwrap().permissions().mode();
    assert_eq!(mode & 0o111, 0o111);
}

#[test]
fn errors_are_clear_with_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    };
    let cycle = write(
        "cycle",
        "FROM alpine AS a\nCOPY --from=b /x /x\nFROM alpine AS b\nCOPY --from=a /y /y\n",
    );
    let index = write("index", "FROM alpine\nFROM alpine\nCOPY --from=5 /x /x\n");
    let var = write(
        "var",
        "ARG S=a\nFROM alpine AS a\nFROM alpine\nCOPY --from=$S /x /x\n",
    );
    let mut report = String::new();
    for args in [
        vec!["stages", "-f", NEXTJS, "--target", "prod"],
        vec!["stages", "-f", &cycle],
        vec!["prune", "-f", &index, "--target", "x"],
        vec!["stages", "-f", &var],
        vec!["stages", "-f", "no/such/Dockerfile"],
        vec!["cache-plan", "-f", NEXTJS, "--image", "Bad Repo"],
        vec!["cache-plan", "-f", "-", "--image", "app"],
    ] {
        let (code, stdout, stderr) = kasane(&args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stdout.is_empty());
        let args = args.join(" ").replace(dir.path().to_str().unwrap(), "TMP");
        report.push_str(&format!(
            "$ kasane {args}\n{}\n",
            stderr.replace(dir.path().to_str().unwrap(), "TMP")
        ));
    }
    insta::assert_snapshot!("stage_command_errors", report);
}
