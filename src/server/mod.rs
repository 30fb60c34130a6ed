//! HTTP service: the speech API, cached audio, the "Đọc nội dung" widget
//! and its demo page.
//!
//! [`app`] builds the whole [`axum::Router`] from an [`AppState`] without
//! binding a socket, so tests drive it with `tower::ServiceExt::oneshot`;
//! `loa serve` (in `cli::serve`) binds it and shuts it down gracefully.
//! Every failure is an [`ApiError`] rendered as JSON `{code, message}`.
//!
//! Trust ([`policy`], [`client`], [`rate`], [`budget`], `routes::admin`):
//! the text policy says whose words are read, every request is counted
//! against its client's limits, paid voices against their daily budgets,
//! and the admin API exists only when `LOA_ADMIN_TOKEN` is set.

use std::sync::{Arc, RwLock};
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

pub mod budget;
pub mod client;
pub mod error;
pub mod files;
pub mod limits;
pub mod listen;
pub mod metrics;
pub mod openapi;
pub mod plans;
pub mod policy;
pub mod rate;
pub mod request_id;
mod routes;
pub mod stream;
pub mod synth;

pub use client::Client;
pub use error::ApiError;
pub use policy::Secrets;

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
    /// Replaced whole by `POST /v1/admin/reload`.
    pub engine: RwLock<Engine>,
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
    pub secrets: Secrets,
    pub proxies: client::TrustedProxies,
    pub rates: rate::Rates,
    pub budgets: budget::Budgets,
    /// Fetches `{"url": …}` articles: allowlisted origins only.
    pub fetcher: crate::fetch::Fetcher,
}

impl AppState {
    /// State for `engine`, with limits from its configuration and the
    /// secrets from the environment (`LOA_SIGNING_KEY`, `LOA_ADMIN_TOKEN`).
    pub fn new(engine: Engine) -> AppState {
        AppState::with_secrets(engine, Secrets::from_env())
    }

    /// State for `engine` with the given secrets.
    pub fn with_secrets(engine: Engine, secrets: Secrets) -> AppState {
        let limits = engine.config().server.clone();
        let proxies = client::TrustedProxies::parse(&limits.trusted_proxies, limits.forwarded_header)
            .unwrap_or_else(|e| {
                tracing::error!("{e}; no proxy is trusted");
                client::TrustedProxies::default()
            });
        let per_client = limits.limits.jobs_per_client;
        let budgets = budget::Budgets::open(&engine.config().cache.dir);
        AppState {
            inner: Arc::new(Inner {
                render_slots: limits::Admission::new(
                    limits.synthesis_concurrency,
                    limits.queue_limit,
                    per_client,
                ),
                sentence_slots: limits::Admission::new(
                    limits.synthesis_concurrency,
                    limits.queue_limit,
                    per_client,
                ),
                secrets,
                proxies,
                rates: rate::Rates::new(&limits.limits),
                budgets,
                renders: limits::Flights::default(),
                sentences: limits::Flights::default(),
                plans: plans::PlanStore::new(PLAN_STORE_BYTES),
                shutdown: crate::pipeline::CancellationToken::new(),
                connections: Arc::default(),
                http: metrics::HttpMetrics::default(),
                hot: files::HotFiles::new(HOT_FILES_BYTES),
                fetcher: server_fetcher(engine.config()),
                limits,
                engine: RwLock::new(engine),
            }),
        }
    }

    /// The engine in use now (a cheap handle; a reload replaces it for
    /// later requests while this one finishes its work).
    pub fn engine(&self) -> Engine {
        self.inner.engine.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Put `engine` in place of the current one.
    pub(crate) fn replace_engine(&self, engine: Engine) {
        *self.inner.engine.write().unwrap_or_else(|e| e.into_inner()) = engine;
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
        match self.engine().load_plan(key).await? {
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

/// The whole service as a router. `/metrics` is here unless
/// `server.metrics_address` moves it to [`metrics_app`]; it needs the admin
/// token whenever one is set. The admin API exists only with a token.
pub fn app(state: AppState) -> Router {
    // The histograms of /metrics are recorded from here on.
    let _ = metrics::prometheus();
    let limits = &state.inner.limits;
    let body_limit = limits.max_body_bytes;
    let cors = cors_layer(&limits.cors_origins);
    let admin = state.inner.secrets.admin_token.is_some();
    let mut router = Router::new();
    if admin {
        router =
            router.route("/metrics", get(routes::info::metrics)).merge(routes::admin::router(state.clone()));
    } else if limits.metrics_address.is_none() {
        router = router.route("/metrics", get(routes::info::metrics));
    }
    router
        .route("/", get(routes::assets::demo))
        .route("/widget.js", get(routes::assets::widget))
        .route("/healthz", get(routes::info::healthz))
        .route("/openapi.json", get(openapi::document))
        .route("/v1/config", get(routes::info::config))
        .route("/v1/voices", get(routes::info::voices))
        .route("/v1/normalize", post(routes::info::normalize))
        .route("/v1/speech", post(routes::speech::speech))
        .route("/v1/speech/{key}/{file}", get(routes::speech::sentence_audio))
        .route("/v1/audio/speech", post(routes::openai::speech))
        .route("/v1/audio/{file}", get(routes::audio::cached))
        .fallback(routes::not_found)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(middleware::from_fn(error::json_errors))
        .layer(middleware::from_fn_with_state(state.clone(), client::identify))
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

/// Only `GET /metrics`, without a token: for `server.metrics_address`.
pub fn metrics_app(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(routes::info::metrics_open))
        .fallback(routes::not_found)
        .layer(middleware::from_fn(error::json_errors))
        .with_state(state)
}

async fn count_requests(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    ::metrics::histogram!("loa_http_request_duration_seconds", "route" => route.clone())
        .record(started.elapsed().as_secs_f64());
    state.inner.http.record(&route, response.status().as_u16());
    if response.status().as_u16() == 503 && response.headers().contains_key(header::RETRY_AFTER) {
        state.inner.http.rejected_busy.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    response
}

/// CORS for the pages of `origins` (`"*"`: any page; empty: none). The
/// preflight offers what the widget and browser clients use, nothing more:
/// the admin API (DELETE, `Authorization`) is for the operator's tools.
fn cors_layer(origins: &[String]) -> CorsLayer {
    let allow = if origins.iter().any(|o| o.trim() == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().filter_map(|o| {
            let o = o.trim().trim_end_matches('/');
            match HeaderValue::from_str(o) {
                Ok(v) => Some(v),
                Err(_) => {
                    tracing::warn!(origin = o, "ignoring a CORS origin that is not a valid header value");
                    None
                }
            }
        }))
    };
    CorsLayer::new()
        .allow_origin(allow)
        .allow_methods([Method::GET, Method::HEAD, Method::POST])
        .allow_headers([header::CONTENT_TYPE, header::RANGE, header::IF_NONE_MATCH, header::IF_RANGE])
        .expose_headers([
            header::CONTENT_RANGE,
            header::CONTENT_LENGTH,
            header::ETAG,
            header::ACCEPT_RANGES,
            header::RETRY_AFTER,
            HeaderName::from_static("x-loa-key"),
            request_id::X_REQUEST_ID.clone(),
        ])
        .max_age(Duration::from_secs(3600))
}
