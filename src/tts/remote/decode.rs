//! Decoding of the audio remote engines send back (WAV through hound, MP3
//! through symphonia, headerless 16-bit PCM) into mono [`Pcm`] at the
//! engine's own sample rate; the pipeline resamples and joins.

use std::io::Cursor;

use crate::audio::Pcm;

/// Does this look like an MP3 stream (ID3 tag or an MPEG frame sync)?
pub(super) fn looks_like_mp3(b: &[u8]) -> bool {
    b.starts_with(b"ID3") || (b.len() >= 2 && b[0] == 0xFF && (b[1] & 0xE0) == 0xE0)
}

/// Average interleaved channels into one.
fn downmix(interleaved: &[i32], channels: usize, full_scale: f64) -> Vec<i16> {
    let channels = channels.max(1);
    interleaved
        .chunks(channels)
        .map(|frame| {
            let mean = frame.iter().map(|&s| s as f64).sum::<f64>() / frame.len() as f64;
            (mean / full_scale * 32767.0).round().clamp(-32768.0, 32767.0) as i16
        })
        .collect()
}

/// A RIFF/WAVE file, any integer width up to 32 bits or 32-bit float.
pub(super) fn wav(bytes: &[u8]) -> Result<Pcm, String> {
    let reader = hound::WavReader::new(Cursor::new(bytes)).map_err(|e| format!("bad WAV: {e}"))?;
    let spec = reader.spec();
    let channels = spec.channels as usize;
    let samples: Vec<i32> = match spec.sample_format {
        hound::SampleFormat::Int => {
            let all: Result<Vec<i32>, _> = reader.into_samples::<i32>().collect();
            all.map_err(|e| format!("bad or truncated WAV data: {e}"))?
        }
        hound::SampleFormat::Float => {
            let all: Result<Vec<f32>, _> = reader.into_samples::<f32>().collect();
            all.map_err(|e| format!("bad or truncated WAV data: {e}"))?
                .into_iter()
                .map(|f| (f.clamp(-1.0, 1.0) * 32767.0).round() as i32)
                .collect()
        }
    };
    let full_scale = match spec.sample_format {
        hound::SampleFormat::Float => 32767.0,
        hound::SampleFormat::Int => {
            (1u64 << (spec.bits_per_sample.clamp(1, 32) - 1)) as f64 * 32767.0 / 32768.0
        }
    };
    let samples = if channels == 1 && spec.bits_per_sample == 16 {
        samples.into_iter().map(|s| s as i16).collect()
    } else {
        downmix(&samples, channels, full_scale)
    };
    Ok(Pcm { sample_rate: spec.sample_rate, samples })
}

/// Headerless signed 16-bit little-endian mono.
pub(super) fn pcm16(bytes: &[u8], sample_rate: u32) -> Result<Pcm, String> {
    if bytes.len() % 2 != 0 {
        return Err(format!("raw PCM has an odd length ({} bytes): truncated", bytes.len()));
    }
    let samples = bytes.chunks_exact(2).map(|c| i16::from_le_bytes([c[0], c[1]])).collect();
    Ok(Pcm { sample_rate, samples })
}

/// An MP3 stream, all frames, downmixed to mono.
pub(super) fn mp3(bytes: &[u8]) -> Result<Pcm, String> {
    use symphonia::core::audio::SampleBuffer;
    use symphonia::core::codecs::DecoderOptions;
    use symphonia::core::errors::Error as SymError;
    use symphonia::core::formats::FormatOptions;
    use symphonia::core::io::MediaSourceStream;
    use symphonia::core::meta::MetadataOptions;
    use symphonia::core::probe::Hint;

    let mss = MediaSourceStream::new(Box::new(Cursor::new(bytes.to_vec())), Default::default());
    let mut hint = Hint::new();
    hint.with_extension("mp3");
    let probed = symphonia::default::get_probe()
        .format(&hint, mss, &FormatOptions::default(), &MetadataOptions::default())
        .map_err(|e| format!("bad MP3: {e}"))?;
    let mut format = probed.format;
    let track = format.default_track().ok_or("MP3 without an audio track")?;
    let track_id = track.id;
    let mut decoder = symphonia::default::get_codecs()
        .make(&track.codec_params, &DecoderOptions::default())
        .map_err(|e| format!("unsupported MP3: {e}"))?;
    let mut sample_rate = track.codec_params.sample_rate.unwrap_or(0);
    let mut out = Vec::new();
    let mut frames = 0usize;
    loop {
        let packet = match format.next_packet() {
            Ok(p) => p,
            Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(format!("bad MP3 stream: {e}")),
        };
        if packet.track_id() != track_id {
            continue;
        }
        let decoded = match decoder.decode(&packet) {
            Ok(d) => d,
            // A damaged frame is skipped, as players do.
            Err(SymError::DecodeError(_)) => continue,
            Err(e) => return Err(format!("MP3 decoding failed: {e}")),
        };
        let spec = *decoded.spec();
        sample_rate = spec.rate;
        let channels = spec.channels.count();
        let mut buf = SampleBuffer::<i16>::new(decoded.capacity() as u64, spec);
        buf.copy_interleaved_ref(decoded);
        if channels == 1 {
            out.extend_from_slice(buf.samples());
        } else {
            let wide: Vec<i32> = buf.samples().iter().map(|&s| s as i32).collect();
            out.extend(downmix(&wide, channels, 32767.0));
        }
        frames += 1;
    }
    if frames == 0 {
        return Err("MP3 without any decodable frame".into());
    }
    Ok(Pcm { sample_rate, samples: out })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wav_bytes(channels: u16, rate: u32, samples: &[i16]) -> Vec<u8> {
        let spec = hound::WavSpec {
            channels,
            sample_rate: rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut cur = Cursor::new(Vec::new());
        let mut w = hound::WavWriter::new(&mut cur, spec).unwrap();
        for &s in samples {
            w.write_sample(s).unwrap();
        }
        w.finalize().unwrap();
        cur.into_inner()
    }

    #[test]
    fn wav_mono_and_stereo() {
        let p = wav(&wav_bytes(1, 24000, &[1, -2, 300])).unwrap();
        assert_eq!(p, Pcm { sample_rate: 24000, samples: vec![1, -2, 300] });
        let p = wav(&wav_bytes(2, 16000, &[100, 300, -100, -300])).unwrap();
        assert_eq!(p.sample_rate, 16000);
        assert_eq!(p.samples.len(), 2);
        assert!((p.samples[0] - 200).abs() <= 1 && (p.samples[1] + 200).abs() <= 1, "{:?}", p.samples);
    }

    #[test]
    fn truncated_wav_is_rejected() {
        let b = wav_bytes(1, 24000, &[5; 1000]);
        assert!(wav(&b[..b.len() - 501]).is_err());
        assert!(wav(&b[..20]).is_err());
    }

    #[test]
    fn raw_pcm() {
        assert_eq!(pcm16(&[1, 0, 0xFF, 0xFF], 24000).unwrap().samples, vec![1, -1]);
        assert!(pcm16(&[1, 0, 3], 24000).is_err());
    }

    #[test]
    fn mp3_roundtrip() {
        use mp3lame_encoder::{Builder, FlushNoGap, MonoPcm};
        let mut b = Builder::new().unwrap();
        b.set_num_channels(1).unwrap();
        b.set_sample_rate(24000).unwrap();
        b.set_brate(mp3lame_encoder::Bitrate::Kbps64).unwrap();
        let mut enc = b.build().unwrap();
        let input: Vec<i16> = (0..24000).map(|i| ((i as f32 * 0.05).sin() * 8000.0) as i16).collect();
        let mut out = Vec::new();
        out.reserve(mp3lame_encoder::max_required_buffer_size(input.len()));
        enc.encode_to_vec(MonoPcm(&input), &mut out).unwrap();
        out.reserve(7200);
        enc.flush_to_vec::<FlushNoGap>(&mut out).unwrap();
        assert!(looks_like_mp3(&out));
        let p = mp3(&out).unwrap();
        assert_eq!(p.sample_rate, 24000);
        assert!(p.samples.len() >= 23000, "{}", p.samples.len());
        assert!(p.samples.iter().any(|&s| s.abs() > 4000));
        assert!(mp3(b"ID3 nothing here").is_err());
    }
}
