//! OpenAI-compatible `POST /v1/audio/speech` (`model`, `input`, `voice`,
//! `response_format`, `speed`) so existing clients can use loa. OpenAI's
//! own voice names (alloy, nova, …) map to the default voice; a loa voice
//! name selects that voice. `model` is accepted and ignored.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;

use super::{article_text, parse_body};
use crate::audio::Format;
use crate::server::policy::TextRequest;
use crate::server::routes::speech::{check_policy, make_plan, serve_rendered};
use crate::server::synth;
use crate::server::{ApiError, AppState, Client};

/// Voice names OpenAI clients send; loa reads them with its default voice.
const OPENAI_VOICES: &[&str] =
    &["alloy", "ash", "ballad", "coral", "echo", "fable", "nova", "onyx", "sage", "shimmer", "verse"];

#[derive(Debug, Deserialize)]
pub struct OpenAiSpeech {
    #[serde(default)]
    pub model: Option<String>,
    pub input: String,
    pub voice: String,
    #[serde(default)]
    pub response_format: Option<String>,
    #[serde(default)]
    pub speed: Option<f64>,
    /// The site's signature of `input` and `voice` (`server.text_input = "signed"`).
    #[serde(default)]
    pub signature: Option<String>,
}

pub async fn speech(
    State(state): State<AppState>,
    client: Client,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let req: OpenAiSpeech = parse_body(body)?;
    let _ = req.model;
    let format = match req.response_format.as_deref().unwrap_or("mp3") {
        "mp3" => Format::Mp3,
        "wav" => Format::Wav,
        other => {
            return Err(ApiError::bad_request(
                "unsupported_format",
                format!("response_format {other:?} is not supported; use mp3 or wav"),
            ));
        }
    };
    if let Some(speed) = req.speed {
        if !(0.25..=4.0).contains(&speed) {
            return Err(ApiError::bad_request("bad_speed", "speed must be between 0.25 and 4.0"));
        }
        if (speed - 1.0).abs() > 1e-6 {
            return Err(ApiError::bad_request(
                "unsupported_speed",
                "loa synthesizes at the voice's own rate; set speed 1.0 and change the player's playback rate",
            ));
        }
    }
    let voice = if OPENAI_VOICES.contains(&req.voice.as_str()) { None } else { Some(req.voice.as_str()) };
    check_policy(
        &state,
        &TextRequest {
            text: Some(&req.input),
            voice: Some(&req.voice),
            signature: req.signature.as_deref(),
            ..TextRequest::default()
        },
    )?;
    let text = article_text(&state, Some(req.input), None, None).await?;
    let plan = Arc::new(make_plan(&state, client, text, voice.map(str::to_string), format).await?);
    let ready = synth::render(&state, client, plan).await?;
    serve_rendered(&state, &ready, &headers).await
}
