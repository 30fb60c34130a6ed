//! Serving cached files the way browsers and CDNs expect: `Range` requests
//! (206 / 416; Safari and iOS will not play audio without them), `ETag` with
//! `If-None-Match` (304) and `If-Range`, `Accept-Ranges`, `Content-Type` and
//! a `Cache-Control` chosen by the caller. Small objects are served from a
//! bounded in-memory copy ([`HotFiles`]); larger ones are streamed from the
//! store. Handlers name objects by key; they never see store paths.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;

use super::error::ApiError;
use crate::cache::{Body as ObjectBody, CacheKey, Ext};
use crate::pipeline::{Engine, PipelineError};

/// `Cache-Control` for content-addressed URLs: the bytes behind them never change.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// What a `Range` header asks of a file of a given length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeSpec {
    /// No usable range: send the whole file with 200.
    Full,
    /// Bytes `start..=end` (inclusive, within the file).
    Partial { start: u64, end: u64 },
    /// A syntactically valid range outside the file: 416.
    Unsatisfiable,
}

/// Parse a `Range` header value against a file of `len` bytes. Only single
/// byte ranges are honoured; malformed or multi-range headers are ignored
/// (RFC 9110 allows serving the whole representation instead).
pub fn parse_range(value: &str, len: u64) -> RangeSpec {
    let Some(spec) = value.trim().strip_prefix("bytes=") else {
        return RangeSpec::Full;
    };
    if spec.contains(',') {
        return RangeSpec::Full;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return RangeSpec::Full;
    };
    let (first, last) = (first.trim(), last.trim());
    let num = |s: &str| -> Option<u64> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) { None } else { s.parse().ok() }
    };
    if first.is_empty() {
        // Suffix range: the last N bytes.
        return match num(last) {
            None => RangeSpec::Full,
            Some(0) => RangeSpec::Unsatisfiable,
            Some(_) if len == 0 => RangeSpec::Unsatisfiable,
            Some(n) => RangeSpec::Partial { start: len.saturating_sub(n), end: len - 1 },
        };
    }
    let Some(start) = num(first) else {
        return RangeSpec::Full;
    };
    let end = if last.is_empty() {
        None
    } else {
        match num(last) {
            Some(e) if e >= start => Some(e),
            _ => return RangeSpec::Full,
        }
    };
    if start >= len {
        return RangeSpec::Unsatisfiable;
    }
    RangeSpec::Partial { start, end: end.map_or(len - 1, |e| e.min(len - 1)) }
}

/// True when an `If-None-Match` value matches `etag` (weak comparison).
pub fn etag_matches(if_none_match: &str, etag: &str) -> bool {
    let strip = |t: &str| t.trim().trim_start_matches("W/").to_string();
    let want = strip(etag);
    if_none_match.split(',').any(|t| t.trim() == "*" || strip(t) == want)
}

/// How one file is to be served.
#[derive(Debug, Clone, Copy)]
pub struct FileResponse<'a> {
    pub content_type: &'a str,
    /// Strong validator, already quoted (`"\"abc\""`).
    pub etag: &'a str,
    pub cache_control: &'a str,
}

/// Files up to this size are read whole and kept in [`HotFiles`].
pub const HOT_FILE_MAX: u64 = 8 * 1024 * 1024;

/// A small in-memory LRU of recently served cache objects. Objects are
/// content-addressed and never change, so a copy in memory is always
/// right; the total is bounded, and responses share the bytes (no copy).
#[derive(Debug)]
pub struct HotFiles {
    inner: Mutex<Hot>,
    max_bytes: u64,
}

#[derive(Debug, Default)]
struct Hot {
    files: HashMap<String, (Bytes, u64)>,
    bytes: u64,
    tick: u64,
}

impl HotFiles {
    pub fn new(max_bytes: u64) -> HotFiles {
        HotFiles { inner: Mutex::new(Hot::default()), max_bytes }
    }

    fn get(&self, name: &str) -> Option<Bytes> {
        let mut hot = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        hot.tick += 1;
        let tick = hot.tick;
        hot.files.get_mut(name).map(|(b, t)| {
            *t = tick;
            b.clone()
        })
    }

    fn insert(&self, name: String, bytes: Bytes) {
        let size = bytes.len() as u64;
        if size > self.max_bytes {
            return;
        }
        let mut hot = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        hot.tick += 1;
        let tick = hot.tick;
        if let Some((old, _)) = hot.files.insert(name, (bytes, tick)) {
            hot.bytes -= old.len() as u64;
        }
        hot.bytes += size;
        while hot.bytes > self.max_bytes {
            let Some(oldest) = hot.files.iter().min_by_key(|(_, (_, t))| *t).map(|(p, _)| p.clone()) else {
                break;
            };
            if let Some((b, _)) = hot.files.remove(&oldest) {
                hot.bytes -= b.len() as u64;
            }
        }
    }

    /// Forget an object (after an admin purge).
    pub fn remove(&self, name: &str) {
        let mut hot = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((b, _)) = hot.files.remove(name) {
            hot.bytes -= b.len() as u64;
        }
    }

    /// Forget every object (after an admin prune).
    pub fn clear(&self) {
        let mut hot = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        hot.files.clear();
        hot.bytes = 0;
    }

    /// Bytes held.
    pub fn bytes(&self) -> u64 {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).bytes
    }
}

/// Answer a GET/HEAD for the cached object `key.ext` honouring `Range`,
/// `If-Range` and `If-None-Match`; `None` when it is not cached. Small
/// objects come from (and go into) `hot`; larger ones stream from the
/// store, reading only the requested range.
pub async fn serve_object(
    engine: &Engine,
    hot: &HotFiles,
    key: &CacheKey,
    ext: Ext,
    how: FileResponse<'_>,
    headers: &HeaderMap,
) -> Result<Option<Response>, ApiError> {
    let header_str = |name| headers.get(name).and_then(|v: &HeaderValue| v.to_str().ok());
    let hot_name = format!("{key}.{}", ext.as_str());
    let mut builder = Response::builder()
        .header(header::ETAG, how.etag)
        .header(header::CACHE_CONTROL, how.cache_control)
        .header(header::ACCEPT_RANGES, "bytes");
    let (memory, object) = match hot.get(&hot_name) {
        Some(bytes) => (Some(bytes), None),
        None => match engine.open(key, ext, None).await? {
            None => return Ok(None),
            Some(obj) if obj.meta.size <= hot.max_bytes.min(HOT_FILE_MAX) => {
                let bytes = obj.bytes().await.map_err(PipelineError::from)?;
                hot.insert(hot_name, bytes.clone());
                (Some(bytes), None)
            }
            Some(obj) => (None, Some(obj)),
        },
    };
    if header_str(header::IF_NONE_MATCH).is_some_and(|v| etag_matches(v, how.etag)) {
        return builder.status(StatusCode::NOT_MODIFIED).body(Body::empty()).map(Some).map_err(internal);
    }
    let len = match (&memory, &object) {
        (Some(b), _) => b.len() as u64,
        (None, Some(o)) => o.meta.size,
        (None, None) => return Ok(None),
    };
    builder = builder.header(header::CONTENT_TYPE, how.content_type);
    let range_applies = match header_str(header::IF_RANGE) {
        None => true,
        Some(v) => v.trim() == how.etag,
    };
    let spec = match header_str(header::RANGE) {
        Some(v) if range_applies => parse_range(v, len),
        _ => RangeSpec::Full,
    };
    let (status, start, count) = match spec {
        RangeSpec::Full => (StatusCode::OK, 0, len),
        RangeSpec::Partial { start, end } => {
            builder = builder.header(header::CONTENT_RANGE, format!("bytes {start}-{end}/{len}"));
            (StatusCode::PARTIAL_CONTENT, start, end - start + 1)
        }
        RangeSpec::Unsatisfiable => {
            return builder
                .status(StatusCode::RANGE_NOT_SATISFIABLE)
                .header(header::CONTENT_RANGE, format!("bytes */{len}"))
                .body(Body::empty())
                .map(Some)
                .map_err(internal);
        }
    };
    let body = match (memory, object) {
        (Some(bytes), _) => Body::from(bytes.slice(start as usize..(start + count) as usize)),
        (None, Some(mut obj)) => {
            let wanted = start..start + count;
            if matches!(obj.body, ObjectBody::Stream(_)) && wanted != (0..len) {
                // A remote body: ask the store for just the range.
                obj = engine
                    .open(key, ext, Some(wanted))
                    .await?
                    .ok_or_else(|| ApiError::not_found("not_cached", "the audio was removed meanwhile"))?;
            } else {
                obj.range = wanted;
            }
            Body::from_stream(obj.into_stream())
        }
        (None, None) => return Ok(None),
    };
    builder.status(status).header(header::CONTENT_LENGTH, count).body(body).map(Some).map_err(internal)
}

/// With `[cache] public_base_url`, a GET for cached audio answers 302 to
/// the object's public URL (a CDN in front of the store), or with
/// `presign_secs` to a presigned URL of the object store, so the bytes do
/// not pass through loa; `None` otherwise (no base, timings, not stored,
/// or a revalidation that loa answers itself with 304). The redirect is
/// cacheable for minutes only: promotion or pruning may move the object.
pub async fn redirect(
    engine: &Engine,
    key: &CacheKey,
    ext: Ext,
    etag: &str,
    headers: &HeaderMap,
) -> Result<Option<Response>, ApiError> {
    if ext == Ext::Json
        || headers
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| etag_matches(v, etag))
    {
        return Ok(None);
    }
    let cache = engine.cache();
    if !cache.redirects() {
        return Ok(None);
    }
    let Some(meta) = cache.locate_primary(key, ext).await.map_err(PipelineError::from)? else {
        return Ok(None);
    };
    let Some(to) = cache.redirect_url(&meta.name).await.map_err(PipelineError::from)? else {
        return Ok(None);
    };
    let scope = if to.private { "private" } else { "public" };
    Response::builder()
        .status(StatusCode::FOUND)
        .header(header::LOCATION, to.url)
        .header(header::CACHE_CONTROL, format!("{scope}, max-age={}", to.max_age_secs))
        .body(Body::empty())
        .map(Some)
        .map_err(internal)
}

fn internal(e: axum::http::Error) -> ApiError {
    ApiError::internal(format!("cannot build response: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        use RangeSpec::*;
        assert_eq!(parse_range("bytes=0-99", 1000), Partial { start: 0, end: 99 });
        assert_eq!(parse_range("bytes=0-1", 1000), Partial { start: 0, end: 1 });
        assert_eq!(parse_range("bytes=990-2000", 1000), Partial { start: 990, end: 999 });
        assert_eq!(parse_range("bytes=500-", 1000), Partial { start: 500, end: 999 });
        assert_eq!(parse_range("bytes=-100", 1000), Partial { start: 900, end: 999 });
        assert_eq!(parse_range("bytes=-5000", 1000), Partial { start: 0, end: 999 });
        assert_eq!(parse_range("bytes=1000-", 1000), Unsatisfiable);
        assert_eq!(parse_range("bytes=-0", 1000), Unsatisfiable);
        assert_eq!(parse_range("bytes=0-", 0), Unsatisfiable);
        assert_eq!(parse_range("bytes=5-1", 1000), Full);
        assert_eq!(parse_range("bytes=0-1,5-6", 1000), Full);
        assert_eq!(parse_range("items=0-1", 1000), Full);
        assert_eq!(parse_range("bytes=a-b", 1000), Full);
        assert_eq!(parse_range("bytes=+1-2", 1000), Full);
    }

    #[test]
    fn hot_files_stay_within_their_budget() {
        let hot = HotFiles::new(10);
        hot.insert("a".into(), Bytes::from_static(b"12345"));
        hot.insert("b".into(), Bytes::from_static(b"12345"));
        assert!(hot.get("a").is_some()); // a is now the most recent
        hot.insert("c".into(), Bytes::from_static(b"123"));
        assert_eq!(hot.bytes(), 8);
        assert!(hot.get("b").is_none(), "least recently used goes first");
        assert!(hot.get("a").is_some() && hot.get("c").is_some());
        hot.insert("big".into(), Bytes::from_static(b"0123456789a"));
        assert!(hot.get("big").is_none(), "larger than the whole budget");
        hot.remove("a");
        assert_eq!(hot.bytes(), 3);
    }

    #[test]
    fn etags() {
        assert!(etag_matches("\"abc\"", "\"abc\""));
        assert!(etag_matches("W/\"abc\", \"x\"", "\"abc\""));
        assert!(etag_matches("*", "\"abc\""));
        assert!(!etag_matches("\"abd\"", "\"abc\""));
    }
}
