//! Text-stage throughput: the seed article repeated to over 1 MB, split and
//! normalized on one thread. Target: at least 30 MB/s of input per core.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use loa::text::Normalizer;

fn corpus() -> String {
    let seed = include_str!("../tests/samples/cao-loc-2021.txt");
    let mut text = String::new();
    while text.len() < 1_100_000 {
        text.push_str(seed);
        text.push_str("\n\n");
    }
    text
}

fn bench(c: &mut Criterion) {
    let text = corpus();
    let norm = Normalizer::default();
    let mut g = c.benchmark_group("text");
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.sample_size(20);
    g.bench_function("sentences (split + normalize) 1.1 MB", |b| b.iter(|| norm.sentences(&text)));
    g.bench_function("split only 1.1 MB", |b| b.iter(|| norm.split(&text)));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
