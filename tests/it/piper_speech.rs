//! The piper backend end to end with the real en_US-joe-medium voice and
//! ONNX Runtime: `loa speak` against Piper's Python CLI on the same text,
//! timings, the cache, the server's sentence URLs, and the voices that
//! cannot work (missing model, model without config, corrupt model,
//! missing runtime library).

use std::path::{Path, PathBuf};
use std::process::Command;

use axum::body::Body;
use axum::http::Request;
use loa::pipeline::Timings;

use super::piper_support::{Tools, World, repo, run, stderr, stdout, tools};

/// The first paragraphs of the English article (keeps the test short).
fn short_article(world: &World) -> PathBuf {
    let text = std::fs::read_to_string(repo().join("tests/piper/english-article.txt")).unwrap();
    let short: Vec<&str> = text.split("\n\n").take(4).collect();
    let path = world.path("article.txt");
    std::fs::write(&path, short.join("\n\n") + "\n").unwrap();
    path
}

fn wav_ms(path: &Path) -> f64 {
    let r = hound::WavReader::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    r.duration() as f64 * 1000.0 / r.spec().sample_rate as f64
}

/// Piper's CLI on `lines` (one text per line, as it reads them) → WAV.
fn piper_cli(tools: &Tools, lines: &str, out: &Path, extra: &[&str]) {
    let input = out.with_extension("txt");
    std::fs::write(&input, lines).unwrap();
    let mut cmd = Command::new(&tools.python);
    cmd.args(["-m", "piper", "-m"])
        .arg(&tools.joe_model)
        .arg("-i")
        .arg(&input)
        .arg("-f")
        .arg(out)
        .args(extra);
    let o = run(cmd, None);
    assert!(o.status.success(), "piper CLI failed: {}", stderr(&o));
}

#[test]
fn speak_has_pipers_length_exact_timings_and_a_cache() {
    let Some(tools) = tools("piper_speech::speak_has_pipers_length_exact_timings_and_a_cache") else {
        return;
    };
    let world = World::new(&tools);
    // Piper's phoneme durations are random (the stochastic duration
    // predictor samples its noise inside the model, unseeded, scaled by
    // noise_w = 0.8 from joe's config): two syntheses of one text differ in
    // length by a few per cent (an MP3 run, synthesized anew because
    // sentence objects are per format, once came out 3.05% longer than the
    // WAV run). With noise_w = 0, here and in Piper's CLI, the durations
    // are the model's deterministic ones, so the lengths below compare
    // like with like; the generator noise (noise_scale) changes the sound,
    // never the length.
    world.voice("joe", &tools.joe_model.clone(), "threads = 2\nnoise_w = 0.0\n", true);
    let article = short_article(&world);
    let (wav, json, mp3) = (world.path("a.wav"), world.path("a.json"), world.path("a.mp3"));
    let a = article.display().to_string();
    let o = world.loa(
        &[
            "speak",
            "--voice",
            "joe",
            &a,
            "-o",
            &wav.display().to_string(),
            "--timings",
            &json.display().to_string(),
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let timings: Timings = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    timings.check().expect("timings back to back");
    let n = timings.sentences.len();
    assert!(n >= 8, "{n} sentences");
    assert!(stderr(&o).contains(&format!("({} cached, {n} synthesized)", 0)), "{}", stderr(&o));
    let ours = wav_ms(&wav);
    assert!(
        (ours - timings.duration_ms as f64).abs() <= 1.0,
        "{ours} ms vs timings {} ms",
        timings.duration_ms
    );
    // Piper's own CLI on the very sentences loa spoke.
    let spoken: Vec<&str> = timings.sentences.iter().map(|s| s.spoken.as_str()).collect();
    let theirs_path = world.path("piper.wav");
    piper_cli(&tools, &(spoken.join("\n") + "\n"), &theirs_path, &["--noise-w-scale", "0"]);
    let theirs = wav_ms(&theirs_path);
    let ratio = ours / theirs;
    eprintln!("joe, {n} sentences: loa {ours:.0} ms, piper CLI {theirs:.0} ms (ratio {ratio:.3})");
    // The same model on the same phonemes with deterministic durations: the
    // same length, but for float rounding in ONNX Runtime's threads (a
    // duration's ceil may flip: one hop, 256 samples, here and there).
    assert!((0.995..=1.005).contains(&ratio), "loa {ours:.0} ms vs piper {theirs:.0} ms");
    // Every sentence is speech: longer than 250 ms, not silent.
    for s in &timings.sentences {
        assert!(s.end_ms - s.start_ms > 250, "sentence {} lasts {} ms", s.index, s.end_ms - s.start_ms);
    }
    // Second run: the article from the cache.
    let o = world.loa(&["speak", "--voice", "joe", &a, "-o", &wav.display().to_string()], None);
    assert!(o.status.success() && stderr(&o).contains("article from cache"), "{}", stderr(&o));
    // As MP3 (sentence objects are per format), then with one sentence
    // edited: only that sentence is synthesized again.
    let m = mp3.display().to_string();
    let o = world.loa(&["speak", "--voice", "joe", &a, "-o", &m], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let decoded = loa::audio::decode(&std::fs::read(&mp3).unwrap()).unwrap();
    let mp3_ms = decoded.duration_ms() as f64;
    // The same durations as the WAV run (noise_w = 0), so the MP3 is longer
    // only by its framing: each sentence is encoded on its own, with LAME's
    // delay and padding to whole frames (576 samples at joe's 22.05 kHz),
    // about two frames a sentence (536 ms for 10 sentences when measured).
    let frame_ms = 576.0 * 1000.0 / decoded.sample_rate as f64;
    let extra = mp3_ms - ours;
    eprintln!(
        "joe, {n} sentences: mp3 {mp3_ms:.0} ms, wav {ours:.0} ms: {:.1} frames a sentence",
        extra / frame_ms / n as f64
    );
    assert!(
        (0.0..=4.0 * frame_ms * n as f64).contains(&extra),
        "mp3 {mp3_ms} ms vs wav {ours} ms: not the WAV plus at most 4 frames a sentence"
    );
    let text = std::fs::read_to_string(&article).unwrap();
    let edited = world.path("edited.txt");
    std::fs::write(&edited, text.replacen("Monday morning", "Tuesday morning", 1)).unwrap();
    let o = world.loa(&["speak", "--voice", "joe", &edited.display().to_string(), "-o", &m], None);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains(&format!("({} cached, 1 synthesized)", n - 1)), "{}", stderr(&o));
}

#[test]
fn unusable_voices_are_unavailable_naming_the_file_and_cache_nothing() {
    let Some(tools) =
        tools("piper_speech::unusable_voices_are_unavailable_naming_the_file_and_cache_nothing")
    else {
        return;
    };
    let world = World::new(&tools);
    let missing = world.path("models/missing.onnx");
    world.voice("missing-model", &missing, "", true);
    // A model without its .onnx.json (a link to joe's model, alone in its directory).
    std::fs::create_dir_all(world.path("bare")).unwrap();
    let bare = world.path("bare/joe.onnx");
    std::os::unix::fs::symlink(&tools.joe_model, &bare).unwrap();
    world.voice("no-config", &bare, "", true);
    // A corrupt model with a good config beside it.
    std::fs::create_dir_all(world.path("corrupt")).unwrap();
    let corrupt = world.path("corrupt/joe.onnx");
    std::fs::write(&corrupt, b"\x08\x07this is not an ONNX model at all").unwrap();
    std::fs::copy(format!("{}.json", tools.joe_model.display()), world.path("corrupt/joe.onnx.json"))
        .unwrap();
    world.voice("corrupt", &corrupt, "", true);
    // A good model, but the runtime library is missing.
    let no_lib = world.path("lib/libonnxruntime.so.1");
    world.voice(
        "no-runtime",
        &tools.joe_model,
        &format!("onnxruntime = {:?}\n", no_lib.display().to_string()),
        false,
    );
    let o = world.loa(&["voices", "--json"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let voices: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let problem = |name: &str| -> String {
        let v = voices
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["name"] == name)
            .unwrap_or_else(|| panic!("{name}: {voices}"));
        assert_eq!(v["available"], false, "{v}");
        v["problem"].as_str().unwrap().to_string()
    };
    let expect = [
        ("missing-model", missing.display().to_string(), "not found"),
        ("no-config", format!("{}.json", bare.display()), "not found"),
        ("corrupt", corrupt.display().to_string(), "cannot load Piper model"),
        ("no-runtime", no_lib.display().to_string(), "pip install onnxruntime"),
    ];
    for (name, file, words) in &expect {
        let p = problem(name);
        assert!(p.contains(file.as_str()) && p.contains(words), "{name}: {p}");
    }
    // Speaking with any of them fails naming the file; nothing is written or cached.
    for (name, file, _) in &expect {
        let wav = world.path(&format!("{name}.wav"));
        let o = world
            .loa(&["speak", "--voice", name, "-o", &wav.display().to_string(), "-"], Some(b"Hello there."));
        assert!(!o.status.success(), "{name} spoke");
        assert!(stderr(&o).contains(file.as_str()), "{name}: {}", stderr(&o));
        assert!(!wav.exists(), "{name} left {}", wav.display());
    }
    assert!(world.cached_files().is_empty(), "cached: {:?}", world.cached_files());
}

#[test]
fn a_voice_without_espeak_1_52_is_unavailable_saying_how_to_get_it() {
    let Some(tools) = tools("piper_speech::a_voice_without_espeak_1_52_is_unavailable_saying_how_to_get_it")
    else {
        return;
    };
    let world = World::new(&tools);
    let text = format!(
        "[backend]\ntype = \"piper\"\nmodel = {:?}\nespeak_library = \"/nonexistent/espeakbridge.so\"\n",
        tools.joe_model.display().to_string()
    );
    std::fs::write(world.path("voices/no-espeak.toml"), text).unwrap();
    let o = world.loa(&["voices"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("/nonexistent/espeakbridge.so") && out.contains("piper-tts"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_widgets_sentence_urls_play_on_the_joe_voice() {
    let Some(tools) = tools("piper_speech::the_widgets_sentence_urls_play_on_the_joe_voice") else { return };
    let world = World::new(&tools);
    world.joe();
    let mut config = loa::config::Config::default();
    config.cache.dir = world.path("cache");
    config.speech.voices_dir = world.path("voices");
    config.speech.default_voice = "joe".into();
    let engine = loa::pipeline::Engine::new(&config).expect("engine");
    let state = loa::server::AppState::new(engine);
    let text = "The library opened early. Volunteers carried boxes of books up the stairs. Nobody expected the queue!";
    let body = serde_json::json!({ "text": text, "voice": "joe", "response": "plan" }).to_string();
    let request = Request::post("/v1/speech")
        .header("content-type", "application/json")
        .body(Body::from(body))
        .unwrap();
    let r = super::server_support::send(&state, request).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let plan = r.json();
    let sentences = plan["sentences"].as_array().unwrap();
    assert_eq!(sentences.len(), 3, "{plan}");
    for s in sentences {
        let audio = super::server_support::get(&state, s["url"].as_str().unwrap()).await;
        assert_eq!(audio.status, 200, "{}", audio.text());
        assert_eq!(audio.header("content-type"), Some("audio/mpeg"));
        let pcm = loa::audio::decode(&audio.body).expect("playable MP3");
        assert!(
            pcm.duration_ms() > 600 && pcm.peak() > 3000,
            "{} ms, peak {}",
            pcm.duration_ms(),
            pcm.peak()
        );
    }
}

fn backend(tools: &Tools, model: &Path, extra: &str) -> loa::tts::piper::PiperBackend {
    let text = format!(
        "model = {:?}\nonnxruntime = {:?}\nespeak_library = {:?}\nthreads = 2\n{extra}",
        model.display().to_string(),
        tools.onnxruntime.display().to_string(),
        tools.espeak.display().to_string()
    );
    let spec: loa::tts::piper::PiperSpec = toml::from_str(&text).unwrap();
    loa::tts::piper::PiperBackend::new(spec, Path::new("/")).unwrap()
}

#[test]
fn model_durations_give_exact_lengths_and_per_phoneme_samples() {
    let Some(tools) = tools("piper_speech::model_durations_give_exact_lengths_and_per_phoneme_samples")
    else {
        return;
    };
    let text = "The library opened early. Nobody expected the queue!";
    // A model that exposes its durations (joe, patched by piper-tts).
    let aligned = backend(&tools, &tools.joe_aligned, "sentence_silence_ms = 200\n");
    let s = aligned.synthesize_detailed(text).expect("synthesis");
    assert_eq!(s.pcm.sample_rate, 22050);
    assert_eq!(s.sentences.len(), 2);
    let silence = 22050 * 200 / 1000;
    let mut at = 0;
    for (i, sent) in s.sentences.iter().enumerate() {
        if i > 0 {
            at += silence;
            assert!(s.pcm.samples[at - silence..at].iter().all(|&x| x == 0), "silence between sentences");
        }
        assert_eq!(sent.start_sample, at);
        let per_id = sent.id_samples.as_ref().expect("the patched model gives durations");
        assert_eq!(per_id.len(), sent.ids.len());
        // The predicted durations are the audio: frames × hop length.
        assert_eq!(per_id.iter().sum::<u64>() as usize, sent.samples, "sentence {i}");
        assert!(per_id.iter().filter(|&&n| n > 0).count() > sent.ids.len() / 3);
        // Words in order, inside the sentence: "the library opened early" has four.
        let ends: Vec<u64> = sent.words.iter().map(|w| w.start_sample + w.samples).collect();
        assert!(sent.words.windows(2).all(|w| w[0].start_sample + w[0].samples <= w[1].start_sample));
        assert!(ends.iter().all(|&e| e <= sent.samples as u64), "{:?}", sent.words);
        at += sent.samples;
    }
    assert_eq!(s.pcm.samples.len(), at);
    assert_eq!(s.sentences[0].words.len(), 4, "{:?}", s.sentences[0].words);
    assert_eq!(s.sentences[1].words.len(), 4, "{:?}", s.sentences[1].words);
    // Piper normalizes each sentence to full range.
    let peak = s.pcm.samples.iter().map(|&x| (x as i32).abs()).max().unwrap();
    assert!(peak >= 32000, "peak {peak}");
    // The plain model gives none, and a different cache id.
    let plain = backend(&tools, &tools.joe_model, "");
    let p = plain.synthesize_detailed(text).expect("synthesis");
    assert!(p.sentences.iter().all(|s| s.id_samples.is_none() && s.words.is_empty()));
    use loa::tts::Backend;
    assert_ne!(plain.id(), aligned.id());
    let changed = backend(&tools, &tools.joe_model, "length_scale = 1.2\n");
    assert_ne!(plain.id(), changed.id());
    assert!(plain.id().contains("espeak-ng=1.52"), "{}", plain.id());
}

#[test]
fn the_example_voice_file_loads_and_typos_are_errors() {
    let example = repo().join("voices/examples/vi-piper.toml");
    let voice = loa::tts::load_voice(&example).expect("the example parses");
    assert_eq!((voice.name.as_str(), voice.backend_type.as_str()), ("vi-piper", "piper"));
    // Its /opt paths are not on this machine: unavailable, naming what is missing.
    let problem = voice.backend.check().unwrap_err().to_string();
    assert!(problem.contains("/opt/"), "{problem}");
    for (text, needle) in [
        ("[backend]\ntype = \"piper\"\nmodel = \"m.onnx\"\nlenght_scale = 1.0\n", "lenght_scale"),
        ("[backend]\ntype = \"piper\"\n", "model"),
        ("[backend]\ntype = \"piper\"\nmodel = \"m.onnx\"\nthreads = 0\n", "threads"),
        ("[backend]\ntype = \"piper\"\nmodel = \"m.onnx\"\nlength_scale = 0\n", "length_scale"),
    ] {
        let path = Path::new("voices/x.toml");
        let err = match loa::tts::factory::parse_voice(text, path) {
            Err(e) => e.to_string(),
            Ok(f) => f.backend.build(Path::new(".")).err().expect("must be refused").to_string(),
        };
        assert!(err.contains(needle), "{err}");
    }
}
