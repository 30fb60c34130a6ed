//! A scriptable local HTTP server for the remote backend tests: each path
//! answers with a queue of steps (the last one repeats), every request is
//! recorded, and in-flight requests are counted.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, Response, StatusCode, Uri};
use loa::tts::remote::HttpOptions;

/// The key every test uses; it must never appear in an error.
pub const KEY: &str = "SECRET-KEY-7f3a9c";

/// One scripted answer.
#[derive(Clone, Debug)]
pub enum Step {
    Reply {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: Vec<u8>,
    },
    /// Wait, then answer.
    Slow(Duration, Box<Step>),
    /// Announce `body.len() * 2` bytes, send `body`, then break the connection.
    Truncated {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: Vec<u8>,
    },
}

impl Step {
    pub fn ok(content_type: &str, body: Vec<u8>) -> Step {
        Step::Reply { status: 200, headers: vec![("content-type", content_type.into())], body }
    }
    pub fn json(status: u16, value: serde_json::Value) -> Step {
        Step::Reply {
            status,
            headers: vec![("content-type", "application/json".into())],
            body: value.to_string().into_bytes(),
        }
    }
    pub fn status(status: u16, body: &str) -> Step {
        Step::Reply {
            status,
            headers: vec![("content-type", "text/plain".into())],
            body: body.as_bytes().to_vec(),
        }
    }
    /// A 200 answer of `content_type` whose transfer breaks after `body`.
    pub fn cut(content_type: &str, body: Vec<u8>) -> Step {
        Step::Truncated { status: 200, headers: vec![("content-type", content_type.into())], body }
    }
    /// This answer, after a wait.
    pub fn after(self, wait: Duration) -> Step {
        Step::Slow(wait, Box::new(self))
    }
    pub fn with_header(self, name: &'static str, value: &str) -> Step {
        match self {
            Step::Reply { status, mut headers, body } => {
                headers.push((name, value.into()));
                Step::Reply { status, headers, body }
            }
            other => other,
        }
    }
}

/// A request the server saw.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: Method,
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    pub at: Instant,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("request body is JSON")
    }
    pub fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("request body is UTF-8")
    }
}

#[derive(Default)]
struct Inner {
    scripts: Mutex<HashMap<String, VecDeque<Step>>>,
    seen: Mutex<Vec<Seen>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

/// A running test server on 127.0.0.1.
pub struct Server {
    pub addr: SocketAddr,
    inner: Arc<Inner>,
}

impl Server {
    pub async fn start() -> Server {
        let inner = Arc::new(Inner::default());
        let app = axum::Router::new().fallback(handle).with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Server { addr, inner }
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Answer requests to `path` with `steps` in order; the last one repeats.
    pub fn script(&self, path: &str, steps: Vec<Step>) {
        self.inner.scripts.lock().unwrap().insert(path.to_string(), steps.into());
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.inner.seen.lock().unwrap().clone()
    }

    pub fn seen_on(&self, path: &str) -> Vec<Seen> {
        self.seen().into_iter().filter(|s| s.path == path).collect()
    }

    pub fn max_in_flight(&self) -> usize {
        self.inner.max_in_flight.load(Ordering::SeqCst)
    }
}

async fn handle(
    State(inner): State<Arc<Inner>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response<Body> {
    let now = inner.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    inner.max_in_flight.fetch_max(now, Ordering::SeqCst);
    let path = uri.path().to_string();
    inner.seen.lock().unwrap().push(Seen {
        method,
        path: path.clone(),
        query: uri.query().map(String::from),
        headers,
        body: body.to_vec(),
        at: Instant::now(),
    });
    let step = {
        let mut scripts = inner.scripts.lock().unwrap();
        match scripts.get_mut(&path) {
            Some(q) if q.len() > 1 => q.pop_front(),
            Some(q) => q.front().cloned(),
            None => None,
        }
    };
    let resp = match step {
        Some(step) => play(step).await,
        None => Response::builder().status(404).body(Body::from("no such route")).unwrap(),
    };
    inner.in_flight.fetch_sub(1, Ordering::SeqCst);
    resp
}

async fn play(mut step: Step) -> Response<Body> {
    loop {
        match step {
            Step::Slow(d, next) => {
                tokio::time::sleep(d).await;
                step = *next;
            }
            Step::Reply { status, headers, body } => {
                let mut b = Response::builder().status(StatusCode::from_u16(status).unwrap());
                for (k, v) in headers {
                    b = b.header(k, v);
                }
                return b.body(Body::from(body)).unwrap();
            }
            Step::Truncated { status, headers, body } => {
                let mut b =
                    Response::builder().status(status).header("content-length", (body.len() * 2).to_string());
                for (k, v) in headers {
                    b = b.header(k, v);
                }
                use futures::StreamExt;
                // Send the headers and part of the body, then cut the connection.
                let head =
                    futures::stream::once(async move { Ok::<Bytes, std::io::Error>(Bytes::from(body)) });
                let cut = futures::stream::once(async {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    Err(std::io::Error::other("connection cut"))
                });
                return b.body(Body::from_stream(head.chain(cut))).unwrap();
            }
        }
    }
}

/// Options with short timeouts and backoffs, for tests.
pub fn fast_http() -> HttpOptions {
    HttpOptions {
        timeout_ms: 1_500,
        connect_timeout_ms: 1_000,
        max_attempts: 3,
        backoff_initial_ms: 20,
        backoff_max_ms: 3_000,
        concurrency: 4,
    }
}

/// [`fast_http`] with another per-attempt timeout and number of attempts.
pub fn http_timeout(timeout_ms: u64, max_attempts: u32) -> HttpOptions {
    HttpOptions { timeout_ms, max_attempts, ..fast_http() }
}

/// Environment with only the test key in `var`.
pub fn env_with(var: &'static str) -> impl Fn(&str) -> Option<String> {
    move |v| (v == var).then(|| KEY.to_string())
}

/// A sine sweep as 16-bit samples.
pub fn tone(n: usize) -> Vec<i16> {
    (0..n).map(|i| ((i as f32 * 0.07).sin() * 9000.0) as i16).collect()
}

/// A mono 16-bit WAV file (the library's own WAV writer).
pub fn wav(rate: u32, samples: &[i16]) -> Vec<u8> {
    loa::audio::encode_wav(&loa::audio::Pcm { sample_rate: rate, samples: samples.to_vec() })
        .expect("WAV encodes")
}

/// A mono MP3 file of `samples` at `rate`.
pub fn mp3(rate: u32, samples: &[i16]) -> Vec<u8> {
    use mp3lame_encoder::{Builder, FlushNoGap, MonoPcm};
    let mut b = Builder::new().unwrap();
    b.set_num_channels(1).unwrap();
    b.set_sample_rate(rate).unwrap();
    b.set_brate(mp3lame_encoder::Bitrate::Kbps64).unwrap();
    let mut enc = b.build().unwrap();
    // LAME treats an empty output buffer as unbounded: always reserve.
    let mut out = Vec::with_capacity(mp3lame_encoder::max_required_buffer_size(samples.len()) + 7200);
    enc.encode_to_vec(MonoPcm(samples), &mut out).unwrap();
    out.reserve(7200);
    enc.flush_to_vec::<FlushNoGap>(&mut out).unwrap();
    out
}

/// Raw little-endian 16-bit PCM.
pub fn raw(samples: &[i16]) -> Vec<u8> {
    samples.iter().flat_map(|s| s.to_le_bytes()).collect()
}

/// The error's text and debug form must not contain the key.
pub fn assert_no_key(err: &impl std::fmt::Debug, shown: &str) {
    assert!(!shown.contains(KEY), "key leaked in error: {shown}");
    let dbg = format!("{err:?}");
    assert!(!dbg.contains(KEY), "key leaked in debug: {dbg}");
}

/// The error's text, checked by [`assert_no_key`].
pub fn shown_without_key<E: std::fmt::Debug + std::fmt::Display>(err: &E) -> String {
    let shown = err.to_string();
    assert_no_key(err, &shown);
    shown
}

/// Exactly two requests, the retry at least `min` after the first.
pub fn assert_retried_after(seen: &[Seen], min: Duration) {
    assert_eq!(seen.len(), 2);
    let gap = seen[1].at - seen[0].at;
    assert!(gap >= min, "retried after {gap:?}, before {min:?}");
}
