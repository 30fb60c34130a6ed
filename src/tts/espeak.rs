//! The offline default voice: eSpeak NG's Vietnamese voice.
//!
//! `libespeak-ng.so.1` (Debian package `espeak-ng`) is loaded at run time
//! with `libloading`, so building needs no headers and a machine without it
//! gets a clear "voice unavailable" error instead of a crash. The library
//! keeps global state and is not safe to call concurrently, so every call
//! goes through one process-wide lock, on a blocking thread.

use std::ffi::{CStr, CString, c_char, c_int, c_short, c_uint, c_void};
use std::sync::{Mutex, OnceLock};

use async_trait::async_trait;
use serde::Deserialize;

use super::{Backend, TtsError};
use crate::audio::Pcm;

/// Parameters of an `espeak` voice file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EspeakSpec {
    /// eSpeak NG voice name.
    pub voice: String,
    /// Words per minute, 80–450.
    pub rate: u32,
    /// Base pitch, 0–100.
    pub pitch: u32,
    /// Pitch range, 0–100.
    pub range: u32,
    /// Volume, 0–200.
    pub volume: u32,
    /// Extra pause between words, in units of 10 ms.
    pub word_gap: u32,
}

impl Default for EspeakSpec {
    fn default() -> Self {
        EspeakSpec { voice: "vi".into(), rate: 165, pitch: 50, range: 50, volume: 100, word_gap: 0 }
    }
}

const LIBRARY: &str = "libespeak-ng.so.1";
const AUDIO_OUTPUT_SYNCHRONOUS: c_int = 2;
const INITIALIZE_DONT_EXIT: c_int = 0x8000;
const POS_CHARACTER: c_int = 1;
const CHARS_UTF8: c_uint = 1;
const RATE: c_int = 1;
const VOLUME: c_int = 2;
const PITCH: c_int = 3;
const RANGE: c_int = 4;
const WORDGAP: c_int = 7;

type SynthCallback = unsafe extern "C" fn(*mut c_short, c_int, *mut c_void) -> c_int;
/// `espeak_Synth(text, size, position, position_type, end_position, flags, unique_id, user_data)`.
type SynthFn = unsafe extern "C" fn(
    *const c_void,
    usize,
    c_uint,
    c_int,
    c_uint,
    c_uint,
    *mut c_uint,
    *mut c_void,
) -> c_int;

struct Espeak {
    _lib: libloading::Library,
    set_voice: unsafe extern "C" fn(*const c_char) -> c_int,
    set_parameter: unsafe extern "C" fn(c_int, c_int, c_int) -> c_int,
    synth: SynthFn,
    sample_rate: u32,
    version: String,
}

/// The one engine of the process: loaded once, then used under the lock.
static ENGINE: OnceLock<Result<Loaded, String>> = OnceLock::new();

struct Loaded {
    engine: Mutex<Espeak>,
    version: String,
}
/// Samples delivered by the callback during the current `espeak_Synth`.
static SAMPLES: Mutex<Vec<i16>> = Mutex::new(Vec::new());

unsafe extern "C" fn on_samples(wav: *mut c_short, n: c_int, _events: *mut c_void) -> c_int {
    if !wav.is_null() && n > 0 {
        // SAFETY: eSpeak passes `n` valid samples at `wav` for the duration of the call.
        let chunk = unsafe { std::slice::from_raw_parts(wav, n as usize) };
        SAMPLES.lock().unwrap_or_else(|e| e.into_inner()).extend_from_slice(chunk);
    }
    0
}

fn unavailable(detail: impl std::fmt::Display) -> String {
    format!("install espeak-ng (Debian/Ubuntu: apt-get install espeak-ng): {detail}")
}

fn load() -> Result<Espeak, String> {
    // SAFETY: loading eSpeak NG runs no initialisers with preconditions; the
    // symbol types below match speak_lib.h of eSpeak NG 1.4x–1.52.
    unsafe {
        let lib = libloading::Library::new(LIBRARY).map_err(unavailable)?;
        let sym = |name: &[u8]| -> Result<*const c_void, String> {
            lib.get::<*const c_void>(name).map(|s| *s).map_err(unavailable)
        };
        let initialize: unsafe extern "C" fn(c_int, c_int, *const c_char, c_int) -> c_int =
            std::mem::transmute(sym(b"espeak_Initialize\0")?);
        let set_callback: unsafe extern "C" fn(SynthCallback) =
            std::mem::transmute(sym(b"espeak_SetSynthCallback\0")?);
        let info: unsafe extern "C" fn(*mut *const c_char) -> *const c_char =
            std::mem::transmute(sym(b"espeak_Info\0")?);
        let engine = Espeak {
            set_voice: std::mem::transmute::<*const c_void, unsafe extern "C" fn(*const c_char) -> c_int>(
                sym(b"espeak_SetVoiceByName\0")?,
            ),
            set_parameter: std::mem::transmute::<
                *const c_void,
                unsafe extern "C" fn(c_int, c_int, c_int) -> c_int,
            >(sym(b"espeak_SetParameter\0")?),
            synth: std::mem::transmute::<*const c_void, SynthFn>(sym(b"espeak_Synth\0")?),
            sample_rate: 0,
            version: String::new(),
            _lib: lib,
        };
        let rate = initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, std::ptr::null(), INITIALIZE_DONT_EXIT);
        if rate <= 0 {
            return Err(unavailable("espeak_Initialize failed (is espeak-ng-data installed?)"));
        }
        set_callback(on_samples);
        let v = info(std::ptr::null_mut());
        let version =
            if v.is_null() { "unknown".into() } else { CStr::from_ptr(v).to_string_lossy().into_owned() };
        Ok(Espeak { sample_rate: rate as u32, version, ..engine })
    }
}

fn engine() -> Result<&'static Loaded, TtsError> {
    ENGINE
        .get_or_init(|| load().map(|e| Loaded { version: e.version.clone(), engine: Mutex::new(e) }))
        .as_ref()
        .map_err(|e| TtsError::Unavailable(e.clone()))
}

/// An eSpeak NG voice with fixed parameters.
pub struct EspeakBackend {
    spec: EspeakSpec,
}

impl EspeakBackend {
    /// Check the parameters; the library itself is loaded on first use.
    pub fn new(spec: EspeakSpec) -> Result<EspeakBackend, TtsError> {
        let bad = |m: String| TtsError::Backend(m);
        if !(80..=450).contains(&spec.rate) {
            return Err(bad(format!("espeak rate {} is outside 80–450", spec.rate)));
        }
        for (name, v, max) in
            [("pitch", spec.pitch, 100), ("range", spec.range, 100), ("volume", spec.volume, 200)]
        {
            if v > max {
                return Err(bad(format!("espeak {name} {v} is outside 0–{max}")));
            }
        }
        if spec.voice.is_empty() || spec.voice.contains('\0') {
            return Err(bad("espeak voice name is empty".into()));
        }
        Ok(EspeakBackend { spec })
    }

    fn synthesize_blocking(spec: &EspeakSpec, spoken: &str) -> Result<Pcm, TtsError> {
        let engine = engine()?;
        let e = engine.engine.lock().unwrap_or_else(|p| p.into_inner());
        let voice = CString::new(spec.voice.as_str()).map_err(|e| TtsError::Backend(e.to_string()))?;
        let text = CString::new(spoken.replace('\0', " ")).map_err(|e| TtsError::Backend(e.to_string()))?;
        // SAFETY: calls are serialised by the engine lock; pointers are valid
        // NUL-terminated strings that outlive the calls.
        unsafe {
            if (e.set_voice)(voice.as_ptr()) != 0 {
                return Err(TtsError::Unavailable(format!("eSpeak NG has no voice {:?}", spec.voice)));
            }
            for (param, value) in [
                (RATE, spec.rate),
                (PITCH, spec.pitch),
                (RANGE, spec.range),
                (VOLUME, spec.volume),
                (WORDGAP, spec.word_gap),
            ] {
                (e.set_parameter)(param, value as c_int, 0);
            }
            SAMPLES.lock().unwrap_or_else(|p| p.into_inner()).clear();
            let bytes = text.as_bytes_with_nul();
            let rc = (e.synth)(
                text.as_ptr().cast(),
                bytes.len(),
                0,
                POS_CHARACTER,
                0,
                CHARS_UTF8,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            );
            let samples = std::mem::take(&mut *SAMPLES.lock().unwrap_or_else(|p| p.into_inner()));
            if rc != 0 {
                return Err(TtsError::Backend(format!("espeak_Synth returned error {rc}")));
            }
            Ok(Pcm { sample_rate: e.sample_rate, samples })
        }
    }
}

#[async_trait]
impl Backend for EspeakBackend {
    fn id(&self) -> String {
        let version = engine().map(|e| e.version.clone());
        let s = &self.spec;
        format!(
            "espeak-ng/{}/{}/rate={}/pitch={}/range={}/volume={}/wordgap={}",
            version.unwrap_or_else(|_| "unavailable".into()),
            s.voice,
            s.rate,
            s.pitch,
            s.range,
            s.volume,
            s.word_gap
        )
    }

    fn voices(&self) -> Vec<String> {
        vec![self.spec.voice.clone()]
    }

    fn check(&self) -> Result<(), TtsError> {
        engine().map(|_| ())
    }

    async fn synthesize(&self, spoken: &str) -> Result<Pcm, TtsError> {
        let spec = self.spec.clone();
        let text = spoken.to_string();
        tokio::task::spawn_blocking(move || Self::synthesize_blocking(&spec, &text))
            .await
            .map_err(|e| TtsError::Backend(format!("espeak thread failed: {e}")))?
    }
}
