//! Small endpoints: `GET /healthz`, `GET /metrics` (Prometheus text; with
//! the admin token when one is set), `GET /v1/config` (what a widget needs
//! to know: the text policy), `GET /v1/voices` and `POST /v1/normalize`
//! (sentences with their written and spoken forms; no synthesis).

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::{Utf16Offsets, article_text, parse_body};
use crate::cache::{Class, Tier};
use crate::server::metrics::Snapshot;
use crate::server::{ApiError, AppState};

#[derive(Serialize)]
pub struct Health {
    pub status: &'static str,
    pub version: &'static str,
    pub default_voice: String,
    pub voices_available: usize,
}

pub async fn healthz(State(state): State<AppState>) -> Json<Health> {
    let engine = state.engine();
    Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
        default_voice: engine.config().speech.default_voice.clone(),
        voices_available: engine.voices().iter().filter(|v| v.available).count(),
    })
}

/// `GET /metrics` on the main listener: the admin token when one is set.
pub async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    if let Some(token) = &state.inner().secrets.admin_token {
        let auth = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        if !crate::server::policy::bearer_matches(auth, token) {
            return Err(ApiError::unauthorized());
        }
    }
    Ok(metrics_open(State(state)).await.into_response())
}

/// `GET /metrics` with no check (the `server.metrics_address` listener).
pub async fn metrics_open(State(state): State<AppState>) -> impl IntoResponse {
    let store = state.engine().cache().disk_store().clone();
    if let Ok(Ok(u)) = tokio::task::spawn_blocking(move || store.usage()).await {
        for (class, bytes) in
            [(Class::Pregenerated, u.gen_bytes), (Class::OnDemand, u.live_bytes), (Class::Plan, u.plan_bytes)]
        {
            metrics::gauge!("loa_cache_bytes", "tier" => Tier::Local.as_str(), "class" => class.label())
                .set(bytes as f64);
        }
    }
    let m = state.engine().metrics().snapshot();
    let inner = state.inner();
    let snapshot = Snapshot {
        cache_hits: m.cache_hits,
        cache_misses: m.cache_misses,
        syntheses: m.syntheses,
        synthesis_seconds: m.synthesis_micros as f64 / 1e6,
        engine_in_flight: m.in_flight,
        queue_depth: (inner.render_slots.queued() + inner.sentence_slots.queued()) as u64,
        running: (inner.render_slots.running() + inner.sentence_slots.running()) as u64,
        queue_limit: inner.limits.queue_limit as u64,
        concurrency: inner.limits.synthesis_concurrency as u64,
    };
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], inner.http.render(&snapshot))
}

/// What clients need to know before they ask.
#[derive(Serialize)]
pub struct ServiceConfig {
    /// `open`, `signed` or `url`: what a speech request must carry.
    pub text_input: &'static str,
    pub default_voice: String,
    pub max_text_chars: usize,
}

pub async fn config(State(state): State<AppState>) -> Json<ServiceConfig> {
    let limits = &state.inner().limits;
    Json(ServiceConfig {
        text_input: limits.text_input.as_str(),
        default_voice: state.engine().default_voice().to_string(),
        max_text_chars: limits.max_text_chars,
    })
}

#[derive(Serialize)]
pub struct Voices {
    pub default: String,
    pub voices: Vec<crate::pipeline::VoiceInfo>,
}

pub async fn voices(State(state): State<AppState>) -> Json<Voices> {
    let engine = state.engine();
    Json(Voices { default: engine.config().speech.default_voice.clone(), voices: engine.voices() })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NormalizeRequest {
    pub text: Option<String>,
    pub html: Option<String>,
    pub url: Option<String>,
    /// As for `POST /v1/speech` (no voice: sign with an empty voice).
    pub signature: Option<String>,
}

#[derive(Serialize)]
pub struct NormalizedSentence {
    pub index: usize,
    pub text: String,
    pub spoken: String,
    pub start_byte: usize,
    pub end_byte: usize,
    /// UTF-16 offsets (JavaScript string indices) of `text` in the input.
    pub start: usize,
    pub end: usize,
    pub paragraph_start: bool,
}

#[derive(Serialize)]
pub struct Normalized {
    pub sentences: Vec<NormalizedSentence>,
}

pub async fn normalize(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Normalized>, ApiError> {
    let req: NormalizeRequest = parse_body(body)?;
    crate::server::routes::speech::check_policy(
        &state,
        &crate::server::policy::TextRequest {
            text: req.text.as_deref(),
            html: req.html.as_deref(),
            url: req.url.is_some(),
            signature: req.signature.as_deref(),
            ..Default::default()
        },
    )?;
    let text = article_text(&state, req.text, req.html, req.url).await?;
    let engine = state.engine();
    // Normalizing a long article is CPU work: keep it off the async workers.
    let sentences = tokio::task::spawn_blocking(move || {
        let mut offsets = Utf16Offsets::new(&text);
        engine
            .normalizer()
            .sentences(&text)
            .into_iter()
            .enumerate()
            .map(|(index, s)| NormalizedSentence {
                index,
                start: offsets.at(s.span.start),
                end: offsets.at(s.span.end),
                start_byte: s.span.start,
                end_byte: s.span.end,
                text: s.text,
                spoken: s.spoken,
                paragraph_start: s.paragraph_start,
            })
            .collect()
    })
    .await
    .map_err(|e| ApiError::internal(format!("normalizer task failed: {e}")))?;
    Ok(Json(Normalized { sentences }))
}
