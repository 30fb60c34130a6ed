//! What an installer ships besides the binary: shell completions, the man
//! page and the systemd unit, each checked by the tool that will read it.

use std::path::Path;
use std::process::{Command, Output, Stdio};

fn loa(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_loa")).args(args).env_remove("LOA_CONFIG").output().expect("run loa")
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Run `sh -c script` with `input` on stdin.
fn shell(program: &str, args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    crate::cli_support::feed(&mut child, input);
    child.wait_with_output().unwrap()
}

#[test]
fn completions_parse_in_their_shell() {
    for shell_name in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let o = loa(&["completions", shell_name]);
        assert!(o.status.success(), "{shell_name}: {}", String::from_utf8_lossy(&o.stderr));
        let script = String::from_utf8(o.stdout).unwrap();
        for word in ["normalize", "speak", "serve", "completions", "log-format"] {
            assert!(script.contains(word), "{shell_name} completion lacks {word}");
        }
    }
    // bash is always there: the script must parse, and complete a subcommand.
    let o = loa(&["completions", "bash"]);
    let check = shell(
        "bash",
        &[
            "-c",
            "source /dev/stdin; COMP_WORDS=(loa sp); COMP_CWORD=1; _loa loa sp loa; printf '%s\\n' \"${COMPREPLY[@]}\"",
        ],
        &o.stdout,
    );
    let replies = String::from_utf8_lossy(&check.stdout);
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stderr));
    assert!(replies.lines().any(|l| l == "speak") && replies.lines().any(|l| l == "split"), "{replies}");
    if have("zsh") {
        let o = loa(&["completions", "zsh"]);
        let z = shell("zsh", &["-n"], &o.stdout);
        assert!(z.status.success(), "zsh -n: {}", String::from_utf8_lossy(&z.stderr));
    } else {
        eprintln!("skipped: zsh not installed, its completion script is not parsed");
    }
    assert_eq!(loa(&["completions", "tcsh"]).status.code(), Some(2));
}

#[test]
fn the_man_page_renders() {
    let o = loa(&["man"]);
    assert!(o.status.success());
    let roff = String::from_utf8(o.stdout).unwrap();
    assert!(
        roff.starts_with(".ie") || roff.starts_with(".TH") || roff.contains("\n.TH loa 1"),
        "{}",
        &roff[..200.min(roff.len())]
    );
    for section in ["SYNOPSIS", "SUBCOMMANDS", "FILES", "ENVIRONMENT", "EXIT STATUS"] {
        assert!(
            roff.contains(&format!(".SH {section}")) || roff.contains(&format!(".SH \"{section}\"")),
            "no {section}"
        );
    }
    assert!(have("groff"), "groff is missing: scripts/ensure/systemd-analyze installs groff-base");
    let r = shell("groff", &["-k", "-man", "-Tutf8", "-ww", "-z"], roff.as_bytes());
    assert!(
        r.status.success() && r.stderr.is_empty(),
        "groff warnings: {}",
        String::from_utf8_lossy(&r.stderr)
    );
    let r = shell("groff", &["-k", "-man", "-Tutf8", "-P-cbou", "-rHY=0"], roff.as_bytes());
    let text = String::from_utf8_lossy(&r.stdout);
    for words in ["LOA_SECTION_KEY", "normalize", "/etc/loa/loa.toml", "serve"] {
        assert!(text.contains(words), "rendered page lacks {words}:\n{text}");
    }

    // --out: one page per command, readable by everyone, nothing else.
    let dir = tempfile::tempdir().unwrap();
    let o = loa(&["man", "--out", dir.path().to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    for page in ["loa.1", "loa-speak.1", "loa-serve.1", "loa-cache.1", "loa-cache-prune.1"] {
        assert!(names.iter().any(|n| n == page), "{page} missing: {names:?}");
    }
    assert!(names.iter().all(|n| n.ends_with(".1")), "{names:?}");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir.path().join("loa.1")).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o644);
    assert_eq!(loa(&["man", "--out", "/nonexistent/dir"]).status.code(), Some(2));
}

/// deploy/loa.service passes `systemd-analyze verify` (with ExecStart
/// pointed at the binary under test, which must exist) with no warning,
/// and its exposure score stays "OK" (at most 2.0 of 10).
#[test]
fn the_systemd_unit_verifies() {
    if !have("systemd-analyze") {
        eprintln!(
            "SKIPPED: systemd-analyze is missing (scripts/ensure/systemd-analyze installs it); deploy/loa.service NOT verified"
        );
        return;
    }
    let unit =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/loa.service")).unwrap();
    assert!(unit.contains("ExecStart=/usr/local/bin/loa serve"), "the README's install path");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("loa.service");
    std::fs::write(&path, unit.replace("/usr/local/bin/loa", env!("CARGO_BIN_EXE_loa"))).unwrap();
    let o = Command::new("systemd-analyze").args(["verify", "--man=no"]).arg(&path).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success() && err.trim().is_empty(), "systemd-analyze verify: {err}");
    let o = Command::new("systemd-analyze")
        .args(["security", "--offline=yes", "--threshold=20", "--no-pager"])
        .arg(&path)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "exposure above 2.0:\n{report}{}", String::from_utf8_lossy(&o.stderr));
    // The hardening the README promises.
    for line in [
        "DynamicUser=yes",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "PrivateTmp=yes",
        "CacheDirectory=loa",
        "StateDirectory=loa",
    ] {
        assert!(unit.lines().any(|l| l == line), "{line} missing");
    }
}

/// The check can fail: a unit with a typo does not pass.
#[test]
fn a_broken_unit_fails_the_check() {
    if !have("systemd-analyze") {
        eprintln!("SKIPPED: systemd-analyze is missing");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("loa.service");
    std::fs::write(
        &path,
        format!("[Service]\nExecStart={} serve\nProtectSystm=strict\n", env!("CARGO_BIN_EXE_loa")),
    )
    .unwrap();
    let o = Command::new("systemd-analyze").args(["verify", "--man=no"]).arg(&path).output().unwrap();
    assert!(!o.stderr.is_empty(), "a typo went unnoticed");
}
