//! Bounding the work the service takes on.
//!
//! [`Admission`] lets at most `concurrency` jobs (an article render, which
//! may synthesize several sentences in parallel, or one sentence) run and at most
//! `queue_limit` more wait; past that a request gets 503 with
//! `Retry-After`, so memory never grows without bound. [`Flights`] makes
//! concurrent requests for the same key share one job: the first starts it
//! (in its own task, so a client that disconnects does not cancel it) and
//! the others wait for its result.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tracing::Instrument;

use super::error::ApiError;

/// A semaphore with a bounded waiting line.
#[derive(Debug)]
pub struct Admission {
    permits: Arc<Semaphore>,
    concurrency: usize,
    queue_limit: usize,
    waiting: AtomicUsize,
}

struct Waiting<'a>(&'a AtomicUsize);
impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Admission {
    pub fn new(concurrency: usize, queue_limit: usize) -> Admission {
        let concurrency = concurrency.max(1);
        Admission {
            permits: Arc::new(Semaphore::new(concurrency)),
            concurrency,
            queue_limit,
            waiting: AtomicUsize::new(0),
        }
    }

    /// A permit to run one synthesis job, waiting in line if needed;
    /// [`ApiError::busy`] (with `retry_after`) when the line is full.
    pub async fn acquire(&self, retry_after: u64) -> Result<OwnedSemaphorePermit, ApiError> {
        if let Ok(permit) = self.permits.clone().try_acquire_owned() {
            return Ok(permit);
        }
        let before = self.waiting.fetch_add(1, Ordering::SeqCst);
        let _waiting = Waiting(&self.waiting);
        if before >= self.queue_limit {
            return Err(ApiError::busy(retry_after));
        }
        self.permits.clone().acquire_owned().await.map_err(|_| ApiError::internal("admission closed"))
    }

    /// True when a new job would be refused right now.
    pub fn is_full(&self) -> bool {
        self.permits.available_permits() == 0 && self.waiting.load(Ordering::SeqCst) >= self.queue_limit
    }

    /// Jobs waiting for a permit.
    pub fn queued(&self) -> usize {
        self.waiting.load(Ordering::SeqCst).min(self.queue_limit)
    }

    /// Jobs holding a permit.
    pub fn running(&self) -> usize {
        self.concurrency - self.permits.available_permits()
    }
}

type Job<T> = Shared<BoxFuture<'static, Result<T, ApiError>>>;

/// Single-flight: one running job per key, shared by every request that
/// asks for the key while it runs.
pub struct Flights<T: Clone + Send + Sync + 'static> {
    jobs: Arc<Mutex<HashMap<String, Job<T>>>>,
}

impl<T: Clone + Send + Sync + 'static> Default for Flights<T> {
    fn default() -> Self {
        Flights { jobs: Arc::new(Mutex::new(HashMap::new())) }
    }
}

impl<T: Clone + Send + Sync + 'static> Flights<T> {
    /// The job for `key`: the running one, or a new one made by `start`,
    /// spawned on the runtime. Returns the job and whether it was new.
    pub fn join<F, Fut>(&self, key: &str, start: F) -> (Job<T>, bool)
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, ApiError>> + Send + 'static,
    {
        let mut jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(job) = jobs.get(key) {
            return (job.clone(), false);
        }
        let work = start();
        let map = Arc::clone(&self.jobs);
        let owned_key = key.to_string();
        // The entry is removed however the job ends, a panic included, so
        // a failure never sticks to its key.
        struct Remove<T: Clone + Send + Sync + 'static>(Arc<Mutex<HashMap<String, Job<T>>>>, String);
        impl<T: Clone + Send + Sync + 'static> Drop for Remove<T> {
            fn drop(&mut self) {
                self.0.lock().unwrap_or_else(|e| e.into_inner()).remove(&self.1);
            }
        }
        // In the span of the request that started it, so its log lines
        // carry that request's id.
        let handle = tokio::spawn(
            async move {
                let _remove = Remove(map, owned_key);
                work.await
            }
            .instrument(tracing::Span::current()),
        );
        let job: Job<T> = async move {
            match handle.await {
                Ok(result) => result,
                Err(e) => {
                    tracing::error!(error = %e, "synthesis task failed");
                    Err(ApiError::internal("internal error"))
                }
            }
        }
        .boxed()
        .shared();
        jobs.insert(key.to_string(), job.clone());
        (job, true)
    }

    /// Jobs running or waiting.
    pub fn len(&self) -> usize {
        self.jobs.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn queue_is_bounded() {
        let adm = Arc::new(Admission::new(1, 1));
        let held = adm.acquire(5).await.unwrap();
        let a2 = Arc::clone(&adm);
        let waiter = tokio::spawn(async move { a2.acquire(5).await.map(|_| ()) });
        while adm.queued() < 1 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(adm.queued(), 1);
        let err = adm.acquire(7).await.unwrap_err();
        assert_eq!(err.status.as_u16(), 503);
        assert_eq!(err.retry_after, Some(7));
        drop(held);
        waiter.await.unwrap().unwrap();
        assert_eq!(adm.queued(), 0);
        assert_eq!(adm.running(), 0);
    }

    #[tokio::test]
    async fn flights_share_one_job() {
        let flights: Flights<u32> = Flights::default();
        let runs = Arc::new(AtomicUsize::new(0));
        let mut waiters = Vec::new();
        for _ in 0..10 {
            let runs = Arc::clone(&runs);
            let (job, _) = flights.join("k", move || async move {
                runs.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(50)).await;
                Ok(7)
            });
            waiters.push(job);
        }
        for w in waiters {
            assert_eq!(w.await.unwrap(), 7);
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        while !flights.is_empty() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    #[tokio::test]
    async fn a_panicking_job_is_an_error_and_does_not_stick() {
        let flights: Flights<u32> = Flights::default();
        let (job, _) = flights.join("k", || async {
            if true {
                panic!("boom");
            }
            Ok(1)
        });
        let err = job.await.unwrap_err();
        assert_eq!(err.status.as_u16(), 500);
        while !flights.is_empty() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let (job, fresh) = flights.join("k", || async { Ok(2) });
        assert!(fresh, "the failed entry was removed");
        assert_eq!(job.await.unwrap(), 2);
    }
}
