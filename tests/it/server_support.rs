//! Shared helpers of the server tests: engines with real voices (a
//! `command` voice backed by a tiny shell script that counts its runs, or
//! eSpeak NG), and a one-call way to send a request through `app()`.

use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use http_body_util::BodyExt;
use loa::config::Config;
use loa::pipeline::Engine;
use loa::server::{AppState, app};
use tower::ServiceExt;

/// How the test voice's script behaves.
#[derive(Debug, Clone, Default)]
pub struct Script {
    /// Seconds to sleep before answering.
    pub sleep_secs: f32,
    /// Exit with an error instead of writing audio.
    pub fail: bool,
    /// Length of the tone every sentence reads as, in seconds (0: half a
    /// second). Browser tests that act while a sentence plays make it
    /// longer, so that a slow poll under load cannot miss the sentence.
    pub tone_secs: f32,
}

/// A temporary world: cache, voices and the counting script.
pub struct World {
    pub dir: tempfile::TempDir,
    pub config: Config,
}

impl World {
    /// Runs of the voice's program so far.
    pub fn runs(&self) -> usize {
        std::fs::read_to_string(self.dir.path().join("runs")).map(|s| s.lines().count()).unwrap_or(0)
    }

    pub fn cache_dir(&self) -> PathBuf {
        self.config.cache.dir.clone()
    }

    pub fn engine(&self) -> Engine {
        Engine::new(&self.config).expect("engine")
    }

    pub fn state(&self) -> AppState {
        AppState::new(self.engine())
    }

    /// Files under the cache directory with extension `ext`.
    pub fn cached_files(&self, ext: &str) -> Vec<PathBuf> {
        fn walk(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
            let Ok(entries) = std::fs::read_dir(dir) else { return };
            for e in entries.flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, ext, out);
                } else if p.extension().is_some_and(|x| x == ext) {
                    out.push(p);
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.cache_dir(), ext, &mut out);
        out
    }
}

/// Half a second of a sine tone at `hz` (22.05 kHz mono, 16-bit) at `path`:
/// what the test voices' scripts answer with.
pub fn tone_wav(path: &Path, hz: f32) {
    tone_wav_secs(path, hz, 0.5);
}

/// `secs` seconds of a sine tone at `hz` (22.05 kHz mono, 16-bit) at `path`.
pub fn tone_wav_secs(path: &Path, hz: f32, secs: f32) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 22050,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).expect("wav");
    for i in 0..(22050.0 * secs) as u32 {
        let t = i as f32 / 22050.0;
        w.write_sample(((t * hz * std::f32::consts::TAU).sin() * 8000.0) as i16).expect("sample");
    }
    w.finalize().expect("finalize");
}

/// Write the executable script `body` at `path` (a test voice's program).
pub fn write_script(path: &Path, body: &str) {
    std::fs::write(path, body).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A world whose default voice `test` is a shell script (`command` backend).
pub fn world(script: Script, tweak: impl FnOnce(&mut Config)) -> World {
    let dir = tempfile::tempdir().expect("tempdir");
    let voices = dir.path().join("voices");
    std::fs::create_dir_all(&voices).unwrap();
    let tone = dir.path().join("tone.wav");
    tone_wav_secs(&tone, 440.0, if script.tone_secs > 0.0 { script.tone_secs } else { 0.5 });
    let runs = dir.path().join("runs");
    let mut body = format!("#!/bin/sh\necho run >> '{}'\ncat > /dev/null\n", runs.display());
    if script.sleep_secs > 0.0 {
        body += &format!("sleep {}\n", script.sleep_secs);
    }
    if script.fail {
        body += "echo 'model exploded' >&2\nexit 3\n";
    }
    body += &format!("exec cat '{}'\n", tone.display());
    let program = dir.path().join("voice.sh");
    write_script(&program, &body);
    std::fs::write(
        voices.join("test.toml"),
        format!(
            "description = \"test tone\"\n[backend]\ntype = \"command\"\nprogram = \"{}\"\ntimeout_secs = 30\nconcurrency = 4\n",
            program.display()
        ),
    )
    .unwrap();
    let mut config = Config::default();
    config.cache.dir = dir.path().join("cache");
    config.speech.voices_dir = voices;
    config.speech.default_voice = "test".into();
    tweak(&mut config);
    World { dir, config }
}

/// A world whose default voice is the real eSpeak NG voice of `voices/`.
pub fn espeak_world() -> World {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = Config::default();
    config.cache.dir = dir.path().join("cache");
    config.speech.voices_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("voices");
    config.speech.default_voice = "vi-espeak".into();
    World { dir, config }
}

/// An answer read whole.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    /// Assert a JSON error with this status and code.
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text());
        let j = self.json();
        assert_eq!(j["code"], code, "body: {j}");
        assert!(j["message"].as_str().is_some_and(|m| !m.is_empty()), "body: {j}");
        assert!(self.header("content-type").unwrap_or("").starts_with("application/json"));
    }
}

pub async fn send(state: &AppState, request: Request<Body>) -> Reply {
    let response = app(state.clone()).oneshot(request).await.expect("infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.expect("body").to_bytes().to_vec();
    Reply { status, headers, body }
}

pub async fn get(state: &AppState, uri: &str) -> Reply {
    send(state, Request::get(uri).body(Body::empty()).unwrap()).await
}

pub async fn get_with(state: &AppState, uri: &str, headers: &[(&str, &str)]) -> Reply {
    let mut req = Request::get(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    send(state, req.body(Body::empty()).unwrap()).await
}

pub async fn post_json(state: &AppState, uri: &str, body: serde_json::Value) -> Reply {
    post_raw(state, uri, body.to_string().into_bytes(), &[]).await
}

pub async fn post_raw(state: &AppState, uri: &str, body: Vec<u8>, headers: &[(&str, &str)]) -> Reply {
    let mut req = Request::post(uri).header("content-type", "application/json");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    send(state, req.body(Body::from(body)).unwrap()).await
}
