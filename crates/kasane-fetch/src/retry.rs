//! Bounded retries with exponential backoff and jitter.

use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::error::FetchError;
use crate::event::{Event, Observer};

/// Longest pause between two attempts.
const MAX_DELAY: Duration = Duration::from_secs(10);

/// How many times to retry and how long to wait first.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RetryPolicy {
    pub(crate) retries: u32,
    pub(crate) first_delay: Duration,
}

impl RetryPolicy {
    /// The pause before retry number `retry` (1-based): `first_delay * 2^(retry-1)`, capped,
    /// scaled by a random factor in [0.5, 1] so N workers do not hammer a server in step. A
    /// server's `Retry-After` wins when it asks for longer.
    pub(crate) fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        let exp = self
            .first_delay
            .saturating_mul(1 << retry.saturating_sub(1).min(16))
            .min(MAX_DELAY);
        let jitter = 0.5 + (RandomState::new().hash_one(retry) % 1024) as f64 / 2048.0;
        let delay = exp.mul_f64(jitter);
        retry_after.map_or(delay, |asked| asked.max(delay))
    }
}

/// A failed attempt, with the pause the server asked for.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) error: FetchError,
    pub(crate) retry_after: Option<Duration>,
}

impl From<FetchError> for Failure {
    fn from(error: FetchError) -> Self {
        Self {
            error,
            retry_after: None,
        }
    }
}

impl RetryPolicy {
    /// Runs `attempt` until it succeeds, fails for good, or the retries are spent (then the
    /// last failure comes back inside [`FetchError::GaveUp`]). Each retry is announced with
    /// [`Event::Retrying`] and waits out its backoff unless `cancelled` is set.
    pub(crate) fn run<T>(
        &self,
        cancelled: &AtomicBool,
        observer: Observer<'_>,
        mut attempt: impl FnMut() -> Result<T, Failure>,
    ) -> Result<T, FetchError> {
        let mut retry = 0;
        loop {
            let failure = match attempt() {
                Ok(value) => return Ok(value),
                Err(failure) => failure,
            };
            if !failure.error.is_transient() {
                return Err(failure.error);
            }
            if retry == self.retries {
                return Err(if retry == 0 {
                    failure.error
                } else {
                    FetchError::GaveUp {
                        attempts: retry + 1,
                        last: Box::new(failure.error),
                    }
                });
            }
            retry += 1;
            let delay = self.delay(retry, failure.retry_after);
            observer(&Event::Retrying {
                error: failure.error.to_string(),
                retry,
                retries: self.retries,
                delay,
            });
            if !pause(delay, cancelled) {
                return Err(FetchError::Cancelled);
            }
        }
    }
}

/// Sleeps for `delay`, waking early when `cancelled` is set. Returns false when cancelled.
pub(crate) fn pause(delay: Duration, cancelled: &AtomicBool) -> bool {
    let until = Instant::now() + delay;
    loop {
        if cancelled.load(Ordering::Relaxed) {
            return false;
        }
        let now = Instant::now();
        if now >= until {
            return true;
        }
        std::thread::sleep((until - now).min(Duration::from_millis(50)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_within_jitter_and_cap() {
        let p = RetryPolicy {
            retries: 5,
            first_delay: Duration::from_millis(400),
        };
        for (retry, full) in [(1, 400), (2, 800), (3, 1600), (10, 10_000)] {
            let d = p.delay(retry, None).as_millis();
            assert!(d >= full / 2 && d <= full, "retry {retry}: {d} ms");
        }
        assert_eq!(
            p.delay(1, Some(Duration::from_secs(3))),
            Duration::from_secs(3)
        );
    }

    #[test]
    fn run_retries_transient_failures_only_and_gives_up() {
        let p = RetryPolicy {
            retries: 2,
            first_delay: Duration::from_millis(1),
        };
        let never = AtomicBool::new(false);
        let events = std::sync::Mutex::new(Vec::new());
        let observer = |e: &Event| events.lock().unwrap().push(e.clone());
        let short = || FetchError::ShortBody {
            what: crate::error::Requested::Whole,
            received: 1,
            expected: 2,
        };
        let mut calls = 0;
        let r: Result<(), _> = p.run(&never, &observer, || {
            calls += 1;
            Err(short().into())
        });
        assert_eq!(calls, 3);
        assert!(matches!(r, Err(FetchError::GaveUp { attempts: 3, .. })));
        assert_eq!(events.lock().unwrap().len(), 2);

        let mut calls = 0;
        let r = p.run(&never, &observer, || {
            calls += 1;
            if calls < 2 {
                Err(short().into())
            } else {
                Ok(calls)
            }
        });
        assert_eq!(r.unwrap(), 2);

        let mut calls = 0;
        let r: Result<(), _> = p.run(&never, &observer, || {
            calls += 1;
            Err(FetchError::RemoteChanged("x".into()).into())
        });
        assert_eq!(calls, 1);
        assert!(matches!(r, Err(FetchError::RemoteChanged(_))));
    }

    #[test]
    fn pause_stops_when_cancelled() {
        assert!(!pause(Duration::from_secs(3600), &AtomicBool::new(true)));
        assert!(pause(Duration::from_millis(1), &AtomicBool::new(false)));
    }
}
