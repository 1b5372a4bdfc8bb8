//! The first request: `GET` with `Range: bytes=0-0`.
//!
//! Not `HEAD`: presigned object-store URLs are often signed for `GET` only, and when the server
//! ignores the range its 200 reply *is* the download, so nothing is fetched twice. A 206 is
//! the only proof of range support we accept (`Accept-Ranges` is advisory), and its
//! `Content-Range` gives the size.

use std::sync::atomic::AtomicBool;

use ureq::http::Response;

use crate::client::{self, Validators};
use crate::content_range::{ByteRange, ContentRange};
use crate::error::{FetchError, Requested};
use crate::event::{Observer, SingleStreamReason};
use crate::retry::{Failure, RetryPolicy};

/// What the probe learnt.
#[derive(Debug)]
pub(crate) enum Probe {
    /// The server honours ranges; the file has `size` (≥ 1) bytes.
    Ranged { size: u64, validators: Validators },
    /// Fetch in one stream. `response` is the probe's own 200 reply when it already carries
    /// the whole file.
    Whole {
        reason: SingleStreamReason,
        response: Option<Response<ureq::Body>>,
    },
}

pub(crate) fn probe(
    agent: &ureq::Agent,
    url: &str,
    policy: &RetryPolicy,
    cancelled: &AtomicBool,
    observer: Observer<'_>,
) -> Result<Probe, FetchError> {
    policy.run(cancelled, observer, || probe_once(agent, url))
}

fn probe_once(agent: &ureq::Agent, url: &str) -> Result<Probe, Failure> {
    let first = ByteRange { first: 0, last: 0 };
    let mut response = client::get(agent, url, Some(first), None)?;
    let status = response.status().as_u16();
    if status != 200 {
        // Read the (tiny) body so the connection can serve the first worker; a body that is
        // not tiny is not worth it and the connection is dropped instead.
        let _ = response.body_mut().with_config().limit(4096).read_to_vec();
    }
    let headers = response.headers();
    match status {
        206 => {
            let wrong = |answer: String| FetchError::WrongRange {
                asked: first,
                answer,
            };
            match client::content_range(headers).map_err(wrong)? {
                ContentRange::Satisfied {
                    range,
                    complete: Some(size),
                } if range == first => Ok(Probe::Ranged {
                    size,
                    validators: Validators::from_headers(headers),
                }),
                ContentRange::Satisfied {
                    range,
                    complete: None,
                } if range == first => Ok(Probe::Whole {
                    reason: SingleStreamReason::LengthUnknown,
                    response: None,
                }),
                _ => Err(wrong(client::quoted(headers, "Content-Range")).into()),
            }
        }
        200 => Ok(Probe::Whole {
            reason: SingleStreamReason::RangesIgnored,
            response: Some(response),
        }),
        416 => Ok(Probe::Whole {
            reason: SingleStreamReason::RangeRefused,
            response: None,
        }),
        status => Err(Failure {
            retry_after: client::retry_after(headers),
            error: FetchError::Status {
                what: Requested::Whole,
                status,
            },
        }),
    }
}
