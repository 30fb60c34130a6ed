//! Speech backends: turn one sentence of spoken Vietnamese into PCM.
//!
//! Everything outside this module sees only the [`Backend`] trait and the
//! factory [`load_voice`], which reads a voice file (`voices/*.toml`) and
//! returns an `Arc<dyn Backend>`. A backend's [`Backend::id`] names the
//! engine, its version and every parameter that changes the sound, so it can
//! go into cache keys.
//!
//! [`factory`] holds the voice-file format and the one `match` from backend
//! type to implementation; [`espeak`] is the offline default (eSpeak NG's
//! Vietnamese voice, loaded at run time); [`command`] runs any program that
//! reads text on stdin and writes WAV on stdout; [`remote`] sends sentences
//! to HTTP engines (OpenAI-compatible servers and other loa instances,
//! FPT.AI, Viettel AI, Google Cloud, Azure).

pub mod command;
pub mod espeak;
pub mod factory;
pub mod remote;

use std::sync::Arc;

use async_trait::async_trait;

use crate::audio::Pcm;

/// Errors from building or running a speech backend.
#[derive(Debug, thiserror::Error)]
pub enum TtsError {
    #[error("voice unavailable: {0}")]
    Unavailable(String),
    #[error("unknown voice {name:?}; available voices: {available}")]
    UnknownVoice { name: String, available: String },
    #[error("bad voice file {path}: {message}")]
    BadVoiceFile { path: String, message: String },
    #[error("speech backend failed: {0}")]
    Backend(String),
    #[error("speech backend timed out after {0:?}")]
    Timeout(std::time::Duration),
}

/// A speech engine configured as one voice.
#[async_trait]
pub trait Backend: Send + Sync {
    /// Engine, engine version and all sound-changing parameters, e.g.
    /// `espeak-ng/1.51/vi/rate=165/pitch=50`. Goes into cache keys.
    fn id(&self) -> String;
    /// Longest input, in bytes of UTF-8, the engine accepts in one call.
    fn max_input_bytes(&self) -> usize {
        4000
    }
    /// Voices the engine itself offers (informational).
    fn voices(&self) -> Vec<String>;
    /// Synthesize one sentence of spoken text.
    async fn synthesize(&self, spoken: &str) -> Result<Pcm, TtsError>;
    /// Whether the engine can run here (library installed, key set…);
    /// `Err(Unavailable)` says what is missing. Cheap; no synthesis.
    fn check(&self) -> Result<(), TtsError> {
        Ok(())
    }
    /// How many sentences may be synthesized at once for one article.
    fn max_concurrency(&self) -> usize {
        1
    }
}

pub use factory::{BackendSpec, VoiceFile, VoiceInfo, VoiceRegistry, load_voice};

pub type SharedBackend = Arc<dyn Backend>;
