//! `loa serve`: binds the HTTP service ([`crate::server::app`]) and runs it
//! ([`crate::server::listen`]) until SIGINT or SIGTERM, then stops
//! accepting connections and lets the requests in flight finish, up to
//! `server.shutdown_grace_secs`. Secrets come from the environment
//! (`LOA_SIGNING_KEY`, `LOA_ADMIN_TOKEN`); a `signed` policy without a key
//! or a bad proxy list refuses to start, and an exposed service without
//! protection is warned about. `server.metrics_address` gets its own
//! listener serving only `/metrics`.

use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use super::Globals;
use super::logging::{LogFormat, announce};
use super::speech::{engine, load_config};
use crate::config::Config;
use crate::pipeline::Engine;
use crate::server::{AppState, Secrets, app, policy};

#[derive(Args, Debug)]
#[command(after_help = "The global --cache-dir and --voices-dir options apply too.\n\n\
                        Example:\n  loa serve --address 127.0.0.1:8080 --cache-dir cache\n\
                        then open http://127.0.0.1:8080/ and click \"Đọc nội dung\".")]
pub struct ServeArgs {
    /// Address to listen on (config server.address; env LOA_ADDRESS).
    #[arg(long, value_name = "HOST:PORT")]
    pub address: Option<String>,
    /// Default voice (config speech.default_voice; env LOA_VOICE).
    #[arg(long, value_name = "NAME")]
    pub voice: Option<String>,
    /// Article renders at once, and as many single-sentence jobs (config server.synthesis_concurrency).
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,
    /// Allowed CORS origins, comma-separated; "*" for any (config server.cors_origins).
    #[arg(long, value_name = "ORIGINS", value_delimiter = ',')]
    pub cors_origins: Option<Vec<String>>,
    /// Jobs that may wait for a synthesis slot before requests get 503 (config server.queue_limit).
    #[arg(long, value_name = "N")]
    pub queue_limit: Option<usize>,
    /// Seconds one synthesis job may take before the request gets 504 (config server.request_timeout_secs).
    #[arg(long, value_name = "SECS")]
    pub request_timeout_secs: Option<u64>,
    /// Largest request body in bytes (config server.max_body_bytes).
    #[arg(long, value_name = "BYTES")]
    pub max_body_bytes: Option<usize>,
    /// Longest article in characters (config server.max_text_chars).
    #[arg(long, value_name = "CHARS")]
    pub max_text_chars: Option<usize>,
}

impl ServeArgs {
    /// Flags override the file and the environment.
    pub fn apply(&self, config: &mut Config) {
        if let Some(a) = &self.address {
            config.server.address = a.clone();
        }
        if let Some(v) = &self.voice {
            config.speech.default_voice = v.clone();
        }
        if let Some(n) = self.concurrency {
            config.server.synthesis_concurrency = n;
        }
        if let Some(o) = &self.cors_origins {
            config.server.cors_origins = o.clone();
        }
        if let Some(n) = self.queue_limit {
            config.server.queue_limit = n;
        }
        if let Some(n) = self.request_timeout_secs {
            config.server.request_timeout_secs = n;
        }
        if let Some(n) = self.max_body_bytes {
            config.server.max_body_bytes = n;
        }
        if let Some(n) = self.max_text_chars {
            config.server.max_text_chars = n;
        }
    }

    /// Limits that make no sense, as a message for the user.
    pub fn check(config: &Config) -> Result<(), String> {
        let s = &config.server;
        if s.synthesis_concurrency == 0 {
            return Err("server.synthesis_concurrency (--concurrency) must be at least 1".into());
        }
        if s.request_timeout_secs == 0 {
            return Err("server.request_timeout_secs must be at least 1".into());
        }
        if s.max_body_bytes == 0 || s.max_text_chars == 0 {
            return Err("server.max_body_bytes and server.max_text_chars must be at least 1".into());
        }
        Ok(())
    }
}

/// Same config and engine loading as `loa speak` (a bad config or voice
/// file exits 2), then the serve flags on top.
pub fn serve(args: ServeArgs, globals: &Globals) -> anyhow::Result<ExitCode> {
    let mut config = load_config(globals)?;
    args.apply(&mut config);
    if let Err(message) = ServeArgs::check(&config) {
        anyhow::bail!(super::Exit { code: 2, message });
    }
    let secrets = Secrets::from_env();
    if let Err(message) = policy::startup_errors(&config.server, &secrets) {
        anyhow::bail!(super::Exit { code: 2, message });
    }
    let engine = engine(&config)?;
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(run(config, engine, secrets, globals.log_format))?;
    Ok(ExitCode::SUCCESS)
}

async fn run(config: Config, engine: Engine, secrets: Secrets, log: LogFormat) -> anyhow::Result<()> {
    let address = config.server.address.clone();
    let signalled = shutdown_signal(log)?;
    let listener = tokio::net::TcpListener::bind(&address)
        .await
        .with_context(|| format!("cannot listen on {address}"))?;
    let local = listener.local_addr().context("reading the bound address")?;
    announce(log, &format!("loa serving on http://{local}/ (demo page; widget at http://{local}/widget.js)"));
    for v in engine.voices() {
        if v.available {
            tracing::info!(voice = %v.name, backend = %v.backend, "voice available");
        } else {
            tracing::warn!(voice = %v.name, "voice unavailable: {}", v.problem.as_deref().unwrap_or("?"));
        }
    }
    for warning in policy::exposure_warnings(&config.server, &secrets, local) {
        tracing::warn!("{warning}");
    }
    tracing::info!(cache = %engine.config().cache.dir.display(), voices_dir = %engine.config().speech.voices_dir.display(), text_input = config.server.text_input.as_str(), "settings");
    let _feeds = crate::sources::watch::spawn(&config, engine.clone()); // [sources] feeds, pre-generated
    let state = AppState::with_secrets(engine, secrets);
    let stop = tokio_util::sync::CancellationToken::new();
    let metrics = match &config.server.metrics_address {
        Some(address) => {
            let l = tokio::net::TcpListener::bind(address)
                .await
                .with_context(|| format!("cannot listen on {address} (server.metrics_address)"))?;
            let at = l.local_addr().context("reading the metrics address")?;
            announce(log, &format!("loa metrics on http://{at}/metrics"));
            let router = crate::server::metrics_app(state.clone());
            let done = stop.clone().cancelled_owned();
            Some(tokio::spawn(async move { axum::serve(l, router).with_graceful_shutdown(done).await }))
        }
        None => None,
    };
    let signal = {
        let stop = stop.clone();
        async move {
            signalled.await;
            stop.cancel();
        }
    };
    let served = crate::server::listen::serve(listener, app(state.clone()), state, signal).await;
    stop.cancel();
    if let Some(m) = metrics
        && let Ok(Err(e)) = m.await
    {
        tracing::warn!(error = %e, "the metrics listener failed");
    }
    served.context("serving HTTP")?;
    announce(log, "loa: stopped");
    Ok(())
}

/// Resolves on the first SIGINT (Ctrl-C) or SIGTERM. The handlers are
/// installed when this is called (not when the future is first polled), so
/// a signal sent right after the "serving" line is never the default
/// (an abrupt exit).
fn shutdown_signal(log: LogFormat) -> anyhow::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).context("listening for SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).context("listening for SIGINT")?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {},
            _ = int.recv() => {},
        }
        announce(log, "loa: shutting down, finishing requests in flight…");
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Wrapper {
        #[command(flatten)]
        args: ServeArgs,
    }

    #[test]
    fn flags_override_the_config() {
        let w = Wrapper::parse_from([
            "loa",
            "--address",
            "0.0.0.0:9",
            "--voice",
            "v",
            "--concurrency",
            "3",
            "--cors-origins",
            "https://a.example,https://b.example",
            "--queue-limit",
            "0",
            "--request-timeout-secs",
            "9",
            "--max-body-bytes",
            "100",
            "--max-text-chars",
            "50",
        ]);
        let mut c = Config::default();
        w.args.apply(&mut c);
        assert_eq!(c.server.address, "0.0.0.0:9");
        assert_eq!(c.speech.default_voice, "v");
        assert_eq!(c.server.synthesis_concurrency, 3);
        assert_eq!(c.server.cors_origins, vec!["https://a.example", "https://b.example"]);
        assert_eq!(
            (
                c.server.queue_limit,
                c.server.request_timeout_secs,
                c.server.max_body_bytes,
                c.server.max_text_chars
            ),
            (0, 9, 100, 50)
        );
        assert_eq!(ServeArgs::check(&c), Ok(()));
        c.server.synthesis_concurrency = 0;
        assert!(ServeArgs::check(&c).unwrap_err().contains("synthesis_concurrency"));
        // No flags: the config stays as it was.
        let mut d = Config::default();
        Wrapper::parse_from(["loa"]).args.apply(&mut d);
        assert_eq!(d, Config::default());
    }
}
