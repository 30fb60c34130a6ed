//! Classification of chunks that contain digits: plain, grouped and
//! decimal numbers, ranges and scores (also across tokens: "2021 - 2026",
//! "3$-4$", "12%-15%"), ratios, fractions and odds, seasons, amounts with
//! attached units or multipliers ("500m2", "35k", "1tr5", "2kg-5kg"),
//! "x5" and "120.000+". Dates and times are in [`super::dates`], codes in
//! [`super::codes`].

use super::super::fold;
use super::dates::{all_digits, date_in, is_year, parse_time, small, time_of_day, valid_day_month};
use super::{Class, Classifier, Decision, Rule, codes, currency_symbol, lower, one_char, roman, words};

/// Words whose presence just before "a-b" makes it a score.
const SCORE_CONTEXT: &[&str] = &[
    "số", "thắng", "thua", "hòa", "hoà", "cuộc", "biệt", "bại", "set", "ván", "game", "thủng", "ghi", "dẫn",
    "gỡ",
];

/// Words before "YYYY/YY" or "YYYY-YYYY" that make it a season or school year.
const SEASON_CONTEXT: &[&str] = &["giải", "mùa", "khóa", "khoá", "học", "vụ", "niên", "nhiệm"];

/// Nouns of extent after a fraction: "2/3 diện tích" → hai phần ba.
const EXTENT: &[&str] = &[
    "diện", "dân", "số", "thời", "tổng", "khối", "lượng", "quãng", "chiều", "giá", "sản", "quỹ", "ngân",
    "lực", "thị", "phần", "trữ", "công", "nhu", "kinh", "vốn", "đất", "cổ",
];

/// A thousands-grouped integer: "1.213.353" (dots) or "1,213,353" (commas, two groups or more).
fn is_grouped(s: &str, sep: char) -> bool {
    let mut parts = s.split(sep);
    let Some(first) = parts.next() else { return false };
    let mut n = 0;
    for p in parts {
        if p.len() != 3 || !all_digits(p) {
            return false;
        }
        n += 1;
    }
    n >= 1 && (1..=3).contains(&first.len()) && all_digits(first)
}

/// A number written in one chunk with no context needed.
pub fn parse_plain(s: &str) -> Option<Class> {
    if all_digits(s) {
        if s.len() > 1 && s.starts_with('0') && s.len() > 3 {
            return Some(Class::Digits(s.into()));
        }
        return Some(Class::Cardinal(s.into()));
    }
    if is_grouped(s, '.') {
        return Some(Class::Grouped(s.into()));
    }
    if let Some((int, frac)) = s.split_once(',')
        && all_digits(frac)
        && (all_digits(int) || is_grouped(int, '.'))
    {
        return Some(Class::Decimal(int.replace('.', ""), frac.into()));
    }
    if is_grouped(s, ',') && s.matches(',').count() >= 2 {
        return Some(Class::Grouped(s.into()));
    }
    if s.contains('.') && s.split('.').all(all_digits) {
        return Some(Class::Dotted(s.split('.').map(String::from).collect()));
    }
    None
}

/// Classifies the chunk at `i`, which contains a digit.
pub fn number_at(c: &Classifier<'_>, i: usize) -> Decision {
    let text = c.toks[i].text;
    // A unit with a digit in it ("m2", "km2") right after a quantity.
    if !text.starts_with(|ch: char| ch.is_ascii_digit())
        && c.after_quantity()
        && let Some(u) = words::unit_expr(c.lex, text, true)
    {
        return (1, Class::Lexicon(u), Rule::Unit);
    }
    if let Some(d) = codes::phone(c, i).or_else(|| codes::emergency(c, i)) {
        return d;
    }
    // "quangcao_2024@vnexpress.net", "24h.com.vn": the web, with digits.
    if text.contains('@')
        && let Some(d) = super::web::email(c, text)
    {
        return d;
    }
    if text.contains('.') && !text.starts_with(|ch: char| ch.is_ascii_digit()) && super::web::is_domain(text)
    {
        return (1, Class::Seq(super::web::domain(c, text)), Rule::Domain);
    }
    let (n, class, rule) = single(c, i);
    if let Some(d) = symbol_range(c, i, n, &class) {
        return d;
    }
    // "120.000+ lượt": more than.
    if class.is_numeric()
        && let Some(plus) = c.toks.get(i + n)
        && plus.is_punct("+")
        && !plus.space_before
        && c.toks.get(i + n + 1).is_none_or(|t| t.space_before || !t.has_digit())
    {
        return (n + 1, Class::Seq(vec![Class::Word("hơn".into()), class]), Rule::MoreThan);
    }
    // "23 1/5", "5 1/2": a whole number and a fraction.
    if let Class::Cardinal(whole) = &class
        && let Some(next) = c.toks.get(i + n).filter(|t| t.is_chunk() && t.space_before)
        && let Some((a, b)) = next.text.split_once('/')
        && let (Some(x), Some(y)) = (small(a), small(b))
        && x >= 1
        && x < y
        && !whole.starts_with('0')
        && !super::dates::date_context(c, i, &c.prev_word(i).unwrap_or_default())
    {
        let frac = Class::Fraction(Box::new(Class::Cardinal(a.into())), Box::new(Class::Cardinal(b.into())));
        let parts = vec![class.clone(), Class::Word("và".into()), frac];
        return (n + 1, Class::Seq(parts), Rule::Fraction);
    }
    let Some(left_kind) = kind(&class) else {
        return (n, class, rule);
    };
    // "2021 - 2026", "40 – 45", "35 - 37°C", "30/4 – 1/5", "15 - 20/9": a dash and another number.
    if let (Some(dash), Some(right)) = (c.toks.get(i + n), c.toks.get(i + n + 1))
        && dash.is_dash()
        && right.has_digit()
        && right.text.starts_with(|ch: char| ch.is_ascii_digit())
    {
        let (m, rclass, _) = single(c, i + n + 1);
        if let Some(range) = range_of(c, i, &class, &rclass, left_kind) {
            let rule = if matches!(range, Class::Score(..)) { Rule::Score } else { Rule::Range };
            return (n + 1 + m, range, rule);
        }
    }
    (n, class, rule)
}

/// "3$-4$", "12%-15%", "10€ - 20€": two amounts that both carry their sign.
fn symbol_range(c: &Classifier<'_>, i: usize, n: usize, left: &Class) -> Option<Decision> {
    let sign = c.toks.get(i + n).filter(|t| !t.space_before)?;
    let name = if sign.text == "%" { "phần trăm" } else { currency_symbol(sign.text)? };
    if !left.is_numeric() {
        return None;
    }
    c.toks.get(i + n + 1).filter(|t| t.is_dash())?;
    c.toks.get(i + n + 2).filter(|t| t.has_digit() && t.text.starts_with(|ch: char| ch.is_ascii_digit()))?;
    let (m, rclass, _) = single(c, i + n + 2);
    if !rclass.is_numeric() {
        return None;
    }
    let mut used = n + 2 + m;
    let mut right_parts = vec![rclass];
    if c.toks.get(i + used).is_some_and(|t| t.text == sign.text && !t.space_before) {
        used += 1;
    }
    right_parts.push(Class::Symbol(name));
    let range = Class::Range(
        Box::new(Class::Seq(vec![left.clone(), Class::Symbol(name)])),
        Box::new(Class::Seq(right_parts)),
    );
    Some((used, range, if name == "phần trăm" { Rule::Percent } else { Rule::Money }))
}

/// What a numeric class measures, so that only like pairs form a range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Number,
    Date,
    Time,
}

fn kind(class: &Class) -> Option<Kind> {
    match class {
        Class::Date { .. } => Some(Kind::Date),
        Class::Time { .. } => Some(Kind::Time),
        Class::Ratio(..) => Some(Kind::Date), // a d/m pair that may turn out to be a date
        Class::Seq(parts) => parts.first().and_then(kind).filter(|k| *k == Kind::Number),
        c if c.is_numeric() => Some(Kind::Number),
        _ => None,
    }
}

/// A day/month date read from a ratio of two small numbers, if valid.
fn as_day_month(class: &Class) -> Option<(u32, u32)> {
    match class {
        Class::Ratio(a, b) => match (a.as_ref(), b.as_ref()) {
            (Class::Cardinal(d), Class::Cardinal(m)) => {
                let (d, m) = (small(d)?, small(m)?);
                valid_day_month(d, m).then_some((d, m))
            }
            _ => None,
        },
        Class::Date { day: Some(d), month, .. } => Some((*d, *month)),
        Class::Dotted(parts) if parts.len() == 2 => {
            let (d, m) = (small(&parts[0])?, small(&parts[1])?);
            valid_day_month(d, m).then_some((d, m))
        }
        _ => None,
    }
}

/// The range "left – right", or `None` when the two do not pair.
fn range_of(c: &Classifier<'_>, i: usize, left: &Class, right: &Class, lk: Kind) -> Option<Class> {
    let rk = kind(right)?;
    let ngay = c.before(i).next().is_some_and(|w| time_of_day(&lower(w)));
    match (lk, rk) {
        (Kind::Number, Kind::Number) | (Kind::Time, Kind::Time) => {
            Some(pair(c, i, left.clone(), right.clone()))
        }
        // "30/4 – 1/5": two day/month pairs.
        (Kind::Date, Kind::Date) => {
            let date = |cl: &Class| match cl {
                Class::Date { .. } => Some(cl.clone()),
                // A bare "30/4" gets no "ngày": readers say "ba mươi tháng tư".
                _ => as_day_month(cl).map(|(d, m)| Class::Date {
                    day: Some(d),
                    month: m,
                    year: None,
                    ngay: false,
                    thang: true,
                }),
            };
            Some(Class::Range(Box::new(date(left)?), Box::new(date(right)?)))
        }
        // "15 - 20/9": days of one month.
        (Kind::Number, Kind::Date) => {
            let (d2, m) = as_day_month(right)?;
            let Class::Cardinal(d1) = left else { return None };
            small(d1).filter(|&d| d >= 1 && d < d2)?;
            let mut first = vec![Class::Cardinal(d1.clone())];
            if ngay {
                first.insert(0, Class::Word("ngày".into()));
            }
            let year = match right {
                Class::Date { year, .. } => year.clone(),
                _ => None,
            };
            let second = Class::Date { day: Some(d2), month: m, year, ngay: false, thang: true };
            Some(Class::Range(Box::new(Class::Seq(first)), Box::new(second)))
        }
        _ => None,
    }
}

/// A plain number or an in-chunk range of plain numbers or times.
fn quantity(c: &Classifier<'_>, i: usize, s: &str) -> Option<Class> {
    if let Some(q) = parse_plain(s) {
        return Some(q);
    }
    // "1/2kg", "3/4m": a fraction before its unit.
    if let Some((a, b)) = s.split_once('/')
        && let (Some(x), Some(y)) = (small(a), small(b))
        && x >= 1
        && y >= 2
    {
        return Some(Class::Fraction(
            Box::new(Class::Cardinal(a.into())),
            Box::new(Class::Cardinal(b.into())),
        ));
    }
    let (a, b) = s.split_once(['-', '–'])?;
    let side = |x: &str| parse_plain(x).or_else(|| parse_time(x));
    let (x, y) = (side(a)?, side(b)?);
    (kind(&x) == kind(&y)).then(|| pair(c, i, x, y))
}

/// Range or score: a score after a score word ("thắng 3-1") or inside the
/// bracketed list right after a score ("3-1 (25-20, 23-25)").
fn pair(c: &Classifier<'_>, i: usize, a: Class, b: Class) -> Class {
    let score = c.prev_has(i, 3, SCORE_CONTEXT) || after_score(c);
    if score { Class::Score(Box::new(a), Box::new(b)) } else { Class::Range(Box::new(a), Box::new(b)) }
}

/// True when the last thing said, past pauses and brackets, is a score.
fn after_score(c: &Classifier<'_>) -> bool {
    c.spoken_back().find(|it| !matches!(it.class, Class::Pause(','))).is_some_and(|it| it.rule == Rule::Score)
}

/// One chunk with digits, with the words before it as context but without
/// looking for a following range.
fn single(c: &Classifier<'_>, i: usize) -> Decision {
    let s = c.toks[i].text;
    let prev = c.before(i).next().map(fold::lower_cow);
    let prev = prev.as_deref().unwrap_or("");
    if let Some(t) = parse_time(s) {
        return (1, t, Rule::Time);
    }
    if all_digits(s) {
        if prev == "thứ" && s.len() <= 3 {
            let n: u64 = s.parse().unwrap_or(0);
            return (1, Class::Ordinal(n), Rule::Ordinal);
        }
        if prev == "tháng"
            && let Some(m) = small(s).filter(|m| (1..=12).contains(m))
        {
            return (1, Class::Month(m), Rule::Month);
        }
        // "tháng 1 2024": the year after a month.
        if is_year(s) && c.last_spoken().is_some_and(|it| it.rule == Rule::Month) {
            return (
                1,
                Class::Seq(vec![Class::Word("năm".into()), Class::Cardinal(s.into())]),
                Rule::MonthYear,
            );
        }
        if s.len() > super::super::number::MAX_QUANTITY_DIGITS {
            return (1, Class::Digits(s.into()), Rule::Digits);
        }
        let rule = if s.len() > 1 && s.starts_with('0') { Rule::LeadingZero } else { Rule::Cardinal };
        return (1, parse_plain(s).unwrap_or(Class::Digits(s.into())), rule);
    }
    if let Some(d) = date_in(c, i, s, prev) {
        return d;
    }
    if let Some(d) = season(c, i, s) {
        return d;
    }
    if let Some((a, b)) = s.split_once('/')
        && let (Some(x), Some(y)) = (parse_plain(a), parse_plain(b))
        && x.is_numeric()
        && y.is_numeric()
        && !b.contains('/')
    {
        return fraction_or_ratio(c, i, prev, x, y);
    }
    if let Some(class) = parse_plain(s) {
        let rule = match class {
            Class::Grouped(_) => Rule::Grouped,
            Class::Decimal(..) => Rule::Decimal,
            Class::Dotted(_) => Rule::Dotted,
            _ => Rule::Cardinal,
        };
        return (1, class, rule);
    }
    // "2021-2026", "5-7", "8h-11h30": a range inside one chunk.
    if let Some(q) = quantity(c, i, s) {
        let rule = if matches!(q, Class::Score(..)) { Rule::Score } else { Rule::Range };
        return (1, q, rule);
    }
    mixed(c, i, s)
}

/// "a/b": odds after "chọi", a fraction after "vòng" or before a noun of
/// extent ("2/3 diện tích"), otherwise a ratio ("17/18 chỉ tiêu").
fn fraction_or_ratio(c: &Classifier<'_>, i: usize, prev: &str, x: Class, y: Class) -> Decision {
    if prev == "chọi" {
        return (1, Class::Seq(vec![x, Class::Symbol("chọi"), y]), Rule::Odds);
    }
    let simple = |cl: &Class| matches!(cl, Class::Cardinal(d) if d.len() <= 3 && !d.starts_with('0'));
    let extent = c.next_word(i).is_some_and(|w| EXTENT.contains(&w.as_str()));
    if simple(&x) && simple(&y) && (prev == "vòng" || extent) {
        return (1, Class::Fraction(Box::new(x), Box::new(y)), Rule::Fraction);
    }
    (1, Class::Ratio(Box::new(x), Box::new(y)), Rule::Ratio)
}

/// "2022/23", "2023/2024", "2023-24": consecutive years, a season or a
/// school year (with a season word before, or written with "/").
fn season(c: &Classifier<'_>, i: usize, s: &str) -> Option<Decision> {
    let (a, b) = s.split_once(['/', '-', '–'])?;
    if !is_year(a) || !all_digits(b) || !(b.len() == 2 || b.len() == 4) {
        return None;
    }
    let first: u32 = a.parse().ok()?;
    let next = first + 1;
    let consecutive =
        if b.len() == 2 { b.parse::<u32>().ok()? == next % 100 } else { b.parse::<u32>().ok()? == next };
    let slash = s.contains('/');
    if !consecutive || !(slash || b.len() == 2 || c.prev_has(i, 2, SEASON_CONTEXT)) {
        return None;
    }
    Some((
        1,
        Class::Range(Box::new(Class::Cardinal(a.into())), Box::new(Class::Cardinal(b.into()))),
        Rule::Season,
    ))
}

/// A number with an attached unit or multiplier ("500m2", "45.000đ/kg",
/// "35k", "1tr5", "2kg-5kg"), "x5", or a code mixing letters and digits.
fn mixed(c: &Classifier<'_>, i: usize, s: &str) -> Decision {
    if let Some(d) = informal_per(c, s).or_else(|| times(s)).or_else(|| duration(s)) {
        return d;
    }
    // "2kg-5kg", "10.000đ-15.000đ", "118.000đ-121.500đ/kg", "10k-20k": both ends carry the unit.
    if let Some(k) = s.find(['-', '–'])
        && k > 0
    {
        let (l, r) = (&s[..k], s[k..].trim_start_matches(['-', '–']));
        let side = |x: &str| informal_per(c, x).map(|d| d.1).or_else(|| with_unit(c, i, x));
        if let (Some(a), Some(b)) = (side(l), side(r)) {
            return (1, Class::Range(Box::new(a), Box::new(b)), Rule::Range);
        }
    }
    if let Some(q) = with_unit(c, i, s) {
        return (1, q, Rule::Unit);
    }
    if let Some(d) = dates_of_month(c, i, s) {
        return d;
    }
    // Roman numeral with a year: "quý I/2023".
    if let Some((a, b)) = s.split_once('/')
        && is_year(b)
        && let Some(v) = roman::roman_here(c, i, a, true)
    {
        let parts = vec![Class::Roman(v), Class::Word("năm".into()), Class::Cardinal(b.into())];
        return (1, Class::Seq(parts), Rule::Roman);
    }
    codes::code(c, s)
}

/// A quantity with its attached unit ("500m2", "33-35°C", "45.000đ/kg", "1/2kg").
fn with_unit(c: &Classifier<'_>, i: usize, s: &str) -> Option<Class> {
    let (k, _) = s
        .char_indices()
        .skip(1)
        .find(|&(_, ch)| !(ch.is_ascii_digit() || matches!(ch, '.' | ',' | '-' | '–' | '/')))?;
    let (num, rest) = s.split_at(k);
    // A lone capital after a number is a letter, not a unit: "Quốc lộ 1A", "lớp 12A".
    if one_char(rest) && rest.chars().all(fold::is_upper) && rest != "V" && rest != "W" {
        return None;
    }
    let q = quantity(c, i, num)?;
    let unit = words::unit_expr(c.lex, rest, true).or_else(|| words::loose_unit(c.lex, rest))?;
    Some(Class::Seq(vec![q, Class::Lexicon(unit)]))
}

/// Informal amounts written in one chunk: "35k" → ba mươi lăm nghìn,
/// "1tr5" → một triệu năm trăm nghìn, "80tr", "5tỷ", "2k5".
fn informal(s: &str) -> Option<Decision> {
    let k = s.find(|ch: char| !(ch.is_ascii_digit() || ch == ',' || ch == '.'))?;
    let (num, rest) = s.split_at(k);
    let q = parse_plain(num).filter(Class::is_numeric)?;
    let (word, tail, next) =
        [("k", "nghìn", ""), ("tr", "triệu", "nghìn"), ("tỷ", "tỷ", "triệu"), ("tỏi", "tỷ", "triệu")]
            .iter()
            .find_map(|&(abbr, word, next)| rest.strip_prefix(abbr).map(|tail| (word, tail, next)))?;
    let mut parts = vec![q, Class::Word(word.into())];
    if !tail.is_empty() {
        // The digits after are the next group's leading digits: "1tr5" = 1 triệu 500 nghìn.
        if !all_digits(tail) || tail.len() > 3 || num.contains([',', '.']) {
            return None;
        }
        parts.push(Class::Cardinal(format!("{tail:0<3}")));
        if !next.is_empty() {
            parts.push(Class::Word(next.into()));
        }
    }
    Some((1, Class::Seq(parts), Rule::Informal))
}

/// An informal amount, with a denominator after "/": "40k/kg".
fn informal_per(c: &Classifier<'_>, s: &str) -> Option<Decision> {
    let Some((head, per)) = s.split_once('/') else { return informal(s) };
    let (n, amount, rule) = informal(head)?;
    let per = words::per_word(c.lex, per)?;
    Some((n, Class::Seq(vec![amount, Class::Symbol("trên"), Class::Lexicon(per)]), rule))
}

/// "x5", "x1,5": times (a multiplier written before the number).
fn times(s: &str) -> Option<Decision> {
    let num = s.strip_prefix('x')?;
    let q = parse_plain(num).filter(Class::is_numeric)?;
    Some((1, Class::Seq(vec![Class::Symbol("nhân"), q]), Rule::Times))
}

/// Minutes and seconds written "3p20s", "5p", "12p03s" (zero seconds unread).
fn duration(s: &str) -> Option<Decision> {
    let (m, rest) = s.split_once('p')?;
    let sec = match rest {
        "" => None,
        r => Some(r.strip_suffix('s').filter(|x| all_digits(x) && x.len() <= 2)?),
    };
    if !all_digits(m) || m.len() > 3 {
        return None;
    }
    let mut parts = vec![Class::Cardinal(m.into()), Class::Word("phút".into())];
    if let Some(sec) = sec.filter(|x| x.bytes().any(|b| b != b'0')) {
        parts.push(Class::Cardinal(sec.into()));
        parts.push(Class::Word("giây".into()));
    }
    Some((1, Class::Seq(parts), Rule::Duration))
}

/// Days of one month: "15-17/3", "20-22/10/2023".
fn dates_of_month(c: &Classifier<'_>, i: usize, s: &str) -> Option<Decision> {
    let (days, month) = s.split_once('/')?;
    let (d1, d2) = days.split_once(['-', '–'])?;
    let (a, b) = (small(d1)?, small(d2)?);
    let (m, year) = match month.split_once('/') {
        Some((m, y)) if is_year(y) => (small(m), Some(y.to_string())),
        Some(_) => (None, None),
        None => (small(month), None),
    };
    let m = m.filter(|&m| valid_day_month(a, m) && valid_day_month(b, m))?;
    let ngay = c.before(i).next().is_some_and(|w| time_of_day(&lower(w)));
    let mut first = vec![Class::Cardinal(d1.into())];
    if ngay {
        first.insert(0, Class::Word("ngày".into()));
    }
    let range = Class::Range(
        Box::new(Class::Seq(first)),
        Box::new(Class::Date { day: Some(b), month: m, year, ngay: false, thang: true }),
    );
    Some((1, range, Rule::DateRange))
}
