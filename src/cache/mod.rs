//! The content-addressed audio cache.
//!
//! Objects are named by a [`CacheKey`] (the hash of everything that
//! determines their bytes), a [`Class`] (pre-generated, on-demand or plan;
//! also the name's prefix) and an [`Ext`]: `{class}/ab/cd/<key>.<ext>`.
//! Names are content addresses, so every write is put-if-absent and two
//! writers of one name leave one consistent object.
//!
//! [`Storage`] is the small trait of a place objects live ([`DiskStore`],
//! [`S3Store`] through the `object_store` crate). [`Cache`] is what the
//! engine uses: it looks objects up in the classes in order (pre-generated
//! first), promotes an object to pre-generated when an editor's run
//! writes it, and with a remote store keeps a bounded local disk tier in
//! front of it (read-through), counting lookups per tier and class for
//! `/metrics` ([`lookups`]). [`KeyLocks`] gives single-flight per key
//! within a process.

pub mod admin;
mod disk;
mod flight;
mod key;
mod lookups;
mod s3;
mod storage;

use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;

pub use disk::{DiskStore, Pruned, Stats, Usage, clamp};
pub use flight::KeyLocks;
pub use key::{CacheKey, Class, Ext, Name};
pub use lookups::Tier;
pub use s3::{PutStrategy, S3Store};
pub use storage::{Body, Meta, Object, Payload, Put, Storage};

use crate::config::CacheConfig;

/// Errors of the stores. Messages name the store path for the CLI and the
/// log; the HTTP layer never shows them to clients.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("cache directory {path}: {error}")]
    Dir { path: String, error: std::io::Error },
    #[error("the cache directory {0} is a file, not a directory")]
    NotADirectory(String),
    #[error("cannot write cache object {name} ({path}): {error}")]
    Write { name: String, path: String, error: std::io::Error },
    #[error("cannot read cache object {name}: {error}")]
    Read { name: String, error: std::io::Error },
    #[error("cache object {name} is {size} bytes, more than the whole cache may hold ({max} bytes)")]
    TooLarge { name: String, size: u64, max: u64 },
    #[error("the cache is full ({max} bytes) and nothing more can be evicted to store {name}")]
    Full { name: String, max: u64 },
    #[error("object store: {0}")]
    Remote(String),
    #[error("bad cache configuration: {0}")]
    Config(String),
    #[error("internal cache error: {0}")]
    Internal(String),
}

impl CacheError {
    /// Out of space (disk full, or the cap cannot make room).
    pub fn is_full(&self) -> bool {
        match self {
            CacheError::Full { .. } | CacheError::TooLarge { .. } => true,
            CacheError::Write { error, .. } | CacheError::Dir { error, .. } => {
                error.raw_os_error() == Some(28) || error.kind() == std::io::ErrorKind::StorageFull
            }
            _ => false,
        }
    }
}

/// The cache the engine uses: one store, or a remote store behind a local
/// disk tier. Cheap to clone.
#[derive(Clone)]
pub struct Cache {
    /// Where objects live for good.
    primary: Arc<dyn Storage>,
    /// The disk store: the primary itself, or the local tier of a remote one.
    disk: DiskStore,
    /// Whether `disk` is a tier in front of a remote primary.
    tiered: bool,
    /// One copy into the local tier at a time per object.
    fills: Arc<KeyLocks>,
    /// `[cache] public_base_url`, without a trailing slash.
    public_base: Option<Arc<str>>,
    /// `[cache] presign_secs` (with an object store and no public base).
    presign: Option<std::time::Duration>,
}

/// Where a client can fetch an object without loa.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    pub url: String,
    /// How long a client may reuse the redirect.
    pub max_age_secs: u64,
    /// Only the client itself may keep it (a presigned URL).
    pub private: bool,
}

/// The longest a SigV4 presigned URL may be valid.
const MAX_PRESIGN_SECS: u64 = 7 * 24 * 3600;

/// Objects up to this size are copied into the local tier through memory.
const TIER_IN_MEMORY: u64 = 8 * 1024 * 1024;

/// Classes an audio object is looked up in, in order.
const AUDIO_CLASSES: [Class; 2] = [Class::Pregenerated, Class::OnDemand];

impl Cache {
    /// The store configured by `[cache]`: `store = "s3://bucket/prefix"`
    /// (or `LOA_CACHE_STORE`) for an object store with `dir` as its local
    /// tier (capped at `local_max_bytes`), else the disk store at `dir`
    /// capped at `max_bytes`.
    pub fn open(config: &CacheConfig) -> Result<Cache, CacheError> {
        let public_base = match config.public_base_url.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(u)
                if (u.starts_with("https://") || u.starts_with("http://"))
                    && !u.contains(char::is_whitespace) =>
            {
                Some(Arc::from(u.trim_end_matches('/')))
            }
            Some(u) => {
                return Err(CacheError::Config(format!(
                    "cache.public_base_url {u:?}: expected an http(s):// URL"
                )));
            }
        };
        let store = config.store.as_deref().filter(|s| !s.trim().is_empty());
        let presign = match config.presign_secs {
            0 => None,
            s if s > MAX_PRESIGN_SECS => {
                return Err(CacheError::Config(format!(
                    "cache.presign_secs {s}: at most {MAX_PRESIGN_SECS} (7 days, the S3 limit)"
                )));
            }
            _ if store.is_none() => {
                return Err(CacheError::Config(
                    "cache.presign_secs needs cache.store (an object store)".into(),
                ));
            }
            _ if public_base.is_some() => None,
            s => Some(std::time::Duration::from_secs(s)),
        };
        let cache = match store {
            None => Cache::disk(DiskStore::open(&config.dir, config.max_bytes)?),
            Some(url) => {
                let remote = S3Store::from_url(url)?;
                let local = DiskStore::open(&config.dir, config.local_max_bytes)?;
                Cache::tiered(Arc::new(remote), local)
            }
        };
        Ok(Cache { public_base, presign, ..cache })
    }

    /// Whether audio GETs are redirected (`[cache] public_base_url` or
    /// `presign_secs`).
    pub fn redirects(&self) -> bool {
        self.public_base.is_some() || self.presign.is_some()
    }

    /// Where `name` can be fetched without loa: the public base (`[cache]
    /// public_base_url`), else a presigned URL of the object store
    /// (`presign_secs`), else `None`.
    pub async fn redirect_url(&self, name: &Name) -> Result<Option<Redirect>, CacheError> {
        if let Some(b) = &self.public_base {
            return Ok(Some(Redirect {
                url: format!("{b}/{}", name.path()),
                max_age_secs: 300,
                private: false,
            }));
        }
        let Some(expires) = self.presign else { return Ok(None) };
        let url = self.primary.presigned_get(name, expires).await?;
        // Reusable for half its life at most, so a client never follows a
        // stale one; a signed URL is not for shared caches.
        Ok(url.map(|url| Redirect { url, max_age_secs: (expires.as_secs() / 2).min(300), private: true }))
    }

    /// Which class of the primary store holds `key.ext` (never the local
    /// tier, which may keep a copy the primary store has since moved).
    pub async fn locate_primary(&self, key: &CacheKey, ext: Ext) -> Result<Option<Meta>, CacheError> {
        for class in AUDIO_CLASSES {
            if let Some(m) = self.primary.head(&Name::new(class, key, ext)).await? {
                return Ok(Some(m));
            }
        }
        Ok(None)
    }

    /// A cache on one disk store.
    pub fn disk(store: DiskStore) -> Cache {
        Cache {
            primary: Arc::new(store.clone()),
            disk: store,
            tiered: false,
            fills: Arc::default(),
            public_base: None,
            presign: None,
        }
    }

    /// A cache on `remote` with `local` as its read-through tier.
    pub fn tiered(remote: Arc<dyn Storage>, local: DiskStore) -> Cache {
        Cache {
            primary: remote,
            disk: local,
            tiered: true,
            fills: Arc::default(),
            public_base: None,
            presign: None,
        }
    }

    /// The disk store (the whole cache, or the local tier).
    pub fn disk_store(&self) -> &DiskStore {
        &self.disk
    }

    pub fn primary(&self) -> &Arc<dyn Storage> {
        &self.primary
    }

    pub fn is_tiered(&self) -> bool {
        self.tiered
    }

    pub fn describe(&self) -> String {
        if self.tiered {
            format!("{} (local tier: {})", self.primary.describe(), self.disk.describe())
        } else {
            self.primary.describe()
        }
    }

    /// Read `name`, through the local tier when there is one. A miss there
    /// copies the object from the primary store into the tier (a small one
    /// through memory, a large one streamed to a temporary file, one copy
    /// at a time per object) and serves the copy; an object the tier cannot
    /// hold is streamed from the primary store, only the range asked.
    ///
    /// Counts the lookup in each tier it consulted ([`lookups`]).
    pub async fn get(&self, name: &Name, range: Option<Range<u64>>) -> Result<Option<Object>, CacheError> {
        if !self.tiered {
            let got = self.primary.get(name, range).await?;
            lookups::record(Tier::Local, name.class, got.as_ref());
            return Ok(got);
        }
        let (got, from) = self.get_tiered(name, range).await?;
        let local_hit = from == Some(Tier::Local);
        lookups::record(Tier::Local, name.class, got.as_ref().filter(|_| local_hit));
        if !local_hit {
            lookups::record(Tier::Store, name.class, got.as_ref());
        }
        Ok(got)
    }

    /// [`Cache::get`] with a local tier, and which tier held the object.
    async fn get_tiered(
        &self,
        name: &Name,
        range: Option<Range<u64>>,
    ) -> Result<(Option<Object>, Option<Tier>), CacheError> {
        let local = |obj| (Some(obj), Some(Tier::Local));
        let store = |obj: Option<Object>| {
            let from = obj.as_ref().map(|_| Tier::Store);
            (obj, from)
        };
        if let Some(obj) = self.disk.get(name, range.clone()).await? {
            return Ok(local(obj));
        }
        let _fill = self.fills.lock(&name.path()).await;
        if let Some(obj) = self.disk.get(name, range.clone()).await? {
            return Ok(local(obj));
        }
        let Some(meta) = self.primary.head(name).await? else { return Ok((None, None)) };
        if meta.size > self.disk.max_bytes() / 4 {
            // Too large for the tier: stream just the range from the store.
            return Ok(store(self.primary.get(name, range).await?));
        }
        let Some(obj) = self.primary.get(name, None).await? else { return Ok((None, None)) };
        if obj.meta.size <= TIER_IN_MEMORY {
            let meta = obj.meta.clone();
            let bytes = obj.bytes().await?;
            self.keep_local(name, Payload::Bytes(bytes.clone())).await;
            let whole = bytes.len() as u64;
            let r = clamp(range, whole);
            let body = Body::Bytes(bytes.slice(r.start as usize..r.end as usize));
            return Ok(store(Some(Object { meta: Meta { size: whole, ..meta }, range: r, body })));
        }
        let tmp = copy_to_temp(&self.disk, name, obj).await?;
        self.keep_local(name, Payload::File(tmp)).await;
        // Copied from the store just now: served from the copy, counted
        // as the store's hit.
        match self.disk.get(name, range.clone()).await? {
            Some(copy) => Ok(store(Some(copy))),
            None => Ok(store(self.primary.get(name, range).await?)),
        }
    }

    /// Keep a copy in the local tier; a failure there only costs speed.
    async fn keep_local(&self, name: &Name, payload: Payload) {
        if let Err(e) = self.disk.put(name, payload).await {
            tracing::warn!(object = %name, error = %e, "cannot keep a local copy");
        }
    }

    /// Whether `name` exists (checking the local tier first).
    pub async fn head(&self, name: &Name) -> Result<Option<Meta>, CacheError> {
        if self.tiered
            && let Some(m) = self.disk.head(name).await?
        {
            return Ok(Some(m));
        }
        self.primary.head(name).await
    }

    /// The audio or timings object `key.ext`, pre-generated copy first.
    pub async fn find(
        &self,
        key: &CacheKey,
        ext: Ext,
        range: Option<Range<u64>>,
    ) -> Result<Option<Object>, CacheError> {
        for class in AUDIO_CLASSES {
            if let Some(obj) = self.get(&Name::new(class, key, ext), range.clone()).await? {
                return Ok(Some(obj));
            }
        }
        Ok(None)
    }

    /// Which class holds `key.ext`, if any.
    pub async fn locate(&self, key: &CacheKey, ext: Ext) -> Result<Option<Meta>, CacheError> {
        for class in AUDIO_CLASSES {
            if let Some(m) = self.head(&Name::new(class, key, ext)).await? {
                return Ok(Some(m));
            }
        }
        Ok(None)
    }

    /// All bytes of `key.ext` (small objects only).
    pub async fn read(&self, key: &CacheKey, ext: Ext) -> Result<Option<Bytes>, CacheError> {
        match self.find(key, ext, None).await? {
            Some(obj) => Ok(Some(obj.bytes().await?)),
            None => Ok(None),
        }
    }

    /// Store `key.ext` as `class` unless it is already stored. Writing a
    /// pre-generated object that exists on demand promotes it (so eviction
    /// keeps it); writing an on-demand object that was pre-generated keeps
    /// the pre-generated copy.
    pub async fn put(
        &self,
        class: Class,
        key: &CacheKey,
        ext: Ext,
        payload: Payload,
    ) -> Result<Put, CacheError> {
        let name = Name::new(class, key, ext);
        if class == Class::OnDemand && self.head(&name.with_class(Class::Pregenerated)).await?.is_some() {
            return Ok(Put::Exists);
        }
        let put = if self.tiered {
            self.put_through(&name, payload).await?
        } else {
            self.primary.put(&name, payload).await?
        };
        if class == Class::Pregenerated {
            let live = name.with_class(Class::OnDemand);
            self.primary.delete(&live).await?;
            if self.tiered {
                self.disk.delete(&live).await?;
            }
        }
        Ok(put)
    }

    /// Write to the primary store, and when this write created the object,
    /// to the local tier too (a file is hard-linked, not copied). When
    /// another writer was first, the local tier is left to fill from the
    /// primary store on the next read, so it never holds other bytes.
    async fn put_through(&self, name: &Name, payload: Payload) -> Result<Put, CacheError> {
        let (remote, local) = match payload {
            Payload::Bytes(b) => (Payload::Bytes(b.clone()), Some(Payload::Bytes(b))),
            Payload::File(f) => match link_temp(&self.disk, &f) {
                Some(link) => (Payload::File(link), Some(Payload::File(f))),
                None => (Payload::File(f), None),
            },
        };
        let put = self.primary.put(name, remote).await?;
        if let (Put::Created, Some(local)) = (put, local) {
            self.keep_local(name, local).await;
        }
        Ok(put)
    }

    /// Make an existing on-demand object pre-generated (copying it).
    /// Returns false when it is in neither class.
    pub async fn promote(&self, key: &CacheKey, ext: Ext) -> Result<bool, CacheError> {
        let gen_name = Name::new(Class::Pregenerated, key, ext);
        if self.head(&gen_name).await?.is_some() {
            return Ok(true);
        }
        let Some(obj) = self.get(&gen_name.with_class(Class::OnDemand), None).await? else {
            return Ok(false);
        };
        let mut tmp = self.temp_file()?;
        let mut stream = obj.into_stream();
        while let Some(chunk) = futures::StreamExt::next(&mut stream).await {
            std::io::Write::write_all(tmp.as_file_mut(), &chunk?).map_err(|error| CacheError::Write {
                name: gen_name.to_string(),
                path: tmp.path().display().to_string(),
                error,
            })?;
        }
        self.put(Class::Pregenerated, key, ext, Payload::File(tmp)).await?;
        Ok(true)
    }

    /// Remove `key.ext` from every class (admin purge). Returns how many
    /// copies were removed.
    pub async fn purge(&self, key: &CacheKey, ext: Ext) -> Result<usize, CacheError> {
        let mut n = 0;
        for class in Class::ALL {
            let name = Name::new(class, key, ext);
            if self.primary.delete(&name).await? {
                n += 1;
            }
            if self.tiered {
                self.disk.delete(&name).await?;
            }
        }
        Ok(n)
    }

    /// A temporary file for [`Payload::File`].
    pub fn temp_file(&self) -> Result<tempfile::NamedTempFile, CacheError> {
        if self.tiered { self.disk.temp_file() } else { self.primary.temp_file() }
    }
}

/// Stream `obj` into a temporary file of `disk`'s (bounded memory).
async fn copy_to_temp(
    disk: &DiskStore,
    name: &Name,
    obj: Object,
) -> Result<tempfile::NamedTempFile, CacheError> {
    let tmp = disk.temp_file()?;
    let path = tmp.path().display().to_string();
    let werr = |error| CacheError::Write { name: name.to_string(), path: path.clone(), error };
    let mut file = tokio::fs::File::from_std(tmp.reopen().map_err(&werr)?);
    let mut stream = obj.into_stream();
    while let Some(chunk) = futures::StreamExt::next(&mut stream).await {
        tokio::io::AsyncWriteExt::write_all(&mut file, &chunk?).await.map_err(&werr)?;
    }
    tokio::io::AsyncWriteExt::flush(&mut file).await.map_err(&werr)?;
    Ok(tmp)
}

/// A second name for the filled temporary file `f` in `disk`'s temporary
/// directory (a hard link), so one file can be handed to two stores.
fn link_temp(disk: &DiskStore, f: &tempfile::NamedTempFile) -> Option<tempfile::NamedTempFile> {
    let other = disk.temp_file().ok()?;
    let (_, path) = other.into_parts();
    let target = path.to_path_buf();
    drop(path); // removes the placeholder file
    std::fs::hard_link(f.path(), &target).ok()?;
    let file = std::fs::File::open(&target).ok()?;
    Some(tempfile::NamedTempFile::from_parts(file, tempfile::TempPath::try_from_path(target).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> CacheKey {
        CacheKey::hash(&[s])
    }

    /// A tier in front of another disk store (the contract is the same
    /// for the object store; tests/it/s3_store.rs runs it on Garage).
    #[tokio::test]
    async fn the_local_tier_is_written_through_and_filled_on_reads() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let remote = DiskStore::open(a.path(), 1 << 30).unwrap();
        let local = DiskStore::open(b.path(), 40 << 20).unwrap();
        let cache = Cache::tiered(Arc::new(remote.clone()), local.clone());

        let ours = Name::new(Class::OnDemand, &key("ours"), Ext::Mp3);
        cache
            .put(Class::OnDemand, &key("ours"), Ext::Mp3, Payload::Bytes(Bytes::from_static(b"ours")))
            .await
            .unwrap();
        assert!(remote.head(&ours).await.unwrap().is_some() && local.head(&ours).await.unwrap().is_some());

        // A file payload is linked into both stores.
        let mut tmp = cache.temp_file().unwrap();
        std::io::Write::write_all(&mut tmp, &[7u8; 100_000]).unwrap();
        cache.put(Class::OnDemand, &key("file"), Ext::Wav, Payload::File(tmp)).await.unwrap();
        let file = Name::new(Class::OnDemand, &key("file"), Ext::Wav);
        assert_eq!(remote.head(&file).await.unwrap().unwrap().size, 100_000);
        assert_eq!(local.head(&file).await.unwrap().unwrap().size, 100_000);
        assert_eq!(std::fs::read_dir(b.path().join("tmp")).unwrap().count(), 0, "no temporary file left");

        // Another writer's object: the tier keeps what the primary holds.
        let theirs = Name::new(Class::OnDemand, &key("theirs"), Ext::Mp3);
        remote.put(&theirs, Payload::Bytes(Bytes::from_static(b"theirs"))).await.unwrap();
        let put = cache
            .put(Class::OnDemand, &key("theirs"), Ext::Mp3, Payload::Bytes(Bytes::from_static(b"mine")))
            .await;
        assert_eq!(put.unwrap(), Put::Exists);
        assert!(local.head(&theirs).await.unwrap().is_none(), "our losing bytes are not kept");
        let got = cache.get(&theirs, Some(1..4)).await.unwrap().unwrap();
        assert_eq!(got.bytes().await.unwrap(), &b"heirs"[..3]);
        assert_eq!(local.read_blocking(&theirs).unwrap().unwrap(), b"theirs");

        // Larger than a quarter of the tier: read from the primary, not kept.
        let big = Name::new(Class::OnDemand, &key("big"), Ext::Mp3);
        remote.put(&big, Payload::Bytes(Bytes::from(vec![1u8; 11 << 20]))).await.unwrap();
        let got = cache.get(&big, Some(5..10)).await.unwrap().unwrap();
        assert_eq!(got.bytes().await.unwrap(), vec![1u8; 5]);
        assert!(local.head(&big).await.unwrap().is_none());
        assert!(cache.get(&Name::new(Class::Plan, &key("none"), Ext::Json), None).await.unwrap().is_none());
    }
}
