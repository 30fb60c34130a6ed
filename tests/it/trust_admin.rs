//! The operator's surface: the admin API exists only with a token (404
//! without one, 401 with a wrong one) and its purge makes the next request
//! synthesize again; `/metrics` needs the token or moves to its own
//! listener; CORS offers only the configured origins and the methods the
//! API uses; every error is JSON `{code, message}` without internals.

use axum::body::Body;
use axum::http::Request;
use loa::server::AppState;
use serde_json::json;

use crate::server_support::{Script, get, get_with, post_json, send, world};
use crate::trust_support::*;

const TOKEN: &str = "the-admin-token-of-this-test-0123";

async fn admin(
    state: &AppState,
    method: &str,
    uri: &str,
    token: Option<&str>,
) -> crate::server_support::Reply {
    let mut req = Request::builder().method(method).uri(uri).header("content-type", "application/json");
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    send(state, req.body(Body::from(if method == "POST" { "{}" } else { "" })).unwrap()).await
}

#[tokio::test]
async fn trust_admin_api_needs_its_token_and_purges() {
    let w = world(Script::default(), |_| {});
    let key = "0".repeat(64);

    // No token configured: the admin API does not exist.
    let closed = AppState::with_secrets(w.engine(), secrets(None, None));
    for (method, uri) in [
        ("GET", "/v1/admin/cache".to_string()),
        ("DELETE", format!("/v1/admin/audio/{key}")),
        ("POST", "/v1/admin/prune".to_string()),
        ("POST", "/v1/admin/reload".to_string()),
        ("GET", "/v1/admin/plans".to_string()),
    ] {
        admin(&closed, method, &uri, Some(TOKEN)).await.assert_error(404, "not_found");
    }

    let state = AppState::with_secrets(w.engine(), secrets(None, Some(TOKEN)));
    admin(&state, "GET", "/v1/admin/cache", None).await.assert_error(401, "unauthorized");
    let wrong = admin(&state, "GET", "/v1/admin/cache", Some("the-admin-token-of-this-test-0124")).await;
    wrong.assert_error(401, "unauthorized");
    assert_eq!(wrong.header("www-authenticate"), Some("Bearer"));
    admin(&state, "DELETE", &format!("/v1/admin/audio/{key}"), Some("nope"))
        .await
        .assert_error(401, "unauthorized");

    // An article is synthesized once and then served from the cache…
    let article = json!({"text": "Tin nhanh. Câu thứ hai.", "response": "url"});
    let first = post_json(&state, "/v1/speech", article.clone()).await.json();
    let made = w.runs();
    assert_eq!(made, 2);
    assert_eq!(post_json(&state, "/v1/speech", article.clone()).await.json()["from_cache"], true);
    assert_eq!(w.runs(), made);
    let plans = admin(&state, "GET", "/v1/admin/plans", Some(TOKEN)).await;
    assert_eq!(plans.status.as_u16(), 200, "{}", plans.text());
    let stats = admin(&state, "GET", "/v1/admin/cache", Some(TOKEN)).await.json();
    assert!(stats["objects"].as_u64().unwrap() >= 3, "{stats}");

    // …until it is purged: then the next request synthesizes it again.
    let article_key = first["key"].as_str().unwrap();
    let purged = admin(&state, "DELETE", &format!("/v1/admin/audio/{article_key}"), Some(TOKEN)).await;
    assert_eq!(purged.status.as_u16(), 200, "{}", purged.text());
    assert_eq!(purged.json()["sentences"], 2, "{}", purged.text());
    assert_eq!(get(&state, first["url"].as_str().unwrap()).await.status.as_u16(), 404);
    let again = post_json(&state, "/v1/speech", article).await.json();
    assert_eq!(again["from_cache"], false, "{again}");
    assert_eq!(w.runs(), made + 2, "the purged article was synthesized again");
    admin(&state, "DELETE", &format!("/v1/admin/audio/{key}"), Some(TOKEN))
        .await
        .assert_error(404, "not_cached");
    admin(&state, "DELETE", "/v1/admin/audio/NOT-A-KEY", Some(TOKEN)).await.assert_error(400, "bad_key");

    let pruned = admin(&state, "POST", "/v1/admin/prune", Some(TOKEN)).await;
    assert_eq!(pruned.status.as_u16(), 200, "{}", pruned.text());
    let reloaded = admin(&state, "POST", "/v1/admin/reload", Some(TOKEN)).await;
    assert_eq!(reloaded.status.as_u16(), 200, "{}", reloaded.text());
    assert_eq!(reloaded.json()["default_voice"], "test");
    // A broken voice file is refused and the voices in use stay.
    std::fs::write(w.config.speech.voices_dir.join("broken.toml"), "[backend]\ntype = \"sam\"\n").unwrap();
    let bad = admin(&state, "POST", "/v1/admin/reload", Some(TOKEN)).await;
    bad.assert_error(422, "reload_failed");
    assert!(!bad.text().contains(w.dir.path().to_str().unwrap()), "a path leaked: {}", bad.text());
    let ok = post_json(&state, "/v1/speech", json!({"text": "Vẫn đọc được."})).await;
    assert_eq!(ok.status.as_u16(), 200);

    // With a token, /metrics needs it too.
    get(&state, "/metrics").await.assert_error(401, "unauthorized");
    let m = get_with(&state, "/metrics", &[("authorization", &format!("Bearer {TOKEN}"))]).await;
    assert_eq!(m.status.as_u16(), 200);
    assert!(m.text().contains("loa_"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trust_metrics_can_move_to_their_own_listener() {
    let w = world(Script::default(), |c| c.server.metrics_address = Some("127.0.0.1:0".into()));
    let state = AppState::with_secrets(w.engine(), secrets(None, None));
    get(&state, "/metrics").await.assert_error(404, "not_found");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, loa::server::metrics_app(state)).await });
    let r = client_from(2).get(format!("http://{addr}/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("loa_"));
    let other = client_from(2).get(format!("http://{addr}/v1/voices")).send().await.unwrap();
    assert_eq!(other.status(), 404, "only /metrics on that listener");
}

#[tokio::test]
async fn trust_cors_and_errors() {
    let w = world(Script { fail: true, ..Script::default() }, |c| {
        c.server.cors_origins = vec!["https://bao.example".into()];
    });
    let state = AppState::with_secrets(w.engine(), secrets(None, Some(TOKEN)));
    let preflight = |origin: &str| {
        Request::builder()
            .method("OPTIONS")
            .uri("/v1/speech")
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .body(Body::empty())
            .unwrap()
    };
    let ok = send(&state, preflight("https://bao.example")).await;
    assert_eq!(ok.header("access-control-allow-origin"), Some("https://bao.example"));
    let methods = ok.header("access-control-allow-methods").unwrap().to_ascii_uppercase();
    let mut listed: Vec<&str> = methods.split(',').map(str::trim).collect();
    listed.sort();
    assert_eq!(listed, ["GET", "HEAD", "POST"], "no DELETE for browsers");
    let headers = ok.header("access-control-allow-headers").unwrap().to_ascii_lowercase();
    assert!(headers.contains("content-type") && !headers.contains("authorization"), "{headers}");
    let other = send(&state, preflight("https://evil.example")).await;
    assert_eq!(other.header("access-control-allow-origin"), None);

    // Errors are JSON and keep internals (paths, the engine's own words) out.
    get(&state, "/v1/speech").await.assert_error(405, "method_not_allowed");
    get(&state, "/nowhere").await.assert_error(404, "not_found");
    let failed = post_json(&state, "/v1/speech", json!({"text": "Câu này hỏng."})).await;
    assert!(failed.status.is_server_error(), "{}", failed.text());
    let body = failed.json();
    assert!(body["code"].is_string() && body["message"].is_string(), "{body}");
    let text = failed.text();
    assert!(!text.contains("model exploded"), "the engine's answer leaked: {text}");
    assert!(!text.contains(w.dir.path().to_str().unwrap()), "a path leaked: {text}");
    let bad = send(
        &state,
        Request::post("/v1/speech")
            .header("content-type", "application/json")
            .body(Body::from("{nope"))
            .unwrap(),
    )
    .await;
    bad.assert_error(400, "invalid_json");
}
