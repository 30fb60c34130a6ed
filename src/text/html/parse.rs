//! HTML → DOM with html5ever (the WHATWG algorithm browsers use), bounded
//! so that hostile markup costs linear time and memory.
//!
//! html5ever's tree builder scans its stack of open elements for many
//! tags, so 100,000 nested `<div>`s take minutes; and formatting elements
//! that are never closed (`<b class=1>…<b class=2>…`) are re-opened in
//! every later block. A token filter in front of the tree builder drops
//! start tags past a nesting depth (as browsers cap DOM depth) and past a
//! number of unclosed formatting elements, with their end tags. Text is
//! never dropped. Real pages nest far less than either bound.

use std::cell::RefCell;
use std::collections::HashMap;

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::{
    BufferQueue, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};
use html5ever::tree_builder::{TreeBuilder, TreeBuilderOpts};
use html5ever::{LocalName, TokenizerResult, local_name};
use scraper::{Html, HtmlTreeSink};

/// Open elements deeper than this are not created (their content is kept).
pub const MAX_DEPTH: usize = 256;
/// Formatting elements left open at once, at most.
pub const MAX_OPEN_FORMATTING: usize = 8;
/// Misnested formatting end tags (`<b><i></b></i>`) before formatting
/// elements are no longer created at all: each one runs the adoption
/// agency algorithm, whose work grows with what came before.
pub const MAX_MISNESTED: usize = 1000;

fn is_void(name: &LocalName) -> bool {
    matches!(
        *name,
        local_name!("area")
            | local_name!("base")
            | local_name!("br")
            | local_name!("col")
            | local_name!("embed")
            | local_name!("hr")
            | local_name!("img")
            | local_name!("input")
            | local_name!("link")
            | local_name!("meta")
            | local_name!("source")
            | local_name!("track")
            | local_name!("wbr")
            | local_name!("param")
            | local_name!("keygen")
    )
}

fn is_formatting(name: &LocalName) -> bool {
    matches!(
        *name,
        local_name!("a")
            | local_name!("b")
            | local_name!("big")
            | local_name!("code")
            | local_name!("em")
            | local_name!("font")
            | local_name!("i")
            | local_name!("nobr")
            | local_name!("s")
            | local_name!("small")
            | local_name!("strike")
            | local_name!("strong")
            | local_name!("tt")
            | local_name!("u")
    )
}

#[derive(Default)]
struct Bounds {
    /// Our own, approximate stack of open elements (tag names).
    stack: Vec<LocalName>,
    /// Start tags dropped, per name, whose end tags are dropped too.
    dropped: HashMap<LocalName, usize>,
    /// Formatting start tags not yet matched by an end tag, per name.
    formatting_open: HashMap<LocalName, usize>,
    formatting_total: usize,
    misnested: usize,
    /// Start tags dropped in all.
    pub dropped_total: usize,
}

struct Bounded {
    inner: TreeBuilder<ego_tree::NodeId, HtmlTreeSink>,
    bounds: RefCell<Bounds>,
}

impl Bounds {
    /// Whether to pass `token` on to the tree builder.
    fn admit(&mut self, token: &Token) -> bool {
        let Token::TagToken(tag) = token else { return true };
        let name = &tag.name;
        match tag.kind {
            TagKind::StartTag => {
                if is_void(name) || tag.self_closing {
                    return true;
                }
                let formatting = is_formatting(name);
                let too_many =
                    self.formatting_total >= MAX_OPEN_FORMATTING || self.misnested >= MAX_MISNESTED;
                if self.stack.len() >= MAX_DEPTH || (formatting && too_many) {
                    *self.dropped.entry(name.clone()).or_default() += 1;
                    self.dropped_total += 1;
                    return false;
                }
                if formatting {
                    *self.formatting_open.entry(name.clone()).or_default() += 1;
                    self.formatting_total += 1;
                }
                // Raw-text elements hold no tags; the tokenizer leaves them by their end tag.
                self.stack.push(name.clone());
                true
            }
            TagKind::EndTag => {
                if let Some(n) = self.dropped.get_mut(name)
                    && *n > 0
                {
                    *n -= 1;
                    return false;
                }
                if let Some(n) = self.formatting_open.get_mut(name)
                    && *n > 0
                {
                    *n -= 1;
                    self.formatting_total -= 1;
                    if self.stack.last() != Some(name) {
                        self.misnested += 1;
                    }
                }
                if let Some(pos) = self.stack.iter().rposition(|n| n == name) {
                    self.stack.truncate(pos);
                }
                true
            }
        }
    }
}

impl TokenSink for Bounded {
    type Handle = ego_tree::NodeId;

    fn process_token(&self, token: Token, line_number: u64) -> TokenSinkResult<Self::Handle> {
        if !self.bounds.borrow_mut().admit(&token) {
            return TokenSinkResult::Continue;
        }
        self.inner.process_token(token, line_number)
    }

    fn end(&self) {
        self.inner.end();
    }

    fn adjusted_current_node_present_but_not_in_html_namespace(&self) -> bool {
        self.inner.adjusted_current_node_present_but_not_in_html_namespace()
    }
}

/// A parsed document and how many start tags the bounds dropped.
pub struct Parsed {
    pub html: Html,
    pub dropped_tags: usize,
}

fn run(text: &str, tb: TreeBuilder<ego_tree::NodeId, HtmlTreeSink>, opts: TokenizerOpts) -> Parsed {
    let tokenizer = Tokenizer::new(Bounded { inner: tb, bounds: RefCell::default() }, opts);
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(text));
    // Scripts are never run and the encoding is already chosen: a pause
    // for either just continues.
    while !matches!(tokenizer.feed(&input), TokenizerResult::Done) {}
    tokenizer.end();
    let Bounded { inner, bounds } = tokenizer.sink;
    Parsed {
        dropped_tags: bounds.into_inner().dropped_total,
        html: html5ever::tree_builder::TreeSink::finish(inner.sink),
    }
}

/// Parse a whole document.
pub fn document(text: &str) -> Parsed {
    let tb = TreeBuilder::new(HtmlTreeSink::new(Html::new_document()), TreeBuilderOpts::default());
    run(text, tb, TokenizerOpts::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(p: &Parsed, tag: &str) -> usize {
        p.html.tree.nodes().filter(|n| n.value().as_element().is_some_and(|e| e.name() == tag)).count()
    }

    #[test]
    fn depth_and_formatting_are_bounded_and_text_is_kept() {
        let deep = format!("{}x{}", "<div>".repeat(5000), "</div>".repeat(5000));
        let p = document(&deep);
        assert!(count(&p, "div") <= MAX_DEPTH);
        assert!(p.dropped_tags > 4000);
        assert!(p.html.root_element().text().any(|t| t.contains('x')));

        let fmt: String = (0..2000).map(|i| format!("<div><b class=c{i}></div>y")).collect();
        let p = document(&fmt);
        assert!(count(&p, "b") < 2000 * 4, "{} <b> elements", count(&p, "b"));
        assert_eq!(p.html.root_element().text().collect::<String>().matches('y').count(), 2000);
    }

    #[test]
    fn ordinary_markup_is_untouched() {
        let p = document("<p>a <b>b</b> <i>c</i></p><table><tr><td>d</td></tr></table>");
        assert_eq!(p.dropped_tags, 0);
        assert_eq!(count(&p, "td"), 1);
    }
}
