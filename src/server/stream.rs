//! `POST /v1/speech` with `"response": "stream"`: one MP3 sent as its
//! sentences complete (chunked), for clients that just play a stream
//! (`curl … | mpv -`). Each sentence's MP3 is followed by encoded silence
//! for the pause after it; the whole article keeps rendering in the
//! background so the next request gets the single cached file. A failure
//! mid-stream ends the connection with an error (the status is already
//! sent), and nothing partial is cached.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use futures::StreamExt;

use super::{ApiError, AppState, synth};
use crate::audio::{self, Format, Pcm};
use crate::pipeline::Plan;

/// A chunked MP3 response for `plan`, sentence by sentence.
pub fn respond(state: &AppState, plan: Arc<Plan>) -> Result<Response, ApiError> {
    if plan.format != Format::Mp3 {
        return Err(ApiError::bad_request("bad_format", "streaming is available for mp3 only"));
    }
    synth::start_render(state, Arc::clone(&plan))?;
    let config = &state.engine().config().speech;
    let (rate, kbps) = (config.sample_rate, config.mp3_bitrate_kbps);
    let key = plan.key.clone();
    let st = state.clone();
    let mut silences: HashMap<u32, Bytes> = HashMap::new();
    let chunks = futures::stream::iter(0..plan.sentences.len()).then(move |i| {
        let (st, plan) = (st.clone(), Arc::clone(&plan));
        let pause = plan.pauses_ms.get(i).copied().unwrap_or(0);
        let silence = match silences.get(&pause) {
            Some(s) => Ok(s.clone()),
            None => silence(rate, kbps, pause).inspect(|s| {
                silences.insert(pause, s.clone());
            }),
        };
        async move {
            let (_, path) = synth::sentence(&st, plan, i).await.map_err(std::io::Error::other)?;
            let mut bytes = tokio::fs::read(&path).await?;
            bytes.extend_from_slice(&silence?);
            Ok::<Bytes, std::io::Error>(Bytes::from(bytes))
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

fn silence(rate: u32, kbps: u32, ms: u32) -> Result<Bytes, std::io::Error> {
    if ms == 0 {
        return Ok(Bytes::new());
    }
    let pcm = Pcm { sample_rate: rate, samples: vec![0; (rate as u64 * ms as u64 / 1000) as usize] };
    audio::encode(&pcm, Format::Mp3, kbps).map(Bytes::from).map_err(std::io::Error::other)
}
