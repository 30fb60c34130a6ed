//! One synthesis per key however many ask at once: 50 simultaneous
//! requests for one new article run the voice's program once per sentence
//! and all get the same audio.

use crate::server_support::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_requests_for_one_new_article_cause_one_synthesis() {
    // Slow enough that every request arrives while the first is running.
    let w = world(Script { sleep_secs: 0.5, ..Script::default() }, |c| {
        c.server.synthesis_concurrency = 2;
        c.server.queue_limit = 4;
    });
    let s = w.state();
    let text = "Huyện ủy Cao Lộc tổng kết công tác xây dựng Đảng năm 2021.";
    let sentences = s.engine().plan(text, None, loa::audio::Format::Mp3).unwrap().len();
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let s = s.clone();
            tokio::spawn(async move { post_json(&s, "/v1/speech", json!({ "text": text })).await })
        })
        .collect();
    let mut bodies = Vec::new();
    for t in tasks {
        let r = t.await.unwrap();
        assert_eq!(r.status, 200, "{}", r.text());
        bodies.push(r.body);
    }
    assert_eq!(w.runs(), sentences, "the voice ran more than once per sentence");
    let m = get(&s, "/metrics").await.text();
    assert!(m.contains(&format!("loa_syntheses_total {sentences}\n")), "{m}");
    assert!(bodies.iter().all(|b| b == &bodies[0] && b.len() > 1000));
    // The queue limit (4) is far below 50: waiting on a running job takes no slot.
    assert!(m.contains("loa_rejected_busy_total 0\n"), "{m}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_players_asking_for_the_first_sentence_cause_one_synthesis() {
    let w = world(Script { sleep_secs: 0.5, ..Script::default() }, |_| {});
    let s = w.state();
    let text = "Câu thứ nhất của bài.\n\nCâu thứ hai của bài.";
    let plan = post_json(&s, "/v1/speech", json!({ "text": text, "response": "plan" })).await.json();
    let url = plan["sentences"][0]["url"].as_str().unwrap().to_string();
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let (s, url) = (s.clone(), url.clone());
            tokio::spawn(async move { get(&s, &url).await })
        })
        .collect();
    for t in tasks {
        let r = t.await.unwrap();
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.header("content-type"), Some("audio/mpeg"));
    }
    // The background render of the whole article shares the sentence's synthesis too.
    for _ in 0..100 {
        if get(&s, plan["timings_url"].as_str().unwrap()).await.status == 200 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(w.runs(), plan["sentences"].as_array().unwrap().len());
}
