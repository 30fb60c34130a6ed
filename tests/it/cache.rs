//! The content-addressed store: layout, put-if-absent writes, a hard cap
//! that evicts on-demand objects first and pre-generated ones last, a
//! handed-out object surviving eviction, several processes on one
//! directory, temporary files of dead processes cleaned, single-flight.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use loa::cache::{Cache, CacheKey, Class, DiskStore, Ext, KeyLocks, Name, Payload, Put};

fn name(class: Class, tag: &str) -> Name {
    Name::new(class, &CacheKey::hash(&[tag]), Ext::Wav)
}

fn age(store: &DiskStore, n: &Name, secs: u64) {
    let f = std::fs::File::options().write(true).open(store.dir().join(n.path())).unwrap();
    f.set_modified(SystemTime::now() - Duration::from_secs(secs)).unwrap();
}

fn put(store: &DiskStore, n: &Name, len: usize) -> Put {
    store.put_blocking(n, Payload::Bytes(Bytes::from(vec![7u8; len]))).unwrap()
}

fn exists(store: &DiskStore, n: &Name) -> bool {
    store.dir().join(n.path()).is_file()
}

#[test]
fn objects_are_sharded_written_whole_and_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let store = DiskStore::open(dir.path(), 1 << 30).unwrap();
    let n = name(Class::OnDemand, "x");
    assert!(store.read_blocking(&n).unwrap().is_none());
    assert_eq!(store.put_blocking(&n, Payload::Bytes(Bytes::from_static(b"hello"))).unwrap(), Put::Created);
    let k = n.key.as_str();
    assert!(dir.path().join(format!("live/{}/{}/{k}.wav", &k[..2], &k[2..4])).is_file());
    assert_eq!(store.read_blocking(&n).unwrap().unwrap(), b"hello");
    // Put-if-absent: a second writer of the same name keeps the first copy.
    assert_eq!(store.put_blocking(&n, Payload::Bytes(Bytes::from_static(b"other"))).unwrap(), Put::Exists);
    assert_eq!(store.read_blocking(&n).unwrap().unwrap(), b"hello");
    // No temporary file is left.
    assert_eq!(std::fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
}

#[test]
fn stats_count_by_class_and_extension() {
    let dir = tempfile::tempdir().unwrap();
    let store = DiskStore::open(dir.path(), 1 << 30).unwrap();
    put(&store, &name(Class::OnDemand, "a"), 100);
    put(&store, &name(Class::OnDemand, "b"), 50);
    put(&store, &name(Class::Pregenerated, "c"), 10);
    std::fs::write(dir.path().join("tmp/1-crashed.part"), [0; 1000]).unwrap();
    let s = store.stats().unwrap();
    assert_eq!((s.objects, s.bytes), (3, 160));
    assert_eq!(
        s.by_kind,
        vec![("gen".to_string(), "wav".to_string(), 1, 10), ("live".to_string(), "wav".to_string(), 2, 150)]
    );
    assert_eq!(store.usage().unwrap().total(), 160);
}

#[test]
fn prune_evicts_least_recently_used_first() {
    let dir = tempfile::tempdir().unwrap();
    let store = DiskStore::open(dir.path(), 1 << 30).unwrap();
    let names: Vec<Name> = (0..4).map(|i| name(Class::OnDemand, &i.to_string())).collect();
    for (i, n) in names.iter().enumerate() {
        put(&store, n, 100);
        age(&store, n, 10_000 - i as u64 * 1000); // 0 oldest
    }
    // Reading 0 makes it recent.
    assert!(store.get_blocking(&names[0], None).unwrap().is_some());
    let r = store.prune_to(250).unwrap();
    assert_eq!((r.removed, r.freed_bytes, r.remaining_bytes), (2, 200, 200));
    assert!(exists(&store, &names[0]) && !exists(&store, &names[1]) && !exists(&store, &names[2]));
    assert!(exists(&store, &names[3]));
}

#[test]
fn the_cap_is_hard_and_visitors_cannot_evict_editors_work() {
    let dir = tempfile::tempdir().unwrap();
    let store = DiskStore::open(dir.path(), 10_000).unwrap();
    let editors: Vec<Name> = (0..10).map(|i| name(Class::Pregenerated, &format!("e{i}"))).collect();
    for n in &editors {
        put(&store, n, 500);
        age(&store, n, 86_400); // old and never read: first in line by recency alone
    }
    // A flood of fresh visitor objects, twenty times what fits.
    for i in 0..400 {
        put(&store, &name(Class::OnDemand, &format!("v{i}")), 500);
        let on_disk = store.stats().unwrap().bytes;
        assert!(on_disk <= 10_000, "cap exceeded after visitor write {i}: {on_disk} bytes");
    }
    assert!(editors.iter().all(|n| exists(&store, n)), "a visitor flood evicted pre-generated objects");
    // Only when nothing else is left do pre-generated objects go.
    for i in 0..30 {
        put(&store, &name(Class::Pregenerated, &format!("late{i}")), 500);
        assert!(store.stats().unwrap().bytes <= 10_000);
    }
    assert!(editors.iter().any(|n| !exists(&store, n)));
    // An object larger than the whole cap is refused, not half-stored.
    let err =
        store.put_blocking(&name(Class::OnDemand, "huge"), Payload::Bytes(Bytes::from(vec![0; 20_000])));
    assert!(err.unwrap_err().is_full());
    assert_eq!(std::fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
}

#[test]
fn an_object_being_read_survives_its_eviction() {
    let dir = tempfile::tempdir().unwrap();
    let store = DiskStore::open(dir.path(), 1000).unwrap();
    let used = name(Class::OnDemand, "used");
    put(&store, &used, 400);
    let obj = store.get_blocking(&used, None).unwrap().expect("cached");
    age(&store, &used, 100_000);
    for i in 0..4 {
        put(&store, &name(Class::OnDemand, &format!("new{i}")), 300);
    }
    assert!(!exists(&store, &used), "evicted (the cap is hard)");
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let bytes = rt.block_on(obj.bytes()).unwrap();
    assert_eq!(bytes.len(), 400, "but a reader that had it open still gets every byte");
}

#[test]
fn temporary_files_of_dead_processes_are_removed_on_open_and_by_prune() {
    let dir = tempfile::tempdir().unwrap();
    drop(DiskStore::open(dir.path(), 1 << 20).unwrap());
    let tmp = dir.path().join("tmp");
    // pid 1 is alive (init); a pid above pid_max never is.
    std::fs::write(tmp.join("999999999-abc.part"), b"partial").unwrap();
    std::fs::write(tmp.join(format!("{}-live.part", std::process::id())), b"in progress").unwrap();
    let store = DiskStore::open(dir.path(), 1 << 20).unwrap();
    let left: Vec<String> = std::fs::read_dir(&tmp)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, vec![format!("{}-live.part", std::process::id())], "only a live writer's file stays");
    let f = std::fs::File::options()
        .write(true)
        .open(tmp.join(format!("{}-live.part", std::process::id())))
        .unwrap();
    f.set_modified(SystemTime::now() - Duration::from_secs(7200)).unwrap();
    assert_eq!(store.prune_to(1 << 20).unwrap().temp_files_removed, 1, "abandoned for two hours");
}

#[test]
fn a_file_where_the_cache_dir_should_be_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cache");
    std::fs::write(&file, b"x").unwrap();
    let err = DiskStore::open(&file, 1000).unwrap_err().to_string();
    assert!(err.contains("is a file, not a directory"), "{err}");
}

#[test]
fn two_processes_share_one_cap() {
    // Two loa processes writing into one directory at once: each sees the
    // other's writes through the shared usage file, so the cap holds.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_path_buf();
    drop(DiskStore::open(&d, 50_000).unwrap());
    let writers: Vec<_> = (0..2)
        .map(|w| {
            let d = d.clone();
            std::thread::spawn(move || {
                // Separate DiskStore values have separate lock-file
                // descriptions, exactly like separate processes.
                let store = DiskStore::open(&d, 50_000).unwrap();
                for i in 0..300 {
                    put(&store, &name(Class::OnDemand, &format!("{w}-{i}")), 1000);
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    let store = DiskStore::open(&d, 50_000).unwrap();
    let s = store.stats().unwrap();
    assert!(s.bytes <= 50_000, "{} bytes under a 50000-byte cap", s.bytes);
    assert_eq!(store.usage().unwrap().total(), s.bytes, "the shared estimate matches the disk");
}

#[tokio::test]
async fn cache_promotes_on_demand_objects_and_finds_pre_generated_first() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::disk(DiskStore::open(dir.path(), 1 << 20).unwrap());
    let k = CacheKey::hash(&["article"]);
    cache.put(Class::OnDemand, &k, Ext::Mp3, Payload::Bytes(Bytes::from_static(b"mp3"))).await.unwrap();
    assert_eq!(cache.locate(&k, Ext::Mp3).await.unwrap().unwrap().name.class, Class::OnDemand);
    assert!(cache.promote(&k, Ext::Mp3).await.unwrap());
    let m = cache.locate(&k, Ext::Mp3).await.unwrap().unwrap();
    assert_eq!(m.name.class, Class::Pregenerated);
    assert!(cache.head(&m.name.with_class(Class::OnDemand)).await.unwrap().is_none(), "one copy only");
    // An on-demand write of a pre-generated object changes nothing.
    assert_eq!(
        cache.put(Class::OnDemand, &k, Ext::Mp3, Payload::Bytes(Bytes::from_static(b"x"))).await.unwrap(),
        Put::Exists
    );
    assert_eq!(cache.read(&k, Ext::Mp3).await.unwrap().unwrap(), Bytes::from_static(b"mp3"));
    assert_eq!(cache.purge(&k, Ext::Mp3).await.unwrap(), 1);
    assert!(cache.read(&k, Ext::Mp3).await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn key_locks_make_work_single_flight() {
    let locks = Arc::new(KeyLocks::default());
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::disk(DiskStore::open(dir.path(), 1 << 30).unwrap());
    let computed = Arc::new(AtomicUsize::new(0));
    let key = CacheKey::hash(&["shared"]);
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let (locks, cache, computed, key) = (locks.clone(), cache.clone(), computed.clone(), key.clone());
        tasks.push(tokio::spawn(async move {
            if cache.read(&key, Ext::Wav).await.unwrap().is_some() {
                return;
            }
            let _g = locks.lock(key.as_str()).await;
            if cache.read(&key, Ext::Wav).await.unwrap().is_some() {
                return;
            }
            computed.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(50)).await;
            cache
                .put(Class::OnDemand, &key, Ext::Wav, Payload::Bytes(Bytes::from_static(b"done")))
                .await
                .unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(computed.load(Ordering::SeqCst), 1);
    assert_eq!(locks.in_flight(), 0);
}
