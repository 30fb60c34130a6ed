//! The service goes away mid-article: `loa serve` (a real process) is
//! killed while the widget reads a page on another origin. Once a sentence
//! fails to load the widget says it is retrying; when the service is back
//! (with no memory of the plan: its sentence URLs answer 404
//! `unknown_plan`) playback goes on by itself, at the sentence it had
//! reached, within 10 s. Left down, the widget gives up with an honest
//! message (not "autoplay blocked"), and ▶ starts it again.
//!
//! The page gives the widget a short retry schedule (`data-retry-ms`,
//! [`RETRY_MS`]: 9.75 s in all instead of the default 30.5 s) so the
//! give-up is not waited out at full length; that the default schedule is
//! the one the README documents is checked without a browser
//! ([`the_default_retry_schedule_is_the_documented_one`]).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use crate::browser_support::*;

/// `loa serve` on a fixed port, killed (SIGKILL) on drop.
struct Service {
    child: Option<Child>,
    port: u16,
    config: std::path::PathBuf,
}

impl Service {
    fn start(port: u16, config: &Path) -> Service {
        let mut s = Service { child: None, port, config: config.to_path_buf() };
        s.restart();
        s
    }

    fn restart(&mut self) {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_loa"));
        cmd.arg("--config").arg(&self.config).args([
            "serve",
            "--address",
            &format!("127.0.0.1:{}", self.port),
        ]);
        for (k, _) in std::env::vars() {
            if k.starts_with("LOA_") {
                cmd.env_remove(k);
            }
        }
        let mut child = cmd.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().expect("run loa serve");
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let line = lines.next().and_then(Result::ok).unwrap_or_default();
        assert!(line.contains("serving on"), "loa serve did not start: {line}");
        // Keep reading its log: a closed pipe would fail its writes.
        std::thread::spawn(move || lines.map_while(Result::ok).for_each(drop));
        self.child = Some(child);
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.kill();
    }
}

const ARTICLE: &[&str] = &[
    "Sáng nay, ủy ban nhân dân huyện tổ chức hội nghị triển khai nhiệm vụ năm mới.",
    "Hội nghị có sự tham dự của lãnh đạo các xã và thị trấn trên địa bàn.",
    "Các đại biểu đã thảo luận nhiều giải pháp phát triển kinh tế nông nghiệp.",
    "Nhiều ý kiến đề nghị tăng cường đầu tư cho giao thông nông thôn.",
    "Huyện cũng quan tâm đến công tác chăm lo đời sống cho người dân.",
    "Kết thúc hội nghị, các xã ký cam kết thực hiện tốt nhiệm vụ được giao.",
    "Hội nghị đã thành công tốt đẹp.",
];

/// The page's retry schedule: tries 0.25, 0.75 and then every second after
/// a failed load (long enough for a restart of `loa serve` under load, short
/// enough that giving up takes ~10 s).
const RETRY_MS: &str = "250,500,1000,1000,1000,1000,1000,1000,1000,1000";

pub async fn restart_mid_article(kind: Kind) {
    let Some(b) = Browser::start(kind, 1200, 900).await else { return };
    let dir = tempfile::tempdir().unwrap();
    let site = Listener::bind(SITE_IP).await;
    let port = free_port();
    let voices = Path::new(env!("CARGO_MANIFEST_DIR")).join("voices");
    let config = dir.path().join("loa.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\ncors_origins = [{:?}]\n[cache]\ndir = {:?}\n[speech]\nvoices_dir = {:?}\n",
            site.origin(),
            dir.path().join("cache").display().to_string(),
            voices.display().to_string()
        ),
    )
    .unwrap();
    let mut service = Service::start(port, &config);
    let paragraphs: String = ARTICLE.iter().map(|s| format!("<p>{s}</p>")).collect();
    let page = format!(
        "<!doctype html><html lang=vi><meta charset=utf-8><title>Hội nghị</title>{MEDIA_LOG}\
         <article class=news-detail><h1>Hội nghị triển khai nhiệm vụ</h1>{paragraphs}</article>\
         <script src=\"http://127.0.0.1:{port}/widget.js\" data-target=\".news-detail\" data-retry-ms=\"{RETRY_MS}\"></script></html>"
    );
    let site = site.serve_pages(vec![("/", page)]);
    b.goto(&format!("http://{site}/")).await;
    b.wait_for("the widget", 10, "return !!document.querySelector('.loa-btn');", |v| v == true).await;
    b.click(".loa-btn").await;
    b.wait_for("sentence 1 to play", 40, STATE, |v| v["on"] == 1 && v["t"].as_f64().unwrap_or(0.0) > 0.2)
        .await;

    // Killed: a later sentence fails to load and the widget says so.
    service.kill();
    let down = b
        .wait_for("the retry message", 40, STATE, |v| {
            v["status"].as_str().unwrap_or("").contains("đang thử lại")
        })
        .await;
    let at = down["on"].as_i64().unwrap();
    assert!(at >= 2, "it had moved on before a load failed: {down}");
    b.screenshot("recovery-retrying").await;

    // Back, with no plans in memory: playback goes on by itself.
    service.restart();
    let back = Instant::now();
    let resumed = b
        .wait_for("playback after the restart", 10, STATE, |v| {
            v["paused"] == false
                && v["t"].as_f64().unwrap_or(0.0) > 0.1
                && v["on"].as_i64().unwrap_or(-1) >= at
        })
        .await;
    eprintln!(
        "{}: playing again {:.1} s after the restart: {resumed}",
        kind.name(),
        back.elapsed().as_secs_f64()
    );
    assert_eq!(resumed["on"], at, "it went on at another sentence than the one that failed: {resumed}");
    let status = b.wait_for("the retry message to go", 10, STATE, |v| v["status"] == "").await;
    assert_eq!(status["pressed"], "true");

    // Down for good: after its retries the widget gives up, honestly.
    service.kill();
    let gave_up = b
        .wait_for("the give-up message", 20, STATE, |v| {
            v["status"].as_str().unwrap_or("").contains("sau nhiều lần thử")
        })
        .await;
    assert_eq!(gave_up["pressed"], "false", "{gave_up}");
    assert!(!gave_up["status"].as_str().unwrap().contains("chặn tự phát"), "{gave_up}");
    let stuck = gave_up["on"].as_i64().unwrap();
    b.screenshot("recovery-gave-up").await;

    // ▶ tries again once the service is back.
    service.restart();
    b.click(".loa-player button[aria-label='Phát']").await;
    let again = b
        .wait_for("playback after ▶", 15, STATE, |v| {
            v["paused"] == false && v["t"].as_f64().unwrap_or(0.0) > 0.1
        })
        .await;
    assert_eq!(again["on"], stuck, "▶ went on elsewhere: {again}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_recovers_when_the_service_restarts() {
    restart_mid_article(Kind::Chromium).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn firefox_recovers_when_the_service_restarts() {
    restart_mid_article(Kind::Firefox).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webkit_recovers_when_the_service_restarts() {
    restart_mid_article(Kind::WebKit).await;
}

/// The widget's default schedule (`RETRY_MS` in core.js) is the one the
/// README states. (That a page's `data-retry-ms` is used is shown by the
/// browser tests above: with the default they could not give up within 20 s.)
#[test]
fn the_default_retry_schedule_is_the_documented_one() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let core = std::fs::read_to_string(root.join("src/server/assets/widget/core.js")).unwrap();
    let line =
        core.lines().find(|l| l.trim_start().starts_with("var RETRY_MS = [")).expect("RETRY_MS in core.js");
    let list = line.split('[').nth(1).and_then(|r| r.split(']').next()).unwrap();
    let waits: Vec<u64> = list.split(',').map(|t| t.trim().parse().unwrap()).collect();
    // "waits of 0.5, 1, 2, 3 s and then 4 s six times: 30.5 s in all"
    let secs = |ms: u64| format!("{}", ms as f64 / 1000.0);
    let last = *waits.last().unwrap();
    let tail = waits.iter().rev().take_while(|&&w| w == last).count();
    let head: Vec<String> = waits[..waits.len() - tail].iter().map(|&w| secs(w)).collect();
    let times = ["once", "twice", "three times", "four times", "five times", "six times", "seven times"];
    let text = format!(
        "by default waits of {} s and then {} s {}: {} s in all",
        head.join(", "),
        secs(last),
        times[tail - 1],
        secs(waits.iter().sum())
    );
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let flat = readme.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains(&text), "README.md does not say the widget's default retry schedule: {text:?}");
    assert_eq!(waits, [500, 1000, 2000, 3000, 4000, 4000, 4000, 4000, 4000, 4000]);
}
