//! The `fpt` backend against a local server implementing FPT.AI TTS v5:
//! raw-text POST with header parameters, `{"async": url, "error": 0}`
//! answer, and an audio link that appears after a delay.

use std::time::{Duration, Instant};

use crate::remote_support::*;
use loa::tts::remote::fpt::FptFormat;
use loa::tts::remote::{FptBackend, FptConfig};
use loa::tts::{Backend, TtsError};
use serde_json::json;

const PATH: &str = "/hmi/tts/v5";
const AUDIO: &str = "/text2speech-v5/short/2026-11-26/abc123.mp3";

fn config(server: &Server) -> FptConfig {
    FptConfig {
        base_url: server.base(),
        api_key_env: "LOA_TEST_FPT_KEY".into(),
        voice: "leminh".into(),
        speed: -1,
        format: FptFormat::Mp3,
        poll_initial_ms: 30,
        poll_max_interval_ms: 100,
        poll_deadline_ms: 1_500,
        http: fast_http(),
    }
}

fn backend(c: FptConfig) -> FptBackend {
    FptBackend::with_env(c, &env_with("LOA_TEST_FPT_KEY")).unwrap()
}

fn accepted(server: &Server) -> Step {
    Step::json(
        200,
        json!({
            "async": format!("{}{AUDIO}", server.base()),
            "error": 0,
            "message": "The content will be returned after a few seconds under the async link.",
            "request_id": "0a88a3a4-e988-4ad3-accf-4e4ecbc4783b"
        }),
    )
}

#[tokio::test]
async fn polls_the_async_link_until_the_audio_is_there() {
    let s = Server::start().await;
    let samples = tone(24_000);
    s.script(PATH, vec![accepted(&s)]);
    s.script(
        AUDIO,
        vec![
            Step::status(404, "<Error><Code>NoSuchKey</Code></Error>"),
            Step::status(403, "AccessDenied"),
            Step::ok("audio/mpeg", mp3(22_050, &samples)),
        ],
    );
    let pcm = backend(config(&s)).synthesize("Bạn thấy dịch vụ này có tốt không?").await.unwrap();
    assert_eq!(pcm.sample_rate, 22_050);
    assert!(pcm.samples.len() >= 23_000, "{}", pcm.samples.len());

    let posts = s.seen_on(PATH);
    assert_eq!(posts.len(), 1);
    let p = &posts[0];
    assert_eq!(p.method, "POST");
    assert_eq!(p.header("api_key"), Some(KEY));
    assert_eq!(p.header("voice"), Some("leminh"));
    assert_eq!(p.header("speed"), Some("-1"));
    assert_eq!(p.header("format"), Some("mp3"));
    assert!(p.header("content-type").unwrap().starts_with("text/plain"));
    assert_eq!(p.text(), "Bạn thấy dịch vụ này có tốt không?");

    let polls = s.seen_on(AUDIO);
    assert_eq!(polls.len(), 3);
    for g in &polls {
        assert_eq!(g.method, "GET");
        assert!(
            g.headers.iter().all(|(_, v)| !v.to_str().unwrap_or("").contains(KEY)),
            "key sent to the file host"
        );
    }
    assert!(polls[2].at - polls[1].at >= Duration::from_millis(20), "polls must be spaced");
}

#[tokio::test]
async fn wav_format_and_short_text_padding() {
    let s = Server::start().await;
    s.script(PATH, vec![accepted(&s)]);
    s.script(AUDIO, vec![Step::ok("audio/wav", wav(16_000, &tone(800)))]);
    let b = backend(FptConfig { format: FptFormat::Wav, speed: 2, ..config(&s) });
    let pcm = b.synthesize("Ừ").await.unwrap();
    assert_eq!((pcm.sample_rate, pcm.samples.len()), (16_000, 800));
    let p = &s.seen_on(PATH)[0];
    assert_eq!(p.text(), "Ừ..");
    assert_eq!(p.header("format"), Some("wav"));
    assert_eq!(p.header("speed"), Some("2"));
}

#[tokio::test]
async fn vendor_error_code_is_reported_without_the_key() {
    let s = Server::start().await;
    s.script(PATH, vec![Step::json(200, json!({"error": 1, "message": format!("Invalid api_key {KEY}")}))]);
    let err = backend(config(&s)).synthesize("Xin chào").await.unwrap_err();
    let shown = shown_without_key(&err);
    assert!(shown.contains("error 1") && shown.contains("Invalid api_key [redacted]"), "{shown}");
    assert!(s.seen_on(AUDIO).is_empty());
}

#[tokio::test]
async fn http_client_error_is_not_retried() {
    let s = Server::start().await;
    s.script(PATH, vec![Step::json(401, json!({"message": "Invalid authentication credentials"}))]);
    let err = backend(config(&s)).synthesize("Xin chào").await.unwrap_err().to_string();
    assert!(err.contains("HTTP 401") && err.contains("Invalid authentication credentials"), "{err}");
    assert_eq!(s.seen_on(PATH).len(), 1);
}

#[tokio::test]
async fn rate_limit_then_success() {
    let s = Server::start().await;
    s.script(
        PATH,
        vec![
            Step::json(429, json!({"message": "API rate limit exceeded"})).with_header("retry-after", "1"),
            accepted(&s),
        ],
    );
    s.script(AUDIO, vec![Step::ok("audio/wav", wav(16_000, &tone(100)))]);
    let pcm =
        backend(FptConfig { format: FptFormat::Wav, ..config(&s) }).synthesize("Một hai ba").await.unwrap();
    assert_eq!(pcm.samples.len(), 100);
    assert_retried_after(&s.seen_on(PATH), Duration::from_secs(1));
}

#[tokio::test]
async fn server_errors_exhaust_the_retries() {
    let s = Server::start().await;
    s.script(PATH, vec![Step::status(500, "Internal Server Error")]);
    let err = backend(config(&s)).synthesize("Một hai ba").await.unwrap_err().to_string();
    assert!(err.contains("gave up after 3 attempts") && err.contains("HTTP 500"), "{err}");
    assert_eq!(s.seen_on(PATH).len(), 3);
}

#[tokio::test]
async fn slow_request_times_out() {
    let s = Server::start().await;
    s.script(PATH, vec![accepted(&s).after(Duration::from_secs(5))]);
    let http = http_timeout(250, 1);
    let err = backend(FptConfig { http, ..config(&s) }).synthesize("Một hai ba").await.unwrap_err();
    assert!(matches!(err, TtsError::Timeout(_)), "{err:?}");
}

#[tokio::test]
async fn truncated_audio_download_is_fetched_again() {
    let s = Server::start().await;
    let full = wav(16_000, &tone(2000));
    s.script(PATH, vec![accepted(&s)]);
    s.script(AUDIO, vec![Step::cut("audio/wav", full[..900].to_vec()), Step::ok("audio/wav", full.clone())]);
    let pcm =
        backend(FptConfig { format: FptFormat::Wav, ..config(&s) }).synthesize("Bốn năm sáu").await.unwrap();
    assert_eq!(pcm.samples.len(), 2000);
    assert_eq!(s.seen_on(AUDIO).len(), 2);
}

#[tokio::test]
async fn audio_that_never_appears_hits_the_deadline() {
    let s = Server::start().await;
    s.script(PATH, vec![accepted(&s)]);
    s.script(AUDIO, vec![Step::status(404, "not yet")]);
    let started = Instant::now();
    let err = backend(FptConfig { poll_deadline_ms: 600, ..config(&s) })
        .synthesize("Bảy tám chín")
        .await
        .unwrap_err();
    let took = started.elapsed();
    let shown = err.to_string();
    assert!(shown.contains("not ready within the 600 ms deadline") && shown.contains("HTTP 404"), "{shown}");
    assert!(took >= Duration::from_millis(550) && took < Duration::from_secs(3), "took {took:?}");
    assert!(s.seen_on(AUDIO).len() >= 3, "{} polls", s.seen_on(AUDIO).len());
}

#[tokio::test]
async fn answers_without_a_usable_link_are_errors() {
    let s = Server::start().await;
    s.script(
        PATH,
        vec![
            Step::json(200, json!({"error": 0, "message": "ok"})),
            Step::json(200, json!({"async": "file:///etc/passwd", "error": 0})),
            Step::status(200, "<html>maintenance</html>"),
        ],
    );
    let b = backend(config(&s));
    let e = b.synthesize("một hai ba").await.unwrap_err().to_string();
    assert!(e.contains("no \"async\" audio link"), "{e}");
    let e = b.synthesize("một hai ba").await.unwrap_err().to_string();
    assert!(e.contains("not an http(s) URL"), "{e}");
    let e = b.synthesize("một hai ba").await.unwrap_err().to_string();
    assert!(e.contains("not the documented JSON") && e.contains("maintenance"), "{e}");
}

#[tokio::test]
async fn a_gone_audio_link_fails_at_once() {
    let s = Server::start().await;
    s.script(PATH, vec![accepted(&s)]);
    s.script(AUDIO, vec![Step::status(410, "Gone")]);
    let err = backend(config(&s)).synthesize("mười").await.unwrap_err().to_string();
    assert!(err.contains("HTTP 410") && err.contains("fetching the audio"), "{err}");
    assert_eq!(s.seen_on(AUDIO).len(), 1);
}
