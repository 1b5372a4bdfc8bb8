//! The registry source against an in-process registry: reading images (gzip, zstd, indexes),
//! authentication (basic, the bearer-token exchange, credentials from config.json), `--save`, and
//! every fault the issue lists, each giving a clear error that names the registry.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use kasane_image::spec::media;
use kasane_image::{
    Digest, Error, Image, ImageReadOptions, LayoutSource, NoProgress, Platform, Selector, Source,
    read_image,
};
use kasane_remote::{Reference, RegistryOptions, RegistrySource};
use kasane_testserver::registry::{
    FakeRegistry, Fault, FixtureImage, Packing, RegistryAuth, RegistryBuilder, Route,
};

const REPO: &str = "team/app";

/// The fixture image, with its digests parsed.
struct TestImage {
    layers: Vec<(Digest, Vec<u8>)>,
    config: (Digest, Vec<u8>),
    manifest: (Digest, Vec<u8>),
    fixture: FixtureImage,
}

fn test_image(packing: Packing, arch: &str) -> TestImage {
    let fixture = FixtureImage::new(packing, arch);
    let d = |s: &str| s.parse::<Digest>().unwrap();
    TestImage {
        layers: fixture
            .layers
            .iter()
            .map(|(g, b)| (d(g), b.clone()))
            .collect(),
        config: (d(&fixture.config.0), fixture.config.1.clone()),
        manifest: (d(&fixture.manifest.0), fixture.manifest.1.clone()),
        fixture,
    }
}

/// Routes for `image` under `tag` (and its digest).
fn serve(b: RegistryBuilder, image: &TestImage, tag: &str) -> RegistryBuilder {
    image.fixture.serve(b, REPO, tag)
}

fn options(config_dir: Option<&Path>) -> RegistryOptions {
    RegistryOptions {
        insecure: false,
        certs: kasane_remote::CertSource::PerRegistry(Vec::new()),
        timeout: Duration::from_secs(2),
        config_dir: config_dir.map(Path::to_owned),
    }
}

fn source(registry: &FakeRegistry, reference: &str, config_dir: Option<&Path>) -> RegistrySource {
    let r = Reference::parse(&format!("{}/{reference}", registry.host())).unwrap();
    RegistrySource::new(r, &options(config_dir)).unwrap()
}

fn read(source: &dyn Source, platform: Option<&str>) -> Result<Image, Error> {
    let selector = Selector {
        tag: None,
        platform: platform.map(|p| Platform::parse(p).unwrap()),
    };
    read_image(source, &selector, ImageReadOptions::default(), &NoProgress)
}

/// The files the image ends with, and what the layers hold.
fn summary(image: &Image) -> Vec<String> {
    image
        .layers
        .iter()
        .flat_map(|l| {
            l.changes
                .entries
                .iter()
                .map(move |e| format!("{} {:?}", l.index, e.path))
        })
        .collect()
}

fn config_dir_with(registry: &str, user: &str, password: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let auth = {
        // Encoded by the shell's base64 would be nicer; a fixed pair keeps the test obvious.
        let plain = format!("{user}:{password}");
        let out = std::process::Command::new("base64")
            .arg("-w0")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut c| {
                c.stdin.take().unwrap().write_all(plain.as_bytes())?;
                c.wait_with_output()
            })
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    std::fs::write(
        dir.path().join("config.json"),
        serde_json::to_vec(&serde_json::json!({"auths": {registry: {"auth": auth}}})).unwrap(),
    )
    .unwrap();
    dir
}

#[test]
fn reads_gzip_and_zstd_images_anonymously() {
    for packing in [Packing::Gzip, Packing::Zstd] {
        let image = test_image(packing, "amd64");
        let registry = serve(FakeRegistry::builder(), &image, "v1").start();
        let src = source(&registry, &format!("{REPO}:v1"), None);
        let read = read(&src, None).unwrap();
        assert_eq!(read.layers.len(), 2);
        assert_eq!(read.manifest_digest.as_ref(), Some(&image.manifest.0));
        assert_eq!(read.config_digest.as_ref(), Some(&image.config.0));
        assert_eq!(
            read.source,
            format!("docker://{}/{REPO}:v1", registry.host())
        );
        let s = summary(&read);
        assert!(s.iter().any(|l| l.contains("opt/big.bin")), "{s:?}");
        // The manifest was asked for with every type kasane reads.
        let first = &registry.received()[0];
        assert!(first.accept.as_deref().unwrap().contains(media::OCI_INDEX));
        // By digest works too.
        let by_digest = source(&registry, &format!("{REPO}@{}", image.manifest.0), None);
        assert_eq!(summary(&read_image_ok(&by_digest)), s);
    }
}

fn read_image_ok(src: &dyn Source) -> Image {
    read(src, None).unwrap()
}

#[test]
fn picks_the_platform_from_an_index() {
    let amd = test_image(Packing::Gzip, "amd64");
    let arm = test_image(Packing::Zstd, "arm64");
    let index = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": media::OCI_INDEX,
        "manifests": [
            {"mediaType": media::OCI_MANIFEST, "digest": amd.manifest.0, "size": amd.manifest.1.len(),
             "platform": {"os": "linux", "architecture": "amd64"}},
            {"mediaType": media::OCI_MANIFEST, "digest": arm.manifest.0, "size": arm.manifest.1.len(),
             "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
        ],
    }))
    .unwrap();
    let b = serve(serve(FakeRegistry::builder(), &amd, "amd"), &arm, "arm").route(
        &format!("/v2/{REPO}/manifests/multi"),
        Route::ok(media::OCI_INDEX, index),
    );
    let registry = b.start();
    let src = source(&registry, &format!("{REPO}:multi"), None);
    let arm_read = read(&src, Some("linux/arm64")).unwrap();
    assert_eq!(arm_read.config.architecture, "arm64");
    assert_eq!(arm_read.manifest_digest.as_ref(), Some(&arm.manifest.0));
    let amd_read = read(&src, Some("linux/amd64")).unwrap();
    assert_eq!(amd_read.config.architecture, "amd64");
    let none = read(&src, Some("linux/s390x")).unwrap_err().to_string();
    assert!(
        none.contains("s390x") && none.contains("linux/arm64/v8"),
        "{none}"
    );
}

#[test]
fn performs_the_token_exchange_with_stored_credentials() {
    let image = test_image(Packing::Gzip, "amd64");
    let auth = RegistryAuth::Token {
        credentials: Some(("alice".into(), "s3cret-pw".into())),
        token: "tok-123".into(),
    };
    let registry = serve(FakeRegistry::builder().auth(auth), &image, "v1").start();
    let config = config_dir_with(&registry.host(), "alice", "s3cret-pw");
    let src = source(&registry, &format!("{REPO}:v1"), Some(config.path()));
    let read = read(&src, None).unwrap();
    assert_eq!(read.layers.len(), 2);
    let log = registry.received();
    // 401, then the token endpoint with basic credentials and the challenge's scope and service,
    // then the token on every later request.
    assert!(log[0].authorization.is_none());
    let token_request = log
        .iter()
        .find(|r| r.target.starts_with("/token?"))
        .unwrap();
    assert!(
        token_request
            .target
            .contains("scope=repository%3Ateam%2Fapp%3Apull")
    );
    assert!(token_request.target.contains("service=fake-registry"));
    assert!(
        token_request
            .authorization
            .as_deref()
            .unwrap()
            .starts_with("Basic ")
    );
    let after: Vec<_> = log
        .iter()
        .filter(|r| r.target.starts_with("/v2/"))
        .skip(1)
        .collect();
    assert!(after.len() >= 4, "{log:?}");
    assert!(
        after
            .iter()
            .all(|r| r.authorization.as_deref() == Some("Bearer tok-123"))
    );
    // The token never shows in the source's Debug output.
    assert!(!format!("{src:?}").contains("tok-123"));
}

#[test]
fn trades_a_stored_identity_token_for_an_access_token() {
    let image = test_image(Packing::Gzip, "amd64");
    let auth = RegistryAuth::OAuth {
        refresh_token: "refresh-7f3a".into(),
        token: "access-42".into(),
    };
    let registry = serve(FakeRegistry::builder().auth(auth), &image, "v1").start();
    // What `docker login` leaves for such registries: an empty user:password pair and the
    // identity token.
    let config = tempfile::tempdir().unwrap();
    let write = |token: &str| {
        std::fs::write(
            config.path().join("config.json"),
            format!(
                r#"{{"auths":{{"{}":{{"auth":"","identitytoken":"{token}"}}}}}}"#,
                registry.host()
            ),
        )
        .unwrap();
    };
    write("refresh-7f3a");
    let src = source(&registry, &format!("{REPO}:v1"), Some(config.path()));
    assert_eq!(read(&src, None).unwrap().layers.len(), 2);
    let log = registry.received();
    let token_requests: Vec<_> = log.iter().filter(|r| r.target == "/token").collect();
    assert_eq!(token_requests.len(), 1, "{log:?}");
    assert_eq!(token_requests[0].method, "POST");
    // The identity token travels in the form body only, never as a password.
    assert!(log.iter().all(|r| {
        r.authorization
            .as_deref()
            .is_none_or(|a| a == "Bearer access-42")
    }));
    assert!(!format!("{src:?}").contains("refresh-7f3a"));

    // An expired or revoked identity token: a clear refusal that never shows the token.
    write("refresh-old");
    let src = source(&registry, &format!("{REPO}:v1"), Some(config.path()));
    let e = read(&src, None).unwrap_err().to_string();
    assert!(e.contains(&registry.host()), "{e}");
    assert!(e.contains("refused the stored identity token"), "{e}");
    assert!(!e.contains("refresh-old"), "{e}");
}

#[test]
fn an_identity_token_is_not_sent_as_a_password() {
    let image = test_image(Packing::Gzip, "amd64");
    let auth = RegistryAuth::Basic {
        user: "bob".into(),
        password: "pw".into(),
    };
    let registry = serve(FakeRegistry::builder().auth(auth), &image, "v1").start();
    let config = tempfile::tempdir().unwrap();
    std::fs::write(
        config.path().join("config.json"),
        format!(
            r#"{{"auths":{{"{}":{{"identitytoken":"refresh-9"}}}}}}"#,
            registry.host()
        ),
    )
    .unwrap();
    let src = source(&registry, &format!("{REPO}:v1"), Some(config.path()));
    let e = read(&src, None).unwrap_err().to_string();
    assert!(e.contains("only an identity token"), "{e}");
    assert!(
        registry
            .received()
            .iter()
            .all(|r| r.authorization.is_none()),
        "the identity token must not be sent as basic credentials"
    );
}

#[test]
fn wrong_credentials_name_the_registry_and_never_the_password() {
    let image = test_image(Packing::Gzip, "amd64");
    let auth = RegistryAuth::Token {
        credentials: Some(("alice".into(), "right-pw".into())),
        token: "tok".into(),
    };
    let registry = serve(FakeRegistry::builder().auth(auth), &image, "v1").start();
    let config = config_dir_with(&registry.host(), "alice", "wrong-pw");
    let src = source(&registry, &format!("{REPO}:v1"), Some(config.path()));
    let e = read(&src, None).unwrap_err().to_string();
    assert!(e.contains(&registry.host()), "{e}");
    assert!(e.contains("refused the credentials of user `alice`"), "{e}");
    assert!(!e.contains("wrong-pw") && !e.contains("right-pw"), "{e}");
    // No credentials at all: anonymous access is refused, and the message says how to log in.
    let anon = source(&registry, &format!("{REPO}:v1"), None);
    let e = read(&anon, None).unwrap_err().to_string();
    assert!(
        e.contains("refuses anonymous access") && e.contains("docker login"),
        "{e}"
    );
}

#[test]
fn certificate_directories_decide_https_for_a_local_registry() {
    let image = test_image(Packing::Gzip, "amd64");
    let registry = serve(FakeRegistry::builder(), &image, "v1").start();
    let r = Reference::parse(&format!("{}/{REPO}:v1", registry.host())).unwrap();
    let with_certs = |dir: &Path| {
        let options = RegistryOptions {
            certs: kasane_remote::CertSource::Dir(dir.to_owned()),
            ..options(None)
        };
        RegistrySource::new(r.clone(), &options)
    };
    // An empty directory changes nothing: plain HTTP, as for any local registry.
    let empty = tempfile::tempdir().unwrap();
    let src = with_certs(empty.path()).unwrap();
    assert_eq!(read(&src, None).unwrap().layers.len(), 2);
    // A CA in it means the registry speaks TLS: this plain-HTTP one then fails the handshake.
    let ca = tempfile::tempdir().unwrap();
    std::fs::write(ca.path().join("ca.crt"), CA_PEM).unwrap();
    let e = read(&with_certs(ca.path()).unwrap(), None)
        .unwrap_err()
        .to_string();
    assert!(e.contains(&registry.host()), "{e}");
    // A directory that cannot be read is an error before any request.
    let missing = empty.path().join("nothing-here");
    let e = with_certs(&missing).unwrap_err().to_string();
    assert!(e.contains("nothing-here"), "{e}");
}

/// A self-signed CA certificate made once with `openssl req -x509 -newkey ec`; it secures nothing.
const CA_PEM: &str = include_str!("data/test-ca.pem");

#[test]
fn basic_auth_uses_the_stored_password() {
    let image = test_image(Packing::Gzip, "amd64");
    let auth = RegistryAuth::Basic {
        user: "bob".into(),
        password: "pw".into(),
    };
    let registry = serve(FakeRegistry::builder().auth(auth), &image, "v1").start();
    let config = config_dir_with(&registry.host(), "bob", "pw");
    let src = source(&registry, &format!("{REPO}:v1"), Some(config.path()));
    assert_eq!(read(&src, None).unwrap().layers.len(), 2);
    let none = source(&registry, &format!("{REPO}:v1"), None);
    let e = read(&none, None).unwrap_err().to_string();
    assert!(
        e.contains(&registry.host()) && e.contains("none are stored"),
        "{e}"
    );
}

#[test]
fn a_missing_manifest_is_a_clear_error() {
    let registry = FakeRegistry::builder().start();
    let src = source(&registry, &format!("{REPO}:nope"), None);
    let e = read(&src, None).unwrap_err().to_string();
    assert!(e.contains(&registry.host()), "{e}");
    assert!(
        e.contains("manifest team/app:nope not found (HTTP 404)"),
        "{e}"
    );
    assert!(e.contains("MANIFEST_UNKNOWN"), "{e}");
}

#[test]
fn an_unknown_manifest_type_is_refused() {
    let schema1 = br#"{"schemaVersion":1,"name":"team/app","tag":"v1","fsLayers":[]}"#.to_vec();
    let registry = FakeRegistry::builder()
        .route(
            &format!("/v2/{REPO}/manifests/old"),
            Route::ok(
                "application/vnd.docker.distribution.manifest.v1+prettyjws",
                schema1,
            ),
        )
        .start();
    let src = source(&registry, &format!("{REPO}:old"), None);
    let e = read(&src, None).unwrap_err().to_string();
    assert!(e.contains(&registry.host()), "{e}");
    assert!(
        e.contains("unknown manifest media type `application/vnd.docker.distribution.manifest.v1+prettyjws`"),
        "{e}"
    );
}

#[test]
fn digest_mismatches_are_caught_for_manifests_and_layers() {
    let image = test_image(Packing::Gzip, "amd64");
    // A layer whose bytes are not what its digest says.
    let (d, blob) = &image.layers[1];
    let mut bad = blob.clone();
    let last = bad.len() - 9;
    bad[last] ^= 0xff;
    let registry = serve(FakeRegistry::builder(), &image, "v1")
        .route(
            &format!("/v2/{REPO}/blobs/{d}"),
            Route::ok("application/octet-stream", bad),
        )
        .start();
    let src = source(&registry, &format!("{REPO}:v1"), None);
    let e = format!("{:#}", anyhow_chain(read(&src, None).unwrap_err()));
    assert!(e.contains("layer 1") && e.contains(&d.to_string()), "{e}");
    assert!(
        e.contains("digest") || e.contains("gzip") || e.contains("corrupt"),
        "{e}"
    );

    // A blob longer than its descriptor says: refused before a byte is read.
    let (d0, blob0) = &image.layers[0];
    let mut longer = blob0.clone();
    longer.push(0);
    let registry = serve(FakeRegistry::builder(), &image, "v1")
        .route(
            &format!("/v2/{REPO}/blobs/{d0}"),
            Route::ok("application/octet-stream", longer),
        )
        .start();
    let src = source(&registry, &format!("{REPO}:v1"), None);
    let e = read(&src, None).unwrap_err().to_string();
    assert!(
        e.contains(&registry.host())
            && e.contains(&format!(
                "sends {} bytes but the manifest says {}",
                blob0.len() + 1,
                blob0.len()
            )),
        "{e}"
    );

    // A manifest whose announced digest is not its content's.
    let lying = Route::ok(media::OCI_MANIFEST, image.manifest.1.clone()).with_header(
        "Docker-Content-Digest",
        &Digest::sha256_of(b"something else").to_string(),
    );
    let registry = serve(FakeRegistry::builder(), &image, "v1")
        .route(&format!("/v2/{REPO}/manifests/v1"), lying)
        .start();
    let src = source(&registry, &format!("{REPO}:v1"), None);
    let e = read(&src, None).unwrap_err().to_string();
    assert!(
        e.contains(&registry.host()) && e.contains("digest mismatch"),
        "{e}"
    );
}

/// Display of an error and its sources, as the CLI prints it.
fn anyhow_chain(e: Error) -> String {
    let mut out = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

#[test]
fn stalls_time_out_instead_of_hanging() {
    let image = test_image(Packing::Gzip, "amd64");
    let (d, blob) = &image.layers[0];
    let registry = serve(FakeRegistry::builder(), &image, "v1")
        .route(
            &format!("/v2/{REPO}/blobs/{d}"),
            Route::ok("application/octet-stream", blob.clone()).with_fault(Fault::Stall(100)),
        )
        .start();
    let src = source(&registry, &format!("{REPO}:v1"), None);
    let e = anyhow_chain(read(&src, None).unwrap_err());
    assert!(
        e.contains("timed out") && e.contains(&registry.host()),
        "{e}"
    );

    // A registry that never answers the manifest request.
    let registry = FakeRegistry::builder()
        .route(
            &format!("/v2/{REPO}/manifests/v1"),
            Route::ok(media::OCI_MANIFEST, image.manifest.1.clone())
                .with_fault(Fault::StallHeaders),
        )
        .start();
    let src = source(&registry, &format!("{REPO}:v1"), None);
    let e = read(&src, None).unwrap_err().to_string();
    assert!(
        e.contains("timed out") && e.contains(&registry.host()),
        "{e}"
    );
}

#[test]
fn a_truncated_blob_is_an_error() {
    let image = test_image(Packing::Gzip, "amd64");
    let (d, blob) = &image.layers[0];
    let registry = serve(FakeRegistry::builder(), &image, "v1")
        .route(
            &format!("/v2/{REPO}/blobs/{d}"),
            Route::ok("application/octet-stream", blob.clone())
                .with_fault(Fault::Truncate(blob.len() / 2)),
        )
        .start();
    let src = source(&registry, &format!("{REPO}:v1"), None);
    let e = anyhow_chain(read(&src, None).unwrap_err());
    assert!(e.contains("layer 0"), "{e}");
    assert!(e.contains(&registry.host()), "{e}");
}

#[test]
fn a_registry_that_is_down_is_named() {
    // A port nobody listens on: bind one, note it, let it go.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let r = Reference::parse(&format!("127.0.0.1:{port}/{REPO}:v1")).unwrap();
    let src = RegistrySource::new(r, &options(None)).unwrap();
    let e = read(&src, None).unwrap_err().to_string();
    assert!(e.contains(&format!("127.0.0.1:{port}")), "{e}");
    assert!(e.contains("is the registry running"), "{e}");
}

#[test]
fn save_writes_a_layout_that_reads_back_the_same() {
    let image = test_image(Packing::Zstd, "amd64");
    let registry = serve(FakeRegistry::builder(), &image, "v1").start();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("layout");
    let src = source(&registry, &format!("{REPO}:v1"), None)
        .save_to(&out)
        .unwrap();
    let live = read(&src, None).unwrap();
    for (d, blob) in &image.layers {
        assert_eq!(&std::fs::read(out.join(d.blob_path())).unwrap(), blob);
    }
    let layout = LayoutSource::open(&out).unwrap();
    let saved = read(&layout, None).unwrap();
    assert_eq!(summary(&saved), summary(&live));
    assert_eq!(saved.manifest_digest, live.manifest_digest);
    // No temporary files are left behind.
    let leftovers: Vec<_> = std::fs::read_dir(out.join("blobs/sha256"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn save_keeps_no_index_when_a_layer_fails() {
    let image = test_image(Packing::Gzip, "amd64");
    let (d, blob) = &image.layers[1];
    let registry = serve(FakeRegistry::builder(), &image, "v1")
        .route(
            &format!("/v2/{REPO}/blobs/{d}"),
            Route::ok("application/octet-stream", blob.clone()).with_fault(Fault::Truncate(10)),
        )
        .start();
    let dir = tempfile::tempdir().unwrap();
    let src = source(&registry, &format!("{REPO}:v1"), None)
        .save_to(dir.path())
        .unwrap();
    assert!(read(&src, None).is_err());
    assert!(!dir.path().join("index.json").exists());
    assert!(!dir.path().join(d.blob_path()).exists());
}

#[test]
fn transfers_are_reported_per_layer() {
    #[derive(Debug, Default)]
    struct Log(std::sync::Mutex<Vec<String>>);
    impl kasane_remote::TransferObserver for Log {
        fn started(&self, blob: &Digest, size: Option<u64>) {
            self.0
                .lock()
                .unwrap()
                .push(format!("start {} {size:?}", blob.short()));
        }
        fn finished(&self, blob: &Digest) {
            self.0
                .lock()
                .unwrap()
                .push(format!("done {}", blob.short()));
        }
    }
    let image = test_image(Packing::Gzip, "amd64");
    let registry = serve(FakeRegistry::builder(), &image, "v1").start();
    let log = Arc::new(Log::default());
    let src = source(&registry, &format!("{REPO}:v1"), None).observe(log.clone());
    read(&src, None).unwrap();
    let events = log.0.lock().unwrap().clone();
    for (d, blob) in &image.layers {
        assert!(
            events.contains(&format!("start {} Some({})", d.short(), blob.len())),
            "{events:?}"
        );
        assert!(
            events.contains(&format!("done {}", d.short())),
            "{events:?}"
        );
    }
}
