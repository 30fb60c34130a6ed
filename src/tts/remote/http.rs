//! The HTTP client every remote backend shares: reqwest over rustls with a
//! per-attempt timeout, retries with exponential backoff and jitter on
//! timeouts, connection failures, 408, 429 and 5xx (a `Retry-After` header,
//! in seconds or as an HTTP date, replaces the computed backoff), a
//! per-backend concurrency limit, a cap on the answer's size, and redaction
//! of the API key from every message built from network or library text.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bytes::{Bytes, BytesMut};
use rand::RngExt;
use reqwest::header::HeaderMap;
use reqwest::{Client, RequestBuilder, StatusCode};
use tokio::sync::{Semaphore, SemaphorePermit};

use super::{HttpOptions, RemoteError, error_message};

/// Largest answer accepted from an engine: a sentence of audio is far smaller.
const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// A complete answer: status, headers and the whole body.
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    /// The `Content-Type` without parameters, lowercased ("" when absent).
    pub fn content_type(&self) -> String {
        let ct = self.headers.get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase()
    }
}

/// Why one attempt produced no reply.
#[derive(Debug)]
pub(crate) enum Failure {
    Timeout,
    Transport(String),
}

/// What the last failed attempt was, for the final error.
enum Last {
    Timeout,
    Transport(String),
    Status(u16, String),
}

impl std::fmt::Display for Last {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Last::Timeout => write!(f, "timed out"),
            Last::Transport(m) => write!(f, "{m}"),
            Last::Status(s, m) => write!(f, "HTTP {s}: {m}"),
        }
    }
}

/// One backend's client, options, concurrency limit and secrets to redact.
pub(crate) struct Http {
    backend: &'static str,
    client: Client,
    fetch_client: Client,
    options: HttpOptions,
    permits: Arc<Semaphore>,
    secrets: Vec<String>,
}

impl Http {
    /// `secrets` are strings (the API key) that must never appear in a message.
    pub fn new(
        backend: &'static str,
        options: &HttpOptions,
        secrets: Vec<String>,
    ) -> Result<Http, RemoteError> {
        options.validate(backend)?;
        let build = |redirects: reqwest::redirect::Policy| {
            Client::builder()
                .timeout(Duration::from_millis(options.timeout_ms))
                .connect_timeout(Duration::from_millis(options.connect_timeout_ms))
                .user_agent(concat!("loa/", env!("CARGO_PKG_VERSION")))
                .redirect(redirects)
                .build()
                .map_err(|e| RemoteError::Config {
                    backend,
                    message: format!("cannot build HTTP client: {e}"),
                })
        };
        Ok(Http {
            backend,
            // Requests carrying a key never follow redirects: custom key
            // headers would otherwise be forwarded to whatever host answers.
            client: build(reqwest::redirect::Policy::none())?,
            fetch_client: build(reqwest::redirect::Policy::limited(5))?,
            options: options.clone(),
            permits: Arc::new(Semaphore::new(options.concurrency)),
            secrets: secrets.into_iter().filter(|s| !s.is_empty()).collect(),
        })
    }

    /// Client for downloads that carry no secret (follows redirects).
    pub fn fetch_client(&self) -> &Client {
        &self.fetch_client
    }

    /// Wait for a slot under the backend's concurrency limit.
    pub async fn permit(&self) -> Result<SemaphorePermit<'_>, RemoteError> {
        self.permits.acquire().await.map_err(|_| RemoteError::Transport {
            backend: self.backend,
            message: "backend is shutting down".into(),
        })
    }

    /// Replace every secret in `text`.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for s in &self.secrets {
            out = out.replace(s.as_str(), "[redacted]");
        }
        out
    }

    /// Send a request built by `build`, retrying as configured. Returns the
    /// first 2xx reply; other statuses become [`RemoteError::Status`] (not
    /// retryable) or, once attempts run out, [`RemoteError::Exhausted`].
    pub async fn send<F>(&self, build: F) -> Result<Reply, RemoteError>
    where
        F: Fn(&Client) -> RequestBuilder + Sync,
    {
        let backend = self.backend;
        let max_attempts = self.options.max_attempts;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let started = Instant::now();
            let (last, delay) = match self.once(build(&self.client)).await {
                Ok(reply) if reply.status.is_success() => {
                    tracing::debug!(
                        backend,
                        status = reply.status.as_u16(),
                        bytes = reply.body.len(),
                        ms = started.elapsed().as_millis() as u64,
                        "remote synthesis answered"
                    );
                    return Ok(reply);
                }
                Ok(reply) => {
                    let status = reply.status.as_u16();
                    let message = self.redact(&error_message(&reply.body));
                    if !matches!(status, 408 | 429 | 500 | 502 | 503 | 504) {
                        return Err(RemoteError::Status { backend, status, message });
                    }
                    let max = Duration::from_millis(self.options.backoff_max_ms);
                    let delay = match retry_after(&reply.headers, SystemTime::now()) {
                        Some(wait) if wait > max => {
                            return Err(RemoteError::Status {
                                backend,
                                status,
                                message: format!(
                                    "{message} (the server asks to retry after {}s, over the {}s limit)",
                                    wait.as_secs(),
                                    max.as_secs()
                                ),
                            });
                        }
                        // Honour the server's wait, with a little jitter on top.
                        Some(wait) => wait + jitter(wait / 10),
                        None => self.backoff(attempt),
                    };
                    (Last::Status(status, message), delay)
                }
                Err(Failure::Timeout) => (Last::Timeout, self.backoff(attempt)),
                Err(Failure::Transport(m)) => (Last::Transport(m), self.backoff(attempt)),
            };
            if attempt >= max_attempts {
                return Err(match last {
                    Last::Timeout => RemoteError::Timeout {
                        backend,
                        after: Duration::from_millis(self.options.timeout_ms),
                        attempts: attempt,
                    },
                    Last::Status(status, message) if max_attempts == 1 => {
                        RemoteError::Status { backend, status, message }
                    }
                    Last::Transport(message) if max_attempts == 1 => {
                        RemoteError::Transport { backend, message }
                    }
                    last => RemoteError::Exhausted { backend, attempts: attempt, last: last.to_string() },
                });
            }
            tracing::warn!(
                backend,
                attempt,
                delay_ms = delay.as_millis() as u64,
                "retrying remote synthesis: {last}"
            );
            tokio::time::sleep(delay).await;
        }
    }

    /// One attempt: send and read the whole body (bounded in size).
    pub async fn once(&self, request: RequestBuilder) -> Result<Reply, Failure> {
        let mut resp = request.send().await.map_err(|e| self.failure(e))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let mut body = BytesMut::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| self.failure(e))? {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(Failure::Transport(format!("answer larger than {MAX_BODY_BYTES} bytes")));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Reply { status, headers, body: body.freeze() })
    }

    fn failure(&self, e: reqwest::Error) -> Failure {
        if e.is_timeout() {
            return Failure::Timeout;
        }
        let kind = if e.is_connect() {
            "cannot connect"
        } else if e.is_body() || e.is_decode() {
            "incomplete or unreadable answer"
        } else {
            "request failed"
        };
        // Walk the source chain for the root cause, without the URL.
        let e = e.without_url();
        let mut detail = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            detail.push_str(": ");
            detail.push_str(&s.to_string());
            source = s.source();
        }
        Failure::Transport(self.redact(&format!("{kind}: {detail}")))
    }

    /// Exponential backoff for the retry after `attempt`, with full jitter
    /// over its upper half.
    fn backoff(&self, attempt: u32) -> Duration {
        let base = self.options.backoff_initial_ms.saturating_mul(1u64 << (attempt - 1).min(20));
        let capped = base.min(self.options.backoff_max_ms);
        let half = capped / 2;
        Duration::from_millis(half) + jitter(Duration::from_millis(capped - half))
    }
}

/// A random duration in `[0, max]`.
fn jitter(max: Duration) -> Duration {
    let ms = max.as_millis() as u64;
    if ms == 0 { Duration::ZERO } else { Duration::from_millis(rand::rng().random_range(0..=ms)) }
}

/// The wait a `Retry-After` header asks for: delta-seconds or an HTTP date.
pub(crate) fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = parse_http_date(value)?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Parse an HTTP date in any of the three forms RFC 9110 has recipients
/// accept (`Sun, 06 Nov 1994 08:49:37 GMT` and the obsolete RFC 850 and
/// asctime forms).
fn parse_http_date(s: &str) -> Option<SystemTime> {
    httpdate::parse_http_date(s).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;
    use std::time::UNIX_EPOCH;

    #[test]
    fn http_dates() {
        let t = parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(t.duration_since(UNIX_EPOCH).unwrap().as_secs(), 784_111_777);
        let t = parse_http_date("Thu, 26 Nov 2026 15:38:37 GMT").unwrap();
        assert_eq!(t.duration_since(UNIX_EPOCH).unwrap().as_secs(), 1_795_707_517);
        // The obsolete forms a recipient must still accept.
        for old in ["Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994"] {
            assert_eq!(
                parse_http_date(old).and_then(|t| t.duration_since(UNIX_EPOCH).ok()).map(|d| d.as_secs()),
                Some(784_111_777),
                "{old}"
            );
        }
        assert!(parse_http_date("Sun, 06 Nov 1994 08:49:37 PST").is_none());
        assert!(parse_http_date("Sun, 31 Feb 1994 08:49:37 GMT").is_none());
        assert!(parse_http_date("yesterday").is_none());
    }

    #[test]
    fn retry_after_forms() {
        let mut h = HeaderMap::new();
        assert_eq!(retry_after(&h, SystemTime::now()), None);
        h.insert("retry-after", HeaderValue::from_static("3"));
        assert_eq!(retry_after(&h, SystemTime::now()), Some(Duration::from_secs(3)));
        h.insert("retry-after", HeaderValue::from_static("Sun, 06 Nov 1994 08:49:47 GMT"));
        let now = UNIX_EPOCH + Duration::from_secs(784_111_777);
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(10)));
        // A date in the past means "now".
        let later = now + Duration::from_secs(100);
        assert_eq!(retry_after(&h, later), Some(Duration::ZERO));
        h.insert("retry-after", HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h, now), None);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let o = HttpOptions { backoff_initial_ms: 100, backoff_max_ms: 1000, ..Default::default() };
        let h = Http::new("t", &o, vec![]).unwrap();
        for _ in 0..50 {
            let d1 = h.backoff(1).as_millis();
            assert!((50..=100).contains(&d1), "{d1}");
            let d3 = h.backoff(3).as_millis();
            assert!((200..=400).contains(&d3), "{d3}");
            let d9 = h.backoff(9).as_millis();
            assert!((500..=1000).contains(&d9), "{d9}");
        }
    }

    #[test]
    fn redaction() {
        let h = Http::new("t", &HttpOptions::default(), vec!["s3cr3t".into(), String::new()]).unwrap();
        assert_eq!(h.redact("key s3cr3t in s3cr3t"), "key [redacted] in [redacted]");
        assert_eq!(h.redact("nothing"), "nothing");
    }
}
