//! The widget script and the demo page, compiled into the binary so the
//! service needs no files at run time.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

const WIDGET_JS: &str = include_str!("../assets/widget.js");
const DEMO_HTML: &str = include_str!("../assets/demo.html");

fn etag_of(body: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(body.as_bytes());
    format!("\"{}\"", hex::encode(&digest[..12]))
}

fn asset(body: &'static str, content_type: &'static str, headers: &HeaderMap) -> Response {
    let etag = etag_of(body);
    let cache = "public, max-age=300";
    let not_modified = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| crate::server::files::etag_matches(v, &etag));
    let mut response =
        if not_modified { StatusCode::NOT_MODIFIED.into_response() } else { body.into_response() };
    let h = response.headers_mut();
    if !not_modified {
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    response
}

pub async fn widget(headers: HeaderMap) -> Response {
    asset(WIDGET_JS, "text/javascript; charset=utf-8", &headers)
}

pub async fn demo(headers: HeaderMap) -> Response {
    asset(DEMO_HTML, "text/html; charset=utf-8", &headers)
}
