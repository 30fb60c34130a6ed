//! The tokenizer: text → chunks and punctuation marks with byte spans.
//!
//! A chunk is a run of letters and digits, with connectors (`. , / : - – &
//! _ @ '`) kept inside it when they join two word characters, so
//! "1.213.353", "VH,TT&TT", "17/18", "km/h" and "Covid-19" each stay one
//! chunk for the classifier. Everything else is a punctuation token of one
//! character, except "./." and "..." which are kept whole.

use super::fold;

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokKind {
    /// Letters, digits and inner connectors.
    Chunk,
    /// One punctuation mark or symbol (or "./.", "...").
    Punct,
}

/// A token with its byte offset in the tokenized text, and what the
/// tokenizer saw of its characters (so the classifier does not scan again).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tok<'a> {
    pub text: &'a str,
    pub start: usize,
    pub kind: TokKind,
    /// White space (or the start of text) comes right before it.
    pub space_before: bool,
    /// A chunk with an ASCII digit.
    pub digit: bool,
    /// A chunk with an upper-case letter.
    pub upper: bool,
    /// A chunk with an inner connector (". , / : - – & _ @ ' ’").
    pub joined: bool,
    /// A chunk with "²", "³" or "°".
    pub degree: bool,
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
        self.digit
    }
    pub fn is_dash(&self) -> bool {
        self.kind == TokKind::Punct && matches!(self.text, "-" | "–" | "—" | "−")
    }
}

/// A character that belongs to a chunk on its own.
pub fn is_word_char(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric();
    }
    // Fast path for Latin letters with Vietnamese diacritics.
    if is_latin_letter(c) {
        return true;
    }
    c.is_alphanumeric() || matches!(c, '²' | '³' | '°') || ('\u{300}'..='\u{36f}').contains(&c)
}

/// Latin-1 and Latin Extended letters and the Vietnamese block (U+1EA0–U+1EF9).
pub fn is_latin_letter(c: char) -> bool {
    matches!(c, '\u{c0}'..='\u{24f}' | '\u{1ea0}'..='\u{1ef9}') && c != '×' && c != '÷'
}

/// A character kept inside a chunk when word characters surround it.
pub fn is_connector(c: char) -> bool {
    matches!(c, '.' | ',' | '/' | ':' | '-' | '–' | '&' | '_' | '@' | '\'' | '’')
}

/// Splits `text` into tokens. Never fails; every non-space character ends
/// up in exactly one token.
pub fn tokenize(text: &str) -> Vec<Tok<'_>> {
    let bytes = text.as_bytes();
    let char_at = |pos: usize| match bytes.get(pos) {
        Some(&b) if b < 0x80 => Some(b as char),
        Some(_) => text[pos..].chars().next(),
        None => None,
    };
    let mut toks = Vec::with_capacity(text.len() / 5);
    let mut pos = 0;
    let mut space_before = true;
    while let Some(c) = char_at(pos) {
        let start = pos;
        if c.is_whitespace() {
            space_before = true;
            pos += c.len_utf8();
            continue;
        }
        let mut end = pos + c.len_utf8();
        let mut tok = Tok {
            text: "",
            start,
            kind: TokKind::Punct,
            space_before,
            digit: false,
            upper: false,
            joined: false,
            degree: false,
        };
        if is_word_char(c) {
            tok.kind = TokKind::Chunk;
            let seen = |tok: &mut Tok<'_>, ch: char| {
                if ch.is_ascii() {
                    tok.digit |= ch.is_ascii_digit();
                    tok.upper |= ch.is_ascii_uppercase();
                } else {
                    tok.upper |= fold::is_upper(ch);
                    tok.degree |= matches!(ch, '²' | '³' | '°');
                }
            };
            seen(&mut tok, c);
            loop {
                // ASCII letters and digits byte by byte, the rest by character.
                match bytes.get(end) {
                    Some(&b) if b.is_ascii_alphanumeric() => {
                        tok.digit |= b.is_ascii_digit();
                        tok.upper |= b.is_ascii_uppercase();
                        end += 1;
                        continue;
                    }
                    None => break,
                    Some(_) => {}
                }
                let Some(cj) = char_at(end) else { break };
                if is_word_char(cj) {
                    seen(&mut tok, cj);
                    end += cj.len_utf8();
                } else if is_connector(cj)
                    && let Some(n) = char_at(end + cj.len_utf8())
                    && is_word_char(n)
                {
                    seen(&mut tok, n);
                    tok.joined = true;
                    end += cj.len_utf8() + n.len_utf8();
                } else {
                    break;
                }
            }
        } else {
            let rest = &text[start..];
            if rest.starts_with("./.") {
                end = start + 3;
            } else if rest.starts_with("...") {
                end = start + rest.bytes().take_while(|&b| b == b'.').count();
            }
        }
        tok.text = &text[start..end];
        toks.push(tok);
        space_before = false;
        pos = end;
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

    #[test]
    fn flags_say_what_the_chunk_holds() {
        for t in tokenize("Đảng 1.213.353 VH,TT&TT km/h m² 30°C abc ( ) x5 HĐND 2A 3,31% ./. ... ĂN") {
            let chunk = t.kind == TokKind::Chunk;
            assert_eq!(t.digit, chunk && t.text.bytes().any(|b| b.is_ascii_digit()), "{t:?}");
            assert_eq!(t.upper, chunk && t.text.chars().any(char::is_uppercase), "{t:?}");
            assert_eq!(t.joined, chunk && t.text.contains(is_connector), "{t:?}");
            assert_eq!(t.degree, chunk && t.text.contains(['²', '³', '°']), "{t:?}");
        }
    }
}
