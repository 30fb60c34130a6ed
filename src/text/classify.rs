//! Token classification: each token, read with its neighbours, becomes a
//! typed [`Class`] (a date, a range, a unit, an acronym to spell…) tagged
//! with the rule that decided it. [`super::verbalize`] turns classes into
//! words; nothing here produces spoken text except lexicon expansions.

use std::ops::Range;

use super::lexicon::Lexicon;
use super::number::roman_value;
use super::syllable::is_vietnamese_syllable;
use super::token::{Tok, TokKind, tokenize};

mod numeric;
mod words;

/// What a stretch of text is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Class {
    /// An ordinary word, already lower-cased.
    Word(String),
    /// The item's own text, said as written (it is already lower case).
    Verbatim,
    /// A spoken form taken from the lexicon (abbreviation, unit, word).
    Lexicon(String),
    /// A fixed spoken word for a symbol ("và", "phần trăm").
    Symbol(&'static str),
    /// Letters spelled with their Vietnamese names (digits read one by one).
    Spell(String),
    /// An integer written as plain digits (leading zeros not read).
    Cardinal(String),
    /// An integer with thousands separators ("1.213.353").
    Grouped(String),
    /// Integer and fraction digits of a decimal ("3,31").
    Decimal(String, String),
    /// Digits read one by one (phone numbers, codes, very long runs).
    Digits(String),
    /// Dotted numbers read with "chấm" ("4.0").
    Dotted(Vec<String>),
    /// Ordinal after "thứ" (1 → nhất, 4 → tư).
    Ordinal(u64),
    /// A Roman numeral's value read as a number.
    Roman(u32),
    /// Month number after "tháng" (4 → tư).
    Month(u32),
    /// A date; `ngay`/`thang` say whether to say the leading word.
    Date { day: Option<u32>, month: u32, year: Option<String>, ngay: bool, thang: bool },
    /// A clock time.
    Time { hour: u32, minute: Option<u32> },
    /// "a đến b".
    Range(Box<Class>, Box<Class>),
    /// A score: "3-0" → "ba không".
    Score(Box<Class>, Box<Class>),
    /// "a trên b".
    Ratio(Box<Class>, Box<Class>),
    /// "âm a".
    Negative(Box<Class>),
    /// Parts read one after another.
    Seq(Vec<Class>),
    /// A pause mark kept in the spoken text (`, ; : . ? !`).
    Pause(char),
    /// Nothing is said (brackets, quotes, "./.").
    Silent,
    /// A symbol loa cannot read; nothing is said and `--explain` lists it.
    Unreadable(String),
}

impl Class {
    /// True for a quantity, or a quantity followed by its unit ("2°C").
    pub fn starts_numeric(&self) -> bool {
        match self {
            Class::Seq(parts) => parts.first().is_some_and(Class::is_numeric),
            c => c.is_numeric(),
        }
    }

    /// True for classes that read a quantity (units may follow them).
    pub fn is_numeric(&self) -> bool {
        match self {
            Class::Cardinal(_)
            | Class::Grouped(_)
            | Class::Decimal(..)
            | Class::Range(..)
            | Class::Ratio(..)
            | Class::Roman(_)
            | Class::Dotted(_) => true,
            Class::Seq(parts) => parts.last().is_some_and(Class::is_numeric),
            _ => false,
        }
    }
}

/// One classified stretch of the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// Byte span in the classified text.
    pub span: Range<usize>,
    pub class: Class,
    /// Name of the rule that decided the class (shown by `--explain`).
    pub rule: &'static str,
}

/// Words after which a bare Roman numeral is read as a number.
const ROMAN_KEYWORDS: &[&str] = &[
    "khóa", "khoá", "thứ", "kỷ", "kỉ", "quý", "chương", "phần", "hạng", "điều", "mục", "tập", "đợt", "kỳ",
    "kì", "lần", "loại", "nhóm", "cấp", "bài", "phụ", "vùng", "khu", "tiểu",
];

/// Title abbreviations whose dot never ends a sentence ("TP. Hồ Chí Minh").
pub const TITLE_ABBREVIATIONS: &[&str] = &[
    "TP", "Tp", "TS", "ThS", "Ths", "Th.S", "GS", "PGS", "PGS.TS", "GS.TS", "BS", "KS", "CN", "Q", "P", "TX",
    "TT", "NXB", "Mr", "Mrs", "Ms", "Dr", "St", "ĐC", "Đ/c", "đ/c", "Tr", "tr", "Nxb", "Th", "ThS.BS",
    "TS.BS", "BSCKI", "BSCKII", "CKI", "CKII", "Lm", "LS", "NSND", "NSƯT", "NGND", "NGƯT",
];

/// Classifies `text` (one sentence or line) token by token.
pub fn classify(text: &str, lex: &Lexicon) -> Vec<Item> {
    let toks = tokenize(text);
    let mut c = Classifier { text, toks, lex, items: Vec::new() };
    let mut i = 0;
    while i < c.toks.len() {
        let (n, class, rule) = c.classify_at(i);
        let n = n.max(1).min(c.toks.len() - i);
        let span = c.toks[i].start..c.toks[i + n - 1].end();
        c.items.push(Item { span, class, rule });
        i += n;
    }
    c.items
}

pub(super) struct Classifier<'a> {
    pub text: &'a str,
    pub toks: Vec<Tok<'a>>,
    pub lex: &'a Lexicon,
    pub items: Vec<Item>,
}

type Decision = (usize, Class, &'static str);

impl<'a> Classifier<'a> {
    fn classify_at(&self, i: usize) -> Decision {
        let tok = self.toks[i];
        match tok.kind {
            TokKind::Punct => self.punct(i),
            TokKind::Chunk if tok.has_digit() => self.number_at(i),
            TokKind::Chunk => self.word_at(i),
        }
    }

    /// Lower-cased text of the chunk right before token `i`, if any.
    pub fn prev_word(&self, i: usize) -> Option<String> {
        let t = self.toks.get(i.checked_sub(1)?)?;
        t.is_chunk().then(|| lower(t.text))
    }

    /// Lower-cased texts of up to `n` chunks before `i`, nearest first,
    /// stopping at sentence punctuation.
    pub fn prev_words(&self, i: usize, n: usize) -> Vec<String> {
        let mut out = Vec::new();
        for t in self.toks[..i].iter().rev() {
            if out.len() == n || (t.kind == TokKind::Punct && matches!(t.text, "." | ";" | "?" | "!")) {
                break;
            }
            if t.is_chunk() {
                out.push(lower(t.text));
            }
        }
        out
    }

    /// The last item that says something.
    pub fn last_spoken(&self) -> Option<&Item> {
        self.items.iter().rev().find(|it| !matches!(it.class, Class::Silent))
    }

    /// True when one of the last `n` spoken items reads a quantity.
    pub fn recent_quantity(&self, n: usize) -> bool {
        self.items
            .iter()
            .rev()
            .filter(|it| !matches!(it.class, Class::Silent))
            .take(n)
            .any(|it| it.class.is_numeric())
    }

    /// True when a unit may follow: right after a quantity, or after a
    /// quantity and a multiplier word ("12 triệu USD").
    pub fn after_quantity(&self) -> bool {
        let mut spoken = self.items.iter().rev().filter(|it| !matches!(it.class, Class::Silent));
        match spoken.next() {
            Some(it) if it.class.is_numeric() => true,
            Some(it) if matches!(it.class, Class::Word(_) | Class::Verbatim) => {
                let w = match &it.class {
                    Class::Word(w) => w.as_str(),
                    _ => &self.text[it.span.clone()],
                };
                is_multiplier(w) && spoken.next().is_some_and(|it| it.class.is_numeric())
            }
            _ => false,
        }
    }

    fn punct(&self, i: usize) -> Decision {
        let tok = self.toks[i];
        let next = self.toks.get(i + 1);
        let last = i + 1 == self.toks.len();
        let class = match tok.text {
            "./." => return (1, Class::Pause('.'), "end-mark"),
            "." | "," | ";" | ":" | "?" | "!" => Class::Pause(tok.text.chars().next().unwrap_or('.')),
            "…" | "..." | "...." => Class::Pause(if last { '.' } else { ',' }),
            // Brackets are not read but pause: "cấp 14-15 (150-183 km/h)".
            "(" | ")" | "[" | "]" if self.last_spoken().is_some() && !last => {
                return (1, Class::Pause(','), "bracket");
            }
            "(" | ")" | "[" | "]" | "{" | "}" | "\"" | "“" | "”" | "‘" | "’" | "'" | "«" | "»" | "„"
            | "`" => {
                return (1, Class::Silent, "bracket");
            }
            "%" if self.after_quantity() => return (1, Class::Symbol("phần trăm"), "percent"),
            "%" => return (1, Class::Symbol("phần trăm"), "symbol"),
            "$" => {
                if next.is_some_and(|t| t.has_digit() && !t.space_before) {
                    let (used, num, _) = self.number_at(i + 1);
                    let mut parts = vec![num];
                    let mut consumed = 1 + used;
                    if let Some(m) =
                        self.toks.get(i + consumed).filter(|t| is_multiplier(&t.text.to_lowercase()))
                    {
                        parts.push(Class::Word(m.text.to_lowercase()));
                        consumed += 1;
                    }
                    parts.push(Class::Symbol("đô la"));
                    return (consumed, Class::Seq(parts), "money");
                }
                return (1, Class::Symbol("đô la"), if self.after_quantity() { "money" } else { "symbol" });
            }
            "-" | "–" | "—" | "−" => return self.dash(i),
            "&" => return (1, Class::Symbol("và"), "symbol"),
            // A "+" or "*" opening a line is a bullet: "+ Chi thường xuyên: …".
            "+" | "*" | "•" if self.last_spoken().is_none() => return (1, Class::Silent, "bullet"),
            "|" => Class::Pause(','),
            "/" if next.is_some_and(|t| t.is_chunk() && words::per_word(self.lex, t.text).is_some())
                && self.last_spoken().is_some_and(|it| matches!(it.rule, "percent" | "unit" | "money")) =>
            {
                return (1, Class::Symbol("trên"), "per");
            }
            "/" | "\\" | "*" | "•" | "·" | "■" | "►" | "▪" | "●" | "○" | "◆" | "♦" | "→" | "_" | "^"
            | "~" => {
                return (1, Class::Silent, "bullet");
            }
            other => match symbol_word(other) {
                Some(w) => return (1, Class::Symbol(w), "symbol"),
                None => return (1, Class::Unreadable(other.to_string()), "unreadable"),
            },
        };
        (1, class, "pause")
    }

    fn dash(&self, i: usize) -> Decision {
        let tok = self.toks[i];
        let next = self.toks.get(i + 1);
        let starts_clause = self.last_spoken().is_none_or(|it| matches!(it.class, Class::Pause(_)));
        if let Some(n) = next
            && n.has_digit()
            && !n.space_before
            && (tok.space_before || starts_clause)
            && !self.last_spoken().is_some_and(|it| it.class.is_numeric())
            && n.text.starts_with(|c: char| c.is_ascii_digit())
        {
            let (used, num, _) = self.number_at(i + 1);
            if num.starts_numeric() {
                return (1 + used, Class::Negative(Box::new(num)), "negative");
            }
        }
        if starts_clause || next.is_none() {
            return (1, Class::Silent, "dash");
        }
        if next.is_some_and(|n| n.has_digit()) || !tok.space_before {
            return (1, Class::Silent, "dash");
        }
        (1, Class::Pause(','), "dash")
    }

    fn word_at(&self, i: usize) -> Decision {
        words::word_at(self, i)
    }

    fn number_at(&self, i: usize) -> Decision {
        numeric::number_at(self, i)
    }
}

/// Lower case, without the Unicode tables when the text is already lower case.
pub fn lower(s: &str) -> String {
    if has_upper(s) { s.to_lowercase() } else { s.to_string() }
}

/// Words that multiply a number ("12 triệu", "620 tỷ").
pub fn is_multiplier(w: &str) -> bool {
    matches!(w, "nghìn" | "ngàn" | "triệu" | "tỷ" | "tỉ" | "trăm" | "chục" | "vạn")
}

/// Spoken word for a standalone symbol.
fn symbol_word(s: &str) -> Option<&'static str> {
    Some(match s {
        "+" => "cộng",
        "=" => "bằng",
        ">" => "lớn hơn",
        "<" => "nhỏ hơn",
        "≥" => "lớn hơn hoặc bằng",
        "≤" => "nhỏ hơn hoặc bằng",
        "±" => "cộng trừ",
        "×" => "nhân",
        "÷" => "chia",
        "@" => "a còng",
        "#" => "thăng",
        "№" => "số",
        "‰" => "phần nghìn",
        "€" => "ơ rô",
        "£" => "bảng anh",
        "¥" => "yên",
        "°" => "độ",
        "§" => "mục",
        _ => return None,
    })
}

/// The value of a Roman numeral read as a number here: after one of its
/// keywords ("khóa XV", "Đại hội XIII"), or, when `bare` allows it, an
/// unambiguous multi-letter I/V/X numeral with no keyword ("XXI").
pub(super) fn roman_here(c: &Classifier<'_>, i: usize, text: &str, bare: bool) -> Option<u32> {
    let v = roman_value(text)?;
    let words = c.prev_words(i, 2);
    let keyword = words.first().is_some_and(|w| {
        ROMAN_KEYWORDS.contains(&w.as_str()) || (w == "hội" && words.get(1).is_some_and(|p| p == "đại"))
    });
    let unambiguous = bare && text.len() >= 2 && text.bytes().all(|b| matches!(b, b'I' | b'V' | b'X'));
    (keyword || unambiguous).then_some(v)
}

/// A Roman numeral's class and rule: an ordinal after "thứ" ("lần thứ IV"
/// → thứ tư), otherwise the plain number.
pub(super) fn roman_class(c: &Classifier<'_>, i: usize, v: u32) -> (Class, &'static str) {
    if c.prev_word(i).as_deref() == Some("thứ") {
        (Class::Ordinal(v as u64), "roman-ordinal")
    } else {
        (Class::Roman(v), "roman")
    }
}

/// True when `s` has an upper-case letter (ASCII checked without tables).
pub fn has_upper(s: &str) -> bool {
    s.chars().any(|ch| if ch.is_ascii() { ch.is_ascii_uppercase() } else { ch.is_uppercase() })
}

/// True for a syllable-shaped all-capital word ("XUÂN").
pub fn is_caps_word(text: &str) -> bool {
    text.chars().any(char::is_alphabetic)
        && text.chars().all(|c| !c.is_alphabetic() || c.is_uppercase())
        && is_vietnamese_syllable(text)
}
