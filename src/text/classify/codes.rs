//! Codes that mix letters and digits: document numbers ("81/2023/NĐ-CP" →
//! … trên … trên nghị định chính phủ), vehicle plates ("51D-273.56"),
//! flight, train and route codes and tickers ("VN215" → vê en hai trăm
//! mười lăm, "SE8", "QL14", "VN30"), phone numbers and emergency numbers.
//! In a code, letters are spelled with their short names ("S" → ét) and
//! "VN" is always "vê en", never "Việt Nam".

use super::super::fold;
use super::dates::all_digits;
use super::{Class, Classifier, Decision, Rule, words};

/// Route prefixes read as words before their number ("QL14", "ĐT741").
const ROUTES: &[(&str, &str)] = &[("QL", "quốc lộ"), ("ĐT", "đường tỉnh"), ("TL", "tỉnh lộ")];

/// Words a few tokens before 113, 114, 115 that make it an emergency call.
const CALL_WORDS: &[&str] =
    &["gọi", "đài", "dây", "hotline", "nóng", "cứu", "khẩn", "báo", "liên", "bấm", "quay", "số"];

/// Words after "số 114" that make it a house number.
const ADDRESS_WORDS: &[&str] =
    &["đường", "phố", "ngõ", "ngách", "hẻm", "kiệt", "tổ", "khu", "lô", "ấp", "nhà"];

/// A chunk with letters and digits, read by its shape.
pub fn code(c: &Classifier<'_>, s: &str) -> Decision {
    if let Some(parts) = plate(s) {
        return (1, Class::Seq(parts), Rule::Plate);
    }
    let parts = read_parts(c, s);
    let address = s
        .split_once('.')
        .is_some_and(|(head, _)| head.len() <= 2 && c.lex.abbr(&format!("{head}.")).is_some());
    let rule = if is_document(s) {
        Rule::Document
    } else if address {
        Rule::Address
    } else if s.contains(|ch: char| ch.is_ascii_uppercase()) && !s.contains(['/', '.', ',']) {
        Rule::Code
    } else {
        Rule::Mixed
    };
    (1, Class::Seq(parts), rule)
}

/// A document number: a number, then "/" or "-" and type or issuer codes.
fn is_document(s: &str) -> bool {
    s.starts_with(|ch: char| ch.is_ascii_digit())
        && s.contains('/')
        && s.split('/').skip(1).any(|seg| seg.chars().any(fold::is_alpha))
}

/// Vehicle plates: "51D-273.56", "30A-678.90", "51F1-123.45", "29H-12345".
/// The dot is silent; undotted serials are read digit by digit.
fn plate(s: &str) -> Option<Vec<Class>> {
    let (head, serial) = s.split_once('-')?;
    let province = head.get(..2).filter(|p| all_digits(p))?;
    let series = &head[2..];
    let letters: String = series.chars().take_while(|ch| ch.is_ascii_uppercase()).collect();
    let series_digit = &series[letters.len()..];
    if letters.is_empty()
        || letters.len() > 2
        || series_digit.len() > 1
        || !series_digit.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let mut out = vec![Class::Cardinal(province.into()), Class::SpellShort(letters)];
    if !series_digit.is_empty() {
        out.push(Class::Digits(series_digit.into()));
    }
    match serial.split_once('.') {
        Some((a, b)) if a.len() == 3 && b.len() == 2 && all_digits(a) && all_digits(b) => {
            out.push(number_piece(a));
            out.push(number_piece(b));
        }
        None if (4..=5).contains(&serial.len()) && all_digits(serial) => {
            out.push(Class::Digits(serial.into()))
        }
        _ => return None,
    }
    Some(out)
}

/// A digit group read as a number, or digit by digit with a leading zero.
fn number_piece(d: &str) -> Class {
    if d.len() > 1 && d.starts_with('0') { Class::Digits(d.into()) } else { Class::Cardinal(d.into()) }
}

/// Splits a code into letter runs, digit runs and connectors and reads each.
pub fn read_parts(c: &Classifier<'_>, s: &str) -> Vec<Class> {
    if let Some(exp) = c.lex.abbr(s).or_else(|| c.lex.word(s)) {
        return vec![Class::Lexicon(exp.into())];
    }
    // A dotted prefix from the lexicon: "Q.1" → quận một, "P.Hòa Cường".
    if let Some((head, tail)) = s.split_once('.')
        && !tail.is_empty()
        && let Some(exp) = c.lex.abbr(&format!("{head}."))
    {
        let mut out = vec![Class::Lexicon(exp.into())];
        out.extend(read_parts(c, tail));
        return out;
    }
    // "VN-Index", "HNX-Index", "UPCoM-Index": the index's code, spelled.
    if let Some(head) =
        s.strip_suffix("-Index").or_else(|| s.strip_suffix("-INDEX")).or_else(|| s.strip_suffix("-index"))
    {
        let mut out = Vec::new();
        if head.chars().all(fold::is_alpha) {
            out.push(Class::SpellShort(head.into()));
        } else {
            read_runs(c, head, true, &mut out);
        }
        out.push(Class::Word("in đéc".into()));
        return out;
    }
    // Document numbers: "100/2019/NĐ-CP" → một trăm trên hai nghìn … trên nghị định chính phủ.
    let document = is_document(s);
    // Issuer codes of documents are spelled like acronyms ("UBND-NC" → en nờ xê).
    let code = !document && s.contains(|ch: char| ch.is_ascii_digit());
    let segs: Vec<&str> = s.split('/').collect();
    let mut out = Vec::new();
    for (k, seg) in segs.iter().enumerate() {
        if k > 0 && document {
            out.push(Class::Symbol("trên"));
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
                None => read_runs(c, piece, code, &mut out),
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
        "TTLT" => "thông tư liên tịch",
        "NĐ" => "nghị định",
        "GP" => "giấy phép",
        "TU" => "tỉnh ủy",
        "HU" => "huyện ủy",
        "ĐU" => "đảng ủy",
        "TW" => "trung ương",
        "TƯ" => "trung ương",
        "UBTVQH" => "ủy ban thường vụ quốc hội",
        "QH" => "quốc hội",
        "L" => "luật",
        "PL" => "pháp lệnh",
        "BTC" => "bộ tài chính",
        "VPCP" => "văn phòng chính phủ",
        _ => return None,
    })
}

/// Reads a piece as runs of digits (keeping inner "." and "," of numbers)
/// and of letters, with other connectors as symbols or pauses. In a code
/// (`code`: the chunk has digits), capital letter runs are spelled with
/// the short letter names, except route prefixes and lexicon words.
fn read_runs(c: &Classifier<'_>, s: &str, code: bool, parts: &mut Vec<Class>) {
    let mut run = String::new();
    let mut run_digit: Option<bool> = None;
    let flush = |run: &mut String, parts: &mut Vec<Class>| {
        if !run.is_empty() {
            parts.push(read_run(c, run, code));
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

/// One run of a code: digits, a route prefix, a lexicon entry of three
/// letters or more, or capitals spelled short.
fn read_run(c: &Classifier<'_>, run: &str, code: bool) -> Class {
    let caps = run.chars().all(fold::is_upper);
    if !code || !caps || run.bytes().any(|b| b.is_ascii_digit()) {
        return words::read_piece(c, run);
    }
    if let Some((_, w)) = ROUTES.iter().find(|(k, _)| *k == run) {
        return Class::Lexicon((*w).into());
    }
    if run.chars().count() >= 3
        && let Some(exp) = c.lex.abbr(run).or_else(|| c.lex.word(run))
    {
        return Class::Lexicon(exp.into());
    }
    Class::SpellShort(run.into())
}

/// Emergency numbers called by phone: "gọi 113", "số 114", "hoặc 115" →
/// digit by digit; "nhà số 114 đường …" stays a number.
pub fn emergency(c: &Classifier<'_>, i: usize) -> Option<Decision> {
    let s = c.toks[i].text;
    if !matches!(s, "111" | "112" | "113" | "114" | "115") || !c.prev_has(i, 3, CALL_WORDS) {
        return None;
    }
    if c.next_word(i).is_some_and(|w| ADDRESS_WORDS.contains(&w.as_str())) {
        return None;
    }
    Some((1, Class::Digits(s.into()), Rule::Emergency))
}

/// Phone numbers: "0987 654 321", "0205 3870 111", "0913.222.333",
/// "0912345678", "(024) 3825 1234". Read digit by digit.
pub fn phone(c: &Classifier<'_>, i: usize) -> Option<Decision> {
    let first = c.toks[i].text;
    if !first.starts_with(['0', '1']) {
        return None;
    }
    // Decide the common cases before building the digit string: a chunk
    // with anything but digits and separators, or neither a hotline nor a
    // leading zero, is no phone number.
    let kept = || first.bytes().filter(|b| !matches!(b, b'.' | b'-' | b' '));
    if !kept().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut head = kept();
    let lead = [head.next(), head.next(), head.next(), head.next()];
    let hotline = lead == [b'1', b'8', b'0', b'0'].map(Some) || lead == [b'1', b'9', b'0', b'0'].map(Some);
    if !hotline && lead[0] != Some(b'0') {
        return None;
    }
    let compact: String = first.chars().filter(|ch| !matches!(ch, '.' | '-' | ' ')).collect();
    let groups_ok =
        first.split(['.', '-']).all(|g| all_digits(g) && (2..=4).contains(&g.len()) || g == first);
    if !all_digits(&compact) {
        return None;
    }
    // Hotlines: "1900 9095", "18001091".
    if compact.starts_with("1800") || compact.starts_with("1900") {
        if compact.len() == 8 {
            return Some((1, Class::Digits(compact), Rule::Phone));
        }
        if let Some(t) =
            c.toks.get(i + 1).filter(|t| compact.len() == 4 && t.is_chunk() && all_digits(t.text))
            && (3..=4).contains(&t.text.len())
        {
            return Some((2, Class::Digits(format!("{compact}{}", t.text)), Rule::Phone));
        }
        return None;
    }
    if !compact.starts_with('0') {
        return None;
    }
    if compact.len() >= 9 && compact.len() <= 11 && (groups_ok || all_digits(first)) {
        return Some((1, Class::Digits(compact), Rule::Phone));
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
    ((10..=11).contains(&digits.len())).then(|| (last_used - i + 1, Class::Digits(digits), Rule::Phone))
}
