//! `loa check`: the HTML report and the JSON of a page, and `--strict`.

use std::process::Command;

fn loa(args: &[&str], cache: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_loa"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("LOA_CONFIG")
        .arg("--cache-dir")
        .arg(cache)
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn the_report_shows_what_is_read_said_and_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.html");
    let o =
        loa(&["check", "tests/pages/vnexpress.html", "--out", out.to_str().unwrap()], &dir.path().join("c"));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let html = std::fs::read_to_string(&out).unwrap();
    for want in [
        "Giá xăng giảm lần thứ ba liên tiếp",
        "hai mươi ba nghìn không trăm bốn mươi đồng",
        "(grouped)",
        "an image caption",
        "Khách đổ xăng tại một cửa hàng",
        "outside the article",
        "Title (not read): Giá xăng giảm lần thứ ba liên tiếp - VnExpress Kinh doanh",
    ] {
        assert!(html.contains(want), "{want:?} missing from the report");
    }
    assert!(!html.contains("<script"), "the report runs no script");

    let o = loa(&["check", "--json", "tests/pages/messy-entities.html"], &dir.path().join("c"));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let page = &j[0];
    assert_eq!(page["found"], "hints");
    assert!(page["sentences"].as_array().unwrap().len() >= 6);
    assert!(page["sentences"][0]["spoken"].as_str().unwrap().starts_with("sản lượng lúa"));
    // The stray "&Ldquo;" will not read well: --strict says so with exit 3.
    assert!(!page["doubtful"].as_array().unwrap().is_empty(), "{page}");
    let o = loa(&["check", "--json", "--strict", "tests/pages/messy-entities.html"], &dir.path().join("c"));
    assert_eq!(o.status.code(), Some(3));
    let o = loa(&["check", "--json", "--strict", "tests/pages/charset-tcvn3.html"], &dir.path().join("c"));
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j[0]["encoding"], "TCVN3");
}
