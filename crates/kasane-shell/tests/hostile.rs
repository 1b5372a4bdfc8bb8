//! The reader never panics and every span it reports lies inside the text, on character
//! boundaries, whatever the input.

use kasane_shell::{ShellText, files, package, parse};
use proptest::prelude::*;

fn check(text: &str) {
    let script = parse(text);
    for c in &script.commands {
        for w in c.assignments.iter().chain(&c.words) {
            assert!(w.span.start <= w.span.end && w.span.end <= text.len());
            assert!(text.is_char_boundary(w.span.start) && text.is_char_boundary(w.span.end));
        }
        let _ = package::invocation(c);
        let _ = files::download(c);
        let _ = files::mode_change(c);
        let _ = files::created_paths(c);
    }
}

proptest! {
    #[test]
    fn arbitrary_text(text in "\\PC{0,200}") {
        check(&text);
    }

    #[test]
    fn shell_like_text(text in "([a-z$'\"`(){}|&;<>\\\\# \n=-]|if |then |fi |case |esac |in |do |done |<<EOF\n|EOF\n){0,60}") {
        check(&text);
    }

    #[test]
    fn joined_spans_map_into_the_raw_text(raw in "([a-z \t#\\\\`]|\r?\n){0,80}", escape in prop::sample::select(vec!['\\', '`'])) {
        let t = ShellText::join_continued(&raw, 0, escape);
        for (i, _) in t.text().char_indices() {
            let off = t.file_offset(i);
            prop_assert!(off < raw.len());
            prop_assert_eq!(t.text()[i..].chars().next(), raw[off..].chars().next());
        }
    }
}
