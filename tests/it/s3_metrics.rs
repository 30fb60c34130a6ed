//! `/metrics` per cache tier on Garage: two `loa serve` processes on one
//! bucket, each with its own local tier. A sentence one of them made is a
//! local hit there; on the other it is a local miss and a store hit (with
//! its bytes), then a local hit once the tier holds its copy.

use serde_json::{Value, json};

use crate::s3_support::*;
use crate::server_support::{Script, world};

/// The value of the series `series` (name and labels, as exported), if shown.
fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics.lines().find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.trim().parse().ok())
}

/// `loa_cache_lookups_total` of `tier` for on-demand audio with `result`.
fn lookups(metrics: &str, tier: &str, result: &str) -> f64 {
    let series =
        format!("loa_cache_lookups_total{{tier=\"{tier}\",class=\"on_demand\",result=\"{result}\"}}");
    sample(metrics, &series).unwrap_or(0.0)
}

fn hit_bytes(metrics: &str, tier: &str) -> f64 {
    let series = format!("loa_cache_hit_bytes_total{{tier=\"{tier}\",class=\"on_demand\"}}");
    sample(metrics, &series).unwrap_or(0.0)
}

async fn text(http: &reqwest::Client, url: &str) -> String {
    let r = http.get(url).send().await.unwrap_or_else(|e| panic!("GET {url}: {e}"));
    assert_eq!(r.status(), 200, "{url}");
    r.text().await.unwrap()
}

async fn body(http: &reqwest::Client, url: &str) -> Vec<u8> {
    let r = http.get(url).send().await.unwrap_or_else(|e| panic!("GET {url}: {e}"));
    assert_eq!(r.status(), 200, "{url}");
    r.bytes().await.unwrap().to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_lookups_hits_and_bytes_per_tier() {
    let Some(g) = shared("metrics_count_lookups_hits_and_bytes_per_tier") else { return };
    let w = world(Script::default(), |_| {});
    let store = g.url("tiers");
    let a = serve(&w, &store, &w.dir.path().join("a"), &g.env_for(0));
    let b = serve(&w, &store, &w.dir.path().join("b"), &g.env_for(0));
    let http = http();

    let r = http.post(a.url("/v1/speech")).json(&json!({"text": "Xin chào.", "response": "plan"}));
    let plan: Value = r.send().await.unwrap().json().await.unwrap();
    let url = plan["sentences"][0]["url"].as_str().expect("a sentence URL").to_string();
    let audio = plan["audio_url"].as_str().expect("the article's URL").to_string();

    // Made on A (a miss in both tiers, then written through), then read
    // there: local hits, and the store never has to answer for it. The plan
    // started the article's render in the background, so it is waited for
    // and the counts compared from then on: a read racing a write-through
    // (the store is written before the local tier) may rightly be a store
    // hit, as the polls for the article can be.
    eventually(30, "A's render of the article", async || {
        http.get(a.url(&audio)).send().await.is_ok_and(|r| r.status() == 200)
    })
    .await;
    let before = text(&http, &a.url("/metrics")).await;
    let made = body(&http, &a.url(&url)).await;
    assert_eq!(body(&http, &a.url(&url)).await, made);
    let m = text(&http, &a.url("/metrics")).await;
    assert!(lookups(&m, "local", "miss") >= 1.0, "no local miss on A (the render's):\n{m}");
    assert!(lookups(&m, "store", "miss") >= 1.0, "the store was not asked on A's miss:\n{m}");
    assert!(
        lookups(&m, "local", "hit") - lookups(&before, "local", "hit") >= 2.0,
        "A's two reads were not local hits:\n{before}\n{m}"
    );
    assert_eq!(
        lookups(&m, "store", "hit"),
        lookups(&before, "store", "hit"),
        "A's own sentence came from the store:\n{m}"
    );
    assert!(hit_bytes(&m, "local") - hit_bytes(&before, "local") >= 2.0 * made.len() as f64, "{m}");
    assert_eq!(hit_bytes(&m, "store"), hit_bytes(&before, "store"), "{m}");
    assert!(sample(&m, "loa_cache_bytes{tier=\"local\",class=\"on_demand\"}").unwrap_or(0.0) > 0.0, "{m}");

    // On B the same sentence is only in the store: one store hit with the
    // object's bytes, copied into B's tier, so the second read is local.
    assert_eq!(body(&http, &b.url(&url)).await, made, "B serves A's bytes");
    let m = text(&http, &b.url("/metrics")).await;
    assert_eq!(lookups(&m, "store", "hit"), 1.0, "one store hit on B:\n{m}");
    assert_eq!(hit_bytes(&m, "store"), made.len() as f64, "the store hit's bytes:\n{m}");
    let local_hits = lookups(&m, "local", "hit");
    assert_eq!(body(&http, &b.url(&url)).await, made);
    let m = text(&http, &b.url("/metrics")).await;
    assert!(lookups(&m, "local", "hit") > local_hits, "B's second read was not a local hit:\n{m}");
    assert_eq!(lookups(&m, "store", "hit"), 1.0, "B's second read went to the store:\n{m}");
    assert_eq!(w.runs(), 1, "the sentence was synthesized once");
}
