//! The local disk store: `DIR/{gen,live,plans}/ab/cd/<key>.<ext>`.
//!
//! Writes go to `DIR/tmp/<pid>-<random>.part`, are synced, and are renamed
//! into place only if the name is still free (put-if-absent), so a crash
//! never leaves a partial object and two writers of one name keep one copy.
//! The size cap is hard: before a rename the store evicts until the new
//! object fits, on-demand objects first (least recently read first), then
//! plans, and pre-generated objects only when nothing else is left. Reads
//! hand out open file handles, so eviction never breaks a response in
//! flight and nothing needs a grace period.
//!
//! Several processes may share one directory: every change to the
//! directory's contents happens under an exclusive `flock` on `DIR/.lock`
//! (plus a mutex for the threads of this process), and the running total
//! lives in `DIR/.usage`, so each process sees the others' writes. A crash
//! between a rename and the usage update leaves the total a little low;
//! every eviction walk and `loa cache prune` recount it. Temporary files of
//! processes that are gone (or older than an hour) are removed when the
//! store is opened and by `prune`.

use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;

use super::storage::{Body, Meta, Object, Payload, Put, Storage};
use super::{CacheError, Class, Name};

/// Reads refresh an object's mtime (its recency) at most this often.
const TOUCH_AFTER: Duration = Duration::from_secs(60);
/// A temporary file this old is abandoned even if its process lives.
const STALE_TEMP: Duration = Duration::from_secs(3600);
/// Evicting frees this much below the cap, so walks are not needed on every put.
const EVICT_TO: f64 = 0.9;

/// Size of `DIR/.usage` (one sector: written at once).
const USAGE_BYTES: usize = 512;

/// Bytes held per class, as kept in `DIR/.usage`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Usage {
    pub gen_bytes: u64,
    pub live_bytes: u64,
    pub plan_bytes: u64,
}

impl Usage {
    pub fn total(&self) -> u64 {
        self.gen_bytes + self.live_bytes + self.plan_bytes
    }

    fn slot(&mut self, class: Class) -> &mut u64 {
        match class {
            Class::Pregenerated => &mut self.gen_bytes,
            Class::OnDemand => &mut self.live_bytes,
            Class::Plan => &mut self.plan_bytes,
        }
    }
}

/// What a prune removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Pruned {
    pub removed: u64,
    pub freed_bytes: u64,
    pub remaining_bytes: u64,
    pub temp_files_removed: u64,
}

/// Counts of what the store holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Stats {
    pub objects: u64,
    pub bytes: u64,
    pub max_bytes: u64,
    /// (class, extension) → (objects, bytes).
    pub by_kind: Vec<(String, String, u64, u64)>,
}

#[derive(Debug)]
struct Shared {
    dir: PathBuf,
    max_bytes: u64,
    lock_file: std::fs::File,
    threads: Mutex<()>,
}

/// The disk store. Cheap to clone.
#[derive(Debug, Clone)]
pub struct DiskStore {
    inner: Arc<Shared>,
}

/// Held while the directory is changed: the thread mutex, then the flock.
struct Locked<'a> {
    _threads: std::sync::MutexGuard<'a, ()>,
    file: &'a std::fs::File,
}

impl Drop for Locked<'_> {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}

fn dir_err(path: &Path, source: std::io::Error) -> CacheError {
    CacheError::Dir { path: path.display().to_string(), error: source }
}

impl DiskStore {
    /// Open (creating) the store at `dir` with a hard cap of `max_bytes`,
    /// removing temporary files left by processes that are gone.
    pub fn open(dir: &Path, max_bytes: u64) -> Result<DiskStore, CacheError> {
        if dir.exists() && !dir.is_dir() {
            return Err(CacheError::NotADirectory(dir.display().to_string()));
        }
        for sub in ["", "tmp", "gen", "live", "plans"] {
            let d = dir.join(sub);
            std::fs::create_dir_all(&d).map_err(|e| dir_err(&d, e))?;
        }
        let lock_path = dir.join(".lock");
        let lock_file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| dir_err(&lock_path, e))?;
        let store = DiskStore {
            inner: Arc::new(Shared { dir: dir.to_path_buf(), max_bytes, lock_file, threads: Mutex::new(()) }),
        };
        let guard = store.lock()?;
        store.clean_temp(false)?;
        if store.read_usage().is_none() {
            let usage = store.count(&store.walk_all()?);
            store.write_usage(&usage)?;
        }
        drop(guard);
        Ok(store)
    }

    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    pub fn max_bytes(&self) -> u64 {
        self.inner.max_bytes
    }

    fn lock(&self) -> Result<Locked<'_>, CacheError> {
        let threads = self.inner.threads.lock().unwrap_or_else(|p| p.into_inner());
        self.inner.lock_file.lock().map_err(|e| dir_err(&self.inner.dir.join(".lock"), e))?;
        Ok(Locked { _threads: threads, file: &self.inner.lock_file })
    }

    fn path(&self, name: &Name) -> PathBuf {
        self.inner.dir.join(name.path())
    }

    fn usage_path(&self) -> PathBuf {
        self.inner.dir.join(".usage")
    }

    fn read_usage(&self) -> Option<Usage> {
        let text = std::fs::read(self.usage_path()).ok()?;
        serde_json::from_slice(&text).ok()
    }

    /// Rewritten in place under the lock (a put is not worth a new file):
    /// the JSON padded with spaces to one sector, so the length rarely
    /// changes; a torn or stale file fails to parse and is recounted.
    fn write_usage(&self, usage: &Usage) -> Result<(), CacheError> {
        use std::os::unix::fs::FileExt;
        let path = self.usage_path();
        let mut json = serde_json::to_vec(usage).map_err(|e| CacheError::Internal(e.to_string()))?;
        json.resize(json.len().max(USAGE_BYTES), b' ');
        let file = std::fs::OpenOptions::new().write(true).create(true).truncate(false).open(&path);
        file.and_then(|f| {
            f.write_all_at(&json, 0)?;
            if f.metadata()?.len() != json.len() as u64 {
                f.set_len(json.len() as u64)?;
            }
            Ok(())
        })
        .map_err(|e| dir_err(&path, e))
    }

    /// The running totals (recounted if the file is missing or damaged).
    pub fn usage(&self) -> Result<Usage, CacheError> {
        let _guard = self.lock()?;
        match self.read_usage() {
            Some(u) => Ok(u),
            None => {
                let u = self.count(&self.walk_all()?);
                self.write_usage(&u)?;
                Ok(u)
            }
        }
    }

    /// Remove temporary files of processes that are gone (or all of them
    /// older than an hour); with `all`, every temporary file not being
    /// written by a live process.
    fn clean_temp(&self, _all: bool) -> Result<u64, CacheError> {
        let tmp = self.inner.dir.join("tmp");
        let entries = match std::fs::read_dir(&tmp) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(dir_err(&tmp, e)),
        };
        let mut removed = 0;
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let pid = name.split('-').next().and_then(|p| p.parse::<u32>().ok());
            let alive = pid.is_some_and(|p| Path::new("/proc").join(p.to_string()).exists());
            let old = e
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|m| m.elapsed().ok())
                .is_some_and(|a| a > STALE_TEMP);
            if (!alive || old) && std::fs::remove_file(e.path()).is_ok() {
                removed += 1;
            }
        }
        Ok(removed)
    }

    fn walk_class(&self, class: Class, out: &mut Vec<Meta>) -> Result<(), CacheError> {
        let root = self.inner.dir.join(class.prefix());
        let top = match std::fs::read_dir(&root) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(dir_err(&root, e)),
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
                    let rel = format!(
                        "{}/{}/{}/{}",
                        class.prefix(),
                        a.file_name().to_string_lossy(),
                        b.file_name().to_string_lossy(),
                        f.file_name().to_string_lossy()
                    );
                    if let Some(name) = Name::parse(&rel) {
                        let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
                        out.push(Meta { name, size: meta.len(), modified });
                    }
                }
            }
        }
        Ok(())
    }

    fn walk_all(&self) -> Result<Vec<Meta>, CacheError> {
        let mut out = Vec::new();
        for c in Class::ALL {
            self.walk_class(c, &mut out)?;
        }
        Ok(out)
    }

    fn count(&self, entries: &[Meta]) -> Usage {
        let mut u = Usage::default();
        for e in entries {
            *u.slot(e.name.class) += e.size;
        }
        u
    }

    /// Delete objects, lowest class rank and least recent first, until the
    /// total is at most `target`; the caller holds the lock. Returns the
    /// recounted usage.
    fn evict_locked(&self, target: u64, report: &mut Pruned) -> Result<Usage, CacheError> {
        let mut entries = self.walk_all()?;
        let mut usage = self.count(&entries);
        entries.sort_by_key(|e| (e.name.class.eviction_rank(), e.modified));
        for e in entries {
            if usage.total() <= target {
                break;
            }
            if std::fs::remove_file(self.path(&e.name)).is_ok() {
                *usage.slot(e.name.class) -= e.size;
                report.removed += 1;
                report.freed_bytes += e.size;
            }
        }
        report.remaining_bytes = usage.total();
        self.write_usage(&usage)?;
        Ok(usage)
    }

    /// Evict down to `target` bytes and remove abandoned temporary files.
    pub fn prune_to(&self, target: u64) -> Result<Pruned, CacheError> {
        let _guard = self.lock()?;
        let mut report = Pruned { temp_files_removed: self.clean_temp(true)?, ..Pruned::default() };
        self.evict_locked(target, &mut report)?;
        Ok(report)
    }

    /// Delete every object last read or written before `cutoff`.
    pub fn prune_older_than(&self, cutoff: SystemTime) -> Result<Pruned, CacheError> {
        let _guard = self.lock()?;
        let mut report = Pruned { temp_files_removed: self.clean_temp(true)?, ..Pruned::default() };
        let entries = self.walk_all()?;
        let mut usage = self.count(&entries);
        for e in entries.iter().filter(|e| e.modified < cutoff) {
            if std::fs::remove_file(self.path(&e.name)).is_ok() {
                *usage.slot(e.name.class) -= e.size;
                report.removed += 1;
                report.freed_bytes += e.size;
            }
        }
        report.remaining_bytes = usage.total();
        self.write_usage(&usage)?;
        Ok(report)
    }

    /// Count objects and bytes by class and extension.
    pub fn stats(&self) -> Result<Stats, CacheError> {
        let entries = self.walk_all()?;
        let mut by: BTreeMap<(String, String), (u64, u64)> = BTreeMap::new();
        for e in &entries {
            let s =
                by.entry((e.name.class.prefix().to_string(), e.name.ext.as_str().to_string())).or_default();
            s.0 += 1;
            s.1 += e.size;
        }
        Ok(Stats {
            objects: entries.len() as u64,
            bytes: entries.iter().map(|e| e.size).sum(),
            max_bytes: self.inner.max_bytes,
            by_kind: by.into_iter().map(|((c, x), (n, b))| (c, x, n, b)).collect(),
        })
    }

    fn temp(&self) -> Result<tempfile::NamedTempFile, CacheError> {
        let dir = self.inner.dir.join("tmp");
        tempfile::Builder::new()
            .prefix(&format!("{}-", std::process::id()))
            .suffix(".part")
            .tempfile_in(&dir)
            .map_err(|source| CacheError::Write {
                name: "a temporary file".into(),
                path: dir.display().to_string(),
                error: source,
            })
    }

    /// The blocking body of [`Storage::put`].
    pub fn put_blocking(&self, name: &Name, payload: Payload) -> Result<Put, CacheError> {
        let path = self.path(name);
        let werr = |source| CacheError::Write {
            name: name.to_string(),
            path: path.display().to_string(),
            error: source,
        };
        // Fill and sync the temporary file before taking the lock.
        let tmp = match payload {
            Payload::Bytes(b) => {
                let mut t = self.temp()?;
                t.write_all(&b).map_err(werr)?;
                t
            }
            Payload::File(f) => {
                let ours = f.path().parent() == Some(self.inner.dir.join("tmp").as_path());
                if ours {
                    f
                } else {
                    let mut t = self.temp()?;
                    let mut src = f.reopen().map_err(werr)?;
                    std::io::copy(&mut src, t.as_file_mut()).map_err(werr)?;
                    t
                }
            }
        };
        tmp.as_file().sync_data().map_err(werr)?;
        let size = tmp.as_file().metadata().map_err(werr)?.len();
        let max = self.inner.max_bytes;
        if size > max {
            return Err(CacheError::TooLarge { name: name.to_string(), size, max });
        }
        let _guard = self.lock()?;
        if path.is_file() {
            touch(&path);
            return Ok(Put::Exists);
        }
        let mut usage = match self.read_usage() {
            Some(u) => u,
            None => self.count(&self.walk_all()?),
        };
        if usage.total() + size > max {
            let target = ((max as f64 * EVICT_TO) as u64).saturating_sub(size).min(max - size);
            usage = self.evict_locked(target, &mut Pruned::default())?;
            if usage.total() + size > max {
                return Err(CacheError::Full { name: name.to_string(), max });
            }
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(werr)?;
        }
        tmp.persist(&path).map_err(|e| werr(e.error))?;
        *usage.slot(name.class) += size;
        self.write_usage(&usage)?;
        Ok(Put::Created)
    }

    /// The blocking body of [`Storage::get`].
    pub fn get_blocking(&self, name: &Name, range: Option<Range<u64>>) -> Result<Option<Object>, CacheError> {
        let path = self.path(name);
        let mut file = match std::fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(CacheError::Read { name: name.to_string(), error: source }),
        };
        let meta =
            file.metadata().map_err(|source| CacheError::Read { name: name.to_string(), error: source })?;
        if !meta.is_file() {
            return Ok(None);
        }
        let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
        if modified.elapsed().is_ok_and(|age| age > TOUCH_AFTER) {
            let _ = file.set_modified(SystemTime::now());
        }
        let size = meta.len();
        let range = clamp(range, size);
        file.seek(SeekFrom::Start(range.start))
            .map_err(|source| CacheError::Read { name: name.to_string(), error: source })?;
        Ok(Some(Object { meta: Meta { name: name.clone(), size, modified }, range, body: Body::File(file) }))
    }

    /// Read a whole small object (blocking).
    pub fn read_blocking(&self, name: &Name) -> Result<Option<Vec<u8>>, CacheError> {
        let Some(obj) = self.get_blocking(name, None)? else { return Ok(None) };
        let Body::File(mut f) = obj.body else { return Ok(None) };
        let mut buf = Vec::with_capacity(obj.meta.size as usize);
        f.read_to_end(&mut buf)
            .map_err(|source| CacheError::Read { name: name.to_string(), error: source })?;
        Ok(Some(buf))
    }

    fn delete_blocking(&self, name: &Name) -> Result<bool, CacheError> {
        let path = self.path(name);
        let _guard = self.lock()?;
        let size = match std::fs::metadata(&path) {
            Ok(m) => m.len(),
            Err(_) => return Ok(false),
        };
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(source) => {
                return Err(CacheError::Write {
                    name: name.to_string(),
                    path: path.display().to_string(),
                    error: source,
                });
            }
        }
        if let Some(mut u) = self.read_usage() {
            let slot = u.slot(name.class);
            *slot = slot.saturating_sub(size);
            self.write_usage(&u)?;
        }
        Ok(true)
    }
}

fn touch(path: &Path) {
    if let Ok(f) = std::fs::File::options().write(true).open(path) {
        let _ = f.set_modified(SystemTime::now());
    }
}

/// `range` within an object of `size` bytes (the whole object for `None`).
pub fn clamp(range: Option<Range<u64>>, size: u64) -> Range<u64> {
    match range {
        None => 0..size,
        Some(r) => r.start.min(size)..r.end.min(size).max(r.start.min(size)),
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, CacheError> + Send + 'static,
) -> Result<T, CacheError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| CacheError::Internal(format!("storage task failed: {e}")))?
}

#[async_trait]
impl Storage for DiskStore {
    async fn get(&self, name: &Name, range: Option<Range<u64>>) -> Result<Option<Object>, CacheError> {
        let (s, n) = (self.clone(), name.clone());
        blocking(move || s.get_blocking(&n, range)).await
    }

    async fn head(&self, name: &Name) -> Result<Option<Meta>, CacheError> {
        let (s, n) = (self.clone(), name.clone());
        blocking(move || match std::fs::metadata(s.path(&n)) {
            Ok(m) if m.is_file() => Ok(Some(Meta {
                name: n,
                size: m.len(),
                modified: m.modified().unwrap_or(SystemTime::UNIX_EPOCH),
            })),
            _ => Ok(None),
        })
        .await
    }

    async fn put(&self, name: &Name, payload: Payload) -> Result<Put, CacheError> {
        let (s, n) = (self.clone(), name.clone());
        blocking(move || s.put_blocking(&n, payload)).await
    }

    async fn delete(&self, name: &Name) -> Result<bool, CacheError> {
        let (s, n) = (self.clone(), name.clone());
        blocking(move || s.delete_blocking(&n)).await
    }

    async fn list(&self, class: Class) -> Result<Vec<Meta>, CacheError> {
        let s = self.clone();
        blocking(move || {
            let mut out = Vec::new();
            s.walk_class(class, &mut out)?;
            Ok(out)
        })
        .await
    }

    fn temp_file(&self) -> Result<tempfile::NamedTempFile, CacheError> {
        self.temp()
    }

    fn describe(&self) -> String {
        format!("disk store at {}", self.inner.dir.display())
    }
}
