//! Sentence splitting: article text → sentence spans.
//!
//! Line breaks end a sentence (a headline, caption or byline stands on its
//! own line) unless the next line plainly continues the sentence. Inside a
//! line, `.`, `?`, `!` and ellipses end a sentence when white space
//! follows, except after title abbreviations ("TP. Hồ Chí Minh"), initials,
//! list numbers ("1. Nội dung") and inside brackets. Thousands dots,
//! decimal commas, dotted dates and domain names never split because no
//! space follows their dots. Over-long sentences are cut at `;`, `,` or a
//! space so that backends with input limits never fail.

use std::ops::Range;

use unicode_segmentation::UnicodeSegmentation;

use super::classify::{TITLE_ABBREVIATIONS, is_initials};

/// A sentence's byte span and whether it opens a paragraph (or line block).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    pub span: Range<usize>,
    pub paragraph_start: bool,
}

/// Splits `text` into sentences no longer than `max_bytes` (at least 16).
pub fn split(text: &str, max_bytes: usize) -> Vec<Piece> {
    let max_bytes = max_bytes.max(16);
    let mut out = Vec::new();
    for block in blocks(text) {
        let mut first = true;
        for span in sentences_in(text, block) {
            for part in cut_long(text, span, max_bytes) {
                // A piece with nothing to read ("./.", a lone quote) joins the one before.
                if !text[part.clone()].chars().any(char::is_alphanumeric)
                    && let Some(prev) = out.last_mut()
                    && !first
                {
                    let prev: &mut Piece = prev;
                    prev.span.end = part.end;
                    continue;
                }
                out.push(Piece { span: part, paragraph_start: first });
                first = false;
            }
        }
    }
    out
}

/// Line blocks: each non-empty line is a block, except that a line whose
/// next line starts in lower case (and which does not end a sentence)
/// continues into it.
fn blocks(text: &str) -> Vec<Range<usize>> {
    let mut lines: Vec<Range<usize>> = Vec::new();
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        let content = line.trim_end_matches(['\n', '\r']);
        if !content.trim().is_empty() {
            lines.push(pos..pos + content.len());
        } else {
            // Blank line: a hard break, marked by an empty range.
            lines.push(pos..pos);
        }
        pos += line.len();
    }
    let mut out: Vec<Range<usize>> = Vec::new();
    let mut joinable = false;
    for line in lines {
        if line.is_empty() {
            joinable = false;
            continue;
        }
        let s = text[line.clone()].trim();
        let starts_lower = s.starts_with(|c: char| c.is_lowercase());
        if joinable
            && starts_lower
            && let Some(last) = out.last_mut()
        {
            last.end = line.end;
        } else {
            out.push(line.clone());
        }
        joinable = !s.ends_with(['.', '?', '!', ':', ';', '…', '"', '”', ')']);
    }
    out
}

fn is_closer(c: char) -> bool {
    matches!(c, '"' | '”' | '’' | '\'' | ')' | ']' | '»')
}

/// Sentence spans (trimmed) inside one block.
fn sentences_in(text: &str, block: Range<usize>) -> Vec<Range<usize>> {
    let s = &text[block.clone()];
    let chars: Vec<(usize, char)> = s.char_indices().collect();
    let mut out = Vec::new();
    let mut start = 0usize;
    let mut depth = 0i32;
    let mut k = 0;
    while k < chars.len() {
        let (off, c) = chars[k];
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth = (depth - 1).max(0),
            _ => {}
        }
        if !matches!(c, '.' | '?' | '!' | '…') {
            k += 1;
            continue;
        }
        // The run of terminal marks: "?!", "...", "./.".
        let mut j = k;
        while j < chars.len() && matches!(chars[j].1, '.' | '?' | '!' | '…') {
            j += 1;
            if j + 1 < chars.len() && chars[j].1 == '/' && chars[j + 1].1 == '.' {
                j += 2;
            }
        }
        let run: String = chars[k..j].iter().map(|&(_, c)| c).collect();
        // Closing quotes and brackets belong to the sentence.
        let mut e = j;
        while e < chars.len() && is_closer(chars[e].1) {
            if matches!(chars[e].1, ')' | ']') {
                if depth == 0 {
                    break;
                }
                depth -= 1;
            }
            e += 1;
        }
        let at_end = e >= chars.len();
        let followed_by_space = at_end || chars[e].1.is_whitespace();
        let next_char = chars[e..].iter().map(|&(_, c)| c).find(|c| !c.is_whitespace());
        let next_lower = next_char.is_some_and(char::is_lowercase);
        // Initials ("L.T.H.") before a bracket or a lower-case word: "Bệnh nhân L.T.H. (56 tuổi)".
        let initials =
            run == "." && is_initials(word_before(s, off)) && (next_lower || next_char == Some('('));
        let ellipsis = run.starts_with("..") || run == "…";
        let ends = followed_by_space
            && depth == 0
            && !(run == "." && no_break_before(s, start, off))
            // An ellipsis, or a dotted word's dot ("v.v."), ends a sentence only before a capital.
            && !(ellipsis && next_lower)
            && !(run == "." && dotted_word_before(s, off) && next_lower)
            && !initials;
        if ends {
            let end_off = chars.get(e).map_or(s.len(), |&(o, _)| o);
            out.push(block.start + start..block.start + end_off);
            start = end_off;
        }
        k = e.max(k + 1);
    }
    out.push(block.start + start..block.end);
    out.into_iter()
        .filter_map(|r| {
            let piece = &text[r.clone()];
            let lead = piece.len() - piece.trim_start().len();
            let trail = piece.len() - piece.trim_end().len();
            let t = r.start + lead..r.end - trail;
            (!t.is_empty()).then_some(t)
        })
        .collect()
}

/// The word right before byte `dot` in `s` (after the last white space).
fn word_before(s: &str, dot: usize) -> &str {
    let before = &s[..dot];
    let begin = before
        .rfind(|c: char| c.is_whitespace() || c == '(' || c == '"' || c == '“')
        .map_or(0, |p| p + before[p..].chars().next().map_or(1, char::len_utf8));
    &before[begin..]
}

/// A dot that does not end a sentence: after a title abbreviation, an
/// initial ("Nguyễn V. A."), or a list number at the start ("1.", "a.", "II.").
fn no_break_before(s: &str, sentence_start: usize, dot: usize) -> bool {
    let word = word_before(s, dot);
    if word.is_empty() {
        return false;
    }
    if TITLE_ABBREVIATIONS.contains(&word) {
        return true;
    }
    let mut chars = word.chars();
    if let (Some(c), None) = (chars.next(), chars.next())
        && c.is_uppercase()
    {
        return true;
    }
    let head = s[sentence_start..dot].trim();
    head == word
        && (word.chars().all(|c| c.is_ascii_digit()) && word.len() <= 2
            || word.chars().all(|c| matches!(c, 'I' | 'V' | 'X')) && word.len() <= 4
            || word.len() == 1 && word.chars().all(|c| c.is_lowercase()))
}

/// True when the word before the dot has inner dots ("v.v", "TP.HCM").
fn dotted_word_before(s: &str, dot: usize) -> bool {
    word_before(s, dot).contains('.')
}

/// Cuts a span longer than `max` bytes at "; ", ", " or a space, else at
/// the last word boundary, else at the last grapheme boundary: a cut never
/// separates a letter from its combining marks (decomposed Vietnamese, NFD,
/// writes "ệ" as e + U+0302 + U+0323), so every piece is whole text.
fn cut_long(text: &str, span: Range<usize>, max: usize) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut r = span;
    while r.len() > max {
        let s = &text[r.clone()];
        let limit = last_boundary(s, max, false);
        let window = &s[..limit];
        let cut = [";", ",", " "]
            .iter()
            .find_map(|sep| window.rfind(sep).filter(|&p| p >= max / 4).map(|p| p + sep.len()))
            .or_else(|| Some(last_boundary(s, limit, true)).filter(|&p| p >= max / 4))
            .unwrap_or(limit);
        // A single grapheme longer than `max` (a letter under many marks) goes whole.
        let cut = if cut == 0 { s.graphemes(true).next().map_or(s.len(), str::len) } else { cut };
        let head = r.start..r.start + cut;
        let t = &text[head.clone()];
        let trimmed_end = head.start + t.trim_end().len();
        if trimmed_end > head.start {
            out.push(head.start..trimmed_end);
        }
        let rest = &text[r.start + cut..r.end];
        r = r.start + cut + (rest.len() - rest.trim_start().len())..r.end;
    }
    if !r.is_empty() {
        out.push(r);
    }
    out
}

/// The last grapheme boundary (or, with `words`, word boundary) of `s` at
/// or before byte `limit`.
fn last_boundary(s: &str, limit: usize, words: bool) -> usize {
    let mut best = 0;
    let mut push = |start: usize, len: usize| {
        if start + len <= limit {
            best = start + len;
            true
        } else {
            false
        }
    };
    if words {
        for (start, w) in s.split_word_bound_indices() {
            if !push(start, w.len()) {
                break;
            }
        }
    } else {
        for (start, g) in s.grapheme_indices(true) {
            if !push(start, g.len()) {
                break;
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sents(s: &str) -> Vec<&str> {
        split(s, 10_000).into_iter().map(|p| &s[p.span]).collect()
    }

    #[test]
    fn basic_cases() {
        assert_eq!(sents("Một. Hai? Ba! Bốn"), ["Một.", "Hai?", "Ba!", "Bốn"]);
        assert_eq!(
            sents("Đến TP. Hồ Chí Minh và TP.HCM. Sau đó"),
            ["Đến TP. Hồ Chí Minh và TP.HCM.", "Sau đó"]
        );
        assert_eq!(sents("Gạo, v.v. Giá tăng."), ["Gạo, v.v.", "Giá tăng."]);
        assert_eq!(sents("Ông nói: \"Làm.\" Sau đó đi."), ["Ông nói: \"Làm.\"", "Sau đó đi."]);
        assert_eq!(sents("(Ảnh. Nguồn: X)\nTiếp"), ["(Ảnh. Nguồn: X)", "Tiếp"]);
        assert_eq!(sents("1. Nội dung một.\n2. Nội dung hai."), ["1. Nội dung một.", "2. Nội dung hai."]);
        assert_eq!(
            sents("Đạt 1.213.353 đồng, 3,31%. Ngày 15.3.2023 xem baochinhphu.vn. Hết"),
            ["Đạt 1.213.353 đồng, 3,31%.", "Ngày 15.3.2023 xem baochinhphu.vn.", "Hết"]
        );
        assert_eq!(sents("Năm 2021./.\n\nXUÂN ĐIỆP"), ["Năm 2021./.", "XUÂN ĐIỆP"]);
        assert_eq!(sents("Chờ đợi... rồi đi. Thế là..."), ["Chờ đợi... rồi đi.", "Thế là..."]);
    }

    #[test]
    fn wrapped_lines_join_and_paragraphs_are_marked() {
        let text = "Tiêu đề\nDòng một được\nngắt dòng. Câu hai.\n\nĐoạn mới.";
        let pieces = split(text, 10_000);
        let got: Vec<(&str, bool)> =
            pieces.iter().map(|p| (&text[p.span.clone()], p.paragraph_start)).collect();
        assert_eq!(
            got,
            [
                ("Tiêu đề", true),
                ("Dòng một được\nngắt dòng.", true),
                ("Câu hai.", false),
                ("Đoạn mới.", true)
            ]
        );
    }

    #[test]
    fn initials_before_a_bracket_do_not_end_a_sentence() {
        assert_eq!(
            sents("Bệnh nhân L.T.H. (56 tuổi) được chuyển viện. Đối tượng N.V.T. đã bị bắt."),
            ["Bệnh nhân L.T.H. (56 tuổi) được chuyển viện.", "Đối tượng N.V.T. đã bị bắt."]
        );
    }

    #[test]
    fn long_words_are_cut_between_graphemes_never_inside_one() {
        use unicode_normalization::UnicodeNormalization;
        // Decomposed (NFD) Vietnamese: every letter with a tone mark is two or
        // three chars. A long run without spaces must be cut between whole
        // letters, so each piece renormalizes to a prefix of the word.
        let word: String = "nghiệpvụkiểmtoánđộclậpthườngxuyênliêntục".repeat(4).nfd().collect();
        for max in [16, 17, 18, 19, 23, 31] {
            let pieces = split(&word, max);
            assert!(pieces.len() > 1, "{max}");
            let mut rebuilt = String::new();
            for p in &pieces {
                let piece = &word[p.span.clone()];
                assert!(p.span.len() <= max, "{max}: {piece:?}");
                let first = piece.chars().next().unwrap();
                assert!(
                    !('\u{300}'..='\u{36f}').contains(&first),
                    "{max}: piece starts with a combining mark: {piece:?}"
                );
                rebuilt.push_str(piece);
            }
            assert_eq!(rebuilt, word);
        }
        // Words with spaces are still cut at a space.
        let text: String = "Nghiệp vụ kiểm toán độc lập thường xuyên liên tục".nfd().collect();
        for p in split(&text, 20) {
            let piece = &text[p.span];
            assert!(!piece.starts_with(' ') && !piece.ends_with(' '));
        }
    }

    #[test]
    fn long_sentences_are_cut_at_commas_or_spaces() {
        let s = "một hai ba, bốn năm sáu; bảy tám chín mười mười một mười hai";
        for max in [16, 20, 30, 45] {
            let pieces = split(s, max);
            for p in &pieces {
                assert!(p.span.len() <= max, "{max}: {:?}", &s[p.span.clone()]);
            }
            let joined: String = pieces.iter().map(|p| s[p.span.clone()].replace(' ', "")).collect();
            assert_eq!(joined, s.replace(' ', ""));
        }
    }
}
