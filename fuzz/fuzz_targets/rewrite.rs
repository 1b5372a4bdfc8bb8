//! Any Dockerfile text through `merge` and `fix`: never a panic, every result parses, and a
//! second run changes nothing.
#![no_main]

use kasane_rewrite::{FixOptions, MergeOptions, fix, merge};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(df) = kasane_dockerfile::parse(text) else { return };
    for keep_cache_boundaries in [true, false] {
        let options = MergeOptions { keep_cache_boundaries };
        let merged = merge(&df, options).expect("merge of a parsed file");
        let again = kasane_dockerfile::parse(&merged.text).expect("merged text parses");
        let twice = merge(&again, options).expect("second merge");
        assert_eq!(twice.text, merged.text, "merge is not idempotent");
    }
    for allow_unsafe in [false, true] {
        let options = FixOptions { allow_unsafe, ..FixOptions::default() };
        let fixed = fix("Dockerfile", text, &options).expect("fix of a parsed file");
        kasane_dockerfile::parse(&fixed.text).expect("fixed text parses");
        let twice = fix("Dockerfile", &fixed.text, &options).expect("second fix");
        assert_eq!(twice.text, fixed.text, "fix is not idempotent");
    }
    let _ = kasane_rewrite::unified_diff("Dockerfile", text, &text.replace("RUN", "RUN true &&"));
});
