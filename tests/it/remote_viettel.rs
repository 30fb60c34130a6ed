//! The `viettel` backend against a local server implementing Viettel AI's
//! `POST /tts/speech_synthesis` (JSON body with the token, audio back).

use std::time::Duration;

use crate::remote_support::*;
use loa::tts::remote::viettel::ViettelFormat;
use loa::tts::remote::{ViettelBackend, ViettelConfig};
use loa::tts::{Backend, TtsError};
use serde_json::json;

const PATH: &str = "/tts/speech_synthesis";

fn config(server: &Server) -> ViettelConfig {
    ViettelConfig {
        base_url: server.base(),
        api_key_env: "LOA_TEST_VIETTEL_TOKEN".into(),
        voice: "hcm-diemmy".into(),
        speed: 1.1,
        format: ViettelFormat::Wav,
        without_filter: false,
        max_input_bytes: 2000,
        http: fast_http(),
    }
}

fn backend(c: ViettelConfig) -> ViettelBackend {
    ViettelBackend::with_env(c, &env_with("LOA_TEST_VIETTEL_TOKEN")).unwrap()
}

#[tokio::test]
async fn wav_success_and_request_contract() {
    let s = Server::start().await;
    let samples = tone(3000);
    s.script(PATH, vec![Step::ok("audio/wav", wav(22_050, &samples))]);
    let pcm = backend(config(&s)).synthesize("Hệ thống tổng hợp tiếng nói.").await.unwrap();
    assert_eq!((pcm.sample_rate, pcm.samples.clone()), (22_050, samples));
    let r = &s.seen_on(PATH)[0];
    assert_eq!(r.method, "POST");
    assert!(r.header("content-type").unwrap().starts_with("application/json"));
    let body = r.json();
    assert_eq!(body["text"], "Hệ thống tổng hợp tiếng nói.");
    assert_eq!(body["voice"], "hcm-diemmy");
    assert!((body["speed"].as_f64().unwrap() - 1.1).abs() < 1e-6);
    assert_eq!(body["tts_return_option"], 2);
    assert_eq!(body["token"], KEY);
    assert_eq!(body["without_filter"], false);
}

#[tokio::test]
async fn mp3_option() {
    let s = Server::start().await;
    s.script(PATH, vec![Step::ok("audio/mpeg", mp3(22_050, &tone(22_050)))]);
    let pcm =
        backend(ViettelConfig { format: ViettelFormat::Mp3, ..config(&s) }).synthesize("Một").await.unwrap();
    assert_eq!(pcm.sample_rate, 22_050);
    assert!(pcm.samples.len() >= 21_000);
    assert_eq!(s.seen_on(PATH)[0].json()["tts_return_option"], 3);
}

#[tokio::test]
async fn json_error_even_with_status_200_is_an_error_without_the_token() {
    let s = Server::start().await;
    let msg = format!("Token {KEY} is invalid or expired");
    s.script(
        PATH,
        vec![Step::json(
            200,
            json!({"vi_message": "Token không hợp lệ", "en_message": msg, "status_code": 401}),
        )],
    );
    let err = backend(config(&s)).synthesize("Xin chào").await.unwrap_err();
    let shown = shown_without_key(&err);
    assert!(shown.contains("Token [redacted] is invalid or expired"), "{shown}");
}

#[tokio::test]
async fn client_error_with_body_is_not_retried() {
    let s = Server::start().await;
    s.script(PATH, vec![Step::json(400, json!({"en_message": "Voice not found", "status_code": 400}))]);
    let err = backend(config(&s)).synthesize("Xin chào").await.unwrap_err().to_string();
    assert!(err.contains("HTTP 400") && err.contains("Voice not found"), "{err}");
    assert_eq!(s.seen_on(PATH).len(), 1);
}

#[tokio::test]
async fn rate_limit_then_success_and_exhausted_server_errors() {
    let s = Server::start().await;
    s.script(
        PATH,
        vec![
            Step::status(429, "Too Many Requests").with_header("retry-after", "1"),
            Step::ok("audio/wav", wav(8000, &tone(10))),
        ],
    );
    backend(config(&s)).synthesize("một").await.unwrap();
    assert_retried_after(&s.seen_on(PATH), Duration::from_secs(1));

    let s = Server::start().await;
    s.script(PATH, vec![Step::status(504, "Gateway Timeout")]);
    let err = backend(config(&s)).synthesize("hai").await.unwrap_err().to_string();
    assert!(err.contains("gave up after 3 attempts") && err.contains("504"), "{err}");
    assert_eq!(s.seen_on(PATH).len(), 3);
}

#[tokio::test]
async fn slow_answer_times_out_and_truncated_answer_fails() {
    let s = Server::start().await;
    s.script(PATH, vec![Step::ok("audio/wav", wav(8000, &tone(10))).after(Duration::from_secs(5))]);
    let http = http_timeout(250, 2);
    let err = backend(ViettelConfig { http, ..config(&s) }).synthesize("ba").await.unwrap_err();
    assert!(matches!(err, TtsError::Timeout(_)), "{err:?}");
    assert_eq!(s.seen_on(PATH).len(), 2);

    let s = Server::start().await;
    let full = wav(8000, &tone(1000));
    s.script(PATH, vec![Step::cut("audio/wav", full[..700].to_vec())]);
    let err = backend(config(&s)).synthesize("bốn").await.unwrap_err();
    let shown = shown_without_key(&err);
    assert!(shown.contains("incomplete or unreadable answer"), "{shown}");
}

#[tokio::test]
async fn missing_token_sends_nothing() {
    let s = Server::start().await;
    let b = ViettelBackend::with_env(config(&s), &|_| None).unwrap();
    let err = b.synthesize("năm").await.unwrap_err().to_string();
    assert!(err.contains("LOA_TEST_VIETTEL_TOKEN"), "{err}");
    assert!(s.seen().is_empty());
}
