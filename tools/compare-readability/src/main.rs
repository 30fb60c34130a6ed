//! dom_smoothie (Readability) on the loa page corpus, scored like tests/it/pages.rs.
use dom_smoothie::{Config, Readability, TextMode};
use std::time::Instant;
use unicode_normalization::UnicodeNormalization;

fn collapse(s: &str) -> String {
    s.nfc().collect::<String>().split_whitespace().collect::<Vec<_>>().join(" ")
}

fn main() {
    let dir = std::env::args().nth(1).unwrap();
    let mut paths: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "html")).collect();
    paths.sort();
    let (mut ok_pages, mut found_total, mut want_total, mut leaked_total, mut errors) = (0, 0, 0, 0, 0);
    let t0 = Instant::now();
    for p in &paths {
        let html = std::fs::read_to_string(p).unwrap();
        let exp = std::fs::read_to_string(p.with_extension("expect")).unwrap();
        let cfg = Config { text_mode: TextMode::Formatted, ..Default::default() };
        let text = match Readability::new(html.as_str(), None, Some(cfg)).and_then(|mut r| r.parse()) {
            Ok(a) => if std::env::var_os("NO_TITLE").is_some() { a.text_content.to_string() } else { format!("{}\n{}", a.title, a.text_content) },
            Err(e) => { errors += 1; format!("ERROR {e}") }
        };
        let lines: Vec<String> = text.lines().map(collapse).filter(|l| !l.is_empty()).collect();
        let joined = lines.join("\n");
        let (mut first, mut last, mut read, mut not) = (None, None, vec![], vec![]);
        for l in exp.lines() {
            if l.is_empty() || l.starts_with('#') || l.starts_with('@') { continue; }
            let (t, r) = l.split_at(1);
            let r = collapse(r);
            match t { "^" => { first = Some(r.clone()); read.push(r) } "$" => { last = Some(r.clone()); read.push(r) }
                "+" => read.push(r), "-" => not.push(l[1..].trim().nfc().collect::<String>()), _ => {} }
        }
        let mut at = 0; let mut found = 0;
        for w in &read { if let Some(i) = lines[at.min(lines.len())..].iter().position(|l| l == w) { at += i + 1; found += 1; } }
        let leaked = not.iter().filter(|b| joined.contains(b.as_str())).count();
        let ok = found == read.len() && leaked == 0 && first.as_ref().is_none_or(|f| lines.first() == Some(f)) && last.as_ref().is_none_or(|l| lines.last() == Some(l));
        ok_pages += ok as usize; found_total += found; want_total += read.len(); leaked_total += leaked;
        println!("{:32} {}  read {:>2}/{:<2}  leaked {:>2}", p.file_name().unwrap().to_string_lossy(), if ok {"ok  "} else {"FAIL"}, found, read.len(), leaked);
    }
    let el = t0.elapsed();
    println!("dom_smoothie: {ok_pages} of {} pages as expected; {found_total} of {want_total} must-read lines; {leaked_total} must-not strings read; {errors} errors; {:.1} ms total ({:.0} pages/s)",
        paths.len(), el.as_secs_f64()*1e3, paths.len() as f64 / el.as_secs_f64());
}
