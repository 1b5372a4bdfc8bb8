//! Any bytes as an ignore file, then matched against paths cut from the same bytes: reading,
//! compiling (both dialects) and every matching mode must return a result, never panic.
#![no_main]

use kasane_context::{Dialect, MatchInfo, PatternMatcher, read_all};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (file, paths) = data.split_at(data.len() / 2);
    let Ok(lines) = read_all(file) else { return };
    let patterns: Vec<Vec<u8>> = lines.into_iter().map(|l| l.pattern).collect();
    for dialect in [Dialect::Moby, Dialect::Docker20] {
        let Ok(pm) = PatternMatcher::new(&patterns, dialect) else { continue };
        for path in paths.split(|&b| b == 0).take(8) {
            let _ = pm.matches_or_parent_matches(path);
            let _ = pm.matches_legacy(path);
            let _ = pm.matches_cleaned(path);
            let _ = pm.matches_using_parent_results(path, &MatchInfo::default());
        }
    }
});
