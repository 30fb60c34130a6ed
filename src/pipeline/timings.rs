//! The timings file of an article: for each sentence its text, spoken
//! form, byte span in the article and millisecond span in the audio — what
//! a player needs to highlight the sentence being read.

use serde::{Deserialize, Serialize};

use crate::audio::Format;

/// `{key}.json` in the cache, and `loa speak --timings`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timings {
    pub key: String,
    pub voice: String,
    pub format: Format,
    pub duration_ms: u64,
    pub sentences: Vec<TimedSentence>,
}

/// One sentence of [`Timings`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimedSentence {
    pub index: usize,
    pub text: String,
    pub spoken: String,
    pub start_byte: usize,
    pub end_byte: usize,
    pub start_ms: u64,
    pub end_ms: u64,
    pub paragraph_start: bool,
    /// Key of this sentence's own audio object (same format as the article).
    pub audio_key: String,
}

impl Timings {
    /// Check the invariants a player relies on: sentences in order,
    /// indices 0.., each starting where the previous one ended, the last
    /// ending at the duration. Returns the first violation.
    pub fn check(&self) -> Result<(), String> {
        let mut at = 0;
        for (i, s) in self.sentences.iter().enumerate() {
            if s.index != i {
                return Err(format!("sentence {i} has index {}", s.index));
            }
            if s.start_ms != at {
                return Err(format!("sentence {i} starts at {} ms, expected {at} ms", s.start_ms));
            }
            if s.end_ms < s.start_ms {
                return Err(format!("sentence {i} ends before it starts"));
            }
            if s.end_byte < s.start_byte {
                return Err(format!("sentence {i} has a reversed byte span"));
            }
            at = s.end_ms;
        }
        if at != self.duration_ms {
            return Err(format!("last sentence ends at {at} ms, duration is {} ms", self.duration_ms));
        }
        Ok(())
    }
}
