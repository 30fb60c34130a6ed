//! Character tables for the hot paths of the text front end: case, tone
//! marks and letter tests of ASCII, Latin-1, Latin Extended-A/B and the
//! Vietnamese block, looked up by code point instead of through the
//! general Unicode tables and decompositions.
//!
//! The table is derived once, at first use, from those same general
//! functions (`char::to_lowercase`, `char::is_uppercase`, NFD/NFC), so a
//! table answer is by construction the answer the general path gives; any
//! character outside it (or whose answer is not a single character) takes
//! the general path. Tone marks are the five Vietnamese ones.

use std::sync::LazyLock;

use unicode_normalization::UnicodeNormalization;

/// What the table knows of one character.
#[derive(Debug, Clone, Copy, Default)]
pub struct Info {
    /// The character is in the table (the fields below are meaningful).
    pub known: bool,
    pub upper: bool,
    pub lower_case: bool,
    pub alphabetic: bool,
    /// `to_lowercase`, when that is one character.
    pub lower: char,
    /// Tone marks of the lower-cased character's decomposition.
    pub tones: u8,
    /// The lower-cased character without its tone mark, recomposed.
    pub base: char,
    /// The character (in its own case) without its tone mark.
    pub bare: char,
}

const LATIN_END: u32 = 0x250;
const VIET_START: u32 = 0x1ea0;
const VIET_END: u32 = 0x1f00;

static TABLE: LazyLock<Vec<Info>> = LazyLock::new(|| {
    let codes = (0..LATIN_END).chain(VIET_START..VIET_END);
    codes.map(|cp| char::from_u32(cp).map(derive).unwrap_or_default()).collect()
});

/// The five Vietnamese tone marks (combining grave, acute, tilde, hook, dot below).
pub fn is_tone_mark(c: char) -> bool {
    matches!(c, '\u{300}' | '\u{301}' | '\u{303}' | '\u{309}' | '\u{323}')
}

/// Strips the tone marks of `c` the general way: NFD, drop, NFC.
fn strip_tones(c: char) -> Option<char> {
    let s: String = std::iter::once(c).nfd().filter(|&m| !is_tone_mark(m)).nfc().collect();
    let mut it = s.chars();
    match (it.next(), it.next()) {
        (Some(b), None) => Some(b),
        _ => None,
    }
}

fn derive(c: char) -> Info {
    let mut low = c.to_lowercase();
    let (Some(lower), None) = (low.next(), low.next()) else { return Info::default() };
    let tones = std::iter::once(lower).nfd().filter(|&m| is_tone_mark(m)).count();
    let (Some(base), Some(bare)) = (strip_tones(lower), strip_tones(c)) else { return Info::default() };
    Info {
        known: true,
        upper: c.is_uppercase(),
        lower_case: c.is_lowercase(),
        alphabetic: c.is_alphabetic(),
        lower,
        tones: tones as u8,
        base,
        bare,
    }
}

/// The table entry of `c`, when it has one.
#[inline]
pub fn info(c: char) -> Option<&'static Info> {
    let cp = c as u32;
    let k = if cp < LATIN_END {
        cp as usize
    } else if (VIET_START..VIET_END).contains(&cp) {
        (cp - VIET_START + LATIN_END) as usize
    } else {
        return None;
    };
    TABLE.get(k).filter(|i| i.known)
}

/// The answer of `ascii` for ASCII, of the table's `known` field for the
/// characters it holds, and of `general` for any other.
#[inline(always)]
fn classify(c: char, ascii: fn(&char) -> bool, known: fn(&Info) -> bool, general: fn(char) -> bool) -> bool {
    if c.is_ascii() {
        return ascii(&c);
    }
    info(c).map_or_else(|| general(c), known)
}

/// `c.is_uppercase()`.
#[inline]
pub fn is_upper(c: char) -> bool {
    classify(c, char::is_ascii_uppercase, |i| i.upper, char::is_uppercase)
}

/// `c.is_lowercase()`.
#[inline]
pub fn is_lower(c: char) -> bool {
    classify(c, char::is_ascii_lowercase, |i| i.lower_case, char::is_lowercase)
}

/// `c.is_alphabetic()`.
#[inline]
pub fn is_alpha(c: char) -> bool {
    classify(c, char::is_ascii_alphabetic, |i| i.alphabetic, char::is_alphabetic)
}

/// True when `s` has an upper-case letter.
pub fn has_upper(s: &str) -> bool {
    if s.is_ascii() {
        return s.bytes().any(|b| b.is_ascii_uppercase());
    }
    s.chars().any(is_upper)
}

/// `s.to_lowercase()`.
pub fn to_lower(s: &str) -> String {
    if s.is_ascii() {
        return s.to_ascii_lowercase();
    }
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match info(c) {
            Some(i) => out.push(i.lower),
            // Σ and other characters the table does not hold: the whole word the general way.
            None => return s.to_lowercase(),
        }
    }
    out
}

/// True when `s.to_lowercase()` is `s` (as far as the table knows: a
/// character outside it counts as changing).
pub fn is_lower_already(s: &str) -> bool {
    s.chars()
        .all(|c| if c.is_ascii() { !c.is_ascii_uppercase() } else { info(c).is_some_and(|i| i.lower == c) })
}

/// Lower case, without allocating a new reading when there is no capital
/// (as `has_upper` decides; titlecase letters are kept as written).
pub fn lower(s: &str) -> String {
    lower_cow(s).into_owned()
}

/// Calls `f` with `s.to_lowercase()`, built on the stack when `s` is short
/// and every character is in the table.
pub fn with_lower<R>(s: &str, f: impl FnOnce(&str) -> R) -> R {
    let mut buf = [0u8; 64];
    let mut len = 0;
    for c in s.chars() {
        match info(c) {
            Some(i) if len + 4 <= buf.len() => len += i.lower.encode_utf8(&mut buf[len..]).len(),
            _ => return f(&s.to_lowercase()),
        }
    }
    match std::str::from_utf8(&buf[..len]) {
        Ok(l) => f(l),
        Err(_) => f(&s.to_lowercase()),
    }
}

/// [`lower`], borrowing `s` when it has no capital.
pub fn lower_cow(s: &str) -> std::borrow::Cow<'_, str> {
    if has_upper(s) { std::borrow::Cow::Owned(to_lower(s)) } else { std::borrow::Cow::Borrowed(s) }
}

/// True when [`lower`] of `written` is `word`, without allocating when
/// every character is in the table.
pub fn eq_lower(written: &str, word: &str) -> bool {
    if !has_upper(written) {
        return written == word;
    }
    let mut w = word.chars();
    for c in written.chars() {
        let l = if c.is_ascii() {
            c.to_ascii_lowercase()
        } else {
            match info(c) {
                Some(i) => i.lower,
                None => return to_lower(written) == word,
            }
        };
        if w.next() != Some(l) {
            return false;
        }
    }
    w.next().is_none()
}

/// A character fit for the table's fast answers about NFC: below U+0300 or
/// a precomposed Vietnamese letter, or general punctuation. These are all
/// starters that NFC keeps as they are (checked by a test; U+2000 and
/// U+2001 are not: NFC maps them to U+2002 and U+2003).
#[inline]
pub fn nfc_stable(c: char) -> bool {
    let cp = c as u32;
    cp < 0x300 || (VIET_START..0x1efa).contains(&cp) || (0x2002..0x2070).contains(&cp)
}

/// True when every character of `s` is [`nfc_stable`], reading bytes and
/// decoding only the characters of the two three-byte blocks that hold
/// stable and unstable ones alike.
pub fn is_nfc_stable(s: &str) -> bool {
    let bytes = s.as_bytes();
    let mut k = 0;
    while let Some(&b) = bytes.get(k) {
        k += match b {
            0..0x80 => 1,
            // U+0080–U+02FF.
            0xc2..=0xcb => 2,
            // U+1000–U+1FFF and U+2000–U+2FFF.
            0xe1 | 0xe2 => match s.get(k..).and_then(|r| r.chars().next()) {
                Some(c) if nfc_stable(c) => 3,
                _ => return false,
            },
            _ => return false,
        };
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use unicode_normalization::{IsNormalized, char::canonical_combining_class, is_nfc_quick};

    fn all_table_chars() -> impl Iterator<Item = char> {
        (0..LATIN_END).chain(VIET_START..VIET_END).filter_map(char::from_u32)
    }

    #[test]
    fn table_answers_are_the_general_ones() {
        for c in all_table_chars() {
            assert_eq!(is_upper(c), c.is_uppercase(), "{c:?}");
            assert_eq!(is_lower(c), c.is_lowercase(), "{c:?}");
            assert_eq!(is_alpha(c), c.is_alphabetic(), "{c:?}");
            let s = format!("x{c}Y{c}");
            assert_eq!(to_lower(&s), s.to_lowercase(), "{c:?}");
            assert!(has_upper(&s));
            assert!(eq_lower(&s, &s.to_lowercase()), "{c:?}");
            if is_lower_already(&s) {
                assert_eq!(s.to_lowercase(), s);
            }
            assert_eq!(with_lower(&s, str::to_string), s.to_lowercase(), "{c:?}");
            let one = c.to_string();
            let old = if one.chars().any(char::is_uppercase) { one.to_lowercase() } else { one.clone() };
            assert_eq!(lower(&one), old, "{c:?}");
            assert!(eq_lower(&one, &old), "{c:?}");
        }
        let long = "ẤU".repeat(40);
        assert_eq!(with_lower(&long, str::to_string), long.to_lowercase());
        for s in ["ΣΑΣ", "İstanbul", "Đảng", "XUÂN ĐIỆP", "", "a\u{301}"] {
            assert_eq!(with_lower(s, str::to_string), s.to_lowercase(), "{s}");
            assert_eq!(to_lower(s), s.to_lowercase(), "{s}");
            assert!(eq_lower(s, &s.to_lowercase()), "{s}");
        }
        assert!(!eq_lower("Đả", "đ"));
        assert!(!eq_lower("Đ", "đả"));
        assert_eq!(info('Ấ').map(|i| (i.lower, i.base, i.bare, i.tones)), Some(('ấ', 'â', 'Â', 1)));
    }

    #[test]
    fn nfc_stable_strings_are_the_nfc_stable_chars() {
        for c in (0..0x3100u32).chain(VIET_START..VIET_END).filter_map(char::from_u32) {
            let s = format!("aĐ{c}ệ");
            assert_eq!(is_nfc_stable(&s), s.chars().all(nfc_stable), "{c:?}");
        }
    }

    #[test]
    fn nfc_stable_chars_are_nfc_starters() {
        for c in
            (0..0x2100u32).chain(VIET_START..VIET_END).filter_map(char::from_u32).filter(|&c| nfc_stable(c))
        {
            assert_eq!(canonical_combining_class(c), 0, "{c:?}");
            assert_eq!(is_nfc_quick(std::iter::once(c)), IsNormalized::Yes, "{c:?}");
        }
    }
}
