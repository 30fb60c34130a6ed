//! The `azure` backend against a local server implementing Azure Speech's
//! `POST /cognitiveservices/v1` (SSML in, audio out).

use std::time::Duration;

use crate::remote_support::*;
use loa::tts::remote::{AzureBackend, AzureConfig};
use loa::tts::{Backend, TtsError};

const PATH: &str = "/cognitiveservices/v1";

fn config(server: &Server) -> AzureConfig {
    AzureConfig {
        region: None,
        base_url: Some(server.base()),
        api_key_env: "LOA_TEST_AZURE_KEY".into(),
        voice: "vi-VN-NamMinhNeural".into(),
        language: "vi-VN".into(),
        output_format: "riff-24khz-16bit-mono-pcm".into(),
        rate: 1.0,
        max_input_bytes: 3000,
        http: fast_http(),
    }
}

fn backend(c: AzureConfig) -> AzureBackend {
    AzureBackend::with_env(c, &env_with("LOA_TEST_AZURE_KEY")).unwrap()
}

#[tokio::test]
async fn riff_success_and_request_contract() {
    let s = Server::start().await;
    let samples = tone(4800);
    s.script(PATH, vec![Step::ok("audio/x-wav", wav(24_000, &samples))]);
    let pcm = backend(config(&s)).synthesize("Giá vàng <tăng> & \"giảm\".").await.unwrap();
    assert_eq!((pcm.sample_rate, pcm.samples.clone()), (24_000, samples));
    let r = &s.seen_on(PATH)[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.header("ocp-apim-subscription-key"), Some(KEY));
    assert_eq!(r.header("content-type"), Some("application/ssml+xml"));
    assert_eq!(r.header("x-microsoft-outputformat"), Some("riff-24khz-16bit-mono-pcm"));
    assert!(r.header("user-agent").is_some_and(|u| u.starts_with("loa/")));
    let ssml = r.text();
    assert!(ssml.starts_with("<speak version='1.0'"), "{ssml}");
    assert!(ssml.contains("xml:lang='vi-VN'") && ssml.contains("name='vi-VN-NamMinhNeural'"), "{ssml}");
    assert!(ssml.contains("Giá vàng &lt;tăng&gt; &amp; &quot;giảm&quot;."), "{ssml}");
    assert!(!ssml.contains("prosody"));
}

#[tokio::test]
async fn raw_pcm_and_mp3_formats_and_rate() {
    let s = Server::start().await;
    let samples = tone(16_000);
    s.script(
        PATH,
        vec![Step::ok("audio/basic", raw(&samples[..300])), Step::ok("audio/mpeg", mp3(24_000, &samples))],
    );
    let b =
        backend(AzureConfig { output_format: "raw-16khz-16bit-mono-pcm".into(), rate: 1.25, ..config(&s) });
    let pcm = b.synthesize("một").await.unwrap();
    assert_eq!((pcm.sample_rate, pcm.samples.len()), (16_000, 300));
    assert!(s.seen_on(PATH)[0].text().contains("<prosody rate='1.25'>một</prosody>"));
    let b = backend(AzureConfig { output_format: "audio-24khz-48kbitrate-mono-mp3".into(), ..config(&s) });
    let pcm = b.synthesize("hai").await.unwrap();
    assert_eq!(pcm.sample_rate, 24_000);
    assert!(pcm.samples.len() >= 15_000);
    assert_eq!(
        s.seen_on(PATH)[1].header("x-microsoft-outputformat"),
        Some("audio-24khz-48kbitrate-mono-mp3")
    );
}

#[tokio::test]
async fn unauthorized_with_empty_body_is_clear() {
    let s = Server::start().await;
    s.script(PATH, vec![Step::status(401, "")]);
    let err = backend(config(&s)).synthesize("Xin chào").await.unwrap_err();
    let shown = shown_without_key(&err);
    assert!(shown.contains("azure: HTTP 401: (empty body)"), "{shown}");
    assert_eq!(s.seen_on(PATH).len(), 1);
}

#[tokio::test]
async fn bad_request_body_is_reported_without_the_key() {
    let s = Server::start().await;
    s.script(PATH, vec![Step::status(400, &format!("SSML parse error near key={KEY}"))]);
    let err = backend(config(&s)).synthesize("Xin chào").await.unwrap_err();
    let shown = shown_without_key(&err);
    assert!(shown.contains("SSML parse error near key=[redacted]"), "{shown}");
}

#[tokio::test]
async fn throttling_then_success_and_bad_gateway_exhausted() {
    let s = Server::start().await;
    s.script(
        PATH,
        vec![
            Step::status(429, "Too many requests").with_header("retry-after", "1"),
            Step::ok("audio/x-wav", wav(24_000, &tone(10))),
        ],
    );
    backend(config(&s)).synthesize("một").await.unwrap();
    assert_retried_after(&s.seen_on(PATH), Duration::from_secs(1));

    let s = Server::start().await;
    s.script(PATH, vec![Step::status(502, "Bad Gateway")]);
    let err = backend(config(&s)).synthesize("hai").await.unwrap_err().to_string();
    assert!(err.contains("gave up after 3 attempts") && err.contains("HTTP 502"), "{err}");
    assert_eq!(s.seen_on(PATH).len(), 3);
}

#[tokio::test]
async fn slow_and_truncated_answers() {
    let s = Server::start().await;
    s.script(PATH, vec![Step::ok("audio/x-wav", wav(24_000, &tone(10))).after(Duration::from_secs(5))]);
    let http = http_timeout(250, 2);
    let err = backend(AzureConfig { http, ..config(&s) }).synthesize("ba").await.unwrap_err();
    assert!(matches!(err, TtsError::Timeout(_)), "{err:?}");
    assert_eq!(s.seen_on(PATH).len(), 2);

    let s = Server::start().await;
    let full = wav(24_000, &tone(3000));
    let cut = Step::cut("audio/x-wav", full[..2000].to_vec());
    s.script(PATH, vec![cut, Step::ok("audio/x-wav", full)]);
    let pcm = backend(config(&s)).synthesize("bốn").await.unwrap();
    assert_eq!(pcm.samples.len(), 3000);
    assert_eq!(s.seen_on(PATH).len(), 2);
}

#[tokio::test]
async fn cut_wav_with_complete_transfer_is_refused() {
    // The transfer is complete but the WAV header promises more data.
    let s = Server::start().await;
    let full = wav(24_000, &tone(3000));
    s.script(PATH, vec![Step::ok("audio/x-wav", full[..3000].to_vec())]);
    let err = backend(config(&s)).synthesize("năm").await.unwrap_err().to_string();
    assert!(err.contains("truncated WAV"), "{err}");
}
