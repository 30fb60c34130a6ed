//! The synthesis worker pool: a worker that crashes or hangs is replaced and
//! its sentence retried once on a fresh worker, with the same bytes as a
//! healthy worker gives.

use std::time::{Duration, Instant};

use loa::tts::espeak::EspeakSpec;
use loa::tts::pool::Pool;

const SENTENCE: &str = "xin chào các bạn";

fn pool(size: usize, timeout: Duration) -> Pool {
    Pool::new(std::path::Path::new(env!("CARGO_BIN_EXE_loa")), size, timeout)
}

fn signal(pid: u32, sig: &str) {
    let ok = std::process::Command::new("kill").args([sig, &pid.to_string()]).status().unwrap().success();
    assert!(ok, "kill {sig} {pid}");
}

/// True once `pid` no longer runs (gone, or a zombie waiting to be reaped).
fn gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat.rsplit(')').next().is_some_and(|rest| rest.trim_start().starts_with('Z')),
    }
}

#[tokio::test]
async fn a_crashed_worker_is_replaced_and_the_sentence_retried() {
    let p = pool(1, Duration::from_secs(30));
    let spec = EspeakSpec::default();
    let first = p.synthesize(&spec, SENTENCE).await.unwrap();
    let pids = p.idle_pids();
    assert_eq!(pids.len(), 1, "one idle worker after a sentence");
    signal(pids[0], "-KILL");
    let again = p.synthesize(&spec, SENTENCE).await.expect("retried on a fresh worker");
    assert_eq!(again.samples, first.samples, "the fresh worker gives the same samples");
    let now = p.idle_pids();
    assert_eq!(now.len(), 1);
    assert_ne!(now[0], pids[0], "the crashed worker was replaced");
}

#[tokio::test]
async fn a_hung_worker_is_killed_after_the_timeout_and_replaced() {
    let p = pool(1, Duration::from_secs(2));
    let spec = EspeakSpec::default();
    let first = p.synthesize(&spec, SENTENCE).await.unwrap();
    let hung = p.idle_pids()[0];
    signal(hung, "-STOP");
    let started = Instant::now();
    let again = p.synthesize(&spec, SENTENCE).await.expect("retried on a fresh worker");
    let took = started.elapsed();
    assert_eq!(again.samples, first.samples);
    assert!(took >= Duration::from_secs(2), "answered in {took:?}, before the timeout");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !gone(hung) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if !gone(hung) {
        signal(hung, "-KILL");
        panic!("the hung worker {hung} was left running");
    }
    assert!(!p.idle_pids().contains(&hung));
}
