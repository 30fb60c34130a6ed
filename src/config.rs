//! Typed settings shared by the CLI and the server.
//!
//! Read from `config/loa.toml` (or the file given with `--config` /
//! `LOA_CONFIG`), then overridden by `LOA_*` environment variables, then by
//! command-line flags. Unknown keys are an error naming the file, so a typo
//! never silently falls back to a default.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::text::{Dialect, Options};

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
    /// Seconds a client has to send its request headers (and the longest
    /// an idle keep-alive connection stays open).
    pub header_timeout_secs: u64,
    /// Open connections at most (0: what the open-file limit allows).
    pub max_connections: usize,
    /// Seconds requests in flight may finish after a shutdown signal.
    pub shutdown_grace_secs: u64,
    /// Where the words may come from (env `LOA_TEXT_INPUT`): `open` (any
    /// text), `signed` (text signed by the site with `LOA_SIGNING_KEY`) or
    /// `url` (only page URLs, fetched from allowlisted origins).
    pub text_input: TextInput,
    /// Proxies whose `X-Forwarded-For`/`Forwarded` header names the client
    /// (CIDRs, e.g. `"10.0.0.0/8"`); any other peer is the client itself.
    pub trusted_proxies: Vec<String>,
    /// Which header a trusted proxy sets: `x-forwarded-for` or `forwarded`.
    pub forwarded_header: ForwardedHeader,
    /// A separate listener for `GET /metrics` (e.g. `"127.0.0.1:9090"`);
    /// unset: `/metrics` is on the main listener.
    pub metrics_address: Option<String>,
    /// Per-client limits.
    pub limits: ClientLimits,
}

/// `server.text_input`: where the words loa reads may come from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TextInput {
    /// Any text (right on a loopback address only).
    #[default]
    Open,
    /// Text carrying the site's signature.
    Signed,
    /// Only page URLs of allowlisted origins; loa fetches the article.
    Url,
}

impl TextInput {
    pub fn as_str(self) -> &'static str {
        match self {
            TextInput::Open => "open",
            TextInput::Signed => "signed",
            TextInput::Url => "url",
        }
    }
}

impl std::str::FromStr for TextInput {
    type Err = String;
    fn from_str(s: &str) -> Result<TextInput, String> {
        match s.trim() {
            "open" => Ok(TextInput::Open),
            "signed" => Ok(TextInput::Signed),
            "url" => Ok(TextInput::Url),
            other => Err(format!("{other:?} is not one of open, signed, url")),
        }
    }
}

/// `server.forwarded_header`: the header trusted proxies set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ForwardedHeader {
    #[default]
    XForwardedFor,
    Forwarded,
}

/// `[server.limits]`: what one client (an IP address; an IPv6 /64) may ask
/// of the service. 0 turns a limit off.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClientLimits {
    /// Synthesis jobs (an uncached article, or an uncached sentence outside
    /// a running article) a client may start per minute, on average.
    pub syntheses_per_minute: u32,
    /// Synthesis jobs a client may start at once before the average applies.
    pub burst: u32,
    /// Jobs of one client running or waiting at once, in each pool.
    pub jobs_per_client: usize,
    /// Requests of any kind (cached audio, plans, assets) per minute.
    pub requests_per_minute: u32,
    /// Requests a client may make at once before that average applies.
    pub requests_burst: u32,
}

impl Default for ClientLimits {
    fn default() -> Self {
        ClientLimits {
            syntheses_per_minute: 30,
            burst: 20,
            jobs_per_client: 4,
            requests_per_minute: 1200,
            requests_burst: 300,
        }
    }
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
            header_timeout_secs: 10,
            max_connections: 0,
            shutdown_grace_secs: 20,
            text_input: TextInput::Open,
            trusted_proxies: vec!["127.0.0.1/32".into(), "::1/128".into()],
            forwarded_header: ForwardedHeader::XForwardedFor,
            metrics_address: None,
            limits: ClientLimits::default(),
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

/// The text front end's options from the `[text]` section (the lexicon
/// files are loaded by `Normalizer::with_lexicon_files`).
impl From<&TextConfig> for Options {
    fn from(cfg: &TextConfig) -> Self {
        Options { dialect: cfg.dialect, max_sentence_bytes: cfg.max_sentence_bytes }
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
        if let Some(v) = get("LOA_TEXT_INPUT") {
            self.server.text_input =
                v.parse().map_err(|message| ConfigError::Env { var: "LOA_TEXT_INPUT".into(), message })?;
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
        let err = c.apply_env(|k| (k == "LOA_CACHE_MAX_BYTES").then(|| "lots".to_string())).unwrap_err();
        assert!(err.to_string().contains("LOA_CACHE_MAX_BYTES"));
        c.apply_env(|k| (k == "LOA_TEXT_INPUT").then(|| "signed".to_string())).unwrap();
        assert_eq!(c.server.text_input, TextInput::Signed);
        let err = c.apply_env(|k| (k == "LOA_TEXT_INPUT").then(|| "any".to_string())).unwrap_err();
        assert!(err.to_string().contains("open, signed, url"), "{err}");
    }

    #[test]
    fn limits_section_parses() {
        let c = Config::parse(
            "[server]\ntext_input = \"url\"\nforwarded_header = \"forwarded\"\n[server.limits]\nburst = 3\n",
            "x",
        )
        .unwrap();
        assert_eq!(c.server.text_input, TextInput::Url);
        assert_eq!(c.server.forwarded_header, ForwardedHeader::Forwarded);
        assert_eq!(c.server.limits.burst, 3);
        assert_eq!(c.server.limits.syntheses_per_minute, ClientLimits::default().syntheses_per_minute);
        assert!(Config::parse("[server.limits]\nbursts = 3\n", "x").is_err());
    }
}
