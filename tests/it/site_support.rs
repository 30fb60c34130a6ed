//! A small web site on 127.0.0.1 for the fetch, generate and watcher
//! tests: pages set by the test, strong ETags with 304 answers, redirects,
//! slow and oversized bodies, and a count of requests per path. It runs on
//! its own thread and runtime, so CLI tests (other processes) can use it.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, Response, StatusCode, Uri};

#[derive(Clone)]
enum Answer {
    Page {
        content_type: String,
        body: Vec<u8>,
    },
    Redirect(String),
    /// One byte every `every`, `total` bytes.
    Slow {
        every: Duration,
        total: usize,
    },
    /// A chunked body of `total` bytes with no Content-Length.
    Endless {
        total: usize,
    },
}

#[derive(Default)]
struct State {
    answers: HashMap<String, Answer>,
    hits: HashMap<String, usize>,
}

pub struct Site {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

fn etag(body: &[u8]) -> String {
    format!("\"{}\"", &loa::cache::CacheKey::hash(&[&String::from_utf8_lossy(body)]).to_string()[..16])
}

async fn answer(state: Arc<Mutex<State>>, uri: Uri, headers: HeaderMap) -> Response<Body> {
    let path = uri.path_and_query().map_or("/".to_string(), |p| p.as_str().to_string());
    let found = {
        let mut s = state.lock().unwrap();
        *s.hits.entry(path.clone()).or_default() += 1;
        s.answers.get(&path).cloned()
    };
    let mut r = Response::builder();
    match found {
        None => r.status(StatusCode::NOT_FOUND).body(Body::from("not found")).unwrap(),
        Some(Answer::Redirect(to)) => {
            r.status(StatusCode::FOUND).header("location", to).body(Body::empty()).unwrap()
        }
        Some(Answer::Page { content_type, body }) => {
            let tag = etag(&body);
            if headers.get("if-none-match").and_then(|v| v.to_str().ok()) == Some(tag.as_str()) {
                return r.status(StatusCode::NOT_MODIFIED).header("etag", tag).body(Body::empty()).unwrap();
            }
            r = r.header("content-type", content_type).header("etag", tag);
            r.body(Body::from(body)).unwrap()
        }
        Some(Answer::Slow { every, total }) => {
            let stream = futures::stream::unfold(0usize, move |n| async move {
                if n >= total {
                    return None;
                }
                tokio::time::sleep(every).await;
                Some((Ok::<_, std::io::Error>(bytes::Bytes::from_static(b"x")), n + 1))
            });
            r.header("content-type", "text/html").body(Body::from_stream(stream)).unwrap()
        }
        Some(Answer::Endless { total }) => {
            let chunk = bytes::Bytes::from(vec![b'a'; 64 * 1024]);
            let stream = futures::stream::iter(
                (0..total.div_ceil(chunk.len())).map(move |_| Ok::<_, std::io::Error>(chunk.clone())),
            );
            r.header("content-type", "text/html").body(Body::from_stream(stream)).unwrap()
        }
    }
}

impl Site {
    pub fn start() -> Site {
        let state = Arc::new(Mutex::new(State::default()));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let st = Arc::clone(&state);
        let thread = std::thread::spawn(move || {
            let rt =
                tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                addr_tx.send(listener.local_addr().unwrap()).unwrap();
                let app = axum::Router::new()
                    .fallback(move |uri: Uri, headers: HeaderMap| answer(Arc::clone(&st), uri, headers));
                // Stop at once (not gracefully): a test's client may still hold a connection.
                tokio::select! {
                    r = axum::serve(listener, app) => r.unwrap(),
                    _ = rx => {}
                }
            });
            rt.shutdown_timeout(Duration::from_secs(1));
        });
        let addr = addr_rx.recv().unwrap();
        Site { addr, state, stop: Some(tx), thread: Some(thread) }
    }

    /// `http://127.0.0.1:PORT` — the allowlist entry that lets loa fetch it.
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.origin())
    }

    pub fn page(&self, path: &str, content_type: &str, body: impl Into<Vec<u8>>) {
        let a = Answer::Page { content_type: content_type.into(), body: body.into() };
        self.state.lock().unwrap().answers.insert(path.into(), a);
    }

    pub fn html(&self, path: &str, body: &str) {
        self.page(path, "text/html; charset=utf-8", body.as_bytes().to_vec());
    }

    pub fn redirect(&self, path: &str, to: &str) {
        self.state.lock().unwrap().answers.insert(path.into(), Answer::Redirect(to.into()));
    }

    pub fn slow(&self, path: &str, every: Duration, total: usize) {
        self.state.lock().unwrap().answers.insert(path.into(), Answer::Slow { every, total });
    }

    pub fn endless(&self, path: &str, total: usize) {
        self.state.lock().unwrap().answers.insert(path.into(), Answer::Endless { total });
    }

    pub fn hits(&self, path: &str) -> usize {
        self.state.lock().unwrap().hits.get(path).copied().unwrap_or(0)
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// An article page in a portal's markup.
pub fn article(title: &str, paragraphs: &[&str]) -> String {
    let body: String = paragraphs.iter().map(|p| format!("<p>{p}</p>\n")).collect();
    format!(
        "<!DOCTYPE html><html><head><meta charset=utf-8><title>{title} - Cổng thông tin</title></head><body>\
         <nav><a href=/>Trang chủ</a></nav><div class=\"news-detail\"><h1>{title}</h1>\
         <div class=meta>Lượt xem: 12</div><div class=\"news-content\">{body}</div></div>\
         <div class=footer>Cơ quan chủ quản</div></body></html>"
    )
}
