//! Serves one file over HTTP/1.1 for benchmarks and end-to-end tests, for a bounded time.
//!
//! `kasane-testserver --file PATH [--bind ADDR] [--rate BYTES_PER_SEC] [--lifetime SECS]
//! [--ignore-ranges]` prints `http://ADDR/NAME` on stdout once it listens, then serves until
//! the lifetime (default 300 s) is over.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use kasane_testserver::{Content, Reply, Server};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            let _ = writeln!(std::io::stderr(), "kasane-testserver: {message}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<(), String> {
    let mut file = None;
    let mut bind = "127.0.0.1:0".to_owned();
    let mut rate = None;
    let mut lifetime = 300u64;
    let mut ignore_ranges = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--file" => file = Some(PathBuf::from(value()?)),
            "--bind" => bind = value()?,
            "--rate" => {
                rate = Some(
                    value()?
                        .parse::<u64>()
                        .map_err(|e| format!("--rate: {e}"))?,
                )
            }
            "--lifetime" => lifetime = value()?.parse().map_err(|e| format!("--lifetime: {e}"))?,
            "--ignore-ranges" => ignore_ranges = true,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let file = file.ok_or("--file is required")?;
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let content = Content::file(&file).map_err(|e| format!("{}: {e}", file.display()))?;
    let mut builder = Server::builder(content).script(move |_| Reply {
        ignore_range: ignore_ranges,
        ..Reply::honest()
    });
    if let Some(rate) = rate {
        builder = builder.rate(rate);
    }
    let server = builder
        .bind(&bind)
        .map_err(|e| format!("bind {bind}: {e}"))?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{}", server.url(&name)).map_err(|e| e.to_string())?;
    stdout.flush().map_err(|e| e.to_string())?;
    drop(stdout);
    std::thread::sleep(Duration::from_secs(lifetime));
    drop(server);
    Ok(())
}
