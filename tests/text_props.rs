//! Property tests for the text stage: no panic on arbitrary input, the
//! splitter loses no text, and no ASCII digit survives normalization except
//! in tokens `explain` reports as doubtful.

use loa::text::{Normalizer, html_to_text};
use proptest::prelude::*;

/// Text shaped like news: words, numbers with separators, symbols, caps.
fn newsy() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        "[a-zA-ZàáạảãâầấậẩẫăằắặẳẵèéẹẻẽêềếệểễìíịỉĩòóọỏõôồốộổỗơờớợởỡùúụủũưừứựửữỳýỵỷỹđĐ]{1,8}",
        "[0-9]{1,20}",
        "[0-9]{1,3}([.,][0-9]{1,3}){0,4}",
        "[0-9]{1,2}[/.-][0-9]{1,2}([/.-][0-9]{2,4})?",
        "[0-9]{1,2}[hH:][0-9]{0,2}",
        "[A-ZĐ]{1,6}([-&,.][A-ZĐ]{1,4})?",
        "[IVXLCDM]{1,6}",
        "[ .,;:!?()\"“”%$&/+=@#…–—-]{1,3}",
        "(km|m2|m²|ha|kg|°C|km/h|USD|VNĐ|đ|tỷ|triệu|tháng|ngày|thứ|khóa|quý|lần thứ|tỷ số)",
        "\\PC{1,3}",
    ];
    prop::collection::vec(piece, 0..30).prop_map(|v| v.join(" "))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(600))]

    #[test]
    fn never_panics_on_any_string(s in "\\PC{0,200}") {
        let n = Normalizer::default();
        let _ = n.normalize(&s);
        let _ = n.sentences(&s);
        let _ = n.explain(&s);
        let _ = html_to_text(&s);
    }

    #[test]
    fn split_loses_no_text(s in newsy(), max in 16usize..400) {
        let n = Normalizer::new(loa::text::Options { max_sentence_bytes: max, ..Default::default() });
        let pieces = n.split(&s);
        let mut last_end = 0;
        for p in &pieces {
            prop_assert!(p.span.start >= last_end, "spans overlap or go backwards");
            prop_assert!(s.is_char_boundary(p.span.start) && s.is_char_boundary(p.span.end));
            // Only white space lies between consecutive sentences.
            prop_assert!(s[last_end..p.span.start].trim().is_empty(), "lost {:?}", &s[last_end..p.span.start]);
            last_end = p.span.end;
        }
        prop_assert!(s[last_end..].trim().is_empty(), "lost tail {:?}", &s[last_end..]);
    }

    #[test]
    fn no_digit_survives_normalization(s in newsy()) {
        let n = Normalizer::default();
        let spoken = n.normalize(&s);
        if spoken.bytes().any(|b| b.is_ascii_digit()) {
            let doubtful: Vec<String> = n.explain(&s).into_iter().filter(|r| r.doubtful).map(|r| r.written).collect();
            prop_assert!(
                doubtful.iter().any(|w| w.bytes().any(|b| b.is_ascii_digit())),
                "digit survived in {spoken:?} from {s:?}"
            );
        }
    }
}
