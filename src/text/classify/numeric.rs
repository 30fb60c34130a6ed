//! Classification of chunks that contain digits: phone numbers, times,
//! dates, ratios, ranges and scores, grouped and decimal numbers, numbers
//! with attached units, and mixed codes ("4B", "H5N1", "123/QĐ-UBND").

use super::{Class, Classifier, Decision, roman_here, words};

/// Words before a d/m pair that make it a date.
const DATE_CONTEXT: &[&str] = &[
    "ngày", "sáng", "trưa", "chiều", "tối", "đêm", "hôm", "đến", "từ", "vào", "lúc", "mùng", "mồng", "khuya",
    "qua", "nay", "tới", "trước", "sau",
];

/// Words after which a date is read with "ngày": "sáng 27/7" → sáng ngày…
const TIME_OF_DAY: &[&str] = &["sáng", "trưa", "chiều", "tối", "đêm", "khuya", "rạng"];

/// Words after which "d/m" is a date rather than a ratio ("Quốc khánh 2/9",
/// "phiên 18/10", "Chủ nhật 7/10").
const DATE_CONTEXT_MORE: &[&str] = &["lễ", "khánh", "phiên", "nhật", "niệm", "hội"];

const WEEKDAYS: &[&str] = &["hai", "ba", "tư", "năm", "sáu", "bảy"];

/// True when the words before token `i` make a day/month pair a date.
fn date_context(c: &Classifier<'_>, i: usize, prev: &str) -> bool {
    if DATE_CONTEXT.contains(&prev) || DATE_CONTEXT_MORE.contains(&prev) {
        return true;
    }
    let words = c.prev_words(i, 2);
    matches!(words.as_slice(), [day, thu] if WEEKDAYS.contains(&day.as_str()) && thu == "thứ")
}

/// Words whose presence just before "a-b" makes it a score.
const SCORE_CONTEXT: &[&str] = &["số", "thắng", "thua", "hòa", "hoà", "cuộc", "biệt", "bại"];

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn small(s: &str) -> Option<u32> {
    (all_digits(s) && s.len() <= 2).then(|| s.parse().ok()).flatten()
}

/// A thousands-grouped integer: "1.213.353" (dots) or "1,213,353" (commas, two groups or more).
fn is_grouped(s: &str, sep: char) -> bool {
    let parts: Vec<&str> = s.split(sep).collect();
    parts.len() >= 2
        && (1..=3).contains(&parts[0].len())
        && all_digits(parts[0])
        && parts[1..].iter().all(|p| p.len() == 3 && all_digits(p))
}

fn valid_day_month(d: u32, m: u32) -> bool {
    (1..=31).contains(&d) && (1..=12).contains(&m)
}

fn is_year(s: &str) -> bool {
    s.len() == 4 && all_digits(s)
}

/// A clock time: "14h30", "8h", "7h05", "17:00".
fn parse_time(s: &str) -> Option<Class> {
    let (h, m) = if let Some(pos) = s.find(['h', 'H', 'g']) {
        (&s[..pos], &s[pos + 1..])
    } else {
        let (h, m) = s.split_once(':')?;
        if m.is_empty() {
            return None;
        }
        (h, m)
    };
    let hour = small(h)?;
    if hour > 24 {
        return None;
    }
    let minute = match m {
        "" => None,
        m if m.len() == 2 && all_digits(m) => Some(m.parse().ok().filter(|&v: &u32| v < 60)?),
        _ => return None,
    };
    Some(Class::Time { hour, minute: minute.filter(|&v| v > 0) })
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
    if s.split('.').count() >= 2 && s.split('.').all(all_digits) {
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
        return (1, Class::Lexicon(u), "unit");
    }
    if let Some(d) = phone(c, i) {
        return d;
    }
    let (n, class, rule) = single(c, i);
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
            return (n + 1 + m, range, "range");
        }
    }
    (n, class, rule)
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
    let ngay = c.prev_words(i, 1).first().is_some_and(|w| TIME_OF_DAY.contains(&w.as_str()));
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
    let (a, b) = s.split_once(['-', '–'])?;
    let side = |x: &str| parse_plain(x).or_else(|| parse_time(x));
    let (x, y) = (side(a)?, side(b)?);
    (kind(&x) == kind(&y)).then(|| pair(c, i, x, y))
}

/// Range or score, by the words before it.
fn pair(c: &Classifier<'_>, i: usize, a: Class, b: Class) -> Class {
    let score = c.prev_words(i, 3).iter().any(|w| SCORE_CONTEXT.contains(&w.as_str()));
    if score { Class::Score(Box::new(a), Box::new(b)) } else { Class::Range(Box::new(a), Box::new(b)) }
}

/// One chunk with digits, with the words before it as context but without
/// looking for a following range.
fn single(c: &Classifier<'_>, i: usize) -> Decision {
    let s = c.toks[i].text;
    let prev = c.prev_word(i).or_else(|| c.prev_words(i, 1).pop());
    let prev = prev.as_deref().unwrap_or("");
    if let Some(t) = parse_time(s) {
        return (1, t, "time");
    }
    if all_digits(s) {
        if prev == "thứ" && s.len() <= 3 {
            let n: u64 = s.parse().unwrap_or(0);
            return (1, Class::Ordinal(n), "ordinal");
        }
        if prev == "tháng"
            && let Some(m) = small(s).filter(|m| (1..=12).contains(m))
        {
            return (1, Class::Month(m), "month");
        }
        if s.len() > super::super::number::MAX_QUANTITY_DIGITS {
            return (1, Class::Digits(s.into()), "digits");
        }
        let rule = if s.len() > 1 && s.starts_with('0') { "leading-zero" } else { "cardinal" };
        return (1, parse_plain(s).unwrap_or(Class::Digits(s.into())), rule);
    }
    // Dates: d/m/y, d.m.y, d-m-y.
    for sep in ['/', '.', '-'] {
        let parts: Vec<&str> = s.split(sep).collect();
        if parts.len() == 3
            && let (Some(d), Some(m)) = (small(parts[0]), small(parts[1]))
            && is_year(parts[2])
            && valid_day_month(d, m)
        {
            let ngay = TIME_OF_DAY.contains(&prev);
            let class =
                Class::Date { day: Some(d), month: m, year: Some(parts[2].into()), ngay, thang: true };
            return (1, class, "date");
        }
    }
    if let Some((a, b)) = s.split_once('/') {
        // Month/year: "tháng 12/2022", "(4/2023)"; "quý 1/2023".
        if let Some(m) = small(a).filter(|m| (1..=12).contains(m))
            && is_year(b)
        {
            if matches!(prev, "quý" | "đợt" | "kỳ" | "kì" | "khóa" | "khoá") {
                let class = Class::Seq(vec![
                    Class::Cardinal(a.into()),
                    Class::Word("năm".into()),
                    Class::Cardinal(b.into()),
                ]);
                return (1, class, "period-year");
            }
            let class = Class::Date {
                day: None,
                month: m,
                year: Some(b.into()),
                ngay: false,
                thang: prev != "tháng",
            };
            return (1, class, "month-year");
        }
        // Day/month when it is a valid date and the context says so.
        if let (Some(d), Some(m)) = (small(a), small(b))
            && valid_day_month(d, m)
            && (date_context(c, i, prev) || a.starts_with('0') || b.starts_with('0'))
        {
            let ngay = TIME_OF_DAY.contains(&prev);
            return (1, Class::Date { day: Some(d), month: m, year: None, ngay, thang: true }, "date");
        }
        if let (Some(x), Some(y)) = (parse_plain(a), parse_plain(b))
            && x.is_numeric()
            && y.is_numeric()
            && !b.contains('/')
        {
            return (1, Class::Ratio(Box::new(x), Box::new(y)), "ratio");
        }
    }
    // "Sáng 02-9", "ngày 30.4": day and month joined by "-" or "." in a date context.
    for sep in ['-', '.'] {
        if let Some((a, b)) = s.split_once(sep)
            && let (Some(d), Some(m)) = (small(a), small(b))
            && valid_day_month(d, m)
            && if sep == '.' {
                date_context(c, i, prev)
            } else {
                // "từ 5-7 ngày" is a range; "sáng 2-9", "ngày 2-9", "02-9" are dates.
                TIME_OF_DAY.contains(&prev) || prev == "ngày" || a.starts_with('0') || b.starts_with('0')
            }
        {
            let ngay = TIME_OF_DAY.contains(&prev);
            return (1, Class::Date { day: Some(d), month: m, year: None, ngay, thang: true }, "date");
        }
    }
    if let Some(class) = parse_plain(s) {
        let rule = match class {
            Class::Grouped(_) => "grouped",
            Class::Decimal(..) => "decimal",
            Class::Dotted(_) => "dotted",
            _ => "cardinal",
        };
        return (1, class, rule);
    }
    // "2021-2026", "5-7", "8h-11h30": a range inside one chunk.
    if let Some(q) = quantity(c, i, s) {
        return (1, q, "range");
    }
    mixed(c, i, s)
}

/// A number with an attached unit ("500m2", "200.000đ", "45.000đ/kg"), or
/// a code mixing letters and digits, read part by part.
fn mixed(c: &Classifier<'_>, i: usize, s: &str) -> Decision {
    // A quantity or range, then an attached unit: "500m2", "45.000đ/kg", "33-35°C".
    for (k, ch) in s.char_indices().skip(1) {
        if ch.is_ascii_digit() || matches!(ch, '.' | ',' | '-' | '–') {
            continue;
        }
        let (num, rest) = s.split_at(k);
        // A lone capital after a number is a letter, not a unit: "Quốc lộ 1A", "lớp 12A".
        if rest.chars().count() == 1 && rest.chars().all(char::is_uppercase) && rest != "V" && rest != "W" {
            break;
        }
        if let Some(q) = quantity(c, i, num)
            && let Some(unit) = words::unit_expr(c.lex, rest, true)
        {
            return (1, Class::Seq(vec![q, Class::Lexicon(unit)]), "unit");
        }
        break;
    }
    // Days of one month: "15-17/3", "20-22/10/2023".
    if let Some((days, month)) = s.split_once('/')
        && let Some((d1, d2)) = days.split_once(['-', '–'])
        && let (Some(a), Some(b)) = (small(d1), small(d2))
    {
        let (m, year) = match month.split_once('/') {
            Some((m, y)) if is_year(y) => (small(m), Some(y.to_string())),
            Some(_) => (None, None),
            None => (small(month), None),
        };
        if let Some(m) = m.filter(|&m| valid_day_month(a, m) && valid_day_month(b, m)) {
            let ngay = c.prev_word(i).is_some_and(|w| TIME_OF_DAY.contains(&w.as_str()));
            let mut first = vec![Class::Cardinal(d1.into())];
            if ngay {
                first.insert(0, Class::Word("ngày".into()));
            }
            let range = Class::Range(
                Box::new(Class::Seq(first)),
                Box::new(Class::Date { day: Some(b), month: m, year, ngay: false, thang: true }),
            );
            return (1, range, "date-range");
        }
    }
    // Roman numeral with a year: "quý I/2023".
    if let Some((a, b)) = s.split_once('/')
        && is_year(b)
        && let Some(v) = roman_here(c, i, a, true)
    {
        return (
            1,
            Class::Seq(vec![Class::Roman(v), Class::Word("năm".into()), Class::Cardinal(b.into())]),
            "roman",
        );
    }
    (1, Class::Seq(read_parts(c, s)), "mixed")
}

/// Splits a code into letter runs, digit runs and connectors and reads each.
pub fn read_parts(c: &Classifier<'_>, s: &str) -> Vec<Class> {
    if let Some(exp) = c.lex.abbr(s).or_else(|| c.lex.word(s)) {
        return vec![Class::Lexicon(exp.into())];
    }
    // A dotted prefix from the lexicon: "Q.1" → quận một.
    if let Some((head, tail)) = s.split_once('.')
        && !tail.is_empty()
        && let Some(exp) = c.lex.abbr(&format!("{head}."))
    {
        let mut out = vec![Class::Lexicon(exp.into())];
        out.extend(read_parts(c, tail));
        return out;
    }
    // Document numbers: "100/2019/NĐ-CP" → một trăm năm hai nghìn… nghị định chính phủ.
    let segs: Vec<&str> = s.split('/').collect();
    let mut out = Vec::new();
    for (k, seg) in segs.iter().enumerate() {
        if k > 0 && is_year(seg) && all_digits(segs[k - 1]) {
            out.push(Class::Word("năm".into()));
        }
        if let Some(exp) = c.lex.abbr(seg).or_else(|| c.lex.word(seg)) {
            out.push(Class::Lexicon(exp.into()));
            continue;
        }
        for (n, piece) in seg.split(['-', '–', '_']).filter(|p| !p.is_empty()).enumerate() {
            // In a document number, a type code: "05/CĐ-UBND", "08-HD/BTGTW", "10-NQ/TU".
            let doc = (segs.len() > 1 && (k > 0 || n > 0)).then(|| doc_code(piece)).flatten();
            // "05/CĐ-UBND": the number of a document is a count, its zero unread.
            if segs.len() > 1 && all_digits(piece) && piece.len() <= 3 {
                out.push(Class::Cardinal(piece.into()));
                continue;
            }
            match doc.or_else(|| c.lex.abbr(piece)).or_else(|| c.lex.word(piece)) {
                Some(exp) => out.push(Class::Lexicon(exp.into())),
                None => read_runs(c, piece, &mut out),
            }
        }
    }
    out
}

/// Document type codes in document numbers ("số 12/KH-UBND").
fn doc_code(piece: &str) -> Option<&'static str> {
    Some(match piece {
        "QĐ" => "quyết định",
        "NQ" => "nghị quyết",
        "CT" => "chỉ thị",
        "KH" => "kế hoạch",
        "TB" => "thông báo",
        "BC" => "báo cáo",
        "CV" => "công văn",
        "CĐ" => "công điện",
        "HD" => "hướng dẫn",
        "TTr" => "tờ trình",
        "KL" => "kết luận",
        "QC" => "quy chế",
        "QĐi" => "quy định",
        "TT" => "thông tư",
        "NĐ" => "nghị định",
        "GP" => "giấy phép",
        "TU" => "tỉnh ủy",
        "HU" => "huyện ủy",
        "ĐU" => "đảng ủy",
        "TW" => "trung ương",
        _ => return None,
    })
}

/// Reads a piece as runs of digits (keeping inner "." and "," of numbers)
/// and of letters, with other connectors as symbols or pauses.
fn read_runs(c: &Classifier<'_>, s: &str, parts: &mut Vec<Class>) {
    let mut run = String::new();
    let mut run_digit: Option<bool> = None;
    let flush = |run: &mut String, parts: &mut Vec<Class>| {
        if !run.is_empty() {
            parts.push(words::read_piece(c, run));
            run.clear();
        }
    };
    let chars: Vec<char> = s.chars().collect();
    for (k, &ch) in chars.iter().enumerate() {
        let is_digit = ch.is_ascii_digit();
        let keep_grouping = matches!(ch, '.' | ',')
            && run_digit == Some(true)
            && chars.get(k + 1).is_some_and(char::is_ascii_digit);
        if !keep_grouping && run_digit.is_some_and(|d| d != is_digit) {
            flush(&mut run, parts);
        }
        if keep_grouping {
            run.push(ch);
        } else if matches!(ch, '.' | ',' | ':' | '\'' | '’' | '&' | '@') {
            flush(&mut run, parts);
            parts.push(match ch {
                '&' => Class::Symbol("và"),
                '@' => Class::Symbol("a còng"),
                ',' | ':' => Class::Pause(','),
                _ => Class::Silent,
            });
            run_digit = None;
        } else {
            run.push(ch);
            run_digit = Some(is_digit);
        }
    }
    flush(&mut run, parts);
}

/// Phone numbers: "0987 654 321", "0205 3870 111", "0913.222.333",
/// "0912345678", "(024) 3825 1234". Read digit by digit.
fn phone(c: &Classifier<'_>, i: usize) -> Option<Decision> {
    let first = c.toks[i].text;
    let compact: String = first.chars().filter(|ch| !matches!(ch, '.' | '-' | ' ')).collect();
    let groups_ok =
        first.split(['.', '-']).all(|g| all_digits(g) && (2..=4).contains(&g.len()) || g == first);
    if !all_digits(&compact) {
        return None;
    }
    // Hotlines: "1900 9095", "18001091".
    if compact.starts_with("1800") || compact.starts_with("1900") {
        if compact.len() == 8 {
            return Some((1, Class::Digits(compact), "phone"));
        }
        if let Some(t) =
            c.toks.get(i + 1).filter(|t| compact.len() == 4 && t.is_chunk() && all_digits(t.text))
            && (3..=4).contains(&t.text.len())
        {
            return Some((2, Class::Digits(format!("{compact}{}", t.text)), "phone"));
        }
        return None;
    }
    if !compact.starts_with('0') {
        return None;
    }
    if compact.len() >= 9 && compact.len() <= 11 && (groups_ok || all_digits(first)) {
        return Some((1, Class::Digits(compact), "phone"));
    }
    if !all_digits(first) || !(2..=4).contains(&first.len()) {
        return None;
    }
    // Gather following digit groups separated by spaces (and a ")" after an area code).
    let mut digits = compact;
    let mut j = i + 1;
    if c.toks.get(j).is_some_and(|t| t.is_punct(")")) {
        j += 1;
    }
    let mut last_used = i;
    while let Some(t) = c.toks.get(j) {
        // After an area code ("0205 3 812 345") a group may be a single digit.
        let min = if first.len() >= 3 { 1 } else { 2 };
        if !(t.is_chunk() && t.space_before && all_digits(t.text) && (min..=4).contains(&t.text.len())) {
            break;
        }
        if digits.len() + t.text.len() > 11 {
            break;
        }
        digits.push_str(t.text);
        last_used = j;
        j += 1;
    }
    ((10..=11).contains(&digits.len())).then(|| (last_used - i + 1, Class::Digits(digits), "phone"))
}
