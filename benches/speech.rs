//! Speech pipeline benchmarks on the seed article (eSpeak NG voice):
//! cold (empty cache: synthesize, level, join, encode MP3) and cached
//! (plan + cache lookup), and the first sentence cold. Targets: cold
//! ≤ 1.5 s on one core, cached ≤ 50 ms, first sentence ≤ 200 ms. Pin to one
//! core: `taskset -c 0 cargo bench --bench speech` (`BENCH_CRITERION=1
//! scripts/bench-speech` does); `generate` throughput is in scripts/bench-speech.

use std::path::Path;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use loa::cache::Ext;
use loa::config::Config;
use loa::pipeline::{Engine, Format, Job};

fn engine(cache: &Path) -> Engine {
    let mut config = Config::default();
    config.cache.dir = cache.to_path_buf();
    config.speech.voices_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("voices");
    Engine::new(&config).expect("engine")
}

fn seed() -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/samples/cao-loc-2021.txt");
    std::fs::read_to_string(p).expect("seed article")
}

fn bench(c: &mut Criterion) {
    let text = seed();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let mut g = c.benchmark_group("seed_article_mp3");
    g.sample_size(10);
    g.bench_function("cold", |b| {
        b.iter_batched(
            || {
                let dir = tempfile::tempdir().expect("tempdir");
                let e = engine(dir.path());
                (dir, e)
            },
            |(dir, e)| {
                let plan = e.plan(&text, None, Format::Mp3).expect("plan");
                let r = rt.block_on(e.render(&plan, &Job::default())).expect("render");
                assert!(!r.from_cache && r.duration_ms > 60_000);
                drop(dir);
            },
            BatchSize::PerIteration,
        )
    });
    // What a player waits for before it can start: sentence 0 as MP3, cold.
    g.bench_function("first_sentence_cold", |b| {
        b.iter_batched(
            || {
                let dir = tempfile::tempdir().expect("tempdir");
                let e = engine(dir.path());
                let plan = e.plan(&text, None, Format::Mp3).expect("plan");
                (dir, e, plan)
            },
            |(dir, e, plan)| {
                rt.block_on(e.sentence(&plan, 0, &Job::default())).expect("sentence");
                drop(dir);
            },
            BatchSize::PerIteration,
        )
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let warm = engine(dir.path());
    let plan = warm.plan(&text, None, Format::Mp3).expect("plan");
    rt.block_on(warm.render(&plan, &Job::default())).expect("render");
    g.sample_size(50);
    g.bench_function("cached", |b| {
        b.iter(|| {
            let plan = warm.plan(&text, None, Format::Mp3).expect("plan");
            let r = rt.block_on(warm.render(&plan, &Job::default())).expect("render");
            assert!(r.from_cache);
        })
    });
    g.finish();

    let pcm = {
        let plan = warm.plan(&text, None, Format::Wav).expect("plan");
        let r = rt.block_on(warm.render(&plan, &Job::default())).expect("render");
        let obj = rt.block_on(warm.open(&r.key, Ext::Wav, None)).expect("open").expect("cached");
        loa::audio::decode(&rt.block_on(obj.bytes()).expect("read")).expect("decode")
    };
    let mut g = c.benchmark_group("encode");
    g.sample_size(10);
    g.bench_function("seed_mp3_64k", |b| b.iter(|| loa::audio::encode_mp3(&pcm, 64).expect("mp3")));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
