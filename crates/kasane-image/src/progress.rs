//! Progress reporting hooks: the library calls them, a front end decides whether and how to show
//! them (the library never prints).

/// Receives progress while an image is read. Called from several threads at once.
pub trait Progress: Sync {
    /// Reading starts: `layers` blobs totalling `bytes` stored bytes (when the sizes are known).
    fn begin(&self, layers: usize, bytes: Option<u64>) {
        let _ = (layers, bytes);
    }
    /// `bytes` more stored bytes were read.
    fn advance(&self, bytes: u64) {
        let _ = bytes;
    }
    /// Layer `index` was read completely.
    fn layer_done(&self, index: usize) {
        let _ = index;
    }
}

/// Ignores all progress.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {}
