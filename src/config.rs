//! Typed settings shared by the CLI and the server.
//!
//! Read from `config/loa.toml` (or the file given with `--config` /
//! `LOA_CONFIG`), then overridden by `LOA_*` environment variables, then by
//! command-line flags. Unknown keys are an error naming the file, so a typo
//! never silently falls back to a default.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::text::Dialect;

/// Errors while loading configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("bad config file {path}: {message}")]
    Parse { path: String, message: String },
    #[error("bad value for environment variable {var}: {message}")]
    Env { var: String, message: String },
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub cache: CacheConfig,
    pub speech: SpeechConfig,
    pub text: TextConfig,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Address to listen on.
    pub address: String,
    /// Origins allowed by CORS; `["*"]` allows any.
    pub cors_origins: Vec<String>,
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
    /// Longest accepted article text, in characters.
    pub max_text_chars: usize,
    /// Article renders running at once (and as many single-sentence jobs).
    pub synthesis_concurrency: usize,
    /// Articles waiting for synthesis before new ones get 503.
    pub queue_limit: usize,
    /// Seconds one article may take before the request gets 504 (the
    /// work stops then too).
    pub request_timeout_secs: u64,
    /// Seconds suggested to clients in `Retry-After` when busy.
    pub retry_after_secs: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CacheConfig {
    /// Directory of the content-addressed store.
    pub dir: PathBuf,
    /// Size cap in bytes (hard); least recently used on-demand entries are
    /// evicted first, pre-generated ones last.
    pub max_bytes: u64,
    /// A shared object store, `s3://bucket/prefix` (credentials and
    /// endpoint from the standard `AWS_*` variables); `dir` is then a
    /// local read-through tier capped at `local_max_bytes`.
    pub store: Option<String>,
    /// Cap of the local tier in front of `store`, in bytes.
    pub local_max_bytes: u64,
    /// Where the store's objects are public (a CDN in front of the bucket
    /// and prefix, or a web server over the cache directory): audio GETs
    /// answer 302 to `{public_base_url}/{class}/ab/cd/{key}.{ext}`.
    pub public_base_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SpeechConfig {
    /// Voice used when a request names none.
    pub default_voice: String,
    /// Directory of voice files (`*.toml`).
    pub voices_dir: PathBuf,
    /// Output sample rate; voices with another rate are resampled.
    pub sample_rate: u32,
    /// MP3 bitrate in kbit/s.
    pub mp3_bitrate_kbps: u32,
    /// Pause between sentences, in milliseconds.
    pub sentence_pause_ms: u32,
    /// Pause between paragraphs, in milliseconds.
    pub paragraph_pause_ms: u32,
    /// Longest article read, in seconds of (estimated) audio; longer ones
    /// are refused before any synthesis.
    pub max_article_secs: u64,
    /// Most sentences in one article.
    pub max_sentences: usize,
    /// eSpeak NG worker processes (0: one per core; 1: synthesize in this
    /// process).
    pub workers: usize,
    /// The loa binary workers run (default: this executable).
    pub worker_program: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TextConfig {
    pub dialect: Dialect,
    /// User lexicon files (TSV) that extend or override the built-in one.
    pub lexicons: Vec<PathBuf>,
    /// Sentences longer than this many bytes are cut at `;`, `,` or spaces.
    pub max_sentence_bytes: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            address: "127.0.0.1:8080".into(),
            cors_origins: vec!["*".into()],
            max_body_bytes: 2 * 1024 * 1024,
            max_text_chars: 200_000,
            synthesis_concurrency: 2,
            queue_limit: 64,
            request_timeout_secs: 300,
            retry_after_secs: 5,
        }
    }
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            dir: PathBuf::from("cache"),
            max_bytes: 2 * 1024 * 1024 * 1024,
            store: None,
            local_max_bytes: 1024 * 1024 * 1024,
            public_base_url: None,
        }
    }
}

impl Default for SpeechConfig {
    fn default() -> Self {
        SpeechConfig {
            default_voice: "vi-espeak".into(),
            voices_dir: PathBuf::from("voices"),
            sample_rate: 22050,
            mp3_bitrate_kbps: 64,
            sentence_pause_ms: 350,
            paragraph_pause_ms: 800,
            max_article_secs: 30 * 60,
            max_sentences: 2000,
            workers: 0,
            worker_program: None,
        }
    }
}

impl Default for TextConfig {
    fn default() -> Self {
        TextConfig { dialect: Dialect::North, lexicons: Vec::new(), max_sentence_bytes: 600 }
    }
}

impl Config {
    /// Parse a config file's text; `path` is only used in messages.
    pub fn parse(text: &str, path: &str) -> Result<Config, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::Parse { path: path.into(), message: e.to_string() })
    }

    /// Load `path`, or the defaults when `path` is `None` and
    /// `config/loa.toml` does not exist; then apply `LOA_*` overrides.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let env_path = std::env::var_os("LOA_CONFIG").map(PathBuf::from);
        let chosen = path.map(Path::to_path_buf).or(env_path);
        let mut config = match chosen {
            Some(p) => Self::read(&p)?,
            None => {
                let default = Path::new("config/loa.toml");
                if default.exists() { Self::read(default)? } else { Config::default() }
            }
        };
        config.apply_env(|k| std::env::var(k).ok())?;
        Ok(config)
    }

    fn read(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Read { path: path.display().to_string(), source })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Apply `LOA_*` environment overrides, read through `get`.
    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        fn num<T: std::str::FromStr>(var: &str, v: &str) -> Result<T, ConfigError> {
            v.trim()
                .parse()
                .map_err(|_| ConfigError::Env { var: var.into(), message: format!("{v:?} is not a number") })
        }
        if let Some(v) = get("LOA_ADDRESS") {
            self.server.address = v;
        }
        if let Some(v) = get("LOA_CORS_ORIGINS") {
            self.server.cors_origins =
                v.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
        }
        if let Some(v) = get("LOA_CACHE_DIR") {
            self.cache.dir = PathBuf::from(v);
        }
        if let Some(v) = get("LOA_CACHE_MAX_BYTES") {
            self.cache.max_bytes = num("LOA_CACHE_MAX_BYTES", &v)?;
        }
        if let Some(v) = get("LOA_CACHE_STORE") {
            self.cache.store = Some(v).filter(|v| !v.trim().is_empty());
        }
        if let Some(v) = get("LOA_CACHE_LOCAL_MAX_BYTES") {
            self.cache.local_max_bytes = num("LOA_CACHE_LOCAL_MAX_BYTES", &v)?;
        }
        if let Some(v) = get("LOA_CACHE_PUBLIC_BASE_URL") {
            self.cache.public_base_url = Some(v).filter(|v| !v.trim().is_empty());
        }
        if let Some(v) = get("LOA_VOICE") {
            self.speech.default_voice = v;
        }
        if let Some(v) = get("LOA_VOICES_DIR") {
            self.speech.voices_dir = PathBuf::from(v);
        }
        if let Some(v) = get("LOA_MAX_TEXT_CHARS") {
            self.server.max_text_chars = num("LOA_MAX_TEXT_CHARS", &v)?;
        }
        if let Some(v) = get("LOA_SYNTHESIS_CONCURRENCY") {
            self.server.synthesis_concurrency = num("LOA_SYNTHESIS_CONCURRENCY", &v)?;
        }
        if let Some(v) = get("LOA_DIALECT") {
            self.text.dialect = match v.trim() {
                "north" => Dialect::North,
                "south" => Dialect::South,
                other => {
                    return Err(ConfigError::Env {
                        var: "LOA_DIALECT".into(),
                        message: format!("{other:?} is not one of north, south"),
                    });
                }
            };
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_key_is_an_error_naming_the_file() {
        let err = Config::parse("[server]\nadress = \"x\"\n", "my.toml").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("my.toml") && msg.contains("adress"), "{msg}");
    }

    #[test]
    fn partial_file_keeps_defaults() {
        let c = Config::parse("[cache]\nmax_bytes = 10\n", "x").unwrap();
        assert_eq!(c.cache.max_bytes, 10);
        assert_eq!(c.server, ServerConfig::default());
    }

    #[test]
    fn env_overrides_and_rejects_bad_numbers() {
        let mut c = Config::default();
        c.apply_env(|k| (k == "LOA_ADDRESS").then(|| "0.0.0.0:9".to_string())).unwrap();
        assert_eq!(c.server.address, "0.0.0.0:9");
        c.apply_env(|k| (k == "LOA_CACHE_STORE").then(|| "s3://loa/site".to_string())).unwrap();
        assert_eq!(c.cache.store.as_deref(), Some("s3://loa/site"));
        c.apply_env(|k| (k == "LOA_CACHE_STORE").then(String::new)).unwrap();
        assert_eq!(c.cache.store, None, "an empty value unsets it");
        let err = c.apply_env(|k| (k == "LOA_CACHE_MAX_BYTES").then(|| "lots".to_string())).unwrap_err();
        assert!(err.to_string().contains("LOA_CACHE_MAX_BYTES"));
    }
}
