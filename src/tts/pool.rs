//! Synthesis on every core: a pool of worker processes, each the loa
//! binary itself started as `loa __synth-worker`, with its own copy of
//! eSpeak NG (which allows one synthesis at a time per process).
//!
//! The protocol over the worker's stdin/stdout is length-framed: a request
//! is a `u32` little-endian length and a JSON [`Request`]; an answer is a
//! `u32` length, a JSON [`Answer`], then `samples` 16-bit little-endian
//! samples. A worker is only reused after a complete exchange; one that
//! crashes, answers garbage or takes longer than the timeout is killed
//! (also when the caller goes away, `kill_on_drop`) and replaced, and its
//! sentence is tried once more on a fresh worker. A worker loads eSpeak NG
//! once and synthesizes each sentence in a `fork()` of that pristine
//! instance, so every sentence starts from the same state (deterministic
//! bytes) without reloading the library.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::sync::Semaphore;

use super::TtsError;
use super::espeak::{EspeakSpec, Prepared, synthesize_fresh};
use crate::audio::Pcm;

/// The hidden subcommand that runs a worker.
pub const WORKER_COMMAND: &str = "__synth-worker";
/// Largest request or answer header accepted, in bytes.
const MAX_FRAME: u32 = 1 << 20;
/// Most samples one answer may carry (ten minutes at 48 kHz).
const MAX_SAMPLES: u64 = 48_000 * 600;

/// One sentence for a worker.
#[derive(Debug, Serialize, Deserialize)]
pub struct Request {
    pub spec: EspeakSpec,
    pub text: String,
}

/// A worker's answer (samples follow it on the pipe).
#[derive(Debug, Serialize, Deserialize)]
pub struct Answer {
    pub ok: bool,
    #[serde(default)]
    pub error: String,
    #[serde(default)]
    pub unavailable: bool,
    #[serde(default)]
    pub sample_rate: u32,
    #[serde(default)]
    pub samples: u64,
}

struct Worker {
    child: Child,
    stdin: ChildStdin,
    stdout: ChildStdout,
}

/// A fixed number of worker processes, started on first use.
pub struct Pool {
    program: PathBuf,
    size: usize,
    timeout: Duration,
    permits: Semaphore,
    idle: Mutex<Vec<Worker>>,
}

impl Pool {
    /// `size` workers of `program` (the loa binary); a sentence taking
    /// longer than `timeout` kills its worker.
    pub fn new(program: &Path, size: usize, timeout: Duration) -> Pool {
        let size = size.max(1);
        Pool {
            program: program.to_path_buf(),
            size,
            timeout,
            permits: Semaphore::new(size),
            idle: Mutex::new(Vec::new()),
        }
    }

    pub fn size(&self) -> usize {
        self.size
    }

    /// Process ids of the idle workers (tests kill or stop them).
    pub fn idle_pids(&self) -> Vec<u32> {
        self.idle.lock().unwrap_or_else(|p| p.into_inner()).iter().filter_map(|w| w.child.id()).collect()
    }

    fn spawn(&self) -> Result<Worker, TtsError> {
        let mut child = Command::new(&self.program)
            .arg(WORKER_COMMAND)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| {
                TtsError::Backend(format!(
                    "cannot start a synthesis worker ({}): {e}",
                    self.program.display()
                ))
            })?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err(TtsError::Backend("synthesis worker without pipes".into()));
        };
        Ok(Worker { child, stdin, stdout })
    }

    /// Synthesize on a worker; a worker that fails is replaced and the
    /// sentence retried once.
    pub async fn synthesize(&self, spec: &EspeakSpec, text: &str) -> Result<Pcm, TtsError> {
        let _permit =
            self.permits.acquire().await.map_err(|_| TtsError::Backend("worker pool closed".into()))?;
        let request = serde_json::to_vec(&Request { spec: spec.clone(), text: text.to_string() })
            .map_err(|e| TtsError::Backend(e.to_string()))?;
        let mut last = None;
        for attempt in 0..2 {
            let pooled = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
            let mut worker = match pooled {
                Some(w) => w,
                None => self.spawn()?,
            };
            match tokio::time::timeout(self.timeout, exchange(&mut worker, &request)).await {
                Ok(Ok(Ok(pcm))) => {
                    self.idle.lock().unwrap_or_else(|p| p.into_inner()).push(worker);
                    return Ok(pcm);
                }
                // The worker is fine; the sentence is not (a clear error, no retry).
                Ok(Ok(Err(e))) => {
                    self.idle.lock().unwrap_or_else(|p| p.into_inner()).push(worker);
                    return Err(e);
                }
                Ok(Err(e)) => {
                    tracing::warn!(attempt, error = %e, "synthesis worker failed; replacing it");
                    last = Some(TtsError::Backend(format!("synthesis worker failed: {e}")));
                }
                Err(_) => {
                    tracing::warn!(attempt, "synthesis worker timed out; replacing it");
                    last = Some(TtsError::Timeout(self.timeout));
                }
            }
            let _ = worker.child.start_kill();
        }
        Err(last.unwrap_or_else(|| TtsError::Backend("synthesis worker failed".into())))
    }
}

/// One request and its answer. The outer error means the worker itself
/// failed (it must be replaced); the inner one is the sentence's.
async fn exchange(w: &mut Worker, request: &[u8]) -> std::io::Result<Result<Pcm, TtsError>> {
    w.stdin.write_all(&(request.len() as u32).to_le_bytes()).await?;
    w.stdin.write_all(request).await?;
    w.stdin.flush().await?;
    let len = w.stdout.read_u32_le().await?;
    if len > MAX_FRAME {
        return Err(std::io::Error::other(format!("answer header of {len} bytes")));
    }
    let mut head = vec![0u8; len as usize];
    w.stdout.read_exact(&mut head).await?;
    let answer: Answer = serde_json::from_slice(&head).map_err(std::io::Error::other)?;
    if !answer.ok {
        return Ok(Err(if answer.unavailable {
            TtsError::Unavailable(answer.error)
        } else {
            TtsError::Backend(answer.error)
        }));
    }
    if answer.samples > MAX_SAMPLES || !crate::audio::RATES.contains(&answer.sample_rate) {
        return Err(std::io::Error::other("implausible answer"));
    }
    let mut raw = vec![0u8; answer.samples as usize * 2];
    w.stdout.read_exact(&mut raw).await?;
    let samples = raw.chunks_exact(2).map(|c| i16::from_le_bytes([c[0], c[1]])).collect();
    Ok(Ok(Pcm { sample_rate: answer.sample_rate, samples }))
}

/// The worker process: answer requests on stdin until it closes.
pub fn worker_main() -> std::process::ExitCode {
    // Loaded once; each sentence runs in a fork of this pristine instance.
    // Where it cannot be prepared, each sentence opens its own (and reports
    // why the library is unavailable).
    let mut prepared = Prepared::open().ok();
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let (mut input, mut output) = (stdin.lock(), stdout.lock());
    loop {
        let mut len = [0u8; 4];
        if input.read_exact(&mut len).is_err() {
            return std::process::ExitCode::SUCCESS;
        }
        let len = u32::from_le_bytes(len);
        if len > MAX_FRAME {
            return std::process::ExitCode::FAILURE;
        }
        let mut body = vec![0u8; len as usize];
        if input.read_exact(&mut body).is_err() {
            return std::process::ExitCode::FAILURE;
        }
        let (answer, samples) = match serde_json::from_slice::<Request>(&body) {
            Err(e) => (
                Answer {
                    ok: false,
                    error: format!("bad request: {e}"),
                    unavailable: false,
                    sample_rate: 0,
                    samples: 0,
                },
                Vec::new(),
            ),
            Ok(req) => match match &mut prepared {
                Some(p) => p.synthesize(&req.spec, &req.text),
                None => synthesize_fresh(&req.spec, &req.text),
            } {
                Ok(pcm) => (
                    Answer {
                        ok: true,
                        error: String::new(),
                        unavailable: false,
                        sample_rate: pcm.sample_rate,
                        samples: pcm.samples.len() as u64,
                    },
                    pcm.samples,
                ),
                Err(e) => {
                    let unavailable = matches!(e, TtsError::Unavailable(_));
                    let error = match e {
                        TtsError::Unavailable(m) | TtsError::Backend(m) => m,
                        other => other.to_string(),
                    };
                    (Answer { ok: false, error, unavailable, sample_rate: 0, samples: 0 }, Vec::new())
                }
            },
        };
        let head = serde_json::to_vec(&answer).unwrap_or_default();
        let mut raw = Vec::with_capacity(4 + head.len() + samples.len() * 2);
        raw.extend_from_slice(&(head.len() as u32).to_le_bytes());
        raw.extend_from_slice(&head);
        for s in samples {
            raw.extend_from_slice(&s.to_le_bytes());
        }
        if output.write_all(&raw).and_then(|_| output.flush()).is_err() {
            return std::process::ExitCode::SUCCESS;
        }
    }
}

/// How speech backends run: in this process, or on worker processes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Runtime {
    /// Worker processes (0 or 1: synthesize in this process).
    pub workers: usize,
    /// The loa binary the workers run.
    pub program: Option<PathBuf>,
    /// A sentence taking longer than this kills its worker.
    pub timeout: Duration,
}

impl Runtime {
    /// In this process only.
    pub fn in_process() -> Runtime {
        Runtime { workers: 1, program: None, timeout: Duration::from_secs(60) }
    }

    /// From `speech.workers` (0 = one per core) and `speech.worker_program`
    /// (default: this executable, when it is the loa binary).
    pub fn from_config(sp: &crate::config::SpeechConfig) -> Runtime {
        let workers = match sp.workers {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        let program = sp.worker_program.clone().or_else(|| {
            let exe = std::env::current_exe().ok()?;
            let name = exe.file_name()?.to_str()?;
            (name == "loa" || name.starts_with("loa.")).then_some(exe)
        });
        if workers > 1 && program.is_none() {
            tracing::debug!("no loa binary for synthesis workers; synthesizing in this process");
        }
        Runtime { workers, program, timeout: Duration::from_secs(60) }
    }

    /// The pool these settings ask for, if any.
    pub fn pool(&self) -> Option<std::sync::Arc<Pool>> {
        match (&self.program, self.workers) {
            (Some(p), n) if n > 1 => Some(std::sync::Arc::new(Pool::new(p, n, self.timeout))),
            _ => None,
        }
    }
}
