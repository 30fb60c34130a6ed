//! Dates and clock times inside one chunk: "19/5/2022", "tháng 12/2022",
//! "ngày 21/01", "sáng 2-9", "30.4", "15h45", "7:05:12", and the context
//! words that make a day/month pair a date rather than a ratio.

use super::{Class, Classifier, Decision, Rule, eq_lower};

/// Words before a d/m pair that make it a date.
const DATE_CONTEXT: &[&str] = &[
    "ngày", "sáng", "trưa", "chiều", "tối", "đêm", "hôm", "đến", "từ", "vào", "lúc", "mùng", "mồng", "khuya",
    "qua", "nay", "tới", "trước", "sau", "lễ", "khánh", "phiên", "nhật", "niệm", "hội", "rạng",
];

/// Words after which a date is read with "ngày": "sáng 27/7" → sáng ngày…
pub const TIME_OF_DAY: &[&str] = &["sáng", "trưa", "chiều", "tối", "đêm", "khuya", "rạng"];

const WEEKDAYS: &[&str] = &["hai", "ba", "tư", "năm", "sáu", "bảy"];

pub fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// A number of one or two digits.
pub fn small(s: &str) -> Option<u32> {
    (all_digits(s) && s.len() <= 2).then(|| s.parse().ok()).flatten()
}

pub fn valid_day_month(d: u32, m: u32) -> bool {
    (1..=31).contains(&d) && (1..=12).contains(&m)
}

pub fn is_year(s: &str) -> bool {
    s.len() == 4 && all_digits(s)
}

/// True when the word before a date makes it "sáng ngày …".
pub fn time_of_day(prev: &str) -> bool {
    TIME_OF_DAY.contains(&prev)
}

/// True when the words before token `i` make a day/month pair a date:
/// a date word ("ngày", "sáng", "lễ"…), "thứ hai", or a date list
/// ("30/4 và 1/5", "1/9, 2/9").
pub fn date_context(c: &Classifier<'_>, i: usize, prev: &str) -> bool {
    if DATE_CONTEXT.contains(&prev) {
        return true;
    }
    let mut before = c.before(i);
    if let (Some(day), Some(thu)) = (before.next(), before.next())
        && WEEKDAYS.iter().any(|w| eq_lower(day, w))
        && eq_lower(thu, "thứ")
    {
        return true;
    }
    after_a_date(c)
}

/// True when the last items are a date and "và", "hoặc", "," or "–".
fn after_a_date(c: &Classifier<'_>) -> bool {
    let mut spoken = c.spoken_back();
    let joined = match spoken.next() {
        Some(it) => match &it.class {
            Class::Pause(',') => true,
            Class::Word(w) => matches!(w.as_str(), "và" | "hoặc" | "hay"),
            Class::Verbatim => matches!(&c.text[it.span.clone()], "và" | "hoặc" | "hay"),
            _ => false,
        },
        None => false,
    };
    joined
        && spoken.next().is_some_and(|it| match &it.class {
            Class::Date { day: Some(_), .. } => true,
            Class::Range(_, b) => matches!(b.as_ref(), Class::Date { day: Some(_), .. }),
            _ => false,
        })
}

/// A clock time or duration: "14h30", "8h", "7h05", "17:00", "7:05:12", "2:31:46".
pub fn parse_time(s: &str) -> Option<Class> {
    let (h, rest) = if let Some(pos) = s.find(['h', 'H', 'g']) {
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
    let two = |m: &str| -> Option<u32> {
        (m.len() == 2 && all_digits(m)).then(|| m.parse().ok()).flatten().filter(|&v: &u32| v < 60)
    };
    let (minute, second) = match rest.split_once(':') {
        None if rest.is_empty() => (None, None),
        None => (Some(two(rest)?), None),
        // Seconds only after a colon-written time: "7:05:12".
        Some((m, sec)) if s.contains(':') && !s.contains(['h', 'H', 'g']) => (Some(two(m)?), Some(two(sec)?)),
        Some(_) => return None,
    };
    Some(Class::Time { hour, minute: minute.filter(|&v| v > 0), second: second.filter(|&v| v > 0) })
}

/// A date written in one chunk, read with the word before it (`prev`,
/// lower case), or `None`.
pub fn date_in(c: &Classifier<'_>, i: usize, s: &str, prev: &str) -> Option<Decision> {
    let ngay = time_of_day(prev);
    // d/m/y, d.m.y, d-m-y; a full date opening the text gets its "ngày".
    for sep in ['/', '.', '-'] {
        let mut parts = s.split(sep);
        if let (Some(d), Some(m), Some(y), None) = (parts.next(), parts.next(), parts.next(), parts.next())
            && let (Some(d), Some(m)) = (small(d), small(m))
            && is_year(y)
            && valid_day_month(d, m)
        {
            let ngay = ngay || c.items.iter().all(|it| matches!(it.class, Class::Silent));
            let class = Class::Date { day: Some(d), month: m, year: Some(y.into()), ngay, thang: true };
            return Some((1, class, Rule::Date));
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
                return Some((1, class, Rule::PeriodYear));
            }
            let class = Class::Date {
                day: None,
                month: m,
                year: Some(b.into()),
                ngay: false,
                thang: prev != "tháng",
            };
            return Some((1, class, Rule::MonthYear));
        }
        // Day/month when it is a valid date and the context says so.
        if let (Some(d), Some(m)) = (small(a), small(b))
            && valid_day_month(d, m)
            && (date_context(c, i, prev) || a.starts_with('0') || b.starts_with('0'))
        {
            return Some((
                1,
                Class::Date { day: Some(d), month: m, year: None, ngay, thang: true },
                Rule::Date,
            ));
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
                time_of_day(prev) || prev == "ngày" || a.starts_with('0') || b.starts_with('0')
            }
        {
            return Some((
                1,
                Class::Date { day: Some(d), month: m, year: None, ngay, thang: true },
                Rule::Date,
            ));
        }
    }
    None
}
