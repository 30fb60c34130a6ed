//! Typed settings shared by the CLI and the server.
//!
//! [`Config::load`] reads the first config file of `--config`, `LOA_CONFIG`,
//! `./config/loa.toml`, `$XDG_CONFIG_HOME/loa/loa.toml` (else
//! `~/.config/loa/loa.toml`) and `/etc/loa/loa.toml` ([`Config::locate`]),
//! then applies the environment: every key `section.key` is set by
//! `LOA_SECTION_KEY` ([`env`]: one rule derived from the serde structure,
//! so new keys need no code), then the command line overrides both. Unknown
//! keys are an error naming the file, so a typo never silently falls back to
//! a default. Relative paths are relative to the working directory.
//!
//! Two defaults depend on the machine, so that an installed binary works
//! from any directory: `cache.dir` is `$XDG_CACHE_HOME/loa` (else
//! `~/.cache/loa`, else `./cache`), and `speech.voices_dir` is the first of
//! `./voices`, `$XDG_CONFIG_HOME/loa/voices` (else `~/.config/loa/voices`)
//! and `/etc/loa/voices` that exists, else none: the built-in `vi-espeak`
//! voice only. [`Config::default`] keeps the plain relative fallbacks.

pub mod env;
pub mod schema;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::text::{Dialect, Options};

/// Errors while loading configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}")]
    Read { path: String, source: std::io::Error },
    #[error("bad config file {path}: {message}")]
    Parse { path: String, message: String },
    #[error("bad value for environment variable {var}: {message}")]
    Env { var: String, message: String },
    /// The settings type has a field the environment rule cannot name
    /// (caught by the unit tests, never expected at run time).
    #[error("internal: cannot derive the environment variables of the config: {0}")]
    Schema(String),
}

pub use env::Env;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub cache: CacheConfig,
    pub speech: SpeechConfig,
    pub text: TextConfig,
    pub sources: crate::fetch::SourcesConfig,
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
    /// Directory of the content-addressed store (default
    /// `$XDG_CACHE_HOME/loa`, else `~/.cache/loa`, else `./cache`).
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
    /// With `store` and no `public_base_url`: audio GETs answer 302 to a
    /// presigned GET URL of the object valid this many seconds (0: off;
    /// at most 604800, the SigV4 limit).
    pub presign_secs: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SpeechConfig {
    /// Voice used when a request names none.
    pub default_voice: String,
    /// Directory of voice files (`*.toml`); empty: none, only the built-in
    /// `vi-espeak` voice. Default: the first of `./voices`,
    /// `~/.config/loa/voices`, `/etc/loa/voices` that exists, else none.
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
            public_base_url: None,
            presign_secs: 0,
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
        let config: Config = toml::from_str(text)
            .map_err(|e| ConfigError::Parse { path: path.into(), message: e.to_string() })?;
        config.sources.check().map_err(|message| ConfigError::Parse { path: path.into(), message })?;
        Ok(config)
    }

    /// Load the config of this process: the file [`locate`](Self::locate)
    /// finds (or defaults), then the `LOA_*` environment.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        Self::load_with(path, &Env::process()?)
    }

    /// [`load`](Self::load) with a given environment.
    pub fn load_with(path: Option<&Path>, env: &Env) -> Result<Config, ConfigError> {
        let mut table = match Self::locate(path, env) {
            Some(p) => Self::read_table(&p)?,
            None => toml::Table::new(),
        };
        env::apply(&mut table, &Self::keys()?, env, |t| Self::from_table(t.clone())?.sources.check())?;
        let mut config = Self::from_table(table.clone()).map_err(ConfigError::Schema)?;
        if !has(&table, &["cache", "dir"]) {
            config.cache.dir = default_cache_dir(env);
        }
        if !has(&table, &["speech", "voices_dir"]) {
            config.speech.voices_dir = default_voices_dir(env);
        }
        Ok(config)
    }

    /// The config file to read: `path`, else `LOA_CONFIG`, else the first
    /// of [`search_path`](Self::search_path) that exists, else none.
    pub fn locate(path: Option<&Path>, env: &Env) -> Option<PathBuf> {
        if let Some(p) = path {
            return Some(p.to_path_buf());
        }
        if let Some(p) = env.get("LOA_CONFIG") {
            return Some(PathBuf::from(p));
        }
        Self::search_path(env).into_iter().find(|p| p.is_file())
    }

    /// Where a config file is looked for when none is named.
    pub fn search_path(env: &Env) -> Vec<PathBuf> {
        let mut dirs = vec![PathBuf::from("config/loa.toml")];
        dirs.extend(config_home(env).map(|d| d.join("loa/loa.toml")));
        dirs.push(PathBuf::from("/etc/loa/loa.toml"));
        dirs
    }

    /// Every key of the config, with its kind (for the environment rule).
    pub fn keys() -> Result<Vec<schema::Key>, ConfigError> {
        schema::keys::<Config>().map_err(ConfigError::Schema)
    }

    /// Every environment variable that sets a key, with its dotted key.
    pub fn env_variables() -> Result<Vec<(String, String)>, ConfigError> {
        Ok(env::variables(&Self::keys()?).into_iter().map(|(v, k)| (v, k.dotted())).collect())
    }

    fn from_table(table: toml::Table) -> Result<Config, String> {
        table.try_into().map_err(|e: toml::de::Error| e.message().trim().to_string())
    }

    fn read_table(path: &Path) -> Result<toml::Table, ConfigError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Read { path: name.clone(), source })?;
        // Typed first, for messages with the line and the key.
        Self::parse(&text, &name)?;
        toml::from_str(&text).map_err(|e| ConfigError::Parse { path: name, message: e.to_string() })
    }
}

/// Whether `path` is set in `table`.
fn has(table: &toml::Table, path: &[&str]) -> bool {
    let mut t = table;
    for (i, p) in path.iter().enumerate() {
        match t.get(*p) {
            Some(toml::Value::Table(inner)) if i + 1 < path.len() => t = inner,
            Some(_) if i + 1 == path.len() => return true,
            _ => return false,
        }
    }
    false
}

/// An absolute directory from the variable `name`, or `$HOME/fallback`
/// (the XDG base-directory rule: relative values are ignored).
fn xdg_dir(env: &Env, name: &str, fallback: &str) -> Option<PathBuf> {
    match env.get(name).map(PathBuf::from) {
        Some(p) if p.is_absolute() => Some(p),
        _ => env.get("HOME").map(|h| Path::new(h).join(fallback)),
    }
}

fn config_home(env: &Env) -> Option<PathBuf> {
    xdg_dir(env, "XDG_CONFIG_HOME", ".config")
}

/// `$XDG_CACHE_HOME/loa`, else `~/.cache/loa`, else `./cache`.
pub fn default_cache_dir(env: &Env) -> PathBuf {
    xdg_dir(env, "XDG_CACHE_HOME", ".cache").map_or_else(|| PathBuf::from("cache"), |d| d.join("loa"))
}

/// The first voices directory that exists, else none (empty).
pub fn default_voices_dir(env: &Env) -> PathBuf {
    let mut candidates = vec![PathBuf::from("voices")];
    candidates.extend(config_home(env).map(|d| d.join("loa/voices")));
    candidates.push(PathBuf::from("/etc/loa/voices"));
    candidates.into_iter().find(|p| p.is_dir()).unwrap_or_default()
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

    /// Every key the serialized defaults show is reachable by a variable,
    /// and no two keys share one.
    #[test]
    fn every_key_has_its_own_variable() {
        let keys = Config::keys().unwrap();
        let vars = Config::env_variables().unwrap();
        let mut names: Vec<&str> = vars.iter().map(|(v, _)| v.as_str()).collect();
        names.dedup();
        assert_eq!(names.len(), keys.len(), "two keys map to one variable: {vars:?}");
        fn leaves(prefix: &str, t: &toml::Table, out: &mut Vec<String>) {
            for (k, v) in t {
                let path = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                match v {
                    toml::Value::Table(inner) => leaves(&path, inner, out),
                    _ => out.push(path),
                }
            }
        }
        let mut serialized = Vec::new();
        leaves("", &toml::Table::try_from(Config::default()).unwrap(), &mut serialized);
        let dotted: Vec<String> = keys.iter().map(|k| k.dotted()).collect();
        for key in &serialized {
            assert!(dotted.contains(key), "{key} has no environment variable; keys: {dotted:?}");
        }
        assert!(
            vars.iter()
                .any(|(v, k)| v == "LOA_SERVER_REQUEST_TIMEOUT_SECS" && k == "server.request_timeout_secs")
        );
        for (alias, key) in env::ALIASES {
            assert!(dotted.iter().any(|d| d == key), "alias {alias} names no key {key}");
        }
    }

    fn load(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::load_with(Some(Path::new("/dev/null")), &Env::from_pairs(pairs.iter().copied()))
    }

    #[test]
    fn every_kind_of_key_from_the_environment() {
        let c = load(&[
            ("LOA_SERVER_ADDRESS", "0.0.0.0:9"),
            ("LOA_SERVER_CORS_ORIGINS", "https://a.example, https://b.example"),
            ("LOA_CACHE_MAX_BYTES", "10"),
            ("LOA_SPEECH_SAMPLE_RATE", "24000"),
            ("LOA_TEXT_DIALECT", "south"),
            ("LOA_TEXT_LEXICONS", "a.tsv,b.tsv"),
            ("LOA_CACHE_STORE", "s3://loa/site"),
            ("LOA_CACHE_PUBLIC_BASE_URL", "https://cdn.example/a"),
        ])
        .unwrap();
        assert_eq!(c.cache.store.as_deref(), Some("s3://loa/site"));
        assert_eq!(c.cache.public_base_url.as_deref(), Some("https://cdn.example/a"));
        assert_eq!(load(&[("LOA_CACHE_STORE", "")]).unwrap().cache.store, None, "an empty value unsets it");
        assert_eq!(c.server.address, "0.0.0.0:9");
        assert_eq!(c.server.cors_origins, vec!["https://a.example", "https://b.example"]);
        assert_eq!(c.cache.max_bytes, 10);
        assert_eq!(c.speech.sample_rate, 24000);
        assert_eq!(c.text.dialect, Dialect::South);
        assert_eq!(c.text.lexicons, vec![PathBuf::from("a.tsv"), PathBuf::from("b.tsv")]);
    }

    #[test]
    fn a_table_of_free_keys_is_one_variable_of_inline_toml() {
        let c = load(&[(
            "LOA_SOURCES_SITES",
            r#"{ "tin.example.vn" = { body = ".noidung", skip = [".tag"] } }"#,
        )])
        .unwrap();
        let site = &c.sources.sites["tin.example.vn"];
        assert_eq!(
            (site.body.as_deref(), site.skip.as_slice()),
            (Some(".noidung"), &[".tag".to_string()][..])
        );
        let err = load(&[("LOA_SOURCES_SITES", "{ x = 1 }")]).unwrap_err().to_string();
        assert!(err.contains("LOA_SOURCES_SITES"), "{err}");
    }

    #[test]
    fn old_names_still_work_and_must_agree() {
        let c = load(&[("LOA_ADDRESS", "0.0.0.0:9"), ("LOA_VOICE", "v"), ("LOA_DIALECT", "south")]).unwrap();
        assert_eq!((c.server.address.as_str(), c.speech.default_voice.as_str()), ("0.0.0.0:9", "v"));
        assert_eq!(c.text.dialect, Dialect::South);
        let c = load(&[("LOA_ADDRESS", "a:1"), ("LOA_SERVER_ADDRESS", "a:1")]).unwrap();
        assert_eq!(c.server.address, "a:1");
        let err = load(&[("LOA_ADDRESS", "a:1"), ("LOA_SERVER_ADDRESS", "b:2")]).unwrap_err().to_string();
        assert!(err.contains("LOA_ADDRESS") && err.contains("LOA_SERVER_ADDRESS"), "{err}");
    }

    #[test]
    fn bad_values_name_the_variable() {
        for (var, value, says) in [
            ("LOA_CACHE_MAX_BYTES", "lots", "whole number"),
            ("LOA_SPEECH_SAMPLE_RATE", "-1", "speech.sample_rate"),
            ("LOA_SPEECH_SAMPLE_RATE", "99999999999", "speech.sample_rate"),
            ("LOA_DIALECT", "east", "north, south"),
            ("LOA_SERVER_QUEUE_LIMT", "1", "LOA_SERVER_QUEUE_LIMIT"),
        ] {
            let err = load(&[(var, value)]).unwrap_err();
            let msg = err.to_string();
            assert!(matches!(err, ConfigError::Env { .. }), "{msg}");
            assert!(msg.contains(var) && msg.contains(says), "{var}={value}: {msg}");
        }
    }

    #[test]
    fn machine_defaults_for_the_cache_unless_set() {
        let c = load(&[("HOME", "/home/u")]).unwrap();
        assert_eq!(c.cache.dir, PathBuf::from("/home/u/.cache/loa"));
        let c = load(&[("HOME", "/home/u"), ("XDG_CACHE_HOME", "/xdg")]).unwrap();
        assert_eq!(c.cache.dir, PathBuf::from("/xdg/loa"));
        let c = load(&[("HOME", "/home/u"), ("XDG_CACHE_HOME", "relative")]).unwrap();
        assert_eq!(c.cache.dir, PathBuf::from("/home/u/.cache/loa"));
        assert_eq!(load(&[]).unwrap().cache.dir, PathBuf::from("cache"));
        let c = load(&[("HOME", "/home/u"), ("LOA_CACHE_DIR", "/srv/c")]).unwrap();
        assert_eq!(c.cache.dir, PathBuf::from("/srv/c"));
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("loa.toml");
        std::fs::write(&file, "[cache]\ndir = \"mine\"\n").unwrap();
        let c = Config::load_with(Some(&file), &Env::from_pairs([("HOME", "/home/u")])).unwrap();
        assert_eq!(c.cache.dir, PathBuf::from("mine"));
    }

    #[test]
    fn voices_dir_is_searched_unless_set() {
        let home = tempfile::tempdir().unwrap();
        let home_s = home.path().to_str().unwrap();
        let c = load(&[("HOME", home_s), ("LOA_SPEECH_VOICES_DIR", "/v")]).unwrap();
        assert_eq!(c.speech.voices_dir, PathBuf::from("/v"));
        let mine = home.path().join(".config/loa/voices");
        std::fs::create_dir_all(&mine).unwrap();
        let c =
            Config::load_with(Some(Path::new("/dev/null")), &Env::from_pairs([("HOME", home_s)])).unwrap();
        // ./voices wins when the working directory has one (as in a checkout).
        let expected = if Path::new("voices").is_dir() { PathBuf::from("voices") } else { mine };
        assert_eq!(c.speech.voices_dir, expected);
    }

    #[test]
    fn trust_keys_from_file_and_environment() {
        let c = load(&[("LOA_TEXT_INPUT", "signed"), ("LOA_SERVER_LIMITS_BURST", "3")]).unwrap();
        assert_eq!(c.server.text_input, TextInput::Signed);
        assert_eq!(c.server.limits.burst, 3);
        let err = load(&[("LOA_TEXT_INPUT", "any")]).unwrap_err().to_string();
        assert!(err.contains("LOA_TEXT_INPUT") && err.contains("open, signed, url"), "{err}");
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

    #[test]
    fn a_named_file_must_exist() {
        let err = Config::load_with(Some(Path::new("/nonexistent/loa.toml")), &Env::default()).unwrap_err();
        assert!(matches!(err, ConfigError::Read { .. }));
        // The cause is the source, not repeated in the message.
        assert_eq!(err.to_string(), "cannot read config file /nonexistent/loa.toml");
        assert!(std::error::Error::source(&err).is_some());
    }
}
