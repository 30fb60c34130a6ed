//! The HTTP API through `app()` without a socket: every endpoint and every
//! error the service promises (400, 404, 413, 502, 503, 504), on a real
//! `command` voice.

use std::time::Duration;

use crate::server_support::*;
use serde_json::json;

const ARTICLE: &str =
    "Chiều ngày 21/01, Huyện ủy Cao Lộc tổ chức Hội nghị.\n\nNăm 2022, huyện tập trung phát triển kinh tế.";

#[tokio::test]
async fn healthz_voices_and_unknown_routes() {
    let w = world(Script::default(), |_| {});
    let s = w.state();
    let r = get(&s, "/healthz").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["status"], "ok");
    assert!(r.json()["voices_available"].as_u64().unwrap() >= 1);
    let r = get(&s, "/v1/voices").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["default"], "test");
    let voices = r.json()["voices"].as_array().unwrap().clone();
    let test = voices.iter().find(|v| v["name"] == "test").expect("the test voice is listed");
    assert_eq!(test["available"], true);
    assert_eq!(test["backend"], "command");
    get(&s, "/v2/nothing").await.assert_error(404, "not_found");
}

#[tokio::test]
async fn normalize_gives_written_and_spoken_sentences() {
    let w = world(Script::default(), |_| {});
    let s = w.state();
    let r = post_json(&s, "/v1/normalize", json!({ "text": ARTICLE })).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let sentences = r.json()["sentences"].as_array().unwrap().clone();
    assert!(sentences.len() >= 2, "{sentences:?}");
    assert!(sentences[0]["text"].as_str().unwrap().starts_with("Chiều ngày 21/01"));
    assert!(!sentences[0]["spoken"].as_str().unwrap().is_empty());
    // Offsets point back into the input (UTF-16 for JS, bytes for the rest).
    let (sb, eb) = (sentences[0]["start_byte"].as_u64().unwrap(), sentences[0]["end_byte"].as_u64().unwrap());
    assert_eq!(&ARTICLE[sb as usize..eb as usize], sentences[0]["text"].as_str().unwrap());
    let r = post_json(&s, "/v1/normalize", json!({ "html": "<p>Xin chào.</p>" })).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("Xin chào"));
    post_json(&s, "/v1/normalize", json!({})).await.assert_error(400, "missing_text");
    post_json(&s, "/v1/normalize", json!({ "text": "a", "html": "b" }))
        .await
        .assert_error(400, "bad_request");
    post_json(&s, "/v1/normalize", json!({ "txt": "a" })).await.assert_error(400, "invalid_json");
}

#[tokio::test]
async fn bad_bodies_are_400_and_oversized_ones_413() {
    let w = world(Script::default(), |c| {
        c.server.max_body_bytes = 2000;
        c.server.max_text_chars = 100;
    });
    let s = w.state();
    for uri in ["/v1/speech", "/v1/normalize", "/v1/audio/speech"] {
        post_raw(&s, uri, b"{not json".to_vec(), &[]).await.assert_error(400, "invalid_json");
        post_raw(&s, uri, b"{\"text\": \"\xff\xfe\"}".to_vec(), &[]).await.assert_error(400, "invalid_utf8");
        post_raw(&s, uri, vec![b' '; 5000], &[]).await.assert_error(413, "too_large");
    }
    let long = "Một câu khá dài. ".repeat(10);
    post_json(&s, "/v1/speech", json!({ "text": long })).await.assert_error(413, "too_large");
    post_json(&s, "/v1/normalize", json!({ "text": long })).await.assert_error(413, "too_large");
    post_json(&s, "/v1/audio/speech", json!({ "input": long, "voice": "alloy" }))
        .await
        .assert_error(413, "too_large");
    post_json(&s, "/v1/speech", json!({ "text": "   \n " })).await.assert_error(400, "empty_text");
    post_json(&s, "/v1/speech", json!({ "text": "Xin chào.", "format": "ogg" }))
        .await
        .assert_error(400, "bad_format");
    post_json(&s, "/v1/speech", json!({ "text": "Xin chào.", "response": "maybe" }))
        .await
        .assert_error(400, "bad_response");
    assert_eq!(w.runs(), 0, "nothing may be synthesized for a bad request");
}

#[tokio::test]
async fn speech_returns_audio_then_serves_it_by_key() {
    let w = world(Script::default(), |_| {});
    let s = w.state();
    let r = post_json(&s, "/v1/speech", json!({ "text": ARTICLE })).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("audio/mpeg"));
    assert!(r.body.len() > 1000);
    let key = r.header("x-loa-key").unwrap().to_string();
    assert_eq!(r.header("content-location"), Some(format!("/v1/audio/{key}.mp3").as_str()));
    let etag = r.header("etag").unwrap().to_string();

    let again = get(&s, &format!("/v1/audio/{key}.mp3")).await;
    assert_eq!(again.status, 200);
    assert_eq!(again.body, r.body);
    assert_eq!(again.header("cache-control"), Some("public, max-age=31536000, immutable"));
    assert_eq!(again.header("accept-ranges"), Some("bytes"));
    let not_modified = get_with(&s, &format!("/v1/audio/{key}.mp3"), &[("if-none-match", &etag)]).await;
    assert_eq!(not_modified.status, 304);
    assert!(not_modified.body.is_empty());

    let download = get(&s, &format!("/v1/audio/{key}.mp3?download=1")).await;
    assert_eq!(download.body, r.body);
    assert!(download.header("content-disposition").unwrap().starts_with("attachment; filename=\"loa-"));
    assert!(again.header("content-disposition").is_none());

    let timings = get(&s, &format!("/v1/audio/{key}.json")).await;
    assert_eq!(timings.status, 200);
    assert_eq!(timings.header("content-type"), Some("application/json"));
    let t = timings.json();
    assert_eq!(t["key"], key.as_str());
    let sentences = t["sentences"].as_array().unwrap();
    assert!(sentences.len() >= 2);
    assert_eq!(sentences.last().unwrap()["end_ms"], t["duration_ms"]);

    // A second request is a cache hit: no new synthesis.
    let runs = w.runs();
    let r2 = post_json(&s, "/v1/speech", json!({ "text": ARTICLE })).await;
    assert_eq!(r2.body, r.body);
    assert_eq!(w.runs(), runs);
}

#[tokio::test]
async fn speech_url_mode_and_wav() {
    let w = world(Script::default(), |_| {});
    let s = w.state();
    let r = post_json(&s, "/v1/speech", json!({ "text": "Xin chào.", "response": "url" })).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let url = r.json()["url"].as_str().unwrap().to_string();
    assert!(url.starts_with("/v1/audio/") && url.ends_with(".mp3"));
    assert_eq!(get(&s, &url).await.status, 200);
    assert_eq!(get(&s, r.json()["timings_url"].as_str().unwrap()).await.status, 200);

    let r = post_raw(
        &s,
        "/v1/speech",
        json!({ "text": "Xin chào.", "format": "wav" }).to_string().into_bytes(),
        &[("accept", "application/json")],
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(r.json()["url"].as_str().unwrap().ends_with(".wav"));
    let from_html = post_json(
        &s,
        "/v1/speech",
        json!({ "html": "<html><body><nav>Menu</nav><article><p>Xin chào các bạn.</p></article></body></html>",
                "response": "url" }),
    )
    .await;
    assert_eq!(from_html.status, 200, "{}", from_html.text());
    let key = from_html.json()["key"].as_str().unwrap().to_string();
    let t = get(&s, &format!("/v1/audio/{key}.json")).await.json();
    assert!(t["sentences"][0]["text"].as_str().unwrap().contains("Xin chào"), "{t}");
    let wav = post_json(&s, "/v1/speech", json!({ "text": "Xin chào.", "format": "wav" })).await;
    assert_eq!(wav.header("content-type"), Some("audio/wav"));
    assert_eq!(&wav.body[..4], b"RIFF");
}

#[tokio::test]
async fn plan_gives_sentence_urls_that_synthesize_on_demand() {
    let w = world(Script::default(), |_| {});
    let s = w.state();
    let r = post_json(&s, "/v1/speech", json!({ "text": ARTICLE, "response": "plan" })).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let plan = r.json();
    let key = plan["key"].as_str().unwrap().to_string();
    let sentences = plan["sentences"].as_array().unwrap().clone();
    assert!(sentences.len() >= 2);
    for (i, sent) in sentences.iter().enumerate() {
        let (a, b) = (sent["start"].as_u64().unwrap() as usize, sent["end"].as_u64().unwrap() as usize);
        let utf16: Vec<u16> = ARTICLE.encode_utf16().collect();
        assert_eq!(String::from_utf16(&utf16[a..b]).unwrap(), sent["text"].as_str().unwrap());
        let audio = get(&s, sent["url"].as_str().unwrap()).await;
        assert_eq!(audio.status, 200, "sentence {i}: {}", audio.text());
        assert_eq!(audio.header("content-type"), Some("audio/mpeg"));
        assert!(audio.body.len() > 500);
    }
    get(&s, &format!("/v1/speech/{key}/99.mp3")).await.assert_error(404, "no_such_sentence");
    get(&s, &format!("/v1/speech/{key}/0.wav")).await.assert_error(404, "not_found");
    get(&s, &format!("/v1/speech/{key}/x.mp3")).await.assert_error(400, "bad_index");
    get(&s, &format!("/v1/speech/{}/0.mp3", "ab".repeat(32))).await.assert_error(404, "unknown_plan");
    get(&s, "/v1/speech/..%2F..%2Fetc/0.mp3").await.assert_error(400, "bad_key");
    // The whole article renders in the background. Its timings are cached
    // first and its audio last (cached audio implies its timings), so the
    // audio is what says the render is done: polling the timings once saw
    // them before the audio under load (404 in between).
    let mut ready = false;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while std::time::Instant::now() < deadline {
        if get(&s, plan["audio_url"].as_str().unwrap()).await.status == 200 {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(ready, "background render never finished");
    assert_eq!(get(&s, plan["timings_url"].as_str().unwrap()).await.status, 200);
}

#[tokio::test]
async fn stream_sends_each_sentence_as_it_completes() {
    let w = world(Script::default(), |_| {});
    let s = w.state();
    let r = post_json(&s, "/v1/speech", json!({ "text": ARTICLE, "response": "stream" })).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("audio/mpeg"));
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let plan = s.engine().plan(ARTICLE, None, loa::audio::Format::Mp3).unwrap();
    assert_eq!(r.header("x-loa-key"), Some(plan.key().as_str()));
    // Every sentence's MP3, in order, then the pause after it.
    let (mut at, mut sentences) = (0, 0);
    for sentence in plan.sentences() {
        let obj = s
            .engine()
            .open(&sentence.key, loa::cache::Ext::Mp3, None)
            .await
            .unwrap()
            .expect("sentence cached");
        let file = obj.bytes().await.unwrap();
        // The stream carries the sentence's audio frames (not its Info frame).
        let bytes = loa::audio::mp3::Piece::parse(&file).unwrap().frames;
        assert!(bytes.len() > 1000 && bytes.len() < file.len());
        let found = r.body[at..].windows(bytes.len()).position(|w| w == bytes);
        at += found.expect("sentence audio missing or out of order") + bytes.len();
        sentences += bytes.len();
    }
    assert_eq!(at, r.body.len(), "the stream ends with the last sentence");
    assert!(r.body.len() > sentences, "pauses between sentences are encoded silence");
    // The concatenation decodes as one MP3 as long as the sentences plus pauses.
    let pcm = loa::audio::decode(&r.body).expect("the stream decodes");
    let pauses: u64 = plan.sentences().iter().map(|s| s.pause_after_ms as u64).sum();
    let expected = 500 * plan.len() as u64 + pauses; // each test-voice sentence is 0.5 s
    let got = pcm.duration_ms();
    // Each piece may add up to ~100 ms of encoder delay and padding.
    let slack = 100 * (2 * plan.len() as u64);
    assert!(got + 100 > expected && got < expected + slack, "decoded {got} ms, expected about {expected} ms");
    post_json(&s, "/v1/speech", json!({ "text": ARTICLE, "response": "stream", "format": "wav" }))
        .await
        .assert_error(400, "bad_format");
}

#[tokio::test]
async fn keys_in_paths_are_validated() {
    let w = world(Script::default(), |_| {});
    let s = w.state();
    get(&s, "/v1/audio/..%2F..%2Fetc%2Fpasswd.mp3").await.assert_error(400, "bad_key");
    get(&s, &format!("/v1/audio/{}.mp3", "AB".repeat(32))).await.assert_error(400, "bad_key");
    get(&s, "/v1/audio/abc.mp3").await.assert_error(400, "bad_key");
    // Cache keys are exactly 64 hex digits: shorter or longer ones are
    // malformed, not merely missing.
    for len in [32, 66, 128] {
        let key = "a".repeat(len);
        get(&s, &format!("/v1/audio/{key}.mp3")).await.assert_error(400, "bad_key");
        get(&s, &format!("/v1/speech/{key}/0.mp3")).await.assert_error(400, "bad_key");
    }
    get(&s, &format!("/v1/audio/{}.txt", "ab".repeat(32))).await.assert_error(404, "not_found");
    get(&s, &format!("/v1/audio/{}", "ab".repeat(32))).await.assert_error(404, "not_found");
    get(&s, &format!("/v1/audio/{}.mp3", "ab".repeat(32))).await.assert_error(404, "not_cached");
}

#[tokio::test]
async fn unknown_voice_is_404() {
    let w = world(Script::default(), |_| {});
    let s = w.state();
    let r = post_json(&s, "/v1/speech", json!({ "text": "Xin chào.", "voice": "nobody" })).await;
    r.assert_error(404, "unknown_voice");
    assert!(r.json()["message"].as_str().unwrap().contains("test"), "lists the available voices");
    post_json(&s, "/v1/audio/speech", json!({ "input": "Xin chào.", "voice": "nobody" }))
        .await
        .assert_error(404, "unknown_voice");
}

#[tokio::test]
async fn backend_failure_is_502_and_caches_nothing() {
    let w = world(Script { fail: true, ..Script::default() }, |_| {});
    let s = w.state();
    let r = post_json(&s, "/v1/speech", json!({ "text": ARTICLE })).await;
    r.assert_error(502, "backend_failed");
    // Which sentence, but never the engine's own answer (that goes to the log).
    let message = r.json()["message"].as_str().unwrap().to_string();
    assert!(message.contains("sentence 1") && !message.contains("model exploded"), "{message}");
    assert!(w.runs() >= 1);
    assert!(w.cached_files("mp3").is_empty() && w.cached_files("json").is_empty());
    let plan = s.engine().plan(ARTICLE, None, loa::audio::Format::Mp3).unwrap();
    get(&s, &format!("/v1/audio/{}.mp3", plan.key())).await.assert_error(404, "not_cached");
}

#[tokio::test]
async fn slow_backend_is_504_and_caches_nothing() {
    let w = world(Script { sleep_secs: 5.0, ..Script::default() }, |c| c.server.request_timeout_secs = 1);
    let s = w.state();
    let started = std::time::Instant::now();
    post_json(&s, "/v1/speech", json!({ "text": "Xin chào." })).await.assert_error(504, "timeout");
    assert!(started.elapsed() < Duration::from_secs(4));
    assert!(w.cached_files("mp3").is_empty() && w.cached_files("wav").is_empty());
}

#[tokio::test]
async fn full_queue_is_503_with_retry_after() {
    let w = world(Script { sleep_secs: 1.5, ..Script::default() }, |c| {
        c.server.synthesis_concurrency = 1;
        c.server.queue_limit = 1;
    });
    let s = w.state();
    let first = {
        let s = s.clone();
        tokio::spawn(async move { post_json(&s, "/v1/speech", json!({ "text": "Câu thứ nhất." })).await })
    };
    let second = {
        let s = s.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            post_json(&s, "/v1/speech", json!({ "text": "Câu thứ hai." })).await
        })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    let m = get(&s, "/metrics").await.text();
    assert!(m.contains("loa_jobs_running 1\n") && m.contains("loa_queue_depth 1\n"), "{m}");
    let third = post_json(&s, "/v1/speech", json!({ "text": "Câu thứ ba." })).await;
    third.assert_error(503, "busy");
    assert_eq!(third.header("retry-after"), Some("5"));
    assert_eq!(first.await.unwrap().status, 200);
    assert_eq!(second.await.unwrap().status, 200);
    let m = get(&s, "/metrics").await.text();
    assert!(m.contains("loa_rejected_busy_total 1\n"), "{m}");
}

#[tokio::test]
async fn openai_compatible_speech() {
    let w = world(Script::default(), |_| {});
    let s = w.state();
    let body = json!({ "model": "tts-1", "input": "Xin chào các bạn.", "voice": "alloy" });
    let r = post_json(&s, "/v1/audio/speech", body).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("audio/mpeg"));
    let body = json!({ "model": "tts-1", "input": "Xin chào.", "voice": "test", "response_format": "wav", "speed": 1.0 });
    let r = post_json(&s, "/v1/audio/speech", body).await;
    assert_eq!(r.header("content-type"), Some("audio/wav"));
    assert_eq!(&r.body[..4], b"RIFF");
    let bad = |extra: serde_json::Value| {
        let mut b = json!({ "model": "tts-1", "input": "Xin chào.", "voice": "alloy" });
        b.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        b
    };
    post_json(&s, "/v1/audio/speech", bad(json!({ "response_format": "opus" })))
        .await
        .assert_error(400, "unsupported_format");
    post_json(&s, "/v1/audio/speech", bad(json!({ "speed": 9.0 }))).await.assert_error(400, "bad_speed");
    post_json(&s, "/v1/audio/speech", bad(json!({ "speed": 1.5 })))
        .await
        .assert_error(400, "unsupported_speed");
    post_json(&s, "/v1/audio/speech", json!({ "model": "tts-1", "voice": "alloy" }))
        .await
        .assert_error(400, "invalid_json");
}

#[tokio::test]
async fn metrics_count_requests_cache_and_syntheses() {
    let w = world(Script::default(), |_| {});
    let s = w.state();
    post_json(&s, "/v1/speech", json!({ "text": "Xin chào." })).await;
    post_json(&s, "/v1/speech", json!({ "text": "Xin chào." })).await;
    get(&s, "/nowhere").await;
    let r = get(&s, "/metrics").await;
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("text/plain"));
    let m = r.text();
    assert!(m.contains("loa_http_requests_total{route=\"/v1/speech\",status=\"200\"} 2\n"), "{m}");
    assert!(m.contains("loa_http_requests_total{route=\"unmatched\",status=\"404\"} 1\n"), "{m}");
    assert!(m.contains(&format!("loa_syntheses_total {}\n", w.runs())), "{m}");
    assert!(m.contains("loa_cache_hits_total ") && m.contains("loa_synthesis_seconds_total "));
    assert!(m.contains("loa_queue_depth 0\n"));
}

#[tokio::test]
async fn metrics_show_latency_histograms_by_route_voice_and_first_audio() {
    let w = world(Script::default(), |_| {});
    let s = w.state();
    let r =
        post_json(&s, "/v1/speech", json!({ "text": "Xin chào. Hẹn gặp lại.", "response": "plan" })).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let url = r.json()["sentences"][0]["url"].as_str().unwrap().to_string();
    assert_eq!(get(&s, &url).await.status, 200);
    let m = get(&s, "/metrics").await.text();
    for needle in [
        "# TYPE loa_http_request_duration_seconds histogram",
        "loa_http_request_duration_seconds_bucket{route=\"/v1/speech\",le=\"0.1\"}",
        "loa_http_request_duration_seconds_count{route=\"/v1/speech/{key}/{file}\"}",
        "loa_time_to_first_audio_seconds_count{kind=\"sentence\"}",
        "loa_synthesis_duration_seconds_bucket{voice=",
        "loa_voice_syntheses_total{voice=",
        "loa_queue_wait_seconds_count",
        "loa_cache_lookups_total{tier=\"local\",class=\"on_demand\",result=\"miss\"}",
        "loa_cache_hit_bytes_total{tier=\"local\",class=\"on_demand\"}",
        "loa_cache_bytes{tier=\"local\",class=\"on_demand\"}",
    ] {
        assert!(m.contains(needle), "no {needle} in /metrics:\n{m}");
    }
}

/// The value of an unlabelled metric in Prometheus text.
fn metric(text: &str, name: &str) -> u64 {
    let prefix = format!("{name} ");
    let line = text.lines().find(|l| l.starts_with(&prefix)).unwrap_or_else(|| panic!("no {name}: {text}"));
    line[prefix.len()..].trim().parse().unwrap_or_else(|e| panic!("{line}: {e}"))
}

async fn hits(s: &loa::server::AppState) -> u64 {
    metric(&get(s, "/metrics").await.text(), "loa_cache_hits_total")
}

#[tokio::test]
async fn cached_articles_and_sentences_served_by_the_server_count_as_cache_hits() {
    let w = world(Script::default(), |_| {});
    let s = w.state();
    let r = post_json(&s, "/v1/speech", json!({ "text": "Xin chào." })).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let before = hits(&s).await;
    let r = post_json(&s, "/v1/speech", json!({ "text": "Xin chào.", "response": "url" })).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["from_cache"], true);
    assert_eq!(hits(&s).await, before + 1, "a cached article was served without counting a hit");
    // A sentence already cached, asked for through a plan.
    let r = post_json(&s, "/v1/speech", json!({ "text": "Xin chào.", "response": "plan" })).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let url = r.json()["sentences"][0]["url"].as_str().unwrap().to_string();
    assert_eq!(get(&s, &url).await.status, 200);
    let before = hits(&s).await;
    assert_eq!(get(&s, &url).await.status, 200);
    assert_eq!(hits(&s).await, before + 1, "a cached sentence was served without counting a hit");
}

#[tokio::test]
async fn widget_demo_page_and_cors() {
    let w = world(Script::default(), |_| {});
    let s = w.state();
    let js = get(&s, "/widget.js").await;
    assert_eq!(js.status, 200);
    assert!(js.header("content-type").unwrap().starts_with("text/javascript"));
    assert!(js.text().contains("Đọc nội dung"));
    assert!(js.body.len() < 64 * 1024, "widget is {} bytes", js.body.len());
    let etag = js.header("etag").unwrap().to_string();
    assert_eq!(get_with(&s, "/widget.js", &[("if-none-match", &etag)]).await.status, 304);
    let page = get(&s, "/").await;
    assert!(page.header("content-type").unwrap().starts_with("text/html"));
    let html = page.text();
    assert!(html.contains("<script src=\"/widget.js\" data-target=\".news-detail\""));
    assert!(html.contains("Huyện ủy Cao Lộc tổng kết công tác xây dựng Đảng năm 2021"));
    let pre = send(
        &s,
        axum::http::Request::builder()
            .method("OPTIONS")
            .uri("/v1/speech")
            .header("origin", "https://news.example")
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .body(axum::body::Body::empty())
            .unwrap(),
    )
    .await;
    assert!(pre.status.is_success());
    assert_eq!(pre.header("access-control-allow-origin"), Some("*"));
}
