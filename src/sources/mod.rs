//! Where articles come from besides files: RSS 2.0 / Atom feeds (parsed
//! with feed-rs) and XML sitemaps (`urlset` and `sitemapindex`, gzip too),
//! turned into article URLs with dates; and [`watch`], the feed watcher of
//! `loa serve` that pre-generates new and changed articles.

pub mod watch;

use std::io::Read;

use chrono::{DateTime, NaiveDate, Utc};

use crate::fetch::{FetchError, Fetcher, Kind};

/// Sitemaps of an index read at most (each one fetched).
pub const MAX_CHILD_SITEMAPS: usize = 50;
/// A gzip sitemap expands to at most this many bytes.
pub const MAX_SITEMAP_BYTES: u64 = 50 * 1024 * 1024;

/// An article a feed or sitemap lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub url: String,
    pub title: Option<String>,
    /// Published, else updated (feeds) or `lastmod` (sitemaps).
    pub date: Option<DateTime<Utc>>,
}

/// Errors reading a feed or sitemap.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error("{url} is not an RSS or Atom feed: {message}")]
    Feed { url: String, message: String },
    #[error("{url} is not a sitemap: {message}")]
    Sitemap { url: String, message: String },
}

/// The articles of an RSS or Atom document, in feed order.
pub fn parse_feed(bytes: &[u8], url: &str) -> Result<Vec<Listed>, SourceError> {
    let feed = feed_rs::parser::parse(bytes)
        .map_err(|e| SourceError::Feed { url: url.into(), message: e.to_string() })?;
    Ok(feed
        .entries
        .into_iter()
        .filter_map(|e| {
            let link = e
                .links
                .iter()
                .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
                .or_else(|| e.links.first())?;
            let href = resolve(url, link.href.trim())?;
            Some(Listed { url: href, title: e.title.map(|t| t.content), date: e.published.or(e.updated) })
        })
        .collect())
}

fn resolve(base: &str, href: &str) -> Option<String> {
    let base = url::Url::parse(base).ok()?;
    base.join(href).ok().map(|u| u.to_string())
}

/// What a sitemap document lists.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Sitemap {
    pub urls: Vec<Listed>,
    /// Child sitemaps (a `sitemapindex`).
    pub sitemaps: Vec<String>,
}

/// Parse a sitemap (`urlset` or `sitemapindex`), gzipped or not.
pub fn parse_sitemap(bytes: &[u8], url: &str) -> Result<Sitemap, SourceError> {
    let err = |message: String| SourceError::Sitemap { url: url.into(), message };
    let unzipped;
    let xml: &[u8] = if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(bytes)
            .take(MAX_SITEMAP_BYTES + 1)
            .read_to_end(&mut out)
            .map_err(|e| err(format!("bad gzip data: {e}")))?;
        if out.len() as u64 > MAX_SITEMAP_BYTES {
            return Err(err(format!("it expands to more than {MAX_SITEMAP_BYTES} bytes")));
        }
        unzipped = out;
        &unzipped
    } else {
        bytes
    };
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut buf = Vec::new();
    let (mut root, mut field, mut loc, mut lastmod) =
        (None::<String>, None::<String>, None::<String>, None::<String>);
    let mut out = Sitemap::default();
    loop {
        match reader.read_event_into(&mut buf).map_err(|e| err(e.to_string()))? {
            Event::Start(e) => {
                let name = e.local_name().as_ref().to_ascii_lowercase();
                if root.is_none() {
                    if name != "urlset" && name != "sitemapindex" {
                        return Err(err(format!(
                            "the root element is <{name}>, not <urlset> or <sitemapindex>"
                        )));
                    }
                    root = Some(name);
                } else if name == "url" || name == "sitemap" {
                    (loc, lastmod) = (None, None);
                } else {
                    field = Some(name);
                }
            }
            Event::Text(t) if field.is_some() => add_text(&field, &mut loc, &mut lastmod, &t),
            Event::CData(t) if field.is_some() => add_text(&field, &mut loc, &mut lastmod, &t),
            Event::GeneralRef(r) if field.is_some() => {
                let c = match r.resolve_char_ref() {
                    Ok(Some(c)) => Some(c),
                    _ => match &*r {
                        "amp" => Some('&'),
                        "lt" => Some('<'),
                        "gt" => Some('>'),
                        "quot" => Some('"'),
                        "apos" => Some('\''),
                        _ => None,
                    },
                };
                if let Some(c) = c {
                    add_text(&field, &mut loc, &mut lastmod, c.encode_utf8(&mut [0; 4]));
                }
            }
            Event::End(e) => {
                let name = e.local_name().as_ref().to_ascii_lowercase();
                field = None;
                if name != "url" && name != "sitemap" {
                    continue;
                }
                let Some(l) = loc.take().and_then(|l| resolve(url, l.trim())) else { continue };
                match name.as_str() {
                    "url" => out.urls.push(Listed {
                        url: l,
                        title: None,
                        date: lastmod.take().and_then(|d| parse_date(&d)),
                    }),
                    _ => out.sitemaps.push(l),
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if root.is_none() {
        return Err(err("no <urlset> or <sitemapindex>".into()));
    }
    Ok(out)
}

fn add_text(field: &Option<String>, loc: &mut Option<String>, lastmod: &mut Option<String>, text: &str) {
    let slot = match field.as_deref() {
        Some("loc") => loc,
        Some("lastmod") => lastmod,
        _ => return,
    };
    slot.get_or_insert_with(String::new).push_str(text);
}

/// `2024-05-01`, or RFC 3339 (`2024-05-01T08:00:00+07:00`).
pub fn parse_date(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(s.get(..10).unwrap_or(s), "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc())
}

/// The articles of the feed at `url`.
pub async fn feed(fetcher: &Fetcher, url: &str) -> Result<Vec<Listed>, SourceError> {
    let page = fetcher.fetch(url, Kind::Feed).await?;
    parse_feed(&page.body, &page.final_url)
}

/// The articles of the sitemap at `url`, following one level of index.
pub async fn sitemap(fetcher: &Fetcher, url: &str) -> Result<Vec<Listed>, SourceError> {
    let page = fetcher.fetch(url, Kind::Sitemap).await?;
    let top = parse_sitemap(&page.body, &page.final_url)?;
    let mut urls = top.urls;
    for child in top.sitemaps.iter().take(MAX_CHILD_SITEMAPS) {
        let page = fetcher.fetch(child, Kind::Sitemap).await?;
        urls.extend(parse_sitemap(&page.body, &page.final_url)?.urls);
    }
    Ok(urls)
}

/// Keep articles dated on or after `since` (undated ones are kept), newest
/// first, each URL once, at most `limit`.
pub fn select(mut listed: Vec<Listed>, since: Option<DateTime<Utc>>, limit: Option<usize>) -> Vec<Listed> {
    listed.retain(|l| since.is_none_or(|s| l.date.is_none_or(|d| d >= s)));
    listed.sort_by_key(|l| std::cmp::Reverse(l.date));
    let mut seen = std::collections::HashSet::new();
    listed.retain(|l| seen.insert(l.url.clone()));
    if let Some(n) = limit {
        listed.truncate(n);
    }
    listed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rss_and_atom() {
        let rss = r#"<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Tin</title>
            <item><title>Một</title><link>https://a.vn/1.html</link><pubDate>Wed, 01 May 2024 08:00:00 +0700</pubDate></item>
            <item><title>Hai</title><link>/2.html</link></item></channel></rss>"#;
        let l = parse_feed(rss.as_bytes(), "https://a.vn/rss").unwrap();
        assert_eq!(l.len(), 2);
        assert_eq!(l[1].url, "https://a.vn/2.html");
        assert_eq!(l[0].date, parse_date("2024-05-01T01:00:00Z"));
        let atom = br#"<feed xmlns="http://www.w3.org/2005/Atom"><title>x</title><id>x</id><updated>2024-05-02T00:00:00Z</updated>
            <entry><title>Ba</title><id>3</id><link rel="alternate" href="https://a.vn/3"/><updated>2024-05-02T00:00:00Z</updated></entry></feed>"#;
        assert_eq!(parse_feed(atom, "https://a.vn/atom").unwrap()[0].url, "https://a.vn/3");
        assert!(parse_feed(b"<html><body>no</body></html>", "u").is_err());
    }

    #[test]
    fn sitemaps_plain_gzip_and_index() {
        let set = br#"<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
            <url><loc>https://a.vn/1?a=1&amp;b=2</loc><lastmod>2024-05-01</lastmod></url><url><loc> https://a.vn/2 </loc></url></urlset>"#;
        let s = parse_sitemap(set, "https://a.vn/sitemap.xml").unwrap();
        assert_eq!(
            s.urls.iter().map(|l| l.url.as_str()).collect::<Vec<_>>(),
            ["https://a.vn/1?a=1&b=2", "https://a.vn/2"]
        );
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, set).unwrap();
        assert_eq!(parse_sitemap(&gz.finish().unwrap(), "https://a.vn/s.xml.gz").unwrap().urls.len(), 2);
        let idx = br#"<sitemapindex><sitemap><loc>https://a.vn/s1.xml</loc></sitemap></sitemapindex>"#;
        assert_eq!(parse_sitemap(idx, "https://a.vn/i.xml").unwrap().sitemaps, ["https://a.vn/s1.xml"]);
        assert!(parse_sitemap(b"<html></html>", "u").is_err());
    }

    #[test]
    fn select_filters_sorts_dedupes_and_limits() {
        let l =
            |u: &str, d: Option<&str>| Listed { url: u.into(), title: None, date: d.and_then(parse_date) };
        let all = vec![
            l("a", Some("2024-01-01")),
            l("b", Some("2024-03-01")),
            l("c", None),
            l("b", Some("2024-03-01")),
        ];
        let got = select(all, parse_date("2024-02-01"), Some(2));
        assert_eq!(got.iter().map(|x| x.url.as_str()).collect::<Vec<_>>(), ["b", "c"]);
    }
}
