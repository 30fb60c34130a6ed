//! The pipeline: article text → plan (sentences, spoken forms, cache keys)
//! → per-sentence PCM from the cache or the voice's backend → one article
//! joined with pauses, levelled, encoded, with its timings, all cached.
//!
//! [`Engine`] is what the CLI and the HTTP server use. Cache objects:
//! * sentence PCM, `{pcm_key}.wav`: resampled to the output rate and
//!   levelled; key over (backend id, rate, spoken text);
//! * sentence audio in the plan's format, `{sentence_key}.{ext}` (for WAV
//!   this *is* the PCM object), for players that start on sentence 0;
//! * the article, `{key}.{ext}` plus `{key}.json` (timings), assembled from
//!   sentence PCM and encoded once.
//!
//! Editing one sentence of an article changes one PCM key, so only that
//! sentence is synthesized again.

mod timings;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use futures::StreamExt;

pub use crate::audio::Format;
use crate::audio::{self, Pcm, Segment};
use crate::cache::{self, KeyLocks, Store};
use crate::config::Config;
use crate::text::{Normalizer, Sentence};
pub use crate::tts::VoiceInfo;
use crate::tts::{SharedBackend, TtsError, VoiceRegistry};
pub use timings::{TimedSentence, Timings};

/// Errors of the pipeline, as the CLI and server report them.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("the article has no text to read")]
    EmptyText,
    #[error("unknown voice {name:?}; available voices: {available}")]
    UnknownVoice { name: String, available: String },
    #[error("voice unavailable: {0}")]
    VoiceUnavailable(String),
    #[error("bad voice configuration: {0}")]
    Voice(TtsError),
    #[error("speech backend failed on sentence {} ({sentence:?}): {message}", index + 1)]
    Backend { index: usize, sentence: String, message: String },
    #[error("speech backend timed out on sentence {} ({sentence:?})", index + 1)]
    Timeout { index: usize, sentence: String },
    #[error("sentence index {index} is out of range (the plan has {len})")]
    NoSuchSentence { index: usize, len: usize },
    #[error(transparent)]
    Audio(#[from] audio::AudioError),
    #[error(transparent)]
    Cache(#[from] cache::CacheError),
    #[error("bad configuration: {0}")]
    Config(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl PipelineError {
    /// True for errors caused by the request or the configuration rather
    /// than by the machine (CLI exit code 2). The HTTP layer maps each
    /// variant to its own status instead (`server::error`).
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            PipelineError::EmptyText
                | PipelineError::UnknownVoice { .. }
                | PipelineError::Voice(_)
                | PipelineError::NoSuchSentence { .. }
                | PipelineError::Config(_)
        )
    }
}

/// Counters for `/metrics` and the CLI summary.
#[derive(Debug, Default)]
pub struct Metrics {
    pub cache_hits: AtomicU64,
    pub cache_misses: AtomicU64,
    pub syntheses: AtomicU64,
    pub synthesis_micros: AtomicU64,
    pub in_flight: AtomicU64,
}

/// A plain copy of [`Metrics`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct MetricsSnapshot {
    pub cache_hits: u64,
    pub cache_misses: u64,
    pub syntheses: u64,
    pub synthesis_micros: u64,
    pub in_flight: u64,
}

impl Metrics {
    pub fn snapshot(&self) -> MetricsSnapshot {
        MetricsSnapshot {
            cache_hits: self.cache_hits.load(Ordering::Relaxed),
            cache_misses: self.cache_misses.load(Ordering::Relaxed),
            syntheses: self.syntheses.load(Ordering::Relaxed),
            synthesis_micros: self.synthesis_micros.load(Ordering::Relaxed),
            in_flight: self.in_flight.load(Ordering::Relaxed),
        }
    }
}

/// What to say and where its pieces live in the cache.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Key of the article objects (`{key}.{ext}`, `{key}.json`).
    pub key: String,
    pub voice: String,
    pub format: Format,
    pub sentences: Vec<Sentence>,
    /// Per sentence: key of its audio in `format`.
    pub sentence_keys: Vec<String>,
    /// Per sentence: key of its levelled PCM (`.wav`).
    pub pcm_keys: Vec<String>,
    /// Pause after each sentence, in ms (0 after the last).
    pub pauses_ms: Vec<u32>,
}

/// One sentence's audio object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentenceAudio {
    pub key: String,
    pub path: PathBuf,
    pub duration_ms: u64,
}

/// A rendered article in the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub key: String,
    pub audio: PathBuf,
    pub timings: PathBuf,
    /// The article object was already cached.
    pub from_cache: bool,
    pub duration_ms: u64,
    /// Sentences synthesized for this render (0 when from cache).
    pub synthesized: usize,
}

/// The pipeline, shared by the CLI and the server (cheap to clone).
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    normalizer: Normalizer,
    voices: VoiceRegistry,
    store: Store,
    locks: KeyLocks,
    metrics: Metrics,
}

/// Bumped when levelling, joining or the key layout changes.
const PIPELINE_VERSION: &str = "loa-pipeline/2";

impl Engine {
    /// Build from configuration: voices from `speech.voices_dir`, the cache
    /// at `cache.dir`.
    pub fn new(config: &Config) -> Result<Engine, PipelineError> {
        let voices = VoiceRegistry::load(&config.speech.voices_dir).map_err(PipelineError::Voice)?;
        Engine::with_voices(config, voices)
    }

    /// Build with an explicit voice registry.
    pub fn with_voices(config: &Config, voices: VoiceRegistry) -> Result<Engine, PipelineError> {
        audio::check_bitrate(config.speech.mp3_bitrate_kbps)
            .map_err(|e| PipelineError::Config(e.to_string()))?;
        if !(8000..=48000).contains(&config.speech.sample_rate) {
            return Err(PipelineError::Config(format!(
                "speech.sample_rate {} is outside 8000–48000",
                config.speech.sample_rate
            )));
        }
        let store = Store::open(&config.cache.dir, config.cache.max_bytes)?;
        let normalizer = Normalizer::from_config(&config.text)
            .map_err(|e| PipelineError::Config(crate::report::chain(&e)))?;
        Ok(Engine {
            inner: Arc::new(Inner {
                config: config.clone(),
                normalizer,
                voices,
                store,
                locks: KeyLocks::default(),
                metrics: Metrics::default(),
            }),
        })
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    pub fn normalizer(&self) -> &Normalizer {
        &self.inner.normalizer
    }

    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    pub fn voices(&self) -> Vec<VoiceInfo> {
        self.inner.voices.infos()
    }

    /// Name of the voice used when a request names none.
    pub fn default_voice(&self) -> &str {
        &self.inner.config.speech.default_voice
    }

    fn backend(&self, voice: &str) -> Result<SharedBackend, PipelineError> {
        self.inner.voices.require(voice).map(|v| v.backend.clone()).map_err(|e| match e {
            TtsError::UnknownVoice { name, available } => PipelineError::UnknownVoice { name, available },
            other => PipelineError::Voice(other),
        })
    }

    /// `Err(UnknownVoice)` (listing the available ones) unless `voice` is configured.
    pub fn require_voice(&self, voice: &str) -> Result<(), PipelineError> {
        self.backend(voice).map(|_| ())
    }

    /// Split, normalize and compute keys. No synthesis.
    pub fn plan(
        &self,
        article_text: &str,
        voice: Option<&str>,
        format: Format,
    ) -> Result<Plan, PipelineError> {
        let voice = voice.unwrap_or(self.default_voice()).to_string();
        let backend = self.backend(&voice)?;
        let sentences = self.inner.normalizer.sentences(article_text);
        if sentences.iter().all(|s| s.spoken.trim().is_empty()) {
            return Err(PipelineError::EmptyText);
        }
        let sp = &self.inner.config.speech;
        let (rate, kbps) = (sp.sample_rate.to_string(), sp.mp3_bitrate_kbps.to_string());
        let backend_id = backend.id();
        let mut pcm_keys = Vec::with_capacity(sentences.len());
        let mut sentence_keys = Vec::with_capacity(sentences.len());
        for s in &sentences {
            let pcm = cache::key(&[PIPELINE_VERSION, "sentence-pcm", &backend_id, &rate, &s.spoken]);
            sentence_keys.push(match format {
                Format::Wav => pcm.clone(),
                Format::Mp3 => {
                    cache::key(&[PIPELINE_VERSION, "sentence", &backend_id, "mp3", &rate, &kbps, &s.spoken])
                }
            });
            pcm_keys.push(pcm);
        }
        let pauses_ms: Vec<u32> = (0..sentences.len())
            .map(|i| match sentences.get(i + 1) {
                None => 0,
                Some(next) if next.paragraph_start => sp.paragraph_pause_ms,
                Some(_) => sp.sentence_pause_ms,
            })
            .collect();
        let mut parts: Vec<String> =
            vec![PIPELINE_VERSION.into(), "article".into(), voice.clone(), format.ext().into(), rate, kbps];
        for (i, s) in sentences.iter().enumerate() {
            parts.push(format!("{}|{}|{}|{}", pcm_keys[i], s.span.start, s.span.end, pauses_ms[i]));
            parts.push(s.text.clone());
        }
        let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
        Ok(Plan { key: cache::key(&refs), voice, format, sentences, sentence_keys, pcm_keys, pauses_ms })
    }

    /// Path of a cached object, if present; `key` must be 64 lowercase hex.
    pub fn cached(&self, key: &str, ext: &str) -> Option<PathBuf> {
        self.inner.store.get(key, ext)
    }

    /// The levelled PCM of sentence `index`, from the cache or synthesized
    /// once (single-flight). Returns whether it was synthesized.
    async fn pcm(&self, plan: &Plan, index: usize) -> Result<(Pcm, bool), PipelineError> {
        let key = &plan.pcm_keys[index];
        if let Some(pcm) = self.read_pcm(key).await? {
            self.inner.metrics.cache_hits.fetch_add(1, Ordering::Relaxed);
            return Ok((pcm, false));
        }
        let _guard = self.inner.locks.lock(key).await;
        if let Some(pcm) = self.read_pcm(key).await? {
            self.inner.metrics.cache_hits.fetch_add(1, Ordering::Relaxed);
            return Ok((pcm, false));
        }
        self.inner.metrics.cache_misses.fetch_add(1, Ordering::Relaxed);
        let sentence = &plan.sentences[index];
        let rate = self.inner.config.speech.sample_rate;
        let pcm = if sentence.spoken.trim().is_empty() {
            Pcm { sample_rate: rate, samples: Vec::new() }
        } else {
            let backend = self.backend(&plan.voice)?;
            let m = &self.inner.metrics;
            let started = Instant::now();
            let in_flight = InFlight::new(&m.in_flight);
            let result = crate::tts::synthesize_long(backend.as_ref(), &sentence.spoken, rate).await;
            drop(in_flight);
            m.syntheses.fetch_add(1, Ordering::Relaxed);
            m.synthesis_micros.fetch_add(started.elapsed().as_micros() as u64, Ordering::Relaxed);
            let raw = result.map_err(|e| match e {
                TtsError::Unavailable(m) => PipelineError::VoiceUnavailable(m),
                TtsError::Timeout(_) => PipelineError::Timeout { index, sentence: sentence.text.clone() },
                other => PipelineError::Backend {
                    index,
                    sentence: sentence.text.clone(),
                    message: other.to_string(),
                },
            })?;
            let mut pcm = raw;
            audio::level(&mut pcm);
            pcm
        };
        // Encoding and the synced write happen off the async threads.
        let (engine, k) = (self.clone(), key.clone());
        let pcm = blocking(move || -> Result<Pcm, PipelineError> {
            engine.inner.store.put(&k, "wav", &audio::encode_wav(&pcm)?)?;
            Ok(pcm)
        })
        .await?;
        tracing::debug!(index, key = %key, ms = pcm.duration_ms(), "sentence synthesized");
        Ok((pcm, true))
    }

    /// A cached sentence PCM, read and decoded off the async threads.
    async fn read_pcm(&self, key: &str) -> Result<Option<Pcm>, PipelineError> {
        let (engine, key) = (self.clone(), key.to_string());
        blocking(move || match engine.inner.store.read(&key, "wav")? {
            None => Ok(None),
            Some(bytes) => match audio::decode(&bytes) {
                Ok(p) => Ok(Some(p)),
                Err(e) => {
                    tracing::warn!(key, error = %e, "unreadable cached sentence; synthesizing again");
                    Ok(None)
                }
            },
        })
        .await
    }

    /// Sentence `index`'s audio in the plan's format if cached (counted as
    /// a cache hit); `None` otherwise or for an index out of range.
    pub fn cached_sentence(&self, plan: &Plan, index: usize) -> Option<SentenceAudio> {
        let key = plan.sentence_keys.get(index)?;
        let pcm_key = plan.pcm_keys.get(index)?;
        let path = self.inner.store.get(key, plan.format.ext())?;
        self.inner.metrics.cache_hits.fetch_add(1, Ordering::Relaxed);
        // Exact from the sentence's PCM (a 44-byte header, then 16-bit
        // samples) when cached, else estimated from the constant bitrate.
        let rate = self.inner.config.speech.sample_rate as u64;
        let kbps = self.inner.config.speech.mp3_bitrate_kbps as u64;
        let duration_ms = match self.inner.store.path(pcm_key, "wav").map(std::fs::metadata) {
            Some(Ok(m)) => m.len().saturating_sub(44) / 2 * 1000 / rate,
            _ => std::fs::metadata(&path).map(|m| m.len() * 8 / kbps).unwrap_or(0),
        };
        Some(SentenceAudio { key: key.clone(), path, duration_ms })
    }

    /// One sentence's audio in the plan's format, from the cache or
    /// synthesized once (single-flight per key).
    pub async fn sentence(&self, plan: &Plan, index: usize) -> Result<SentenceAudio, PipelineError> {
        let len = plan.sentences.len();
        if index >= len || plan.sentence_keys.len() != len || plan.pcm_keys.len() != len {
            return Err(PipelineError::NoSuchSentence { index, len });
        }
        if let Some(cached) = self.cached_sentence(plan, index) {
            return Ok(cached);
        }
        let key = plan.sentence_keys[index].clone();
        let ext = plan.format.ext();
        let kbps = self.inner.config.speech.mp3_bitrate_kbps;
        // For WAV the sentence object is the PCM object itself, which
        // `pcm` locks.
        let _guard = if plan.format == Format::Wav { None } else { Some(self.inner.locks.lock(&key).await) };
        let (pcm, _) = self.pcm(plan, index).await?;
        let duration_ms = pcm.duration_ms();
        let path = match self.inner.store.get(&key, ext) {
            Some(p) => p,
            // Evicted meanwhile (or never stored): store it again, off the
            // async threads.
            None => {
                let (engine, k, format) = (self.clone(), key.clone(), plan.format);
                blocking(move || {
                    Ok(engine.inner.store.put(&k, format.ext(), &audio::encode(&pcm, format, kbps)?)?)
                })
                .await?
            }
        };
        Ok(SentenceAudio { key, path, duration_ms })
    }

    /// The whole article: audio and timings in the cache under `plan.key`
    /// (single-flight; nothing partial is cached). `on_progress(done)` is
    /// called after each sentence.
    pub async fn render(
        &self,
        plan: &Plan,
        on_progress: &(dyn Fn(usize) + Send + Sync),
    ) -> Result<Rendered, PipelineError> {
        let n = plan.sentences.len();
        if plan.sentence_keys.len() != n || plan.pcm_keys.len() != n || plan.pauses_ms.len() != n {
            return Err(PipelineError::Internal(
                "inconsistent plan (per-sentence lists differ in length)".into(),
            ));
        }
        if let Some(r) = self.cached_render(plan) {
            on_progress(plan.sentences.len());
            return Ok(r);
        }
        let _guard = self.inner.locks.lock(&plan.key).await;
        if let Some(r) = self.cached_render(plan) {
            on_progress(plan.sentences.len());
            return Ok(r);
        }
        let concurrency = self.backend(&plan.voice)?.max_concurrency().max(1);
        let mut done = 0;
        let mut synthesized = 0;
        let mut pcms = Vec::with_capacity(plan.sentences.len());
        let mut stream =
            futures::stream::iter(0..plan.sentences.len()).map(|i| self.pcm(plan, i)).buffered(concurrency);
        while let Some(result) = stream.next().await {
            let (pcm, fresh) = result?;
            synthesized += fresh as usize;
            pcms.push(pcm);
            done += 1;
            on_progress(done);
        }
        drop(stream);
        let (engine, plan_owned) = (self.clone(), plan.clone());
        let (audio_path, timings_path, duration_ms) =
            blocking(move || engine.assemble(&plan_owned, pcms)).await?;
        Ok(Rendered {
            key: plan.key.clone(),
            audio: audio_path,
            timings: timings_path,
            from_cache: false,
            duration_ms,
            synthesized,
        })
    }

    /// Join, encode and store an article from its sentences' PCM: timings
    /// first, so a cached article's audio implies its timings. The sentence
    /// PCM is dropped once joined and the joined PCM once encoded, so at
    /// most two copies of the article are held at a time.
    fn assemble(&self, plan: &Plan, pcms: Vec<Pcm>) -> Result<(PathBuf, PathBuf, u64), PipelineError> {
        let rate = self.inner.config.speech.sample_rate;
        let segments: Vec<Segment<'_>> =
            pcms.iter().zip(&plan.pauses_ms).map(|(pcm, &p)| Segment { pcm, pause_after_ms: p }).collect();
        let joined = audio::join(&segments, rate);
        drop(segments);
        drop(pcms);
        let duration_ms = joined.pcm.duration_ms();
        let encoded = audio::encode(&joined.pcm, plan.format, self.inner.config.speech.mp3_bitrate_kbps)?;
        drop(joined.pcm);
        let spans = joined.spans;
        let timings = Timings {
            key: plan.key.clone(),
            voice: plan.voice.clone(),
            format: plan.format,
            duration_ms,
            sentences: plan
                .sentences
                .iter()
                .zip(&spans)
                .enumerate()
                .map(|(index, (s, span))| TimedSentence {
                    index,
                    text: s.text.clone(),
                    spoken: s.spoken.clone(),
                    start_byte: s.span.start,
                    end_byte: s.span.end,
                    start_ms: span.start_ms,
                    end_ms: span.end_ms,
                    paragraph_start: s.paragraph_start,
                    audio_key: plan.sentence_keys[index].clone(),
                })
                .collect(),
        };
        let json = serde_json::to_vec_pretty(&timings).map_err(|e| PipelineError::Internal(e.to_string()))?;
        let timings_path = self.inner.store.put(&plan.key, "json", &json)?;
        let audio_path = self.inner.store.put(&plan.key, plan.format.ext(), &encoded)?;
        Ok((audio_path, timings_path, timings.duration_ms))
    }

    /// The article's timings, when cached.
    pub fn timings(&self, key: &str) -> Option<Timings> {
        let bytes = self.inner.store.read(key, "json").ok()??;
        serde_json::from_slice(&bytes).ok()
    }

    /// The article of `plan` if its audio and readable timings are cached
    /// (counted as a cache hit).
    pub fn cached_render(&self, plan: &Plan) -> Option<Rendered> {
        let audio = self.inner.store.get(&plan.key, plan.format.ext())?;
        let timings = self.inner.store.get(&plan.key, "json")?;
        let t = self.timings(&plan.key)?;
        self.inner.metrics.cache_hits.fetch_add(1, Ordering::Relaxed);
        Some(Rendered {
            key: plan.key.clone(),
            audio,
            timings,
            from_cache: true,
            duration_ms: t.duration_ms,
            synthesized: 0,
        })
    }
}

/// Counts a synthesis in flight; decrements even when the request is
/// cancelled (its future dropped) mid-synthesis.
struct InFlight<'a>(&'a AtomicU64);

impl<'a> InFlight<'a> {
    fn new(counter: &'a AtomicU64) -> Self {
        counter.fetch_add(1, Ordering::Relaxed);
        InFlight(counter)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Run blocking work (file I/O, encoding) on the blocking thread pool.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, PipelineError> + Send + 'static,
) -> Result<T, PipelineError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| PipelineError::Internal(format!("worker thread failed: {e}")))?
}
