//! Decoding of the audio remote engines send back into mono [`Pcm`] at the
//! engine's own rate (the pipeline resamples and joins): WAV and MP3 go
//! through [`crate::audio::decode`] after a completeness check of the WAV
//! header; headerless 16-bit PCM is read here.

use crate::audio::Pcm;

/// Does this look like an MP3 stream (ID3 tag or an MPEG frame sync)?
pub(super) fn looks_like_mp3(b: &[u8]) -> bool {
    b.starts_with(b"ID3") || (b.len() >= 2 && b[0] == 0xFF && (b[1] & 0xE0) == 0xE0)
}

/// Refuse a RIFF/WAVE file whose `data` chunk claims more bytes than it
/// holds (a cut-off answer). Streaming writers' placeholder sizes (0 and
/// 0xFFFFFFFF) are accepted.
fn check_wav_complete(b: &[u8]) -> Result<(), String> {
    if b.len() < 12 || &b[8..12] != b"WAVE" {
        return Err("RIFF file that is not WAVE".into());
    }
    let mut pos = 12;
    while pos + 8 <= b.len() {
        let id = &b[pos..pos + 4];
        let size = u32::from_le_bytes([b[pos + 4], b[pos + 5], b[pos + 6], b[pos + 7]]);
        let body = pos + 8;
        if id == b"data" {
            let have = b.len() - body;
            if size != 0 && size != u32::MAX && (size as usize) > have {
                return Err(format!("truncated WAV: data chunk declares {size} bytes, {have} present"));
            }
            return Ok(());
        }
        pos = body + size as usize + (size as usize & 1);
    }
    Err("WAV without a data chunk (truncated header?)".into())
}

/// A WAV file.
pub(super) fn wav(bytes: &[u8]) -> Result<Pcm, String> {
    check_wav_complete(bytes)?;
    crate::audio::decode(bytes).map_err(|e| e.to_string())
}

/// An MP3 stream.
pub(super) fn mp3(bytes: &[u8]) -> Result<Pcm, String> {
    crate::audio::decode(bytes).map_err(|e| e.to_string())
}

/// Headerless signed 16-bit little-endian mono.
pub(super) fn pcm16(bytes: &[u8], sample_rate: u32) -> Result<Pcm, String> {
    if !bytes.len().is_multiple_of(2) {
        return Err(format!("raw PCM has an odd length ({} bytes): truncated", bytes.len()));
    }
    let samples = bytes.chunks_exact(2).map(|c| i16::from_le_bytes([c[0], c[1]])).collect();
    Ok(Pcm { sample_rate, samples })
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

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
        let e = wav(&b[..b.len() - 501]).unwrap_err();
        assert!(e.contains("truncated"), "{e}");
        assert!(wav(&b[..30]).is_err());
        // A streaming writer's placeholder size is fine.
        let mut streamed = b.clone();
        let at = streamed.windows(4).position(|w| w == b"data").unwrap() + 4;
        streamed[at..at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(check_wav_complete(&streamed).is_ok());
    }

    #[test]
    fn raw_pcm() {
        assert_eq!(pcm16(&[1, 0, 0xFF, 0xFF], 24000).unwrap().samples, vec![1, -1]);
        assert!(pcm16(&[1, 0, 3], 24000).is_err());
    }

    #[test]
    fn mp3_signature() {
        assert!(looks_like_mp3(b"ID3\x04"));
        assert!(looks_like_mp3(&[0xFF, 0xFB, 0x90]));
        assert!(!looks_like_mp3(b"RIFF"));
        assert!(mp3(b"ID3 nothing here").is_err());
    }
}
