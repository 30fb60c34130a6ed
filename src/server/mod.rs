//! HTTP service: the speech API, cached audio, the "Đọc nội dung" widget
//! and its demo page.
//!
//! [`app`] builds the whole [`axum::Router`] from an [`AppState`] without
//! binding a socket, so tests drive it with `tower::ServiceExt::oneshot`;
//! `loa serve` (in `cli::serve`) binds it and shuts it down gracefully.
//! Every failure is an [`ApiError`] rendered as JSON `{code, message}`.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::config::ServerConfig;
use crate::pipeline::{Engine, Rendered, SentenceAudio};

pub mod error;
pub mod files;
pub mod limits;
pub mod listen;
pub mod metrics;
pub mod openapi;
pub mod plans;
pub mod request_id;
mod routes;
pub mod stream;
pub mod synth;

pub use error::ApiError;

/// Memory for copies of recently served cache files, at most.
const HOT_FILES_BYTES: u64 = 64 * 1024 * 1024;

/// Text held by remembered plans, at most.
const PLAN_STORE_BYTES: usize = 64 * 1024 * 1024;

/// Everything the handlers share; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub engine: Engine,
    pub limits: ServerConfig,
    /// Whole-article renders (whole MP3/WAV + timings): at most
    /// `synthesis_concurrency` articles at once, each synthesizing up to its
    /// backend's `max_concurrency` sentences in parallel.
    pub render_slots: limits::Admission,
    /// Single sentences a player is waiting for; kept apart from renders
    /// so a long article cannot delay another listener's first sentence.
    /// Also `synthesis_concurrency` slots, so up to twice that many jobs
    /// (renders plus sentences) run at once.
    pub sentence_slots: limits::Admission,
    pub renders: limits::Flights<Arc<Rendered>>,
    pub sentences: limits::Flights<Arc<SentenceAudio>>,
    pub plans: plans::PlanStore,
    /// Fires at shutdown: every job stops within about a sentence.
    pub shutdown: crate::pipeline::CancellationToken,
    pub connections: Arc<listen::ConnectionMetrics>,
    pub http: metrics::HttpMetrics,
    /// Recently served cache files kept in memory.
    pub hot: files::HotFiles,
    /// Fetches `{"url": …}` articles: allowlisted origins only.
    pub fetcher: crate::fetch::Fetcher,
}

impl AppState {
    /// State for `engine`, with limits from its configuration.
    pub fn new(engine: Engine) -> AppState {
        let limits = engine.config().server.clone();
        AppState {
            inner: Arc::new(Inner {
                render_slots: limits::Admission::new(limits.synthesis_concurrency, limits.queue_limit),
                sentence_slots: limits::Admission::new(limits.synthesis_concurrency, limits.queue_limit),
                renders: limits::Flights::default(),
                sentences: limits::Flights::default(),
                plans: plans::PlanStore::new(PLAN_STORE_BYTES),
                shutdown: crate::pipeline::CancellationToken::new(),
                connections: Arc::default(),
                http: metrics::HttpMetrics::default(),
                hot: files::HotFiles::new(HOT_FILES_BYTES),
                fetcher: server_fetcher(engine.config()),
                limits,
                engine,
            }),
        }
    }

    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// Request counters of the HTTP layer.
    pub fn http_metrics(&self) -> &metrics::HttpMetrics {
        &self.inner.http
    }

    pub(crate) fn inner(&self) -> &Inner {
        &self.inner
    }

    fn timeout(&self) -> Duration {
        Duration::from_secs(self.inner.limits.request_timeout_secs.max(1))
    }

    /// Seconds suggested in `Retry-After` when the service is busy.
    fn retry_after(&self) -> u64 {
        self.inner.limits.retry_after_secs.max(1)
    }

    /// Stop every synthesis job (they end within about a sentence).
    pub fn shutdown(&self) {
        self.inner.shutdown.cancel();
    }

    /// A plan by key: recent ones from memory, others from the store (made
    /// by this instance before a restart, or by another instance).
    pub async fn plan(
        &self,
        key: &crate::cache::CacheKey,
    ) -> Result<Option<Arc<crate::pipeline::Plan>>, ApiError> {
        if let Some(p) = self.inner.plans.get(key.as_str()) {
            return Ok(Some(p));
        }
        match self.inner.engine.load_plan(key).await? {
            Some(p) => Ok(Some(self.inner.plans.insert(Arc::new(p)))),
            None => Ok(None),
        }
    }
}

/// The server's fetcher: allowlisted origins only, pages cached under the
/// cache directory. A bad `[sources]` section is refused when the config
/// loads; should one get here anyway, the fetcher refuses every URL.
fn server_fetcher(config: &crate::config::Config) -> crate::fetch::Fetcher {
    let dir = config.cache.dir.join("pages");
    crate::fetch::Fetcher::new(&config.sources, true, Some(&dir)).unwrap_or_else(|e| {
        tracing::error!("{e}; the server will fetch no URL");
        let none = crate::fetch::SourcesConfig::default();
        crate::fetch::Fetcher::new(&none, true, None).expect("the default sources config is valid")
    })
}

/// The whole service as a router.
pub fn app(state: AppState) -> Router {
    let limits = &state.inner.limits;
    let body_limit = limits.max_body_bytes;
    let cors = cors_layer(&limits.cors_origins);
    Router::new()
        .route("/", get(routes::assets::demo))
        .route("/widget.js", get(routes::assets::widget))
        .route("/healthz", get(routes::info::healthz))
        .route("/metrics", get(routes::info::metrics))
        .route("/openapi.json", get(openapi::document))
        .route("/v1/voices", get(routes::info::voices))
        .route("/v1/normalize", post(routes::info::normalize))
        .route("/v1/speech", post(routes::speech::speech))
        .route("/v1/speech/{key}/{file}", get(routes::speech::sentence_audio))
        .route("/v1/audio/speech", post(routes::openai::speech))
        .route("/v1/audio/{file}", get(routes::audio::cached))
        .fallback(routes::not_found)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(middleware::from_fn_with_state(state.clone(), count_requests))
        .layer(cors)
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_id::span)
                .on_response(DefaultOnResponse::new().level(Level::INFO))
                .on_failure(DefaultOnFailure::new().level(Level::WARN)),
        )
        .layer(middleware::from_fn(request_id::assign))
        .with_state(state)
}

async fn count_requests(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let response = next.run(request).await;
    state.inner.http.record(&route, response.status().as_u16());
    if response.status().as_u16() == 503 && response.headers().contains_key(header::RETRY_AFTER) {
        state.inner.http.rejected_busy.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    response
}

fn cors_layer(origins: &[String]) -> CorsLayer {
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
    };
    CorsLayer::new()
        .allow_origin(allow)
        .allow_methods([Method::GET, Method::HEAD, Method::POST, Method::OPTIONS])
        .allow_headers([header::CONTENT_TYPE, header::RANGE, header::IF_NONE_MATCH, header::AUTHORIZATION])
        .expose_headers([
            header::CONTENT_RANGE,
            header::CONTENT_LENGTH,
            header::ETAG,
            header::ACCEPT_RANGES,
            HeaderName::from_static("x-loa-key"),
            request_id::X_REQUEST_ID.clone(),
        ])
        .max_age(Duration::from_secs(3600))
}
