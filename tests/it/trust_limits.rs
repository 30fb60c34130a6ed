//! Per-client limits over real sockets: clients are told apart by their
//! loopback source address (127.0.0.2, 127.0.0.3, …). A client that floods
//! new articles gets 429 `rate_limited` with `Retry-After` after its burst,
//! while another client's new sentence is served at once and the flooder's
//! cached audio keeps playing. `X-Forwarded-For` names the client only
//! when the peer is a trusted proxy.

use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::{Value, json};

use crate::server_support::{Script, world};
use crate::trust_support::*;

async fn post(
    c: &reqwest::Client,
    url: &str,
    body: Value,
    xff: Option<&str>,
) -> (u16, Option<String>, Value) {
    let mut req = c.post(url).json(&body);
    if let Some(x) = xff {
        req = req.header("x-forwarded-for", x);
    }
    let r = req.send().await.expect("request");
    let status = r.status().as_u16();
    let retry = r.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string());
    let body: Value = r.json().await.unwrap_or(Value::Null);
    (status, retry, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trust_a_flooding_client_is_limited_and_another_is_served() {
    let burst = 5;
    let w = world(Script { sleep_secs: 0.5, ..Script::default() }, |c| {
        c.server.limits.syntheses_per_minute = 6;
        c.server.limits.burst = burst;
        c.server.limits.jobs_per_client = 50;
    });
    let served = serve(loa::server::AppState::with_secrets(w.engine(), secrets(None, None))).await;
    let speech = served.url("/v1/speech");
    let a = client_from(2);
    let b = client_from(3);

    // A listens to one article before it floods: that one is cached.
    let (status, _, first) =
        post(&a, &speech, json!({"text": "Bài đã nghe.", "response": "url"}), None).await;
    assert_eq!(status, 200, "{first}");
    let cached_url = served.url(first["url"].as_str().unwrap());

    // A floods 100 distinct articles, 10 at a time.
    let answers: Vec<(u16, Option<String>, Value)> = futures::stream::iter(0..100)
        .map(|i| {
            let (a, speech) = (a.clone(), speech.clone());
            async move {
                let text = format!("Bài số {i}. Câu thứ hai của bài {i}. Câu thứ ba.");
                post(&a, &speech, json!({"text": text, "response": "plan"}), None).await
            }
        })
        .buffer_unordered(10)
        .collect()
        .await;
    let ok = answers.iter().filter(|a| a.0 == 200).count();
    let limited: Vec<_> = answers.iter().filter(|a| a.0 == 429).collect();
    // The first article took one token; a token comes back every 10 s.
    assert!(
        (burst as usize - 1..=burst as usize).contains(&ok),
        "{ok} plans accepted with a burst of {burst}: {:?}",
        answers.iter().map(|a| a.0).collect::<Vec<_>>()
    );
    assert_eq!(ok + limited.len(), 100, "every other answer is 429");
    for (_, retry, body) in &limited {
        assert_eq!(body["code"], "rate_limited", "{body}");
        let secs: u64 = retry.as_deref().expect("Retry-After").parse().unwrap();
        assert!((1..=10).contains(&secs), "Retry-After {secs}");
    }

    // B's single new sentence is served while A's articles are rendering.
    let started = Instant::now();
    let (status, _, body) =
        post(&b, &speech, json!({"text": "Câu của người khác.", "response": "url"}), None).await;
    let took = started.elapsed();
    assert_eq!(status, 200, "{body}");
    eprintln!("flood: A got {ok} plans and {} × 429; B's new sentence took {took:?}", limited.len());
    assert!(took < Duration::from_secs(2), "client B waited {took:?}");
    // It did not wait for A's flood: A's accepted articles (3 sentences
    // of 0.5 s each, one article of A's at a time) are not all made yet.
    let all = 1 + 3 * ok + 1;
    assert!(w.runs() < all, "{} of {all} sentences made before B's answer", w.runs());

    // A's cached audio still plays, and asking again for its cached article is free.
    let r = a.get(&cached_url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "audio/mpeg");
    let (status, _, again) =
        post(&a, &speech, json!({"text": "Bài đã nghe.", "response": "url"}), None).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["from_cache"], true);
    // But a new article is still refused.
    let (status, retry, body) = post(&a, &speech, json!({"text": "Bài mới nữa."}), None).await;
    assert_eq!((status, body["code"].as_str()), (429, Some("rate_limited")), "{body}");
    assert!(retry.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trust_forwarded_for_counts_only_from_a_trusted_proxy() {
    let w = world(Script::default(), |c| {
        c.server.trusted_proxies = vec!["127.0.0.4/32".into()];
        c.server.limits.syntheses_per_minute = 1;
        c.server.limits.burst = 1;
    });
    let served = serve(loa::server::AppState::with_secrets(w.engine(), secrets(None, None))).await;
    let speech = served.url("/v1/speech");
    let mut n = 0;
    let mut article = || {
        n += 1;
        json!({"text": format!("Bài viết số {n}."), "response": "url"})
    };

    // An untrusted peer's header is ignored: both requests are 127.0.0.5's.
    let direct = client_from(5);
    let (s, _, body) = post(&direct, &speech, article(), Some("198.51.100.1")).await;
    assert_eq!(s, 200, "{body}");
    let (s, _, body) = post(&direct, &speech, article(), Some("198.51.100.2")).await;
    assert_eq!(
        (s, body["code"].as_str()),
        (429, Some("rate_limited")),
        "a forged header bought a new bucket"
    );

    // Through the trusted proxy, each forwarded address is its own client…
    let proxy = client_from(4);
    for ip in ["198.51.100.1", "198.51.100.2"] {
        let (s, _, body) = post(&proxy, &speech, article(), Some(ip)).await;
        assert_eq!(s, 200, "{ip}: {body}");
    }
    let (s, _, _) = post(&proxy, &speech, article(), Some("198.51.100.1")).await;
    assert_eq!(s, 429, "198.51.100.1 spent its token");
    // …and an address the client wrote in front of its own is not believed.
    let (s, _, _) = post(&proxy, &speech, article(), Some("203.0.113.9, 198.51.100.2")).await;
    assert_eq!(s, 429, "the proxy appended 198.51.100.2; the forged hop to its left does not count");
    let (s, _, body) = post(&proxy, &speech, article(), Some("198.51.100.3")).await;
    assert_eq!(s, 200, "{body}");
}
