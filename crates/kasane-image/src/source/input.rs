//! Image references on the command line: skopeo-style transports or a bare path.

use std::path::{Path, PathBuf};

use super::Source;
use super::files::{ArchiveSource, LayoutSource};
use crate::error::Error;

/// How an input names its image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// A bare path: a directory is an OCI layout, a file an archive of any kind.
    Detect,
    /// `docker-archive:PATH[:NAME]`.
    DockerArchive,
    /// `oci-archive:PATH[:TAG]`.
    OciArchive,
    /// `oci:DIR[:TAG]`.
    OciLayout,
}

/// Splits an input into its kind, path and optional tag. A `:TAG` suffix is split off only when
/// the whole string is not itself an existing path (paths may contain colons).
pub fn parse_input(input: &str) -> (InputKind, PathBuf, Option<String>) {
    let (kind, rest) = [
        ("docker-archive:", InputKind::DockerArchive),
        ("oci-archive:", InputKind::OciArchive),
        ("oci:", InputKind::OciLayout),
    ]
    .iter()
    .find_map(|(prefix, kind)| input.strip_prefix(prefix).map(|r| (*kind, r)))
    .unwrap_or((InputKind::Detect, input));
    // dive writes `docker-archive://PATH`.
    let rest = if kind == InputKind::Detect {
        rest
    } else {
        rest.strip_prefix("//").unwrap_or(rest)
    };
    if Path::new(rest).exists() {
        return (kind, PathBuf::from(rest), None);
    }
    // Split at the first colon after the last slash whose prefix exists, so that names like
    // `localhost:5000/app:1` survive as tags.
    let after_slash = rest.rfind('/').map_or(0, |i| i + 1);
    for (i, _) in rest.match_indices(':') {
        if i < after_slash && !Path::new(&rest[..i]).exists() {
            continue;
        }
        if Path::new(&rest[..i]).exists() {
            let tag = &rest[i + 1..];
            return (
                kind,
                PathBuf::from(&rest[..i]),
                (!tag.is_empty()).then(|| tag.to_owned()),
            );
        }
    }
    (kind, PathBuf::from(rest), None)
}

/// Opens the source an input names, returning it with the tag the input carries.
pub fn open(input: &str) -> Result<(Box<dyn Source>, Option<String>), Error> {
    let (kind, path, tag) = parse_input(input);
    if !path.exists() {
        return Err(Error::Io {
            path: path.display().to_string(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file or directory"),
        });
    }
    let source: Box<dyn Source> = match kind {
        InputKind::OciLayout => Box::new(LayoutSource::open(&path)?),
        InputKind::Detect if path.is_dir() => Box::new(LayoutSource::open(&path)?),
        InputKind::Detect => Box::new(ArchiveSource::open(&path)?),
        InputKind::DockerArchive => Box::new(ArchiveSource::open_docker(&path)?),
        InputKind::OciArchive => Box::new(ArchiveSource::open_oci(&path)?),
    };
    Ok((source, tag))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_prefixes_and_tags() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("img.tar");
        std::fs::write(&file, b"").unwrap();
        let f = file.to_str().unwrap();
        assert_eq!(parse_input(f), (InputKind::Detect, file.clone(), None));
        assert_eq!(
            parse_input(&format!("oci-archive:{f}:v1")),
            (InputKind::OciArchive, file.clone(), Some("v1".into()))
        );
        assert_eq!(
            parse_input(&format!("docker-archive:{f}:localhost:5000/app:1")),
            (
                InputKind::DockerArchive,
                file.clone(),
                Some("localhost:5000/app:1".into())
            )
        );
        assert_eq!(
            parse_input(&format!("docker-archive://{f}")),
            (InputKind::DockerArchive, file.clone(), None)
        );
        let d = dir.path().to_str().unwrap();
        assert_eq!(
            parse_input(&format!("oci:{d}:latest")),
            (
                InputKind::OciLayout,
                dir.path().to_owned(),
                Some("latest".into())
            )
        );
    }
}
