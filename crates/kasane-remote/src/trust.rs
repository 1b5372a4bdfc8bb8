//! Certificates for HTTPS registries, found where Docker and the containers tools (skopeo,
//! podman) keep them: one directory per registry, `certs.d/HOST[:PORT]/`, holding CA
//! certificates to trust (`*.crt`) and client certificates with their keys (`NAME.cert` and
//! `NAME.key`).

use std::path::{Path, PathBuf};

use ureq::tls::{Certificate, ClientCert, PemItem, PrivateKey, RootCerts, TlsConfig, parse_pem};

use crate::error::RemoteError;

/// Where registry certificates are looked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertSource {
    /// Under each of these roots, the directory named after the registry (`HOST[:PORT]`); the
    /// first root that has one is used, the others are not merged in.
    PerRegistry(Vec<PathBuf>),
    /// This one directory, for whatever registry (`--cert-dir`, like skopeo's).
    Dir(PathBuf),
}

impl CertSource {
    /// The containers tools' order, then Docker's: `$HOME/.config/containers/certs.d`,
    /// `/etc/containers/certs.d`, `/etc/docker/certs.d`.
    pub fn standard() -> CertSource {
        let mut roots = Vec::new();
        if let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty()) {
            roots.push(PathBuf::from(home).join(".config/containers/certs.d"));
        }
        roots.push(PathBuf::from("/etc/containers/certs.d"));
        roots.push(PathBuf::from("/etc/docker/certs.d"));
        CertSource::PerRegistry(roots)
    }

    /// The directory holding `registry`'s certificates, if there is one.
    pub fn dir_for(&self, registry: &str) -> Option<PathBuf> {
        match self {
            CertSource::Dir(dir) => Some(dir.clone()),
            CertSource::PerRegistry(roots) => {
                // A registry name is `host[:port]`; never let it climb out of the root.
                if registry.is_empty()
                    || registry.contains(['/', '\\'])
                    || registry.starts_with('.')
                {
                    return None;
                }
                roots.iter().map(|r| r.join(registry)).find(|d| d.is_dir())
            }
        }
    }
}

/// The certificates one registry's directory holds.
#[derive(Debug, Default)]
pub struct RegistryCerts {
    /// CA certificates to trust (from every `*.crt`).
    pub authorities: Vec<Certificate<'static>>,
    /// The client certificate chain and key (the first `NAME.cert` in name order, with
    /// `NAME.key`).
    pub client: Option<ClientCert>,
}

impl RegistryCerts {
    /// Reads `dir`: every `*.crt` as CA certificates, and `NAME.cert` with its `NAME.key` as the
    /// client identity. A `.cert` without its `.key` (or the reverse), an unreadable file or one
    /// with no PEM certificate in it is an error naming the file: a half-configured directory
    /// would otherwise fail later with a vaguer TLS error.
    pub fn load(registry: &str, dir: &Path) -> Result<RegistryCerts, RemoteError> {
        let fail = |path: &Path, detail: String| RemoteError::Certificates {
            registry: registry.to_owned(),
            path: path.display().to_string(),
            detail,
        };
        let entries = std::fs::read_dir(dir).map_err(|e| fail(dir, e.to_string()))?;
        let mut names: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_file())
            .collect();
        names.sort();
        let read = |path: &Path| std::fs::read(path).map_err(|e| fail(path, e.to_string()));
        let mut certs = RegistryCerts::default();
        for path in &names {
            match path.extension().and_then(|e| e.to_str()) {
                Some("crt") => {
                    let found = pem_certificates(&read(path)?).map_err(|d| fail(path, d))?;
                    certs.authorities.extend(found);
                }
                Some("cert") => {
                    let key_path = path.with_extension("key");
                    if !key_path.is_file() {
                        return Err(fail(
                            path,
                            format!("client certificate without its key {}", key_path.display()),
                        ));
                    }
                    if certs.client.is_some() {
                        continue;
                    }
                    let chain = pem_certificates(&read(path)?).map_err(|d| fail(path, d))?;
                    let key = PrivateKey::from_pem(&read(&key_path)?)
                        .map_err(|e| fail(&key_path, format!("no private key: {e}")))?;
                    certs.client = Some(ClientCert::new_with_certs(&chain, key));
                }
                Some("key") if !path.with_extension("cert").is_file() => {
                    return Err(fail(
                        path,
                        "private key without its client certificate (NAME.cert)".to_owned(),
                    ));
                }
                _ => {}
            }
        }
        Ok(certs)
    }

    /// Whether the directory held anything to use.
    pub fn is_empty(&self) -> bool {
        self.authorities.is_empty() && self.client.is_none()
    }

    /// A TLS configuration trusting these CAs on top of the system's bundle (Docker adds a
    /// registry's CAs to the system pool rather than replacing it), presenting the client
    /// certificate if there is one, and verifying the server unless `verify` is false.
    pub fn tls_config(&self, verify: bool) -> TlsConfig {
        let mut builder = TlsConfig::builder()
            .client_cert(self.client.clone())
            .disable_verification(!verify);
        if !self.authorities.is_empty() {
            let mut roots = system_bundle();
            roots.extend(self.authorities.iter().cloned());
            builder = builder.root_certs(RootCerts::from(roots));
        }
        builder.build()
    }
}

/// Every certificate in a PEM file; an error when it has none or is malformed.
fn pem_certificates(pem: &[u8]) -> Result<Vec<Certificate<'static>>, String> {
    let mut found = Vec::new();
    for item in parse_pem(pem) {
        match item {
            Ok(PemItem::Certificate(c)) => found.push(c),
            Ok(_) => {}
            Err(e) => return Err(format!("malformed PEM: {e}")),
        }
    }
    if found.is_empty() {
        return Err("no PEM certificate in it".to_owned());
    }
    Ok(found)
}

/// The system's CA bundle, from the first of the usual places that has one (Debian and Ubuntu,
/// Fedora and RHEL, Alpine and macOS). Empty when there is none: then only the registry's own CAs
/// are trusted.
fn system_bundle() -> Vec<Certificate<'static>> {
    [
        "/etc/ssl/certs/ca-certificates.crt",
        "/etc/pki/tls/certs/ca-bundle.crt",
        "/etc/ssl/cert.pem",
    ]
    .iter()
    .find_map(|p| std::fs::read(p).ok())
    .and_then(|pem| pem_certificates(&pem).ok())
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    // A self-signed certificate and its key, made once with `openssl req -x509 -newkey ec` for
    // the tests (they secure nothing).
    const CERT: &str = include_str!("../tests/data/test-ca.pem");
    const KEY: &str = include_str!("../tests/data/test-ca.key");

    fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        dir
    }

    #[test]
    fn reads_authorities_and_the_client_pair() {
        let dir = dir_with(&[
            ("ca.crt", CERT),
            ("extra.crt", &format!("{CERT}{CERT}")),
            ("client.cert", CERT),
            ("client.key", KEY),
            ("README", "ignored"),
        ]);
        let certs = RegistryCerts::load("r.example:5000", dir.path()).unwrap();
        assert_eq!(certs.authorities.len(), 3);
        let client = certs.client.expect("client certificate");
        assert_eq!(client.certs().len(), 1);
    }

    #[test]
    fn half_configured_directories_are_errors_naming_the_file() {
        for (files, file, words) in [
            (
                vec![("client.cert", CERT)],
                "client.cert",
                "without its key",
            ),
            (
                vec![("client.key", KEY)],
                "client.key",
                "without its client certificate",
            ),
            (
                vec![("ca.crt", "not a certificate")],
                "ca.crt",
                "no PEM certificate",
            ),
            (
                vec![("client.cert", CERT), ("client.key", CERT)],
                "client.key",
                "no private key",
            ),
        ] {
            let dir = dir_with(&files);
            let e = RegistryCerts::load("r.example", dir.path())
                .unwrap_err()
                .to_string();
            assert!(e.contains(file) && e.contains(words), "{e}");
            assert!(e.contains("r.example"), "{e}");
        }
    }

    #[test]
    fn an_empty_directory_changes_nothing() {
        let dir = dir_with(&[]);
        assert!(RegistryCerts::load("r", dir.path()).unwrap().is_empty());
    }

    #[test]
    fn the_first_root_with_the_registry_directory_wins() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        std::fs::create_dir(b.path().join("r.example:5000")).unwrap();
        std::fs::create_dir(b.path().join("other")).unwrap();
        std::fs::create_dir(a.path().join("other")).unwrap();
        let source = CertSource::PerRegistry(vec![a.path().to_owned(), b.path().to_owned()]);
        assert_eq!(
            source.dir_for("r.example:5000"),
            Some(b.path().join("r.example:5000"))
        );
        assert_eq!(source.dir_for("other"), Some(a.path().join("other")));
        assert_eq!(source.dir_for("missing"), None);
        for hostile in ["", "..", "../etc", "a/b", ".hidden"] {
            assert_eq!(source.dir_for(hostile), None, "{hostile}");
        }
        let fixed = CertSource::Dir(PathBuf::from("/x"));
        assert_eq!(fixed.dir_for("any"), Some(PathBuf::from("/x")));
    }
}
