//! Classification of chunks without digits: abbreviations and units from
//! the lexicon, Roman numerals after their keywords, all-capital words and
//! acronyms, domain names and ordinary words.

use super::super::lexicon::Lexicon;
use super::super::syllable::is_vietnamese_syllable;
use super::{
    Class, Classifier, Decision, TITLE_ABBREVIATIONS, has_upper, is_caps_word, roman_class, roman_here,
};

/// Denominators after "/" that are words rather than lexicon units.
const PER_UNITS: &[(&str, &str)] = &[("h", "giờ"), ("s", "giây"), ("ph", "phút")];

/// Top-level domains read by letter names.
const TLDS: &[&str] = &["vn", "com", "net", "org", "gov", "edu", "info", "int", "io"];

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
    match word_class(s).0 {
        Class::Verbatim => Class::Word(s.to_string()),
        other => other,
    }
}

/// Class of a plain word by its shape: Vietnamese words are read, acronyms spelled.
fn word_class(s: &str) -> (Class, &'static str) {
    if !s.chars().any(char::is_uppercase) {
        return (Class::Verbatim, "word");
    }
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
    if let Some(d) = by_context(c, i, s) {
        return d;
    }
    // "Km 18+500": a road kilometre marker, written before its number.
    if matches!(s, "Km" | "KM")
        && let Some(u) = c.lex.unit(s)
        && c.toks
            .get(i + 1)
            .is_some_and(|t| t.has_digit() && t.text.starts_with(|ch: char| ch.is_ascii_digit()))
    {
        return (1, Class::Lexicon(u.into()), "unit");
    }
    // In an all-capital line, a capital syllable is a word even if it is
    // also an acronym ("AI" in "AI LÀ NGƯỜI…" is "ai").
    let has_upper = has_upper(s);
    let caps_line = has_upper && is_caps_word(s) && caps_neighbour(c, i);
    // "LẦN THỨ VI": a Roman numeral after its keyword, even in a capital line.
    if caps_line && let Some(v) = roman_here(c, i, s, false) {
        let (class, rule) = roman_class(c, i, v);
        return (1, class, rule);
    }
    // "0,4 x 0,5 m": times.
    if matches!(s, "x" | "X")
        && c.last_spoken().is_some_and(|it| it.class.is_numeric())
        && c.toks.get(i + 1).is_some_and(|t| t.text.starts_with(|ch: char| ch.is_ascii_digit()))
    {
        return (1, Class::Symbol("nhân"), "times");
    }
    if caps_line {
        return (1, Class::Word(s.to_lowercase()), "caps-word");
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
    if let Some(v) = roman_here(c, i, s, true) {
        let (first, rule) = roman_class(c, i, v);
        // "thế kỷ XV - XVI", "khóa XIV-XV".
        if let (Some(dash), Some(next)) = (c.toks.get(i + 1), c.toks.get(i + 2))
            && dash.is_dash()
            && let Some(w) = super::super::number::roman_value(next.text)
        {
            return (3, Class::Range(Box::new(first), Box::new(Class::Roman(w))), "roman-range");
        }
        return (1, first, rule);
    }
    // Units that cannot be words (m², km/h, °C) read anywhere.
    if s.contains(['²', '³', '°', '/'])
        && let Some(u) = unit_expr(c.lex, s, false)
    {
        return (1, Class::Lexicon(u), "unit");
    }
    // E-mail addresses: "toasoan@baochinhphu.vn".
    if let Some((user, host)) = s.split_once('@')
        && host.contains('.')
    {
        let mut parts = vec![read_piece(c, user), Class::Symbol("a còng")];
        parts.extend(domain(host));
        return (1, Class::Seq(parts), "email");
    }
    // Domain names: "baochinhphu.vn", "www.langson.gov.vn".
    if s.contains('.')
        && let Some(tld) = s.rsplit('.').next()
        && TLDS.contains(&tld.to_lowercase().as_str())
    {
        return (1, Class::Seq(domain(s)), "domain");
    }
    // "gạo/tháng", "bác sĩ/vạn dân", "đồng/vé": a word per a counting word,
    // or any word per word shortly after a quantity.
    if let Some((head, tail)) = s.rsplit_once('/')
        && head.chars().all(char::is_alphabetic)
        && tail.chars().all(char::is_alphabetic)
    {
        let per = per_word(c.lex, tail).or_else(|| c.recent_quantity(3).then(|| tail.to_lowercase()));
        if let Some(per) = per {
            return (
                1,
                Class::Seq(vec![read_piece(c, head), Class::Symbol("trên"), Class::Word(per)]),
                "per",
            );
        }
    }
    if s.contains(|ch: char| super::super::token::is_connector(ch)) {
        let parts = super::numeric::read_parts(c, s);
        let rule =
            if parts.iter().any(|p| matches!(p, Class::Spell(_))) { "acronym-spelled" } else { "compound" };
        return (1, Class::Seq(parts), rule);
    }
    // "ChatGPT", "VietGAP": a word with an acronym tail.
    if !has_upper {
        return (1, Class::Verbatim, "word");
    }
    if let Some(k) = camel_acronym_split(s) {
        let (head, tail) = s.split_at(k);
        let parts = vec![read_piece(c, head), read_piece(c, tail)];
        return (1, Class::Seq(parts), "acronym-spelled");
    }
    // A short capital syllable alone in mixed-case text is an acronym: "UN", "EU".
    if s.len() <= 3 && s.bytes().all(|b| b.is_ascii_uppercase()) && s.len() >= 2 && !caps_line {
        return (1, Class::Spell(s.into()), "acronym-spelled");
    }
    // A capital letter with a tone mark is a word: "châu Á", "Ý".
    if s.chars().count() == 1
        && !s.is_ascii()
        && is_vietnamese_syllable(s)
        && super::super::syllable::letter_name(s.chars().next().unwrap_or('a')).is_none()
    {
        return (1, Class::Word(s.to_lowercase()), "word");
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

/// Reads a host name: "baochinhphu.vn" → baochinhphu chấm vê en nờ.
fn domain(s: &str) -> Vec<Class> {
    s.split('.')
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
        .collect()
}

/// Where a word with a lower-case head ends and its capital acronym tail
/// (two letters or more) begins: "ChatGPT" → 4.
fn camel_acronym_split(s: &str) -> Option<usize> {
    if !s.chars().all(char::is_alphabetic) {
        return None;
    }
    let (k, _) = s
        .char_indices()
        .skip(1)
        .find(|&(k, ch)| ch.is_uppercase() && s[..k].chars().last().is_some_and(char::is_lowercase))?;
    let tail = &s[k..];
    (tail.chars().count() >= 2 && tail.chars().all(char::is_uppercase)).then_some(k)
}

/// True when a chunk next to `i` is also written in capitals.
fn caps_neighbour(c: &Classifier<'_>, i: usize) -> bool {
    let caps = |t: &super::super::token::Tok<'_>| {
        t.is_chunk() && t.text.chars().any(char::is_alphabetic) && !t.text.chars().any(char::is_lowercase)
    };
    i.checked_sub(1).and_then(|j| c.toks.get(j)).is_some_and(caps) || c.toks.get(i + 1).is_some_and(caps)
}

/// Abbreviations whose reading depends on what follows.
fn by_context(c: &Classifier<'_>, i: usize, s: &str) -> Option<Decision> {
    let next = c.toks.get(i + 1)?;
    let year_next = next.text.len() == 4 && next.text.bytes().all(|b| b.is_ascii_digit());
    let spoken = match s {
        // "ĐT 232" a provincial road, "ĐT: 0205…" a telephone, "ĐT Việt Nam" a national team.
        "ĐT" if next.is_punct(":") || next.text.starts_with('0') => "điện thoại",
        "ĐT" if next.has_digit() && next.text.len() <= 4 => "đường tỉnh",
        "ĐT" if next.text.starts_with(char::is_uppercase) => "đội tuyển",
        // "SN 1985" born in, "SN 12" house number.
        "SN" if year_next => "sinh năm",
        "SN" if next.has_digit() => "số nhà",
        // "US$": the "$" says it.
        "US" if next.is_punct("$") && !next.space_before => {
            return Some((1, Class::Silent, "currency-prefix"));
        }
        _ => return None,
    };
    Some((1, Class::Lexicon(spoken.into()), "abbreviation"))
}
