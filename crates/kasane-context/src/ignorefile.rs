//! Reading ignore files (`ignorefile.ReadAll`) and choosing which one a build uses.

use std::path::{Path, PathBuf};

use crate::gopath;
use crate::pattern::go_trim_space;

/// Longest line Go's `bufio.Scanner` accepts by default; a longer line fails the whole read.
const MAX_LINE: usize = 64 * 1024;

/// Why an ignore file cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum IgnoreFileError {
    /// The file exists but could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The ignore file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A line of 64 KiB or more, which Docker's reader rejects ("token too long").
    #[error("line {line} is {len} bytes long; Docker rejects lines of 64 KiB or more")]
    LineTooLong {
        /// 1-based line number.
        line: usize,
        /// Its length in bytes.
        len: usize,
    },
}

/// One pattern line as Docker keeps it, with where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoreLine {
    /// 1-based line number in the file.
    pub line: usize,
    /// The normalised pattern, `!` included for exceptions (what `ReadAll` returns).
    pub pattern: Vec<u8>,
}

/// `ignorefile.ReadAll`: splits `content` into lines (`\n`, an optional `\r` before it), drops
/// a UTF-8 byte-order mark at the start, skips lines whose first byte is `#`, trims
/// whitespace, skips empty lines, then normalises each pattern: a leading `!` (with the
/// space after it) marks an exception, the rest is cleaned like a path and loses one
/// leading `/`.
pub fn read_all(content: &[u8]) -> Result<Vec<IgnoreLine>, IgnoreFileError> {
    let mut out = Vec::new();
    let mut rest = content;
    let mut number = 0;
    while !rest.is_empty() {
        let (raw, next) = match rest.iter().position(|&b| b == b'\n') {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, &rest[rest.len()..]),
        };
        if raw.len() >= MAX_LINE {
            return Err(IgnoreFileError::LineTooLong {
                line: number + 1,
                len: raw.len(),
            });
        }
        rest = next;
        let mut line = raw.strip_suffix(b"\r").unwrap_or(raw);
        if number == 0 {
            line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
        }
        number += 1;
        if line.first() == Some(&b'#') {
            continue;
        }
        let trimmed = go_trim_space(line);
        if trimmed.is_empty() {
            continue;
        }
        let (invert, body) = match trimmed.strip_prefix(b"!") {
            Some(body) => (true, go_trim_space(body)),
            None => (false, trimmed),
        };
        let mut pattern = Vec::with_capacity(body.len() + 1);
        if invert {
            pattern.push(b'!');
        }
        if !body.is_empty() {
            let cleaned = gopath::clean(body);
            let cleaned = match cleaned.strip_prefix(b"/") {
                Some(rest) if cleaned.len() > 1 => rest,
                _ => &cleaned[..],
            };
            pattern.extend_from_slice(cleaned);
        }
        out.push(IgnoreLine {
            line: number,
            pattern,
        });
    }
    Ok(out)
}

/// Which builder reads the ignore file: they look in different places.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Builder {
    /// BuildKit: `<Dockerfile>.dockerignore` beside the Dockerfile wins over
    /// `<context>/.dockerignore`.
    BuildKit,
    /// The classic builder: only `<context>/.dockerignore`.
    Classic,
}

/// The ignore file a build of `context` with `dockerfile` uses, if any exists.
pub fn locate_ignore_file(
    context: &Path,
    dockerfile: Option<&Path>,
    builder: Builder,
) -> Option<PathBuf> {
    if let (Builder::BuildKit, Some(dockerfile)) = (builder, dockerfile)
        && let Some(name) = dockerfile.file_name()
    {
        let mut beside = name.to_os_string();
        beside.push(".dockerignore");
        let candidate = dockerfile.with_file_name(beside);
        if candidate.is_file() {
            return Some(candidate);
        }
    }
    let root = context.join(".dockerignore");
    root.is_file().then_some(root)
}

/// Reads and parses the ignore file at `path`.
pub fn read_ignore_file(path: &Path) -> Result<Vec<IgnoreLine>, IgnoreFileError> {
    let content = std::fs::read(path).map_err(|source| IgnoreFileError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    read_all(&content)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patterns(text: &[u8]) -> Vec<String> {
        read_all(text)
            .unwrap()
            .into_iter()
            .map(|l| String::from_utf8(l.pattern).unwrap())
            .collect()
    }

    #[test]
    fn reads_like_docker() {
        let text = b"\xEF\xBB\xBF# comment\n  # not a comment\n/abs\r\n! spaced\n\n./x/../y/\n\t*.md  \n!\n/\n";
        assert_eq!(
            patterns(text),
            ["# not a comment", "abs", "!spaced", "y", "*.md", "!", "/"]
        );
    }

    #[test]
    fn bom_only_on_first_line() {
        assert_eq!(patterns(b"a\n\xEF\xBB\xBFb"), ["a", "\u{FEFF}b"]);
    }

    #[test]
    fn long_lines_fail() {
        let mut text = vec![b'a'; MAX_LINE - 1];
        assert!(read_all(&text).is_ok());
        text.push(b'a');
        assert!(matches!(
            read_all(&text),
            Err(IgnoreFileError::LineTooLong { line: 1, .. })
        ));
    }

    #[test]
    fn dockerfile_specific_file_wins_for_buildkit() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join(".dockerignore"), "a").unwrap();
        let dockerfile = dir.path().join("sub/app.Dockerfile");
        std::fs::write(&dockerfile, "FROM x").unwrap();
        std::fs::write(dir.path().join("sub/app.Dockerfile.dockerignore"), "b").unwrap();
        let bk = locate_ignore_file(dir.path(), Some(&dockerfile), Builder::BuildKit).unwrap();
        assert!(bk.ends_with("sub/app.Dockerfile.dockerignore"));
        let classic = locate_ignore_file(dir.path(), Some(&dockerfile), Builder::Classic).unwrap();
        assert!(
            classic.ends_with(".dockerignore") && !classic.ends_with("Dockerfile.dockerignore")
        );
    }
}
