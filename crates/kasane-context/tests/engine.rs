//! End-to-end: the real engine (Docker 20.10, BuildKit and classic builder) against kasane's
//! prediction of what a build sends, and generated ignore files on a monorepo fixture.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use kasane_context::{
    ContextOptions, Engine, PatternMatcher, analyze_context, generate_keep, read_all,
};
use kasane_testenv::{BUSYBOX_IMAGE, DOCKER, docker, require_engine};

fn write(root: &Path, rel: &str, content: &[u8]) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

/// Builds `dir` and returns whether it succeeded, plus stderr.
fn build(dir: &Path, tag: &str, buildkit: bool, dockerfile: Option<&str>) -> (bool, String) {
    require_engine();
    let mut cmd = Command::new(DOCKER);
    cmd.env("DOCKER_BUILDKIT", if buildkit { "1" } else { "0" })
        .args(["build", "--no-cache", "-t", tag]);
    if let Some(f) = dockerfile {
        cmd.args(["-f", f]);
    }
    let out = cmd.arg(dir).output().expect("docker build");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

/// Every path below `root` inside the image, relative to it.
fn image_paths(tag: &str, root: &str) -> BTreeSet<Vec<u8>> {
    let out = docker(&[
        "run",
        "--rm",
        tag,
        "find",
        root,
        "-mindepth",
        "1",
        "-print0",
    ]);
    out.stdout
        .split(|&b| b == 0)
        .filter(|p| !p.is_empty())
        .map(|p| p[root.len() + 1..].to_vec())
        .collect()
}

fn show(set: &BTreeSet<Vec<u8>>) -> Vec<String> {
    set.iter()
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect()
}

/// What kasane predicts arrives in `/ctx` for `COPY . /ctx`.
fn predicted(
    dir: &Path,
    engine: Engine,
    patterns: &[Vec<u8>],
) -> Result<BTreeSet<Vec<u8>>, String> {
    let options = ContextOptions {
        dockerfile: Some(&dir.join("Dockerfile")),
        ignore_file: None,
        engine,
        top: 0,
    };
    let (_, walk) = analyze_context(dir, &options).map_err(|e| e.to_string())?;
    let mut sent: BTreeSet<Vec<u8>> = walk.sent.into_iter().map(|e| e.path).collect();
    if engine == Engine::Docker20Classic {
        // The daemon drops `.dockerignore` and the Dockerfile again when they are excluded.
        let pm = PatternMatcher::new(patterns, engine.dialect()).map_err(|e| e.to_string())?;
        for name in [b".dockerignore".as_slice(), b"Dockerfile"] {
            if pm.matches_cleaned(name).unwrap_or(false) {
                sent.remove(name);
            }
        }
    }
    Ok(sent)
}

const TREE: &[&str] = &[
    "a",
    "a+",
    "aa",
    "^q",
    "q",
    ".hidden",
    "README.md",
    "docs/a.md",
    "docs/keep/k.md",
    "src/main.rs",
    "src/a/b/foo/z",
    "src/a/b/foo/w",
    "node_modules/p/index.js",
    "x/y/node_modules/q/i.js",
    "x/keep/k",
    "x/other",
    "caf\u{e9}/menu",
    "b (1)/c",
];

const PIECES: &[&str] = &[
    "*",
    "**",
    "**/",
    "?",
    "a",
    "docs",
    "src",
    "x",
    "keep",
    "node_modules",
    "foo",
    ".md",
    "/",
    "/",
    "[a-c]",
    "[^a]",
    "+",
    "^",
    "(1)",
    "caf\u{e9}",
    "b",
    ".hidden",
    "k",
];

#[test]
#[ignore = "e2e: needs the Docker engine (scripts/test runs it)"]
fn engine_sends_what_kasane_predicts() {
    require_engine();
    let mut seed: u64 = 0x0063_6f6e_7465_7874;
    let mut next = |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    // Fixed, telling cases first, then generated ones.
    let mut files: Vec<String> = vec![
        "**/foo\n!src/a/b/foo/w\n".into(),
        "*\n!*/keep\n!docs\n".into(),
        "a+\n^q\n".into(),
        "node_modules\n**/node_modules\n*.md\n!README.md\n".into(),
        "\u{feff}# comment\n  /src/  \n! src/main.rs\r\n".into(),
    ];
    for _ in 0..10 {
        let mut text = String::new();
        for _ in 0..=next(4) {
            if next(3) == 0 {
                text.push('!');
            }
            for _ in 0..=next(3) {
                text.push_str(PIECES[next(PIECES.len())]);
            }
            text.push('\n');
        }
        files.push(text);
    }

    let mut compared = 0;
    for (i, ignore) in files.iter().enumerate() {
        let dir = tempfile::tempdir().unwrap();
        for f in TREE {
            write(dir.path(), f, f.as_bytes());
        }
        std::fs::create_dir_all(dir.path().join("empty/dir")).unwrap();
        write(
            dir.path(),
            "Dockerfile",
            format!("FROM {BUSYBOX_IMAGE}\nCOPY . /ctx\n").as_bytes(),
        );
        write(dir.path(), ".dockerignore", ignore.as_bytes());
        let patterns: Vec<Vec<u8>> = read_all(ignore.as_bytes())
            .unwrap()
            .into_iter()
            .map(|l| l.pattern)
            .collect();
        for (engine, buildkit) in [
            (Engine::Docker20BuildKit, true),
            (Engine::Docker20Classic, false),
        ] {
            let tag = format!("kasane-e2e-context-engine-{i}-{buildkit}");
            let prediction = predicted(dir.path(), engine, &patterns);
            let (ok, log) = build(dir.path(), &tag, buildkit, None);
            match prediction {
                Err(e) => assert!(
                    !ok,
                    "kasane predicts failure ({e}) but the build passed:\n{ignore}"
                ),
                Ok(expected) => {
                    assert!(ok, "build failed for ignore file {ignore:?}:\n{log}");
                    let arrived = image_paths(&tag, "/ctx");
                    assert_eq!(
                        show(&arrived),
                        show(&expected),
                        "{engine:?} with ignore file {ignore:?}"
                    );
                    docker(&["rmi", "-f", &tag]);
                }
            }
            compared += 1;
        }
    }
    eprintln!("engine agreement: {compared} builds compared with kasane's prediction");
}

#[test]
#[ignore = "e2e: needs the Docker engine (scripts/test runs it)"]
fn dockerfile_specific_ignore_file_wins_in_buildkit() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a", b"a");
    write(dir.path(), "b", b"b");
    write(dir.path(), ".dockerignore", b"a\n");
    write(
        dir.path(),
        "sub/app.Dockerfile",
        format!("FROM {BUSYBOX_IMAGE}\nCOPY . /ctx\n").as_bytes(),
    );
    write(dir.path(), "sub/app.Dockerfile.dockerignore", b"b\n");
    let dockerfile = dir.path().join("sub/app.Dockerfile");
    for (engine, buildkit) in [
        (Engine::Docker20BuildKit, true),
        (Engine::Docker20Classic, false),
    ] {
        let tag = format!("kasane-e2e-context-perfile-{buildkit}");
        let (ok, log) = build(dir.path(), &tag, buildkit, dockerfile.to_str());
        assert!(ok, "{log}");
        let options = ContextOptions {
            dockerfile: Some(&dockerfile),
            ignore_file: None,
            engine,
            top: 0,
        };
        let (_, walk) = analyze_context(dir.path(), &options).unwrap();
        let sent: BTreeSet<Vec<u8>> = walk.sent.into_iter().map(|e| e.path).collect();
        let arrived = image_paths(&tag, "/ctx");
        assert_eq!(
            arrived.contains(b"a".as_slice()),
            sent.contains(b"a".as_slice())
        );
        assert_eq!(
            arrived.contains(b"b".as_slice()),
            sent.contains(b"b".as_slice())
        );
        assert_eq!(arrived.contains(b"b".as_slice()), !buildkit);
        docker(&["rmi", "-f", &tag]);
    }
}

/// Parses the classic builder's "Sending build context to Docker daemon  12.3kB".
fn sent_context_bytes(log: &str) -> f64 {
    let line = log
        .split(['\n', '\r'])
        .rfind(|l| l.contains("Sending build context"))
        .expect("classic builder reports the context size");
    let value = line.rsplit(' ').next().unwrap().trim();
    let split = value.find(|c: char| c.is_ascii_alphabetic()).unwrap();
    let (number, unit) = value.split_at(split);
    let factor = match unit {
        "B" => 1.0,
        "kB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        other => panic!("unit {other}"),
    };
    number.parse::<f64>().unwrap() * factor
}

/// `n` bytes of a repeating pattern, different for each `(step, seed)`.
fn patterned(n: usize, step: u8, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(step) ^ seed)
        .collect()
}

#[test]
#[ignore = "e2e: needs the Docker engine (scripts/test runs it)"]
fn generated_ignore_file_keeps_the_image_and_shrinks_the_context() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let blob = |n: usize, seed: u8| patterned(n, 31, seed);
    write(root, "services/api/src/main.js", b"console.log('api')\n");
    write(root, "services/api/package.json", b"{}\n");
    write(
        root,
        "services/api/node_modules/big/index.js",
        &blob(400_000, 1),
    );
    write(root, "services/api/.dockerignore", b"node_modules\n*.log\n");
    write(root, "services/api/debug.log", &blob(20_000, 2));
    write(root, "services/web/dist/bundle.js", &blob(300_000, 3));
    write(root, "services/web/src/app.js", b"app\n");
    write(root, "libs/common/util.js", b"util\n");
    write(root, "libs/common/build/out.bin", &blob(100_000, 4));
    write(root, "libs/common/.dockerignore", b"build\n");
    write(root, "target/cache.bin", &blob(250_000, 5));
    write(
        root,
        "Dockerfile",
        format!(
            "FROM {BUSYBOX_IMAGE}\nCOPY services/api/src /app/api/src\nCOPY services/api/package.json /app/api/\nCOPY libs/common/util.js /app/libs/common/\n"
        )
        .as_bytes(),
    );
    let report = |ignore: Option<&Path>| {
        let options = ContextOptions {
            dockerfile: Some(&root.join("Dockerfile")),
            ignore_file: Some(ignore),
            engine: Engine::Docker20Classic,
            top: 5,
        };
        analyze_context(root, &options).unwrap().0
    };
    let before = report(None);
    let (ok, log_before) = build(root, "kasane-e2e-context-mono-before", false, None);
    assert!(ok, "{log_before}");
    let generated = generate_keep(
        root,
        &[
            "services/api".into(),
            "libs/common".into(),
            "Dockerfile".into(),
        ],
        None,
    )
    .unwrap();
    std::fs::write(root.join(".dockerignore"), &generated.text).unwrap();
    let after = report(Some(&root.join(".dockerignore")));
    let (ok, log_after) = build(root, "kasane-e2e-context-mono-after", false, None);
    assert!(ok, "{log_after}");

    let listing = |tag: &str| {
        docker(&[
            "run",
            "--rm",
            tag,
            "sh",
            "-c",
            "cd /app && find . -type f | sort | xargs md5sum",
        ])
        .stdout
    };
    assert_eq!(
        String::from_utf8_lossy(&listing("kasane-e2e-context-mono-before")),
        String::from_utf8_lossy(&listing("kasane-e2e-context-mono-after")),
        "the generated ignore file changed the image"
    );
    let (sent_before, sent_after) = (
        sent_context_bytes(&log_before),
        sent_context_bytes(&log_after),
    );
    let close = |predicted: f64, actual: f64| (predicted - actual).abs() <= actual * 0.01 + 2048.0;
    assert!(
        close(before.tar_bytes as f64, sent_before),
        "{} vs {sent_before}",
        before.tar_bytes
    );
    assert!(
        close(after.tar_bytes as f64, sent_after),
        "{} vs {sent_after}",
        after.tar_bytes
    );
    let predicted_saving = before.tar_bytes as f64 - after.tar_bytes as f64;
    let actual_saving = sent_before - sent_after;
    assert!(
        close(predicted_saving, actual_saving),
        "predicted saving {predicted_saving}, actual {actual_saving}"
    );
    eprintln!(
        "monorepo: context {sent_before} -> {sent_after} bytes sent (kasane predicted {} -> {})",
        before.tar_bytes, after.tar_bytes
    );
    docker(&[
        "rmi",
        "-f",
        "kasane-e2e-context-mono-before",
        "kasane-e2e-context-mono-after",
    ]);
}

#[test]
#[ignore = "e2e: needs the Docker engine (scripts/test runs it)"]
fn from_dockerfile_ignore_file_keeps_the_image_on_both_builders() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let blob = |n: usize, seed: u8| patterned(n, 29, seed);
    write(root, "svc-a/src/main.js", b"a\n");
    write(root, "svc-b/index.js", b"b\n");
    write(root, "svc-b/README.md", b"readme\n");
    write(root, "config/app.toml", b"x=1\n");
    write(root, "config/notes.txt", b"n\n");
    write(root, "vendor/big.bin", &blob(300_000, 7));
    write(root, "dist/out.bin", &blob(200_000, 8));
    // Docker 20.10's builders know no `COPY --exclude` (it needs the labs frontend, pulled from
    // the internet), so the unused README is left out by a wildcard instead.
    write(
        root,
        "Dockerfile",
        format!(
            "FROM {BUSYBOX_IMAGE}\nCOPY svc-* /app/svc/\nCOPY svc-b/*.js /app/b/\nCOPY config/*.toml /app/config/\n"
        )
        .as_bytes(),
    );
    let df = kasane_dockerfile::parse(&std::fs::read_to_string(root.join("Dockerfile")).unwrap())
        .unwrap();
    let sources = kasane_context::context_sources(&df, &kasane_dockerfile::scope::BuildArgs::new());
    let options = ContextOptions {
        dockerfile: Some(&root.join("Dockerfile")),
        ignore_file: Some(None),
        engine: Engine::Docker20Classic,
        top: 5,
    };
    let (before, current) = analyze_context(root, &options).unwrap();
    let minimal = kasane_context::generate_from_dockerfile(
        root,
        &current,
        &sources,
        Some(b"Dockerfile"),
        None,
    )
    .unwrap();
    assert!(minimal.unsent.is_empty(), "{:?}", minimal.unsent);
    let listing = |tag: &str| {
        docker(&[
            "run",
            "--rm",
            tag,
            "sh",
            "-c",
            "cd /app && find . -type f | sort | xargs md5sum",
        ])
        .stdout
    };
    for buildkit in [true, false] {
        let _ = std::fs::remove_file(root.join(".dockerignore"));
        let tag_before = format!("kasane-e2e-context-fromdf-before-{buildkit}");
        let tag_after = format!("kasane-e2e-context-fromdf-after-{buildkit}");
        let (ok, log_before) = build(root, &tag_before, buildkit, None);
        assert!(ok, "{log_before}");
        std::fs::write(root.join(".dockerignore"), &minimal.text).unwrap();
        let (ok, log_after) = build(root, &tag_after, buildkit, None);
        assert!(ok, "{log_after}");
        assert_eq!(
            String::from_utf8_lossy(&listing(&tag_before)),
            String::from_utf8_lossy(&listing(&tag_after)),
            "the generated ignore file changed the image (buildkit: {buildkit})"
        );
        if !buildkit {
            let (sent_before, sent_after) = (
                sent_context_bytes(&log_before),
                sent_context_bytes(&log_after),
            );
            assert!(
                sent_after < sent_before - 400_000.0,
                "{sent_before} -> {sent_after}"
            );
            assert!(
                (before.tar_bytes as f64 - sent_before).abs() <= sent_before * 0.01 + 2048.0,
                "{} vs {sent_before}",
                before.tar_bytes
            );
        }
        docker(&["rmi", "-f", &tag_before, &tag_after]);
    }
}
