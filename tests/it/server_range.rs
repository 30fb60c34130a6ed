//! Range requests on cached audio (Safari/iOS need 206), `If-Range`,
//! unsatisfiable ranges (416), `HEAD`, and conditional GETs (304).

use crate::server_support::*;
use axum::body::Body;
use axum::http::Request;
use serde_json::json;

async fn cached_article(w: &World) -> (loa::server::AppState, String, Vec<u8>) {
    let s = w.state();
    let r = post_json(&s, "/v1/speech", json!({ "text": "Xin chào. Đây là bài đọc thử." })).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let url = r.header("content-location").unwrap().to_string();
    (s, url, r.body)
}

#[tokio::test]
async fn byte_ranges_are_206_with_content_range() {
    let w = world(Script::default(), |_| {});
    let (s, url, full) = cached_article(&w).await;
    let len = full.len();
    let cases: [(&str, usize, usize); 4] = [
        ("bytes=0-99", 0, 99),
        ("bytes=0-1", 0, 1),
        ("bytes=100-", 100, len - 1),
        ("bytes=-50", len - 50, len - 1),
    ];
    for (range, a, b) in cases {
        let r = get_with(&s, &url, &[("range", range)]).await;
        assert_eq!(r.status, 206, "{range}");
        assert_eq!(r.header("content-range"), Some(format!("bytes {a}-{b}/{len}").as_str()), "{range}");
        assert_eq!(r.header("content-length"), Some((b - a + 1).to_string().as_str()));
        assert_eq!(r.header("content-type"), Some("audio/mpeg"));
        assert_eq!(r.body, full[a..=b], "{range}");
    }
    // Past the end: 416 with the length.
    let r = get_with(&s, &url, &[("range", &format!("bytes={len}-"))]).await;
    assert_eq!(r.status, 416);
    assert_eq!(r.header("content-range"), Some(format!("bytes */{len}").as_str()));
    // Multiple ranges or nonsense: the whole file.
    let r = get_with(&s, &url, &[("range", "bytes=0-1,5-9")]).await;
    assert_eq!((r.status.as_u16(), r.body.len()), (200, len));
}

#[tokio::test]
async fn if_range_and_conditional_requests() {
    let w = world(Script::default(), |_| {});
    let (s, url, full) = cached_article(&w).await;
    let etag = get(&s, &url).await.header("etag").unwrap().to_string();
    let r = get_with(&s, &url, &[("range", "bytes=10-19"), ("if-range", &etag)]).await;
    assert_eq!(r.status, 206);
    assert_eq!(r.body, full[10..20]);
    let r = get_with(&s, &url, &[("range", "bytes=10-19"), ("if-range", "\"stale\"")]).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, full);
    let r = get_with(&s, &url, &[("if-none-match", &etag), ("range", "bytes=0-1")]).await;
    assert_eq!(r.status, 304);
    let r = get_with(&s, &url, &[("if-none-match", "\"other\"")]).await;
    assert_eq!(r.status, 200);
    let head = send(&s, Request::head(&url).body(Body::empty()).unwrap()).await;
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-length"), Some(full.len().to_string().as_str()));
    assert!(head.body.is_empty());
}
