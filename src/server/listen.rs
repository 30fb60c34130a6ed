//! Accepting connections with the hygiene a public service needs, which
//! `axum::serve` does not offer: a header-read timeout (a client that
//! never finishes its request headers, or an idle keep-alive connection,
//! is closed after `server.header_timeout_secs`), a cap on open connections
//! below the file-descriptor limit (the soft limit is raised to the hard
//! one at start), accept errors that never stop the loop, and a graceful
//! shutdown with an overall deadline: connections finish their requests
//! for up to `server.shutdown_grace_secs`, then every synthesis job is
//! cancelled and the rest are dropped.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::extract::Request;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

use super::AppState;

/// Connection counters for `/metrics`.
#[derive(Debug, Default)]
pub struct ConnectionMetrics {
    pub open: AtomicU64,
    pub accepted: AtomicU64,
    /// Refused because `max_connections` were open.
    pub refused: AtomicU64,
}

/// Raise the soft limit on open files to the hard limit; returns the
/// resulting soft limit.
pub fn raise_fd_limit() -> u64 {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!(error = %e, "cannot raise the open-file limit");
            rlimit::getrlimit(rlimit::Resource::NOFILE).map(|(soft, _)| soft).unwrap_or(1024)
        }
    }
}

/// The connection cap: `configured`, or (0) what the fd limit allows with
/// room for the cache, the voices and the workers.
pub fn connection_cap(configured: usize, fd_limit: u64) -> usize {
    let room = fd_limit.saturating_sub(128).max(16) as usize;
    if configured == 0 { room.min(16_384) } else { configured.min(room) }
}

/// Serve `app` on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    state: AppState,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let limits = state.inner().limits.clone();
    let cap = connection_cap(limits.max_connections, raise_fd_limit());
    let permits = Arc::new(Semaphore::new(cap));
    let metrics = Arc::clone(&state.inner().connections);
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(limits.header_timeout_secs.max(1)))
        .max_buf_size(64 * 1024);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Duration::from_secs(limits.header_timeout_secs.max(1)))
        .keep_alive_timeout(Duration::from_secs(limits.header_timeout_secs.max(1)))
        .max_concurrent_streams(64);
    let graceful = GracefulShutdown::new();
    tracing::info!(
        max_connections = cap,
        header_timeout_secs = limits.header_timeout_secs,
        "accepting connections"
    );
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(x) => x,
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning; the
                    // loop (and /healthz) carry on once descriptors free up.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = Arc::clone(&permits).try_acquire_owned() else {
            metrics.refused.fetch_add(1, Ordering::Relaxed);
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        metrics.accepted.fetch_add(1, Ordering::Relaxed);
        metrics.open.fetch_add(1, Ordering::Relaxed);
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            let app = app.clone();
            async move {
                Ok::<_, Infallible>(
                    app.oneshot(req.map(axum::body::Body::new)).await.unwrap_or_else(|e| match e {}),
                )
            }
        });
        let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service).into_owned();
        let conn = graceful.watch(conn);
        let metrics = Arc::clone(&metrics);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
            metrics.open.fetch_sub(1, Ordering::Relaxed);
            drop(permit);
        });
    }
    drop(listener);
    let grace = Duration::from_secs(limits.shutdown_grace_secs);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(grace) => {
            tracing::warn!(secs = grace.as_secs(), "requests still running after the shutdown grace period; cancelling them");
            state.shutdown();
        }
    }
    // Jobs cancelled above end within about a sentence.
    state.shutdown();
    Ok(())
}

/// The peer address of a request served by [`serve`] (tests through
/// `app()` without a socket have none).
pub fn peer(req: &Request) -> Option<SocketAddr> {
    req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0)
}
