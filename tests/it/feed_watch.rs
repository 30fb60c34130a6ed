//! The feed watcher of `loa serve` against a local site: the first poll
//! pre-generates every article, the next finds nothing to do, a changed
//! article is planned again with only its changed sentence synthesized,
//! and a running watcher picks up a new article within one poll.

use std::time::{Duration, Instant};

use loa::sources::watch::{PollReport, Watcher};

use crate::server_support::{Script, world};
use crate::site_support::{Site, article};

fn feed(site: &Site, n: usize) {
    let items: String = (1..=n)
        .map(|i| {
            format!("<item><title>Bài {i}</title><link>{}</link></item>", site.url(&format!("/bai-{i}.html")))
        })
        .collect();
    site.page(
        "/rss",
        "application/rss+xml",
        format!("<rss version=\"2.0\"><channel><title>T</title>{items}</channel></rss>").into_bytes(),
    );
}

fn publish(site: &Site, i: usize, second: &str) {
    site.html(
        &format!("/bai-{i}.html"),
        &article(&format!("Tin số {i}"), &[&format!("Câu đầu của tin số {i}."), second]),
    );
}

#[tokio::test]
async fn new_and_changed_articles_are_pregenerated() {
    let site = Site::start();
    for i in 1..=3 {
        publish(&site, i, &format!("Câu sau của tin số {i}."));
    }
    feed(&site, 3);
    let w = world(Script::default(), |c| {
        c.sources.feeds = vec![site.url("/rss")];
        c.sources.poll_minutes = 0.005;
    });
    let engine = w.engine();
    let mut watcher = Watcher::new(&w.config, engine.clone()).unwrap().expect("feeds are configured");
    assert_eq!(watcher.poll().await, PollReport { new: 3, ..Default::default() });
    let runs = w.runs();
    assert_eq!(runs, 9, "three sentences per article");
    assert_eq!(watcher.poll().await, PollReport { unchanged: 3, ..Default::default() });
    assert_eq!(w.runs(), runs);
    publish(&site, 2, "Câu sau của tin số 2 đã được cập nhật.");
    assert_eq!(watcher.poll().await, PollReport { changed: 1, unchanged: 2, ..Default::default() });
    assert_eq!(w.runs(), runs + 1, "only the changed sentence");

    // Running: a fourth article appears in the feed and is ready within a poll or two.
    let handle = loa::sources::watch::spawn(&w.config, engine).expect("spawned");
    publish(&site, 4, "Câu sau của tin số 4.");
    feed(&site, 4);
    let deadline = Instant::now() + Duration::from_secs(30);
    let target = runs + 1 + 3;
    while w.runs() < target && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    handle.abort();
    assert_eq!(
        w.runs(),
        target,
        "the new article's three sentences were synthesized (the rest came from the cache)"
    );
}
