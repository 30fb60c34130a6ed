//! Remote speech engines reached over HTTP: an OpenAI-compatible server
//! (including another loa), FPT.AI, Viettel AI, Google Cloud Text-to-Speech
//! and Azure Speech.
//!
//! loa keeps normalization, caching, timings and the widget; each backend here
//! only sends one sentence of spoken text to its engine and decodes the audio
//! that comes back (WAV, MP3 or raw PCM) into [`Pcm`](crate::audio::Pcm) so
//! sentences join cleanly. The machinery they share lives in [`Remote`] (the
//! one `Backend` implementation, which each engine's settings type plugs
//! into), in this module and in [`http`]: the API key read from the environment variable named in the
//! voice file and redacted from every message, the tunable [`HttpOptions`]
//! (timeouts, retries with exponential backoff and jitter on 429/5xx that
//! honour `Retry-After`, a per-backend concurrency limit), and the
//! [`RemoteError`] enum that becomes a [`TtsError`].

pub mod azure;
pub mod fpt;
pub mod google;
mod http;
pub mod openai;
mod vendor;
pub mod viettel;

use std::fmt;
use std::time::Duration;

use serde::Deserialize;

pub use azure::{AzureBackend, AzureConfig};
pub use fpt::{FptBackend, FptConfig};
pub use google::{GoogleBackend, GoogleConfig};
pub use openai::{OpenAiBackend, OpenAiConfig};
pub use vendor::Remote;
pub use viettel::{ViettelBackend, ViettelConfig};

use super::TtsError;

/// Errors of the remote backends. Messages never contain the API key: every
/// text that comes from the network or from an HTTP library goes through
/// redaction first.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    #[error("{backend}: the API key is missing: environment variable {var} is not set or empty")]
    MissingKey { backend: &'static str, var: String },
    #[error("{backend}: bad voice configuration: {message}")]
    Config { backend: &'static str, message: String },
    #[error("{backend}: nothing to say (empty text)")]
    EmptyInput { backend: &'static str },
    #[error("{backend}: sentence is {len} bytes, over the engine's limit of {max} bytes")]
    TooLong { backend: &'static str, len: usize, max: usize },
    #[error("{backend}: HTTP {status}: {message}")]
    Status { backend: &'static str, status: u16, message: String },
    #[error("{backend}: gave up after {attempts} attempts; last error: {last}")]
    Exhausted { backend: &'static str, attempts: u32, last: String },
    #[error("{backend}: no complete answer within {after:?} (tried {attempts} times)")]
    Timeout { backend: &'static str, after: Duration, attempts: u32 },
    #[error("{backend}: request failed: {message}")]
    Transport { backend: &'static str, message: String },
    #[error("{backend}: unexpected response: {message}")]
    BadResponse { backend: &'static str, message: String },
    #[error("{backend}: cannot decode the audio: {message}")]
    Decode { backend: &'static str, message: String },
}

impl From<RemoteError> for TtsError {
    fn from(e: RemoteError) -> TtsError {
        match e {
            RemoteError::Timeout { after, .. } => TtsError::Timeout(after),
            RemoteError::MissingKey { .. } => TtsError::Unavailable(e.to_string()),
            RemoteError::Config { backend, message } => {
                TtsError::BadVoiceFile { path: format!("({backend} voice)"), message }
            }
            other => TtsError::Backend(other.to_string()),
        }
    }
}

/// An API key read from the environment. `Debug` and `Display` show only the
/// variable's name, so a key never reaches a log line by accident.
#[derive(Clone)]
pub struct ApiKey {
    var: String,
    value: String,
}

impl ApiKey {
    /// Read the key from `var` through `lookup` (normally `std::env::var`).
    /// A missing or blank variable is an error naming the variable.
    pub fn from_lookup(
        backend: &'static str,
        var: &str,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<ApiKey, RemoteError> {
        if var.trim().is_empty() {
            return Err(RemoteError::Config { backend, message: "api_key_env is empty".into() });
        }
        match lookup(var) {
            Some(v) if !v.trim().is_empty() => {
                Ok(ApiKey { var: var.to_string(), value: v.trim().to_string() })
            }
            _ => Err(RemoteError::MissingKey { backend, var: var.to_string() }),
        }
    }

    /// Name of the environment variable the key came from.
    pub fn var(&self) -> &str {
        &self.var
    }

    /// The secret itself, for building a request header or body.
    pub(crate) fn expose(&self) -> &str {
        &self.value
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKey").field("var", &self.var).field("value", &"[redacted]").finish()
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "${} ([redacted])", self.var)
    }
}

/// The key of a voice as found when the voice was built. A missing variable
/// does not stop the voice from loading: [`Backend::check`](crate::tts::Backend::check)
/// reports it and every synthesis fails with [`RemoteError::MissingKey`].
#[derive(Clone, Debug)]
pub(crate) enum KeySlot {
    Present(ApiKey),
    Missing(String),
    NotNeeded,
}

impl KeySlot {
    /// Look the key up in `var` (none: the engine needs no key).
    pub(crate) fn resolve(
        backend: &'static str,
        var: Option<&str>,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<KeySlot, RemoteError> {
        match var {
            None => Ok(KeySlot::NotNeeded),
            Some(var) => match ApiKey::from_lookup(backend, var, lookup) {
                Ok(k) => Ok(KeySlot::Present(k)),
                Err(RemoteError::MissingKey { var, .. }) => Ok(KeySlot::Missing(var)),
                Err(e) => Err(e),
            },
        }
    }

    /// The key if one is configured; an error if its variable was missing.
    pub(crate) fn get(&self, backend: &'static str) -> Result<Option<&ApiKey>, RemoteError> {
        match self {
            KeySlot::Present(k) => Ok(Some(k)),
            KeySlot::Missing(var) => Err(RemoteError::MissingKey { backend, var: var.clone() }),
            KeySlot::NotNeeded => Ok(None),
        }
    }

    /// The key, which this engine needs.
    pub(crate) fn require(&self, backend: &'static str) -> Result<&ApiKey, RemoteError> {
        self.get(backend)?.ok_or_else(|| RemoteError::Config { backend, message: "no api_key_env".into() })
    }

    /// Strings to redact from messages.
    pub(crate) fn secrets(&self) -> Vec<String> {
        match self {
            KeySlot::Present(k) => vec![k.expose().to_string()],
            _ => Vec::new(),
        }
    }

    /// For [`Backend::check`](crate::tts::Backend::check).
    pub(crate) fn check(&self, backend: &'static str) -> Result<(), TtsError> {
        self.get(backend).map(|_| ()).map_err(TtsError::from)
    }
}

/// Read a process environment variable; the default `lookup` for keys.
pub fn env_lookup(var: &str) -> Option<String> {
    std::env::var(var).ok()
}

/// Network behaviour of one remote voice; the optional `[http]` table of a
/// voice file. Every field has a default.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpOptions {
    /// Longest wait for one attempt, connection to last byte, in ms.
    pub timeout_ms: u64,
    /// Longest wait to open a connection, in ms.
    pub connect_timeout_ms: u64,
    /// Attempts per request, the first included (1 = no retry).
    pub max_attempts: u32,
    /// Backoff before the first retry; doubles on each retry, with jitter.
    pub backoff_initial_ms: u64,
    /// Cap on one backoff, and on an honoured `Retry-After`: a server asking
    /// to wait longer gets an error instead.
    pub backoff_max_ms: u64,
    /// Requests in flight at once to this engine, from this voice.
    pub concurrency: usize,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            timeout_ms: 30_000,
            connect_timeout_ms: 5_000,
            max_attempts: 4,
            backoff_initial_ms: 500,
            backoff_max_ms: 30_000,
            concurrency: 4,
        }
    }
}

impl HttpOptions {
    fn validate(&self, backend: &'static str) -> Result<(), RemoteError> {
        let bad = |m: &str| Err(RemoteError::Config { backend, message: format!("[http] {m}") });
        if self.timeout_ms == 0 || self.connect_timeout_ms == 0 {
            return bad("timeouts must be above 0");
        }
        if self.max_attempts == 0 || self.max_attempts > 20 {
            return bad("max_attempts must be between 1 and 20");
        }
        if self.concurrency == 0 || self.concurrency > 1024 {
            return bad("concurrency must be between 1 and 1024");
        }
        if self.backoff_initial_ms > self.backoff_max_ms {
            return bad("backoff_initial_ms must not exceed backoff_max_ms");
        }
        Ok(())
    }
}

/// Check a base URL from a voice file: absolute http(s), returned without a
/// trailing slash so paths can be appended.
fn base_url(backend: &'static str, field: &str, url: &str) -> Result<String, RemoteError> {
    let parsed = reqwest::Url::parse(url.trim())
        .map_err(|e| RemoteError::Config { backend, message: format!("{field} {url:?}: {e}") })?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(RemoteError::Config {
            backend,
            message: format!("{field} {url:?} must be an http(s) URL"),
        });
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(RemoteError::Config {
            backend,
            message: format!("{field} {url:?} must not have a query or fragment"),
        });
    }
    Ok(url.trim().trim_end_matches('/').to_string())
}

/// Reject empty and oversized input before spending a request on it.
fn check_input(backend: &'static str, spoken: &str, max: usize) -> Result<(), RemoteError> {
    if spoken.trim().is_empty() {
        return Err(RemoteError::EmptyInput { backend });
    }
    if spoken.len() > max {
        return Err(RemoteError::TooLong { backend, len: spoken.len(), max });
    }
    Ok(())
}

/// The audio container an engine answers with, used as a hint for decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AudioKind {
    Wav,
    Mp3,
    /// Headerless signed 16-bit little-endian mono.
    Pcm16 {
        sample_rate: u32,
    },
}

/// Turn the engine's audio bytes into mono PCM. A WAV or MP3 signature wins
/// over the hint, so an engine that answers WAV to an MP3 request still works.
pub(crate) fn decode_audio(
    backend: &'static str,
    bytes: &[u8],
    hint: AudioKind,
) -> Result<crate::audio::Pcm, RemoteError> {
    let err = |message: String| RemoteError::Decode { backend, message };
    if bytes.is_empty() {
        return Err(err("the engine sent no audio".into()));
    }
    let pcm = if bytes.starts_with(b"RIFF") {
        decode::wav(bytes).map_err(err)?
    } else if decode::looks_like_mp3(bytes) {
        decode::mp3(bytes).map_err(err)?
    } else if let AudioKind::Pcm16 { sample_rate } = hint {
        decode::pcm16(bytes, sample_rate).map_err(err)?
    } else {
        let start: String = String::from_utf8_lossy(&bytes[..bytes.len().min(16)]).into();
        return Err(err(format!("neither WAV nor MP3 (starts with {start:?}, expected {hint:?})")));
    };
    if pcm.samples.is_empty() || pcm.sample_rate == 0 {
        return Err(err("the audio holds no samples".into()));
    }
    Ok(pcm)
}

mod decode;

/// Pull a human-readable message out of an error body: the common JSON
/// shapes (`{"error":{"message"}}`, `{"error":"..."}`, `{"message"}`,
/// `{"en_message"}`, `{"detail"}`), or the start of the text.
pub(crate) fn error_message(body: &[u8]) -> String {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) {
        let pick = |v: &serde_json::Value| -> Option<String> {
            for k in ["message", "en_message", "detail", "error_description", "msg", "vi_message"] {
                if let Some(s) = v.get(k).and_then(|s| s.as_str()).filter(|s| !s.is_empty()) {
                    return Some(s.to_string());
                }
            }
            None
        };
        if let Some(e) = v.get("error") {
            if let Some(s) = e.as_str() {
                return clip(s);
            }
            if let Some(s) = pick(e) {
                let status = e.get("status").and_then(|s| s.as_str());
                return clip(&match status {
                    Some(st) => format!("{st}: {s}"),
                    None => s,
                });
            }
        }
        if let Some(s) = pick(&v) {
            return clip(&s);
        }
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() { "(empty body)".to_string() } else { clip(text) }
}

/// Shorten a message to ~300 characters on a character boundary.
fn clip(s: &str) -> String {
    const MAX: usize = 300;
    let s = s.trim();
    match s.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// Round a float parameter for use in a cache id, so `1` and `1.0` agree.
fn num(x: f32) -> String {
    let s = format!("{x:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_is_redacted_in_debug_and_display() {
        let k = ApiKey::from_lookup("openai", "X_KEY", &|_| Some("sk-secret-123".into())).unwrap();
        assert!(!format!("{k:?}").contains("sk-secret-123"));
        assert!(!format!("{k}").contains("sk-secret-123"));
        assert!(format!("{k}").contains("X_KEY"));
        assert_eq!(k.expose(), "sk-secret-123");
    }

    #[test]
    fn missing_or_blank_key_names_the_variable() {
        let e = ApiKey::from_lookup("fpt", "FPT_KEY", &|_| None).unwrap_err();
        assert!(e.to_string().contains("FPT_KEY"), "{e}");
        let e = ApiKey::from_lookup("fpt", "FPT_KEY", &|_| Some("  ".into())).unwrap_err();
        assert!(matches!(e, RemoteError::MissingKey { .. }));
        assert!(matches!(TtsError::from(e), TtsError::Unavailable(_)));
    }

    #[test]
    fn error_message_shapes() {
        assert_eq!(error_message(br#"{"error":{"message":"bad voice","type":"x"}}"#), "bad voice");
        assert_eq!(
            error_message(br#"{"error":{"code":400,"message":"too long","status":"INVALID_ARGUMENT"}}"#),
            "INVALID_ARGUMENT: too long"
        );
        assert_eq!(error_message(br#"{"error":"nope"}"#), "nope");
        assert_eq!(error_message(br#"{"en_message":"Token invalid","vi_message":"x"}"#), "Token invalid");
        assert_eq!(error_message(b"  plain text  "), "plain text");
        assert_eq!(error_message(b""), "(empty body)");
        assert!(error_message("ă".repeat(1000).as_bytes()).chars().count() <= 301);
    }

    #[test]
    fn base_urls_are_checked() {
        assert_eq!(base_url("x", "base_url", "http://127.0.0.1:9/").unwrap(), "http://127.0.0.1:9");
        assert!(base_url("x", "base_url", "ftp://host").is_err());
        assert!(base_url("x", "base_url", "not a url").is_err());
        assert!(base_url("x", "base_url", "https://h/?key=1").is_err());
    }

    #[test]
    fn input_checks() {
        assert!(matches!(check_input("g", "  ", 10), Err(RemoteError::EmptyInput { .. })));
        assert!(matches!(check_input("g", "ường", 5), Err(RemoteError::TooLong { len: 7, max: 5, .. })));
        assert!(check_input("g", "a", 5).is_ok());
    }

    #[test]
    fn http_options_validation() {
        assert!(HttpOptions::default().validate("x").is_ok());
        let o = HttpOptions { max_attempts: 0, ..Default::default() };
        assert!(o.validate("x").is_err());
        let o = HttpOptions { concurrency: 0, ..Default::default() };
        assert!(o.validate("x").is_err());
        let o = HttpOptions { backoff_initial_ms: 10, backoff_max_ms: 5, ..Default::default() };
        assert!(o.validate("x").is_err());
        let o: HttpOptions = toml::from_str("timeout_ms = 5").unwrap();
        assert_eq!(o.timeout_ms, 5);
        assert!(toml::from_str::<HttpOptions>("timeout = 5").is_err());
    }

    #[test]
    fn nums_are_canonical() {
        assert_eq!(num(1.0), "1");
        assert_eq!(num(1.25), "1.25");
        assert_eq!(num(0.9), "0.9");
    }
}
