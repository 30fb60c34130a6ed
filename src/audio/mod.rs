//! Audio: PCM buffers, decoding WAV/MP3 bytes, resampling, levelling,
//! joining sentences with pauses (and the timings a player highlights
//! with), and encoding to WAV (hound) and MP3 (LAME).
//!
//! Everything here is pure computation over [`Pcm`]; nothing touches the
//! disk. Errors are [`AudioError`].

mod decode;
mod dsp;
mod encode;
mod join;
mod loudness;
pub mod mp3;
mod wav;

use std::str::FromStr;

pub use decode::{MAX_CHANNELS, RATES, decode, decode_limited};
pub use dsp::{level, resample};
pub use encode::{check_bitrate, encode, encode_mp3, encode_wav};
pub use join::{Joined, Segment, Span, join};
pub use wav::{WavWriter, read_wav, wav_data};

/// Errors from decoding or encoding audio.
#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    #[error("cannot decode audio: {0}")]
    Decode(String),
    #[error("cannot encode {format}: {message}")]
    Encode { format: &'static str, message: String },
    #[error("cannot write {format} audio: {error}")]
    Io { format: &'static str, error: std::io::Error },
    #[error("unsupported audio format {0:?} (expected mp3 or wav)")]
    UnknownFormat(String),
    #[error(
        "unsupported MP3 bitrate {0} kbit/s (use one of 8, 16, 24, 32, 40, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)"
    )]
    Bitrate(u32),
}

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

    /// Largest absolute sample value.
    pub fn peak(&self) -> i32 {
        self.samples.iter().map(|&s| (s as i32).abs()).max().unwrap_or(0)
    }
}

/// `samples` as 16-bit little-endian bytes (borrowed where the machine is
/// little-endian, as PCM files and pipes carry them).
pub fn le_bytes(samples: &[i16]) -> std::borrow::Cow<'_, [u8]> {
    if cfg!(target_endian = "little") {
        std::borrow::Cow::Borrowed(bytemuck::cast_slice(samples))
    } else {
        std::borrow::Cow::Owned(samples.iter().flat_map(|s| s.to_le_bytes()).collect())
    }
}

/// Room for `n` more samples at the end of `samples`, as bytes to fill
/// with 16-bit little-endian samples; call [`from_le_in_place`] on the
/// same range once they are there.
pub fn le_room(samples: &mut Vec<i16>, n: usize) -> &mut [u8] {
    let old = samples.len();
    samples.resize(old + n, 0);
    bytemuck::cast_slice_mut(&mut samples[old..])
}

/// Turn samples read as little-endian bytes into native ones.
pub fn from_le_in_place(samples: &mut [i16]) {
    if cfg!(target_endian = "big") {
        samples.iter_mut().for_each(|s| *s = i16::from_le(*s));
    }
}

/// Output container of an article or sentence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Mp3,
    Wav,
}

impl Format {
    /// File extension without the dot.
    pub fn ext(&self) -> &'static str {
        match self {
            Format::Mp3 => "mp3",
            Format::Wav => "wav",
        }
    }

    /// HTTP `Content-Type`.
    pub fn content_type(&self) -> &'static str {
        match self {
            Format::Mp3 => "audio/mpeg",
            Format::Wav => "audio/wav",
        }
    }

    /// Format implied by a file name's extension, if any.
    pub fn from_path(path: &std::path::Path) -> Option<Format> {
        path.extension().and_then(|e| e.to_str()).and_then(|e| e.parse().ok())
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.ext())
    }
}

impl FromStr for Format {
    type Err = AudioError;
    fn from_str(s: &str) -> Result<Format, AudioError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "mp3" => Ok(Format::Mp3),
            "wav" => Ok(Format::Wav),
            _ => Err(AudioError::UnknownFormat(s.to_string())),
        }
    }
}
