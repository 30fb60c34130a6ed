//! Sample-level processing: resampling to the output rate and levelling
//! each sentence to one loudness, so voices and articles play at a steady
//! level.

use super::Pcm;

/// Resample to `rate` by linear interpolation (speech at 16–48 kHz; the
/// small aliasing of linear interpolation is inaudible at these rates).
pub fn resample(pcm: &Pcm, rate: u32) -> Pcm {
    if pcm.sample_rate == rate || pcm.samples.is_empty() || pcm.sample_rate == 0 {
        return Pcm { sample_rate: rate, samples: pcm.samples.clone() };
    }
    let n_in = pcm.samples.len();
    let n_out = ((n_in as u64 * rate as u64) / pcm.sample_rate as u64).max(1) as usize;
    let step = pcm.sample_rate as f64 / rate as f64;
    let mut out = Vec::with_capacity(n_out);
    for i in 0..n_out {
        let pos = i as f64 * step;
        let j = pos as usize;
        let frac = pos - j as f64;
        let a = pcm.samples[j.min(n_in - 1)] as f64;
        let b = pcm.samples[(j + 1).min(n_in - 1)] as f64;
        out.push((a + (b - a) * frac).round().clamp(i16::MIN as f64, i16::MAX as f64) as i16);
    }
    Pcm { sample_rate: rate, samples: out }
}

/// Target loudness: RMS of the voiced part at -20 dBFS.
const TARGET_RMS: f64 = 0.1 * 32767.0;
/// Ceiling for peaks: -1 dBFS.
const PEAK_CEILING: f64 = 0.891 * 32767.0;
/// Never amplify more than this (quiet noise must stay quiet).
const MAX_GAIN: f64 = 8.0;
/// Samples below this magnitude are treated as silence when measuring.
const GATE: i32 = 300;

/// Level one sentence: scale so the RMS of its voiced samples is -20 dBFS,
/// without letting any peak exceed -1 dBFS. Silence stays silence.
pub fn level(pcm: &mut Pcm) {
    let (mut sum, mut n) = (0f64, 0u64);
    for &s in &pcm.samples {
        if (s as i32).abs() > GATE {
            sum += (s as f64) * (s as f64);
            n += 1;
        }
    }
    if n == 0 {
        return;
    }
    let rms = (sum / n as f64).sqrt();
    let peak = pcm.peak() as f64;
    let gain = (TARGET_RMS / rms).min(PEAK_CEILING / peak).min(MAX_GAIN);
    if (gain - 1.0).abs() < 0.01 {
        return;
    }
    for s in &mut pcm.samples {
        *s = (*s as f64 * gain).round().clamp(i16::MIN as f64, i16::MAX as f64) as i16;
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

    #[test]
    fn resample_keeps_duration() {
        let p = sine(16000, 1000, 8000.0);
        let r = resample(&p, 22050);
        assert_eq!(r.sample_rate, 22050);
        assert_eq!(r.samples.len(), 22050);
        assert_eq!(r.duration_ms(), 1000);
    }

    #[test]
    fn level_brings_quiet_and_loud_to_the_same_rms() {
        let mut quiet = sine(22050, 500, 2000.0);
        let mut loud = sine(22050, 500, 20000.0);
        level(&mut quiet);
        level(&mut loud);
        let rms = |p: &Pcm| {
            (p.samples.iter().map(|&s| (s as f64).powi(2)).sum::<f64>() / p.samples.len() as f64).sqrt()
        };
        let (a, b) = (rms(&quiet), rms(&loud));
        assert!((a - b).abs() / b < 0.05, "{a} vs {b}");
        assert!(loud.peak() as f64 <= PEAK_CEILING + 1.0);
    }

    #[test]
    fn level_leaves_silence_alone() {
        let mut p = Pcm { sample_rate: 22050, samples: vec![0; 1000] };
        level(&mut p);
        assert!(p.samples.iter().all(|&s| s == 0));
    }
}
