//! The text policy (`server.text_input`): `signed` reads only text with
//! the site's signature (made by `loa sign`), `url` reads only pages of
//! allowlisted origins that loa fetches itself.

use std::process::{Command, Stdio};

use loa::config::TextInput;
use loa::server::AppState;
use serde_json::json;

use crate::server_support::{Script, get, post_json, world};
use crate::site_support::{Site, article};
use crate::trust_support::secrets;

const KEY: &str = "a-long-random-signing-key-for-the-tests-0123456789";

/// `loa sign` with `args`, `stdin` as input; (exit code, stdout, stderr).
fn loa_sign(args: &[&str], key: Option<&str>, stdin: &str) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_loa"));
    cmd.arg("sign").args(args).env_remove("LOA_SIGNING_KEY").env_remove("LOA_CONFIG");
    if let Some(k) = key {
        cmd.env("LOA_SIGNING_KEY", k);
    }
    let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    crate::cli_support::feed(&mut child, stdin.as_bytes());
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[tokio::test]
async fn trust_signed_text_needs_the_sites_signature() {
    let w = world(Script::default(), |c| c.server.text_input = TextInput::Signed);
    let state = AppState::with_secrets(w.engine(), secrets(Some(KEY), None));
    let text = "Xin chào. Đây là bài đã ký.\n";
    let file = w.dir.path().join("bai.txt");
    std::fs::write(&file, text).unwrap();

    // Unsigned and wrongly signed text: 403, nothing synthesized.
    post_json(&state, "/v1/speech", json!({"text": text})).await.assert_error(403, "bad_signature");
    let wrong = "0".repeat(64);
    post_json(&state, "/v1/speech", json!({"text": text, "signature": wrong}))
        .await
        .assert_error(403, "bad_signature");
    post_json(&state, "/v1/speech", json!({"text": text, "signature": "not hex"}))
        .await
        .assert_error(403, "bad_signature");
    post_json(&state, "/v1/normalize", json!({"text": text})).await.assert_error(403, "bad_signature");
    assert_eq!(w.runs(), 0);

    // `loa sign FILE --voice test` → accepted with that voice, not another.
    let (code, out, err) = loa_sign(&[file.to_str().unwrap(), "--voice", "test"], Some(KEY), "");
    assert_eq!(code, 0, "{err}");
    let signature = out.trim();
    assert_eq!(signature.len(), 64, "{out:?}");
    let ok = post_json(
        &state,
        "/v1/speech",
        json!({"text": text, "voice": "test", "signature": signature, "response": "url"}),
    )
    .await;
    assert_eq!(ok.status.as_u16(), 200, "{}", ok.text());
    assert!(w.runs() > 0);
    post_json(&state, "/v1/speech", json!({"text": text, "signature": signature}))
        .await
        .assert_error(403, "bad_signature");
    let edited = text.replace("chào", "chao");
    post_json(&state, "/v1/speech", json!({"text": edited, "voice": "test", "signature": signature}))
        .await
        .assert_error(403, "bad_signature");

    // From standard input without --voice: for requests that name no voice.
    let (code, out, _) = loa_sign(&["-"], Some(KEY), text);
    assert_eq!(code, 0);
    let r = post_json(&state, "/v1/normalize", json!({"text": text, "signature": out.trim()})).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text());
    // The OpenAI-style endpoint signs its `voice` too.
    let (_, sig, _) = loa_sign(&["-", "--voice", "test"], Some(KEY), "Một câu.");
    let r = post_json(
        &state,
        "/v1/audio/speech",
        json!({"model": "tts-1", "input": "Một câu.", "voice": "test", "signature": sig.trim()}),
    )
    .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text());
    post_json(&state, "/v1/audio/speech", json!({"model": "tts-1", "input": "Một câu.", "voice": "test"}))
        .await
        .assert_error(403, "bad_signature");

    // Without the key `loa sign` refuses (exit 2) instead of printing a useless signature.
    let (code, out, err) = loa_sign(&["-"], None, text);
    assert_eq!((code, out.as_str()), (2, ""));
    assert!(err.contains("LOA_SIGNING_KEY"), "{err}");
    let config = get(&state, "/v1/config").await.json();
    assert_eq!(config["text_input"], "signed");
}

#[tokio::test]
async fn trust_url_policy_reads_only_allowlisted_pages() {
    let site = Site::start();
    site.html("/bai.html", &article("Tin sáng", &["Trời hôm nay đẹp.", "Chợ đông vui."]));
    let origin = site.origin();
    let w = world(Script::default(), |c| {
        c.server.text_input = TextInput::Url;
        c.sources.allow = vec![origin.clone()];
    });
    let state = AppState::with_secrets(w.engine(), secrets(None, None));
    assert_eq!(get(&state, "/v1/config").await.json()["text_input"], "url");

    for body in [
        json!({"text": "Đọc giùm tôi câu này."}),
        json!({"html": "<p>Đọc giùm tôi câu này.</p>"}),
        json!({"text": "Có chữ ký cũng vậy.", "signature": "00"}),
    ] {
        post_json(&state, "/v1/speech", body.clone()).await.assert_error(403, "text_not_accepted");
        post_json(&state, "/v1/normalize", body).await.assert_error(403, "text_not_accepted");
    }
    post_json(&state, "/v1/audio/speech", json!({"model": "tts-1", "input": "Câu.", "voice": "alloy"}))
        .await
        .assert_error(403, "text_not_accepted");
    assert_eq!(w.runs(), 0, "nothing was synthesized for refused text");

    let plan =
        post_json(&state, "/v1/speech", json!({"url": site.url("/bai.html"), "response": "plan"})).await;
    assert_eq!(plan.status.as_u16(), 200, "{}", plan.text());
    let body = plan.json();
    let texts: Vec<&str> =
        body["sentences"].as_array().unwrap().iter().map(|s| s["text"].as_str().unwrap()).collect();
    assert_eq!(texts, ["Tin sáng", "Trời hôm nay đẹp.", "Chợ đông vui."]);
    post_json(&state, "/v1/speech", json!({"url": "https://example.com/bai.html", "response": "plan"}))
        .await
        .assert_error(403, "url_not_allowed");
    let metadata =
        post_json(&state, "/v1/speech", json!({"url": "http://169.254.169.254/latest/meta-data/"})).await;
    assert_eq!(metadata.status.as_u16(), 403, "{}", metadata.text());
}

#[test]
fn trust_the_shipped_public_config_is_safe() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/config/loa.public.toml");
    let c = loa::config::Config::parse(&std::fs::read_to_string(path).unwrap(), path).unwrap();
    assert_eq!(c.server.text_input, TextInput::Url);
    assert!(!c.server.cors_origins.iter().any(|o| o == "*"), "{:?}", c.server.cors_origins);
    assert!(!c.sources.allow.is_empty());
    assert!(c.server.metrics_address.is_some());
    // Exposed on every interface with it (and an admin token), loa has nothing to warn about…
    let bound = "0.0.0.0:8080".parse().unwrap();
    let with_token = secrets(None, Some("a-long-random-admin-token-0123456789"));
    let warnings = loa::server::policy::exposure_warnings(&c.server, &with_token, bound);
    assert!(warnings.is_empty(), "{warnings:?}");
    // …while the defaults there would be warned about.
    let open = loa::config::Config::default();
    let warnings = loa::server::policy::exposure_warnings(&open.server, &secrets(None, None), bound);
    assert!(warnings.iter().any(|w| w.contains("Deploying on a public site")), "{warnings:?}");
}
