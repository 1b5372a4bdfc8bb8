//! End-to-end: an HTTPS registry with its own CA that also demands a client certificate — the
//! real registry (Debian's `docker-registry`, Docker's distribution) started by this test on
//! 127.0.0.1 with certificates openssl makes here. kasane reads an image from it with the
//! certificates from `--cert-dir` (the layout of Docker's `certs.d/HOST/`), gets the same
//! analysis as from the plain registry, and fails clearly without the client certificate, with
//! the wrong CA, and over plain HTTP.

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use kasane_testenv::{
    BUSYBOX_IMAGE, ImageCleanup, build_image, push_image, require_engine, require_registry, skopeo,
    unique_tag,
};
use serde_json::Value;

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kasane"))
        .args(args)
        .output()
        .expect("run kasane");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("openssl must be installed (scripts/env installs it)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA (`NAME-ca.pem`, `NAME-ca.key`) and a certificate it signs (`NAME.pem`, `NAME.key`) for
/// 127.0.0.1, usable by a server and a client.
fn issue(dir: &Path, name: &str) {
    let ca = format!("{name}-ca");
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            &format!("/CN={ca}"),
            "-keyout",
            &format!("{ca}.key"),
            "-out",
            &format!("{ca}.pem"),
        ],
    );
    let ext = dir.join(format!("{name}.ext"));
    std::fs::write(
        &ext,
        "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-subj",
            &format!("/CN={name}"),
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.csr"),
        ],
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &format!("{name}.csr"),
            "-CA",
            &format!("{ca}.pem"),
            "-CAkey",
            &format!("{ca}.key"),
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            &format!("{name}.ext"),
            "-out",
            &format!("{name}.pem"),
        ],
    );
}

/// A registry process that is stopped when the test ends, however it ends.
struct Registry(Child);

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_tls_registry(dir: &Path, port: u16) -> Registry {
    let config = dir.join("registry.yml");
    std::fs::write(
        &config,
        format!(
            "version: 0.1\nlog: {{level: warn}}\nstorage:\n  filesystem: {{rootdirectory: {data}}}\n\
             http:\n  addr: 127.0.0.1:{port}\n  tls:\n    certificate: {d}/server.pem\n    \
             key: {d}/server.key\n    clientcas: [{d}/client-ca.pem]\n",
            data = dir.join("data").display(),
            d = dir.display(),
        ),
    )
    .unwrap();
    let child = Command::new("/usr/bin/docker-registry")
        .args(["serve", config.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("docker-registry must be installed (scripts/env installs it)");
    let registry = Registry(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "the TLS registry did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    registry
}

/// A `--cert-dir` holding the given files of `dir`, renamed.
fn cert_dir(dir: &Path, name: &str, files: &[(&str, &str)]) -> String {
    let out = dir.join(name);
    std::fs::create_dir(&out).unwrap();
    for (from, to) in files {
        std::fs::copy(dir.join(from), out.join(to)).unwrap();
    }
    out.display().to_string()
}

fn analysis(args: &[&str]) -> Value {
    let (code, out, err) = run(args);
    assert_eq!(code, 0, "kasane {args:?} failed:\n{err}");
    let mut v: Value = serde_json::from_str(&out).unwrap();
    // Where the image was read from differs; nothing else may.
    v["image"].as_object_mut().unwrap().remove("source");
    v["image"].as_object_mut().unwrap().remove("name");
    v
}

#[test]
#[ignore = "e2e: needs the Docker engine and the registry (scripts/test runs it)"]
fn https_registries_use_their_certificate_directory() {
    require_engine();
    require_registry();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    issue(d, "server");
    issue(d, "client");
    issue(d, "stranger");
    let port = free_port();
    let _registry = start_tls_registry(d, port);

    let tag = unique_tag("tls-registry");
    build_image(
        &tag,
        &format!("FROM {BUSYBOX_IMAGE}\nRUN echo tls > /tls.txt\n"),
        &[],
        true,
    );
    let plain = push_image(&tag);
    let _cleanup = ImageCleanup(vec![tag.clone(), plain.clone()]);
    // Docker's certs.d layout: CAs as *.crt, the client pair as NAME.cert + NAME.key.
    let good = cert_dir(
        d,
        "good",
        &[
            ("server-ca.pem", "ca.crt"),
            ("client.pem", "client.cert"),
            ("client.key", "client.key"),
        ],
    );
    let secure = format!("127.0.0.1:{port}/{tag}");
    skopeo(&[
        "copy",
        "--quiet",
        "--src-tls-verify=false",
        "--dest-cert-dir",
        &good,
        &format!("docker://{plain}"),
        &format!("docker://{secure}"),
    ]);

    let over_tls = analysis(&[
        "analyze",
        "--json",
        "-q",
        "--cert-dir",
        &good,
        &format!("docker://{secure}"),
    ]);
    let over_http = analysis(&["analyze", "--json", "-q", &format!("docker://{plain}")]);
    assert_eq!(over_tls, over_http);

    let failure = |certs: Option<&str>| {
        let image = format!("docker://{secure}");
        let mut args = vec!["analyze", "-q", &image];
        if let Some(certs) = certs {
            args.extend(["--cert-dir", certs]);
        }
        let (code, _, err) = run(&args);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains(&format!("127.0.0.1:{port}")), "{err}");
        err
    };
    // The server's CA but no client certificate: the registry ends the handshake.
    let no_client = cert_dir(d, "no-client", &[("server-ca.pem", "ca.crt")]);
    let err = failure(Some(&no_client));
    assert!(err.contains("refused the client certificate"), "{err}");
    // A CA that did not sign the server's certificate.
    let stranger = cert_dir(
        d,
        "stranger-ca",
        &[
            ("stranger-ca.pem", "ca.crt"),
            ("client.pem", "client.cert"),
            ("client.key", "client.key"),
        ],
    );
    let err = failure(Some(&stranger));
    assert!(err.contains("not signed by a trusted CA"), "{err}");
    // A client certificate whose key is missing is refused before any connection.
    let half = cert_dir(d, "half", &[("client.pem", "client.cert")]);
    let err = failure(Some(&half));
    assert!(
        err.contains("client.cert") && err.contains("without its key"),
        "{err}"
    );
    // No certificate directory: a local registry is spoken to in plain HTTP, which a TLS
    // registry refuses.
    let err = failure(None);
    assert!(err.contains("speaks only HTTPS"), "{err}");
}
