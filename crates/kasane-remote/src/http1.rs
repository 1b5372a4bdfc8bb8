//! Just enough HTTP/1.1 to talk to the Docker engine on its unix socket: one request per
//! connection (`Connection: close`), a response head, and a body framed by `Content-Length`,
//! chunked encoding or the end of the connection.

use std::io::{self, BufRead, BufReader, Read, Write};

/// A byte stream to the engine.
pub(crate) trait Stream: Read + Write + Send {}
impl<T: Read + Write + Send> Stream for T {}

/// The head of a response and its body.
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) body: Body,
}

/// Longest response head accepted.
const HEAD_LIMIT: usize = 64 * 1024;

fn bad(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

/// Sends `GET path` and reads the response head.
pub(crate) fn get(stream: Box<dyn Stream>, path: &str) -> io::Result<Response> {
    let mut reader = BufReader::with_capacity(256 * 1024, stream);
    write!(
        reader.get_mut(),
        "GET {path} HTTP/1.1\r\nHost: docker\r\nUser-Agent: kasane/{}\r\nConnection: close\r\n\r\n",
        env!("CARGO_PKG_VERSION")
    )?;
    reader.get_mut().flush()?;
    let mut head_bytes = 0usize;
    let mut line = String::new();
    let mut read_line = |reader: &mut BufReader<Box<dyn Stream>>, line: &mut String| {
        line.clear();
        let n = reader.by_ref().take(8192).read_line(line)?;
        head_bytes += n;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the connection closed before a complete response head",
            ));
        }
        if head_bytes > HEAD_LIMIT || !line.ends_with('\n') {
            return Err(bad("response head too long"));
        }
        Ok(())
    };
    read_line(&mut reader, &mut line)?;
    let status = parse_status(line.trim_end()).ok_or_else(|| bad("not an HTTP/1.x response"))?;
    let mut length = None;
    let mut chunked = false;
    loop {
        read_line(&mut reader, &mut line)?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        let Some((name, value)) = l.split_once(':') else {
            return Err(bad("malformed header line"));
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = Some(
                value
                    .parse::<u64>()
                    .map_err(|_| bad("malformed Content-Length"))?,
            );
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value
                .rsplit(',')
                .next()
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("chunked"));
        }
    }
    let framing = if chunked {
        Framing::Chunked {
            left: 0,
            done: false,
        }
    } else if let Some(n) = length {
        Framing::Length(n)
    } else {
        Framing::Close
    };
    Ok(Response {
        status,
        body: Body { reader, framing },
    })
}

fn parse_status(line: &str) -> Option<u16> {
    let rest = line.strip_prefix("HTTP/1.")?;
    let mut parts = rest.splitn(3, ' ');
    parts.next()?;
    let code = parts.next()?;
    (code.len() == 3).then(|| code.parse().ok()).flatten()
}

enum Framing {
    Length(u64),
    Chunked { left: u64, done: bool },
    Close,
}

/// A response body, de-framed.
pub(crate) struct Body {
    reader: BufReader<Box<dyn Stream>>,
    framing: Framing,
}

impl Body {
    /// Reads the whole body, refusing more than `limit` bytes.
    pub(crate) fn read_limited(mut self, limit: u64) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        self.by_ref().take(limit + 1).read_to_end(&mut out)?;
        if out.len() as u64 > limit {
            return Err(bad(format!("response larger than {limit} bytes")));
        }
        Ok(out)
    }
}

impl Read for Body {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        match &mut self.framing {
            Framing::Close => self.reader.read(buf),
            Framing::Length(left) => {
                if *left == 0 {
                    return Ok(0);
                }
                let want = buf.len().min(usize::try_from(*left).unwrap_or(usize::MAX));
                let n = self.reader.read(&mut buf[..want])?;
                if n == 0 {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!("the engine closed the connection {left} bytes early"),
                    ));
                }
                *left -= n as u64;
                Ok(n)
            }
            Framing::Chunked { left, done } => {
                if *done {
                    return Ok(0);
                }
                if *left == 0 {
                    let mut line = String::new();
                    self.reader.by_ref().take(1024).read_line(&mut line)?;
                    let size = line.trim_end().split(';').next().unwrap_or("").trim();
                    let size =
                        u64::from_str_radix(size, 16).map_err(|_| bad("malformed chunk size"))?;
                    if size == 0 {
                        // Trailers, up to the empty line.
                        loop {
                            line.clear();
                            let n = self.reader.by_ref().take(8192).read_line(&mut line)?;
                            if n == 0 || line.trim_end().is_empty() {
                                break;
                            }
                        }
                        *done = true;
                        return Ok(0);
                    }
                    *left = size;
                }
                let want = buf.len().min(usize::try_from(*left).unwrap_or(usize::MAX));
                let n = self.reader.read(&mut buf[..want])?;
                if n == 0 {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the engine closed the connection inside a chunk",
                    ));
                }
                *left -= n as u64;
                if *left == 0 {
                    let mut crlf = [0u8; 2];
                    self.reader.read_exact(&mut crlf)?;
                    if &crlf != b"\r\n" {
                        return Err(bad("chunk not followed by CRLF"));
                    }
                }
                Ok(n)
            }
        }
    }
}

/// A response held in memory, as if read from a socket (what is written is discarded).
struct Canned(io::Cursor<Vec<u8>>);

impl Read for Canned {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl Write for Canned {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Reads a whole response from `raw` (the fuzz target and the tests use this).
pub(crate) fn parse_canned(raw: &[u8]) -> io::Result<(u16, Vec<u8>)> {
    let r = get(Box::new(Canned(io::Cursor::new(raw.to_vec()))), "/x")?;
    Ok((r.status, r.body.read_limited(1 << 20)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn respond(raw: &[u8]) -> io::Result<(u16, Vec<u8>)> {
        parse_canned(raw)
    }
    #[test]
    fn reads_length_chunked_and_close_framing() {
        assert_eq!(
            respond(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcdef").unwrap(),
            (200, b"abc".to_vec())
        );
        assert_eq!(
            respond(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nT: 1\r\n\r\n")
                .unwrap(),
            (200, b"abcde".to_vec())
        );
        assert_eq!(
            respond(b"HTTP/1.0 404 Not Found\r\n\r\nnope").unwrap(),
            (404, b"nope".to_vec())
        );
    }

    #[test]
    fn refuses_broken_responses() {
        for raw in [
            &b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc"[..],
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcXX",
            b"SSH-2.0-OpenSSH\r\n",
            b"HTTP/1.1 200 OK\r\nbroken\r\n\r\n",
            b"",
        ] {
            assert!(respond(raw).is_err(), "{}", String::from_utf8_lossy(raw));
        }
    }
}
