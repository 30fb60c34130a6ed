//! One input path and one set of exit codes for every command: FILE or `-`,
//! a BOM dropped, invalid UTF-8 named with its byte offset, a bad config
//! exiting 2, and a closed output pipe ending the command quietly with 0.

use std::io::{Read, Write};
use std::process::{Command, Stdio};

fn loa() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_loa"));
    c.current_dir(env!("CARGO_MANIFEST_DIR")).env_remove("LOA_CONFIG");
    c
}

fn run(args: &[&str], stdin: &[u8]) -> std::process::Output {
    let mut child =
        loa().args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    crate::cli_support::feed(&mut child, stdin);
    child.wait_with_output().unwrap()
}

#[test]
fn every_command_names_the_offset_of_invalid_utf8() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("a.wav");
    let cache = dir.path().join("cache");
    let out = out.to_str().unwrap();
    let cache = cache.to_str().unwrap();
    for args in [
        vec!["split"],
        vec!["normalize"],
        vec!["--cache-dir", cache, "speak", "-o", out],
        vec!["--cache-dir", cache, "speak", "-", "-o", out],
    ] {
        let o = run(&args, b"Xin ch\xe0o");
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains("standard input is not valid UTF-8: invalid byte at offset 6"),
            "{args:?}: {err}"
        );
        assert!(o.stdout.is_empty());
    }
    assert!(!dir.path().join("a.wav").exists(), "nothing written on bad input");
}

#[test]
fn a_bom_is_not_read_aloud() {
    let o = run(&["normalize", "--lines"], "\u{feff}Năm 2022".as_bytes());
    assert_eq!(String::from_utf8(o.stdout).unwrap(), "năm hai nghìn không trăm hai mươi hai\n");
}

#[test]
fn a_bad_config_exits_2_for_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[server]\nadress = 1\n").unwrap();
    let bad = bad.to_str().unwrap();
    for args in [
        vec!["split"],
        vec!["normalize"],
        vec!["voices"],
        vec!["cache", "stats"],
        vec!["speak", "-o", "x.mp3"],
        vec!["generate", "tests/samples", "--out", "/nonexistent/out"],
        vec!["serve"],
    ] {
        let mut full = vec!["--config", bad];
        full.extend(args.iter().copied());
        let o = run(&full, b"Xin chao.");
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("bad.toml") && err.contains("adress"), "{args:?}: {err}");
    }
}

#[test]
fn a_closed_pipe_ends_quietly_with_0() {
    // Far more output than a pipe buffer holds, read one line, then closed.
    let line = "Ngày 21/01/2022, huyện đạt 3,31% và 1.234 tỷ đồng.\n".repeat(20_000);
    for args in [vec!["normalize", "--lines"], vec!["split"], vec!["normalize"]] {
        let mut child = loa()
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let text = line.clone();
        let feeder = std::thread::spawn(move || {
            let _ = stdin.write_all(text.as_bytes());
        });
        let mut stdout = child.stdout.take().unwrap();
        let mut first = [0u8; 64];
        stdout.read_exact(&mut first).unwrap();
        drop(stdout);
        let o = child.wait_with_output().unwrap();
        feeder.join().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {err}");
        assert!(err.is_empty(), "{args:?} printed: {err}");
    }
}
