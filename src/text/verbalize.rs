//! Verbalization: classified items → the words a news reader says.
//!
//! Every [`Class`] has exactly one reading per [`Dialect`]; the choices
//! follow `CONVENTIONS.md` (full hundreds, "tháng tư", "ngày … tháng …
//! năm …", "đến" for ranges, "trên" for ratios).

use std::cell::RefCell;

use super::Dialect;
use super::classify::{Class, Item};
use super::fold::is_lower_already;
use super::number::{
    read_decimal, read_digits, read_grouped, read_integer, read_month, read_ordinal, read_u64,
};
use super::syllable::{spell, spell_short};

/// Appends the reading of `class` to `out` (words separated by spaces);
/// `own` is the item's text, said for [`Class::Verbatim`].
pub fn say(class: &Class, own: &str, d: Dialect, out: &mut String) {
    let mut push = |s: &str| {
        if s.is_empty() {
            return;
        }
        if !out.is_empty() && !out.ends_with(' ') {
            out.push(' ');
        }
        out.push_str(s);
    };
    match class {
        Class::Word(w) => push(w),
        Class::Verbatim => push(own),
        Class::Lexicon(s) if is_lower_already(s) => push(s),
        Class::Lexicon(s) => push(&super::fold::to_lower(s)),
        Class::Symbol(s) => push(s),
        Class::Spell(s) => push(&spell(s)),
        Class::SpellShort(s) => push(&spell_short(s)),
        Class::Cardinal(s) => push(&read_integer(s, d).unwrap_or_else(|| read_digits(s))),
        Class::Grouped(s) => push(&read_grouped(s, d).unwrap_or_else(|| read_digits(s))),
        Class::Decimal(i, f) => {
            push(&read_decimal(i, f, d).unwrap_or_else(|| read_digits(&format!("{i}{f}"))))
        }
        Class::Digits(s) => push(&read_digits(s)),
        Class::Dotted(parts) => {
            let words: Vec<String> =
                parts.iter().map(|p| read_integer(p, d).unwrap_or_else(|| read_digits(p))).collect();
            push(&words.join(" chấm "));
        }
        Class::Ordinal(n) => push(&read_ordinal(*n, d)),
        Class::Roman(n) => push(&read_u64(*n as u64, d)),
        Class::Month(m) => push(&read_month(*m, d)),
        Class::Date { day, month, year, ngay, thang } => {
            let mut words = Vec::new();
            if let Some(day) = day {
                if *ngay {
                    words.push("ngày".to_string());
                }
                words.push(read_u64(*day as u64, d));
            }
            if *thang || day.is_some() {
                words.push("tháng".into());
            }
            words.push(read_month(*month, d));
            if let Some(y) = year {
                words.push("năm".into());
                words.push(read_integer(y, d).unwrap_or_else(|| read_digits(y)));
            }
            push(&words.join(" "));
        }
        Class::Time { hour, minute, second } => {
            let mut s = read_u64(*hour as u64, d);
            s.push_str(" giờ");
            for (v, unit) in [(minute, " phút"), (second, " giây")] {
                if let Some(v) = v {
                    s.push(' ');
                    s.push_str(&read_u64(*v as u64, d));
                    s.push_str(unit);
                }
            }
            push(&s);
        }
        Class::Range(a, b) => {
            let mut s = String::new();
            say(a, own, d, &mut s);
            s.push_str(" đến");
            say(b, own, d, &mut s);
            push(&s);
        }
        Class::Score(a, b) => {
            let mut s = String::new();
            say(a, own, d, &mut s);
            say(b, own, d, &mut s);
            push(&s);
        }
        Class::Ratio(a, b) => {
            let mut s = String::new();
            say(a, own, d, &mut s);
            s.push_str(" trên");
            say(b, own, d, &mut s);
            push(&s);
        }
        Class::Fraction(a, b) => {
            let mut s = String::new();
            say(a, own, d, &mut s);
            s.push_str(" phần");
            if matches!(b.as_ref(), Class::Cardinal(n) if n == "4") {
                s.push_str(" tư");
            } else {
                say(b, own, d, &mut s);
            }
            push(&s);
        }
        Class::Negative(a) => {
            let mut s = "âm".to_string();
            say(a, own, d, &mut s);
            push(&s);
        }
        Class::Seq(parts) => {
            let mut s = String::new();
            for p in parts {
                say(p, own, d, &mut s);
            }
            push(s.trim());
        }
        Class::Pause(p) => {
            let trimmed = out.trim_end().len();
            out.truncate(trimmed);
            if !out.is_empty() && !out.ends_with([',', '.', ';', ':', '?', '!']) {
                out.push(*p);
            } else if !out.is_empty() && matches!(p, '.' | '?' | '!') && out.ends_with(',') {
                // "…, ." → "…."
                out.pop();
                out.push(*p);
            }
        }
        Class::Silent | Class::Unreadable(_) => {}
    }
}

/// The spoken text of a classified sentence: lower case, single spaces,
/// pause marks attached to the word before them.
pub fn speak(items: &[Item], text: &str, d: Dialect) -> String {
    let mut out = String::new();
    speak_into(items, text, d, &mut out);
    out
}

/// [`speak`], appended to `out`.
pub fn speak_into(items: &[Item], text: &str, d: Dialect, out: &mut String) {
    thread_local! {
        // One buffer per thread for the words before their spaces are squeezed.
        static SPOKEN: RefCell<String> = const { RefCell::new(String::new()) };
    }
    SPOKEN.with_borrow_mut(|spoken| {
        spoken.clear();
        for item in items {
            say(&item.class, &text[item.span.clone()], d, spoken);
        }
        // Every class pushes lower-case words already; squeeze the spaces.
        squeeze_into(spoken, out);
    });
}

/// Appends the words of `s` (split at white space) joined by one space:
/// `s.split_whitespace()` joined. Bytes are scanned, only the characters
/// whose first bytes may start a non-ASCII space are decoded, and words
/// already one ASCII space apart are copied in one piece.
fn squeeze_into(s: &str, out: &mut String) {
    let bytes = s.as_bytes();
    let start = out.len();
    let piece = |out: &mut String, piece: &str| {
        if out.len() > start {
            out.push(' ');
        }
        out.push_str(piece);
    };
    // Start of the piece being gathered, end of its last word.
    let mut from: Option<usize> = None;
    let mut end = 0;
    let mut in_word = false;
    let mut k = 0;
    while k < bytes.len() {
        let b = bytes[k];
        let (space, len) = match b {
            b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r' => (true, 1),
            0..0x80 => (false, 1),
            // Of the non-ASCII spaces, U+0085 and U+00A0 start with C2,
            // U+1680 with E1 9A, U+2000–U+205F with E2 and U+3000 with E3.
            0xc2 => (matches!(bytes.get(k + 1), Some(0x85 | 0xa0)), 2),
            0xe1 if bytes.get(k + 1) != Some(&0x9a) => (false, 3),
            0xe1..=0xe3 => {
                let c = s[k..].chars().next().unwrap_or(' ');
                (c.is_whitespace(), c.len_utf8())
            }
            0xf0.. => (false, 4),
            0xe0.. => (false, 3),
            _ => (false, 2),
        };
        if space {
            if in_word {
                end = k;
                in_word = false;
            }
        } else if !in_word {
            in_word = true;
            match from {
                // One ASCII space after the last word: the same piece.
                Some(_) if k == end + 1 && b' ' == bytes[end] => {}
                Some(f) => {
                    piece(out, &s[f..end]);
                    from = Some(k);
                }
                None => from = Some(k),
            }
        }
        k += len;
    }
    if in_word {
        end = bytes.len();
    }
    if let Some(f) = from {
        piece(out, &s[f..end]);
    }
}

/// The reading of one class on its own (for `--explain`).
pub fn say_one(class: &Class, own: &str, d: Dialect) -> String {
    let mut s = String::new();
    say(class, own, d, &mut s);
    s.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn squeeze_is_split_whitespace_joined() {
        let cases = [
            "",
            " ",
            "a",
            "  a  b ",
            "hai\tmươi\n mốt",
            "x\u{a0}y\u{85}z",
            "tỷ\u{2003}đồng\u{3000}",
            "ể\u{1680}ạ",
            "\u{202f}a\u{205f}",
            "ở\u{200b}ờ",
            "𝔸 b",
            "é\u{2028}\u{2029}ê",
        ];
        for s in cases {
            let mut out = String::from("x");
            squeeze_into(s, &mut out);
            assert_eq!(out, format!("x{}", s.split_whitespace().collect::<Vec<_>>().join(" ")), "{s:?}");
        }
    }
}
