//! Decoding WAV or MP3 bytes (any rate, any channel count) to mono
//! 16-bit [`Pcm`] through symphonia; remote and command backends use it
//! to read what an engine returned.

use std::io::Cursor;

use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::{CODEC_TYPE_NULL, DecoderOptions};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::FormatOptions;
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

use super::{AudioError, Pcm};

/// Decode a whole WAV or MP3 file held in memory; channels are averaged
/// to mono. Empty or undecodable input is an error, never a panic.
pub fn decode(bytes: &[u8]) -> Result<Pcm, AudioError> {
    if bytes.is_empty() {
        return Err(AudioError::Decode("no audio data (0 bytes)".into()));
    }
    let err = |e: SymError| AudioError::Decode(e.to_string());
    let mss = MediaSourceStream::new(Box::new(Cursor::new(bytes.to_vec())), Default::default());
    let mut hint = Hint::new();
    if bytes.starts_with(b"RIFF") {
        hint.with_extension("wav");
    } else {
        hint.with_extension("mp3");
    }
    let probed = symphonia::default::get_probe()
        .format(&hint, mss, &FormatOptions::default(), &MetadataOptions::default())
        .map_err(err)?;
    let mut format = probed.format;
    let track = format
        .tracks()
        .iter()
        .find(|t| t.codec_params.codec != CODEC_TYPE_NULL)
        .ok_or_else(|| AudioError::Decode("no audio track".into()))?
        .clone();
    let mut decoder = symphonia::default::get_codecs()
        .make(&track.codec_params, &DecoderOptions::default())
        .map_err(err)?;
    let mut sample_rate = track.codec_params.sample_rate.unwrap_or(0);
    let mut samples: Vec<i16> = Vec::new();
    let mut buf: Option<SampleBuffer<i16>> = None;
    loop {
        let packet = match format.next_packet() {
            Ok(p) => p,
            Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(SymError::ResetRequired) => break,
            Err(e) => return Err(err(e)),
        };
        if packet.track_id() != track.id {
            continue;
        }
        let decoded = match decoder.decode(&packet) {
            Ok(d) => d,
            // A damaged frame in an MP3 is skipped, as players do.
            Err(SymError::DecodeError(_)) => continue,
            Err(e) => return Err(err(e)),
        };
        let spec = *decoded.spec();
        sample_rate = spec.rate;
        let channels = spec.channels.count().max(1);
        let sb = match &mut buf {
            Some(b) if b.capacity() >= decoded.capacity() * channels => b,
            _ => buf.insert(SampleBuffer::new(decoded.capacity() as u64, spec)),
        };
        sb.copy_interleaved_ref(decoded);
        if channels == 1 {
            samples.extend_from_slice(sb.samples());
        } else {
            for frame in sb.samples().chunks(channels) {
                let sum: i32 = frame.iter().map(|&s| s as i32).sum();
                samples.push((sum / channels as i32) as i16);
            }
        }
    }
    if sample_rate == 0 {
        return Err(AudioError::Decode("unknown sample rate".into()));
    }
    Ok(Pcm { sample_rate, samples })
}
