//! The automatic platform ARGs BuildKit defines for `FROM` lines
//! (`BUILDPLATFORM`, `TARGETARCH`, ...).

/// `os/architecture/variant`, as in `linux/arm/v7`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Platform {
    pub(crate) os: String,
    pub(crate) architecture: String,
    pub(crate) variant: String,
}

impl Platform {
    /// The platform this program runs on, named as OCI names it. Builds run
    /// on Linux, so the OS is always `linux`.
    pub(crate) fn host() -> Self {
        let architecture = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "x86" => "386",
            "aarch64" => "arm64",
            "arm" => "arm",
            "powerpc64" if cfg!(target_endian = "little") => "ppc64le",
            "loongarch64" => "loong64",
            other => other,
        };
        let variant = if architecture == "arm" { "v7" } else { "" };
        Platform {
            os: "linux".to_string(),
            architecture: architecture.to_string(),
            variant: variant.to_string(),
        }
    }

    /// Parses `os/arch[/variant]`; for a comma-separated list, the first.
    pub(crate) fn parse(text: &str) -> Option<Self> {
        let first = text.split(',').next()?.trim();
        let mut parts = first.split('/');
        let os = parts.next().filter(|s| !s.is_empty())?;
        let architecture = parts.next().filter(|s| !s.is_empty())?;
        let variant = parts.next().unwrap_or("");
        if parts.next().is_some() {
            return None;
        }
        Some(Platform {
            os: os.to_ascii_lowercase(),
            architecture: architecture.to_ascii_lowercase(),
            variant: variant.to_ascii_lowercase(),
        })
    }

    /// `os/arch` or `os/arch/variant`.
    pub(crate) fn format(&self) -> String {
        if self.variant.is_empty() {
            format!("{}/{}", self.os, self.architecture)
        } else {
            format!("{}/{}/{}", self.os, self.architecture, self.variant)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats() {
        let p = Platform::parse("linux/arm/v7,linux/amd64").unwrap();
        assert_eq!(p.format(), "linux/arm/v7");
        assert_eq!(p.variant, "v7");
        assert_eq!(
            Platform::parse("linux/amd64").unwrap().format(),
            "linux/amd64"
        );
        assert!(Platform::parse("linux").is_none());
        assert!(Platform::parse("a/b/c/d").is_none());
        assert_eq!(Platform::host().os, "linux");
    }
}
