//! Per-client rate limits (`[server.limits]`), token buckets from the
//! `governor` crate (GCRA) keyed by [`Client`]:
//!
//! * synthesis: each job that makes new audio (an uncached article, or an
//!   uncached sentence whose article is not being rendered) takes a token;
//!   `burst` tokens, refilled at `syntheses_per_minute`;
//! * requests: every request but `/healthz` takes one; far more generous
//!   (`requests_per_minute`, `requests_burst`), so cached audio keeps
//!   playing for a client whose synthesis budget is spent.
//!
//! Over either → 429 `rate_limited` with `Retry-After` (the seconds until a
//! token is back). A limit of 0 is off. Idle clients' state is dropped as
//! the maps grow, so memory stays bounded by the clients of the last minutes.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::ApiError;
use super::client::Client;
use crate::config::ClientLimits;

/// Entries kept before idle ones are swept.
const SWEEP_AT: usize = 4096;

struct Bucket {
    limiter: DefaultKeyedRateLimiter<Client>,
    checks: AtomicU64,
}

impl Bucket {
    fn new(per_minute: u32, burst: u32) -> Option<Bucket> {
        let per_minute = NonZeroU32::new(per_minute)?;
        let burst = NonZeroU32::new(burst).unwrap_or(per_minute);
        Some(Bucket {
            limiter: RateLimiter::keyed(Quota::per_minute(per_minute).allow_burst(burst)),
            checks: AtomicU64::new(0),
        })
    }

    /// Take a token for `client`, or the seconds until one is back.
    fn take(&self, client: Client) -> Result<(), u64> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % 1024 == 1023 && self.limiter.len() > SWEEP_AT {
            self.limiter.retain_recent();
            self.limiter.shrink_to_fit();
        }
        self.limiter.check_key(&client).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            (wait.as_secs_f64().ceil() as u64).max(1)
        })
    }
}

/// The two limiters of the service.
pub struct Rates {
    synthesis: Option<Bucket>,
    requests: Option<Bucket>,
}

impl Rates {
    pub fn new(limits: &ClientLimits) -> Rates {
        Rates {
            synthesis: Bucket::new(limits.syntheses_per_minute, limits.burst),
            requests: Bucket::new(limits.requests_per_minute, limits.requests_burst),
        }
    }

    /// One synthesis job for `client`.
    pub fn check_synthesis(&self, client: Client) -> Result<(), ApiError> {
        match &self.synthesis {
            Some(b) => b.take(client).map_err(|secs| {
                ApiError::rate_limited(secs, "this client has asked for too much new audio; try again later")
            }),
            None => Ok(()),
        }
    }

    /// One request of any kind for `client`.
    pub fn check_request(&self, client: Client) -> Result<(), ApiError> {
        match &self.requests {
            Some(b) => b
                .take(client)
                .map_err(|secs| ApiError::rate_limited(secs, "too many requests from this client")),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(n: u8) -> Client {
        Client::Ip(std::net::IpAddr::from([192, 0, 2, n]))
    }

    #[test]
    fn burst_then_refused_with_retry_after_per_client() {
        let r = Rates::new(&ClientLimits { syntheses_per_minute: 6, burst: 3, ..ClientLimits::default() });
        for _ in 0..3 {
            r.check_synthesis(client(1)).unwrap();
        }
        let e = r.check_synthesis(client(1)).unwrap_err();
        assert_eq!((e.status.as_u16(), e.code), (429, "rate_limited"));
        // One token every 10 s.
        assert!(e.retry_after.is_some_and(|s| (1..=10).contains(&s)), "{:?}", e.retry_after);
        r.check_synthesis(client(2)).expect("another client has its own bucket");
        r.check_request(client(1)).expect("the request limit is separate");
    }

    #[test]
    fn zero_is_off() {
        let r = Rates::new(&ClientLimits {
            syntheses_per_minute: 0,
            requests_per_minute: 0,
            ..ClientLimits::default()
        });
        for _ in 0..10_000 {
            r.check_synthesis(client(1)).unwrap();
            r.check_request(client(1)).unwrap();
        }
    }
}
