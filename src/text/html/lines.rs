//! Judging one line of text: a date/time line ("Thứ năm, 25/4/2024, 15:05
//! (GMT+7)"), a caption prefix, an attachment link. Shared by the
//! extractor's block filters.

use unicode_normalization::UnicodeNormalization;

/// Words that may stand around a date on a date line.
const DATE_WORDS: &[&str] = &[
    "ngày", "lúc", "cập", "nhật", "đăng", "giờ", "thứ", "hai", "ba", "tư", "năm", "sáu", "bảy", "chủ",
    "nhật", "cn", "t2", "t3", "t4", "t5", "t6", "t7", "sa", "ch", "am", "pm", "gmt", "utc",
];

const DATE_PUNCT: &str = ",|:()-–—/.·•+";

fn is_digits(t: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_digit())
}

/// `15h45` or `8h` as one token.
fn is_h_time(t: &str) -> bool {
    match t.split_once('h') {
        Some((h, m)) => is_digits(h, 1, 2) && (m.is_empty() || is_digits(m, 2, 2)),
        None => false,
    }
}

/// Tokens: maximal runs of letters/digits, or single other non-space chars.
fn tokens(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    for (i, c) in s.char_indices() {
        if c.is_alphanumeric() {
            start.get_or_insert(i);
            continue;
        }
        if let Some(st) = start.take() {
            out.push(&s[st..i]);
        }
        if !c.is_whitespace() {
            out.push(&s[i..i + c.len_utf8()]);
        }
    }
    if let Some(st) = start {
        out.push(&s[st..]);
    }
    out
}

/// A line that is only a date, a time, a weekday and the like.
pub fn is_date_line(text: &str) -> bool {
    let t: String = text.nfc().collect::<String>().to_lowercase();
    if t.chars().count() > 80 {
        return false;
    }
    let tk = tokens(&t);
    let (mut i, mut has_date) = (0, false);
    let sep = |s: &str| matches!(s, "/" | "." | "-");
    while i < tk.len() {
        let at = |k: usize| tk.get(i + k).copied().unwrap_or("");
        let step = if is_digits(at(0), 1, 2)
            && sep(at(1))
            && is_digits(at(2), 1, 2)
            && sep(at(3))
            && is_digits(at(4), 2, 4)
        {
            has_date = true;
            5
        } else if is_digits(at(0), 1, 2) && at(1) == ":" && is_digits(at(2), 2, 2) {
            if at(3) == ":" && is_digits(at(4), 2, 2) { 5 } else { 3 }
        } else if is_h_time(at(0)) {
            1
        } else if at(0) == "thứ" && is_digits(at(1), 1, 1) {
            2
        } else if matches!(at(0), "gmt" | "utc") && matches!(at(1), "+" | "-") && is_digits(at(2), 1, 2) {
            3
        } else if DATE_WORDS.contains(&at(0)) || (at(0).chars().count() == 1 && DATE_PUNCT.contains(at(0))) {
            1
        } else {
            return false;
        };
        i += step;
    }
    has_date
}

/// A line whose text is a link to a document file, or says it is one.
pub fn is_attachment(text: &str, href: Option<&str>, all_link: bool) -> bool {
    let t = text.to_lowercase();
    const SAYS: &[&str] = &[
        "tải về",
        "tải văn bản",
        "tải file",
        "tải tệp",
        "file đính kèm",
        "tệp đính kèm",
        "tài liệu đính kèm",
    ];
    if t.chars().count() <= 200 && SAYS.iter().any(|s| t.starts_with(s)) {
        return true;
    }
    let file = href.is_some_and(|h| {
        let path = h.split(['?', '#']).next().unwrap_or(h).to_ascii_lowercase();
        [".pdf", ".doc", ".docx", ".xls", ".xlsx", ".ppt", ".pptx", ".zip", ".rar", ".7z"]
            .iter()
            .any(|e| path.ends_with(e))
    });
    all_link && file
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_lines() {
        for yes in [
            "Thứ năm, 25/4/2024, 15:05 (GMT+7)",
            "Cập nhật: 15/03/2024 08:30",
            "Ngày đăng: 02/04/2024 | 09:15",
            "28/04/2024 08:35 GMT+7",
            "Thứ 2, 01.04.2024 - 7h30",
            "05/04/2024 | 14:20",
        ] {
            assert!(is_date_line(yes), "{yes}");
        }
        for no in ["Lộc Bình, 09/04/2024", "Kỳ thi diễn ra ngày 8/6/2024 với ba môn", "14:20", "Năm 2024"]
        {
            assert!(!is_date_line(no), "{no}");
        }
    }

    #[test]
    fn attachments() {
        assert!(is_attachment("TB-215.pdf", Some("/Documents/TB-215.pdf?x=1"), true));
        assert!(is_attachment("Tải văn bản: TB-215", None, false));
        assert!(!is_attachment("Xem báo cáo tại đây", Some("/a.pdf"), false));
    }
}
