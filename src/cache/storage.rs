//! The storage trait every cache backend implements (the sccache `Storage`
//! pattern): get with an optional byte range and a streaming body, head,
//! put-if-absent, delete and list. [`super::disk::DiskStore`] and
//! [`super::s3::S3Store`] implement it; [`super::Cache`] layers classes,
//! tiers and single-flight on top.

use std::io::{Read, Seek, SeekFrom};
use std::ops::Range;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};

use super::{CacheError, Class, Name};

/// What is known about a stored object without reading it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta {
    pub name: Name,
    /// Size of the whole object in bytes.
    pub size: u64,
    pub modified: SystemTime,
}

/// Bytes to store: in memory, or a filled temporary file (for objects too
/// large to hold, such as a whole article) that the store takes over.
pub enum Payload {
    Bytes(Bytes),
    File(tempfile::NamedTempFile),
}

impl Payload {
    pub fn len(&self) -> u64 {
        match self {
            Payload::Bytes(b) => b.len() as u64,
            Payload::File(f) => f.as_file().metadata().map(|m| m.len()).unwrap_or(0),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What a put did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Put {
    /// The object was written.
    Created,
    /// An object with that name was already there (and was kept: names are
    /// content addresses, so it holds the same bytes).
    Exists,
}

/// An object being read: its metadata and the requested bytes.
pub struct Object {
    pub meta: Meta,
    /// The byte range `body` covers (the whole object unless a range was asked).
    pub range: Range<u64>,
    pub body: Body,
}

/// The bytes of an [`Object`]. A file body is an open handle, so the
/// object stays readable even if it is evicted meanwhile.
pub enum Body {
    Bytes(Bytes),
    File(std::fs::File),
    Stream(BoxStream<'static, Result<Bytes, CacheError>>),
}

/// Chunk size of streamed file bodies.
const CHUNK: usize = 64 * 1024;

impl Object {
    /// Length of `body`.
    pub fn len(&self) -> u64 {
        self.range.end - self.range.start
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// All of `body` in memory (callers only do this for objects they know
    /// are small: sentences, timings, plans).
    pub async fn bytes(self) -> Result<Bytes, CacheError> {
        let len = self.len();
        let name = self.meta.name.clone();
        match self.body {
            Body::Bytes(b) => Ok(b),
            Body::File(mut f) => tokio::task::spawn_blocking(move || {
                let mut buf = Vec::with_capacity(len as usize);
                f.seek(SeekFrom::Start(self.range.start))
                    .and_then(|_| f.take(len).read_to_end(&mut buf))
                    .map_err(|source| CacheError::Read { name: name.to_string(), error: source })?;
                Ok(Bytes::from(buf))
            })
            .await
            .map_err(|e| CacheError::Internal(format!("read task failed: {e}")))?,
            Body::Stream(mut s) => {
                let mut buf = Vec::with_capacity(len as usize);
                while let Some(chunk) = s.next().await {
                    buf.extend_from_slice(&chunk?);
                }
                Ok(Bytes::from(buf))
            }
        }
    }

    /// Append `body` to `dest`. A file body is copied by
    /// the kernel (`copy_file_range`, through `std::io::copy`) on a blocking
    /// thread, with no chunk passing through this process; an error names
    /// neither side (the caller knows both).
    pub async fn copy_to(self, mut dest: std::fs::File) -> std::io::Result<()> {
        use std::io::Write;
        let (start, len) = (self.range.start, self.len());
        match self.body {
            Body::Bytes(b) => tokio::task::spawn_blocking(move || dest.write_all(&b))
                .await
                .map_err(std::io::Error::other)?,
            Body::File(mut f) => tokio::task::spawn_blocking(move || {
                f.seek(SeekFrom::Start(start))?;
                let copied = std::io::copy(&mut f.take(len), &mut dest)?;
                if copied != len {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        format!("the object ended after {copied} of {len} bytes"),
                    ));
                }
                Ok(())
            })
            .await
            .map_err(std::io::Error::other)?,
            Body::Stream(mut s) => {
                while let Some(chunk) = s.next().await {
                    dest.write_all(&chunk.map_err(std::io::Error::other)?)?;
                }
                Ok(())
            }
        }
    }

    /// `body` as a stream of chunks (file reads happen on blocking threads).
    pub fn into_stream(self) -> BoxStream<'static, Result<Bytes, CacheError>> {
        match self.body {
            Body::Bytes(b) => futures::stream::once(async move { Ok(b) }).boxed(),
            Body::Stream(s) => s,
            Body::File(f) => {
                let name = self.meta.name.to_string();
                let state = (Some(f), self.range.start, self.range.end);
                futures::stream::unfold(state, move |(file, at, end)| {
                    let name = name.clone();
                    async move {
                        let mut file = file?;
                        if at >= end {
                            return None;
                        }
                        let want = ((end - at) as usize).min(CHUNK);
                        let read = tokio::task::spawn_blocking(move || {
                            let mut buf = vec![0u8; want];
                            let r = file.seek(SeekFrom::Start(at)).and_then(|_| file.read_exact(&mut buf));
                            (file, buf, r)
                        })
                        .await;
                        match read {
                            Ok((file, buf, Ok(()))) => {
                                Some((Ok(Bytes::from(buf)), (Some(file), at + want as u64, end)))
                            }
                            Ok((_, _, Err(source))) => {
                                Some((Err(CacheError::Read { name, error: source }), (None, end, end)))
                            }
                            Err(e) => Some((
                                Err(CacheError::Internal(format!("read task failed: {e}"))),
                                (None, end, end),
                            )),
                        }
                    }
                })
                .boxed()
            }
        }
    }
}

/// A place objects live.
#[async_trait]
pub trait Storage: Send + Sync + 'static {
    /// The object, or `None` when absent. With `range`, the body covers
    /// only those bytes (clamped to the object); `meta.size` stays the
    /// whole size. Reading refreshes the object's recency where the store
    /// keeps one.
    async fn get(&self, name: &Name, range: Option<Range<u64>>) -> Result<Option<Object>, CacheError>;
    /// Metadata only.
    async fn head(&self, name: &Name) -> Result<Option<Meta>, CacheError>;
    /// Store `payload` unless `name` exists (put-if-absent).
    async fn put(&self, name: &Name, payload: Payload) -> Result<Put, CacheError>;
    /// Remove; `false` when it was not there.
    async fn delete(&self, name: &Name) -> Result<bool, CacheError>;
    /// Every object of `class`.
    async fn list(&self, class: Class) -> Result<Vec<Meta>, CacheError>;
    /// Every object of `class` as a stream (stores with paged listings
    /// override this so a large bucket is never held in memory).
    fn list_stream(&self, class: Class) -> BoxStream<'_, Result<Meta, CacheError>> {
        futures::stream::once(self.list(class))
            .map_ok(|v| futures::stream::iter(v.into_iter().map(Ok)))
            .try_flatten()
            .boxed()
    }
    /// A temporary file to fill and hand to [`Storage::put`] as
    /// [`Payload::File`] (on the store's own file system where it has one,
    /// so the put is a rename).
    fn temp_file(&self) -> Result<tempfile::NamedTempFile, CacheError>;
    /// Where the store is, for logs and `loa cache stats` (never for clients).
    fn describe(&self) -> String;
    /// A URL anyone may GET `name` from for `expires`, where the store can
    /// sign one (S3 presigned URLs); `None` where it cannot.
    async fn presigned_get(&self, _name: &Name, _expires: Duration) -> Result<Option<String>, CacheError> {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::{CacheKey, Ext};
    use std::io::Write;

    fn object(body: Body, range: Range<u64>, size: u64) -> Object {
        let name = Name::new(Class::OnDemand, &CacheKey::hash(&["copy"]), Ext::Wav);
        Object { meta: Meta { name, size, modified: SystemTime::now() }, range, body }
    }

    /// What `dest` holds after `obj.copy_to` on it.
    async fn copied(obj: Object, dest: std::fs::File) -> Vec<u8> {
        obj.copy_to(dest.try_clone().expect("clone")).await.expect("copy");
        let mut dest = dest;
        let mut out = Vec::new();
        dest.seek(SeekFrom::Start(0)).and_then(|_| dest.read_to_end(&mut out)).expect("read back");
        out
    }

    fn temp() -> std::fs::File {
        tempfile::tempfile().expect("temp")
    }

    #[tokio::test]
    async fn copy_to_appends_exactly_the_range_of_every_kind_of_body() {
        let data: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let mut src = temp();
        src.write_all(&data).expect("write");
        let size = data.len() as u64;

        let mut dest = temp();
        dest.write_all(b"head:").expect("write");
        let got =
            copied(object(Body::File(src.try_clone().expect("clone")), 1000..250_000, size), dest).await;
        assert_eq!(&got[..5], b"head:");
        assert_eq!(&got[5..], &data[1000..250_000]);

        assert_eq!(copied(object(Body::File(src), 0..size, size), temp()).await, data);

        let bytes = object(Body::Bytes(Bytes::from_static(b"abc")), 0..3, 3);
        assert_eq!(copied(bytes, temp()).await, b"abc");

        let chunks =
            futures::stream::iter([Ok(Bytes::from_static(b"ab")), Ok(Bytes::from_static(b"cd"))]).boxed();
        assert_eq!(copied(object(Body::Stream(chunks), 0..4, 4), temp()).await, b"abcd");
    }

    #[tokio::test]
    async fn copy_to_fails_when_the_file_is_shorter_than_its_range() {
        let mut src = tempfile::tempfile().expect("temp");
        src.write_all(&[1u8; 100]).expect("write");
        let err = object(Body::File(src), 0..200, 200).copy_to(temp()).await;
        let err = err.expect_err("a truncated object is an error");
        assert_eq!(err.kind(), std::io::ErrorKind::UnexpectedEof, "{err}");
        assert!(err.to_string().contains("100 of 200"), "{err}");

        let failing = futures::stream::iter([
            Ok(Bytes::from_static(b"ab")),
            Err(CacheError::Remote("connection reset".into())),
        ])
        .boxed();
        let err = object(Body::Stream(failing), 0..4, 4).copy_to(temp()).await;
        assert!(err.expect_err("a failing stream is an error").to_string().contains("connection reset"));
    }
}
