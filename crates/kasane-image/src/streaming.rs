//! Reading an image's layers for a front end that shows them as they arrive: layers are started
//! in order (bottom first) on a few worker threads and handed over one by one, so the first layers
//! are ready early while the rest still load.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::error::Error;
use crate::image::{ImageReadOptions, read_one_layer};
use crate::layer::LayerChanges;
use crate::progress::Progress;
use crate::source::{ResolvedImage, Source};

/// Reads every layer of `resolved` on `workers` threads (at least one), taking layers in order,
/// and calls `sink(index, result)` as each finishes (from the worker that read it). When `sink`
/// returns `false` no further layer is started (a viewer that was closed). Returns once every
/// started layer is done.
pub fn read_layers_streaming(
    source: &dyn Source,
    resolved: &ResolvedImage,
    options: ImageReadOptions,
    workers: usize,
    progress: &dyn Progress,
    sink: &(dyn Fn(usize, Result<LayerChanges, Error>) -> bool + Sync),
) {
    let count = resolved.layers.len();
    let total: Option<u64> = resolved.layers.iter().map(|l| l.size).sum();
    progress.begin(count, total);
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        for _ in 0..workers.clamp(1, count.max(1)) {
            scope.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    if index >= count {
                        break;
                    }
                    let result = read_one_layer(source, resolved, index, options, progress);
                    if !sink(index, result) {
                        stop.store(true, Ordering::Relaxed);
                    }
                }
            });
        }
    });
}
