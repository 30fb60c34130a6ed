//! The `openai` backend: `POST {base_url}/v1/audio/speech` with a JSON body
//! `{model, input, voice, response_format, speed}` and an optional
//! `Authorization: Bearer` key; the answer is the audio itself.
//!
//! Besides OpenAI, this speaks to self-hosted servers with the same API
//! (Piper- or Kokoro-based ones) and to another loa, which serves this
//! endpoint too: an "edge" loa can hand synthesis to other machines.

use std::time::Instant;

use async_trait::async_trait;
use bytes::Bytes;
use reqwest::{Client, RequestBuilder};
use serde::{Deserialize, Serialize};

use super::http::{Http, Reply};
use super::vendor::{Remote, Vendor, audio_body};
use super::{ApiKey, AudioKind, HttpOptions, RemoteError, base_url, num};

const NAME: &str = "openai";

/// Audio format asked of the server (`response_format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OpenAiFormat {
    #[default]
    Wav,
    Mp3,
    /// Headerless 16-bit little-endian mono at `pcm_sample_rate`.
    Pcm,
}

impl OpenAiFormat {
    fn as_str(self) -> &'static str {
        match self {
            OpenAiFormat::Wav => "wav",
            OpenAiFormat::Mp3 => "mp3",
            OpenAiFormat::Pcm => "pcm",
        }
    }
}

/// Settings of an `openai` voice file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenAiConfig {
    /// Server root, without `/v1`: `https://api.openai.com`, `http://synth-1:8080`.
    pub base_url: String,
    /// Environment variable holding the bearer key; none for servers without auth.
    #[serde(default)]
    pub api_key_env: Option<String>,
    /// Model name (`tts-1`, `gpt-4o-mini-tts`; ignored by some servers).
    #[serde(default = "default_model")]
    pub model: String,
    /// The server's voice: `alloy`, a Piper model, or a loa voice name.
    pub voice: String,
    #[serde(default)]
    pub format: OpenAiFormat,
    /// Speaking speed, 0.25 to 4.0; left to the server when absent.
    #[serde(default)]
    pub speed: Option<f32>,
    /// Sample rate of `format = "pcm"` answers (OpenAI sends 24 kHz).
    #[serde(default = "default_pcm_rate")]
    pub pcm_sample_rate: u32,
    /// Longest input per request in bytes (OpenAI allows 4096 characters).
    #[serde(default = "default_max_input")]
    pub max_input_bytes: usize,
    #[serde(default)]
    pub http: HttpOptions,
}

fn default_model() -> String {
    "tts-1".into()
}
fn default_pcm_rate() -> u32 {
    24_000
}
fn default_max_input() -> usize {
    4096
}

#[derive(Serialize)]
struct SpeechRequest<'a> {
    model: &'a str,
    input: &'a str,
    voice: &'a str,
    response_format: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    speed: Option<f32>,
}

/// A voice served by an OpenAI-compatible endpoint.
pub type OpenAiBackend = Remote<OpenAiConfig>;

#[async_trait]
impl Vendor for OpenAiConfig {
    const NAME: &'static str = NAME;
    const TYPE_NAME: &'static str = "OpenAiBackend";
    const KEY_OPTIONAL: bool = true;

    fn endpoint(&self) -> Result<String, RemoteError> {
        let bad = |message: String| Err(RemoteError::Config { backend: NAME, message });
        let root = base_url(NAME, "base_url", &self.base_url)?;
        if self.voice.trim().is_empty() || self.model.trim().is_empty() {
            return bad("voice and model must not be empty".into());
        }
        if let Some(s) = self.speed
            && !(0.25..=4.0).contains(&s)
        {
            return bad(format!("speed {s} is outside 0.25..=4.0"));
        }
        if !(8_000..=192_000).contains(&self.pcm_sample_rate) {
            return bad(format!("pcm_sample_rate {} is outside 8000..=192000", self.pcm_sample_rate));
        }
        if self.max_input_bytes < 16 {
            return bad("max_input_bytes must be at least 16".into());
        }
        Ok(format!("{root}/v1/audio/speech"))
    }

    fn key_var(&self) -> Option<&str> {
        self.api_key_env.as_deref()
    }

    fn http_options(&self) -> &HttpOptions {
        &self.http
    }

    fn id(&self, url: &str) -> String {
        let speed = self.speed.map(num).unwrap_or_else(|| "default".into());
        format!(
            "openai/{url}/model={}/voice={}/format={}/speed={speed}",
            self.model,
            self.voice,
            self.format.as_str()
        )
    }

    fn max_input_bytes(&self) -> usize {
        self.max_input_bytes
    }

    fn voices(&self) -> Vec<String> {
        vec![self.voice.clone()]
    }

    fn request(&self, client: &Client, url: &str, key: Option<&ApiKey>, spoken: &str) -> RequestBuilder {
        let body = SpeechRequest {
            model: &self.model,
            input: spoken,
            voice: &self.voice,
            response_format: self.format.as_str(),
            speed: self.speed,
        };
        let rb = client.post(url).json(&body);
        match key {
            Some(k) => rb.bearer_auth(k.expose()),
            None => rb,
        }
    }

    async fn audio(&self, http: &Http, reply: Reply, _: Instant) -> Result<(Bytes, AudioKind), RemoteError> {
        let hint = match self.format {
            OpenAiFormat::Wav => AudioKind::Wav,
            OpenAiFormat::Mp3 => AudioKind::Mp3,
            OpenAiFormat::Pcm => AudioKind::Pcm16 { sample_rate: self.pcm_sample_rate },
        };
        Ok((audio_body(NAME, http, reply, false)?, hint))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tts::{Backend, TtsError};

    fn parse(s: &str) -> Result<OpenAiConfig, toml::de::Error> {
        toml::from_str(s)
    }

    #[test]
    fn config_defaults_and_checks() {
        let c = parse("base_url = \"http://127.0.0.1:1\"\nvoice = \"vi-espeak\"").unwrap();
        assert_eq!((c.model.as_str(), c.format, c.max_input_bytes), ("tts-1", OpenAiFormat::Wav, 4096));
        let b = OpenAiBackend::with_env(c.clone(), &|_| None).unwrap();
        assert_eq!(b.url, "http://127.0.0.1:1/v1/audio/speech");
        assert!(b.id().contains("voice=vi-espeak"));
        assert!(parse("base_url = \"http://h\"\nvoice = \"v\"\nvoyce = 1").is_err());
        let bad = OpenAiConfig { speed: Some(9.0), ..c.clone() };
        assert!(OpenAiBackend::with_env(bad, &|_| None).is_err());
        let keyed = OpenAiConfig { api_key_env: Some("LOA_TEST_NO_SUCH_VAR".into()), ..c };
        let keyless = OpenAiBackend::with_env(keyed, &|_| None).unwrap();
        assert!(
            matches!(keyless.check(), Err(TtsError::Unavailable(m)) if m.contains("LOA_TEST_NO_SUCH_VAR"))
        );
        assert!(b.check().is_ok());
    }
}
