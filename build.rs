//! Link settings of the loa binaries (the program, tests, benches).
//!
//! The piper backend loads eSpeak NG 1.52 at run time, and the build of it
//! that ships with Piper itself is the `piper-tts` wheel's `espeakbridge.so`:
//! the `espeak_*` C API plus a small Python glue layer. That glue refers to
//! four Python data objects, which the dynamic linker must find before the
//! library loads at all (even though loa never calls the glue). loa defines
//! inert stand-ins for them (`src/tts/piper/espeak_ng.rs`) and exports them
//! here so the loader can resolve them.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        for symbol in ["PyExc_RuntimeError", "_Py_FalseStruct", "_Py_NoneStruct", "_Py_TrueStruct"] {
            println!("cargo:rustc-link-arg=-Wl,--export-dynamic-symbol={symbol}");
        }
    }
}
