//! End to end on the real engine: kasane built as a static binary, shipped in a `FROM scratch`
//! image, put into other builds with `COPY --from=` (and BuildKit's `RUN --mount=from=`), and
//! run there against a test server on the docker0 bridge. The server listens on the bridge
//! gateway only while the test runs.

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::Ordering;

use kasane_testenv::{
    BUSYBOX_IMAGE, DEBIAN_IMAGE, DOCKER, ImageCleanup, build_context, docker, require_engine,
    unique_tag,
};
use kasane_testserver::{Content, Server, pattern};

/// The static binary: `$KASANE_STATIC_BIN` (scripts/test builds it), or built here with
/// `+crt-static` for x86_64-unknown-linux-gnu into `<target dir>/static` (a target directory of
/// its own, so this build neither waits for nor disturbs the one running the tests).
fn static_kasane() -> PathBuf {
    if let Some(path) = std::env::var_os("KASANE_STATIC_BIN") {
        return PathBuf::from(path);
    }
    let root = kasane_testenv::package_dir().join("../..");
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| root.join("target"), PathBuf::from)
        .join("static");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(&root)
        .env("CARGO_TARGET_DIR", &target_dir)
        .env("RUSTFLAGS", "-C target-feature=+crt-static")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .args(["build", "-q", "-p", "kasane", "--profile", "ci"])
        .args(["--target", "x86_64-unknown-linux-gnu"])
        .status()
        .expect("run cargo build");
    assert!(status.success(), "static build of kasane failed");
    target_dir.join("x86_64-unknown-linux-gnu/ci/kasane")
}

/// The host address a container on the default bridge (and so a `RUN` step) reaches: its
/// default route, as a container sees it.
fn bridge_gateway() -> IpAddr {
    let out = docker(&[
        "run",
        "--rm",
        "--network",
        "bridge",
        BUSYBOX_IMAGE,
        "ip",
        "route",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|line| line.strip_prefix("default via "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|addr| addr.parse().ok())
        .unwrap_or_else(|| panic!("no default route in a container: {text:?}"))
}

fn sha256_hex(bytes: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("x"), bytes).unwrap();
    let out = Command::new("sha256sum")
        .arg(dir.path().join("x"))
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()[..64].to_owned()
}

/// `docker build` with extra flags; returns (success, combined output).
fn try_build(tag: &str, dockerfile: &str, buildkit: bool, extra: &[&str]) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Dockerfile"), dockerfile).unwrap();
    let mut cmd = Command::new(DOCKER);
    cmd.env("DOCKER_BUILDKIT", if buildkit { "1" } else { "0" })
        .arg("build");
    if buildkit {
        cmd.arg("--progress=plain");
    }
    let out = cmd
        .args(extra)
        .args(["-t", tag])
        .arg(dir.path())
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// The sha256 of `path` inside `image`, by the image's own `sha256sum`.
fn sha256_in_image(image: &str, path: &str) -> String {
    let out = docker(&["run", "--rm", image, "sha256sum", path]);
    String::from_utf8_lossy(&out.stdout)[..64].to_owned()
}

#[test]
#[ignore = "e2e: needs the Docker engine (scripts/test runs it)"]
fn fetch_runs_inside_docker_builds_from_a_scratch_kasane_image() {
    require_engine();
    let binary = static_kasane();
    let gateway = bridge_gateway();
    let payload = pattern(3 * 1024 * 1024 + 7, 11);
    let sha = sha256_hex(&payload);
    let server = Server::builder(Content::bytes(payload, "e2e"))
        .bind((gateway, 0))
        .expect("bind the test server on the bridge gateway");
    let port = server.addr().port();
    let url = server.url("payload.bin");
    let mut cleanup = ImageCleanup::default();

    // The kasane image: nothing but the binary. `--version` running in it proves the binary
    // needs no libc or loader from the image.
    let tool = unique_tag("fetch-tool");
    cleanup.0.push(tool.clone());
    let context = tempfile::tempdir().unwrap();
    // A copy keeps the executable bit, as `cp` does in the README's recipe.
    std::fs::copy(&binary, context.path().join("kasane")).expect("static kasane binary");
    std::fs::write(
        context.path().join("Dockerfile"),
        "FROM scratch\nCOPY kasane /kasane\nENTRYPOINT [\"/kasane\"]\n",
    )
    .unwrap();
    build_context(&tool, context.path(), true);
    let version = docker(&["run", "--rm", &tool, "--version"]);
    assert!(String::from_utf8_lossy(&version.stdout).starts_with("kasane "));

    // COPY --from= the kasane image, then fetch in a RUN step: BuildKit and the legacy builder.
    for buildkit in [true, false] {
        let app = unique_tag("fetch-app");
        cleanup.0.push(app.clone());
        let before = server.stats().connections.load(Ordering::SeqCst);
        let dockerfile = format!(
            "FROM {BUSYBOX_IMAGE}\n\
             COPY --from={tool} /kasane /usr/local/bin/kasane\n\
             RUN kasane fetch {url} -o /payload.bin --sha256 {sha} -j 4 --chunk 256K\n"
        );
        let (ok, log) = try_build(&app, &dockerfile, buildkit, &[]);
        assert!(ok, "buildkit={buildkit}:\n{log}");
        assert_eq!(
            sha256_in_image(&app, "/payload.bin"),
            sha,
            "buildkit={buildkit}"
        );
        let used = server.stats().connections.load(Ordering::SeqCst) - before;
        assert_eq!(used, 4, "buildkit={buildkit}: one connection per worker");
    }

    // BuildKit can mount the binary for the one step instead of copying it into a layer.
    let mounted = unique_tag("fetch-mount");
    cleanup.0.push(mounted.clone());
    let dockerfile = format!(
        "FROM {BUSYBOX_IMAGE}\n\
         RUN --mount=type=bind,from={tool},source=/kasane,target=/usr/local/bin/kasane \\\n\
             kasane fetch {url} -o /payload.bin --sha256 {sha}\n\
         RUN test ! -e /usr/local/bin/kasane\n"
    );
    let (ok, log) = try_build(&mounted, &dockerfile, true, &[]);
    assert!(ok, "{log}");
    assert_eq!(sha256_in_image(&mounted, "/payload.bin"), sha);

    // A host name through /etc/hosts (--add-host), on Debian's nsswitch: the static glibc
    // resolver works in a distribution image as in the scratch-based busybox one.
    let named = unique_tag("fetch-named");
    cleanup.0.push(named.clone());
    let dockerfile = format!(
        "FROM {DEBIAN_IMAGE}\n\
         COPY --from={tool} /kasane /usr/local/bin/kasane\n\
         RUN kasane fetch http://fetch-host.test:{port}/payload.bin -o /payload.bin --sha256 {sha}\n"
    );
    let add_host = format!("fetch-host.test:{gateway}");
    let (ok, log) = try_build(&named, &dockerfile, true, &["--add-host", &add_host]);
    assert!(ok, "{log}");
    assert_eq!(sha256_in_image(&named, "/payload.bin"), sha);

    // A wrong checksum fails the build, with the reason in the log.
    let bad = unique_tag("fetch-bad");
    cleanup.0.push(bad.clone());
    let dockerfile = format!(
        "FROM {BUSYBOX_IMAGE}\n\
         COPY --from={tool} /kasane /usr/local/bin/kasane\n\
         RUN kasane fetch {url} -o /payload.bin --sha256 {}\n",
        "0".repeat(64)
    );
    let (ok, log) = try_build(&bad, &dockerfile, true, &[]);
    assert!(!ok, "a build with a wrong checksum succeeded:\n{log}");
    assert!(log.contains("checksum mismatch"), "{log}");
    drop(server);
}
