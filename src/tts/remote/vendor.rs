//! The one [`Backend`] implementation behind every remote engine.
//!
//! A [`Remote`] voice holds what all engines need — the voice file's settings,
//! the endpoint URL, the API key slot and the shared [`Http`] client — and
//! runs the common steps of a synthesis: key and input checks, a slot under
//! the concurrency limit, the request with retries, and decoding the audio.
//! What differs between engines (settings checks, endpoint, cache id, the
//! request and how the answer holds the audio) is the [`Vendor`] trait,
//! implemented by each engine's settings type (`OpenAiConfig`, `FptConfig`, …).

use std::time::Instant;

use async_trait::async_trait;
use bytes::Bytes;
use reqwest::{Client, RequestBuilder};
use serde::de::DeserializeOwned;

use super::http::{Http, Reply};
use super::{ApiKey, AudioKind, HttpOptions, KeySlot, RemoteError, check_input, decode_audio};
use crate::audio::Pcm;
use crate::tts::{Backend, TtsError};

/// What makes one remote engine different from the others.
#[async_trait]
pub(crate) trait Vendor: Send + Sync + Sized + 'static {
    /// Short name in messages and logs (`"openai"`).
    const NAME: &'static str;
    /// Type name shown by `Debug` (`"OpenAiBackend"`).
    const TYPE_NAME: &'static str;
    /// Whether a voice may run without a key (a private OpenAI-compatible server).
    const KEY_OPTIONAL: bool = false;

    /// Check the settings and return the endpoint URL requests go to.
    fn endpoint(&self) -> Result<String, RemoteError>;
    /// Environment variable holding the key; none if the engine needs no key.
    fn key_var(&self) -> Option<&str>;
    fn http_options(&self) -> &HttpOptions;
    /// Cache identity of the voice; it goes into cache keys, so it must stay stable.
    fn id(&self, url: &str) -> String;
    fn max_input_bytes(&self) -> usize;
    fn voices(&self) -> Vec<String>;
    /// One attempt's request for `spoken`. `key` is present whenever the
    /// engine needs one (see [`Vendor::KEY_OPTIONAL`]).
    fn request(&self, client: &Client, url: &str, key: Option<&ApiKey>, spoken: &str) -> RequestBuilder;
    /// The audio in a successful answer, with the container expected;
    /// `started` is when the request was first sent.
    async fn audio(
        &self,
        http: &Http,
        reply: Reply,
        started: Instant,
    ) -> Result<(Bytes, AudioKind), RemoteError>;
}

/// A voice of a remote engine; see the type aliases (`OpenAiBackend`, …).
pub struct Remote<V> {
    pub(super) config: V,
    pub(super) url: String,
    key: KeySlot,
    http: Http,
}

impl<V: Vendor> std::fmt::Debug for Remote<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct(V::TYPE_NAME).field("url", &self.url).field("key", &self.key).finish()
    }
}

// `Vendor` is private on purpose (sealed): only this crate's engines implement it.
#[allow(private_bounds)]
impl<V: Vendor> Remote<V> {
    /// Build from a voice file's settings, reading the key from the process environment.
    pub fn new(config: V) -> Result<Self, RemoteError> {
        Self::with_env(config, &super::env_lookup)
    }

    /// Build with an explicit environment lookup (tests, embedding).
    pub fn with_env(config: V, env: &dyn Fn(&str) -> Option<String>) -> Result<Self, RemoteError> {
        let url = config.endpoint()?;
        let key = KeySlot::resolve(V::NAME, config.key_var(), env)?;
        let http = Http::new(V::NAME, config.http_options(), key.secrets())?;
        Ok(Remote { config, url, key, http })
    }

    async fn run(&self, spoken: &str) -> Result<Pcm, RemoteError> {
        let key = if V::KEY_OPTIONAL { self.key.get(V::NAME)? } else { Some(self.key.require(V::NAME)?) };
        check_input(V::NAME, spoken, self.config.max_input_bytes())?;
        let _slot = self.http.permit().await?;
        let started = Instant::now();
        let reply = self.http.send(|client| self.config.request(client, &self.url, key, spoken)).await?;
        let (audio, hint) = self.config.audio(&self.http, reply, started).await?;
        decode_audio(V::NAME, &audio, hint)
    }
}

#[async_trait]
impl<V: Vendor> Backend for Remote<V> {
    fn id(&self) -> String {
        self.config.id(&self.url)
    }

    fn max_input_bytes(&self) -> usize {
        self.config.max_input_bytes()
    }

    fn voices(&self) -> Vec<String> {
        self.config.voices()
    }

    async fn synthesize(&self, spoken: &str) -> Result<Pcm, TtsError> {
        self.run(spoken).await.map_err(TtsError::from)
    }

    fn check(&self) -> Result<(), TtsError> {
        self.key.check(V::NAME)
    }

    fn max_concurrency(&self) -> usize {
        self.config.http_options().concurrency
    }
}

/// The body of an answer that should be the audio itself. Such engines send
/// JSON only to report an error (`sniff`: also when the body merely starts
/// like a JSON object), which becomes the error's message, redacted.
pub(crate) fn audio_body(
    backend: &'static str,
    http: &Http,
    reply: Reply,
    sniff: bool,
) -> Result<Bytes, RemoteError> {
    if reply.content_type().contains("json") || (sniff && reply.body.first() == Some(&b'{')) {
        let message = http.redact(&super::error_message(&reply.body));
        return Err(RemoteError::BadResponse {
            backend,
            message: format!("JSON instead of audio: {message}"),
        });
    }
    Ok(reply.body)
}

/// Parse a JSON answer of the documented shape; anything else is an error
/// quoting what the engine said, redacted.
pub(crate) fn json_answer<T: DeserializeOwned>(
    backend: &'static str,
    http: &Http,
    body: &[u8],
) -> Result<T, RemoteError> {
    serde_json::from_slice(body).map_err(|e| RemoteError::BadResponse {
        backend,
        message: format!("not the documented JSON ({e}): {}", http.redact(&super::error_message(body))),
    })
}
