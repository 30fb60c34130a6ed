//! `loa normalize --json`: each sentence carries its rewritten tokens with
//! the rule that fired and the tokens that will not be read well, as
//! `--explain` prints them.

use std::process::{Command, Stdio};

fn normalize_json(input: &str) -> serde_json::Value {
    let mut child = Command::new(env!("CARGO_BIN_EXE_loa"))
        .args(["normalize", "--json", "--format", "text", "-"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("LOA_CONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("loa runs");
    crate::cli_support::feed(&mut child, input.as_bytes());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("JSON")
}

#[test]
fn json_lists_rules_and_what_will_not_read_well() {
    let input = "Chuyến bay VN215 cất cánh lúc 6h40.\nDự án XYZQ của tỉnh ☺ đạt 3,5%.";
    let v = normalize_json(input);
    let sentences = v.as_array().expect("an array of sentences");
    assert_eq!(sentences.len(), 2);

    let first = &sentences[0];
    assert_eq!(first["spoken"], "chuyến bay vê en hai trăm mười lăm cất cánh lúc sáu giờ bốn mươi phút.");
    let rewrites = first["rewrites"].as_array().unwrap();
    let find = |written: &str| rewrites.iter().find(|r| r["written"] == written).cloned();
    let code = find("VN215").expect("VN215 is rewritten");
    assert_eq!(code["rule"], "code");
    assert_eq!(code["spoken"], "vê en hai trăm mười lăm");
    assert_eq!(code["doubtful"], false);
    // Spans point into the sentence's text.
    let text = first["text"].as_str().unwrap();
    let (a, b) =
        (code["span"]["start"].as_u64().unwrap() as usize, code["span"]["end"].as_u64().unwrap() as usize);
    assert_eq!(&text[a..b], "VN215");
    assert_eq!(find("6h40").expect("time")["rule"], "time");
    assert!(first["will_not_read_well"].as_array().unwrap().is_empty());

    let second = &sentences[1];
    let doubtful = second["will_not_read_well"].as_array().unwrap();
    let written: Vec<&str> = doubtful.iter().map(|d| d["written"].as_str().unwrap()).collect();
    assert_eq!(written, ["XYZQ", "☺"], "{doubtful:?}");
    assert_eq!(doubtful[0]["rule"], "acronym-spelled");
    assert_eq!(doubtful[0]["reason"], "unknown acronym, spelled");
    assert_eq!(doubtful[1]["rule"], "unreadable");
    assert_eq!(doubtful[1]["reason"], "stray symbol, not read");
    let percent = second["rewrites"].as_array().unwrap().iter().find(|r| r["written"] == "%").cloned();
    assert_eq!(percent.expect("percent")["rule"], "percent");
}
