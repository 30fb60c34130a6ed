//! The `viettel` backend: Viettel AI Text-to-Speech.
//!
//! `POST {base_url}/tts/speech_synthesis` with a JSON body
//! `{text, voice, speed, tts_return_option, token, without_filter}`, where
//! `tts_return_option` is 2 for WAV and 3 for MP3 and the token travels in
//! the body. The answer is the audio itself; a JSON answer is an error, even
//! with status 200.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::http::Http;
use super::{AudioKind, HttpOptions, KeySlot, RemoteError, base_url, check_input, decode_audio, num};
use crate::audio::Pcm;
use crate::tts::{Backend, TtsError};

const NAME: &str = "viettel";

/// Audio format Viettel renders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ViettelFormat {
    #[default]
    Wav,
    Mp3,
}

impl ViettelFormat {
    fn return_option(self) -> u8 {
        match self {
            ViettelFormat::Wav => 2,
            ViettelFormat::Mp3 => 3,
        }
    }
}

/// Settings of a `viettel` voice file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ViettelConfig {
    #[serde(default = "default_base")]
    pub base_url: String,
    /// Environment variable holding the token from viettelai.vn.
    #[serde(default = "default_key_env")]
    pub api_key_env: String,
    /// `hn-quynhanh`, `hcm-diemmy`, `hue-maingoc`, `hn-thanhtung`, …
    #[serde(default = "default_voice")]
    pub voice: String,
    /// 0.7 to 1.3 times the normal rate.
    #[serde(default = "default_speed")]
    pub speed: f32,
    #[serde(default)]
    pub format: ViettelFormat,
    /// Skip Viettel's quality filter (faster, rougher).
    #[serde(default)]
    pub without_filter: bool,
    /// Longest input per request in bytes.
    #[serde(default = "default_max_input")]
    pub max_input_bytes: usize,
    #[serde(default)]
    pub http: HttpOptions,
}

fn default_base() -> String {
    "https://viettelai.vn".into()
}
fn default_key_env() -> String {
    "VIETTEL_TTS_TOKEN".into()
}
fn default_voice() -> String {
    "hn-quynhanh".into()
}
fn default_speed() -> f32 {
    1.0
}
fn default_max_input() -> usize {
    2000
}

#[derive(Serialize)]
struct SynthesisRequest<'a> {
    text: &'a str,
    voice: &'a str,
    speed: f32,
    tts_return_option: u8,
    token: &'a str,
    without_filter: bool,
}

/// A Viettel AI voice.
pub struct ViettelBackend {
    config: ViettelConfig,
    url: String,
    key: KeySlot,
    http: Http,
}

impl std::fmt::Debug for ViettelBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ViettelBackend").field("url", &self.url).field("key", &self.key).finish()
    }
}

impl ViettelBackend {
    pub fn new(config: ViettelConfig) -> Result<Self, RemoteError> {
        Self::with_env(config, &super::env_lookup)
    }

    pub fn with_env(
        config: ViettelConfig,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, RemoteError> {
        let bad = |message: String| Err(RemoteError::Config { backend: NAME, message });
        let root = base_url(NAME, "base_url", &config.base_url)?;
        if !(0.7..=1.3).contains(&config.speed) {
            return bad(format!("speed {} is outside 0.7..=1.3", config.speed));
        }
        if config.voice.trim().is_empty() {
            return bad("voice must not be empty".into());
        }
        if config.max_input_bytes < 16 {
            return bad("max_input_bytes must be at least 16".into());
        }
        let key = KeySlot::resolve(NAME, Some(&config.api_key_env), env)?;
        let http = Http::new(NAME, &config.http, key.secrets())?;
        Ok(ViettelBackend { url: format!("{root}/tts/speech_synthesis"), config, key, http })
    }

    async fn run(&self, spoken: &str) -> Result<Pcm, RemoteError> {
        let key = self.key.require(NAME)?;
        check_input(NAME, spoken, self.config.max_input_bytes)?;
        let _slot = self.http.permit().await?;
        let c = &self.config;
        let body = SynthesisRequest {
            text: spoken,
            voice: &c.voice,
            speed: c.speed,
            tts_return_option: c.format.return_option(),
            token: key.expose(),
            without_filter: c.without_filter,
        };
        let reply = self.http.send(|client| client.post(&self.url).json(&body)).await?;
        if reply.content_type().contains("json") || reply.body.first() == Some(&b'{') {
            let message = self.http.redact(&super::error_message(&reply.body));
            return Err(RemoteError::BadResponse {
                backend: NAME,
                message: format!("JSON instead of audio: {message}"),
            });
        }
        let hint = match c.format {
            ViettelFormat::Wav => AudioKind::Wav,
            ViettelFormat::Mp3 => AudioKind::Mp3,
        };
        decode_audio(NAME, &reply.body, hint)
    }
}

#[async_trait]
impl Backend for ViettelBackend {
    fn id(&self) -> String {
        let c = &self.config;
        format!(
            "viettel/{}/voice={}/speed={}/option={}/without_filter={}",
            self.url,
            c.voice,
            num(c.speed),
            c.format.return_option(),
            c.without_filter
        )
    }

    fn max_input_bytes(&self) -> usize {
        self.config.max_input_bytes
    }

    fn voices(&self) -> Vec<String> {
        vec![self.config.voice.clone()]
    }

    async fn synthesize(&self, spoken: &str) -> Result<Pcm, TtsError> {
        self.run(spoken).await.map_err(TtsError::from)
    }

    fn check(&self) -> Result<(), TtsError> {
        self.key.check(NAME)
    }

    fn max_concurrency(&self) -> usize {
        self.config.http.concurrency
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config() {
        let c: ViettelConfig = toml::from_str("voice = \"hcm-diemmy\"\nformat = \"mp3\"").unwrap();
        assert_eq!(c.format.return_option(), 3);
        let b = ViettelBackend::with_env(c.clone(), &|_| Some("tok-42".into())).unwrap();
        assert_eq!(b.url, "https://viettelai.vn/tts/speech_synthesis");
        assert!(b.id().contains("option=3"));
        assert!(!format!("{b:?}").contains("tok-42"));
        assert!(
            ViettelBackend::with_env(ViettelConfig { speed: 2.0, ..c.clone() }, &|_| Some("t".into()))
                .is_err()
        );
        let keyless = ViettelBackend::with_env(c, &|_| None).unwrap();
        assert!(matches!(keyless.check(), Err(TtsError::Unavailable(m)) if m.contains("VIETTEL_TTS_TOKEN")));
    }
}
