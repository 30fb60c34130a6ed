//! Voice files and the backend factory.
//!
//! A voice file `voices/NAME.toml` names a voice and configures one
//! backend:
//!
//! ```toml
//! name = "vi-espeak"            # optional; defaults to the file stem
//! description = "…"
//! # Optional, for paid engines (the HTTP service enforces them):
//! # max_chars_per_day = 200000            # all clients together, per UTC day
//! # max_chars_per_client_per_day = 5000   # one client, per UTC day
//! # fallback = "vi-espeak"                # read with this voice past a budget
//! [backend]
//! type = "espeak"               # which implementation
//! voice = "vi"                  # …and its parameters
//! rate = 165
//! ```
//!
//! [`BackendSpec`] is the one place that maps `type` to an implementation:
//! add a variant (with its own `deny_unknown_fields` spec struct) and an arm
//! in [`BackendSpec::build`]. Unknown fields anywhere are an error naming
//! the file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::command::{CommandBackend, CommandSpec};
use super::espeak::{EspeakBackend, EspeakSpec};
use super::piper::{PiperBackend, PiperSpec};
use super::pool::{Pool, Runtime};
use super::remote;
use super::{SharedBackend, TtsError};

/// The contents of one voice file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VoiceFile {
    pub name: Option<String>,
    #[serde(default)]
    pub description: String,
    /// Characters sent to the engine per UTC day, all clients together.
    pub max_chars_per_day: Option<u64>,
    /// Characters sent to the engine per UTC day for one client.
    pub max_chars_per_client_per_day: Option<u64>,
    /// The voice that reads instead once a budget is spent (else 429).
    pub fallback: Option<String>,
    pub backend: BackendSpec,
}

/// A voice's daily budgets (see [`VoiceFile`]); the HTTP service counts
/// the spoken characters it sends to the engine against them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Budget {
    pub max_chars_per_day: Option<u64>,
    pub max_chars_per_client_per_day: Option<u64>,
    pub fallback: Option<String>,
}

impl Budget {
    /// True when the voice has a limit to count against.
    pub fn is_limited(&self) -> bool {
        self.max_chars_per_day.is_some() || self.max_chars_per_client_per_day.is_some()
    }
}

/// Which engine a voice uses, with its parameters.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum BackendSpec {
    Espeak(EspeakSpec),
    Command(CommandSpec),
    Piper(PiperSpec),
    Openai(remote::OpenAiConfig),
    Fpt(remote::FptConfig),
    Viettel(remote::ViettelConfig),
    Google(remote::GoogleConfig),
    Azure(remote::AzureConfig),
}

impl BackendSpec {
    /// The `type` string of this spec.
    pub fn type_name(&self) -> &'static str {
        match self {
            BackendSpec::Espeak(_) => "espeak",
            BackendSpec::Command(_) => "command",
            BackendSpec::Piper(_) => "piper",
            BackendSpec::Openai(_) => "openai",
            BackendSpec::Fpt(_) => "fpt",
            BackendSpec::Viettel(_) => "viettel",
            BackendSpec::Google(_) => "google",
            BackendSpec::Azure(_) => "azure",
        }
    }

    /// Build the backend; `base_dir` resolves relative paths in the spec.
    pub fn build(&self, base_dir: &Path) -> Result<SharedBackend, TtsError> {
        self.build_with(base_dir, None)
    }

    /// Build the backend, eSpeak NG voices on `pool` when given.
    pub fn build_with(&self, base_dir: &Path, pool: Option<&Arc<Pool>>) -> Result<SharedBackend, TtsError> {
        Ok(match self {
            BackendSpec::Espeak(spec) => Arc::new(EspeakBackend::with_pool(spec.clone(), pool.cloned())?),
            BackendSpec::Command(spec) => Arc::new(CommandBackend::new(spec.clone(), base_dir)?),
            BackendSpec::Piper(spec) => Arc::new(PiperBackend::new(spec.clone(), base_dir)?),
            BackendSpec::Openai(spec) => Arc::new(remote::OpenAiBackend::new(spec.clone())?),
            BackendSpec::Fpt(spec) => Arc::new(remote::FptBackend::new(spec.clone())?),
            BackendSpec::Viettel(spec) => Arc::new(remote::ViettelBackend::new(spec.clone())?),
            BackendSpec::Google(spec) => Arc::new(remote::GoogleBackend::new(spec.clone())?),
            BackendSpec::Azure(spec) => Arc::new(remote::AzureBackend::new(spec.clone())?),
        })
    }
}

/// A voice ready to use.
#[derive(Clone)]
pub struct Voice {
    pub name: String,
    pub description: String,
    pub backend_type: String,
    /// The file it came from (`None` for the built-in default).
    pub path: Option<PathBuf>,
    pub backend: SharedBackend,
    pub budget: Budget,
}

/// What `loa voices` and `GET /voices` show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VoiceInfo {
    pub name: String,
    pub backend: String,
    pub description: String,
    pub available: bool,
    pub problem: Option<String>,
}

/// Parse a voice file's text; `path` is only used in messages.
pub fn parse_voice(text: &str, path: &Path) -> Result<VoiceFile, TtsError> {
    toml::from_str(text)
        .map_err(|e| TtsError::BadVoiceFile { path: path.display().to_string(), message: e.to_string() })
}

/// Read one voice file and build its backend.
pub fn load_voice(path: &Path) -> Result<Voice, TtsError> {
    load_voice_with(path, None)
}

/// [`load_voice`] with eSpeak NG voices on `pool`.
pub fn load_voice_with(path: &Path, pool: Option<&Arc<Pool>>) -> Result<Voice, TtsError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| TtsError::BadVoiceFile { path: path.display().to_string(), message: e.to_string() })?;
    let file = parse_voice(&text, path)?;
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("voice").to_string();
    let name = file.name.clone().unwrap_or(stem);
    if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c == '/') {
        return Err(TtsError::BadVoiceFile {
            path: path.display().to_string(),
            message: format!("bad voice name {name:?} (no spaces or slashes)"),
        });
    }
    let base = path.parent().unwrap_or(Path::new("."));
    let backend = file.backend.build_with(base, pool).map_err(|e| match e {
        TtsError::BadVoiceFile { .. } => e,
        other => TtsError::BadVoiceFile { path: path.display().to_string(), message: other.to_string() },
    })?;
    Ok(Voice {
        name,
        description: file.description,
        backend_type: file.backend.type_name().to_string(),
        path: Some(path.to_path_buf()),
        backend,
        budget: Budget {
            max_chars_per_day: file.max_chars_per_day,
            max_chars_per_client_per_day: file.max_chars_per_client_per_day,
            fallback: file.fallback,
        },
    })
}

/// All configured voices by name.
#[derive(Clone, Default)]
pub struct VoiceRegistry {
    voices: BTreeMap<String, Voice>,
}

/// Name of the built-in offline voice, present even without a voices dir.
pub const BUILTIN_VOICE: &str = "vi-espeak";

impl VoiceRegistry {
    /// Load every `*.toml` in `dir` (sorted; an empty `dir` is none). A bad
    /// file or two files with one name is an error. The built-in `vi-espeak` voice is added when
    /// no file defines it, so a missing directory still gives one voice.
    pub fn load(dir: &Path) -> Result<VoiceRegistry, TtsError> {
        VoiceRegistry::load_with(dir, &Runtime::in_process())
    }

    /// [`load`](Self::load) with eSpeak NG voices synthesized as `runtime`
    /// says (one pool of worker processes shared by all of them).
    pub fn load_with(dir: &Path, runtime: &Runtime) -> Result<VoiceRegistry, TtsError> {
        let pool = runtime.pool();
        let mut reg = VoiceRegistry::default();
        let mut files = Vec::new();
        match std::fs::read_dir(dir) {
            Ok(entries) => {
                for entry in entries.flatten() {
                    let p = entry.path();
                    if p.extension().is_some_and(|e| e == "toml") && p.is_file() {
                        files.push(p);
                    }
                }
            }
            // An empty path is "no voices directory" (the config's default
            // when none exists): the built-in voice, nothing to warn about.
            Err(_) if dir.as_os_str().is_empty() => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                tracing::warn!(dir = %dir.display(), "voices directory not found; using the built-in voice only");
            }
            Err(e) => {
                return Err(TtsError::BadVoiceFile {
                    path: dir.display().to_string(),
                    message: e.to_string(),
                });
            }
        }
        files.sort();
        for path in files {
            let voice = load_voice_with(&path, pool.as_ref())?;
            if let Some(prev) = reg.voices.get(&voice.name) {
                return Err(TtsError::BadVoiceFile {
                    path: path.display().to_string(),
                    message: format!(
                        "voice name {:?} is already defined in {}",
                        voice.name,
                        prev.path.as_deref().unwrap_or(Path::new("?")).display()
                    ),
                });
            }
            reg.voices.insert(voice.name.clone(), voice);
        }
        if !reg.voices.contains_key(BUILTIN_VOICE) {
            let backend = EspeakBackend::with_pool(EspeakSpec::default(), pool.clone())?;
            reg.voices.insert(
                BUILTIN_VOICE.into(),
                Voice {
                    name: BUILTIN_VOICE.into(),
                    description: "Vietnamese, eSpeak NG (offline, built in)".into(),
                    backend_type: "espeak".into(),
                    path: None,
                    backend: Arc::new(backend),
                    budget: Budget::default(),
                },
            );
        }
        reg.check_fallbacks()?;
        Ok(reg)
    }

    /// Every `fallback` names another configured voice, and following them
    /// never comes back to where it started.
    fn check_fallbacks(&self) -> Result<(), TtsError> {
        for voice in self.voices.values() {
            let mut seen = vec![voice.name.as_str()];
            let mut at = voice;
            while let Some(next) = at.budget.fallback.as_deref() {
                let bad = |message: String| TtsError::BadVoiceFile {
                    path: voice.path.as_deref().unwrap_or(Path::new("?")).display().to_string(),
                    message,
                };
                let Some(v) = self.voices.get(next) else {
                    return Err(bad(format!(
                        "fallback voice {next:?} is not configured (voices: {})",
                        self.names().join(", ")
                    )));
                };
                if seen.contains(&next) {
                    return Err(bad(format!(
                        "fallback voices go round in a circle: {} → {next}",
                        seen.join(" → ")
                    )));
                }
                seen.push(next);
                at = v;
            }
        }
        Ok(())
    }

    /// Add or replace a voice (tests, embedding).
    pub fn insert(&mut self, voice: Voice) {
        self.voices.insert(voice.name.clone(), voice);
    }

    pub fn get(&self, name: &str) -> Option<&Voice> {
        self.voices.get(name)
    }

    /// Like [`get`](Self::get) but an unknown name is an error listing the
    /// available voices.
    pub fn require(&self, name: &str) -> Result<&Voice, TtsError> {
        self.voices
            .get(name)
            .ok_or_else(|| TtsError::UnknownVoice { name: name.into(), available: self.names().join(", ") })
    }

    pub fn names(&self) -> Vec<String> {
        self.voices.keys().cloned().collect()
    }

    /// Every voice with its availability.
    pub fn infos(&self) -> Vec<VoiceInfo> {
        self.voices
            .values()
            .map(|v| {
                let problem = v.backend.check().err().map(|e| e.to_string());
                VoiceInfo {
                    name: v.name.clone(),
                    backend: v.backend_type.clone(),
                    description: v.description.clone(),
                    available: problem.is_none(),
                    problem,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_field_is_an_error_naming_the_file() {
        let text = "description = \"x\"\n[backend]\ntype = \"espeak\"\nrat = 100\n";
        let err = parse_voice(text, Path::new("voices/bad.toml")).unwrap_err().to_string();
        assert!(err.contains("voices/bad.toml") && err.contains("rat"), "{err}");
        let text = "colour = 1\n[backend]\ntype = \"espeak\"\n";
        let err = parse_voice(text, Path::new("v.toml")).unwrap_err().to_string();
        assert!(err.contains("colour"), "{err}");
    }

    #[test]
    fn budgets_parse_at_the_voice_level() {
        let text = "max_chars_per_day = 1000\nmax_chars_per_client_per_day = 10\nfallback = \"vi-espeak\"\n[backend]\ntype = \"espeak\"\n";
        let f = parse_voice(text, Path::new("v.toml")).unwrap();
        assert_eq!((f.max_chars_per_day, f.max_chars_per_client_per_day), (Some(1000), Some(10)));
        assert_eq!(f.fallback.as_deref(), Some("vi-espeak"));
        let err = parse_voice("[backend]\ntype = \"espeak\"\nmax_chars_per_day = 5\n", Path::new("v.toml"));
        assert!(err.is_err(), "budgets belong to the voice, not its backend");
    }

    #[test]
    fn fallbacks_must_exist_and_not_loop() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, fallback: &str| {
            std::fs::write(
                dir.path().join(format!("{name}.toml")),
                format!("fallback = \"{fallback}\"\n[backend]\ntype = \"espeak\"\n"),
            )
            .unwrap();
        };
        write("a", "nobody");
        let err = VoiceRegistry::load(dir.path()).err().expect("unknown fallback").to_string();
        assert!(err.contains("nobody") && err.contains("a.toml"), "{err}");
        write("a", "b");
        write("b", "a");
        let err = VoiceRegistry::load(dir.path()).err().expect("a loop").to_string();
        assert!(err.contains("circle"), "{err}");
        write("b", "vi-espeak");
        let reg = VoiceRegistry::load(dir.path()).unwrap();
        assert_eq!(reg.get("a").unwrap().budget.fallback.as_deref(), Some("b"));
    }

    #[test]
    fn unknown_type_is_an_error() {
        let err = parse_voice("[backend]\ntype = \"sam\"\n", Path::new("v.toml")).unwrap_err().to_string();
        assert!(err.contains("sam"), "{err}");
    }

    #[test]
    fn espeak_spec_parses_with_defaults() {
        let f = parse_voice("[backend]\ntype = \"espeak\"\nrate = 150\n", Path::new("v.toml")).unwrap();
        match f.backend {
            BackendSpec::Espeak(s) => {
                assert_eq!(s.rate, 150);
                assert_eq!(s.voice, "vi");
            }
            other => panic!("wrong spec {other:?}"),
        }
    }
}
