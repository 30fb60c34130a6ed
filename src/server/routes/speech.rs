//! `POST /v1/speech` (audio, its URL, a chunked stream, or a sentence plan
//! for players) and
//! `GET /v1/speech/{key}/{index}.{ext}` (one sentence of a plan's audio,
//! synthesized on demand so a player can start within the first sentence).

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::{Utf16Offsets, article_text, parse_body, wants_json};
use crate::audio::Format;
use crate::cache::CacheKey;
use crate::pipeline::{Plan, Rendered};
use crate::server::files::{self, FileResponse};
use crate::server::policy::{self, TextRequest};
use crate::server::{ApiError, AppState, Client, budget, synth};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpeechRequest {
    pub text: Option<String>,
    pub html: Option<String>,
    /// An article page to fetch (allowlisted origins only).
    pub url: Option<String>,
    pub voice: Option<String>,
    /// The site's signature of `text` (or `html`) and `voice`, for
    /// `server.text_input = "signed"`.
    pub signature: Option<String>,
    pub format: Option<String>,
    /// `"audio"` (default: the bytes), `"url"` (JSON with the audio's URL),
    /// `"plan"` (JSON sentence plan for players; synthesis runs on) or
    /// `"stream"` (chunked MP3, sent as sentences complete).
    pub response: Option<String>,
}

/// One sentence of a plan, as players see it.
#[derive(Debug, Serialize)]
pub struct PlanSentence {
    pub index: usize,
    pub text: String,
    pub spoken: String,
    /// UTF-16 offsets of `text` in the submitted article (JavaScript indices).
    pub start: usize,
    pub end: usize,
    pub paragraph_start: bool,
    pub url: String,
    /// Silence after this sentence in the article's audio (0 after the last).
    pub pause_after_ms: u32,
    /// Exact length of the sentence's audio once the whole article is cached.
    pub duration_ms: Option<u64>,
}

#[derive(Debug, Serialize)]
pub struct PlanResponse {
    pub key: String,
    pub voice: String,
    pub format: String,
    pub audio_url: String,
    pub timings_url: String,
    /// True when the whole article's audio is already cached.
    pub ready: bool,
    pub sentences: Vec<PlanSentence>,
}

#[derive(Debug, Serialize)]
pub struct UrlResponse {
    pub key: String,
    pub voice: String,
    pub format: String,
    pub url: String,
    pub timings_url: String,
    pub from_cache: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
}

pub fn parse_format(format: Option<&str>) -> Result<Format, ApiError> {
    match format {
        None => Ok(Format::Mp3),
        Some(f) => Format::from_str(f)
            .map_err(|_| ApiError::bad_request("bad_format", format!("format {f:?} is not one of mp3, wav"))),
    }
}

pub fn audio_url(key: &str, format: Format) -> String {
    format!("/v1/audio/{key}.{}", format.ext())
}

/// 403 unless the text policy lets this request's words through.
pub fn check_policy(state: &AppState, req: &TextRequest<'_>) -> Result<(), ApiError> {
    let inner = state.inner();
    policy::check(inner.limits.text_input, inner.secrets.signing_key.as_deref(), req)
}

pub async fn speech(
    State(state): State<AppState>,
    client: Client,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let req: SpeechRequest = parse_body(body)?;
    check_policy(
        &state,
        &TextRequest {
            text: req.text.as_deref(),
            html: req.html.as_deref(),
            url: req.url.is_some(),
            voice: req.voice.as_deref(),
            signature: req.signature.as_deref(),
        },
    )?;
    let format = parse_format(req.format.as_deref())?;
    let mode = match req.response.as_deref() {
        None if wants_json(&headers) => "url",
        None => "audio",
        Some(m @ ("audio" | "url" | "plan" | "stream")) => m,
        Some(other) => {
            return Err(ApiError::bad_request(
                "bad_response",
                format!("response {other:?} is not one of audio, url, plan, stream"),
            ));
        }
    };
    let text = article_text(&state, req.text, req.html, req.url).await?;
    let plan = Arc::new(make_plan(&state, client, text.clone(), req.voice, format).await?);
    match mode {
        "plan" => plan_response(&state, client, &text, plan).await,
        "stream" => match synth::cached_render(&state, &plan).await? {
            Some(ready) => serve_rendered(&state, &ready, &headers).await,
            None => crate::server::stream::respond(&state, client, plan),
        },
        "url" => {
            let ready = synth::render(&state, client, Arc::clone(&plan)).await?;
            Ok(Json(url_response(&plan, &ready)).into_response())
        }
        _ => {
            let ready = synth::render(&state, client, Arc::clone(&plan)).await?;
            serve_rendered(&state, &ready, &headers).await
        }
    }
}

/// Fallback hops followed at most (the voice files cannot loop; this only
/// bounds a reload race).
const MAX_FALLBACKS: usize = 8;

/// Plan the article for `voice`, or for its fallback when that voice's
/// daily budget cannot pay for the article's new sentences (429
/// `budget_exhausted` when there is no fallback). Planning runs off the
/// async workers (splitting and normalizing a long article is CPU work).
pub async fn make_plan(
    state: &AppState,
    client: Client,
    text: String,
    voice: Option<String>,
    format: Format,
) -> Result<Plan, ApiError> {
    let engine = state.engine();
    let text: Arc<str> = text.into();
    let mut voice = voice;
    for _ in 0..=MAX_FALLBACKS {
        let (e, t, v) = (engine.clone(), Arc::clone(&text), voice.clone());
        let plan = tokio::task::spawn_blocking(move || e.plan(&t, v.as_deref(), format))
            .await
            .map_err(|_| ApiError::internal("planning task failed"))?
            .map_err(ApiError::from)?;
        let Some(budget) = engine.voice_budget(plan.voice()).filter(|b| b.is_limited()) else {
            return Ok(plan);
        };
        let cost = engine.uncached_chars(&plan).await?;
        if cost == 0 || state.inner().budgets.try_charge(plan.voice(), &budget, client, cost) {
            return Ok(plan);
        }
        match budget.fallback {
            Some(next) => {
                tracing::info!(voice = plan.voice(), fallback = %next, chars = cost, "voice budget spent; reading with the fallback voice");
                voice = Some(next);
            }
            None => return Err(ApiError::budget_exhausted(plan.voice(), budget::secs_to_tomorrow())),
        }
    }
    Err(ApiError::budget_exhausted(voice.as_deref().unwrap_or("?"), budget::secs_to_tomorrow()))
}

fn url_response(plan: &Plan, ready: &Rendered) -> UrlResponse {
    UrlResponse {
        key: ready.key.to_string(),
        voice: plan.voice().to_string(),
        format: plan.format().ext().to_string(),
        url: audio_url(ready.key.as_str(), plan.format()),
        timings_url: format!("/v1/audio/{}.json", ready.key),
        from_cache: ready.from_cache,
        duration_ms: Some(ready.duration_ms),
    }
}

/// Serve a finished render's audio with Range/ETag support.
pub async fn serve_rendered(
    state: &AppState,
    ready: &Rendered,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let format = ready.format;
    let etag = format!("\"{}.{}\"", ready.key, format.ext());
    let mut response = files::serve_object(
        &state.engine(),
        &state.inner().hot,
        &ready.key,
        format.into(),
        FileResponse { content_type: format.content_type(), etag: &etag, cache_control: files::IMMUTABLE },
        headers,
    )
    .await?
    .ok_or_else(|| ApiError::internal("the rendered audio disappeared from the store"))?;
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(ready.key.as_str()) {
        h.insert("x-loa-key", v);
    }
    if let Ok(v) = HeaderValue::from_str(&audio_url(ready.key.as_str(), format)) {
        h.insert(header::CONTENT_LOCATION, v);
    }
    Ok(response)
}

/// Per sentence: the length of its audio when the whole article is cached
/// (from the article's timings, less the pause after it); `None` until then.
async fn known_durations(state: &AppState, plan: &Plan, ready: bool) -> Vec<Option<u64>> {
    let none = vec![None; plan.len()];
    if !ready {
        return none;
    }
    match state.engine().timings(plan.key()).await {
        Ok(Some(t)) if t.sentences.len() == plan.len() => t
            .sentences
            .iter()
            .zip(plan.sentences())
            .map(|(t, s)| {
                Some(t.end_ms.saturating_sub(t.start_ms).saturating_sub(u64::from(s.pause_after_ms)))
            })
            .collect(),
        _ => none,
    }
}

async fn plan_response(
    state: &AppState,
    client: Client,
    text: &str,
    plan: Arc<Plan>,
) -> Result<Response, ApiError> {
    let ready = synth::cached_render(state, &plan).await?.is_some();
    if !ready {
        synth::start_render(state, client, Arc::clone(&plan))?;
    }
    state.engine().save_plan(&plan).await?;
    let stored = state.inner().plans.insert(Arc::clone(&plan));
    state.inner().http.plans.fetch_add(1, Ordering::Relaxed);
    let ext = plan.format().ext();
    let durations = known_durations(state, &stored, ready).await;
    let mut offsets = Utf16Offsets::new(text);
    let sentences = stored
        .sentences()
        .iter()
        .enumerate()
        .map(|(index, s)| PlanSentence {
            index,
            text: s.text.clone(),
            spoken: s.spoken.clone(),
            start: offsets.at(s.span.start),
            end: offsets.at(s.span.end),
            paragraph_start: s.paragraph_start,
            url: format!("/v1/speech/{}/{index}.{ext}", plan.key()),
            pause_after_ms: s.pause_after_ms,
            duration_ms: durations.get(index).copied().flatten(),
        })
        .collect();
    let body = PlanResponse {
        key: plan.key().to_string(),
        voice: plan.voice().to_string(),
        format: ext.to_string(),
        audio_url: audio_url(plan.key().as_str(), plan.format()),
        timings_url: format!("/v1/audio/{}.json", plan.key()),
        ready,
        sentences,
    };
    let mut response = Json(body).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// `GET /v1/speech/{key}/{index}.{ext}`.
pub async fn sentence_audio(
    State(state): State<AppState>,
    client: Client,
    Path((key, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let key = CacheKey::parse(&key)
        .ok_or_else(|| ApiError::bad_request("bad_key", "keys are lowercase hexadecimal"))?;
    let Some((index, ext)) = file.split_once('.') else {
        return Err(ApiError::not_found("not_found", "expected {index}.mp3 or {index}.wav"));
    };
    let index: usize = index
        .parse()
        .map_err(|_| ApiError::bad_request("bad_index", format!("{index:?} is not a sentence number")))?;
    let started = std::time::Instant::now();
    let plan = state.plan(&key).await?.ok_or_else(|| {
        ApiError::not_found("unknown_plan", "no such plan on this server; ask for a new one")
    })?;
    let format = plan.format();
    if ext != format.ext() {
        return Err(ApiError::not_found("not_found", format!("this plan's audio is .{}", format.ext())));
    }
    let audio = synth::sentence(&state, client, plan, index).await?;
    if index == 0 {
        // What a player waits for before the first sound (the body follows at once).
        metrics::histogram!("loa_time_to_first_audio_seconds", "kind" => "sentence")
            .record(started.elapsed().as_secs_f64());
    }
    let etag = format!("\"{}.{ext}\"", audio.key);
    if let Some(to_cdn) = files::redirect(&state.engine(), &audio.key, format.into(), &etag, &headers).await?
    {
        return Ok(to_cdn);
    }
    files::serve_object(
        &state.engine(),
        &state.inner().hot,
        &audio.key,
        format.into(),
        FileResponse { content_type: format.content_type(), etag: &etag, cache_control: files::IMMUTABLE },
        &headers,
    )
    .await?
    .ok_or_else(|| ApiError::internal("the sentence audio disappeared from the store"))
}
