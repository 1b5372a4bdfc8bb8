//! Quoting words for POSIX shells.

/// `word` as one shell word: unchanged when it only has characters no shell
/// treats specially, otherwise in single quotes (a `'` becomes `'\''`).
pub fn quote(word: &str) -> String {
    let safe = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-./:=@%+,".contains(&b));
    if safe {
        return word.to_string();
    }
    let mut out = String::with_capacity(word.len() + 2);
    out.push('\'');
    for c in word.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_when_needed() {
        assert_eq!(quote("registry:5000/app:base"), "registry:5000/app:base");
        assert_eq!(quote("A=b,c"), "A=b,c");
        assert_eq!(quote(""), "''");
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("$HOME"), "'$HOME'");
        assert_eq!(quote("it's"), "'it'\\''s'");
        assert_eq!(quote("~x"), "'~x'");
        assert_eq!(quote("a\nb"), "'a\nb'");
    }

    #[test]
    fn the_shell_reads_back_what_was_quoted() {
        let words = [
            "plain",
            "with space",
            "it's",
            "$(rm -rf /)",
            "`x`",
            "a\\b",
            "\"q\"",
            "*",
            "",
        ];
        let script: String = words
            .iter()
            .map(|w| format!("printf '%s\\0' {}\n", quote(w)))
            .collect();
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(&script)
            .output()
            .unwrap();
        let got: Vec<&str> = std::str::from_utf8(&out.stdout)
            .unwrap()
            .split_terminator('\0')
            .collect();
        assert_eq!(got, words);
    }
}
