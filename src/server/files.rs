//! Serving cached files the way browsers and CDNs expect: `Range` requests
//! (206 / 416; Safari and iOS will not play audio without them), `ETag` with
//! `If-None-Match` (304) and `If-Range`, `Accept-Ranges`, `Content-Type` and
//! a `Cache-Control` chosen by the caller. The body is streamed from disk.

use std::io::SeekFrom;
use std::path::Path;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::io::ReaderStream;

use super::error::ApiError;

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

/// Answer a GET/HEAD for `path` honouring `Range`, `If-Range` and `If-None-Match`.
pub async fn serve_file(
    path: &Path,
    how: FileResponse<'_>,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let mut file = match tokio::fs::File::open(path).await {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ApiError::not_found("not_found", "no such audio"));
        }
        Err(e) => return Err(ApiError::internal(format!("cannot open cached file: {e}"))),
    };
    let len =
        file.metadata().await.map_err(|e| ApiError::internal(format!("cannot stat cached file: {e}")))?.len();
    let header_str = |name| headers.get(name).and_then(|v: &HeaderValue| v.to_str().ok());
    let mut builder = Response::builder()
        .header(header::ETAG, how.etag)
        .header(header::CACHE_CONTROL, how.cache_control)
        .header(header::ACCEPT_RANGES, "bytes");
    if header_str(header::IF_NONE_MATCH).is_some_and(|v| etag_matches(v, how.etag)) {
        return builder.status(StatusCode::NOT_MODIFIED).body(Body::empty()).map_err(internal);
    }
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
                .map_err(internal);
        }
    };
    if start > 0 {
        file.seek(SeekFrom::Start(start))
            .await
            .map_err(|e| ApiError::internal(format!("cannot seek cached file: {e}")))?;
    }
    let stream = ReaderStream::with_capacity(file.take(count), 64 * 1024);
    builder
        .status(status)
        .header(header::CONTENT_LENGTH, count)
        .body(Body::from_stream(stream))
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
    fn etags() {
        assert!(etag_matches("\"abc\"", "\"abc\""));
        assert!(etag_matches("W/\"abc\", \"x\"", "\"abc\""));
        assert!(etag_matches("*", "\"abc\""));
        assert!(!etag_matches("\"abd\"", "\"abc\""));
    }
}
