//! `POST /v1/speech` with `"response": "stream"`: one MP3 sent as its
//! sentences complete (chunked), for clients that just play a stream
//! (`curl … | mpv -`). The engine makes the bytes (sentence frames and
//! pre-encoded pauses, the same pieces as the cached article); the whole
//! article keeps rendering in the background so the next request gets the
//! single cached file. A failure mid-stream ends the connection with an
//! error (the status is already sent), and nothing partial is cached.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use futures::StreamExt;

use super::{ApiError, AppState, Client, synth};
use crate::audio::Format;
use crate::pipeline::{Job, Plan};

/// A chunked MP3 response for `plan`, sentence by sentence.
pub fn respond(state: &AppState, client: Client, plan: Arc<Plan>) -> Result<Response, ApiError> {
    if plan.format() != Format::Mp3 {
        return Err(ApiError::bad_request("bad_format", "streaming is available for mp3 only"));
    }
    synth::start_render(state, client, Arc::clone(&plan))?;
    let key = plan.key().to_string();
    let st = state.clone();
    let started = std::time::Instant::now();
    // Each sentence goes through admission like a player's request, then
    // its piece is read from the cache.
    let chunks = futures::stream::iter(0..plan.len()).then(move |i| {
        let (st, plan) = (st.clone(), Arc::clone(&plan));
        async move {
            synth::sentence(&st, client, Arc::clone(&plan), i).await.map_err(std::io::Error::other)?;
            let job = Job { cancel: st.inner().shutdown.child_token(), ..Job::default() };
            let chunk = st.engine().stream_chunk(&plan, i, &job).await.map_err(std::io::Error::other);
            if i == 0 {
                metrics::histogram!("loa_time_to_first_audio_seconds", "kind" => "stream")
                    .record(started.elapsed().as_secs_f64());
            }
            chunk
        }
    });
    let mut response = Response::new(Body::from_stream(chunks));
    *response.status_mut() = StatusCode::OK;
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("audio/mpeg"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&key) {
        h.insert("x-loa-key", v);
    }
    Ok(response)
}
