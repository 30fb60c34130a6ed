//! Text-stage throughput on one thread. Target: at least 30 MB/s of input
//! per core on the seed article (repeated to over 1 MB), split and
//! normalized. A second figure normalizes short, number-dense lines (the
//! inputs of the golden rows, as `loa normalize --lines` does) to show
//! the per-line cost that `scripts/bench-normalize` measures as a process.

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

/// The written column of every golden row, as one line each.
fn golden_lines() -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .expect("tests/golden")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "tsv"))
        .collect();
    paths.sort();
    let mut lines = Vec::new();
    for p in paths {
        let text = std::fs::read_to_string(p).expect("golden file");
        for l in text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
            if let Some(written) = l.split('\t').nth(1) {
                lines.push(written.to_string());
            }
        }
    }
    lines
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

    let lines = golden_lines();
    let bytes: usize = lines.iter().map(|l| l.len() + 1).sum();
    let mut g = c.benchmark_group("lines");
    g.throughput(Throughput::Bytes(bytes as u64));
    g.sample_size(20);
    g.bench_function(format!("normalize_into, {} golden lines", lines.len()), |b| {
        let mut out = String::new();
        b.iter(|| {
            out.clear();
            for l in &lines {
                norm.normalize_into(l, &mut out);
                out.push('\n');
            }
            out.len()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
