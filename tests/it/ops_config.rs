//! The config as an operator meets it: the file search, `LOA_SECTION_KEY`
//! overrides for any key, bad values exiting 2 with the variable named,
//! error causes printed once, and `loa serve` from an empty directory
//! (what `cargo install` gives) starting with no warnings.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// `loa` in `dir` with an environment of only `PATH`, `HOME` under `dir`
/// and `env` (no LOA_* from the developer's shell).
fn loa(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_loa"));
    c.args(args).current_dir(dir).env_clear().env("PATH", std::env::var_os("PATH").unwrap_or_default());
    c.env("HOME", dir.join("home"));
    if let Some(lib) = std::env::var_os("LOA_ESPEAK_LIBRARY") {
        c.env("LOA_ESPEAK_LIBRARY", lib);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    c
}

fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    loa(dir, args, env).output().expect("run loa")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn any_key_is_set_by_its_variable() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(
        dir.path(),
        &["config"],
        &[
            ("LOA_SPEECH_SENTENCE_PAUSE_MS", "123"),
            ("LOA_SERVER_REQUEST_TIMEOUT_SECS", "7"),
            ("LOA_SERVER_CORS_ORIGINS", "https://a.example,https://b.example"),
            ("LOA_TEXT_MAX_SENTENCE_BYTES", "900"),
            ("LOA_VOICE", "old-name"),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let config: toml::Table = toml::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(config["speech"]["sentence_pause_ms"].as_integer(), Some(123));
    assert_eq!(config["server"]["request_timeout_secs"].as_integer(), Some(7));
    assert_eq!(config["server"]["cors_origins"].as_array().map(Vec::len), Some(2));
    assert_eq!(config["text"]["max_sentence_bytes"].as_integer(), Some(900));
    assert_eq!(config["speech"]["default_voice"].as_str(), Some("old-name"));
    assert!(out.starts_with("# no config file"), "{out}");

    // `--env` lists a variable for every key the config shows.
    let o = run(dir.path(), &["config", "--env"], &[]);
    let listed = stdout(&o);
    let mut count = 0;
    fn vars(prefix: &str, table: &toml::Table, out: &mut Vec<String>) {
        for (key, value) in table {
            let var = format!("{prefix}_{}", key.to_uppercase());
            match value {
                // A nested table (`[server.limits]`): its keys are LOA_SERVER_LIMITS_….
                toml::Value::Table(inner) => vars(&var, inner, out),
                _ => out.push(var),
            }
        }
    }
    let mut all = Vec::new();
    vars("LOA", &config, &mut all);
    for var in all {
        assert!(listed.contains(&format!("{var} ")), "{var} not listed:\n{listed}");
        count += 1;
    }
    assert!(count >= 18, "only {count} keys");
}

#[test]
fn bad_values_exit_2_naming_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    for (var, value) in [
        ("LOA_CACHE_MAX_BYTES", "lots"),
        ("LOA_SERVER_QUEUE_LIMIT", "-3"),
        ("LOA_TEXT_DIALECT", "east"),
        ("LOA_SPEECH_SAMPLE_RATE", "1e9"),
        ("LOA_SERVER_ADRESS", "0.0.0.0:1"),
    ] {
        for cmd in [&["voices"][..], &["normalize", "-"], &["serve"]] {
            let o = loa(dir.path(), cmd, &[(var, value)]).stdin(Stdio::null()).output().unwrap();
            assert_eq!(o.status.code(), Some(2), "{var}={value} {cmd:?}: {}", stderr(&o));
            assert!(stderr(&o).contains(var), "{var}: {}", stderr(&o));
        }
    }
}

#[test]
fn the_config_file_is_searched_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let home_cfg = dir.path().join("home/.config/loa");
    std::fs::create_dir_all(&home_cfg).unwrap();
    std::fs::write(home_cfg.join("loa.toml"), "[server]\nqueue_limit = 11\n").unwrap();
    let shown = |o: &Output| -> (String, i64) {
        let out = stdout(o);
        let t: toml::Table = toml::from_str(&out).unwrap();
        (out.lines().next().unwrap_or("").to_string(), t["server"]["queue_limit"].as_integer().unwrap())
    };
    let (first, n) = shown(&run(dir.path(), &["config"], &[]));
    assert_eq!(n, 11, "{first}");
    assert!(first.contains(".config/loa/loa.toml"), "{first}");

    std::fs::create_dir_all(dir.path().join("config")).unwrap();
    std::fs::write(dir.path().join("config/loa.toml"), "[server]\nqueue_limit = 22\n").unwrap();
    assert_eq!(shown(&run(dir.path(), &["config"], &[])).1, 22);

    let other = dir.path().join("other.toml");
    std::fs::write(&other, "[server]\nqueue_limit = 33\n").unwrap();
    let other_s = other.to_str().unwrap();
    assert_eq!(shown(&run(dir.path(), &["config"], &[("LOA_CONFIG", other_s)])).1, 33);
    // The environment overrides the file; the flag names the file.
    assert_eq!(shown(&run(dir.path(), &["config"], &[("LOA_SERVER_QUEUE_LIMIT", "44")])).1, 44);
    assert_eq!(shown(&run(dir.path(), &["--config", other_s, "config"], &[])).1, 33);

    // A named file must exist.
    let o = run(dir.path(), &["--config", "missing.toml", "voices"], &[]);
    assert_eq!(o.status.code(), Some(2));
}

/// Every line of the report is distinct and the I/O cause appears once.
fn assert_each_cause_once(err: &str, cause: &str) {
    assert_eq!(err.matches(cause).count(), 1, "{cause:?} not exactly once in:\n{err}");
    let lines: Vec<&str> =
        err.lines().map(|l| l.trim_start_matches("  caused by: ").trim_start_matches("error: ")).collect();
    for (i, a) in lines.iter().enumerate() {
        for b in &lines[i + 1..] {
            assert!(!a.contains(b) && !b.contains(a), "{a:?} repeats {b:?} in:\n{err}");
        }
    }
}

#[test]
fn a_cache_dir_that_is_a_file_says_so_once() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("cachefile"), "x").unwrap();
    std::fs::write(dir.path().join("a.txt"), "Xin chào.").unwrap();
    let o = run(dir.path(), &["speak", "a.txt", "-o", "a.wav", "--cache-dir", "cachefile"], &[]);
    let err = stderr(&o);
    assert!(!o.status.success());
    assert!(err.contains("cachefile") && err.contains("is a file, not a directory"), "{err}");
    assert!(!err.contains("File exists"), "{err}");
    assert_each_cause_once(&err, "is a file, not a directory");
    assert!(!dir.path().join("a.wav").exists());
    // `loa cache stats` goes through the same store.
    let o = run(dir.path(), &["cache", "stats", "--cache-dir", "cachefile"], &[]);
    assert_each_cause_once(&stderr(&o), "is a file, not a directory");
}

#[test]
fn unreadable_files_print_the_cause_once() {
    let dir = tempfile::tempdir().unwrap();
    let missing = "No such file or directory";
    let o = run(dir.path(), &["--config", "nope.toml", "voices"], &[]);
    let err = stderr(&o);
    assert!(err.starts_with("error: cannot read config file nope.toml"), "{err}");
    assert_each_cause_once(&err, missing);

    let o = loa(dir.path(), &["normalize", "--lexicon", "nope.tsv", "-"], &[])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("nope.tsv"), "{err}");
    assert_each_cause_once(&err, missing);

    let o = run(dir.path(), &["split", "nope.txt"], &[]);
    assert_each_cause_once(&stderr(&o), missing);
}

/// What `cargo install --path .` gives: the binary alone, run from an
/// empty directory with only HOME set. It must start on the built-in voice
/// and the per-user cache, and say nothing alarming.
#[test]
fn serve_from_an_empty_directory_without_warnings() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("home")).unwrap();
    let mut child = loa(dir.path(), &["serve", "--address", "127.0.0.1:0"], &[])
        .stderr(Stdio::piped())
        .spawn()
        .expect("run loa serve");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let first = lines.next().expect("a line").expect("utf-8");
    let addr =
        first.split("http://").nth(1).and_then(|s| s.split('/').next()).unwrap_or_else(|| panic!("{first}"));
    let rest = std::thread::spawn(move || lines.map_while(Result::ok).collect::<Vec<_>>());

    let health = http_get(&format!("http://{addr}/v1/voices"));
    let stop = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(stop.success());
    let exit = child.wait().unwrap();
    let log = rest.join().unwrap();
    assert!(exit.success(), "{exit}: {log:?}");
    let voices: serde_json::Value = serde_json::from_str(&health).unwrap_or_else(|e| panic!("{e}: {health}"));
    assert_eq!(voices["default"], "vi-espeak");
    let names: Vec<&str> =
        voices["voices"].as_array().unwrap().iter().filter_map(|v| v["name"].as_str()).collect();
    assert_eq!(names, ["vi-espeak"], "{voices}");
    for line in &log {
        assert!(!line.contains("WARN") && !line.to_lowercase().contains("warning"), "{line}\nall: {log:?}");
    }
    assert!(dir.path().join("home/.cache/loa").is_dir(), "the cache is not under ~/.cache/loa");
    assert!(!dir.path().join("cache").exists(), "a ./cache appeared");
}

/// A GET over plain TCP (the server is local; no client library needed).
fn http_get(url: &str) -> String {
    let started = Instant::now();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        loop {
            match http.get(url).send().await {
                Ok(r) => return r.text().await.unwrap(),
                Err(e) if started.elapsed() > Duration::from_secs(10) => panic!("{url}: {e}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    })
}
