//! The `fpt` backend: FPT.AI Text-to-Speech v5.
//!
//! `POST {base_url}/hmi/tts/v5` with the text as a raw body and the
//! parameters as headers (`api_key`, `voice`, `speed` from -3 to +3,
//! `format` mp3 or wav). The JSON answer
//! `{"async": url, "error": 0, "message", "request_id"}` names a file that
//! appears after a delay (seconds up to about two minutes): it is polled
//! with a growing, jittered interval until it is there or a deadline passes.
//! The poll carries no key and may follow redirects (the file sits on a CDN).

use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::Bytes;
use rand::RngExt;
use reqwest::{Client, RequestBuilder};
use serde::Deserialize;

use super::http::{Failure, Http, Reply};
use super::vendor::{Remote, Vendor, json_answer};
use super::{ApiKey, AudioKind, HttpOptions, RemoteError, base_url};

const NAME: &str = "fpt";
/// FPT's documented limit is 5,000 characters; bytes never exceed characters' worth.
const MAX_INPUT_BYTES: usize = 5000;
/// FPT rejects bodies under three characters.
const MIN_CHARS: usize = 3;

/// Audio format FPT renders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FptFormat {
    #[default]
    Mp3,
    Wav,
}

/// Settings of an `fpt` voice file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FptConfig {
    #[serde(default = "default_base")]
    pub base_url: String,
    /// Environment variable holding the key from console.fpt.ai.
    #[serde(default = "default_key_env")]
    pub api_key_env: String,
    /// `banmai`, `lannhi`, `leminh`, `myan`, `thuminh`, `giahuy`, `linhsan`.
    #[serde(default = "default_voice")]
    pub voice: String,
    /// -3 (slowest) to +3 (fastest).
    #[serde(default)]
    pub speed: i8,
    #[serde(default)]
    pub format: FptFormat,
    /// First wait before fetching the audio, in ms.
    #[serde(default = "default_poll_initial")]
    pub poll_initial_ms: u64,
    /// Longest wait between two fetches, in ms.
    #[serde(default = "default_poll_max")]
    pub poll_max_interval_ms: u64,
    /// Give up when the audio is not there this long after the request, in ms.
    #[serde(default = "default_poll_deadline")]
    pub poll_deadline_ms: u64,
    #[serde(default)]
    pub http: HttpOptions,
}

fn default_base() -> String {
    "https://api.fpt.ai".into()
}
fn default_key_env() -> String {
    "FPT_API_KEY".into()
}
fn default_voice() -> String {
    "banmai".into()
}
fn default_poll_initial() -> u64 {
    1_000
}
fn default_poll_max() -> u64 {
    5_000
}
fn default_poll_deadline() -> u64 {
    120_000
}

/// The first answer of FPT v5.
#[derive(Debug, Deserialize)]
struct Accepted {
    #[serde(rename = "async", default)]
    audio_url: Option<String>,
    #[serde(default)]
    error: i64,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    request_id: Option<String>,
}

/// An FPT.AI voice.
pub type FptBackend = Remote<FptConfig>;

impl FptFormat {
    fn as_str(self) -> &'static str {
        match self {
            FptFormat::Mp3 => "mp3",
            FptFormat::Wav => "wav",
        }
    }
}

#[async_trait]
impl Vendor for FptConfig {
    const NAME: &'static str = NAME;
    const TYPE_NAME: &'static str = "FptBackend";

    fn endpoint(&self) -> Result<String, RemoteError> {
        let bad = |message: String| Err(RemoteError::Config { backend: NAME, message });
        let root = base_url(NAME, "base_url", &self.base_url)?;
        if !(-3..=3).contains(&self.speed) {
            return bad(format!("speed {} is outside -3..=3", self.speed));
        }
        if self.voice.trim().is_empty() || !self.voice.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return bad(format!("voice {:?} must be a plain name such as \"banmai\"", self.voice));
        }
        if self.poll_initial_ms == 0 || self.poll_max_interval_ms < self.poll_initial_ms {
            return bad("need 0 < poll_initial_ms <= poll_max_interval_ms".into());
        }
        if self.poll_deadline_ms < self.poll_initial_ms {
            return bad("poll_deadline_ms must be at least poll_initial_ms".into());
        }
        Ok(format!("{root}/hmi/tts/v5"))
    }

    fn key_var(&self) -> Option<&str> {
        Some(&self.api_key_env)
    }

    fn http_options(&self) -> &HttpOptions {
        &self.http
    }

    fn id(&self, url: &str) -> String {
        format!("fpt-v5/{url}/voice={}/speed={}/format={}", self.voice, self.speed, self.format.as_str())
    }

    fn max_input_bytes(&self) -> usize {
        MAX_INPUT_BYTES
    }

    fn voices(&self) -> Vec<String> {
        ["banmai", "lannhi", "leminh", "myan", "thuminh", "giahuy", "linhsan"].map(String::from).to_vec()
    }

    fn request(&self, client: &Client, url: &str, key: Option<&ApiKey>, spoken: &str) -> RequestBuilder {
        let mut text = spoken.trim().to_string();
        // Pad very short sentences ("Ừ.") with silent dots to FPT's minimum.
        while text.chars().count() < MIN_CHARS {
            text.push('.');
        }
        client
            .post(url)
            .header("api_key", key.map_or("", ApiKey::expose))
            .header("voice", self.voice.as_str())
            .header("speed", self.speed.to_string())
            .header("format", self.format.as_str())
            .header("Cache-Control", "no-cache")
            .header(reqwest::header::CONTENT_TYPE, "text/plain; charset=utf-8")
            .body(text)
    }

    async fn audio(
        &self,
        http: &Http,
        reply: Reply,
        started: Instant,
    ) -> Result<(Bytes, AudioKind), RemoteError> {
        let accepted: Accepted = json_answer(NAME, http, &reply.body)?;
        if accepted.error != 0 {
            let message = accepted.message.unwrap_or_else(|| "(no message)".into());
            return Err(RemoteError::BadResponse {
                backend: NAME,
                message: format!("error {}: {}", accepted.error, http.redact(&message)),
            });
        }
        let audio_url =
            accepted.audio_url.filter(|u| !u.is_empty()).ok_or_else(|| RemoteError::BadResponse {
                backend: NAME,
                message: "no \"async\" audio link in the answer".into(),
            })?;
        let audio_url = reqwest::Url::parse(&audio_url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or_else(|| RemoteError::BadResponse {
                backend: NAME,
                message: format!("the audio link {:?} is not an http(s) URL", http.redact(&audio_url)),
            })?;
        tracing::debug!(backend = NAME, request_id = ?accepted.request_id, "FPT accepted; polling for the audio");
        let hint = match self.format {
            FptFormat::Mp3 => AudioKind::Mp3,
            FptFormat::Wav => AudioKind::Wav,
        };
        Ok((self.poll(http, audio_url, started).await?, hint))
    }
}

impl FptConfig {
    /// Fetch the audio link until it answers with the file or the deadline passes.
    async fn poll(&self, http: &Http, url: reqwest::Url, started: Instant) -> Result<Bytes, RemoteError> {
        let deadline = started + Duration::from_millis(self.poll_deadline_ms);
        let mut interval = Duration::from_millis(self.poll_initial_ms);
        let mut polls = 0u32;
        let mut last = String::from("not ready");
        loop {
            let now = Instant::now();
            if now >= deadline {
                return Err(RemoteError::Exhausted {
                    backend: NAME,
                    attempts: polls,
                    last: format!(
                        "the audio was not ready within the {} ms deadline ({last})",
                        self.poll_deadline_ms
                    ),
                });
            }
            tokio::time::sleep(interval.min(deadline - now)).await;
            polls += 1;
            match http.once(http.fetch_client().get(url.clone())).await {
                Ok(r) if r.status.is_success() && !r.body.is_empty() && !r.content_type().contains("xml") => {
                    tracing::debug!(backend = NAME, polls, bytes = r.body.len(), "FPT audio ready");
                    return Ok(r.body);
                }
                Ok(r) if r.status.is_success() => last = "empty file".into(),
                // Not there yet (S3 answers 403 or 404 for a missing object).
                Ok(r)
                    if matches!(r.status.as_u16(), 403 | 404 | 408 | 425 | 429)
                        || r.status.is_server_error() =>
                {
                    last = format!("HTTP {}", r.status.as_u16());
                }
                Ok(r) => {
                    return Err(RemoteError::Status {
                        backend: NAME,
                        status: r.status.as_u16(),
                        message: format!(
                            "fetching the audio: {}",
                            http.redact(&super::error_message(&r.body))
                        ),
                    });
                }
                Err(Failure::Timeout) => last = "timed out".into(),
                Err(Failure::Transport(m)) => last = m,
            }
            tracing::debug!(backend = NAME, polls, "FPT audio not ready: {last}");
            let grown = interval.mul_f32(1.5).min(Duration::from_millis(self.poll_max_interval_ms));
            let spread = (grown.as_millis() as u64 / 5).max(1);
            interval = grown.saturating_sub(Duration::from_millis(rand::rng().random_range(0..spread)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tts::Backend;

    #[test]
    fn config() {
        let c: FptConfig = toml::from_str("voice = \"leminh\"\nspeed = -1").unwrap();
        assert_eq!(c.base_url, "https://api.fpt.ai");
        assert_eq!(c.format, FptFormat::Mp3);
        let b = FptBackend::with_env(c.clone(), &|v| (v == "FPT_API_KEY").then(|| "k123456".into())).unwrap();
        assert_eq!(b.url, "https://api.fpt.ai/hmi/tts/v5");
        assert!(!format!("{b:?}").contains("k123456"));
        assert!(FptBackend::with_env(FptConfig { speed: 4, ..c.clone() }, &|_| Some("k".into())).is_err());
        assert!(
            FptBackend::with_env(FptConfig { voice: "a b".into(), ..c.clone() }, &|_| Some("k".into()))
                .is_err()
        );
        let keyless = FptBackend::with_env(c, &|_| None).unwrap();
        let e = keyless.check().unwrap_err().to_string();
        assert!(e.contains("FPT_API_KEY"), "{e}");
        assert!(toml::from_str::<FptConfig>("format = \"ogg\"").is_err());
    }
}
