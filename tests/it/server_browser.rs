//! End-to-end in real headless Chromium (driven through chromedriver's
//! WebDriver protocol): the demo page's "Đọc nội dung" button starts
//! playback on the offline eSpeak NG voice, the audio element's time
//! advances, the first sentence is highlighted, a later one is highlighted
//! as playback moves on, clicking a sentence jumps to it, and an
//! unreachable service gives a clear message. A screenshot is saved to
//! `tests/artifacts/widget-playing.png`.
//!
//! Needs `chromium`, `chromium-driver` and `espeak-ng` (scripts/test
//! installs them). Set `LOA_SKIP_BROWSER_TEST=1` to skip on a machine
//! without them.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::server_support::*;
use base64::Engine as _;
use serde_json::{Value, json};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

struct Driver {
    child: Child,
    base: String,
    session: String,
    http: reqwest::Client,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    /// Close the browser (DELETE the session) before stopping chromedriver:
    /// killing chromedriver alone would leave Chromium running. Plain
    /// blocking HTTP, since `drop` cannot await (and runs on panics too).
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let addr = self.base.trim_start_matches("http://").to_string();
            if let Ok(mut stream) = std::net::TcpStream::connect(&addr) {
                use std::io::{Read, Write};
                let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                let request = format!(
                    "DELETE /session/{} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    self.session
                );
                if stream.write_all(request.as_bytes()).is_ok() {
                    let mut sink = Vec::new();
                    let _ = stream.read_to_end(&mut sink);
                }
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Driver {
    async fn start() -> Driver {
        let port = free_port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("cannot run chromedriver (apt-get install chromium-driver)");
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        let profile = tempfile::tempdir().unwrap();
        let mut driver = Driver { child, base, session: String::new(), http, _profile: profile };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ready = driver.http.get(format!("{}/status", driver.base)).send().await;
            if let Ok(r) = ready
                && r.json::<Value>().await.is_ok_and(|v| v["value"]["ready"] == true)
            {
                break;
            }
            assert!(Instant::now() < deadline, "chromedriver did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .expect("chromium is not installed");
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--autoplay-policy=no-user-gesture-required",
            "--window-size=1200,1000",
        ]
        .into_iter()
        .map(String::from)
        .chain([format!("--user-data-dir={}", driver._profile.path().display())])
        .collect::<Vec<_>>();
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": chromium, "args": args }
        }}});
        let v = driver.call("POST", "/session", caps).await;
        driver.session = v["sessionId"].as_str().expect("session id").to_string();
        driver
    }

    async fn call(&self, method: &str, path: &str, body: Value) -> Value {
        let url = if path == "/session" {
            format!("{}/session", self.base)
        } else {
            format!("{}/session/{}{}", self.base, self.session, path)
        };
        let req = match method {
            "GET" => self.http.get(url),
            "DELETE" => self.http.delete(url),
            _ => self.http.post(url).json(&body),
        };
        let resp = req.send().await.expect("webdriver request");
        let status = resp.status();
        let v: Value = resp.json().await.expect("webdriver JSON");
        assert!(status.is_success(), "webdriver {method} {path}: {status} {v}");
        v["value"].clone()
    }

    async fn goto(&self, url: &str) {
        self.call("POST", "/url", json!({ "url": url })).await;
    }

    async fn find(&self, css: &str) -> String {
        let v = self.call("POST", "/element", json!({ "using": "css selector", "value": css })).await;
        v[ELEMENT].as_str().expect("element id").to_string()
    }

    async fn click(&self, css: &str) {
        let id = self.find(css).await;
        self.call("POST", &format!("/element/{id}/click"), json!({})).await;
    }

    async fn js(&self, script: &str) -> Value {
        self.call("POST", "/execute/sync", json!({ "script": script, "args": [] })).await
    }

    /// Poll `script` until `ok` holds for its value; panic after `secs`.
    async fn wait_for(&self, what: &str, secs: u64, script: &str, ok: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let v = self.js(script).await;
            if ok(&v) {
                return v;
            }
            if Instant::now() > deadline {
                self.screenshot("widget-failure.png").await;
                panic!("timed out waiting for {what}; last state {v}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn screenshot(&self, name: &str) {
        let b64 = self.call("GET", "/screenshot", Value::Null).await;
        let png = base64::engine::general_purpose::STANDARD.decode(b64.as_str().unwrap_or("")).unwrap();
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/artifacts");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), png).unwrap();
    }
}

const STATE: &str = r#"
  var a = document.querySelector('.loa-player audio');
  var on = document.querySelector('.loa-s.loa-on');
  var st = document.querySelector('.loa-status');
  return { t: a ? a.currentTime : -1, paused: a ? a.paused : true, rate: a ? a.playbackRate : 0,
           on: on ? +on.getAttribute('data-loa-i') : -1, onText: on ? on.textContent : '',
           spans: document.querySelectorAll('.loa-s').length,
           status: st ? st.textContent : '', button: document.querySelector('.loa-btn').textContent };
"#;

async fn serve(state: loa::server::AppState) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, loa::server::app(state)).await.unwrap() });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clicking_the_button_reads_the_article_with_highlighting() {
    if std::env::var_os("LOA_SKIP_BROWSER_TEST").is_some() {
        eprintln!("skipped: LOA_SKIP_BROWSER_TEST is set");
        return;
    }
    let w = espeak_world();
    let addr = serve(w.state()).await;
    let d = Driver::start().await;
    d.goto(&format!("http://{addr}/")).await;
    d.wait_for("the widget", 10, "return !!document.querySelector('.loa-player');", |v| v == true).await;
    d.click("#doc-noi-dung").await;

    // Playback starts on the first sentence, which is highlighted.
    let first = d
        .wait_for("playback of sentence 0", 30, STATE, |v| {
            v["t"].as_f64().unwrap_or(0.0) > 0.3 && v["on"] == 0 && v["paused"] == false
        })
        .await;
    assert!(first["spans"].as_u64().unwrap() > 5, "sentences were not wrapped: {first}");
    assert!(first["onText"].as_str().unwrap().contains("Huyện ủy Cao Lộc"), "{first}");
    assert_eq!(first["button"], "Tạm dừng");

    // Faster, then a later sentence is highlighted as playback moves on.
    d.js("var s = document.querySelector('.loa-player select'); s.value = '2'; s.dispatchEvent(new Event('change'));")
        .await;
    let later = d
        .wait_for("a later sentence", 60, STATE, |v| v["on"].as_i64().unwrap_or(-1) >= 1 && v["t"] != 0)
        .await;
    assert_eq!(later["rate"], 2.0, "{later}");
    let t0 = later["t"].as_f64().unwrap();
    d.wait_for("time to advance", 10, STATE, |v| {
        v["on"] != later["on"] || v["t"].as_f64().unwrap() > t0 + 0.2
    })
    .await;

    // Clicking a sentence jumps to it.
    d.click(".loa-s[data-loa-i=\"5\"]").await;
    d.wait_for("the jump to sentence 5", 20, STATE, |v| v["on"] == 5 && v["paused"] == false).await;
    d.screenshot("widget-playing.png").await;
    // Every sentence up to the last one found its text in the page.
    let wrapped = d
        .js("var s = {}; document.querySelectorAll('.loa-s').forEach(function (e) { s[e.dataset.loaI] = 1; });
             var k = Object.keys(s).map(Number); return [k.length, Math.max.apply(null, k) + 1];")
        .await;
    assert_eq!(wrapped[0], wrapped[1], "some sentences were not found in the page: {wrapped}");

    // Keyboard: → on the focused player moves to the next sentence.
    let play = d.find(".loa-player button[aria-label='Tạm dừng']").await;
    d.call("POST", &format!("/element/{play}/value"), json!({ "text": "\u{E014}" })).await;
    d.wait_for("→ to reach sentence 6", 20, STATE, |v| v["on"] == 6).await;
    let focus = d.js("return document.activeElement.getAttribute('aria-label');").await;
    assert_eq!(focus, "Tạm dừng", "the play button keeps the focus");

    // Pause from the keyboard-operable play button.
    d.click(".loa-player button[aria-label='Tạm dừng']").await;
    let paused = d.wait_for("pause", 5, STATE, |v| v["paused"] == true).await;
    assert_eq!(paused["button"], "Tiếp tục đọc");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_service_gives_a_clear_message() {
    if std::env::var_os("LOA_SKIP_BROWSER_TEST").is_some() {
        eprintln!("skipped: LOA_SKIP_BROWSER_TEST is set");
        return;
    }
    let w = espeak_world();
    let addr = serve(w.state()).await;
    let dead = free_port();
    let d = Driver::start().await;
    // A page of its own, with no button: the widget adds one, and its API
    // address is a port where nothing listens.
    let page = format!(
        "<!doctype html><meta charset=utf-8><article class=news-detail><p>Xin chào các bạn.</p></article>\
         <script src=\"http://{addr}/widget.js\" data-target=\".news-detail\" \
         data-api=\"http://127.0.0.1:{dead}\"></script>"
    );
    // Served from a second local server (Chromium blocks a data: page
    // from loading scripts on the loopback address).
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let site = listener.local_addr().unwrap();
    let router =
        axum::Router::new().route("/", axum::routing::get(move || async move { axum::response::Html(page) }));
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    d.goto(&format!("http://{site}/")).await;
    d.wait_for("the widget's own button", 10, "return !!document.querySelector('button.loa-btn');", |v| {
        v == true
    })
    .await;
    d.click("button.loa-btn").await;
    let v = d
        .wait_for("the error message", 15, STATE, |v| {
            v["status"].as_str().unwrap_or("").contains("Không kết nối được dịch vụ đọc")
        })
        .await;
    assert_eq!(v["paused"], true);
    let role = d.js("return document.querySelector('.loa-status').getAttribute('role');").await;
    assert_eq!(role, "alert");
}
