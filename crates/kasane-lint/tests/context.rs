//! Rules that read the build context: .dockerignore (KL119) and the sizes of copied files
//! in size findings.

use std::path::Path;

use kasane_lint::config::Config;
use kasane_lint::{LintOptions, lint_source};

fn lint_in(dir: &Path, src: &str) -> Vec<(String, usize, usize, String)> {
    let config = Config::default();
    let dockerfile = dir.join("Dockerfile");
    std::fs::write(&dockerfile, src).unwrap();
    let options = LintOptions {
        config: &config,
        context: Some(dir),
        dockerfile: Some(&dockerfile),
    };
    lint_source("Dockerfile", src, &options)
        .findings
        .into_iter()
        .map(|f| {
            (
                f.code.to_owned(),
                f.location.start.line,
                f.location.start.column,
                f.message,
            )
        })
        .collect()
}

#[test]
fn copy_of_an_ignored_file_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".dockerignore"),
        "*.md\n!KEEP.md\nsecrets/\n",
    )
    .unwrap();
    let found = lint_in(
        dir.path(),
        "FROM alpine:3\nCOPY README.md /doc/\nCOPY KEEP.md secrets/key /doc/\nCOPY app.conf /etc/\n",
    );
    let kl119: Vec<_> = found
        .iter()
        .filter(|f| f.0 == "KL119")
        .map(|f| (f.1, f.2))
        .collect();
    assert_eq!(kl119, [(2, 6), (3, 14)]);
}

#[test]
fn dockerfile_specific_ignore_file_wins() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(".dockerignore"), "app.conf\n").unwrap();
    std::fs::write(dir.path().join("Dockerfile.dockerignore"), "other\n").unwrap();
    let found = lint_in(dir.path(), "FROM alpine:3\nCOPY app.conf /etc/\n");
    assert!(found.iter().all(|f| f.0 != "KL119"), "{found:?}");
}

#[test]
fn no_dockerignore_no_finding() {
    let dir = tempfile::tempdir().unwrap();
    let found = lint_in(dir.path(), "FROM alpine:3\nCOPY README.md /doc/\n");
    assert!(found.iter().all(|f| f.0 != "KL119"), "{found:?}");
}

#[test]
fn size_findings_state_the_bytes_from_the_context() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("big.bin"), vec![7u8; 2_500_000]).unwrap();
    let found = lint_in(
        dir.path(),
        "FROM alpine:3\nCOPY big.bin /tmp/\nRUN chmod 600 /tmp/big.bin\nRUN rm /tmp/big.bin\n",
    );
    let chmod = found.iter().find(|f| f.0 == "KL305").expect("KL305");
    assert!(chmod.3.contains("2.5 MB"), "{}", chmod.3);
    let rm = found.iter().find(|f| f.0 == "KL304").expect("KL304");
    assert!(rm.3.contains("2.5 MB"), "{}", rm.3);
}
