//! The `google` backend against a local server implementing Cloud
//! Text-to-Speech `POST /v1/text:synthesize` (JSON in, base64 audio out,
//! Google's error envelope).

use std::time::Duration;

use crate::remote_support::*;
use base64::Engine as _;
use loa::tts::remote::google::GoogleEncoding;
use loa::tts::remote::{GoogleBackend, GoogleConfig};
use loa::tts::{Backend, TtsError};
use serde_json::json;

const PATH: &str = "/v1/text:synthesize";

fn config(server: &Server) -> GoogleConfig {
    GoogleConfig {
        base_url: server.base(),
        api_key_env: "LOA_TEST_GOOGLE_KEY".into(),
        language_code: "vi-VN".into(),
        voice: "vi-VN-Neural2-A".into(),
        encoding: GoogleEncoding::Linear16,
        speaking_rate: 0.9,
        pitch: None,
        sample_rate_hertz: None,
        http: fast_http(),
    }
}

fn backend(c: GoogleConfig) -> GoogleBackend {
    GoogleBackend::with_env(c, &env_with("LOA_TEST_GOOGLE_KEY")).unwrap()
}

fn audio(bytes: &[u8]) -> Step {
    Step::json(200, json!({ "audioContent": base64::engine::general_purpose::STANDARD.encode(bytes) }))
}

fn google_error(code: u16, status: &str, message: &str) -> Step {
    Step::json(code, json!({"error": {"code": code, "message": message, "status": status}}))
}

#[tokio::test]
async fn linear16_success_and_request_contract() {
    let s = Server::start().await;
    let samples = tone(2400);
    s.script(PATH, vec![audio(&wav(24_000, &samples))]);
    let pcm = backend(config(&s)).synthesize("Chào buổi sáng.").await.unwrap();
    assert_eq!((pcm.sample_rate, pcm.samples.clone()), (24_000, samples));
    let r = &s.seen_on(PATH)[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.header("x-goog-api-key"), Some(KEY));
    assert!(r.query.is_none(), "the key must not travel in the URL");
    let body = r.json();
    assert_eq!(body["input"]["text"], "Chào buổi sáng.");
    assert_eq!(body["voice"]["languageCode"], "vi-VN");
    assert_eq!(body["voice"]["name"], "vi-VN-Neural2-A");
    assert_eq!(body["audioConfig"]["audioEncoding"], "LINEAR16");
    assert!((body["audioConfig"]["speakingRate"].as_f64().unwrap() - 0.9).abs() < 1e-6);
}

#[tokio::test]
async fn mp3_and_headerless_linear16() {
    let s = Server::start().await;
    let samples = tone(24_000);
    s.script(PATH, vec![audio(&mp3(24_000, &samples)), audio(&raw(&samples[..64]))]);
    let b = backend(GoogleConfig { encoding: GoogleEncoding::Mp3, ..config(&s) });
    let pcm = b.synthesize("một").await.unwrap();
    assert!(pcm.samples.len() >= 23_000);
    assert_eq!(s.seen_on(PATH)[0].json()["audioConfig"]["audioEncoding"], "MP3");
    let b = backend(GoogleConfig { sample_rate_hertz: Some(16_000), pitch: Some(-2.0), ..config(&s) });
    let pcm = b.synthesize("hai").await.unwrap();
    assert_eq!((pcm.sample_rate, pcm.samples.len()), (16_000, 64));
    let cfg = &s.seen_on(PATH)[1].json()["audioConfig"];
    assert_eq!(cfg["sampleRateHertz"], 16_000);
    assert_eq!(cfg["pitch"], -2.0);
}

#[tokio::test]
async fn input_limit_counts_bytes_not_letters() {
    let s = Server::start().await;
    s.script(PATH, vec![audio(&wav(24_000, &tone(10)))]);
    let b = backend(config(&s));
    assert_eq!(b.max_input_bytes(), 5000);
    // 2,000 letters but 6,000 bytes: refused before any request.
    let err = b.synthesize(&"ữ".repeat(2000)).await.unwrap_err().to_string();
    assert!(err.contains("6000 bytes") && err.contains("5000"), "{err}");
    assert!(s.seen().is_empty());
    b.synthesize(&"ữ".repeat(1666)).await.unwrap();
}

#[tokio::test]
async fn google_error_envelope_is_reported_without_the_key() {
    let s = Server::start().await;
    let msg = format!("API key not valid. Please pass a valid API key. ({KEY})");
    s.script(PATH, vec![google_error(400, "INVALID_ARGUMENT", &msg)]);
    let err = backend(config(&s)).synthesize("Xin chào").await.unwrap_err();
    let shown = shown_without_key(&err);
    assert!(shown.contains("HTTP 400: INVALID_ARGUMENT: API key not valid"), "{shown}");
    assert_eq!(s.seen_on(PATH).len(), 1);
}

#[tokio::test]
async fn quota_429_then_success_and_unavailable_exhausted() {
    let s = Server::start().await;
    s.script(
        PATH,
        vec![
            google_error(429, "RESOURCE_EXHAUSTED", "Quota exceeded").with_header("retry-after", "1"),
            audio(&wav(24_000, &tone(10))),
        ],
    );
    backend(config(&s)).synthesize("một").await.unwrap();
    assert_retried_after(&s.seen_on(PATH), Duration::from_secs(1));

    let s = Server::start().await;
    s.script(PATH, vec![google_error(503, "UNAVAILABLE", "The service is currently unavailable.")]);
    let err = backend(config(&s)).synthesize("hai").await.unwrap_err().to_string();
    assert!(err.contains("gave up after 3 attempts") && err.contains("UNAVAILABLE"), "{err}");
    assert_eq!(s.seen_on(PATH).len(), 3);
}

#[tokio::test]
async fn slow_truncated_and_malformed_answers() {
    let s = Server::start().await;
    s.script(PATH, vec![audio(&wav(24_000, &tone(10))).after(Duration::from_secs(5))]);
    let http = http_timeout(250, 1);
    let err = backend(GoogleConfig { http, ..config(&s) }).synthesize("ba").await.unwrap_err();
    assert!(matches!(err, TtsError::Timeout(_)), "{err:?}");

    let s = Server::start().await;
    let body =
        json!({"audioContent": base64::engine::general_purpose::STANDARD.encode(wav(24_000, &tone(500)))})
            .to_string();
    s.script(PATH, vec![Step::cut("application/json", body.as_bytes()[..200].to_vec())]);
    let err = backend(config(&s)).synthesize("bốn").await.unwrap_err().to_string();
    assert!(err.contains("incomplete or unreadable answer"), "{err}");
    assert_eq!(s.seen_on(PATH).len(), 3);

    let s = Server::start().await;
    s.script(
        PATH,
        vec![Step::json(200, json!({"audioContent": "!!!not base64!!!"})), Step::json(200, json!({}))],
    );
    let b = backend(config(&s));
    let e = b.synthesize("năm").await.unwrap_err().to_string();
    assert!(e.contains("not valid base64"), "{e}");
    let e = b.synthesize("sáu").await.unwrap_err().to_string();
    assert!(e.contains("no audioContent"), "{e}");
}
