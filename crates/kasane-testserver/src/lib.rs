//! A small HTTP/1.1 file server on `std::net` for testing downloads: by default it serves one
//! file correctly (byte ranges, `If-Range`, `ETag`, `Last-Modified`, keep-alive), and a test
//! script decides, per request, how to misbehave instead: ignore ranges, lie in
//! `Content-Range`, cut or stall the body, send lower-case headers, omit `Content-Length`, use
//! chunked framing, answer with an error status, or serve another version of the file.
//!
//! It also throttles each connection's bandwidth, as object stores do, for the benchmark.
//! Every server stops (and closes its connections) when dropped; nothing outlives the test.
//!
//! [`registry`] is a fake container registry (auth, token exchange, faults) on the same terms.

pub mod registry;

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Longest a stalled reply holds its connection before giving up on its own.
const MAX_STALL: Duration = Duration::from_secs(120);
/// Idle keep-alive connections are closed after this long.
const IDLE: Duration = Duration::from_secs(30);

/// One version of the served file.
#[derive(Debug, Clone)]
pub struct Content {
    source: Source,
    len: u64,
    /// Its `ETag` (strong).
    pub etag: String,
    /// Its `Last-Modified`.
    pub last_modified: String,
}

#[derive(Debug, Clone)]
enum Source {
    Memory(Arc<Vec<u8>>),
    File(Arc<File>),
}

impl Content {
    /// A version held in memory; `tag` makes its validators differ from other versions'.
    pub fn bytes(bytes: Vec<u8>, tag: &str) -> Self {
        Self {
            len: bytes.len() as u64,
            etag: format!("\"{tag}-{}\"", bytes.len()),
            source: Source::Memory(Arc::new(bytes)),
            last_modified: last_modified_for(tag),
        }
    }

    /// A version read from a file on demand (for large benchmark files).
    pub fn file(path: &Path) -> io::Result<Self> {
        let file = File::open(path)?;
        let len = file.metadata()?.len();
        Ok(Self {
            source: Source::File(Arc::new(file)),
            len,
            etag: format!("\"file-{len}\""),
            last_modified: last_modified_for("file"),
        })
    }

    /// Its length.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        match &self.source {
            Source::Memory(bytes) => {
                let start = usize::try_from(offset)
                    .unwrap_or(usize::MAX)
                    .min(bytes.len());
                let n = buf.len().min(bytes.len() - start);
                buf[..n].copy_from_slice(&bytes[start..start + n]);
                Ok(n)
            }
            Source::File(file) => file.read_at(buf, offset),
        }
    }
}

/// A distinct, valid HTTP date per tag.
fn last_modified_for(tag: &str) -> String {
    let day = 1 + tag.bytes().map(usize::from).sum::<usize>() % 28;
    format!("Mon, {day:02} Jan 2024 00:00:00 GMT")
}

/// What the server received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// 0-based number of the request across the whole server.
    pub index: usize,
    /// 0-based number of the connection it came on.
    pub connection: usize,
    /// Method.
    pub method: String,
    /// Request target.
    pub path: String,
    /// The `Range` header, as sent.
    pub range: Option<String>,
    /// The `If-Range` header, as sent.
    pub if_range: Option<String>,
    /// The `Accept-Encoding` header, as sent.
    pub accept_encoding: Option<String>,
}

/// How the body is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Framing {
    /// `Content-Length` (the default).
    #[default]
    Length,
    /// No length: the end of the connection ends the body.
    Close,
    /// `Transfer-Encoding: chunked`.
    Chunked,
}

/// How to answer one request. [`Reply::honest`] serves the file correctly; each field bends
/// one thing.
#[derive(Debug, Clone, Default)]
pub struct Reply {
    /// Which version of the file to serve (index into the server's versions).
    pub version: usize,
    /// Ignore `Range` and send `200` with the whole file.
    pub ignore_range: bool,
    /// Ignore `If-Range` (serve the range even when the validator no longer matches).
    pub ignore_if_range: bool,
    /// Send this status with a short text body instead of the file.
    pub status: Option<u16>,
    /// Send `302` to this location.
    pub redirect: Option<String>,
    /// Replace the `Content-Range` value of a 206 (the body still holds the range asked).
    pub content_range: Option<String>,
    /// Serve the range starting this many bytes later than asked (headers unchanged).
    pub shift_body: u64,
    /// Body framing.
    pub framing: Framing,
    /// Send header names in lower case.
    pub lower_case: bool,
    /// Leave out `ETag` and `Last-Modified`.
    pub no_validators: bool,
    /// Close the connection after this many body bytes.
    pub cut_after: Option<u64>,
    /// Stop sending after this many body bytes and hold the connection open.
    pub stall_after: Option<u64>,
    /// Hold the connection without answering at all.
    pub stall_headers: bool,
    /// Append this many bytes of garbage after the body, then close.
    pub extra: u64,
    /// Ask for `Retry-After` seconds (with an error status).
    pub retry_after: Option<u64>,
}

impl Reply {
    /// The correct answer.
    pub fn honest() -> Self {
        Self::default()
    }
}

/// Counters, for asserting how a client behaved.
#[derive(Debug, Default)]
pub struct Stats {
    /// Requests received.
    pub requests: AtomicUsize,
    /// Connections accepted.
    pub connections: AtomicUsize,
    /// Connections open right now.
    pub open: AtomicUsize,
    /// Most connections open at once.
    pub peak_open: AtomicUsize,
    /// Every request, in arrival order.
    pub log: Mutex<Vec<Request>>,
}

type Script = dyn Fn(&Request) -> Reply + Send + Sync;

struct Shared {
    versions: Vec<Content>,
    script: Box<Script>,
    rate: Option<u64>,
    stop: AtomicBool,
    stats: Stats,
    /// Open connections, so that dropping the server can close them.
    streams: Mutex<HashMap<usize, TcpStream>>,
}

/// A running server; stops when dropped.
pub struct Server {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server").field("addr", &self.addr).finish()
    }
}

/// Builds a [`Server`].
pub struct Builder {
    versions: Vec<Content>,
    script: Box<Script>,
    rate: Option<u64>,
}

impl std::fmt::Debug for Builder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder")
            .field("versions", &self.versions.len())
            .finish()
    }
}

impl Builder {
    /// Answers each request as `script` says.
    pub fn script(mut self, script: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Self {
        self.script = Box::new(script);
        self
    }

    /// Adds another version of the file (for "the file changed" cases).
    pub fn version(mut self, content: Content) -> Self {
        self.versions.push(content);
        self
    }

    /// Limits each connection to `bytes_per_second` of body.
    pub fn rate(mut self, bytes_per_second: u64) -> Self {
        self.rate = Some(bytes_per_second.max(1));
        self
    }

    /// Starts on 127.0.0.1 with a free port.
    pub fn start(self) -> Server {
        self.bind("127.0.0.1:0").expect("bind 127.0.0.1")
    }

    /// Starts on `addr`.
    pub fn bind(self, addr: impl ToSocketAddrs) -> io::Result<Server> {
        let listener = TcpListener::bind(addr)?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            versions: self.versions,
            script: self.script,
            rate: self.rate,
            stop: AtomicBool::new(false),
            stats: Stats::default(),
            streams: Mutex::new(HashMap::new()),
        });
        let accept_shared = Arc::clone(&shared);
        let accept = std::thread::spawn(move || accept_loop(&listener, &accept_shared));
        Ok(Server {
            addr,
            shared,
            accept: Some(accept),
        })
    }
}

impl Server {
    /// A server for `content` that answers every request honestly until scripted otherwise.
    pub fn builder(content: Content) -> Builder {
        Builder {
            versions: vec![content],
            script: Box::new(|_| Reply::honest()),
            rate: None,
        }
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR/path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}/{}", self.addr, path.trim_start_matches('/'))
    }

    /// The counters.
    pub fn stats(&self) -> &Stats {
        &self.shared.stats
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Request> {
        self.shared
            .stats
            .log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        for stream in self
            .shared
            .streams
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
        {
            let _ = stream.shutdown(Shutdown::Both);
        }
        // Wake the accept loop.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    for (id, stream) in listener.incoming().enumerate() {
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else { continue };
        if let Ok(clone) = stream.try_clone() {
            shared
                .streams
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(id, clone);
        }
        let stats = &shared.stats;
        stats.connections.fetch_add(1, Ordering::SeqCst);
        let open = stats.open.fetch_add(1, Ordering::SeqCst) + 1;
        stats.peak_open.fetch_max(open, Ordering::SeqCst);
        let shared = Arc::clone(shared);
        std::thread::spawn(move || {
            let _ = serve_connection(&stream, id, &shared);
            // Close for real: the clone kept for shutdown would otherwise hold it open.
            let _ = stream.shutdown(Shutdown::Both);
            shared
                .streams
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&id);
            shared.stats.open.fetch_sub(1, Ordering::SeqCst);
        });
    }
}

/// What to do with the connection after a reply.
enum After {
    KeepAlive,
    Close,
}

fn serve_connection(stream: &TcpStream, connection: usize, shared: &Shared) -> io::Result<()> {
    stream.set_read_timeout(Some(IDLE))?;
    stream.set_write_timeout(Some(IDLE))?;
    let _ = stream.set_nodelay(true);
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream.try_clone()?;
    loop {
        let Some(head) = read_head(&mut reader)? else {
            return Ok(());
        };
        let index = shared.stats.requests.fetch_add(1, Ordering::SeqCst);
        let request = parse_request(&head, index, connection);
        shared
            .stats
            .log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(request.clone());
        let reply = (shared.script)(&request);
        match respond(&mut writer, &request, &reply, shared)? {
            After::KeepAlive if !shared.stop.load(Ordering::SeqCst) => {}
            _ => return Ok(()),
        }
    }
}

/// Reads one request head (up to the blank line); `None` at a clean end of the connection.
fn read_head(reader: &mut impl BufRead) -> io::Result<Option<Vec<String>>> {
    let mut lines = Vec::new();
    let mut total = 0;
    loop {
        let mut line = String::new();
        let n = reader.read_line(&mut line)?;
        if n == 0 {
            return Ok(None);
        }
        total += n;
        if total > 64 * 1024 {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "head too large"));
        }
        let line = line.trim_end_matches(['\r', '\n']).to_owned();
        if line.is_empty() {
            if lines.is_empty() {
                continue;
            }
            return Ok(Some(lines));
        }
        lines.push(line);
    }
}

fn parse_request(head: &[String], index: usize, connection: usize) -> Request {
    let mut parts = head[0].split(' ');
    let method = parts.next().unwrap_or_default().to_owned();
    let path = parts.next().unwrap_or_default().to_owned();
    let header = |name: &str| {
        head[1..].iter().find_map(|line| {
            let (k, v) = line.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
    };
    Request {
        index,
        connection,
        method,
        path,
        range: header("range"),
        if_range: header("if-range"),
        accept_encoding: header("accept-encoding"),
    }
}

/// `bytes=a-b`, `bytes=a-`, `bytes=-n` against `len`: `Some(Ok(first, last))`, `Some(Err(()))`
/// when unsatisfiable, `None` when absent or not understood (then the whole file is sent).
fn resolve_range(range: Option<&str>, len: u64) -> Option<Result<(u64, u64), ()>> {
    let spec = range?.strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (first, last) = match (a.trim(), b.trim()) {
        ("", suffix) => {
            let n: u64 = suffix.parse().ok()?;
            if n == 0 {
                return Some(Err(()));
            }
            (len.saturating_sub(n), len.checked_sub(1)?)
        }
        (a, "") => (a.parse().ok()?, len.saturating_sub(1)),
        (a, b) => {
            let (a, b): (u64, u64) = (a.parse().ok()?, b.parse().ok()?);
            if b < a {
                return None;
            }
            (a, b.min(len.saturating_sub(1)))
        }
    };
    if len == 0 || first >= len {
        return Some(Err(()));
    }
    Some(Ok((first, last)))
}

fn respond(
    out: &mut TcpStream,
    request: &Request,
    reply: &Reply,
    shared: &Shared,
) -> io::Result<After> {
    if reply.stall_headers {
        stall(shared);
        return Ok(After::Close);
    }
    let content = &shared.versions[reply.version.min(shared.versions.len() - 1)];
    let mut headers: Vec<(String, String)> = Vec::new();
    let header = |headers: &mut Vec<(String, String)>, k: &str, v: String| {
        let k = if reply.lower_case {
            k.to_ascii_lowercase()
        } else {
            k.to_owned()
        };
        headers.push((k, v));
    };
    if let Some(location) = &reply.redirect {
        header(&mut headers, "Location", location.clone());
        header(&mut headers, "Content-Length", "0".to_owned());
        write_head(out, 302, &headers)?;
        return Ok(After::KeepAlive);
    }
    if let Some(status) = reply.status {
        let body = format!("error {status}\n");
        header(&mut headers, "Content-Type", "text/plain".to_owned());
        header(&mut headers, "Content-Length", body.len().to_string());
        if let Some(secs) = reply.retry_after {
            header(&mut headers, "Retry-After", secs.to_string());
        }
        write_head(out, status, &headers)?;
        out.write_all(body.as_bytes())?;
        return Ok(After::KeepAlive);
    }
    // If-Range: a range only while the validator still matches this version.
    let validator_matches = reply.ignore_if_range
        || request
            .if_range
            .as_ref()
            .is_none_or(|v| *v == content.etag || *v == content.last_modified);
    let range = if reply.ignore_range || !validator_matches {
        None
    } else {
        resolve_range(request.range.as_deref(), content.len)
    };
    let (status, first, len) = match range {
        None => (200, 0, content.len),
        Some(Err(())) => {
            header(
                &mut headers,
                "Content-Range",
                format!("bytes */{}", content.len),
            );
            header(&mut headers, "Content-Length", "0".to_owned());
            write_head(out, 416, &headers)?;
            return Ok(After::KeepAlive);
        }
        Some(Ok((first, last))) => {
            let value = reply
                .content_range
                .clone()
                .unwrap_or_else(|| format!("bytes {first}-{last}/{}", content.len));
            header(&mut headers, "Content-Range", value);
            (206, first, last - first + 1)
        }
    };
    header(&mut headers, "Accept-Ranges", "bytes".to_owned());
    header(
        &mut headers,
        "Content-Type",
        "application/octet-stream".to_owned(),
    );
    if !reply.no_validators {
        header(&mut headers, "ETag", content.etag.clone());
        header(&mut headers, "Last-Modified", content.last_modified.clone());
    }
    match reply.framing {
        Framing::Length => header(&mut headers, "Content-Length", len.to_string()),
        Framing::Close => header(&mut headers, "Connection", "close".to_owned()),
        Framing::Chunked => header(&mut headers, "Transfer-Encoding", "chunked".to_owned()),
    }
    write_head(out, status, &headers)?;
    if request.method == "HEAD" {
        return Ok(After::KeepAlive);
    }
    let start = first.saturating_add(reply.shift_body);
    let limit = [reply.cut_after, reply.stall_after]
        .into_iter()
        .flatten()
        .min();
    let sent = send_body(out, content, start, len, limit, reply.framing, shared)?;
    if reply.stall_after.is_some_and(|n| sent >= n) {
        stall(shared);
        return Ok(After::Close);
    }
    if reply.cut_after.is_some_and(|n| sent >= n) {
        return Ok(After::Close);
    }
    if reply.framing == Framing::Chunked {
        out.write_all(b"0\r\n\r\n")?;
    }
    if reply.extra > 0 {
        out.write_all(&vec![b'!'; usize::try_from(reply.extra).unwrap_or(0)])?;
        return Ok(After::Close);
    }
    Ok(match reply.framing {
        Framing::Close => After::Close,
        _ => After::KeepAlive,
    })
}

fn write_head(out: &mut TcpStream, status: u16, headers: &[(String, String)]) -> io::Result<()> {
    let reason = match status {
        200 => "OK",
        206 => "Partial Content",
        302 => "Found",
        404 => "Not Found",
        416 => "Range Not Satisfiable",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    };
    let mut head = format!("HTTP/1.1 {status} {reason}\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    out.write_all(head.as_bytes())
}

/// Sends `len` bytes of `content` from `start` (fewer when the file ends first, or `limit`
/// stops it), throttled to the server's rate. Returns the bytes sent.
fn send_body(
    out: &mut TcpStream,
    content: &Content,
    start: u64,
    len: u64,
    limit: Option<u64>,
    framing: Framing,
    shared: &Shared,
) -> io::Result<u64> {
    let mut buf = vec![0u8; 64 * 1024];
    let goal = limit.map_or(len, |l| l.min(len));
    let began = Instant::now();
    let mut sent = 0u64;
    while sent < goal {
        if shared.stop.load(Ordering::Relaxed) {
            return Err(io::Error::other("server stopping"));
        }
        let mut want = buf
            .len()
            .min(usize::try_from(goal - sent).unwrap_or(usize::MAX));
        if let Some(rate) = shared.rate {
            // Small slices keep the pace even; sleep until the next slice is due.
            want = want.min(usize::try_from(rate / 50).unwrap_or(usize::MAX).max(1));
            let due = Duration::from_secs_f64(sent as f64 / rate as f64);
            if let Some(wait) = due.checked_sub(began.elapsed()) {
                std::thread::sleep(wait);
            }
        }
        let n = content.read_at(&mut buf[..want], start + sent)?;
        if n == 0 {
            break;
        }
        if framing == Framing::Chunked {
            out.write_all(format!("{n:x}\r\n").as_bytes())?;
            out.write_all(&buf[..n])?;
            out.write_all(b"\r\n")?;
        } else {
            out.write_all(&buf[..n])?;
        }
        sent += n as u64;
    }
    out.flush()?;
    Ok(sent)
}

fn stall(shared: &Shared) {
    let until = Instant::now() + MAX_STALL;
    while !shared.stop.load(Ordering::Relaxed) && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Deterministic pseudo-random bytes (xorshift), so tests need no data files.
pub fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_resolve_as_rfc_9110_says() {
        assert_eq!(resolve_range(Some("bytes=0-0"), 10), Some(Ok((0, 0))));
        assert_eq!(resolve_range(Some("bytes=5-"), 10), Some(Ok((5, 9))));
        assert_eq!(resolve_range(Some("bytes=-3"), 10), Some(Ok((7, 9))));
        assert_eq!(resolve_range(Some("bytes=8-100"), 10), Some(Ok((8, 9))));
        assert_eq!(resolve_range(Some("bytes=10-12"), 10), Some(Err(())));
        assert_eq!(resolve_range(Some("bytes=0-0"), 0), Some(Err(())));
        assert_eq!(resolve_range(Some("bytes=0-1,3-4"), 10), None);
        assert_eq!(resolve_range(Some("items=0-1"), 10), None);
        assert_eq!(resolve_range(None, 10), None);
    }

    #[test]
    fn pattern_is_deterministic_and_varied() {
        assert_eq!(pattern(100, 7), pattern(100, 7));
        assert_ne!(pattern(100, 7), pattern(100, 8));
        let p = pattern(4096, 1);
        assert!(p.iter().filter(|&&b| b == p[0]).count() < 100);
    }
}
