//! The operator's API under `/v1/admin/`, mounted only when
//! `LOA_ADMIN_TOKEN` is set and answered only with
//! `Authorization: Bearer <token>` (401 otherwise):
//!
//! * `GET /v1/admin/cache`: what the store holds, by class and extension;
//! * `DELETE /v1/admin/audio/{key}`: purge an article (its audio in both
//!   formats, its timings and plan, and its sentences' audio) or one
//!   sentence's audio; the next request synthesizes it again;
//! * `POST /v1/admin/prune`: `{"max_bytes": N}` or `{"older_than_secs": N}`
//!   (default: down to `cache.max_bytes`), like `loa cache prune`;
//! * `POST /v1/admin/reload`: voices and lexicons read again, no restart
//!   (a bad file leaves the old ones in use);
//! * `GET /v1/admin/plans?limit=N`: plans handed out recently;
//! * `GET /v1/admin/budgets`: paid voices' spending today.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::parse_body;
use crate::cache::{CacheKey, Ext};
use crate::server::policy::bearer_matches;
use crate::server::{ApiError, AppState, Client};

/// The admin routes, each behind the token check.
pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/v1/admin/cache", get(cache))
        .route("/v1/admin/audio/{key}", delete(purge))
        .route("/v1/admin/prune", post(prune))
        .route("/v1/admin/reload", post(reload))
        .route("/v1/admin/plans", get(plans))
        .route("/v1/admin/budgets", get(budgets))
        .route_layer(middleware::from_fn_with_state(state, require_token))
}

async fn require_token(
    State(state): State<AppState>,
    client: Client,
    request: Request,
    next: Next,
) -> Response {
    let auth = request.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    match state.inner().secrets.admin_token.as_deref() {
        Some(token) if bearer_matches(auth, token) => next.run(request).await,
        _ => {
            tracing::warn!(%client, path = request.uri().path(), "admin request without the right token");
            ApiError::unauthorized().into_response()
        }
    }
}

fn storage_error(e: impl std::fmt::Display) -> ApiError {
    tracing::error!(error = %e, "admin: the store failed");
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "storage_error", "the audio store failed")
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| ApiError::internal(format!("admin task failed: {e}")))
}

#[derive(Serialize)]
struct Kind {
    class: String,
    ext: String,
    objects: u64,
    bytes: u64,
}

#[derive(Serialize)]
struct CacheReport {
    /// `disk`, or `tiered` (a local disk tier in front of an object store;
    /// the counts are the local tier's).
    store: &'static str,
    objects: u64,
    bytes: u64,
    max_bytes: u64,
    by_kind: Vec<Kind>,
    hot_bytes: u64,
    plans_in_memory: usize,
    renders_running: usize,
    sentences_running: usize,
}

async fn cache(State(state): State<AppState>) -> Result<Json<CacheReport>, ApiError> {
    let engine = state.engine();
    let disk = engine.cache().disk_store().clone();
    let stats = blocking(move || disk.stats()).await?.map_err(storage_error)?;
    let inner = state.inner();
    Ok(Json(CacheReport {
        store: if engine.cache().is_tiered() { "tiered" } else { "disk" },
        objects: stats.objects,
        bytes: stats.bytes,
        max_bytes: stats.max_bytes,
        by_kind: stats
            .by_kind
            .into_iter()
            .map(|(class, ext, objects, bytes)| Kind { class, ext, objects, bytes })
            .collect(),
        hot_bytes: inner.hot.bytes(),
        plans_in_memory: inner.plans.len(),
        renders_running: inner.renders.len(),
        sentences_running: inner.sentences.len(),
    }))
}

#[derive(Serialize)]
struct Purged {
    key: String,
    /// The key is an article's (its plan was known): its sentences were purged too.
    article: bool,
    objects_removed: usize,
    sentences: usize,
}

/// Remove every copy of `key` in every format, from the store and memory.
async fn purge_key(state: &AppState, key: &CacheKey) -> Result<usize, ApiError> {
    let engine = state.engine();
    let mut removed = 0;
    for ext in [Ext::Mp3, Ext::Wav, Ext::Json] {
        removed += engine.cache().purge(key, ext).await.map_err(storage_error)?;
        state.inner().hot.remove(&format!("{key}.{}", ext.as_str()));
    }
    Ok(removed)
}

async fn purge(State(state): State<AppState>, Path(key): Path<String>) -> Result<Json<Purged>, ApiError> {
    let key = CacheKey::parse(&key)
        .ok_or_else(|| ApiError::bad_request("bad_key", "keys are lowercase hexadecimal"))?;
    // The article's sentences first, from its plan or its timings (purging
    // the article's JSON removes both).
    let mut parts: Vec<CacheKey> = match state.plan(&key).await? {
        Some(plan) => plan.sentences().iter().map(|s| s.key.clone()).collect(),
        None => Vec::new(),
    };
    if parts.is_empty()
        && let Some(t) = state.engine().timings(&key).await?
    {
        parts = t.sentences.iter().filter_map(|s| CacheKey::parse(&s.audio_key)).collect();
    }
    let article = !parts.is_empty();
    let mut removed = purge_key(&state, &key).await?;
    let mut sentences = 0;
    for part in &parts {
        let n = purge_key(&state, part).await?;
        removed += n;
        sentences += usize::from(n > 0);
    }
    if removed == 0 {
        return Err(ApiError::not_found("not_cached", format!("nothing is stored under {key}")));
    }
    tracing::info!(%key, removed, sentences, "admin: purged");
    Ok(Json(Purged { key: key.to_string(), article, objects_removed: removed, sentences }))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct PruneRequest {
    max_bytes: Option<u64>,
    older_than_secs: Option<u64>,
}

async fn prune(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<crate::cache::Pruned>, ApiError> {
    let req: PruneRequest = match &body {
        Ok(b) if b.iter().all(u8::is_ascii_whitespace) => PruneRequest::default(),
        _ => parse_body(body)?,
    };
    let engine = state.engine();
    let disk = engine.cache().disk_store().clone();
    let target = req.max_bytes.unwrap_or(disk.max_bytes());
    let report = match req.older_than_secs {
        Some(secs) => {
            let cutoff = SystemTime::now()
                .checked_sub(Duration::from_secs(secs))
                .ok_or_else(|| ApiError::bad_request("bad_request", "older_than_secs is too large"))?;
            blocking(move || disk.prune_older_than(cutoff)).await?
        }
        None => blocking(move || disk.prune_to(target)).await?,
    }
    .map_err(storage_error)?;
    state.inner().hot.clear();
    tracing::info!(removed = report.removed, freed = report.freed_bytes, "admin: pruned");
    Ok(Json(report))
}

#[derive(Serialize)]
struct Reloaded {
    voices: Vec<crate::pipeline::VoiceInfo>,
    default_voice: String,
}

async fn reload(State(state): State<AppState>) -> Result<Json<Reloaded>, ApiError> {
    let engine = state.engine();
    let fresh = blocking(move || engine.reload()).await?.map_err(|e| {
        tracing::error!(error = %e, "admin: reload failed; the voices and lexicons in use stay");
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "reload_failed",
            "the voice files or lexicons are not valid; the ones in use stay (the server log says why)",
        )
    })?;
    let voices = fresh.voices();
    let default_voice = fresh.default_voice().to_string();
    state.replace_engine(fresh);
    tracing::info!(voices = voices.len(), "admin: voices and lexicons reloaded");
    Ok(Json(Reloaded { voices, default_voice }))
}

#[derive(Deserialize)]
struct PlansQuery {
    limit: Option<usize>,
}

#[derive(Serialize)]
struct PlanSummary {
    key: String,
    voice: String,
    format: &'static str,
    sentences: usize,
    chars: usize,
    audio_url: String,
}

async fn plans(State(state): State<AppState>, Query(q): Query<PlansQuery>) -> Json<Vec<PlanSummary>> {
    let plans = state.inner().plans.recent(q.limit.unwrap_or(100).min(10_000));
    Json(
        plans
            .iter()
            .map(|p: &Arc<crate::pipeline::Plan>| PlanSummary {
                key: p.key().to_string(),
                voice: p.voice().to_string(),
                format: p.format().ext(),
                sentences: p.len(),
                chars: p.sentences().iter().map(|s| s.text.chars().count()).sum(),
                audio_url: super::speech::audio_url(p.key().as_str(), p.format()),
            })
            .collect(),
    )
}

#[derive(Serialize)]
struct BudgetReport {
    voice: String,
    chars_today: u64,
    clients_today: usize,
    max_chars_per_day: Option<u64>,
    max_chars_per_client_per_day: Option<u64>,
    fallback: Option<String>,
}

async fn budgets(State(state): State<AppState>) -> Json<Vec<BudgetReport>> {
    let engine = state.engine();
    let spent = state.inner().budgets.report();
    let mut out = Vec::new();
    for v in engine.voices() {
        let Some(b) = engine.voice_budget(&v.name).filter(|b| b.is_limited()) else { continue };
        let today = spent.iter().find(|s| s.voice == v.name);
        out.push(BudgetReport {
            chars_today: today.map_or(0, |s| s.chars_today),
            clients_today: today.map_or(0, |s| s.clients_today),
            voice: v.name,
            max_chars_per_day: b.max_chars_per_day,
            max_chars_per_client_per_day: b.max_chars_per_client_per_day,
            fallback: b.fallback,
        });
    }
    Json(out)
}
