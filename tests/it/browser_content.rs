//! What the widget reads on foreign markup, in each engine: a portal page
//! (served from another origin) with every kind of boilerplate around and
//! inside the article gets only the article read, found without
//! `data-target` from the page hints; `data-loa-skip` and `data-loa-read`
//! override. Two readers on one page (plus a duplicate script tag) stay
//! independent: each bound to its own article and button, one playing at
//! a time, no duplicate ids.

use serde_json::{Value, json};

use crate::browser_support::*;
use crate::server_support::*;

/// Records what the widget sends to `/v1/speech` in `window.__posted`.
const POST_LOG: &str = r#"<script>
window.__posted = [];
var realFetch = window.fetch;
window.fetch = function (url, init) {
  if (init && init.method === 'POST' && String(url).indexOf('/v1/speech') >= 0) __posted.push(JSON.parse(init.body).text);
  return realFetch.apply(this, arguments);
};
</script>"#;

fn portal(api: &str) -> String {
    format!(
        r##"<!doctype html><html lang=vi><head><meta charset=utf-8><title>Khởi công tuyến đường - Báo Tỉnh</title>
<meta property="og:site_name" content="Báo Tỉnh">
<style>.mxh{{display:none}} .col-left,.col-right{{width:20%;vertical-align:top}}</style>{POST_LOG}</head><body>
<table class="layout" width="100%"><tr>
<td class="col-left"><ul><li><a href="#">Thời sự</a></li><li><a href="#">Kinh tế</a></li></ul><p>Liên kết website các sở ngành.</p></td>
<td class="col-main">
<article class="post">
  <nav class="crumbs"><a href="#">Trang chủ</a> › <a href="#">Giao thông</a></nav>
  <ol class="breadcrumb"><li>Trang nhất</li><li>Đô thị</li></ol>
  <h1>Tỉnh khởi công tuyến đường mới</h1>
  <div class="byline">Nguyễn Văn Ánh - Báo Tỉnh</div>
  <p>Thứ Hai, 21/01/2022 - 16:30</p>
  <p class="sapo">Sáng nay, tỉnh khởi công tuyến đường nối hai huyện miền núi.</p>
  <div class="detail-content">
    <p>Tuyến đường dài mười hai ki lô mét, rộng chín mét.</p>
    <figure><div style="height:80px;background:#ccc"></div><figcaption>Lễ khởi công sáng nay. Ảnh: Minh Anh</figcaption></figure>
    <div class="ads-inline">Quảng cáo: mua xe máy trả góp lãi suất thấp.</div>
    <div class="mxh">Chia sẻ bài viết này lên mạng xã hội.</div>
    <p>Dự án có tổng vốn đầu tư năm trăm tỷ đồng.</p>
    <table class="data"><tr><th>Hạng mục</th><th>Vốn</th></tr><tr><td>Mặt đường</td><td>Ba trăm tỷ đồng</td></tr></table>
    <div class="box-tinlienquan"><b>Các tin khác</b><ul><li><a href="#">Khánh thành cầu treo bản Khuổi.</a></li></ul></div>
    <h3>Tin liên quan</h3>
    <ul><li><a href="#">Khởi công nhà máy nước sạch.</a></li></ul>
    <h3>Tiến độ thi công</h3>
    <p>Công trình sẽ hoàn thành trong hai năm.</p>
    <p data-loa-skip>Ghi chú của tòa soạn không cần đọc.</p>
    <div class="meta">Lượt xem 1.024 <span data-loa-read>Người dịch: Trần Bình.</span></div>
    <p style="text-align:right"><strong>MINH ANH</strong></p>
  </div>
  <div class="stats"><strong>Lượt xem:</strong> 2.345</div>
  <section class="comments"><h3>Bình luận</h3><form><textarea aria-label="Ý kiến"></textarea><button>Gửi ý kiến</button></form></section>
</article>
</td>
<td class="col-right"><div class="sidebar">Thời tiết hôm nay: nắng.</div><p>Tỷ giá ngoại tệ hôm nay.</p></td>
</tr></table>
<script src="{api}/widget.js"></script>
</body></html>"##
    )
}

const MUST_READ: &[&str] = &[
    "Tỉnh khởi công tuyến đường mới",
    "Sáng nay, tỉnh khởi công tuyến đường nối hai huyện miền núi.",
    "Tuyến đường dài mười hai ki lô mét",
    "Dự án có tổng vốn đầu tư năm trăm tỷ đồng.",
    "Hạng mục",
    "Mặt đường",
    "Ba trăm tỷ đồng",
    "Tiến độ thi công",
    "Công trình sẽ hoàn thành trong hai năm.",
    "Người dịch: Trần Bình.",
    "MINH ANH",
];

const MUST_SKIP: &[&str] = &[
    "Thời sự",
    "Liên kết",
    "Trang chủ",
    "Trang nhất",
    "Nguyễn Văn Ánh",
    "21/01/2022",
    "Ảnh: Minh Anh",
    "Lễ khởi công",
    "Quảng cáo",
    "Chia sẻ",
    "Các tin khác",
    "Khánh thành",
    "Tin liên quan",
    "nhà máy nước",
    "Ghi chú",
    "Lượt xem",
    "Bình luận",
    "Gửi ý kiến",
    "Thời tiết",
    "Tỷ giá",
];

pub async fn foreign_portal(b: &Browser) {
    let mut w = espeak_world();
    let api = Listener::bind("127.0.0.1").await;
    let site = Listener::bind(SITE_IP).await;
    w.config.server.cors_origins = vec![site.origin()];
    let html = portal(&api.origin());
    api.serve_api(w.state());
    let site = site.serve_pages(vec![("/", html)]);
    b.goto(&format!("http://{site}/")).await;
    b.wait_for("the widget", 10, "return !!document.querySelector('.loa-btn');", |v| v == true).await;
    b.click(".loa-btn").await;
    b.wait_for("playback", 30, STATE, |v| v["on"] == 0 && v["paused"] == false).await;
    let posted = b.js("return window.__posted;").await;
    let text = posted[0].as_str().unwrap_or_else(|| panic!("nothing posted: {posted}"));
    for s in MUST_READ {
        assert!(text.contains(s), "{}: {s:?} was not read; the widget read:\n{text}", b.kind.name());
    }
    for s in MUST_SKIP {
        assert!(!text.contains(s), "{}: {s:?} was read; the widget read:\n{text}", b.kind.name());
    }
    // Highlighting covers what is read and nothing else.
    let spans = b.js("return Array.prototype.map.call(document.querySelectorAll('.loa-s'), function (e) { return e.textContent; }).join(' ');").await;
    let spans = spans.as_str().unwrap();
    assert!(spans.contains("Công trình sẽ hoàn thành") && !spans.contains("Tin liên quan"), "{spans}");
    let title = b.js("return navigator.mediaSession && navigator.mediaSession.metadata ? [navigator.mediaSession.metadata.title, navigator.mediaSession.metadata.artist] : null;").await;
    if title != Value::Null {
        assert_eq!(title, json!(["Tỉnh khởi công tuyến đường mới", "Báo Tỉnh"]), "{}", b.kind.name());
    }
    b.screenshot("portal").await;
}

fn two_articles(api: &str) -> String {
    let section = |n: u32, title: &str, body: &str| {
        format!(
            "<section class=story-{n}><h2>{title}</h2><button type=button>Đọc nội dung</button>\
             <div class=story id=s{n}><h1>{title}</h1><p>{body}</p></div></section>"
        )
    };
    format!(
        "<!doctype html><html lang=vi><meta charset=utf-8><title>Hai bài</title><main>{}{}</main>\
         <script src=\"{api}/widget.js\" data-target=\"#s1\"></script>\
         <script src=\"{api}/widget.js\" data-target=\"#s2\"></script>\
         <script src=\"{api}/widget.js\" data-target=\"#s1\"></script></html>",
        section(
            1,
            "Mùa lúa chín",
            "Những cánh đồng vàng rực. Nông dân phấn khởi thu hoạch. Giá lúa năm nay cao."
        ),
        section(
            2,
            "Trường mới khánh thành",
            "Ngôi trường có mười hai phòng học. Học sinh rất vui. Thầy cô đã sẵn sàng."
        )
    )
}

const TWO: &str = r#"
  function st(n) {
    var sec = document.querySelector('.story-' + n), a = sec.querySelector('audio'), on = sec.querySelector('.loa-on');
    var b = sec.querySelector('.loa-btn');
    return { paused: a ? a.paused : null, t: a ? a.currentTime : 0, on: on ? on.textContent : '',
             pressed: b ? b.getAttribute('aria-pressed') : null,
             controls: b && document.getElementById(b.getAttribute('aria-controls')) ? sec.contains(document.getElementById(b.getAttribute('aria-controls'))) : false };
  }
  var ids = {}, dup = [];
  document.querySelectorAll('[id]').forEach(function (e) { if (ids[e.id]) dup.push(e.id); ids[e.id] = 1; });
  return { one: st(1), two: st(2), players: document.querySelectorAll('.loa-player').length,
           lives: document.querySelectorAll('.loa-live').length, buttons: document.querySelectorAll('.loa-btn').length, dup: dup,
           title: navigator.mediaSession && navigator.mediaSession.metadata ? navigator.mediaSession.metadata.title : null };
"#;

pub async fn two_widgets(b: &Browser) {
    let w = espeak_world();
    let api = Listener::bind("127.0.0.1").await;
    let html = two_articles(&api.origin());
    api.serve_api(w.state());
    let site = Listener::bind(SITE_IP).await.serve_pages(vec![("/", html)]);
    b.goto(&format!("http://{site}/")).await;
    let v = b.wait_for("two readers", 10, TWO, |v| v["buttons"] == 2).await;
    assert_eq!(v["players"], 2, "one player per article, whatever the number of script tags: {v}");
    assert_eq!(v["lives"], 2, "{v}");
    assert_eq!(v["dup"], json!([]), "duplicate ids: {v}");
    assert_eq!(v["one"]["controls"], true, "button 1 controls the player next to it: {v}");
    assert_eq!(v["two"]["controls"], true, "{v}");

    b.click(".story-1 .loa-btn").await;
    let v = b
        .wait_for("article 1 playing", 30, TWO, |v| {
            v["one"]["paused"] == false && v["one"]["t"].as_f64().unwrap_or(0.0) > 0.2
        })
        .await;
    assert!(v["one"]["on"].as_str().unwrap().contains("Mùa lúa chín"), "{v}");
    assert_eq!(v["two"]["on"], "", "article 2 is not highlighted: {v}");
    b.click(".story-2 .loa-btn").await;
    let v = b
        .wait_for("article 2 playing, article 1 paused", 30, TWO, |v| {
            v["two"]["paused"] == false
                && v["two"]["t"].as_f64().unwrap_or(0.0) > 0.2
                && v["one"]["paused"] == true
        })
        .await;
    assert_eq!(v["one"]["pressed"], "false", "{v}");
    assert_eq!(v["two"]["pressed"], "true", "{v}");
    assert!(v["two"]["on"].as_str().unwrap().contains("Trường mới khánh thành"), "{v}");
    if v["title"] != Value::Null {
        assert_eq!(v["title"], "Trường mới khánh thành", "the lock screen follows the reader that plays");
    }
    // Only article 2's sentences were wrapped in article 2, and so on.
    let mixed = b
        .js("return document.querySelector('#s1').textContent.indexOf('Ngôi trường') >= 0 || document.querySelectorAll('#s2 .loa-s').length === 0;")
        .await;
    assert_eq!(mixed, false);
    b.click(".story-2 .loa-btn").await;
    b.wait_for("article 2 paused", 10, TWO, |v| v["two"]["paused"] == true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_reads_only_the_article_and_keeps_readers_apart() {
    let Some(b) = Browser::start(Kind::Chromium, 1200, 1000).await else { return };
    foreign_portal(&b).await;
    two_widgets(&b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn firefox_reads_only_the_article_and_keeps_readers_apart() {
    let Some(b) = Browser::start(Kind::Firefox, 1200, 1000).await else { return };
    foreign_portal(&b).await;
    two_widgets(&b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webkit_reads_only_the_article_and_keeps_readers_apart() {
    let Some(b) = Browser::start(Kind::WebKit, 1200, 1000).await else { return };
    foreign_portal(&b).await;
    two_widgets(&b).await;
}
