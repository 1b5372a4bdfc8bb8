//! A registry as a kasane-image [`Source`]: the tag's manifest (or the index entry for the wanted
//! platform), its config, and each layer blob streamed straight into the analysis, optionally
//! copied into an OCI layout on the way (`--save DIR`).

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;
use std::sync::{Arc, Mutex};

use kasane_image::source::oci::{self, BlobFetcher, Candidate, JSON_LIMIT};
use kasane_image::spec::{Descriptor, Index, media};
use kasane_image::{Digest, Error, ImageFormat, LayerBlob, ResolvedImage, Selector, Source};

use crate::error::RemoteError;
use crate::layout::LayoutWriter;
use crate::reference::Reference;
use crate::registry::{FetchedManifest, RegistryClient, RegistryOptions};
use crate::transfer::{ObservedReader, TransferObserver};

/// An image in a registry.
#[derive(Debug)]
pub struct RegistrySource {
    reference: Reference,
    client: RegistryClient,
    /// Manifests fetched while resolving, by digest (the tag's top document is fetched by tag).
    documents: Mutex<HashMap<Digest, Vec<u8>>>,
    save: Option<LayoutWriter>,
    observer: Option<Arc<dyn TransferObserver>>,
}

impl RegistrySource {
    /// A source for `reference`; nothing is fetched until [`Source::resolve`]. Fails only when
    /// the registry's certificate directory is unusable.
    pub fn new(
        reference: Reference,
        options: &RegistryOptions,
    ) -> Result<RegistrySource, RemoteError> {
        Ok(RegistrySource {
            client: RegistryClient::new(&reference, options)?,
            reference,
            documents: Mutex::new(HashMap::new()),
            save: None,
            observer: None,
        })
    }

    /// Also writes every blob read into an OCI image layout at `dir` (created if missing); the
    /// layout's `index.json` appears once every layer is saved and verified.
    pub fn save_to(mut self, dir: &Path) -> Result<RegistrySource, RemoteError> {
        self.save = Some(LayoutWriter::create(dir)?);
        Ok(self)
    }

    /// Reports each blob's transfer to `observer` (per-layer progress).
    pub fn observe(mut self, observer: Arc<dyn TransferObserver>) -> RegistrySource {
        self.observer = Some(observer);
        self
    }

    /// The reference read.
    pub fn reference(&self) -> &Reference {
        &self.reference
    }

    fn remember(&self, digest: &Digest, bytes: &[u8]) {
        if let Ok(mut docs) = self.documents.lock() {
            docs.insert(digest.clone(), bytes.to_vec());
        }
    }

    fn saved(&self, digest: &Digest, bytes: &[u8]) -> Result<(), Error> {
        if let Some(save) = &self.save {
            save.write_blob(digest, bytes)?;
        }
        Ok(())
    }
}

impl BlobFetcher for RegistrySource {
    fn fetch(&self, descriptor: &Descriptor) -> Result<Option<Vec<u8>>, Error> {
        let digest = &descriptor.digest;
        let known = self
            .documents
            .lock()
            .ok()
            .and_then(|d| d.get(digest).cloned());
        if let Some(bytes) = known {
            return Ok(Some(bytes));
        }
        let t = descriptor.media_type.as_str();
        let bytes = if media::is_index(t) || media::is_manifest(t) {
            match self.client.manifest(&digest.to_string()) {
                Ok(m) => m.bytes,
                Err(RemoteError::NotFound { .. }) => return Ok(None),
                Err(e) => return Err(e.into()),
            }
        } else {
            match self.client.small_blob(digest, JSON_LIMIT)? {
                Some(b) => b,
                None => return Ok(None),
            }
        };
        self.remember(digest, &bytes);
        self.saved(digest, &bytes)?;
        Ok(Some(bytes))
    }

    fn locate(&self, descriptor: &Descriptor) -> String {
        descriptor.digest.to_string()
    }

    fn source_name(&self) -> String {
        format!("registry {}", self.reference.registry)
    }
}

impl Source for RegistrySource {
    fn describe(&self) -> String {
        format!("docker://{}", self.reference)
    }

    fn resolve(&self, selector: &Selector) -> Result<ResolvedImage, Error> {
        let top = self.client.manifest(&self.reference.manifest_reference())?;
        self.remember(&top.digest, &top.bytes);
        self.saved(&top.digest, &top.bytes)?;
        let (chosen, mut resolved) = resolve_top(&top, selector, self)?;
        resolved.name = Some(self.reference.to_string());
        if let Some(save) = &self.save {
            save.expect(&chosen, &resolved, self.reference.tag.as_deref());
        }
        Ok(resolved)
    }

    fn open_blob(&self, blob: &LayerBlob) -> Result<Box<dyn Read + Send + '_>, Error> {
        let digest = blob.digest.clone().ok_or_else(|| {
            Error::Invalid(format!(
                "{}: layer {} has no digest",
                self.source_name(),
                blob.location
            ))
        })?;
        let reader = self.client.open_blob(&digest, blob.size)?;
        let reader: Box<dyn Read + Send> = match &self.observer {
            Some(observer) => Box::new(ObservedReader::new(
                reader,
                digest.clone(),
                blob.size,
                Arc::clone(observer),
            )),
            None => Box::new(reader),
        };
        Ok(match &self.save {
            Some(save) => Box::new(save.tee(&digest, reader)?),
            None => reader,
        })
    }
}

/// Resolves the document a tag (or digest) names — an index or an image manifest — to one image:
/// the index entry for `selector`'s platform, then its manifest and config, all fetched through
/// `fetcher` and checked against their digests. Returns the chosen manifest's descriptor with
/// the image. (The tag already chose the image; only the platform is left to choose.)
pub fn resolve_top(
    top: &FetchedManifest,
    selector: &Selector,
    fetcher: &dyn BlobFetcher,
) -> Result<(Descriptor, ResolvedImage), Error> {
    let by_platform = Selector {
        tag: None,
        platform: selector.platform.clone(),
    };
    let candidate = if media::is_index(&top.media_type) {
        let index: Index = serde_json::from_slice(&top.bytes).map_err(|source| Error::Json {
            what: format!("index {} from {}", top.digest, fetcher.source_name()),
            source,
        })?;
        oci::select_manifest(&index, &by_platform, fetcher)?
    } else {
        Candidate {
            descriptor: Descriptor {
                media_type: top.media_type.clone(),
                digest: top.digest.clone(),
                size: i64::try_from(top.bytes.len()).unwrap_or(i64::MAX),
                platform: None,
                annotations: None,
                artifact_type: None,
                urls: None,
            },
            platform: None,
            names: Vec::new(),
        }
    };
    let resolved = oci::resolve_manifest(&candidate, &by_platform, fetcher, ImageFormat::Registry)?;
    Ok((candidate.descriptor, resolved))
}
