//! `loa serve --log-format json`: every line is one JSON object, every
//! request gets an id (a sane incoming `X-Request-Id` is kept, others are
//! replaced) that comes back in the response and is on every log line of
//! the request, and each request ends with exactly one access line.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::server_support::*;

struct Server {
    child: std::process::Child,
    addr: String,
    lines: mpsc::Receiver<String>,
    seen: Vec<serde_json::Value>,
}

impl Server {
    fn start(w: &World) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_loa"))
            .args(["serve", "--address", "127.0.0.1:0", "--voice", "test"])
            .arg("--cache-dir")
            .arg(&w.config.cache.dir)
            .arg("--voices-dir")
            .arg(&w.config.speech.voices_dir)
            .env_remove("LOA_CONFIG")
            .env_remove("RUST_LOG")
            .env("LOA_LOG_FORMAT", "json")
            .current_dir(w.dir.path())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run loa serve");
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut s = Server { child, addr: String::new(), lines, seen: Vec::new() };
        let first = s.wait_for(|j| j["fields"]["message"].as_str().is_some_and(|m| m.contains("serving on")));
        let msg = first["fields"]["message"].as_str().unwrap();
        s.addr = msg.split("http://").nth(1).and_then(|r| r.split('/').next()).unwrap().to_string();
        s
    }

    /// Read lines (each must be JSON) until one satisfies `pred`.
    fn wait_for(&mut self, pred: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line =
                self.lines.recv_timeout(left).unwrap_or_else(|_| panic!("no such line in {:#?}", self.seen));
            let j: serde_json::Value =
                serde_json::from_str(&line).unwrap_or_else(|e| panic!("not one JSON object ({e}): {line}"));
            self.seen.push(j.clone());
            if pred(&j) {
                return j;
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The request id of a log line, from the spans it happened in.
fn request_id(j: &serde_json::Value) -> Option<&str> {
    j["spans"].as_array()?.iter().find_map(|s| s["request_id"].as_str())
}

fn is_access_line(j: &serde_json::Value) -> bool {
    j["fields"]["message"] == "finished processing request"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_json_line_per_request_with_its_id() {
    let w = world(Script { fail: true, ..Script::default() }, |_| {});
    let mut s = Server::start(&w);
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let base = format!("http://{}", s.addr);

    // A sane incoming id is kept and returned.
    let r = http.get(format!("{base}/healthz")).header("x-request-id", "edge-42.a").send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-request-id"], "edge-42.a");
    // None, or a strange one: a fresh id.
    let r = http
        .post(format!("{base}/v1/normalize"))
        .json(&serde_json::json!({"text": "Xin chào."}))
        .send()
        .await
        .unwrap();
    let fresh = r.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_eq!(fresh.len(), 32, "{fresh}");
    let r = http.get(format!("{base}/healthz")).header("x-request-id", "bad id \"x\"").send().await.unwrap();
    let replaced = r.headers()["x-request-id"].to_str().unwrap().to_string();
    assert!(replaced != "bad id \"x\"" && replaced.len() == 32 && replaced != fresh);
    // A request that fails in the backend logs more than the access line.
    let r = http
        .post(format!("{base}/v1/speech"))
        .header("x-request-id", "failing-1")
        .json(&serde_json::json!({"text": "Xin chào."}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 502);
    assert_eq!(r.headers()["x-request-id"], "failing-1");

    for id in ["edge-42.a", fresh.as_str(), replaced.as_str(), "failing-1"] {
        let line = s.wait_for(|j| is_access_line(j) && request_id(j) == Some(id));
        assert!(line["fields"]["status"].is_number() && line["fields"]["latency"].is_string(), "{line}");
        assert_eq!(line["level"], "INFO");
    }
    let access: Vec<_> = s.seen.iter().filter(|j| is_access_line(j)).collect();
    assert_eq!(access.len(), 4, "one access line per request: {access:#?}");
    let ids: Vec<_> = access.iter().map(|j| request_id(j)).collect();
    assert!(ids.iter().all(Option::is_some), "{ids:?}");
    // The failing request's other lines carry its id too.
    let failing: Vec<_> = s.seen.iter().filter(|j| request_id(j) == Some("failing-1")).collect();
    assert!(failing.len() >= 2, "only the access line: {:#?}", s.seen);
    let stray: Vec<_> = s.seen.iter().filter(|j| j["level"] == "WARN" && request_id(j).is_none()).collect();
    assert!(stray.is_empty(), "warnings outside any request: {stray:#?}");
}
