//! What `analyze` and `layers` share: the image argument, reading it with progress on a
//! terminal, and byte counts for humans.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use kasane_image::{Image, ImageReadOptions, Platform, Progress, Selector};

/// The image to read and how.
#[derive(Debug, clap::Args)]
pub(crate) struct ImageArgs {
    /// The image: a `docker save` or OCI archive, an OCI layout directory, or a reference with an
    /// explicit transport: `docker-archive:PATH[:NAME]`, `oci-archive:PATH[:TAG]`, `oci:DIR[:TAG]`.
    pub(crate) image: String,
    /// Platform to pick from a multi-platform index, `os/arch[/variant]` (default: this host's).
    #[arg(long)]
    pub(crate) platform: Option<String>,
    /// Also verify the diff_id of compressed layers (one more sha256 pass over their contents).
    #[arg(long)]
    pub(crate) verify_diff_ids: bool,
    /// No progress on stderr.
    #[arg(long, short)]
    pub(crate) quiet: bool,
}

impl ImageArgs {
    /// Reads the image, showing progress on stderr when it is a terminal.
    pub(crate) fn read(&self) -> anyhow::Result<Image> {
        Ok(self.read_with_source()?.1)
    }

    /// Opens the image's source and resolves the selected image in it (no layer is read yet).
    pub(crate) fn resolve(
        &self,
    ) -> anyhow::Result<(Box<dyn kasane_image::Source>, kasane_image::ResolvedImage)> {
        let (source, selector) = self.open()?;
        let resolved = source.resolve(&selector)?;
        Ok((source, resolved))
    }

    fn open(&self) -> anyhow::Result<(Box<dyn kasane_image::Source>, Selector)> {
        let platform = match &self.platform {
            Some(p) => Some(
                Platform::parse(p)
                    .with_context(|| format!("--platform `{p}`: expected os/arch[/variant]"))?,
            ),
            None => None,
        };
        let (source, tag) = kasane_image::source::open(&self.image)?;
        Ok((source, Selector { tag, platform }))
    }

    /// Reads the image and keeps its source open, for commands that read file contents back.
    pub(crate) fn read_with_source(
        &self,
    ) -> anyhow::Result<(Box<dyn kasane_image::Source>, Image)> {
        let (source, selector) = self.open()?;
        let options = ImageReadOptions {
            verify_compressed_diff_ids: self.verify_diff_ids,
            ..ImageReadOptions::default()
        };
        let show = !self.quiet && std::io::stderr().is_terminal();
        let progress = TerminalProgress::new(show);
        let image = kasane_image::read_image(source.as_ref(), &selector, options, &progress);
        progress.clear();
        Ok((source, image?))
    }
}

/// A one-line progress display on stderr, redrawn at most five times a second.
struct TerminalProgress {
    show: bool,
    layers: AtomicUsize,
    done: AtomicUsize,
    bytes: AtomicU64,
    total: AtomicU64,
    last: Mutex<Option<Instant>>,
}

impl TerminalProgress {
    fn new(show: bool) -> Self {
        TerminalProgress {
            show,
            layers: AtomicUsize::new(0),
            done: AtomicUsize::new(0),
            bytes: AtomicU64::new(0),
            total: AtomicU64::new(0),
            last: Mutex::new(None),
        }
    }

    fn draw(&self, force: bool) {
        if !self.show {
            return;
        }
        let Ok(mut last) = self.last.lock() else {
            return;
        };
        let now = Instant::now();
        if !force && last.is_some_and(|t| now.duration_since(t) < Duration::from_millis(200)) {
            return;
        }
        *last = Some(now);
        let total = self.total.load(Ordering::Relaxed);
        let of_total = if total > 0 {
            format!(" of {}", bytes(total))
        } else {
            String::new()
        };
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r\x1b[Kreading layers: {}/{} done, {}{of_total}",
            self.done.load(Ordering::Relaxed),
            self.layers.load(Ordering::Relaxed),
            bytes(self.bytes.load(Ordering::Relaxed)),
        );
        let _ = err.flush();
    }

    fn clear(&self) {
        if self.show && self.last.lock().is_ok_and(|l| l.is_some()) {
            let _ = write!(std::io::stderr(), "\r\x1b[K");
        }
    }
}

impl Progress for TerminalProgress {
    fn begin(&self, layers: usize, total: Option<u64>) {
        self.layers.store(layers, Ordering::Relaxed);
        self.total.store(total.unwrap_or(0), Ordering::Relaxed);
        self.draw(true);
    }

    fn advance(&self, n: u64) {
        self.bytes.fetch_add(n, Ordering::Relaxed);
        self.draw(false);
    }

    fn layer_done(&self, _index: usize) {
        self.done.fetch_add(1, Ordering::Relaxed);
        self.draw(false);
    }
}

/// A byte count in SI units, as dive and docker print them (`1.2 MB`).
pub(crate) fn bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["B", "kB", "MB", "GB", "TB", "PB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1000.0 && unit + 1 < UNITS.len() {
        v /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn bytes_in_si_units() {
        assert_eq!(super::bytes(0), "0 B");
        assert_eq!(super::bytes(999), "999 B");
        assert_eq!(super::bytes(1_234_567), "1.2 MB");
        assert_eq!(super::bytes(1_300_000_000), "1.3 GB");
    }
}
