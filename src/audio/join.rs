//! Joining per-sentence PCM into one article with pauses, and the
//! millisecond span each sentence occupies. A pause belongs to the sentence
//! before it, so the spans tile the article: sentence i+1 starts exactly
//! where sentence i ends, and the last one ends at the article's duration.

use super::{Pcm, resample};

/// One sentence's audio and the silence that follows it.
#[derive(Debug, Clone)]
pub struct Segment<'a> {
    pub pcm: &'a Pcm,
    pub pause_after_ms: u32,
}

/// Where one sentence sits in the joined audio, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start_ms: u64,
    pub end_ms: u64,
}

/// The joined article.
#[derive(Debug, Clone)]
pub struct Joined {
    pub pcm: Pcm,
    pub spans: Vec<Span>,
}

/// Concatenate `segments` at `rate` (resampling any that differ), each
/// followed by its pause.
pub fn join(segments: &[Segment<'_>], rate: u32) -> Joined {
    let ms = |samples: usize| samples as u64 * 1000 / rate.max(1) as u64;
    let total: usize = segments
        .iter()
        .map(|s| {
            let n = if s.pcm.sample_rate == rate {
                s.pcm.samples.len()
            } else {
                (s.pcm.samples.len() as u64 * rate as u64 / s.pcm.sample_rate.max(1) as u64) as usize
            };
            n + pause_samples(s.pause_after_ms, rate)
        })
        .sum();
    let mut samples = Vec::with_capacity(total + 16);
    let mut spans = Vec::with_capacity(segments.len());
    for seg in segments {
        let start = samples.len();
        if seg.pcm.sample_rate == rate {
            samples.extend_from_slice(&seg.pcm.samples);
        } else {
            samples.extend_from_slice(&resample(seg.pcm, rate).samples);
        }
        samples.resize(samples.len() + pause_samples(seg.pause_after_ms, rate), 0);
        spans.push(Span { start_ms: ms(start), end_ms: ms(samples.len()) });
    }
    Joined { pcm: Pcm { sample_rate: rate, samples }, spans }
}

fn pause_samples(ms: u32, rate: u32) -> usize {
    (ms as u64 * rate as u64 / 1000) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_tile_the_article() {
        let a = Pcm { sample_rate: 22050, samples: vec![1000; 22050] };
        let b = Pcm { sample_rate: 16000, samples: vec![1000; 8000] };
        let segs = [
            Segment { pcm: &a, pause_after_ms: 350 },
            Segment { pcm: &b, pause_after_ms: 800 },
            Segment { pcm: &a, pause_after_ms: 0 },
        ];
        let j = join(&segs, 22050);
        assert_eq!(j.spans[0], Span { start_ms: 0, end_ms: 1350 });
        assert_eq!(j.spans[1].start_ms, 1350);
        assert_eq!(j.spans[1].end_ms, j.spans[2].start_ms);
        assert_eq!(j.spans[2].end_ms, j.pcm.duration_ms());
        assert_eq!(j.pcm.duration_ms(), 1350 + 500 + 800 + 1000);
    }
}
