//! `kasane fetch`: download a file over parallel ranged HTTP/1.1 connections, check it, and
//! move it into place. Prints `SHA256  PATH` (the `sha256sum` format) on success; notices and
//! the progress bar go to stderr.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::Context;
use kasane_fetch::{Download, Event, RootSource, Sha256Digest};
use kasane_image::size::iec;

use crate::exit::Outcome;

/// Arguments of `kasane fetch`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
The file is written to a hidden partial file beside the output and renamed into place only \
when every byte is in (and matches --sha256). An interrupted download keeps its complete \
chunks; running the same command again resumes it when the server proves (ETag or \
Last-Modified) that the file did not change.")]
pub(crate) struct Args {
    /// URL to download (http:// or https://).
    url: String,
    /// Output file, or a directory to put the URL's file name in [default: the URL's file name,
    /// in the current directory].
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Parallel connections (one HTTP/1.1 connection each).
    #[arg(short = 'j', long = "jobs", value_name = "N", default_value_t = 8,
          value_parser = clap::value_parser!(u16).range(1..=64))]
    jobs: u16,
    /// Bytes per range request, e.g. 512K, 8M, 1G [default: size / (4 × N), within 1M..16M].
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    chunk: Option<u64>,
    /// Expected SHA-256 (64 hex digits, `sha256:` prefix allowed); on mismatch nothing is written.
    #[arg(long, value_name = "HEX", value_parser = parse_sha256)]
    sha256: Option<Sha256Digest>,
    /// Retries per request after a transient failure (reset, stall, 408, 429, 5xx).
    #[arg(long, value_name = "N", default_value_t = 5)]
    retries: u32,
    /// Seconds to wait for a connection, a reply, or the next byte before a request fails.
    #[arg(long, value_name = "S", default_value_t = 30.0, value_parser = parse_seconds)]
    timeout: f64,
    /// No progress bar and no notices (errors are still printed).
    #[arg(short, long)]
    quiet: bool,
}

pub(crate) fn run(args: Args) -> anyhow::Result<Outcome> {
    let output = kasane_fetch::resolve_output(&args.url, args.output.as_deref())?;
    let mut download = Download::new(&args.url, &output)
        .connections(usize::from(args.jobs))
        .retries(args.retries)
        .timeout(Duration::from_secs_f64(args.timeout));
    if let Some(chunk) = args.chunk {
        download = download.chunk_size(chunk);
    }
    if let Some(digest) = args.sha256 {
        download = download.sha256(digest);
    }
    let started = Instant::now();
    let report = Report::new(!args.quiet, args.sha256.is_some());
    let summary = download
        .run(&|event: &Event| report.event(event))
        .with_context(|| format!("fetching {}", args.url));
    report.clear_progress();
    let summary = summary?;
    if !args.quiet {
        let elapsed = started.elapsed().as_secs_f64();
        let how = if summary.ranged {
            format!("over {}", plural(summary.connections, "connection"))
        } else {
            "over one connection".to_owned()
        };
        report.notice(&format!(
            "{} in {elapsed:.1} s ({}/s) {how}",
            iec(summary.bytes),
            iec(((summary.bytes - summary.resumed) as f64 / elapsed.max(1e-3)) as u64),
        ));
    }
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{}  {}", summary.sha256, summary.output.display())?;
    Ok(Outcome::Success)
}

/// Renders events on stderr: one-line notices, and a progress line on a terminal.
struct Report {
    notices: bool,
    checksum_given: bool,
    bar: Option<Mutex<Bar>>,
    stderr: Mutex<()>,
}

struct Bar {
    started: Instant,
    last: Option<Instant>,
    shown: bool,
}

impl Report {
    fn new(notices: bool, checksum_given: bool) -> Self {
        let bar = (notices && std::io::stderr().is_terminal()).then(|| {
            Mutex::new(Bar {
                started: Instant::now(),
                last: None,
                shown: false,
            })
        });
        Self {
            notices,
            checksum_given,
            bar,
            stderr: Mutex::new(()),
        }
    }

    fn event(&self, event: &Event) {
        let text = match event {
            Event::Progress { done, total } => return self.progress(*done, *total),
            Event::TlsRoots(RootSource::BuiltIn) => {
                "no system CA certificates found; trusting the Mozilla roots built into kasane"
                    .to_owned()
            }
            Event::TlsRoots(_) | Event::Verifying => return,
            Event::Ranged {
                size,
                connections,
                chunks,
                chunk_size,
            } => format!(
                "{} in {} of {} over {}",
                iec(*size),
                plural(*chunks, "range"),
                iec(*chunk_size),
                plural(*connections, "connection"),
            ),
            Event::SingleStream(reason) => format!("{reason}; downloading over one connection"),
            Event::LengthUnknown if !self.checksum_given => "warning: the server sends no length \
                 for this file, so a cut connection cannot be told from the end of the file; \
                 pin it with --sha256"
                .to_owned(),
            Event::LengthUnknown => return,
            Event::Resuming { done, total } => format!(
                "resuming: {} of {} already downloaded",
                iec(*done),
                iec(*total)
            ),
            Event::NotResuming(reason) => {
                format!("starting over instead of resuming the earlier download: {reason}")
            }
            Event::Retrying {
                error,
                retry,
                retries,
                delay,
            } => format!(
                "{error}; retry {retry} of {retries} in {:.1} s",
                delay.as_secs_f64()
            ),
            _ => return,
        };
        self.notice(&text);
    }

    fn notice(&self, text: &str) {
        if !self.notices {
            return;
        }
        let _guard = self.stderr.lock();
        let mut stderr = std::io::stderr().lock();
        if let Some(bar) = &self.bar {
            let mut bar = bar.lock().unwrap_or_else(|e| e.into_inner());
            if bar.shown {
                let _ = write!(stderr, "\r\x1b[2K");
                bar.shown = false;
            }
        }
        let _ = writeln!(stderr, "kasane fetch: {text}");
    }

    fn progress(&self, done: u64, total: Option<u64>) {
        let Some(bar) = &self.bar else { return };
        // Workers call this for every buffer; draw at most ten times a second.
        let Ok(mut bar) = bar.try_lock() else { return };
        let now = Instant::now();
        if bar
            .last
            .is_some_and(|last| now - last < Duration::from_millis(100))
        {
            return;
        }
        bar.last = Some(now);
        bar.shown = true;
        let rate = done as f64 / (now - bar.started).as_secs_f64().max(1e-3);
        let line = match total {
            Some(total) if total > 0 => format!(
                "{} / {} {:>3}%  {}/s",
                iec(done),
                iec(total),
                done * 100 / total,
                iec(rate as u64)
            ),
            _ => format!("{}  {}/s", iec(done), iec(rate as u64)),
        };
        let _ = write!(std::io::stderr().lock(), "\r\x1b[2K{line}");
    }

    fn clear_progress(&self) {
        if let Some(bar) = &self.bar {
            let bar = bar.lock().unwrap_or_else(|e| e.into_inner());
            if bar.shown {
                let _ = write!(std::io::stderr().lock(), "\r\x1b[2K");
            }
        }
    }
}

/// `1 range`, `2 ranges`.
fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// `123`, `512K`, `8M`, `1G`, `8MiB`, `8MB` (binary multiples in every spelling).
fn parse_size(text: &str) -> Result<u64, String> {
    let digits_end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(digits_end);
    let number: u64 = digits
        .parse()
        .map_err(|_| format!("{text:?} is not a size like 512K, 8M or 1G"))?;
    let shift = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        _ => return Err(format!("{text:?} has an unknown unit (use K, M or G)")),
    };
    let bytes = number
        .checked_mul(1 << shift)
        .ok_or_else(|| format!("{text:?} is too large"))?;
    if bytes == 0 {
        return Err("the chunk size must be at least 1 byte".to_owned());
    }
    Ok(bytes)
}

fn parse_sha256(text: &str) -> Result<Sha256Digest, String> {
    text.parse()
        .map_err(|e: kasane_fetch::FetchError| e.to_string())
}

fn parse_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(s) if s > 0.0 && s <= 86_400.0 => Ok(s),
        _ => Err(format!(
            "{text:?} is not a number of seconds between 0 and 86400"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_in_binary_units() {
        assert_eq!(parse_size("123"), Ok(123));
        assert_eq!(parse_size("512K"), Ok(512 << 10));
        assert_eq!(parse_size("8M"), Ok(8 << 20));
        assert_eq!(parse_size("8mib"), Ok(8 << 20));
        assert_eq!(parse_size("1G"), Ok(1 << 30));
        for bad in ["", "M", "8X", "-1", "0", "1.5M", "99999999999999G"] {
            assert!(parse_size(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn seconds_must_be_positive() {
        assert_eq!(parse_seconds("0.5"), Ok(0.5));
        for bad in ["0", "-1", "x", "NaN", "1e9"] {
            assert!(parse_seconds(bad).is_err(), "{bad:?}");
        }
    }
}
