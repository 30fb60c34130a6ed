//! eSpeak NG 1.52, the phonemizer Piper voices are trained on, loaded at run
//! time for the piper backend only.
//!
//! This is a second copy of eSpeak NG beside the 1.51 library of the
//! `espeak` voice (Debian's `libespeak-ng.so.1`, see `tts::espeak`): Piper
//! voices learnt 1.52's phonemes, and 1.51 writes different ones (level-tone
//! marks in Vietnamese, among others). Both are loaded `RTLD_LOCAL`, so
//! neither sees the other's symbols or state.
//!
//! The library is any build of eSpeak NG 1.52 exporting the `espeak_*` C
//! API with `espeak_TextToPhonemesWithTerminator` (new in 1.52); the one
//! the tests and the README use is `espeakbridge.so` from the `piper-tts`
//! wheel, with the wheel's `espeak-ng-data` beside it — the very engine
//! Piper's own phonemizer runs, so phonemes agree by construction. That
//! file is a Python extension: its Python glue (never called here) refers
//! to four Python data objects the dynamic linker resolves at load time, so
//! loa defines inert stand-ins for them ([`PYTHON_STAND_INS`]; `build.rs`
//! exports them) and loads `libm` globally first (the bridge calls `cos`,
//! `exp` and `pow` without declaring libm as a dependency).
//!
//! eSpeak keeps global state: one engine per process, every call under one
//! lock.

use std::ffi::{CStr, CString, c_char, c_int, c_void};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

const AUDIO_OUTPUT_SYNCHRONOUS: c_int = 2;
const INITIALIZE_DONT_EXIT: c_int = 0x8000;
const CHARS_AUTO: c_int = 0;
const PHONEMES_IPA: c_int = 0x02;

const CLAUSE_INTONATION_FULL_STOP: c_int = 0x0000_0000;
const CLAUSE_INTONATION_COMMA: c_int = 0x0000_1000;
const CLAUSE_INTONATION_QUESTION: c_int = 0x0000_2000;
const CLAUSE_INTONATION_EXCLAMATION: c_int = 0x0000_3000;
const CLAUSE_TYPE_CLAUSE: c_int = 0x0004_0000;
const CLAUSE_TYPE_SENTENCE: c_int = 0x0008_0000;
const CLAUSE_PERIOD: c_int = 40 | CLAUSE_INTONATION_FULL_STOP | CLAUSE_TYPE_SENTENCE;
const CLAUSE_COMMA: c_int = 20 | CLAUSE_INTONATION_COMMA | CLAUSE_TYPE_CLAUSE;
const CLAUSE_QUESTION: c_int = 40 | CLAUSE_INTONATION_QUESTION | CLAUSE_TYPE_SENTENCE;
const CLAUSE_EXCLAMATION: c_int = 45 | CLAUSE_INTONATION_EXCLAMATION | CLAUSE_TYPE_SENTENCE;
const CLAUSE_COLON: c_int = 30 | CLAUSE_INTONATION_FULL_STOP | CLAUSE_TYPE_CLAUSE;
const CLAUSE_SEMICOLON: c_int = 30 | CLAUSE_INTONATION_COMMA | CLAUSE_TYPE_CLAUSE;

/// The version Piper voices are trained on.
pub const REQUIRED_VERSION: &str = "1.52";

/// Inert stand-ins for the Python objects `espeakbridge.so`'s glue refers
/// to. Only their addresses are ever taken (by the dynamic linker).
#[repr(C, align(16))]
pub struct PythonStandIn([u8; 64]);

#[unsafe(no_mangle)]
pub static PyExc_RuntimeError: PythonStandIn = PythonStandIn([0; 64]);
#[unsafe(no_mangle)]
pub static _Py_FalseStruct: PythonStandIn = PythonStandIn([0; 64]);
#[unsafe(no_mangle)]
pub static _Py_NoneStruct: PythonStandIn = PythonStandIn([0; 64]);
#[unsafe(no_mangle)]
pub static _Py_TrueStruct: PythonStandIn = PythonStandIn([0; 64]);

/// The stand-ins, referenced so they are always linked.
pub static PYTHON_STAND_INS: [&PythonStandIn; 4] =
    [&PyExc_RuntimeError, &_Py_FalseStruct, &_Py_NoneStruct, &_Py_TrueStruct];

/// One clause as eSpeak returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clause {
    /// IPA phonemes of the clause.
    pub phonemes: String,
    /// `.`, `?`, `!`, `,`, `:`, `;` or empty.
    pub terminator: &'static str,
    /// The clause ends a sentence.
    pub end_of_sentence: bool,
}

type SetVoiceFn = unsafe extern "C" fn(*const c_char) -> c_int;
type ToPhonemesFn = unsafe extern "C" fn(*mut *const c_void, c_int, c_int, *mut c_int) -> *const c_char;

struct Engine {
    _lib: libloading::Library,
    set_voice: SetVoiceFn,
    to_phonemes: ToPhonemesFn,
}

// SAFETY: the function pointers stay valid while `_lib` is loaded; every
// call is made under the `Loaded::engine` lock.
unsafe impl Send for Engine {}

struct Loaded {
    library: PathBuf,
    data: PathBuf,
    version: String,
    engine: Mutex<Engine>,
}

/// The process's one eSpeak NG 1.52 (`Err`: why it could not load, naming
/// the files).
static ENGINE: OnceLock<Result<Loaded, String>> = OnceLock::new();

/// Where to find the engine: a library and its `espeak-ng-data`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EngineFiles {
    pub library: PathBuf,
    pub data: PathBuf,
}

impl EngineFiles {
    /// `library` or `$LOA_PIPER_ESPEAK_LIBRARY`; `data` or the
    /// `espeak-ng-data` directory beside the library.
    pub fn resolve(library: Option<PathBuf>, data: Option<PathBuf>) -> Result<EngineFiles, String> {
        let library = library
            .or_else(|| {
                std::env::var_os("LOA_PIPER_ESPEAK_LIBRARY").filter(|v| !v.is_empty()).map(PathBuf::from)
            })
            .ok_or_else(|| format!("no eSpeak NG {REQUIRED_VERSION} for Piper phonemes: {}", how_to_get()))?;
        let data = match data {
            Some(d) => d,
            None => library.parent().unwrap_or(Path::new(".")).join("espeak-ng-data"),
        };
        Ok(EngineFiles { library, data })
    }
}

/// What to tell a user who has no eSpeak NG 1.52.
pub fn how_to_get() -> String {
    format!(
        "set espeak_library in the voice file (or LOA_PIPER_ESPEAK_LIBRARY) to the espeakbridge.so of the \
         piper-tts wheel (`pip install piper-tts`: site-packages/piper/espeakbridge.so, with espeak-ng-data \
         beside it) or to a libespeak-ng.so built from eSpeak NG {REQUIRED_VERSION}"
    )
}

fn load(files: &EngineFiles) -> Result<Loaded, String> {
    let lib_path = &files.library;
    let fail =
        |what: &dyn std::fmt::Display| format!("cannot load eSpeak NG from {}: {what}", lib_path.display());
    if !lib_path.is_file() {
        return Err(fail(&format!("no such file; {}", how_to_get())));
    }
    if !files.data.join("phontab").is_file() {
        return Err(format!(
            "{} is not an espeak-ng-data directory (no phontab); set espeak_data in the voice file",
            files.data.display()
        ));
    }
    let data = CString::new(files.data.as_os_str().as_encoded_bytes()).map_err(|e| fail(&e))?;
    std::hint::black_box(&PYTHON_STAND_INS);
    // SAFETY: loading runs the libraries' initialisers, which have no
    // preconditions. `libm` goes into the global scope for the bridge's
    // undeclared math imports; the engine itself stays local. RTLD_LAZY:
    // the bridge's Python functions are never bound or called.
    unsafe {
        use libloading::os::unix::{Library, RTLD_GLOBAL, RTLD_LAZY, RTLD_LOCAL, RTLD_NOW};
        let libm = Library::open(Some("libm.so.6"), RTLD_NOW | RTLD_GLOBAL).map_err(|e| fail(&e))?;
        std::mem::forget(libm);
        let lib: libloading::Library =
            Library::open(Some(lib_path), RTLD_LAZY | RTLD_LOCAL).map_err(|e| fail(&e))?.into();
        let sym = |name: &[u8]| -> Result<*const c_void, String> {
            lib.get::<*const c_void>(name).map(|s| *s).map_err(|e| {
                fail(&format!(
                    "{e} (espeak_TextToPhonemesWithTerminator is new in eSpeak NG {REQUIRED_VERSION})"
                ))
            })
        };
        let initialize: unsafe extern "C" fn(c_int, c_int, *const c_char, c_int) -> c_int =
            std::mem::transmute(sym(b"espeak_Initialize\0")?);
        let info: unsafe extern "C" fn(*mut *const c_char) -> *const c_char =
            std::mem::transmute(sym(b"espeak_Info\0")?);
        let set_voice: SetVoiceFn = std::mem::transmute(sym(b"espeak_SetVoiceByName\0")?);
        let to_phonemes: ToPhonemesFn = std::mem::transmute(sym(b"espeak_TextToPhonemesWithTerminator\0")?);
        let v = info(std::ptr::null_mut());
        let version =
            if v.is_null() { String::new() } else { CStr::from_ptr(v).to_string_lossy().into_owned() };
        if version != REQUIRED_VERSION && !version.starts_with(&format!("{REQUIRED_VERSION}.")) {
            return Err(fail(&format!(
                "it is eSpeak NG {version:?}; Piper voices need {REQUIRED_VERSION} ({})",
                how_to_get()
            )));
        }
        if initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, data.as_ptr(), INITIALIZE_DONT_EXIT) < 0 {
            return Err(fail(&format!("espeak_Initialize failed with data {}", files.data.display())));
        }
        Ok(Loaded {
            library: files.library.clone(),
            data: files.data.clone(),
            version,
            engine: Mutex::new(Engine { _lib: lib, set_voice, to_phonemes }),
        })
    }
}

fn loaded(files: &EngineFiles) -> Result<&'static Loaded, String> {
    let loaded = ENGINE.get_or_init(|| load(files)).as_ref().map_err(Clone::clone)?;
    if loaded.library != files.library || loaded.data != files.data {
        return Err(format!(
            "eSpeak NG for Piper is already loaded from {} (data {}); every piper voice must use the same \
             espeak_library and espeak_data, not {} ({})",
            loaded.library.display(),
            loaded.data.display(),
            files.library.display(),
            files.data.display()
        ));
    }
    Ok(loaded)
}

/// Load the engine (once per process) and return its version string.
pub fn version(files: &EngineFiles) -> Result<String, String> {
    loaded(files).map(|l| l.version.clone())
}

/// Piper's `espeakbridge.get_phonemes` after `set_voice`: the IPA clauses
/// of `text` with their terminators.
pub fn clauses(files: &EngineFiles, voice: &str, text: &str) -> Result<Vec<Clause>, String> {
    let loaded = loaded(files)?;
    let voice_c = CString::new(voice).map_err(|_| format!("bad eSpeak voice name {voice:?}"))?;
    // Python's "s" argument format stops at no NUL either: such text is an error there.
    let text_c = CString::new(text).map_err(|_| "text contains a NUL character".to_string())?;
    let e = loaded.engine.lock().unwrap_or_else(|p| p.into_inner());
    let mut out = Vec::new();
    // SAFETY: calls are serialised by the engine lock; `voice_c` and
    // `text_c` are NUL-terminated and outlive the calls; eSpeak advances
    // `ptr` within `text_c` and sets it to NULL after the last clause, and
    // the returned phoneme string is valid until the next call.
    unsafe {
        if (e.set_voice)(voice_c.as_ptr()) != 0 {
            return Err(format!("eSpeak NG {} has no voice {voice:?}", loaded.version));
        }
        let mut ptr: *const c_void = text_c.as_ptr().cast();
        while !ptr.is_null() {
            let mut terminator: c_int = 0;
            let phonemes = (e.to_phonemes)(&mut ptr, CHARS_AUTO, PHONEMES_IPA, &mut terminator);
            let phonemes = if phonemes.is_null() {
                String::new()
            } else {
                CStr::from_ptr(phonemes).to_string_lossy().into_owned()
            };
            let terminator = terminator & 0x000F_FFFF;
            out.push(Clause {
                phonemes,
                terminator: match terminator {
                    CLAUSE_PERIOD => ".",
                    CLAUSE_QUESTION => "?",
                    CLAUSE_EXCLAMATION => "!",
                    CLAUSE_COMMA => ",",
                    CLAUSE_COLON => ":",
                    CLAUSE_SEMICOLON => ";",
                    _ => "",
                },
                end_of_sentence: terminator & CLAUSE_TYPE_SENTENCE == CLAUSE_TYPE_SENTENCE,
            });
        }
    }
    Ok(out)
}
