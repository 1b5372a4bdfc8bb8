//! `Content-Range` values from hostile servers: never a panic, and whatever is accepted is
//! consistent and prints back to a value that parses to the same thing.
#![no_main]

use kasane_fetch::ContentRange;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(parsed) = ContentRange::parse(data) else {
        return;
    };
    let printed = match parsed {
        ContentRange::Satisfied { range, complete } => {
            assert!(range.first <= range.last);
            assert!(range.len() >= 1);
            if let Some(complete) = complete {
                assert!(range.last < complete);
            }
            let complete = complete.map_or("*".to_owned(), |c| c.to_string());
            format!("bytes {}-{}/{complete}", range.first, range.last)
        }
        ContentRange::Unsatisfied { complete } => format!("bytes */{complete}"),
    };
    assert_eq!(ContentRange::parse(printed.as_bytes()), Ok(parsed));
});
