//! The demo page in each real engine (Chromium, Firefox ESR, WebKitGTK),
//! on the offline eSpeak NG voice: clicking "Đọc nội dung" plays the
//! article with the sentence being read highlighted; speed, next and
//! previous, clicking a sentence, the keyboard (→ in the player, the
//! slider by sentence, Escape) and the end of the article; an unreachable
//! service gives a clear message (not "autoplay blocked").

use serde_json::json;

use crate::browser_support::*;
use crate::server_support::*;

fn on(v: &serde_json::Value) -> i64 {
    v["on"].as_i64().unwrap_or(-1)
}

async fn set_speed(b: &Browser, speed: &str) {
    b.js_with(
        "var s = document.querySelector('.loa-player select'); s.value = arguments[0]; s.dispatchEvent(new Event('change'));",
        json!([speed]),
    )
    .await;
}

/// The whole happy path on the demo page.
pub async fn demo_playback(b: &Browser) {
    let w = espeak_world();
    let addr = serve_api(w.state()).await;
    b.goto(&format!("http://{addr}/")).await;
    b.wait_for("the widget", 10, "return !!document.querySelector('.loa-player');", |v| v == true).await;
    let before = b.js(STATE).await;
    assert_eq!(before["pressed"], "false", "{before}");
    b.click("#doc-noi-dung").await;

    // Playback starts on the first sentence, which is highlighted; the
    // button keeps its name and says it is pressed.
    let first = b
        .wait_for("playback of sentence 0", 30, STATE, |v| {
            v["t"].as_f64().unwrap_or(0.0) > 0.3 && on(v) == 0 && v["paused"] == false
        })
        .await;
    assert!(first["spans"].as_u64().unwrap() > 5, "sentences were not wrapped: {first}");
    assert!(first["onText"].as_str().unwrap().contains("Huyện ủy Cao Lộc"), "{first}");
    assert_eq!(first["button"], "Đọc nội dung", "the toggle's name must not change");
    assert_eq!(first["pressed"], "true");
    b.screenshot("demo-playing").await;

    // Faster, then a later sentence is highlighted as playback moves on.
    set_speed(b, "2").await;
    let later = b.wait_for("a later sentence", 60, STATE, |v| on(v) >= 1 && v["t"] != 0).await;
    assert_eq!(later["rate"], 2.0, "{later}");

    // Next and previous.
    let at = on(&later);
    b.click(".loa-player button[aria-label='Câu sau']").await;
    b.wait_for("next sentence", 20, STATE, |v| on(v) == at + 1 && v["paused"] == false).await;
    b.click(".loa-player button[aria-label='Câu trước']").await;
    b.wait_for("previous sentence", 20, STATE, |v| on(v) == at && v["paused"] == false).await;
    let rate = b.js(STATE).await["rate"].clone();
    assert_eq!(rate, 2.0, "a new sentence keeps the speed");

    // Clicking a sentence jumps to it.
    b.click(".loa-s[data-loa-i=\"5\"]").await;
    b.wait_for("the jump to sentence 5", 20, STATE, |v| on(v) == 5 && v["paused"] == false).await;
    let wrapped = b
        .js("var s = {}; document.querySelectorAll('.loa-s').forEach(function (e) { s[e.dataset.loaI] = 1; });
             var k = Object.keys(s).map(Number); return [k.length, Math.max.apply(null, k) + 1];")
        .await;
    assert_eq!(wrapped[0], wrapped[1], "some sentences were not found in the page: {wrapped}");

    // Keyboard: → on the focused player moves to the next sentence.
    b.keys(".loa-player button[aria-label='Tạm dừng']", "\u{E014}").await;
    b.wait_for("→ to reach sentence 6", 20, STATE, |v| on(v) == 6).await;
    let focus = b.js("return document.activeElement.getAttribute('aria-label');").await;
    assert_eq!(focus, "Tạm dừng", "the play button keeps the focus");

    // Escape stops (from anywhere on the page), ▶ goes on.
    b.js("document.activeElement.blur();").await;
    b.press("\u{E00C}").await;
    let stopped = b.wait_for("Escape to stop", 5, STATE, |v| v["paused"] == true).await;
    assert_eq!(stopped["pressed"], "false");
    b.click(".loa-player button[aria-label='Phát']").await;
    b.wait_for("playing again", 20, STATE, |v| v["paused"] == false && on(v) == 6).await;

    // The slider moves by sentence: End lands on the last one, which
    // plays to the end of the article.
    b.keys(".loa-range", "\u{E010}").await;
    let n = b
        .js("return document.querySelectorAll('.loa-s').length && +document.querySelector('.loa-range').max;")
        .await;
    let last = n.as_i64().unwrap();
    b.wait_for("the last sentence", 20, STATE, |v| reached(v, last)).await;
    let done = b
        .wait_for("the end of the article", 30, STATE, |v| {
            v["status"].as_str().unwrap_or("").contains("Đã đọc hết bài") && on(v) == -1
        })
        .await;
    assert_eq!(done["pressed"], "false", "{done}");
    assert_eq!(done["paused"], true);
    // Nothing is highlighted now; the observer saw the last sentence.
    assert!(reached(&done, last), "the highlight history lost the last sentence: {done}");
}

/// A page whose service address answers nothing.
pub async fn unreachable_service(b: &Browser) {
    let w = espeak_world();
    let api = serve_api(w.state()).await;
    // A port held bound but not listening for the whole test: every
    // connection to it is refused, and no other test can take it meanwhile
    // (a port let go at once could be handed to another test's listener).
    let held = tokio::net::TcpSocket::new_v4().unwrap();
    held.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let dead = held.local_addr().unwrap();
    let page = format!(
        "<!doctype html><html lang=vi><meta charset=utf-8><title>Thử</title>\
         <article class=news-detail><p>Xin chào các bạn.</p></article>\
         <script src=\"http://{api}/widget.js\" data-target=\".news-detail\" data-api=\"http://{dead}\"></script></html>"
    );
    let site = Listener::bind(SITE_IP).await.serve_pages(vec![("/", page)]);
    b.goto(&format!("http://{site}/")).await;
    b.wait_for("the widget's own button", 10, "return !!document.querySelector('button.loa-btn');", |v| {
        v == true
    })
    .await;
    b.click("button.loa-btn").await;
    let v = b
        .wait_for("the error message", 20, STATE, |v| {
            v["status"].as_str().unwrap_or("").contains("Không kết nối được dịch vụ đọc")
        })
        .await;
    assert_eq!(v["paused"], true);
    assert_eq!(v["pressed"], "false");
    assert!(!v["status"].as_str().unwrap().contains("chặn"), "not an autoplay message: {v}");
    let live = b.js("var s = document.querySelector('.loa-live'); return [s.getAttribute('role'), s.getAttribute('aria-live')];").await;
    assert_eq!(live, json!(["status", "polite"]));
    drop(held);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_reads_the_demo_page() {
    let Some(b) = Browser::start(Kind::Chromium, 1200, 1000).await else { return };
    demo_playback(&b).await;
    unreachable_service(&b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn firefox_reads_the_demo_page() {
    let Some(b) = Browser::start(Kind::Firefox, 1200, 1000).await else { return };
    demo_playback(&b).await;
    unreachable_service(&b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webkit_reads_the_demo_page() {
    let Some(b) = Browser::start(Kind::WebKit, 1200, 1000).await else { return };
    demo_playback(&b).await;
    unreachable_service(&b).await;
}
