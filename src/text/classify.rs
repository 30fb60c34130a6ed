//! Token classification: each token, read with its neighbours, becomes a
//! typed [`Class`] (a date, a range, a unit, an acronym to spell…) tagged
//! with the [`Rule`] that decided it. [`super::verbalize`] turns classes
//! into words; nothing here produces spoken text except lexicon expansions.
//!
//! The submodules split the work by what a chunk looks like: [`numeric`]
//! (numbers, ranges, scores, fractions, amounts), [`dates`] (dates and
//! times), [`codes`] (document numbers, plates, flight and train codes,
//! phone numbers), [`roman`] (Roman numerals), [`web`] (e-mail, domains,
//! hashtags) and [`words`] (units, abbreviations, letters and words).

use std::ops::Range;

use super::fold;
use super::lexicon::Lexicon;
use super::rule::Rule;
use super::syllable::is_vietnamese_syllable;
use super::token::{Tok, TokKind, tokenize};

mod codes;
mod dates;
mod numeric;
mod roman;
mod web;
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
    /// Letters of a code spelled with the short letter names ("SE" → ét e).
    SpellShort(String),
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
    /// A clock time or a duration in hours, minutes and seconds.
    Time { hour: u32, minute: Option<u32>, second: Option<u32> },
    /// "a đến b".
    Range(Box<Class>, Box<Class>),
    /// A score: "3-0" → "ba không".
    Score(Box<Class>, Box<Class>),
    /// "a trên b".
    Ratio(Box<Class>, Box<Class>),
    /// "a phần b" (4 → tư).
    Fraction(Box<Class>, Box<Class>),
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

    /// True for classes that read a quantity (units may follow them),
    /// including an amount with its multiplier ("35k" → ba mươi lăm nghìn).
    pub fn is_numeric(&self) -> bool {
        match self {
            Class::Cardinal(_)
            | Class::Grouped(_)
            | Class::Decimal(..)
            | Class::Range(..)
            | Class::Ratio(..)
            | Class::Fraction(..)
            | Class::Roman(_)
            | Class::Dotted(_) => true,
            Class::Seq(parts) => match parts.as_slice() {
                [.., q, Class::Word(m)] if is_multiplier(m) => q.is_numeric(),
                [.., last] => last.is_numeric(),
                [] => false,
            },
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
    /// The rule that decided the class (shown by `--explain`).
    pub rule: Rule,
}

/// Title abbreviations whose dot never ends a sentence ("TP. Hồ Chí Minh").
pub const TITLE_ABBREVIATIONS: &[&str] = &[
    "TP", "Tp", "TS", "ThS", "Ths", "Th.S", "GS", "PGS", "PGS.TS", "GS.TS", "BS", "KS", "CN", "Q", "P", "TX",
    "TT", "NXB", "Mr", "Mrs", "Ms", "Dr", "St", "ĐC", "Đ/c", "đ/c", "Tr", "tr", "Nxb", "Th", "ThS.BS",
    "TS.BS", "BSCKI", "BSCKII", "CKI", "CKII", "Lm", "LS", "NSND", "NSƯT", "NGND", "NGƯT", "H", "X",
];

/// Classifies `text` (one sentence or line) token by token.
pub fn classify(text: &str, lex: &Lexicon) -> Vec<Item> {
    let toks = tokenize(text);
    let mut c = Classifier { text, items: Vec::with_capacity(toks.len()), toks, lex };
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

type Decision = (usize, Class, Rule);

impl<'a> Classifier<'a> {
    fn classify_at(&self, i: usize) -> Decision {
        let tok = self.toks[i];
        match tok.kind {
            TokKind::Punct => self.punct(i),
            TokKind::Chunk if tok.has_digit() => numeric::number_at(self, i),
            TokKind::Chunk => words::word_at(self, i),
        }
    }

    /// Lower-cased text of the chunk right before token `i`, if any.
    pub fn prev_word(&self, i: usize) -> Option<String> {
        let t = self.toks.get(i.checked_sub(1)?)?;
        t.is_chunk().then(|| lower(t.text))
    }

    /// Texts (as written) of the chunks before `i`, nearest first, stopping
    /// at sentence punctuation.
    pub fn before(&self, i: usize) -> impl Iterator<Item = &'a str> + '_ {
        self.toks[..i.min(self.toks.len())]
            .iter()
            .rev()
            .take_while(|t| !(t.kind == TokKind::Punct && matches!(t.text, "." | ";" | "?" | "!")))
            .filter(|t| t.is_chunk())
            .map(|t| t.text)
    }

    /// True when one of the `n` chunks before `i` is one of `words`
    /// (compared in lower case).
    pub fn prev_has(&self, i: usize, n: usize, words: &[&str]) -> bool {
        self.before(i).take(n).any(|w| {
            let w = fold::lower_cow(w);
            words.contains(&w.as_ref())
        })
    }

    /// The chunk right after token `i` when it is a word (lower-cased).
    pub fn next_word(&self, i: usize) -> Option<String> {
        self.toks.get(i + 1).filter(|t| t.is_chunk()).map(|t| lower(t.text))
    }

    /// The last item that says something.
    pub fn last_spoken(&self) -> Option<&Item> {
        self.items.iter().rev().find(|it| !matches!(it.class, Class::Silent))
    }

    /// The spoken items, newest first.
    pub fn spoken_back(&self) -> impl Iterator<Item = &Item> + '_ {
        self.items.iter().rev().filter(|it| !matches!(it.class, Class::Silent))
    }

    /// True when one of the last `n` spoken items reads a quantity.
    pub fn recent_quantity(&self, n: usize) -> bool {
        self.spoken_back().take(n).any(|it| it.class.is_numeric())
    }

    /// True when a unit may follow: right after a quantity, or after a
    /// quantity and a multiplier word ("12 triệu USD").
    pub fn after_quantity(&self) -> bool {
        let mut spoken = self.spoken_back();
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
            "./." => return (1, Class::Pause('.'), Rule::EndMark),
            // The dot after initials before a bracket or a lower-case word: "N.V.T. (27 tuổi)".
            "." if !tok.space_before
                && i > 0
                && is_initials(self.toks[i - 1].text)
                && next.is_some_and(|n| n.is_punct("(") || n.text.starts_with(fold::is_lower)) =>
            {
                return (1, Class::Silent, Rule::Pause);
            }
            "." | "," | ";" | ":" | "?" | "!" => Class::Pause(tok.text.chars().next().unwrap_or('.')),
            "…" | "..." | "...." => Class::Pause(if last { '.' } else { ',' }),
            // Brackets are not read but pause: "cấp 14-15 (150-183 km/h)".
            "(" | ")" | "[" | "]" if self.last_spoken().is_some() && !last => {
                return (1, Class::Pause(','), Rule::Bracket);
            }
            "(" | ")" | "[" | "]" | "{" | "}" | "\"" | "“" | "”" | "‘" | "’" | "'" | "«" | "»" | "„"
            | "`" => {
                return (1, Class::Silent, Rule::Bracket);
            }
            "%" if self.after_quantity() => return (1, Class::Symbol("phần trăm"), Rule::Percent),
            "%" => return (1, Class::Symbol("phần trăm"), Rule::Symbol),
            "-" | "–" | "—" | "−" => return self.dash(i),
            "&" => return (1, Class::Symbol("và"), Rule::Symbol),
            // A "+" or "*" opening a line is a bullet: "+ Chi thường xuyên: …".
            "+" | "*" | "•" if self.last_spoken().is_none() => return (1, Class::Silent, Rule::Bullet),
            "#" if next.is_some_and(|n| n.is_chunk() && !n.space_before) => {
                return (2, web::hashtag(self, next.map_or("", |n| n.text)), Rule::Hashtag);
            }
            "|" => Class::Pause(','),
            // "đồng/kg", "%/năm", "₫/kWh": "/" after a unit, a currency or a percentage.
            "/" if self
                .last_spoken()
                .is_some_and(|it| matches!(it.rule, Rule::Percent | Rule::Unit | Rule::Money)) =>
            {
                if let Some(per) = next
                    .filter(|t| t.is_chunk() && !t.space_before)
                    .and_then(|t| words::per_word(self.lex, t.text))
                {
                    return (2, Class::Seq(vec![Class::Symbol("trên"), Class::Lexicon(per)]), Rule::Per);
                }
                return (1, Class::Silent, Rule::Bullet);
            }
            "/" | "\\" | "*" | "•" | "·" | "■" | "►" | "▪" | "●" | "○" | "◆" | "♦" | "→" | "_" | "^"
            | "~" => {
                return (1, Class::Silent, Rule::Bullet);
            }
            other => {
                if let Some(cur) = currency_symbol(other) {
                    return self.currency(i, cur);
                }
                return match symbol_word(other) {
                    Some(w) => (1, Class::Symbol(w), Rule::Symbol),
                    None => (1, Class::Unreadable(other.to_string()), Rule::Unreadable),
                };
            }
        };
        (1, class, Rule::Pause)
    }

    /// A currency sign: before its amount it is read after it ("€2,5 tỷ" →
    /// hai phẩy năm tỷ ơ rô); after an amount it is the currency.
    fn currency(&self, i: usize, name: &'static str) -> Decision {
        let next = self.toks.get(i + 1);
        if next.is_some_and(|t| {
            t.has_digit() && !t.space_before && t.text.starts_with(|c: char| c.is_ascii_digit())
        }) {
            let (used, num, _) = numeric::number_at(self, i + 1);
            let mut parts = vec![num];
            let mut consumed = 1 + used;
            if let Some(m) =
                self.toks.get(i + consumed).filter(|t| t.is_chunk() && is_multiplier(&lower(t.text)))
            {
                parts.push(Class::Word(lower(m.text)));
                consumed += 1;
            }
            parts.push(Class::Symbol(name));
            return (consumed, Class::Seq(parts), Rule::Money);
        }
        (1, Class::Symbol(name), if self.after_quantity() { Rule::Money } else { Rule::Symbol })
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
            let (used, num, _) = numeric::number_at(self, i + 1);
            if num.starts_numeric() {
                return (1 + used, Class::Negative(Box::new(num)), Rule::Negative);
            }
        }
        if starts_clause || next.is_none() {
            return (1, Class::Silent, Rule::Dash);
        }
        if next.is_some_and(|n| n.has_digit()) || !tok.space_before {
            return (1, Class::Silent, Rule::Dash);
        }
        (1, Class::Pause(','), Rule::Dash)
    }
}

pub use super::fold::{eq_lower, has_upper, lower};

/// True when `s` is one character.
pub fn one_char(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some() && chars.next().is_none()
}

/// Words that multiply a number ("12 triệu", "620 tỷ").
pub fn is_multiplier(w: &str) -> bool {
    matches!(w, "nghìn" | "ngàn" | "triệu" | "tỷ" | "tỉ" | "trăm" | "chục" | "vạn")
}

/// Spoken name of a currency sign.
pub fn currency_symbol(s: &str) -> Option<&'static str> {
    Some(match s {
        "$" => "đô la",
        "€" => "ơ rô",
        "£" => "bảng anh",
        "¥" => "yên",
        "₫" => "đồng",
        "₹" => "ru pi",
        "₩" => "won",
        "฿" => "bạt",
        _ => return None,
    })
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
        "°" => "độ",
        "§" => "mục",
        _ => return None,
    })
}

/// Initials written with dots: "N.V.T", "L.T.H".
pub fn is_initials(s: &str) -> bool {
    let mut letters = 0;
    for (k, part) in s.split('.').enumerate() {
        let mut chars = part.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) if fold::is_upper(c) => letters += 1,
            _ => return false,
        }
        if k > 6 {
            return false;
        }
    }
    letters >= 2
}

/// True for a syllable-shaped all-capital word ("XUÂN").
pub fn is_caps_word(text: &str) -> bool {
    text.chars().any(fold::is_alpha)
        && text.chars().all(|c| !fold::is_alpha(c) || fold::is_upper(c))
        && is_vietnamese_syllable(text)
}
