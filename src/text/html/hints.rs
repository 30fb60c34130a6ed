//! The page hints of `config/page-hints.json` (embedded), compiled once:
//! class/id word hints, CSS selectors, tags, roles and texts that decide
//! what a page's article is and which parts of it are not read. The widget
//! is built from the same file (see its `_keys` for what each list means).

use std::collections::HashSet;
use std::sync::OnceLock;

use scraper::{ElementRef, Selector};
use serde::Deserialize;
use unicode_normalization::UnicodeNormalization;

/// The hints file, as shipped.
pub const PAGE_HINTS_JSON: &str = include_str!("../../../config/page-hints.json");

#[derive(Debug, Deserialize)]
struct Raw {
    body: Vec<String>,
    #[serde(default)]
    body_selectors: Vec<String>,
    #[serde(default)]
    article_selectors: Vec<String>,
    standfirst: Vec<String>,
    skip_tags: Vec<String>,
    skip_roles: Vec<String>,
    skip_classes: Vec<String>,
    #[serde(default)]
    skip_selectors: Vec<String>,
    #[serde(default)]
    hidden_classes: Vec<String>,
    #[serde(default)]
    author: Vec<String>,
    #[serde(default)]
    separate_classes: Vec<String>,
    #[serde(default)]
    caption_prefixes: Vec<String>,
    skip_texts: Vec<String>,
    read_attribute: String,
    skip_attribute: String,
}

/// A hint as the words of a class name: `box-related-news` → `[box, related, news]`.
type Words = Vec<String>;

/// The compiled hints.
#[derive(Debug)]
pub struct Hints {
    pub body: Vec<Words>,
    pub body_selectors: Vec<Selector>,
    pub article_selectors: Vec<Selector>,
    pub standfirst: Vec<Words>,
    pub skip_tags: HashSet<String>,
    pub skip_roles: HashSet<String>,
    pub skip_classes: Vec<Words>,
    pub skip_selectors: Vec<Selector>,
    pub hidden_classes: HashSet<String>,
    pub author: Vec<Words>,
    pub separate_classes: Vec<Words>,
    pub caption_prefixes: Vec<String>,
    /// Normalized (see [`norm`]).
    pub skip_texts: Vec<String>,
    pub read_attribute: String,
    pub skip_attribute: String,
}

/// The words of a class name or id, lower case: split at anything that is
/// not an ASCII letter or digit (as the widget does).
pub fn words(name: &str) -> Words {
    name.to_ascii_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// Text compared with `skip_texts`: NFC, lower case, spaces collapsed, a
/// trailing ":" or count such as "(12)" dropped.
pub fn norm(text: &str) -> String {
    let mut t: String = text.nfc().collect::<String>().to_lowercase();
    t = t.split_whitespace().collect::<Vec<_>>().join(" ");
    loop {
        let before = t.len();
        t = t.trim_end_matches([':', ' ', '.', '…', '»', '>']).to_string();
        if t.ends_with(')')
            && let Some(open) = t.rfind('(')
            && t[open + 1..t.len() - 1].chars().all(|c| c.is_ascii_digit() || c == '.')
        {
            t.truncate(open);
        }
        if t.len() == before {
            return t.trim().to_string();
        }
    }
}

fn selectors(list: &[String]) -> Vec<Selector> {
    // The shipped file is tested to parse (see tests below).
    list.iter().filter_map(|s| Selector::parse(s).ok()).collect()
}

impl Hints {
    fn compile(raw: Raw) -> Hints {
        let lower = |v: &[String]| v.iter().map(|s| s.to_ascii_lowercase()).collect::<HashSet<_>>();
        let hidden = lower(&raw.hidden_classes);
        Hints {
            body: raw.body.iter().map(|s| words(s)).collect(),
            body_selectors: selectors(&raw.body_selectors),
            article_selectors: selectors(&raw.article_selectors),
            standfirst: raw.standfirst.iter().map(|s| words(s)).collect(),
            skip_tags: lower(&raw.skip_tags),
            skip_roles: lower(&raw.skip_roles),
            // Hidden classes match whole class names only (below), never as parts.
            skip_classes: raw
                .skip_classes
                .iter()
                .filter(|c| !hidden.contains(&c.to_ascii_lowercase()))
                .map(|s| words(s))
                .collect(),
            skip_selectors: selectors(&raw.skip_selectors),
            hidden_classes: hidden,
            author: raw.author.iter().map(|s| words(s)).collect(),
            separate_classes: raw.separate_classes.iter().map(|s| words(s)).collect(),
            caption_prefixes: raw
                .caption_prefixes
                .iter()
                .map(|s| s.nfc().collect::<String>().to_lowercase())
                .collect(),
            skip_texts: raw.skip_texts.iter().map(|s| norm(s)).collect(),
            read_attribute: raw.read_attribute,
            skip_attribute: raw.skip_attribute,
        }
    }

    /// The shipped hints.
    pub fn get() -> &'static Hints {
        static HINTS: OnceLock<Hints> = OnceLock::new();
        HINTS.get_or_init(|| {
            let raw: Raw = serde_json::from_str(PAGE_HINTS_JSON).unwrap_or_else(|e| {
                // Only reachable if the embedded file is broken; the tests below parse it.
                tracing::error!("config/page-hints.json is invalid: {e}");
                serde_json::from_str(EMPTY).expect("the empty hint set parses")
            });
            Hints::compile(raw)
        })
    }

    /// The first hint of `list` that a class name or the id of `el`
    /// contains as whole words.
    pub fn matches<'h>(el: &ElementRef<'_>, list: &'h [Words]) -> Option<&'h Words> {
        if list.is_empty() {
            return None;
        }
        let v = el.value();
        let names = v.attr("class").into_iter().flat_map(str::split_whitespace).chain(v.id());
        for name in names {
            let w = words(name);
            for hint in list {
                if !hint.is_empty() && w.windows(hint.len()).any(|win| win == hint.as_slice()) {
                    return Some(hint);
                }
            }
        }
        None
    }

    /// True when a class of `el` is one of the hidden classes.
    pub fn hidden_class(&self, el: &ElementRef<'_>) -> Option<String> {
        el.value()
            .attr("class")?
            .split_whitespace()
            .find(|c| self.hidden_classes.contains(&c.to_ascii_lowercase()))
            .map(str::to_string)
    }

    /// True when `text` (a heading or label) is one of the skip texts.
    pub fn is_skip_text(&self, text: &str) -> bool {
        let t = norm(text);
        !t.is_empty() && self.skip_texts.contains(&t)
    }

    /// A short line that starts with a skip text and then a number, a
    /// count or ':' ("Lượt xem: 1.024", "Cập nhật 15/03/2024").
    pub fn is_label_line(&self, text: &str) -> bool {
        let t = norm(text);
        if t.is_empty() || t.chars().count() > 60 {
            return false;
        }
        self.skip_texts.iter().any(|x| {
            t == *x
                || t.strip_prefix(x.as_str()).is_some_and(|rest| {
                    let rest = rest.trim_start_matches([' ', '(']);
                    rest.starts_with(':') || rest.starts_with(|c: char| c.is_ascii_digit())
                })
        })
    }
}

/// Lists every key with nothing in it (used only if the embedded file is broken).
const EMPTY: &str = r#"{"body":[],"standfirst":[],"skip_tags":[],"skip_roles":[],"skip_classes":[],
"skip_texts":[],"read_attribute":"data-loa-read","skip_attribute":"data-loa-skip"}"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_file_parses_with_every_selector() {
        let raw: Raw = serde_json::from_str(PAGE_HINTS_JSON).expect("config/page-hints.json parses");
        for s in raw.body_selectors.iter().chain(&raw.article_selectors).chain(&raw.skip_selectors) {
            assert!(Selector::parse(s).is_ok(), "bad selector {s:?} in page-hints.json");
        }
        let h = Hints::get();
        assert!(h.skip_tags.contains("nav") && h.hidden_classes.contains("d-none"));
        assert!(!h.skip_classes.iter().any(|w| w == &["hidden"]), "hidden classes match whole names only");
    }

    #[test]
    fn words_texts_and_labels() {
        assert_eq!(words("box-tinlienquan_v2 ContentDetail"), ["box", "tinlienquan", "v2", "contentdetail"]);
        assert_eq!(norm("  Bình luận (12) :"), "bình luận");
        let h = Hints::get();
        assert!(h.is_skip_text("TIN LIÊN QUAN:"));
        assert!(!h.is_skip_text("Tin liên quan đến dự án"));
        assert!(h.is_label_line("Lượt xem: 1.204"));
        assert!(h.is_label_line("Cập nhật 15/03/2024 08:30"));
        assert!(!h.is_label_line("Cập nhật thông tin mới về dịch bệnh cho người dân"));
    }

    #[test]
    fn hints_match_whole_words_of_class_names() {
        let doc = scraper::Html::parse_fragment(
            r#"<div class="box-related-news" id="x"></div><div class="unrelated overflow-hidden"></div>"#,
        );
        let sel = Selector::parse("div").unwrap();
        let divs: Vec<_> = doc.select(&sel).collect();
        let h = Hints::get();
        assert!(Hints::matches(&divs[0], &h.skip_classes).is_some());
        assert!(Hints::matches(&divs[1], &h.skip_classes).is_none());
        assert!(h.hidden_class(&divs[1]).is_none());
    }
}
