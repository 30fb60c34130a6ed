//! The `openai` backend against a local server implementing
//! `POST /v1/audio/speech`, plus the shared HTTP machinery (retries,
//! Retry-After, timeouts, truncation, concurrency limit, key redaction).

use std::time::{Duration, Instant};

use crate::remote_support::*;
use loa::tts::remote::openai::OpenAiFormat;
use loa::tts::remote::{OpenAiBackend, OpenAiConfig};
use loa::tts::{Backend, TtsError};
use serde_json::json;

const PATH: &str = "/v1/audio/speech";

fn config(server: &Server) -> OpenAiConfig {
    OpenAiConfig {
        base_url: server.base(),
        api_key_env: Some("LOA_TEST_OPENAI_KEY".into()),
        model: "tts-1".into(),
        voice: "alloy".into(),
        format: OpenAiFormat::Wav,
        speed: Some(1.1),
        pcm_sample_rate: 24_000,
        max_input_bytes: 4096,
        http: fast_http(),
    }
}

fn backend(c: OpenAiConfig) -> OpenAiBackend {
    OpenAiBackend::with_env(c, &env_with("LOA_TEST_OPENAI_KEY")).unwrap()
}

#[tokio::test]
async fn wav_success_and_request_contract() {
    let s = Server::start().await;
    let samples = tone(2400);
    s.script(PATH, vec![Step::ok("audio/wav", wav(24_000, &samples))]);
    let pcm = backend(config(&s)).synthesize("Xin chào các bạn.").await.unwrap();
    assert_eq!(pcm.sample_rate, 24_000);
    assert_eq!(pcm.samples, samples);
    let seen = s.seen_on(PATH);
    assert_eq!(seen.len(), 1);
    let r = &seen[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.header("authorization"), Some(format!("Bearer {KEY}").as_str()));
    assert!(r.header("content-type").unwrap().starts_with("application/json"));
    let body = r.json();
    assert_eq!(body["model"], "tts-1");
    assert_eq!(body["input"], "Xin chào các bạn.");
    assert_eq!(body["voice"], "alloy");
    assert_eq!(body["response_format"], "wav");
    assert!((body["speed"].as_f64().unwrap() - 1.1).abs() < 1e-6);
}

#[tokio::test]
async fn mp3_and_raw_pcm_answers_are_decoded() {
    let s = Server::start().await;
    let samples = tone(24_000);
    s.script(
        PATH,
        vec![Step::ok("audio/mpeg", mp3(24_000, &samples)), Step::ok("audio/pcm", raw(&samples[..100]))],
    );
    let mp3_voice = backend(OpenAiConfig { format: OpenAiFormat::Mp3, ..config(&s) });
    let pcm = mp3_voice.synthesize("một").await.unwrap();
    assert_eq!(pcm.sample_rate, 24_000);
    assert!(pcm.samples.len() >= 23_000, "{}", pcm.samples.len());
    assert!(pcm.samples.iter().any(|&x| x.abs() > 4000));
    let pcm_voice =
        backend(OpenAiConfig { format: OpenAiFormat::Pcm, pcm_sample_rate: 16_000, ..config(&s) });
    let pcm = pcm_voice.synthesize("hai").await.unwrap();
    assert_eq!(pcm.sample_rate, 16_000);
    assert_eq!(pcm.samples, samples[..100].to_vec());
    assert_eq!(s.seen_on(PATH)[1].json()["response_format"], "pcm");
}

#[tokio::test]
async fn no_key_means_no_authorization_header() {
    let s = Server::start().await;
    s.script(PATH, vec![Step::ok("audio/wav", wav(22_050, &tone(10)))]);
    let b = OpenAiBackend::with_env(OpenAiConfig { api_key_env: None, speed: None, ..config(&s) }, &|_| None)
        .unwrap();
    b.synthesize("ba").await.unwrap();
    let r = &s.seen_on(PATH)[0];
    assert!(r.header("authorization").is_none());
    assert!(r.json().get("speed").is_none());
}

#[tokio::test]
async fn client_error_is_reported_once_with_the_body_and_no_key() {
    let s = Server::start().await;
    let msg = format!("Incorrect API key provided: {KEY}");
    s.script(
        PATH,
        vec![Step::json(401, json!({"error": {"message": msg, "type": "invalid_request_error"}}))],
    );
    let err = backend(config(&s)).synthesize("bốn").await.unwrap_err();
    let shown = shown_without_key(&err);
    assert!(matches!(err, TtsError::Backend(_)), "{err:?}");
    assert!(
        shown.contains("HTTP 401") && shown.contains("Incorrect API key provided: [redacted]"),
        "{shown}"
    );
    assert_eq!(s.seen_on(PATH).len(), 1, "4xx must not be retried");
}

#[tokio::test]
async fn rate_limit_honours_retry_after_then_succeeds() {
    let s = Server::start().await;
    s.script(
        PATH,
        vec![
            Step::json(429, json!({"error": {"message": "Rate limit reached"}}))
                .with_header("retry-after", "1"),
            Step::ok("audio/wav", wav(24_000, &tone(50))),
        ],
    );
    let pcm = backend(config(&s)).synthesize("năm").await.unwrap();
    assert_eq!(pcm.samples.len(), 50);
    assert_retried_after(&s.seen_on(PATH), Duration::from_millis(1000));
}

#[tokio::test]
async fn retry_after_beyond_the_cap_fails_at_once() {
    let s = Server::start().await;
    s.script(PATH, vec![Step::status(429, "slow down").with_header("retry-after", "3600")]);
    let err = backend(config(&s)).synthesize("sáu").await.unwrap_err().to_string();
    assert!(err.contains("429") && err.contains("3600s"), "{err}");
    assert_eq!(s.seen_on(PATH).len(), 1);
}

#[tokio::test]
async fn server_errors_are_retried_until_attempts_run_out() {
    let s = Server::start().await;
    s.script(PATH, vec![Step::json(503, json!({"error": {"message": "overloaded"}}))]);
    let err = backend(config(&s)).synthesize("bảy").await.unwrap_err();
    let shown = err.to_string();
    assert!(shown.contains("gave up after 3 attempts") && shown.contains("HTTP 503: overloaded"), "{shown}");
    assert_eq!(s.seen_on(PATH).len(), 3);
}

#[tokio::test]
async fn server_error_then_success() {
    let s = Server::start().await;
    s.script(PATH, vec![Step::status(502, "bad gateway"), Step::ok("audio/wav", wav(24_000, &tone(30)))]);
    assert_eq!(backend(config(&s)).synthesize("tám").await.unwrap().samples.len(), 30);
    assert_eq!(s.seen_on(PATH).len(), 2);
}

#[tokio::test]
async fn slow_answer_times_out() {
    let s = Server::start().await;
    s.script(PATH, vec![Step::ok("audio/wav", wav(24_000, &tone(10))).after(Duration::from_secs(5))]);
    let http = http_timeout(300, 2);
    let started = Instant::now();
    let err = backend(OpenAiConfig { http, ..config(&s) }).synthesize("chín").await.unwrap_err();
    assert!(matches!(err, TtsError::Timeout(d) if d == Duration::from_millis(300)), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());
    assert_eq!(s.seen_on(PATH).len(), 2);
}

#[tokio::test]
async fn truncated_body_is_retried_and_then_reported() {
    let s = Server::start().await;
    let full = wav(24_000, &tone(400));
    let cut = Step::cut("audio/wav", full[..300].to_vec());
    s.script(PATH, vec![cut.clone(), Step::ok("audio/wav", full.clone())]);
    assert_eq!(backend(config(&s)).synthesize("mười").await.unwrap().samples.len(), 400);
    assert_eq!(s.seen_on(PATH).len(), 2);

    let s = Server::start().await;
    s.script(PATH, vec![cut]);
    let err = backend(config(&s)).synthesize("mười một").await.unwrap_err();
    let shown = shown_without_key(&err);
    assert!(shown.contains("incomplete or unreadable answer"), "{shown}");
    assert_eq!(s.seen_on(PATH).len(), 3);
}

#[tokio::test]
async fn json_or_garbage_instead_of_audio_is_an_error() {
    let s = Server::start().await;
    s.script(
        PATH,
        vec![Step::json(200, json!({"error": "model not loaded"})), Step::ok("audio/wav", b"hello".to_vec())],
    );
    let b = backend(config(&s));
    let e = b.synthesize("một").await.unwrap_err().to_string();
    assert!(e.contains("model not loaded"), "{e}");
    let e = b.synthesize("hai").await.unwrap_err().to_string();
    assert!(e.contains("cannot decode the audio"), "{e}");
}

#[tokio::test]
async fn too_long_or_empty_input_sends_nothing() {
    let s = Server::start().await;
    s.script(PATH, vec![Step::ok("audio/wav", wav(24_000, &tone(10)))]);
    let b = backend(OpenAiConfig { max_input_bytes: 20, ..config(&s) });
    assert_eq!(b.max_input_bytes(), 20);
    let e = b.synthesize(&"ă".repeat(11)).await.unwrap_err().to_string();
    assert!(e.contains("22 bytes") && e.contains("limit of 20"), "{e}");
    assert!(b.synthesize("   ").await.is_err());
    assert!(s.seen().is_empty());
}

#[tokio::test]
async fn concurrency_is_limited_per_backend() {
    let s = Server::start().await;
    s.script(PATH, vec![Step::ok("audio/wav", wav(24_000, &tone(10))).after(Duration::from_millis(150))]);
    let mut http = fast_http();
    http.concurrency = 2;
    let b = std::sync::Arc::new(backend(OpenAiConfig { http, ..config(&s) }));
    let jobs: Vec<_> = (0..6)
        .map(|i| {
            let b = b.clone();
            tokio::spawn(async move { b.synthesize(&format!("câu {i}")).await })
        })
        .collect();
    for j in jobs {
        j.await.unwrap().unwrap();
    }
    assert_eq!(s.seen_on(PATH).len(), 6);
    assert_eq!(s.max_in_flight(), 2);
}

#[tokio::test]
async fn unreachable_server_is_a_clear_error() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let c = OpenAiConfig { base_url: format!("http://127.0.0.1:{port}"), ..config(&Server::start().await) };
    let err = backend(c).synthesize("alô").await.unwrap_err();
    let shown = shown_without_key(&err);
    assert!(shown.contains("cannot connect"), "{shown}");
}

#[tokio::test]
async fn missing_key_variable_makes_the_voice_unavailable() {
    let s = Server::start().await;
    s.script(PATH, vec![Step::ok("audio/wav", wav(24_000, &tone(10)))]);
    let c = OpenAiConfig { api_key_env: Some("LOA_TEST_SURELY_UNSET_VAR_42".into()), ..config(&s) };
    let b = OpenAiBackend::new(c).unwrap();
    let problem = b.check().unwrap_err();
    assert!(
        matches!(&problem, TtsError::Unavailable(m) if m.contains("LOA_TEST_SURELY_UNSET_VAR_42")),
        "{problem:?}"
    );
    let err = b.synthesize("xin chào").await.unwrap_err();
    assert!(matches!(err, TtsError::Unavailable(_)), "{err:?}");
    assert!(s.seen().is_empty(), "nothing may be sent without the key");
}

/// `t` as an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`).
fn http_date(t: std::time::SystemTime) -> String {
    let secs = t.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][days.rem_euclid(7) as usize];
    let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    format!(
        "{weekday}, {day:02} {} {year} {:02}:{:02}:{:02} GMT",
        months[(month - 1) as usize],
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[test]
fn http_date_helper_matches_rfc_example() {
    let t = std::time::UNIX_EPOCH + Duration::from_secs(784_111_777);
    assert_eq!(http_date(t), "Sun, 06 Nov 1994 08:49:37 GMT");
}

#[tokio::test]
async fn retry_after_as_an_http_date_is_honoured() {
    let s = Server::start().await;
    // Build the client first: on a loaded machine that alone can take a
    // second, which would eat into the wait the date asks for.
    let b = backend(config(&s));
    let at = http_date(std::time::SystemTime::now() + Duration::from_secs(2));
    s.script(
        PATH,
        vec![
            Step::status(503, "maintenance").with_header("retry-after", &at),
            Step::ok("audio/wav", wav(24_000, &tone(20))),
        ],
    );
    b.synthesize("mười hai").await.unwrap();
    let seen = s.seen_on(PATH);
    assert_eq!(seen.len(), 2);
    let gap = seen[1].at - seen[0].at;
    assert!(gap >= Duration::from_millis(1000), "retried after {gap:?}, before {at}");
}
