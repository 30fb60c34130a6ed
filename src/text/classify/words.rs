//! Classification of chunks without digits: abbreviations and units from
//! the lexicon, Roman numerals after their keywords, all-capital words and
//! acronyms, domain names and ordinary words.

use super::super::lexicon::Lexicon;
use super::super::syllable::is_vietnamese_syllable;
use super::{Class, Classifier, Decision, TITLE_ABBREVIATIONS, is_caps_word, roman_here};

/// Denominators after "/" that are words rather than lexicon units.
const PER_UNITS: &[(&str, &str)] = &[("h", "giờ"), ("s", "giây"), ("ph", "phút")];

/// Top-level domains read by letter names.
const TLDS: &[&str] = &["vn", "com", "net", "org", "gov", "edu", "info", "int", "io"];

/// Characters that separate the pieces of a code ("QĐ-UBND", "15/2023").
pub fn is_piece_separator(c: char) -> bool {
    matches!(c, '/' | '-' | '–' | '_')
}

/// Words after "/" read "trên" ("đồng/hộ/năm", "kg gạo/tháng", "6,6%/năm").
pub const PER_WORDS: &[&str] = &[
    "năm",
    "tháng",
    "ngày",
    "tuần",
    "giờ",
    "quý",
    "người",
    "hộ",
    "lượt",
    "khẩu",
    "con",
    "suất",
    "buổi",
    "ca",
    "lần",
    "lớp",
    "xã",
    "thôn",
    "em",
    "cháu",
    "trẻ",
    "tấn",
    "tạ",
    "yến",
    "lít",
    "cây",
    "sào",
    "vụ",
    "chuyến",
    "trường",
];

/// Spoken form of a unit expression: "km", "m²", "km/h", "đồng/kg",
/// "đồng/hộ/năm" (each "/" is read "trên"). With `loose`, used right after
/// a quantity, the first part may be any word ("tạ/ha", "gạo/tháng").
pub fn unit_expr(lex: &Lexicon, s: &str, loose: bool) -> Option<String> {
    if let Some(u) = lex.unit(s) {
        return Some(u.to_string());
    }
    let parts: Vec<&str> = s.split('/').collect();
    if parts.len() < 2 || parts.iter().any(|p| p.is_empty()) {
        return None;
    }
    let first = match lex.unit(parts[0]) {
        Some(u) => u.to_string(),
        None if (loose || parts[0] == "đồng") && parts[0].chars().all(char::is_alphabetic) => {
            parts[0].to_lowercase()
        }
        None => return None,
    };
    let mut out = vec![first];
    for p in &parts[1..] {
        out.push(per_word(lex, p)?);
    }
    Some(out.join(" trên "))
}

/// A denominator after "/": a unit, "h", or a counting word.
pub fn per_word(lex: &Lexicon, p: &str) -> Option<String> {
    lex.unit(p)
        .map(String::from)
        .or_else(|| PER_UNITS.iter().find(|(k, _)| *k == p).map(|(_, v)| v.to_string()))
        .or_else(|| PER_WORDS.contains(&p.to_lowercase().as_str()).then(|| p.to_lowercase()))
}

/// Reads one piece of a code: a lexicon key, a number, a word or letters.
pub fn read_piece(c: &Classifier<'_>, s: &str) -> Class {
    if s.bytes().all(|b| b.is_ascii_digit()) {
        return if s.len() > 1 && s.starts_with('0') {
            Class::Digits(s.into())
        } else {
            Class::Cardinal(s.into())
        };
    }
    if let Some(num) = super::numeric::parse_plain(s) {
        return num;
    }
    if let Some(exp) = c.lex.abbr(s).or_else(|| c.lex.word(s)) {
        return Class::Lexicon(exp.into());
    }
    if let Some(u) = c.lex.unit(s).filter(|_| s.chars().count() > 1) {
        return Class::Lexicon(u.into());
    }
    if s.bytes().any(|b| b.is_ascii_digit()) {
        // Digits in an odd shape ("0.0,0"): each run read, "." chấm, "," phẩy.
        if !s.contains(['.', ',']) {
            return Class::Spell(s.into());
        }
        let mut parts = Vec::new();
        let mut start = 0;
        for (k, ch) in s.char_indices().filter(|&(_, ch)| matches!(ch, '.' | ',')).chain([(s.len(), ' ')]) {
            if k > start {
                parts.push(read_piece(c, &s[start..k]));
            }
            if ch != ' ' {
                parts.push(Class::Symbol(if ch == '.' { "chấm" } else { "phẩy" }));
            }
            start = k + ch.len_utf8();
        }
        return Class::Seq(parts);
    }
    word_class(s).0
}

/// Class of a plain word by its shape: Vietnamese words are read, acronyms spelled.
fn word_class(s: &str) -> (Class, &'static str) {
    let letters = s.chars().filter(|c| c.is_alphabetic()).count();
    let uppers = s.chars().filter(|c| c.is_uppercase()).count();
    if letters == 1 && uppers == 1 {
        return (Class::Spell(s.into()), "letter");
    }
    if uppers >= 2 && !is_caps_word(s) && !is_vietnamese_syllable(s) {
        return (Class::Spell(s.into()), "acronym-spelled");
    }
    if uppers == letters && letters >= 2 {
        return (Class::Word(s.to_lowercase()), "caps-word");
    }
    (Class::Word(s.to_lowercase()), "word")
}

/// Classifies the word chunk at `i`.
pub fn word_at(c: &Classifier<'_>, i: usize) -> Decision {
    let tok = c.toks[i];
    let s = tok.text;
    let next = c.toks.get(i + 1);
    let next_is_dot = next.is_some_and(|t| t.is_punct("."));
    // "kh" after a percentage: "110 % kh năm" → kế hoạch.
    if matches!(s, "kh" | "KH") && c.last_spoken().is_some_and(|it| it.rule == "percent") {
        return (1, Class::Lexicon("kế hoạch".into()), "plan-after-percent");
    }
    // Units, only right after a quantity ("3,2 km", "12 triệu USD").
    if c.after_quantity()
        && let Some(u) = unit_expr(c.lex, s, true)
    {
        return (1, Class::Lexicon(u), "unit");
    }
    // A dotted abbreviation: "v.v." or "TP." with its dot.
    if next_is_dot {
        let dotted = format!("{s}.");
        if let Some(exp) = c.lex.abbr(&dotted) {
            return (2, Class::Lexicon(exp.into()), "abbreviation");
        }
    }
    if let Some(exp) = c.lex.abbr(s) {
        // A title's dot is not a pause: "TP. Hồ Chí Minh", "TS. Lê".
        let title_dot = next_is_dot
            && TITLE_ABBREVIATIONS.contains(&s)
            && c.toks.get(i + 2).is_some_and(|t| t.text.starts_with(char::is_uppercase));
        return (if title_dot { 2 } else { 1 }, Class::Lexicon(exp.into()), "abbreviation");
    }
    if let Some(exp) = c.lex.word(s) {
        return (1, Class::Lexicon(exp.into()), "lexicon-word");
    }
    if let Some(v) = roman_here(c, i, s) {
        if c.prev_word(i).as_deref() == Some("thứ") {
            return (1, Class::Ordinal(v as u64), "roman-ordinal");
        }
        return (1, Class::Roman(v), "roman");
    }
    // Units that cannot be words (m², km/h, °C) read anywhere.
    if s.contains(['²', '³', '°', '/'])
        && let Some(u) = unit_expr(c.lex, s, false)
    {
        return (1, Class::Lexicon(u), "unit");
    }
    // Domain names: "baochinhphu.vn", "www.langson.gov.vn".
    if s.contains('.')
        && let Some(tld) = s.rsplit('.').next()
        && TLDS.contains(&tld.to_lowercase().as_str())
    {
        let parts: Vec<Class> = s
            .split('.')
            .enumerate()
            .map(|(k, p)| {
                let tld = k > 0 && TLDS.contains(&p.to_lowercase().as_str()) && p.len() <= 3 && p != "com";
                let cls = if tld || p.eq_ignore_ascii_case("www") {
                    Class::Spell(p.into())
                } else {
                    Class::Word(p.to_lowercase())
                };
                if k == 0 { cls } else { Class::Seq(vec![Class::Symbol("chấm"), cls]) }
            })
            .collect();
        return (1, Class::Seq(parts), "domain");
    }
    // "gạo/tháng", "người/năm": a word per a counting word.
    if let Some((head, tail)) = s.rsplit_once('/')
        && head.chars().all(char::is_alphabetic)
        && let Some(per) = per_word(c.lex, tail)
    {
        return (1, Class::Seq(vec![word_class(head).0, Class::Symbol("trên"), Class::Word(per)]), "per");
    }
    if s.contains(|ch: char| super::super::token::is_connector(ch)) {
        let parts = super::numeric::read_parts(c, s);
        let rule =
            if parts.iter().any(|p| matches!(p, Class::Spell(_))) { "acronym-spelled" } else { "compound" };
        return (1, Class::Seq(parts), rule);
    }
    // A capital letter that is a Vietnamese word before a lower-case word: "Y tế".
    if s.chars().count() == 1
        && is_vietnamese_syllable(s)
        && c.toks.get(i + 1).is_some_and(|t| t.is_chunk() && t.text.starts_with(char::is_lowercase))
    {
        return (1, Class::Word(s.to_lowercase()), "word");
    }
    let (class, rule) = word_class(s);
    (1, class, rule)
}
