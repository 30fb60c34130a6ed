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

/// The ids go into cache keys: a change of the code must not change them.
#[test]
fn the_voices_keep_their_cache_ids() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("voices/examples");
    let examples = [
        "openai/http://synth-1:8080/v1/audio/speech/model=tts-1/voice=vi-espeak/format=wav/speed=default",
        "fpt-v5/https://api.fpt.ai/hmi/tts/v5/voice=banmai/speed=0/format=mp3",
        "viettel/https://viettelai.vn/tts/speech_synthesis/voice=hn-quynhanh/speed=1/option=2/without_filter=false",
        "google-tts-v1/https://texttospeech.googleapis.com/v1/text:synthesize/vi-VN/voice=vi-VN-Wavenet-A\
         /encoding=LINEAR16/rate=1/pitch=0/hz=natural",
        "azure-tts/https://southeastasia.tts.speech.microsoft.com/cognitiveservices/v1/voice=vi-VN-HoaiMyNeural\
         /riff-24khz-16bit-mono-pcm/rate=1",
    ];
    for ((file, _, _), id) in EXAMPLES.into_iter().zip(examples) {
        let voice = load_voice(&dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(voice.backend.id(), id, "{file}");
    }
    let tuned = [
        (
            "type = \"openai\"\nbase_url = \"https://api.openai.com/\"\nvoice = \"alloy\"\n\
             model = \"gpt-4o-mini-tts\"\nformat = \"pcm\"\nspeed = 1.25",
            "openai/https://api.openai.com/v1/audio/speech/model=gpt-4o-mini-tts/voice=alloy/format=pcm/speed=1.25",
        ),
        (
            "type = \"fpt\"\nvoice = \"leminh\"\nspeed = -2\nformat = \"wav\"",
            "fpt-v5/https://api.fpt.ai/hmi/tts/v5/voice=leminh/speed=-2/format=wav",
        ),
        (
            "type = \"viettel\"\nvoice = \"hcm-diemmy\"\nspeed = 0.9\nformat = \"mp3\"\nwithout_filter = true",
            "viettel/https://viettelai.vn/tts/speech_synthesis/voice=hcm-diemmy/speed=0.9/option=3/without_filter=true",
        ),
        (
            "type = \"google\"\nvoice = \"vi-VN-Neural2-A\"\nencoding = \"MP3\"\nspeaking_rate = 1.1\n\
             pitch = -2.5\nsample_rate_hertz = 16000",
            "google-tts-v1/https://texttospeech.googleapis.com/v1/text:synthesize/vi-VN/voice=vi-VN-Neural2-A\
             /encoding=MP3/rate=1.1/pitch=-2.5/hz=16000",
        ),
        (
            "type = \"azure\"\nbase_url = \"http://127.0.0.1:9\"\nvoice = \"vi-VN-NamMinhNeural\"\n\
             output_format = \"audio-24khz-48kbitrate-mono-mp3\"\nrate = 1.2",
            "azure-tts/http://127.0.0.1:9/cognitiveservices/v1/voice=vi-VN-NamMinhNeural\
             /audio-24khz-48kbitrate-mono-mp3/rate=1.2",
        ),
    ];
    for (backend, id) in tuned {
        let text = format!("[backend]\n{backend}\n");
        let voice = parse_voice(&text, Path::new("t.toml")).unwrap().backend.build(Path::new(".")).unwrap();
        assert_eq!(voice.id(), id, "{backend}");
    }
}
