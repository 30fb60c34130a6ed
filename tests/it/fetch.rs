//! Fetching by URL against a local site: what is refused (loopback and
//! private targets unless the allowlist names them, redirects to refused
//! addresses, metadata and odd IPv4 spellings), the size and time caps,
//! content types, and the page cache with revalidation. Every refused
//! address is refused before any connection is made; the only traffic is
//! to 127.0.0.1.

use std::time::{Duration, Instant};

use loa::fetch::{FetchError, Fetcher, Kind, Refusal, SourcesConfig, fetch_article};

use crate::site_support::{Site, article};

fn fetcher(allow: &[String], tweak: impl FnOnce(&mut SourcesConfig)) -> Fetcher {
    let mut c = SourcesConfig { allow: allow.to_vec(), ..Default::default() };
    tweak(&mut c);
    Fetcher::new(&c, false, None).unwrap()
}

fn refused(r: Result<loa::fetch::Fetched, FetchError>) -> Refusal {
    match r {
        Err(FetchError::Refused(why)) => why,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn loopback_is_refused_unless_the_allowlist_names_it() {
    let site = Site::start();
    site.html("/a", &article("Tiêu đề", &["Một đoạn văn của bài báo để đọc."]));
    let open = fetcher(&[], |_| {});
    let why = refused(open.fetch(&site.url("/a"), Kind::Page).await);
    assert!(matches!(why, Refusal::Address { kind: "loopback", .. }), "{why}");
    // A name that resolves to loopback is refused by the resolver, before connecting.
    let why = refused(open.fetch(&format!("http://localhost:{}/a", site.addr.port()), Kind::Page).await);
    assert!(matches!(why, Refusal::Resolved { .. }), "{why}");
    assert_eq!(site.hits("/a"), 0, "nothing reached the site");

    let allowed = fetcher(&[site.origin()], |_| {});
    let a = fetch_article(&allowed, &site.url("/a")).await.unwrap();
    assert_eq!(a.extracted.text, "Tiêu đề\n\nMột đoạn văn của bài báo để đọc.");
    assert_eq!(site.hits("/a"), 1);
    // The allowlist names 127.0.0.1 on this port only; and never "localhost".
    assert!(matches!(
        refused(allowed.fetch("http://127.0.0.1:1/a", Kind::Page).await),
        Refusal::Address { .. }
    ));
    let by_name = format!("http://localhost:{}/a", site.addr.port());
    assert!(matches!(refused(allowed.fetch(&by_name, Kind::Page).await), Refusal::Resolved { .. }));
}

#[tokio::test]
async fn metadata_and_odd_spellings_of_local_addresses_are_refused_before_connecting() {
    let f = fetcher(&[], |_| {});
    for url in [
        "http://169.254.169.254/latest/meta-data/",
        "http://2130706433/",
        "http://[::ffff:127.0.0.1]/",
        "http://0/",
        "http://0x7f.0.0.1/",
        "http://017700000001/",
        "http://[::1]/",
        "http://10.0.0.1/",
        "http://192.168.0.1/",
        "http://172.16.5.4/",
        "http://100.100.100.200/",
        "http://[fd00:ec2::254]/",
    ] {
        let started = Instant::now();
        let why = refused(f.fetch(url, Kind::Page).await);
        assert!(matches!(why, Refusal::Address { .. }), "{url}: {why}");
        assert!(
            started.elapsed() < Duration::from_millis(200),
            "{url} was refused without a connection attempt"
        );
    }
    for url in ["file:///etc/passwd", "ftp://example.vn/", "http://user:pw@example.vn/"] {
        refused(f.fetch(url, Kind::Page).await);
    }
}

#[tokio::test]
async fn the_server_fetches_only_allowlisted_origins() {
    let site = Site::start();
    site.html("/a", &article("Tiêu đề", &["Đoạn văn."]));
    let c = SourcesConfig { allow: vec!["*.langson.gov.vn".into()], ..Default::default() };
    let server = Fetcher::new(&c, true, None).unwrap();
    assert!(matches!(
        refused(server.fetch("https://example.com/", Kind::Page).await),
        Refusal::NotAllowed { .. }
    ));
    assert!(matches!(refused(server.fetch(&site.url("/a"), Kind::Page).await), Refusal::NotAllowed { .. }));
    let c = SourcesConfig { allow: vec![site.origin()], ..Default::default() };
    let server = Fetcher::new(&c, true, None).unwrap();
    assert!(server.fetch(&site.url("/a"), Kind::Page).await.is_ok());
}

#[tokio::test]
async fn redirects_are_checked_again_and_capped() {
    let site = Site::start();
    let other = Site::start();
    other.html("/secret", "<p>secret</p>");
    site.html("/ok", &article("Đích", &["Nội dung sau chuyển hướng."]));
    site.redirect("/to-ok", "/ok");
    site.redirect("/to-other-port", &other.url("/secret"));
    site.redirect("/to-localhost", &format!("http://localhost:{}/ok", site.addr.port()));
    site.redirect("/to-metadata", "http://169.254.169.254/latest/meta-data/");
    for i in 0..7 {
        site.redirect(&format!("/loop{i}"), &format!("/loop{}", i + 1));
    }
    let f = fetcher(&[site.origin()], |_| {});
    let page = f.fetch(&site.url("/to-ok"), Kind::Page).await.unwrap();
    assert_eq!(page.final_url, site.url("/ok"));
    for path in ["/to-other-port", "/to-localhost", "/to-metadata"] {
        refused(f.fetch(&site.url(path), Kind::Page).await);
    }
    assert_eq!(other.hits("/secret"), 0);
    match f.fetch(&site.url("/loop0"), Kind::Page).await {
        Err(FetchError::TooManyRedirects { .. }) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(site.hits("/loop6"), 0, "at most 5 redirects are followed");
}

#[tokio::test]
async fn oversized_slow_and_non_html_pages_stop_with_clear_errors() {
    let site = Site::start();
    site.page("/big", "text/html", vec![b'a'; 6 * 1024 * 1024]);
    site.endless("/chunked", 6 * 1024 * 1024);
    site.slow("/slow", Duration::from_millis(200), 100);
    site.page("/img", "image/png", b"\x89PNG....".to_vec());
    let f = fetcher(&[site.origin()], |_| {});
    for path in ["/big", "/chunked"] {
        match f.fetch(&site.url(path), Kind::Page).await {
            Err(e @ FetchError::TooLarge { .. }) => {
                assert!(e.to_string().contains("larger than 5242880 bytes"), "{e}")
            }
            other => panic!("{path}: {other:?}"),
        }
    }
    let quick = fetcher(&[site.origin()], |c| c.timeout_secs = 1);
    let started = Instant::now();
    match quick.fetch(&site.url("/slow"), Kind::Page).await {
        Err(e @ FetchError::Timeout { .. }) => assert!(e.to_string().contains("longer than 1 s"), "{e}"),
        other => panic!("{other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(3), "the time cap held: {:?}", started.elapsed());
    match f.fetch(&site.url("/img"), Kind::Page).await {
        Err(e @ FetchError::ContentType { .. }) => assert!(e.to_string().contains("image/png"), "{e}"),
        other => panic!("{other:?}"),
    }
    match f.fetch(&site.url("/missing"), Kind::Page).await {
        Err(FetchError::Status { status: 404, .. }) => {}
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn pages_are_cached_and_revalidated_after_the_ttl() {
    let site = Site::start();
    site.html("/a", &article("Một", &["Bản thứ nhất."]));
    let dir = tempfile::tempdir().unwrap();
    let c = SourcesConfig { allow: vec![site.origin()], page_ttl_secs: 3600, ..Default::default() };
    let fresh = Fetcher::new(&c, false, Some(dir.path())).unwrap();
    assert!(!fresh.fetch(&site.url("/a"), Kind::Page).await.unwrap().from_cache);
    assert!(fresh.fetch(&site.url("/a"), Kind::Page).await.unwrap().from_cache);
    assert_eq!(site.hits("/a"), 1, "within the TTL the site is not asked");

    let c = SourcesConfig { page_ttl_secs: 0, ..c };
    let stale = Fetcher::new(&c, false, Some(dir.path())).unwrap();
    let p = stale.fetch(&site.url("/a"), Kind::Page).await.unwrap();
    assert!(p.not_modified && p.from_cache, "revalidated with If-None-Match → 304");
    assert_eq!(site.hits("/a"), 2);
    site.html("/a", &article("Một", &["Bản thứ hai, đã sửa."]));
    let p = fetch_article(&stale, &site.url("/a")).await.unwrap();
    assert!(!p.from_cache);
    assert!(p.extracted.text.contains("Bản thứ hai"));
}

#[tokio::test]
async fn the_api_reads_allowlisted_urls_and_refuses_the_rest() {
    use crate::server_support::{Script, post_json, world};
    use serde_json::json;
    let site = Site::start();
    site.html(
        "/bai.html",
        &article("Tin địa phương", &["Xã tổ chức hội nghị tổng kết năm.", "Hội nghị thành công."]),
    );
    let origin = site.origin();
    let w = world(Script::default(), |c| c.sources.allow = vec![origin.clone()]);
    let state = w.state();
    let r = post_json(&state, "/v1/speech", json!({"url": site.url("/bai.html"), "response": "plan"})).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text());
    let texts: Vec<String> = r.json()["sentences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["text"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(texts, ["Tin địa phương", "Xã tổ chức hội nghị tổng kết năm.", "Hội nghị thành công."]);
    post_json(&state, "/v1/speech", json!({"url": site.url("/missing")}))
        .await
        .assert_error(502, "fetch_failed");
    post_json(&state, "/v1/speech", json!({"url": "https://example.com/"}))
        .await
        .assert_error(403, "url_not_allowed");
    post_json(&state, "/v1/speech", json!({"url": "ftp://x/"})).await.assert_error(400, "bad_url");
    post_json(&state, "/v1/speech", json!({"url": "u", "text": "t"})).await.assert_error(400, "bad_request");
    let n = post_json(&state, "/v1/normalize", json!({"url": site.url("/bai.html")})).await;
    assert_eq!(n.status.as_u16(), 200, "{}", n.text());
    // Without an allowlist the server fetches nothing, not even a public-looking name.
    let closed = world(Script::default(), |_| {}).state();
    post_json(&closed, "/v1/speech", json!({"url": site.url("/bai.html")}))
        .await
        .assert_error(403, "url_not_allowed");
}
