//! Encoding [`Pcm`] to WAV (16-bit PCM, which every browser plays) and to
//! mono constant-bitrate MP3 through LAME (`mp3lame-encoder`, vendored).

use std::io::Cursor;

use mp3lame_encoder::{Bitrate, Builder, FlushGap, MonoPcm, Quality};

use super::{AudioError, Format, Pcm};

/// Encode in `format`; `mp3_kbps` is only used for MP3.
pub fn encode(pcm: &Pcm, format: Format, mp3_kbps: u32) -> Result<Vec<u8>, AudioError> {
    match format {
        Format::Wav => encode_wav(pcm),
        Format::Mp3 => encode_mp3(pcm, mp3_kbps),
    }
}

/// A 16-bit mono WAV file.
pub fn encode_wav(pcm: &Pcm) -> Result<Vec<u8>, AudioError> {
    let err = |e: hound::Error| AudioError::Encode { format: "wav", message: e.to_string() };
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: pcm.sample_rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut out = Cursor::new(Vec::with_capacity(44 + pcm.samples.len() * 2));
    {
        let mut w = hound::WavWriter::new(&mut out, spec).map_err(err)?;
        let mut w16 = w.get_i16_writer(pcm.samples.len() as u32);
        for &s in &pcm.samples {
            w16.write_sample(s);
        }
        w16.flush().map_err(err)?;
        w.finalize().map_err(err)?;
    }
    Ok(out.into_inner())
}

fn bitrate(kbps: u32) -> Result<Bitrate, AudioError> {
    Ok(match kbps {
        8 => Bitrate::Kbps8,
        16 => Bitrate::Kbps16,
        24 => Bitrate::Kbps24,
        32 => Bitrate::Kbps32,
        40 => Bitrate::Kbps40,
        48 => Bitrate::Kbps48,
        64 => Bitrate::Kbps64,
        80 => Bitrate::Kbps80,
        96 => Bitrate::Kbps96,
        112 => Bitrate::Kbps112,
        128 => Bitrate::Kbps128,
        160 => Bitrate::Kbps160,
        192 => Bitrate::Kbps192,
        224 => Bitrate::Kbps224,
        256 => Bitrate::Kbps256,
        320 => Bitrate::Kbps320,
        other => return Err(AudioError::Bitrate(other)),
    })
}

/// Check that `kbps` is a bitrate the MP3 encoder accepts.
pub fn check_bitrate(kbps: u32) -> Result<(), AudioError> {
    bitrate(kbps).map(|_| ())
}

/// A mono constant-bitrate MP3 at the PCM's sample rate.
pub fn encode_mp3(pcm: &Pcm, kbps: u32) -> Result<Vec<u8>, AudioError> {
    let err = |message: String| AudioError::Encode { format: "mp3", message };
    let mut b = Builder::new().ok_or_else(|| err("LAME could not allocate an encoder".into()))?;
    b.set_num_channels(1).map_err(|e| err(e.to_string()))?;
    b.set_sample_rate(pcm.sample_rate).map_err(|e| err(e.to_string()))?;
    b.set_brate(bitrate(kbps)?).map_err(|e| err(e.to_string()))?;
    // LAME -q 7: half the encoding time of the default -q 5, and at 64 kbit/s
    // mono speech no audible difference (the psychoacoustic refinements it
    // skips matter for music at high bitrates).
    b.set_quality(Quality::Ok).map_err(|e| err(e.to_string()))?;
    let mut enc = b.build().map_err(|e| err(e.to_string()))?;
    // LAME writes into the vector's spare capacity and must be given room
    // for the worst case (1.25 × samples + 7200 bytes); an undersized
    // buffer is an error (or worse), so reserve it up front.
    let mut out: Vec<u8> = Vec::new();
    // LAME cannot flush an encoder that saw no samples; an empty input
    // becomes one frame of silence, still a valid file.
    let silence = [0i16; 1152];
    let samples: &[i16] = if pcm.samples.is_empty() { &silence } else { &pcm.samples };
    for chunk in samples.chunks(1 << 16) {
        out.reserve(chunk.len() * 5 / 4 + 7200);
        enc.encode_to_vec(MonoPcm(chunk), &mut out).map_err(|e| err(e.to_string()))?;
    }
    out.reserve(7200);
    enc.flush_to_vec::<FlushGap>(&mut out).map_err(|e| err(e.to_string()))?;
    // LAME begins the stream with a blank frame reserved for its "Info" tag
    // (duration, encoder delay and padding for gapless players); fill it in.
    let mut tag = Vec::with_capacity(enc.lame_tag_size());
    if let Some(n) = enc.lame_tag_encode_to_vec(&mut tag)
        && n.get() <= out.len()
    {
        out[..n.get()].copy_from_slice(&tag[..n.get()]);
    }
    Ok(out)
}
