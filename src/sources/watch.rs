//! The feed watcher of `loa serve`: every `[sources] poll_minutes` it reads
//! each feed of `[sources] feeds`, fetches the articles they list
//! (revalidating cached pages with ETag/Last-Modified) and pre-generates
//! their audio with the default voice as MP3, the format the widget asks
//! for. A new article is ready within one poll; a changed one is planned
//! again, and only its changed sentences are synthesized. The watcher
//! fetches only allowlisted origins, plus the feeds' own.

use std::collections::HashMap;
use std::time::Duration;

use crate::audio::Format;
use crate::config::Config;
use crate::fetch::Fetcher;
use crate::pipeline::Engine;

/// Articles read per feed and poll, newest first.
pub const MAX_PER_FEED: usize = 50;

/// What one poll did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PollReport {
    pub new: usize,
    pub changed: usize,
    pub unchanged: usize,
    pub failed: usize,
}

pub struct Watcher {
    feeds: Vec<String>,
    fetcher: Fetcher,
    engine: Engine,
    /// URL → key of the article as last generated.
    seen: HashMap<String, String>,
    pub interval: Duration,
}

impl Watcher {
    /// A watcher for `config`'s feeds, or `None` when there are none.
    pub fn new(config: &Config, engine: Engine) -> Result<Option<Watcher>, crate::fetch::FetchError> {
        let s = &config.sources;
        if s.feeds.is_empty() {
            return Ok(None);
        }
        let interval = Duration::from_secs_f64((s.poll_minutes * 60.0).max(0.1));
        let mut sources = s.clone();
        for f in &s.feeds {
            if let Ok(u) = url::Url::parse(f) {
                sources.allow.push(u.origin().ascii_serialization());
            }
        }
        // A changed article must be seen within one poll.
        sources.page_ttl_secs = sources.page_ttl_secs.min(interval.as_secs());
        let fetcher = Fetcher::new(&sources, true, Some(&config.cache.dir.join("pages")))?;
        Ok(Some(Watcher { feeds: s.feeds.clone(), fetcher, engine, seen: HashMap::new(), interval }))
    }

    /// Read every feed once and pre-generate what is new or changed.
    pub async fn poll(&mut self) -> PollReport {
        let mut report = PollReport::default();
        for feed in self.feeds.clone() {
            let listed = match super::feed(&self.fetcher, &feed).await {
                Ok(l) => super::select(l, None, Some(MAX_PER_FEED)),
                Err(e) => {
                    tracing::warn!(feed = %feed, "cannot read the feed: {e}");
                    report.failed += 1;
                    continue;
                }
            };
            for item in listed {
                match self.generate(&item.url).await {
                    Ok(Some(true)) => report.new += 1,
                    Ok(Some(false)) => report.changed += 1,
                    Ok(None) => report.unchanged += 1,
                    Err(e) => {
                        tracing::warn!(url = %item.url, "cannot pre-generate: {e}");
                        report.failed += 1;
                    }
                }
            }
        }
        report
    }

    /// `Some(true)` for a new article, `Some(false)` for a changed one,
    /// `None` when it is as it was.
    async fn generate(&mut self, url: &str) -> Result<Option<bool>, String> {
        let article = crate::fetch::fetch_article(&self.fetcher, url).await.map_err(|e| e.to_string())?;
        let plan = self.engine.plan(&article.extracted.text, None, Format::Mp3).map_err(|e| e.to_string())?;
        let before = self.seen.get(url).cloned();
        let key = plan.key().to_string();
        if before.as_deref() == Some(key.as_str()) {
            return Ok(None);
        }
        let job = crate::pipeline::Job::pregenerate();
        let rendered = self.engine.render(&plan, &job).await.map_err(|e| e.to_string())?;
        tracing::info!(url, key = %key, synthesized = rendered.synthesized, "pre-generated");
        self.seen.insert(url.to_string(), key);
        Ok(Some(before.is_none()))
    }
}

/// Start the watcher on the current runtime when feeds are configured.
pub fn spawn(config: &Config, engine: Engine) -> Option<tokio::task::JoinHandle<()>> {
    let mut watcher = match Watcher::new(config, engine) {
        Ok(Some(w)) => w,
        Ok(None) => return None,
        Err(e) => {
            tracing::error!("the feed watcher cannot start: {e}");
            return None;
        }
    };
    Some(tokio::spawn(async move {
        loop {
            let r = watcher.poll().await;
            tracing::info!(
                new = r.new,
                changed = r.changed,
                unchanged = r.unchanged,
                failed = r.failed,
                "feeds polled"
            );
            tokio::time::sleep(watcher.interval).await;
        }
    }))
}
