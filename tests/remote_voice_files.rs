//! The example voice files of the remote backends load through the voice
//! factory, voices whose key variable is unset load but report themselves
//! unavailable, and typos in a remote voice file are errors.

use std::path::Path;

use loa::tts::factory::{VoiceRegistry, load_voice, parse_voice};

const EXAMPLES: [(&str, &str, Option<&str>); 5] = [
    ("vi-remote-loa.toml", "openai", None),
    ("vi-fpt-banmai.toml", "fpt", Some("FPT_API_KEY")),
    ("vi-viettel-quynhanh.toml", "viettel", Some("VIETTEL_TTS_TOKEN")),
    ("vi-google-wavenet-a.toml", "google", Some("GOOGLE_TTS_API_KEY")),
    ("vi-azure-hoaimy.toml", "azure", Some("AZURE_SPEECH_KEY")),
];

#[test]
fn every_example_loads_and_reports_a_missing_key() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("voices/examples");
    for (file, kind, var) in EXAMPLES {
        let voice = load_voice(&dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(voice.backend_type, kind, "{file}");
        assert_eq!(format!("{}.toml", voice.name), file);
        assert!(voice.backend.max_input_bytes() >= 2000, "{file}");
        assert!(voice.backend.max_concurrency() >= 1, "{file}");
        match var {
            Some(var) if std::env::var_os(var).is_none() => {
                let problem = voice.backend.check().unwrap_err().to_string();
                assert!(problem.contains(var), "{file}: {problem}");
            }
            _ => assert!(voice.backend.check().is_ok(), "{file}"),
        }
    }
}

#[test]
fn examples_are_not_in_the_default_voice_list() {
    let reg = VoiceRegistry::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("voices")).unwrap();
    for (file, _, _) in EXAMPLES {
        assert!(reg.get(file.trim_end_matches(".toml")).is_none(), "{file} is listed by default");
    }
}

#[test]
fn the_engine_limits_are_what_the_vendors_document() {
    let google = parse_voice("[backend]\ntype = \"google\"\n", Path::new("g.toml")).unwrap();
    let google = google.backend.build(Path::new(".")).unwrap();
    assert_eq!(google.max_input_bytes(), 5000);
    let fpt = parse_voice("[backend]\ntype = \"fpt\"\n", Path::new("f.toml")).unwrap();
    assert_eq!(fpt.backend.build(Path::new(".")).unwrap().max_input_bytes(), 5000);
}

#[test]
fn typos_and_bad_values_are_errors() {
    let cases = [
        ("[backend]\ntype = \"openai\"\nbase_url = \"http://h\"\nvoice = \"v\"\nvoise = \"x\"\n", "voise"),
        ("[backend]\ntype = \"google\"\n[backend.http]\ntimeout = 5\n", "timeout"),
        ("[backend]\ntype = \"azure\"\nregion = \"westeurope\"\nvoice_name = \"x\"\n", "voice_name"),
        ("[backend]\ntype = \"fpt\"\nformat = \"ogg\"\n", "ogg"),
        ("[backend]\ntype = \"openai\"\nvoice = \"v\"\n", "base_url"),
    ];
    for (text, needle) in cases {
        let err = parse_voice(text, Path::new("voices/x.toml")).unwrap_err().to_string();
        assert!(err.contains(needle) && err.contains("voices/x.toml"), "{err}");
    }
    let built = parse_voice("[backend]\ntype = \"viettel\"\nspeed = 3.0\n", Path::new("v.toml"))
        .unwrap()
        .backend
        .build(Path::new("."));
    let err = built.err().expect("speed 3.0 must be refused").to_string();
    assert!(err.contains("speed"), "{err}");
    let built = parse_voice(
        "[backend]\ntype = \"openai\"\nbase_url = \"ftp://h\"\nvoice = \"v\"\n",
        Path::new("v.toml"),
    )
    .unwrap()
    .backend
    .build(Path::new("."));
    assert!(built.is_err());
}
