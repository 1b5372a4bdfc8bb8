//! The `--image` repository and the tags a plan derives from it.

/// A repository (`registry:5000/team/app`) and an optional tag that prefixes
/// the stage tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRepo {
    /// The repository, with its registry host if any.
    pub repository: String,
    /// The tag given with it, if any.
    pub tag: Option<String>,
}

/// Why `--image` was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ImageError {
    /// Not a repository name.
    #[error(
        "--image {0:?} is not an image repository (expected e.g. `registry:5000/team/app`, \
         lower-case, no spaces)"
    )]
    Invalid(String),
    /// A digest pins one image; stages need tags.
    #[error("--image {0:?} has a digest; give a repository (optionally with a tag prefix)")]
    Digest(String),
    /// A stage tag over Docker's 128-character limit.
    #[error("the tag {0:?} is longer than 128 characters; use a shorter --image tag or stage name")]
    TagTooLong(String),
}

impl ImageRepo {
    /// Reads `repo` or `repo:tag`.
    pub fn parse(text: &str) -> Result<Self, ImageError> {
        if text.contains('@') {
            return Err(ImageError::Digest(text.to_string()));
        }
        let last_slash = text.rfind('/').map_or(0, |i| i + 1);
        let (repository, tag) = match text[last_slash..].rfind(':') {
            Some(colon) => {
                let at = last_slash + colon;
                (&text[..at], Some(&text[at + 1..]))
            }
            None => (text, None),
        };
        let path_ok = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-/".contains(c);
        // The first component may be a registry host with a port and capitals.
        let (host, path) = match repository.split_once('/') {
            Some((h, p)) if h.contains(['.', ':']) || h == "localhost" => (Some(h), p),
            _ => (None, repository),
        };
        let valid = !path.is_empty()
            && path.chars().all(path_ok)
            && !path.starts_with(['/', '.', '-', '_'])
            && !path.ends_with(['/', '.', '-', '_'])
            && !path.contains("//")
            && host.is_none_or(|h| {
                !h.is_empty()
                    && h.chars()
                        .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
            })
            && tag.is_none_or(valid_tag);
        if !valid {
            return Err(ImageError::Invalid(text.to_string()));
        }
        Ok(ImageRepo {
            repository: repository.to_string(),
            tag: tag.map(str::to_string),
        })
    }

    /// The image for `suffix` (a stage name or `cache-x`): `repo:suffix`, or
    /// `repo:tag-suffix` when a tag was given.
    pub fn tag_for(&self, suffix: &str) -> Result<String, ImageError> {
        let tag = match &self.tag {
            Some(t) => format!("{t}-{suffix}"),
            None => suffix.to_string(),
        };
        if tag.len() > 128 {
            return Err(ImageError::TagTooLong(tag));
        }
        Ok(format!("{}:{tag}", self.repository))
    }
}

/// Docker's tag grammar: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
fn valid_tag(tag: &str) -> bool {
    let mut chars = tag.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
        && tag.len() <= 128
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repositories_with_hosts_ports_and_tags() {
        let r = ImageRepo::parse("127.0.0.1:5000/team/app").unwrap();
        assert_eq!(r.repository, "127.0.0.1:5000/team/app");
        assert_eq!(r.tag, None);
        assert_eq!(
            r.tag_for("builder").unwrap(),
            "127.0.0.1:5000/team/app:builder"
        );
        let r = ImageRepo::parse("ghcr.io/org/app:v1.2").unwrap();
        assert_eq!(
            r.tag_for("stage-0").unwrap(),
            "ghcr.io/org/app:v1.2-stage-0"
        );
        assert_eq!(
            ImageRepo::parse("app").unwrap().tag_for("x").unwrap(),
            "app:x"
        );
        assert_eq!(
            ImageRepo::parse("localhost/app:dev")
                .unwrap()
                .tag
                .as_deref(),
            Some("dev")
        );
    }

    #[test]
    fn refuses_what_is_no_repository() {
        for bad in [
            "", "App", "a b", "app:", "app:-x", "/app", "app/", "a//b", "$(x)", "app:t;rm",
        ] {
            assert!(
                matches!(ImageRepo::parse(bad), Err(ImageError::Invalid(_))),
                "{bad:?}"
            );
        }
        assert!(matches!(
            ImageRepo::parse("app@sha256:abcd"),
            Err(ImageError::Digest(_))
        ));
        let long = ImageRepo::parse(&format!("app:{}", "t".repeat(125))).unwrap();
        assert!(matches!(
            long.tag_for("builder"),
            Err(ImageError::TagTooLong(_))
        ));
    }
}
