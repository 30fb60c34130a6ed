//! The widget script and the demo page, compiled into the binary so the
//! service needs no files at run time.
//!
//! `/widget.js` is the parts under `assets/widget/` joined in order, with
//! the page hints (`config/page-hints.json`, the one list the server-side
//! extractor reads too) inlined at its `/*LOA_PAGE_HINTS*/null`
//! placeholder, so the browser skips exactly what the server would.

use std::sync::LazyLock;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

const WIDGET_PARTS: &str = concat!(
    include_str!("../assets/widget/core.js"),
    include_str!("../assets/widget/content.js"),
    include_str!("../assets/widget/ui.js"),
    include_str!("../assets/widget/playback.js"),
    include_str!("../assets/widget/boot.js"),
);
const PAGE_HINTS: &str = include_str!("../../../config/page-hints.json");
const HINTS_PLACEHOLDER: &str = "/*LOA_PAGE_HINTS*/null";
const DEMO_HTML: &str = include_str!("../assets/demo.html");

/// The page hints as one line of JSON (without the `_doc` note), or
/// `null` — the widget then reads everything in the article and says so
/// in the console — if the file is not valid JSON (a unit test keeps it
/// valid).
fn hints_json() -> String {
    match serde_json::from_str::<serde_json::Value>(PAGE_HINTS) {
        Ok(mut v) => {
            if let Some(o) = v.as_object_mut() {
                o.remove("_doc");
            }
            v.to_string()
        }
        Err(e) => {
            tracing::error!(error = %e, "config/page-hints.json is not valid JSON; the widget gets no hints");
            "null".into()
        }
    }
}

/// The served widget script.
pub fn widget_js() -> &'static str {
    static JS: LazyLock<String> =
        LazyLock::new(|| WIDGET_PARTS.replacen(HINTS_PLACEHOLDER, &hints_json(), 1));
    &JS
}

fn etag_of(body: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(body.as_bytes());
    format!("\"{}\"", hex::encode(&digest[..12]))
}

fn asset(body: &'static str, etag: &str, content_type: &'static str, headers: &HeaderMap) -> Response {
    let cache = "public, max-age=300";
    let not_modified = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| crate::server::files::etag_matches(v, etag));
    let mut response =
        if not_modified { StatusCode::NOT_MODIFIED.into_response() } else { body.into_response() };
    let h = response.headers_mut();
    if !not_modified {
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(v) = HeaderValue::from_str(etag) {
        h.insert(header::ETAG, v);
    }
    response
}

pub async fn widget(headers: HeaderMap) -> Response {
    static ETAG: LazyLock<String> = LazyLock::new(|| etag_of(widget_js()));
    asset(widget_js(), &ETAG, "text/javascript; charset=utf-8", &headers)
}

pub async fn demo(headers: HeaderMap) -> Response {
    static ETAG: LazyLock<String> = LazyLock::new(|| etag_of(DEMO_HTML));
    asset(DEMO_HTML, &ETAG, "text/html; charset=utf-8", &headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_widget_carries_the_page_hints() {
        let hints: serde_json::Value =
            serde_json::from_str(PAGE_HINTS).expect("config/page-hints.json is JSON");
        for key in ["body", "standfirst", "skip_tags", "skip_roles", "skip_classes", "skip_texts"] {
            assert!(hints[key].as_array().is_some_and(|a| !a.is_empty()), "page hints lack {key}");
        }
        let js = widget_js();
        assert!(!js.contains(HINTS_PLACEHOLDER), "placeholder left in the widget");
        assert!(js.contains("var HINTS = {\""), "hints not inlined");
        assert!(js.contains("\"tinlienquan\"") && js.contains("Tin liên quan"));
        assert!(!js.contains("\"_doc\""));
    }
}
