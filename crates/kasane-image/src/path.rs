//! Paths inside an image: normalised, relative to the image root, kept as bytes (tar names need
//! not be UTF-8).

use std::fmt;

/// A normalised path inside an image's filesystem: no leading `/`, no `.` or `..` components,
/// no empty components; the empty path is the root. Displayed with a leading `/`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ImagePath(Box<[u8]>);

/// What normalising a raw tar name found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathIssue {
    /// The name was absolute (`/etc/x`); it was read relative to the root.
    Absolute,
    /// `..` components climbed above the root: the entry cannot be placed in the image.
    EscapesRoot,
}

impl ImagePath {
    /// The root directory.
    pub fn root() -> ImagePath {
        ImagePath(Box::default())
    }

    /// Normalises a raw tar name like Go's `path.Clean` does, reporting absolute names and
    /// names whose `..` climbs above the root (those return `Err`).
    pub fn normalize(raw: &[u8]) -> Result<(ImagePath, Option<PathIssue>), PathIssue> {
        let issue = raw
            .first()
            .filter(|&&b| b == b'/')
            .map(|_| PathIssue::Absolute);
        let mut parts: Vec<&[u8]> = Vec::new();
        for comp in raw.split(|&b| b == b'/') {
            match comp {
                b"" | b"." => {}
                b".." => {
                    if parts.pop().is_none() {
                        if issue == Some(PathIssue::Absolute) {
                            // `/..` is `/` (as in path.Clean): nothing escapes an absolute root.
                            continue;
                        }
                        return Err(PathIssue::EscapesRoot);
                    }
                }
                other => parts.push(other),
            }
        }
        Ok((ImagePath(parts.join(&b'/').into_boxed_slice()), issue))
    }

    /// Builds a path from already-clean bytes (used by the tree to rebuild paths).
    pub(crate) fn from_clean(bytes: Vec<u8>) -> ImagePath {
        ImagePath(bytes.into_boxed_slice())
    }

    /// The path's bytes without the leading `/`.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Whether this is the root.
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// The components, root first.
    pub fn components(&self) -> impl Iterator<Item = &[u8]> {
        self.0.split(|&b| b == b'/').filter(|c| !c.is_empty())
    }

    /// The number of components (0 for the root).
    pub fn depth(&self) -> usize {
        self.components().count()
    }

    /// The last component (empty for the root).
    pub fn file_name(&self) -> &[u8] {
        match self.0.iter().rposition(|&b| b == b'/') {
            Some(i) => &self.0[i + 1..],
            None => &self.0,
        }
    }

    /// The parent directory (`None` for the root).
    pub fn parent(&self) -> Option<ImagePath> {
        if self.is_root() {
            return None;
        }
        Some(match self.0.iter().rposition(|&b| b == b'/') {
            Some(i) => ImagePath(self.0[..i].into()),
            None => ImagePath::root(),
        })
    }

    /// `self/name` (name must be a single clean component).
    pub fn join(&self, name: &[u8]) -> ImagePath {
        if self.is_root() {
            return ImagePath(name.into());
        }
        let mut v = Vec::with_capacity(self.0.len() + 1 + name.len());
        v.extend_from_slice(&self.0);
        v.push(b'/');
        v.extend_from_slice(name);
        ImagePath(v.into_boxed_slice())
    }

    /// The first `depth` components (the whole path when it is shorter).
    pub fn truncated(&self, depth: usize) -> ImagePath {
        let mut end = 0;
        for (seen, (i, _)) in self
            .0
            .iter()
            .enumerate()
            .filter(|(_, b)| **b == b'/')
            .enumerate()
        {
            if seen + 1 == depth {
                end = i;
                break;
            }
        }
        if depth == 0 {
            return ImagePath::root();
        }
        if end == 0 {
            return self.clone();
        }
        ImagePath(self.0[..end].into())
    }

    /// Whether `self` is `other` or lies below it.
    pub fn starts_with(&self, other: &ImagePath) -> bool {
        other.is_root()
            || (self.0.starts_with(&other.0)
                && (self.0.len() == other.0.len() || self.0[other.0.len()] == b'/'))
    }

    /// The path as text with a leading `/` (non-UTF-8 bytes replaced).
    pub fn display(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for ImagePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "/{}", String::from_utf8_lossy(&self.0))
    }
}

impl fmt::Debug for ImagePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl serde::Serialize for ImagePath {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> Result<(String, Option<PathIssue>), PathIssue> {
        ImagePath::normalize(s.as_bytes()).map(|(p, i)| (p.to_string(), i))
    }

    #[test]
    fn normalizes_like_path_clean() {
        assert_eq!(norm("./a/b/").unwrap(), ("/a/b".into(), None));
        assert_eq!(norm("a//b/./c").unwrap(), ("/a/b/c".into(), None));
        assert_eq!(norm("a/b/../c").unwrap(), ("/a/c".into(), None));
        assert_eq!(
            norm("/etc/x").unwrap(),
            ("/etc/x".into(), Some(PathIssue::Absolute))
        );
        assert_eq!(
            norm("/../etc").unwrap(),
            ("/etc".into(), Some(PathIssue::Absolute))
        );
        assert_eq!(norm(".").unwrap(), ("/".into(), None));
        assert_eq!(norm("../etc/passwd"), Err(PathIssue::EscapesRoot));
        assert_eq!(norm("a/../../b"), Err(PathIssue::EscapesRoot));
    }

    #[test]
    fn parent_join_truncate() {
        let (p, _) = ImagePath::normalize(b"usr/lib/python3/x.py").unwrap();
        assert_eq!(p.parent().unwrap().to_string(), "/usr/lib/python3");
        assert_eq!(p.file_name(), b"x.py");
        assert_eq!(p.truncated(2).to_string(), "/usr/lib");
        assert_eq!(p.truncated(9).to_string(), "/usr/lib/python3/x.py");
        assert_eq!(p.truncated(0).to_string(), "/");
        assert_eq!(ImagePath::root().join(b"a").join(b"b").to_string(), "/a/b");
        let (usr, _) = ImagePath::normalize(b"usr").unwrap();
        assert!(p.starts_with(&usr));
        let (us, _) = ImagePath::normalize(b"us").unwrap();
        assert!(!p.starts_with(&us));
        assert_eq!(p.depth(), 4);
    }
}
