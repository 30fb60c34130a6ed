//! Shared helpers of the trust tests: the real listener of `loa serve`
//! ([`loa::server::listen::serve`]) on a loopback port, and HTTP clients
//! whose sockets are bound to distinct loopback source addresses
//! (127.0.0.2, 127.0.0.3, … are all local), so each is its own client.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;

use loa::server::{AppState, Secrets, app};

use crate::server_support::{tone_wav, write_script};

/// A running server; stopped when dropped.
pub struct Served {
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Served {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// Serve `state` on 127.0.0.1 with the service's own listener.
pub async fn serve(state: AppState) -> Served {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let router = app(state.clone());
    tokio::spawn(async move {
        let stop = async move {
            let _ = rx.await;
        };
        loa::server::listen::serve(listener, router, state, stop).await.expect("serve");
    });
    Served { addr, stop: Some(tx) }
}

/// A client whose connections come from `127.0.0.<last>`.
pub fn client_from(last: u8) -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .local_address(IpAddr::from([127, 0, 0, last]))
        .build()
        .expect("client")
}

/// Secrets for a test (never read from this process's environment).
pub fn secrets(signing_key: Option<&str>, admin_token: Option<&str>) -> Secrets {
    Secrets {
        signing_key: signing_key.map(|k| k.as_bytes().to_vec()),
        admin_token: admin_token.map(str::to_string),
    }
}
/// A `command` voice `name` in `voices` whose script appends a line to
/// `dir/<name>.runs` per sentence and answers with a tone at `hz`;
/// `extra` is added to the voice file before `[backend]`.
pub fn command_voice(dir: &Path, voices: &Path, name: &str, hz: f32, extra: &str) {
    let tone = dir.join(format!("{name}.wav"));
    tone_wav(&tone, hz);
    let runs = dir.join(format!("{name}.runs"));
    let program = dir.join(format!("{name}.sh"));
    write_script(
        &program,
        &format!(
            "#!/bin/sh\necho run >> '{}'\ncat > /dev/null\nexec cat '{}'\n",
            runs.display(),
            tone.display()
        ),
    );
    std::fs::write(
        voices.join(format!("{name}.toml")),
        format!(
            "description = \"{name} tone\"\n{extra}\n[backend]\ntype = \"command\"\nprogram = \"{}\"\ntimeout_secs = 30\nconcurrency = 4\n",
            program.display()
        ),
    )
    .unwrap();
}

/// Sentences synthesized so far by the voice `name` of [`command_voice`].
pub fn runs(dir: &Path, name: &str) -> usize {
    std::fs::read_to_string(dir.join(format!("{name}.runs"))).map(|s| s.lines().count()).unwrap_or(0)
}
