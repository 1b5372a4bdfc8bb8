//! Inputs the `rewrite` fuzz target found: merge and fix must give files that parse and that a
//! second run leaves alone.

use kasane_rewrite::{FixOptions, MergeOptions, fix, merge};

fn check(name: &str) {
    let path = kasane_testenv::package_dir().join("tests/data").join(name);
    let text = std::fs::read_to_string(path).unwrap();
    let df = kasane_dockerfile::parse(&text).unwrap();
    let merged = merge(&df, MergeOptions::default()).unwrap();
    let again = merge(
        &kasane_dockerfile::parse(&merged.text).unwrap(),
        MergeOptions::default(),
    )
    .unwrap();
    assert_eq!(again.text, merged.text, "{name}: merge twice");
    for allow_unsafe in [false, true] {
        let options = FixOptions {
            allow_unsafe,
            ..FixOptions::default()
        };
        let once = fix("Dockerfile", &text, &options).unwrap();
        kasane_dockerfile::parse(&once.text).unwrap();
        let twice = fix("Dockerfile", &once.text, &options).unwrap();
        assert_eq!(twice.text, once.text, "{name}: fix twice");
    }
}

#[test]
fn an_open_double_quote_in_a_run() {
    check("fuzz-open-quote.Dockerfile");
}

#[test]
fn an_open_backquote_in_a_run() {
    check("fuzz-open-backquote.Dockerfile");
}

/// From the corpus: one RUN with two `apt-get update`s (two findings with the same fix) and a
/// lone update that moves into the next RUN, whose own finding looked like one of them.
#[test]
fn two_findings_with_one_fix_and_a_moved_update() {
    check("corpus-two-updates.Dockerfile");
    let path = kasane_testenv::package_dir().join("tests/data/corpus-two-updates.Dockerfile");
    let text = std::fs::read_to_string(path).unwrap();
    let fixed = fix("Dockerfile", &text, &FixOptions::default()).unwrap();
    assert_eq!(
        fixed.text.matches("rm -rf /var/lib/apt/lists/*").count(),
        2,
        "{}",
        fixed.text
    );
}

#[test]
fn a_label_with_an_open_quote() {
    check("fuzz-label-open-quote.Dockerfile");
}

#[test]
fn sudo_apt_and_a_later_cleanup() {
    check("fuzz-sudo-apt.Dockerfile");
}
