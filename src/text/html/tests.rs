//! Unit tests of the extractor: the policy on small pages. The page corpus
//! (`tests/pages`, `tests/it/pages.rs`) checks whole pages.

use super::*;

fn read(html: &str) -> String {
    html_to_text(html)
}

#[test]
fn reads_the_article_not_the_page() {
    let html = r#"<html><head><title>T</title><script>var x = "<p>no</p>";</script></head><body>
        <nav><a href="/">Trang chủ</a></nav>
        <article class="news-detail"><h1>Tiêu đề</h1><div class="meta"><time>21/01</time> Lượt xem</div>
        <p>&nbsp; Đoạn <b>một</b> &amp; hai.</p><figure><img alt="x"><figcaption>Ảnh: A&amp;B</figcaption></figure>
        <p>Đoạn ba<p>Đoạn bốn</article><footer>Điện thoại</footer></body></html>"#;
    assert_eq!(read(html), "Tiêu đề\n\nĐoạn một & hai.\n\nĐoạn ba\n\nĐoạn bốn");
}

#[test]
fn broken_markup_never_panics() {
    for s in ["", "<", "<p", "<<>>", "</>", "<p class='x>", "&#99999999;", "<script>", "<!-- x", "\u{0}"] {
        let _ = read(s);
    }
    assert_eq!(read("<p>Không có thẻ article</p><p>Hai</p>"), "Không có thẻ article\n\nHai");
}

#[test]
fn skipped_parts_carry_their_reason() {
    let html = r##"<body><div class="article-content"><p>Một đoạn văn đủ dài để là thân bài của bài viết này.</p>
        <div class="box-related-news"><a href="#">Tin khác</a></div><p style="display:none">ẩn</p>
        <p>Lượt xem: 12</p></div><div class="footer">chân trang</div></body>"##;
    let e = extract(html, &Options::default());
    assert_eq!(e.found, Found::Hints);
    let reasons: Vec<(SkipReason, &str)> = e.skipped.iter().map(|s| (s.reason, s.text.as_str())).collect();
    assert!(reasons.contains(&(SkipReason::Class, "Tin khác")), "{reasons:?}");
    assert!(reasons.contains(&(SkipReason::Hidden, "ẩn")), "{reasons:?}");
    assert!(reasons.contains(&(SkipReason::LabelLine, "Lượt xem: 12")), "{reasons:?}");
    assert!(reasons.contains(&(SkipReason::Outside, "chân trang")), "{reasons:?}");
}

#[test]
fn site_rules_pick_body_and_skips_by_host() {
    let mut sites = BTreeMap::new();
    sites.insert(
        "*.langson.gov.vn".to_string(),
        SiteRules { body: Some(".bai".into()), skip: vec![".ghi".into()] },
    );
    let html = r#"<div class="tieude">Không</div><div class="bai"><p>Có đọc.</p><p class="ghi">Không đọc.</p></div>"#;
    let opts = Options { url: Some("https://vanlang.langson.gov.vn/a".into()), sites, site: None };
    let e = extract(html, &opts);
    assert_eq!((e.text.as_str(), e.found), ("Có đọc.", Found::Site));
    let bad =
        Options { site: Some(SiteRules { body: Some("[[".into()), skip: vec![] }), ..Default::default() };
    assert!(extract(html, &bad).warnings.iter().any(|w| w.contains("bad CSS selector")));
    assert_eq!(url_host("https://User@Example.VN:8443/x?y"), Some("example.vn".into()));
    assert_eq!(url_host("http://[::1]:80/"), Some("::1".into()));
}

#[test]
fn deep_nesting_neither_overflows_nor_loses_text() {
    let deep = format!(
        "<div class=noidung>{}Sâu lắm.{}</div>",
        "<div><span>".repeat(50_000),
        "</span></div>".repeat(50_000)
    );
    assert_eq!(read(&deep), "Sâu lắm.");
}
