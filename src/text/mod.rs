//! Text front end: article (plain text or HTML) → sentences → spoken
//! Vietnamese.
//!
//! Pure functions over owned types. [`html`] extracts an article's readable
//! text, [`split`] cuts it into sentences, [`token`] classifies tokens with
//! their context and [`verbalize`] turns each class into words, reading
//! numbers with [`number`] and abbreviations with [`lexicon`].

use std::ops::Range;
use std::sync::Arc;

/// Spoken-word profile: northern wording by default, southern swaps
/// "nghìn" → "ngàn" and "linh" → "lẻ".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    #[default]
    North,
    South,
}

/// Options of the text front end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub dialect: Dialect,
    /// Sentences longer than this (in bytes) are cut at `;`, `,` or spaces.
    pub max_sentence_bytes: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options { dialect: Dialect::North, max_sentence_bytes: 600 }
    }
}

/// One sentence of an article.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Sentence {
    /// The sentence as written.
    pub text: String,
    /// What will be said.
    pub spoken: String,
    /// Byte span of `text` in the input article.
    pub span: Range<usize>,
    /// True when this sentence starts a new paragraph (or line block).
    pub paragraph_start: bool,
}

/// The text front end with its lexicon and options.
#[derive(Debug, Clone)]
pub struct Normalizer {
    pub options: Options,
    lexicon: Arc<()>,
}

impl Normalizer {
    pub fn new(options: Options) -> Self {
        Normalizer { options, lexicon: Arc::new(()) }
    }

    /// Placeholder until the real front end lands: lower-cased text.
    pub fn normalize(&self, sentence: &str) -> String {
        let _ = &self.lexicon;
        sentence.to_lowercase()
    }

    /// Placeholder until the real front end lands: one sentence per line.
    pub fn sentences(&self, article: &str) -> Vec<Sentence> {
        let mut out = Vec::new();
        let mut pos = 0;
        for line in article.split_inclusive('\n') {
            let t = line.trim();
            if !t.is_empty() {
                let start = pos + line.find(t).unwrap_or(0);
                out.push(Sentence {
                    text: t.to_string(),
                    spoken: self.normalize(t),
                    span: start..start + t.len(),
                    paragraph_start: true,
                });
            }
            pos += line.len();
        }
        out
    }
}

impl Default for Normalizer {
    fn default() -> Self {
        Normalizer::new(Options::default())
    }
}

/// Extract readable article text from an HTML page (placeholder).
pub fn html_to_text(html: &str) -> String {
    html.to_string()
}
