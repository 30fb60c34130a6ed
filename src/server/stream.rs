//! `POST /v1/speech` with `"response": "stream"`: one MP3 sent as its
//! sentences complete (chunked), for clients that just play a stream
//! (`curl … | mpv -`). Each sentence's MP3 is followed by encoded silence
//! for the pause after it; their ID3 tags and Xing/Info header frames are
//! dropped, since a decoder that trusts the first piece's frame count would
//! stop after the first sentence; the whole article keeps rendering in the
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
            let file = tokio::fs::read(&path).await?;
            let silence = silence?;
            let mut bytes = frames_only(&file).to_vec();
            bytes.extend_from_slice(frames_only(&silence));
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

/// The MPEG audio frames of an MP3 file: without a leading ID3v2 tag and
/// without a Xing/Info (LAME) header frame.
pub fn frames_only(mp3: &[u8]) -> &[u8] {
    let mut data = mp3;
    if data.len() >= 10 && &data[..3] == b"ID3" {
        let size = data[6..10].iter().fold(0usize, |acc, &b| (acc << 7) | (b & 0x7f) as usize);
        let footer = if data[5] & 0x10 != 0 { 10 } else { 0 };
        data = data.get(10 + size + footer..).unwrap_or(&[]);
    }
    if let Some(len) = frame_len(data) {
        let probe = &data[4..len.min(data.len()).min(64)];
        if probe.windows(4).any(|w| w == b"Xing" || w == b"Info") {
            return data.get(len..).unwrap_or(&[]);
        }
    }
    data
}

/// Length in bytes of the MPEG layer III frame at the start of `data`.
fn frame_len(data: &[u8]) -> Option<usize> {
    if data.len() < 4 || data[0] != 0xff || data[1] & 0xe0 != 0xe0 || (data[1] >> 1) & 3 != 1 {
        return None;
    }
    let version = (data[1] >> 3) & 3; // 3 = MPEG-1, 2 = MPEG-2, 0 = MPEG-2.5
    let bitrate_index = (data[2] >> 4) as usize;
    let rate_index = ((data[2] >> 2) & 3) as usize;
    let padding = ((data[2] >> 1) & 1) as usize;
    if version == 1 || bitrate_index == 0 || bitrate_index == 15 || rate_index == 3 {
        return None;
    }
    const V1: [usize; 15] = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
    const V2: [usize; 15] = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];
    let (kbps, rate, coefficient) = match version {
        3 => (V1[bitrate_index], [44100, 48000, 32000][rate_index], 144_000),
        2 => (V2[bitrate_index], [22050, 24000, 16000][rate_index], 72_000),
        _ => (V2[bitrate_index], [11025, 12000, 8000][rate_index], 72_000),
    };
    Some(coefficient * kbps / rate + padding)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_the_info_frame_and_keeps_the_audio_frames() {
        let pcm = Pcm { sample_rate: 22050, samples: (0..22050).map(|i| ((i % 50) * 300) as i16).collect() };
        let mp3 = audio::encode(&pcm, Format::Mp3, 64).unwrap();
        let frames = frames_only(&mp3);
        assert!(frames.len() < mp3.len(), "an Info/Xing frame was expected from LAME");
        assert!(frame_len(frames).is_some(), "what is left starts with an audio frame");
        assert!(!frames[..64].windows(4).any(|w| w == b"Xing" || w == b"Info"));
        assert_eq!(frames_only(frames), frames, "idempotent");
        assert_eq!(frames_only(b"not mp3"), b"not mp3");
        let mut tagged = b"ID3\x04\x00\x00\x00\x00\x00\x02ab".to_vec();
        tagged.extend_from_slice(&mp3);
        assert_eq!(frames_only(&tagged), frames);
    }
}
