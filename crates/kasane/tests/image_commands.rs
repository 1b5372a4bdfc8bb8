//! CLI snapshots of `kasane analyze` and `kasane layers` (text and JSON) on a small `docker save`
//! archive written here, byte for byte deterministic.

mod common;
use common::run;

fn layer(entries: &[(&str, &[u8], u32)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data, mode) in entries {
        let mut h = tar::Header::new_gnu();
        if name.ends_with('/') {
            h.set_entry_type(tar::EntryType::Directory);
        }
        h.set_size(data.len() as u64);
        h.set_mode(*mode);
        h.set_mtime(1_700_000_000);
        b.append_data(&mut h, name, *data).unwrap();
    }
    b.into_inner().unwrap()
}

fn sha(b: &[u8]) -> String {
    kasane_image::Digest::sha256_of(b).to_string()
}

/// Three layers: a base, an app layer with a large file and a copy, and a cleanup layer that
/// deletes one file, chmods another and edits a config.
fn archive(dir: &std::path::Path) -> String {
    let big = vec![b'a'; 40_000];
    let layers = [
        layer(&[
            ("etc/", b"", 0o755),
            ("etc/app.conf", b"one\n", 0o644),
            ("bin/", b"", 0o755),
            ("bin/sh", &[1; 9000], 0o755),
        ]),
        layer(&[
            ("app/", b"", 0o755),
            ("app/data.bin", &big, 0o644),
            ("app/data-copy.bin", &big, 0o644),
            ("app/tmp.log", &[2; 7000], 0o644),
        ]),
        layer(&[
            ("app/", b"", 0o755),
            ("app/.wh.tmp.log", b"", 0o644),
            ("app/data.bin", &big, 0o600),
            ("etc/", b"", 0o755),
            ("etc/app.conf", b"two!\n", 0o644),
        ]),
    ];
    let history = [
        "/bin/sh -c #(nop) ADD file:base in / ",
        "COPY app /app # buildkit",
        "RUN /bin/sh -c rm /app/tmp.log && chmod 600 /app/data.bin # buildkit",
    ];
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": layers.iter().map(|l| sha(l)).collect::<Vec<_>>()},
        "history": [
            {"created_by": history[0]},
            {"created_by": "/bin/sh -c #(nop)  ENV APP=1", "empty_layer": true},
            {"created_by": history[1]},
            {"created_by": history[2]},
        ],
    }))
    .unwrap();
    let config_name = format!("{}.json", &sha(&config)[7..]);
    let mut files: Vec<(String, Vec<u8>)> = vec![(config_name.clone(), config)];
    let mut names = Vec::new();
    for (i, l) in layers.iter().enumerate() {
        let name = format!("layer{i}/layer.tar");
        files.push((name.clone(), l.clone()));
        names.push(name);
    }
    files.insert(0, ("manifest.json".into(), serde_json::to_vec(&serde_json::json!([{"Config": config_name, "RepoTags": ["demo:1"], "Layers": names}])).unwrap()));
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in &files {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, name, &data[..]).unwrap();
    }
    let path = dir.join("demo.tar");
    std::fs::write(&path, b.into_inner().unwrap()).unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn analyze_text() {
    let dir = tempfile::tempdir().unwrap();
    let path = archive(dir.path());
    let (out, err, code) = run(&["analyze", &path], dir.path());
    assert_eq!((code, err.as_str()), (0, ""));
    insta::assert_snapshot!(out);
}

#[test]
fn analyze_json() {
    let dir = tempfile::tempdir().unwrap();
    let path = archive(dir.path());
    let (out, _, code) = run(
        &[
            "analyze",
            "--json",
            &format!("docker-archive:{path}:demo:1"),
        ],
        dir.path(),
    );
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(v["efficiency"].as_f64().unwrap() > 0.0);
    insta::assert_snapshot!(out);
}

#[test]
fn analyze_ci_fails_with_one_line_per_rule_and_json_in_the_same_run() {
    let dir = tempfile::tempdir().unwrap();
    let path = archive(dir.path());
    // A .dive-ci that comments one rule out: it keeps the lower level (kasane.toml here), it does
    // not silently fall back to dive's default (dive issue #606).
    std::fs::write(
        dir.path().join(".dive-ci"),
        "rules:\n  # lowestEfficiency: 0.95\n  highestWastedBytes: 10kB\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("kasane.toml"),
        "[analyze.ci]\nlowest-efficiency = 0.99\n",
    )
    .unwrap();
    let (out, err, code) = run(&["analyze", "--ci", &path], dir.path());
    assert_eq!(code, 1);
    assert_eq!(err, "");
    insta::assert_snapshot!("analyze_ci_text", out);
    let (json, err, code) = run(&["analyze", "--ci", "--json", &path], dir.path());
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["ci"]["passed"], false);
    insta::assert_snapshot!("analyze_ci_stderr", err);
}

#[test]
fn analyze_ci_passes_with_relaxed_flags() {
    let dir = tempfile::tempdir().unwrap();
    let path = archive(dir.path());
    let (out, _, code) = run(
        &[
            "analyze",
            "--ci",
            "--lowest-efficiency",
            "0.1",
            "--highest-user-wasted-percent",
            "off",
            &path,
        ],
        dir.path(),
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Result: PASS"));
}

#[test]
fn layers_text_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let path = archive(dir.path());
    let (out, _, code) = run(&["layers", &path, "--depth", "1"], dir.path());
    assert_eq!(code, 0);
    insta::assert_snapshot!("layers_text", out);
    let (out, _, code) = run(
        &["layers", &path, "--layer", "1", "--top", "2", "--json"],
        dir.path(),
    );
    assert_eq!(code, 0);
    insta::assert_snapshot!("layers_json", out);
    let (_, err, code) = run(&["layers", &path, "--layer", "7"], dir.path());
    assert_eq!(code, 2);
    assert!(err.contains("the image has 3 layers"), "{err}");
}

#[test]
fn bad_input_exits_2_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("junk.tar"), b"junk").unwrap();
    let (_, err, code) = run(&["analyze", "junk.tar"], dir.path());
    assert_eq!(code, 2);
    insta::assert_snapshot!("bad_input", err);
}
