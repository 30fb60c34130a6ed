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

/// The processes whose parent is `pid`.
fn children(pid: u32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|c| c.parse().ok())
        .collect()
}

#[tokio::test]
async fn a_synthesis_child_killed_part_way_is_retried_on_a_fresh_worker() {
    // Long enough (minutes of audio) that the child is still writing frames when it is killed.
    let long = vec![SENTENCE; 400].join(", ");
    let p = pool(1, Duration::from_secs(60));
    let spec = EspeakSpec::default();
    let healthy = p.synthesize(&spec, &long).await.unwrap();
    let worker = p.idle_pids()[0];
    // The answer can arrive before the worker has reaped that sentence's child.
    let deadline = Instant::now() + Duration::from_secs(20);
    while !children(worker).is_empty() {
        assert!(Instant::now() < deadline, "the worker {worker} kept its first child");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let (p2, spec2, long2) = (std::sync::Arc::new(p), spec.clone(), long.clone());
    let task = {
        let p2 = p2.clone();
        tokio::spawn(async move { p2.synthesize(&spec2, &long2).await })
    };
    let child = loop {
        if let Some(&c) = children(worker).first() {
            break c;
        }
        assert!(Instant::now() < deadline, "the worker {worker} never forked a synthesis child");
        tokio::time::sleep(Duration::from_millis(1)).await;
    };
    signal(child, "-KILL");
    let again = task.await.unwrap().expect("retried on a fresh worker");
    assert_eq!(again.samples.len(), healthy.samples.len());
    assert!(again.samples == healthy.samples, "the retry gives the healthy samples");
    let now = p2.idle_pids();
    assert_eq!(now.len(), 1);
    assert_ne!(now[0], worker, "the worker whose child died was replaced");
}

/// The loa binary uses its worker processes whatever its file is called
/// (a packager's `loa-1.2`, or here `speaker`): once it had to be named
/// `loa`, and a renamed binary synthesized on one core without a word.
#[test]
fn a_renamed_loa_binary_still_synthesizes_on_workers() {
    let dir = tempfile::tempdir().unwrap();
    let renamed = dir.path().join("speaker");
    let exe = env!("CARGO_BIN_EXE_loa");
    if std::fs::hard_link(exe, &renamed).is_err() {
        std::fs::copy(exe, &renamed).unwrap();
    }
    let text = dir.path().join("bai.txt");
    std::fs::write(&text, "Xin chào các bạn. Hôm nay trời đẹp.").unwrap();
    let out = dir.path().join("bai.wav");
    let o = std::process::Command::new(&renamed)
        .env_remove("LOA_CONFIG")
        .env("LOA_SPEECH_WORKERS", "2")
        .env_remove("RUST_LOG")
        .arg("-vv")
        .arg("--cache-dir")
        .arg(dir.path().join("cache"))
        .arg("--voices-dir")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/voices"))
        .arg("speak")
        .arg(&text)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    assert!(std::fs::metadata(&out).unwrap().len() > 44);
    let started: Vec<&str> = stderr.lines().filter(|l| l.contains("synthesis worker started")).collect();
    assert!(!started.is_empty(), "no synthesis worker started:\n{stderr}");
    assert!(started.iter().all(|l| l.contains("speaker")), "{started:?}");
}
