//! The offline default voice: eSpeak NG's Vietnamese voice.
//!
//! `libespeak-ng.so.1` (Debian package `espeak-ng`) is loaded at run time
//! with `libloading`, so building needs no headers and a machine without it
//! gets a clear "voice unavailable" error instead of a crash.
//!
//! eSpeak NG keeps state between utterances that no API resets (the
//! glottal flutter index, wave phase, echo buffer…), so the same sentence
//! comes out slightly differently depending on what was said before. loa's
//! audio is content-addressed, so each sentence is synthesized by a fresh
//! instance of the library: loaded, initialised, used once, terminated and
//! unloaded (a few milliseconds). The library is not safe to call
//! concurrently, so within a process this happens under one lock; for
//! parallel synthesis the backend hands sentences to a pool of worker
//! processes ([`super::pool`]), each doing exactly the same, so output is
//! byte-identical whatever the order, the process or the number of workers.

use std::ffi::{CStr, CString, c_char, c_int, c_short, c_uint, c_void};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use super::pool::Pool;
use super::{Backend, TtsError};
use crate::audio::Pcm;

/// Parameters of an `espeak` voice file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
/// Longest audio one sentence may produce (samples at eSpeak's 22.05 kHz):
/// ten minutes. The callback stops synthesis beyond it.
pub(super) const MAX_SAMPLES: usize = 22_050 * 600;
/// The error for a sentence past [`MAX_SAMPLES`].
pub(super) const TOO_LONG: &str = "eSpeak NG produced more than ten minutes for one sentence";

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

/// Serialises every use of the library in this process.
static LOCK: Mutex<()> = Mutex::new(());
/// Samples delivered by the callback during the current `espeak_Synth`.
static SAMPLES: Mutex<Vec<i16>> = Mutex::new(Vec::new());
/// Id of the synthesis running now, and of one asked to stop: the
/// callback aborts when they match.
static RUNNING: AtomicU64 = AtomicU64::new(0);
static ABORT: AtomicU64 = AtomicU64::new(0);
static NEXT_ID: AtomicU64 = AtomicU64::new(1);
/// The library's version, read once (or why it cannot load).
static INFO: OnceLock<Result<String, String>> = OnceLock::new();

/// Receives the samples of a synthesis as eSpeak NG produces them (in a
/// synthesis child, see [`Prepared::synthesize_in_child`]), instead of
/// collecting them in memory.
pub trait SampleSink: Send {
    /// The next samples; false stops synthesis.
    fn push(&mut self, samples: &[i16]) -> bool;
    /// Synthesis ended with `outcome`: complete the output (false when
    /// that failed).
    fn finish(&mut self, outcome: Result<(), TtsError>) -> bool;
}

/// Where the callback sends samples while a sink is installed.
static SINK: Mutex<Option<Box<dyn SampleSink>>> = Mutex::new(None);

unsafe extern "C" fn on_samples(wav: *mut c_short, n: c_int, _events: *mut c_void) -> c_int {
    let chunk: &[i16] = if !wav.is_null() && n > 0 {
        // SAFETY: eSpeak passes `n` valid samples at `wav` for the duration of the call.
        unsafe { std::slice::from_raw_parts(wav, n as usize) }
    } else {
        &[]
    };
    // Returning 1 aborts synthesis.
    let abort = ABORT.load(Ordering::SeqCst) == RUNNING.load(Ordering::SeqCst);
    if let Some(sink) = SINK.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
        return (abort || (!chunk.is_empty() && !sink.push(chunk))) as c_int;
    }
    let mut samples = SAMPLES.lock().unwrap_or_else(|e| e.into_inner());
    samples.extend_from_slice(chunk);
    (samples.len() > MAX_SAMPLES || abort) as c_int
}

fn unavailable(detail: impl std::fmt::Display) -> String {
    format!("install espeak-ng (Debian/Ubuntu: apt-get install espeak-ng): {detail}")
}

/// One loaded and initialised instance of the library.
struct Instance {
    lib: libloading::Library,
    rate: u32,
}

impl Instance {
    /// Load and initialise; the caller holds [`LOCK`].
    fn open() -> Result<Instance, String> {
        // LOA_ESPEAK_LIBRARY names another build of the library (or, in
        // tests, a missing one).
        let name = std::env::var_os("LOA_ESPEAK_LIBRARY").unwrap_or_else(|| LIBRARY.into());
        // SAFETY: loading eSpeak NG runs no initialisers with preconditions;
        // the symbol types match speak_lib.h of eSpeak NG 1.4x–1.52.
        unsafe {
            let lib = libloading::Library::new(&name).map_err(unavailable)?;
            let initialize: libloading::Symbol<
                '_,
                unsafe extern "C" fn(c_int, c_int, *const c_char, c_int) -> c_int,
            > = lib.get(b"espeak_Initialize\0").map_err(unavailable)?;
            let set_callback: libloading::Symbol<'_, unsafe extern "C" fn(SynthCallback)> =
                lib.get(b"espeak_SetSynthCallback\0").map_err(unavailable)?;
            let rate = initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, std::ptr::null(), INITIALIZE_DONT_EXIT);
            if rate <= 0 {
                return Err(unavailable("espeak_Initialize failed (is espeak-ng-data installed?)"));
            }
            set_callback(on_samples);
            Ok(Instance { lib, rate: rate as u32 })
        }
    }

    fn synth(&self, spec: &EspeakSpec, text: &CString) -> Result<Vec<i16>, TtsError> {
        self.configure(spec)?;
        self.speak(text)
    }

    /// Select the voice and set the parameters.
    fn configure(&self, spec: &EspeakSpec) -> Result<(), TtsError> {
        let sym = |e: libloading::Error| TtsError::Backend(format!("eSpeak NG: {e}"));
        // SAFETY: the caller holds LOCK; the strings are NUL-terminated and
        // outlive the calls; the signatures match speak_lib.h.
        unsafe {
            let set_voice: libloading::Symbol<'_, unsafe extern "C" fn(*const c_char) -> c_int> =
                self.lib.get(b"espeak_SetVoiceByName\0").map_err(sym)?;
            let set_parameter: libloading::Symbol<'_, unsafe extern "C" fn(c_int, c_int, c_int) -> c_int> =
                self.lib.get(b"espeak_SetParameter\0").map_err(sym)?;
            let voice = CString::new(spec.voice.as_str()).map_err(|e| TtsError::Backend(e.to_string()))?;
            if set_voice(voice.as_ptr()) != 0 {
                return Err(TtsError::Unavailable(format!("eSpeak NG has no voice {:?}", spec.voice)));
            }
            for (param, value) in [
                (RATE, spec.rate),
                (PITCH, spec.pitch),
                (RANGE, spec.range),
                (VOLUME, spec.volume),
                (WORDGAP, spec.word_gap),
            ] {
                set_parameter(param, value as c_int, 0);
            }
        }
        Ok(())
    }

    /// Synthesize `text` with the voice and parameters set before.
    fn speak(&self, text: &CString) -> Result<Vec<i16>, TtsError> {
        SAMPLES.lock().unwrap_or_else(|p| p.into_inner()).clear();
        let rc = self.run(text);
        let samples = std::mem::take(&mut *SAMPLES.lock().unwrap_or_else(|p| p.into_inner()));
        if samples.len() > MAX_SAMPLES {
            return Err(TtsError::Backend(TOO_LONG.into()));
        }
        rc?;
        Ok(samples)
    }

    /// One `espeak_Synth` call; the callback takes the samples.
    fn run(&self, text: &CString) -> Result<(), TtsError> {
        let sym = |e: libloading::Error| TtsError::Backend(format!("eSpeak NG: {e}"));
        // SAFETY: as in `configure`.
        let rc = unsafe {
            let synth: libloading::Symbol<'_, SynthFn> = self.lib.get(b"espeak_Synth\0").map_err(sym)?;
            let bytes = text.as_bytes_with_nul();
            synth(
                text.as_ptr().cast(),
                bytes.len(),
                0,
                POS_CHARACTER,
                0,
                CHARS_UTF8,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            )
        };
        if rc != 0 {
            return Err(TtsError::Backend(format!("espeak_Synth returned error {rc}")));
        }
        Ok(())
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        // SAFETY: the caller holds LOCK; terminating frees the instance's
        // data before the library is unloaded (dropping `lib` dlcloses it,
        // so the next load starts from a pristine state).
        unsafe {
            if let Ok(term) = self.lib.get::<unsafe extern "C" fn() -> c_int>(b"espeak_Terminate\0") {
                term();
            }
        }
    }
}

/// The library's version (`espeak_Info` needs no initialisation, so this
/// is a load and an unload).
pub fn info() -> Result<String, TtsError> {
    INFO.get_or_init(|| {
        let _guard = LOCK.lock().unwrap_or_else(|p| p.into_inner());
        let name = std::env::var_os("LOA_ESPEAK_LIBRARY").unwrap_or_else(|| LIBRARY.into());
        // SAFETY: as in `Instance::open`; espeak_Info only returns a static string.
        unsafe {
            let lib = libloading::Library::new(&name).map_err(unavailable)?;
            let info: libloading::Symbol<'_, unsafe extern "C" fn(*mut *const c_char) -> *const c_char> =
                lib.get(b"espeak_Info\0").map_err(unavailable)?;
            let v = info(std::ptr::null_mut());
            Ok(if v.is_null() { "unknown".into() } else { CStr::from_ptr(v).to_string_lossy().into_owned() })
        }
    })
    .clone()
    .map_err(TtsError::Unavailable)
}

/// Synthesize `spoken` with a fresh instance of the library: the output is
/// a pure function of the text and the parameters.
pub fn synthesize_fresh(spec: &EspeakSpec, spoken: &str) -> Result<Pcm, TtsError> {
    synthesize_fresh_as(NEXT_ID.fetch_add(1, Ordering::SeqCst), spec, spoken)
}

/// [`synthesize_fresh`] under the id `id`, which [`abort`] can stop.
fn synthesize_fresh_as(id: u64, spec: &EspeakSpec, spoken: &str) -> Result<Pcm, TtsError> {
    info()?;
    let text = CString::new(spoken.replace('\0', " ")).map_err(|e| TtsError::Backend(e.to_string()))?;
    let _guard = LOCK.lock().unwrap_or_else(|p| p.into_inner());
    if ABORT.load(Ordering::SeqCst) == id {
        return Err(TtsError::Cancelled);
    }
    RUNNING.store(id, Ordering::SeqCst);
    let instance = Instance::open().map_err(TtsError::Unavailable)?;
    let result = instance.synth(spec, &text);
    RUNNING.store(0, Ordering::SeqCst);
    if ABORT.load(Ordering::SeqCst) == id {
        return Err(TtsError::Cancelled);
    }
    let samples = result?;
    let sample_rate = instance.rate;
    drop(instance);
    Ok(Pcm { sample_rate, samples })
}

/// An instance opened once in a synthesis worker process and never used
/// there: each sentence is synthesized in a `fork()`ed child, which starts
/// from exactly the state a fresh instance has (so the bytes are those of
/// [`synthesize_fresh`]) without paying for loading and initialising the
/// library again.
pub struct Prepared {
    /// `None` between dropping one instance and opening the next.
    instance: Option<Instance>,
    /// The voice and parameters set on `instance` (never changed: another
    /// spec gets a freshly opened instance, as `synthesize_fresh` would).
    spec: Option<EspeakSpec>,
}

impl Prepared {
    /// Load and initialise the library. Only for a single-threaded process
    /// (a synthesis worker): it will `fork()`.
    pub fn open() -> Result<Prepared, TtsError> {
        info()?;
        let _guard = LOCK.lock().unwrap_or_else(|p| p.into_inner());
        Ok(Prepared { instance: Some(Instance::open().map_err(TtsError::Unavailable)?), spec: None })
    }

    /// Set the voice and parameters of `spec` (on a freshly opened
    /// instance when another spec was set) and return the sample rate.
    pub fn prepare(&mut self, spec: &EspeakSpec) -> Result<u32, TtsError> {
        if self.spec.as_ref() != Some(spec) || self.instance.is_none() {
            let _guard = LOCK.lock().unwrap_or_else(|p| p.into_inner());
            if self.spec.is_some() || self.instance.is_none() {
                // The configured instance goes first (terminated and
                // unloaded), so the next one is pristine.
                self.spec = None;
                self.instance = None;
                self.instance = Some(Instance::open().map_err(TtsError::Unavailable)?);
            }
            let instance = self.instance.as_ref().ok_or_else(|| TtsError::Backend("no instance".into()))?;
            if let Err(e) = instance.configure(spec) {
                self.instance = None; // half-configured: never reused
                return Err(e);
            }
            self.spec = Some(spec.clone());
        }
        self.instance
            .as_ref()
            .map(|i| i.rate)
            .ok_or_else(|| TtsError::Backend("no eSpeak NG instance".into()))
    }

    /// Synthesize `spoken` with the prepared voice in a child process
    /// forked from the pristine instance. The child makes its sink with
    /// `sink`, hands it the samples as they come (no copy of the sentence
    /// is kept), lets it finish and exits; it dies with this process. Ok
    /// once the child finished its sink; an error when it failed or died
    /// (what it wrote so far is then incomplete).
    pub fn synthesize_in_child(
        &self,
        spoken: &str,
        sink: impl FnOnce() -> Box<dyn SampleSink>,
    ) -> Result<(), TtsError> {
        let text = CString::new(spoken.replace('\0', " ")).map_err(|e| TtsError::Backend(e.to_string()))?;
        let Some(instance) = self.instance.as_ref().filter(|_| self.spec.is_some()) else {
            return Err(TtsError::Backend("no prepared eSpeak NG voice".into()));
        };
        let err = |what: &str| TtsError::Backend(format!("{what}: {}", std::io::Error::last_os_error()));
        // SAFETY: getpid has no preconditions.
        let parent = unsafe { libc::getpid() };
        // SAFETY: the worker process is single-threaded (see `open`), so the
        // child may allocate and call the library; it leaves with _exit.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            return Err(err("fork"));
        }
        if pid == 0 {
            // SAFETY: in the child; nothing returns from here.
            unsafe {
                // Killed with the worker (a hung or crashed one is replaced).
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                if libc::getppid() != parent {
                    libc::_exit(1);
                }
                // A running id no abort names (the callback stops when they match).
                RUNNING.store(NEXT_ID.fetch_add(1, Ordering::SeqCst), Ordering::SeqCst);
                *SINK.lock().unwrap_or_else(|p| p.into_inner()) = Some(sink());
                let outcome = instance.run(&text);
                let sink = SINK.lock().unwrap_or_else(|p| p.into_inner()).take();
                let ok = sink.is_some_and(|mut s| s.finish(outcome));
                libc::_exit(if ok { 0 } else { 1 });
            }
        }
        let mut status: c_int = 0;
        loop {
            // SAFETY: waits for our own child.
            let waited = unsafe { libc::waitpid(pid, &mut status, 0) };
            if waited == pid {
                break;
            }
            if std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
                return Err(err("waitpid"));
            }
        }
        if !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
            return Err(TtsError::Backend(format!("the synthesis child failed (status {status})")));
        }
        Ok(())
    }
}

/// Check the parameters a voice file gives.
pub fn check_spec(spec: &EspeakSpec) -> Result<(), TtsError> {
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
    Ok(())
}

/// An eSpeak NG voice with fixed parameters, synthesized in this process
/// or by a pool of worker processes.
pub struct EspeakBackend {
    spec: EspeakSpec,
    pool: Option<Arc<Pool>>,
}

impl EspeakBackend {
    /// Check the parameters; the library itself is loaded on first use.
    pub fn new(spec: EspeakSpec) -> Result<EspeakBackend, TtsError> {
        check_spec(&spec)?;
        Ok(EspeakBackend { spec, pool: None })
    }

    /// Synthesize through `pool` (worker processes) instead of in process.
    pub fn with_pool(spec: EspeakSpec, pool: Option<Arc<Pool>>) -> Result<EspeakBackend, TtsError> {
        check_spec(&spec)?;
        Ok(EspeakBackend { spec, pool })
    }
}

#[async_trait]
impl Backend for EspeakBackend {
    fn id(&self) -> String {
        let version = info();
        let s = &self.spec;
        // "fresh": every sentence from a pristine engine (see the module doc).
        format!(
            "espeak-ng/{}/fresh/{}/rate={}/pitch={}/range={}/volume={}/wordgap={}",
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
        info().map(|_| ())
    }

    fn max_concurrency(&self) -> usize {
        self.pool.as_ref().map_or(1, |p| p.size())
    }

    async fn synthesize(&self, spoken: &str) -> Result<Pcm, TtsError> {
        self.synthesize_cancellable(spoken, &CancellationToken::new()).await
    }

    /// In process, a cancelled synthesis is stopped from eSpeak's callback
    /// and awaited, so the call returns only when the thread is done.
    async fn synthesize_cancellable(
        &self,
        spoken: &str,
        cancel: &CancellationToken,
    ) -> Result<Pcm, TtsError> {
        if let Some(pool) = &self.pool {
            return tokio::select! {
                r = pool.synthesize(&self.spec, spoken) => r,
                _ = cancel.cancelled() => Err(TtsError::Cancelled),
            };
        }
        let (spec, text) = (self.spec.clone(), spoken.to_string());
        let id = NEXT_ID.fetch_add(1, Ordering::SeqCst);
        let mut task = tokio::task::spawn_blocking(move || synthesize_fresh_as(id, &spec, &text));
        let joined = tokio::select! {
            r = &mut task => r,
            _ = cancel.cancelled() => {
                ABORT.store(id, Ordering::SeqCst);
                task.await
            }
        };
        joined.map_err(|e| TtsError::Backend(format!("espeak thread failed: {e}")))?
    }
}
