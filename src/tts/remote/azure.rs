//! The `azure` backend: Azure AI Speech text to speech over REST.
//!
//! `POST https://{region}.tts.speech.microsoft.com/cognitiveservices/v1`
//! (or `{base_url}/cognitiveservices/v1`) with the resource key in
//! `Ocp-Apim-Subscription-Key`, `Content-Type: application/ssml+xml`,
//! `X-Microsoft-OutputFormat` (default `riff-24khz-16bit-mono-pcm`), a
//! `User-Agent`, and an SSML body naming the voice (`vi-VN-HoaiMyNeural`,
//! `vi-VN-NamMinhNeural`). The answer is the audio itself.

use std::time::Instant;

use async_trait::async_trait;
use bytes::Bytes;
use reqwest::{Client, RequestBuilder};
use serde::Deserialize;

use super::http::{Http, Reply};
use super::vendor::{Remote, Vendor, audio_body};
use super::{ApiKey, AudioKind, HttpOptions, RemoteError, base_url, num};

const NAME: &str = "azure";

/// Settings of an `azure` voice file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AzureConfig {
    /// Speech resource region, e.g. `southeastasia`; or give `base_url`.
    #[serde(default)]
    pub region: Option<String>,
    /// Endpoint root instead of the region's (sovereign clouds, tests).
    #[serde(default)]
    pub base_url: Option<String>,
    /// Environment variable holding the Speech resource key.
    #[serde(default = "default_key_env")]
    pub api_key_env: String,
    #[serde(default = "default_voice")]
    pub voice: String,
    #[serde(default = "default_language")]
    pub language: String,
    /// `riff-…-16bit-mono-pcm`, `raw-…-16bit-mono-pcm` or `audio-…-mono-mp3`.
    #[serde(default = "default_format")]
    pub output_format: String,
    /// Speaking rate as a multiple of the voice's normal rate, 0.5 to 2.0.
    #[serde(default = "default_rate")]
    pub rate: f32,
    /// Longest input per request in bytes (before SSML escaping).
    #[serde(default = "default_max_input")]
    pub max_input_bytes: usize,
    #[serde(default)]
    pub http: HttpOptions,
}

fn default_key_env() -> String {
    "AZURE_SPEECH_KEY".into()
}
fn default_voice() -> String {
    "vi-VN-HoaiMyNeural".into()
}
fn default_language() -> String {
    "vi-VN".into()
}
fn default_format() -> String {
    "riff-24khz-16bit-mono-pcm".into()
}
fn default_rate() -> f32 {
    1.0
}
fn default_max_input() -> usize {
    3000
}

/// The container and, for raw PCM, the rate an output format name stands for.
fn format_kind(format: &str) -> Option<AudioKind> {
    let rate = || -> Option<u32> {
        let field = format.split('-').nth(1)?;
        if let Some(k) = field.strip_suffix("khz") {
            k.parse::<u32>().ok().map(|k| k * 1000)
        } else {
            field.strip_suffix("hz")?.parse().ok()
        }
    };
    if format.starts_with("riff-") && format.ends_with("-16bit-mono-pcm") {
        rate().map(|_| AudioKind::Wav)
    } else if format.starts_with("raw-") && format.ends_with("-16bit-mono-pcm") {
        rate().map(|sample_rate| AudioKind::Pcm16 { sample_rate })
    } else if format.starts_with("audio-") && format.ends_with("-mono-mp3") {
        rate().map(|_| AudioKind::Mp3)
    } else {
        None
    }
}

/// Escape text for an XML element or a single-quoted attribute.
fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Control characters are not allowed in XML 1.0.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// An Azure Speech voice.
pub type AzureBackend = Remote<AzureConfig>;

impl AzureConfig {
    /// The container (and raw PCM rate) of `output_format`.
    fn kind(&self) -> Result<AudioKind, RemoteError> {
        format_kind(&self.output_format).ok_or_else(|| RemoteError::Config {
            backend: NAME,
            message: format!(
                "output_format {:?} is not a 16-bit mono PCM (riff-/raw-) or mono MP3 (audio-) format",
                self.output_format
            ),
        })
    }

    /// The SSML document for one sentence.
    fn ssml(&self, spoken: &str) -> String {
        let text = xml_escape(spoken);
        let inner = if (self.rate - 1.0).abs() < 1e-3 {
            text
        } else {
            format!("<prosody rate='{}'>{text}</prosody>", num(self.rate))
        };
        format!(
            "<speak version='1.0' xmlns='http://www.w3.org/2001/10/synthesis' xml:lang='{lang}'>\
             <voice xml:lang='{lang}' name='{voice}'>{inner}</voice></speak>",
            lang = xml_escape(&self.language),
            voice = xml_escape(&self.voice),
        )
    }
}

#[async_trait]
impl Vendor for AzureConfig {
    const NAME: &'static str = NAME;
    const TYPE_NAME: &'static str = "AzureBackend";

    fn endpoint(&self) -> Result<String, RemoteError> {
        let bad = |message: String| Err(RemoteError::Config { backend: NAME, message });
        let root = match (&self.base_url, &self.region) {
            (Some(url), _) => base_url(NAME, "base_url", url)?,
            (None, Some(region)) => {
                if region.is_empty() || !region.bytes().all(|b| b.is_ascii_alphanumeric()) {
                    return bad(format!("region {region:?} must be a plain name such as \"southeastasia\""));
                }
                format!("https://{region}.tts.speech.microsoft.com")
            }
            (None, None) => return bad("set region (e.g. \"southeastasia\") or base_url".into()),
        };
        self.kind()?;
        if !(0.5..=2.0).contains(&self.rate) {
            return bad(format!("rate {} is outside 0.5..=2.0", self.rate));
        }
        if self.voice.trim().is_empty() || self.language.trim().is_empty() {
            return bad("voice and language must not be empty".into());
        }
        if self.max_input_bytes < 16 {
            return bad("max_input_bytes must be at least 16".into());
        }
        Ok(format!("{root}/cognitiveservices/v1"))
    }

    fn key_var(&self) -> Option<&str> {
        Some(&self.api_key_env)
    }

    fn http_options(&self) -> &HttpOptions {
        &self.http
    }

    fn id(&self, url: &str) -> String {
        format!("azure-tts/{url}/voice={}/{}/rate={}", self.voice, self.output_format, num(self.rate))
    }

    fn max_input_bytes(&self) -> usize {
        self.max_input_bytes
    }

    fn voices(&self) -> Vec<String> {
        vec![self.voice.clone()]
    }

    fn request(&self, client: &Client, url: &str, key: Option<&ApiKey>, spoken: &str) -> RequestBuilder {
        client
            .post(url)
            .header("Ocp-Apim-Subscription-Key", key.map_or("", ApiKey::expose))
            .header(reqwest::header::CONTENT_TYPE, "application/ssml+xml")
            .header("X-Microsoft-OutputFormat", self.output_format.as_str())
            .body(self.ssml(spoken))
    }

    async fn audio(&self, http: &Http, reply: Reply, _: Instant) -> Result<(Bytes, AudioKind), RemoteError> {
        let body = audio_body(NAME, http, reply, false)?;
        Ok((body, self.kind()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(format_kind("riff-24khz-16bit-mono-pcm"), Some(AudioKind::Wav));
        assert_eq!(format_kind("raw-16khz-16bit-mono-pcm"), Some(AudioKind::Pcm16 { sample_rate: 16000 }));
        assert_eq!(format_kind("raw-22050hz-16bit-mono-pcm"), Some(AudioKind::Pcm16 { sample_rate: 22050 }));
        assert_eq!(format_kind("audio-24khz-48kbitrate-mono-mp3"), Some(AudioKind::Mp3));
        assert_eq!(format_kind("ogg-24khz-16bit-mono-opus"), None);
        assert_eq!(format_kind("riff-8khz-8bit-mono-mulaw"), None);
    }

    #[test]
    fn ssml_is_escaped() {
        let c: AzureConfig = toml::from_str("region = \"southeastasia\"\nrate = 1.2").unwrap();
        let b = AzureBackend::with_env(c.clone(), &|_| Some("azkey".into())).unwrap();
        assert_eq!(b.url, "https://southeastasia.tts.speech.microsoft.com/cognitiveservices/v1");
        let s = b.config.ssml("A & B <c> 'd'");
        assert!(s.contains("A &amp; B &lt;c&gt; &apos;d&apos;"), "{s}");
        assert!(s.contains("name='vi-VN-HoaiMyNeural'") && s.contains("<prosody rate='1.2'>"), "{s}");
        assert!(
            AzureBackend::with_env(AzureConfig { region: Some("x.evil".into()), ..c.clone() }, &|_| Some(
                "k".into()
            ))
            .is_err()
        );
        assert!(AzureBackend::with_env(AzureConfig { region: None, ..c }, &|_| Some("k".into())).is_err());
    }
}
