//! Golden tests for the text stage: every `tests/golden/normalize-*.tsv`
//! row (category, written, spoken references joined by " || ") and every
//! `tests/golden/split*.txt` case. Outputs are compared the way
//! `shared/normalization/score.py` compares them: lower case, punctuation
//! dropped, tone-mark placement and i/y spelling variants unified.

use std::path::{Path, PathBuf};

use loa::text::{Dialect, Normalizer, Options};
use unicode_normalization::UnicodeNormalization;

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn files(prefix: &str, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(golden_dir())
        .expect("tests/golden exists")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name.starts_with(prefix) && name.ends_with(ext)
        })
        .collect();
    v.sort();
    v
}

/// The comparison form of score.py.
fn canon(text: &str) -> Vec<String> {
    const TONE: &[(&str, &str)] = &[
        ("oà", "òa"),
        ("oá", "óa"),
        ("oả", "ỏa"),
        ("oã", "õa"),
        ("oạ", "ọa"),
        ("oè", "òe"),
        ("oé", "óe"),
        ("oẻ", "ỏe"),
        ("oẽ", "õe"),
        ("oẹ", "ọe"),
        ("uỳ", "ùy"),
        ("uý", "úy"),
        ("uỷ", "ủy"),
        ("uỹ", "ũy"),
        ("uỵ", "ụy"),
    ];
    const SPELLING: &[(&str, &str)] = &[
        ("ngàn", "nghìn"),
        ("lẻ", "linh"),
        ("kí", "ki"),
        ("kỉ", "kỷ"),
        ("tỉ", "tỷ"),
        ("lí", "lý"),
        ("mĩ", "mỹ"),
    ];
    let mut t: String = text.nfc().collect::<String>().to_lowercase();
    for (old, new) in TONE {
        t = t.replace(old, new);
    }
    let t: String =
        t.chars().map(|c| if c.is_alphanumeric() || c.is_whitespace() { c } else { ' ' }).collect();
    let mut words: Vec<String> = t
        .split_whitespace()
        .filter(|w| *w != "mùng" && *w != "mồng")
        .map(|w| SPELLING.iter().find(|(k, _)| *k == w).map_or(w, |(_, v)| *v).to_string())
        .collect();
    for i in 1..words.len() {
        if words[i] == "tư" && words[i - 1] == "mươi" {
            words[i] = "bốn".into();
        }
    }
    words
}

struct Row {
    file: String,
    line: usize,
    category: String,
    input: String,
    refs: Vec<String>,
}

fn rows(path: &Path) -> Vec<Row> {
    let text = std::fs::read_to_string(path).expect("golden file is UTF-8");
    let file = path.file_name().unwrap().to_string_lossy().to_string();
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|(i, l)| {
            let cols: Vec<&str> = l.split('\t').collect();
            assert_eq!(cols.len(), 3, "{file}:{}: expected 3 tab-separated columns", i + 1);
            Row {
                file: file.clone(),
                line: i + 1,
                category: cols[0].to_string(),
                input: cols[1].to_string(),
                refs: cols[2].split("||").map(|r| r.trim().to_string()).collect(),
            }
        })
        .collect()
}

#[test]
fn golden_normalization() {
    let north = Normalizer::new(Options::default());
    let south = Normalizer::new(Options { dialect: Dialect::South, ..Options::default() });
    let mut total = 0;
    let mut failures = Vec::new();
    let paths = files("normalize-", ".tsv");
    assert!(!paths.is_empty(), "no golden files");
    for path in paths {
        for row in rows(&path) {
            total += 1;
            let south_row = row.category == "south" || row.file.contains("south");
            let got = if south_row { south.normalize(&row.input) } else { north.normalize(&row.input) };
            if south_row {
                // The south profile must really say "ngàn"/"lẻ", which canon() would hide.
                let raw_ok = row.refs.iter().any(|r| {
                    r.to_lowercase().split_whitespace().eq(got
                        .split(|c: char| c.is_whitespace() || ",.;:?!".contains(c))
                        .filter(|w| !w.is_empty()))
                });
                let north_words = got.split_whitespace().any(|w| w == "nghìn" || w == "linh");
                if north_words && !raw_ok {
                    failures.push(format!(
                        "{}:{} [south] {}\n    got: {got}\n   (northern word in south profile)",
                        row.file, row.line, row.input
                    ));
                    continue;
                }
            }
            let hyp = canon(&got);
            if !row.refs.iter().any(|r| canon(r) == hyp) {
                failures.push(format!(
                    "{}:{} [{}] {}\n    got: {got}\n   want: {}",
                    row.file, row.line, row.category, row.input, row.refs[0]
                ));
            }
        }
    }
    assert!(total >= 400, "only {total} golden rows");
    assert!(
        failures.is_empty(),
        "{} of {total} golden rows differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn golden_split() {
    let norm = Normalizer::default();
    let mut failures = Vec::new();
    let mut cases = 0;
    for path in files("split", ".txt") {
        let text = std::fs::read_to_string(&path).unwrap();
        let mut name = String::new();
        let mut input: Vec<&str> = Vec::new();
        let mut want: Vec<String> = Vec::new();
        let mut part = "";
        let mut all = Vec::new();
        for line in text.split('\n') {
            if let Some(n) = line.strip_prefix("=== ") {
                if !name.is_empty() {
                    all.push((name.clone(), input.join("\n"), want.clone()));
                }
                name = n.to_string();
                input.clear();
                want.clear();
                part = "in";
            } else if line == "---" && part == "in" {
                part = "want";
            } else if part == "in" {
                input.push(line);
            } else if part == "want" && !line.trim().is_empty() {
                want.push(clean(line));
            }
        }
        if !name.is_empty() {
            all.push((name, input.join("\n"), want));
        }
        for (name, input, want) in all {
            cases += 1;
            let got: Vec<String> = norm.split(&input).into_iter().map(|p| clean(&input[p.span])).collect();
            if got != want {
                failures.push(format!("{}: {name}\n    got: {got:?}\n   want: {want:?}", path.display()));
            }
        }
    }
    assert!(cases >= 8, "only {cases} split cases");
    assert!(failures.is_empty(), "{} split cases differ:\n{}", failures.len(), failures.join("\n"));
}

fn clean(s: &str) -> String {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    match s.strip_suffix("./.") {
        Some(head) => format!("{}.", head.trim_end()),
        None => s,
    }
}

/// NVIDIA NeMo's public Vietnamese text-normalization cases (Apache-2.0,
/// `tests/nemo/`) as a peer test: per category, how many loa reads as NeMo
/// does, and the cases where the house style differs on purpose
/// (`tests/nemo/house-style.tsv`, each with loa's reading and the reason).
#[test]
fn nemo_peer_cases() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/nemo");
    let mut house: std::collections::HashMap<(String, String), (String, String)> = Default::default();
    let listed = std::fs::read_to_string(dir.join("house-style.tsv")).expect("tests/nemo/house-style.tsv");
    for (n, line) in listed.lines().enumerate().filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#')) {
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(cols.len(), 4, "house-style.tsv:{}: expected 4 columns", n + 1);
        let key = (cols[0].to_string(), cols[1].to_string());
        assert!(
            house.insert(key, (cols[2].to_string(), cols[3].to_string())).is_none(),
            "house-style.tsv:{}: twice",
            n + 1
        );
    }
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/nemo exists")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("test_cases_")))
        .collect();
    paths.sort();
    assert_eq!(paths.len(), 10, "expected NeMo's ten Vietnamese case files");
    let norm = Normalizer::default();
    let mut report = Vec::new();
    let mut failures = Vec::new();
    let mut used = std::collections::HashSet::new();
    let (mut same_all, mut purpose_all, mut total_all) = (0, 0, 0);
    for path in paths {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let category = name.trim_start_matches("test_cases_").trim_end_matches(".txt").to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        let (mut same, mut purpose, mut total) = (0, 0, 0);
        for line in text.lines().filter(|l| l.contains('~')) {
            let (written, spoken) = line.split_once('~').unwrap();
            total += 1;
            let got = norm.normalize(written);
            let key = (category.clone(), written.to_string());
            let listed = house.get(&key);
            if canon(&got) == canon(spoken) {
                same += 1;
                if listed.is_some() {
                    failures.push(format!(
                        "[{category}] {written}: now reads as NeMo ({got}); drop it from house-style.tsv"
                    ));
                }
            } else if let Some((want, _)) = listed {
                used.insert(key);
                if canon(&got) == canon(want) {
                    purpose += 1;
                } else {
                    failures.push(format!(
                        "[{category}] {written}\n    got: {got}\n  house: {want}\n   nemo: {spoken}"
                    ));
                }
            } else {
                failures.push(format!(
                    "[{category}] {written}\n    got: {got}\n   nemo: {spoken}  (not in house-style.tsv)"
                ));
            }
        }
        report.push(format!("{category:<10} {same:>3}/{total:<3} as NeMo, {purpose:>2} house style"));
        same_all += same;
        purpose_all += purpose;
        total_all += total;
    }
    report.push(format!(
        "{:<10} {same_all:>3}/{total_all:<3} as NeMo ({:.1}%), {purpose_all} house style",
        "total",
        100.0 * same_all as f64 / total_all as f64
    ));
    eprintln!("NeMo Vietnamese TN cases:\n{}", report.join("\n"));
    for key in house.keys().filter(|k| !used.contains(*k)) {
        if !failures.iter().any(|f| f.contains(&key.1)) {
            failures.push(format!("[{}] {}: listed in house-style.tsv but not a NeMo case", key.0, key.1));
        }
    }
    assert!(total_all >= 400, "only {total_all} NeMo cases");
    assert!(
        failures.is_empty(),
        "{}\n{} NeMo cases differ:\n{}",
        report.join("\n"),
        failures.len(),
        failures.join("\n")
    );
}
