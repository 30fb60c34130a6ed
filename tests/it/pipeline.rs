//! The Engine contract: plans and budgets, per-sentence audio, whole
//! articles assembled from the sentence objects (gapless, timings exact
//! against the decoded audio), the cache reuse that makes an edit cheap,
//! single-flight, cancellation, and byte-identical output whatever the
//! order or the process.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use loa::cache::{CacheKey, Ext};
use loa::config::Config;
use loa::pipeline::{CancellationToken, Engine, Format, Job, PipelineError};

fn config(dir: &Path) -> Config {
    let mut config = Config::default();
    config.cache.dir = dir.join("cache");
    config.speech.voices_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("voices");
    config.speech.workers = 1;
    config
}

fn engine(dir: &Path) -> Engine {
    Engine::new(&config(dir)).unwrap()
}

async fn read(e: &Engine, key: &CacheKey, ext: Ext) -> Option<Vec<u8>> {
    let obj = e.open(key, ext, None).await.unwrap()?;
    Some(obj.bytes().await.unwrap().to_vec())
}

const ARTICLE: &str =
    "Hà Nội mùa thu.\n\nLá vàng rơi trên phố.\n\nNgười đi dạo bên hồ.\n\nTrời trong xanh.\n";

#[test]
fn plan_errors_and_budgets() {
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
    // Audio amplification: one letter per paragraph asks for hours of audio.
    let flood = "W\n\n".repeat(66_666);
    let started = std::time::Instant::now();
    let err = e.plan(&flood, None, Format::Wav).unwrap_err();
    assert!(matches!(err, PipelineError::TooLong(_)), "{err}");
    assert!(err.is_bad_input());
    eprintln!("66,666-paragraph plan refused in {:?}", started.elapsed());
    let long = "Một hai ba bốn năm sáu bảy tám chín mười.\n\n".repeat(1500);
    let err = e.plan(&long, None, Format::Mp3).unwrap_err().to_string();
    assert!(err.contains("min of audio") && err.contains("30 min"), "{err}");
    // Blank lines cannot stretch an article: pauses never outweigh speech.
    let sparse = e.plan(&"A\n\n".repeat(300), None, Format::Mp3).unwrap();
    let pauses: u64 = sparse.sentences().iter().map(|s| s.pause_after_ms as u64).sum();
    assert!(pauses * 2 <= sparse.estimate_ms() + 1, "{pauses} ms of pauses in {} ms", sparse.estimate_ms());
}

#[tokio::test]
async fn plan_keys_depend_on_content_voice_and_format() {
    let dir = tempfile::tempdir().unwrap();
    let e = engine(dir.path());
    let a = e.plan(ARTICLE, None, Format::Mp3).unwrap();
    assert!(a.is_consistent());
    assert_eq!(a.key(), e.plan(ARTICLE, None, Format::Mp3).unwrap().key());
    assert_ne!(a.key(), e.plan(ARTICLE, None, Format::Wav).unwrap().key());
    assert_ne!(a.key(), e.plan(ARTICLE, Some("vi-espeak-cli"), Format::Mp3).unwrap().key());
    let edited = e.plan(&ARTICLE.replace("Trời", "Mây"), None, Format::Mp3).unwrap();
    assert_ne!(a.key(), edited.key());
    let same = a.sentences().iter().zip(edited.sentences()).filter(|(x, y)| x.key == y.key).count();
    assert_eq!(same, a.len() - 1);
    assert!(read(&e, a.key(), Ext::Mp3).await.is_none());
    // Plans round-trip through the store and are checked when read back.
    e.save_plan(&a).await.unwrap();
    assert_eq!(e.load_plan(a.key()).await.unwrap().as_ref(), Some(&a));
    assert!(e.load_plan(edited.key()).await.unwrap().is_none());
}

#[tokio::test]
async fn editing_one_sentence_synthesizes_only_that_sentence() {
    let dir = tempfile::tempdir().unwrap();
    let e = engine(dir.path());
    let plan = e.plan(ARTICLE, None, Format::Mp3).unwrap();
    let n = plan.len();
    let progress = Arc::new(AtomicUsize::new(0));
    let p2 = progress.clone();
    let job = Job::default().with_progress(move |d| p2.store(d, Ordering::SeqCst));
    let r = e.render(&plan, &job).await.unwrap();
    assert!(!r.from_cache);
    assert_eq!(r.synthesized, n);
    assert_eq!(progress.load(Ordering::SeqCst), n);
    assert_eq!(e.metrics().snapshot().syntheses, n as u64);
    let t = e.timings(&r.key).await.unwrap().unwrap();
    t.check().unwrap();
    assert_eq!(t.duration_ms, r.duration_ms);

    let again = e.render(&plan, &Job::default()).await.unwrap();
    assert!(again.from_cache);
    assert_eq!(again.key, r.key);

    let edited = e.plan(&ARTICLE.replace("Trời trong xanh", "Trời nhiều mây"), None, Format::Mp3).unwrap();
    let r2 = e.render(&edited, &Job::default()).await.unwrap();
    assert_eq!(r2.synthesized, 1);
    assert_eq!(e.metrics().snapshot().syntheses, n as u64 + 1);
    let pcm = loa::audio::decode(&read(&e, &r2.key, Ext::Mp3).await.unwrap()).unwrap();
    assert_eq!(pcm.duration_ms(), r2.duration_ms, "the decoded article is exactly as long as its timings");
}

#[tokio::test]
async fn the_article_is_its_sentence_objects_with_exact_timings() {
    // The article MP3 is made of the sentence MP3s' frames (one encode per
    // sentence): each sentence decodes inside the article exactly where the
    // timings put it, and the whole decodes to the timings' end.
    let dir = tempfile::tempdir().unwrap();
    let e = engine(dir.path());
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/samples/cao-loc-2021.txt"))
            .unwrap();
    for format in [Format::Mp3, Format::Wav] {
        let plan = e.plan(&text, None, format).unwrap();
        let r = e.render(&plan, &Job::default()).await.unwrap();
        let t = e.timings(&r.key).await.unwrap().unwrap();
        t.check().unwrap();
        let article = loa::audio::decode(&read(&e, &r.key, format.into()).await.unwrap()).unwrap();
        let rate = article.sample_rate as u64;
        assert_eq!(article.samples.len() as u64 * 1000 / rate, t.duration_ms, "{format}: length");
        for (i, s) in t.sentences.iter().enumerate() {
            let own = loa::audio::decode(
                &read(&e, &CacheKey::parse(&s.audio_key).unwrap(), format.into()).await.unwrap(),
            )
            .unwrap();
            let at = (s.start_ms * rate / 1000) as usize;
            // Within 1 ms of the boundary the sentence's own audio begins.
            let best = (at.saturating_sub(rate as usize / 1000)..=at + rate as usize / 1000)
                .min_by_key(|&o| {
                    let n = own.samples.len().min(article.samples.len().saturating_sub(o)).min(4000);
                    own.samples[..n]
                        .iter()
                        .zip(&article.samples[o..o + n])
                        .map(|(a, b)| (*a as i64 - *b as i64).unsigned_abs())
                        .sum::<u64>()
                })
                .unwrap();
            let n = own.samples.len().min(article.samples.len() - best);
            let diff: f64 = own.samples[..n]
                .iter()
                .zip(&article.samples[best..best + n])
                .map(|(a, b)| ((*a as f64) - (*b as f64)).powi(2))
                .sum::<f64>()
                / n as f64;
            let power: f64 = own.samples[..n].iter().map(|&a| (a as f64).powi(2)).sum::<f64>() / n as f64;
            assert!(diff <= power * 0.01 + 1.0, "{format} sentence {i}: error {diff:.0} vs power {power:.0}");
            let end_of_speech = s.start_ms + own.samples.len() as u64 * 1000 / rate;
            assert!(end_of_speech <= s.end_ms + 1, "{format} sentence {i} runs into the next");
        }
    }
}

#[tokio::test]
async fn sentence_audio_is_playable_on_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let e = engine(dir.path());
    for format in [Format::Mp3, Format::Wav] {
        let plan = e.plan(ARTICLE, None, format).unwrap();
        let s = e.sentence(&plan, 0, &Job::default()).await.unwrap();
        assert!(s.synthesized);
        assert_eq!(s.key, plan.sentences()[0].key);
        let pcm = loa::audio::decode(&read(&e, &s.key, format.into()).await.unwrap()).unwrap();
        assert!(pcm.duration_ms() > 300, "{} ms", pcm.duration_ms());
        assert_eq!(pcm.duration_ms(), s.duration_ms);
        // From the cache: the same object and duration.
        let again = e.sentence(&plan, 0, &Job::default()).await.unwrap();
        assert_eq!((&again.key, again.duration_ms, again.synthesized), (&s.key, s.duration_ms, false));
        assert!(matches!(
            e.sentence(&plan, 99, &Job::default()).await,
            Err(PipelineError::NoSuchSentence { .. })
        ));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_renders_of_one_article_synthesize_once() {
    let dir = tempfile::tempdir().unwrap();
    let e = engine(dir.path());
    let plan = Arc::new(e.plan(ARTICLE, None, Format::Mp3).unwrap());
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let (e, plan) = (e.clone(), plan.clone());
        tasks.push(tokio::spawn(async move { e.render(&plan, &Job::default()).await.unwrap() }));
    }
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap());
    }
    assert_eq!(e.metrics().snapshot().syntheses, plan.len() as u64);
    assert_eq!(results.iter().filter(|r| !r.from_cache).count(), 1);
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
    let mut config = config(dir.path());
    config.speech.voices_dir = voices;
    let e = Engine::new(&config).unwrap();
    let article =
        "Buổi sáng hôm nay người dân trong thôn cùng nhau ra đồng làm cỏ lúa và bón phân cho vụ mùa mới.";
    let plan = e.plan(article, Some("unlimited"), Format::Wav).unwrap();
    match e.render(&plan, &Job::default()).await {
        Err(PipelineError::Backend { index: 0, message, .. }) => {
            assert!(message.contains("too long"), "{message}")
        }
        other => panic!("expected a backend error, got {other:?}"),
    }
    let plan = e.plan(article, Some("limited"), Format::Wav).unwrap();
    let r = e.render(&plan, &Job::default()).await.unwrap();
    assert!(r.duration_ms > 3000, "{} ms", r.duration_ms);
    assert!(e.metrics().snapshot().syntheses >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_render_stops_leaves_no_article_and_waits_for_its_work() {
    let dir = tempfile::tempdir().unwrap();
    let e = engine(dir.path());
    let text = "Câu số một.\n\n".to_string()
        + &(2..40).map(|i| format!("Đây là câu số {i} của bài.\n\n")).collect::<String>();
    let plan = e.plan(&text, Some("vi-espeak-cli"), Format::Mp3).unwrap();
    let cancel = CancellationToken::new();
    let c2 = cancel.clone();
    let job = Job::default().with_cancel(cancel.clone()).with_progress(move |done| {
        if done == 2 {
            c2.cancel();
        }
    });
    let started = std::time::Instant::now();
    let result = e.render(&plan, &job).await;
    assert!(matches!(result, Err(PipelineError::Cancelled)), "{result:?}");
    // Returned only after every synthesis it started ended.
    assert_eq!(e.metrics().snapshot().in_flight, 0);
    let synthesized = e.metrics().snapshot().syntheses;
    assert!(
        synthesized < plan.len() as u64 / 2,
        "{synthesized} of {} synthesized after cancelling",
        plan.len()
    );
    eprintln!("cancelled render returned {:?} after start, {synthesized} sentences made", started.elapsed());
    assert!(read(&e, plan.key(), Ext::Mp3).await.is_none());
    assert!(read(&e, plan.key(), Ext::Json).await.is_none());
    // The finished sentences stay cached; a new render completes the rest.
    let r = e.render(&plan, &Job::default()).await.unwrap();
    assert!(r.synthesized < plan.len(), "{} synthesized", r.synthesized);
}

#[tokio::test]
async fn synthesis_is_deterministic_whatever_came_before() {
    // eSpeak NG keeps state between utterances; loa must not: the same
    // sentence gives the same bytes alone, after others, in another engine.
    let dir = tempfile::tempdir().unwrap();
    let sentences = [
        "Xin chào các bạn.",
        "Năm 2022, huyện tập trung phát triển kinh tế, xã hội.",
        "Hôm nay trời mưa to?",
    ];
    let mut seen: std::collections::HashMap<String, Vec<u8>> = Default::default();
    for (round, order) in [[0, 1, 2], [2, 0, 1], [1, 2, 0]].iter().enumerate() {
        let e = Engine::new(&config(&dir.path().join(round.to_string()))).unwrap();
        for &i in order {
            let plan = e.plan(sentences[i], None, Format::Wav).unwrap();
            let s = e.sentence(&plan, 0, &Job::default()).await.unwrap();
            let bytes = read(&e, &s.key, Ext::Wav).await.unwrap();
            if let Some(prev) = seen.get(sentences[i]) {
                assert!(prev == &bytes, "{:?} differs in round {round}", sentences[i]);
            }
            seen.insert(sentences[i].to_string(), bytes);
        }
    }
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
        let r = e.render(&plan, &Job::default()).await.unwrap();
        let pcm = loa::audio::decode(&read(&e, &r.key, Ext::Wav).await.unwrap()).unwrap();
        let t = e.timings(&r.key).await.unwrap().unwrap();
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_render_runs_at_most_the_voices_concurrency_at_once() {
    // A command voice with `concurrency = 2` that logs when each run starts
    // and ends; the render's window holds many more sentences than that.
    let w = crate::server_support::world(crate::server_support::Script::default(), |c| {
        c.speech.default_voice = "two".into();
    });
    let d = w.dir.path();
    let log = d.join("overlap.log");
    let program = d.join("two.sh");
    crate::server_support::write_script(
        &program,
        &format!(
            "#!/bin/sh\necho \"start $(date +%s%N)\" >> '{log}'\ncat > /dev/null\nsleep 0.2\n\
             echo \"end $(date +%s%N)\" >> '{log}'\nexec cat '{tone}'\n",
            log = log.display(),
            tone = d.join("tone.wav").display()
        ),
    );
    std::fs::write(
        d.join("voices/two.toml"),
        format!("[backend]\ntype = \"command\"\nprogram = \"{}\"\nconcurrency = 2\n", program.display()),
    )
    .unwrap();
    let e = w.engine();
    let text: String = (1..=8).map(|i| format!("Câu thứ {i} của bài.\n\n")).collect();
    let plan = e.plan(&text, None, Format::Wav).unwrap();
    e.render(&plan, &Job::default()).await.unwrap();

    let mut events: Vec<(u128, i32)> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| {
            let (what, ns) = l.split_once(' ').unwrap();
            (ns.parse().unwrap(), if what == "start" { 1 } else { -1 })
        })
        .collect();
    assert_eq!(events.len(), 16, "eight runs, each started and ended");
    events.sort();
    let (mut running, mut most) = (0, 0);
    for (_, step) in events {
        running += step;
        most = most.max(running);
    }
    assert_eq!(most, 2, "runs at once, with concurrency = 2");
}
