//! Running loa (or another program) as a child process in the tests.

use std::io::{ErrorKind, Write};
use std::process::Child;

/// Write `input` to `child`'s piped stdin and close it. A child that exits
/// without reading its input (it found an error first, such as a missing
/// signing key) makes the write fail with a broken pipe when it is gone
/// before the write: that is the child's answer, told by its exit status
/// and stderr, not the test's failure, so only that error is ignored.
pub fn feed(child: &mut Child, input: &[u8]) {
    let mut stdin = child.stdin.take().expect("the child's stdin is piped");
    match stdin.write_all(input) {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::BrokenPipe => {}
        Err(e) => panic!("writing the child's stdin: {e}"),
    }
}

#[test]
fn a_child_that_exits_without_reading_is_not_a_test_failure() {
    use std::process::{Command, Stdio};
    // `loa sign -` without a key refuses before reading stdin; waiting for
    // it to exit first makes the broken pipe certain.
    let mut child = Command::new(env!("CARGO_BIN_EXE_loa"))
        .args(["sign", "-"])
        .env_remove("LOA_SIGNING_KEY")
        .env_remove("LOA_CONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        assert!(std::time::Instant::now() < deadline, "loa sign without a key did not exit");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    feed(&mut child, "Một câu.".repeat(1000).as_bytes());
    assert_eq!(child.wait().unwrap().code(), Some(2));
}
