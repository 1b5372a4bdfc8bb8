//! What the image commands share: the image argument (files, layouts, the local Docker engine and
//! registries), reading it with progress on a terminal, and byte counts for humans.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use kasane_image::{Digest, Image, ImageReadOptions, Platform, Progress, Selector};
use kasane_remote::{CertSource, LiveInput, LiveOptions, RegistryOptions, TransferObserver};

/// Layers downloaded from a registry at once, whatever the number of cores (`docker pull`
/// defaults to 3): transfers wait on the network more than on the CPU.
const REGISTRY_DOWNLOADS: usize = 4;

/// The image to read and how.
#[derive(Debug, clap::Args)]
pub(crate) struct ImageArgs {
    /// The image: a `docker save` or OCI archive, an OCI layout directory, a reference with an
    /// explicit transport: `docker-archive:PATH[:NAME]`, `oci-archive:PATH[:TAG]`, `oci:DIR[:TAG]`,
    /// `docker-daemon:NAME[:TAG]` (the local Docker engine), `docker://REGISTRY/NAME[:TAG|@DIGEST]`
    /// (a registry, no daemon needed), or a bare image name (the local engine if it has it, else
    /// the registry).
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
    /// Registry access (`docker://` and bare names).
    #[command(flatten)]
    pub(crate) registry: RegistryArgs,
    /// Also save an image read from a registry as an OCI layout in DIR (`index.json` is written
    /// once every layer is in and verified).
    #[arg(long, value_name = "DIR")]
    pub(crate) save: Option<PathBuf>,
}

/// How to reach registries.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct RegistryArgs {
    /// Talk plain HTTP to the registry (registries on this machine always may).
    #[arg(long)]
    pub(crate) insecure: bool,
    /// Seconds to wait for a registry to connect, answer or send the next byte.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub(crate) timeout: u64,
    /// Take the registry's CA certificates (*.crt) and client certificate (NAME.cert with
    /// NAME.key) from DIR, instead of looking in certs.d/HOST[:PORT] under
    /// ~/.config/containers, /etc/containers and /etc/docker.
    #[arg(long, value_name = "DIR")]
    pub(crate) cert_dir: Option<PathBuf>,
}

impl ImageArgs {
    /// Reads the image, showing progress on stderr when it is a terminal. An image in the local
    /// engine is streamed from its export with no copy on disk.
    pub(crate) fn read(&self) -> anyhow::Result<Image> {
        if let Some(live) = self.live_input()? {
            let options = self.live_options(self.show_progress());
            if let kasane_remote::Located::Engine { client, name } =
                kasane_remote::locate(&live, &options)?
            {
                // The export's transfer line is the progress: layers are read as it arrives.
                let progress = TerminalProgress::new(false);
                let image = kasane_remote::read_from_engine(
                    &client,
                    &name,
                    &Selector {
                        tag: None,
                        platform: self.platform()?,
                    },
                    self.read_options(),
                    &progress,
                    options.observer.clone(),
                );
                progress.clear();
                return Ok(image?);
            }
        }
        Ok(self.read_with_source()?.1)
    }

    fn show_progress(&self) -> bool {
        !self.quiet && std::io::stderr().is_terminal()
    }

    fn read_options(&self) -> ImageReadOptions {
        ImageReadOptions {
            verify_compressed_diff_ids: self.verify_diff_ids,
            ..ImageReadOptions::default()
        }
    }

    fn platform(&self) -> anyhow::Result<Option<Platform>> {
        self.platform
            .as_deref()
            .map(|p| {
                Platform::parse(p)
                    .with_context(|| format!("--platform `{p}`: expected os/arch[/variant]"))
            })
            .transpose()
    }

    /// Live source settings; `transfer_lines` draws a progress line per blob on stderr.
    fn live_options(&self, transfer_lines: bool) -> LiveOptions {
        let observer: Arc<dyn TransferObserver> = Arc::new(TransferBars::new(transfer_lines));
        LiveOptions {
            registry: RegistryOptions {
                insecure: self.registry.insecure,
                timeout: Duration::from_secs(self.registry.timeout.max(1)),
                certs: match &self.registry.cert_dir {
                    Some(dir) => CertSource::Dir(dir.clone()),
                    None => CertSource::standard(),
                },
                ..RegistryOptions::default()
            },
            engine: None,
            save: self.save.clone(),
            observer: Some(observer),
        }
    }

    /// Opens the image's source and resolves the selected image in it (no layer is read yet).
    pub(crate) fn resolve(
        &self,
    ) -> anyhow::Result<(Box<dyn kasane_image::Source>, kasane_image::ResolvedImage)> {
        // The caller (the explorer) owns the terminal from here: no transfer lines on it.
        let (source, selector) = self.open(false)?;
        let resolved = source.resolve(&selector)?;
        Ok((source, resolved))
    }

    fn open(
        &self,
        transfer_lines: bool,
    ) -> anyhow::Result<(Box<dyn kasane_image::Source>, Selector)> {
        let platform = self.platform()?;
        if let Some(live) = self.live_input()? {
            let source = kasane_remote::open(&live, &self.live_options(transfer_lines))?;
            return Ok((
                source,
                Selector {
                    tag: None,
                    platform,
                },
            ));
        }
        if self.save.is_some() {
            anyhow::bail!("--save works with images read from a registry (docker://...)");
        }
        let (source, tag) = kasane_image::source::open(&self.image)?;
        Ok((source, Selector { tag, platform }))
    }

    /// The live image the argument names, if it names one: `docker://`, `docker-daemon:`, or a
    /// bare name that is not an existing path and has no file transport.
    fn live_input(&self) -> anyhow::Result<Option<LiveInput>> {
        if let Some(live) = LiveInput::parse_prefixed(&self.image) {
            return Ok(Some(live?));
        }
        if ["docker-archive:", "oci-archive:", "oci:"]
            .iter()
            .any(|p| self.image.starts_with(p))
        {
            return Ok(None);
        }
        let (_, path, _) = kasane_image::source::parse_input(&self.image);
        if path.exists() {
            return Ok(None);
        }
        Ok(LiveInput::bare(&self.image))
    }

    /// Reads the image and keeps its source open, for commands that read file contents back.
    pub(crate) fn read_with_source(
        &self,
    ) -> anyhow::Result<(Box<dyn kasane_image::Source>, Image)> {
        let (source, selector) = self.open(self.show_progress())?;
        // Registry reads show one line per layer (the transfer bars) instead.
        let live = source.describe().starts_with("docker://");
        let progress = TerminalProgress::new(self.show_progress() && !live);
        let image = if live {
            kasane_image::streaming::read_image_on_workers(
                source.as_ref(),
                &selector,
                self.read_options(),
                REGISTRY_DOWNLOADS,
                &progress,
            )
        } else {
            kasane_image::read_image(source.as_ref(), &selector, self.read_options(), &progress)
        };
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

/// One progress line per blob on stderr (a terminal only), redrawn in place at most five times
/// a second; finished lines stay, as `docker pull` leaves them.
#[derive(Debug)]
struct TransferBars {
    show: bool,
    rows: Mutex<Bars>,
}

#[derive(Debug, Default)]
struct Bars {
    rows: Vec<Bar>,
    drawn: usize,
    last: Option<Instant>,
}

#[derive(Debug)]
struct Bar {
    digest: Digest,
    got: u64,
    size: Option<u64>,
    done: bool,
}

impl TransferBars {
    fn new(show: bool) -> Self {
        TransferBars {
            show,
            rows: Mutex::new(Bars::default()),
        }
    }

    fn update(&self, digest: &Digest, force: bool, change: impl FnOnce(&mut Bar)) {
        if !self.show {
            return;
        }
        let Ok(mut bars) = self.rows.lock() else {
            return;
        };
        let i = match bars.rows.iter().position(|b| b.digest == *digest) {
            Some(i) => i,
            None => {
                bars.rows.push(Bar {
                    digest: digest.clone(),
                    got: 0,
                    size: None,
                    done: false,
                });
                bars.rows.len() - 1
            }
        };
        change(&mut bars.rows[i]);
        let now = Instant::now();
        if !force
            && bars
                .last
                .is_some_and(|t| now.duration_since(t) < Duration::from_millis(200))
        {
            return;
        }
        bars.last = Some(now);
        let mut err = std::io::stderr().lock();
        if bars.drawn > 0 {
            let _ = write!(err, "\x1b[{}A", bars.drawn);
        }
        for bar in &bars.rows {
            let size = bar
                .size
                .map_or(String::new(), |s| format!(" / {}", bytes(s)));
            let state = if bar.done { "done" } else { "downloading" };
            let _ = writeln!(
                err,
                "\r\x1b[K{}  {}{size}  {state}",
                bar.digest.short(),
                bytes(bar.got)
            );
        }
        bars.drawn = bars.rows.len();
        let _ = err.flush();
    }
}

impl TransferObserver for TransferBars {
    fn started(&self, blob: &Digest, size: Option<u64>) {
        self.update(blob, true, |b| b.size = size);
    }

    fn received(&self, blob: &Digest, n: u64) {
        self.update(blob, false, |b| b.got += n);
    }

    fn finished(&self, blob: &Digest) {
        self.update(blob, true, |b| b.done = true);
    }
}

/// A byte count in SI units (`1.2 MB`).
pub(crate) use kasane_image::size::si as bytes;
