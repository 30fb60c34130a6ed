//! Plans: an article split, normalized and keyed, before any synthesis.
//!
//! A [`Plan`] is one list of [`PlannedSentence`]s (text, spoken form, byte
//! span, paragraph start, the key of its audio object, the pause after
//! it) plus the article key. Key recipes (bump [`PIPELINE_VERSION`] when
//! levelling, encoding, joining or a recipe changes, since old objects
//! would no longer match their keys):
//! * sentence audio: version, `"sentence"`, backend id, format, output
//!   rate, MP3 bitrate (`-` for WAV), spoken text;
//! * article (audio `{key}.{ext}` and timings `{key}.json`): version,
//!   `"article"`, voice name, format, rate, bitrate, then per sentence its
//!   key, byte span and pause, and its written text.
//!
//! Budgets are checked here, before any synthesis: at most
//! `speech.max_sentences` sentences and an estimated
//! `speech.max_article_secs` of audio, and pauses never more than the
//! estimated speech (blank lines cannot stretch an article).

use std::ops::Range;

use serde::{Deserialize, Serialize};

use super::PipelineError;
use crate::audio::Format;
use crate::cache::CacheKey;
use crate::config::SpeechConfig;
use crate::text::Sentence;

/// Bumped when levelling, encoding, joining or a key recipe changes.
pub const PIPELINE_VERSION: &str = "loa-pipeline/5";

/// Estimated speaking time per spoken syllable (Vietnamese words are
/// syllables), deliberately on the short side of real voices.
const MS_PER_SYLLABLE: u64 = 250;

/// One sentence of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedSentence {
    /// As written.
    pub text: String,
    /// What is said.
    pub spoken: String,
    /// Byte span of `text` in the article.
    pub span: Range<usize>,
    pub paragraph_start: bool,
    /// Key of this sentence's audio object (in the plan's format).
    pub key: CacheKey,
    /// Silence after it, in ms (0 after the last).
    pub pause_after_ms: u32,
}

/// What to say and where its pieces live in the cache.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    key: CacheKey,
    voice: String,
    format: Format,
    sample_rate: u32,
    mp3_kbps: u32,
    estimate_ms: u64,
    sentences: Vec<PlannedSentence>,
}

/// Settings a plan is made with.
pub(super) struct Settings<'a> {
    pub voice: &'a str,
    pub backend_id: &'a str,
    pub format: Format,
    pub speech: &'a SpeechConfig,
}

impl Plan {
    /// Key the sentences and the article; check the budgets.
    pub(super) fn new(sentences: Vec<Sentence>, s: Settings<'_>) -> Result<Plan, PipelineError> {
        if sentences.iter().all(|x| x.spoken.trim().is_empty()) {
            return Err(PipelineError::EmptyText);
        }
        let sp = s.speech;
        if sentences.len() > sp.max_sentences {
            return Err(PipelineError::TooLong(format!(
                "the article has {} sentences; at most {} are read (speech.max_sentences)",
                sentences.len(),
                sp.max_sentences
            )));
        }
        let speech_ms: u64 = sentences.iter().map(|x| syllables(&x.spoken) * MS_PER_SYLLABLE).sum();
        let mut pauses: Vec<u32> = (0..sentences.len())
            .map(|i| match sentences.get(i + 1) {
                None => 0,
                Some(next) if next.paragraph_start => sp.paragraph_pause_ms,
                Some(_) => sp.sentence_pause_ms,
            })
            .collect();
        // Pauses may not outweigh the speech: first paragraph pauses shrink
        // to sentence pauses, then all shrink in proportion.
        let total = |p: &[u32]| p.iter().map(|&x| x as u64).sum::<u64>();
        if total(&pauses) > speech_ms {
            for p in pauses.iter_mut().filter(|p| **p > sp.sentence_pause_ms) {
                *p = sp.sentence_pause_ms;
            }
        }
        let t = total(&pauses);
        if t > speech_ms && t > 0 {
            for p in &mut pauses {
                *p = (*p as u64 * speech_ms / t) as u32;
            }
        }
        let estimate_ms = speech_ms + total(&pauses);
        let max_ms = sp.max_article_secs.saturating_mul(1000);
        if estimate_ms > max_ms {
            return Err(PipelineError::TooLong(format!(
                "the article would take about {} min of audio; at most {} min is read (speech.max_article_secs)",
                estimate_ms.div_ceil(60_000),
                sp.max_article_secs / 60
            )));
        }
        let (rate, kbps) = (sp.sample_rate.to_string(), sp.mp3_bitrate_kbps.to_string());
        let kbps_part = if s.format == Format::Mp3 { kbps.as_str() } else { "-" };
        let planned: Vec<PlannedSentence> = sentences
            .into_iter()
            .zip(pauses)
            .map(|(x, pause_after_ms)| PlannedSentence {
                key: CacheKey::hash(&[
                    PIPELINE_VERSION,
                    "sentence",
                    s.backend_id,
                    s.format.ext(),
                    &rate,
                    kbps_part,
                    &x.spoken,
                ]),
                text: x.text,
                spoken: x.spoken,
                span: x.span,
                paragraph_start: x.paragraph_start,
                pause_after_ms,
            })
            .collect();
        let key = article_key(s.voice, s.format, &rate, kbps_part, &planned);
        Ok(Plan {
            key,
            voice: s.voice.to_string(),
            format: s.format,
            sample_rate: sp.sample_rate,
            mp3_kbps: sp.mp3_bitrate_kbps,
            estimate_ms,
            sentences: planned,
        })
    }

    /// Key of the article objects (`{key}.{ext}`, `{key}.json`).
    pub fn key(&self) -> &CacheKey {
        &self.key
    }

    pub fn voice(&self) -> &str {
        &self.voice
    }

    pub fn format(&self) -> Format {
        self.format
    }

    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    pub fn mp3_kbps(&self) -> u32 {
        self.mp3_kbps
    }

    /// Estimated duration before synthesis (what the budget checked).
    pub fn estimate_ms(&self) -> u64 {
        self.estimate_ms
    }

    pub fn sentences(&self) -> &[PlannedSentence] {
        &self.sentences
    }

    pub fn len(&self) -> usize {
        self.sentences.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sentences.is_empty()
    }

    pub fn get(&self, index: usize) -> Option<&PlannedSentence> {
        self.sentences.get(index)
    }

    /// True when the article key matches the sentences (a plan read back
    /// from a store is checked with this before it is used).
    pub fn is_consistent(&self) -> bool {
        let kbps = self.mp3_kbps.to_string();
        let kbps_part = if self.format == Format::Mp3 { kbps.as_str() } else { "-" };
        self.sentences.iter().all(|x| x.span.start <= x.span.end)
            && article_key(
                &self.voice,
                self.format,
                &self.sample_rate.to_string(),
                kbps_part,
                &self.sentences,
            ) == self.key
    }
}

fn article_key(
    voice: &str,
    format: Format,
    rate: &str,
    kbps: &str,
    sentences: &[PlannedSentence],
) -> CacheKey {
    let mut parts: Vec<String> = vec![
        PIPELINE_VERSION.into(),
        "article".into(),
        voice.into(),
        format.ext().into(),
        rate.into(),
        kbps.into(),
    ];
    for x in sentences {
        parts.push(format!(
            "{}|{}|{}|{}|{}",
            x.key, x.span.start, x.span.end, x.pause_after_ms, x.paragraph_start
        ));
        parts.push(x.text.clone());
    }
    let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
    CacheKey::hash(&refs)
}

/// Spoken syllables (space-separated words of the spoken form).
fn syllables(spoken: &str) -> u64 {
    spoken.split_whitespace().count() as u64
}
