//! The article a page describes in JSON-LD (`<script type=
//! "application/ld+json">`, schema.org `Article`/`NewsArticle`/…): its
//! headline and `articleBody`, used to cross-check the DOM extraction and as
//! the fallback for pages whose body is rendered by scripts.

use scraper::{Html, Selector};
use serde_json::Value;

/// JSON-LD blocks larger than this are not parsed.
const MAX_JSON_BYTES: usize = 2 * 1024 * 1024;

/// What the JSON-LD says about the article.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LdArticle {
    pub headline: Option<String>,
    pub body: Option<String>,
}

fn is_article_type(v: &Value) -> bool {
    let is = |s: &str| {
        let s = s.rsplit('/').next().unwrap_or(s);
        s.ends_with("Article") || matches!(s, "BlogPosting" | "Report" | "LiveBlogPosting")
    };
    match v {
        Value::String(s) => is(s),
        Value::Array(a) => a.iter().any(|x| x.as_str().is_some_and(is)),
        _ => false,
    }
}

fn text_of(v: Option<&Value>) -> Option<String> {
    let s = v?.as_str()?.trim();
    (!s.is_empty()).then(|| s.to_string())
}

/// The first article object (with the longest body when there are several).
pub fn find(doc: &Html) -> Option<LdArticle> {
    let sel = Selector::parse("script[type]").ok()?;
    let mut best: Option<LdArticle> = None;
    for script in doc.select(&sel) {
        let ty = script.value().attr("type").unwrap_or("");
        if !ty.trim().eq_ignore_ascii_case("application/ld+json") {
            continue;
        }
        let json: String = script.text().collect();
        if json.len() > MAX_JSON_BYTES {
            continue;
        }
        let Ok(value) = serde_json::from_str::<Value>(json.trim()) else { continue };
        // Iterative walk: arrays, @graph, nested objects.
        let mut stack = vec![&value];
        while let Some(v) = stack.pop() {
            match v {
                Value::Array(a) => stack.extend(a.iter().rev()),
                Value::Object(o) => {
                    if o.get("@type").is_some_and(is_article_type) {
                        let found = LdArticle {
                            headline: text_of(o.get("headline")).or_else(|| text_of(o.get("name"))),
                            body: text_of(o.get("articleBody")),
                        };
                        let longer = |a: &LdArticle| a.body.as_ref().map_or(0, String::len);
                        if best.as_ref().is_none_or(|b| longer(&found) > longer(b)) {
                            best = Some(found);
                        }
                    }
                    stack.extend(o.values().filter(|x| x.is_array() || x.is_object()));
                }
                _ => {}
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_article_in_a_graph() {
        let doc = Html::parse_document(
            r#"<script type="application/ld+json">{"@graph":[{"@type":"WebPage","name":"x"},
            {"@type":["NewsArticle"],"headline":"Tiêu đề","articleBody":"Thân bài."}]}</script>
            <script type="application/ld+json">not json</script>"#,
        );
        let a = find(&doc).unwrap();
        assert_eq!((a.headline.as_deref(), a.body.as_deref()), (Some("Tiêu đề"), Some("Thân bài.")));
        assert_eq!(find(&Html::parse_document("<p>x</p>")), None);
    }
}
