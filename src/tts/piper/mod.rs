//! The `piper` backend: Piper voices (VITS models exported to ONNX) run
//! inside the loa process.
//!
//! ```toml
//! [backend]
//! type = "piper"
//! model = "/opt/piper/vi_VN-vais1000-medium.onnx"   # MODEL.onnx.json beside it, or config = …
//! onnxruntime = "/opt/onnxruntime/libonnxruntime.so.1.32.0"  # else ORT_DYLIB_PATH
//! espeak_library = "/opt/piper-tts/piper/espeakbridge.so"    # else LOA_PIPER_ESPEAK_LIBRARY
//! ```
//!
//! A sentence goes the way Piper's own Python package takes it: phonemes
//! from eSpeak NG 1.52 ([`espeak_ng`]) grouped into Piper sentences and
//! mapped to ids ([`phonemize`], with the model's [`config`]), one model run
//! per Piper sentence ([`onnx`]), the audio peak-normalized and converted to
//! 16-bit like Piper does, Piper sentences joined with
//! `sentence_silence_ms` of silence. The model's predicted durations *are*
//! the audio's length, so timings are exact; models that expose their
//! per-phoneme durations keep them in [`Synthesis`].
//!
//! Loading a voice hashes the model file (once per file and process; the
//! hash goes into [`Backend::id`] with the config's hash, the eSpeak version
//! and every inference parameter). The ONNX session is created on first
//! use (a synthesis, or [`Backend::check`] as `loa voices` and the server's
//! start do) and shared by all voices on that model. A missing model or
//! config, a corrupt model or a missing library leaves the voice
//! unavailable with a message naming the file; nothing else fails.

pub mod config;
pub mod espeak_ng;
pub mod onnx;
pub mod phonemize;

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use async_trait::async_trait;
use serde::Deserialize;

use super::{Backend, TtsError};
use crate::audio::Pcm;
pub use config::ModelConfig;
pub use phonemize::{PhonemeSentence, Phonemizer};

/// Parameters of a `piper` voice file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PiperSpec {
    /// The `.onnx` model (relative paths are relative to the voice file).
    pub model: PathBuf,
    /// Its config; default: the model's path plus `.json`.
    pub config: Option<PathBuf>,
    /// Speaker of a multi-speaker model: an id or a name of its
    /// `speaker_id_map`; default: the model's default speaker.
    pub speaker: Option<Speaker>,
    /// Phoneme length (> 1 is slower); default from the model config.
    pub length_scale: Option<f32>,
    /// Generator noise; default from the model config.
    pub noise_scale: Option<f32>,
    /// Phoneme width noise; default from the model config.
    pub noise_w: Option<f32>,
    /// Silence between the Piper sentences of one loa sentence (Piper's
    /// `--sentence-silence`), in ms.
    #[serde(default)]
    pub sentence_silence_ms: u32,
    /// ONNX Runtime threads for one model run (intra-op).
    #[serde(default = "default_threads")]
    pub threads: usize,
    /// Sentences of this voice synthesized at once (runs of one model take
    /// turns; more overlaps phonemizing and converting with inference).
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// `libonnxruntime.so`; default `ORT_DYLIB_PATH`, then the system's.
    pub onnxruntime: Option<PathBuf>,
    /// eSpeak NG 1.52 library; default `LOA_PIPER_ESPEAK_LIBRARY`.
    pub espeak_library: Option<PathBuf>,
    /// Its `espeak-ng-data`; default: beside the library.
    pub espeak_data: Option<PathBuf>,
}

/// A speaker by id or by name.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Speaker {
    Id(i64),
    Name(String),
}

fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(4))
}
fn default_concurrency() -> usize {
    1
}

/// The files of a spec, resolved against the voice file's directory.
struct Paths {
    model: PathBuf,
    config: PathBuf,
    runtime: PathBuf,
    engine: Result<espeak_ng::EngineFiles, String>,
}

impl PiperSpec {
    fn paths(&self, base_dir: &Path) -> Paths {
        let resolve = |p: &Path| if p.is_absolute() { p.to_path_buf() } else { base_dir.join(p) };
        let model = resolve(&self.model);
        let config = self.config.as_deref().map(resolve).unwrap_or_else(|| {
            let mut p = model.clone().into_os_string();
            p.push(".json");
            PathBuf::from(p)
        });
        Paths {
            runtime: onnx::runtime_path(self.onnxruntime.as_deref().map(resolve).as_deref()),
            engine: espeak_ng::EngineFiles::resolve(
                self.espeak_library.as_deref().map(resolve),
                self.espeak_data.as_deref().map(resolve),
            ),
            model,
            config,
        }
    }

    /// Just the phonemizer of this voice: its model config and eSpeak NG
    /// 1.52 (no model file or ONNX Runtime needed). `base_dir` is the
    /// voice file's directory.
    pub fn phonemizer(&self, base_dir: &Path) -> Result<Phonemizer, String> {
        let paths = self.paths(base_dir);
        let config = ModelConfig::load(&paths.config)?;
        Phonemizer::new(config, paths.engine?)
    }
}

/// What loading a voice found (or why it is unavailable).
struct Ready {
    phonemizer: Phonemizer,
    model_sha256: String,
    speaker: Option<i64>,
    scales: [f32; 3],
    espeak_version: String,
}

/// A Piper voice (cheap to clone).
#[derive(Clone)]
pub struct PiperBackend {
    inner: Arc<Inner>,
}

struct Inner {
    spec: PiperSpec,
    model: PathBuf,
    runtime: PathBuf,
    ready: Result<Ready, String>,
    permits: Arc<tokio::sync::Semaphore>,
}

/// One synthesized loa sentence with what the model said about it.
#[derive(Debug, Clone)]
pub struct Synthesis {
    /// At the model's sample rate.
    pub pcm: Pcm,
    pub sentences: Vec<SynthesizedSentence>,
}

/// One Piper sentence of a [`Synthesis`].
#[derive(Debug, Clone)]
pub struct SynthesizedSentence {
    pub phonemes: Vec<String>,
    pub ids: Vec<i64>,
    /// First sample in [`Synthesis::pcm`] and length in samples.
    pub start_sample: usize,
    pub samples: usize,
    /// Samples per phoneme id (Piper's alignments), if the model gives them.
    pub id_samples: Option<Vec<u64>>,
    /// With `id_samples`: each word (phonemes between spaces and
    /// terminators) and where it sits, for word highlighting.
    pub words: Vec<WordSpan>,
}

/// One word of a [`SynthesizedSentence`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WordSpan {
    /// Its phonemes.
    pub phonemes: String,
    /// First sample, relative to the sentence, and length in samples.
    pub start_sample: u64,
    pub samples: u64,
}

/// Group phonemes into words: runs without spaces or clause terminators.
/// `per_phoneme` has BOS first and EOS last (see
/// [`Phonemizer::phoneme_samples`]).
fn words(phonemes: &[String], per_phoneme: &[u64]) -> Vec<WordSpan> {
    let mut out: Vec<WordSpan> = Vec::new();
    let mut at = per_phoneme.first().copied().unwrap_or(0);
    let mut open = false;
    for (p, &n) in phonemes.iter().zip(per_phoneme.iter().skip(1)) {
        let boundary = matches!(p.as_str(), " " | "." | "," | "?" | "!" | ":" | ";");
        if boundary {
            open = false;
        } else {
            if !open {
                out.push(WordSpan { phonemes: String::new(), start_sample: at, samples: 0 });
                open = true;
            }
            let w = out.last_mut().expect("a word is open");
            w.phonemes.push_str(p);
            w.samples += n;
        }
        at += n;
    }
    out
}

impl PiperBackend {
    /// Check the parameters; resolve files; read the config and hash the
    /// model. Bad parameters are an error (a bad voice file); missing or
    /// broken files make the voice unavailable.
    pub fn new(spec: PiperSpec, base_dir: &Path) -> Result<PiperBackend, TtsError> {
        let bad = |m: String| TtsError::Backend(m);
        if spec.threads == 0 || spec.threads > 64 || spec.concurrency == 0 || spec.concurrency > 64 {
            return Err(bad("threads and concurrency must be 1–64".into()));
        }
        for (name, v, range) in [
            ("length_scale", spec.length_scale, 0.05..=20.0),
            ("noise_scale", spec.noise_scale, 0.0..=5.0),
            ("noise_w", spec.noise_w, 0.0..=5.0),
        ] {
            if let Some(v) = v
                && !range.contains(&v)
            {
                return Err(bad(format!("piper {name} {v} is outside {}–{}", range.start(), range.end())));
            }
        }
        if spec.sentence_silence_ms > 10_000 {
            return Err(bad("piper sentence_silence_ms is over 10000".into()));
        }
        let paths = spec.paths(base_dir);
        let (model, runtime) = (paths.model.clone(), paths.runtime.clone());
        let engine = paths.engine.clone();
        let config_path = paths.config;
        let ready = engine.and_then(|engine| Self::prepare(&spec, &model, &config_path, engine));
        if let Err(e) = &ready {
            tracing::debug!(model = %model.display(), "piper voice unavailable: {e}");
        }
        let permits = Arc::new(tokio::sync::Semaphore::new(spec.concurrency));
        Ok(PiperBackend { inner: Arc::new(Inner { spec, model, runtime, ready, permits }) })
    }

    fn prepare(
        spec: &PiperSpec,
        model: &Path,
        config_path: &Path,
        engine: espeak_ng::EngineFiles,
    ) -> Result<Ready, String> {
        if !model.is_file() {
            return Err(format!("Piper model {} not found", model.display()));
        }
        let config = ModelConfig::load(config_path)?;
        let speaker = match &spec.speaker {
            _ if config.num_speakers <= 1 => None,
            None => Some(config.default_speaker_id),
            Some(Speaker::Id(id)) if (0..config.num_speakers as i64).contains(id) => Some(*id),
            Some(Speaker::Id(id)) => {
                return Err(format!(
                    "speaker {id} is out of range: {} has {} speakers",
                    config.path.display(),
                    config.num_speakers
                ));
            }
            Some(Speaker::Name(name)) => Some(*config.speaker_id_map.get(name).ok_or_else(|| {
                let names: Vec<&str> = config.speaker_id_map.keys().map(String::as_str).collect();
                format!(
                    "speaker {name:?} is not in {} (speakers: {})",
                    config.path.display(),
                    names.join(", ")
                )
            })?),
        };
        let scales = [
            spec.noise_scale.unwrap_or(config.noise_scale),
            spec.length_scale.unwrap_or(config.length_scale),
            spec.noise_w.unwrap_or(config.noise_w),
        ];
        let model_sha256 = model_hash(model)?;
        let phonemizer = Phonemizer::new(config, engine)?;
        let espeak_version = phonemizer.engine_version()?;
        Ok(Ready { phonemizer, model_sha256, speaker, scales, espeak_version })
    }

    fn ready(&self) -> Result<&Ready, TtsError> {
        self.inner.ready.as_ref().map_err(|e| TtsError::Unavailable(e.clone()))
    }

    /// The phonemizer of this voice (no model or runtime needed).
    pub fn phonemizer(&self) -> Result<&Phonemizer, TtsError> {
        self.ready().map(|r| &r.phonemizer)
    }

    fn session(&self) -> Result<Arc<onnx::Model>, TtsError> {
        let ready = self.ready()?;
        let i = &self.inner;
        onnx::model(&i.runtime, &i.model, &ready.model_sha256, i.spec.threads).map_err(TtsError::Unavailable)
    }

    /// Synthesize on the calling thread (blocking), keeping what the model
    /// says about phonemes and durations.
    pub fn synthesize_detailed(&self, spoken: &str) -> Result<Synthesis, TtsError> {
        let ready = self.ready()?;
        let phonemizer = &ready.phonemizer;
        let sentences = phonemizer.sentences(spoken).map_err(TtsError::Backend)?;
        let model = self.session()?;
        let rate = phonemizer.config.sample_rate;
        let hop = phonemizer.config.hop_length as f32;
        let silence = (rate as u64 * self.inner.spec.sentence_silence_ms as u64 / 1000) as usize;
        let mut pcm = Pcm { sample_rate: rate, samples: Vec::new() };
        let mut out = Vec::with_capacity(sentences.len());
        for (i, PhonemeSentence { phonemes, ids }) in sentences.into_iter().enumerate() {
            if i > 0 {
                pcm.samples.resize(pcm.samples.len() + silence, 0);
            }
            let inference = model.infer(&ids, ready.scales, ready.speaker).map_err(TtsError::Backend)?;
            let samples = onnx::to_i16(&inference.audio);
            // Piper's alignments: frames × hop length, truncated.
            let id_samples = inference
                .frames
                .filter(|f| f.len() == ids.len())
                .map(|f| f.iter().map(|&x| (x * hop).max(0.0) as u64).collect::<Vec<u64>>());
            let words = id_samples
                .as_deref()
                .and_then(|per_id| phonemizer.phoneme_samples(&phonemes, per_id))
                .map(|per_phoneme| words(&phonemes, &per_phoneme))
                .unwrap_or_default();
            out.push(SynthesizedSentence {
                phonemes,
                ids,
                start_sample: pcm.samples.len(),
                samples: samples.len(),
                id_samples,
                words,
            });
            pcm.samples.extend_from_slice(&samples);
        }
        Ok(Synthesis { pcm, sentences: out })
    }
}

/// A model file as hashed: path, size, modification time.
type FileStamp = (PathBuf, u64, Option<std::time::SystemTime>);

/// SHA-256 of a model file, once per (path, size, mtime) and process.
fn model_hash(path: &Path) -> Result<String, String> {
    static HASHES: OnceLock<Mutex<HashMap<FileStamp, String>>> = OnceLock::new();
    let meta =
        std::fs::metadata(path).map_err(|e| format!("cannot read Piper model {}: {e}", path.display()))?;
    let key = (path.to_path_buf(), meta.len(), meta.modified().ok());
    let hashes = HASHES.get_or_init(Default::default);
    if let Some(h) = hashes.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
        return Ok(h.clone());
    }
    use sha2::Digest;
    let mut file =
        std::fs::File::open(path).map_err(|e| format!("cannot read Piper model {}: {e}", path.display()))?;
    let mut hasher = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n =
            file.read(&mut buf).map_err(|e| format!("cannot read Piper model {}: {e}", path.display()))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    let h = hex::encode(hasher.finalize());
    hashes.lock().unwrap_or_else(|p| p.into_inner()).insert(key, h.clone());
    Ok(h)
}

#[async_trait]
impl Backend for PiperBackend {
    fn id(&self) -> String {
        let s = &self.inner.spec;
        match &self.inner.ready {
            Ok(r) => format!(
                "piper/model={}/config={}/espeak-ng={}/{}/speaker={}/scales={},{},{}/silence={}",
                r.model_sha256,
                r.phonemizer.config.sha256,
                r.espeak_version,
                r.phonemizer.config.espeak_voice,
                r.speaker.map_or("-".into(), |v| v.to_string()),
                r.scales[0],
                r.scales[1],
                r.scales[2],
                s.sentence_silence_ms
            ),
            Err(_) => format!("piper/unavailable/{}", self.inner.model.display()),
        }
    }

    fn voices(&self) -> Vec<String> {
        match &self.inner.ready {
            Ok(r) => {
                let names: Vec<String> = r.phonemizer.config.speaker_id_map.keys().cloned().collect();
                if names.is_empty() { vec![r.phonemizer.config.espeak_voice.clone()] } else { names }
            }
            Err(_) => Vec::new(),
        }
    }

    /// Loads the runtime and the model session on first call (then cached).
    fn check(&self) -> Result<(), TtsError> {
        self.session().map(|_| ())
    }

    fn max_concurrency(&self) -> usize {
        self.inner.spec.concurrency
    }

    async fn synthesize(&self, spoken: &str) -> Result<Pcm, TtsError> {
        self.ready()?;
        let permits = self.inner.permits.clone();
        let permit = permits.acquire_owned().await.map_err(|e| TtsError::Backend(e.to_string()))?;
        let this = self.clone();
        let text = spoken.to_string();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            this.synthesize_detailed(&text).map(|s| s.pcm)
        })
        .await
        .map_err(|e| TtsError::Backend(format!("piper thread failed: {e}")))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_runs_between_spaces_and_terminators() {
        let ph: Vec<String> = ["h", "i", " ", "y", "o", "u", "."].iter().map(|s| s.to_string()).collect();
        // BOS, h, i, space, y, o, u, ., EOS
        let per = [4, 10, 20, 5, 1, 2, 3, 6, 9];
        let w = words(&ph, &per);
        assert_eq!(
            w,
            vec![
                WordSpan { phonemes: "hi".into(), start_sample: 4, samples: 30 },
                WordSpan { phonemes: "you".into(), start_sample: 39, samples: 6 },
            ]
        );
    }
}
