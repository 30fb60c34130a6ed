//! Daily budgets of paid voices: a voice with `max_chars_per_day = 1000`
//! reads until the next article would pass 1,000 spoken characters, then
//! its `fallback` voice reads (its audio is what plays); the counter is
//! kept in the cache directory and survives a restart. A voice without a
//! fallback answers 429 `budget_exhausted`.

use std::time::{Duration, Instant};

use loa::config::Config;
use loa::pipeline::Engine;
use loa::server::AppState;
use serde_json::{Value, json};

use crate::server_support::{get, get_with, post_json};
use crate::trust_support::*;

struct Voices {
    dir: tempfile::TempDir,
    config: Config,
}

fn voices() -> Voices {
    let dir = tempfile::tempdir().unwrap();
    let voices = dir.path().join("voices");
    std::fs::create_dir_all(&voices).unwrap();
    command_voice(dir.path(), &voices, "paid", 440.0, "max_chars_per_day = 1000\nfallback = \"free\"");
    command_voice(dir.path(), &voices, "free", 880.0, "");
    command_voice(dir.path(), &voices, "metered", 660.0, "max_chars_per_day = 10");
    let mut config = Config::default();
    config.cache.dir = dir.path().join("cache");
    config.speech.voices_dir = voices;
    config.speech.default_voice = "paid".into();
    // Budgets are the subject here, not the per-client rate limit.
    config.server.limits.syntheses_per_minute = 0;
    Voices { dir, config }
}

fn state(v: &Voices) -> AppState {
    AppState::with_secrets(
        Engine::new(&v.config).unwrap(),
        secrets(None, Some("admin-token-for-the-budget-test")),
    )
}

/// Spoken characters of `text` (what the engine is sent).
async fn spoken_chars(state: &AppState, text: &str) -> u64 {
    let n = post_json(state, "/v1/normalize", json!({"text": text})).await.json();
    n["sentences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["spoken"].as_str().unwrap().chars().count() as u64)
        .sum()
}

async fn speak(state: &AppState, text: &str) -> Value {
    let r = post_json(state, "/v1/speech", json!({"text": text, "voice": "paid", "response": "url"})).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text());
    r.json()
}

fn article(i: usize) -> String {
    // Both sentences name `i`: no sentence is cached from another article.
    format!(
        "Bài thứ {i} kể chuyện làng quê yên bình bên dòng sông xanh mát. Người dân làng {i} trồng lúa và nuôi cá."
    )
}

#[tokio::test]
async fn trust_a_paid_voice_falls_back_after_its_budget_and_remembers() {
    let v = voices();
    let dir = v.dir.path();
    let s = state(&v);

    let mut spent = 0;
    let mut i = 0;
    let first_free = loop {
        i += 1;
        assert!(i < 50, "the budget never ran out");
        let text = article(i);
        let cost = spoken_chars(&s, &text).await;
        let (paid_before, free_before) = (runs(dir, "paid"), runs(dir, "free"));
        let answer = speak(&s, &text).await;
        if answer["voice"] == "paid" {
            spent += cost;
            assert!(spent <= 1000, "paid read past its budget: {spent}");
            assert!(runs(dir, "paid") > paid_before);
            continue;
        }
        assert_eq!(answer["voice"], "free", "{answer}");
        assert!(spent + cost > 1000, "fell back at {spent} + {cost} characters");
        // The fallback made this audio; the paid engine was not asked.
        assert_eq!(runs(dir, "paid"), paid_before);
        assert!(runs(dir, "free") > free_before);
        break answer;
    };
    // Its audio is what plays.
    let audio = get(&s, first_free["url"].as_str().unwrap()).await;
    assert_eq!(audio.status.as_u16(), 200);
    assert_eq!(audio.header("content-type"), Some("audio/mpeg"));
    // A cached paid article is still served as it was: it costs nothing.
    assert_eq!(speak(&s, &article(1)).await["voice"], "paid");

    let report =
        get_with(&s, "/v1/admin/budgets", &[("authorization", "Bearer admin-token-for-the-budget-test")])
            .await
            .json();
    let paid = report.as_array().unwrap().iter().find(|b| b["voice"] == "paid").expect("paid listed").clone();
    assert_eq!(paid["chars_today"], spent, "{report}");
    assert_eq!(paid["max_chars_per_day"], 1000);

    // A restart (a new service on the same cache directory) keeps the count.
    drop(s);
    let ledger = v.config.cache.dir.join("budgets.json");
    let started = Instant::now();
    loop {
        let saved = std::fs::read(&ledger).ok().and_then(|b| serde_json::from_slice::<Value>(&b).ok());
        if saved.is_some_and(|l| l["voices"]["paid"]["chars"] == spent) {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "the counter was never saved");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let s = state(&v);
    let paid_before = runs(dir, "paid");
    let answer = speak(&s, &article(100)).await;
    assert_eq!(answer["voice"], "free", "the budget was forgotten: {answer}");
    assert_eq!(runs(dir, "paid"), paid_before);

    // No fallback: 429 budget_exhausted with Retry-After (until the next UTC day).
    let r = post_json(&s, "/v1/speech", json!({"text": article(1), "voice": "metered"})).await;
    r.assert_error(429, "budget_exhausted");
    let secs: u64 = r.header("retry-after").expect("Retry-After").parse().unwrap();
    assert!((1..=86_400).contains(&secs));
    assert_eq!(runs(dir, "metered"), 0);
}
