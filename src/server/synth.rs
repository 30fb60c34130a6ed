//! Running synthesis for the handlers: whole-article renders and single
//! sentences, each single-flight per key (concurrent requests share one
//! job), admitted through a bounded queue. A job holds its admission slot
//! until the engine's work has really ended; at the request timeout (or at
//! shutdown) its cancel token fires and the engine stops within about a
//! sentence, so neither a timeout nor a client that went away leaves work
//! running outside its slot. Cached results skip the queue entirely.
//!
//! A job is charged to the client that starts it: one token of its
//! synthesis rate limit and a place among its jobs in the pool (both
//! checked before the job starts, so refusals are this request's answer).
//! Joining a job that is already running is free, and so is a sentence
//! whose article is being rendered (the render makes it).

use std::sync::Arc;

use super::client::Client;
use super::limits::{Admission, Ticket};
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

/// A place in `pool` for a new job of `client`, after a token of its
/// synthesis rate limit (429 when either is spent, 503 when the pool's
/// line is full).
fn admit(state: &AppState, pool: &Admission, client: Client) -> Result<Ticket, ApiError> {
    state.inner().rates.check_synthesis(client)?;
    pool.admit(client, state.retry_after())
}

/// Start rendering `plan` in the background unless it is already running.
/// Refuses (429, 503) when `client` may not start another job now.
pub fn start_render(state: &AppState, client: Client, plan: Arc<Plan>) -> Result<(), ApiError> {
    if state.inner().renders.contains(&render_flight_key(&plan)) {
        return Ok(());
    }
    let ticket = admit(state, &state.inner().render_slots, client)?;
    drop(join_render(state, plan, ticket));
    Ok(())
}

/// Render `plan` (or wait for the render already running) and return it.
pub async fn render(state: &AppState, client: Client, plan: Arc<Plan>) -> Result<Rendered, ApiError> {
    if let Some(r) = cached_render(state, &plan).await? {
        return Ok(r);
    }
    let key = render_flight_key(&plan);
    let job = match state.inner().renders.get(&key) {
        Some(running) => running,
        None => join_render(state, plan, admit(state, &state.inner().render_slots, client)?),
    };
    Ok(job.await?.as_ref().clone())
}

fn join_render(state: &AppState, plan: Arc<Plan>, ticket: Ticket) -> super::limits::SharedJob<Arc<Rendered>> {
    let key = render_flight_key(&plan);
    let st = state.clone();
    // A render already running makes the ticket unused: dropped, its place freed.
    let (job, _) = state.inner().renders.join(&key, move || async move {
        let mut ticket = ticket;
        ticket.ready().await?;
        let engine = st.engine();
        let out = bounded(&st, async move |job| engine.render(&plan, &job).await).await.map(Arc::new);
        drop(ticket);
        out
    });
    job
}

/// One sentence's audio for `plan`, synthesized if needed.
pub async fn sentence(
    state: &AppState,
    client: Client,
    plan: Arc<Plan>,
    index: usize,
) -> Result<Arc<SentenceAudio>, ApiError> {
    let s = plan.get(index).ok_or_else(|| {
        ApiError::not_found("no_such_sentence", format!("the article has no sentence {index}"))
    })?;
    if let Some(audio) = state.engine().cached_sentence(&plan, index).await? {
        return Ok(Arc::new(audio));
    }
    let flight = format!("{}.{}", s.key, plan.format().ext());
    if let Some(running) = state.inner().sentences.get(&flight) {
        return running.await;
    }
    let pool = &state.inner().sentence_slots;
    // The article's render makes this sentence anyway: no token for it.
    let ticket = if state.inner().renders.contains(&render_flight_key(&plan)) {
        pool.admit(client, state.retry_after())?
    } else {
        admit(state, pool, client)?
    };
    let st = state.clone();
    let (job, _) = state.inner().sentences.join(&flight, move || async move {
        let mut ticket = ticket;
        ticket.ready().await?;
        let engine = st.engine();
        let out =
            bounded(&st, async move |job| engine.sentence(&plan, index, &job).await).await.map(Arc::new);
        drop(ticket);
        out
    });
    job.await
}
