//! The HTTP side: one `ureq` agent per worker (so N workers really hold N HTTP/1.1
//! connections), the system's CA certificates, timeouts, and strict reading of the headers a
//! ranged download depends on.

use std::fs;
use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ureq::http::{HeaderMap, Response};
use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig};

use crate::content_range::{ByteRange, ContentRange, parse_digits};
use crate::error::{FetchError, Requested};

/// CA bundles of the common distributions, tried in order after `$SSL_CERT_FILE`.
const CA_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt", // Debian, Ubuntu, Alpine, Arch, Gentoo
    "/etc/pki/tls/certs/ca-bundle.crt",   // Fedora, RHEL, CentOS
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", // newer RHEL
    "/etc/ssl/ca-bundle.pem",             // openSUSE
    "/etc/ssl/cert.pem",                  // Alpine (LibreSSL), macOS
];

/// Where the certificates that HTTPS trusts come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootSource {
    /// A PEM bundle on this system, with the number of certificates read from it.
    System {
        /// The bundle.
        path: PathBuf,
        /// Certificates in it.
        certificates: usize,
    },
    /// No system bundle was found (a `FROM scratch` image, say): the Mozilla roots compiled
    /// into kasane are used.
    BuiltIn,
}

/// Settings shared by every connection of one download.
#[derive(Debug, Clone)]
pub(crate) struct Client {
    tls: TlsConfig,
    timeout: Duration,
    max_redirects: u32,
}

impl Client {
    /// A client for `url`. For HTTPS the system CA bundle is read once here.
    pub(crate) fn new(https: bool, timeout: Duration) -> (Self, Option<RootSource>) {
        let (tls, source) = if https {
            let (roots, source) = system_roots();
            (TlsConfig::builder().root_certs(roots).build(), Some(source))
        } else {
            (TlsConfig::default(), None)
        };
        let client = Self {
            tls,
            timeout,
            max_redirects: 10,
        };
        (client, source)
    }

    /// A new agent. Each agent has its own connection pool, so one agent per worker means one
    /// connection per worker, kept alive from chunk to chunk.
    pub(crate) fn agent(&self) -> ureq::Agent {
        let t = Some(self.timeout);
        ureq::Agent::config_builder()
            // Statuses are ours to judge: a 404 body must never be taken for data.
            .http_status_as_error(false)
            .tls_config(self.tls.clone())
            .timeout_resolve(t)
            .timeout_connect(t)
            .timeout_send_request(t)
            .timeout_recv_response(t)
            // The stall timeout: no byte for this long on a read fails the request, however
            // long the whole body takes.
            .timeout_per_read(t)
            .timeout_per_write(t)
            .max_redirects(self.max_redirects)
            .max_idle_connections_per_host(1)
            .user_agent(concat!("kasane/", env!("CARGO_PKG_VERSION")))
            .build()
            .new_agent()
    }
}

/// Reads the first usable CA bundle; falls back to the built-in roots.
fn system_roots() -> (RootCerts, RootSource) {
    let from_env = std::env::var_os("SSL_CERT_FILE").map(PathBuf::from);
    roots_from(
        from_env
            .into_iter()
            .chain(CA_BUNDLES.iter().map(PathBuf::from)),
    )
}

fn roots_from(candidates: impl Iterator<Item = PathBuf>) -> (RootCerts, RootSource) {
    for path in candidates {
        let Ok(pem) = fs::read(&path) else { continue };
        let certs = certificates_in_pem(&pem);
        if !certs.is_empty() {
            let certificates = certs.len();
            return (
                RootCerts::Specific(Arc::new(certs)),
                RootSource::System { path, certificates },
            );
        }
    }
    (RootCerts::WebPki, RootSource::BuiltIn)
}

/// The certificates of a PEM bundle; other sections and unreadable blocks are skipped.
fn certificates_in_pem(pem: &[u8]) -> Vec<Certificate<'static>> {
    ureq::tls::parse_pem(pem)
        .filter_map(|item| match item {
            Ok(PemItem::Certificate(cert)) => Some(cert),
            _ => None,
        })
        .collect()
}

/// The validators that tell one version of a remote file from another.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Validators {
    /// `ETag`, exactly as sent.
    pub(crate) etag: Option<String>,
    /// `Last-Modified`, exactly as sent.
    pub(crate) last_modified: Option<String>,
}

impl Validators {
    pub(crate) fn from_headers(headers: &HeaderMap) -> Self {
        Self {
            etag: header_text(headers, "etag").map(str::to_owned),
            last_modified: header_text(headers, "last-modified").map(str::to_owned),
        }
    }

    /// True when there is something to tell versions apart by.
    pub(crate) fn any(&self) -> bool {
        self.etag.is_some() || self.last_modified.is_some()
    }

    /// The `If-Range` value: a strong ETag, else the date. (Weak ETags are not allowed there.)
    pub(crate) fn if_range(&self) -> Option<&str> {
        match &self.etag {
            Some(etag) if !etag.starts_with("W/") => Some(etag),
            _ => self.last_modified.as_deref(),
        }
    }

    /// Describes how `later` differs from `self`, when a validator present in both differs.
    pub(crate) fn changed_in(&self, later: &Validators) -> Option<String> {
        let differs = |a: &Option<String>, b: &Option<String>| match (a, b) {
            (Some(a), Some(b)) => a != b,
            _ => false,
        };
        if differs(&self.etag, &later.etag) {
            return Some(format!(
                "ETag was {}, now {}",
                self.etag.as_deref().unwrap_or_default(),
                later.etag.as_deref().unwrap_or_default()
            ));
        }
        if differs(&self.last_modified, &later.last_modified) {
            return Some(format!(
                "Last-Modified was {}, now {}",
                self.last_modified.as_deref().unwrap_or_default(),
                later.last_modified.as_deref().unwrap_or_default()
            ));
        }
        None
    }
}

/// Sends `GET url`, asking for `range` when given (with `If-Range` when the file's validators
/// are known), and never for a compressed encoding, so byte offsets are file offsets.
pub(crate) fn get(
    agent: &ureq::Agent,
    url: &str,
    range: Option<ByteRange>,
    if_range: Option<&str>,
) -> Result<Response<ureq::Body>, FetchError> {
    let what = range.map_or(Requested::Whole, Requested::Range);
    let mut request = agent.get(url).header("accept-encoding", "identity");
    if let Some(range) = range {
        request = request.header("range", range.header_value());
        if let Some(validator) = if_range {
            request = request.header("if-range", validator);
        }
    }
    request
        .call()
        .map_err(|error| FetchError::Transport { what, error })
}

/// A header's value as text; `None` when absent or not visible ASCII.
pub(crate) fn header_text<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// `Content-Length`, strictly: absent is `Ok(None)`, anything but digits is an error (the
/// caller decides what an unreadable length means). Duplicates must agree.
pub(crate) fn content_length(headers: &HeaderMap) -> Result<Option<u64>, String> {
    let mut length = None;
    for value in headers.get_all("content-length") {
        let parsed = parse_digits(value.as_bytes().trim_ascii()).map_err(|_| {
            format!(
                "Content-Length {:?}",
                String::from_utf8_lossy(value.as_bytes())
            )
        })?;
        if length.is_some_and(|l| l != parsed) {
            return Err("two different Content-Length headers".to_owned());
        }
        length = Some(parsed);
    }
    Ok(length)
}

/// `Content-Range`, parsed; the raw text is kept for error messages.
pub(crate) fn content_range(headers: &HeaderMap) -> Result<ContentRange, String> {
    let Some(value) = headers.get("content-range") else {
        return Err("a 206 without Content-Range".to_owned());
    };
    ContentRange::parse(value.as_bytes()).map_err(|e| {
        format!(
            "Content-Range {:?} ({e})",
            String::from_utf8_lossy(value.as_bytes())
        )
    })
}

/// True when a body read failed because no byte arrived in time.
fn is_timeout(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::TimedOut
        || e.get_ref()
            .and_then(|inner| inner.downcast_ref::<ureq::Error>())
            .is_some_and(|inner| matches!(inner, ureq::Error::Timeout(_)))
}

/// `Name "value"` of a header for an error message (`Name absent` when missing).
pub(crate) fn quoted(headers: &HeaderMap, name: &str) -> String {
    match headers.get(name) {
        Some(value) => format!("{name} {:?}", String::from_utf8_lossy(value.as_bytes())),
        None => format!("no {name}"),
    }
}

/// `Retry-After` in seconds (the HTTP-date form is ignored), capped at a minute.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let secs = parse_digits(header_text(headers, "retry-after")?.as_bytes()).ok()?;
    Some(Duration::from_secs(secs.min(60)))
}

/// Copies a response body through `sink`, enforcing its length.
///
/// With `expected`, more bytes than expected is [`FetchError::LongBody`] (and the surplus is
/// never handed to `sink`), fewer is [`FetchError::ShortBody`]. Without it, the body runs to
/// the end of the stream. `sink` may stop the copy by returning an error.
pub(crate) fn copy_body(
    body: &mut impl Read,
    buf: &mut [u8],
    expected: Option<u64>,
    what: Requested,
    mut sink: impl FnMut(&[u8]) -> Result<(), FetchError>,
) -> Result<u64, FetchError> {
    let mut received = 0u64;
    loop {
        // Ask for one byte more than is left, so a surplus shows up as soon as it exists.
        let want = match expected {
            Some(expected) => usize::try_from((expected - received).saturating_add(1))
                .map_or(buf.len(), |left| left.min(buf.len())),
            None => buf.len(),
        };
        let n = match body.read(&mut buf[..want]) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            // The client saw the connection end before the announced length.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && expected.is_some() => {
                return Err(FetchError::ShortBody {
                    what,
                    received,
                    expected: expected.unwrap_or_default(),
                });
            }
            Err(e) if is_timeout(&e) => return Err(FetchError::Stalled { what, received }),
            Err(error) => {
                return Err(FetchError::Body {
                    what,
                    received,
                    error,
                });
            }
        };
        if n == 0 {
            return match expected {
                Some(expected) if received < expected => Err(FetchError::ShortBody {
                    what,
                    received,
                    expected,
                }),
                _ => Ok(received),
            };
        }
        if let Some(expected) = expected
            && received + n as u64 > expected
        {
            return Err(FetchError::LongBody { what, expected });
        }
        sink(&buf[..n])?;
        received += n as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(
                ureq::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        map
    }

    #[test]
    fn content_length_is_strict() {
        assert_eq!(content_length(&headers(&[])), Ok(None));
        assert_eq!(
            content_length(&headers(&[("Content-Length", " 42 ")])),
            Ok(Some(42))
        );
        assert!(content_length(&headers(&[("content-length", "-1")])).is_err());
        assert!(content_length(&headers(&[("content-length", "4 2")])).is_err());
        assert!(
            content_length(&headers(&[
                ("content-length", "1"),
                ("content-length", "2")
            ]))
            .is_err()
        );
        assert_eq!(
            content_length(&headers(&[
                ("content-length", "7"),
                ("content-length", "7")
            ])),
            Ok(Some(7))
        );
    }

    #[test]
    fn if_range_prefers_a_strong_etag() {
        let v = |etag: Option<&str>, lm: Option<&str>| Validators {
            etag: etag.map(str::to_owned),
            last_modified: lm.map(str::to_owned),
        };
        assert_eq!(v(Some("\"a\""), Some("d")).if_range(), Some("\"a\""));
        assert_eq!(v(Some("W/\"a\""), Some("d")).if_range(), Some("d"));
        assert_eq!(v(Some("W/\"a\""), None).if_range(), None);
        assert!(!v(None, None).any());
        assert_eq!(v(Some("a"), None).changed_in(&v(None, Some("x"))), None);
        assert!(v(Some("a"), None).changed_in(&v(Some("b"), None)).is_some());
    }

    #[test]
    fn retry_after_takes_seconds_only() {
        assert_eq!(
            retry_after(&headers(&[("retry-after", "3")])),
            Some(Duration::from_secs(3))
        );
        assert_eq!(
            retry_after(&headers(&[("retry-after", "9999")])),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            retry_after(&headers(&[(
                "retry-after",
                "Wed, 21 Oct 2015 07:28:00 GMT"
            )])),
            None
        );
    }

    #[test]
    fn copy_body_enforces_the_expected_length() {
        let mut buf = [0u8; 4];
        let run = |data: &[u8], expected: Option<u64>, buf: &mut [u8]| {
            let mut out = Vec::new();
            let r = copy_body(&mut &data[..], buf, expected, Requested::Whole, |b| {
                out.extend_from_slice(b);
                Ok(())
            });
            (r, out)
        };
        let (r, out) = run(b"0123456789", Some(10), &mut buf);
        assert_eq!(r.unwrap(), 10);
        assert_eq!(out, b"0123456789");
        let (r, out) = run(b"0123456789", Some(6), &mut buf);
        assert!(matches!(r, Err(FetchError::LongBody { expected: 6, .. })));
        assert!(
            b"012345".starts_with(&out),
            "the surplus never reaches the file"
        );
        let (r, _) = run(b"0123", Some(6), &mut buf);
        assert!(matches!(
            r,
            Err(FetchError::ShortBody {
                received: 4,
                expected: 6,
                ..
            })
        ));
        let (r, out) = run(b"01234", None, &mut buf);
        assert_eq!(r.unwrap(), 5);
        assert_eq!(out, b"01234");
    }

    #[test]
    fn reads_the_system_bundle_and_falls_back_to_built_in_roots() {
        // The project's machines are Debian with ca-certificates (curl needs it).
        let debian = PathBuf::from(CA_BUNDLES[0]);
        let (_, source) =
            roots_from([PathBuf::from("/nonexistent/ca.pem"), debian.clone()].into_iter());
        match source {
            RootSource::System { path, certificates } => {
                assert_eq!(path, debian);
                assert!(certificates > 50, "only {certificates} certificates");
            }
            RootSource::BuiltIn => panic!("{} was not read", debian.display()),
        }
        let not_pem = tempfile::NamedTempFile::new().unwrap();
        fs::write(not_pem.path(), "not pem").unwrap();
        let (roots, source) = roots_from([not_pem.path().to_owned()].into_iter());
        assert_eq!(source, RootSource::BuiltIn);
        assert!(matches!(roots, RootCerts::WebPki));
    }
}
