//! The tokenizer: text → chunks and punctuation marks with byte spans.
//!
//! A chunk is a run of letters and digits, with connectors (`. , / : - – &
//! _ @ '`) kept inside it when they join two word characters, so
//! "1.213.353", "VH,TT&TT", "17/18", "km/h" and "Covid-19" each stay one
//! chunk for the classifier. Everything else is a punctuation token of one
//! character, except "./." and "..." which are kept whole.

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokKind {
    /// Letters, digits and inner connectors.
    Chunk,
    /// One punctuation mark or symbol (or "./.", "...").
    Punct,
}

/// A token with its byte offset in the tokenized text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tok<'a> {
    pub text: &'a str,
    pub start: usize,
    pub kind: TokKind,
    /// White space (or the start of text) comes right before it.
    pub space_before: bool,
}

impl Tok<'_> {
    pub fn end(&self) -> usize {
        self.start + self.text.len()
    }
    pub fn is_punct(&self, p: &str) -> bool {
        self.kind == TokKind::Punct && self.text == p
    }
    pub fn is_chunk(&self) -> bool {
        self.kind == TokKind::Chunk
    }
    pub fn has_digit(&self) -> bool {
        self.kind == TokKind::Chunk && self.text.bytes().any(|b| b.is_ascii_digit())
    }
    pub fn is_dash(&self) -> bool {
        self.kind == TokKind::Punct && matches!(self.text, "-" | "–" | "—" | "−")
    }
}

/// A character that belongs to a chunk on its own.
pub fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '²' | '³' | '°') || ('\u{300}'..='\u{36f}').contains(&c)
}

/// A character kept inside a chunk when word characters surround it.
pub fn is_connector(c: char) -> bool {
    matches!(c, '.' | ',' | '/' | ':' | '-' | '–' | '&' | '_' | '@' | '\'' | '’')
}

/// Splits `text` into tokens. Never fails; every non-space character ends
/// up in exactly one token.
pub fn tokenize(text: &str) -> Vec<Tok<'_>> {
    let mut toks = Vec::new();
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut i = 0;
    let mut space_before = true;
    while i < chars.len() {
        let (start, c) = chars[i];
        if c.is_whitespace() {
            space_before = true;
            i += 1;
            continue;
        }
        let mut j = i + 1;
        let kind = if is_word_char(c) {
            while j < chars.len() {
                let cj = chars[j].1;
                if is_word_char(cj) {
                    j += 1;
                } else if is_connector(cj) && chars.get(j + 1).is_some_and(|&(_, n)| is_word_char(n)) {
                    j += 2;
                } else {
                    break;
                }
            }
            TokKind::Chunk
        } else {
            let rest = &text[start..];
            if rest.starts_with("./.") {
                j = i + 3;
            } else if rest.starts_with("...") {
                j = i + 3;
                while j < chars.len() && chars[j].1 == '.' {
                    j += 1;
                }
            }
            TokKind::Punct
        };
        let end = chars.get(j).map_or(text.len(), |&(e, _)| e);
        toks.push(Tok { text: &text[start..end], start, kind, space_before });
        space_before = false;
        i = j;
    }
    toks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(s: &str) -> Vec<&str> {
        tokenize(s).into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn chunks_keep_inner_connectors() {
        assert_eq!(
            texts("đạt 1.213.353 triệu, 3,31% (VH,TT&TT) Covid- 19 km/h 17/18."),
            [
                "đạt",
                "1.213.353",
                "triệu",
                ",",
                "3,31",
                "%",
                "(",
                "VH,TT&TT",
                ")",
                "Covid",
                "-",
                "19",
                "km/h",
                "17/18",
                "."
            ]
        );
        assert_eq!(texts("Đảng./."), ["Đảng", "./."]);
        assert_eq!(texts("v.v. Giá..."), ["v.v", ".", "Giá", "..."]);
    }

    #[test]
    fn spans_cover_every_non_space_char() {
        let s = "  Ảnh: Trung tâm…  “x” 30°C ";
        let toks = tokenize(s);
        let joined: String = toks.iter().map(|t| t.text).collect();
        let expected: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        assert_eq!(joined, expected);
        for t in toks {
            assert_eq!(&s[t.start..t.end()], t.text);
        }
    }
}
