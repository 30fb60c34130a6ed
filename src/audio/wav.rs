//! Writing a long 16-bit mono WAV piece by piece (an article, without
//! holding it in memory): a header with placeholder sizes, the samples,
//! then the sizes filled in. Reading back the sentence WAVs loa wrote.

use std::io::{Seek, SeekFrom, Write};

use super::{AudioError, Pcm};

/// Streams samples into a WAV file.
pub struct WavWriter<W: Write + Seek> {
    out: W,
    rate: u32,
    samples: u64,
}

fn io(e: std::io::Error) -> AudioError {
    AudioError::Io { format: "wav", error: e }
}

/// Most samples a WAV file can hold (its sizes are 32-bit).
const MAX_SAMPLES: u64 = (u32::MAX as u64 - 36) / 2;

fn header(rate: u32, samples: u64) -> [u8; 44] {
    let data = (samples * 2) as u32;
    let mut h = [0u8; 44];
    h[0..4].copy_from_slice(b"RIFF");
    h[4..8].copy_from_slice(&(36 + data).to_le_bytes());
    h[8..16].copy_from_slice(b"WAVEfmt ");
    h[16..20].copy_from_slice(&16u32.to_le_bytes());
    h[20..22].copy_from_slice(&1u16.to_le_bytes());
    h[22..24].copy_from_slice(&1u16.to_le_bytes());
    h[24..28].copy_from_slice(&rate.to_le_bytes());
    h[28..32].copy_from_slice(&(rate * 2).to_le_bytes());
    h[32..34].copy_from_slice(&2u16.to_le_bytes());
    h[34..36].copy_from_slice(&16u16.to_le_bytes());
    h[36..40].copy_from_slice(b"data");
    h[40..44].copy_from_slice(&data.to_le_bytes());
    h
}

impl<W: Write + Seek> WavWriter<W> {
    pub fn new(mut out: W, rate: u32) -> Result<Self, AudioError> {
        out.write_all(&header(rate, 0)).map_err(io)?;
        Ok(WavWriter { out, rate, samples: 0 })
    }

    /// Samples written so far (the position of the next one).
    pub fn position(&self) -> u64 {
        self.samples
    }

    pub fn rate(&self) -> u32 {
        self.rate
    }

    fn grow(&mut self, n: u64) -> Result<(), AudioError> {
        if self.samples + n > MAX_SAMPLES {
            return Err(AudioError::Encode {
                format: "wav",
                message: "longer than a WAV file can hold".into(),
            });
        }
        self.samples += n;
        Ok(())
    }

    pub fn push(&mut self, samples: &[i16]) -> Result<(), AudioError> {
        self.grow(samples.len() as u64)?;
        self.out.write_all(&super::le_bytes(samples)).map_err(io)
    }

    /// Append a sentence WAV's samples as they are stored (its data bytes,
    /// see [`wav_data`]).
    pub fn push_data(&mut self, data: &[u8]) -> Result<(), AudioError> {
        self.grow(data.len() as u64 / 2)?;
        self.out.write_all(&data[..data.len() & !1]).map_err(io)
    }

    pub fn push_silence(&mut self, n: u64) -> Result<(), AudioError> {
        self.grow(n)?;
        let zeros = [0u8; 8192];
        let mut left = n * 2;
        while left > 0 {
            let k = left.min(zeros.len() as u64) as usize;
            self.out.write_all(&zeros[..k]).map_err(io)?;
            left -= k as u64;
        }
        Ok(())
    }

    /// Fill in the sizes and return the output.
    pub fn finish(mut self) -> Result<W, AudioError> {
        self.out.seek(SeekFrom::Start(0)).map_err(io)?;
        self.out.write_all(&header(self.rate, self.samples)).map_err(io)?;
        self.out.seek(SeekFrom::End(0)).map_err(io)?;
        self.out.flush().map_err(io)?;
        Ok(self.out)
    }
}

/// The sample rate and the 16-bit little-endian sample bytes of a mono WAV
/// in the shape [`super::encode_wav`] writes (a 44-byte header); `None`
/// for any other WAV.
pub fn wav_data(bytes: &[u8]) -> Option<(u32, &[u8])> {
    if bytes.len() >= 44 && bytes[..4] == *b"RIFF" && bytes[36..40] == *b"data" {
        let rate = u32::from_le_bytes([bytes[24], bytes[25], bytes[26], bytes[27]]);
        let fmt_ok = bytes[20..24] == [1, 0, 1, 0] && bytes[34..36] == [16, 0];
        let len = u32::from_le_bytes([bytes[40], bytes[41], bytes[42], bytes[43]]) as usize;
        if fmt_ok && super::decode::RATES.contains(&rate) && 44 + len <= bytes.len() && len.is_multiple_of(2) {
            return Some((rate, &bytes[44..44 + len]));
        }
    }
    None
}

/// The samples of a 16-bit mono WAV written by [`super::encode_wav`] (or
/// any WAV, through the general decoder).
pub fn read_wav(bytes: &[u8]) -> Result<Pcm, AudioError> {
    if let Some((rate, data)) = wav_data(bytes) {
        let samples = data.chunks_exact(2).map(|c| i16::from_le_bytes([c[0], c[1]])).collect();
        return Ok(Pcm { sample_rate: rate, samples });
    }
    super::decode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streamed_wav_equals_the_one_shot_encoding() {
        let a: Vec<i16> = (0..1000).map(|i| (i * 7 % 3000) as i16).collect();
        let mut w = WavWriter::new(std::io::Cursor::new(Vec::new()), 22050).unwrap();
        w.push(&a[..400]).unwrap();
        w.push_silence(123).unwrap();
        w.push(&a[400..]).unwrap();
        assert_eq!(w.position(), 1123);
        let bytes = w.finish().unwrap().into_inner();
        let mut all = a[..400].to_vec();
        all.extend(std::iter::repeat_n(0, 123));
        all.extend_from_slice(&a[400..]);
        let pcm = Pcm { sample_rate: 22050, samples: all };
        assert_eq!(bytes, super::super::encode_wav(&pcm).unwrap());
        assert_eq!(read_wav(&bytes).unwrap(), pcm);
    }
}
