//! Fetching pages, feeds and sitemaps by URL, safely.
//!
//! One [`Fetcher`] (reqwest with rustls) applies every rule of
//! [`policy`]: http(s) only, the allowlist (the server fetches only
//! allowlisted origins, the CLI any public address), no private or
//! otherwise non-public address unless the allowlist names it, names
//! resolved through [`policy::SafeResolver`] so the connection goes to
//! the address that was checked, at most [`MAX_REDIRECTS`] redirects each
//! checked again, a size cap, a time cap for the whole fetch, only the
//! content types asked for, and a user agent that says who is asking.
//!
//! Pages are cached by URL ([`cache`]) and revalidated with ETag /
//! Last-Modified once older than the TTL, so a changed article is read
//! again (and only its changed sentences synthesized again).

pub mod cache;
pub mod policy;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED, LOCATION};
use serde::{Deserialize, Serialize};
use url::Url;

pub use policy::{Allowlist, Policy, Refusal};

use crate::text::html::{self, Extracted, SiteRules};

/// Redirects followed at most.
pub const MAX_REDIRECTS: usize = 5;

/// What loa says it is.
pub const USER_AGENT: &str =
    concat!("loa/", env!("CARGO_PKG_VERSION"), " (reads Vietnamese articles aloud; text-to-speech)");

/// The `[sources]` section of the config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SourcesConfig {
    /// Origins, hosts or `*.host` patterns the server may fetch (the CLI
    /// may fetch any public address; a private one must be named here).
    pub allow: Vec<String>,
    /// RSS/Atom feeds `loa serve` watches and pre-generates.
    pub feeds: Vec<String>,
    /// Minutes between two polls of the feeds.
    pub poll_minutes: f64,
    /// Seconds a fetched page is used before it is revalidated.
    pub page_ttl_secs: u64,
    /// Largest page, feed or sitemap, in bytes.
    pub max_page_bytes: usize,
    /// Seconds one fetch may take, redirects and body included.
    pub timeout_secs: u64,
    /// Fetches at once to one host (`loa generate`, the feed watcher).
    pub per_host: usize,
    /// Per-site CSS selectors: `[sources.sites."example.vn"] body = "…", skip = ["…"]`.
    pub sites: BTreeMap<String, SiteRules>,
}

impl Default for SourcesConfig {
    fn default() -> Self {
        SourcesConfig {
            allow: Vec::new(),
            feeds: Vec::new(),
            poll_minutes: 10.0,
            page_ttl_secs: 600,
            max_page_bytes: 5 * 1024 * 1024,
            timeout_secs: 20,
            per_host: 2,
            sites: BTreeMap::new(),
        }
    }
}

impl SourcesConfig {
    /// Settings that make no sense, as a message.
    pub fn check(&self) -> Result<(), String> {
        Allowlist::parse(&self.allow)?;
        if !(self.poll_minutes.is_finite() && self.poll_minutes > 0.0) {
            return Err("sources.poll_minutes must be a positive number".into());
        }
        if self.max_page_bytes == 0 || self.timeout_secs == 0 || self.per_host == 0 {
            return Err("sources.max_page_bytes, timeout_secs and per_host must be at least 1".into());
        }
        Ok(())
    }
}

/// Why a fetch failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("refused: {0}")]
    Refused(#[from] Refusal),
    #[error("cannot fetch {url}: {message}")]
    Http { url: String, message: String },
    #[error("{url} answered {status}")]
    Status { url: String, status: u16 },
    #[error("{url} is larger than {max} bytes")]
    TooLarge { url: String, max: usize },
    #[error("{url} took longer than {secs} s")]
    Timeout { url: String, secs: u64 },
    #[error("{url} redirects more than {MAX_REDIRECTS} times")]
    TooManyRedirects { url: String },
    #[error("{url} is not {wanted} (Content-Type: {content_type})")]
    ContentType { url: String, wanted: &'static str, content_type: String },
    #[error("bad sources configuration: {0}")]
    Config(String),
}

impl FetchError {
    /// True when the request itself was refused (HTTP 403), not a failure
    /// of the remote site (502).
    pub fn is_refusal(&self) -> bool {
        matches!(self, FetchError::Refused(_))
    }
}

/// What is being fetched: it decides the accepted content types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Page,
    Feed,
    Sitemap,
}

impl Kind {
    fn wanted(self) -> &'static str {
        match self {
            Kind::Page => "an HTML page",
            Kind::Feed => "an RSS or Atom feed",
            Kind::Sitemap => "a sitemap",
        }
    }

    fn accept(self) -> &'static str {
        match self {
            Kind::Page => "text/html,application/xhtml+xml;q=0.9",
            Kind::Feed => "application/rss+xml,application/atom+xml,application/xml;q=0.9,text/xml;q=0.8",
            Kind::Sitemap => "application/xml,text/xml;q=0.9,application/gzip;q=0.8",
        }
    }

    /// Is a response of `content_type` (and these first bytes) acceptable?
    fn accepts(self, content_type: Option<&str>, body_start: &[u8]) -> bool {
        let mime = content_type.map(|c| c.split(';').next().unwrap_or("").trim().to_ascii_lowercase());
        let sniff = String::from_utf8_lossy(&body_start[..body_start.len().min(512)]).to_ascii_lowercase();
        let looks_html = sniff.trim_start().starts_with("<!doctype html") || sniff.contains("<html");
        let looks_xml = sniff.trim_start_matches('\u{feff}').trim_start().starts_with('<');
        let gz = body_start.starts_with(&[0x1f, 0x8b]);
        match (self, mime.as_deref()) {
            (Kind::Page, Some("text/html" | "application/xhtml+xml")) => true,
            (Kind::Page, None | Some("")) => looks_html,
            (Kind::Feed | Kind::Sitemap, Some(m)) if m.ends_with("xml") => true,
            (Kind::Feed | Kind::Sitemap, Some("text/plain" | "text/html") | None | Some("")) => {
                looks_xml && !looks_html
            }
            (Kind::Sitemap, Some("application/gzip" | "application/x-gzip" | "application/octet-stream")) => {
                gz
            }
            _ => false,
        }
    }
}

/// A fetched response.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The URL asked for.
    pub url: String,
    /// Where it was found, after redirects.
    pub final_url: String,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
    /// Served from the page cache without asking the site.
    pub from_cache: bool,
    /// The site answered 304 Not Modified.
    pub not_modified: bool,
}

/// An article read from a URL.
#[derive(Debug, Clone)]
pub struct Article {
    pub url: String,
    pub final_url: String,
    pub from_cache: bool,
    pub extracted: Extracted,
}

/// The one HTTP client for pages, feeds and sitemaps.
#[derive(Debug, Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    policy: Policy,
    max_bytes: usize,
    timeout: Duration,
    ttl: Duration,
    cache: Option<cache::PageCache>,
    sites: BTreeMap<String, SiteRules>,
}

impl Fetcher {
    /// A fetcher with `config`'s rules; `allowlisted_only` for the server;
    /// pages cached under `cache_dir` when given. `LOA_SOURCES_ALLOW` has
    /// already been merged into `config.allow` by the config loader.
    pub fn new(
        config: &SourcesConfig,
        allowlisted_only: bool,
        cache_dir: Option<&Path>,
    ) -> Result<Fetcher, FetchError> {
        config.check().map_err(FetchError::Config)?;
        let allow = Allowlist::parse(&config.allow).map_err(FetchError::Config)?;
        let timeout = Duration::from_secs(config.timeout_secs);
        let client = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(policy::resolver())
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .timeout(timeout)
            .build()
            .map_err(|e| FetchError::Config(format!("cannot build the HTTP client: {e}")))?;
        Ok(Fetcher {
            client,
            policy: Policy { allow, allowlisted_only },
            max_bytes: config.max_page_bytes,
            timeout,
            ttl: Duration::from_secs(config.page_ttl_secs),
            cache: cache_dir.map(cache::PageCache::new),
            sites: config.sites.clone(),
        })
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Check a URL without fetching it.
    pub fn check(&self, url: &str) -> Result<Url, FetchError> {
        Ok(self.policy.check(url)?)
    }

    /// Fetch `url` as `kind`. Pages go through the cache: fresh entries are
    /// served as they are, stale ones revalidated.
    pub async fn fetch(&self, url: &str, kind: Kind) -> Result<Fetched, FetchError> {
        let checked = self.policy.check(url)?;
        let cached = if kind == Kind::Page {
            self.cache.as_ref().and_then(|c| c.load(checked.as_str()))
        } else {
            None
        };
        if let Some(e) = &cached
            && e.age() < self.ttl
        {
            return Ok(Fetched {
                url: url.to_string(),
                final_url: e.meta.final_url.clone(),
                content_type: e.meta.content_type.clone(),
                body: e.body.clone(),
                from_cache: true,
                not_modified: false,
            });
        }
        let secs = self.timeout.as_secs();
        let work = self.fetch_uncached(checked, kind, cached.as_ref());
        match tokio::time::timeout(self.timeout, work).await {
            Ok(r) => r,
            Err(_) => Err(FetchError::Timeout { url: url.to_string(), secs }),
        }
    }

    async fn fetch_uncached(
        &self,
        start: Url,
        kind: Kind,
        cached: Option<&cache::Entry>,
    ) -> Result<Fetched, FetchError> {
        let asked = start.to_string();
        let mut url = start;
        for _ in 0..=MAX_REDIRECTS {
            let mut req = self.client.get(url.clone()).header(reqwest::header::ACCEPT, kind.accept());
            if let Some(e) = cached {
                if let Some(tag) = &e.meta.etag {
                    req = req.header(IF_NONE_MATCH, tag);
                }
                if let Some(lm) = &e.meta.last_modified {
                    req = req.header(IF_MODIFIED_SINCE, lm);
                }
            }
            let resp = req.send().await.map_err(|e| self.http_error(&url, e))?;
            let status = resp.status();
            if status.is_redirection() && status != StatusCode::NOT_MODIFIED {
                let loc = resp.headers().get(LOCATION).and_then(|v| v.to_str().ok()).ok_or_else(|| {
                    FetchError::Http { url: url.to_string(), message: format!("{status} without a Location") }
                })?;
                let next = url.join(loc).map_err(|_| Refusal::BadUrl(loc.to_string()))?;
                url = self.policy.check(next.as_str())?;
                continue;
            }
            if status == StatusCode::NOT_MODIFIED
                && let Some(e) = cached
            {
                let mut meta = e.meta.clone();
                meta.fetched_at = cache::now();
                self.store(&meta, &e.body);
                return Ok(Fetched {
                    url: asked,
                    final_url: meta.final_url,
                    content_type: meta.content_type,
                    body: e.body.clone(),
                    from_cache: true,
                    not_modified: true,
                });
            }
            if !status.is_success() {
                return Err(FetchError::Status { url: url.to_string(), status: status.as_u16() });
            }
            let header = |name| {
                resp.headers()
                    .get(name)
                    .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
                    .map(str::to_string)
            };
            let (content_type, etag, last_modified) =
                (header(CONTENT_TYPE), header(ETAG), header(LAST_MODIFIED));
            if resp.content_length().is_some_and(|n| n > self.max_bytes as u64) {
                return Err(FetchError::TooLarge { url: url.to_string(), max: self.max_bytes });
            }
            let body = self.read_body(&url, resp).await?;
            if !kind.accepts(content_type.as_deref(), &body) {
                return Err(FetchError::ContentType {
                    url: url.to_string(),
                    wanted: kind.wanted(),
                    content_type: content_type.unwrap_or_else(|| "none".into()),
                });
            }
            if kind == Kind::Page {
                let meta = cache::Meta {
                    url: asked.clone(),
                    final_url: url.to_string(),
                    content_type: content_type.clone(),
                    etag,
                    last_modified,
                    fetched_at: cache::now(),
                };
                self.store(&meta, &body);
            }
            return Ok(Fetched {
                url: asked,
                final_url: url.to_string(),
                content_type,
                body,
                from_cache: false,
                not_modified: false,
            });
        }
        Err(FetchError::TooManyRedirects { url: asked })
    }

    fn store(&self, meta: &cache::Meta, body: &[u8]) {
        if let Some(c) = &self.cache
            && let Err(e) = c.store(meta, body)
        {
            tracing::warn!(url = %meta.url, "cannot cache the page: {e}");
        }
    }

    async fn read_body(&self, url: &Url, mut resp: reqwest::Response) -> Result<Vec<u8>, FetchError> {
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| self.http_error(url, e))? {
            if body.len() + chunk.len() > self.max_bytes {
                return Err(FetchError::TooLarge { url: url.to_string(), max: self.max_bytes });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    fn http_error(&self, url: &Url, e: reqwest::Error) -> FetchError {
        // The resolver's refusal travels inside reqwest's error.
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
        while let Some(s) = source {
            if let Some(r) = s.downcast_ref::<Refusal>() {
                return FetchError::Refused(r.clone());
            }
            source = s.source();
        }
        if e.is_timeout() {
            return FetchError::Timeout { url: url.to_string(), secs: self.timeout.as_secs() };
        }
        let mut message = e.to_string();
        let mut s = std::error::Error::source(&e);
        while let Some(inner) = s {
            message = format!("{message}: {inner}");
            s = inner.source();
        }
        FetchError::Http { url: url.to_string(), message }
    }

    /// Rules for a page at `url` from `[sources.sites]`.
    pub fn extract_options(&self, url: &str) -> html::Options {
        html::Options { url: Some(url.to_string()), site: None, sites: self.sites.clone() }
    }
}

/// Fetch `url` and read its article. Parsing runs on a blocking thread,
/// never on an async worker.
pub async fn fetch_article(fetcher: &Fetcher, url: &str) -> Result<Article, FetchError> {
    let page = fetcher.fetch(url, Kind::Page).await?;
    let opts = fetcher.extract_options(&page.final_url);
    let (body, ct) = (page.body, page.content_type.clone());
    let extracted =
        tokio::task::spawn_blocking(move || html::extract_bytes(&body, ct.as_deref(), &opts)).await.map_err(
            |e| FetchError::Http { url: url.to_string(), message: format!("reading the page failed: {e}") },
        )?;
    Ok(Article { url: page.url, final_url: page.final_url, from_cache: page.from_cache, extracted })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_per_kind() {
        assert!(Kind::Page.accepts(Some("text/html; charset=utf-8"), b""));
        assert!(Kind::Page.accepts(None, b"<!DOCTYPE html><html>"));
        assert!(!Kind::Page.accepts(Some("image/png"), b"\x89PNG"));
        assert!(!Kind::Page.accepts(Some("application/json"), b"{}"));
        assert!(Kind::Feed.accepts(Some("application/rss+xml"), b"<rss>"));
        assert!(Kind::Feed.accepts(Some("text/plain"), b"<?xml version='1.0'?><rss>"));
        assert!(!Kind::Feed.accepts(Some("text/html"), b"<html><body>"));
        assert!(Kind::Sitemap.accepts(Some("application/x-gzip"), &[0x1f, 0x8b, 8]));
        assert!(!Kind::Sitemap.accepts(Some("application/octet-stream"), b"MZ"));
    }

    #[test]
    fn bad_config_is_refused() {
        let mut c = SourcesConfig { allow: vec!["ftp://x".into()], ..Default::default() };
        assert!(matches!(Fetcher::new(&c, true, None), Err(FetchError::Config(_))));
        c.allow.clear();
        c.poll_minutes = 0.0;
        assert!(c.check().is_err());
    }
}
