//! Extraction speed: pages per second over the page corpus, and the time
//! to read a 2 MB page (ordinary and hostile shapes). `cargo bench --bench
//! pages` (or scripts/bench-pages) prints one line per measurement. Run
//! by `cargo test` (without `--bench`, as criterion's benches are) it
//! measures each once, on 256 KB pages: a check that it still runs.

use std::time::{Duration, Instant};

use loa::text::html::{Options, extract, extract_bytes};

fn best_of(n: usize, mut f: impl FnMut()) -> Duration {
    (0..n)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .unwrap()
}

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let (best, size) = if bench { (3, 2 * 1024 * 1024) } else { (1, 256 * 1024) };
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/pages");
    let mut pages: Vec<Vec<u8>> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "html"))
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    pages.sort();
    let rounds = if bench { 20 } else { 1 };
    let t = best_of(best, || {
        for _ in 0..rounds {
            for p in &pages {
                std::hint::black_box(extract_bytes(p, None, &Options::default()));
            }
        }
    });
    let n = pages.len() * rounds;
    let bytes: usize = pages.iter().map(Vec::len).sum::<usize>() * rounds;
    println!(
        "corpus: {} pages in {:.1} ms = {:.0} pages/s ({:.1} MB/s)",
        n,
        t.as_secs_f64() * 1e3,
        n as f64 / t.as_secs_f64(),
        bytes as f64 / t.as_secs_f64() / 1e6
    );
    let rep = |unit: &str| unit.repeat(size / unit.len());
    let shapes = [
        (
            "ordinary paragraphs",
            format!(
                "<article>{}</article>",
                rep("<p>Một câu <b>bình thường</b> của bài báo, có số 1.234 và 56%.</p>")
            ),
        ),
        (
            "portal tables",
            format!(
                "<div class=noidung><table>{}</table></div>",
                rep("<tr><td>Xã Hòa Bình</td><td>1.234</td><td><p>Ghi chú</p></td></tr>")
            ),
        ),
        (
            "unmatched closing tags",
            format!("<div class=noidung><p>Đoạn.</p>{}</div>", rep("</div></span></td>")),
        ),
        ("deep nesting", format!("<div class=noidung>{}x</div>", rep("<div><span>"))),
        ("misnested formatting", rep("<b><i><p>x</b></i>")),
    ];
    for (name, html) in shapes {
        let t = best_of(best, || {
            std::hint::black_box(extract(&html, &Options::default()));
        });
        println!("{} KB page, {name}: {:.0} ms", size / 1024, t.as_secs_f64() * 1e3);
    }
}
