//! Layer compression, recognised by magic bytes (names and media types are not trusted: mislabelled
//! layers exist).

use std::io::{self, BufReader, Read};

use flate2::read::MultiGzDecoder;

/// How a layer blob is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    /// A plain tar.
    None,
    /// gzip, possibly several members (pigz, eStargz).
    Gzip,
    /// zstd, possibly several frames.
    Zstd,
}

impl Compression {
    /// Recognises gzip (`1f 8b`) and zstd (`28 b5 2f fd`); anything else is read as a tar.
    pub fn sniff(head: &[u8]) -> Compression {
        if head.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }

    /// The name used in output (`none`, `gzip`, `zstd`).
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }
}

/// A stream decoded according to its [`Compression`], from which the raw stream can be taken
/// back (so its digest can still be completed after a decoding error).
pub(crate) enum Decoder<R: Read> {
    Plain(R),
    Gzip(Box<MultiGzDecoder<R>>),
    Zstd(Box<zstd::Decoder<'static, BufReader<R>>>),
}

impl<R: Read> Decoder<R> {
    pub(crate) fn new(compression: Compression, raw: R) -> io::Result<Decoder<R>> {
        Ok(match compression {
            Compression::None => Decoder::Plain(raw),
            Compression::Gzip => Decoder::Gzip(Box::new(MultiGzDecoder::new(raw))),
            Compression::Zstd => {
                let mut d = zstd::Decoder::new(raw)?;
                // Layers are decoded once and never by a hostile-sized window we could refuse,
                // but cap it anyway at zstd's documented maximum for 64-bit decoders.
                d.window_log_max(31)?;
                Decoder::Zstd(Box::new(d))
            }
        })
    }

    /// Gives back the raw (still compressed) stream, positioned wherever decoding stopped.
    pub(crate) fn into_raw(self) -> R {
        match self {
            Decoder::Plain(r) => r,
            Decoder::Gzip(d) => d.into_inner(),
            Decoder::Zstd(d) => d.finish().into_inner(),
        }
    }
}

impl<R: Read> Read for Decoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Decoder::Plain(r) => r.read(buf),
            Decoder::Gzip(d) => d.read(buf),
            Decoder::Zstd(d) => d.read(buf),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_magic_bytes() {
        assert_eq!(Compression::sniff(&[0x1f, 0x8b, 8, 0]), Compression::Gzip);
        assert_eq!(
            Compression::sniff(&[0x28, 0xb5, 0x2f, 0xfd]),
            Compression::Zstd
        );
        assert_eq!(Compression::sniff(b"etc/"), Compression::None);
        assert_eq!(Compression::sniff(&[]), Compression::None);
    }
}
