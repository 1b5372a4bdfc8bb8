//! Fixes applied through the lint rules, with their traps.

use super::*;

fn fixed(src: &str) -> FixReport {
    let report = fix("Dockerfile", src, &FixOptions::default()).unwrap();
    let again = fix("Dockerfile", &report.text, &FixOptions::default()).unwrap();
    assert_eq!(again.text, report.text, "not idempotent for {src:?}");
    assert!(again.changes.is_empty(), "{:?}", again.changes);
    report
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
        fix("D", "FROM a\nRUN [\"x\"\n COPY\n", &FixOptions::default()).map(|_| ()),
        Ok(()) | Err(RewriteError::Parse(_))
    ));
}

#[test]
fn apt_lists_are_removed_in_the_same_run() {
    let r = fixed("FROM debian\nRUN apt-get update && apt-get install -y curl\n");
    assert_eq!(
        r.text,
        "FROM debian\nRUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n"
    );
    assert_eq!(r.changes[0].code, "KL301");
}
