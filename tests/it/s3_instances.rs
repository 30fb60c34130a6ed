//! Several `loa serve` processes on one Garage bucket: plans and audio made
//! by one are served by the other, a crash mid-render is finished by the
//! other, restarts change nothing a listener holds, a shared burst costs
//! at most twice one instance's syntheses, a three-node cluster keeps
//! serving and writing with a node gone, the CLI's stats/prune and
//! `generate --shard` work on the store, and `public_base_url` redirects.

use std::path::Path;
use std::process::Command;

use loa::cache::{Class, Ext, Name, Storage};
use serde_json::{Value, json};

use crate::s3_support::*;
use crate::server_support::{Script, World, world};

/// One voice for every instance (sentence keys include the voice's
/// program), whose runs are counted per instance (`LOA_TEST_INSTANCE`)
/// and which sleeps `LOA_TEST_SLEEP` seconds per sentence.
fn shared_world() -> World {
    let w = world(Script::default(), |_| {});
    let d = w.dir.path();
    let body = format!(
        "#!/bin/sh\necho \"${{LOA_TEST_INSTANCE:-x}}\" >> '{}'\ncat > /dev/null\nsleep \"${{LOA_TEST_SLEEP:-0}}\"\nexec cat '{}'\n",
        d.join("runs").display(),
        d.join("tone.wav").display()
    );
    std::fs::write(d.join("voice.sh"), body).unwrap();
    w
}

/// Runs of the voice by `instance`.
fn runs(w: &World, instance: &str) -> usize {
    std::fs::read_to_string(w.dir.path().join("runs"))
        .map(|s| s.lines().filter(|l| *l == instance).count())
        .unwrap_or(0)
}

fn env(g: &Garage, node: usize, instance: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut e = g.env_for(node);
    e.push(("LOA_TEST_INSTANCE".into(), instance.into()));
    e.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    e
}

async fn post(http: &reqwest::Client, loa: &Loa, body: Value) -> reqwest::Response {
    http.post(loa.url("/v1/speech")).json(&body).send().await.expect("POST /v1/speech")
}

async fn get_bytes(http: &reqwest::Client, url: &str) -> (u16, Vec<u8>) {
    let r = http.get(url).send().await.unwrap_or_else(|e| panic!("GET {url}: {e}"));
    (r.status().as_u16(), r.bytes().await.unwrap().to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_plans_audio_and_survive_restarts() {
    let Some(g) = shared("two_instances_share_plans_audio_and_survive_restarts") else { return };
    let w = shared_world();
    let store = g.url("two");
    let local = |n: &str| w.dir.path().join(n);
    let a = serve(&w, &store, &local("a"), &env(g, 0, "a", &[]));
    let b = serve(&w, &store, &local("b"), &env(g, 0, "b", &[]));
    let http = http();
    let text = article("hai", 6);

    // A plan made on A; every sentence fetched from B, then from A.
    let plan: Value = post(&http, &a, json!({"text": text, "response": "plan"})).await.json().await.unwrap();
    let urls: Vec<String> = plan["sentences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["url"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(urls.len(), 6);
    let mut from_b = Vec::new();
    for u in &urls {
        let (status, body) = get_bytes(&http, &b.url(u)).await;
        assert_eq!(status, 200, "{u} on B: {}", String::from_utf8_lossy(&body));
        from_b.push(body);
    }
    for (u, bb) in urls.iter().zip(&from_b) {
        let (status, body) = get_bytes(&http, &a.url(u)).await;
        assert_eq!(status, 200);
        assert_eq!(&body, bb, "{u}: A and B serve the same bytes");
    }

    // A's article MP3, served by B: Range → 206, ETag → 304.
    let made: Value = post(&http, &a, json!({"text": text, "response": "url"})).await.json().await.unwrap();
    let audio_url = made["url"].as_str().unwrap().to_string();
    let (status, whole) = get_bytes(&http, &a.url(&audio_url)).await;
    assert_eq!(status, 200);
    assert!(whole.len() > 2000);
    let r = http.get(b.url(&audio_url)).header("range", "bytes=100-1099").send().await.unwrap();
    assert_eq!(r.status(), 206);
    assert_eq!(r.headers()["content-range"], format!("bytes 100-1099/{}", whole.len()));
    let etag = r.headers()["etag"].to_str().unwrap().to_string();
    assert_eq!(r.bytes().await.unwrap(), &whole[100..1100]);
    let r = http.get(b.url(&audio_url)).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(r.status(), 304);
    let timings_url = made["timings_url"].as_str().unwrap().to_string();
    assert_eq!(get_bytes(&http, &b.url(&timings_url)).await.0, 200);

    // Both restarted, with empty local tiers: every URL still answers.
    a.stop();
    b.stop();
    std::fs::remove_dir_all(local("a")).unwrap();
    std::fs::remove_dir_all(local("b")).unwrap();
    let a = serve(&w, &store, &local("a"), &env(g, 0, "a", &[]));
    let b = serve(&w, &store, &local("b"), &env(g, 0, "b", &[]));
    let before = runs(&w, "a") + runs(&w, "b");
    for loa in [&a, &b] {
        for (u, bytes) in urls.iter().zip(&from_b) {
            let (status, body) = get_bytes(&http, &loa.url(u)).await;
            assert_eq!(status, 200, "{u} after the restart");
            assert_eq!(&body, bytes);
        }
        assert_eq!(get_bytes(&http, &loa.url(&audio_url)).await, (200, whole.clone()));
        assert_eq!(get_bytes(&http, &loa.url(&timings_url)).await.0, 200);
    }
    assert_eq!(runs(&w, "a") + runs(&w, "b"), before, "nothing was synthesized again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_killed_mid_render_is_finished_by_the_other() {
    let Some(g) = shared("an_instance_killed_mid_render_is_finished_by_the_other") else { return };
    let w = shared_world();
    let url = g.url("crash");
    let remote = g.store(&url);
    let a = serve(&w, &url, &w.dir.path().join("a"), &env(g, 0, "a", &[("LOA_TEST_SLEEP", "0.4")]));
    let b = serve(&w, &url, &w.dir.path().join("b"), &env(g, 0, "b", &[]));
    let http = http();
    let n = 12;
    let text = article("sập", n);
    let request = tokio::spawn({
        let (http, u) = (http.clone(), a.url("/v1/speech"));
        let body = json!({"text": text});
        async move { http.post(u).json(&body).send().await.map(|r| r.status()) }
    });
    // Kill A once some sentences (not all) are in the store.
    eventually(60, "A to store a few sentences", async || {
        remote.list(Class::OnDemand).await.unwrap().iter().filter(|m| m.name.ext == Ext::Mp3).count() >= 2
    })
    .await;
    a.kill();
    assert!(request.await.unwrap().is_err(), "A's answer was cut off by the crash");
    let stored =
        remote.list(Class::OnDemand).await.unwrap().iter().filter(|m| m.name.ext == Ext::Mp3).count();
    assert!(stored < n, "A died before the article was done ({stored} objects)");

    let r = post(&http, &b, json!({"text": text, "response": "url"})).await;
    assert_eq!(r.status(), 200);
    let done: Value = r.json().await.unwrap();
    assert!(runs(&w, "b") < n, "B reused A's sentences: {} of {n} synthesized", runs(&w, "b"));
    let key = done["key"].as_str().unwrap();
    let audio = Name::new(Class::OnDemand, &loa::cache::CacheKey::parse(key).unwrap(), Ext::Mp3);
    assert!(remote.head(&audio).await.unwrap().is_some(), "the article is in the store");
    let (status, body) = get_bytes(&http, &b.url(done["timings_url"].as_str().unwrap())).await;
    assert_eq!(status, 200);
    let timings: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(timings["sentences"].as_array().unwrap().len(), n);
    eprintln!("killed mid-render: A stored {stored} of {n} sentences, B synthesized {}", runs(&w, "b"));
}

/// 50 concurrent requests for one new article to `instances` (round robin).
async fn burst(instances: &[&Loa], text: &str) {
    let http = http();
    let jobs: Vec<_> = (0..50)
        .map(|i| {
            let (http, u) = (http.clone(), instances[i % instances.len()].url("/v1/speech"));
            let body = json!({"text": text, "response": "url"});
            tokio::spawn(async move { http.post(u).json(&body).send().await.unwrap().status().as_u16() })
        })
        .collect();
    for j in jobs {
        assert_eq!(j.await.unwrap(), 200);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shared_burst_costs_at_most_twice_one_instance() {
    let Some(g) = shared("a_shared_burst_costs_at_most_twice_one_instance") else { return };
    let w = shared_world();
    let text = article("dồn", 10);
    let slow = [("LOA_TEST_SLEEP", "0.05")];
    let one = serve(&w, &g.url("burst1"), &w.dir.path().join("one"), &env(g, 0, "one", &slow));
    burst(&[&one], &text).await;
    let single = runs(&w, "one");
    one.stop();
    let url = g.url("burst2");
    let a = serve(&w, &url, &w.dir.path().join("a"), &env(g, 0, "a", &slow));
    let b = serve(&w, &url, &w.dir.path().join("b"), &env(g, 0, "b", &slow));
    burst(&[&a, &b], &text).await;
    let (ra, rb) = (runs(&w, "a"), runs(&w, "b"));
    eprintln!(
        "shared burst: one instance {single} syntheses; two instances {} (A {ra}, B {rb}) for 10 sentences",
        ra + rb
    );
    assert_eq!(single, 10, "one instance synthesizes each sentence once");
    assert!(ra + rb <= 2 * single, "A {ra} + B {rb} > 2 × {single}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_three_node_cluster_keeps_serving_and_writing_with_a_node_killed() {
    let Some(g) = cluster("a_three_node_cluster_keeps_serving_and_writing_with_a_node_killed", 3) else {
        return;
    };
    let w = shared_world();
    let url = g.url("three");
    let a = serve(&w, &url, &w.dir.path().join("a"), &env(&g, 0, "a", &[]));
    let http = http();
    let made: Value =
        post(&http, &a, json!({"text": article("ba", 4), "response": "url"})).await.json().await.unwrap();
    let audio = made["url"].as_str().unwrap().to_string();
    let (status, before) = get_bytes(&http, &a.url(&audio)).await;
    assert_eq!(status, 200);

    g.kill_node(2);
    // Reads: a fresh instance on node 2 (empty local tier) gets A's article.
    let b = serve(&w, &url, &w.dir.path().join("b"), &env(&g, 1, "b", &[]));
    assert_eq!(get_bytes(&http, &b.url(&audio)).await, (200, before));
    // Writes: a new article on A, read back from B.
    let r = post(&http, &a, json!({"text": article("bốn", 4), "response": "url"})).await;
    assert_eq!(r.status(), 200, "a write with a node down");
    let made: Value = r.json().await.unwrap();
    let (status, body) = get_bytes(&http, &b.url(made["url"].as_str().unwrap())).await;
    assert_eq!(status, 200);
    assert!(body.len() > 1000);
}

fn loa_cli(w: &World, store: &str, env: &[(String, String)], args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_loa"))
        .args(args)
        .arg("--cache-dir")
        .arg(w.dir.path().join("cli"))
        .arg("--voices-dir")
        .arg(&w.config.speech.voices_dir)
        .env_remove("LOA_CONFIG")
        .env("LOA_CACHE_STORE", store)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .current_dir(w.dir.path())
        .output()
        .unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.success(), text(&out.stdout), text(&out.stderr))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cache_stats_prune_and_sharded_generate_work_on_the_store() {
    let Some(g) = shared("cache_stats_prune_and_sharded_generate_work_on_the_store") else { return };
    let w = shared_world();
    let url = g.url("cli");
    let e = env(g, 0, "gen", &[]);
    let inputs = w.dir.path().join("articles");
    std::fs::create_dir_all(&inputs).unwrap();
    for i in 0..6 {
        std::fs::write(inputs.join(format!("bai-{i}.txt")), article(&format!("số {i}"), 2)).unwrap();
    }
    // Two machines' shares: every article exactly once.
    let mut taken = Vec::new();
    for shard in ["1/2", "2/2"] {
        let out = w.dir.path().join(format!("out-{}", &shard[..1]));
        let (ok, _, err) = loa_cli(
            &w,
            &url,
            &e,
            &[
                "generate",
                inputs.to_str().unwrap(),
                "--voice",
                "test",
                "--out",
                out.to_str().unwrap(),
                "--shard",
                shard,
            ],
        );
        assert!(ok, "generate --shard {shard}: {err}");
        let m: Value = serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
        assert_eq!(m["shard"], shard);
        for entry in m["entries"].as_array().unwrap() {
            taken.push(Path::new(entry["input"].as_str().unwrap()).file_name().unwrap().to_owned());
        }
    }
    taken.sort();
    let mut all: Vec<_> = (0..6).map(|i| std::ffi::OsString::from(format!("bai-{i}.txt"))).collect();
    all.sort();
    assert_eq!(taken, all, "the shards cover every article once");
    assert_eq!(runs(&w, "gen"), 12, "each sentence synthesized once");
    let (ok, _, err) =
        loa_cli(&w, &url, &e, &["generate", inputs.to_str().unwrap(), "--voice", "test", "--out", "all"]);
    assert!(ok, "{err}");
    assert!(err.contains("(6 from cache)"), "the whole site is in the store: {err}");

    // Stats: pre-generated articles, timings and sentences in the store.
    let (ok, out, err) = loa_cli(&w, &url, &e, &["cache", "stats", "--json"]);
    assert!(ok, "{err}");
    let s: Value = serde_json::from_str(&out).unwrap();
    let count = |class: &str, ext: &str| {
        s["objects"]["by_kind"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k[0] == class && k[1] == ext)
            .map_or(0, |k| k[2].as_u64().unwrap())
    };
    assert_eq!((count("gen", "mp3"), count("gen", "json")), (6 + 12, 6), "{s}");
    let (ok, out, _) = loa_cli(&w, &url, &e, &["cache", "stats"]);
    assert!(ok && out.contains(&url) && out.contains("gen/ .mp3: 18 objects"), "{out}");

    // Verify: every object of the store is read and checked.
    let (ok, out, err) = loa_cli(&w, &url, &e, &["cache", "verify"]);
    assert!(ok && out.contains(&url) && out.contains("all whole"), "{out}{err}");

    // Prune: nothing is a day old; everything is older than now (S3 times
    // have a second's resolution, so poll), and --class keeps the rest.
    let (ok, out, err) = loa_cli(&w, &url, &e, &["cache", "prune", "--older-than", "1d"]);
    assert!(ok && out.contains("removed 0 objects"), "{out}{err}");
    let remote = g.store(&url);
    remote
        .put(
            &Name::new(Class::OnDemand, &loa::cache::CacheKey::hash(&["x"]), Ext::Mp3),
            loa::cache::Payload::Bytes(bytes::Bytes::from_static(b"live")),
        )
        .await
        .unwrap();
    let (ok, out, _) = loa_cli(&w, &url, &e, &["cache", "verify", "--json"]);
    assert!(!ok, "a damaged object in the store fails verify: {out}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let problems = v["objects"]["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{v}");
    assert!(problems[0].as_str().unwrap().contains(loa::cache::CacheKey::hash(&["x"]).as_str()), "{v}");
    eventually(10, "prune to take the live object", async || {
        let (ok, _, err) =
            loa_cli(&w, &url, &e, &["cache", "prune", "--older-than", "0s", "--class", "live"]);
        assert!(ok, "{err}");
        remote.list(Class::OnDemand).await.unwrap().is_empty()
    })
    .await;
    assert_eq!(remote.list(Class::Pregenerated).await.unwrap().len(), 24, "gen/ is kept");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_base_url_redirects_audio_to_the_store_path() {
    let Some(g) = shared("public_base_url_redirects_audio_to_the_store_path") else { return };
    let w = shared_world();
    let url = g.url("cdn");
    let extra = [("LOA_CACHE_PUBLIC_BASE_URL", "https://cdn.example.org/audio/")];
    let a = serve(&w, &url, &w.dir.path().join("a"), &env(g, 0, "a", &extra));
    let http =
        reqwest::Client::builder().no_proxy().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let made: Value =
        post(&http, &a, json!({"text": article("cdn", 2), "response": "url"})).await.json().await.unwrap();
    let key = loa::cache::CacheKey::parse(made["key"].as_str().unwrap()).unwrap();
    let r = http.get(a.url(made["url"].as_str().unwrap())).send().await.unwrap();
    assert_eq!(r.status(), 302);
    let name = Name::new(Class::OnDemand, &key, Ext::Mp3);
    assert_eq!(r.headers()["location"], format!("https://cdn.example.org/audio/{}", name.path()));
    assert!(g.store(&url).head(&name).await.unwrap().is_some(), "the redirect names a stored object");
    let etag = format!("\"{key}.mp3\"");
    let r =
        http.get(a.url(made["url"].as_str().unwrap())).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(r.status(), 304, "revalidation is answered here");
    let r = http.get(a.url(made["timings_url"].as_str().unwrap())).send().await.unwrap();
    assert_eq!(r.status(), 200, "timings are served, not redirected");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presigned_redirects_serve_audio_straight_from_the_store() {
    let Some(g) = shared("presigned_redirects_serve_audio_straight_from_the_store") else { return };
    let w = shared_world();
    let url = g.url("presign");
    let a = serve(&w, &url, &w.dir.path().join("a"), &env(g, 0, "a", &[("LOA_CACHE_PRESIGN_SECS", "120")]));
    let http =
        reqwest::Client::builder().no_proxy().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let made: Value =
        post(&http, &a, json!({"text": article("ký", 3), "response": "url"})).await.json().await.unwrap();
    let key = loa::cache::CacheKey::parse(made["key"].as_str().unwrap()).unwrap();
    let r = http.get(a.url(made["url"].as_str().unwrap())).send().await.unwrap();
    assert_eq!(r.status(), 302);
    assert_eq!(r.headers()["cache-control"], "private, max-age=60");
    let location = r.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with(&g.endpoints[0]) && location.contains("X-Amz-Signature="), "{location}");
    // The presigned URL needs no credentials and gives the stored bytes.
    let name = Name::new(Class::OnDemand, &key, Ext::Mp3);
    let stored = g.store(&url).get(&name, None).await.unwrap().expect("stored").bytes().await.unwrap();
    let (status, body) = get_bytes(&http, &location).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(body, stored.to_vec());
    // A tampered signature is refused by the store.
    let bad = location.replace("X-Amz-Signature=", "X-Amz-Signature=0");
    let refused = get_bytes(&http, &bad).await.0;
    assert!(matches!(refused, 400 | 403), "a bad signature answered {refused}");

    // presign_secs without an object store, or beyond the S3 limit: exit 2.
    for (store, secs) in [("", "60"), (url.as_str(), "604801")] {
        let out = Command::new(env!("CARGO_BIN_EXE_loa"))
            .args(["cache", "stats", "--cache-dir"])
            .arg(w.dir.path().join("cli"))
            .env_remove("LOA_CONFIG")
            .env("LOA_CACHE_STORE", store)
            .env("LOA_CACHE_PRESIGN_SECS", secs)
            .envs(g.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{store} {secs}: {err}");
        assert!(err.contains("presign_secs"), "{err}");
    }
}
