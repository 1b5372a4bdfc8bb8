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

/// Reads the image `selector` picks, like [`crate::read_image`], but on exactly `workers`
/// threads of its own instead of one per core: for sources whose layers wait on the network (a
/// registry), where more transfers at once than cores pays off. The first failing layer stops
/// the read and is returned.
pub fn read_image_on_workers(
    source: &dyn Source,
    selector: &crate::source::Selector,
    options: ImageReadOptions,
    workers: usize,
    progress: &dyn Progress,
) -> Result<crate::image::Image, Error> {
    let resolved = source.resolve(selector)?;
    let slots: Vec<std::sync::Mutex<Option<Result<LayerChanges, Error>>>> =
        (0..resolved.layers.len())
            .map(|_| std::sync::Mutex::new(None))
            .collect();
    read_layers_streaming(
        source,
        &resolved,
        options,
        workers,
        progress,
        &|index, result| {
            let ok = result.is_ok();
            if let Ok(mut slot) = slots[index].lock() {
                *slot = Some(result);
            }
            ok
        },
    );
    let mut changes = Vec::with_capacity(slots.len());
    // A failure anywhere explains the layers that were never started.
    let mut not_started = None;
    for (index, slot) in slots.into_iter().enumerate() {
        match slot
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
        {
            Some(Ok(c)) => changes.push(c),
            Some(Err(e)) => return Err(e),
            None => {
                not_started.get_or_insert(index);
            }
        }
    }
    if let Some(index) = not_started {
        return Err(Error::Invalid(format!(
            "layer {index} of {} was not read",
            source.describe()
        )));
    }
    Ok(crate::image::assemble_image(
        source.describe(),
        resolved,
        changes,
    ))
}
