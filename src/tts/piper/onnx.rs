//! ONNX Runtime for Piper models, through the `ort` crate with
//! `load-dynamic`: `libonnxruntime.so` is loaded at run time (the voice
//! file's `onnxruntime = …`, else `ORT_DYLIB_PATH`, else the system's
//! library search), so loa builds and runs without it and a voice whose
//! runtime is missing is only unavailable.
//!
//! A process has one runtime and one ONNX environment. Each model file is
//! loaded into one session (per thread count), shared by every voice that
//! names it; `ort` runs a session through `&mut`, so runs of one session
//! take turns under its lock.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use ort::session::Session;
use ort::value::Tensor;

/// How to get the runtime, for "unavailable" messages.
pub fn how_to_get() -> &'static str {
    "install ONNX Runtime: `pip install onnxruntime` contains it (site-packages/onnxruntime/capi/\
     libonnxruntime.so.1.*), or your distribution's libonnxruntime package; then set \
     onnxruntime = \"/path/to/libonnxruntime.so\" in the voice file or ORT_DYLIB_PATH"
}

/// The runtime library a voice asks for: its own setting, else
/// `ORT_DYLIB_PATH`, else the bare name for the system's search.
pub fn runtime_path(configured: Option<&Path>) -> PathBuf {
    configured.map(Path::to_path_buf).unwrap_or_else(|| {
        std::env::var_os("ORT_DYLIB_PATH")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("libonnxruntime.so"))
    })
}

struct Runtime {
    path: PathBuf,
    environment: ort::environment::Environment,
}

static RUNTIME: Mutex<Option<Arc<Runtime>>> = Mutex::new(None);

/// Load the runtime (once per process; a failure is retried on the next
/// call, a success is final). Errors say how to get it.
fn runtime(path: &Path) -> Result<Arc<Runtime>, String> {
    if path.components().count() > 1 && !path.is_file() {
        return Err(format!("ONNX Runtime library {} not found; {}", path.display(), how_to_get()));
    }
    let mut slot = RUNTIME.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(rt) = slot.as_ref() {
        if rt.path != path {
            return Err(format!(
                "ONNX Runtime is already loaded from {}; every piper voice must use the same library, not {}",
                rt.path.display(),
                path.display()
            ));
        }
        return Ok(rt.clone());
    }
    let environment = ort::init_from(path)
        .map_err(|e| format!("cannot load ONNX Runtime from {}: {e}; {}", path.display(), how_to_get()))?
        .with_name("loa")
        .build()
        .map_err(|e| format!("cannot start ONNX Runtime from {}: {e}", path.display()))?;
    let rt = Arc::new(Runtime { path: path.to_path_buf(), environment });
    *slot = Some(rt.clone());
    Ok(rt)
}

/// Check that the runtime loads; `Err` says what is missing.
pub fn check_runtime(path: &Path) -> Result<(), String> {
    runtime(path).map(|_| ())
}

/// One loaded model.
pub struct Model {
    session: Mutex<Session>,
    /// The model takes a speaker id (`sid`).
    pub takes_speaker: bool,
    /// The model has a second output: frames per phoneme id.
    pub gives_durations: bool,
}

/// The model's output for one sentence.
pub struct Inference {
    /// Audio as the model writes it (about −1..1).
    pub audio: Vec<f32>,
    /// Frames per phoneme id, when the model exposes them.
    pub frames: Option<Vec<f32>>,
}

type ModelKey = (String, usize);
type Loaded = Result<Arc<Model>, String>;
static MODELS: OnceLock<Mutex<HashMap<ModelKey, Loaded>>> = OnceLock::new();

/// The shared session of a model (by content hash and thread count),
/// created on first use. A model that fails to load is not tried again:
/// its content cannot change under the same hash.
pub fn model(runtime_path: &Path, model_path: &Path, sha256: &str, threads: usize) -> Loaded {
    let rt = runtime(runtime_path)?;
    let models = MODELS.get_or_init(Default::default);
    let key = (sha256.to_string(), threads);
    // Held while loading: two voices on one model load it once.
    let mut map = models.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(m) = map.get(&key) {
        return m.clone();
    }
    let loaded = load_model(&rt, model_path, threads);
    map.insert(key, loaded.clone());
    loaded
}

fn load_model(rt: &Runtime, model_path: &Path, threads: usize) -> Loaded {
    let started = std::time::Instant::now();
    let bad = |e: &dyn std::fmt::Display| format!("cannot load Piper model {}: {e}", model_path.display());
    let session = Session::builder(&rt.environment)
        .and_then(|b| b.with_intra_threads(threads).map_err(Into::into))
        .and_then(|b| b.with_inter_threads(1).map_err(Into::into))
        .map_err(|e| bad(&e))?
        .commit_from_file(model_path)
        .map_err(|e| bad(&e))?;
    let names: Vec<&str> = session.inputs().iter().map(|i| i.name()).collect();
    for needed in ["input", "input_lengths", "scales"] {
        if !names.contains(&needed) {
            return Err(bad(&format!(
                "it has no input {needed:?} (inputs: {}); not a Piper model",
                names.join(", ")
            )));
        }
    }
    let takes_speaker = names.contains(&"sid");
    let gives_durations = session.outputs().len() > 1;
    tracing::info!(
        model = %model_path.display(), threads, takes_speaker, gives_durations,
        ms = started.elapsed().as_millis() as u64, "Piper model loaded"
    );
    Ok(Arc::new(Model { session: Mutex::new(session), takes_speaker, gives_durations }))
}

impl Model {
    /// Run the model on one sentence's ids. `scales` is Piper's order:
    /// noise scale, length scale, noise width.
    pub fn infer(&self, ids: &[i64], scales: [f32; 3], speaker: Option<i64>) -> Result<Inference, String> {
        let n = ids.len();
        let fail = |e: ort::Error| format!("ONNX Runtime failed: {e}");
        let input = Tensor::from_array(([1usize, n], ids.to_vec())).map_err(fail)?;
        let lengths = Tensor::from_array(([1usize], vec![n as i64])).map_err(fail)?;
        let scales = Tensor::from_array(([3usize], scales.to_vec())).map_err(fail)?;
        let mut inputs = ort::inputs! {
            "input" => input,
            "input_lengths" => lengths,
            "scales" => scales,
        };
        if self.takes_speaker {
            let sid = Tensor::from_array(([1usize], vec![speaker.unwrap_or(0)])).map_err(fail)?;
            inputs.push(("sid".into(), sid.into()));
        }
        let mut session = self.session.lock().unwrap_or_else(|p| p.into_inner());
        let outputs = session.run(inputs).map_err(fail)?;
        let (_, audio) = outputs[0].try_extract_tensor::<f32>().map_err(fail)?;
        let audio = audio.to_vec();
        let frames = if self.gives_durations && outputs.len() > 1 {
            Some(outputs[1].try_extract_tensor::<f32>().map_err(fail)?.1.to_vec())
        } else {
            None
        };
        Ok(Inference { audio, frames })
    }
}

/// Piper's float → 16-bit conversion: scale so the peak is full range
/// (silence stays silence), clip to −1..1, times 32767, truncated.
pub fn to_i16(audio: &[f32]) -> Vec<i16> {
    let peak = audio.iter().fold(0f32, |m, &x| m.max(x.abs()));
    if peak < 1e-8 || !peak.is_finite() {
        return vec![0; audio.len()];
    }
    audio.iter().map(|&x| ((x / peak).clamp(-1.0, 1.0) * 32767.0).clamp(-32767.0, 32767.0) as i16).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversion_normalizes_the_peak_and_truncates() {
        assert_eq!(to_i16(&[0.0, 0.25, -0.5]), vec![0, 16383, -32767]);
        assert_eq!(to_i16(&[0.0, 1e-9]), vec![0, 0]);
        assert_eq!(to_i16(&[]), Vec::<i16>::new());
        assert_eq!(to_i16(&[f32::NAN, 0.5]), vec![0, 32767]);
    }
}
