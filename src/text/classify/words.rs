//! Classification of chunks without digits: units after a quantity (in
//! any case where the reading is not in doubt: "8gb", "12v"),
//! abbreviations from the lexicon, address abbreviations ("P. Tân Định",
//! "Q. Bình Thạnh"), Roman numerals, currency pairs ("EUR/VND"), letters
//! named by their context ("điểm b"), all-capital words and acronyms,
//! the web and ordinary words.

use super::super::fold;
use super::super::lexicon::Lexicon;
use super::super::syllable::{is_vietnamese_syllable, letter_name};
use super::{
    Class, Classifier, Decision, Rule, TITLE_ABBREVIATIONS, codes, eq_lower, has_upper, is_caps_word, lower,
    one_char, roman, web,
};

/// Denominators after "/" that are words rather than lexicon units.
const PER_UNITS: &[(&str, &str)] = &[("h", "giờ"), ("s", "giây"), ("ph", "phút"), ("min", "phút")];

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
    "thùng",
    "lượng",
    "chỉ",
    "cổ",
    "phiếu",
    "vé",
    "phút",
    "giây",
    "đêm",
    "bao",
    "chai",
    "gói",
    "hộp",
    "bình",
    "m²",
    "căn",
    "phòng",
    "xe",
    "km",
    "kg",
];

/// Dotted one-letter address abbreviations ("P." phường, "Q." quận).
const ADDRESS_LETTERS: &[&str] = &["P", "Q", "H", "X"];

/// Words before which "điểm a/b/c" names a point of a law.
const LETTER_KEYWORDS: &[&str] = &["điểm", "tiết"];

/// Spoken form of a unit expression: "km", "m²", "km/h", "đồng/kg",
/// "đồng/hộ/năm" (each "/" is read "trên"). With `loose`, used right after
/// a quantity, the first part may be any word ("tạ/ha", "gạo/tháng").
pub fn unit_expr(lex: &Lexicon, s: &str, loose: bool) -> Option<String> {
    if let Some(u) = lex.unit(s) {
        return Some(u.to_string());
    }
    let (first, rest) = s.split_once('/')?;
    if first.is_empty() || rest.is_empty() || rest.split('/').any(str::is_empty) {
        return None;
    }
    let first = match lex.unit(first).or_else(|| if loose { lex.unit_any_case(first) } else { None }) {
        Some(u) => u.to_string(),
        None if (loose || first == "đồng") && first.chars().all(fold::is_alpha) => first.to_lowercase(),
        None => return None,
    };
    let mut out = first;
    for p in rest.split('/') {
        out.push_str(" trên ");
        out.push_str(&per_word(lex, p)?);
    }
    Some(out)
}

/// A unit written in another case after a number: "8gb", "12v", "144hz", "18°c".
pub fn loose_unit(lex: &Lexicon, s: &str) -> Option<String> {
    lex.unit_any_case(s).map(String::from)
}

/// A denominator after "/": a unit, "h", or a counting word.
pub fn per_word(lex: &Lexicon, p: &str) -> Option<String> {
    lex.unit(p)
        .or_else(|| lex.unit_any_case(p))
        .map(String::from)
        .or_else(|| PER_UNITS.iter().find(|(k, _)| *k == p).map(|(_, v)| v.to_string()))
        .or_else(|| {
            let l = lower(p);
            PER_WORDS.contains(&l.as_str()).then_some(l)
        })
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
fn word_class(s: &str) -> (Class, Rule) {
    if !has_upper(s) {
        return (Class::Verbatim, Rule::Word);
    }
    let letters = s.chars().filter(|&c| fold::is_alpha(c)).count();
    let uppers = s.chars().filter(|&c| fold::is_upper(c)).count();
    if letters == 1 && uppers == 1 {
        return (Class::Spell(s.into()), Rule::Letter);
    }
    if uppers >= 2 && !is_caps_word(s) && !is_vietnamese_syllable(s) {
        return (Class::Spell(s.into()), Rule::AcronymSpelled);
    }
    if uppers == letters && letters >= 2 {
        return (Class::Word(fold::to_lower(s)), Rule::CapsWord);
    }
    (Class::Word(fold::to_lower(s)), Rule::Word)
}

/// Classifies the word chunk at `i`.
pub fn word_at(c: &Classifier<'_>, i: usize) -> Decision {
    let tok = c.toks[i];
    let s = tok.text;
    let next = c.toks.get(i + 1);
    let next_is_dot = next.is_some_and(|t| t.is_punct(".") && !t.space_before);
    // "kh" after a percentage: "110 % kh năm" → kế hoạch.
    if matches!(s, "kh" | "KH") && c.last_spoken().is_some_and(|it| it.rule == Rule::Percent) {
        return (1, Class::Lexicon("kế hoạch".into()), Rule::PlanAfterPercent);
    }
    // Units, only right after a quantity ("3,2 km", "12 triệu USD", "8 GB", "10 usd").
    if c.after_quantity()
        && let Some(u) = unit_expr(c.lex, s, true).or_else(|| {
            // Cheap lookup first: most words after a number are no unit at all.
            loose_unit(c.lex, s).filter(|_| s.chars().count() >= 2 && !is_vietnamese_syllable(s))
        })
    {
        return (1, Class::Lexicon(u), Rule::Unit);
    }
    // "4 tỏi" (slang): four billion, right after a bare number.
    if s == "tỏi" && c.last_spoken().is_some_and(|it| matches!(it.rule, Rule::Cardinal | Rule::Decimal)) {
        return (1, Class::Word("tỷ".into()), Rule::Informal);
    }
    if let Some(d) = web::scheme(c, i) {
        return d;
    }
    // A dotted abbreviation: "v.v." or "TP." with its dot; "P. Tân Định" only where it is an address.
    if next_is_dot {
        let dotted = format!("{s}.");
        if let Some(exp) = c.lex.abbr(&dotted)
            && (!ADDRESS_LETTERS.contains(&s) || address_here(c, i))
        {
            let rule = if s.chars().count() <= 2 { Rule::Address } else { Rule::Abbreviation };
            return (2, Class::Lexicon(exp.into()), rule);
        }
    }
    if let Some(d) = by_context(c, i, s) {
        return d;
    }
    // "điểm b khoản 3": the point letter is a letter name.
    if one_char(s)
        && s.chars().all(fold::is_lower)
        && c.before(i).next().is_some_and(|w| LETTER_KEYWORDS.iter().any(|k| eq_lower(w, k)))
        && s.chars().next().and_then(letter_name).is_some()
    {
        return (1, Class::Spell(s.into()), Rule::LetterName);
    }
    // "Km 18+500": a road kilometre marker, written before its number.
    if matches!(s, "Km" | "KM")
        && let Some(u) = c.lex.unit(s)
        && c.toks
            .get(i + 1)
            .is_some_and(|t| t.has_digit() && t.text.starts_with(|ch: char| ch.is_ascii_digit()))
    {
        return (1, Class::Lexicon(u.into()), Rule::Unit);
    }
    // In an all-capital line, a capital syllable is a word even if it is
    // also an acronym ("AI" in "AI LÀ NGƯỜI…" is "ai").
    let has_upper = tok.upper;
    let caps_line = has_upper && is_caps_word(s) && caps_neighbour(c, i);
    // "LẦN THỨ VI": a Roman numeral after its keyword, even in a capital line.
    if caps_line && let Some(v) = roman::roman_here(c, i, s, false) {
        let (class, rule) = roman::roman_class(c, i, v);
        return (1, class, rule);
    }
    // "0,4 x 0,5 m": times.
    if matches!(s, "x" | "X")
        && c.last_spoken().is_some_and(|it| it.class.is_numeric())
        && c.toks.get(i + 1).is_some_and(|t| t.text.starts_with(|ch: char| ch.is_ascii_digit()))
    {
        return (1, Class::Symbol("nhân"), Rule::Times);
    }
    if caps_line {
        return (1, Class::Word(fold::to_lower(s)), Rule::CapsWord);
    }
    if let Some(exp) = c.lex.abbr(s) {
        // A title's dot is not a pause: "TP. Hồ Chí Minh", "TS. Lê".
        let title_dot = next_is_dot
            && TITLE_ABBREVIATIONS.contains(&s)
            && c.toks.get(i + 2).is_some_and(|t| t.text.starts_with(fold::is_upper));
        return (if title_dot { 2 } else { 1 }, Class::Lexicon(exp.into()), Rule::Abbreviation);
    }
    if let Some(exp) = c.lex.word(s) {
        return (1, Class::Lexicon(exp.into()), Rule::LexiconWord);
    }
    if let Some(v) = roman::roman_here(c, i, s, true) {
        let (first, rule) = roman::roman_class(c, i, v);
        // "thế kỷ XV - XVI", "khóa XIV-XV".
        if let (Some(dash), Some(next)) = (c.toks.get(i + 1), c.toks.get(i + 2))
            && dash.is_dash()
            && let Some(w) = super::super::number::roman_value(next.text)
        {
            return (3, Class::Range(Box::new(first), Box::new(Class::Roman(w))), Rule::RomanRange);
        }
        return (1, first, rule);
    }
    // "EUR/VND", "USD/VND": a currency pair (VND is "việt nam đồng" here).
    // (Each test below needs a connector in the chunk, or a degree sign.)
    if tok.joined
        && let Some(d) = currency_pair(c, s)
    {
        return d;
    }
    // Units that cannot be words (m², km/h, °C) read anywhere.
    if (tok.degree || tok.joined && s.contains('/'))
        && let Some(u) = unit_expr(c.lex, s, false)
    {
        return (1, Class::Lexicon(u), Rule::Unit);
    }
    if !tok.joined {
        return plain_word(c, i, s, has_upper, caps_line);
    }
    if s.contains('@')
        && let Some(d) = web::email(c, s)
    {
        return d;
    }
    if s.contains('.') && web::is_domain(s) {
        return (1, Class::Seq(web::domain(c, s)), Rule::Domain);
    }
    // "gạo/tháng", "bác sĩ/vạn dân", "đồng/vé": a word per a counting word,
    // or any word per word shortly after a quantity.
    if let Some((head, tail)) = s.rsplit_once('/')
        && head.chars().all(fold::is_alpha)
        && tail.chars().all(fold::is_alpha)
    {
        let per = per_word(c.lex, tail).or_else(|| c.recent_quantity(3).then(|| tail.to_lowercase()));
        if let Some(per) = per {
            return (
                1,
                Class::Seq(vec![read_piece(c, head), Class::Symbol("trên"), Class::Word(per)]),
                Rule::Per,
            );
        }
    }
    if s.contains(|ch: char| super::super::token::is_connector(ch)) {
        let parts = codes::read_parts(c, s);
        let rule = if parts.iter().any(|p| matches!(p, Class::Spell(_))) {
            Rule::AcronymSpelled
        } else if s.ends_with("-Index") {
            Rule::Code
        } else {
            Rule::Compound
        };
        return (1, Class::Seq(parts), rule);
    }
    plain_word(c, i, s, has_upper, caps_line)
}

/// The end of [`word_at`] for a chunk that is no unit, address, web name
/// or compound: a word, an acronym, or a letter.
fn plain_word(c: &Classifier<'_>, i: usize, s: &str, has_upper: bool, caps_line: bool) -> Decision {
    // "ChatGPT", "VietGAP": a word with an acronym tail.
    if !has_upper {
        return (1, Class::Verbatim, Rule::Word);
    }
    if let Some(k) = camel_acronym_split(s) {
        let (head, tail) = s.split_at(k);
        let parts = vec![read_piece(c, head), read_piece(c, tail)];
        return (1, Class::Seq(parts), Rule::AcronymSpelled);
    }
    // A short capital syllable alone in mixed-case text is an acronym: "UN", "EU".
    if s.len() <= 3 && s.bytes().all(|b| b.is_ascii_uppercase()) && s.len() >= 2 && !caps_line {
        return (1, Class::Spell(s.into()), Rule::AcronymSpelled);
    }
    // A capital letter with a tone mark is a word: "châu Á", "Ý".
    if one_char(s)
        && !s.is_ascii()
        && is_vietnamese_syllable(s)
        && letter_name(s.chars().next().unwrap_or('a')).is_none()
    {
        return (1, Class::Word(fold::to_lower(s)), Rule::Word);
    }
    // A capital letter that is a Vietnamese word before a lower-case word: "Y tế".
    if one_char(s)
        && is_vietnamese_syllable(s)
        && c.toks.get(i + 1).is_some_and(|t| t.is_chunk() && t.text.starts_with(fold::is_lower))
    {
        return (1, Class::Word(fold::to_lower(s)), Rule::Word);
    }
    let (class, rule) = word_class(s);
    (1, class, rule)
}

/// True when "P." / "Q." at `i` opens an address ("tại P. Tân Định",
/// "P.3, Q.5"), not an initial in a name ("Nguyễn Q. Anh") or a byline.
fn address_here(c: &Classifier<'_>, i: usize) -> bool {
    let after = c.toks.get(i + 2).filter(|t| t.space_before || t.is_chunk());
    let names_a_place =
        after.is_some_and(|t| t.text.starts_with(|ch: char| fold::is_upper(ch) || ch.is_ascii_digit()));
    let prev = i.checked_sub(1).and_then(|j| c.toks.get(j));
    let after_name = prev.is_some_and(|t| t.is_chunk() && t.text.starts_with(fold::is_upper));
    names_a_place && prev.is_some() && !after_name
}

/// "EUR/VND", "USD/VND", "EUR/USD": currency codes either side of "/".
fn currency_pair(c: &Classifier<'_>, s: &str) -> Option<Decision> {
    let (a, b) = s.split_once('/')?;
    let code = |x: &str| {
        (x.len() == 3 && x.bytes().all(|b| b.is_ascii_uppercase()) || x == "VNĐ")
            .then(|| c.lex.unit(x))
            .flatten()
    };
    let (ra, rb) = (code(a)?, code(b)?);
    let name = |x: &str, r: &str| {
        if matches!(x, "VND" | "VNĐ") { "việt nam đồng".to_string() } else { r.to_lowercase() }
    };
    let class = Class::Seq(vec![Class::Word(name(a, ra)), Class::Symbol("trên"), Class::Word(name(b, rb))]);
    Some((1, class, Rule::Money))
}

/// Where a word with a lower-case head ends and its capital acronym tail
/// (two letters or more) begins: "ChatGPT" → 4.
fn camel_acronym_split(s: &str) -> Option<usize> {
    if !s.chars().all(fold::is_alpha) {
        return None;
    }
    let (k, _) = s
        .char_indices()
        .skip(1)
        .find(|&(k, ch)| fold::is_upper(ch) && s[..k].chars().last().is_some_and(fold::is_lower))?;
    let tail = &s[k..];
    (tail.chars().count() >= 2 && tail.chars().all(fold::is_upper)).then_some(k)
}

/// True when a chunk next to `i` is also written in capitals.
fn caps_neighbour(c: &Classifier<'_>, i: usize) -> bool {
    let caps = |t: &super::super::token::Tok<'_>| {
        t.is_chunk() && t.text.chars().any(fold::is_alpha) && !t.text.chars().any(fold::is_lower)
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
        "ĐT" if next.text.starts_with(fold::is_upper) => "đội tuyển",
        // "SN 1985" born in, "SN 12" house number.
        "SN" if year_next => "sinh năm",
        "SN" if next.has_digit() => "số nhà",
        // "US$": the "$" says it.
        "US" if next.is_punct("$") && !next.space_before => {
            return Some((1, Class::Silent, Rule::CurrencyPrefix));
        }
        _ => return None,
    };
    Some((1, Class::Lexicon(spoken.into()), Rule::Abbreviation))
}
