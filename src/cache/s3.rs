//! An S3-compatible object store (AWS S3, MinIO, Ceph RGW, Cloudflare R2,
//! Garage) through the `object_store` crate: `store = "s3://bucket/prefix"`
//! with the endpoint and credentials from the standard `AWS_*` variables
//! (`AWS_ENDPOINT_URL`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
//! `AWS_REGION`, `AWS_ALLOW_HTTP`, …).
//!
//! Objects are `{prefix}/{class}/ab/cd/<key>.<ext>`. Reads stream (a range
//! asks the store for just those bytes). Writes are put-if-absent: with a
//! conditional `PUT` (`If-None-Match: *`) where the store honours it, else
//! write-then-verify (absent by `HEAD`, written, then the stored ETag must
//! be the one of this write, or another writer won). Which one is found out
//! once per process by a probe object, so nothing depends on one vendor's
//! behaviour. Objects above [`SINGLE_PUT_MAX`] are uploaded in parts read
//! from their temporary file, so memory stays bounded; multipart uploads
//! are always write-then-verify (S3 has no portable conditional complete).
//!
//! Requests have timeouts (connect 5 s, idle read 30 s, whole request
//! 5 min) and at most 3 retries within 15 s. Error messages name the
//! operation and object, never credentials.

use std::io::Read;
use std::ops::Range;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3, AmazonS3Builder, AmazonS3ConfigKey};
use object_store::path::Path as StorePath;
use object_store::signer::Signer;
use object_store::{
    BackoffConfig, ClientConfigKey, GetOptions, GetRange, ObjectMeta, ObjectStore, ObjectStoreExt, PutMode,
    PutOptions, PutPayload, RetryConfig, WriteMultipart,
};
use tokio::sync::OnceCell;

use super::storage::{Body, Meta, Object, Payload, Put, Storage};
use super::{CacheError, Class, Name};

/// Objects up to this size are sent in one `PUT` (read into memory);
/// larger ones in parts of [`PART_SIZE`].
pub const SINGLE_PUT_MAX: u64 = 8 * 1024 * 1024;
/// Size of one multipart part (S3's minimum is 5 MiB).
const PART_SIZE: usize = 8 * 1024 * 1024;
/// Parts uploaded at once (memory: about this many parts).
const PART_CONCURRENCY: usize = 2;
/// Longest message text kept from a store's answer.
const MAX_MESSAGE: usize = 300;

/// How this store makes a put conditional.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutStrategy {
    /// The store refuses `If-None-Match: *` on an existing object.
    Conditional,
    /// The store ignores or rejects the header: head, write, then verify.
    Verify,
}

/// An object store bucket (and prefix). Cheap to clone.
#[derive(Clone)]
pub struct S3Store {
    inner: Arc<Inner>,
}

struct Inner {
    store: AmazonS3,
    /// `s3://bucket/prefix`, for messages.
    url: String,
    /// Without slashes at either end; empty for the bucket root.
    prefix: String,
    endpoint: Option<String>,
    strategy: OnceCell<PutStrategy>,
    /// Values never to show in a message (the credentials).
    secrets: Vec<String>,
}

impl std::fmt::Debug for S3Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Store").field("url", &self.inner.url).finish_non_exhaustive()
    }
}

/// Split `s3://bucket/prefix` into bucket and prefix.
pub fn parse_url(url: &str) -> Result<(String, String), CacheError> {
    let bad = |why: &str| CacheError::Config(format!("cache.store {url:?}: {why}"));
    let rest = url.trim().strip_prefix("s3://").ok_or_else(|| bad("expected s3://bucket/prefix"))?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    let bucket_ok = (3..=63).contains(&bucket.len())
        && bucket.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
    if !bucket_ok {
        return Err(bad("the bucket name must be 3–63 lowercase letters, digits, '-' or '.'"));
    }
    let prefix = prefix.trim_matches('/');
    for part in prefix.split('/').filter(|_| !prefix.is_empty()) {
        let ok = !part.is_empty()
            && part != "."
            && part != ".."
            && part.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
        if !ok {
            return Err(bad("prefix parts may hold letters, digits, '-', '_' and '.' only"));
        }
    }
    Ok((bucket.to_string(), prefix.to_string()))
}

impl S3Store {
    /// The bucket and prefix of `url`, with the endpoint and credentials
    /// from the `AWS_*` environment. Nothing is contacted yet.
    pub fn from_url(url: &str) -> Result<S3Store, CacheError> {
        S3Store::from_url_with(
            url,
            std::env::vars_os().filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))),
        )
    }

    /// [`S3Store::from_url`] with the `AWS_*` settings given as variables
    /// (`AWS_ENDPOINT_URL`, `AWS_ACCESS_KEY_ID`, …) instead of read from the
    /// process environment.
    pub fn from_url_with(
        url: &str,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<S3Store, CacheError> {
        let (bucket, prefix) = parse_url(url)?;
        let vars: Vec<(String, String)> =
            vars.into_iter().filter(|(k, v)| k.starts_with("AWS_") && !v.is_empty()).collect();
        let var = |name: &str| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        let secrets: Vec<String> = ["AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ACCESS_KEY_ID"]
            .iter()
            .filter_map(|k| var(k))
            .collect();
        let endpoint = var("AWS_ENDPOINT_URL").or_else(|| var("AWS_ENDPOINT"));
        let mut builder = AmazonS3Builder::new();
        for (k, v) in &vars {
            if let Ok(key) = k.to_ascii_lowercase().parse::<AmazonS3ConfigKey>() {
                builder = builder.with_config(key, v);
            }
        }
        let store = builder
            .with_bucket_name(&bucket)
            .with_config(AmazonS3ConfigKey::Client(ClientConfigKey::ConnectTimeout), "5s")
            .with_config(AmazonS3ConfigKey::Client(ClientConfigKey::ReadTimeout), "30s")
            .with_config(AmazonS3ConfigKey::Client(ClientConfigKey::Timeout), "300s")
            .with_retry(RetryConfig {
                backoff: BackoffConfig {
                    init_backoff: Duration::from_millis(100),
                    max_backoff: Duration::from_secs(2),
                    base: 2.0,
                },
                max_retries: 3,
                retry_timeout: Duration::from_secs(15),
            })
            .build()
            .map_err(|e| {
                CacheError::Config(format!("cache.store {url:?}: {}", scrub(&e.to_string(), &secrets)))
            })?;
        let url =
            if prefix.is_empty() { format!("s3://{bucket}") } else { format!("s3://{bucket}/{prefix}") };
        Ok(S3Store {
            inner: Arc::new(Inner { store, url, prefix, endpoint, strategy: OnceCell::new(), secrets }),
        })
    }

    /// The location of `name` in the bucket.
    fn location(&self, name: &Name) -> StorePath {
        StorePath::from(self.key_of(&name.path()))
    }

    fn key_of(&self, rel: &str) -> String {
        if self.inner.prefix.is_empty() { rel.to_string() } else { format!("{}/{rel}", self.inner.prefix) }
    }

    /// The object name of a listed location (`None` for anything else).
    fn name_of(&self, location: &StorePath) -> Option<Name> {
        let s = location.as_ref();
        let rel = if self.inner.prefix.is_empty() {
            s
        } else {
            s.strip_prefix(self.inner.prefix.as_str())?.strip_prefix('/')?
        };
        Name::parse(rel)
    }

    fn meta(&self, name: Name, m: &ObjectMeta) -> Meta {
        Meta { name, size: m.size, modified: SystemTime::from(m.last_modified) }
    }

    /// A store error as a [`CacheError`]: operation, object and a short
    /// reason, credentials removed.
    fn err(&self, op: &str, what: &str, e: object_store::Error) -> CacheError {
        CacheError::Remote(format!(
            "{op} {what} in {}: {}",
            self.inner.url,
            scrub(&e.to_string(), &self.inner.secrets)
        ))
    }

    /// How puts are made conditional here (probed once: a probe object is
    /// created twice with `If-None-Match: *`; the second must be refused).
    pub async fn strategy(&self) -> Result<PutStrategy, CacheError> {
        self.inner
            .strategy
            .get_or_try_init(|| async {
                let probe = StorePath::from(self.key_of(&format!(
                    "loa-probe/{}-{:016x}",
                    std::process::id(),
                    rand::random::<u64>()
                )));
                let create = || PutOptions { mode: PutMode::Create, ..PutOptions::default() };
                let first = self.inner.store.put_opts(&probe, PutPayload::from_static(b"probe"), create()).await;
                let strategy = match first {
                    Err(object_store::Error::NotImplemented { .. } | object_store::Error::NotSupported { .. }) => {
                        PutStrategy::Verify
                    }
                    Err(e) => return Err(self.err("cannot write a probe object", "", e)),
                    Ok(_) => {
                        match self.inner.store.put_opts(&probe, PutPayload::from_static(b"again"), create()).await {
                            Err(object_store::Error::AlreadyExists { .. }) => PutStrategy::Conditional,
                            _ => PutStrategy::Verify,
                        }
                    }
                };
                if let Err(e) = self.inner.store.delete(&probe).await {
                    tracing::warn!(store = %self.inner.url, error = %self.err("delete", "the probe", e), "probe object left behind");
                }
                tracing::info!(store = %self.inner.url, ?strategy, "object store put-if-absent");
                Ok(strategy)
            })
            .await
            .copied()
    }

    /// The stored ETag of `location`, or `None` when absent.
    async fn etag(&self, location: &StorePath, name: &Name) -> Result<Option<Option<String>>, CacheError> {
        match self.inner.store.head(location).await {
            Ok(m) => Ok(Some(m.e_tag)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.err("head", &name.to_string(), e)),
        }
    }

    /// After an unconditional write whose result had `written` as ETag:
    /// `Created` when the stored object is still this write.
    async fn verify(
        &self,
        location: &StorePath,
        name: &Name,
        written: Option<String>,
    ) -> Result<Put, CacheError> {
        let bare = |t: &Option<String>| {
            t.as_deref().map(|t| t.trim_start_matches("W/").trim_matches('"').to_string())
        };
        match self.etag(location, name).await? {
            Some(stored) if bare(&stored).is_some() && bare(&stored) == bare(&written) => Ok(Put::Created),
            Some(_) => Ok(Put::Exists),
            None => Err(CacheError::Remote(format!(
                "{name} in {} vanished right after it was written",
                self.inner.url
            ))),
        }
    }

    async fn put_small(&self, name: &Name, bytes: Bytes) -> Result<Put, CacheError> {
        let location = self.location(name);
        let what = name.to_string();
        match self.strategy().await? {
            PutStrategy::Conditional => {
                let opts = PutOptions { mode: PutMode::Create, ..PutOptions::default() };
                match self.inner.store.put_opts(&location, PutPayload::from(bytes), opts).await {
                    Ok(_) => Ok(Put::Created),
                    Err(object_store::Error::AlreadyExists { .. }) => Ok(Put::Exists),
                    Err(e) => Err(self.err("put", &what, e)),
                }
            }
            PutStrategy::Verify => {
                if self.etag(&location, name).await?.is_some() {
                    return Ok(Put::Exists);
                }
                let r = self
                    .inner
                    .store
                    .put(&location, PutPayload::from(bytes))
                    .await
                    .map_err(|e| self.err("put", &what, e))?;
                self.verify(&location, name, r.e_tag).await
            }
        }
    }

    /// Upload a large file in parts, reading one part at a time.
    async fn put_large(&self, name: &Name, file: tempfile::NamedTempFile) -> Result<Put, CacheError> {
        let location = self.location(name);
        let what = name.to_string();
        if self.etag(&location, name).await?.is_some() {
            return Ok(Put::Exists);
        }
        let upload = self
            .inner
            .store
            .put_multipart(&location)
            .await
            .map_err(|e| self.err("start uploading", &what, e))?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
        let mut reader = Some(file.reopen().map_err(|e| CacheError::Read { name: what.clone(), error: e })?);
        let result: Result<(), CacheError> = async {
            loop {
                writer.wait_for_capacity(PART_CONCURRENCY).await.map_err(|e| self.err("upload", &what, e))?;
                let mut f = reader.take().ok_or_else(|| CacheError::Internal("upload file lost".into()))?;
                let (f, chunk) = tokio::task::spawn_blocking(move || {
                    let mut buf = Vec::with_capacity(PART_SIZE);
                    let r = (&mut f).take(PART_SIZE as u64).read_to_end(&mut buf).map(|_| buf);
                    (f, r)
                })
                .await
                .map_err(|e| CacheError::Internal(format!("read task failed: {e}")))?;
                reader = Some(f);
                let chunk = chunk.map_err(|e| CacheError::Read { name: what.clone(), error: e })?;
                if chunk.is_empty() {
                    return Ok(());
                }
                writer.put(Bytes::from(chunk));
            }
        }
        .await;
        if let Err(e) = result {
            let _ = writer.abort().await;
            return Err(e);
        }
        let done = writer.finish().await.map_err(|e| self.err("finish uploading", &what, e))?;
        drop(file);
        self.verify(&location, name, done.e_tag).await
    }

    /// Every object of `class`, as the listing pages arrive.
    fn pages(&self, class: Class) -> BoxStream<'static, Result<Meta, CacheError>> {
        let this = self.clone();
        let prefix = StorePath::from(self.key_of(class.prefix()));
        self.inner
            .store
            .list(Some(&prefix))
            .map_err({
                let this = self.clone();
                move |e| this.err("list", class.prefix(), e)
            })
            .try_filter_map(move |m| {
                let found = this.name_of(&m.location).map(|n| this.meta(n, &m));
                async move { Ok(found) }
            })
            .boxed()
    }
}

/// `text` with every secret replaced and cut to a readable length.
fn scrub(text: &str, secrets: &[String]) -> String {
    let mut s = text.to_string();
    for secret in secrets.iter().filter(|s| s.len() >= 4) {
        s = s.replace(secret.as_str(), "[redacted]");
    }
    if s.len() > MAX_MESSAGE {
        let mut cut = MAX_MESSAGE;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push('…');
    }
    s
}

#[async_trait]
impl Storage for S3Store {
    async fn get(&self, name: &Name, range: Option<Range<u64>>) -> Result<Option<Object>, CacheError> {
        let location = self.location(name);
        let what = name.to_string();
        if let Some(r) = &range
            && r.start >= r.end
        {
            // An empty range: S3 cannot express it; answer from the metadata.
            let Some(meta) = self.head(name).await? else { return Ok(None) };
            let at = r.start.min(meta.size);
            return Ok(Some(Object { meta, range: at..at, body: Body::Bytes(Bytes::new()) }));
        }
        let opts = GetOptions { range: range.clone().map(GetRange::Bounded), ..GetOptions::default() };
        match self.inner.store.get_opts(&location, opts).await {
            Ok(res) => {
                let meta = self.meta(name.clone(), &res.meta);
                let got = res.range.clone();
                let this = self.clone();
                let body = res.into_stream().map_err(move |e| this.err("read", &what, e)).boxed();
                Ok(Some(Object { meta, range: got, body: Body::Stream(body) }))
            }
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => {
                // A range past the end is an error in S3; the trait clamps.
                if let Some(r) = range
                    && let Some(meta) = self.head(name).await?
                    && r.start >= meta.size
                {
                    let at = meta.size;
                    return Ok(Some(Object { meta, range: at..at, body: Body::Bytes(Bytes::new()) }));
                }
                Err(self.err("read", &what, e))
            }
        }
    }

    async fn head(&self, name: &Name) -> Result<Option<Meta>, CacheError> {
        match self.inner.store.head(&self.location(name)).await {
            Ok(m) => Ok(Some(self.meta(name.clone(), &m))),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.err("head", &name.to_string(), e)),
        }
    }

    async fn put(&self, name: &Name, payload: Payload) -> Result<Put, CacheError> {
        match payload {
            Payload::Bytes(b) => self.put_small(name, b).await,
            Payload::File(f) if payload_len(&f) <= SINGLE_PUT_MAX => {
                let what = name.to_string();
                let bytes = tokio::task::spawn_blocking(move || std::fs::read(f.path()))
                    .await
                    .map_err(|e| CacheError::Internal(format!("read task failed: {e}")))?
                    .map_err(|e| CacheError::Read { name: what, error: e })?;
                self.put_small(name, Bytes::from(bytes)).await
            }
            Payload::File(f) => self.put_large(name, f).await,
        }
    }

    async fn delete(&self, name: &Name) -> Result<bool, CacheError> {
        let location = self.location(name);
        if self.etag(&location, name).await?.is_none() {
            return Ok(false);
        }
        self.inner.store.delete(&location).await.map_err(|e| self.err("delete", &name.to_string(), e))?;
        Ok(true)
    }

    async fn list(&self, class: Class) -> Result<Vec<Meta>, CacheError> {
        self.pages(class).try_collect().await
    }

    fn list_stream(&self, class: Class) -> BoxStream<'_, Result<Meta, CacheError>> {
        self.pages(class)
    }

    fn temp_file(&self) -> Result<tempfile::NamedTempFile, CacheError> {
        tempfile::Builder::new().prefix("loa-upload-").tempfile().map_err(|e| CacheError::Write {
            name: "a temporary file".into(),
            path: std::env::temp_dir().display().to_string(),
            error: e,
        })
    }

    async fn presigned_get(&self, name: &Name, expires: Duration) -> Result<Option<String>, CacheError> {
        let location = self.location(name);
        self.inner
            .store
            .signed_url(http::Method::GET, &location, expires)
            .await
            .map(|u| Some(u.to_string()))
            .map_err(|e| self.err("presign", &name.to_string(), e))
    }

    fn describe(&self) -> String {
        match &self.inner.endpoint {
            Some(e) => format!("object store {} at {e}", self.inner.url),
            None => format!("object store {}", self.inner.url),
        }
    }
}

fn payload_len(f: &tempfile::NamedTempFile) -> u64 {
    f.as_file().metadata().map(|m| m.len()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(parse_url("s3://loa").unwrap(), ("loa".into(), "".into()));
        assert_eq!(parse_url("s3://loa-audio/site/a/").unwrap(), ("loa-audio".into(), "site/a".into()));
        for bad in [
            "loa",
            "http://x/y",
            "s3://",
            "s3://UPPER",
            "s3://ab",
            "s3://loa/../x",
            "s3://loa/a//b",
            "s3://loa/a b",
        ] {
            let e = parse_url(bad).unwrap_err().to_string();
            assert!(e.contains("cache.store"), "{bad}: {e}");
        }
    }

    #[test]
    fn messages_lose_secrets_and_stay_short() {
        let secrets = vec!["sekrit-value".to_string()];
        let s = scrub(&format!("denied for sekrit-value {}", "x".repeat(1000)), &secrets);
        assert!(!s.contains("sekrit") && s.contains("[redacted]"));
        assert!(s.len() <= MAX_MESSAGE + 3);
    }
}
