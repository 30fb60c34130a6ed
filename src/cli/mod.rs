//! Command-line interface: clap subcommands, one module per group.
//!
//! `text` holds `split` and `normalize`; `speech` holds `speak`, `generate`,
//! `voices` and `cache`; `serve` starts the HTTP service; `sign` signs a
//! text for a service that reads only signed text. Every command
//! returns `anyhow::Result`; [`main`] prints the error chain and maps it to
//! an exit code (2 for bad input, 1 for other failures).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod input;
mod serve;
mod sign;
mod speech;
mod text;

/// An error that carries its own exit code (bad input is 2).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Exit {
    pub code: u8,
    pub message: String,
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
    /// Config file (default: config/loa.toml if it exists; env LOA_CONFIG).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Audio cache directory (config cache.dir, default ./cache; env LOA_CACHE_DIR).
    /// Used by speak, generate, voices, cache and serve.
    #[arg(long, global = true, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Directory of voice files (config speech.voices_dir, default ./voices; env LOA_VOICES_DIR).
    #[arg(long, global = true, value_name = "DIR")]
    pub voices_dir: Option<PathBuf>,
    /// More log output (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
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
    /// Inspect or prune the audio cache.
    Cache(speech::CacheArgs),
    /// Run the HTTP service and the "Đọc nội dung" widget.
    Serve(serve::ServeArgs),
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
    crate::config::Config::load(path).map_err(|e| bad_input(e.to_string()))
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
    init_logging(cli.verbose);
    let globals = Globals { config: cli.config, cache_dir: cli.cache_dir, voices_dir: cli.voices_dir };
    let config_path = globals.config.as_deref();
    let result = match cli.command {
        Command::Split(args) => text::split(args, config_path),
        Command::Normalize(args) => text::normalize(args, config_path),
        Command::Speak(args) => speech::speak(args, &globals),
        Command::Generate(args) => speech::generate(args, &globals),
        Command::Voices(args) => speech::voices(args, &globals),
        Command::Cache(args) => speech::cache(args, &globals),
        Command::Serve(args) => serve::serve(args, &globals),
        Command::Sign(args) => sign::sign(args),
        Command::SynthWorker => Ok(crate::tts::pool::worker_main()),
    };
    match result {
        Ok(code) => code,
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            let code = err.downcast_ref::<Exit>().map_or(1, |e| e.code);
            eprintln!("error: {err}");
            for cause in err.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::from(code)
        }
    }
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}
