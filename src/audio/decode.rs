//! Decoding WAV or MP3 bytes (any sane rate, any channel count) to mono
//! 16-bit [`Pcm`] through symphonia; remote and command backends use it
//! to read what an engine returned, so everything here treats its input
//! as hostile: absurd headers (a sample rate of 0 or 1 Hz, hundreds of
//! channels) and audio longer than the caller allows are errors before any
//! large allocation, never a panic or an abort.

use std::io::Cursor;

use symphonia::core::codecs::audio::AudioDecoderOptions;
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

use super::{AudioError, Pcm};

/// Sample rates a speech engine may answer with.
pub const RATES: std::ops::RangeInclusive<u32> = 8_000..=192_000;
/// Channels accepted (they are averaged to mono).
pub const MAX_CHANNELS: usize = 8;
/// Longest audio [`decode`] returns: one sentence never needs ten minutes.
pub const MAX_SECONDS: u64 = 600;

/// Decode a whole WAV or MP3 file held in memory; channels are averaged
/// to mono. Empty, undecodable or absurd input is an error, never a panic.
pub fn decode(bytes: &[u8]) -> Result<Pcm, AudioError> {
    decode_limited(bytes, MAX_SECONDS)
}

/// [`decode`] with a cap on the decoded duration.
pub fn decode_limited(bytes: &[u8], max_seconds: u64) -> Result<Pcm, AudioError> {
    if bytes.is_empty() {
        return Err(AudioError::Decode("no audio data (0 bytes)".into()));
    }
    if bytes.starts_with(b"RIFF") {
        check_wav_header(bytes)?;
    }
    // Symphonia panics on some malformed streams; a panic here must stay an
    // error for this one input.
    match std::panic::catch_unwind(|| decode_inner(bytes, max_seconds)) {
        Ok(result) => result,
        Err(_) => Err(AudioError::Decode("the audio decoder failed on malformed input".into())),
    }
}

fn check_rate(rate: u32) -> Result<(), AudioError> {
    if RATES.contains(&rate) {
        Ok(())
    } else {
        Err(AudioError::Decode(format!(
            "sample rate {rate} Hz is outside {}–{} Hz",
            RATES.start(),
            RATES.end()
        )))
    }
}

fn check_channels(channels: usize) -> Result<(), AudioError> {
    if (1..=MAX_CHANNELS).contains(&channels) {
        Ok(())
    } else {
        Err(AudioError::Decode(format!("{channels} channels (expected 1–{MAX_CHANNELS})")))
    }
}

/// The `fmt ` chunk of a RIFF/WAVE file, checked before symphonia sees it
/// (it divides by the sample rate and sizes buffers from these fields).
fn check_wav_header(bytes: &[u8]) -> Result<(), AudioError> {
    if bytes.len() < 12 || &bytes[8..12] != b"WAVE" {
        return Err(AudioError::Decode("RIFF file that is not WAVE".into()));
    }
    let mut at = 12;
    while at + 8 <= bytes.len() {
        let id = &bytes[at..at + 4];
        let size = u32::from_le_bytes([bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]]) as usize;
        if id == b"fmt " {
            let body = bytes
                .get(at + 8..at + 8 + size.min(40))
                .filter(|b| b.len() >= 16)
                .ok_or_else(|| AudioError::Decode("WAV fmt chunk is truncated".into()))?;
            let channels = u16::from_le_bytes([body[2], body[3]]) as usize;
            let rate = u32::from_le_bytes([body[4], body[5], body[6], body[7]]);
            let bits = u16::from_le_bytes([body[14], body[15]]);
            check_channels(channels)?;
            check_rate(rate)?;
            if !matches!(bits, 8 | 16 | 24 | 32 | 64) {
                return Err(AudioError::Decode(format!("{bits} bits per sample is not supported")));
            }
            return Ok(());
        }
        at = at.saturating_add(8).saturating_add(size).saturating_add(size & 1);
    }
    Err(AudioError::Decode("WAV file without a fmt chunk".into()))
}

fn decode_inner(bytes: &[u8], max_seconds: u64) -> Result<Pcm, AudioError> {
    let err = |e: SymError| AudioError::Decode(e.to_string());
    let mss = MediaSourceStream::new(Box::new(Cursor::new(bytes.to_vec())), Default::default());
    let mut hint = Hint::new();
    hint.with_extension(if bytes.starts_with(b"RIFF") { "wav" } else { "mp3" });
    let mut format = symphonia::default::get_probe()
        .probe(&hint, mss, FormatOptions::default(), MetadataOptions::default())
        .map_err(err)?;
    let track =
        format.default_track(TrackType::Audio).ok_or_else(|| AudioError::Decode("no audio track".into()))?;
    let params = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .ok_or_else(|| AudioError::Decode("no audio codec parameters".into()))?
        .clone();
    if let Some(rate) = params.sample_rate {
        check_rate(rate)?;
    }
    if let Some(ch) = &params.channels {
        check_channels(ch.count())?;
    }
    let track_id = track.id;
    let mut decoder = symphonia::default::get_codecs()
        .make_audio_decoder(&params, &AudioDecoderOptions::default())
        .map_err(err)?;
    let mut sample_rate = params.sample_rate.unwrap_or(0);
    let mut samples: Vec<i16> = Vec::new();
    let mut interleaved: Vec<i16> = Vec::new();
    loop {
        let packet = match format.next_packet() {
            Ok(Some(p)) => p,
            Ok(None) => break,
            Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(SymError::ResetRequired) => break,
            Err(e) => return Err(err(e)),
        };
        if packet.track_id != track_id {
            continue;
        }
        let decoded = match decoder.decode(&packet) {
            Ok(d) => d,
            // A damaged frame in an MP3 is skipped, as players do.
            Err(SymError::DecodeError(_)) => continue,
            Err(e) => return Err(err(e)),
        };
        let rate = decoded.spec().rate();
        check_rate(rate)?;
        sample_rate = rate;
        let channels = decoded.spec().channels().count().max(1);
        check_channels(channels)?;
        let limit = max_seconds.saturating_mul(rate as u64) as usize;
        if samples.len() + decoded.frames() > limit {
            return Err(AudioError::Decode(format!("the audio is longer than {max_seconds} s")));
        }
        decoded.copy_to_vec_interleaved(&mut interleaved);
        if channels == 1 {
            samples.extend_from_slice(&interleaved);
        } else {
            for frame in interleaved.chunks(channels) {
                let sum: i32 = frame.iter().map(|&s| s as i32).sum();
                samples.push((sum / channels as i32) as i16);
            }
        }
    }
    if sample_rate == 0 {
        return Err(AudioError::Decode("unknown sample rate".into()));
    }
    check_rate(sample_rate)?;
    Ok(Pcm { sample_rate, samples })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wav(rate: u32, channels: u16, samples: &[i16]) -> Vec<u8> {
        let mut v = Vec::new();
        let data_len = (samples.len() * 2) as u32;
        v.extend_from_slice(b"RIFF");
        v.extend_from_slice(&(36 + data_len).to_le_bytes());
        v.extend_from_slice(b"WAVEfmt ");
        v.extend_from_slice(&16u32.to_le_bytes());
        v.extend_from_slice(&1u16.to_le_bytes());
        v.extend_from_slice(&channels.to_le_bytes());
        v.extend_from_slice(&rate.to_le_bytes());
        v.extend_from_slice(&(rate.wrapping_mul(2 * channels as u32)).to_le_bytes());
        v.extend_from_slice(&(2 * channels).to_le_bytes());
        v.extend_from_slice(&16u16.to_le_bytes());
        v.extend_from_slice(b"data");
        v.extend_from_slice(&data_len.to_le_bytes());
        for s in samples {
            v.extend_from_slice(&s.to_le_bytes());
        }
        v
    }

    #[test]
    fn absurd_headers_are_errors_not_aborts() {
        let samples = vec![100i16; 2000];
        for (rate, channels, what) in [
            (1, 1, "sample rate 1 Hz"),
            (0, 1, "sample rate 0 Hz"),
            (22050, 0, "0 channels"),
            (22050, 200, "200 channels"),
        ] {
            let e = decode(&wav(rate, channels, &samples)).unwrap_err().to_string();
            assert!(e.contains(what), "{rate} Hz, {channels} ch: {e}");
        }
        let ok = decode(&wav(22050, 1, &samples)).unwrap();
        assert_eq!((ok.sample_rate, ok.samples.len()), (22050, 2000));
        let stereo = decode(&wav(16000, 2, &[100, 300, 100, 300])).unwrap();
        assert_eq!(stereo.samples, vec![200, 200]);
    }

    #[test]
    fn too_long_audio_is_refused() {
        let samples = vec![0i16; 8000 * 3];
        assert!(
            decode_limited(&wav(8000, 1, &samples), 2).unwrap_err().to_string().contains("longer than 2 s")
        );
        assert_eq!(decode_limited(&wav(8000, 1, &samples), 3).unwrap().samples.len(), 8000 * 3);
    }

    #[test]
    fn garbage_is_an_error() {
        for junk in [&b"RIFF"[..], b"RIFF\0\0\0\0WAVEfmt ", b"\xff\xfb\x90\x00garbage", b"hello"] {
            assert!(decode(junk).is_err(), "{junk:?}");
        }
    }
}
