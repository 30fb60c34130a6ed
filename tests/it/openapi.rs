//! `GET /openapi.json` against the router: every route registered under
//! `src/server/` is documented with exactly its methods, every documented
//! operation is served (not the fallback, not 405), every `$ref` resolves,
//! and the JSON answers have the documented properties.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;

use crate::server_support::*;

/// (path, methods) of every `.route("…", get(…).post(…))` in the server's source.
fn routes_in_source() -> BTreeMap<String, BTreeSet<String>> {
    fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                files(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let mut paths = Vec::new();
    files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src/server"), &mut paths);
    let mut routes = BTreeMap::new();
    for file in paths {
        let src = std::fs::read_to_string(&file).unwrap();
        for (at, _) in src.match_indices(".route(\"") {
            let rest = &src[at + ".route(\"".len()..];
            let path = &rest[..rest.find('"').unwrap()];
            // The call's arguments: up to the parenthesis that closes `.route(`.
            let mut depth = 1;
            let mut end = 0;
            for (i, c) in rest.char_indices() {
                match c {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    _ => {}
                }
                if depth == 0 {
                    end = i;
                    break;
                }
            }
            let args = &rest[path.len()..end];
            let methods: &mut BTreeSet<String> = routes.entry(path.to_string()).or_default();
            for m in ["get", "post", "put", "delete", "patch", "head", "options"] {
                let found = args.match_indices(&format!("{m}(")).any(|(i, _)| {
                    i == 0
                        || !args.as_bytes()[i - 1].is_ascii_alphanumeric() && args.as_bytes()[i - 1] != b'_'
                });
                if found {
                    methods.insert(m.to_string());
                }
            }
            assert!(!methods.is_empty(), "no method found for route {path} in {}", file.display());
        }
    }
    assert!(routes.len() >= 10, "found only {routes:?}: has the router moved out of src/server?");
    routes
}

fn document() -> Value {
    serde_json::from_str(loa::server::openapi::DOCUMENT).expect("openapi.json is JSON")
}

fn documented(doc: &Value) -> BTreeMap<String, BTreeSet<String>> {
    doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(p, ops)| (p.clone(), ops.as_object().unwrap().keys().cloned().collect()))
        .collect()
}

#[test]
fn every_route_is_documented_and_nothing_else() {
    let doc = document();
    assert_eq!(doc["openapi"].as_str().map(|v| v.starts_with("3.0")), Some(true));
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"), "bump info.version with the crate");
    assert_eq!(documented(&doc), routes_in_source());
}

#[test]
fn every_reference_resolves_and_operations_are_complete() {
    let doc = document();
    fn walk(v: &Value, doc: &Value, refs: &mut usize) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    let target = r.strip_prefix("#/").unwrap_or_else(|| panic!("external ref {r}"));
                    let found = target.split('/').try_fold(doc, |at, part| at.get(part));
                    assert!(found.is_some(), "dangling $ref {r}");
                    *refs += 1;
                }
                m.values().for_each(|x| walk(x, doc, refs));
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, doc, refs)),
            _ => {}
        }
    }
    let mut refs = 0;
    walk(&doc, &doc, &mut refs);
    assert!(refs > 10);
    let mut ids = BTreeSet::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            let id =
                op["operationId"].as_str().unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            assert!(ids.insert(id.to_string()), "operationId {id} twice");
            assert!(op["summary"].is_string(), "{method} {path} has no summary");
            assert!(
                op["responses"].as_object().is_some_and(|r| r.contains_key("200")),
                "{method} {path}: no 200"
            );
            // Every {param} of the path is a declared path parameter.
            for part in path.split('/').filter(|p| p.starts_with('{')) {
                let name = part.trim_matches(|c| c == '{' || c == '}');
                let declared = op["parameters"]
                    .as_array()
                    .is_some_and(|ps| ps.iter().any(|p| p["name"] == name && p["in"] == "path"));
                assert!(declared, "{method} {path}: parameter {name} undeclared");
            }
        }
    }
}

/// A concrete request for each documented operation.
fn example_uri(path: &str) -> String {
    let key = "0".repeat(64);
    path.replace("{key}", &key)
        .replace("/{file}", if path.starts_with("/v1/audio") { "/KEY.json" } else { "/0.mp3" })
        .replace("KEY", &key)
}

#[tokio::test]
async fn every_documented_operation_is_served() {
    let w = world(Script::default(), |_| {});
    // With an admin token, so that the admin API exists (its answers are 401 here).
    let token = loa::server::Secrets { admin_token: Some("t".repeat(32)), ..Default::default() };
    let state = loa::server::AppState::with_secrets(w.engine(), token);
    let doc = document();
    for (path, methods) in documented(&doc) {
        for method in methods {
            let uri = example_uri(&path);
            let request = axum::http::Request::builder()
                .method(method.to_uppercase().as_str())
                .uri(&uri)
                .header("content-type", "application/json")
                .body(axum::body::Body::from("{}"))
                .unwrap();
            let reply = send(&state, request).await;
            assert_ne!(reply.status.as_u16(), 405, "{method} {uri}: method not allowed");
            let fallback = reply.status.as_u16() == 404 && reply.text().contains("no such endpoint");
            assert!(!fallback, "{method} {uri} is documented but not routed");
            assert!(reply.header("x-request-id").is_some(), "{method} {uri} has no X-Request-Id");
        }
    }
}

/// The properties of a JSON answer are the documented ones: all required
/// present, none undocumented.
fn assert_shape(doc: &Value, schema: &str, value: &Value) {
    let s = &doc["components"]["schemas"][schema];
    let props = s["properties"].as_object().unwrap_or_else(|| panic!("no schema {schema}"));
    let obj = value.as_object().unwrap_or_else(|| panic!("{schema}: not an object: {value}"));
    for k in obj.keys() {
        assert!(props.contains_key(k), "{schema}: {k} is not documented ({value})");
    }
    for r in s["required"].as_array().unwrap() {
        assert!(obj.contains_key(r.as_str().unwrap()), "{schema}: required {r} missing ({value})");
    }
    for (k, p) in props {
        let item = p["items"]["$ref"].as_str().and_then(|r| r.rsplit('/').next());
        if let (Some(item), Some(Value::Array(a))) = (item, obj.get(k)) {
            a.iter().for_each(|x| assert_shape(doc, item, x));
        }
    }
}

#[tokio::test]
async fn answers_have_the_documented_properties() {
    let w = world(Script::default(), |_| {});
    let state = w.state();
    let doc = document();
    let served: Value = get(&state, "/openapi.json").await.json();
    assert_eq!(served, doc);
    assert_shape(&doc, "Health", &get(&state, "/healthz").await.json());
    assert_shape(&doc, "Voices", &get(&state, "/v1/voices").await.json());
    let article = serde_json::json!({"text": "Xin chào. Hôm nay trời đẹp.\n\nĐoạn hai."});
    assert_shape(&doc, "Normalized", &post_json(&state, "/v1/normalize", article.clone()).await.json());
    let mut plan_req = article.clone();
    plan_req["response"] = "plan".into();
    assert_shape(&doc, "PlanResponse", &post_json(&state, "/v1/speech", plan_req).await.json());
    let mut url_req = article.clone();
    url_req["response"] = "url".into();
    let url = post_json(&state, "/v1/speech", url_req).await.json();
    assert_shape(&doc, "UrlResponse", &url);
    let timings = get(&state, url["timings_url"].as_str().unwrap()).await.json();
    assert_shape(&doc, "Timings", &timings);
    let error = post_json(&state, "/v1/speech", serde_json::json!({})).await.json();
    assert_shape(&doc, "Error", &error);
    assert_shape(&doc, "ServiceConfig", &get(&state, "/v1/config").await.json());

    // The admin API's answers.
    let token = "t".repeat(32);
    let secrets = loa::server::Secrets { admin_token: Some(token.clone()), ..Default::default() };
    let admin = loa::server::AppState::with_secrets(w.engine(), secrets);
    let auth = format!("Bearer {token}");
    let call = |method: &str, uri: &str| {
        axum::http::Request::builder()
            .method(method)
            .uri(uri)
            .header("authorization", &auth)
            .body(axum::body::Body::empty())
            .unwrap()
    };
    let cache = send(&admin, call("GET", "/v1/admin/cache")).await.json();
    assert_shape(&doc, "CacheReport", &cache);
    let mut plan_req = article.clone();
    plan_req["response"] = "plan".into();
    assert_eq!(post_json(&admin, "/v1/speech", plan_req).await.status.as_u16(), 200);
    let plans = send(&admin, call("GET", "/v1/admin/plans")).await.json();
    assert_shape(&doc, "PlanSummary", &plans[0]);
    let purged =
        send(&admin, call("DELETE", &format!("/v1/admin/audio/{}", url["key"].as_str().unwrap()))).await;
    assert_shape(&doc, "Purged", &purged.json());
    assert_shape(&doc, "Pruned", &send(&admin, call("POST", "/v1/admin/prune")).await.json());
    assert_shape(&doc, "Reloaded", &send(&admin, call("POST", "/v1/admin/reload")).await.json());
    let budgets = send(&admin, call("GET", "/v1/admin/budgets")).await.json();
    assert!(budgets.as_array().is_some_and(|b| b.is_empty()), "{budgets}");
    let unauthorized = get(&admin, "/v1/admin/cache").await.json();
    assert_shape(&doc, "Error", &unauthorized);
}
