//! Synthesis on every core: a pool of worker processes, each the loa
//! binary itself started as `loa __synth-worker`, with its own copy of
//! eSpeak NG (which allows one synthesis at a time per process).
//!
//! The protocol over the worker's stdin/stdout is length-framed: a request
//! is a `u32` little-endian length and a JSON [`Request`]; an answer is a
//! `u32` length and a JSON [`Answer`], and when it is `ok` the samples
//! follow as frames, each a `u32` sample count and that many 16-bit
//! little-endian samples, ended by a count of 0 (or of `u32::MAX` and an
//! error answer when the sentence failed part way). A worker is only
//! reused after a complete exchange; one that crashes, answers garbage or
//! takes longer than the timeout is killed (also when the caller goes away,
//! `kill_on_drop`) and replaced, and its sentence is tried once more on a
//! fresh worker. A worker loads eSpeak NG once and synthesizes each
//! sentence in a `fork()` of that pristine instance, so every sentence
//! starts from the same state (deterministic bytes) without reloading the
//! library; the child writes its frames straight onto the worker's stdout
//! as eSpeak produces them, so no sentence is copied between buffers on
//! the way.

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
use super::espeak::{
    EspeakSpec, MAX_SAMPLES as MAX_SENTENCE, Prepared, SampleSink, TOO_LONG, synthesize_fresh,
};
use crate::audio::Pcm;

/// The hidden subcommand that runs a worker.
pub const WORKER_COMMAND: &str = "__synth-worker";
/// Largest request or answer header accepted, in bytes.
const MAX_FRAME: u32 = 1 << 20;
/// Most samples one answer may carry (ten minutes at 48 kHz).
const MAX_SAMPLES: u64 = 48_000 * 600;
/// Samples per frame a worker writes (64 KiB).
const FRAME_SAMPLES: usize = 32 * 1024;
/// Largest frame accepted, in samples.
const MAX_FRAME_SAMPLES: u32 = 1 << 20;
/// The frame count that ends the samples.
const END: u32 = 0;
/// The frame count that says the sentence failed; an error answer follows.
const FAILED: u32 = u32::MAX;

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
}

impl Answer {
    fn ok(sample_rate: u32) -> Answer {
        Answer { ok: true, error: String::new(), unavailable: false, sample_rate }
    }

    fn failed(e: TtsError) -> Answer {
        let unavailable = matches!(e, TtsError::Unavailable(_));
        let error = match e {
            TtsError::Unavailable(m) | TtsError::Backend(m) => m,
            other => other.to_string(),
        };
        Answer { ok: false, error, unavailable, sample_rate: 0 }
    }

    /// Length-prefixed JSON.
    fn frame(&self) -> Vec<u8> {
        let head = serde_json::to_vec(self).unwrap_or_default();
        let mut raw = Vec::with_capacity(4 + head.len());
        raw.extend_from_slice(&(head.len() as u32).to_le_bytes());
        raw.extend_from_slice(&head);
        raw
    }

    fn into_error(self) -> TtsError {
        if self.unavailable { TtsError::Unavailable(self.error) } else { TtsError::Backend(self.error) }
    }
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
        tracing::debug!(pid = child.id(), program = %self.program.display(), "synthesis worker started");
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
    let answer = read_answer(&mut w.stdout).await?;
    if !answer.ok {
        return Ok(Err(answer.into_error()));
    }
    if !crate::audio::RATES.contains(&answer.sample_rate) {
        return Err(std::io::Error::other("implausible answer"));
    }
    let mut samples: Vec<i16> = Vec::new();
    loop {
        match w.stdout.read_u32_le().await? {
            END => break,
            FAILED => return Ok(Err(read_answer(&mut w.stdout).await?.into_error())),
            n if n > MAX_FRAME_SAMPLES || samples.len() as u64 + n as u64 > MAX_SAMPLES => {
                return Err(std::io::Error::other(format!("implausible frame of {n} samples")));
            }
            n => {
                let old = samples.len();
                w.stdout.read_exact(crate::audio::le_room(&mut samples, n as usize)).await?;
                crate::audio::from_le_in_place(&mut samples[old..]);
            }
        }
    }
    Ok(Ok(Pcm { sample_rate: answer.sample_rate, samples }))
}

async fn read_answer(out: &mut ChildStdout) -> std::io::Result<Answer> {
    let len = out.read_u32_le().await?;
    if len > MAX_FRAME {
        return Err(std::io::Error::other(format!("answer header of {len} bytes")));
    }
    let mut head = vec![0u8; len as usize];
    out.read_exact(&mut head).await?;
    serde_json::from_slice(&head).map_err(std::io::Error::other)
}

/// Writes samples as frames (the worker's side of the protocol).
struct FrameSink<W: Write> {
    out: W,
    /// The frame being filled: a count placeholder, then samples.
    buf: Vec<u8>,
    total: usize,
    error: Option<TtsError>,
}

impl<W: Write> FrameSink<W> {
    fn new(out: W) -> FrameSink<W> {
        let mut buf = Vec::with_capacity(4 + 2 * FRAME_SAMPLES + 8192);
        buf.extend_from_slice(&[0; 4]);
        FrameSink { out, buf, total: 0, error: None }
    }

    fn flush_frame(&mut self) -> bool {
        let n = (self.buf.len() - 4) / 2;
        if n == 0 {
            return true;
        }
        self.buf[..4].copy_from_slice(&(n as u32).to_le_bytes());
        let ok = self.out.write_all(&self.buf).is_ok();
        self.buf.truncate(4);
        ok
    }
}

impl<W: Write + Send> SampleSink for FrameSink<W> {
    fn push(&mut self, samples: &[i16]) -> bool {
        self.total += samples.len();
        if self.total > MAX_SENTENCE {
            self.error = Some(TtsError::Backend(TOO_LONG.into()));
            return false;
        }
        for piece in samples.chunks(FRAME_SAMPLES) {
            self.buf.extend_from_slice(&crate::audio::le_bytes(piece));
            if self.buf.len() >= 4 + 2 * FRAME_SAMPLES && !self.flush_frame() {
                self.error = Some(TtsError::Backend("the caller went away".into()));
                return false;
            }
        }
        true
    }

    fn finish(&mut self, outcome: Result<(), TtsError>) -> bool {
        let written = match self.error.take().or(outcome.err()) {
            None => self.flush_frame() && self.out.write_all(&END.to_le_bytes()).is_ok(),
            Some(e) => {
                let mut raw = FAILED.to_le_bytes().to_vec();
                raw.extend_from_slice(&Answer::failed(e).frame());
                self.out.write_all(&raw).is_ok()
            }
        };
        written && self.out.flush().is_ok()
    }
}

fn send(out: &mut impl Write, answer: &Answer) -> bool {
    out.write_all(&answer.frame()).and_then(|_| out.flush()).is_ok()
}

/// The worker process: answer requests on stdin until it closes.
pub fn worker_main() -> std::process::ExitCode {
    use std::os::fd::FromRawFd;
    // Loaded once; each sentence runs in a fork of this pristine instance.
    // Where it cannot be prepared, each sentence opens its own (and reports
    // why the library is unavailable).
    let mut prepared = Prepared::open().ok();
    // Room for a whole sentence in the pipe: a child finishes and exits
    // without waiting for the reader (a failure leaves the default size).
    // SAFETY: fcntl on our own stdout.
    unsafe { libc::fcntl(1, libc::F_SETPIPE_SZ, 1 << 20) };
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
        let req = match serde_json::from_slice::<Request>(&body) {
            Ok(r) => r,
            Err(e) => {
                if !send(&mut output, &Answer::failed(TtsError::Backend(format!("bad request: {e}")))) {
                    return std::process::ExitCode::SUCCESS;
                }
                continue;
            }
        };
        let sent = match &mut prepared {
            Some(p) => match p.prepare(&req.spec) {
                Err(e) => send(&mut output, &Answer::failed(e)),
                Ok(rate) => {
                    if !send(&mut output, &Answer::ok(rate)) {
                        return std::process::ExitCode::SUCCESS;
                    }
                    // SAFETY: the child writes to its copy of our stdout
                    // (flushed above) and exits without returning.
                    let child = p.synthesize_in_child(&req.text, || {
                        Box::new(FrameSink::new(unsafe { std::fs::File::from_raw_fd(1) }))
                    });
                    if child.is_err() {
                        // Its frames are incomplete: the caller replaces us.
                        return std::process::ExitCode::FAILURE;
                    }
                    true
                }
            },
            None => match synthesize_fresh(&req.spec, &req.text) {
                Err(e) => send(&mut output, &Answer::failed(e)),
                Ok(pcm) => {
                    send(&mut output, &Answer::ok(pcm.sample_rate)) && {
                        let mut sink = FrameSink::new(std::io::stdout());
                        sink.push(&pcm.samples);
                        sink.finish(Ok(()))
                    }
                }
            },
        };
        if !sent {
            return std::process::ExitCode::SUCCESS;
        }
    }
}

/// The loa binary's path, once its `main` has said this process is it.
static LOA_BINARY: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

/// Called by the loa binary's `main`: this executable can run
/// [`WORKER_COMMAND`], so it is the default worker program, whatever its
/// file is named (`loa`, `loa-1.2`, a packager's name). A program that
/// only links the library (a test harness) has none unless
/// `speech.worker_program` names one, and synthesizes in its own process.
pub fn running_the_loa_binary() {
    if let Ok(exe) = std::env::current_exe() {
        let _ = LOA_BINARY.set(exe);
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
    /// (default: this executable, when it is the loa binary: see
    /// [`running_the_loa_binary`]).
    pub fn from_config(sp: &crate::config::SpeechConfig) -> Runtime {
        let workers = match sp.workers {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        let program = sp.worker_program.clone().or_else(|| LOA_BINARY.get().cloned());
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
