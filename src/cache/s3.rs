//! An S3-compatible object store (AWS S3, MinIO, Ceph RGW, Cloudflare R2,
//! Garage) through the `object_store` crate. Placeholder until the object
//! store lands: configuring one is a clear error.

use std::ops::Range;

use async_trait::async_trait;

use super::storage::{Meta, Object, Payload, Put, Storage};
use super::{CacheError, Class, Name};

/// An object store bucket (and prefix).
#[derive(Debug)]
pub struct S3Store {
    url: String,
}

impl S3Store {
    pub fn from_url(url: &str) -> Result<S3Store, CacheError> {
        Err(CacheError::Config(format!("cache.store {url:?}: object stores are not supported by this build")))
    }
}

#[async_trait]
impl Storage for S3Store {
    async fn get(&self, _: &Name, _: Option<Range<u64>>) -> Result<Option<Object>, CacheError> {
        Err(CacheError::Remote("unsupported".into()))
    }
    async fn head(&self, _: &Name) -> Result<Option<Meta>, CacheError> {
        Err(CacheError::Remote("unsupported".into()))
    }
    async fn put(&self, _: &Name, _: Payload) -> Result<Put, CacheError> {
        Err(CacheError::Remote("unsupported".into()))
    }
    async fn delete(&self, _: &Name) -> Result<bool, CacheError> {
        Err(CacheError::Remote("unsupported".into()))
    }
    async fn list(&self, _: Class) -> Result<Vec<Meta>, CacheError> {
        Err(CacheError::Remote("unsupported".into()))
    }
    fn temp_file(&self) -> Result<tempfile::NamedTempFile, CacheError> {
        tempfile::NamedTempFile::new().map_err(|e| CacheError::Internal(e.to_string()))
    }
    fn describe(&self) -> String {
        format!("object store {}", self.url)
    }
}
