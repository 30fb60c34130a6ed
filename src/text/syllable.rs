//! Vietnamese letters and syllables.
//!
//! Decides whether an all-capital token is a Vietnamese syllable (read as
//! a word: "XUÂN ĐIỆP") or an acronym (spelled with Vietnamese letter names:
//! "XYZ" → "ích xì i dài dét"), and gives those letter names.

use std::sync::LazyLock;

use unicode_normalization::UnicodeNormalization;

use super::fold::{self, is_tone_mark};

/// The Vietnamese name of a letter, or `None` for a non-letter.
pub fn letter_name(c: char) -> Option<&'static str> {
    let c = match fold::info(c) {
        Some(i) => i.lower,
        None => c.to_lowercase().next()?,
    };
    Some(match c {
        'a' => "a",
        'ă' => "á",
        'â' => "ớ",
        'b' => "bê",
        'c' => "xê",
        'd' => "dê",
        'đ' => "đê",
        'e' => "e",
        'ê' => "ê",
        'f' => "ép",
        'g' => "giê",
        'h' => "hát",
        'i' => "i",
        'j' => "giê",
        'k' => "ca",
        'l' => "e lờ",
        'm' => "em mờ",
        'n' => "en nờ",
        'o' => "o",
        'ô' => "ô",
        'ơ' => "ơ",
        'p' => "pê",
        'q' => "quy",
        'r' => "e rờ",
        's' => "ét xì",
        't' => "tê",
        'u' => "u",
        'ư' => "ư",
        'v' => "vê",
        'w' => "vê kép",
        'x' => "ích xì",
        'y' => "i dài",
        'z' => "dét",
        _ => return None,
    })
}

/// Spells `word` letter by letter; digits are read as digits.
pub fn spell(word: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for c in word.chars() {
        if let Some(name) = letter_name(strip_tone_char(c)) {
            out.push(name);
        } else if c.is_ascii_digit() {
            out.push(super::number::digit_word(c as u8));
        }
    }
    out.join(" ")
}

/// Spells a code's letters with the short names news readers use inside
/// codes (N en, M em, S ét): "SE" → ét e, "VN" → vê en.
pub fn spell_short(word: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for c in word.chars() {
        let base = strip_tone_char(c);
        let short = match base.to_lowercase().next().unwrap_or(base) {
            'n' => Some("en"),
            'm' => Some("em"),
            's' => Some("ét"),
            _ => None,
        };
        if let Some(name) = short.or_else(|| letter_name(base)) {
            out.push(name);
        } else if c.is_ascii_digit() {
            out.push(super::number::digit_word(c as u8));
        }
    }
    out.join(" ")
}

fn strip_tone_char(c: char) -> char {
    if let Some(i) = fold::info(c) {
        return i.bare;
    }
    let s: String = std::iter::once(c).nfd().filter(|&m| !is_tone_mark(m)).nfc().collect();
    s.chars().next().unwrap_or(c)
}

const ONSETS: &[&str] = &[
    "ngh", "ng", "nh", "ch", "gh", "gi", "kh", "ph", "qu", "th", "tr", "b", "c", "d", "đ", "g", "h", "k",
    "l", "m", "n", "p", "r", "s", "t", "v", "x", "",
];

const RHYMES: &[&str] = &[
    "a", "ai", "ao", "au", "ay", "ac", "ach", "am", "an", "ang", "anh", "ap", "at", "ăc", "ăm", "ăn", "ăng",
    "ăp", "ăt", "âc", "âm", "ân", "âng", "âp", "ât", "âu", "ây", "e", "eo", "ec", "em", "en", "eng", "ep",
    "et", "ê", "êch", "êm", "ên", "ênh", "êp", "êt", "êu", "i", "ia", "iu", "ich", "im", "in", "inh", "ip",
    "it", "iêc", "iêm", "iên", "iêng", "iêp", "iêt", "iêu", "o", "oi", "oc", "om", "on", "ong", "op", "ot",
    "oa", "oai", "oao", "oay", "oac", "oach", "oam", "oan", "oang", "oanh", "oap", "oat", "oăc", "oăm",
    "oăn", "oăng", "oăt", "oe", "oeo", "oen", "oet", "ooc", "oong", "ô", "ôi", "ôc", "ôm", "ôn", "ông", "ôp",
    "ôt", "ơ", "ơi", "ơm", "ơn", "ơp", "ơt", "u", "ua", "ui", "uc", "um", "un", "ung", "up", "ut", "uê",
    "uêch", "uên", "uênh", "uêt", "uy", "uya", "uych", "uynh", "uyt", "uyu", "uyên", "uyêt", "uân", "uâng",
    "uât", "uây", "uôc", "uôi", "uôm", "uôn", "uông", "uôt", "uơ", "ư", "ưa", "ưi", "ưu", "ưc", "ưng", "ưt",
    "ưm", "ươc", "ươi", "ươm", "ươn", "ương", "ươp", "ươt", "ươu", "y", "yêm", "yên", "yêt", "yêu",
];

/// [`RHYMES`], sorted for binary search.
static SORTED_RHYMES: LazyLock<Vec<&'static [u8]>> = LazyLock::new(|| {
    let mut v: Vec<&[u8]> = RHYMES.iter().map(|r| r.as_bytes()).collect();
    v.sort_unstable();
    v
});

fn is_rhyme(r: &[u8]) -> bool {
    SORTED_RHYMES.binary_search(&r).is_ok()
}

/// True when `prefix` then `rhyme` is a rhyme ("i" + "n" for "gìn").
fn is_rhyme_after(prefix: u8, rhyme: &[u8]) -> bool {
    let mut buf = [0u8; 64];
    let Some(dst) = buf.get_mut(1..=rhyme.len()) else { return false };
    dst.copy_from_slice(rhyme);
    buf[0] = prefix;
    is_rhyme(&buf[..=rhyme.len()])
}

/// The letters of the Vietnamese alphabet without tone marks, in lower case.
fn is_viet_base(c: char) -> bool {
    c.is_ascii_lowercase() || matches!(c, 'ă' | 'â' | 'đ' | 'ê' | 'ô' | 'ơ' | 'ư')
}

/// True when `word` (any case, with or without tone marks) is a
/// well-formed Vietnamese syllable.
pub fn is_vietnamese_syllable(word: &str) -> bool {
    if word.is_empty() || word.len() > 24 {
        return false;
    }
    // Lower-cased, tone-stripped letters from the table; a character it
    // does not hold (a combining mark, another script) goes the general way.
    let mut buf = [0u8; 96];
    let mut len = 0;
    let mut tones = 0;
    for c in word.chars() {
        let Some(i) = fold::info(c) else { return syllable_general(word) };
        // Any other letter or symbol is in no onset or rhyme.
        if !is_viet_base(i.base) {
            return false;
        }
        tones += i.tones;
        len += i.base.encode_utf8(&mut buf[len..]).len();
    }
    if tones > 1 {
        return false;
    }
    onset_and_rhyme(&buf[..len])
}

/// [`is_vietnamese_syllable`] through the Unicode decompositions.
fn syllable_general(word: &str) -> bool {
    let lower = word.to_lowercase();
    let decomposed: Vec<char> = lower.nfd().collect();
    let tones = decomposed.iter().filter(|&&c| is_tone_mark(c)).count();
    if tones > 1 {
        return false;
    }
    let base: String = decomposed.into_iter().filter(|&c| !is_tone_mark(c)).nfc().collect();
    if !base.chars().all(|c| c.is_alphabetic()) {
        return false;
    }
    onset_and_rhyme(base.as_bytes())
}

/// True when `base` (UTF-8, lower case, no tone mark) is an onset and a rhyme.
fn onset_and_rhyme(base: &[u8]) -> bool {
    ONSETS.iter().any(|onset| {
        base.strip_prefix(onset.as_bytes()).is_some_and(|rhyme| {
            is_rhyme(rhyme)
                // "gi" alone and "gì", "gìn": gi + (i) + rhyme
                || (*onset == "gi" && (rhyme.is_empty() || is_rhyme_after(b'i', rhyme)))
                // "qu" swallows the glide: "quy", "quân", "quốc"
                || (*onset == "qu" && is_rhyme_after(b'u', rhyme))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syllables() {
        for w in [
            "XUÂN",
            "ĐIỆP",
            "PHÒNG",
            "VĂN",
            "HÓA",
            "HOÁ",
            "Nguyễn",
            "nghiêng",
            "quốc",
            "QUÝ",
            "gì",
            "giữ",
            "khuya",
            "người",
            "trường",
            "Đảng",
            "huyện",
            "ủy",
            "uỷ",
            "CAO",
            "LỘC",
            "TRẦN",
            "yêu",
            "oan",
            "khoảng",
        ] {
            assert!(is_vietnamese_syllable(w), "{w}");
        }
        for w in
            ["NTM", "HĐND", "UBND", "BTV", "XYZ", "ABC", "TP", "HCM", "USD", "WHO", "kh", "", "ASEAN", "km"]
        {
            assert!(!is_vietnamese_syllable(w), "{w}");
        }
    }

    #[test]
    fn table_path_agrees_with_the_general_one() {
        let mut words: Vec<String> = RHYMES
            .iter()
            .flat_map(|r| ONSETS.iter().map(move |o| format!("{o}{r}")))
            .chain(
                ["gi", "gìn", "quốc", "NGHIÊNG", "Ǆa", "ŉa", "ça", "ǹa", "a\u{301}", "ÁẢ", "xyz", "q", "gii"]
                    .map(String::from),
            )
            .collect();
        let toned: Vec<String> = words
            .iter()
            .flat_map(|w| {
                ['\u{300}', '\u{301}', '\u{303}', '\u{309}', '\u{323}']
                    .map(|t| format!("{w}{t}").nfc().collect::<String>())
            })
            .collect();
        words.extend(toned);
        words.extend(words.clone().iter().map(|w| w.to_uppercase()));
        for w in &words {
            assert_eq!(is_vietnamese_syllable(w), syllable_general(w), "{w}");
        }
    }

    #[test]
    fn spelling() {
        assert_eq!(spell("XYZ"), "ích xì i dài dét");
        assert_eq!(spell("ABC"), "a bê xê");
        assert_eq!(spell("H5N1"), "hát năm en nờ một");
        assert_eq!(spell("Đ"), "đê");
        assert_eq!(spell_short("SE"), "ét e");
        assert_eq!(spell_short("VN"), "vê en");
        assert_eq!(spell_short("HNX"), "hát en ích xì");
    }
}
