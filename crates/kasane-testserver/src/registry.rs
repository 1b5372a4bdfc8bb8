//! A fake container registry for the faults a real one will not produce on demand: it serves
//! whatever a test puts at each path (right or wrong), performs basic or bearer-token
//! authentication (the real token exchange: a 401 with a `Bearer` challenge, a token endpoint on
//! the same server that checks basic credentials, then the token on every request), and cuts or
//! stalls bodies. One connection per request (`Connection: close`). Stops when dropped.

use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Longest a stalled reply holds its connection.
const MAX_STALL: Duration = Duration::from_secs(60);

/// How the registry authenticates.
#[derive(Debug, Clone, Default)]
pub enum RegistryAuth {
    /// Anyone may pull.
    #[default]
    Anonymous,
    /// `Basic` with this user and password on every request.
    Basic {
        /// The user.
        user: String,
        /// The password.
        password: String,
    },
    /// The token dance: `/v2/` answers 401 with a `Bearer` challenge pointing at `/token` on
    /// this server, which hands out `token` to these credentials (`None`: to anyone).
    Token {
        /// Required credentials for the token endpoint.
        credentials: Option<(String, String)>,
        /// The token it hands out and then requires.
        token: String,
    },
    /// The token dance with an OAuth2 token endpoint, as distribution's token spec describes it
    /// for identity tokens (`docker login` to Azure and others): `/token` takes only a form
    /// `POST` with `grant_type=refresh_token`, this `refresh_token`, a `client_id`, the
    /// `service` and a `scope`, and answers an `access_token`.
    OAuth {
        /// The identity (refresh) token it accepts.
        refresh_token: String,
        /// The access token it hands out and then requires.
        token: String,
    },
}

/// A deliberate fault in a reply.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Fault {
    /// None.
    #[default]
    None,
    /// Announce the full length, send this many body bytes, close.
    Truncate(usize),
    /// Send this many body bytes, then hold the connection silent.
    Stall(usize),
    /// Accept the request and never answer.
    StallHeaders,
}

/// What the registry answers at one path.
#[derive(Debug, Clone)]
pub struct Route {
    /// The status.
    pub status: u16,
    /// `Content-Type`, if any.
    pub content_type: Option<String>,
    /// More headers.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Arc<Vec<u8>>,
    /// A fault to inject.
    pub fault: Fault,
}

impl Route {
    /// `200` with `body` of `content_type`.
    pub fn ok(content_type: &str, body: Vec<u8>) -> Route {
        Route {
            status: 200,
            content_type: Some(content_type.to_owned()),
            headers: Vec::new(),
            body: Arc::new(body),
            fault: Fault::None,
        }
    }

    /// The same route with a fault.
    pub fn with_fault(mut self, fault: Fault) -> Route {
        self.fault = fault;
        self
    }

    /// The same route with one more header.
    pub fn with_header(mut self, name: &str, value: &str) -> Route {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
}

/// One request, as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The method (`GET`, `POST`).
    pub method: String,
    /// The request target (path and query).
    pub target: String,
    /// The `Authorization` header, if any.
    pub authorization: Option<String>,
    /// The `Accept` header, if any.
    pub accept: Option<String>,
}

struct Shared {
    routes: HashMap<String, Route>,
    auth: RegistryAuth,
    stop: AtomicBool,
    log: Mutex<Vec<Received>>,
    streams: Mutex<Vec<TcpStream>>,
    addr: Mutex<Option<SocketAddr>>,
}

/// Builds a [`FakeRegistry`].
#[derive(Debug, Default)]
pub struct RegistryBuilder {
    routes: HashMap<String, Route>,
    auth: RegistryAuth,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").finish_non_exhaustive()
    }
}

impl RegistryBuilder {
    /// Serves `route` at `path` (`/v2/app/manifests/v1`).
    pub fn route(mut self, path: &str, route: Route) -> Self {
        self.routes.insert(path.to_owned(), route);
        self
    }

    /// Authenticates as `auth` says.
    pub fn auth(mut self, auth: RegistryAuth) -> Self {
        self.auth = auth;
        self
    }

    /// Starts serving on 127.0.0.1 and a free port.
    pub fn start(self) -> FakeRegistry {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let shared = Arc::new(Shared {
            routes: self.routes,
            auth: self.auth,
            stop: AtomicBool::new(false),
            log: Mutex::new(Vec::new()),
            streams: Mutex::new(Vec::new()),
            addr: Mutex::new(Some(addr)),
        });
        let thread_shared = Arc::clone(&shared);
        let handle = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if thread_shared.stop.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                if let Ok(clone) = stream.try_clone()
                    && let Ok(mut streams) = thread_shared.streams.lock()
                {
                    streams.push(clone);
                }
                let shared = Arc::clone(&thread_shared);
                std::thread::spawn(move || {
                    let _ = serve(stream, &shared);
                });
            }
        });
        FakeRegistry {
            addr,
            shared,
            handle: Some(handle),
        }
    }
}

/// A running fake registry.
#[derive(Debug)]
pub struct FakeRegistry {
    addr: SocketAddr,
    shared: Arc<Shared>,
    handle: Option<JoinHandle<()>>,
}

impl FakeRegistry {
    /// A builder.
    pub fn builder() -> RegistryBuilder {
        RegistryBuilder::default()
    }

    /// `127.0.0.1:PORT`, the registry part of references to it.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    /// Every request so far.
    pub fn received(&self) -> Vec<Received> {
        self.shared
            .log
            .lock()
            .map(|l| l.clone())
            .unwrap_or_default()
    }
}

impl Drop for FakeRegistry {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        if let Ok(streams) = self.shared.streams.lock() {
            for s in streams.iter() {
                let _ = s.shutdown(Shutdown::Both);
            }
        }
        // Wake the accept loop.
        let _ = TcpStream::connect(self.addr);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// A 401 whose `Bearer` challenge points at this server's `/token`, scoped to the repository in
/// `path`.
fn bearer_challenge(out: &mut TcpStream, addr: Option<SocketAddr>, path: &str) -> io::Result<()> {
    let repo = path
        .strip_prefix("/v2/")
        .and_then(|p| {
            p.rsplit_once("/manifests/")
                .or_else(|| p.rsplit_once("/blobs/"))
        })
        .map_or("", |(r, _)| r);
    let addr = addr.map(|a| a.to_string()).unwrap_or_default();
    let challenge = format!(
        r#"Bearer realm="http://{addr}/token",service="fake-registry",scope="repository:{repo}:pull""#
    );
    reply(
        out,
        401,
        &[("WWW-Authenticate", challenge)],
        br#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#,
    )
}

fn serve(stream: TcpStream, shared: &Shared) -> io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let line = line.trim_end().to_owned();
        if line.is_empty() {
            break;
        }
        lines.push(line);
    }
    let method = lines
        .first()
        .and_then(|l| l.split(' ').next())
        .unwrap_or("GET")
        .to_owned();
    let target = lines
        .first()
        .and_then(|l| l.split(' ').nth(1))
        .unwrap_or("/")
        .to_owned();
    let header = |name: &str| {
        lines.iter().skip(1).find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
    };
    // A form body (the OAuth2 token request); small, so read whole.
    let length: usize = header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
        .min(64 * 1024);
    let mut body = vec![0u8; length];
    io::Read::read_exact(&mut reader, &mut body)?;
    let received = Received {
        method: method.clone(),
        target: target.clone(),
        authorization: header("authorization"),
        accept: header("accept"),
    };
    if let Ok(mut log) = shared.log.lock() {
        log.push(received.clone());
    }
    let mut out = stream;
    let addr = shared.addr.lock().ok().and_then(|a| *a);
    let (path, query) = target.split_once('?').unwrap_or((target.as_str(), ""));
    // Authentication.
    match &shared.auth {
        RegistryAuth::Anonymous => {}
        RegistryAuth::Basic { user, password } => {
            if received.authorization.as_deref() != Some(&basic(user, password)) {
                return reply(
                    &mut out,
                    401,
                    &[("WWW-Authenticate", "Basic realm=\"fake\"".to_owned())],
                    br#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#,
                );
            }
        }
        RegistryAuth::Token { credentials, token } => {
            if path == "/token" {
                let creds_ok = match credentials {
                    None => true,
                    Some((u, p)) => received.authorization.as_deref() == Some(&basic(u, p)),
                };
                if !creds_ok
                    || !query.contains("service=fake-registry")
                    || !query.contains("scope=")
                {
                    return reply(
                        &mut out,
                        401,
                        &[],
                        br#"{"details":"incorrect username or password"}"#,
                    );
                }
                let body = format!(r#"{{"token":"{token}","expires_in":300}}"#);
                return reply(
                    &mut out,
                    200,
                    &[("Content-Type", "application/json".into())],
                    body.as_bytes(),
                );
            }
            if received.authorization.as_deref() != Some(&format!("Bearer {token}")) {
                return bearer_challenge(&mut out, addr, path);
            }
        }
        RegistryAuth::OAuth {
            refresh_token,
            token,
        } => {
            if path == "/token" {
                let form = String::from_utf8_lossy(&body);
                let field = |name: &str| {
                    form.split('&')
                        .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
                        .map(str::to_owned)
                };
                let granted = method == "POST"
                    && field("grant_type").as_deref() == Some("refresh_token")
                    && field("refresh_token").as_deref() == Some(refresh_token.as_str())
                    && field("service").as_deref() == Some("fake-registry")
                    && field("client_id").is_some_and(|c| !c.is_empty())
                    && field("scope").is_some();
                if !granted {
                    return reply(
                        &mut out,
                        401,
                        &[],
                        br#"{"details":"invalid refresh token"}"#,
                    );
                }
                let body = format!(r#"{{"access_token":"{token}","expires_in":300}}"#);
                return reply(
                    &mut out,
                    200,
                    &[("Content-Type", "application/json".into())],
                    body.as_bytes(),
                );
            }
            if received.authorization.as_deref() != Some(&format!("Bearer {token}")) {
                return bearer_challenge(&mut out, addr, path);
            }
        }
    }
    let Some(route) = shared.routes.get(path) else {
        return reply(
            &mut out,
            404,
            &[("Content-Type", "application/json".into())],
            br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}"#,
        );
    };
    if route.fault == Fault::StallHeaders {
        stall(shared);
        return Ok(());
    }
    let mut headers: Vec<(&str, String)> = route
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.clone()))
        .collect();
    if let Some(ct) = &route.content_type {
        headers.push(("Content-Type", ct.clone()));
    }
    let body = &route.body[..];
    match route.fault {
        Fault::Truncate(n) | Fault::Stall(n) => {
            write_head(&mut out, route.status, &headers, body.len())?;
            out.write_all(&body[..n.min(body.len())])?;
            out.flush()?;
            if let Fault::Stall(_) = route.fault {
                stall(shared);
            }
            let _ = out.shutdown(Shutdown::Both);
            Ok(())
        }
        _ => reply(&mut out, route.status, &headers, body),
    }
}

fn stall(shared: &Shared) {
    let start = Instant::now();
    while !shared.stop.load(Ordering::Relaxed) && start.elapsed() < MAX_STALL {
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn write_head(
    out: &mut TcpStream,
    status: u16,
    headers: &[(&str, String)],
    len: usize,
) -> io::Result<()> {
    let mut head = format!("HTTP/1.1 {status} X\r\nContent-Length: {len}\r\nConnection: close\r\n");
    for (n, v) in headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    head.push_str("\r\n");
    out.write_all(head.as_bytes())
}

fn reply(
    out: &mut TcpStream,
    status: u16,
    headers: &[(&str, String)],
    body: &[u8],
) -> io::Result<()> {
    write_head(out, status, headers, body.len())?;
    out.write_all(body)?;
    out.flush()?;
    let _ = out.shutdown(Shutdown::Write);
    Ok(())
}

/// `Basic base64(user:password)`, written here independently of the client under test.
fn basic(user: &str, password: &str) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let input = format!("{user}:{password}").into_bytes();
    let mut out = String::from("Basic ");
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            out.push(if i <= chunk.len() {
                A[((n >> (18 - 6 * i)) & 63) as usize] as char
            } else {
                '='
            });
        }
    }
    out
}

/// How a fixture image's layers are compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Packing {
    /// gzip (`tar+gzip`).
    Gzip,
    /// zstd (`tar+zstd`).
    Zstd,
}

/// A small OCI image to serve: two layers (the second deletes a 50 kB file of the first and
/// rewrites another), its config and its manifest, with their digests (`sha256:<hex>`).
#[derive(Debug, Clone)]
pub struct FixtureImage {
    /// `(digest, blob)` per layer, bottom first.
    pub layers: Vec<(String, Vec<u8>)>,
    /// `(digest, bytes)` of the config.
    pub config: (String, Vec<u8>),
    /// `(digest, bytes)` of the manifest.
    pub manifest: (String, Vec<u8>),
}

/// The OCI manifest media type.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// The OCI index media type.
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

/// `sha256:<hex>` of `bytes`.
pub fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    let raw = sha2::Sha256::digest(bytes);
    let mut out = String::from("sha256:");
    for b in raw.iter() {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

fn layer_tar(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (path, data) in files {
        let mut h = tar::Header::new_ustar();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(1_700_000_000);
        h.set_entry_type(tar::EntryType::Regular);
        b.append_data(&mut h, path, *data).expect("tar in memory");
    }
    b.into_inner().expect("tar in memory")
}

fn pack(tar: &[u8], packing: Packing) -> Vec<u8> {
    match packing {
        Packing::Gzip => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(tar).expect("gzip in memory");
            e.finish().expect("gzip in memory")
        }
        Packing::Zstd => zstd::encode_all(tar, 3).expect("zstd in memory"),
    }
}

impl FixtureImage {
    /// The image for `arch` (`amd64`, `arm64`) with layers packed as `packing`.
    pub fn new(packing: Packing, arch: &str) -> FixtureImage {
        let big = vec![7u8; 50_000];
        let tars = [
            layer_tar(&[("etc/app.conf", b"x=1\n"), ("opt/big.bin", &big)]),
            layer_tar(&[("opt/.wh.big.bin", b""), ("etc/app.conf", b"x=2\n")]),
        ];
        let layer_type = match packing {
            Packing::Gzip => "application/vnd.oci.image.layer.v1.tar+gzip",
            Packing::Zstd => "application/vnd.oci.image.layer.v1.tar+zstd",
        };
        let layers: Vec<(String, Vec<u8>)> = tars
            .iter()
            .map(|t| {
                let blob = pack(t, packing);
                (sha256(&blob), blob)
            })
            .collect();
        let diff_ids: Vec<String> = tars.iter().map(|t| format!("\"{}\"", sha256(t))).collect();
        let config = format!(
            r#"{{"architecture":"{arch}","os":"linux","rootfs":{{"type":"layers","diff_ids":[{}]}},"history":[{{"created_by":"COPY . /"}},{{"created_by":"RUN rm /opt/big.bin"}}]}}"#,
            diff_ids.join(",")
        )
        .into_bytes();
        let config_digest = sha256(&config);
        let layer_entries: Vec<String> = layers
            .iter()
            .map(|(d, b)| {
                format!(
                    r#"{{"mediaType":"{layer_type}","digest":"{d}","size":{}}}"#,
                    b.len()
                )
            })
            .collect();
        let manifest = format!(
            r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{config_digest}","size":{}}},"layers":[{}]}}"#,
            config.len(),
            layer_entries.join(",")
        )
        .into_bytes();
        FixtureImage {
            manifest: (sha256(&manifest), manifest),
            config: (config_digest, config),
            layers,
        }
    }

    /// Serves the image in `repo` under `tag` and under its manifest digest.
    pub fn serve(&self, mut b: RegistryBuilder, repo: &str, tag: &str) -> RegistryBuilder {
        let manifest = Route::ok(OCI_MANIFEST, self.manifest.1.clone())
            .with_header("Docker-Content-Digest", &self.manifest.0);
        b = b
            .route(&format!("/v2/{repo}/manifests/{tag}"), manifest.clone())
            .route(
                &format!("/v2/{repo}/manifests/{}", self.manifest.0),
                manifest,
            )
            .route(
                &format!("/v2/{repo}/blobs/{}", self.config.0),
                Route::ok("application/octet-stream", self.config.1.clone()),
            );
        for (d, blob) in &self.layers {
            b = b.route(
                &format!("/v2/{repo}/blobs/{d}"),
                Route::ok("application/octet-stream", blob.clone()),
            );
        }
        b
    }
}
