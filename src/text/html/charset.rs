//! Bytes of an HTML page → text, the way browsers pick the encoding: a
//! byte-order mark, else the HTTP `Content-Type` charset, else a
//! `<meta charset>` / `<meta http-equiv>` in the first bytes, else UTF-8
//! when the bytes are valid UTF-8, else the Vietnamese default
//! (windows-1258). Legacy TCVN3 (ABC) pages, which declare nothing or a
//! Latin charset and rely on `.VnTime`-style fonts, are recognised by
//! those fonts and decoded with the TCVN3 table. Decoding never fails:
//! bytes that are invalid in the chosen encoding become U+FFFD.

use encoding_rs::{Encoding, UTF_8, WINDOWS_1258};

/// How much of the page the `<meta>` prescan looks at (the spec says 1024;
/// portals often put scripts first).
const PRESCAN_BYTES: usize = 4096;

/// Which encoding was used and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Decoded {
    pub text: String,
    /// The encoding's name (`UTF-8`, `windows-1258`, `TCVN3`…).
    pub encoding: String,
    /// `bom`, `header`, `meta`, `fonts` (TCVN3), `utf-8` (valid bytes) or `default`.
    pub from: &'static str,
    /// Bytes that could not be decoded (each became U+FFFD).
    pub had_errors: bool,
}

/// The charset parameter of a `Content-Type` value.
pub fn charset_param(content_type: &str) -> Option<&str> {
    content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim().eq_ignore_ascii_case("charset").then(|| v.trim().trim_matches(['"', '\'']))
    })
}

/// The charset a `<meta>` near the start declares.
fn meta_charset(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = &bytes[..bytes.len().min(PRESCAN_BYTES)];
    let lower: Vec<u8> = head.to_ascii_lowercase();
    let mut from = 0;
    while let Some(p) = find(&lower[from..], b"<meta") {
        let start = from + p + 5;
        let end = lower[start..].iter().position(|&b| b == b'>').map_or(lower.len(), |e| start + e);
        let tag = &lower[start..end];
        if let Some(c) = find(tag, b"charset") {
            let rest = &tag[c + 7..];
            let rest = trim_start(rest);
            if let Some(rest) = rest.strip_prefix(b"=") {
                let rest = trim_start(rest);
                let rest = rest.strip_prefix(b"\"").or_else(|| rest.strip_prefix(b"'")).unwrap_or(rest);
                let label: Vec<u8> = rest
                    .iter()
                    .copied()
                    .take_while(|&b| {
                        !matches!(b, b'"' | b'\'' | b';' | b' ' | b'/' | b'>') && !b.is_ascii_whitespace()
                    })
                    .collect();
                if let Some(enc) = Encoding::for_label(&label) {
                    // A page that says UTF-16 in a <meta> is read as ASCII-compatible.
                    return Some(if enc.is_single_byte() || enc == UTF_8 { enc } else { UTF_8 });
                }
            }
        }
        from = end.max(start);
    }
    None
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn trim_start(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|b| b.is_ascii_whitespace()).count();
    &s[n..]
}

/// True when the page names a TCVN3 font (`.VnTime`, `.VnArial`, `.VnTimeH`…).
fn uses_tcvn3_fonts(bytes: &[u8]) -> bool {
    let lower = bytes.to_ascii_lowercase();
    let mut from = 0;
    while let Some(p) = find(&lower[from..], b".vn") {
        let at = from + p;
        let before_ok = at == 0 || matches!(lower[at - 1], b'"' | b'\'' | b' ' | b',' | b':' | b'=' | b'(');
        let next = lower.get(at + 3).copied().unwrap_or(b' ');
        if before_ok && next.is_ascii_alphabetic() {
            let name: Vec<u8> =
                lower[at + 3..].iter().copied().take_while(u8::is_ascii_alphanumeric).collect();
            const FONTS: &[&[u8]] = &[
                b"time",
                b"arial",
                b"helve",
                b"univers",
                b"centur",
                b"courier",
                b"book",
                b"avant",
                b"bodoni",
                b"clarendon",
                b"cooper",
                b"free",
                b"goudy",
                b"linus",
                b"lucida",
                b"mono",
                b"revue",
                b"shelley",
                b"souvenir",
                b"bahamas",
                b"3d",
                b"aptima",
                b"black",
                b"commerc",
                b"present",
                b"swan",
                b"thu",
            ];
            if FONTS.iter().any(|f| name.starts_with(f)) {
                return true;
            }
        }
        from = at + 3;
    }
    false
}

/// Bytes 0x80–0xFF of TCVN 5712:1993 (VN1, a superset of the TCVN3 "ABC"
/// font encoding). 0xB0–0xB4 are combining tone marks.
const TCVN3_HIGH: [char; 128] = [
    'À', 'Ả', 'Ã', 'Á', 'Ạ', 'Ặ', 'Ậ', 'È', 'Ẻ', 'Ẽ', 'É', 'Ẹ', 'Ệ', 'Ì', 'Ỉ', 'Ĩ', //
    'Í', 'Ị', 'Ò', 'Ỏ', 'Õ', 'Ó', 'Ọ', 'Ộ', 'Ờ', 'Ở', 'Ỡ', 'Ớ', 'Ợ', 'Ù', 'Ủ', 'Ũ', //
    '\u{a0}', 'Ă', 'Â', 'Ê', 'Ô', 'Ơ', 'Ư', 'Đ', 'ă', 'â', 'ê', 'ô', 'ơ', 'ư', 'đ', 'Ằ', //
    '\u{300}', '\u{309}', '\u{303}', '\u{301}', '\u{323}', 'à', 'ả', 'ã', 'á', 'ạ', 'Ẳ', 'ằ', 'ẳ', 'ẵ', 'ắ',
    'Ẵ', //
    'Ắ', 'Ầ', 'Ẩ', 'Ẫ', 'Ấ', 'Ề', 'ặ', 'ầ', 'ẩ', 'ẫ', 'ấ', 'ậ', 'è', 'Ể', 'ẻ', 'ẽ', //
    'é', 'ẹ', 'ề', 'ể', 'ễ', 'ế', 'ệ', 'ì', 'ỉ', 'Ễ', 'Ế', 'Ồ', 'ĩ', 'í', 'ị', 'ò', //
    'Ổ', 'ỏ', 'õ', 'ó', 'ọ', 'ồ', 'ổ', 'ỗ', 'ố', 'ộ', 'ờ', 'ở', 'ỡ', 'ớ', 'ợ', 'ù', //
    'Ỗ', 'ủ', 'ũ', 'ú', 'ụ', 'ừ', 'ử', 'ữ', 'ứ', 'ự', 'ỳ', 'ỷ', 'ỹ', 'ý', 'ỵ', 'Ố', //
];

fn decode_tcvn3(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| if b < 0x80 { b as char } else { TCVN3_HIGH[(b - 0x80) as usize] }).collect()
}

fn with(enc: &'static Encoding, bytes: &[u8], from: &'static str) -> Decoded {
    let (text, had_errors) = enc.decode_without_bom_handling(bytes);
    Decoded { text: text.into_owned(), encoding: enc.name().to_string(), from, had_errors }
}

/// Decode `bytes` served with the optional `Content-Type` header value.
pub fn decode(bytes: &[u8], content_type: Option<&str>) -> Decoded {
    if let Some((enc, n)) = Encoding::for_bom(bytes) {
        return with(enc, &bytes[n..], "bom");
    }
    let header = content_type.and_then(charset_param).and_then(|l| Encoding::for_label(l.as_bytes()));
    let declared = header.map(|e| (e, "header")).or_else(|| meta_charset(bytes).map(|e| (e, "meta")));
    let valid_utf8 = std::str::from_utf8(bytes).is_ok();
    // TCVN3 pages declare nothing or a Latin charset; a page that is valid
    // UTF-8 and says so is never TCVN3, whatever fonts it names.
    let latin_or_none = declared.is_none_or(|(e, _)| e != UTF_8 && e.is_single_byte());
    if latin_or_none && !(valid_utf8 && declared.is_none()) && uses_tcvn3_fonts(bytes) {
        return Decoded {
            text: decode_tcvn3(bytes),
            encoding: "TCVN3".into(),
            from: "fonts",
            had_errors: false,
        };
    }
    if let Some((enc, from)) = declared {
        return with(enc, bytes, from);
    }
    if valid_utf8 {
        return with(UTF_8, bytes, "utf-8");
    }
    with(WINDOWS_1258, bytes, "default")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_beats_meta_and_bom_beats_both() {
        let page = "<meta charset=\"windows-1252\"><p>\u{e9}</p>".as_bytes();
        assert_eq!(decode(page, Some("text/html; charset=UTF-8")).encoding, "UTF-8");
        let d = decode(b"<meta charset='windows-1252'><p>\xe9</p>", None);
        assert_eq!((d.encoding.as_str(), d.from), ("windows-1252", "meta"));
        assert!(d.text.contains('é'));
        let mut bom = b"\xef\xbb\xbf".to_vec();
        bom.extend_from_slice(b"<p>x</p>");
        assert_eq!(decode(&bom, Some("text/html; charset=windows-1258")).from, "bom");
    }

    #[test]
    fn http_equiv_and_vietnamese_default() {
        let d = decode(
            b"<meta http-equiv=Content-Type content=\"text/html; charset=windows-1258\"><p>Vi\xeat</p>",
            None,
        );
        assert_eq!((d.encoding.as_str(), d.text.contains("Viêt")), ("windows-1258", true));
        let d = decode(b"<p>Vi\xd2\xeat</p>", None);
        assert_eq!(d.from, "default");
    }

    #[test]
    fn tcvn3_is_detected_by_its_fonts() {
        // "Bảo Thắng" in TCVN3.
        let d = decode(b"<font face=\".VnTime\">B\xb6o Th\xbeng</font>", None);
        assert_eq!((d.encoding.as_str(), d.text.contains("Bảo Thắng")), ("TCVN3", true));
        let utf8 = "<style>p{font-family:'.VnTime'}</style><p>Bảo Thắng</p>";
        assert_eq!(decode(utf8.as_bytes(), None).encoding, "UTF-8");
        assert_eq!(charset_param("text/html; Charset=\"utf-8\""), Some("utf-8"));
    }
}
