//! The widget on a site whose loa reads only pages it fetches itself
//! (`server.text_input = "url"`), in a real browser (Chromium): the
//! widget's text is refused with 403 `text_not_accepted`, it asks again
//! with the page's URL, loa fetches the page from the allowlisted origin,
//! and the sentences it reads are highlighted in the page by their text.
//! With `signed`, the widget sends the text the site signed (`data-text`)
//! with its `data-signature`.

use loa::config::TextInput;

use crate::browser_support::*;
use crate::server_support::{Script, world};
use crate::site_support::Site;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trust_widget_switches_to_the_page_url() {
    let Some(b) = Browser::start(Kind::Chromium, 1200, 1000).await else { return };
    let api = Listener::bind("127.0.0.1").await;
    let site = Site::start();
    let page = format!(
        "<!DOCTYPE html><html lang=vi><head><meta charset=utf-8><title>Tin sáng</title></head><body>\
         <nav><a href=/>Trang chủ</a></nav><div class=\"news-detail\"><h1>Chợ quê ngày mùa</h1>\
         <div class=\"news-content\"><p>Sáng nay chợ quê đông vui hơn mọi ngày.</p>\
         <p>Người dân mang lúa mới ra chợ bán.</p></div></div>\
         <script src=\"{}/widget.js\" data-target=\".news-detail\"></script></body></html>",
        api.origin()
    );
    site.html("/bai.html", &page);
    let origin = site.origin();
    // Each sentence reads for 4 s, so that "Next" is clicked while
    // sentence 0 still plays and sentence 1 plays long enough to be seen
    // (with the half-second default, a poll slowed by a loaded machine
    // could miss it and see only the end of the article).
    let w = world(Script { tone_secs: 4.0, ..Script::default() }, |c| {
        c.server.text_input = TextInput::Url;
        c.server.cors_origins = vec![origin.clone()];
        c.sources.allow = vec![origin.clone()];
    });
    let state = loa::server::AppState::with_secrets(w.engine(), crate::trust_support::secrets(None, None));
    api.serve_api(state);

    b.goto(&site.url("/bai.html")).await;
    b.wait_for("the widget", 10, "return !!document.querySelector('.loa-player');", |v| v == true).await;
    assert_eq!(site.hits("/bai.html"), 1, "only the browser has asked for the page yet");
    b.click(".loa-btn").await;
    let playing = b
        .wait_for("playback of sentence 0", 30, STATE, |v| {
            v["t"].as_f64().unwrap_or(0.0) > 0.1 && v["on"] == 0 && v["paused"] == false
        })
        .await;
    assert_eq!(playing["onText"], "Chợ quê ngày mùa", "{playing}");
    assert_eq!(playing["spans"], 3, "every sentence found in the page: {playing}");
    assert!(site.hits("/bai.html") >= 2, "loa fetched the page itself");
    let dur = playing["dur"].as_f64().unwrap_or(0.0);
    assert!(dur > 3.5, "each sentence reads as the 4 s tone: {playing}");
    b.click(".loa-player button[aria-label='Câu sau']").await;
    let next = b.wait_for("sentence 1", 20, STATE, |v| v["on"] == 1 && v["paused"] == false).await;
    assert_eq!(next["onText"], "Sáng nay chợ quê đông vui hơn mọi ngày.", "{next}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trust_widget_sends_the_signed_text() {
    let Some(b) = Browser::start(Kind::Chromium, 1200, 1000).await else { return };
    let key = "a-long-random-signing-key-for-the-widget-test-0123";
    let api = Listener::bind("127.0.0.1").await;
    let site = Site::start();
    // What the CMS signed: the article text (not the photo credit the
    // widget would read off the page), escaped into a hidden element.
    let text = "Giá lúa & gạo tăng.\n\nNông dân vui mừng.";
    let signature = loa::server::policy::sign(key.as_bytes(), text, "");
    let page = format!(
        "<!DOCTYPE html><html lang=vi><head><meta charset=utf-8><title>Tin</title></head><body>\
         <div class=\"news-detail\"><p>Giá lúa &amp; gạo tăng.</p><p>Nông dân vui mừng.</p><p>Ảnh: Báo Nông thôn.</p></div>\
         <div id=loa-text hidden>Giá lúa &amp; gạo tăng.\n\nNông dân vui mừng.</div>\
         <script src=\"{}/widget.js\" data-target=\".news-detail\" data-text=\"#loa-text\" \
         data-signature=\"{signature}\"></script></body></html>",
        api.origin()
    );
    site.html("/bai.html", &page);
    let origin = site.origin();
    // A 4 s tone per sentence, so that sentence 0 playing is seen (see above).
    let w = world(Script { tone_secs: 4.0, ..Script::default() }, |c| {
        c.server.text_input = TextInput::Signed;
        c.server.cors_origins = vec![origin.clone()];
    });
    let state =
        loa::server::AppState::with_secrets(w.engine(), crate::trust_support::secrets(Some(key), None));
    api.serve_api(state);

    b.goto(&site.url("/bai.html")).await;
    b.wait_for("the widget", 10, "return !!document.querySelector('.loa-player');", |v| v == true).await;
    b.click(".loa-btn").await;
    let playing = b
        .wait_for("playback of sentence 0", 30, STATE, |v| {
            v["t"].as_f64().unwrap_or(0.0) > 0.1 && v["on"] == 0 && v["paused"] == false
        })
        .await;
    assert_eq!(playing["onText"], "Giá lúa & gạo tăng.", "{playing}");
    assert_eq!(playing["spans"], 2, "the signed sentences, not the credit: {playing}");
}
