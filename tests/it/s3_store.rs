//! The S3 object store on a real Garage cluster: the storage contract
//! (put-if-absent, ranged streaming reads, multipart puts, listing,
//! errors without secrets) and the local tier.

use std::io::Write;

use bytes::Bytes;
use loa::cache::{Body, Cache, CacheKey, Class, DiskStore, Ext, Name, Payload, Put, S3Store, Storage};

use crate::s3_support::*;

fn name(class: Class, seed: &str, ext: Ext) -> Name {
    Name::new(class, &CacheKey::hash(&[seed]), ext)
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(2654435761).to_le_bytes()[(i + seed as usize) % 4] ^ seed)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_storage_contract_holds_on_garage() {
    let Some(g) = shared("the_storage_contract_holds_on_garage") else { return };
    let store = g.store(&g.url("contract"));
    let strategy = store.strategy().await.expect("probe");
    eprintln!("put-if-absent on this Garage: {strategy:?}");

    // Put-if-absent: the first write stays.
    let n = name(Class::OnDemand, "a", Ext::Mp3);
    let first = Bytes::from(pattern(100_000, 1));
    assert_eq!(store.put(&n, Payload::Bytes(first.clone())).await.unwrap(), Put::Created);
    assert_eq!(store.put(&n, Payload::Bytes(Bytes::from(pattern(100_000, 2)))).await.unwrap(), Put::Exists);
    let obj = store.get(&n, None).await.unwrap().expect("stored");
    assert!(matches!(obj.body, Body::Stream(_)), "remote reads stream");
    assert_eq!(obj.bytes().await.unwrap(), first);

    // Ranges: only those bytes; past the end is empty; size is the whole.
    let obj = store.get(&n, Some(1000..2500)).await.unwrap().unwrap();
    assert_eq!((obj.meta.size, obj.range.clone()), (100_000, 1000..2500));
    assert_eq!(obj.bytes().await.unwrap(), first.slice(1000..2500));
    let tail = store.get(&n, Some(99_990..200_000)).await.unwrap().unwrap();
    assert_eq!(tail.bytes().await.unwrap(), first.slice(99_990..));
    let past = store.get(&n, Some(100_000..100_010)).await.unwrap().unwrap();
    assert!(past.is_empty());
    let head = store.head(&n).await.unwrap().unwrap();
    assert_eq!(head.size, 100_000);
    assert!(head.modified.elapsed().unwrap().as_secs() < 600);

    // Concurrent writers of one name: whatever is stored came from a
    // writer that was told it created the object.
    let race = name(Class::OnDemand, "race", Ext::Wav);
    let writers: Vec<_> = (0..8u8)
        .map(|i| {
            let (store, race) = (store.clone(), race.clone());
            tokio::spawn(async move {
                let bytes = Bytes::from(pattern(50_000, 10 + i));
                (store.put(&race, Payload::Bytes(bytes.clone())).await.unwrap(), bytes)
            })
        })
        .collect();
    let mut created = Vec::new();
    for w in writers {
        let (put, bytes) = w.await.unwrap();
        if put == Put::Created {
            created.push(bytes);
        }
    }
    assert!(!created.is_empty(), "someone created it");
    let stored = store.get(&race, None).await.unwrap().unwrap().bytes().await.unwrap();
    assert!(created.contains(&stored), "the stored object is a creator's ({} creators)", created.len());

    // A large object goes up in parts from its file; ranged reads of it.
    let big = name(Class::Pregenerated, "big", Ext::Mp3);
    let data = pattern(20 * 1024 * 1024 + 12345, 7);
    let mut tmp = store.temp_file().unwrap();
    tmp.write_all(&data).unwrap();
    assert_eq!(store.put(&big, Payload::File(tmp)).await.unwrap(), Put::Created);
    assert_eq!(store.head(&big).await.unwrap().unwrap().size, data.len() as u64);
    let at = 15 * 1024 * 1024;
    let part = store.get(&big, Some(at..at + 100_000)).await.unwrap().unwrap();
    assert_eq!(part.bytes().await.unwrap(), &data[at as usize..at as usize + 100_000]);
    let mut again = store.temp_file().unwrap();
    again.write_all(&data[..9 * 1024 * 1024]).unwrap();
    assert_eq!(store.put(&big, Payload::File(again)).await.unwrap(), Put::Exists);

    // Listing per class; delete.
    let live: Vec<Name> = store.list(Class::OnDemand).await.unwrap().into_iter().map(|m| m.name).collect();
    assert_eq!(live.len(), 2, "{live:?}");
    assert!(live.contains(&n) && live.contains(&race));
    assert_eq!(store.list(Class::Pregenerated).await.unwrap().len(), 1);
    assert!(store.list(Class::Plan).await.unwrap().is_empty());
    assert!(store.delete(&n).await.unwrap());
    assert!(!store.delete(&n).await.unwrap());
    assert!(store.get(&n, None).await.unwrap().is_none());
    assert!(store.head(&n).await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_credentials_are_a_clear_error_without_the_secret() {
    let Some(g) = shared("bad_credentials_are_a_clear_error_without_the_secret") else { return };
    let url = g.url("badkey");
    let secret = "a-wrong-secret-that-must-not-leak-0123456789";
    let mut env = g.env.clone();
    for (k, v) in &mut env {
        if k == "AWS_SECRET_ACCESS_KEY" {
            *v = secret.into();
        }
    }
    let store = S3Store::from_url_with(&url, env).unwrap();
    let err = store.head(&name(Class::OnDemand, "x", Ext::Mp3)).await.unwrap_err().to_string();
    assert!(err.contains(&url) && err.contains("head"), "{err}");
    assert!(!err.contains(secret), "{err}");
    let err =
        store.put(&name(Class::OnDemand, "x", Ext::Mp3), Payload::Bytes(Bytes::from_static(b"x"))).await;
    assert!(!err.unwrap_err().to_string().contains(secret));
    // A bad URL is refused before anything is contacted.
    assert!(
        S3Store::from_url_with("s3://UPPER/x", g.env.clone())
            .unwrap_err()
            .to_string()
            .contains("cache.store")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_local_tier_keeps_copies_and_streams_what_it_cannot_hold() {
    let Some(g) = shared("the_local_tier_keeps_copies_and_streams_what_it_cannot_hold") else { return };
    let url = g.url("tier");
    let remote = g.store(&url);
    let dir = tempfile::tempdir().unwrap();
    let local = DiskStore::open(dir.path(), 40 * 1024 * 1024).unwrap();
    let cache = Cache::tiered(std::sync::Arc::new(remote.clone()), local.clone());

    // Written through: the primary and the local copy.
    let small = CacheKey::hash(&["small"]);
    let bytes = Bytes::from(pattern(30_000, 3));
    cache.put(Class::OnDemand, &small, Ext::Mp3, Payload::Bytes(bytes.clone())).await.unwrap();
    let n = Name::new(Class::OnDemand, &small, Ext::Mp3);
    assert!(remote.head(&n).await.unwrap().is_some());
    assert!(local.head(&n).await.unwrap().is_some());

    // Another instance's object: read through, then kept locally.
    let theirs = name(Class::OnDemand, "theirs", Ext::Mp3);
    let data = pattern(9 * 1024 * 1024, 4);
    let mut tmp = remote.temp_file().unwrap();
    tmp.write_all(&data).unwrap();
    remote.put(&theirs, Payload::File(tmp)).await.unwrap();
    let got = cache.get(&theirs, Some(5_000_000..5_000_100)).await.unwrap().unwrap();
    assert_eq!(got.bytes().await.unwrap(), &data[5_000_000..5_000_100]);
    let kept = local.get(&theirs, None).await.unwrap().expect("a local copy");
    assert!(matches!(kept.body, Body::File(_)));
    assert_eq!(kept.meta.size, data.len() as u64);

    // Too large for the tier (over a quarter of its cap): streamed, range only.
    let huge = name(Class::OnDemand, "huge", Ext::Mp3);
    let data = pattern(12 * 1024 * 1024, 5);
    let mut tmp = remote.temp_file().unwrap();
    tmp.write_all(&data).unwrap();
    remote.put(&huge, Payload::File(tmp)).await.unwrap();
    let got = cache.get(&huge, Some(100..200)).await.unwrap().unwrap();
    assert!(matches!(got.body, Body::Stream(_)));
    assert_eq!(got.bytes().await.unwrap(), &data[100..200]);
    assert!(local.head(&huge).await.unwrap().is_none());
}

/// A port that looks free can be taken by the time garage binds it (in CI a
/// concurrent test's connection took one and the node panicked on bind):
/// `scripts/garage-up` starts such a node again on other ports.
#[test]
fn garage_up_starts_a_node_again_when_its_port_was_taken() {
    let Some(bin) = missing("garage_up_starts_a_node_again_when_its_port_was_taken") else { return };
    // Bound without listening: a connection is refused, so the port looks
    // free, yet garage cannot bind it.
    let held = tokio::net::TcpSocket::new_v4().expect("socket");
    held.bind("127.0.0.1:0".parse().unwrap()).expect("bind");
    let taken = held.local_addr().expect("addr").port();
    let listeners: Vec<_> =
        (0..3).map(|_| std::net::TcpListener::bind("127.0.0.1:0").expect("bind")).collect();
    let free: Vec<u16> = listeners.iter().map(|l| l.local_addr().unwrap().port()).collect();
    drop(listeners);

    let out = std::process::Command::new(script("garage-up"))
        .args(["--watch", &std::process::id().to_string()])
        .env("LOA_GARAGE", &bin)
        .env("LOA_GARAGE_PORTS", format!("{taken} {} {} {}", free[0], free[1], free[2]))
        .output()
        .expect("run scripts/garage-up");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let dir = stdout.lines().find_map(|l| l.strip_prefix("export LOA_GARAGE_DIR="));
    if let Some(dir) = dir {
        let _ = std::process::Command::new(script("garage-up")).args(["--down", dir]).status();
    }
    assert!(out.status.success(), "garage-up failed:\n{stderr}");
    assert!(
        stderr.contains(&format!("node 1 exited while starting on ports {taken}/{}", free[0])),
        "the first start should have failed on the taken port {taken}:\n{stderr}"
    );
    assert!(
        stdout.contains(&format!("export AWS_ENDPOINT_URL=http://127.0.0.1:{}\n", free[2])),
        "the second start should use the next ports:\n{stdout}"
    );
    drop(held);
}
