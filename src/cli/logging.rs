//! Log output on standard error through `tracing`: text, coloured only
//! when standard error is a terminal and `NO_COLOR` is unset, or one JSON
//! object per line (`--log-format json`, env `LOA_LOG_FORMAT`) with the
//! fields of the spans it happened in (for a request: `request_id`,
//! method, path). `RUST_LOG` overrides the level.

use std::io::IsTerminal;

use clap::ValueEnum;
use tracing_subscriber::EnvFilter;

/// How log lines look.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line (for journald, Loki, jq…).
    Json,
}

/// The level when `RUST_LOG` is unset: warnings for one-shot commands,
/// also loa's own info lines (one per request) for the service.
fn default_filter(verbose: u8, service: bool) -> &'static str {
    match (verbose, service) {
        (0, false) => "warn",
        (0, true) | (1, _) => "warn,loa=info,tower_http=info",
        _ => "debug",
    }
}

/// Install the global subscriber (once; later calls do nothing).
pub fn init(verbose: u8, format: LogFormat, service: bool) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(default_filter(verbose, service)));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => {
            let colour =
                std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
            builder.with_ansi(colour).try_init()
        }
        LogFormat::Json => {
            builder.json().with_ansi(false).with_current_span(true).with_span_list(true).try_init()
        }
    };
}

/// A message for the operator: a plain line on standard error in text
/// mode, an info event (so still one JSON object per line) in JSON mode.
pub fn announce(format: LogFormat, message: &str) {
    match format {
        LogFormat::Text => eprintln!("{message}"),
        LogFormat::Json => tracing::info!("{message}"),
    }
}
