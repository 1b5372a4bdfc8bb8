//! Content digests (`sha256:<hex>`) and readers that compute them while bytes stream past.

use std::fmt;
use std::io::{self, Read};
use std::str::FromStr;

use sha2::{Digest as _, Sha256};

/// A content digest as OCI writes it: `algorithm:encoded`. Only `sha256` can be verified;
/// other algorithms are carried along and reported as unverifiable.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    algorithm: Box<str>,
    encoded: Box<str>,
}

/// Why a string is not a digest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a digest (expected `sha256:` and 64 lowercase hex digits)")]
pub struct DigestParseError(pub String);

impl Digest {
    /// The sha256 digest of `bytes`.
    pub fn sha256_of(bytes: &[u8]) -> Digest {
        Digest::from_sha256(Sha256::digest(bytes).into())
    }

    /// A sha256 digest from its 32 raw bytes.
    pub fn from_sha256(raw: [u8; 32]) -> Digest {
        Digest {
            algorithm: "sha256".into(),
            encoded: hex(&raw).into(),
        }
    }

    /// The algorithm part (`sha256`).
    pub fn algorithm(&self) -> &str {
        &self.algorithm
    }

    /// The encoded part (64 hex digits for sha256).
    pub fn encoded(&self) -> &str {
        &self.encoded
    }

    /// Whether kasane can verify content against this digest.
    pub fn is_sha256(&self) -> bool {
        &*self.algorithm == "sha256"
    }

    /// Where an OCI image layout stores this blob: `blobs/<algorithm>/<encoded>`.
    pub fn blob_path(&self) -> String {
        format!("blobs/{}/{}", self.algorithm, self.encoded)
    }

    /// The first 12 hex digits, as `docker images` shows IDs.
    pub fn short(&self) -> &str {
        &self.encoded[..self.encoded.len().min(12)]
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm, self.encoded)
    }
}

impl FromStr for Digest {
    type Err = DigestParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || DigestParseError(s.to_owned());
        let (algorithm, encoded) = s.split_once(':').ok_or_else(err)?;
        // Both parts become path components of `blobs/<alg>/<enc>`, so they are checked
        // strictly: nothing here may name a parent directory or contain a separator.
        let alg_ok = !algorithm.is_empty()
            && algorithm
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+._-".contains(&b));
        let enc_ok = !encoded.is_empty()
            && encoded
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"=_-".contains(&b));
        if !alg_ok || !enc_ok {
            return Err(err());
        }
        if algorithm == "sha256"
            && (encoded.len() != 64
                || !encoded
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
        {
            return Err(err());
        }
        Ok(Digest {
            algorithm: algorithm.into(),
            encoded: encoded.into(),
        })
    }
}

impl serde::Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 15)] as char);
    }
    out
}

/// A reader that computes the sha256 of everything read through it and counts the bytes.
#[derive(Debug)]
pub struct Sha256Reader<R> {
    inner: R,
    hasher: Sha256,
    bytes: u64,
}

impl<R: Read> Sha256Reader<R> {
    /// Wraps `inner`.
    pub fn new(inner: R) -> Self {
        Sha256Reader {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
        }
    }

    /// The wrapped reader.
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// Bytes read so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Reads the rest of the stream (so the digest covers every byte) and returns the digest
    /// and the total byte count.
    pub fn finish(mut self) -> io::Result<(Digest, u64)> {
        io::copy(&mut self, &mut io::sink())?;
        Ok((
            Digest::from_sha256(self.hasher.finalize().into()),
            self.bytes,
        ))
    }
}

impl<R: Read> Read for Sha256Reader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_sha256() {
        let d: Digest = "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"
            .parse()
            .unwrap();
        assert_eq!(
            d.blob_path(),
            "blobs/sha256/5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"
        );
        assert_eq!(d, Digest::sha256_of(&[0u8; 1024]));
    }

    #[test]
    fn rejects_path_tricks_and_bad_hex() {
        for bad in [
            "sha256:../../etc/passwd",
            "sha256:ABC",
            "../x:abc",
            "sha256",
            ":abc",
            "sha256:5F70BF18A086007016E948B04AED3B82103A36BEA41755B6CDDFAF10ACE3C6EF",
        ] {
            assert!(bad.parse::<Digest>().is_err(), "{bad}");
        }
        assert!("sha512:abcd".parse::<Digest>().is_ok());
    }

    #[test]
    fn reader_hashes_every_byte_including_unread_tail() {
        let data = b"hello world".to_vec();
        let mut r = Sha256Reader::new(&data[..]);
        let mut first = [0u8; 5];
        r.read_exact(&mut first).unwrap();
        let (d, n) = r.finish().unwrap();
        assert_eq!(n, 11);
        assert_eq!(d, Digest::sha256_of(&data));
    }
}
