//! The pipeline: article text → [`Plan`] (sentences, spoken forms, keys,
//! budgets checked) → each sentence's audio object from the cache or
//! synthesized once (levelled, encoded once) → the article assembled from
//! those objects and pre-encoded pauses, streamed to a temporary file and
//! stored with its timings.
//!
//! [`Engine`] is what the CLI and the HTTP server use. Cache objects (see
//! [`plan`] for the key recipes):
//! * sentence audio `{sentence key}.{mp3|wav}`: the object a player plays
//!   for one sentence, and the building block of the article (an MP3
//!   sentence's frames are copied into the article, never re-encoded);
//! * the article `{key}.{ext}` plus its timings `{key}.json`;
//! * plans `plans/…/{key}.json`, so any instance (and any restart) can
//!   answer a plan's sentence URLs.
//!
//! Memory per render is bounded: sentences flow through a window of eight
//! per synthesis slot of the backend (at most 64) and are appended to the
//! article file in order, so a three-hour article needs no more memory than
//! a short one. When a [`Job`]'s cancel token fires (or a sentence fails)
//! no further sentence starts; those under way finish and stay cached, and
//! a render returns only when every synthesis it started has ended.

mod plan;
mod render;
mod timings;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

pub use crate::audio::Format;
use crate::cache::{Cache, CacheError, CacheKey, Class, Ext, KeyLocks, Name, Object, Payload};
use crate::config::Config;
use crate::text::Normalizer;
pub use crate::tts::VoiceInfo;
use crate::tts::{SharedBackend, TtsError, VoiceRegistry};
pub use plan::{PIPELINE_VERSION, Plan, PlannedSentence};
pub use timings::{TimedSentence, Timings};
pub use tokio_util::sync::CancellationToken;

/// Errors of the pipeline, as the CLI and server report them.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("the article has no text to read")]
    EmptyText,
    #[error("the article is too long: {0}")]
    TooLong(String),
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
    #[error("cancelled")]
    Cancelled,
    // Transparent: the inner error says what failed; a prefix plus the
    // inner error as source would print it twice in a cause chain.
    #[error(transparent)]
    Audio(#[from] crate::audio::AudioError),
    #[error(transparent)]
    Cache(#[from] CacheError),
    #[error("bad configuration: {0}")]
    Config(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl PipelineError {
    /// Out of storage: the disk is full or the cache cannot make room.
    pub fn is_storage_full(&self) -> bool {
        match self {
            PipelineError::Cache(c) => c.is_full(),
            PipelineError::Audio(crate::audio::AudioError::Io { error, .. }) => {
                error.raw_os_error() == Some(28) || error.kind() == std::io::ErrorKind::StorageFull
            }
            _ => false,
        }
    }

    /// True for errors caused by the request or the configuration rather
    /// than by the machine (CLI exit code 2). The HTTP layer maps each
    /// variant to its own status instead (`server::error`).
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            PipelineError::EmptyText
                | PipelineError::TooLong(_)
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

/// How a render or sentence job runs.
#[derive(Clone, Default)]
pub struct Job {
    /// Who the objects are kept for (editors' pre-generation outlives visitors' traffic).
    pub class: Option<Class>,
    /// Fires to stop the job (a timeout, a client gone, shutdown).
    pub cancel: CancellationToken,
    /// Called with the number of sentences done so far.
    pub progress: Option<Arc<dyn Fn(usize) + Send + Sync>>,
}

impl Job {
    /// A job writing pre-generated (editor) objects.
    pub fn pregenerate() -> Job {
        Job { class: Some(Class::Pregenerated), ..Job::default() }
    }

    pub fn class(&self) -> Class {
        self.class.unwrap_or(Class::OnDemand)
    }

    pub fn with_cancel(mut self, cancel: CancellationToken) -> Job {
        self.cancel = cancel;
        self
    }

    pub fn with_progress(mut self, f: impl Fn(usize) + Send + Sync + 'static) -> Job {
        self.progress = Some(Arc::new(f));
        self
    }

    fn check(&self) -> Result<(), PipelineError> {
        if self.cancel.is_cancelled() { Err(PipelineError::Cancelled) } else { Ok(()) }
    }
}

/// One sentence's audio object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentenceAudio {
    pub key: CacheKey,
    pub duration_ms: u64,
    /// It was synthesized by this call.
    pub synthesized: bool,
}

/// A rendered article in the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub key: CacheKey,
    pub format: Format,
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
    cache: Cache,
    /// Shared with the engines [`Engine::reload`] makes, like the counters.
    locks: Arc<KeyLocks>,
    metrics: Arc<Metrics>,
}

impl Engine {
    /// Build from configuration: voices from `speech.voices_dir`, the cache
    /// from `[cache]`.
    pub fn new(config: &Config) -> Result<Engine, PipelineError> {
        let voices = VoiceRegistry::load_with(
            &config.speech.voices_dir,
            &crate::tts::Runtime::from_config(&config.speech),
        )
        .map_err(PipelineError::Voice)?;
        Engine::with_voices(config, voices)
    }

    /// Build with an explicit voice registry.
    pub fn with_voices(config: &Config, voices: VoiceRegistry) -> Result<Engine, PipelineError> {
        let cache = Cache::open(&config.cache)?;
        Engine::with_parts(config, voices, cache)
    }

    /// Build with an explicit voice registry and cache.
    pub fn with_parts(config: &Config, voices: VoiceRegistry, cache: Cache) -> Result<Engine, PipelineError> {
        crate::audio::check_bitrate(config.speech.mp3_bitrate_kbps)
            .map_err(|e| PipelineError::Config(e.to_string()))?;
        if !(8000..=48000).contains(&config.speech.sample_rate) {
            return Err(PipelineError::Config(format!(
                "speech.sample_rate {} is outside 8000–48000",
                config.speech.sample_rate
            )));
        }
        let normalizer = Normalizer::with_lexicon_files((&config.text).into(), &config.text.lexicons)
            .map_err(|e| PipelineError::Config(crate::report::chain(&e)))?;
        Ok(Engine {
            inner: Arc::new(Inner {
                config: config.clone(),
                normalizer,
                voices,
                cache,
                locks: Arc::default(),
                metrics: Arc::default(),
            }),
        })
    }

    /// A new engine with the voices and lexicons read again from the
    /// configuration (`speech.voices_dir`, `text.lexicons`), sharing this
    /// one's cache, per-key locks and counters; this one is unchanged, so a
    /// bad file leaves the service as it was.
    pub fn reload(&self) -> Result<Engine, PipelineError> {
        let config = &self.inner.config;
        let voices = VoiceRegistry::load_with(
            &config.speech.voices_dir,
            &crate::tts::Runtime::from_config(&config.speech),
        )
        .map_err(PipelineError::Voice)?;
        let normalizer = Normalizer::with_lexicon_files((&config.text).into(), &config.text.lexicons)
            .map_err(|e| PipelineError::Config(e.to_string()))?;
        Ok(Engine {
            inner: Arc::new(Inner {
                config: config.clone(),
                normalizer,
                voices,
                cache: self.inner.cache.clone(),
                locks: Arc::clone(&self.inner.locks),
                metrics: Arc::clone(&self.inner.metrics),
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

    pub fn cache(&self) -> &Cache {
        &self.inner.cache
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

    /// The daily budgets of `voice` (none for an unknown voice).
    pub fn voice_budget(&self, voice: &str) -> Option<crate::tts::Budget> {
        self.inner.voices.get(voice).map(|v| v.budget.clone())
    }

    /// Spoken characters of the sentences of `plan` whose audio is not
    /// cached: what synthesizing it would send to the voice's engine.
    pub async fn uncached_chars(&self, plan: &Plan) -> Result<u64, PipelineError> {
        let ext: Ext = plan.format().into();
        let mut total = 0;
        for s in plan.sentences() {
            if self.inner.cache.locate(&s.key, ext).await?.is_none() {
                total += s.spoken.chars().count() as u64;
            }
        }
        Ok(total)
    }

    /// `Err(UnknownVoice)` (listing the available ones) unless `voice` is configured.
    pub fn require_voice(&self, voice: &str) -> Result<(), PipelineError> {
        self.backend(voice).map(|_| ())
    }

    /// Split, normalize, key and check the budgets. No synthesis.
    pub fn plan(
        &self,
        article_text: &str,
        voice: Option<&str>,
        format: Format,
    ) -> Result<Plan, PipelineError> {
        let voice = voice.unwrap_or(self.default_voice()).to_string();
        let backend = self.backend(&voice)?;
        let sentences = self.inner.normalizer.sentences(article_text);
        let backend_id = backend.id();
        Plan::new(
            sentences,
            plan::Settings {
                voice: &voice,
                backend_id: &backend_id,
                format,
                speech: &self.inner.config.speech,
            },
        )
    }

    /// Keep `plan` in the store (so its sentence URLs work on any instance
    /// and after a restart).
    pub async fn save_plan(&self, plan: &Plan) -> Result<(), PipelineError> {
        let name = Name::new(Class::Plan, plan.key(), Ext::Json);
        if self.inner.cache.head(&name).await?.is_some() {
            return Ok(());
        }
        let json = serde_json::to_vec(plan).map_err(|e| PipelineError::Internal(e.to_string()))?;
        self.inner.cache.primary().put(&name, Payload::Bytes(json.into())).await?;
        Ok(())
    }

    /// A plan kept by [`Engine::save_plan`] (here or on another instance).
    pub async fn load_plan(&self, key: &CacheKey) -> Result<Option<Plan>, PipelineError> {
        let name = Name::new(Class::Plan, key, Ext::Json);
        let Some(obj) = self.inner.cache.get(&name, None).await? else { return Ok(None) };
        let bytes = obj.bytes().await?;
        match serde_json::from_slice::<Plan>(&bytes) {
            Ok(p) if p.key() == key && p.is_consistent() => Ok(Some(p)),
            _ => {
                tracing::warn!(key = %key, "stored plan is damaged; ignoring it");
                Ok(None)
            }
        }
    }

    /// A cached audio or timings object (pre-generated copy first), with
    /// an optional byte range.
    pub async fn open(
        &self,
        key: &CacheKey,
        ext: Ext,
        range: Option<std::ops::Range<u64>>,
    ) -> Result<Option<Object>, PipelineError> {
        Ok(self.inner.cache.find(key, ext, range).await?)
    }

    /// The article's timings, when cached.
    pub async fn timings(&self, key: &CacheKey) -> Result<Option<Timings>, PipelineError> {
        let Some(bytes) = self.inner.cache.read(key, Ext::Json).await? else { return Ok(None) };
        Ok(serde_json::from_slice(&bytes).ok())
    }

    /// The article of `plan` if its audio and readable timings are cached
    /// (counted as a cache hit).
    pub async fn cached_render(&self, plan: &Plan) -> Result<Option<Rendered>, PipelineError> {
        let cache = &self.inner.cache;
        if cache.locate(plan.key(), plan.format().into()).await?.is_none() {
            return Ok(None);
        }
        let Some(t) = self.timings(plan.key()).await? else { return Ok(None) };
        self.inner.metrics.cache_hits.fetch_add(1, Ordering::Relaxed);
        Ok(Some(Rendered {
            key: plan.key().clone(),
            format: plan.format(),
            from_cache: true,
            duration_ms: t.duration_ms,
            synthesized: 0,
        }))
    }

    /// Sentence `index`'s audio if cached (counted as a cache hit); `None`
    /// otherwise or for an index out of range.
    pub async fn cached_sentence(
        &self,
        plan: &Plan,
        index: usize,
    ) -> Result<Option<SentenceAudio>, PipelineError> {
        let Some(s) = plan.get(index) else { return Ok(None) };
        let Some(bytes) = self.inner.cache.read(&s.key, plan.format().into()).await? else { return Ok(None) };
        self.inner.metrics.cache_hits.fetch_add(1, Ordering::Relaxed);
        let duration_ms = render::duration_ms(&bytes, plan.format()).unwrap_or(0);
        Ok(Some(SentenceAudio { key: s.key.clone(), duration_ms, synthesized: false }))
    }

    /// Make a cached article (audio, timings and sentences) pre-generated,
    /// so eviction keeps it. Returns false when the article is not cached.
    pub async fn promote(&self, plan: &Plan) -> Result<bool, PipelineError> {
        let cache = &self.inner.cache;
        let ext: Ext = plan.format().into();
        if !cache.promote(plan.key(), Ext::Json).await? || !cache.promote(plan.key(), ext).await? {
            return Ok(false);
        }
        for s in plan.sentences() {
            cache.promote(&s.key, ext).await?;
        }
        Ok(true)
    }
}

/// Counts a synthesis in flight; decrements even when the future is
/// dropped mid-synthesis.
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

/// Run blocking work (file I/O, encoding) on the blocking thread pool; a
/// panic there is an error for this job only.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, PipelineError> + Send + 'static,
) -> Result<T, PipelineError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| PipelineError::Internal(format!("worker thread failed: {e}")))?
}
