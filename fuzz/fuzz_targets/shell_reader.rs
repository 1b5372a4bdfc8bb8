//! The RUN reader on arbitrary text: never panics, spans stay inside the text.
#![no_main]

use kasane_shell::{ShellText, files, package, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let joined = ShellText::join_continued(text, 0, '\\');
    for t in [text, joined.text()] {
        let script = parse(t);
        for c in &script.commands {
            for w in &c.words {
                assert!(w.span.end <= t.len());
            }
            let _ = package::invocation(c);
            let _ = files::download(c);
            let _ = files::mode_change(c);
            let _ = files::created_paths(c);
        }
    }
});
