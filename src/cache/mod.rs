//! Content-addressed audio cache on disk.
//!
//! Objects live at `DIR/ab/cd/<key>.<ext>` where `key` is the hex SHA-256
//! of everything that determines the bytes ([`key`]). Writes go to a
//! temporary file in the same directory and are renamed into place, so a
//! crash never leaves a partial object. Reading an object refreshes its
//! modification time; above the size cap the least recently used objects
//! are evicted. [`KeyLocks`] gives single-flight per key.

mod flight;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use sha2::{Digest, Sha256};

pub use flight::KeyLocks;

/// Errors of the on-disk store.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("cannot use cache directory {path}")]
    Dir { path: String, source: std::io::Error },
    #[error("cannot write cache object {path}")]
    Write { path: String, source: std::io::Error },
    #[error("cannot read cache object {path}")]
    Read { path: String, source: std::io::Error },
    #[error("invalid cache key {0:?}")]
    BadKey(String),
}

/// Hash the parts (length-framed, so `["ab","c"]` ≠ `["a","bc"]`) to a
/// 64-character lowercase hex key.
pub fn key(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p.as_bytes());
    }
    hex::encode(h.finalize())
}

/// A 64-character lowercase hex string.
pub fn valid_key(key: &str) -> bool {
    key.len() == 64 && key.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn valid_ext(ext: &str) -> bool {
    !ext.is_empty() && ext.len() <= 8 && ext.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Counts of what the cache holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Stats {
    pub objects: u64,
    pub bytes: u64,
    /// (extension, objects, bytes), sorted by extension.
    pub by_ext: Vec<(String, u64, u64)>,
    pub max_bytes: u64,
}

/// What a prune removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Pruned {
    pub removed: u64,
    pub freed_bytes: u64,
    pub remaining_bytes: u64,
}

/// The store. Cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct Store {
    dir: PathBuf,
    max_bytes: u64,
    /// Bytes on disk, computed on the first write (reads never walk).
    size: Mutex<Size>,
}

/// The running size estimate and whether eviction is worth walking for.
#[derive(Debug, Default)]
struct Size {
    bytes: Option<u64>,
    /// When the last eviction freed nothing and left the store over its cap
    /// (every object young): later puts skip the walk for [`RETRY_EVICT`].
    stuck_at: Option<Instant>,
}

/// Temporary files start with this; they are never objects.
const TMP_PREFIX: &str = ".tmp-";
/// Reads refresh an object's mtime at most this often.
const TOUCH_AFTER: Duration = Duration::from_secs(60);
/// Objects younger than this are not evicted (they may be in use). Longer
/// than [`TOUCH_AFTER`] with a margin, so an object just returned by
/// [`Store::get`] is always protected for at least a minute.
const PROTECT_YOUNG: Duration = Duration::from_secs(120);
/// After an eviction that could free nothing, wait this long before walking
/// the store again (instead of walking on every write).
const RETRY_EVICT: Duration = Duration::from_secs(10);

impl Store {
    /// Open (creating) the store at `dir`.
    pub fn open(dir: &Path, max_bytes: u64) -> Result<Store, CacheError> {
        let fail = |source| CacheError::Dir { path: dir.display().to_string(), source };
        if dir.exists() && !dir.is_dir() {
            let kind = std::io::ErrorKind::NotADirectory;
            return Err(fail(std::io::Error::new(kind, "it is a file, not a directory")));
        }
        std::fs::create_dir_all(dir).map_err(fail)?;
        Ok(Store { dir: dir.to_path_buf(), max_bytes, size: Mutex::new(Size::default()) })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    /// Where `key.ext` lives; `None` for an invalid key or extension.
    pub fn path(&self, key: &str, ext: &str) -> Option<PathBuf> {
        if !valid_key(key) || !valid_ext(ext) {
            return None;
        }
        Some(self.dir.join(&key[0..2]).join(&key[2..4]).join(format!("{key}.{ext}")))
    }

    /// Path of an existing object, refreshing its recency.
    pub fn get(&self, key: &str, ext: &str) -> Option<PathBuf> {
        let path = self.path(key, ext)?;
        let meta = std::fs::metadata(&path).ok()?;
        if !meta.is_file() {
            return None;
        }
        let stale = meta.modified().ok().and_then(|m| m.elapsed().ok()).is_none_or(|age| age > TOUCH_AFTER);
        if stale && let Ok(f) = std::fs::File::open(&path) {
            let _ = f.set_modified(SystemTime::now());
        }
        Some(path)
    }

    /// Bytes of an existing object.
    pub fn read(&self, key: &str, ext: &str) -> Result<Option<Vec<u8>>, CacheError> {
        let Some(path) = self.get(key, ext) else { return Ok(None) };
        match std::fs::read(&path) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(CacheError::Read { path: path.display().to_string(), source }),
        }
    }

    /// Store `bytes` as `key.ext` atomically; evicts old objects when the
    /// store grows past its cap.
    pub fn put(&self, key: &str, ext: &str, bytes: &[u8]) -> Result<PathBuf, CacheError> {
        let path = self.path(key, ext).ok_or_else(|| CacheError::BadKey(format!("{key}.{ext}")))?;
        let parent = path.parent().unwrap_or(&self.dir);
        let werr = |source| CacheError::Write { path: path.display().to_string(), source };
        std::fs::create_dir_all(parent).map_err(werr)?;
        let mut tmp = tempfile::Builder::new().prefix(TMP_PREFIX).tempfile_in(parent).map_err(werr)?;
        tmp.write_all(bytes).map_err(werr)?;
        tmp.as_file().sync_data().map_err(werr)?;
        // An object replaced in place must not be counted twice.
        let replaced = std::fs::metadata(&path).ok().filter(|m| m.is_file()).map_or(0, |m| m.len());
        tmp.persist(&path).map_err(|e| werr(e.error))?;
        self.grow(bytes.len() as u64, replaced)?;
        Ok(path)
    }

    fn grow(&self, added: u64, replaced: u64) -> Result<(), CacheError> {
        let mut size = self.size.lock().unwrap_or_else(|p| p.into_inner());
        let now = match size.bytes {
            Some(s) => (s + added).saturating_sub(replaced),
            None => self.walk()?.iter().map(|e| e.bytes).sum(),
        };
        size.bytes = Some(now);
        if now <= self.max_bytes {
            size.stuck_at = None;
        } else if size.stuck_at.is_none_or(|t| t.elapsed() >= RETRY_EVICT) {
            let pruned = self.evict(self.max_bytes / 10 * 9)?;
            tracing::info!(
                removed = pruned.removed,
                freed = pruned.freed_bytes,
                "cache over its cap; evicted"
            );
            size.bytes = Some(pruned.remaining_bytes);
            size.stuck_at =
                (pruned.remaining_bytes > self.max_bytes && pruned.freed_bytes == 0).then(Instant::now);
        }
        Ok(())
    }

    /// Every object (temporary files excluded; stale ones are removed).
    fn walk(&self) -> Result<Vec<Entry>, CacheError> {
        let mut out = Vec::new();
        let derr = |path: &Path, source| CacheError::Dir { path: path.display().to_string(), source };
        let top = match std::fs::read_dir(&self.dir) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(derr(&self.dir, e)),
        };
        for a in top.flatten() {
            let Ok(level2) = std::fs::read_dir(a.path()) else { continue };
            for b in level2.flatten() {
                let Ok(files) = std::fs::read_dir(b.path()) else { continue };
                for f in files.flatten() {
                    let Ok(meta) = f.metadata() else { continue };
                    if !meta.is_file() {
                        continue;
                    }
                    let name = f.file_name().to_string_lossy().into_owned();
                    let mtime = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
                    if name.starts_with(TMP_PREFIX) {
                        // Left by a crash mid-write: never an object.
                        if mtime.elapsed().is_ok_and(|age| age > Duration::from_secs(3600)) {
                            let _ = std::fs::remove_file(f.path());
                        }
                        continue;
                    }
                    let ext = name.rsplit_once('.').map(|(_, e)| e.to_string()).unwrap_or_default();
                    out.push(Entry { path: f.path(), ext, bytes: meta.len(), mtime });
                }
            }
        }
        Ok(out)
    }

    /// Count objects and bytes.
    pub fn stats(&self) -> Result<Stats, CacheError> {
        let entries = self.walk()?;
        let mut by: std::collections::BTreeMap<String, (u64, u64)> = Default::default();
        for e in &entries {
            let s = by.entry(e.ext.clone()).or_default();
            s.0 += 1;
            s.1 += e.bytes;
        }
        Ok(Stats {
            objects: entries.len() as u64,
            bytes: entries.iter().map(|e| e.bytes).sum(),
            by_ext: by.into_iter().map(|(k, (n, b))| (k, n, b)).collect(),
            max_bytes: self.max_bytes,
        })
    }

    /// Evict least recently used objects until at most `target` bytes
    /// remain (objects written in the last few seconds are kept).
    pub fn prune_to(&self, target: u64) -> Result<Pruned, CacheError> {
        let mut size = self.size.lock().unwrap_or_else(|p| p.into_inner());
        let report = self.evict(target)?;
        size.bytes = Some(report.remaining_bytes);
        size.stuck_at = None;
        Ok(report)
    }

    /// Eviction proper; the caller holds the `size` lock.
    fn evict(&self, target: u64) -> Result<Pruned, CacheError> {
        let mut entries = self.walk()?;
        let mut total: u64 = entries.iter().map(|e| e.bytes).sum();
        entries.sort_by_key(|e| e.mtime);
        let mut report = Pruned::default();
        for e in entries {
            if total <= target {
                break;
            }
            if e.mtime.elapsed().is_ok_and(|age| age < PROTECT_YOUNG) {
                continue;
            }
            if std::fs::remove_file(&e.path).is_ok() {
                total -= e.bytes;
                report.removed += 1;
                report.freed_bytes += e.bytes;
            }
        }
        report.remaining_bytes = total;
        Ok(report)
    }
}

struct Entry {
    path: PathBuf,
    ext: String,
    bytes: u64,
    mtime: SystemTime,
}
