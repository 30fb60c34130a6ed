//! The lexicon: abbreviations, units and loan words with their spoken forms.
//!
//! The built-in tables are `config/lexicon/*.tsv`, embedded in the binary.
//! Users extend or override them with their own TSV files (from the config
//! or `--lexicon`), which is how an editor fixes a pronunciation without
//! touching code. A file is UTF-8, one `KEY<TAB>SPOKEN` entry per line, or
//! `KIND<TAB>KEY<TAB>SPOKEN` with KIND one of `abbr`, `unit`, `word`;
//! `#` starts a comment line. Abbreviations and units match exactly as
//! written; words match regardless of case.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::path::Path;

use super::fold;

/// FNV-1a: lexicon keys are short, and SipHash dominated lookups.
#[derive(Default)]
pub struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 { 0xcbf2_9ce4_8422_2325 } else { self.0 };
        for &b in bytes {
            h ^= b as u64;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

type Map = HashMap<String, String, BuildHasherDefault<Fnv>>;

/// The first two bytes of every key of a map, as a bit set: most words
/// looked up are in no table, and this answers that without hashing.
#[derive(Debug, Clone, Default)]
struct Prefixes(Vec<u64>);

impl Prefixes {
    fn index(key: &str) -> usize {
        let b = key.as_bytes();
        (usize::from(b.first().copied().unwrap_or(0)) << 8) | usize::from(b.get(1).copied().unwrap_or(0))
    }

    fn insert(&mut self, key: &str) {
        self.set(Self::index(key));
    }

    fn may_hold(&self, key: &str) -> bool {
        self.has(Self::index(key))
    }

    fn has(&self, k: usize) -> bool {
        self.0.get(k / 64).is_some_and(|w| w >> (k % 64) & 1 == 1)
    }

    fn set(&mut self, k: usize) {
        if self.0.is_empty() {
            self.0 = vec![0; (1 << 16) / 64];
        }
        self.0[k / 64] |= 1 << (k % 64);
    }

    /// The index of two characters (the first two of a lower-cased key).
    fn char_index(a: char, b: Option<char>) -> usize {
        ((a as usize).wrapping_mul(0x9e37) ^ b.map_or(0, |b| b as usize)) & 0xffff
    }

    /// For a set built from lower-cased keys: records `folded`.
    fn insert_folded(&mut self, folded: &str) {
        let mut chars = folded.chars();
        if let Some(a) = chars.next() {
            self.set(Self::char_index(a, chars.next()));
        }
    }

    /// For a set built from lower-cased keys: false when `key` lower-cased
    /// is surely not in it, found from the table's lower case of its first
    /// two characters, without lower-casing the key (true when a character
    /// is not in the table).
    fn may_hold_folded(&self, key: &str) -> bool {
        let mut chars = key.chars();
        let Some(a) = chars.next() else { return true };
        let lower = |c: char| fold::info(c).map(|i| i.lower);
        let (Some(a), b) = (lower(a), chars.next()) else { return true };
        let b = match b {
            Some(b) => match lower(b) {
                Some(b) => Some(b),
                None => return true,
            },
            None => None,
        };
        self.has(Self::char_index(a, b))
    }
}

const ABBREVIATIONS: &str = include_str!("../../config/lexicon/abbreviations.tsv");
const UNITS: &str = include_str!("../../config/lexicon/units.tsv");
const WORDS: &str = include_str!("../../config/lexicon/words.tsv");

/// What kind of entry a lexicon line defines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// Abbreviation or acronym, matched exactly ("HĐND").
    Abbr,
    /// Unit or currency, read only after a number ("km", "đ").
    Unit,
    /// A word with a fixed reading, matched in any case ("Covid").
    Word,
}

/// A lexicon file that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum LexiconError {
    #[error("cannot read lexicon file {path}")]
    Read { path: String, source: std::io::Error },
    #[error("{path}:{line}: {message}")]
    Syntax { path: String, line: usize, message: String },
}

/// Abbreviations, units and words with their spoken forms.
#[derive(Debug, Clone, Default)]
pub struct Lexicon {
    abbr: Map,
    units: Map,
    /// Units by lower-cased key, for numbers written with a unit in another
    /// case ("8gb", "144hz"); the first unit of a lower-cased key wins, and
    /// one-letter keys other than v, w and l are left out ("5a" is no ampere).
    units_any_case: Map,
    words: Map,
    abbr_prefixes: Prefixes,
    units_prefixes: Prefixes,
    /// By their first two characters (lower case): see [`Prefixes::may_hold_folded`].
    units_any_case_prefixes: Prefixes,
    words_prefixes: Prefixes,
    longest_abbr: usize,
    longest_word: usize,
}

impl Lexicon {
    /// The tables shipped in `config/lexicon/`.
    pub fn builtin() -> Lexicon {
        let mut lex = Lexicon::default();
        // The embedded tables are compiled in and checked, strictly, by the
        // test `builtin_tables_parse`, so they cannot fail here.
        let _ = lex.add_text(ABBREVIATIONS, "config/lexicon/abbreviations.tsv", EntryKind::Abbr, false);
        let _ = lex.add_text(UNITS, "config/lexicon/units.tsv", EntryKind::Unit, false);
        let _ = lex.add_text(WORDS, "config/lexicon/words.tsv", EntryKind::Word, false);
        lex
    }

    /// Adds a user file; its entries override built-in ones.
    pub fn add_file(&mut self, path: &Path) -> Result<(), LexiconError> {
        let bytes = std::fs::read(path)
            .map_err(|source| LexiconError::Read { path: path.display().to_string(), source })?;
        let text = String::from_utf8(bytes).map_err(|e| {
            let offset = e.utf8_error().valid_up_to();
            let line = e.as_bytes()[..offset].iter().filter(|&&b| b == b'\n').count() + 1;
            LexiconError::Syntax {
                path: path.display().to_string(),
                line,
                message: format!("not valid UTF-8 (byte offset {offset})"),
            }
        })?;
        self.add_text(&text, &path.display().to_string(), EntryKind::Abbr, true)
    }

    /// Parses TSV `text`; `default_kind` applies to two-column lines.
    /// Duplicate keys within one file are an error when `strict`.
    pub fn add_text(
        &mut self,
        text: &str,
        origin: &str,
        default_kind: EntryKind,
        strict: bool,
    ) -> Result<(), LexiconError> {
        let mut seen: HashMap<(u8, String), usize> = HashMap::new();
        for (i, raw) in text.lines().enumerate() {
            let line_no = i + 1;
            let line = raw.trim_end_matches('\r');
            if line.trim().is_empty() || line.trim_start().starts_with('#') {
                continue;
            }
            let err = |message: String| LexiconError::Syntax { path: origin.into(), line: line_no, message };
            let cols: Vec<&str> = line.split('\t').collect();
            let (kind, key, value) = match cols.as_slice() {
                [k, v] => (default_kind, *k, *v),
                [kind, k, v] => {
                    let kind = match kind.trim() {
                        "abbr" => EntryKind::Abbr,
                        "unit" => EntryKind::Unit,
                        "word" => EntryKind::Word,
                        other => return Err(err(format!("unknown kind {other:?} (use abbr, unit or word)"))),
                    };
                    (kind, *k, *v)
                }
                _ => {
                    return Err(err(format!(
                        "expected KEY<TAB>SPOKEN or KIND<TAB>KEY<TAB>SPOKEN, found {} column(s)",
                        cols.len()
                    )));
                }
            };
            let (key, value) = (key.trim(), value.trim());
            if key.is_empty() || value.is_empty() {
                return Err(err("empty key or spoken form".into()));
            }
            if key.chars().any(char::is_whitespace) {
                return Err(err(format!("key {key:?} contains white space")));
            }
            if strict && let Some(first) = seen.insert((kind as u8, key.to_string()), line_no) {
                return Err(err(format!("duplicate key {key:?} (first on line {first})")));
            }
            self.insert(kind, key, value);
        }
        Ok(())
    }

    /// Adds or replaces one entry.
    pub fn insert(&mut self, kind: EntryKind, key: &str, spoken: &str) {
        let spoken = spoken.to_string();
        match kind {
            EntryKind::Abbr => {
                self.longest_abbr = self.longest_abbr.max(key.len());
                self.abbr_prefixes.insert(key);
                self.abbr.insert(key.to_string(), spoken);
            }
            EntryKind::Unit => {
                let folded = key.to_lowercase();
                if folded.chars().count() >= 2 || matches!(folded.as_str(), "v" | "w" | "l") {
                    self.units_any_case_prefixes.insert_folded(&folded);
                    self.units_any_case.entry(folded).or_insert_with(|| spoken.clone());
                }
                self.units_prefixes.insert(key);
                self.units.insert(key.to_string(), spoken);
            }
            EntryKind::Word => {
                self.longest_word = self.longest_word.max(key.len());
                let folded = key.to_lowercase();
                self.words_prefixes.insert_folded(&folded);
                self.words.insert(folded, spoken);
            }
        }
    }

    /// Spoken form of an abbreviation, matched exactly.
    pub fn abbr(&self, key: &str) -> Option<&str> {
        if key.len() > self.longest_abbr || !self.abbr_prefixes.may_hold(key) {
            return None;
        }
        self.abbr.get(key).map(String::as_str)
    }

    /// Spoken form of a unit or currency, matched exactly.
    pub fn unit(&self, key: &str) -> Option<&str> {
        if !self.units_prefixes.may_hold(key) {
            return None;
        }
        self.units.get(key).map(String::as_str)
    }

    /// Spoken form of a unit written in any case ("gb" → GB), for use right
    /// after a number.
    pub fn unit_any_case(&self, key: &str) -> Option<&str> {
        if let Some(u) = self.unit(key) {
            return Some(u);
        }
        if key.len() > 12 || !self.units_any_case_prefixes.may_hold_folded(key) {
            return None;
        }
        fold::with_lower(key, |folded| self.units_any_case.get(folded).map(String::as_str))
    }

    /// Spoken form of a word, matched in any case.
    pub fn word(&self, key: &str) -> Option<&str> {
        if key.len() > self.longest_word {
            return None;
        }
        if !self.words_prefixes.may_hold_folded(key) {
            return None;
        }
        let get = |key: &str| self.words.get(key).map(String::as_str);
        if !fold::has_upper(key) {
            return get(key);
        }
        fold::with_lower(key, get)
    }

    /// Number of entries of each kind: (abbreviations, units, words).
    pub fn len(&self) -> (usize, usize, usize) {
        (self.abbr.len(), self.units.len(), self.words.len())
    }

    pub fn is_empty(&self) -> bool {
        self.abbr.is_empty() && self.units.is_empty() && self.words.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_tables_parse() {
        let mut lex = Lexicon::default();
        lex.add_text(ABBREVIATIONS, "abbreviations.tsv", EntryKind::Abbr, true).unwrap();
        lex.add_text(UNITS, "units.tsv", EntryKind::Unit, true).unwrap();
        lex.add_text(WORDS, "words.tsv", EntryKind::Word, true).unwrap();
        let (abbr, units, _) = lex.len();
        assert!(abbr >= 300, "only {abbr} abbreviations");
        assert!(units >= 20, "only {units} units");
        for key in ["HĐND", "NTM", "VH,TT&TT", "GD&ĐT", "KT-XH", "UBND", "TP.HCM"] {
            assert!(lex.abbr(key).is_some(), "{key} missing");
        }
    }

    #[test]
    fn user_lines_override_and_errors_name_file_and_line() {
        let mut lex = Lexicon::builtin();
        lex.add_text(
            "# mine\nNTM\tnông thôn mới kiểu mẫu\nunit\tsào\tsào bắc bộ\n",
            "u.tsv",
            EntryKind::Abbr,
            true,
        )
        .unwrap();
        assert_eq!(lex.abbr("NTM"), Some("nông thôn mới kiểu mẫu"));
        assert_eq!(lex.unit("sào"), Some("sào bắc bộ"));
        let err = lex.add_text("A\tb\nbroken line\n", "u.tsv", EntryKind::Abbr, true).unwrap_err();
        assert_eq!(
            err.to_string(),
            "u.tsv:2: expected KEY<TAB>SPOKEN or KIND<TAB>KEY<TAB>SPOKEN, found 1 column(s)"
        );
        let err = lex.add_text("A\tb\nA\tc\n", "u.tsv", EntryKind::Abbr, true).unwrap_err();
        assert!(err.to_string().starts_with("u.tsv:2: duplicate key"), "{err}");
        let err = lex.add_text("thing\tA\tb\n", "u.tsv", EntryKind::Abbr, true).unwrap_err();
        assert!(err.to_string().contains("unknown kind"), "{err}");
    }

    #[test]
    fn words_match_in_any_case() {
        let mut lex = Lexicon::builtin();
        for (key, probe) in [("ΑΣ", "ΑΣ"), ("İz", "İZ"), ("đảo", "ĐẢO"), ("ǅx", "ǄX"), ("q", "Q")]
        {
            lex.insert(EntryKind::Word, key, "x");
            lex.insert(EntryKind::Unit, key, "y");
            assert_eq!(lex.word(probe), lex.words.get(&probe.to_lowercase()).map(String::as_str), "{probe}");
            assert_eq!(lex.word(probe).is_some(), probe.to_lowercase() == key.to_lowercase(), "{probe}");
        }
        assert_eq!(lex.word("COVID"), lex.word("covid"));
        assert!(lex.word("Covid").is_some());
    }
}
