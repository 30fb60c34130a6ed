//! An error and its causes on one line (`cannot write x: No space left on
//! device`), for places that show a message rather than a cause chain:
//! HTTP error bodies, manifest entries, log fields.
//!
//! loa's error types follow one rule: a `Display` says what this layer was
//! doing and its `source()` says why, so the CLI prints each cause once
//! ("caused by: …") and [`chain`] joins them here.

use std::error::Error;

/// `err` and each of its sources, joined with `": "`. A cause whose text
/// the line already ends with (a third-party error that repeats its
/// source) is not repeated.
pub fn chain(err: &dyn Error) -> String {
    let mut line = err.to_string();
    let mut cause = err.source();
    while let Some(c) = cause {
        let text = c.to_string();
        if !text.is_empty() && !line.ends_with(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        cause = c.source();
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("cannot read {path}")]
    struct Read {
        path: &'static str,
        source: std::io::Error,
    }

    #[derive(Debug, thiserror::Error)]
    #[error("outer: {0}")]
    struct Repeats(#[source] std::io::Error);

    #[test]
    fn each_cause_once() {
        let e = Read { path: "a.txt", source: std::io::Error::other("disk on fire") };
        assert_eq!(chain(&e), "cannot read a.txt: disk on fire");
        let e = Repeats(std::io::Error::other("disk on fire"));
        assert_eq!(chain(&e), "outer: disk on fire");
    }
}
