//! The resume state file beside a partial download may be truncated or edited: parsing it
//! never panics, and an accepted state round-trips through its text form.
#![no_main]

use kasane_fetch::ResumeState;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(state) = ResumeState::parse(text) else {
        return;
    };
    assert!(state.done_bytes() <= state.size);
    assert_eq!(ResumeState::parse(&state.to_text()), Ok(state));
});
