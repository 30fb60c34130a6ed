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
//! reads text on stdin and writes WAV on stdout; [`piper`] runs Piper
//! neural voices (ONNX) in the process; [`remote`] sends sentences
//! to HTTP engines (OpenAI-compatible servers and other loa instances,
//! FPT.AI, Viettel AI, Google Cloud, Azure).

pub mod command;
pub mod espeak;
pub mod factory;
pub mod piper;
pub mod pool;
pub mod remote;

use std::sync::Arc;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

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
    #[error("cancelled")]
    Cancelled,
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
    /// Synthesize, stopping early with `Err(Cancelled)` when `cancel`
    /// fires. The default drops the synthesis future, which stops process
    /// and HTTP backends (their child is killed, their request dropped);
    /// backends that block a thread override it so they return only once
    /// that thread's work has ended.
    async fn synthesize_cancellable(
        &self,
        spoken: &str,
        cancel: &CancellationToken,
    ) -> Result<Pcm, TtsError> {
        tokio::select! {
            r = self.synthesize(spoken) => r,
            _ = cancel.cancelled() => Err(TtsError::Cancelled),
        }
    }
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

pub use factory::{BackendSpec, Budget, Voice, VoiceFile, VoiceInfo, VoiceRegistry, load_voice};
pub use pool::Runtime;

pub type SharedBackend = Arc<dyn Backend>;

/// Cut `text` into pieces of at most `max_bytes`, at spaces where possible
/// (a single longer word is cut at a character boundary).
pub fn chunk_text(text: &str, max_bytes: usize) -> Vec<&str> {
    let max = max_bytes.max(4);
    let mut out = Vec::new();
    let mut rest = text.trim();
    while rest.len() > max {
        let mut cut = max;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        let at = rest[..cut].rfind(char::is_whitespace).filter(|&i| i > 0).unwrap_or(cut);
        out.push(rest[..at].trim_end());
        rest = rest[at..].trim_start();
    }
    if !rest.is_empty() {
        out.push(rest);
    }
    out
}

/// Synthesize text of any length: pieces of at most
/// [`Backend::max_input_bytes`], each resampled to `rate`, concatenated.
pub async fn synthesize_long(
    backend: &dyn Backend,
    text: &str,
    rate: u32,
    cancel: &CancellationToken,
) -> Result<Pcm, TtsError> {
    let mut pcm = Pcm { sample_rate: rate, samples: Vec::new() };
    for piece in chunk_text(text, backend.max_input_bytes()) {
        if cancel.is_cancelled() {
            return Err(TtsError::Cancelled);
        }
        let part = backend.synthesize_cancellable(piece, cancel).await?;
        pcm.samples.extend_from_slice(&crate::audio::resample(&part, rate).samples);
    }
    Ok(pcm)
}

#[cfg(test)]
mod tests {
    use super::chunk_text;

    #[test]
    fn chunks_respect_the_limit_and_keep_every_word() {
        let text = "một hai ba bốn năm sáu bảy tám chín mười";
        let parts = chunk_text(text, 12);
        assert!(parts.iter().all(|p| p.len() <= 12 && !p.is_empty()), "{parts:?}");
        assert_eq!(parts.join(" "), text);
        assert_eq!(chunk_text("ngắn", 4000), vec!["ngắn"]);
        let long = "ừừừừừừừừừừ";
        let parts = chunk_text(long, 7);
        assert!(parts.iter().all(|p| p.len() <= 7));
        assert_eq!(parts.concat(), long);
    }
}
