//! The one-connection fallback for servers without usable ranges. The bytes are hashed as they
//! arrive; a failed attempt starts over from the first byte (nothing else is possible without
//! ranges), within the same retry budget.

use std::os::unix::fs::FileExt;
use std::sync::atomic::AtomicBool;

use ureq::http::Response;

use crate::checksum::{Hasher, Sha256Digest};
use crate::client;
use crate::error::{FetchError, Requested};
use crate::event::{Event, Observer, Progress};
use crate::partial::Partial;
use crate::retry::{Failure, RetryPolicy};

/// Copy buffer size.
const BUFFER: usize = 256 * 1024;

/// Fetches the whole file into `partial`, starting with `first` when the probe's reply already
/// carries it. Returns the length and digest of what was written.
#[allow(clippy::too_many_arguments)]
pub(crate) fn download_whole(
    agent: &ureq::Agent,
    url: &str,
    mut first: Option<Response<ureq::Body>>,
    partial: &Partial,
    policy: &RetryPolicy,
    cancelled: &AtomicBool,
    progress: &Progress<'_>,
    observer: Observer<'_>,
) -> Result<(u64, Sha256Digest), FetchError> {
    let mut buf = vec![0u8; BUFFER];
    let mut warned_length = false;
    policy.run(cancelled, observer, || {
        let response = match first.take() {
            Some(response) => response,
            None => client::get(agent, url, None, None)?,
        };
        let headers = response.headers();
        match response.status().as_u16() {
            200 => {}
            206 => {
                return Err(FetchError::WrongRange {
                    asked: crate::ByteRange { first: 0, last: 0 },
                    answer: format!(
                        "206 to a request without Range ({})",
                        client::quoted(headers, "Content-Range")
                    ),
                }
                .into());
            }
            status => {
                return Err(Failure {
                    retry_after: client::retry_after(headers),
                    error: FetchError::Status {
                        what: Requested::Whole,
                        status,
                    },
                });
            }
        }
        let length = client::content_length(headers).map_err(|answer| FetchError::Body {
            what: Requested::Whole,
            received: 0,
            error: std::io::Error::new(std::io::ErrorKind::InvalidData, answer),
        })?;
        let chunked = client::header_text(headers, "transfer-encoding")
            .is_some_and(|te| te.to_ascii_lowercase().contains("chunked"));
        if length.is_none() && !chunked && !warned_length {
            warned_length = true;
            observer(&Event::LengthUnknown);
        }
        partial
            .file
            .set_len(0)
            .map_err(FetchError::io(&partial.path))?;
        let mut hasher = Hasher::default();
        let mut written = 0u64;
        let mut body = response.into_body();
        let mut reader = body.as_reader();
        let result = client::copy_body(&mut reader, &mut buf, length, Requested::Whole, |bytes| {
            partial
                .file
                .write_all_at(bytes, written)
                .map_err(FetchError::io(&partial.path))?;
            hasher.update(bytes);
            written += bytes.len() as u64;
            progress.add(bytes.len() as u64);
            Ok(())
        });
        match result {
            Ok(total) => Ok((total, std::mem::take(&mut hasher).finish())),
            Err(e) => {
                progress.sub(written);
                Err(e.into())
            }
        }
    })
}
