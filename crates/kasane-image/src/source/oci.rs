//! Walking an OCI index to one image manifest and resolving that manifest to a config and layers.
//! Shared by every source that can fetch blobs by descriptor (archives, layouts, registries).

use crate::digest::Digest;
use crate::error::Error;
use crate::spec::{
    CONTAINERD_NAME, Descriptor, ImageConfig, Index, Manifest, Platform, REF_NAME, media,
};

use super::{ImageFormat, LayerBlob, ResolvedImage, Selector};

/// JSON documents larger than this are refused (a manifest or config is a few KiB).
pub const JSON_LIMIT: u64 = 64 * 1024 * 1024;

/// Fetches blobs for the index and manifest walk.
pub trait BlobFetcher {
    /// The blob's bytes, or `None` when the source does not have it. Need not verify the digest:
    /// [`fetch_verified`] does.
    fn fetch(&self, descriptor: &Descriptor) -> Result<Option<Vec<u8>>, Error>;

    /// Where [`super::Source::open_blob`] will find a layer blob (default: `blobs/<alg>/<hex>`).
    fn locate(&self, descriptor: &Descriptor) -> String {
        descriptor.digest.blob_path()
    }

    /// The source's name, for messages.
    fn source_name(&self) -> String;
}

/// Fetches a blob and checks it against its descriptor's digest.
pub fn fetch_verified(
    fetcher: &dyn BlobFetcher,
    descriptor: &Descriptor,
    what: &str,
) -> Result<Vec<u8>, Error> {
    let bytes = fetcher
        .fetch(descriptor)?
        .ok_or_else(|| Error::MissingBlob {
            what: what.to_owned(),
            blob: descriptor.digest.to_string(),
            source_name: fetcher.source_name(),
        })?;
    check_digest(
        &bytes,
        &descriptor.digest,
        what,
        &descriptor.digest.to_string(),
    )?;
    Ok(bytes)
}

pub(crate) fn check_digest(
    bytes: &[u8],
    expected: &Digest,
    what: &str,
    blob: &str,
) -> Result<(), Error> {
    if expected.is_sha256() {
        let actual = Digest::sha256_of(bytes);
        if actual != *expected {
            return Err(Error::DigestMismatch {
                what: what.to_owned(),
                blob: blob.to_owned(),
                expected: expected.clone(),
                actual,
            });
        }
    }
    Ok(())
}

pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(
    bytes: &[u8],
    what: &str,
) -> Result<T, Error> {
    serde_json::from_slice(bytes).map_err(|source| Error::Json {
        what: what.to_owned(),
        source,
    })
}

/// An image manifest found in an index, with what the index says about it.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// The manifest's descriptor.
    pub descriptor: Descriptor,
    /// Its platform, when the index states one.
    pub platform: Option<Platform>,
    /// The names (tags) the top-level index gives it.
    pub names: Vec<String>,
}

/// Whether a name asked for matches a name an archive holds: equal, or equal once Docker Hub's
/// defaults (`docker.io/`, `library/`, `:latest`) are filled in.
pub fn name_matches(wanted: &str, held: &str) -> bool {
    wanted == held || normalize_name(wanted) == normalize_name(held)
}

fn normalize_name(s: &str) -> String {
    let s = s.split('@').next().unwrap_or(s);
    let slash = s.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match s[slash..].rfind(':') {
        Some(i) => (&s[..slash + i], &s[slash + i + 1..]),
        None => (s, "latest"),
    };
    let name = name
        .strip_prefix("docker.io/")
        .or_else(|| name.strip_prefix("index.docker.io/"))
        .unwrap_or(name);
    let name = name.strip_prefix("library/").unwrap_or(name);
    format!("{name}:{tag}")
}

fn names_of(d: &Descriptor) -> Vec<String> {
    [CONTAINERD_NAME, REF_NAME]
        .iter()
        .filter_map(|k| d.annotation(k).map(str::to_owned))
        .collect()
}

fn is_attestation(c: &Candidate) -> bool {
    c.platform.as_ref().is_some_and(Platform::is_unknown)
        || c.descriptor
            .annotation("vnd.docker.reference.type")
            .is_some()
}

/// Picks the manifest `selector` asks for from `index`: filters the top-level entries by tag,
/// expands nested indexes, drops attestations, and matches the platform (default: the host's; an
/// image with no stated platform matches anything).
pub fn select_manifest(
    index: &Index,
    selector: &Selector,
    fetcher: &dyn BlobFetcher,
) -> Result<Candidate, Error> {
    let source_name = fetcher.source_name();
    let mut top: Vec<&Descriptor> = index.manifests.iter().collect();
    if let Some(tag) = &selector.tag {
        top.retain(|d| names_of(d).iter().any(|n| name_matches(tag, n)));
        if top.is_empty() {
            return Err(Error::NoSuchImage {
                wanted: tag.clone(),
                source_name,
                available: list_names(index.manifests.iter().flat_map(names_of)),
            });
        }
    }
    if top.is_empty() {
        return Err(Error::Invalid(format!(
            "{source_name}: the index lists no images"
        )));
    }
    let mut candidates = Vec::new();
    for d in top {
        expand(d, names_of(d), fetcher, 0, &mut candidates)?;
    }
    candidates.retain(|c| !is_attestation(c));
    let wanted = selector.platform.clone().unwrap_or_else(Platform::host);
    let matching: Vec<&Candidate> = candidates
        .iter()
        .filter(|c| c.platform.as_ref().is_none_or(|p| p.satisfies(&wanted)))
        .collect();
    let chosen = match matching.as_slice() {
        [] => {
            // One image with a foreign platform and no explicit request: read it anyway.
            if selector.platform.is_none() && candidates.len() == 1 {
                return Ok(candidates.remove(0));
            }
            return Err(Error::NoMatchingPlatform {
                wanted: wanted.to_string(),
                source_name,
                available: list_names(
                    candidates
                        .iter()
                        .filter_map(|c| c.platform.as_ref().map(ToString::to_string)),
                ),
            });
        }
        [one] => *one,
        many => {
            let mut distinct: Vec<&Vec<String>> = many.iter().map(|c| &c.names).collect();
            distinct.dedup();
            if selector.tag.is_none() && distinct.len() > 1 {
                return Err(Error::Ambiguous {
                    source_name,
                    available: list_names(many.iter().flat_map(|c| c.names.iter().cloned())),
                });
            }
            // The image-layout spec: when several match, the first should be used.
            many[0]
        }
    };
    Ok(chosen.clone())
}

fn list_names(names: impl Iterator<Item = String>) -> String {
    let mut v: Vec<String> = names.collect();
    v.sort();
    v.dedup();
    if v.is_empty() {
        "no names".to_owned()
    } else {
        v.join(", ")
    }
}

fn expand(
    d: &Descriptor,
    names: Vec<String>,
    fetcher: &dyn BlobFetcher,
    depth: usize,
    out: &mut Vec<Candidate>,
) -> Result<(), Error> {
    if depth > 8 {
        return Err(Error::Invalid(format!(
            "{}: indexes nested more than 8 deep",
            fetcher.source_name()
        )));
    }
    let candidate = || Candidate {
        descriptor: d.clone(),
        platform: d.platform.clone(),
        names: names.clone(),
    };
    if media::is_manifest(&d.media_type) {
        out.push(candidate());
        return Ok(());
    }
    let is_index = media::is_index(&d.media_type);
    if !is_index && !d.media_type.is_empty() {
        return Ok(()); // unknown media types must be ignored (image-layout spec)
    }
    // An index, or an untyped descriptor that could be either: look inside. A missing nested
    // blob (a platform `docker save` did not export) only removes that branch.
    let Some(bytes) = fetcher.fetch(d)? else {
        if is_index {
            return Ok(());
        }
        out.push(candidate());
        return Ok(());
    };
    check_digest(&bytes, &d.digest, "index", &d.digest.to_string())?;
    let value: serde_json::Value = parse_json(&bytes, &format!("index {}", d.digest))?;
    if value.get("manifests").is_some() {
        let nested: Index = parse_json(&bytes, &format!("index {}", d.digest))?;
        for child in &nested.manifests {
            expand(child, names.clone(), fetcher, depth + 1, out)?;
        }
    } else if value.get("config").is_some() {
        out.push(candidate());
    }
    Ok(())
}

/// Reads a chosen manifest and its config into a [`ResolvedImage`].
pub fn resolve_manifest(
    candidate: &Candidate,
    selector: &Selector,
    fetcher: &dyn BlobFetcher,
    format: ImageFormat,
) -> Result<ResolvedImage, Error> {
    let d = &candidate.descriptor;
    let bytes = fetch_verified(fetcher, d, "manifest")?;
    let manifest: Manifest = parse_json(&bytes, &format!("manifest {}", d.digest))?;
    let config_type = manifest.config.media_type.as_str();
    if manifest.artifact_type.is_some()
        || !(config_type.is_empty()
            || config_type == media::OCI_CONFIG
            || config_type == media::DOCKER_CONFIG)
    {
        return Err(Error::Invalid(format!(
            "manifest {} describes an artifact ({}), not a container image",
            d.digest,
            manifest.artifact_type.as_deref().unwrap_or(config_type)
        )));
    }
    let config_bytes = fetch_verified(fetcher, &manifest.config, "config")?;
    let config: ImageConfig =
        parse_json(&config_bytes, &format!("config {}", manifest.config.digest))?;
    if let Some(wanted) = &selector.platform {
        let actual = config.platform();
        if !actual.architecture.is_empty() && !actual.satisfies(wanted) {
            return Err(Error::NoMatchingPlatform {
                wanted: wanted.to_string(),
                source_name: fetcher.source_name(),
                available: actual.to_string(),
            });
        }
    }
    let layers = manifest
        .layers
        .iter()
        .map(|l| LayerBlob {
            location: fetcher.locate(l),
            digest: Some(l.digest.clone()),
            media_type: Some(l.media_type.clone()).filter(|m| !m.is_empty()),
            size: u64::try_from(l.size).ok(),
        })
        .collect();
    Ok(ResolvedImage {
        name: selector
            .tag
            .clone()
            .or_else(|| candidate.names.first().cloned()),
        format,
        manifest_digest: Some(d.digest.clone()),
        config_digest: Some(manifest.config.digest.clone()),
        config,
        layers,
        notes: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_with_docker_hub_defaults() {
        assert!(name_matches("busybox", "busybox:latest"));
        assert!(name_matches(
            "busybox:latest",
            "docker.io/library/busybox:latest"
        ));
        assert!(name_matches("latest", "latest"));
        assert!(name_matches(
            "127.0.0.1:5000/app",
            "127.0.0.1:5000/app:latest"
        ));
        assert!(!name_matches("busybox:1", "busybox:latest"));
        assert!(!name_matches("app", "other:latest"));
    }
}
