//! The `command` backend: any program that reads one sentence of text on
//! stdin and writes a WAV (or MP3) file on stdout, e.g. Piper:
//!
//! ```toml
//! [backend]
//! type = "command"
//! program = "piper"
//! args = ["--model", "vi_VN-vais1000-medium.onnx", "--output_file", "-"]
//! ```
//!
//! A non-zero exit, empty output or undecodable audio is an error carrying
//! the program's stderr; a run longer than `timeout_secs` is killed.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;
use tokio::io::AsyncWriteExt;

use super::{Backend, TtsError};
use crate::audio::{self, Pcm};

/// Parameters of a `command` voice file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandSpec {
    /// Program to run: a name looked up in `PATH`, or a path (relative
    /// paths are relative to the voice file's directory).
    pub program: String,
    #[serde(default)]
    pub args: Vec<String>,
    /// Seconds one sentence may take.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    /// Free-form label that goes into cache keys; change it when the
    /// engine or its model changes so old audio is not reused.
    #[serde(default)]
    pub version: String,
    /// Sentences of one article synthesized at once (a limit per render:
    /// concurrent renders and single-sentence requests each run their own).
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// Longest text, in bytes, the program accepts in one run; longer
    /// sentences are cut at spaces and the pieces joined.
    #[serde(default = "default_max_input")]
    pub max_input_bytes: usize,
}

fn default_timeout() -> u64 {
    30
}
fn default_concurrency() -> usize {
    1
}
fn default_max_input() -> usize {
    4000
}

/// A voice backed by an external program.
pub struct CommandBackend {
    spec: CommandSpec,
    program: PathBuf,
}

impl CommandBackend {
    pub fn new(spec: CommandSpec, base_dir: &Path) -> Result<CommandBackend, TtsError> {
        if spec.program.trim().is_empty() {
            return Err(TtsError::Backend("command backend needs a program".into()));
        }
        if spec.timeout_secs == 0 || spec.concurrency == 0 || spec.max_input_bytes < 16 {
            return Err(TtsError::Backend(
                "timeout_secs and concurrency must be at least 1, max_input_bytes at least 16".into(),
            ));
        }
        let program = if spec.program.contains('/') {
            let p = Path::new(&spec.program);
            if p.is_absolute() { p.to_path_buf() } else { base_dir.join(p) }
        } else {
            PathBuf::from(&spec.program)
        };
        Ok(CommandBackend { spec, program })
    }

    fn resolve(&self) -> Option<PathBuf> {
        if self.program.components().count() > 1 {
            return self.program.is_file().then(|| self.program.clone());
        }
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths).map(|d| d.join(&self.program)).find(|p| p.is_file())
        })
    }
}

#[async_trait]
impl Backend for CommandBackend {
    fn id(&self) -> String {
        format!("command/{}/{}/version={}", self.spec.program, self.spec.args.join(" "), self.spec.version)
    }

    fn voices(&self) -> Vec<String> {
        Vec::new()
    }

    fn check(&self) -> Result<(), TtsError> {
        match self.resolve() {
            Some(_) => Ok(()),
            None => Err(TtsError::Unavailable(format!("program {} not found", self.program.display()))),
        }
    }

    fn max_concurrency(&self) -> usize {
        self.spec.concurrency
    }

    fn max_input_bytes(&self) -> usize {
        self.spec.max_input_bytes
    }

    async fn synthesize(&self, spoken: &str) -> Result<Pcm, TtsError> {
        let program = self
            .resolve()
            .ok_or_else(|| TtsError::Unavailable(format!("program {} not found", self.program.display())))?;
        let mut child = tokio::process::Command::new(&program)
            .args(&self.spec.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| TtsError::Backend(format!("cannot run {}: {e}", program.display())))?;
        let mut stdin =
            child.stdin.take().ok_or_else(|| TtsError::Backend("no stdin pipe to the program".into()))?;
        let text = spoken.as_bytes().to_vec();
        let run = async move {
            // A program that exits without reading stdin gives a broken pipe;
            // its exit status is the better error, so ignore the write error.
            let _ = stdin.write_all(&text).await;
            drop(stdin);
            child.wait_with_output().await
        };
        let limit = Duration::from_secs(self.spec.timeout_secs);
        let out = tokio::time::timeout(limit, run)
            .await
            .map_err(|_| TtsError::Timeout(limit))?
            .map_err(|e| TtsError::Backend(format!("{}: {e}", program.display())))?;
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            return Err(TtsError::Backend(format!(
                "{} exited with {}: {}",
                self.spec.program,
                out.status,
                stderr.trim()
            )));
        }
        audio::decode(&out.stdout)
            .map_err(|e| TtsError::Backend(format!("{} wrote no usable audio: {e}", self.spec.program)))
    }
}
