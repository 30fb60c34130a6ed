//! The `loa split` and `loa normalize` commands as a user runs them.

use std::path::Path;
use std::process::{Command, Output, Stdio};

fn loa(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_loa"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("LOA_CONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("loa runs");
    crate::cli_support::feed(&mut child, stdin);
    child.wait_with_output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn sample(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/samples").join(name).display().to_string()
}

#[test]
fn invalid_utf8_is_exit_2_with_offset_and_no_output() {
    for cmd in ["split", "normalize"] {
        let o = loa(&[cmd], b"abc\xff\xfedef");
        assert_eq!(o.status.code(), Some(2), "{cmd}");
        assert!(o.stdout.is_empty(), "{cmd} wrote output");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("not valid UTF-8") && err.contains("offset 3"), "{err}");
    }
}

#[test]
fn empty_input_is_empty_output() {
    for cmd in ["split", "normalize"] {
        let o = loa(&[cmd], b"");
        assert!(o.status.success());
        assert!(o.stdout.is_empty());
    }
    let o = loa(&["normalize", "--lines"], b"");
    assert!(o.status.success() && o.stdout.is_empty());
}

#[test]
fn lines_mode_keeps_one_line_per_line() {
    let input = "Năm 2021.\n\nCó 01 xã. Đạt 3,31%.\n   \nXUÂN ĐIỆP\n";
    let o = loa(&["normalize", "--lines"], input.as_bytes());
    assert!(o.status.success());
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 5, "{out}");
    assert_eq!(lines[0], "năm hai nghìn không trăm hai mươi mốt.");
    assert_eq!(lines[1], "");
    assert_eq!(lines[2], "có một xã. đạt ba phẩy ba mươi mốt phần trăm.");
    assert_eq!(lines[4], "xuân điệp");
}

#[test]
fn dialect_flag_selects_southern_words() {
    let o = loa(&["normalize", "--lines", "--dialect", "south"], "105 và 3.012".as_bytes());
    assert_eq!(stdout(&o).trim(), "một trăm lẻ năm và ba ngàn không trăm mười hai");
}

#[test]
fn user_lexicon_overrides_and_bad_lexicon_names_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.tsv");
    std::fs::write(&good, "# editor's fixes\nNTM\tnông thôn mới kiểu mẫu\nword\tcovid\tcô vi\n").unwrap();
    let o = loa(&["normalize", "--lines", "--lexicon", good.to_str().unwrap()], "NTM và Covid-19".as_bytes());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(stdout(&o).trim(), "nông thôn mới kiểu mẫu và cô vi mười chín");

    let bad = dir.path().join("bad.tsv");
    std::fs::write(&bad, "NTM\tnông thôn mới\nHĐND hội đồng nhân dân\n").unwrap();
    let o = loa(&["normalize", "--lexicon", bad.to_str().unwrap()], b"x");
    assert!(!o.status.success());
    assert!(o.stdout.is_empty());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("bad.tsv:2:"), "{err}");

    let missing = dir.path().join("missing.tsv");
    let o = loa(&["normalize", "--lexicon", missing.to_str().unwrap()], b"x");
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("missing.tsv"));
}

#[test]
fn explain_lists_rules_and_strict_fails_on_unknown_acronyms() {
    let o = loa(&["normalize", "--explain", "--strict"], "Đạt 110 % kh năm.".as_bytes());
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    assert!(
        out.contains("percent") && out.contains("kế hoạch") && out.contains("Every token will be read"),
        "{out}"
    );

    let o = loa(&["normalize", "--explain", "--strict"], "Dự án XYZQ của tỉnh ☺.".as_bytes());
    assert_eq!(o.status.code(), Some(3));
    let out = stdout(&o);
    assert!(out.contains("Will not be read well (2)"), "{out}");
    assert!(out.contains("XYZQ") && out.contains("ích xì i dài dét quy"), "{out}");
    assert!(out.contains('☺'), "{out}");
    // Without --strict the same input exits 0.
    let o = loa(&["normalize", "--explain"], "Dự án XYZQ.".as_bytes());
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn html_page_reads_like_the_plain_article() {
    let txt = loa(&["split", &sample("cao-loc-2021.txt")], b"");
    let html = loa(&["split", &sample("cao-loc-2021.html")], b"");
    assert!(txt.status.success() && html.status.success());
    // The page's image caption is in the text version but is never read on a page.
    let without_caption: String =
        stdout(&txt).lines().filter(|l| !l.contains("Ảnh: Trung tâm")).map(|l| format!("{l}\n")).collect();
    assert_eq!(stdout(&html), without_caption);
    assert!(stdout(&txt).lines().count() >= 15);
}

#[test]
fn json_sentences_carry_spans_into_the_input() {
    let path = sample("cao-loc-2021.txt");
    let text = std::fs::read_to_string(&path).unwrap();
    let o = loa(&["normalize", "--json", &path], b"");
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let sentences = v.as_array().unwrap();
    assert!(sentences.len() >= 15);
    for s in sentences {
        let (a, b) =
            (s["span"]["start"].as_u64().unwrap() as usize, s["span"]["end"].as_u64().unwrap() as usize);
        assert_eq!(&text[a..b], s["text"].as_str().unwrap());
        assert!(!s["spoken"].as_str().unwrap().bytes().any(|c| c.is_ascii_digit()));
    }
}

#[test]
fn help_teaches_with_examples() {
    let o = loa(&["normalize", "--help"], b"");
    let out = stdout(&o);
    assert!(out.contains("Examples:") && out.contains("--explain") && out.contains("--lines"), "{out}");
}
