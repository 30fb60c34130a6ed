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
    /// Seconds for `Retry-After` (429 and 503).
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
    /// 429: a per-client limit; `message` says which.
    pub fn rate_limited(retry_after: u64, message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::TOO_MANY_REQUESTS,
            code: "rate_limited",
            message: message.into(),
            retry_after: Some(retry_after.max(1)),
        }
    }
    /// 429: a paid voice's daily budget is spent and it has no fallback.
    pub fn budget_exhausted(voice: &str, retry_after: u64) -> ApiError {
        ApiError {
            status: StatusCode::TOO_MANY_REQUESTS,
            code: "budget_exhausted",
            message: format!("the daily budget of voice {voice:?} is spent; try again tomorrow"),
            retry_after: Some(retry_after.max(1)),
        }
    }
    pub fn forbidden(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, code, message)
    }
    pub fn unauthorized() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "this endpoint needs \"Authorization: Bearer\" with the admin token",
        )
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
        // What went wrong inside stays in the log.
        let message = if self.code == "internal" { "internal error" } else { &self.message };
        let mut response = (self.status, Json(Body { code: self.code, message })).into_response();
        if let Some(secs) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// Middleware: any 4xx/5xx that is not already JSON (the router's 405, an
/// extractor's rejection, a layer's error) becomes `{code, message}`, with
/// its status kept and its text dropped (it can name internals).
pub async fn json_errors(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return response;
    }
    let (code, message) = match status {
        StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "this endpoint does not take that method"),
        StatusCode::NOT_FOUND => ("not_found", "no such endpoint"),
        StatusCode::PAYLOAD_TOO_LARGE => ("too_large", "request body is larger than the configured limit"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ("unsupported_media_type", "send JSON"),
        s if s.is_client_error() => ("bad_request", "the request is not valid for this endpoint"),
        _ => ("internal", "internal error"),
    };
    let mut fixed = ApiError::new(status, code, message).into_response();
    for name in [header::ALLOW, header::RETRY_AFTER, header::WWW_AUTHENTICATE, header::CONTENT_RANGE] {
        if let Some(v) = response.headers().get(&name) {
            fixed.headers_mut().insert(name, v.clone());
        }
    }
    fixed
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
