//! Text front end: article (plain text or HTML) → sentences → spoken
//! Vietnamese.
//!
//! Pure functions over owned types. [`html`] extracts an article's readable
//! text, [`split`] cuts it into sentences, [`token`] and [`classify`] decide
//! what each token is from its context, and [`verbalize`] turns each class
//! into words, reading numbers with [`number`] and abbreviations, units and
//! loan words with the [`lexicon`]. [`fold`] holds the character tables
//! of the hot paths (case and tone marks without the general Unicode ones).

pub mod classify;
pub mod fold;
pub mod html;
pub mod lexicon;
pub mod number;
pub mod rule;
pub mod split;
pub mod syllable;
pub mod token;
pub mod verbalize;

use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

use unicode_normalization::{UnicodeNormalization, is_nfc_quick};

pub use html::html_to_text;
pub use lexicon::{Lexicon, LexiconError};
pub use rule::Rule;

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

/// Errors of the text front end.
#[derive(Debug, thiserror::Error)]
pub enum TextError {
    #[error(transparent)]
    Lexicon(#[from] LexiconError),
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

/// One rewritten token, for `--explain` and `--json`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Rewrite {
    pub written: String,
    pub rule: Rule,
    pub spoken: String,
    /// True when the token will not be read well (spelled-out unknown
    /// acronym, stray symbol).
    pub doubtful: bool,
    /// Byte span of `written` in the sentence, when the sentence was
    /// already in Unicode NFC (otherwise the spans of the composed text
    /// would not point into it).
    pub span: Option<Range<usize>>,
}

/// The text front end with its lexicon and options.
#[derive(Debug, Clone)]
pub struct Normalizer {
    pub options: Options,
    lexicon: Arc<Lexicon>,
}

impl Normalizer {
    /// A normalizer with the built-in lexicon.
    pub fn new(options: Options) -> Self {
        Normalizer { options, lexicon: Arc::new(Lexicon::builtin()) }
    }

    /// A normalizer with the built-in lexicon extended by user files.
    pub fn with_lexicon_files(options: Options, files: &[PathBuf]) -> Result<Self, TextError> {
        let mut lex = Lexicon::builtin();
        for f in files {
            lex.add_file(f)?;
        }
        Ok(Normalizer { options, lexicon: Arc::new(lex) })
    }

    pub fn lexicon(&self) -> &Lexicon {
        &self.lexicon
    }

    /// The spoken form of one sentence (or line).
    pub fn normalize(&self, sentence: &str) -> String {
        let mut out = String::with_capacity(sentence.len() * 3);
        self.normalize_into(sentence, &mut out);
        out
    }

    /// Appends the spoken form of `sentence` to `out` (for callers that
    /// normalize many lines into one buffer).
    pub fn normalize_into(&self, sentence: &str, out: &mut String) {
        let text = nfc(sentence);
        let items = classify::classify(&text, &self.lexicon);
        verbalize::speak_into(&items, &text, self.options.dialect, out);
    }

    /// Every rewritten token of `sentence` with the rule that fired.
    pub fn explain(&self, sentence: &str) -> Vec<Rewrite> {
        let text = nfc(sentence);
        let same = matches!(text, std::borrow::Cow::Borrowed(_));
        let items = classify::classify(&text, &self.lexicon);
        items
            .iter()
            .filter(|it| !it.rule.is_plain())
            .map(|it| Rewrite {
                written: text[it.span.clone()].to_string(),
                rule: it.rule,
                spoken: verbalize::say_one(&it.class, &text[it.span.clone()], self.options.dialect),
                doubtful: it.rule.is_doubtful(),
                span: same.then(|| it.span.clone()),
            })
            .collect()
    }

    /// Sentence spans of `article` (plain text), without normalizing.
    pub fn split(&self, article: &str) -> Vec<split::Piece> {
        split::split(article, self.options.max_sentence_bytes)
    }

    /// Splits `article` (plain text) and normalizes every sentence.
    pub fn sentences(&self, article: &str) -> Vec<Sentence> {
        self.split(article)
            .into_iter()
            .map(|p| {
                let text = article[p.span.clone()].to_string();
                Sentence {
                    spoken: self.normalize(&text),
                    text,
                    span: p.span,
                    paragraph_start: p.paragraph_start,
                }
            })
            .filter(|s| !s.spoken.is_empty())
            .collect()
    }
}

impl Default for Normalizer {
    fn default() -> Self {
        Normalizer::new(Options::default())
    }
}

fn nfc(s: &str) -> std::borrow::Cow<'_, str> {
    // Most text is ASCII, Vietnamese letters and punctuation: NFC already.
    if fold::is_nfc_stable(s) || is_nfc_quick(s.chars()) == unicode_normalization::IsNormalized::Yes {
        std::borrow::Cow::Borrowed(s)
    } else {
        std::borrow::Cow::Owned(s.nfc().collect())
    }
}
