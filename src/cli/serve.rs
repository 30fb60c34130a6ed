//! `loa serve`: binds the HTTP service ([`crate::server::app`]) and runs it
//! until SIGINT or SIGTERM, then stops accepting connections and lets the
//! requests in flight finish.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use crate::config::Config;
use crate::pipeline::Engine;
use crate::server::{AppState, app};

#[derive(Args, Debug)]
#[command(after_help = "Example:\n  loa serve --address 127.0.0.1:8080 --cache-dir cache\n\
                        then open http://127.0.0.1:8080/ and click \"Đọc nội dung\".")]
pub struct ServeArgs {
    /// Address to listen on (config server.address; env LOA_ADDRESS).
    #[arg(long, value_name = "HOST:PORT")]
    pub address: Option<String>,
    /// Cache directory (config cache.dir; env LOA_CACHE_DIR).
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Default voice (config speech.default_voice; env LOA_VOICE).
    #[arg(long, value_name = "NAME")]
    pub voice: Option<String>,
    /// Directory of voice files (config speech.voices_dir; env LOA_VOICES_DIR).
    #[arg(long, value_name = "DIR")]
    pub voices_dir: Option<PathBuf>,
    /// Syntheses at once (config server.synthesis_concurrency).
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,
    /// Allowed CORS origins, comma-separated; "*" for any (config server.cors_origins).
    #[arg(long, value_name = "ORIGINS", value_delimiter = ',')]
    pub cors_origins: Option<Vec<String>>,
}

impl ServeArgs {
    /// Flags override the file and the environment.
    pub fn apply(&self, config: &mut Config) {
        if let Some(a) = &self.address {
            config.server.address = a.clone();
        }
        if let Some(d) = &self.cache_dir {
            config.cache.dir = d.clone();
        }
        if let Some(v) = &self.voice {
            config.speech.default_voice = v.clone();
        }
        if let Some(d) = &self.voices_dir {
            config.speech.voices_dir = d.clone();
        }
        if let Some(n) = self.concurrency {
            config.server.synthesis_concurrency = n;
        }
        if let Some(o) = &self.cors_origins {
            config.server.cors_origins = o.clone();
        }
    }
}

pub fn serve(args: ServeArgs, config_path: Option<&Path>) -> anyhow::Result<ExitCode> {
    let mut config = Config::load(config_path).context("loading configuration")?;
    args.apply(&mut config);
    if config.server.synthesis_concurrency == 0 {
        anyhow::bail!(super::Exit { code: 2, message: "--concurrency must be at least 1".into() });
    }
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(run(config))?;
    Ok(ExitCode::SUCCESS)
}

async fn run(config: Config) -> anyhow::Result<()> {
    let address = config.server.address.clone();
    let engine = Engine::new(&config).context("starting the speech engine")?;
    for v in engine.voices() {
        if v.available {
            tracing::info!(voice = %v.name, backend = %v.backend, "voice available");
        } else {
            tracing::warn!(voice = %v.name, "voice unavailable: {}", v.problem.as_deref().unwrap_or("?"));
        }
    }
    let listener = tokio::net::TcpListener::bind(&address)
        .await
        .with_context(|| format!("cannot listen on {address}"))?;
    let local = listener.local_addr().context("reading the bound address")?;
    eprintln!("loa serving on http://{local}/ (demo page; widget at http://{local}/widget.js)");
    axum::serve(listener, app(AppState::new(engine)))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("serving HTTP")?;
    eprintln!("loa: stopped");
    Ok(())
}

/// Resolves on the first SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!("cannot listen for Ctrl-C: {e}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!("cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    eprintln!("loa: shutting down, finishing requests in flight…");
}
