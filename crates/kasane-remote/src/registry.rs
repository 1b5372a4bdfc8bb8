//! A client for the Registry HTTP API v2 (the OCI distribution spec, pull side): manifests and
//! blobs by digest, anonymous, basic and bearer-token authentication, and timeouts on every read.

use std::io::{self, Read};
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use kasane_image::Digest;
use kasane_image::spec::media;
use ureq::config::RedirectAuthHeaders;
use ureq::http::Response;

use crate::auth::{Challenge, parse_challenge, parse_token, query_escape};
use crate::credentials::{self, Credentials};
use crate::error::RemoteError;
use crate::reference::Reference;
use crate::trust::{CertSource, RegistryCerts};

/// Manifests larger than this are refused (the distribution spec suggests 4 MiB).
pub const MANIFEST_LIMIT: u64 = 4 * 1024 * 1024;
/// Every manifest type kasane reads, for `Accept`.
const MANIFEST_TYPES: &str = "application/vnd.oci.image.index.v1+json, \
    application/vnd.docker.distribution.manifest.list.v2+json, \
    application/vnd.oci.image.manifest.v1+json, \
    application/vnd.docker.distribution.manifest.v2+json";

/// How to talk to a registry.
#[derive(Debug, Clone)]
pub struct RegistryOptions {
    /// Use plain HTTP even though the registry is not on this machine.
    pub insecure: bool,
    /// Where the certificates for HTTPS registries are found. A registry on this machine is
    /// spoken to over HTTPS too when it has a certificate directory.
    pub certs: CertSource,
    /// Longest wait for a connection, an answer or the next byte of a body.
    pub timeout: Duration,
    /// Where `config.json` is looked for (`None`: no stored credentials).
    pub config_dir: Option<PathBuf>,
}

impl Default for RegistryOptions {
    fn default() -> Self {
        RegistryOptions {
            insecure: false,
            certs: CertSource::standard(),
            timeout: Duration::from_secs(30),
            config_dir: credentials::default_config_dir(),
        }
    }
}

/// A manifest or index as the registry served it, its digest checked.
#[derive(Debug, Clone)]
pub struct FetchedManifest {
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// Its media type (from the document, else from `Content-Type`).
    pub media_type: String,
    /// Its digest.
    pub digest: Digest,
}

/// A connection to one repository of one registry. Usable from several threads at once.
pub struct RegistryClient {
    registry: String,
    repository: String,
    base: String,
    agent: ureq::Agent,
    timeout: Duration,
    config_dir: Option<PathBuf>,
    credentials: OnceLock<Result<Option<Credentials>, String>>,
    /// The `Authorization` value that worked last (a token or basic credentials).
    authorization: Mutex<Option<String>>,
    plain_http: bool,
}

impl std::fmt::Debug for RegistryClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the authorization value.
        f.debug_struct("RegistryClient")
            .field("base", &self.base)
            .field("repository", &self.repository)
            .finish_non_exhaustive()
    }
}

impl RegistryClient {
    /// A client for the repository `reference` names. HTTPS, with the registry's certificate
    /// directory when it has one (`certs.d/HOST[:PORT]/`, see [`CertSource`]); plain HTTP with
    /// `options.insecure`, and for a registry on this machine whose certificate directory is
    /// missing or empty (as Docker allows). Fails only when that directory is unusable.
    pub fn new(
        reference: &Reference,
        options: &RegistryOptions,
    ) -> Result<RegistryClient, RemoteError> {
        let certs = match options.certs.dir_for(&reference.registry) {
            // A directory with nothing in it changes nothing, as for Docker.
            Some(dir) if !options.insecure => {
                Some(RegistryCerts::load(&reference.registry, &dir)?).filter(|c| !c.is_empty())
            }
            _ => None,
        };
        let plain_http = options.insecure || (reference.is_local() && certs.is_none());
        let scheme = if plain_http { "http" } else { "https" };
        let t = Some(options.timeout);
        let mut config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_resolve(t)
            .timeout_connect(t)
            .timeout_send_request(t)
            .timeout_recv_response(t)
            // A stall is no byte for this long; a large blob may take as long as it needs.
            .timeout_per_read(t)
            .timeout_per_write(t)
            .max_redirects(10)
            // Blob redirects to storage (S3, CDNs) must not carry the registry's credentials.
            .redirect_auth_headers(RedirectAuthHeaders::SameHost)
            .user_agent(concat!("kasane/", env!("CARGO_PKG_VERSION")));
        if let Some(certs) = &certs {
            config = config.tls_config(certs.tls_config(true));
        }
        Ok(RegistryClient {
            registry: reference.registry.clone(),
            repository: reference.repository.clone(),
            base: format!("{scheme}://{}/v2/", reference.api_host()),
            agent: config.build().new_agent(),
            timeout: options.timeout,
            config_dir: options.config_dir.clone(),
            credentials: OnceLock::new(),
            authorization: Mutex::new(None),
            plain_http,
        })
    }

    /// The registry's name, for messages.
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// Fetches a manifest or index by tag or digest and checks its digest (against the digest
    /// asked for, else against the `Docker-Content-Digest` the registry announces).
    pub fn manifest(&self, reference: &str) -> Result<FetchedManifest, RemoteError> {
        let what = format!("manifest {}:{reference}", self.repository);
        let url = format!("{}{}/manifests/{reference}", self.base, self.repository);
        let response = self.get(&url, Some(MANIFEST_TYPES), &what)?;
        let response = self.expect_ok(response, &what)?;
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.trim().to_owned())
        };
        let content_type = header("content-type");
        let announced = header("docker-content-digest");
        let bytes = self.read_limited(response, MANIFEST_LIMIT, &what)?;
        let digest = Digest::sha256_of(&bytes);
        let expected = reference.parse::<Digest>().ok().or_else(|| {
            announced
                .as_deref()
                .and_then(|a| a.parse::<Digest>().ok())
                .filter(Digest::is_sha256)
        });
        if let Some(expected) = expected.filter(Digest::is_sha256)
            && expected != digest
        {
            return Err(RemoteError::DigestMismatch {
                registry: self.registry.clone(),
                what,
                expected: expected.to_string(),
                actual: digest.to_string(),
            });
        }
        let media_type = manifest_media_type(&bytes, content_type.as_deref()).ok_or_else(|| {
            RemoteError::Protocol {
                registry: self.registry.clone(),
                what: what.clone(),
                detail: format!(
                    "unknown manifest media type `{}` (kasane reads OCI and Docker schema 2 \
                     manifests and indexes)",
                    declared_type(&bytes)
                        .or(content_type.clone())
                        .unwrap_or_else(|| "none".to_owned())
                ),
            }
        })?;
        Ok(FetchedManifest {
            bytes,
            media_type,
            digest,
        })
    }

    /// Fetches a small blob (a config) whole; `Ok(None)` on 404. The caller checks the digest.
    pub fn small_blob(&self, digest: &Digest, limit: u64) -> Result<Option<Vec<u8>>, RemoteError> {
        let what = format!("blob {digest}");
        let response = self.get(&self.blob_url(digest), None, &what)?;
        if response.status().as_u16() == 404 {
            return Ok(None);
        }
        let response = self.expect_ok(response, &what)?;
        self.read_limited(response, limit, &what).map(Some)
    }

    /// Opens a blob as a stream. `size`, when known, is checked against `Content-Length`. Errors
    /// while reading name the registry and the blob; a stall ends the read after the timeout.
    pub fn open_blob(&self, digest: &Digest, size: Option<u64>) -> Result<BlobReader, RemoteError> {
        let what = format!("blob {digest}");
        let response = self.get(&self.blob_url(digest), None, &what)?;
        let response = self.expect_ok(response, &what)?;
        let length = response
            .headers()
            .get("content-length")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        if let (Some(length), Some(size)) = (length, size)
            && length != size
        {
            return Err(RemoteError::Protocol {
                registry: self.registry.clone(),
                what,
                detail: format!("the registry sends {length} bytes but the manifest says {size}"),
            });
        }
        Ok(BlobReader {
            inner: response.into_body().into_reader(),
            registry: self.registry.clone(),
            what,
            timeout: self.timeout,
            received: 0,
            expected: size.or(length),
        })
    }

    fn blob_url(&self, digest: &Digest) -> String {
        format!("{}{}/blobs/{digest}", self.base, self.repository)
    }

    /// `GET url`, authenticating once when the registry answers 401.
    fn get(
        &self,
        url: &str,
        accept: Option<&str>,
        what: &str,
    ) -> Result<Response<ureq::Body>, RemoteError> {
        let mut tried_auth = false;
        loop {
            let mut request = self.agent.get(url);
            if let Some(accept) = accept {
                request = request.header("accept", accept);
            }
            let sent_auth = self.current_authorization();
            if let Some(value) = &sent_auth {
                request = request.header("authorization", value);
            }
            let response = request.call().map_err(|e| self.transport_error(what, e))?;
            if response.status().as_u16() != 401 {
                return Ok(response);
            }
            let challenge = response
                .headers()
                .get("www-authenticate")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            if tried_auth {
                return Err(self.auth_error(if sent_auth.is_some() {
                    "the registry refused the credentials or token it had asked for".to_owned()
                } else {
                    "the registry keeps asking for authentication".to_owned()
                }));
            }
            tried_auth = true;
            let Some(challenge) = challenge.as_deref().and_then(parse_challenge) else {
                return Err(self.auth_error(format!(
                    "{what}: HTTP 401 with a challenge kasane does not understand ({})",
                    challenge
                        .as_deref()
                        .map_or("none", |c| c.split_whitespace().next().unwrap_or("empty"))
                )));
            };
            let value = self.authenticate(&challenge)?;
            if let Ok(mut slot) = self.authorization.lock() {
                *slot = Some(value);
            }
        }
    }

    fn current_authorization(&self) -> Option<String> {
        self.authorization.lock().ok().and_then(|g| g.clone())
    }

    fn credentials(&self) -> Result<Option<&Credentials>, RemoteError> {
        let found = self.credentials.get_or_init(|| {
            credentials::lookup(&self.registry, self.config_dir.as_deref())
                .map_err(|e| e.to_string())
        });
        match found {
            Ok(c) => Ok(c.as_ref()),
            Err(detail) => Err(RemoteError::Credentials {
                registry: self.registry.clone(),
                detail: detail.clone(),
            }),
        }
    }

    /// Answers a challenge: the basic credentials, or a token fetched from the realm.
    fn authenticate(&self, challenge: &Challenge) -> Result<String, RemoteError> {
        let credentials = self.credentials()?;
        match challenge {
            Challenge::Basic => match credentials {
                Some(c) if c.identity_token => Err(self.auth_error(
                    "the registry asks for a user name and password, and only an identity token \
                     is stored for it (identity tokens work with token servers only)"
                        .to_owned(),
                )),
                Some(c) => Ok(c.basic_header()),
                None => Err(self.auth_error(format!(
                    "the registry asks for a user name and password and none are stored for it \
                     (run `docker login {}`)",
                    self.registry
                ))),
            },
            Challenge::Bearer {
                realm,
                service,
                scope,
            } => {
                if realm.starts_with("http://") && !self.plain_http {
                    return Err(self.auth_error(format!(
                        "the token server {} is plain HTTP while the registry is HTTPS; refusing \
                         to send credentials there",
                        host_of(realm)
                    )));
                }
                let scope = scope
                    .clone()
                    .unwrap_or_else(|| format!("repository:{}:pull", self.repository));
                if let Some(c) = credentials.filter(|c| c.identity_token) {
                    return self.trade_identity_token(realm, service.as_deref(), &scope, c);
                }
                let mut url = format!(
                    "{realm}{}scope={}",
                    if realm.contains('?') { '&' } else { '?' },
                    query_escape(&scope)
                );
                if let Some(service) = service {
                    url.push_str(&format!("&service={}", query_escape(service)));
                }
                let mut request = self.agent.get(&url);
                if let Some(c) = credentials {
                    request = request.header("authorization", c.basic_header());
                }
                let what = format!("token from {}", host_of(realm));
                let response = request.call().map_err(|e| self.transport_error(&what, e))?;
                let status = response.status().as_u16();
                if status == 401 || status == 403 {
                    return Err(self.auth_error(match credentials {
                        Some(c) => format!(
                            "the token server {} refused the credentials of user `{}` \
                             (HTTP {status})",
                            host_of(realm),
                            c.username
                        ),
                        None => format!(
                            "the token server {} refuses anonymous access (HTTP {status}); \
                             run `docker login {}`",
                            host_of(realm),
                            self.registry
                        ),
                    }));
                }
                self.bearer_from(response, realm, &what)
            }
        }
    }

    /// Trades an identity token for an access token: the OAuth2 `refresh_token` grant that
    /// distribution's token spec defines (a form `POST` to the realm), as `docker pull` does.
    fn trade_identity_token(
        &self,
        realm: &str,
        service: Option<&str>,
        scope: &str,
        credentials: &Credentials,
    ) -> Result<String, RemoteError> {
        let mut form = format!(
            "grant_type=refresh_token&client_id=kasane&scope={}&refresh_token={}",
            query_escape(scope),
            query_escape(&credentials.secret)
        );
        if let Some(service) = service {
            form.push_str(&format!("&service={}", query_escape(service)));
        }
        let what = format!("token from {}", host_of(realm));
        let response = self
            .agent
            .post(realm)
            .header("content-type", "application/x-www-form-urlencoded")
            .send(form.as_bytes())
            .map_err(|e| self.transport_error(&what, e))?;
        let status = response.status().as_u16();
        match status {
            401 | 403 => {
                return Err(self.auth_error(format!(
                    "the token server {} refused the stored identity token (HTTP {status}); it \
                     may have expired: run `docker login {}` again",
                    host_of(realm),
                    self.registry
                )));
            }
            404 | 405 => {
                return Err(self.auth_error(format!(
                    "the token server {} does not take identity tokens (OAuth2 POST answered \
                     HTTP {status}); log in with a user name and password instead",
                    host_of(realm)
                )));
            }
            _ => {}
        }
        self.bearer_from(response, realm, &what)
    }

    /// The `Authorization` value from a token server's answer (`token` or `access_token`).
    fn bearer_from(
        &self,
        response: Response<ureq::Body>,
        realm: &str,
        what: &str,
    ) -> Result<String, RemoteError> {
        let response = self.expect_ok(response, what)?;
        let body = self.read_limited(response, 1024 * 1024, what)?;
        let token = parse_token(&body).ok_or_else(|| {
            self.auth_error(format!(
                "the token server {} answered without a token",
                host_of(realm)
            ))
        })?;
        Ok(format!("Bearer {token}"))
    }

    fn auth_error(&self, detail: String) -> RemoteError {
        RemoteError::Auth {
            registry: self.registry.clone(),
            detail,
        }
    }

    /// Turns any status but 200 into an error carrying the registry's own message.
    fn expect_ok(
        &self,
        response: Response<ureq::Body>,
        what: &str,
    ) -> Result<Response<ureq::Body>, RemoteError> {
        let status = response.status().as_u16();
        if status == 200 {
            return Ok(response);
        }
        let mut body = response.into_body();
        let text = body
            .with_config()
            .limit(64 * 1024)
            .read_to_vec()
            .unwrap_or_default();
        let mut detail = registry_message(&text).map_or_else(String::new, |m| format!(": {m}"));
        if status == 400 && self.plain_http && text.windows(5).any(|w| w == b"HTTPS") {
            // Go's TLS servers answer plain HTTP with this 400 (and a text body saying so).
            detail = format!(
                ": the registry speaks only HTTPS; give it a certificate directory (certs.d/{}/)",
                self.registry
            );
        }
        Err(match status {
            404 => RemoteError::NotFound {
                registry: self.registry.clone(),
                what: what.to_owned(),
                detail,
            },
            403 => self.auth_error(format!("{what}: access denied (HTTP 403){detail}")),
            status => RemoteError::Status {
                registry: self.registry.clone(),
                what: what.to_owned(),
                status,
                detail,
            },
        })
    }

    fn read_limited(
        &self,
        response: Response<ureq::Body>,
        limit: u64,
        what: &str,
    ) -> Result<Vec<u8>, RemoteError> {
        let mut body = response.into_body();
        body.with_config()
            .limit(limit)
            .read_to_vec()
            .map_err(|e| match e {
                ureq::Error::BodyExceedsLimit(_) => RemoteError::Protocol {
                    registry: self.registry.clone(),
                    what: what.to_owned(),
                    detail: format!("larger than the {limit} bytes allowed"),
                },
                e => self.transport_error(what, e),
            })
    }

    fn transport_error(&self, what: &str, e: ureq::Error) -> RemoteError {
        if is_timeout(&e) {
            return RemoteError::Timeout {
                registry: self.registry.clone(),
                what: what.to_owned(),
                seconds: self.timeout.as_secs().max(1),
            };
        }
        let detail = match e {
            ureq::Error::ConnectionFailed | ureq::Error::HostNotFound => {
                format!(
                    "cannot connect to {} ({e}); is the registry running?",
                    host_of(&self.base)
                )
            }
            ureq::Error::Io(io) if io.kind() == io::ErrorKind::ConnectionRefused => format!(
                "connection refused by {}; is the registry running?",
                host_of(&self.base)
            ),
            e => {
                // rustls's own words are exact but terse; say what to do about the two usual
                // certificate problems.
                let text = e.to_string();
                if text.contains("invalid peer certificate") {
                    format!(
                        "{text}; the registry's certificate is not signed by a trusted CA (put \
                         that CA as certs.d/{}/ca.crt)",
                        self.registry
                    )
                } else if text.contains("alert") && text.contains("Certificate") {
                    format!(
                        "{text}; the registry refused the client certificate, or wants one (put \
                         NAME.cert and NAME.key in certs.d/{}/)",
                        self.registry
                    )
                } else {
                    text
                }
            }
        };
        RemoteError::Transport {
            registry: self.registry.clone(),
            what: what.to_owned(),
            detail,
        }
    }
}

fn is_timeout(e: &ureq::Error) -> bool {
    match e {
        ureq::Error::Timeout(_) => true,
        ureq::Error::Io(io) => io.kind() == io::ErrorKind::TimedOut,
        _ => false,
    }
}

fn io_is_timeout(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::TimedOut
        || e.get_ref()
            .and_then(|inner| inner.downcast_ref::<ureq::Error>())
            .is_some_and(is_timeout)
}

/// `host[:port]` of a URL, for messages (never its query, which may carry a scope).
fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split(['/', '?']).next().unwrap_or(rest)
}

/// The first message of a registry's JSON error body (`{"errors":[{"code","message"}]}`).
fn registry_message(body: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let first = v.get("errors")?.get(0)?;
    let code = first.get("code").and_then(|c| c.as_str()).unwrap_or("");
    let message = first.get("message").and_then(|c| c.as_str()).unwrap_or("");
    let text = match (code.is_empty(), message.is_empty()) {
        (false, false) => format!("{code}: {message}"),
        (false, true) => code.to_owned(),
        (true, false) => message.to_owned(),
        (true, true) => return None,
    };
    Some(text.chars().take(200).collect())
}

/// The `mediaType` a manifest document declares, if any.
fn declared_type(bytes: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Head {
        #[serde(default)]
        media_type: Option<String>,
    }
    serde_json::from_slice::<Head>(bytes).ok()?.media_type
}

/// What a manifest is: its declared `mediaType`, else the `Content-Type`, else its shape. `None`
/// when that is not an index or image manifest kasane reads.
pub fn manifest_media_type(bytes: &[u8], content_type: Option<&str>) -> Option<String> {
    let content_type = content_type
        .map(|c| c.split(';').next().unwrap_or(c).trim())
        .filter(|c| !c.is_empty() && *c != "application/json" && *c != "text/plain");
    let t = match declared_type(bytes) {
        Some(t) => t,
        None => match content_type {
            Some(c) => c.to_owned(),
            None => {
                // OCI allows an index or manifest without mediaType: judge by shape.
                let v: serde_json::Value = serde_json::from_slice(bytes).ok()?;
                if v.get("manifests").is_some() {
                    media::OCI_INDEX.to_owned()
                } else if v.get("config").is_some() && v.get("layers").is_some() {
                    media::OCI_MANIFEST.to_owned()
                } else {
                    return None;
                }
            }
        },
    };
    (media::is_index(&t) || media::is_manifest(&t)).then_some(t)
}

/// A blob's body. Errors say which registry and blob; a short body is an error, not an end.
pub struct BlobReader {
    inner: ureq::BodyReader<'static>,
    registry: String,
    what: String,
    timeout: Duration,
    received: u64,
    expected: Option<u64>,
}

impl std::fmt::Debug for BlobReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobReader")
            .field("what", &self.what)
            .field("received", &self.received)
            .finish_non_exhaustive()
    }
}

impl Read for BlobReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(0) => {
                if let Some(expected) = self.expected.filter(|e| self.received < *e) {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!(
                            "registry {}: {}: the connection ended after {} of {expected} bytes",
                            self.registry, self.what, self.received
                        ),
                    ));
                }
                Ok(0)
            }
            Ok(n) => {
                self.received += n as u64;
                Ok(n)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(e),
            Err(e) if io_is_timeout(&e) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "registry {}: {}: no data for {} s after {} bytes (timed out)",
                    self.registry,
                    self.what,
                    self.timeout.as_secs().max(1),
                    self.received
                ),
            )),
            Err(e) => Err(io::Error::new(
                e.kind(),
                format!(
                    "registry {}: {}: reading failed after {} bytes: {e}",
                    self.registry, self.what, self.received
                ),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn judges_manifest_types() {
        let oci =
            br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}"#;
        assert_eq!(
            manifest_media_type(oci, Some("text/plain")).as_deref(),
            Some(media::OCI_MANIFEST)
        );
        let untyped = br#"{"schemaVersion":2,"manifests":[]}"#;
        assert_eq!(
            manifest_media_type(untyped, Some("application/json")).as_deref(),
            Some(media::OCI_INDEX)
        );
        let schema1 = br#"{"schemaVersion":1,"name":"x","fsLayers":[]}"#;
        assert_eq!(
            manifest_media_type(
                schema1,
                Some("application/vnd.docker.distribution.manifest.v1+prettyjws")
            ),
            None
        );
        assert_eq!(manifest_media_type(b"\xff", None), None);
    }

    #[test]
    fn messages_keep_urls_short() {
        assert_eq!(
            host_of("https://auth.example/token?scope=x"),
            "auth.example"
        );
        assert_eq!(host_of("http://127.0.0.1:5000/v2/"), "127.0.0.1:5000");
        assert_eq!(
            registry_message(
                br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}"#
            )
            .as_deref(),
            Some("MANIFEST_UNKNOWN: manifest unknown")
        );
        assert_eq!(registry_message(b"<html>"), None);
    }
}
