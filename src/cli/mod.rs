//! Command-line interface: clap subcommands, one module per group.
//!
//! `text` holds `split` and `normalize`; `speech` holds `speak`, `generate`,
//! `voices`; `cache` inspects the cache; `check` reports what a page reads
//! as; `serve` starts the HTTP service; `sign` signs a text for a service
//! that reads only signed text; `config` shows the effective settings;
//! `docs` writes shell completions and the man page; `logging` sets up
//! tracing. Every command returns `anyhow::Result`; [`main`] prints the
//! error and each of its causes once and maps it to an exit code (2 for bad
//! input, 1 for other failures).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cache;
mod check;
mod config;
mod docs;
mod input;
mod logging;
mod phonemes;
mod serve;
mod sign;
mod speech;
mod text;

pub use logging::LogFormat;

/// An error that carries its own exit code (bad input is 2).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Exit {
    pub code: u8,
    pub message: String,
}

/// A typed error with an exit code: shown as the error, then its causes.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    error: Box<dyn std::error::Error + Send + Sync>,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

impl std::error::Error for Failure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.error.source()
    }
}

/// `error` with exit code `code`, keeping its causes for the report.
pub(crate) fn failure(code: u8, error: impl std::error::Error + Send + Sync + 'static) -> anyhow::Error {
    anyhow::Error::new(Failure { code, error: Box::new(error) })
}

#[derive(Parser, Debug)]
#[command(
    name = "loa",
    version,
    about = "Read Vietnamese articles aloud",
    long_about = "loa reads Vietnamese articles aloud: it splits an article into sentences, rewrites each \
                  one as spoken Vietnamese (numbers, dates, units, abbreviations…), synthesizes it with a \
                  pluggable speech backend and caches the audio.\n\n\
                  Examples:\n  loa normalize --explain article.txt\n  loa speak article.txt -o article.mp3 \
                  --timings article.json\n  loa generate articles/ --out audio/ --jobs 2\n  loa serve"
)]
pub struct Cli {
    /// Config file (env LOA_CONFIG; default: the first of ./config/loa.toml,
    /// ~/.config/loa/loa.toml, /etc/loa/loa.toml that exists).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Audio cache directory (config cache.dir, env LOA_CACHE_DIR; default
    /// $XDG_CACHE_HOME/loa or ~/.cache/loa). Used by speak, generate, voices, cache and serve.
    #[arg(long, global = true, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Directory of voice files (config speech.voices_dir, env LOA_VOICES_DIR; default the
    /// first of ./voices, ~/.config/loa/voices, /etc/loa/voices, else the built-in voice only).
    #[arg(long, global = true, value_name = "DIR")]
    pub voices_dir: Option<PathBuf>,
    /// More log output (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Log lines as text (coloured on a terminal) or one JSON object per line.
    #[arg(long, global = true, value_enum, env = "LOA_LOG_FORMAT", default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Split an article into sentences, one per line, text kept as written.
    Split(text::SplitArgs),
    /// Rewrite text as the words a news reader says.
    Normalize(text::NormalizeArgs),
    /// Synthesize one article to an MP3 or WAV file.
    Speak(speech::SpeakArgs),
    /// Pre-generate audio for every article under some paths.
    Generate(speech::GenerateArgs),
    /// List the configured voices and whether each is available.
    Voices(speech::VoicesArgs),
    /// Inspect, prune or verify the audio cache.
    Cache(cache::CacheArgs),
    /// Report what will be read aloud on pages or URLs, sentence by sentence (HTML or JSON).
    Check(check::CheckArgs),
    /// Run the HTTP service and the "Đọc nội dung" widget.
    Serve(serve::ServeArgs),
    /// Print the phoneme ids a piper voice gives a text (compare with Piper's own).
    Phonemes(phonemes::PhonemesArgs),
    /// Show the effective configuration, or the environment variables that set it.
    Config(config::ConfigArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(docs::CompletionsArgs),
    /// Print the man page (roff), or write one page per command into a directory.
    Man(docs::ManArgs),
    /// Print the signature of a text for server.text_input = "signed" (key: LOA_SIGNING_KEY).
    Sign(sign::SignArgs),
    /// Internal: a synthesis worker process (started by loa itself).
    #[command(name = "__synth-worker", hide = true)]
    SynthWorker,
}

/// The options every command shares: where the config is and the
/// directories that override it (after the file and the environment).
#[derive(Debug, Clone, Default)]
pub struct Globals {
    pub config: Option<PathBuf>,
    pub cache_dir: Option<PathBuf>,
    pub voices_dir: Option<PathBuf>,
    /// How log lines look (`serve` says where it listens in the same form).
    pub log_format: LogFormat,
}

impl Globals {
    /// Flags override the file and the environment.
    pub fn apply(&self, config: &mut crate::config::Config) {
        if let Some(d) = &self.cache_dir {
            config.cache.dir = d.clone();
        }
        if let Some(d) = &self.voices_dir {
            config.speech.voices_dir = d.clone();
        }
    }
}

/// A bad-input error (exit 2).
pub(crate) fn bad_input(message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Exit { code: 2, message: message.into() })
}

/// The config file (`path`, else `LOA_CONFIG`, else `config/loa.toml` if
/// present, else defaults), then the environment. A bad file or variable
/// exits 2, for every command.
pub(crate) fn load_config_file(path: Option<&std::path::Path>) -> anyhow::Result<crate::config::Config> {
    crate::config::Config::load(path).map_err(|e| failure(2, e))
}

/// True when `err` is a write to a closed pipe (`loa normalize … | head -1`):
/// the reader has all it wants, so the command ends quietly with 0.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::SynthWorker = cli.command {
        return crate::tts::pool::worker_main();
    }
    crate::tts::pool::running_the_loa_binary();
    logging::init(cli.verbose, cli.log_format, matches!(cli.command, Command::Serve(_)));
    let globals = Globals {
        config: cli.config,
        cache_dir: cli.cache_dir,
        voices_dir: cli.voices_dir,
        log_format: cli.log_format,
    };
    let config_path = globals.config.as_deref();
    let result = match cli.command {
        Command::Split(args) => text::split(args, config_path),
        Command::Normalize(args) => text::normalize(args, config_path),
        Command::Speak(args) => speech::speak(args, &globals),
        Command::Generate(args) => speech::generate(args, &globals),
        Command::Voices(args) => speech::voices(args, &globals),
        Command::Cache(args) => cache::cache(args, &globals),
        Command::Check(args) => check::check(args, &globals),
        Command::Serve(args) => serve::serve(args, &globals),
        Command::Phonemes(args) => phonemes::phonemes(args, &globals),
        Command::Config(args) => config::show(args, &globals),
        Command::Completions(args) => docs::completions(args),
        Command::Man(args) => docs::man(args),
        Command::Sign(args) => sign::sign(args),
        Command::SynthWorker => Ok(crate::tts::pool::worker_main()),
    };
    match result {
        Ok(code) => code,
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            let code = err
                .downcast_ref::<Exit>()
                .map(|e| e.code)
                .or_else(|| err.downcast_ref::<Failure>().map(|e| e.code))
                .unwrap_or(1);
            eprintln!("error: {err}");
            for cause in err.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::from(code)
        }
    }
}
