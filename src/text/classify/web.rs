//! The web: e-mail addresses ("toasoan@baochinhphu.vn" → toasoan a còng
//! baochinhphu chấm vê en), domain names and URLs (the scheme and "www"
//! are not read), and hashtags ("#TựHàoViệtNam" → tự hào việt nam).

use super::super::fold;
use super::super::syllable::is_vietnamese_syllable;
use super::{Class, Classifier, Decision, Rule, words};

/// Last parts of host names that are words or fixed readings; any other
/// two-letter last part is a country code, spelled ("vn" → vê en).
const TLDS: &[(&str, &str)] = &[
    ("com", "com"),
    ("net", "nét"),
    ("org", "o rờ gờ"),
    ("gov", "gốp"),
    ("edu", "e đu"),
    ("info", "in phô"),
    ("int", "in"),
    ("io", "i o"),
    ("biz", "bít"),
    ("asia", "a si a"),
];

/// True for a host name: lower-case letters, digits and hyphens in two or
/// more dotted parts ending in a known domain or a two-letter country code.
pub fn is_domain(s: &str) -> bool {
    let host = s.split('/').next().unwrap_or(s);
    let host = host.strip_prefix("www.").unwrap_or(host);
    let mut parts = host.split('.');
    let Some(first) = parts.next() else { return false };
    let rest: Vec<&str> = parts.collect();
    let Some(last) = rest.last() else { return false };
    let part_ok = |p: &str| {
        !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    let first_ok = !first.is_empty()
        && first.chars().enumerate().all(|(k, ch)| {
            ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-' || (k == 0 && ch.is_ascii_uppercase())
        });
    first_ok
        && rest.iter().all(|p| part_ok(p))
        && (TLDS.iter().any(|(t, _)| t == last)
            || (last.len() == 2 && last.bytes().all(|b| b.is_ascii_lowercase())))
}

/// Reads a host and its path: "www.lichcatdien.vn" → lichcatdien chấm vê en.
pub fn domain(c: &Classifier<'_>, s: &str) -> Vec<Class> {
    let (host, path) = s.split_once('/').unwrap_or((s, ""));
    let host = host.strip_prefix("www.").or_else(|| host.strip_prefix("WWW.")).unwrap_or(host);
    let parts: Vec<&str> = host.split('.').collect();
    let mut out = Vec::new();
    for (k, p) in parts.iter().enumerate() {
        if k > 0 {
            out.push(Class::Symbol("chấm"));
        }
        let last = k + 1 == parts.len();
        let lower = p.to_ascii_lowercase();
        if let Some((_, w)) = TLDS.iter().find(|(t, _)| *t == lower).filter(|_| k > 0) {
            out.push(Class::Word((*w).into()));
        } else if last && k > 0 && lower.len() == 2 {
            out.push(Class::SpellShort(lower));
        } else {
            out.push(name_part(c, &lower));
        }
    }
    for seg in path.split(['/', '-', '_', '.', '?', '=', '&']).filter(|p| !p.is_empty()) {
        out.push(name_part(c, seg));
    }
    out
}

/// A name in an address, read as written; digits as a number, letters
/// mixed with digits spelled.
fn name_part(c: &Classifier<'_>, p: &str) -> Class {
    if p.bytes().any(|b| b.is_ascii_digit()) {
        words::read_piece(c, p)
    } else {
        Class::Word(fold::to_lower(p))
    }
}

/// "toasoan@baochinhphu.vn", "datlich.khambenh@benhvien.vn".
pub fn email(c: &Classifier<'_>, s: &str) -> Option<Decision> {
    let (user, host) = s.split_once('@')?;
    if user.is_empty() || !is_domain(host) {
        return None;
    }
    let mut parts = Vec::new();
    let mut start = 0;
    for (k, ch) in
        user.char_indices().filter(|&(_, ch)| matches!(ch, '.' | '_' | '-')).chain([(user.len(), ' ')])
    {
        if k > start {
            parts.push(name_part(c, &user[start..k]));
        }
        match ch {
            '.' => parts.push(Class::Symbol("chấm")),
            '_' => parts.push(Class::Symbol("gạch dưới")),
            '-' => parts.push(Class::Symbol("gạch ngang")),
            _ => {}
        }
        start = k + ch.len_utf8();
    }
    parts.push(Class::Symbol("a còng"));
    parts.extend(domain(c, host));
    Some((1, Class::Seq(parts), Rule::Email))
}

/// "http://", "https://" before a host: silent.
pub fn scheme(c: &Classifier<'_>, i: usize) -> Option<Decision> {
    let s = c.toks[i].text;
    if !(s.eq_ignore_ascii_case("http") || s.eq_ignore_ascii_case("https")) {
        return None;
    }
    let t = |k: usize| c.toks.get(i + k).filter(|t| !t.space_before);
    (t(1)?.is_punct(":") && t(2)?.is_punct("/") && t(3)?.is_punct("/")).then_some((
        4,
        Class::Silent,
        Rule::Domain,
    ))
}

/// A hashtag's words: split where a capital follows a small letter and
/// between letters and digits ("#ChungTayVìMiềnTrung", "#U23VietNam").
pub fn hashtag(c: &Classifier<'_>, tag: &str) -> Class {
    let mut words: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut prev: Option<char> = None;
    for ch in tag.chars() {
        let split = match prev {
            Some(p) => {
                (fold::is_upper(ch) && fold::is_lower(p))
                    || (ch.is_ascii_digit() != p.is_ascii_digit()
                        && ch.is_alphanumeric()
                        && p.is_alphanumeric())
                    || !ch.is_alphanumeric()
            }
            None => false,
        };
        if split && !cur.is_empty() {
            words.push(std::mem::take(&mut cur));
        }
        if ch.is_alphanumeric() {
            cur.push(ch);
        }
        prev = Some(ch);
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    let parts = words
        .iter()
        .map(|w| {
            let caps = w.chars().filter(|&ch| fold::is_upper(ch)).count();
            if w.bytes().all(|b| b.is_ascii_digit()) {
                Class::Cardinal(w.clone())
            } else if caps >= 2 && !is_vietnamese_syllable(w) {
                words::read_piece(c, w)
            } else {
                Class::Word(fold::to_lower(w))
            }
        })
        .collect();
    Class::Seq(parts)
}
