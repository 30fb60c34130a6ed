//! `loa serve` as a process: it prints where it listens, and on SIGTERM it
//! stops accepting connections but lets the request in flight finish.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::server_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_the_request_in_flight_finish() {
    let w = world(Script { sleep_secs: 1.5, ..Script::default() }, |_| {});
    let mut child = Command::new(env!("CARGO_BIN_EXE_loa"))
        .args(["serve", "--address", "127.0.0.1:0", "--voice", "test"])
        .arg("--cache-dir")
        .arg(&w.config.cache.dir)
        .arg("--voices-dir")
        .arg(&w.config.speech.voices_dir)
        .env_remove("LOA_CONFIG")
        .current_dir(w.dir.path())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run loa serve");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let first = lines.next().expect("a line").expect("utf-8");
    let addr = first
        .split("http://")
        .nth(1)
        .and_then(|s| s.split('/').next())
        .unwrap_or_else(|| panic!("no address in {first:?}"))
        .to_string();
    let rest = std::thread::spawn(move || lines.map_while(Result::ok).collect::<Vec<_>>().join("\n"));

    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let url = format!("http://{addr}/v1/speech");
    let in_flight = tokio::spawn({
        let http = http.clone();
        async move { http.post(url).json(&serde_json::json!({ "text": "Xin chào." })).send().await }
    });
    // Wait until the synthesis is running, then ask the server to stop.
    let started = Instant::now();
    while w.runs() == 0 {
        assert!(started.elapsed() < Duration::from_secs(10), "the request never reached the voice");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());

    let response = in_flight.await.unwrap().expect("the request in flight was cut off");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "audio/mpeg");
    assert!(response.bytes().await.unwrap().len() > 1000);

    let exit = child.wait().unwrap();
    assert!(exit.success(), "loa serve exited with {exit}");
    let log = rest.join().unwrap();
    assert!(log.contains("shutting down"), "{log}");
    // No longer listening.
    assert!(http.get(format!("http://{addr}/healthz")).send().await.is_err());
}
