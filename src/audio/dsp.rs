//! Sample-level processing: resampling to the output rate (band-limited,
//! rubato) and levelling each sentence to one loudness (EBU R128, see `loudness`),
//! so voices and articles play at a steady level.

use super::Pcm;

/// Resample to `rate` with a band-limited FFT resampler (rubato's
/// synchronous `Fft`, Blackman-Harris anti-aliasing window): content above
/// the lower Nyquist frequency is removed instead of folding back (a 24 kHz
/// voice's 11.5 kHz hiss would otherwise land at 10.55 kHz at -17.6 dB).
/// The startup delay is trimmed, so sample `i` of the input is at
/// `i * rate / in_rate` in the output, and the length is
/// `floor(n * rate / in_rate)` as the timings assume.
pub fn resample(pcm: &Pcm, rate: u32) -> Pcm {
    if pcm.sample_rate == rate || pcm.samples.is_empty() || pcm.sample_rate == 0 || rate == 0 {
        return Pcm { sample_rate: rate, samples: pcm.samples.clone() };
    }
    let n_in = pcm.samples.len();
    let n_out = ((n_in as u64 * rate as u64) / pcm.sample_rate as u64).max(1) as usize;
    let samples = match band_limited(&pcm.samples, pcm.sample_rate, rate) {
        Ok(mut out) => {
            out.resize(n_out, 0);
            out
        }
        // Unreachable for the rates the decoder admits; never fail a sentence over it.
        Err(e) => {
            tracing::warn!("band-limited resampling failed ({e}); interpolating linearly");
            linear(&pcm.samples, pcm.sample_rate, rate, n_out)
        }
    };
    Pcm { sample_rate: rate, samples }
}

fn band_limited(samples: &[i16], from: u32, to: u32) -> Result<Vec<i16>, String> {
    use rubato::audioadapter_buffers::direct::InterleavedSlice;
    use rubato::{Fft, FixedSync, Resampler};
    let input: Vec<f32> = samples.iter().map(|&s| f32::from(s) / 32768.0).collect();
    let mut resampler =
        Fft::<f32>::new(from as usize, to as usize, 1024, 1, FixedSync::Input).map_err(|e| e.to_string())?;
    let adapter = InterleavedSlice::new(&input, 1, input.len()).map_err(|e| e.to_string())?;
    let out = resampler.process_all(&adapter, input.len(), None).map_err(|e| e.to_string())?;
    Ok(out.take_data().into_iter().map(|x| (x * 32768.0).round().clamp(-32768.0, 32767.0) as i16).collect())
}

/// Linear interpolation (the fallback).
fn linear(samples: &[i16], from: u32, to: u32, n_out: usize) -> Vec<i16> {
    let n_in = samples.len();
    let step = from as f64 / to as f64;
    (0..n_out)
        .map(|i| {
            let pos = i as f64 * step;
            let j = pos as usize;
            let frac = pos - j as f64;
            let a = samples[j.min(n_in - 1)] as f64;
            let b = samples[(j + 1).min(n_in - 1)] as f64;
            (a + (b - a) * frac).round().clamp(i16::MIN as f64, i16::MAX as f64) as i16
        })
        .collect()
}

/// Target loudness of every sentence: -23 LUFS (EBU R128).
const TARGET_LUFS: f64 = -23.0;
/// Target for sentences too short to measure (under 400 ms): RMS of the
/// voiced part at -20 dBFS.
const TARGET_RMS: f64 = 0.1 * 32767.0;
/// Ceiling for peaks: -1 dBFS.
const PEAK_CEILING: f64 = 0.891 * 32767.0;
/// Never amplify more than this (quiet noise must stay quiet).
const MAX_GAIN: f64 = 8.0;
/// Fractional bits of the fixed-point gain.
const GAIN_BITS: u32 = 12;

/// Samples below this magnitude are treated as silence when measuring RMS.
const GATE: i32 = 300;

/// Integrated loudness (EBU R128 / ITU-R BS.1770, gated) in LUFS; `None`
/// for silence or audio shorter than one 400 ms block.
pub fn loudness(pcm: &Pcm) -> Option<f64> {
    super::loudness::integrated(&pcm.samples, pcm.sample_rate)
}

/// Level one sentence to -23 LUFS (measured with K-weighting and gating,
/// so voices with different timbre and pauses end up equally loud), without
/// letting any peak exceed -1 dBFS and amplifying at most 18 dB. Sentences
/// too short for a loudness measurement are levelled by the RMS of their
/// voiced samples instead. Silence stays silence.
pub fn level(pcm: &mut Pcm) {
    let peak = pcm.peak() as f64;
    if peak <= GATE as f64 {
        return;
    }
    let wanted = match loudness(pcm) {
        Some(lufs) => 10f64.powf((TARGET_LUFS - lufs) / 20.0),
        None => {
            let (mut sum, mut n) = (0f64, 0u64);
            for &s in &pcm.samples {
                if (s as i32).abs() > GATE {
                    sum += (s as f64) * (s as f64);
                    n += 1;
                }
            }
            TARGET_RMS / (sum / n.max(1) as f64).sqrt()
        }
    };
    let gain = wanted.min(PEAK_CEILING / peak).min(MAX_GAIN);
    if (gain - 1.0).abs() < 0.01 {
        return;
    }
    // In fixed point (Q12: steps of 0.002 dB), which the compiler
    // vectorises; the gain is at most 18 dB, so the product fits an i32.
    let g = (gain * (1 << GAIN_BITS) as f64).round() as i32;
    let half = 1 << (GAIN_BITS - 1);
    for s in &mut pcm.samples {
        *s = ((*s as i32 * g + half) >> GAIN_BITS).clamp(i16::MIN as i32, i16::MAX as i32) as i16;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(rate: u32, ms: u32, amp: f64) -> Pcm {
        let n = rate as usize * ms as usize / 1000;
        let samples = (0..n)
            .map(|i| (amp * (i as f64 * 440.0 * std::f64::consts::TAU / rate as f64).sin()) as i16)
            .collect();
        Pcm { sample_rate: rate, samples }
    }

    /// Amplitude of the `freq` component of the middle of `p`, relative to
    /// full scale (a Hann-windowed single-bin DFT).
    fn amplitude_at(p: &Pcm, freq: f64) -> f64 {
        let n = p.samples.len();
        let part = &p.samples[n / 4..3 * n / 4];
        let (mut re, mut im, mut wsum) = (0.0, 0.0, 0.0);
        for (i, &s) in part.iter().enumerate() {
            let w = 0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / part.len() as f64).cos();
            let phase = std::f64::consts::TAU * freq * i as f64 / p.sample_rate as f64;
            re += w * s as f64 * phase.cos();
            im -= w * s as f64 * phase.sin();
            wsum += w;
        }
        2.0 * (re * re + im * im).sqrt() / wsum / 32768.0
    }

    fn tone(rate: u32, freq: f64, secs: f64, amp: f64) -> Pcm {
        let n = (rate as f64 * secs) as usize;
        let samples = (0..n)
            .map(|i| (amp * 32767.0 * (i as f64 * freq * std::f64::consts::TAU / rate as f64).sin()) as i16)
            .collect();
        Pcm { sample_rate: rate, samples }
    }

    fn db(x: f64) -> f64 {
        20.0 * x.log10()
    }

    /// 11.5 kHz in a 24 kHz voice is above the 11.025 kHz Nyquist of
    /// 22.05 kHz output: it must be removed, not folded to 10.55 kHz
    /// (linear interpolation left it at -17.6 dB).
    #[test]
    fn resampling_down_does_not_alias() {
        let input = tone(24000, 11500.0, 1.0, 0.5);
        let out = resample(&input, 22050);
        let alias = db(amplitude_at(&out, 22050.0 - 11500.0) / 0.5);
        assert!(alias < -60.0, "alias at 10.55 kHz: {alias:.1} dB");
        let linear =
            Pcm { sample_rate: 22050, samples: linear(&input.samples, 24000, 22050, out.samples.len()) };
        let linear_alias = db(amplitude_at(&linear, 10550.0) / 0.5);
        eprintln!("alias at 10.55 kHz: {alias:.1} dB band-limited, {linear_alias:.1} dB linear");
        assert!(linear_alias > -20.0, "the measurement misses the known alias: {linear_alias:.1} dB");
    }

    #[test]
    fn resampling_keeps_the_speech_band() {
        let mut worst: f64 = 0.0;
        for (from, to) in [(24000, 22050), (16000, 22050), (44100, 22050), (22050, 48000)] {
            for freq in [200.0, 1000.0, 4000.0, 7000.0] {
                let out = resample(&tone(from, freq, 1.0, 0.5), to);
                let gain = db(amplitude_at(&out, freq) / 0.5);
                assert!(gain.abs() < 0.2, "{from}→{to} Hz at {freq} Hz: {gain:.2} dB");
                worst = worst.max(gain.abs());
            }
        }
        eprintln!("speech band: at most {worst:.3} dB off");
    }

    /// No delay: an impulse lands where the rate ratio puts it.
    #[test]
    fn resampling_keeps_time() {
        let mut p = Pcm { sample_rate: 24000, samples: vec![0; 24000] };
        p.samples[12000] = 20000;
        let out = resample(&p, 22050);
        let peak =
            out.samples.iter().enumerate().max_by_key(|(_, s)| s.unsigned_abs()).map(|(i, _)| i).unwrap();
        assert!((peak as i64 - 11025).abs() <= 1, "impulse at {peak}, expected 11025");
    }

    #[test]
    fn resample_keeps_duration() {
        let p = sine(16000, 1000, 8000.0);
        let r = resample(&p, 22050);
        assert_eq!(r.sample_rate, 22050);
        assert_eq!(r.samples.len(), 22050);
        assert_eq!(r.duration_ms(), 1000);
        // Short and odd lengths too.
        for n in [1, 7, 160, 1001] {
            let p = Pcm { sample_rate: 24000, samples: vec![1000; n] };
            assert_eq!(resample(&p, 22050).samples.len(), (n * 22050 / 24000).max(1));
        }
    }

    #[test]
    fn level_brings_quiet_and_loud_to_the_same_loudness() {
        let mut quiet = sine(22050, 1500, 2000.0);
        let mut loud = sine(22050, 1500, 20000.0);
        level(&mut quiet);
        level(&mut loud);
        for p in [&quiet, &loud] {
            let l = loudness(p).unwrap();
            assert!((l - TARGET_LUFS).abs() < 0.1, "{l} LUFS");
        }
        assert!(loud.peak() as f64 <= PEAK_CEILING + 1.0);
    }

    /// Equal RMS is not equal loudness: a 3 kHz tone sounds louder than a
    /// 150 Hz one (K-weighting). Levelling by RMS left them 4 LU apart.
    #[test]
    fn level_evens_out_timbre() {
        let mut low = tone(22050, 150.0, 2.0, 0.2);
        let mut high = tone(22050, 3000.0, 2.0, 0.2);
        let before = loudness(&high).unwrap() - loudness(&low).unwrap();
        assert!(before > 3.0, "{before}");
        level(&mut low);
        level(&mut high);
        let after = (loudness(&high).unwrap() - loudness(&low).unwrap()).abs();
        assert!(after < 0.2, "{after} LU apart");
    }

    #[test]
    fn short_sentences_fall_back_to_rms() {
        let mut p = sine(22050, 200, 2000.0);
        assert_eq!(loudness(&p), None);
        level(&mut p);
        let rms =
            (p.samples.iter().map(|&s| (s as f64).powi(2)).sum::<f64>() / p.samples.len() as f64).sqrt();
        assert!((rms - TARGET_RMS).abs() / TARGET_RMS < 0.05, "{rms}");
    }

    #[test]
    fn level_leaves_silence_alone() {
        let mut p = Pcm { sample_rate: 22050, samples: vec![0; 1000] };
        level(&mut p);
        assert!(p.samples.iter().all(|&s| s == 0));
    }
}
