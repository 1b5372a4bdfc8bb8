//! Byte ranges and the `Content-Range` response header (RFC 9110 §14.4).
//!
//! The parser is strict on purpose: a reply whose range we cannot read exactly is a reply we
//! cannot place in the file, so anything unusual is an error rather than a guess.

use std::fmt;

/// An inclusive byte range `first..=last`, as written in `Range: bytes=first-last`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ByteRange {
    /// Offset of the first byte.
    pub first: u64,
    /// Offset of the last byte (inclusive).
    pub last: u64,
}

impl ByteRange {
    /// The range `first..=last`; `None` when `last < first`.
    pub fn new(first: u64, last: u64) -> Option<Self> {
        (first <= last).then_some(Self { first, last })
    }

    /// Number of bytes in the range (never zero).
    pub fn len(self) -> u64 {
        self.last - self.first + 1
    }

    /// Always false: a byte range holds at least one byte. Present for API symmetry with `len`.
    pub fn is_empty(self) -> bool {
        false
    }

    /// The value of a `Range` request header asking for exactly this range.
    pub fn header_value(self) -> String {
        format!("bytes={}-{}", self.first, self.last)
    }
}

impl fmt::Display for ByteRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bytes {}-{}", self.first, self.last)
    }
}

/// A parsed `Content-Range` header value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentRange {
    /// `bytes first-last/complete` or `bytes first-last/*`: the body holds this range.
    Satisfied {
        /// The range the body holds.
        range: ByteRange,
        /// Length of the whole representation, when the server knows it.
        complete: Option<u64>,
    },
    /// `bytes */complete`: sent with 416 when the asked range lies outside the representation.
    Unsatisfied {
        /// Length of the whole representation.
        complete: u64,
    },
}

/// Why a `Content-Range` value could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContentRangeError {
    /// The unit is not `bytes`.
    #[error("unit is not bytes")]
    Unit,
    /// The value does not follow `bytes first-last/length`.
    #[error("not of the form `bytes first-last/length`")]
    Syntax,
    /// A number does not fit in 64 bits.
    #[error("number too large")]
    Overflow,
    /// `last` is before `first`, or the range ends beyond the stated length.
    #[error("range is empty or ends beyond the stated length")]
    Inconsistent,
}

impl ContentRange {
    /// Parses a `Content-Range` value such as `bytes 0-499/1234`. Surrounding whitespace is
    /// ignored and the unit is case-insensitive; everything else must match the grammar exactly.
    pub fn parse(value: &[u8]) -> Result<Self, ContentRangeError> {
        let value = value.trim_ascii();
        let (unit, rest) = value
            .split_once_byte(b' ')
            .ok_or(ContentRangeError::Syntax)?;
        if !unit.eq_ignore_ascii_case(b"bytes") {
            return Err(ContentRangeError::Unit);
        }
        let rest = rest.trim_ascii_start();
        let (range, complete) = rest
            .split_once_byte(b'/')
            .ok_or(ContentRangeError::Syntax)?;
        if range == b"*" {
            let complete = parse_digits(complete)?;
            return Ok(Self::Unsatisfied { complete });
        }
        let (first, last) = range
            .split_once_byte(b'-')
            .ok_or(ContentRangeError::Syntax)?;
        let range = ByteRange::new(parse_digits(first)?, parse_digits(last)?)
            .ok_or(ContentRangeError::Inconsistent)?;
        let complete = if complete == b"*" {
            None
        } else {
            let complete = parse_digits(complete)?;
            if range.last >= complete {
                return Err(ContentRangeError::Inconsistent);
            }
            Some(complete)
        };
        Ok(Self::Satisfied { range, complete })
    }
}

/// Parses `1*DIGIT` into a u64: no sign, no spaces, no empty string.
pub(crate) fn parse_digits(digits: &[u8]) -> Result<u64, ContentRangeError> {
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(ContentRangeError::Syntax);
    }
    digits.iter().try_fold(0u64, |acc, &d| {
        acc.checked_mul(10)
            .and_then(|acc| acc.checked_add(u64::from(d - b'0')))
            .ok_or(ContentRangeError::Overflow)
    })
}

trait SplitOnce {
    fn split_once_byte(&self, byte: u8) -> Option<(&[u8], &[u8])>;
}

impl SplitOnce for [u8] {
    fn split_once_byte(&self, byte: u8) -> Option<(&[u8], &[u8])> {
        let at = self.iter().position(|&b| b == byte)?;
        Some((&self[..at], &self[at + 1..]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn satisfied(first: u64, last: u64, complete: Option<u64>) -> ContentRange {
        ContentRange::Satisfied {
            range: ByteRange { first, last },
            complete,
        }
    }

    #[test]
    fn reads_the_forms_of_rfc_9110() {
        assert_eq!(
            ContentRange::parse(b"bytes 0-499/1234"),
            Ok(satisfied(0, 499, Some(1234)))
        );
        assert_eq!(
            ContentRange::parse(b"bytes 42-42/*"),
            Ok(satisfied(42, 42, None))
        );
        assert_eq!(
            ContentRange::parse(b"bytes */1234"),
            Ok(ContentRange::Unsatisfied { complete: 1234 })
        );
        assert_eq!(
            ContentRange::parse(b"  BYTES 0-0/1 \t"),
            Ok(satisfied(0, 0, Some(1)))
        );
    }

    #[test]
    fn rejects_anything_else() {
        for bad in [
            &b""[..],
            b"bytes",
            b"bytes 0-499",
            b"bytes 0-/10",
            b"bytes -5/10",
            b"bytes +0-5/10",
            b"bytes 0 - 5/10",
            b"bytes 0-5/ 10",
            b"bytes 0x0-5/10",
            b"bytes 0-5/10/11",
            b"bytes */*",
        ] {
            assert_eq!(
                ContentRange::parse(bad),
                Err(ContentRangeError::Syntax),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        assert_eq!(
            ContentRange::parse(b"items 0-5/10"),
            Err(ContentRangeError::Unit)
        );
        assert_eq!(
            ContentRange::parse(b"bytes 6-5/10"),
            Err(ContentRangeError::Inconsistent)
        );
        assert_eq!(
            ContentRange::parse(b"bytes 0-10/10"),
            Err(ContentRangeError::Inconsistent)
        );
        assert_eq!(
            ContentRange::parse(b"bytes 0-99999999999999999999/10"),
            Err(ContentRangeError::Overflow)
        );
        assert_eq!(
            ContentRange::parse(b"bytes 0-18446744073709551614/18446744073709551615"),
            Ok(satisfied(
                0,
                18_446_744_073_709_551_614,
                Some(18_446_744_073_709_551_615)
            ))
        );
    }

    #[test]
    fn byte_range_header_and_length() {
        let r = ByteRange::new(10, 19).unwrap();
        assert_eq!(r.len(), 10);
        assert_eq!(r.header_value(), "bytes=10-19");
        assert_eq!(r.to_string(), "bytes 10-19");
        assert_eq!(ByteRange::new(5, 4), None);
    }

    proptest! {
        #[test]
        fn round_trips_every_valid_range(first in 0u64..u64::MAX - 2, len in 1u64..1 << 40, extra in 0u64..1 << 40) {
            let last = first.saturating_add(len - 1).min(u64::MAX - 2);
            let complete = last.saturating_add(1).saturating_add(extra);
            let text = format!("bytes {first}-{last}/{complete}");
            prop_assert_eq!(ContentRange::parse(text.as_bytes()), Ok(satisfied(first, last, Some(complete))));
        }

        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = ContentRange::parse(&bytes);
        }
    }
}
