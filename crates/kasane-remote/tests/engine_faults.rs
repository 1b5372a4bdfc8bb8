//! The engine client against a fake engine on a unix socket, for what a real dockerd will not do
//! on demand: an export cut short, an error status, an answer that is not HTTP. Each gives an
//! error that names the engine's endpoint; none panics or hangs. (The real engine is exercised
//! by crates/kasane/tests/live_e2e.rs.)

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::time::Duration;

use kasane_image::{ImageReadOptions, NoProgress, Selector};
use kasane_remote::{DaemonSource, Endpoint, EngineClient, RemoteError, read_from_engine};

const ID: &str = "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef";

/// Serves `answer(path)` to every request on a fresh socket, until the test ends.
fn fake_engine(answer: fn(&str) -> Vec<u8>) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("docker.sock");
    let listener = UnixListener::bind(&sock).unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut first = String::new();
            if reader.read_line(&mut first).is_err() {
                continue;
            }
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let path = first.split(' ').nth(1).unwrap_or("/").to_owned();
            let _ = stream.write_all(&answer(&path));
        }
    });
    (dir, sock)
}

fn client(sock: &Path) -> EngineClient {
    EngineClient::new(Endpoint::Unix(sock.to_owned()), Duration::from_secs(5))
}

fn inspect_ok() -> Vec<u8> {
    let body = format!(r#"{{"Id":"{ID}","RepoTags":["app:1"],"Size":10}}"#);
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn read(sock: &Path) -> String {
    read_from_engine(
        &client(sock),
        "app:1",
        &Selector::default(),
        ImageReadOptions::default(),
        &NoProgress,
        None,
    )
    .map(|_| String::new())
    .unwrap_or_else(|e| {
        let mut text = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            text.push_str(": ");
            text.push_str(&s.to_string());
            source = s.source();
        }
        text
    })
}

#[test]
fn a_cut_export_names_the_engine() {
    let (_dir, sock) = fake_engine(|path| {
        if path.ends_with("/json") {
            inspect_ok()
        } else {
            // Announces a megabyte, sends a few bytes of a tar header, hangs up.
            b"HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\n\r\nmanifest.json\0\0\0".to_vec()
        }
    });
    let e = read(&sock);
    assert!(e.contains(&sock.display().to_string()), "{e}");
    assert!(e.contains("closed the connection"), "{e}");
    // The spooling source fails the same way.
    let spooled = DaemonSource::open(&client(&sock), "app:1", None).unwrap_err();
    assert!(
        spooled.to_string().contains("closed the connection"),
        "{spooled}"
    );
}

#[test]
fn engine_errors_and_garbage_are_clear() {
    let (_dir, sock) = fake_engine(|path| {
        if path.ends_with("/json") {
            inspect_ok()
        } else {
            let body = br#"{"message":"open /var/lib/docker/x: no space left on device"}"#;
            let mut r = format!(
                "HTTP/1.1 500 Internal Server Error\r\nContent-Length: {}\r\n\r\n",
                body.len()
            )
            .into_bytes();
            r.extend_from_slice(body);
            r
        }
    });
    let e = read(&sock);
    assert!(
        e.contains("HTTP 500") && e.contains("no space left on device"),
        "{e}"
    );

    let (_dir2, sock2) = fake_engine(|_| b"SSH-2.0-OpenSSH_9.2\r\n".to_vec());
    let e = client(&sock2).inspect("app:1").unwrap_err().to_string();
    assert!(
        e.contains(&sock2.display().to_string()) && e.contains("HTTP"),
        "{e}"
    );

    let (_dir3, sock3) =
        fake_engine(|_| b"HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\n{}".to_vec());
    match client(&sock3).inspect("app:1") {
        Ok(None) => {}
        other => panic!("a 404 is `no such image`, got {other:?}"),
    }
    let e = DaemonSource::open(&client(&sock3), "app:1", None).unwrap_err();
    assert!(matches!(e, RemoteError::NoSuchLocalImage { .. }), "{e}");
    assert!(e.to_string().contains("no image `app:1`"), "{e}");
}
