//! Fetched pages on disk, by URL: `DIR/ab/<sha256(url)>.page`, one file
//! holding a JSON header line (URL, content type, ETag, Last-Modified, when
//! fetched) and the body bytes, written to a temporary file and renamed, so
//! a reader never sees half a page. Kept apart from the audio store.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What is known about a cached page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    pub url: String,
    pub final_url: String,
    pub content_type: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// Unix seconds of the last fetch or revalidation.
    pub fetched_at: u64,
}

/// A cached page.
#[derive(Debug, Clone)]
pub struct Entry {
    pub meta: Meta,
    pub body: Vec<u8>,
}

impl Entry {
    /// Age since the last fetch or revalidation.
    pub fn age(&self) -> Duration {
        Duration::from_secs(now().saturating_sub(self.meta.fetched_at))
    }
}

pub fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// The page cache.
#[derive(Debug, Clone)]
pub struct PageCache {
    dir: PathBuf,
}

impl PageCache {
    pub fn new(dir: &Path) -> PageCache {
        PageCache { dir: dir.to_path_buf() }
    }

    fn path(&self, url: &str) -> PathBuf {
        let key = hex::encode(Sha256::digest(url.as_bytes()));
        self.dir.join(&key[..2]).join(format!("{key}.page"))
    }

    /// The cached page for `url`, if any (a damaged file is ignored).
    pub fn load(&self, url: &str) -> Option<Entry> {
        let bytes = std::fs::read(self.path(url)).ok()?;
        let nl = bytes.iter().position(|&b| b == b'\n')?;
        let meta: Meta = serde_json::from_slice(&bytes[..nl]).ok()?;
        (meta.url == url).then(|| Entry { meta, body: bytes[nl + 1..].to_vec() })
    }

    /// Store (or replace) the page for `meta.url`.
    pub fn store(&self, meta: &Meta, body: &[u8]) -> std::io::Result<()> {
        let path = self.path(&meta.url);
        let dir = path.parent().unwrap_or(&self.dir);
        std::fs::create_dir_all(dir)?;
        let mut tmp = tempfile::Builder::new().prefix(".tmp-").tempfile_in(dir)?;
        tmp.write_all(&serde_json::to_vec(meta)?)?;
        tmp.write_all(b"\n")?;
        tmp.write_all(body)?;
        tmp.as_file().sync_data().ok();
        tmp.persist(&path).map_err(|e| e.error)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_and_loads_atomically_by_url() {
        let dir = tempfile::tempdir().unwrap();
        let c = PageCache::new(dir.path());
        let meta = Meta {
            url: "https://a.vn/x".into(),
            final_url: "https://a.vn/y".into(),
            content_type: Some("text/html".into()),
            etag: Some("\"1\"".into()),
            last_modified: None,
            fetched_at: now(),
        };
        assert!(c.load(&meta.url).is_none());
        c.store(&meta, b"<p>a\nb</p>").unwrap();
        let e = c.load(&meta.url).unwrap();
        assert_eq!((e.meta, e.body.as_slice()), (meta.clone(), &b"<p>a\nb</p>"[..]));
        assert!(c.load("https://a.vn/other").is_none());
        std::fs::write(c.path(&meta.url), b"garbage").unwrap();
        assert!(c.load(&meta.url).is_none(), "a damaged entry is a miss");
    }
}
