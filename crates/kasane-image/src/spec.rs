//! The JSON documents of image formats, as far as kasane reads them: OCI index, manifest and
//! descriptors (and their Docker schema 2 twins), the image config, and `docker save`'s
//! `manifest.json`. Unknown fields are ignored; missing optional fields default.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::digest::Digest;

/// Media types kasane recognises.
pub mod media {
    /// OCI image index.
    pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
    /// Docker manifest list.
    pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
    /// OCI image manifest.
    pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
    /// Docker schema 2 manifest.
    pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
    /// OCI image config.
    pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
    /// Docker image config.
    pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";

    /// Whether `t` is an index or manifest list.
    pub fn is_index(t: &str) -> bool {
        t == OCI_INDEX || t == DOCKER_LIST
    }

    /// Whether `t` is an image manifest.
    pub fn is_manifest(t: &str) -> bool {
        t == OCI_MANIFEST || t == DOCKER_MANIFEST
    }
}

/// Annotation holding a tag on `index.json` descriptors.
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";
/// Annotation with the full image name written by containerd and Docker 25+.
pub const CONTAINERD_NAME: &str = "io.containerd.image.name";

/// A content descriptor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// What the blob is.
    #[serde(default)]
    pub media_type: String,
    /// Its digest.
    pub digest: Digest,
    /// Its size in bytes.
    #[serde(default)]
    pub size: i64,
    /// The platform (index entries).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    /// Artifact type of the referenced manifest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// Foreign URLs (non-distributable layers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urls: Option<Vec<String>>,
}

impl Descriptor {
    /// An annotation's value.
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations.as_ref()?.get(key).map(String::as_str)
    }
}

/// An OS and CPU architecture.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Platform {
    /// CPU architecture, Go's names (`amd64`, `arm64`, `arm`, `386`, ...).
    #[serde(default)]
    pub architecture: String,
    /// Operating system (`linux`, `windows`).
    #[serde(default)]
    pub os: String,
    /// CPU variant (`v7`, `v8`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

impl Platform {
    /// The platform this program runs on, in Go's names.
    pub fn host() -> Platform {
        let architecture = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            "x86" => "386",
            "powerpc64" => "ppc64le",
            other => other,
        };
        Platform {
            architecture: architecture.to_owned(),
            os: std::env::consts::OS.to_owned(),
            variant: None,
        }
    }

    /// Parses `os/arch[/variant]`.
    pub fn parse(s: &str) -> Option<Platform> {
        let mut parts = s.split('/');
        let os = parts.next().filter(|p| !p.is_empty())?;
        let architecture = parts.next().filter(|p| !p.is_empty())?;
        let variant = parts.next().map(str::to_owned);
        if parts.next().is_some() {
            return None;
        }
        Some(Platform {
            architecture: architecture.to_owned(),
            os: os.to_owned(),
            variant,
        })
    }

    /// Whether an image for `self` satisfies a request for `wanted` (a missing variant on either
    /// side matches any variant).
    pub fn satisfies(&self, wanted: &Platform) -> bool {
        self.os == wanted.os
            && self.architecture == wanted.architecture
            && match (&self.variant, &wanted.variant) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
    }

    /// Whether this is buildx's placeholder for attestations (`unknown/unknown`).
    pub fn is_unknown(&self) -> bool {
        self.os == "unknown" && self.architecture == "unknown"
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

/// An image index (`index.json` or a manifest list).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Index {
    /// Its media type, when stated.
    #[serde(default)]
    pub media_type: Option<String>,
    /// The manifests it lists; `null` (seen from early Docker 25) reads as empty.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub manifests: Vec<Descriptor>,
}

/// An image manifest.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    /// Its media type, when stated.
    #[serde(default)]
    pub media_type: Option<String>,
    /// The config blob.
    pub config: Descriptor,
    /// The layer blobs, bottom first.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub layers: Vec<Descriptor>,
    /// Set for artifacts that are not images.
    #[serde(default)]
    pub artifact_type: Option<String>,
}

fn null_as_empty<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// The image config (OCI `config.md`, Docker image JSON).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ImageConfig {
    /// CPU architecture.
    #[serde(default)]
    pub architecture: String,
    /// Operating system.
    #[serde(default)]
    pub os: String,
    /// CPU variant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// Creation time (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// The runtime configuration (`Env`, `Cmd`, ...), kept as JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<serde_json::Value>,
    /// The layers' diff_ids.
    #[serde(default)]
    pub rootfs: RootFs,
    /// The build history, oldest first.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub history: Vec<History>,
    /// Every other field (`author`, `os.version`, `container_config`, ...), kept so that a
    /// rewritten config (squash) loses nothing.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl ImageConfig {
    /// The platform the config declares.
    pub fn platform(&self) -> Platform {
        Platform {
            architecture: self.architecture.clone(),
            os: self.os.clone(),
            variant: self.variant.clone(),
        }
    }
}

/// `rootfs` of the image config.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RootFs {
    /// Always `layers`.
    #[serde(default, rename = "type")]
    pub kind: String,
    /// sha256 of each uncompressed layer, bottom first.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub diff_ids: Vec<Digest>,
}

/// One build step in the image config's history.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    /// When the step ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// The command that made the step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    /// Free-form comment (`buildkit.dockerfile.v0`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Author.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// True when the step made no layer.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub empty_layer: bool,
}

/// One image of `docker save`'s `manifest.json`.
#[derive(Debug, Clone, Deserialize)]
pub struct DockerManifestEntry {
    /// Path of the config in the archive.
    #[serde(rename = "Config")]
    pub config: String,
    /// Tags (may be `null` when saved by ID).
    #[serde(rename = "RepoTags", default, deserialize_with = "null_as_empty")]
    pub repo_tags: Vec<String>,
    /// Paths of the layer tars in the archive, bottom first.
    #[serde(rename = "Layers", default, deserialize_with = "null_as_empty")]
    pub layers: Vec<String>,
    /// Descriptors of foreign layers, by diff_id (Docker 25+).
    #[serde(rename = "LayerSources", default)]
    pub layer_sources: Option<BTreeMap<String, Descriptor>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platform_parse_and_match() {
        let p = Platform::parse("linux/arm/v7").unwrap();
        assert_eq!(p.to_string(), "linux/arm/v7");
        assert!(Platform::parse("linux").is_none());
        assert!(Platform::parse("a/b/c/d").is_none());
        let arm = Platform::parse("linux/arm").unwrap();
        assert!(p.satisfies(&arm));
        assert!(!p.satisfies(&Platform::parse("linux/arm/v6").unwrap()));
    }

    #[test]
    fn null_manifests_read_as_empty() {
        let i: Index = serde_json::from_str(r#"{"schemaVersion":2,"manifests":null}"#).unwrap();
        assert!(i.manifests.is_empty());
        let c: ImageConfig = serde_json::from_str(r#"{"history":null}"#).unwrap();
        assert!(c.history.is_empty());
    }
}
