//! Silence between sentences when the widget is embedded on another
//! origin, on Chromium's throttled "Fast 3G" profile: a prefetched
//! sentence must play from the browser cache, not after another network
//! round trip (562.5 ms here). Pauses are configured to 0 so the gap
//! between one sentence's `ended` and the next one's `playing` is all
//! overhead. The same page is measured same-origin in the same run, for
//! comparison; both medians are printed.

use serde_json::Value;

use crate::browser_support::*;
use crate::server_support::*;

const SENTENCES: &[&str] = &[
    "Sáng nay trời nắng nhẹ.",
    "Người dân đi làm sớm.",
    "Chợ phiên đông vui hơn mọi ngày.",
    "Các em học sinh đến trường đúng giờ.",
    "Buổi chiều có mưa rào.",
    "Nhiệt độ giảm vài độ.",
    "Giao thông vẫn thông suốt.",
    "Ngày mai trời lại nắng.",
];

fn page(api: &str) -> String {
    let body: String = SENTENCES.join(" ");
    format!(
        "<!doctype html><html lang=vi><meta charset=utf-8><title>Thời tiết</title>{MEDIA_LOG}\
         <main><button type=button>Đọc nội dung</button><article class=news-detail><p>{body}</p></article></main>\
         <script src=\"{api}/widget.js\" data-target=\".news-detail\"></script></html>"
    )
}

/// Sentence index of a sentence URL (`…/v1/speech/{key}/{i}.mp3`).
fn index_of(src: &str) -> Option<usize> {
    if !src.contains("/v1/speech/") {
        return None;
    }
    src.rsplit('/').next()?.strip_suffix(".mp3")?.parse().ok()
}

/// Gaps in ms between sentence i's `ended` and sentence i+1's `playing`.
fn gaps(events: &Value) -> Vec<f64> {
    let ev: Vec<(String, f64, usize)> = events
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| {
            Some((e["type"].as_str()?.to_string(), e["t"].as_f64()?, index_of(e["src"].as_str()?)?))
        })
        .collect();
    let mut out = Vec::new();
    for (k, (kind, t, i)) in ev.iter().enumerate() {
        if kind != "ended" {
            continue;
        }
        if let Some((_, t2, _)) = ev[k..].iter().find(|(kd, _, j)| kd == "playing" && *j == i + 1) {
            out.push(t2 - t);
        }
    }
    out
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    if s.is_empty() { f64::NAN } else { s[s.len() / 2] }
}

/// Play the whole page and return the gaps between its sentences.
async fn measure(b: &Browser, cross_origin: bool) -> Vec<f64> {
    let mut w = espeak_world();
    w.config.speech.sentence_pause_ms = 0;
    w.config.speech.paragraph_pause_ms = 0;
    let api = Listener::bind("127.0.0.1").await;
    let site = Listener::bind(if cross_origin { SITE_IP } else { "127.0.0.1" }).await;
    w.config.server.cors_origins = vec![site.origin()];
    let page_url = format!("{}/", site.origin());
    let html = page(&api.origin());
    api.serve_api(w.state());
    site.serve_pages(vec![("/", html)]);
    b.goto(&page_url).await;
    b.wait_for("the widget", 10, "return !!document.querySelector('.loa-btn');", |v| v == true).await;
    b.cdp("Network.enable", serde_json::json!({})).await;
    b.cdp("Network.emulateNetworkConditions", fast_3g()).await;
    b.click(".loa-btn").await;
    let n = SENTENCES.len();
    let events = b
        .wait_for("every sentence to be played", 90, "return window.__media;", |v| {
            v.as_array().is_some_and(|a| {
                a.iter()
                    .any(|e| e["type"] == "ended" && index_of(e["src"].as_str().unwrap_or("")) == Some(n - 1))
            })
        })
        .await;
    b.cdp(
        "Network.emulateNetworkConditions",
        serde_json::json!({
        "offline": false, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1 }),
    )
    .await;
    gaps(&events)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_origin_sentences_follow_each_other_without_a_round_trip_on_fast_3g() {
    let Some(b) = Browser::start(Kind::Chromium, 1200, 900).await else { return };
    let same = measure(&b, false).await;
    let cross = measure(&b, true).await;
    eprintln!(
        "gaps on Fast 3G (ms): same-origin median {:.0} {same:.0?}; cross-origin median {:.0} {cross:.0?}",
        median(&same),
        median(&cross)
    );
    assert!(cross.len() >= SENTENCES.len() - 2, "too few sentence boundaries measured: {cross:?}");
    assert!(
        median(&cross) <= 250.0,
        "cross-origin median gap {:.0} ms > 250 ms: {cross:.0?}",
        median(&cross)
    );
}
