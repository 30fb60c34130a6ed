//! Garage clusters and `loa serve` processes for the object-store tests.
//!
//! A single-node cluster is started once per test run by
//! `scripts/garage-up --watch <this process>` (so it stops with the tests)
//! and each test works under its own prefix; a test that kills nodes starts
//! its own three-node cluster. Without the garage binary ($LOA_GARAGE, the
//! tools dir `scripts/ensure/garage` fills, or PATH) a test says so on
//! stderr and returns, except under CI (`CI` set), where it fails: CI must
//! run these tests.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use loa::cache::S3Store;

use crate::server_support::World;

/// The garage binary, if there is one.
pub fn garage_bin() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("LOA_GARAGE").map(PathBuf::from).filter(|p| p.is_file()) {
        return Some(p);
    }
    let tools = std::env::var_os("LOA_TOOLS_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/loa-tools")))?;
    let built = tools.join("garage-2.5.0/bin/garage");
    if built.is_file() {
        return Some(built);
    }
    std::env::var_os("PATH")
        .and_then(|paths| std::env::split_paths(&paths).map(|d| d.join("garage")).find(|p| p.is_file()))
}

/// `None` (after a loud note) when garage is missing; a failure under CI.
pub fn missing(test: &str) -> Option<PathBuf> {
    match garage_bin() {
        Some(p) => Some(p),
        None if std::env::var_os("CI").is_some() => {
            panic!("{test}: garage is not installed; scripts/test installs it (scripts/ensure/garage)")
        }
        None => {
            eprintln!(
                "\n*** SKIPPED {test}: garage is not installed (run scripts/ensure/garage; scripts/test does) ***\n"
            );
            None
        }
    }
}

/// A running Garage cluster.
pub struct Garage {
    /// AWS_* variables that reach node 1.
    pub env: Vec<(String, String)>,
    pub dir: PathBuf,
    pub bucket: String,
    pub pids: Vec<u32>,
    pub endpoints: Vec<String>,
    /// Stopped on drop (the shared cluster stops when the tests exit).
    own: bool,
}

pub fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts").join(name)
}

fn start(garage: &Path, nodes: usize, own: bool) -> Garage {
    let out = Command::new(script("garage-up"))
        .args(["--nodes", &nodes.to_string(), "--watch", &std::process::id().to_string()])
        .env("LOA_GARAGE", garage)
        .stderr(Stdio::inherit())
        .output()
        .expect("run scripts/garage-up");
    assert!(out.status.success(), "scripts/garage-up failed: {}", out.status);
    let mut vars = std::collections::BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        if let Some((k, v)) = line.strip_prefix("export ").and_then(|l| l.split_once('=')) {
            vars.insert(k.to_string(), v.trim_matches('"').to_string());
        }
    }
    let get = |k: &str| vars.get(k).cloned().unwrap_or_else(|| panic!("garage-up printed no {k}"));
    let env =
        ["AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_ALLOW_HTTP"]
            .iter()
            .map(|k| (k.to_string(), get(k)))
            .collect();
    Garage {
        env,
        dir: PathBuf::from(get("LOA_GARAGE_DIR")),
        bucket: get("LOA_GARAGE_BUCKET"),
        pids: get("LOA_GARAGE_PIDS").split_whitespace().map(|p| p.parse().unwrap()).collect(),
        endpoints: get("LOA_GARAGE_ENDPOINTS").split_whitespace().map(String::from).collect(),
        own,
    }
}

/// The single-node cluster shared by this test run, or `None` (skipped).
pub fn shared(test: &str) -> Option<&'static Garage> {
    static SHARED: OnceLock<Garage> = OnceLock::new();
    let bin = missing(test)?;
    Some(SHARED.get_or_init(|| start(&bin, 1, false)))
}

/// A cluster of its own (stopped when dropped), or `None` (skipped).
pub fn cluster(test: &str, nodes: usize) -> Option<Garage> {
    let bin = missing(test)?;
    Some(start(&bin, nodes, true))
}

impl Drop for Garage {
    fn drop(&mut self) {
        if self.own {
            let _ = Command::new(script("garage-up")).arg("--down").arg(&self.dir).status();
        }
    }
}

impl Garage {
    /// A fresh `s3://bucket/prefix` for one test.
    pub fn url(&self, test: &str) -> String {
        format!("s3://{}/{test}-{:08x}", self.bucket, rand::random::<u32>())
    }

    /// The AWS_* variables with node `node`'s (0-based) endpoint.
    pub fn env_for(&self, node: usize) -> Vec<(String, String)> {
        let mut env = self.env.clone();
        for (k, v) in &mut env {
            if k == "AWS_ENDPOINT_URL" {
                *v = self.endpoints[node].clone();
            }
        }
        env
    }

    pub fn store(&self, url: &str) -> S3Store {
        S3Store::from_url_with(url, self.env.clone()).expect("S3 store")
    }

    /// Stop node `node` (0-based) hard.
    pub fn kill_node(&self, node: usize) {
        let pid = self.pids[node].to_string();
        assert!(Command::new("kill").args(["-KILL", &pid]).status().unwrap().success());
        let started = Instant::now();
        while Path::new("/proc").join(&pid).exists() {
            // A zombie of garage-up's shell counts as gone.
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            if stat.split_whitespace().nth(2) == Some("Z") {
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(10), "garage node {node} did not stop");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// A `loa serve` process.
pub struct Loa {
    pub child: Child,
    pub base: String,
    log: Option<std::thread::JoinHandle<String>>,
}

/// How to start one instance: the world's voices, `store`, a local tier
/// at `local`, `env` on top.
pub fn serve(w: &World, store: &str, local: &Path, env: &[(String, String)]) -> Loa {
    let mut child = Command::new(env!("CARGO_BIN_EXE_loa"))
        .args(["serve", "--address", "127.0.0.1:0", "--voice", "test"])
        .arg("--cache-dir")
        .arg(local)
        .arg("--voices-dir")
        .arg(&w.config.speech.voices_dir)
        .env_remove("LOA_CONFIG")
        .env("LOA_CACHE_STORE", store)
        .env("RUST_LOG", "loa=info")
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .current_dir(w.dir.path())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run loa serve");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut seen = Vec::new();
    let addr = loop {
        let Some(Ok(line)) = lines.next() else {
            let _ = child.kill();
            panic!("loa serve ended before listening:\n{}", seen.join("\n"));
        };
        if let Some(a) = line.split("http://").nth(1).and_then(|s| s.split('/').next()) {
            break a.to_string();
        }
        seen.push(line);
    };
    let log = std::thread::spawn(move || lines.map_while(Result::ok).collect::<Vec<_>>().join("\n"));
    Loa { child, base: format!("http://{addr}"), log: Some(log) }
}

impl Loa {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// SIGKILL, as a crash.
    pub fn kill(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.log.take().map(|l| l.join().unwrap_or_default()).unwrap_or_default()
    }

    /// SIGTERM and wait: a graceful stop.
    pub fn stop(mut self) -> String {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let status = self.child.wait().expect("wait");
        let log = self.log.take().map(|l| l.join().unwrap_or_default()).unwrap_or_default();
        assert!(status.success(), "loa serve exited with {status}:\n{log}");
        log
    }
}

impl Drop for Loa {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(120)).build().unwrap()
}

/// An article of `n` distinct sentences (different for each `seed`).
pub fn article(seed: &str, n: usize) -> String {
    (1..=n).map(|i| format!("Câu số {i} của bài {seed} nói về xã Tân Phú.")).collect::<Vec<_>>().join(" ")
}

/// Poll `check` every 20 ms until it holds or `secs` pass.
pub async fn eventually(secs: u64, what: &str, mut check: impl AsyncFnMut() -> bool) {
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() < Duration::from_secs(secs), "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
