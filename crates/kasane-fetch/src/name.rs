//! Choosing the output path when the user names none (or names a directory).

use std::path::{Path, PathBuf};

use crate::error::FetchError;

/// The last segment of the URL's path, percent-decoded, when it is a usable file name (not
/// empty, not `.`/`..`, no `/`, no control characters).
pub fn file_name_from_url(url: &str) -> Option<String> {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let before_query = after_scheme
        .split(['?', '#'])
        .next()
        .unwrap_or(after_scheme);
    let (_, path) = before_query.split_once('/')?;
    let segment = path.rsplit('/').next()?;
    let name = percent_decode(segment)?;
    let usable = !name.is_empty()
        && name != "."
        && name != ".."
        && !name.contains('/')
        && !name.chars().any(char::is_control);
    usable.then_some(name)
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The file to write: `output` itself, or the URL's file name inside `output` when it is a
/// directory, or in the current directory when no output is given.
pub fn resolve_output(url: &str, output: Option<&Path>) -> Result<PathBuf, FetchError> {
    let from_url = || {
        file_name_from_url(url).ok_or_else(|| FetchError::InvalidUrl {
            url: url.to_owned(),
            reason: "its path does not end in a file name; name the output with -o".to_owned(),
        })
    };
    match output {
        Some(dir) if dir.is_dir() => Ok(dir.join(from_url()?)),
        Some(dir) if dir.as_os_str().to_string_lossy().ends_with('/') => Err(FetchError::Io {
            path: dir.to_owned(),
            error: std::io::Error::new(std::io::ErrorKind::NotFound, "no such directory"),
        }),
        Some(file) => Ok(file.to_owned()),
        None => Ok(PathBuf::from(from_url()?)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_the_last_path_segment() {
        let name = |u| file_name_from_url(u);
        assert_eq!(
            name("https://h/a/b/tool-1.2.tar.gz").as_deref(),
            Some("tool-1.2.tar.gz")
        );
        assert_eq!(
            name("https://h/a/b.zip?sig=x/y#z").as_deref(),
            Some("b.zip")
        );
        assert_eq!(name("http://h:8080/my%20file").as_deref(), Some("my file"));
        for none in [
            "https://h",
            "https://h/",
            "https://h/a/",
            "https://h/..",
            "https://h/%2e%2e",
            "https://h/a%2Fb",
            "https://h/%0a",
            "https://h/%zz",
            "https://h/%ff",
        ] {
            assert_eq!(name(none), None, "{none}");
        }
    }

    #[test]
    fn a_directory_output_gets_the_url_name() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            resolve_output("http://h/x.bin", Some(dir.path())).unwrap(),
            dir.path().join("x.bin")
        );
        assert_eq!(
            resolve_output("http://h/", Some(&dir.path().join("y"))).unwrap(),
            dir.path().join("y")
        );
        assert_eq!(
            resolve_output("http://h/x.bin", None).unwrap(),
            PathBuf::from("x.bin")
        );
        assert!(resolve_output("http://h/", None).is_err());
    }
}
