//! `loa generate --feed` against a local site: an RSS feed of five
//! articles gives five audio files and a manifest; a second run
//! synthesizes nothing; after one article changes, only its changed
//! sentences are synthesized (counted by the `command` voice's runs).

use std::process::{Command, Output};

use crate::server_support::{Script, World, world};
use crate::site_support::{Site, article};

fn rss(site: &Site, n: usize) -> String {
    let items: String = (1..=n)
        .map(|i| {
            format!(
                "<item><title>Bài {i}</title><link>{}</link><pubDate>Mon, 0{i} Apr 2024 08:00:00 +0700</pubDate></item>",
                site.url(&format!("/tin/bai-{i}.html"))
            )
        })
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel><title>Tin</title>{items}</channel></rss>"
    )
}

fn paragraphs(i: usize) -> Vec<String> {
    vec![
        format!("Đây là câu mở đầu của bài số {i}."),
        format!("Bài số {i} có câu thứ hai."),
        format!("Và bài số {i} kết thúc ở câu thứ ba."),
    ]
}

fn publish(site: &Site, i: usize, paras: &[String]) {
    let p: Vec<&str> = paras.iter().map(String::as_str).collect();
    site.html(&format!("/tin/bai-{i}.html"), &article(&format!("Tiêu đề bài {i}"), &p));
}

fn generate(w: &World, site: &Site, out: &std::path::Path, extra: &[&str]) -> Output {
    let config = w.dir.path().join("loa.toml");
    std::fs::write(&config, toml::to_string(&w.config).unwrap()).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_loa"));
    for (k, _) in std::env::vars() {
        if k.starts_with("LOA_") {
            cmd.env_remove(k);
        }
    }
    cmd.arg("--config")
        .arg(&config)
        .args([
            "generate",
            "--feed",
            &site.url("/rss.xml"),
            "--out",
            out.to_str().unwrap(),
            "--format",
            "wav",
        ])
        .args(extra)
        // The CLI fetches any public address; loopback only when named.
        .env("LOA_SOURCES_ALLOW", site.origin())
        .output()
        .unwrap()
}

#[test]
fn a_feed_of_five_articles_is_generated_once_and_only_changes_are_synthesized_again() {
    let site = Site::start();
    site.page("/rss.xml", "application/rss+xml", rss(&site, 5).into_bytes());
    for i in 1..=5 {
        publish(&site, i, &paragraphs(i));
    }
    let w = world(Script::default(), |c| c.sources.page_ttl_secs = 0);
    let out = w.dir.path().join("out");
    let o = generate(&w, &site, &out, &[]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    let host = "127.0.0.1";
    for i in 1..=5 {
        let wav = out.join(host).join(format!("bai-{i}.wav"));
        assert!(wav.is_file(), "{} missing; {err}", wav.display());
        assert!(out.join(host).join(format!("bai-{i}.json")).is_file());
    }
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!((m["articles"].as_u64(), m["failed"].as_u64()), (Some(5), Some(0)));
    for e in m["entries"].as_array().unwrap() {
        assert!(e["input"].as_str().unwrap().starts_with(&site.origin()), "{e}");
        assert!(e["duration_ms"].as_u64().unwrap() > 0, "{e}");
        assert_eq!(e["sentences"], 4, "headline and three sentences: {e}");
    }
    let first = w.runs();
    assert_eq!(first, 5 * 4, "one synthesis per sentence");

    let o = generate(&w, &site, &out, &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(w.runs(), first, "a second run synthesizes nothing");

    let mut changed = paragraphs(3);
    changed[1] = "Bài số 3 đã được sửa ở câu thứ hai.".into();
    publish(&site, 3, &changed);
    let o = generate(&w, &site, &out, &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(w.runs(), first + 1, "only the changed sentence is synthesized");
    let t: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join(host).join("bai-3.json")).unwrap()).unwrap();
    assert!(t.to_string().contains("đã được sửa"), "the new text is in the timings");

    // --limit and --since choose among the listed articles.
    let out2 = w.dir.path().join("out2");
    let o = generate(&w, &site, &out2, &["--limit", "2", "--since", "2024-04-02"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out2.join("manifest.json")).unwrap()).unwrap();
    let inputs: Vec<&str> =
        m["entries"].as_array().unwrap().iter().map(|e| e["input"].as_str().unwrap()).collect();
    assert_eq!(inputs, [site.url("/tin/bai-5.html"), site.url("/tin/bai-4.html")]);
}

#[test]
fn a_feed_on_a_refused_address_exits_2_and_writes_nothing() {
    let w = world(Script::default(), |_| {});
    let out = w.dir.path().join("out");
    let config = w.dir.path().join("loa.toml");
    std::fs::write(&config, toml::to_string(&w.config).unwrap()).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_loa"))
        .arg("--config")
        .arg(&config)
        .args(["generate", "--feed", "http://169.254.169.254/feed", "--out", out.to_str().unwrap()])
        .env_remove("LOA_SOURCES_ALLOW")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("link-local"));
    assert!(!out.exists());
}
