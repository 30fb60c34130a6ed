//! HTML page → the article's text, and what was left out and why.
//!
//! The page is decoded ([`charset`]: HTTP header, `<meta>`, TCVN3 fonts,
//! windows-1258), normalized to NFC and parsed with html5ever, the WHATWG
//! parser browsers use ([`parse`], bounded so hostile markup costs linear
//! time). The article is then found and read ([`walk`]) by one list of
//! hints shared with the widget, `config/page-hints.json` ([`hints`]):
//!
//! * the root: `[sources.sites."host"]` body selectors, else the element
//!   the body hints name with the most text (read inside its `<article>` or
//!   schema.org Article container, with the last `<h1>` and a standfirst
//!   before it when it has none), else the longest `<article>`, `<main>`,
//!   `<body>`; the JSON-LD `articleBody` ([`jsonld`]) when the page itself
//!   holds almost no text (never both);
//! * read: headline, standfirst, paragraphs, subheadings, list items, table
//!   cells, the closing author line;
//! * never read: navigation, breadcrumbs, toolbars, bylines and date lines,
//!   view counters, captions, related links, share bars, ads, comments,
//!   cookie banners, forms, hidden elements, scripts, styles, templates —
//!   each recorded as a [`Skipped`] with its [`SkipReason`];
//! * `data-loa-skip` skips an element, `data-loa-read` reads one inside a
//!   skipped part.
//!
//! Pure: no I/O. Linear in the page's size.

pub mod charset;
pub mod hints;
mod jsonld;
mod lines;
mod parse;
mod walk;

use std::collections::{BTreeMap, HashMap, HashSet};

use ego_tree::NodeId;
use scraper::{ElementRef, Html, Selector};
use serde::{Deserialize, Serialize};
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};

pub use charset::Decoded;
use hints::Hints;

/// Selectors a site's config gives (`[sources.sites."host"]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SiteRules {
    /// CSS selector(s) of the article (every match is read, in page order).
    pub body: Option<String>,
    /// CSS selectors of parts never read.
    pub skip: Vec<String>,
}

/// How to read a page.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The page's address; its host picks rules from `sites` (else the
    /// page's canonical link does).
    pub url: Option<String>,
    /// Rules for this page, overriding `sites`.
    pub site: Option<SiteRules>,
    /// Rules by host: `example.gov.vn` or `*.example.gov.vn`.
    pub sites: BTreeMap<String, SiteRules>,
}

/// What a block of the article is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BlockKind {
    Heading(u8),
    Paragraph,
    Item,
    Cell,
}

/// One block of the article (lines inside it were `<br>` breaks).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Block {
    pub text: String,
    pub kind: BlockKind,
    /// The closing author line.
    pub author: bool,
}

/// Why a part of the page is not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SkipReason {
    Outside,
    Tag,
    Attribute,
    Hidden,
    Site,
    Role,
    Class,
    Heading,
    Box,
    Byline,
    DateLine,
    LabelLine,
    Caption,
    Attachment,
}

impl SkipReason {
    /// For people.
    pub fn describe(self) -> &'static str {
        match self {
            SkipReason::Outside => "outside the article",
            SkipReason::Tag => "an element that is never read",
            SkipReason::Attribute => "marked data-loa-skip",
            SkipReason::Hidden => "hidden",
            SkipReason::Site => "a skip selector of the site's config",
            SkipReason::Role => "an ARIA role that is never read",
            SkipReason::Class => "a class or id hint (navigation, toolbar, related links, ads…)",
            SkipReason::Heading => "a heading such as “Tin liên quan” and what follows it",
            SkipReason::Box => "a box headed “Tin liên quan” or the like",
            SkipReason::Byline => "a byline or author line",
            SkipReason::DateLine => "a date or time line",
            SkipReason::LabelLine => "a label line (Lượt xem…)",
            SkipReason::Caption => "an image caption",
            SkipReason::Attachment => "an attachment link",
        }
    }
}

/// A part of the page that is not read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    pub reason: SkipReason,
    /// The tag, hint, role or attribute that decided, when there is one.
    pub detail: String,
    /// The start of its text.
    pub text: String,
}

/// Where the article was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Found {
    Site,
    Hints,
    Article,
    Main,
    Body,
    JsonLd,
}

/// A page, read.
#[derive(Debug, Clone, Serialize)]
pub struct Extracted {
    /// Blocks separated by blank lines.
    pub text: String,
    pub blocks: Vec<Block>,
    pub skipped: Vec<Skipped>,
    pub found: Found,
    /// The page's `<title>` (never read aloud).
    pub title: Option<String>,
    /// The encoding, when the page came as bytes.
    pub encoding: Option<String>,
    /// Problems worth telling a tester (a bad site selector, a JSON-LD body
    /// that differs from the page, markup the parser had to bound).
    pub warnings: Vec<String>,
}

/// The readable article text of an HTML page: blocks separated by blank
/// lines.
pub fn html_to_text(html: &str) -> String {
    extract(html, &Options::default()).text
}

/// [`extract`] for bytes as served: decoded by BOM, `content_type`'s
/// charset, `<meta>`, TCVN3 fonts, UTF-8, else windows-1258.
pub fn extract_bytes(bytes: &[u8], content_type: Option<&str>, opts: &Options) -> Extracted {
    let d = charset::decode(bytes, content_type);
    let mut out = extract(&d.text, opts);
    if d.had_errors {
        out.warnings.push(format!("some bytes are not valid {} and were replaced", d.encoding));
    }
    out.encoding = Some(d.encoding);
    out
}

fn nfc(s: &str) -> std::borrow::Cow<'_, str> {
    if is_nfc_quick(s.chars()) == IsNormalized::Yes { s.into() } else { s.nfc().collect::<String>().into() }
}

/// The host of an `http(s)://` URL, lower case.
pub fn url_host(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit('@').next()?;
    let host = if host.starts_with('[') {
        host.split(']').next()?.trim_start_matches('[')
    } else {
        host.split(':').next()?
    };
    (!host.is_empty()).then(|| host.trim_end_matches('.').to_ascii_lowercase())
}

/// The rules of `sites` for `host`: an exact entry, else the longest
/// `*.suffix` pattern that matches.
pub fn site_for<'a>(sites: &'a BTreeMap<String, SiteRules>, host: &str) -> Option<&'a SiteRules> {
    if let Some(r) = sites.get(host) {
        return Some(r);
    }
    sites
        .iter()
        .filter_map(|(k, r)| {
            let suffix = k.strip_prefix("*.")?;
            (host == suffix || host.ends_with(&format!(".{suffix}"))).then_some((suffix.len(), r))
        })
        .max_by_key(|(n, _)| *n)
        .map(|(_, r)| r)
}

fn parse_selectors(list: &[String], warnings: &mut Vec<String>) -> Vec<Selector> {
    list.iter()
        .filter_map(|s| match Selector::parse(s) {
            Ok(sel) => Some(sel),
            Err(e) => {
                warnings.push(format!("bad CSS selector {s:?} in the site's rules: {e:?}"));
                None
            }
        })
        .collect()
}

/// Nodes in page order (pre-order index).
fn page_order(doc: &Html) -> HashMap<NodeId, usize> {
    doc.tree.root().descendants().enumerate().map(|(i, n)| (n.id(), i)).collect()
}

struct Choice {
    roots: Vec<NodeId>,
    found: Found,
    protect: HashSet<NodeId>,
    page_chrome: bool,
}

/// Choose the element(s) to read.
fn choose(
    doc: &Html,
    lens: &HashMap<NodeId, usize>,
    order: &HashMap<NodeId, usize>,
    site_body: &[Selector],
) -> Choice {
    let hints = Hints::get();
    let len = |id: NodeId| lens.get(&id).copied().unwrap_or(0);
    let pos = |id: NodeId| order.get(&id).copied().unwrap_or(usize::MAX);
    let elements = || doc.tree.root().descendants().filter_map(ElementRef::wrap);
    if !site_body.is_empty() {
        let matched: HashSet<NodeId> =
            elements().filter(|e| site_body.iter().any(|s| s.matches(e))).map(|e| e.id()).collect();
        let mut roots: Vec<NodeId> = matched
            .iter()
            .copied()
            .filter(|id| !doc.tree.get(*id).is_some_and(|n| n.ancestors().any(|a| matched.contains(&a.id()))))
            .collect();
        roots.sort_by_key(|id| pos(*id));
        if !roots.is_empty() {
            return Choice { roots, found: Found::Site, protect: HashSet::new(), page_chrome: false };
        }
    }
    let best = elements()
        .filter(|e| {
            Hints::matches(e, &hints.body).is_some() || hints.body_selectors.iter().any(|s| s.matches(e))
        })
        .max_by_key(|e| (len(e.id()), usize::MAX - pos(e.id())))
        .filter(|e| len(e.id()) > 0);
    let (root, found, best) = match best {
        Some(b) => {
            let container = std::iter::once(b)
                .chain(b.ancestors().filter_map(ElementRef::wrap))
                .find(|a| hints.article_selectors.iter().any(|s| s.matches(a)));
            (container.unwrap_or(b), Found::Hints, Some(b))
        }
        None => {
            let article = elements()
                .filter(|e| e.value().name() == "article")
                .max_by_key(|e| (len(e.id()), usize::MAX - pos(e.id())))
                .filter(|e| len(e.id()) > 0);
            match article {
                Some(a) => (a, Found::Article, None),
                None => {
                    let main = elements()
                        .find(|e| e.value().name() == "main" || e.value().attr("role") == Some("main"))
                        .filter(|e| len(e.id()) > 0);
                    match main {
                        Some(m) => (m, Found::Main, None),
                        None => {
                            let body = elements().find(|e| e.value().name() == "body");
                            let body = body.unwrap_or_else(|| doc.root_element());
                            return Choice {
                                roots: vec![body.id()],
                                found: Found::Body,
                                protect: HashSet::new(),
                                page_chrome: true,
                            };
                        }
                    }
                }
            }
        }
    };
    let mut protect: HashSet<NodeId> = HashSet::new();
    if let Some(b) = best {
        protect.insert(b.id());
        for a in b.ancestors() {
            protect.insert(a.id());
            if a.id() == root.id() {
                break;
            }
        }
    }
    let mut roots = Vec::new();
    let has_h1 = root.descendants().filter_map(ElementRef::wrap).any(|e| e.value().name() == "h1");
    if !has_h1 {
        let root_at = pos(root.id());
        let before = |e: &ElementRef<'_>, tags: &[&str]| {
            tags.contains(&e.value().name()) && pos(e.id()) < root_at && len(e.id()) > 0
        };
        // The last <h1> before the body; else an <h2>/<h3> just before it,
        // inside the body's parent or grandparent (portals title with <h2>).
        let h1 = elements().filter(|e| before(e, &["h1"])).max_by_key(|e| pos(e.id())).or_else(|| {
            let near = root.ancestors().nth(1).or_else(|| root.parent())?;
            near.descendants()
                .filter_map(ElementRef::wrap)
                .filter(|e| before(e, &["h2", "h3"]))
                .max_by_key(|e| pos(e.id()))
        });
        if let Some(h1) = h1 {
            roots.push(h1.id());
            let sapo = elements().find(|e| {
                let p = pos(e.id());
                p > pos(h1.id())
                    && p < root_at
                    && len(e.id()) > 0
                    && !root.ancestors().any(|a| a.id() == e.id())
                    && Hints::matches(e, &hints.standfirst).is_some()
            });
            roots.extend(sapo.map(|s| s.id()));
        }
    }
    roots.push(root.id());
    Choice { roots, found, protect, page_chrome: false }
}

/// The parts of the page around the roots, as "outside the article".
fn outside(doc: &Html, roots: &[NodeId], lens: &HashMap<NodeId, usize>) -> Vec<Skipped> {
    let mut on_path: HashSet<NodeId> = HashSet::new();
    for r in roots {
        if let Some(n) = doc.tree.get(*r) {
            on_path.insert(n.id());
            on_path.extend(n.ancestors().map(|a| a.id()));
        }
    }
    let mut out = Vec::new();
    for id in on_path.iter().copied().collect::<Vec<_>>() {
        let Some(n) = doc.tree.get(id) else { continue };
        if roots.contains(&id) {
            continue;
        }
        for c in n.children() {
            let Some(e) = ElementRef::wrap(c) else { continue };
            if on_path.contains(&c.id())
                || e.value().name() == "head"
                || lens.get(&c.id()).copied().unwrap_or(0) == 0
            {
                continue;
            }
            out.push(Skipped {
                reason: SkipReason::Outside,
                detail: e.value().name().to_string(),
                text: walk::excerpt(c, 120),
            });
        }
    }
    out
}

/// Read the article of `html` (text).
pub fn extract(html: &str, opts: &Options) -> Extracted {
    let html = nfc(html);
    let parsed = parse::document(&html);
    let doc = parsed.html;
    let hints = Hints::get();
    let mut warnings = Vec::new();
    if parsed.dropped_tags > 0 {
        warnings.push(format!(
            "{} start tags nested too deeply were ignored (their text is kept)",
            parsed.dropped_tags
        ));
    }
    let lens = walk::text_lengths(doc.tree.root());
    let order = page_order(&doc);
    let title = Selector::parse("title")
        .ok()
        .and_then(|s| doc.select(&s).next())
        .map(|t| walk::collapse(&t.text().collect::<String>().replace('\n', " ")))
        .filter(|t| !t.is_empty());
    let host =
        opts.url.as_deref().and_then(url_host).or_else(|| canonical(&doc).as_deref().and_then(url_host));
    let site = opts.site.as_ref().or_else(|| host.as_deref().and_then(|h| site_for(&opts.sites, h)));
    let site_body =
        site.and_then(|s| s.body.clone()).map(|b| parse_selectors(&[b], &mut warnings)).unwrap_or_default();
    let site_skip_sel = site.map(|s| parse_selectors(&s.skip, &mut warnings)).unwrap_or_default();
    let site_skip: HashSet<NodeId> = if site_skip_sel.is_empty() {
        HashSet::new()
    } else {
        doc.tree
            .root()
            .descendants()
            .filter_map(ElementRef::wrap)
            .filter(|e| site_skip_sel.iter().any(|s| s.matches(e)))
            .map(|e| e.id())
            .collect()
    };
    let choice = choose(&doc, &lens, &order, &site_body);
    let root_len = choice.roots.iter().map(|r| lens.get(r).copied().unwrap_or(0)).sum();
    let mut walker = walk::Walker::new(walk::Context {
        hints,
        lens: &lens,
        site_skip,
        protect: choice.protect.clone(),
        skip_page_chrome: choice.page_chrome,
        root_len,
    });
    for r in &choice.roots {
        if let Some(n) = doc.tree.get(*r) {
            walker.walk(n);
        }
    }
    let (mut blocks, mut skipped) = walker.finish();
    let mut found = choice.found;
    let mut skipped_all = outside(&doc, &choice.roots, &lens);
    skipped_all.append(&mut skipped);
    let mut skipped = skipped_all;

    // JSON-LD: the fallback when the page shows (almost) nothing, else a cross-check.
    if let Some(ld) = jsonld::find(&doc) {
        let body_chars: usize = blocks
            .iter()
            .filter(|b| !matches!(b.kind, BlockKind::Heading(_)))
            .map(|b| b.text.chars().count())
            .sum();
        if let Some(body) = ld.body.as_deref() {
            let ld_blocks = ld_body_blocks(body);
            let ld_chars: usize = ld_blocks.iter().map(|b| b.text.chars().count()).sum();
            if body_chars < 150 && ld_chars > body_chars {
                let headline = blocks
                    .iter()
                    .find(|b| matches!(b.kind, BlockKind::Heading(_)))
                    .map(|b| b.text.clone())
                    .or(ld.headline.clone());
                for b in std::mem::take(&mut blocks) {
                    skipped.push(Skipped {
                        reason: SkipReason::Outside,
                        detail: "replaced by JSON-LD".into(),
                        text: b.text,
                    });
                }
                blocks.extend(headline.map(|h| Block {
                    text: walk::collapse(&h),
                    kind: BlockKind::Heading(1),
                    author: false,
                }));
                blocks.extend(ld_blocks);
                found = Found::JsonLd;
            } else {
                let probe: String = walk::collapse(body).chars().take(40).collect();
                let page: String = blocks.iter().map(|b| b.text.as_str()).collect::<Vec<_>>().join(" ");
                if !probe.is_empty() && !walk::collapse(&page).contains(&probe) {
                    warnings.push("the page's JSON-LD articleBody does not start like the text read; check that the right part of the page is read".into());
                }
            }
        }
    }
    let text = blocks.iter().map(|b| b.text.as_str()).collect::<Vec<_>>().join("\n\n");
    Extracted { text, blocks, skipped, found, title, encoding: None, warnings }
}

/// The blocks of a JSON-LD `articleBody`: markup is read like a page,
/// plain text is split at line breaks.
fn ld_body_blocks(body: &str) -> Vec<Block> {
    let has_markup = body
        .match_indices('<')
        .any(|(i, _)| body[i + 1..].starts_with(|c: char| c.is_ascii_alphabetic() || c == '/'));
    if has_markup || body.contains('&') {
        let parsed = parse::document(body);
        let doc = parsed.html;
        let lens = walk::text_lengths(doc.tree.root());
        let mut w = walk::Walker::new(walk::Context {
            hints: Hints::get(),
            lens: &lens,
            site_skip: HashSet::new(),
            protect: HashSet::new(),
            skip_page_chrome: false,
            root_len: 0,
        });
        w.walk(*doc.root_element());
        return w.finish().0;
    }
    body.split('\n')
        .map(walk::collapse)
        .filter(|t| !t.is_empty())
        .map(|text| Block { text, kind: BlockKind::Paragraph, author: false })
        .collect()
}

/// The page's canonical address (`<link rel=canonical>` or `og:url`).
fn canonical(doc: &Html) -> Option<String> {
    let link = Selector::parse("link[rel=canonical][href]").ok()?;
    if let Some(l) = doc.select(&link).next() {
        return l.value().attr("href").map(str::to_string);
    }
    let og = Selector::parse("meta[property='og:url'][content]").ok()?;
    doc.select(&og).next().and_then(|m| m.value().attr("content")).map(str::to_string)
}

#[cfg(test)]
mod tests;
