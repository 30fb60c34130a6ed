//! Audio: PCM buffers, joining sentences with pauses, levelling, and
//! encoding to WAV (hound) and MP3.

/// Mono 16-bit PCM.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Pcm {
    pub sample_rate: u32,
    pub samples: Vec<i16>,
}

impl Pcm {
    /// Duration in milliseconds.
    pub fn duration_ms(&self) -> u64 {
        if self.sample_rate == 0 {
            return 0;
        }
        self.samples.len() as u64 * 1000 / self.sample_rate as u64
    }
}
