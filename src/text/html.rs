//! HTML → article text.
//!
//! A small, tolerant tag scanner (no DOM library): it finds the article
//! (`<article>`, or an element whose class or id names the article body,
//! else `<main>`, else `<body>`), keeps its headings, paragraphs, list items
//! and captions as separate blocks, and drops scripts, styles, navigation,
//! toolbars, metadata lines, related links and hidden elements.

/// Elements whose content is never read.
const SKIP_TAGS: &[&str] = &[
    "script", "style", "noscript", "template", "nav", "aside", "form", "button", "select", "option",
    "textarea", "iframe", "svg", "canvas", "marquee", "audio", "video", "object", "embed", "time", "head",
    "menu", "dialog",
];

/// Elements that start a new block of text.
const BLOCK_TAGS: &[&str] = &[
    "p",
    "div",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "li",
    "ul",
    "ol",
    "figcaption",
    "figure",
    "blockquote",
    "section",
    "article",
    "main",
    "header",
    "footer",
    "tr",
    "td",
    "th",
    "table",
    "dd",
    "dt",
    "dl",
    "pre",
    "address",
    "br",
    "hr",
    "body",
    "caption",
    "summary",
    "details",
];

/// Class or id words of elements that are not article text.
const SKIP_CLASSES: &[&str] = &[
    "meta",
    "tools",
    "toolbar",
    "share",
    "social",
    "related",
    "breadcrumb",
    "breadcrumbs",
    "comment",
    "comments",
    "tags",
    "tag",
    "print",
    "pagination",
    "menu",
    "banner",
    "sidebar",
    "advert",
    "ads",
    "quangcao",
    "skip",
    "navbar",
    "hidden",
    "sr-only",
    "visually-hidden",
    "listen",
    "font",
    "rating",
    "author-box",
    "post-meta",
    "entry-meta",
];

/// Class or id words that mark the article body.
const ARTICLE_CLASSES: &[&str] = &[
    "news-detail",
    "article",
    "article-content",
    "article-body",
    "detail-content",
    "content-detail",
    "post-content",
    "entry-content",
    "news-content",
    "main-content",
    "chi-tiet",
    "noidung",
    "fck_detail",
    "detail",
    "news-body",
];

const VOID_TAGS: &[&str] =
    &["br", "hr", "img", "input", "meta", "link", "area", "base", "col", "embed", "source", "track", "wbr"];

#[derive(Debug)]
enum Ev<'a> {
    Open { name: String, attrs: &'a str, self_closing: bool },
    Close(String),
    Text(&'a str),
}

fn events(html: &str) -> Vec<Ev<'_>> {
    let mut out = Vec::new();
    let mut rest = html;
    while !rest.is_empty() {
        let Some(lt) = rest.find('<') else {
            out.push(Ev::Text(rest));
            break;
        };
        if lt > 0 {
            out.push(Ev::Text(&rest[..lt]));
        }
        rest = &rest[lt..];
        if let Some(after) = rest.strip_prefix("<!--") {
            rest = after.find("-->").map_or("", |p| &after[p + 3..]);
            continue;
        }
        if rest.starts_with("<!") || rest.starts_with("<?") {
            rest = rest.find('>').map_or("", |p| &rest[p + 1..]);
            continue;
        }
        let Some(gt) = tag_end(rest) else {
            out.push(Ev::Text(rest));
            break;
        };
        let inner = &rest[1..gt];
        rest = &rest[gt + 1..];
        if let Some(name) = inner.strip_prefix('/') {
            out.push(Ev::Close(name.trim().to_ascii_lowercase()));
            continue;
        }
        let name_end = inner.find(|c: char| c.is_whitespace() || c == '/').unwrap_or(inner.len());
        let name = inner[..name_end].to_ascii_lowercase();
        if name.is_empty() || !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
            out.push(Ev::Text("<"));
            continue;
        }
        let self_closing = inner.ends_with('/') || VOID_TAGS.contains(&name.as_str());
        out.push(Ev::Open { name: name.clone(), attrs: &inner[name_end..], self_closing });
        // Raw-text elements: skip to their end tag without scanning tags.
        if matches!(name.as_str(), "script" | "style" | "textarea" | "template") && !self_closing {
            let close = format!("</{name}");
            let lower = rest.to_ascii_lowercase();
            let p = lower.find(&close).unwrap_or(rest.len());
            rest = &rest[p..];
        }
    }
    out
}

/// Index of the `>` closing a tag that starts at 0, skipping quoted values.
fn tag_end(s: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    for (i, c) in s.char_indices().skip(1) {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '>') => return Some(i),
            (None, '<') if i == 1 => return None,
            _ => {}
        }
    }
    None
}

fn attr<'a>(attrs: &'a str, key: &str) -> Option<&'a str> {
    let lower = attrs.to_ascii_lowercase();
    let mut from = 0;
    while let Some(p) = lower[from..].find(key) {
        let at = from + p;
        let before_ok = at == 0 || lower.as_bytes()[at - 1].is_ascii_whitespace();
        let rest = attrs[at + key.len()..].trim_start();
        if before_ok && let Some(v) = rest.strip_prefix('=') {
            let v = v.trim_start();
            return Some(match v.chars().next() {
                Some(q @ ('"' | '\'')) => v[1..].split(q).next().unwrap_or(""),
                _ => v.split(|c: char| c.is_whitespace() || c == '>').next().unwrap_or(""),
            });
        }
        if before_ok && (rest.is_empty() || rest.starts_with(|c: char| c.is_whitespace() || c == '/')) {
            return Some("");
        }
        from = at + key.len();
    }
    None
}

fn class_words(attrs: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    for key in ["class", "id", "role"] {
        if let Some(v) = attr(attrs, key) {
            words.extend(v.split_whitespace().map(str::to_ascii_lowercase));
        }
    }
    words
}

fn is_hidden(attrs: &str) -> bool {
    attr(attrs, "hidden").is_some()
        || attr(attrs, "aria-hidden").is_some_and(|v| v.eq_ignore_ascii_case("true"))
        || attr(attrs, "style")
            .is_some_and(|v| v.replace(' ', "").to_ascii_lowercase().contains("display:none"))
}

fn skipped(name: &str, attrs: &str, inside_article: bool) -> bool {
    if SKIP_TAGS.contains(&name) || is_hidden(attrs) {
        return true;
    }
    if !inside_article && matches!(name, "header" | "footer") {
        return true;
    }
    class_words(attrs).iter().any(|w| SKIP_CLASSES.contains(&w.as_str()) || w == "navigation")
}

/// Index of the event that opens the article element, if any.
fn find_root(evs: &[Ev<'_>]) -> Option<usize> {
    let first = |pred: &dyn Fn(&str, &str) -> bool| {
        evs.iter().position(|e| matches!(e, Ev::Open { name, attrs, .. } if pred(name, attrs)))
    };
    first(&|n, _| n == "article")
        .or_else(|| first(&|_, a| class_words(a).iter().any(|w| ARTICLE_CLASSES.contains(&w.as_str()))))
        .or_else(|| first(&|n, _| n == "main"))
        .or_else(|| first(&|n, _| n == "body"))
}

/// Extracts the readable article text: blocks separated by blank lines.
pub fn html_to_text(html: &str) -> String {
    let evs = events(html);
    let root = find_root(&evs);
    let in_article = root.is_some_and(|r| matches!(&evs[r], Ev::Open { name, .. } if name != "body"));
    let start = root.unwrap_or(0);
    let mut out = String::new();
    let mut block = String::new();
    // Stack of (tag, skipping) for open elements inside the root.
    let mut stack: Vec<(String, bool)> = Vec::new();
    let flush = |block: &mut String, out: &mut String| {
        let text: String = block.split_whitespace().collect::<Vec<_>>().join(" ");
        if !text.is_empty() {
            if !out.is_empty() {
                out.push_str("\n\n");
            }
            out.push_str(&text);
        }
        block.clear();
    };
    for (idx, ev) in evs.iter().enumerate().skip(start) {
        let skipping = stack.last().is_some_and(|(_, s)| *s);
        match ev {
            Ev::Open { name, attrs, self_closing } => {
                if root.is_some() && idx > start && stack.is_empty() {
                    break; // left the root element
                }
                if BLOCK_TAGS.contains(&name.as_str()) && !skipping {
                    flush(&mut block, &mut out);
                }
                if *self_closing {
                    continue;
                }
                // An unclosed <p> or <li> ends at the next one.
                if matches!(name.as_str(), "p" | "li") && stack.last().is_some_and(|(n, _)| n == name) {
                    stack.pop();
                }
                let skip = skipping || skipped(name, attrs, in_article && idx > start);
                stack.push((name.clone(), skip));
            }
            Ev::Close(name) => {
                if let Some(pos) = stack.iter().rposition(|(n, _)| n == name) {
                    stack.truncate(pos);
                }
                if BLOCK_TAGS.contains(&name.as_str()) && !skipping {
                    flush(&mut block, &mut out);
                }
                if root.is_some() && stack.is_empty() {
                    break;
                }
            }
            Ev::Text(t) => {
                if !skipping {
                    block.push_str(&decode_entities(t));
                }
            }
        }
    }
    flush(&mut block, &mut out);
    out
}

/// Decodes character references: named (common Latin and Vietnamese
/// vowels), decimal and hexadecimal. Unknown ones are kept as written.
pub fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(p) = rest.find('&') {
        out.push_str(&rest[..p]);
        rest = &rest[p..];
        let end = rest[1..].find(|c: char| !c.is_ascii_alphanumeric() && c != '#').map(|e| e + 1);
        let decoded =
            end.filter(|&e| rest[e..].starts_with(';')).and_then(|e| entity(&rest[1..e]).map(|c| (c, e)));
        match decoded {
            Some((c, e)) => {
                out.push(c);
                rest = &rest[e + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn entity(name: &str) -> Option<char> {
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse().ok()?,
        };
        return char::from_u32(code).filter(|&c| c != '\0');
    }
    Some(match name {
        "nbsp" => ' ',
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "ndash" => '–',
        "mdash" => '—',
        "hellip" => '…',
        "lsquo" => '‘',
        "rsquo" => '’',
        "ldquo" => '“',
        "rdquo" => '”',
        "laquo" => '«',
        "raquo" => '»',
        "copy" => '©',
        "deg" => '°',
        "middot" => '·',
        "bull" => '•',
        "times" => '×',
        "sup2" => '²',
        "sup3" => '³',
        "agrave" => 'à',
        "aacute" => 'á',
        "acirc" => 'â',
        "atilde" => 'ã',
        "egrave" => 'è',
        "eacute" => 'é',
        "ecirc" => 'ê',
        "igrave" => 'ì',
        "iacute" => 'í',
        "ograve" => 'ò',
        "oacute" => 'ó',
        "ocirc" => 'ô',
        "otilde" => 'õ',
        "ugrave" => 'ù',
        "uacute" => 'ú',
        "yacute" => 'ý',
        "Agrave" => 'À',
        "Aacute" => 'Á',
        "Acirc" => 'Â',
        "Atilde" => 'Ã',
        "Egrave" => 'È',
        "Eacute" => 'É',
        "Ecirc" => 'Ê',
        "Igrave" => 'Ì',
        "Iacute" => 'Í',
        "Ograve" => 'Ò',
        "Oacute" => 'Ó',
        "Ocirc" => 'Ô',
        "Otilde" => 'Õ',
        "Ugrave" => 'Ù',
        "Uacute" => 'Ú',
        "Yacute" => 'Ý',
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_article_not_the_page() {
        let html = r#"<html><head><title>T</title><script>var x = "<p>no</p>";</script></head><body>
            <nav><a href="/">Trang chủ</a></nav>
            <article class="news-detail"><h1>Tiêu đề</h1><div class="meta"><time>21/01</time> Lượt xem</div>
            <p>&nbsp; Đoạn <b>một</b> &amp; hai.</p><figure><img alt="x"><figcaption>Ảnh: A&amp;B</figcaption></figure>
            <p>Đoạn ba<p>Đoạn bốn</article><footer>Điện thoại</footer></body></html>"#;
        assert_eq!(html_to_text(html), "Tiêu đề\n\nĐoạn một & hai.\n\nẢnh: A&B\n\nĐoạn ba\n\nĐoạn bốn");
    }

    #[test]
    fn entities_and_broken_markup_never_panic() {
        assert_eq!(decode_entities("a &amp; b &#7871; &#x1EBF; &bogus; &"), "a & b ế ế &bogus; &");
        for s in ["<", "<p", "<<>>", "</>", "<p class='x>", "&#99999999;", "<script>", "<!-- x"] {
            let _ = html_to_text(s);
        }
        assert_eq!(html_to_text("<p>Không có thẻ article</p><p>Hai</p>"), "Không có thẻ article\n\nHai");
    }
}
