//! Roman numerals: after their keywords ("khóa XV", "chương vii", "phụ lục
//! III", "giai đoạn II"), in the names of monarchs and popes ("Vua Charles
//! V", "Giáo hoàng Benedict XVI"), after "năm" when they write a year
//! ("năm MMXXIII"), and bare multi-letter I/V/X numerals ("thế kỷ XXI").
//! A single L, C, D or M is a letter ("Phần C", "mục D"), and a lower-case
//! numeral that is also a Vietnamese syllable ("vi", "xi", "di") is a
//! numeral only where no word follows it.

use super::super::fold;
use super::super::number::roman_value;
use super::super::syllable::is_vietnamese_syllable;
use super::{Class, Classifier, Rule, eq_lower};

/// Words after which a Roman numeral is read as a number.
const KEYWORDS: &[&str] = &[
    "khóa", "khoá", "thứ", "kỷ", "kỉ", "quý", "chương", "phần", "hạng", "điều", "mục", "tập", "đợt", "kỳ",
    "kì", "lần", "loại", "nhóm", "cấp", "bài", "vùng", "khu", "tiểu", "đoạn", "khoản", "số", "hội", "lục",
    "tiết", "quyển", "cuốn",
];

/// Words that name a monarch or a pope, a few words before the name.
const MONARCH: &[&str] = &["vua", "hoàng", "đế", "vương", "king", "queen", "pope", "thánh"];

/// Words that may follow a lower-case numeral which is also a syllable
/// ("chương vi của …"); any other word makes it a word ("phần vi phạm").
const AFTER_NUMERAL: &[&str] = &[
    "của", "và", "về", "được", "có", "là", "gồm", "quy", "nêu", "theo", "với", "này", "trong", "thuộc",
    "tại", "đã", "sẽ", "ban", "hướng", "nói", "đến", "tới", "hoặc", "cũng", "thì", "mà", "đều", "vẫn",
];

/// The value of a Roman numeral read as a number at token `i`, or `None`.
/// With `bare`, an unambiguous multi-letter I/V/X numeral needs no keyword.
pub(super) fn roman_here(c: &Classifier<'_>, i: usize, text: &str, bare: bool) -> Option<u32> {
    // Most words are no numeral: decide that before allocating.
    if text.is_empty()
        || text.len() > 15
        || !text
            .bytes()
            .all(|b| matches!(b.to_ascii_uppercase(), b'I' | b'V' | b'X' | b'L' | b'C' | b'D' | b'M'))
    {
        return None;
    }
    let lower_case = text.chars().all(|ch| ch.is_ascii_lowercase());
    let upper = if lower_case { text.to_ascii_uppercase() } else { text.to_string() };
    let v = roman_value(&upper)?;
    let ivx = upper.bytes().all(|b| matches!(b, b'I' | b'V' | b'X'));
    let mut before = c.before(i);
    let prev = before.next().unwrap_or("");
    let prev2 = before.next().unwrap_or("");
    let keyword = KEYWORDS.iter().any(|k| eq_lower(prev, k))
        && match prev {
            // "Đại hội XIII", "phụ lục III"; "hội" or "lục" alone is no keyword.
            p if eq_lower(p, "hội") => eq_lower(prev2, "đại"),
            p if eq_lower(p, "lục") => eq_lower(prev2, "phụ"),
            // "số I", "số V": only the I/V/X letters ("số C" is a letter).
            p if eq_lower(p, "số") => ivx,
            _ => true,
        };
    // "năm MMXXIII": a year.
    let year = eq_lower(prev, "năm") && v >= 1000;
    if lower_case {
        if !(keyword || year) {
            return None;
        }
        let letter_ok = upper.len() >= 2 || ivx;
        let word_like = is_vietnamese_syllable(text)
            && c.toks
                .get(i + 1)
                .is_some_and(|t| t.is_chunk() && !AFTER_NUMERAL.iter().any(|w| eq_lower(t.text, w)));
        return (letter_ok && !word_like).then_some(v);
    }
    if !upper.bytes().all(|b| b.is_ascii_uppercase()) {
        return None;
    }
    // A single L, C, D or M after a keyword is a letter: "Phần C".
    if keyword && (upper.len() >= 2 || ivx) || year {
        return Some(v);
    }
    // "Vua Charles V", "Giáo hoàng Leo XIV": after a capitalized name
    // shortly after a monarch's title.
    // The name is a foreign one ("Văn V." is a Vietnamese name's initial).
    let name_before = prev.starts_with(fold::is_upper)
        && prev.chars().skip(1).all(|ch| !fold::is_upper(ch))
        && !is_vietnamese_syllable(prev);
    if ivx && name_before && c.prev_has(i, 4, MONARCH) {
        return Some(v);
    }
    (bare && upper.len() >= 2 && ivx).then_some(v)
}

/// A Roman numeral's class and rule: an ordinal after "thứ" ("lần thứ IV"
/// → thứ tư), otherwise the plain number.
pub(super) fn roman_class(c: &Classifier<'_>, i: usize, v: u32) -> (Class, Rule) {
    if c.before(i).next().is_some_and(|w| eq_lower(w, "thứ")) {
        (Class::Ordinal(v as u64), Rule::RomanOrdinal)
    } else {
        (Class::Roman(v), Rule::Roman)
    }
}
