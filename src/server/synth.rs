//! Running synthesis for the handlers: whole-article renders and single
//! sentences, each single-flight per key (concurrent requests share one
//! job), admitted through a bounded queue. A job holds its admission slot
//! until the engine's work has really ended; at the request timeout (or at
//! shutdown) its cancel token fires and the engine stops within about a
//! sentence, so neither a timeout nor a client that went away leaves work
//! running outside its slot. Cached results skip the queue entirely.

use std::sync::Arc;

use super::{ApiError, AppState};
use crate::pipeline::{Job, PipelineError, Plan, Rendered, SentenceAudio};

fn render_flight_key(plan: &Plan) -> String {
    format!("{}.{}", plan.key(), plan.format().ext())
}

/// Run `work` with a cancel token that fires at the request timeout or at
/// shutdown; a cancellation caused by the timeout is a 504.
async fn bounded<T>(
    state: &AppState,
    work: impl AsyncFnOnce(Job) -> Result<T, PipelineError>,
) -> Result<T, ApiError> {
    let timeout = state.timeout();
    let cancel = state.inner().shutdown.child_token();
    let timer = {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(timeout).await;
            cancel.cancel();
        })
    };
    let result = work(Job { cancel: cancel.clone(), ..Job::default() }).await;
    timer.abort();
    match result {
        Ok(v) => Ok(v),
        Err(PipelineError::Cancelled) if !state.inner().shutdown.is_cancelled() => {
            Err(ApiError::timeout(timeout.as_secs()))
        }
        Err(PipelineError::Cancelled) => Err(ApiError::shutting_down()),
        Err(e) => Err(ApiError::from(e)),
    }
}

/// The cached render of `plan`, if its audio and timings are stored.
pub async fn cached_render(state: &AppState, plan: &Plan) -> Result<Option<Rendered>, ApiError> {
    Ok(state.engine().cached_render(plan).await?)
}

/// Start rendering `plan` in the background unless it is already running.
/// Refuses with 503 when the queue is full.
pub fn start_render(state: &AppState, plan: Arc<Plan>) -> Result<(), ApiError> {
    if state.inner().render_slots.is_full() {
        return Err(ApiError::busy(state.retry_after()));
    }
    drop(join_render(state, plan));
    Ok(())
}

/// Render `plan` (or wait for the render already running) and return it.
pub async fn render(state: &AppState, plan: Arc<Plan>) -> Result<Rendered, ApiError> {
    if let Some(r) = cached_render(state, &plan).await? {
        return Ok(r);
    }
    Ok(join_render(state, plan).await?.as_ref().clone())
}

fn join_render(
    state: &AppState,
    plan: Arc<Plan>,
) -> impl std::future::Future<Output = Result<Arc<Rendered>, ApiError>> + use<> {
    let key = render_flight_key(&plan);
    let st = state.clone();
    let (job, _) = state.inner().renders.join(&key, move || async move {
        let _permit = st.inner().render_slots.acquire(st.retry_after()).await?;
        let engine = st.engine().clone();
        bounded(&st, async move |job| engine.render(&plan, &job).await).await.map(Arc::new)
    });
    job
}

/// One sentence's audio for `plan`, synthesized if needed.
pub async fn sentence(
    state: &AppState,
    plan: Arc<Plan>,
    index: usize,
) -> Result<Arc<SentenceAudio>, ApiError> {
    let s = plan.get(index).ok_or_else(|| {
        ApiError::not_found("no_such_sentence", format!("the article has no sentence {index}"))
    })?;
    if let Some(audio) = state.engine().cached_sentence(&plan, index).await? {
        return Ok(Arc::new(audio));
    }
    let st = state.clone();
    let flight = format!("{}.{}", s.key, plan.format().ext());
    let (job, _) = state.inner().sentences.join(&flight, move || async move {
        let _permit = st.inner().sentence_slots.acquire(st.retry_after()).await?;
        let engine = st.engine().clone();
        bounded(&st, async move |job| engine.sentence(&plan, index, &job).await).await.map(Arc::new)
    });
    job.await
}
