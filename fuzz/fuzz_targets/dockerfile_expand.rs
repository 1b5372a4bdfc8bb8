//! Any word through the BuildKit shell lexer, in every mode: a value or an error, never a panic.
#![no_main]

use kasane_dockerfile::expand::Lexer;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let word = String::from_utf8_lossy(rest);
    let lexer = Lexer::new(if mode & 1 == 0 { '\\' } else { '`' })
        .raw_quotes(mode & 2 != 0)
        .raw_escapes(mode & 4 != 0)
        .skip_unset(mode & 8 != 0)
        .skip_process_quotes(mode & 16 != 0);
    let env: &[(&str, &str)] = &[("A", "a*b c"), ("E", ""), ("N", "x\ny"), ("D", "$0/$$")];
    if mode & 32 == 0 {
        let _ = lexer.process_word(&word, env);
    } else {
        let _ = lexer.process_words(&word, env);
    }
});
