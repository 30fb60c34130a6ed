//! Shared by the browser tests: a small W3C WebDriver client over three
//! real engines and the servers the pages come from.
//!
//! - Chromium through `chromedriver` (headless; its CDP endpoint throttles
//!   the network and emulates a phone).
//! - Firefox ESR through `geckodriver` (headless). geckodriver speaks the
//!   same classic WebDriver protocol as the other two drivers, so one
//!   client drives all three; WebDriver BiDi would need a WebSocket client
//!   and a second command set for no gain here. Firefox will not play an
//!   `<audio>` without an output device, so the test runs a private
//!   PulseAudio with a null sink (which keeps real time) for it.
//! - WebKitGTK through `WebKitWebDriver` and MiniBrowser, on an Xvfb
//!   display the test starts itself (so dropping the browser also stops
//!   the display; a killed `xvfb-run` would leave its Xvfb behind).
//!   GStreamer decodes the MP3.
//!
//! `scripts/ensure/browsers` installs all of it (geckodriver and axe-core
//! under `${LOA_TOOLS_DIR:-$HOME/.cache/loa-tools}`). A missing tool skips
//! the test with a message on stderr, except under CI (`CI` set), where it
//! fails; `LOA_SKIP_BROWSER_TEST=1` skips on purpose, loudly.
//!
//! Screenshots go to `tests/artifacts/{engine}-{name}.png`.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
const MINIBROWSER: &str = "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Chromium,
    Firefox,
    WebKit,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Chromium => "chromium",
            Kind::Firefox => "firefox",
            Kind::WebKit => "webkit",
        }
    }
}

/// Where `scripts/ensure/browsers` puts the tools it builds or downloads.
pub fn tools_dir() -> PathBuf {
    match std::env::var_os("LOA_TOOLS_DIR") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/loa-tools"),
    }
}

fn on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(program)).find(|p| p.is_file())
}

fn geckodriver() -> Option<PathBuf> {
    let installed = tools_dir().join("geckodriver/bin/geckodriver");
    if installed.is_file() { Some(installed) } else { on_path("geckodriver") }
}

/// The axe-core script `scripts/ensure/browsers` installs.
pub fn axe_script() -> Option<String> {
    std::fs::read_to_string(tools_dir().join("axe/node_modules/axe-core/axe.min.js")).ok()
}

/// Skip (loudly) or, under CI, fail: a missing tool must never pass silently.
pub fn missing(what: &str) {
    let msg = format!("{what} (scripts/ensure/browsers installs it)");
    if std::env::var_os("CI").is_some() {
        panic!("{msg}");
    }
    eprintln!("SKIPPED browser test: {msg}");
}

/// True when the caller asked to skip browser tests (said on stderr).
pub fn skip_requested() -> bool {
    if std::env::var_os("LOA_SKIP_BROWSER_TEST").is_some() {
        eprintln!("SKIPPED browser test: LOA_SKIP_BROWSER_TEST is set");
        return true;
    }
    false
}

/// A loopback port that is free now, outside the kernel's ephemeral range:
/// a port handed to another process (a driver, a `loa serve` restarted on
/// the same port) from inside that range can be taken by any test's
/// outgoing connection before that process binds it.
pub fn free_port() -> u16 {
    let range = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").unwrap_or_default();
    let mut ends = range.split_whitespace().filter_map(|p| p.parse::<u16>().ok());
    let (lo, hi) = match (ends.next(), ends.next()) {
        (Some(lo), _) if lo > 21_000 => (20_000, lo - 1),
        (_, Some(hi)) if hi < 64_000 => (hi + 1, u16::MAX),
        _ => (20_000, 30_000),
    };
    for _ in 0..1000 {
        let port = lo + rand::random::<u16>() % (hi - lo + 1);
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free loopback port in {lo}-{hi}")
}

/// One browser with one WebDriver session.
pub struct Browser {
    pub kind: Kind,
    base: String,
    session: String,
    http: reqwest::Client,
    _driver: Reaped,
    /// Xvfb (WebKit) or PulseAudio (Firefox), stopped after the driver
    /// (fields drop in order).
    _helper: Option<Reaped>,
    _profile: tempfile::TempDir,
}

/// A child process killed and waited for when dropped, so that a test that
/// panics while a browser starts (a driver that never comes up) leaves no
/// driver, Xvfb or PulseAudio behind.
struct Reaped(Child);

impl Reaped {
    fn try_wait(&mut self) -> Option<std::process::ExitStatus> {
        self.0.try_wait().ok().flatten()
    }
}

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Browser {
    /// Close the browser (DELETE the session) before stopping the driver:
    /// killing the driver alone can leave the browser running. Plain
    /// blocking HTTP, since `drop` cannot await (and runs on panics too).
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let addr = self.base.trim_start_matches("http://").to_string();
            if let Ok(mut stream) = std::net::TcpStream::connect(&addr) {
                use std::io::{Read, Write};
                let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                let request = format!(
                    "DELETE /session/{} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    self.session
                );
                if stream.write_all(request.as_bytes()).is_ok() {
                    let mut sink = Vec::new();
                    let _ = stream.read_to_end(&mut sink);
                }
            }
        }
        // The driver, then its helper, are stopped as the fields drop.
    }
}

/// Start Xvfb on a free display; returns it and the display number.
fn start_xvfb() -> Option<(Child, String)> {
    let mut child = Command::new("Xvfb")
        .args(["-displayfd", "1", "-screen", "0", "1280x1024x24", "-nolisten", "tcp"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut line = String::new();
    BufReader::new(child.stdout.take()?).read_line(&mut line).ok()?;
    let display = line.trim().to_string();
    if display.is_empty() {
        let _ = child.kill();
        let _ = child.wait();
        return None;
    }
    Some((child, format!(":{display}")))
}

/// A private PulseAudio whose default sink is a null sink, listening on
/// `dir/native`.
fn start_pulse(dir: &Path) -> Option<Child> {
    let socket = dir.join("native");
    let mut child = Command::new("pulseaudio")
        .args(["-n", "--daemonize=no", "--exit-idle-time=-1", "--use-pid-file=no", "--log-target=stderr"])
        .args(["-L", "module-null-sink sink_name=loa_null"])
        .arg("-L")
        .arg(format!("module-native-protocol-unix socket={} auth-anonymous=1", socket.display()))
        .env("HOME", dir)
        .env("XDG_RUNTIME_DIR", dir)
        .env("PULSE_RUNTIME_PATH", dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while !socket.exists() {
        if Instant::now() > deadline || child.try_wait().ok().flatten().is_some() {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Some(child)
}

impl Browser {
    /// A browser of `kind`, or `None` (said on stderr) when it cannot run
    /// here. Its window is `width`×`height`.
    pub async fn start(kind: Kind, width: u32, height: u32) -> Option<Browser> {
        if skip_requested() {
            return None;
        }
        let profile = tempfile::tempdir().unwrap();
        let mut helper = None;
        // The driver command for a port (its helper, if any, is started here).
        let command: Box<dyn Fn(u16) -> Command> = match kind {
            Kind::Chromium => {
                if on_path("chromedriver").is_none() || !Path::new("/usr/bin/chromium").exists() {
                    missing("chromium or chromedriver is not installed");
                    return None;
                }
                Box::new(|port| {
                    let mut c = Command::new("chromedriver");
                    c.arg(format!("--port={port}"));
                    c
                })
            }
            Kind::Firefox => {
                let Some(gecko) = geckodriver() else {
                    missing("geckodriver is not installed");
                    return None;
                };
                if !Path::new("/usr/bin/firefox-esr").exists() {
                    missing("firefox-esr is not installed");
                    return None;
                }
                let Some(pulse) = start_pulse(profile.path()) else {
                    missing("pulseaudio is not installed or did not start");
                    return None;
                };
                helper = Some(Reaped(pulse));
                let pulse_server = format!("unix:{}", profile.path().join("native").display());
                Box::new(move |port| {
                    let mut c = Command::new(&gecko);
                    c.args(["--port", &port.to_string(), "--log", "fatal"])
                        .env("PULSE_SERVER", &pulse_server);
                    c
                })
            }
            Kind::WebKit => {
                if on_path("WebKitWebDriver").is_none() || !Path::new(MINIBROWSER).exists() {
                    missing("WebKitWebDriver or MiniBrowser (webkit2gtk-driver) is not installed");
                    return None;
                }
                let Some((x, display)) = start_xvfb() else {
                    missing("Xvfb (xvfb) is not installed or did not start");
                    return None;
                };
                helper = Some(Reaped(x));
                Box::new(move |port| {
                    let mut c = Command::new("WebKitWebDriver");
                    c.arg(format!("--port={port}")).env("DISPLAY", &display);
                    c
                })
            }
        };
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        // A port that was free a moment ago can be taken before the driver
        // binds it (by another test's connection); the driver then exits,
        // and starts again on another port.
        let mut attempt = 0;
        let (driver, port) = loop {
            attempt += 1;
            let port = free_port();
            let mut driver = match command(port).stdout(Stdio::null()).stderr(Stdio::null()).spawn() {
                Ok(d) => Reaped(d),
                // `helper` is stopped as the panic unwinds.
                Err(e) => panic!("cannot run the {} driver: {e}", kind.name()),
            };
            let deadline = Instant::now() + Duration::from_secs(30);
            let exited = loop {
                if let Ok(r) = http.get(format!("http://127.0.0.1:{port}/status")).send().await
                    && r.json::<Value>().await.is_ok_and(|v| v["value"]["ready"] == true)
                {
                    break None;
                }
                if let Some(status) = driver.try_wait() {
                    break Some(status);
                }
                assert!(Instant::now() < deadline, "the {} driver did not start", kind.name());
                tokio::time::sleep(Duration::from_millis(100)).await;
            };
            match exited {
                None => break (driver, port),
                Some(status) if attempt < 3 => {
                    eprintln!(
                        "the {} driver exited on port {port} ({status}); again on another port",
                        kind.name()
                    )
                }
                Some(status) => {
                    panic!("the {} driver exited three times, last on port {port}: {status}", kind.name())
                }
            }
        };
        let mut b = Browser {
            kind,
            base: format!("http://127.0.0.1:{port}"),
            session: String::new(),
            http,
            _driver: driver,
            _helper: helper,
            _profile: profile,
        };
        let caps = match kind {
            Kind::Chromium => {
                let args = [
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--disable-dev-shm-usage",
                    "--autoplay-policy=no-user-gesture-required",
                    "--lang=vi",
                ]
                .into_iter()
                .map(String::from)
                .chain([
                    format!("--window-size={width},{height}"),
                    format!("--user-data-dir={}", b._profile.path().display()),
                ])
                .collect::<Vec<_>>();
                json!({ "browserName": "chrome",
                        "goog:chromeOptions": { "binary": "/usr/bin/chromium", "args": args } })
            }
            Kind::Firefox => json!({
                "browserName": "firefox",
                "moz:firefoxOptions": {
                    "binary": "/usr/bin/firefox-esr",
                    "args": ["-headless", format!("--width={width}"), format!("--height={height}")],
                    "prefs": {
                        "media.autoplay.default": 0,
                        "media.autoplay.blocking_policy": 0,
                        "app.update.auto": false,
                        "browser.shell.checkDefaultBrowser": false,
                        "intl.accept_languages": "vi"
                    }
                }
            }),
            Kind::WebKit => json!({
                "browserName": "MiniBrowser",
                "webkitgtk:browserOptions": { "binary": MINIBROWSER, "args": ["--automation"] }
            }),
        };
        let v = b.call("POST", "/session", json!({ "capabilities": { "alwaysMatch": caps } })).await;
        b.session = v["sessionId"].as_str().expect("session id").to_string();
        if kind != Kind::Chromium {
            b.call("POST", "/window/rect", json!({ "width": width, "height": height })).await;
        }
        Some(b)
    }

    /// One WebDriver command; panics on an error answer.
    pub async fn call(&self, method: &str, path: &str, body: Value) -> Value {
        match self.try_call(method, path, body).await {
            Ok(v) => v,
            Err(e) => panic!("{} webdriver {method} {path}: {e}", self.kind.name()),
        }
    }

    pub async fn try_call(&self, method: &str, path: &str, body: Value) -> Result<Value, String> {
        let url = if path == "/session" {
            format!("{}/session", self.base)
        } else {
            format!("{}/session/{}{}", self.base, self.session, path)
        };
        let req = match method {
            "GET" => self.http.get(url),
            "DELETE" => self.http.delete(url),
            _ => self.http.post(url).json(&body),
        };
        let resp = req.timeout(Duration::from_secs(120)).send().await.map_err(|e| e.to_string())?;
        let status = resp.status();
        let v: Value = resp.json().await.map_err(|e| e.to_string())?;
        if status.is_success() { Ok(v["value"].clone()) } else { Err(format!("{status} {v}")) }
    }

    pub async fn goto(&self, url: &str) {
        self.call("POST", "/url", json!({ "url": url })).await;
    }

    pub async fn find(&self, css: &str) -> String {
        let v = self.call("POST", "/element", json!({ "using": "css selector", "value": css })).await;
        v[ELEMENT].as_str().expect("element id").to_string()
    }

    /// A real click. WebDriver scrolls the element into view itself, but on
    /// a loaded machine the page may still be moving (a player bar sliding
    /// in, a layout shift) and the click lands on another element ("element
    /// click intercepted"). So: scroll it to the middle of the viewport
    /// when it is not wholly in view (only then, as WebDriver does), wait
    /// (polling, up to 10 s) until the element itself is what is at its
    /// centre, then click; an intercepted or not-yet-interactable click is
    /// tried again, at most 5 times.
    pub async fn click(&self, css: &str) {
        const CLICKABLE: &str = "const e = document.querySelector(arguments[0]); if (!e) return 'missing';\
            let r = e.getBoundingClientRect();\
            if (r.top < 0 || r.left < 0 || r.bottom > innerHeight || r.right > innerWidth) {\
              e.scrollIntoView({block: 'center', inline: 'center'}); r = e.getBoundingClientRect(); }\
            if (r.width === 0 || r.height === 0) return 'no box';\
            const at = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);\
            return at && (at === e || e.contains(at)) ? 'ok' : 'covered by ' + (at ? at.outerHTML.slice(0, 120) : 'nothing');";
        let mut last = String::new();
        for attempt in 0..5 {
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                let v = self.js_with(CLICKABLE, json!([css])).await;
                if v == "ok" || Instant::now() > deadline {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            let id = self.find(css).await;
            match self.try_call("POST", &format!("/element/{id}/click"), json!({})).await {
                Ok(_) => return,
                Err(e) if e.contains("intercepted") || e.contains("not interactable") => {
                    eprintln!("{}: click on {css} (try {}): {e}", self.kind.name(), attempt + 1);
                    last = e;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => panic!("{} webdriver click {css}: {e}", self.kind.name()),
            }
        }
        panic!("{}: clicking {css} failed 5 times: {last}", self.kind.name());
    }

    /// Type `keys` (WebDriver key codes such as `\u{E014}` for →) into the element.
    pub async fn keys(&self, css: &str, keys: &str) {
        let id = self.find(css).await;
        self.call("POST", &format!("/element/{id}/value"), json!({ "text": keys })).await;
    }

    /// Press one key wherever the focus is (the Actions API).
    pub async fn press(&self, key: &str) {
        let actions = json!({ "actions": [{ "type": "key", "id": "kb", "actions": [
            { "type": "keyDown", "value": key }, { "type": "keyUp", "value": key } ] }] });
        self.call("POST", "/actions", actions).await;
        let _ = self.try_call("DELETE", "/actions", Value::Null).await;
    }

    /// Run `script` (a function body) with `args`.
    pub async fn js_with(&self, script: &str, args: Value) -> Value {
        self.call("POST", "/execute/sync", json!({ "script": script, "args": args })).await
    }

    pub async fn js(&self, script: &str) -> Value {
        self.js_with(script, json!([])).await
    }

    /// Poll `script` until `ok` holds for its value; panic after `secs`
    /// (saving a screenshot `{engine}-failure-{what}.png`).
    pub async fn wait_for(&self, what: &str, secs: u64, script: &str, ok: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let v = self.js(script).await;
            if ok(&v) {
                return v;
            }
            if Instant::now() > deadline {
                let name: String =
                    what.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
                self.screenshot(&format!("failure-{name}")).await;
                let media = self.js("return window.__media ? window.__media.slice(-20) : null;").await;
                panic!(
                    "{}: timed out after {secs} s waiting for {what}; last state {v}; media events {media}",
                    self.kind.name()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Save a screenshot as `tests/artifacts/{engine}-{name}.png`.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/artifacts");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{}-{name}.png", self.kind.name()));
        if let Ok(b64) = self.try_call("GET", "/screenshot", Value::Null).await
            && let Ok(png) = base64::engine::general_purpose::STANDARD.decode(b64.as_str().unwrap_or(""))
        {
            std::fs::write(&path, png).unwrap();
        }
        path
    }

    /// A Chrome DevTools Protocol command (Chromium only).
    pub async fn cdp(&self, cmd: &str, params: Value) -> Value {
        assert_eq!(self.kind, Kind::Chromium, "CDP is Chromium's");
        self.call("POST", "/goog/cdp/execute", json!({ "cmd": cmd, "params": params })).await
    }
}

/// Chromium DevTools' "Fast 3G" (renamed "Slow 4G" in 2024, same
/// numbers): 150 ms RTT × 3.75, 1.6 Mbit/s × 0.9 down, 750 kbit/s × 0.9 up.
pub fn fast_3g() -> Value {
    json!({
        "offline": false,
        "latency": 150.0 * 3.75,
        "downloadThroughput": 1.6 * 1000.0 * 1000.0 / 8.0 * 0.9,
        "uploadThroughput": 750.0 * 1000.0 / 8.0 * 0.9,
    })
}

/// A listening socket on `ip` (a loopback address), bound before its
/// router exists so that pages and CORS settings can name each other.
pub struct Listener {
    listener: tokio::net::TcpListener,
    pub addr: SocketAddr,
}

impl Listener {
    pub async fn bind(ip: &str) -> Listener {
        let listener = tokio::net::TcpListener::bind(format!("{ip}:0")).await.unwrap();
        let addr = listener.local_addr().unwrap();
        Listener { listener, addr }
    }

    /// `http://ip:port`
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Serve `app` in this runtime.
    pub fn serve(self, app: axum::Router) -> SocketAddr {
        let Listener { listener, addr } = self;
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        addr
    }

    /// Serve the loa service.
    pub fn serve_api(self, state: loa::server::AppState) -> SocketAddr {
        self.serve(loa::server::app(state))
    }

    /// Serve `pages` (path, HTML) as a "foreign site".
    pub fn serve_pages(self, pages: Vec<(&'static str, String)>) -> SocketAddr {
        let mut router = axum::Router::new();
        for (path, html) in pages {
            router =
                router.route(path, axum::routing::get(move || async move { axum::response::Html(html) }));
        }
        self.serve(router)
    }
}

/// The loa service in this process, on 127.0.0.1.
pub async fn serve_api(state: loa::server::AppState) -> SocketAddr {
    Listener::bind("127.0.0.1").await.serve_api(state)
}

/// The address of the "foreign site": 127.0.0.2 is another origin and
/// another site than the service on 127.0.0.1.
pub const SITE_IP: &str = "127.0.0.2";

/// A page script that records every audio element's events (capture
/// phase: media events do not bubble) in `window.__media`.
pub const MEDIA_LOG: &str = r#"<script>
window.__media = [];
['loadstart', 'loadedmetadata', 'playing', 'pause', 'ended', 'error', 'abort', 'emptied', 'stalled'].forEach(function (type) {
  document.addEventListener(type, function (e) {
    var a = e.target;
    if (a.tagName === 'AUDIO') __media.push({ type: type, t: performance.now(), src: a.currentSrc || '',
      err: a.error ? a.error.code + ' ' + a.error.message : '' });
  }, true);
});
</script>"#;

/// The widget's state as the tests read it: the first widget's audio
/// element, highlighted sentence, status text and toggle button, and
/// `seen`: the sentences highlighted since the first read (a
/// MutationObserver records each, so a sentence shorter than a poll under
/// load is not missed; see [`reached`]).
pub const STATE: &str = r#"
  if (!window.__loaSeen) {
    window.__loaSeen = [];
    new MutationObserver(function (ms) {
      ms.forEach(function (m) {
        var e = m.target;
        if (e.classList && e.classList.contains('loa-on') && e.hasAttribute('data-loa-i')) {
          var i = +e.getAttribute('data-loa-i'), s = window.__loaSeen;
          if (s[s.length - 1] !== i) s.push(i);
        }
      });
    }).observe(document.documentElement, { subtree: true, attributes: true, attributeFilter: ['class'] });
  }
  var a = document.querySelector('.loa-player audio');
  var on = document.querySelector('.loa-s.loa-on');
  var st = document.querySelector('.loa-live') || document.querySelector('.loa-status');
  var b = document.querySelector('.loa-btn');
  return { t: a ? a.currentTime : -1, paused: a ? a.paused : true, rate: a ? a.playbackRate : 0,
           src: a ? (a.currentSrc || '') : '', ended: a ? a.ended : false, dur: a ? a.duration : 0,
           ready: a ? a.readyState : -1, err: a && a.error ? a.error.code : 0,
           on: on ? +on.getAttribute('data-loa-i') : -1, onText: on ? on.textContent : '',
           spans: document.querySelectorAll('.loa-s').length,
           status: st ? st.textContent : '', pressed: b ? b.getAttribute('aria-pressed') : null,
           button: b ? b.textContent.trim() : '', seen: window.__loaSeen.slice(-100) };
"#;

/// Whether sentence `i` is highlighted in `state` (read with [`STATE`]) or
/// has been since the observer was installed.
pub fn reached(state: &Value, i: i64) -> bool {
    state["on"].as_i64() == Some(i)
        || state["seen"].as_array().is_some_and(|s| s.iter().any(|x| x.as_i64() == Some(i)))
}
