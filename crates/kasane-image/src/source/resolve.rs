//! Recognising what an archive or layout holds and resolving the requested image in it.

use super::files::ImageFiles;
use super::oci::{self, BlobFetcher, JSON_LIMIT, check_digest, name_matches, parse_json};
use super::{ImageFormat, LayerBlob, ResolvedImage, Selector};
use crate::digest::Digest;
use crate::error::Error;
use crate::path::ImagePath;
use crate::spec::{Descriptor, DockerManifestEntry, ImageConfig, Index};

/// Which document to read an archive through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FormatHint {
    /// `manifest.json` when present, else `index.json`.
    Auto,
    /// `manifest.json` (`docker-archive:`), falling back to `index.json`.
    Docker,
    /// `index.json` (`oci-archive:`, `oci:`).
    Oci,
}

struct FilesFetcher<'a>(&'a dyn ImageFiles);

impl BlobFetcher for FilesFetcher<'_> {
    fn fetch(&self, d: &Descriptor) -> Result<Option<Vec<u8>>, Error> {
        self.0.read_small(&d.digest.blob_path(), JSON_LIMIT)
    }

    fn source_name(&self) -> String {
        self.0.name()
    }
}

pub(crate) fn resolve_files(
    files: &dyn ImageFiles,
    hint: FormatHint,
    selector: &Selector,
    oci_format: ImageFormat,
) -> Result<ResolvedImage, Error> {
    let manifest = if hint == FormatHint::Oci {
        None
    } else {
        files.read_small("manifest.json", JSON_LIMIT)?
    };
    if let Some(bytes) = manifest {
        return resolve_docker(files, &bytes, selector);
    }
    let Some(index_bytes) = files.read_small("index.json", JSON_LIMIT)? else {
        let reason = match hint {
            FormatHint::Oci => "no index.json: not an OCI image layout",
            _ => "neither manifest.json (docker save) nor index.json (OCI layout) found",
        };
        return Err(Error::UnknownFormat {
            input: files.name(),
            reason: reason.to_owned(),
        });
    };
    let index: Index = parse_json(&index_bytes, "index.json")?;
    let fetcher = FilesFetcher(files);
    let candidate = oci::select_manifest(&index, selector, &fetcher)?;
    oci::resolve_manifest(&candidate, selector, &fetcher, oci_format)
}

/// The digest a `docker save` member's name reveals: `blobs/sha256/<hex>` or a legacy
/// `<hex>.json` config (whose name is its sha256).
pub(crate) fn digest_from_name(path: &str) -> Option<Digest> {
    if let Some(rest) = path.strip_prefix("blobs/") {
        let (alg, enc) = rest.split_once('/')?;
        return format!("{alg}:{enc}").parse().ok();
    }
    let stem = path.strip_suffix(".json")?;
    if stem.contains('/') {
        return None;
    }
    format!("sha256:{stem}").parse().ok()
}

fn member_path(raw: &str, what: &str) -> Result<String, Error> {
    match ImagePath::normalize(raw.as_bytes()) {
        Ok((p, None)) if !p.is_root() => Ok(String::from_utf8_lossy(p.as_bytes()).into_owned()),
        _ => Err(Error::UnsafeReference {
            what: what.to_owned(),
            path: raw.to_owned(),
        }),
    }
}

fn resolve_docker(
    files: &dyn ImageFiles,
    manifest_bytes: &[u8],
    selector: &Selector,
) -> Result<ResolvedImage, Error> {
    let entries: Vec<DockerManifestEntry> = parse_json(manifest_bytes, "manifest.json")?;
    let describe = |e: &DockerManifestEntry| {
        if e.repo_tags.is_empty() {
            format!("untagged {}", e.config)
        } else {
            e.repo_tags.join(", ")
        }
    };
    let entry = match &selector.tag {
        Some(tag) => entries
            .iter()
            .find(|e| e.repo_tags.iter().any(|t| name_matches(tag, t)))
            .ok_or_else(|| Error::NoSuchImage {
                wanted: tag.clone(),
                source_name: files.name(),
                available: entries.iter().map(describe).collect::<Vec<_>>().join("; "),
            })?,
        None => match entries.as_slice() {
            [] => {
                return Err(Error::Invalid(format!(
                    "{}: manifest.json lists no images",
                    files.name()
                )));
            }
            [one] => one,
            many => {
                return Err(Error::Ambiguous {
                    source_name: files.name(),
                    available: many.iter().map(describe).collect::<Vec<_>>().join("; "),
                });
            }
        },
    };
    let config_path = member_path(&entry.config, "manifest.json's Config")?;
    let config_bytes =
        files
            .read_small(&config_path, JSON_LIMIT)?
            .ok_or_else(|| Error::MissingBlob {
                what: "config".to_owned(),
                blob: config_path.clone(),
                source_name: files.name(),
            })?;
    let config_digest = digest_from_name(&config_path);
    if let Some(d) = &config_digest {
        check_digest(&config_bytes, d, "config", &config_path)?;
    }
    let config: ImageConfig = parse_json(&config_bytes, &format!("config {config_path}"))?;
    if let Some(wanted) = &selector.platform {
        let actual = config.platform();
        if !actual.architecture.is_empty() && !actual.satisfies(wanted) {
            return Err(Error::NoMatchingPlatform {
                wanted: wanted.to_string(),
                source_name: files.name(),
                available: actual.to_string(),
            });
        }
    }
    let mut layers = Vec::with_capacity(entry.layers.len());
    let mut oci_inside = false;
    for (k, raw) in entry.layers.iter().enumerate() {
        let location = member_path(raw, &format!("manifest.json's layer {k}"))?;
        oci_inside |= location.starts_with("blobs/");
        layers.push(LayerBlob {
            digest: digest_from_name(&location),
            location,
            media_type: None,
            size: None,
        });
    }
    Ok(ResolvedImage {
        name: selector
            .tag
            .clone()
            .or_else(|| entry.repo_tags.first().cloned()),
        format: if oci_inside {
            ImageFormat::DockerArchiveOci
        } else {
            ImageFormat::DockerArchive
        },
        manifest_digest: None,
        config_digest,
        config,
        layers,
        notes: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_from_member_names() {
        let hex = "5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef";
        assert_eq!(
            digest_from_name(&format!("blobs/sha256/{hex}"))
                .unwrap()
                .encoded(),
            hex
        );
        assert_eq!(
            digest_from_name(&format!("{hex}.json")).unwrap().encoded(),
            hex
        );
        assert!(digest_from_name(&format!("{hex}/layer.tar")).is_none());
        assert!(digest_from_name("manifest.json").is_none());
    }

    #[test]
    fn member_paths_may_not_leave_the_archive() {
        assert!(member_path("../../etc/passwd", "x").is_err());
        assert!(member_path("/etc/passwd", "x").is_err());
        assert!(member_path("", "x").is_err());
        assert_eq!(
            member_path("./abc/layer.tar", "x").unwrap(),
            "abc/layer.tar"
        );
    }
}
