//! MPEG audio layer III at the frame level: what joins sentence MP3s into
//! one gapless article without encoding anything twice.
//!
//! A sentence is encoded once by LAME ([`super::encode_mp3`]); its file is
//! an Info frame (Xing/LAME tag: frame count, encoder delay and padding)
//! followed by audio frames whose bit reservoir starts empty, so the
//! audio frames of several files can follow one another. [`Piece`] reads a
//! file into those parts; [`silence_frame`] builds a frame that decodes to
//! digital silence (for the pauses); [`ArticleWriter`] writes the pieces
//! and pauses after one Info frame for the whole article, rewritten at the
//! end with the total frame count, the first piece's delay and the last
//! piece's padding, so gapless decoders trim exactly the encoder's own
//! silence. Positions are counted in decoded samples, which is what makes
//! the timings exact.

use std::io::{Seek, SeekFrom, Write};

use super::AudioError;

/// Samples the decoder adds before the encoder's own delay (LAME's
/// convention; decoders trim `delay + 529`).
pub const DECODER_DELAY: u32 = 529;

/// One frame header's facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// MPEG-1 (true) or MPEG-2/2.5 (false).
    pub mpeg1: bool,
    pub sample_rate: u32,
    pub kbps: u32,
    pub mono: bool,
    pub padding: bool,
    pub protected: bool,
    /// Frame length in bytes.
    pub len: usize,
}

impl FrameHeader {
    /// Samples per channel one frame decodes to.
    pub fn samples(&self) -> u32 {
        if self.mpeg1 { 1152 } else { 576 }
    }

    fn side_info_len(&self) -> usize {
        match (self.mpeg1, self.mono) {
            (true, true) => 17,
            (true, false) => 32,
            (false, true) => 9,
            (false, false) => 17,
        }
    }
}

/// Parse the layer III frame header at the start of `data`.
pub fn parse_header(data: &[u8]) -> Option<FrameHeader> {
    if data.len() < 4 || data[0] != 0xff || data[1] & 0xe0 != 0xe0 || (data[1] >> 1) & 3 != 1 {
        return None;
    }
    let version = (data[1] >> 3) & 3; // 3 = MPEG-1, 2 = MPEG-2, 0 = MPEG-2.5
    let bitrate_index = (data[2] >> 4) as usize;
    let rate_index = ((data[2] >> 2) & 3) as usize;
    if version == 1 || bitrate_index == 0 || bitrate_index == 15 || rate_index == 3 {
        return None;
    }
    const V1: [u32; 15] = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
    const V2: [u32; 15] = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];
    let mpeg1 = version == 3;
    let (kbps, sample_rate) = match version {
        3 => (V1[bitrate_index], [44100, 48000, 32000][rate_index]),
        2 => (V2[bitrate_index], [22050, 24000, 16000][rate_index]),
        _ => (V2[bitrate_index], [11025, 12000, 8000][rate_index]),
    };
    let padding = (data[2] >> 1) & 1 == 1;
    let coefficient = if mpeg1 { 144_000 } else { 72_000 };
    let len = (coefficient * kbps / sample_rate) as usize + padding as usize;
    Some(FrameHeader {
        mpeg1,
        sample_rate,
        kbps,
        mono: (data[3] >> 6) == 3,
        padding,
        protected: data[1] & 1 == 0,
        len,
    })
}

/// `mp3` without a leading ID3v2 tag.
pub fn skip_id3(mp3: &[u8]) -> &[u8] {
    if mp3.len() >= 10 && &mp3[..3] == b"ID3" {
        let size = mp3[6..10].iter().fold(0usize, |acc, &b| (acc << 7) | (b & 0x7f) as usize);
        let footer = if mp3[5] & 0x10 != 0 { 10 } else { 0 };
        return mp3.get(10 + size + footer..).unwrap_or(&[]);
    }
    mp3
}

/// Where the Xing/Info tag starts in a frame, if the frame carries one.
fn tag_offset(frame: &[u8], h: &FrameHeader) -> Option<usize> {
    let at = 4 + h.side_info_len() - if h.protected { 2 } else { 0 };
    let tag = frame.get(at..at + 4)?;
    (tag == b"Xing" || tag == b"Info").then_some(at)
}

/// The LAME tag fields loa reads and rewrites, as offsets into the frame.
#[derive(Debug, Clone, Copy)]
struct TagLayout {
    frames_at: Option<usize>,
    bytes_at: Option<usize>,
    toc_at: Option<usize>,
    /// Start of the 36-byte LAME extension.
    lame_at: Option<usize>,
}

fn tag_layout(frame: &[u8], at: usize) -> Option<TagLayout> {
    let flags = u32::from_be_bytes(frame.get(at + 4..at + 8)?.try_into().ok()?);
    let mut p = at + 8;
    let mut field = |flag: u32, len: usize| {
        (flags & flag != 0).then(|| {
            let start = p;
            p += len;
            start
        })
    };
    let frames_at = field(1, 4);
    let bytes_at = field(2, 4);
    let toc_at = field(4, 100);
    let _quality = field(8, 4);
    let lame_at =
        (frame.len() >= p + 36 && frame[p..p + 4].iter().all(u8::is_ascii_alphanumeric)).then_some(p);
    Some(TagLayout { frames_at, bytes_at, toc_at, lame_at })
}

/// One encoded MP3 file split into its parts.
#[derive(Debug, Clone)]
pub struct Piece<'a> {
    /// The Info frame, if the file has one.
    pub info: Option<&'a [u8]>,
    /// The audio frames.
    pub frames: &'a [u8],
    pub frame_count: u32,
    pub header: FrameHeader,
    /// Encoder delay and padding from the LAME tag (0 without one).
    pub delay: u32,
    pub padding: u32,
}

impl<'a> Piece<'a> {
    /// Split `mp3` (an ID3v2 tag, if any, is skipped). Every frame must
    /// parse and share the first frame's sample rate and channel mode.
    pub fn parse(mp3: &'a [u8]) -> Result<Piece<'a>, AudioError> {
        let bad = |m: &str| AudioError::Decode(format!("not a usable MP3: {m}"));
        let data = skip_id3(mp3);
        let first = parse_header(data).ok_or_else(|| bad("no frame header at the start"))?;
        let mut info = None;
        let (mut delay, mut padding) = (0, 0);
        let mut rest = data;
        if let Some(frame) = data.get(..first.len)
            && let Some(at) = tag_offset(frame, &first)
        {
            info = Some(frame);
            if let Some(lame) = tag_layout(frame, at).and_then(|l| l.lame_at) {
                let b = &frame[lame + 21..lame + 24];
                delay = ((b[0] as u32) << 4) | ((b[1] as u32) >> 4);
                padding = (((b[1] & 0x0f) as u32) << 8) | b[2] as u32;
            }
            rest = &data[first.len..];
        }
        let mut count = 0u32;
        let mut at = 0usize;
        let mut header = None;
        while at < rest.len() {
            let h = parse_header(&rest[at..]).ok_or_else(|| bad(&format!("no frame header at byte {at}")))?;
            if h.sample_rate != first.sample_rate || h.mono != first.mono {
                return Err(bad("frames differ in sample rate or channels"));
            }
            if at + h.len > rest.len() {
                // A truncated last frame is dropped, as decoders do.
                break;
            }
            header.get_or_insert(h);
            at += h.len;
            count += 1;
        }
        let header = header.ok_or_else(|| bad("no audio frames"))?;
        Ok(Piece { info, frames: &rest[..at], frame_count: count, header, delay, padding })
    }

    /// Samples the audio frames decode to (before any gapless trimming).
    pub fn stream_samples(&self) -> u64 {
        self.frame_count as u64 * self.header.samples() as u64
    }

    /// Samples a gapless decoder returns for this file on its own.
    pub fn decoded_samples(&self) -> u64 {
        self.stream_samples().saturating_sub(trim(self.delay, self.padding))
    }
}

/// Samples a gapless decoder trims in all (start and end) for a file whose
/// LAME tag gives `delay` and `padding` (symphonia, ffmpeg: start
/// `delay + 529`, end `padding - 529`).
fn trim(delay: u32, padding: u32) -> u64 {
    delay as u64 + DECODER_DELAY as u64 + padding.saturating_sub(DECODER_DELAY) as u64
}

/// A frame like `template` that decodes to digital silence: the header
/// (without padding), side information all zero (no main data, so no bit
/// reservoir), zeros to the frame's length.
pub fn silence_frame(template: &FrameHeader, header_bytes: [u8; 4]) -> Vec<u8> {
    let mut h = header_bytes;
    h[2] &= !0x02; // no padding byte
    h[1] |= 0x01; // no CRC
    let plain = FrameHeader { padding: false, protected: false, ..*template };
    let len = parse_header(&h).map_or(plain.len, |p| p.len);
    let mut frame = vec![0u8; len];
    frame[..4].copy_from_slice(&h);
    frame
}

/// Frames of silence that, after `piece`, make the gap between the end of
/// its speech and the start of the next piece's speech `pause_samples`
/// long (the piece's own padding and the next piece's delay count).
pub fn pause_frames(piece: &Piece<'_>, pause_samples: u64) -> u32 {
    if pause_samples == 0 {
        return 0;
    }
    let spf = piece.header.samples() as i64;
    let want = pause_samples as i64 + piece.decoded_samples() as i64 - piece.stream_samples() as i64;
    ((want + spf / 2) / spf).max(0) as u32
}

/// CRC-16 as LAME computes it for the tag and the music (poly 0x8005,
/// reflected), a byte at a time through [`CRC16_TABLE`].
fn crc16(mut crc: u16, data: &[u8]) -> u16 {
    for &b in data {
        crc = (crc >> 8) ^ CRC16_TABLE[((crc ^ b as u16) & 0xff) as usize];
    }
    crc
}

/// The CRC of each byte value, bit by bit (the music CRC covers every frame
/// of an article, megabytes: a byte at a time is 8 times fewer steps).
const CRC16_TABLE: [u16; 256] = {
    let mut table = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u16;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xa001 } else { crc >> 1 };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
};

/// Writes an article MP3: one Info frame, then pieces and pauses. Every
/// position it reports is in samples of the decoded (gapless) article.
pub struct ArticleWriter<W: Write + Seek> {
    out: W,
    info: Vec<u8>,
    header: FrameHeader,
    silence: Vec<u8>,
    first_delay: Option<u32>,
    last_padding: u32,
    frames: u32,
    /// Bytes of audio frames written (after the Info frame).
    bytes: u64,
    music_crc: u16,
    /// (frame index, byte offset) where each piece begins, for the TOC.
    marks: Vec<(u32, u64)>,
}

impl<W: Write + Seek> ArticleWriter<W> {
    /// Start an article whose pieces look like `first` (its Info frame is
    /// the template of the article's).
    pub fn new(mut out: W, first: &Piece<'_>) -> Result<Self, AudioError> {
        let info =
            first.info.ok_or_else(|| AudioError::Decode("the first sentence has no Info frame".into()))?;
        let header_bytes: [u8; 4] =
            first.frames[..4].try_into().map_err(|_| AudioError::Decode("short frame".into()))?;
        out.write_all(info).map_err(io)?;
        Ok(ArticleWriter {
            silence: silence_frame(&first.header, header_bytes),
            info: info.to_vec(),
            header: first.header,
            first_delay: None,
            last_padding: 0,
            frames: 0,
            bytes: 0,
            music_crc: 0,
            marks: Vec::new(),
            out,
        })
    }

    fn samples_per_frame(&self) -> u64 {
        self.header.samples() as u64
    }

    fn write(&mut self, data: &[u8], frames: u32) -> Result<(), AudioError> {
        self.marks.push((self.frames, self.bytes));
        self.out.write_all(data).map_err(io)?;
        self.music_crc = crc16(self.music_crc, data);
        self.bytes += data.len() as u64;
        self.frames += frames;
        Ok(())
    }

    /// Append a sentence; returns the decoded sample where it starts.
    pub fn push_piece(&mut self, piece: &Piece<'_>) -> Result<u64, AudioError> {
        if piece.header.sample_rate != self.header.sample_rate || piece.header.mono != self.header.mono {
            return Err(AudioError::Decode("sentences differ in sample rate or channels".into()));
        }
        // The piece's speech begins `delay + 529` samples into its frames;
        // the decoder trims the first piece's `delay + 529` from the start.
        let first = *self.first_delay.get_or_insert(piece.delay) as u64;
        let start =
            (self.frames as u64 * self.samples_per_frame() + piece.delay as u64).saturating_sub(first);
        self.write(piece.frames, piece.frame_count)?;
        self.last_padding = piece.padding;
        Ok(start)
    }

    /// Frames of silence that make a pause of `pause_samples` after `piece`.
    pub fn pause_frames(&self, piece: &Piece<'_>, pause_samples: u64) -> u32 {
        pause_frames(piece, pause_samples)
    }

    /// Append `n` frames of silence.
    pub fn push_silence(&mut self, n: u32) -> Result<(), AudioError> {
        for _ in 0..n {
            let frame = std::mem::take(&mut self.silence);
            let r = self.write(&frame, 1);
            self.silence = frame;
            r?;
        }
        Ok(())
    }

    /// Samples the finished article decodes to (gapless).
    pub fn decoded_samples(&self) -> u64 {
        (self.frames as u64 * self.samples_per_frame())
            .saturating_sub(trim(self.first_delay.unwrap_or(0), self.last_padding))
    }

    /// Rewrite the Info frame for the whole article and return the output.
    pub fn finish(mut self) -> Result<W, AudioError> {
        let h = self.header;
        let at = tag_offset(&self.info, &h)
            .ok_or_else(|| AudioError::Decode("template has no Info tag".into()))?;
        let layout = tag_layout(&self.info, at).ok_or_else(|| AudioError::Decode("bad Info tag".into()))?;
        let info_len = self.info.len() as u64;
        let total_bytes = info_len + self.bytes;
        let info = &mut self.info;
        if let Some(p) = layout.frames_at {
            info[p..p + 4].copy_from_slice(&self.frames.to_be_bytes());
        }
        if let Some(p) = layout.bytes_at {
            info[p..p + 4].copy_from_slice(&(total_bytes as u32).to_be_bytes());
        }
        if let Some(p) = layout.toc_at {
            // TOC[i]: byte position (of 256) where i% of the frames begin.
            for i in 0..100u32 {
                let frame = (self.frames as u64 * i as u64 / 100) as u32;
                let idx = self.marks.partition_point(|&(f, _)| f <= frame).saturating_sub(1);
                let (f0, b0) = self.marks.get(idx).copied().unwrap_or((0, 0));
                let (f1, b1) = self.marks.get(idx + 1).copied().unwrap_or((self.frames, self.bytes));
                let byte = if f1 > f0 { b0 + (b1 - b0) * (frame - f0) as u64 / (f1 - f0) as u64 } else { b0 };
                let pos = (info_len + byte) * 256 / total_bytes.max(1);
                info[p + i as usize] = pos.min(255) as u8;
            }
        }
        if let Some(l) = layout.lame_at {
            let delay = self.first_delay.unwrap_or(0).min(0xfff);
            let padding = self.last_padding.min(0xfff);
            info[l + 21] = (delay >> 4) as u8;
            info[l + 22] = (((delay & 0x0f) << 4) | (padding >> 8)) as u8;
            info[l + 23] = padding as u8;
            info[l + 28..l + 32].copy_from_slice(&(total_bytes as u32).to_be_bytes());
            info[l + 32..l + 34].copy_from_slice(&self.music_crc.to_be_bytes());
            let crc = crc16(0, &info[..l + 34]);
            info[l + 34..l + 36].copy_from_slice(&crc.to_be_bytes());
        }
        self.out.seek(SeekFrom::Start(0)).map_err(io)?;
        self.out.write_all(&self.info).map_err(io)?;
        self.out.seek(SeekFrom::End(0)).map_err(io)?;
        self.out.flush().map_err(io)?;
        Ok(self.out)
    }
}

fn io(e: std::io::Error) -> AudioError {
    AudioError::Io { format: "mp3", error: e }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::{Pcm, decode, encode_mp3};

    fn tone(rate: u32, ms: u32, hz: f64) -> Pcm {
        let n = (rate as u64 * ms as u64 / 1000) as usize;
        let samples = (0..n)
            .map(|i| (6000.0 * (i as f64 * hz * std::f64::consts::TAU / rate as f64).sin()) as i16)
            .collect();
        Pcm { sample_rate: rate, samples }
    }

    #[test]
    fn the_crc_is_lames_crc16_arc_in_one_go_or_in_pieces() {
        // CRC-16/ARC's check value, and the bit-by-bit definition on every
        // byte value after a non-zero start.
        assert_eq!(crc16(0, b"123456789"), 0xbb3d);
        let data: Vec<u8> = (0..=255u8).chain((0..=255u8).rev()).collect();
        let mut bitwise = 0x1234u16;
        for &b in &data {
            bitwise ^= b as u16;
            for _ in 0..8 {
                bitwise = if bitwise & 1 != 0 { (bitwise >> 1) ^ 0xa001 } else { bitwise >> 1 };
            }
        }
        assert_eq!(crc16(0x1234, &data), bitwise);
        assert_eq!(crc16(crc16(0x1234, &data[..100]), &data[100..]), bitwise);
    }

    #[test]
    fn a_lame_file_splits_into_its_info_frame_and_frames() {
        let pcm = tone(22050, 1000, 440.0);
        let mp3 = encode_mp3(&pcm, 64).unwrap();
        let p = Piece::parse(&mp3).unwrap();
        assert!(p.info.is_some());
        assert_eq!(p.info.unwrap().len() + p.frames.len(), mp3.len());
        assert!(p.delay > 0 && p.padding > 0, "{p:?}");
        assert_eq!(p.decoded_samples(), pcm.samples.len() as u64, "LAME's tag accounts for every sample");
        assert_eq!(decode(&mp3).unwrap().samples.len(), pcm.samples.len(), "and the decoder agrees");
        assert!(Piece::parse(b"not an mp3").is_err());
        assert!(Piece::parse(&mp3[..3]).is_err());
    }

    #[test]
    fn silence_frames_decode_to_silence() {
        let mp3 = encode_mp3(&tone(22050, 300, 440.0), 64).unwrap();
        let p = Piece::parse(&mp3).unwrap();
        let frame = silence_frame(&p.header, p.frames[..4].try_into().unwrap());
        let stream: Vec<u8> = std::iter::repeat_n(frame, 20).flatten().collect();
        let pcm = decode(&stream).unwrap();
        assert_eq!(pcm.samples.len(), 20 * p.header.samples() as usize);
        assert!(pcm.samples.iter().all(|&s| s == 0));
    }

    #[test]
    fn pieces_and_pauses_join_gaplessly_with_exact_positions() {
        let rate = 22050;
        let sentences = [tone(rate, 700, 300.0), tone(rate, 1234, 500.0), tone(rate, 333, 700.0)];
        let pauses = [350u32, 800, 0];
        let files: Vec<Vec<u8>> = sentences.iter().map(|s| encode_mp3(s, 64).unwrap()).collect();
        let pieces: Vec<Piece<'_>> = files.iter().map(|f| Piece::parse(f).unwrap()).collect();
        let mut w = ArticleWriter::new(std::io::Cursor::new(Vec::new()), &pieces[0]).unwrap();
        let mut starts = Vec::new();
        for ((p, s), pause) in pieces.iter().zip(&sentences).zip(pauses) {
            starts.push(w.push_piece(p).unwrap());
            let pause_samples = pause as u64 * rate as u64 / 1000;
            assert_eq!(p.decoded_samples(), s.samples.len() as u64);
            let n = w.pause_frames(p, pause_samples);
            w.push_silence(n).unwrap();
        }
        let total = w.decoded_samples();
        let article = w.finish().unwrap().into_inner();
        let pcm = decode(&article).unwrap();
        assert_eq!(pcm.samples.len() as u64, total, "the Info frame makes the decoder trim exactly");
        let spf = pieces[0].header.samples() as i64;
        for (i, s) in sentences.iter().enumerate() {
            // Each sentence's audio sits where the writer said it starts.
            let at = starts[i] as usize;
            let got = &pcm.samples[at..at + s.samples.len()];
            let err: f64 =
                got.iter().zip(&s.samples).map(|(a, b)| ((*a as f64) - (*b as f64)).powi(2)).sum::<f64>()
                    / s.samples.len() as f64;
            let power: f64 =
                s.samples.iter().map(|&b| (b as f64).powi(2)).sum::<f64>() / s.samples.len() as f64;
            assert!(err < power * 0.05, "sentence {i} misplaced: error {err:.0} vs power {power:.0}");
            if i + 1 < sentences.len() {
                let gap = starts[i + 1] as i64 - (starts[i] as i64 + s.samples.len() as i64);
                let want = pauses[i] as i64 * rate as i64 / 1000;
                assert!((gap - want).abs() <= spf / 2 + 1, "pause {i}: {gap} samples, wanted {want}");
            }
        }
    }
}
