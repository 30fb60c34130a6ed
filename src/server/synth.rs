//! Running synthesis for the handlers: whole-article renders and single
//! sentences, each single-flight per key (concurrent requests share one
//! job), admitted through a bounded queue and cut off by the request
//! timeout. Cached results skip the queue entirely.

use std::path::PathBuf;
use std::sync::Arc;

use super::{ApiError, AppState};
use crate::pipeline::Plan;

/// A finished whole-article render, from the cache or just made.
#[derive(Debug, Clone)]
pub struct Ready {
    pub key: String,
    pub audio: PathBuf,
    pub timings: PathBuf,
    pub duration_ms: Option<u64>,
    pub from_cache: bool,
}

fn render_flight_key(plan: &Plan) -> String {
    format!("{}.{}", plan.key, plan.format.ext())
}

/// The cached render of `plan`, if both its audio and timings are stored
/// (counted as a cache hit by the engine).
pub fn cached_render(state: &AppState, plan: &Plan) -> Option<Ready> {
    let r = state.engine().cached_render(plan)?;
    Some(Ready {
        key: r.key,
        audio: r.audio,
        timings: r.timings,
        duration_ms: Some(r.duration_ms),
        from_cache: true,
    })
}

/// Start rendering `plan` in the background unless it is cached or
/// already running. Refuses with 503 when the queue is full.
pub fn start_render(state: &AppState, plan: Arc<Plan>) -> Result<(), ApiError> {
    if cached_render(state, &plan).is_some() {
        return Ok(());
    }
    if state.inner().render_slots.is_full() {
        return Err(ApiError::busy(super::limits::RETRY_AFTER_SECS));
    }
    drop(join_render(state, plan));
    Ok(())
}

/// Render `plan` (or wait for the render already running) and return it.
pub async fn render(state: &AppState, plan: Arc<Plan>) -> Result<Ready, ApiError> {
    if let Some(ready) = cached_render(state, &plan) {
        return Ok(ready);
    }
    let rendered = join_render(state, plan).await?;
    Ok(Ready {
        key: rendered.key.clone(),
        audio: rendered.audio.clone(),
        timings: rendered.timings.clone(),
        duration_ms: Some(rendered.duration_ms),
        from_cache: rendered.from_cache,
    })
}

fn join_render(
    state: &AppState,
    plan: Arc<Plan>,
) -> impl std::future::Future<Output = Result<Arc<crate::pipeline::Rendered>, ApiError>> + use<> {
    let key = render_flight_key(&plan);
    let st = state.clone();
    let (job, _) = state.inner().renders.join(&key, move || async move {
        let _permit = st.inner().render_slots.acquire().await?;
        let timeout = st.timeout();
        let engine = st.engine().clone();
        match tokio::time::timeout(timeout, engine.render(&plan, &|_| {})).await {
            Ok(Ok(rendered)) => Ok(Arc::new(rendered)),
            Ok(Err(e)) => Err(ApiError::from(e)),
            Err(_) => Err(ApiError::timeout(timeout.as_secs())),
        }
    });
    job
}

/// One sentence's audio file for `plan`: `(sentence key, path)`.
pub async fn sentence(
    state: &AppState,
    plan: Arc<Plan>,
    index: usize,
) -> Result<(String, PathBuf), ApiError> {
    let skey = plan.sentence_keys.get(index).cloned().ok_or_else(|| {
        ApiError::not_found("no_such_sentence", format!("the article has no sentence {index}"))
    })?;
    let ext = plan.format.ext();
    if let Some(audio) = state.engine().cached_sentence(&plan, index) {
        return Ok((audio.key, audio.path));
    }
    let st = state.clone();
    let flight = format!("{skey}.{ext}");
    let (job, _) = state.inner().sentences.join(&flight, move || async move {
        let _permit = st.inner().sentence_slots.acquire().await?;
        let timeout = st.timeout();
        let engine = st.engine().clone();
        match tokio::time::timeout(timeout, engine.sentence(&plan, index)).await {
            Ok(Ok(audio)) => Ok(Arc::new(audio)),
            Ok(Err(e)) => Err(ApiError::from(e)),
            Err(_) => Err(ApiError::timeout(timeout.as_secs())),
        }
    });
    let audio = job.await?;
    Ok((audio.key.clone(), audio.path.clone()))
}
