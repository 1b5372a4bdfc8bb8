//! SHA-256 digests: parsing the one the user pins, computing the one that arrived.

use std::fmt;
use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::str::FromStr;

use sha2::{Digest, Sha256};

use crate::error::FetchError;

/// A SHA-256 digest.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sha256Digest(pub [u8; 32]);

impl FromStr for Sha256Digest {
    type Err = FetchError;

    /// Reads 64 hex digits (either case), optionally prefixed by `sha256:` as in OCI digests.
    fn from_str(text: &str) -> Result<Self, FetchError> {
        let invalid = || FetchError::InvalidDigest(text.to_owned());
        let hex = text.strip_prefix("sha256:").unwrap_or(text).as_bytes();
        if hex.len() != 64 {
            return Err(invalid());
        }
        let mut digest = [0u8; 32];
        for (byte, pair) in digest.iter_mut().zip(hex.chunks_exact(2)) {
            let high = hex_value(pair[0]).ok_or_else(invalid)?;
            let low = hex_value(pair[1]).ok_or_else(invalid)?;
            *byte = high << 4 | low;
        }
        Ok(Self(digest))
    }
}

fn hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

impl fmt::Display for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{self}")
    }
}

/// An incremental SHA-256, for the single-stream path that hashes as bytes arrive.
#[derive(Debug, Default, Clone)]
pub(crate) struct Hasher(Sha256);

impl Hasher {
    pub(crate) fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    pub(crate) fn finish(self) -> Sha256Digest {
        Sha256Digest(self.0.finalize().into())
    }
}

/// Hashes a whole file from the start, in bounded memory.
pub(crate) fn hash_file(file: &File, path: &Path) -> Result<Sha256Digest, FetchError> {
    let mut hasher = Hasher::default();
    let mut buf = vec![0u8; 1 << 20];
    let mut reader = file;
    std::io::Seek::rewind(&mut reader).map_err(FetchError::io(path))?;
    loop {
        match reader.read(&mut buf) {
            Ok(0) => return Ok(hasher.finish()),
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(FetchError::io(path)(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn parses_and_prints_hex() {
        let d: Sha256Digest = EMPTY.parse().unwrap();
        assert_eq!(d.to_string(), EMPTY);
        let upper: Sha256Digest = EMPTY.to_uppercase().parse().unwrap();
        assert_eq!(upper, d);
        let prefixed: Sha256Digest = format!("sha256:{EMPTY}").parse().unwrap();
        assert_eq!(prefixed, d);
        assert_eq!(Hasher::default().finish(), d);
        for bad in [
            "",
            "e3b0",
            &EMPTY[1..],
            &format!("{EMPTY}0"),
            &EMPTY.replace('e', "g"),
        ] {
            assert!(bad.parse::<Sha256Digest>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn hashes_a_file_from_the_start() {
        let mut tmp = tempfile::tempfile().unwrap();
        std::io::Write::write_all(&mut tmp, b"abc").unwrap();
        let d = hash_file(&tmp, Path::new("tmp")).unwrap();
        assert_eq!(
            d.to_string(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
