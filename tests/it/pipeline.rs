//! The Engine contract: plans, per-sentence audio, whole articles, the
//! cache reuse that makes an edit cheap, and single-flight.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use loa::config::Config;
use loa::pipeline::{Engine, Format, PipelineError};

fn engine(dir: &Path) -> Engine {
    let mut config = Config::default();
    config.cache.dir = dir.join("cache");
    config.speech.voices_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("voices");
    Engine::new(&config).unwrap()
}

const ARTICLE: &str =
    "Hà Nội mùa thu.\n\nLá vàng rơi trên phố.\n\nNgười đi dạo bên hồ.\n\nTrời trong xanh.\n";

#[test]
fn plan_errors() {
    let dir = tempfile::tempdir().unwrap();
    let e = engine(dir.path());
    assert!(matches!(e.plan("  \n\n ", None, Format::Mp3), Err(PipelineError::EmptyText)));
    match e.plan(ARTICLE, Some("nobody"), Format::Mp3) {
        Err(PipelineError::UnknownVoice { name, available }) => {
            assert_eq!(name, "nobody");
            assert!(available.contains("vi-espeak"), "{available}");
        }
        other => panic!("expected UnknownVoice, got {other:?}"),
    }
}

#[test]
fn plan_keys_depend_on_content_voice_and_format() {
    let dir = tempfile::tempdir().unwrap();
    let e = engine(dir.path());
    let a = e.plan(ARTICLE, None, Format::Mp3).unwrap();
    assert_eq!(a.sentences.len(), a.sentence_keys.len());
    assert_eq!(a.key, e.plan(ARTICLE, None, Format::Mp3).unwrap().key);
    assert_ne!(a.key, e.plan(ARTICLE, None, Format::Wav).unwrap().key);
    assert_ne!(a.key, e.plan(ARTICLE, Some("vi-espeak-cli"), Format::Mp3).unwrap().key);
    let edited = e.plan(&ARTICLE.replace("Trời", "Mây"), None, Format::Mp3).unwrap();
    assert_ne!(a.key, edited.key);
    let same = a.sentence_keys.iter().zip(&edited.sentence_keys).filter(|(x, y)| x == y).count();
    assert_eq!(same, a.sentences.len() - 1);
    assert!(e.cached(&a.key, "mp3").is_none());
    assert!(e.cached("../../etc/passwd", "mp3").is_none());
}

#[tokio::test]
async fn editing_one_sentence_synthesizes_only_that_sentence() {
    let dir = tempfile::tempdir().unwrap();
    let e = engine(dir.path());
    let plan = e.plan(ARTICLE, None, Format::Mp3).unwrap();
    let n = plan.sentences.len();
    let progress = AtomicUsize::new(0);
    let r = e.render(&plan, &|d| progress.store(d, Ordering::SeqCst)).await.unwrap();
    assert!(!r.from_cache);
    assert_eq!(r.synthesized, n);
    assert_eq!(progress.load(Ordering::SeqCst), n);
    assert_eq!(e.metrics().snapshot().syntheses, n as u64);
    let t = e.timings(&r.key).unwrap();
    t.check().unwrap();
    assert_eq!(t.duration_ms, r.duration_ms);

    let again = e.render(&plan, &|_| {}).await.unwrap();
    assert!(again.from_cache);
    assert_eq!(again.audio, r.audio);

    let edited = e.plan(&ARTICLE.replace("Trời trong xanh", "Trời nhiều mây"), None, Format::Mp3).unwrap();
    let r2 = e.render(&edited, &|_| {}).await.unwrap();
    assert_eq!(r2.synthesized, 1);
    assert_eq!(e.metrics().snapshot().syntheses, n as u64 + 1);
    let pcm = loa::audio::decode(&std::fs::read(&r2.audio).unwrap()).unwrap();
    assert!(pcm.duration_ms().abs_diff(r2.duration_ms) <= 5, "{} vs {}", pcm.duration_ms(), r2.duration_ms);
}

#[tokio::test]
async fn sentence_audio_is_playable_on_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let e = engine(dir.path());
    for format in [Format::Mp3, Format::Wav] {
        let plan = e.plan(ARTICLE, None, format).unwrap();
        let s = e.sentence(&plan, 0).await.unwrap();
        assert_eq!(s.key, plan.sentence_keys[0]);
        assert!(s.path.to_string_lossy().ends_with(format.ext()));
        let pcm = loa::audio::decode(&std::fs::read(&s.path).unwrap()).unwrap();
        assert!(pcm.duration_ms() > 300, "{} ms", pcm.duration_ms());
        assert!(
            pcm.duration_ms().abs_diff(s.duration_ms) < 200,
            "{} vs {}",
            pcm.duration_ms(),
            s.duration_ms
        );
        assert_eq!(e.cached(&s.key, format.ext()), Some(s.path.clone()));
        // From the cache: the same object and duration.
        let again = e.sentence(&plan, 0).await.unwrap();
        assert_eq!((&again.path, again.duration_ms), (&s.path, s.duration_ms));
        assert!(matches!(e.sentence(&plan, 99).await, Err(PipelineError::NoSuchSentence { .. })));
    }
    // MP3 and WAV of one sentence share the synthesized PCM.
    assert_eq!(e.metrics().snapshot().syntheses, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_renders_of_one_article_synthesize_once() {
    let dir = tempfile::tempdir().unwrap();
    let e = engine(dir.path());
    let plan = Arc::new(e.plan(ARTICLE, None, Format::Mp3).unwrap());
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let (e, plan) = (e.clone(), plan.clone());
        tasks.push(tokio::spawn(async move { e.render(&plan, &|_| {}).await.unwrap() }));
    }
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap());
    }
    assert_eq!(e.metrics().snapshot().syntheses, plan.sentences.len() as u64);
    assert_eq!(results.iter().filter(|r| !r.from_cache).count(), 1);
    assert!(results.iter().all(|r| r.audio == results[0].audio));
    assert_eq!(e.metrics().snapshot().in_flight, 0);
}

#[tokio::test]
async fn long_sentences_are_cut_to_the_backend_limit() {
    let dir = tempfile::tempdir().unwrap();
    let voices = dir.path().join("voices");
    std::fs::create_dir(&voices).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/short-only.sh");
    for (name, extra) in [("limited", "max_input_bytes = 60\n"), ("unlimited", "")] {
        std::fs::write(
            voices.join(format!("{name}.toml")),
            format!("[backend]\ntype = \"command\"\nprogram = {:?}\n{extra}", script.display().to_string()),
        )
        .unwrap();
    }
    let mut config = Config::default();
    config.cache.dir = dir.path().join("cache");
    config.speech.voices_dir = voices;
    let e = Engine::new(&config).unwrap();
    let article =
        "Buổi sáng hôm nay người dân trong thôn cùng nhau ra đồng làm cỏ lúa và bón phân cho vụ mùa mới.";
    let plan = e.plan(article, Some("unlimited"), Format::Wav).unwrap();
    match e.render(&plan, &|_| {}).await {
        Err(PipelineError::Backend { index: 0, message, .. }) => {
            assert!(message.contains("too long"), "{message}")
        }
        other => panic!("expected a backend error, got {other:?}"),
    }
    let plan = e.plan(article, Some("limited"), Format::Wav).unwrap();
    let r = e.render(&plan, &|_| {}).await.unwrap();
    assert!(r.duration_ms > 3000, "{} ms", r.duration_ms);
    assert!(e.metrics().snapshot().syntheses >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_render_leaves_no_article_and_no_in_flight_count() {
    let dir = tempfile::tempdir().unwrap();
    let e = engine(dir.path());
    let plan = e.plan(ARTICLE, Some("vi-espeak-cli"), Format::Mp3).unwrap();
    // Cancel after the first sentence is done (the process backend is slow enough).
    let started = tokio::sync::Notify::new();
    let on_progress = |done: usize| {
        if done == 1 {
            started.notify_one();
        }
    };
    let render = e.render(&plan, &on_progress);
    tokio::select! {
        r = render => panic!("render finished before cancellation: {r:?}"),
        _ = started.notified() => {}
    }
    assert_eq!(e.metrics().snapshot().in_flight, 0);
    assert!(e.cached(&plan.key, "mp3").is_none());
    assert!(e.cached(&plan.key, "json").is_none());
    // The finished sentence stays cached; a new render completes the rest.
    let r = e.render(&plan, &|_| {}).await.unwrap();
    assert!(r.synthesized < plan.sentences.len(), "{} synthesized", r.synthesized);
}

#[tokio::test]
async fn sentences_play_at_a_steady_level() {
    let dir = tempfile::tempdir().unwrap();
    let e = engine(dir.path());
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/samples/cao-loc-2021.txt"))
            .unwrap();
    // Two voices with different engines and loudness, levelled the same way.
    for voice in ["vi-espeak", "vi-espeak-cli"] {
        let plan = e.plan(&text, Some(voice), Format::Wav).unwrap();
        let r = e.render(&plan, &|_| {}).await.unwrap();
        let pcm = loa::audio::decode(&std::fs::read(&r.audio).unwrap()).unwrap();
        let t = e.timings(&r.key).unwrap();
        let mut levels = Vec::new();
        for s in &t.sentences {
            let a = (s.start_ms * pcm.sample_rate as u64 / 1000) as usize;
            let b = ((s.end_ms * pcm.sample_rate as u64 / 1000) as usize).min(pcm.samples.len());
            let voiced: Vec<f64> =
                pcm.samples[a..b].iter().filter(|s| s.unsigned_abs() > 300).map(|&s| s as f64).collect();
            levels.push((voiced.iter().map(|s| s * s).sum::<f64>() / voiced.len() as f64).sqrt());
        }
        let (lo, hi) = levels.iter().fold((f64::MAX, 0f64), |(lo, hi), &l| (lo.min(l), hi.max(l)));
        let db = 20.0 * (hi / lo).log10();
        assert!(db < 3.0, "{voice}: sentence levels spread over {db:.1} dB: {levels:?}");
        // Around -20 dBFS (3277).
        assert!((2000.0..4500.0).contains(&hi), "{voice}: level {hi}");
    }
}
