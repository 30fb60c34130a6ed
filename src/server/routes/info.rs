//! Small endpoints: `GET /healthz`, `GET /metrics` (Prometheus text),
//! `GET /v1/voices` and `POST /v1/normalize` (sentences with their written
//! and spoken forms; no synthesis).

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::header;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};

use super::{Utf16Offsets, article_text, parse_body};
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

pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
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
    let text = article_text(&state, req.text, req.html, req.url).await?;
    let engine = state.engine().clone();
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
