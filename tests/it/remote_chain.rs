//! "Edge loa → synthesis loa": a real loa server (`loa::server::app` on a
//! loopback socket) serves its OpenAI-compatible `POST /v1/audio/speech`,
//! and a second loa whose voice is `openai`, pointed at it, renders
//! articles through it — the way synthesis scales out onto other machines.

use std::path::Path;

use loa::audio::Format;
use loa::config::Config;
use loa::pipeline::Engine;
use loa::server::{AppState, app};

/// A loa listening on 127.0.0.1; the task ends with the test's runtime.
async fn serve(engine: Engine) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app(AppState::new(engine))).await.unwrap();
    });
    format!("http://{addr}")
}

/// The synthesis side: a `command` voice "tone" whose program logs each
/// text it gets and answers with half a second of 440 Hz (or fails).
fn synthesis_config(dir: &Path, fail: bool, sleep_secs: u32) -> Config {
    let voices = dir.join("synth-voices");
    std::fs::create_dir_all(&voices).unwrap();
    let tone = dir.join("tone.wav");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 22_050,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(&tone, spec).unwrap();
    for i in 0..11_025 {
        let t = i as f32 / 22_050.0;
        w.write_sample(((t * 440.0 * std::f32::consts::TAU).sin() * 8000.0) as i16).unwrap();
    }
    w.finalize().unwrap();
    // One file per request: concurrent runs must not interleave their texts.
    let log = dir.join("texts");
    std::fs::create_dir_all(&log).unwrap();
    let mut script = format!("#!/bin/sh\ncat > \"$(mktemp -p '{}' text.XXXXXX)\"\n", log.display());
    if sleep_secs > 0 {
        script += &format!("sleep {sleep_secs}\n");
    }
    if fail {
        script += "echo 'model exploded' >&2\nexit 3\n";
    }
    script += &format!("exec cat '{}'\n", tone.display());
    let program = dir.join("tone.sh");
    crate::server_support::write_script(&program, &script);
    std::fs::write(
        voices.join("tone.toml"),
        format!("[backend]\ntype = \"command\"\nprogram = \"{}\"\ntimeout_secs = 30\n", program.display()),
    )
    .unwrap();
    let mut config = Config::default();
    config.cache.dir = dir.join("synth-cache");
    config.speech.voices_dir = voices;
    config.speech.default_voice = "tone".into();
    config
}

/// The edge side: one `openai` voice "edge" pointing at `base_url`.
fn edge_config(dir: &Path, base_url: &str, voice: &str) -> Config {
    edge_config_with(dir, base_url, voice, 1000)
}

fn edge_config_with(dir: &Path, base_url: &str, voice: &str, backoff_max_ms: u64) -> Config {
    let voices = dir.join("edge-voices");
    std::fs::create_dir_all(&voices).unwrap();
    std::fs::write(
        voices.join("edge.toml"),
        format!(
            "description = \"synthesized by another loa\"\n[backend]\ntype = \"openai\"\nbase_url = \"{base_url}\"\n\
             voice = \"{voice}\"\nformat = \"wav\"\n[backend.http]\ntimeout_ms = 60000\nmax_attempts = 3\n\
             backoff_initial_ms = 50\nbackoff_max_ms = {backoff_max_ms}\nconcurrency = 2\n"
        ),
    )
    .unwrap();
    let mut config = Config::default();
    config.cache.dir = dir.join("edge-cache");
    config.speech.voices_dir = voices;
    config.speech.default_voice = "edge".into();
    config
}

fn logged_texts(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir.join("texts")) else { return Vec::new() };
    entries.flatten().map(|e| std::fs::read_to_string(e.path()).unwrap().trim().to_string()).collect()
}

async fn read_wav(engine: &Engine, key: &loa::cache::CacheKey) -> (u32, Vec<i16>) {
    let obj = engine.open(key, loa::cache::Ext::Wav, None).await.unwrap().expect("cached");
    let bytes = obj.bytes().await.unwrap();
    let mut r = hound::WavReader::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let rate = r.spec().sample_rate;
    (rate, r.samples::<i16>().map(Result::unwrap).collect())
}

const ARTICLE: &str =
    "Hà Nội mưa lớn suốt đêm qua.\n\nNhiều tuyến phố bị ngập sâu. Giao thông ùn tắc kéo dài.";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edge_loa_renders_through_a_synthesis_loa() {
    let dir = tempfile::tempdir().unwrap();
    let synth = Engine::new(&synthesis_config(dir.path(), false, 0)).unwrap();
    let base = serve(synth.clone()).await;

    let edge = Engine::new(&edge_config(dir.path(), &base, "tone")).unwrap();
    let info = edge.voices().into_iter().find(|v| v.name == "edge").unwrap();
    assert!(info.available && info.backend == "openai", "{info:?}");

    let plan = edge.plan(ARTICLE, None, Format::Wav).unwrap();
    let n = plan.len();
    assert_eq!(n, 3, "{:?}", plan.sentences());
    let rendered = edge.render(&plan, &loa::pipeline::Job::default()).await.unwrap();
    assert!(!rendered.from_cache);
    assert_eq!(rendered.synthesized, n);

    // Every edge sentence reached the synthesis loa's engine, as spoken text.
    let texts = logged_texts(dir.path());
    assert_eq!(texts.len(), n, "{texts:?}");
    for s in plan.sentences() {
        let first = s.spoken.split_whitespace().next().unwrap().to_lowercase();
        assert!(texts.iter().any(|t| t.to_lowercase().contains(&first)), "{first:?} not in {texts:?}");
    }
    assert!(synth.metrics().snapshot().syntheses >= n as u64);

    // The edge's article is the tones joined with pauses, at the edge's rate.
    let (rate, samples) = read_wav(&edge, &rendered.key).await;
    assert_eq!(rate, edge.config().speech.sample_rate);
    let secs = samples.len() as f64 / rate as f64;
    assert!(secs >= 0.5 * n as f64, "{secs}s for {n} sentences");
    assert!(samples.iter().any(|&s| s.abs() > 3000), "no tone in the chained audio");

    // A second render is served from the edge's cache: no new request.
    let again = edge.render(&plan, &loa::pipeline::Job::default()).await.unwrap();
    assert!(again.from_cache);
    assert_eq!(logged_texts(dir.path()).len(), n);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edge_http_openai_endpoint_chains_to_the_synthesis_loa() {
    let dir = tempfile::tempdir().unwrap();
    let synth_base = serve(Engine::new(&synthesis_config(dir.path(), false, 0)).unwrap()).await;
    let edge_base = serve(Engine::new(&edge_config(dir.path(), &synth_base, "tone")).unwrap()).await;

    // A client speaks OpenAI to the edge, which speaks OpenAI to the synthesis loa.
    let resp = reqwest::Client::new()
        .post(format!("{edge_base}/v1/audio/speech"))
        .json(&serde_json::json!({"model": "tts-1", "input": ARTICLE, "voice": "edge", "response_format": "wav"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body = resp.bytes().await.unwrap();
    let pcm = loa::audio::decode(&body).unwrap();
    assert!(pcm.duration_ms() >= 1000, "{} ms", pcm.duration_ms());
    assert!(pcm.peak() > 3000);
    let texts = logged_texts(dir.path());
    assert_eq!(texts.len(), 3, "{texts:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn synthesis_failure_reaches_the_edge_as_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let synth_base = serve(Engine::new(&synthesis_config(dir.path(), true, 0)).unwrap()).await;
    let edge = Engine::new(&edge_config(dir.path(), &synth_base, "tone")).unwrap();
    let plan = edge.plan("Một câu thôi.", None, Format::Mp3).unwrap();
    let err = edge.render(&plan, &loa::pipeline::Job::default()).await.unwrap_err().to_string();
    assert!(err.contains("openai") && err.contains("HTTP 5"), "{err}");
    assert!(
        edge.open(plan.key(), loa::cache::Ext::Mp3, None).await.unwrap().is_none(),
        "nothing may be cached after a failure"
    );

    // An unknown voice on the synthesis side is a 4xx: reported, not retried.
    let dir2 = tempfile::tempdir().unwrap();
    let edge = Engine::new(&edge_config(dir2.path(), &synth_base, "no-such-voice")).unwrap();
    let plan = edge.plan("Một câu thôi.", None, Format::Wav).unwrap();
    let err = edge.render(&plan, &loa::pipeline::Job::default()).await.unwrap_err().to_string();
    assert!(err.contains("HTTP 4") && err.contains("no-such-voice"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_synthesis_loa_pushes_back_and_the_edge_waits_as_told() {
    let dir = tempfile::tempdir().unwrap();
    // One synthesis at a time and no waiting line: a second request gets
    // 503 with Retry-After, which the edge honours before retrying.
    let mut synth = synthesis_config(dir.path(), false, 1);
    synth.server.synthesis_concurrency = 1;
    synth.server.queue_limit = 0;
    synth.server.retry_after_secs = 2;
    let synth_retry_after = synth.server.retry_after_secs;
    let synth_base = serve(Engine::new(&synth).unwrap()).await;
    let edge = Engine::new(&edge_config_with(dir.path(), &synth_base, "tone", 10_000)).unwrap();
    let plan = edge.plan("Câu thứ nhất.\n\nCâu thứ hai.", None, Format::Wav).unwrap();
    assert_eq!(plan.len(), 2);
    let started = std::time::Instant::now();
    let rendered = edge.render(&plan, &loa::pipeline::Job::default()).await.unwrap();
    let took = started.elapsed();
    assert_eq!(rendered.synthesized, 2);
    assert_eq!(logged_texts(dir.path()).len(), 2);
    let wait = synth_retry_after;
    assert!(took >= std::time::Duration::from_secs(wait), "the edge did not wait {wait}s: {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edge_loa_speaks_vietnamese_through_espeak_on_the_synthesis_loa() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    config.cache.dir = dir.path().join("synth-cache");
    config.speech.voices_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("voices");
    config.speech.default_voice = "vi-espeak".into();
    let synth_base = serve(Engine::new(&config).unwrap()).await;
    let edge = Engine::new(&edge_config(dir.path(), &synth_base, "vi-espeak")).unwrap();
    let plan = edge.plan("Xin chào các bạn. Hôm nay trời đẹp.", None, Format::Wav).unwrap();
    let rendered = edge.render(&plan, &loa::pipeline::Job::default()).await.unwrap();
    let (_, samples) = read_wav(&edge, &rendered.key).await;
    assert!(samples.len() > edge.config().speech.sample_rate as usize, "less than a second of speech");
    assert!(samples.iter().any(|&s| s.abs() > 1000), "silent");
}
