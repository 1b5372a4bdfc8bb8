//! Every rule on arbitrary bytes: never panics, every finding's span lies in the text, and
//! every fix applies to it.
#![no_main]

use kasane_lint::config::Config;
use kasane_lint::{LintOptions, lint_bytes};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let config = Config {
        select: Some(vec!["all".into()]),
        ..Config::default()
    };
    let report = lint_bytes("Dockerfile", data, &LintOptions { config: &config, context: None, dockerfile: None });
    for f in &report.findings {
        assert!(f.location.span.start <= f.location.span.end);
        assert!(f.location.span.end <= report.source.len());
        if let Some(fix) = &f.fix {
            let _ = fix.apply(&report.source);
        }
    }
});
