//! `GET /v1/audio/{key}.{mp3|wav|json}`: cached article audio and its
//! sentence timings, content-addressed, with Range/ETag/304 support. Keys
//! are validated (lowercase hex only) before they reach the file system.
//! `?download=1` adds `Content-Disposition: attachment`.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;

use crate::cache::{CacheKey, Ext};
use crate::server::files::{self, FileResponse};
use crate::server::{ApiError, AppState};

pub async fn cached(
    State(state): State<AppState>,
    Path(file): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Some((key, ext)) = file.rsplit_once('.') else {
        return Err(ApiError::not_found("not_found", "expected {key}.mp3, {key}.wav or {key}.json"));
    };
    let Some(ext) = Ext::parse(ext) else {
        return Err(ApiError::not_found("not_found", format!("no .{ext} objects here")));
    };
    let key = CacheKey::parse(key)
        .ok_or_else(|| ApiError::bad_request("bad_key", "keys are lowercase hexadecimal"))?;
    let etag = format!("\"{key}.{}\"", ext.as_str());
    if let Some(to_cdn) = files::redirect(&state.engine(), &key, ext, &etag, &headers).await? {
        return Ok(to_cdn);
    }
    let mut response = files::serve_object(
        &state.engine(),
        &state.inner().hot,
        &key,
        ext,
        FileResponse { content_type: ext.content_type(), etag: &etag, cache_control: files::IMMUTABLE },
        &headers,
    )
    .await?
    .ok_or_else(|| {
        ApiError::not_found("not_cached", format!("{key}.{} is not in the cache", ext.as_str()))
    })?;
    // `?download=1`: save instead of play (the `download` attribute of a
    // link is ignored across origins, so the widget relies on this).
    if query.as_deref().is_some_and(|q| q.split('&').any(|p| p == "download=1")) {
        let name = format!("attachment; filename=\"loa-{}.{}\"", key.short(), ext.as_str());
        if let Ok(v) = HeaderValue::from_str(&name) {
            response.headers_mut().insert(header::CONTENT_DISPOSITION, v);
        }
    }
    Ok(response)
}
