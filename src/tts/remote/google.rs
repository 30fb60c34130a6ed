//! The `google` backend: Google Cloud Text-to-Speech v1.
//!
//! `POST {base_url}/v1/text:synthesize` with the key in the
//! `x-goog-api-key` header (never in the URL, so it cannot leak through a
//! logged address) and the body
//! `{"input":{"text"},"voice":{"languageCode":"vi-VN","name"},"audioConfig":{"audioEncoding","speakingRate",…}}`.
//! The answer is `{"audioContent": base64}`; LINEAR16 comes with a WAV
//! header. Errors are `{"error":{"code","message","status"}}`. Input is
//! limited to 5,000 bytes, and Vietnamese letters take two or three bytes.

use std::time::Instant;

use async_trait::async_trait;
use base64::Engine as _;
use bytes::Bytes;
use reqwest::{Client, RequestBuilder};
use serde::{Deserialize, Serialize};

use super::http::{Http, Reply};
use super::vendor::{Remote, Vendor, json_answer};
use super::{ApiKey, AudioKind, HttpOptions, RemoteError, base_url, num};

const NAME: &str = "google";
/// Documented limit of `input.text`, in bytes.
const MAX_INPUT_BYTES: usize = 5000;

/// `audioConfig.audioEncoding`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
pub enum GoogleEncoding {
    #[default]
    #[serde(rename = "LINEAR16", alias = "linear16")]
    Linear16,
    #[serde(rename = "MP3", alias = "mp3")]
    Mp3,
}

/// Settings of a `google` voice file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoogleConfig {
    #[serde(default = "default_base")]
    pub base_url: String,
    /// Environment variable holding an API key restricted to Text-to-Speech.
    #[serde(default = "default_key_env")]
    pub api_key_env: String,
    #[serde(default = "default_language")]
    pub language_code: String,
    /// `vi-VN-Standard-A`…`D`, `vi-VN-Wavenet-A`…`D`, `vi-VN-Neural2-A`, `vi-VN-Neural2-D`, …
    #[serde(default = "default_voice")]
    pub voice: String,
    #[serde(default)]
    pub encoding: GoogleEncoding,
    /// 0.25 to 4.0; 1.0 is the voice's normal rate.
    #[serde(default = "default_rate")]
    pub speaking_rate: f32,
    /// Semitones, -20 to 20.
    #[serde(default)]
    pub pitch: Option<f32>,
    /// Ask for this rate instead of the voice's natural one.
    #[serde(default)]
    pub sample_rate_hertz: Option<u32>,
    #[serde(default)]
    pub http: HttpOptions,
}

fn default_base() -> String {
    "https://texttospeech.googleapis.com".into()
}
fn default_key_env() -> String {
    "GOOGLE_TTS_API_KEY".into()
}
fn default_language() -> String {
    "vi-VN".into()
}
fn default_voice() -> String {
    "vi-VN-Wavenet-A".into()
}
fn default_rate() -> f32 {
    1.0
}

#[derive(Serialize)]
struct Input<'a> {
    text: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Voice<'a> {
    language_code: &'a str,
    name: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AudioConfig {
    audio_encoding: GoogleEncoding,
    speaking_rate: f32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pitch: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sample_rate_hertz: Option<u32>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SynthesizeRequest<'a> {
    input: Input<'a>,
    voice: Voice<'a>,
    audio_config: AudioConfig,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SynthesizeResponse {
    #[serde(default)]
    audio_content: Option<String>,
}

/// A Google Cloud Text-to-Speech voice.
pub type GoogleBackend = Remote<GoogleConfig>;

#[async_trait]
impl Vendor for GoogleConfig {
    const NAME: &'static str = NAME;
    const TYPE_NAME: &'static str = "GoogleBackend";

    fn endpoint(&self) -> Result<String, RemoteError> {
        let bad = |message: String| Err(RemoteError::Config { backend: NAME, message });
        let root = base_url(NAME, "base_url", &self.base_url)?;
        if !(0.25..=4.0).contains(&self.speaking_rate) {
            return bad(format!("speaking_rate {} is outside 0.25..=4.0", self.speaking_rate));
        }
        if let Some(p) = self.pitch
            && !(-20.0..=20.0).contains(&p)
        {
            return bad(format!("pitch {p} is outside -20..=20"));
        }
        if let Some(r) = self.sample_rate_hertz
            && !(8_000..=48_000).contains(&r)
        {
            return bad(format!("sample_rate_hertz {r} is outside 8000..=48000"));
        }
        if self.voice.trim().is_empty() || self.language_code.trim().is_empty() {
            return bad("voice and language_code must not be empty".into());
        }
        Ok(format!("{root}/v1/text:synthesize"))
    }

    fn key_var(&self) -> Option<&str> {
        Some(&self.api_key_env)
    }

    fn http_options(&self) -> &HttpOptions {
        &self.http
    }

    fn id(&self, url: &str) -> String {
        let enc = match self.encoding {
            GoogleEncoding::Linear16 => "LINEAR16",
            GoogleEncoding::Mp3 => "MP3",
        };
        format!(
            "google-tts-v1/{url}/{}/voice={}/encoding={enc}/rate={}/pitch={}/hz={}",
            self.language_code,
            self.voice,
            num(self.speaking_rate),
            self.pitch.map(num).unwrap_or_else(|| "0".into()),
            self.sample_rate_hertz.map(|r| r.to_string()).unwrap_or_else(|| "natural".into())
        )
    }

    fn max_input_bytes(&self) -> usize {
        MAX_INPUT_BYTES
    }

    fn voices(&self) -> Vec<String> {
        vec![self.voice.clone()]
    }

    fn request(&self, client: &Client, url: &str, key: Option<&ApiKey>, spoken: &str) -> RequestBuilder {
        let body = SynthesizeRequest {
            input: Input { text: spoken },
            voice: Voice { language_code: &self.language_code, name: &self.voice },
            audio_config: AudioConfig {
                audio_encoding: self.encoding,
                speaking_rate: self.speaking_rate,
                pitch: self.pitch,
                sample_rate_hertz: self.sample_rate_hertz,
            },
        };
        client.post(url).header("x-goog-api-key", key.map_or("", ApiKey::expose)).json(&body)
    }

    async fn audio(&self, http: &Http, reply: Reply, _: Instant) -> Result<(Bytes, AudioKind), RemoteError> {
        let bad = |message: String| RemoteError::BadResponse { backend: NAME, message };
        let parsed: SynthesizeResponse = json_answer(NAME, http, &reply.body)?;
        let b64 =
            parsed.audio_content.filter(|s| !s.is_empty()).ok_or_else(|| bad("no audioContent".into()))?;
        let audio = base64::engine::general_purpose::STANDARD
            .decode(b64.trim())
            .map_err(|e| bad(format!("audioContent is not valid base64: {e}")))?;
        let hint = match self.encoding {
            GoogleEncoding::Linear16 => {
                AudioKind::Pcm16 { sample_rate: self.sample_rate_hertz.unwrap_or(24_000) }
            }
            GoogleEncoding::Mp3 => AudioKind::Mp3,
        };
        Ok((Bytes::from(audio), hint))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tts::Backend;

    #[test]
    fn config_and_body_shape() {
        let c: GoogleConfig = toml::from_str("voice = \"vi-VN-Neural2-A\"\nencoding = \"MP3\"").unwrap();
        assert_eq!(c.encoding, GoogleEncoding::Mp3);
        let b = GoogleBackend::with_env(c.clone(), &|_| Some("AIzaKEY".into())).unwrap();
        assert_eq!(b.url, "https://texttospeech.googleapis.com/v1/text:synthesize");
        assert_eq!(b.max_input_bytes(), 5000);
        let body = SynthesizeRequest {
            input: Input { text: "xin chào" },
            voice: Voice { language_code: "vi-VN", name: "vi-VN-Neural2-A" },
            audio_config: AudioConfig {
                audio_encoding: GoogleEncoding::Linear16,
                speaking_rate: 1.0,
                pitch: None,
                sample_rate_hertz: None,
            },
        };
        let v = serde_json::to_value(&body).unwrap();
        assert_eq!(v["input"]["text"], "xin chào");
        assert_eq!(v["voice"]["languageCode"], "vi-VN");
        assert_eq!(v["audioConfig"]["audioEncoding"], "LINEAR16");
        assert_eq!(v["audioConfig"]["speakingRate"], 1.0);
        assert!(v["audioConfig"].get("pitch").is_none());
        assert!(
            GoogleBackend::with_env(GoogleConfig { pitch: Some(30.0), ..c.clone() }, &|_| Some("k".into()))
                .is_err()
        );
        assert!(toml::from_str::<GoogleConfig>("encoding = \"OGG_OPUS\"").is_err());
    }
}
