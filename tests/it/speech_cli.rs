//! `loa speak`, `loa generate`, `loa voices`, `loa cache` end to end, with
//! the real eSpeak NG voice (scripts/test installs espeak-ng) and a
//! `command` voice that fails on some sentences.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use loa::pipeline::Timings;

const SEED: &str = "tests/samples/cao-loc-2021.txt";

/// A scratch directory with a config pointing the cache and voices into it.
struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let voices = dir.path().join("voices");
        std::fs::create_dir(&voices).unwrap();
        let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
        std::fs::copy(repo.join("voices/vi-espeak.toml"), voices.join("vi-espeak.toml")).unwrap();
        let script = repo.join("tests/fixtures/fail-on-hong.sh");
        std::fs::write(
            voices.join("flaky.toml"),
            format!(
                "description = \"fails on hỏng\"\n[backend]\ntype = \"command\"\nprogram = {:?}\n",
                script.display().to_string()
            ),
        )
        .unwrap();
        let config = format!(
            "[cache]\ndir = {:?}\n[speech]\nvoices_dir = {:?}\n",
            dir.path().join("cache").display().to_string(),
            voices.display().to_string()
        );
        std::fs::write(dir.path().join("loa.toml"), config).unwrap();
        Env { dir }
    }

    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    fn loa(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_loa"));
        cmd.arg("--config").arg(self.path("loa.toml")).args(args).current_dir(env!("CARGO_MANIFEST_DIR"));
        for (k, _) in std::env::vars() {
            if k.starts_with("LOA_") {
                cmd.env_remove(k);
            }
        }
        cmd.output().unwrap()
    }
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn seed() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(SEED)
}

fn rms(p: &loa::audio::Pcm) -> f64 {
    (p.samples.iter().map(|&s| (s as f64).powi(2)).sum::<f64>() / p.samples.len().max(1) as f64).sqrt()
}

/// Objects of one extension in the cache.
fn cached(env: &Env, ext: &str) -> usize {
    cached_in(&env.path("cache"), ext)
}

/// Objects of one extension under a cache directory.
fn cached_in(dir: &Path, ext: &str) -> usize {
    let mut n = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == ext) {
                n += 1;
            }
        }
    }
    n
}

#[test]
fn speak_seed_article_to_mp3_with_timings_then_from_cache() {
    let env = Env::new();
    let (out, tj) = (env.path("a.mp3"), env.path("a.json"));
    let seed_path = seed();
    let args = [
        "speak",
        seed_path.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--timings",
        tj.to_str().unwrap(),
    ];
    let first = env.loa(&args);
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(stderr(&first).contains("synthesized"), "{}", stderr(&first));

    let pcm = loa::audio::decode(&std::fs::read(&out).unwrap()).unwrap();
    let secs = pcm.duration_ms() / 1000;
    assert!((60..=300).contains(&secs), "{secs} s of audio");
    assert!(rms(&pcm) > 500.0, "nearly silent: rms {}", rms(&pcm));

    let timings: Timings = serde_json::from_slice(&std::fs::read(&tj).unwrap()).unwrap();
    timings.check().unwrap();
    let text = std::fs::read_to_string(seed()).unwrap();
    let expected = loa::text::Normalizer::default().sentences(&text);
    assert_eq!(timings.sentences.len(), expected.len());
    for (t, s) in timings.sentences.iter().zip(&expected) {
        assert_eq!(t.text, s.text);
        assert_eq!(&text[t.start_byte..t.end_byte], s.text);
        assert!(t.end_ms > t.start_ms, "sentence {} has no audio", t.index);
    }
    // Gapless decoding gives back exactly what the timings say.
    assert!(
        pcm.duration_ms().abs_diff(timings.duration_ms) <= 5,
        "{} vs {}",
        pcm.duration_ms(),
        timings.duration_ms
    );

    let second = env.loa(&args);
    assert!(second.status.success(), "{}", stderr(&second));
    assert!(stderr(&second).contains("article from cache"), "{}", stderr(&second));
    assert_eq!(std::fs::read(&out).unwrap().len() as u64, std::fs::metadata(&out).unwrap().len());
}

#[test]
fn speak_wav_from_stdin_is_16_bit_mono() {
    let env = Env::new();
    let out = env.path("b.wav");
    let mut child = Command::new(env!("CARGO_BIN_EXE_loa"))
        .arg("--config")
        .arg(env.path("loa.toml"))
        .args(["speak", "-", "-o", out.to_str().unwrap()])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    crate::cli_support::feed(&mut child, "Xin chào các bạn.\n\nHôm nay trời đẹp.".as_bytes());
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let r = hound::WavReader::open(&out).unwrap();
    assert_eq!((r.spec().channels, r.spec().bits_per_sample, r.spec().sample_rate), (1, 16, 22050));
    assert!(r.duration() > 22050, "shorter than a second");
}

fn speak(env: &Env, extra: &[&str]) -> Output {
    let mut args = vec!["speak"];
    args.extend_from_slice(extra);
    env.loa(&args)
}

#[test]
fn unknown_voice_lists_the_available_ones() {
    let env = Env::new();
    let out = env.path("x.mp3");
    let o = speak(&env, &[SEED, "-o", out.to_str().unwrap(), "--voice", "nobody"]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("nobody") && e.contains("vi-espeak") && e.contains("flaky"), "{e}");
    assert!(!out.exists());
}

#[test]
fn malformed_voice_file_is_named() {
    let env = Env::new();
    std::fs::write(env.path("voices/broken.toml"), "[backend]\ntype = \"espeak\"\nspeed = 3\n").unwrap();
    let out = env.path("x.mp3");
    let o = speak(&env, &[SEED, "-o", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("broken.toml") && e.contains("speed"), "{e}");
    assert!(!out.exists());
    let v = env.loa(&["voices"]);
    assert_eq!(v.status.code(), Some(2), "{}", stderr(&v));
}

#[test]
fn unwritable_output_path_fails_before_any_work() {
    let env = Env::new();
    std::fs::write(env.path("plain-file"), "x").unwrap();
    let out = env.path("plain-file/out.mp3");
    let o = speak(&env, &[SEED, "-o", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("out.mp3"), "{}", stderr(&o));
    assert_eq!(cached(&env, "wav"), 0, "synthesized before checking the output");
    let o = speak(&env, &[SEED, "-o", env.path("x.ogg").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--format"), "{}", stderr(&o));
}

#[test]
fn backend_failure_names_the_sentence_and_leaves_nothing() {
    let env = Env::new();
    let article = env.path("article.txt");
    std::fs::write(&article, "Câu đầu tiên đọc được.\n\nCâu này bị hỏng rồi.\n\nCâu cuối cùng.\n").unwrap();
    let (out, tj) = (env.path("x.mp3"), env.path("x.json"));
    let o = speak(
        &env,
        &[
            article.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--voice",
            "flaky",
            "--timings",
            tj.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(
        e.contains("sentence 2") && e.contains("Câu này bị hỏng rồi.") && e.contains("cannot speak"),
        "{e}"
    );
    assert!(!out.exists() && !tj.exists());
    // No article (its timings come first); the sentences read stay cached,
    // so a rerun only redoes the rest: the first one, and the last one when
    // it was already under way (sentences are synthesized several at a time)
    // as the second failed.
    assert_eq!(cached(&env, "json"), 0);
    let read = cached(&env, "mp3");
    assert!((1..=2).contains(&read), "{read} sentence objects cached");
    let leftovers: Vec<_> = std::fs::read_dir(env.dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".loa-tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn generate_continues_past_a_failing_article_and_reuses_the_cache() {
    let env = Env::new();
    let src = env.path("articles");
    std::fs::create_dir_all(src.join("sub")).unwrap();
    std::fs::write(src.join("one.txt"), "Bài thứ nhất.\n\nCó hai đoạn.\n").unwrap();
    std::fs::write(src.join("sub/two.txt"), "Bài thứ hai.\n").unwrap();
    std::fs::write(src.join("bad.txt"), "Bài này hỏng.\n").unwrap();
    std::fs::write(src.join("notes.md"), "not an article").unwrap();
    let out = env.path("out");
    let args = [
        "generate",
        src.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--voice",
        "flaky",
        "--jobs",
        "2",
    ];
    let o = env.loa(&args);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("bad.txt"), "{}", stderr(&o));
    assert!(out.join("one.mp3").is_file() && out.join("one.json").is_file());
    assert!(out.join("sub/two.mp3").is_file());
    assert!(!out.join("bad.mp3").exists());
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["articles"], 3);
    assert_eq!(m["failed"], 1);
    let entries = m["entries"].as_array().unwrap();
    let bad = entries.iter().find(|e| e["input"].as_str().unwrap().ends_with("bad.txt")).unwrap();
    assert!(bad["error"].as_str().unwrap().contains("hỏng"));

    // Fix the bad article: the others come from the cache.
    std::fs::write(src.join("bad.txt"), "Bài này đã sửa.\n").unwrap();
    let o = env.loa(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    let from_cache = m["entries"].as_array().unwrap().iter().filter(|e| e["from_cache"] == true).count();
    assert_eq!(from_cache, 2);
    assert!(stderr(&o).contains("(2 from cache)"), "{}", stderr(&o));
}

#[test]
fn voices_and_cache_commands() {
    let env = Env::new();
    std::fs::write(
        env.path("voices/missing.toml"),
        "[backend]\ntype = \"command\"\nprogram = \"/nonexistent/tts\"\n",
    )
    .unwrap();
    let o = env.loa(&["voices", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let by = |n: &str| v.as_array().unwrap().iter().find(|x| x["name"] == n).unwrap().clone();
    assert_eq!(by("vi-espeak")["available"], true);
    assert_eq!(by("missing")["available"], false);
    assert!(by("missing")["problem"].as_str().unwrap().contains("/nonexistent/tts"));

    let out = env.path("s.wav");
    assert!(speak(&env, &[SEED, "-o", out.to_str().unwrap()]).status.success());
    let o = env.loa(&["cache", "stats", "--json"]);
    let s: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(s["objects"].as_u64().unwrap() >= 3, "{s}");
    // Objects written in the last seconds are protected from eviction; age them all.
    let mut stack = vec![env.path("cache")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            if e.path().is_dir() {
                stack.push(e.path());
            } else {
                let f = std::fs::File::options().write(true).open(e.path()).unwrap();
                f.set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(3600)).unwrap();
            }
        }
    }
    let o = env.loa(&["cache", "prune", "--max-bytes", "0"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains(&format!("removed {} objects", s["objects"])));
    let o = env.loa(&["cache", "stats", "--json"]);
    let s2: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(s2["objects"], 0);
}

#[test]
fn missing_espeak_library_is_a_clear_error() {
    let env = Env::new();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_loa"))
            .arg("--config")
            .arg(env.path("loa.toml"))
            .args(args)
            .env("LOA_ESPEAK_LIBRARY", "/nonexistent/libespeak-ng.so.1")
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap()
    };
    let o = run(&["voices"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let table = String::from_utf8_lossy(&o.stdout);
    let line = table.lines().find(|l| l.starts_with("vi-espeak ")).unwrap();
    assert!(line.contains(" no "), "{table}");
    assert!(table.contains("install espeak-ng"), "{table}");
    let out = env.path("x.mp3");
    let o = run(&["speak", SEED, "-o", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("voice unavailable: install espeak-ng"), "{}", stderr(&o));
    assert!(!out.exists());
}

#[test]
fn html_input_reads_the_article_not_the_page_furniture() {
    let env = Env::new();
    let html = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/samples/cao-loc-2021.html");
    let (out, tj) = (env.path("h.mp3"), env.path("h.json"));
    let o = speak(
        &env,
        &[html.to_str().unwrap(), "-o", out.to_str().unwrap(), "--timings", tj.to_str().unwrap()],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let t: Timings = serde_json::from_slice(&std::fs::read(&tj).unwrap()).unwrap();
    t.check().unwrap();
    assert!(t.sentences[0].text.starts_with("Huyện ủy Cao Lộc"), "{}", t.sentences[0].text);
    for s in &t.sentences {
        assert!(
            !s.text.contains('<') && !s.text.contains("_gaq") && !s.text.contains("jquery"),
            "{}",
            s.text
        );
    }
    assert!(t.sentences.iter().all(|s| !s.text.contains("Ảnh: Trung tâm")), "the caption is not read");
    // The same article as plain text (which has the caption) reuses every
    // other sentence from the cache: only the caption is synthesized.
    let o = speak(&env, &[SEED, "-o", env.path("t.mp3").to_str().unwrap()]);
    let err = stderr(&o);
    let synthesized: usize = err
        .split(" synthesized")
        .next()
        .and_then(|s| s.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{err}"));
    assert!((1..=2).contains(&synthesized), "{err}");
}

#[test]
fn generate_rejects_bad_runs_before_any_work() {
    let env = Env::new();
    let src = env.path("articles");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("one.txt"), "Một bài ngắn.\n").unwrap();
    let out = env.path("out");
    let o =
        env.loa(&["generate", src.to_str().unwrap(), "--out", out.to_str().unwrap(), "--voice", "nobody"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("vi-espeak"), "{}", stderr(&o));
    assert!(!out.exists());
    let o =
        env.loa(&["generate", env.path("nothing-here").to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("nothing-here"), "{}", stderr(&o));
    std::fs::write(env.path("blocker"), "x").unwrap();
    let o = env.loa(&["generate", src.to_str().unwrap(), "--out", env.path("blocker/out").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(cached(&env, "wav"), 0);
}

#[test]
fn generate_keeps_articles_whose_names_clash_and_honours_the_global_dirs() {
    let env = Env::new();
    for d in ["dir1", "dir2"] {
        std::fs::create_dir_all(env.path(d)).unwrap();
    }
    std::fs::write(env.path("dir1/a.txt"), "Bài thứ nhất.\n").unwrap();
    std::fs::write(env.path("dir2/a.txt"), "Bài thứ hai, khác hẳn.\n").unwrap();
    // The voices the config names are moved away: only the global flags find them.
    let voices = env.path("other-voices");
    std::fs::rename(env.path("voices"), &voices).unwrap();
    let cache = env.path("other-cache");
    let out = env.path("out");
    let o = env.loa(&[
        "--cache-dir",
        cache.to_str().unwrap(),
        "generate",
        env.path("dir1").to_str().unwrap(),
        env.path("dir2").to_str().unwrap(),
        env.path("dir1/a.txt").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--voice",
        "flaky",
        "--voices-dir",
        voices.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["articles"], 2, "{m}");
    let entries = m["entries"].as_array().unwrap();
    let audio: Vec<&str> = entries.iter().map(|e| e["audio"].as_str().unwrap()).collect();
    assert_ne!(audio[0], audio[1]);
    for e in entries {
        assert!(Path::new(e["audio"].as_str().unwrap()).is_file(), "{e}");
        assert!(Path::new(e["timings"].as_str().unwrap()).is_file(), "{e}");
    }
    let t2: Timings =
        serde_json::from_slice(&std::fs::read(entries[1]["timings"].as_str().unwrap()).unwrap()).unwrap();
    assert!(t2.sentences[0].text.contains("thứ hai"), "the second article's own timings");
    assert!(stderr(&o).contains("dir2/a.txt"), "the renaming is reported: {}", stderr(&o));
    // The cache went to --cache-dir, not to the config's directory.
    assert_eq!(cached(&env, "mp3"), 0);
    assert!(cached_in(&cache, "mp3") >= 2, "both articles are cached in --cache-dir");
}

#[test]
fn serve_with_a_bad_config_exits_2_like_speak() {
    let env = Env::new();
    std::fs::write(env.path("bad.toml"), "[cache\ndir = 1\n").unwrap();
    for cmd in [&["speak", SEED, "-o", "/tmp/never.mp3"][..], &["serve", "--address", "127.0.0.1:0"][..]] {
        let mut c = Command::new(env!("CARGO_BIN_EXE_loa"));
        c.arg("--config").arg(env.path("bad.toml")).args(cmd).current_dir(env!("CARGO_MANIFEST_DIR"));
        for (k, _) in std::env::vars() {
            if k.starts_with("LOA_") {
                c.env_remove(k);
            }
        }
        let o = c.output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{cmd:?}: {}", stderr(&o));
        assert!(stderr(&o).contains("bad.toml"), "{cmd:?}: {}", stderr(&o));
    }
    // A malformed voice file is bad configuration too.
    std::fs::write(env.path("voices/broken.toml"), "[backend\n").unwrap();
    let o = env.loa(&["serve", "--address", "127.0.0.1:0"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}
