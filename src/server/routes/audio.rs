//! `GET /v1/audio/{key}.{mp3|wav|json}`: cached article audio and its
//! sentence timings, content-addressed, with Range/ETag/304 support. Keys
//! are validated (lowercase hex only) before they reach the file system.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;

use crate::server::files::{self, FileResponse};
use crate::server::{ApiError, AppState, valid_key};

pub async fn cached(
    State(state): State<AppState>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Some((key, ext)) = file.rsplit_once('.') else {
        return Err(ApiError::not_found("not_found", "expected {key}.mp3, {key}.wav or {key}.json"));
    };
    let content_type = match ext {
        "mp3" => "audio/mpeg",
        "wav" => "audio/wav",
        "json" => "application/json",
        _ => return Err(ApiError::not_found("not_found", format!("no .{ext} objects here"))),
    };
    if !valid_key(key) {
        return Err(ApiError::bad_request("bad_key", "keys are lowercase hexadecimal"));
    }
    let path = state
        .engine()
        .cached(key, ext)
        .ok_or_else(|| ApiError::not_found("not_cached", format!("{key}.{ext} is not in the cache")))?;
    let etag = format!("\"{key}.{ext}\"");
    files::serve_file(
        &path,
        FileResponse { content_type, etag: &etag, cache_control: files::IMMUTABLE },
        &headers,
    )
    .await
}
