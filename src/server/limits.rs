//! Bounding the work the service takes on.
//!
//! [`Admission`] lets at most `concurrency` jobs (an article render, which
//! may synthesize several sentences in parallel, or one sentence) run and at
//! most `queue_limit` more wait; past that a request gets 503 with
//! `Retry-After`, so memory never grows without bound. It is fair between
//! clients: one client has at most `jobs_per_client` jobs running or
//! waiting (more → 429), never runs more than half the slots (at least
//! one) so another client's job finds a free slot, and waiting jobs get
//! free slots in turn, client by client, not first come first served.
//! A request is admitted synchronously ([`Admission::admit`] returns a
//! [`Ticket`] or the error), then waits for its turn ([`Ticket::ready`]);
//! dropping the ticket, waiting or running, gives the place back.
//!
//! [`Flights`] makes concurrent requests for the same key share one job:
//! the first starts it (in its own task, so a client that disconnects does
//! not cancel it) and the others wait for its result.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex};

use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use tokio::sync::oneshot;
use tracing::Instrument;

use super::client::Client;
use super::error::ApiError;

/// Fair, bounded admission of synthesis jobs.
#[derive(Debug)]
pub struct Admission {
    shared: Arc<Sched>,
}

#[derive(Debug)]
struct Sched {
    concurrency: usize,
    queue_limit: usize,
    /// Jobs of one client running or waiting at most (0: no cap).
    per_client: usize,
    /// Jobs of one client running at most.
    share: usize,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    running: usize,
    waiting: usize,
    next_id: u64,
    lanes: HashMap<Client, Lane>,
    /// Clients with waiting jobs, in the order they get the next slot.
    turn: VecDeque<Client>,
}

#[derive(Debug, Default)]
struct Lane {
    running: usize,
    queue: VecDeque<(u64, oneshot::Sender<()>)>,
}

/// A place in an [`Admission`]: waiting until [`ready`](Ticket::ready),
/// then running until dropped.
#[derive(Debug)]
pub struct Ticket {
    sched: Arc<Sched>,
    client: Client,
    id: u64,
    wait: Option<oneshot::Receiver<()>>,
}

impl Admission {
    /// `concurrency` slots, `queue_limit` waiting jobs, `per_client` jobs
    /// of one client (0: no per-client cap).
    pub fn new(concurrency: usize, queue_limit: usize, per_client: usize) -> Admission {
        let concurrency = concurrency.max(1);
        Admission {
            shared: Arc::new(Sched {
                concurrency,
                queue_limit,
                per_client,
                share: concurrency.div_ceil(2),
                state: Mutex::new(State::default()),
            }),
        }
    }

    /// A place for one job of `client`: running now or waiting in line.
    /// 429 `rate_limited` when the client has `per_client` jobs already,
    /// 503 `busy` when the line is full (both with `retry_after`).
    pub fn admit(&self, client: Client, retry_after: u64) -> Result<Ticket, ApiError> {
        let sched = &self.shared;
        let mut st = sched.lock();
        st.next_id += 1;
        let id = st.next_id;
        let running = st.running;
        let full_line = st.waiting >= sched.queue_limit;
        let lane = st.lanes.entry(client).or_default();
        if sched.per_client > 0 && lane.running + lane.queue.len() >= sched.per_client {
            let n = sched.per_client;
            drop_lane_if_idle(&mut st, client);
            return Err(ApiError::rate_limited(
                retry_after,
                format!("this client already has {n} jobs running or waiting; try again when they end"),
            ));
        }
        let ticket = |wait| Ticket { sched: Arc::clone(sched), client, id, wait };
        if running < sched.concurrency && lane.running < sched.share && lane.queue.is_empty() {
            lane.running += 1;
            st.running += 1;
            metrics::histogram!("loa_queue_wait_seconds").record(0.0);
            return Ok(ticket(None));
        }
        if full_line {
            drop_lane_if_idle(&mut st, client);
            return Err(ApiError::busy(retry_after));
        }
        let (tx, rx) = oneshot::channel();
        lane.queue.push_back((id, tx));
        if lane.queue.len() == 1 {
            st.turn.push_back(client);
        }
        st.waiting += 1;
        Ok(ticket(Some(rx)))
    }

    /// True when a new job would be refused for lack of room right now.
    pub fn is_full(&self) -> bool {
        let st = self.shared.lock();
        st.running >= self.shared.concurrency && st.waiting >= self.shared.queue_limit
    }

    /// Jobs waiting for a slot.
    pub fn queued(&self) -> usize {
        self.shared.lock().waiting
    }

    /// Jobs holding a slot.
    pub fn running(&self) -> usize {
        self.shared.lock().running
    }

    /// Jobs of `client` (running, waiting).
    pub fn client_jobs(&self, client: Client) -> (usize, usize) {
        self.shared.lock().lanes.get(&client).map_or((0, 0), |l| (l.running, l.queue.len()))
    }
}

impl Sched {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Hand free slots to waiting jobs, one client at a time in turn,
    /// skipping clients that already run their share.
    fn dispatch(&self, st: &mut State) {
        'slots: while st.running < self.concurrency {
            for _ in 0..st.turn.len() {
                let Some(client) = st.turn.pop_front() else { break 'slots };
                let Some(lane) = st.lanes.get_mut(&client) else { continue };
                if lane.queue.is_empty() {
                    continue;
                }
                if lane.running >= self.share {
                    st.turn.push_back(client);
                    continue;
                }
                let Some((_, tx)) = lane.queue.pop_front() else { continue };
                lane.running += 1;
                let more = !lane.queue.is_empty();
                st.running += 1;
                st.waiting -= 1;
                if more {
                    st.turn.push_back(client);
                }
                if tx.send(()).is_err() {
                    // The ticket is gone (it removes itself first, so this
                    // is not expected): give the slot back.
                    if let Some(lane) = st.lanes.get_mut(&client) {
                        lane.running -= 1;
                    }
                    st.running -= 1;
                }
                continue 'slots;
            }
            break;
        }
    }
}

fn drop_lane_if_idle(st: &mut State, client: Client) {
    if st.lanes.get(&client).is_some_and(|l| l.running == 0 && l.queue.is_empty()) {
        st.lanes.remove(&client);
    }
}

impl Ticket {
    /// Wait until the job may run.
    pub async fn ready(&mut self) -> Result<(), ApiError> {
        match self.wait.as_mut() {
            None => Ok(()),
            Some(rx) => {
                let started = std::time::Instant::now();
                let granted = rx.await;
                metrics::histogram!("loa_queue_wait_seconds").record(started.elapsed().as_secs_f64());
                granted.map_err(|_| ApiError::internal("admission closed"))?;
                self.wait = None;
                Ok(())
            }
        }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut st = self.sched.lock();
        let st = &mut *st;
        if let Some(lane) = st.lanes.get_mut(&self.client) {
            if let Some(pos) = lane.queue.iter().position(|(id, _)| *id == self.id) {
                lane.queue.remove(pos);
                st.waiting -= 1;
            } else {
                // Running (or granted and not yet told).
                lane.running -= 1;
                st.running -= 1;
            }
        }
        drop_lane_if_idle(st, self.client);
        self.sched.dispatch(st);
    }
}

/// A job's result, shared by every request waiting for it.
pub type SharedJob<T> = Shared<BoxFuture<'static, Result<T, ApiError>>>;
type Job<T> = SharedJob<T>;

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

    /// The job running for `key`, if any.
    pub fn get(&self, key: &str) -> Option<Job<T>> {
        self.jobs.lock().unwrap_or_else(|e| e.into_inner()).get(key).cloned()
    }

    /// True while a job runs for `key`.
    pub fn contains(&self, key: &str) -> bool {
        self.jobs.lock().unwrap_or_else(|e| e.into_inner()).contains_key(key)
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

    use std::sync::atomic::{AtomicUsize, Ordering};

    fn client(n: u8) -> Client {
        Client::Ip(std::net::IpAddr::from([192, 0, 2, n]))
    }

    #[tokio::test]
    async fn queue_is_bounded() {
        let adm = Admission::new(1, 1, 0);
        let held = adm.admit(client(1), 5).unwrap();
        let mut waiter = adm.admit(client(2), 5).unwrap();
        assert_eq!((adm.running(), adm.queued()), (1, 1));
        let err = adm.admit(client(3), 7).unwrap_err();
        assert_eq!(err.status.as_u16(), 503);
        assert_eq!(err.retry_after, Some(7));
        drop(held);
        waiter.ready().await.unwrap();
        assert_eq!((adm.running(), adm.queued()), (1, 0));
        drop(waiter);
        assert_eq!((adm.running(), adm.queued()), (0, 0));
        assert!(adm.shared.lock().lanes.is_empty(), "idle clients are forgotten");
    }

    #[tokio::test]
    async fn one_client_cannot_take_every_slot() {
        let adm = Admission::new(2, 100, 0);
        let a1 = adm.admit(client(1), 5).unwrap();
        let mut a2 = adm.admit(client(1), 5).unwrap();
        let mut a3 = adm.admit(client(1), 5).unwrap();
        assert_eq!(adm.client_jobs(client(1)), (1, 2), "half the slots at most");
        // Another client runs at once in the slot kept free.
        let mut b = adm.admit(client(2), 5).unwrap();
        b.ready().now_or_never().expect("runs without waiting").unwrap();
        // Both slots are taken now; more jobs wait.
        let mut b2 = adm.admit(client(2), 5).unwrap();
        let mut c = adm.admit(client(3), 5).unwrap();
        let pending = |t: &mut Ticket| t.ready().now_or_never().is_none();
        drop(b);
        // Client 1 runs its share already: the slot goes to client 2's next job.
        assert!(!pending(&mut b2) && pending(&mut c) && pending(&mut a2));
        drop(a1);
        // Client 3 has nothing running: its turn comes before client 1's second job.
        assert!(!pending(&mut c) && pending(&mut a2));
        drop(b2);
        assert!(!pending(&mut a2));
        drop(c);
        // A slot is free, but client 1 runs its share: its third job waits.
        assert!(pending(&mut a3));
        assert_eq!((adm.running(), adm.queued()), (1, 1));
        drop(a2);
        assert!(!pending(&mut a3));
        drop(a3);
        assert_eq!((adm.running(), adm.queued()), (0, 0));
    }

    #[tokio::test]
    async fn per_client_cap_is_429_and_waiting_tickets_give_their_place_back() {
        let adm = Admission::new(1, 10, 2);
        let a1 = adm.admit(client(1), 3).unwrap();
        let a2 = adm.admit(client(1), 3).unwrap();
        let err = adm.admit(client(1), 3).unwrap_err();
        assert_eq!((err.status.as_u16(), err.code, err.retry_after), (429, "rate_limited", Some(3)));
        drop(a2); // waiting
        assert_eq!(adm.queued(), 0);
        let _a3 = adm.admit(client(1), 3).unwrap();
        drop(a1);
        assert_eq!(adm.running(), 1, "the waiting ticket got the slot");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn never_more_running_than_slots_under_churn() {
        let adm = Arc::new(Admission::new(3, 1000, 0));
        let now = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..200)
            .map(|i| {
                let (adm, now, peak) = (Arc::clone(&adm), Arc::clone(&now), Arc::clone(&peak));
                tokio::spawn(async move {
                    let mut t = adm.admit(client((i % 5) as u8), 1).unwrap();
                    if i % 7 == 0 {
                        return; // gave up while waiting
                    }
                    t.ready().await.unwrap();
                    let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(n, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    now.fetch_sub(1, Ordering::SeqCst);
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        assert!(peak.load(Ordering::SeqCst) <= 3);
        assert_eq!((adm.running(), adm.queued()), (0, 0));
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
