//! Audio encoders and the decoder: what we write must decode back cleanly.

use loa::audio::{self, Format, Pcm};

fn tone(rate: u32, ms: u32) -> Pcm {
    let n = (rate as u64 * ms as u64 / 1000) as usize;
    let samples = (0..n)
        .map(|i| {
            let t = i as f64 / rate as f64;
            (8000.0 * (t * 440.0 * std::f64::consts::TAU).sin()) as i16
        })
        .collect();
    Pcm { sample_rate: rate, samples }
}

fn rms(p: &Pcm) -> f64 {
    (p.samples.iter().map(|&s| (s as f64).powi(2)).sum::<f64>() / p.samples.len().max(1) as f64).sqrt()
}

#[test]
fn wav_round_trips_exactly() {
    let pcm = tone(22050, 700);
    let bytes = audio::encode_wav(&pcm).unwrap();
    assert_eq!(&bytes[0..4], b"RIFF");
    let back = audio::decode(&bytes).unwrap();
    assert_eq!(back, pcm);
    let r = hound::WavReader::new(std::io::Cursor::new(&bytes)).unwrap();
    assert_eq!(r.spec().bits_per_sample, 16);
    assert_eq!(r.spec().channels, 1);
}

#[test]
fn mp3_decodes_back_with_the_same_length_and_level() {
    let pcm = tone(22050, 3000);
    let bytes = audio::encode_mp3(&pcm, 64).unwrap();
    // 64 kbit/s for 3 s is about 24 kB.
    assert!((20_000..30_000).contains(&bytes.len()), "{} bytes", bytes.len());
    let back = audio::decode(&bytes).unwrap();
    assert_eq!(back.sample_rate, 22050);
    // The LAME tag records encoder delay and padding; a gapless decoder
    // trims them, so the length comes back exact (to a few samples).
    assert!(back.samples.len().abs_diff(pcm.samples.len()) < 64, "decoded {} samples", back.samples.len());
    let (a, b) = (rms(&pcm), rms(&back));
    assert!((a - b).abs() / a < 0.1, "rms {a} vs {b}");
    // The first frame carries LAME's CBR "Info" tag, not a blank placeholder.
    assert_eq!(&bytes[0..2], &[0xff, 0xf3]);
    assert!(bytes[..400].windows(4).any(|w| w == b"Info"), "no Info tag");
    assert!(bytes[..400].windows(4).any(|w| w == b"LAME"), "no LAME tag");
}

#[test]
fn mp3_bitrate_is_configurable_and_checked() {
    let pcm = tone(22050, 2000);
    let small = audio::encode_mp3(&pcm, 32).unwrap();
    let big = audio::encode_mp3(&pcm, 128).unwrap();
    assert!(big.len() > small.len() * 3, "{} vs {}", big.len(), small.len());
    let err = audio::encode_mp3(&pcm, 65).unwrap_err().to_string();
    assert!(err.contains("65"), "{err}");
}

#[test]
fn empty_pcm_encodes_to_valid_files() {
    let pcm = Pcm { sample_rate: 22050, samples: Vec::new() };
    let wav = audio::encode_wav(&pcm).unwrap();
    assert_eq!(audio::decode(&wav).unwrap().samples.len(), 0);
    assert!(audio::encode_mp3(&pcm, 64).is_ok());
}

#[test]
fn garbage_is_an_error_not_a_panic() {
    assert!(audio::decode(b"").is_err());
    assert!(audio::decode(b"this is not audio at all, just some text").is_err());
    let mut truncated = audio::encode_wav(&tone(16000, 100)).unwrap();
    truncated.truncate(20);
    assert!(audio::decode(&truncated).is_err());
}

#[test]
fn stereo_and_other_rates_decode_to_mono() {
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 16000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut w = hound::WavWriter::new(&mut buf, spec).unwrap();
        for _ in 0..1600 {
            w.write_sample(1000i16).unwrap();
            w.write_sample(3000i16).unwrap();
        }
        w.finalize().unwrap();
    }
    let pcm = audio::decode(buf.get_ref()).unwrap();
    assert_eq!(pcm.sample_rate, 16000);
    assert_eq!(pcm.samples.len(), 1600);
    assert!(pcm.samples.iter().all(|&s| s == 2000));
    let r = audio::resample(&pcm, 22050);
    assert_eq!(r.duration_ms(), 100);
}

#[test]
fn format_parses_and_names_itself() {
    assert_eq!("MP3".parse::<Format>().unwrap(), Format::Mp3);
    assert_eq!("wav".parse::<Format>().unwrap().content_type(), "audio/wav");
    assert_eq!(Format::Mp3.content_type(), "audio/mpeg");
    assert!("ogg".parse::<Format>().is_err());
    assert_eq!(Format::from_path(std::path::Path::new("a/b.MP3")), Some(Format::Mp3));
}
