//! The `viettel` backend: Viettel AI Text-to-Speech.
//!
//! `POST {base_url}/tts/speech_synthesis` with a JSON body
//! `{text, voice, speed, tts_return_option, token, without_filter}`, where
//! `tts_return_option` is 2 for WAV and 3 for MP3 and the token travels in
//! the body. The answer is the audio itself; a JSON answer is an error, even
//! with status 200.

use std::time::Instant;

use async_trait::async_trait;
use bytes::Bytes;
use reqwest::{Client, RequestBuilder};
use serde::{Deserialize, Serialize};

use super::http::{Http, Reply};
use super::vendor::{Remote, Vendor, audio_body};
use super::{ApiKey, AudioKind, HttpOptions, RemoteError, base_url, num};

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
pub type ViettelBackend = Remote<ViettelConfig>;

#[async_trait]
impl Vendor for ViettelConfig {
    const NAME: &'static str = NAME;
    const TYPE_NAME: &'static str = "ViettelBackend";

    fn endpoint(&self) -> Result<String, RemoteError> {
        let bad = |message: String| Err(RemoteError::Config { backend: NAME, message });
        let root = base_url(NAME, "base_url", &self.base_url)?;
        if !(0.7..=1.3).contains(&self.speed) {
            return bad(format!("speed {} is outside 0.7..=1.3", self.speed));
        }
        if self.voice.trim().is_empty() {
            return bad("voice must not be empty".into());
        }
        if self.max_input_bytes < 16 {
            return bad("max_input_bytes must be at least 16".into());
        }
        Ok(format!("{root}/tts/speech_synthesis"))
    }

    fn key_var(&self) -> Option<&str> {
        Some(&self.api_key_env)
    }

    fn http_options(&self) -> &HttpOptions {
        &self.http
    }

    fn id(&self, url: &str) -> String {
        format!(
            "viettel/{url}/voice={}/speed={}/option={}/without_filter={}",
            self.voice,
            num(self.speed),
            self.format.return_option(),
            self.without_filter
        )
    }

    fn max_input_bytes(&self) -> usize {
        self.max_input_bytes
    }

    fn voices(&self) -> Vec<String> {
        vec![self.voice.clone()]
    }

    fn request(&self, client: &Client, url: &str, key: Option<&ApiKey>, spoken: &str) -> RequestBuilder {
        let body = SynthesisRequest {
            text: spoken,
            voice: &self.voice,
            speed: self.speed,
            tts_return_option: self.format.return_option(),
            token: key.map_or("", ApiKey::expose),
            without_filter: self.without_filter,
        };
        client.post(url).json(&body)
    }

    async fn audio(&self, http: &Http, reply: Reply, _: Instant) -> Result<(Bytes, AudioKind), RemoteError> {
        let hint = match self.format {
            ViettelFormat::Wav => AudioKind::Wav,
            ViettelFormat::Mp3 => AudioKind::Mp3,
        };
        Ok((audio_body(NAME, http, reply, true)?, hint))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tts::{Backend, TtsError};

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
