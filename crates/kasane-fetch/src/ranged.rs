//! The parallel part: N workers, each with its own connection, take chunks from a shared
//! queue and write each range straight to its offset in the partial file. Memory per worker is
//! one copy buffer, whatever the file size.

use std::os::unix::fs::FileExt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use ureq::http::HeaderMap;

use crate::client::{self, Client, Validators};
use crate::content_range::{ByteRange, ContentRange};
use crate::error::{FetchError, Requested};
use crate::event::{Observer, Progress};
use crate::partial::{Partial, ResumeState};
use crate::retry::{Failure, RetryPolicy};

/// Size of each worker's copy buffer.
const BUFFER: usize = 256 * 1024;

/// One ranged download in progress.
#[derive(Debug)]
pub(crate) struct RangedDownload<'a> {
    pub(crate) client: &'a Client,
    pub(crate) url: &'a str,
    pub(crate) size: u64,
    pub(crate) validators: &'a Validators,
    pub(crate) partial: &'a Partial,
    /// Completed chunks; persisted after each one when `persist` is set.
    pub(crate) state: Mutex<ResumeState>,
    pub(crate) persist: bool,
    pub(crate) policy: RetryPolicy,
    pub(crate) progress: &'a Progress<'a>,
    pub(crate) cancelled: &'a AtomicBool,
}

impl RangedDownload<'_> {
    /// Chunks still to fetch.
    pub(crate) fn pending(&self) -> Vec<usize> {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        (0..state.done.len()).filter(|&i| !state.done[i]).collect()
    }

    /// Fetches every pending chunk with up to `connections` workers. `first_agent` (the
    /// probe's, already connected) serves the first worker.
    pub(crate) fn run(
        &self,
        connections: usize,
        first_agent: ureq::Agent,
        observer: Observer<'_>,
    ) -> Result<(), FetchError> {
        let pending = self.pending();
        let next = AtomicUsize::new(0);
        let first_error: Mutex<Option<FetchError>> = Mutex::new(None);
        let workers = connections.clamp(1, pending.len().max(1));
        let mut first_agent = Some(first_agent);
        std::thread::scope(|scope| {
            for _ in 0..workers {
                let agent = first_agent.take().unwrap_or_else(|| self.client.agent());
                let (pending, next, first_error) = (&pending, &next, &first_error);
                scope.spawn(move || {
                    if let Err(e) = self.worker(&agent, pending, next, observer) {
                        let mut first = first_error.lock().unwrap_or_else(|e| e.into_inner());
                        if first.is_none() && !matches!(e, FetchError::Cancelled) {
                            *first = Some(e);
                        }
                        self.cancelled.store(true, Ordering::Relaxed);
                    }
                });
            }
        });
        match first_error.into_inner().unwrap_or_else(|e| e.into_inner()) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn worker(
        &self,
        agent: &ureq::Agent,
        pending: &[usize],
        next: &AtomicUsize,
        observer: Observer<'_>,
    ) -> Result<(), FetchError> {
        let mut buf = vec![0u8; BUFFER];
        let chunk_size = self
            .state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .chunk_size;
        loop {
            if self.cancelled.load(Ordering::Relaxed) {
                return Err(FetchError::Cancelled);
            }
            let Some(&index) = pending.get(next.fetch_add(1, Ordering::Relaxed)) else {
                return Ok(());
            };
            let first = index as u64 * chunk_size;
            let last = (first + chunk_size).min(self.size) - 1;
            let range = ByteRange { first, last };
            self.fetch_chunk(agent, range, &mut buf, observer)?;
            let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
            state.done[index] = true;
            if self.persist {
                self.partial.save_state(&state)?;
            }
        }
    }

    /// Fetches one chunk, retrying transient failures; a retry asks only for the bytes the
    /// failed attempt did not deliver.
    fn fetch_chunk(
        &self,
        agent: &ureq::Agent,
        range: ByteRange,
        buf: &mut [u8],
        observer: Observer<'_>,
    ) -> Result<(), FetchError> {
        let mut got = 0u64;
        self.policy.run(self.cancelled, observer, || {
            let asked = ByteRange {
                first: range.first + got,
                last: range.last,
            };
            let response = client::get(agent, self.url, Some(asked), self.validators.if_range())?;
            self.check_reply(response.status().as_u16(), response.headers(), asked)?;
            let mut body = response.into_body();
            let mut reader = body.as_reader();
            client::copy_body(
                &mut reader,
                buf,
                Some(asked.len()),
                Requested::Range(asked),
                |bytes| {
                    if self.cancelled.load(Ordering::Relaxed) {
                        return Err(FetchError::Cancelled);
                    }
                    self.partial
                        .file
                        .write_all_at(bytes, range.first + got)
                        .map_err(FetchError::io(&self.partial.path))?;
                    got += bytes.len() as u64;
                    self.progress.add(bytes.len() as u64);
                    Ok(())
                },
            )?;
            Ok(())
        })
    }

    /// Accepts only a 206 that carries exactly `asked`, of the same file the probe saw.
    fn check_reply(
        &self,
        status: u16,
        headers: &HeaderMap,
        asked: ByteRange,
    ) -> Result<(), Failure> {
        let wrong = |answer: String| FetchError::WrongRange { asked, answer };
        match status {
            206 => {}
            200 if self.validators.if_range().is_some() => {
                return Err(FetchError::RemoteChanged(format!(
                    "asked for {asked} if unchanged (If-Range), the server sent the whole file"
                ))
                .into());
            }
            200 => {
                return Err(wrong(
                    "200 and the whole file: it stopped honouring ranges".to_owned(),
                )
                .into());
            }
            416 => {
                return Err(FetchError::RemoteChanged(format!(
                    "{asked} is no longer inside the file (416)"
                ))
                .into());
            }
            status => {
                return Err(Failure {
                    retry_after: client::retry_after(headers),
                    error: FetchError::Status {
                        what: Requested::Range(asked),
                        status,
                    },
                });
            }
        }
        match client::content_range(headers).map_err(wrong)? {
            ContentRange::Satisfied { range, complete } if range == asked => {
                if let Some(complete) = complete.filter(|&c| c != self.size) {
                    return Err(FetchError::RemoteChanged(format!(
                        "its length was {}, now {complete}",
                        self.size
                    ))
                    .into());
                }
            }
            _ => return Err(wrong(client::quoted(headers, "Content-Range")).into()),
        }
        match client::content_length(headers) {
            Ok(None) => {}
            Ok(Some(length)) if length == asked.len() => {}
            Ok(Some(_)) => return Err(wrong(client::quoted(headers, "Content-Length")).into()),
            Err(answer) => return Err(wrong(answer).into()),
        }
        if let Some(change) = self
            .validators
            .changed_in(&Validators::from_headers(headers))
        {
            return Err(FetchError::RemoteChanged(change).into());
        }
        Ok(())
    }
}
