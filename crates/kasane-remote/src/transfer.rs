//! Per-blob transfer reports, so a front end can draw one progress line per layer.

use std::io::{self, Read};
use std::sync::Arc;

use kasane_image::Digest;

/// Receives the progress of each blob transfer. Called from several threads at once.
pub trait TransferObserver: Send + Sync + std::fmt::Debug {
    /// A blob starts arriving; `size` when the manifest states it.
    fn started(&self, blob: &Digest, size: Option<u64>) {
        let _ = (blob, size);
    }
    /// `bytes` more bytes of `blob` arrived.
    fn received(&self, blob: &Digest, bytes: u64) {
        let _ = (blob, bytes);
    }
    /// `blob` arrived whole (its digest is checked by the reader of the stream).
    fn finished(&self, blob: &Digest) {
        let _ = blob;
    }
}

/// A reader that reports what passes through it.
#[derive(Debug)]
pub(crate) struct ObservedReader<R> {
    inner: R,
    digest: Digest,
    size: Option<u64>,
    observer: Arc<dyn TransferObserver>,
    started: bool,
    done: bool,
}

impl<R: Read> ObservedReader<R> {
    pub(crate) fn new(
        inner: R,
        digest: Digest,
        size: Option<u64>,
        observer: Arc<dyn TransferObserver>,
    ) -> Self {
        ObservedReader {
            inner,
            digest,
            size,
            observer,
            started: false,
            done: false,
        }
    }
}

impl<R: Read> Read for ObservedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if !self.started {
            self.started = true;
            self.observer.started(&self.digest, self.size);
        }
        let n = self.inner.read(buf)?;
        if n == 0 && !buf.is_empty() && !self.done {
            self.done = true;
            self.observer.finished(&self.digest);
        } else if n > 0 {
            self.observer.received(&self.digest, n as u64);
        }
        Ok(n)
    }
}
