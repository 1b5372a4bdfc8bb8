//! `kasane analyze` and `layers` on `docker://` references, against the in-process registry of
//! kasane-testserver (the real registry is exercised by live_e2e.rs): output, `--save`, a bare
//! name falling back to the registry when no engine answers, and the failures users meet (a
//! stalled registry with `--timeout`, wrong credentials), with the exit code 2 of unreadable
//! input and messages that name the registry and never the password.

use std::process::Command;

use kasane_testserver::registry::{
    FakeRegistry, Fault, FixtureImage, Packing, RegistryAuth, Route,
};

const REPO: &str = "team/app";

fn kasane(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kasane"))
        .args(args)
        // No engine: a bare name must go to the registry.
        .env("DOCKER_HOST", "unix:///nonexistent/kasane-test.sock")
        // No stored credentials unless a test gives some.
        .env("DOCKER_CONFIG", "/nonexistent/kasane-test-docker-config")
        .envs(env.iter().copied())
        .output()
        .expect("run kasane");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn registry() -> FakeRegistry {
    FixtureImage::new(Packing::Gzip, "amd64")
        .serve(FakeRegistry::builder(), REPO, "v1")
        .start()
}

#[test]
fn analyze_reads_a_registry_image() {
    let registry = registry();
    let host = registry.host();
    let reference = format!("docker://{host}/{REPO}:v1");
    let (code, out, err) = kasane(&["analyze", &reference], &[]);
    assert_eq!(code, 0, "{err}");
    insta::assert_snapshot!("analyze_registry_text", out.replace(&host, "REGISTRY"));
    let (code, out, err) = kasane(&["analyze", "--json", &reference], &[]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["image"]["format"], "registry");
    assert_eq!(v["image"]["source"], reference);
    // Not a terminal: no progress lines on stderr.
    assert!(err.is_empty(), "{err}");

    // A bare name: no engine answers (DOCKER_HOST points nowhere), so the registry is read.
    let (code, bare, err) = kasane(&["analyze", "--json", &format!("{host}/{REPO}:v1")], &[]);
    assert_eq!(code, 0, "{err}");
    let b: serde_json::Value = serde_json::from_str(&bare).unwrap();
    assert_eq!(b["layers"], v["layers"]);

    let (code, out, err) = kasane(&["layers", &reference, "--layer", "1"], &[]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("/etc/app.conf"), "{out}");
}

#[test]
fn save_writes_a_layout_kasane_reads_back() {
    let registry = registry();
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("layout");
    let reference = format!("docker://{}/{REPO}:v1", registry.host());
    let layout_arg = layout.to_str().unwrap();
    let (code, live, err) = kasane(
        &["analyze", "--json", "--save", layout_arg, &reference],
        &[],
    );
    assert_eq!(code, 0, "{err}");
    let (code, saved, err) = kasane(&["analyze", "--json", &format!("oci:{layout_arg}:v1")], &[]);
    assert_eq!(code, 0, "{err}");
    let live: serde_json::Value = serde_json::from_str(&live).unwrap();
    let saved: serde_json::Value = serde_json::from_str(&saved).unwrap();
    assert_eq!(live["layers"], saved["layers"]);
    assert_eq!(
        live["image"]["manifest_digest"],
        saved["image"]["manifest_digest"]
    );
    // --save is for registry reads only, and nothing is written when refused.
    let other = dir.path().join("other");
    let (code, _, err) = kasane(
        &[
            "analyze",
            "--save",
            other.to_str().unwrap(),
            &format!("oci:{layout_arg}:v1"),
        ],
        &[],
    );
    assert_eq!(code, 2);
    assert!(
        err.contains("--save works with images read from a registry"),
        "{err}"
    );
    assert!(!other.exists());
}

#[test]
fn a_stalled_registry_times_out() {
    let image = FixtureImage::new(Packing::Gzip, "amd64");
    let (digest, blob) = &image.layers[0];
    let registry = image
        .serve(FakeRegistry::builder(), REPO, "v1")
        .route(
            &format!("/v2/{REPO}/blobs/{digest}"),
            Route::ok("application/octet-stream", blob.clone()).with_fault(Fault::Stall(64)),
        )
        .start();
    let reference = format!("docker://{}/{REPO}:v1", registry.host());
    let (code, _, err) = kasane(&["analyze", "--timeout", "1", &reference], &[]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("timed out") && err.contains(&registry.host()),
        "{err}"
    );
    assert!(err.contains("layer 0"), "{err}");
}

#[test]
fn wrong_credentials_are_named_without_the_password() {
    let image = FixtureImage::new(Packing::Zstd, "amd64");
    let auth = RegistryAuth::Token {
        credentials: Some(("carol".into(), "the-right-one".into())),
        token: "t0k3n".into(),
    };
    let registry = image
        .serve(FakeRegistry::builder().auth(auth), REPO, "v1")
        .start();
    let config = tempfile::tempdir().unwrap();
    let write_config = |user: &str, password: &str| {
        let auths = serde_json::json!({"auths": {registry.host(): {
            "username": user, "password": password}}});
        std::fs::write(config.path().join("config.json"), auths.to_string()).unwrap();
    };
    let reference = format!("docker://{}/{REPO}:v1", registry.host());
    let env = [("DOCKER_CONFIG", config.path().to_str().unwrap())];
    write_config("carol", "not-the-password");
    let (code, out, err) = kasane(&["analyze", &reference], &env);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(&registry.host()) && err.contains("user `carol`"),
        "{err}"
    );
    for secret in ["not-the-password", "the-right-one", "t0k3n"] {
        assert!(!err.contains(secret) && !out.contains(secret), "{err}");
    }
    write_config("carol", "the-right-one");
    let (code, out, err) = kasane(&["analyze", &reference], &env);
    assert_eq!(code, 0, "{err}");
    assert!(!out.contains("t0k3n") && !err.contains("the-right-one"));
}
