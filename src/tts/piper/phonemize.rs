//! Text → Piper sentences of phonemes → phoneme ids, step for step as
//! `piper-tts` 1.x does it (`PiperVoice.phonemize`, `EspeakPhonemizer`,
//! `phonemes_to_ids`):
//!
//! * `[[ … ]]` blocks are raw phonemes, taken as written;
//! * the rest goes to eSpeak NG 1.52 clause by clause (IPA); language-switch
//!   flags such as `(en)` are dropped; the clause's terminator (`.`, `?`,
//!   `!`, `,`, `:`, `;`) is kept as a phoneme, followed by a space when it
//!   does not end the sentence; everything is decomposed (NFD) into code
//!   points, each one phoneme; known vowel clusters are merged; a clause
//!   that ends a sentence closes it;
//! * ids: BOS, PAD, then every phoneme's ids followed by PAD, then EOS.
//!
//! One difference on purpose: a phoneme missing from the id map is an error
//! naming the config file (Piper logs a warning and drops it, which changes
//! what is said without telling anyone).

use unicode_normalization::UnicodeNormalization;

use super::config::{BOS, EOS, ModelConfig, PAD};
use super::espeak_ng::{self, EngineFiles};

/// One sentence as Piper synthesizes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhonemeSentence {
    pub phonemes: Vec<String>,
    pub ids: Vec<i64>,
}

/// The phonemizer of one model config.
#[derive(Debug, Clone)]
pub struct Phonemizer {
    pub config: ModelConfig,
    pub engine: EngineFiles,
}

impl Phonemizer {
    /// Load the engine (once per process) so errors show before any text.
    pub fn new(config: ModelConfig, engine: EngineFiles) -> Result<Phonemizer, String> {
        espeak_ng::version(&engine)?;
        Ok(Phonemizer { config, engine })
    }

    /// The engine's version string, e.g. `1.52.0.1`.
    pub fn engine_version(&self) -> Result<String, String> {
        espeak_ng::version(&self.engine)
    }

    /// Piper's `PiperVoice.phonemize`: phonemes grouped by sentence.
    pub fn phonemize(&self, text: &str) -> Result<Vec<Vec<String>>, String> {
        let mut sentences: Vec<Vec<String>> = Vec::new();
        let parts = split_raw_blocks(text);
        let mut prev_raw = false;
        for (i, part) in parts.iter().enumerate() {
            if part.starts_with("[[") {
                prev_raw = true;
                if sentences.is_empty() {
                    sentences.push(Vec::new());
                }
                let last = sentences.last_mut().expect("one sentence at least");
                if i > 0 && parts[i - 1].ends_with(' ') {
                    last.push(" ".into());
                }
                last.extend(python_strip(&part[2..part.len() - 2]).chars().map(String::from));
                if i + 1 < parts.len() && parts[i + 1].starts_with(' ') {
                    last.push(" ".into());
                }
                continue;
            }
            let mut part_sentences = self.phonemize_espeak(part)?;
            if prev_raw && !part_sentences.is_empty() {
                let first = part_sentences.remove(0);
                sentences.last_mut().expect("raw block made a sentence").extend(first);
            }
            sentences.extend(part_sentences);
            prev_raw = false;
        }
        if sentences.last().is_some_and(Vec::is_empty) {
            sentences.pop();
        }
        Ok(sentences)
    }

    /// Piper's `EspeakPhonemizer.phonemize`.
    fn phonemize_espeak(&self, text: &str) -> Result<Vec<Vec<String>>, String> {
        let clauses = espeak_ng::clauses(&self.engine, &self.config.espeak_voice, text)?;
        let mut all = Vec::new();
        let mut sentence: Vec<String> = Vec::new();
        for clause in clauses {
            let mut phonemes = drop_language_flags(&clause.phonemes);
            phonemes.push_str(clause.terminator);
            if matches!(clause.terminator, "," | ":" | ";") {
                phonemes.push(' ');
            }
            sentence.extend(phonemes.nfd().map(String::from));
            if clause.end_of_sentence {
                all.push(self.merge_clusters(std::mem::take(&mut sentence)));
            }
        }
        if !sentence.is_empty() {
            all.push(self.merge_clusters(sentence));
        }
        Ok(all)
    }

    /// Piper's `_merge_known_vowel_clusters`: longest known cluster first.
    fn merge_clusters(&self, phones: Vec<String>) -> Vec<String> {
        let clusters = &self.config.vowel_clusters;
        if clusters.is_empty() {
            return phones;
        }
        let max_len = clusters.iter().map(Vec::len).max().unwrap_or(0);
        let mut out = Vec::with_capacity(phones.len());
        let mut i = 0;
        while i < phones.len() {
            let longest =
                (2..=max_len.min(phones.len() - i)).rev().find(|&n| clusters.contains(&phones[i..i + n]));
            match longest {
                Some(n) => {
                    out.push(phones[i..i + n].concat());
                    i += n;
                }
                None => {
                    out.push(phones[i].clone());
                    i += 1;
                }
            }
        }
        out
    }

    /// Piper's `phonemes_to_ids`, except that a missing phoneme is an error.
    pub fn ids(&self, phonemes: &[String]) -> Result<Vec<i64>, String> {
        let c = &self.config;
        let (bos, pad, eos) =
            (c.ids(BOS).unwrap_or_default(), c.ids(PAD).unwrap_or_default(), c.ids(EOS).unwrap_or_default());
        let mut ids = Vec::with_capacity(2 * phonemes.len() + 3);
        ids.extend_from_slice(bos);
        ids.extend_from_slice(pad);
        for p in phonemes {
            let Some(p_ids) = c.ids(p) else {
                let codes: Vec<String> = p.chars().map(|ch| format!("U+{:04X}", ch as u32)).collect();
                return Err(format!(
                    "phoneme {p:?} ({}) is not in the phoneme_id_map of {}",
                    codes.join(" "),
                    c.path.display()
                ));
            };
            ids.extend_from_slice(p_ids);
            ids.extend_from_slice(pad);
        }
        ids.extend_from_slice(eos);
        Ok(ids)
    }

    /// Piper's phoneme alignments: the samples of BOS, of each phoneme (its
    /// ids and the PAD after them) and of EOS, from the samples per id.
    /// `None` when the ids do not line up with the phonemes.
    pub fn phoneme_samples(&self, phonemes: &[String], id_samples: &[u64]) -> Option<Vec<u64>> {
        let c = &self.config;
        let pad = c.ids(PAD)?;
        let mut out = Vec::with_capacity(phonemes.len() + 2);
        let mut at = 0;
        let symbols = std::iter::once(BOS).chain(phonemes.iter().map(String::as_str)).chain([EOS]);
        for symbol in symbols {
            let mut n = c.ids(symbol)?.len();
            if symbol != EOS {
                n += pad.len();
            }
            out.push(id_samples.get(at..at + n)?.iter().sum());
            at += n;
        }
        (at == id_samples.len()).then_some(out)
    }

    /// Phonemes and ids of every sentence Piper would synthesize for
    /// `text` (empty sentences skipped, as Piper skips them).
    pub fn sentences(&self, text: &str) -> Result<Vec<PhonemeSentence>, String> {
        self.phonemize(text)?
            .into_iter()
            .filter(|p| !p.is_empty())
            .map(|phonemes| Ok(PhonemeSentence { ids: self.ids(&phonemes)?, phonemes }))
            .collect()
    }
}

/// Python's `re.split(r"(\[\[.*?\]\])", text)`: text and `[[…]]` blocks
/// alternating (a block never spans a newline), empty pieces kept.
fn split_raw_blocks(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut last = 0;
    let mut i = 0;
    while let Some(off) = text[i..].find("[[") {
        let start = i + off;
        let body = &text[start + 2..];
        let close = body.find("]]").filter(|&end| !body[..end].contains('\n'));
        match close {
            Some(end) => {
                let stop = start + 2 + end + 2;
                parts.push(&text[last..start]);
                parts.push(&text[start..stop]);
                last = stop;
                i = stop;
            }
            None => i = start + 1,
        }
    }
    parts.push(&text[last..]);
    parts
}

/// Python's `str.strip()` (Unicode whitespace).
fn python_strip(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c))
}

/// Python's `re.sub(r"\([^)]+\)", "", s)`: drop `(xx)` language flags.
fn drop_language_flags(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(open) = rest.find('(') {
        let after = &rest[open + 1..];
        match after.find(')') {
            Some(close) if close > 0 => {
                out.push_str(&rest[..open]);
                rest = &after[close + 1..];
            }
            _ => {
                out.push_str(&rest[..open + 1]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_blocks_split_like_python() {
        assert_eq!(split_raw_blocks("a [[ xy ]] b"), vec!["a ", "[[ xy ]]", " b"]);
        assert_eq!(split_raw_blocks("[[x]]"), vec!["", "[[x]]", ""]);
        assert_eq!(split_raw_blocks("[[[a]]"), vec!["", "[[[a]]", ""]);
        assert_eq!(split_raw_blocks("[[a\n]] [[b]]"), vec!["[[a\n]] ", "[[b]]", ""]);
        assert_eq!(split_raw_blocks("no blocks"), vec!["no blocks"]);
        assert_eq!(split_raw_blocks("[[ open"), vec!["[[ open"]);
    }

    #[test]
    fn language_flags_are_dropped_like_python() {
        assert_eq!(drop_language_flags("a(en)b(vi)c"), "abc");
        assert_eq!(drop_language_flags("a()b"), "a()b");
        assert_eq!(drop_language_flags("a(b"), "a(b");
        assert_eq!(drop_language_flags("(x)(y)z"), "z");
        assert_eq!(drop_language_flags("a(()b)c"), "ab)c");
    }

    fn phonemizer(clusters: &[&[&str]]) -> Phonemizer {
        let clusters: Vec<Vec<String>> =
            clusters.iter().map(|c| c.iter().map(|s| s.to_string()).collect()).collect();
        let text = serde_json::json!({
            "audio": {"sample_rate": 22050}, "espeak": {"voice": "vi"}, "num_speakers": 1,
            "phoneme_id_map": {"_": [0], "^": [1], "$": [2], "a": [14], "ɪ": [74], "aɪ": [161], "ʊ": [100]},
            "vowel_clusters": clusters,
        });
        let config =
            ModelConfig::parse(text.to_string().as_bytes(), std::path::Path::new("t.onnx.json")).unwrap();
        let engine = EngineFiles { library: "unused".into(), data: "unused".into() };
        Phonemizer { config, engine }
    }

    #[test]
    fn clusters_merge_and_ids_follow_pipers_layout() {
        let p = phonemizer(&[&["a", "ɪ"]]);
        let phones: Vec<String> = ["a", "ɪ", "ʊ", "a"].iter().map(|s| s.to_string()).collect();
        let merged = p.merge_clusters(phones);
        assert_eq!(merged, vec!["aɪ", "ʊ", "a"]);
        let ids = p.ids(&merged).unwrap();
        assert_eq!(ids, vec![1, 0, 161, 0, 100, 0, 14, 0, 2]);
        let per_id = [5, 1, 10, 2, 20, 3, 30, 4, 7];
        assert_eq!(p.phoneme_samples(&merged, &per_id), Some(vec![6, 12, 23, 34, 7]));
        assert_eq!(p.phoneme_samples(&merged, &per_id[..8]), None);
        let err = p.ids(&["ŋ".to_string()]).unwrap_err();
        assert!(err.contains("t.onnx.json") && err.contains("U+014B"), "{err}");
    }
}
