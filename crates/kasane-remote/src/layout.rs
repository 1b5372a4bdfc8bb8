//! `--save DIR`: the blobs of a registry read, written as an OCI image layout while they stream
//! past. Each blob lands under a temporary name and is renamed only once its digest is checked;
//! `index.json` is written last, once every layer is in, so a layout never points at a blob that
//! is not there.

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use kasane_image::spec::{Descriptor, REF_NAME};
use kasane_image::{Digest, ResolvedImage};
use sha2::{Digest as _, Sha256};

use crate::error::RemoteError;

/// An OCI layout being written.
#[derive(Debug)]
pub(crate) struct LayoutWriter {
    dir: PathBuf,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Layers not yet saved.
    pending: HashSet<Digest>,
    /// The `index.json` to write once nothing is pending.
    index: Option<Vec<u8>>,
}

fn save_err(path: &Path) -> impl FnOnce(io::Error) -> RemoteError + '_ {
    move |source| RemoteError::Save {
        path: path.display().to_string(),
        source,
    }
}

impl LayoutWriter {
    /// Creates `dir` (and `blobs/sha256`, `oci-layout`) if missing.
    pub(crate) fn create(dir: &Path) -> Result<LayoutWriter, RemoteError> {
        let blobs = dir.join("blobs").join("sha256");
        fs::create_dir_all(&blobs).map_err(save_err(&blobs))?;
        let marker = dir.join("oci-layout");
        fs::write(&marker, br#"{"imageLayoutVersion":"1.0.0"}"#).map_err(save_err(&marker))?;
        Ok(LayoutWriter {
            dir: dir.to_owned(),
            state: Mutex::new(State::default()),
        })
    }

    fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.dir.join(digest.blob_path())
    }

    /// Writes a whole (already verified) blob, unless the layout has it.
    pub(crate) fn write_blob(&self, digest: &Digest, bytes: &[u8]) -> Result<(), RemoteError> {
        let path = self.blob_path(digest);
        if path.exists() {
            return Ok(());
        }
        write_atomically(&path, bytes)
    }

    /// Records what the layout will hold once the layers are in: `manifest` (with the config's
    /// platform) under `tag`.
    pub(crate) fn expect(
        &self,
        manifest: &Descriptor,
        resolved: &ResolvedImage,
        tag: Option<&str>,
    ) {
        let mut descriptor = manifest.clone();
        descriptor.platform = Some(resolved.config.platform());
        descriptor.annotations = tag.map(|t| [(REF_NAME.to_owned(), t.to_owned())].into());
        let index = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [descriptor],
        });
        let pending = resolved
            .layers
            .iter()
            .filter_map(|l| l.digest.clone())
            .filter(|d| !self.blob_path(d).exists())
            .collect();
        if let Ok(mut state) = self.state.lock() {
            state.pending = pending;
            state.index = serde_json::to_vec_pretty(&index).ok();
        }
        // Nothing to wait for (every layer already saved): write it now.
        let _ = self.layer_saved(None);
    }

    /// Marks a layer saved; writes `index.json` when it was the last.
    fn layer_saved(&self, digest: Option<&Digest>) -> Result<(), RemoteError> {
        let index = {
            let Ok(mut state) = self.state.lock() else {
                return Ok(());
            };
            if let Some(d) = digest {
                state.pending.remove(d);
            }
            if !state.pending.is_empty() {
                return Ok(());
            }
            state.index.take()
        };
        match index {
            Some(bytes) => write_atomically(&self.dir.join("index.json"), &bytes),
            None => Ok(()),
        }
    }

    /// Wraps a blob stream so that its bytes are also written to the layout.
    pub(crate) fn tee<'a, R: Read>(
        &'a self,
        digest: &Digest,
        inner: R,
    ) -> Result<SaveTee<'a, R>, RemoteError> {
        let path = self.blob_path(digest);
        let partial = if path.exists() || !digest.is_sha256() {
            None
        } else {
            let tmp = partial_path(&path);
            let file = File::create(&tmp).map_err(save_err(&tmp))?;
            Some(Partial {
                file,
                tmp,
                path,
                hasher: Sha256::new(),
            })
        };
        Ok(SaveTee {
            inner,
            writer: self,
            digest: digest.clone(),
            partial,
        })
    }
}

fn partial_path(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    path.with_file_name(format!(
        ".{}.partial-{}",
        name.unwrap_or_default(),
        std::process::id()
    ))
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), RemoteError> {
    let tmp = partial_path(path);
    fs::write(&tmp, bytes).map_err(save_err(&tmp))?;
    fs::rename(&tmp, path).map_err(save_err(path))
}

struct Partial {
    file: File,
    tmp: PathBuf,
    path: PathBuf,
    hasher: Sha256,
}

/// A blob stream copied into the layout; the copy is kept only if it arrives whole and right.
pub(crate) struct SaveTee<'a, R> {
    inner: R,
    writer: &'a LayoutWriter,
    digest: Digest,
    partial: Option<Partial>,
}

impl<R> std::fmt::Debug for SaveTee<'_, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SaveTee")
            .field("digest", &self.digest)
            .finish_non_exhaustive()
    }
}

impl<R: Read> Read for SaveTee<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let Some(partial) = &mut self.partial else {
            return Ok(n);
        };
        if n > 0 {
            partial.hasher.update(&buf[..n]);
            partial.file.write_all(&buf[..n])?;
            return Ok(n);
        }
        if buf.is_empty() {
            return Ok(0);
        }
        let Some(partial) = self.partial.take() else {
            return Ok(0);
        };
        let actual = Digest::from_sha256(partial.hasher.finalize().into());
        if actual != self.digest {
            // The reader of the stream reports the mismatch; the layout just does not keep it.
            let _ = fs::remove_file(&partial.tmp);
            return Ok(0);
        }
        partial.file.sync_all()?;
        drop(partial.file);
        fs::rename(&partial.tmp, &partial.path)?;
        self.writer
            .layer_saved(Some(&self.digest))
            .map_err(io::Error::other)?;
        Ok(0)
    }
}

impl<R> Drop for SaveTee<'_, R> {
    fn drop(&mut self) {
        if let Some(partial) = self.partial.take() {
            let _ = fs::remove_file(&partial.tmp);
        }
    }
}
