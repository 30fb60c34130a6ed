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
    pub fn shutting_down() -> ApiError {
        ApiError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: "shutting_down",
            message: "the server is restarting; try again shortly".into(),
            retry_after: Some(2),
        }
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
    /// Clients get a stable code and a message without internal detail
    /// (paths, a remote engine's raw answer); the log gets everything.
    fn from(err: PipelineError) -> ApiError {
        let (status, code, message) = match &err {
            PipelineError::EmptyText => (StatusCode::BAD_REQUEST, "empty_text", err.to_string()),
            PipelineError::TooLong(_) => (StatusCode::PAYLOAD_TOO_LARGE, "too_long", err.to_string()),
            PipelineError::UnknownVoice { .. } => (StatusCode::NOT_FOUND, "unknown_voice", err.to_string()),
            PipelineError::NoSuchSentence { .. } => {
                (StatusCode::NOT_FOUND, "no_such_sentence", err.to_string())
            }
            PipelineError::VoiceUnavailable(..) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "voice_unavailable",
                "the voice is not available on this server".into(),
            ),
            PipelineError::Backend { index, .. } => (
                StatusCode::BAD_GATEWAY,
                "backend_failed",
                format!("the speech engine failed on sentence {}", index + 1),
            ),
            PipelineError::Timeout { index, .. } => (
                StatusCode::GATEWAY_TIMEOUT,
                "timeout",
                format!("the speech engine timed out on sentence {}", index + 1),
            ),
            PipelineError::Cancelled => {
                (StatusCode::SERVICE_UNAVAILABLE, "cancelled", "the request was cancelled".into())
            }
            e if e.is_storage_full() => (
                StatusCode::INSUFFICIENT_STORAGE,
                "storage_full",
                "the audio store is full; new audio cannot be made right now".into(),
            ),
            PipelineError::Cache(_) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "storage_error", "the audio store failed".into())
            }
            _ => (StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error".into()),
        };
        if status.is_server_error() {
            tracing::warn!(code, error = %err, "request failed");
        }
        ApiError::new(status, code, message)
    }
}
