//! The one error type of the HTTP layer: every failure a handler can meet
//! becomes an [`ApiError`], rendered as JSON `{"code", "message"}` with the
//! matching status (and `Retry-After` when the service is busy).

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::pipeline::PipelineError;

/// A failed request: status, a stable machine-readable code and a message
/// for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Seconds for `Retry-After` (503 only).
    pub retry_after: Option<u64>,
}

#[derive(Serialize)]
struct Body<'a> {
    code: &'a str,
    message: &'a str,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into(), retry_after: None }
    }
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }
    pub fn not_found(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, code, message)
    }
    pub fn too_large(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", message)
    }
    pub fn busy(retry_after: u64) -> ApiError {
        ApiError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: "busy",
            message: "too many articles are waiting for synthesis; try again shortly".into(),
            retry_after: Some(retry_after),
        }
    }
    pub fn timeout(secs: u64) -> ApiError {
        ApiError::new(StatusCode::GATEWAY_TIMEOUT, "timeout", format!("synthesis took longer than {secs} s"))
    }
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::warn!(status = %self.status, code = self.code, "{}", self.message);
        } else {
            tracing::debug!(status = %self.status, code = self.code, "{}", self.message);
        }
        let mut response =
            (self.status, Json(Body { code: self.code, message: &self.message })).into_response();
        if let Some(secs) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}

impl From<PipelineError> for ApiError {
    fn from(err: PipelineError) -> ApiError {
        let message = crate::report::chain(&err);
        let (status, code) = match &err {
            PipelineError::EmptyText => (StatusCode::BAD_REQUEST, "empty_text"),
            PipelineError::UnknownVoice { .. } => (StatusCode::NOT_FOUND, "unknown_voice"),
            PipelineError::VoiceUnavailable(..) => (StatusCode::SERVICE_UNAVAILABLE, "voice_unavailable"),
            PipelineError::Backend { .. } => (StatusCode::BAD_GATEWAY, "backend_failed"),
            PipelineError::Timeout { .. } => (StatusCode::GATEWAY_TIMEOUT, "timeout"),
            PipelineError::NoSuchSentence { .. } => (StatusCode::NOT_FOUND, "no_such_sentence"),
            _ => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        };
        ApiError::new(status, code, message)
    }
}
