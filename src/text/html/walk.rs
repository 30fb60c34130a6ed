//! One pass over the chosen roots of a parsed page: text into blocks
//! (paragraphs, headings, list items, table cells), every part that is not
//! read recorded with its reason. Iterative (no recursion, so deep nesting
//! cannot overflow the stack) and linear: every node is visited once, and
//! the few look-aheads (a heading's text, a box's first child) are bounded.

use std::collections::{HashMap, HashSet};

use ego_tree::iter::Edge;
use ego_tree::{NodeId, NodeRef};
use scraper::{ElementRef, Node, Selector};

use super::hints::Hints;
use super::lines;
use super::{Block, BlockKind, SkipReason, Skipped};

/// Elements that start and end a block of text.
pub fn is_block(tag: &str) -> bool {
    matches!(
        tag,
        "p" | "div"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "li"
            | "ul"
            | "ol"
            | "table"
            | "thead"
            | "tbody"
            | "tfoot"
            | "tr"
            | "td"
            | "th"
            | "caption"
            | "figure"
            | "figcaption"
            | "blockquote"
            | "section"
            | "article"
            | "header"
            | "footer"
            | "aside"
            | "nav"
            | "main"
            | "pre"
            | "hr"
            | "dl"
            | "dt"
            | "dd"
            | "address"
            | "details"
            | "summary"
            | "form"
            | "fieldset"
            | "center"
    )
}

/// Never text to read (or code), whatever the hints say.
fn never_read(tag: &str) -> bool {
    matches!(
        tag,
        "script"
            | "style"
            | "noscript"
            | "template"
            | "head"
            | "title"
            | "meta"
            | "link"
            | "textarea"
            | "select"
            | "option"
            | "input"
            | "button"
            | "iframe"
            | "object"
            | "embed"
            | "canvas"
            | "svg"
            | "math"
            | "map"
    )
}

pub fn heading_level(tag: &str) -> Option<u8> {
    match tag.as_bytes() {
        [b'h', d @ b'1'..=b'6'] => Some(d - b'0'),
        _ => None,
    }
}

/// Non-whitespace characters of text under each element (scripts, styles
/// and templates not counted), computed in one pass.
pub fn text_lengths(root: NodeRef<'_, Node>) -> HashMap<NodeId, usize> {
    let mut lens = HashMap::new();
    let mut stack: Vec<usize> = Vec::new();
    let mut ignore = 0usize;
    for edge in root.traverse() {
        match edge {
            Edge::Open(n) => match n.value() {
                Node::Element(e) => {
                    if ignore > 0 || never_read(e.name()) {
                        ignore += 1;
                    }
                    stack.push(0);
                }
                Node::Text(t) if ignore == 0 => {
                    if let Some(top) = stack.last_mut() {
                        *top += t.chars().filter(|c| !c.is_whitespace()).count();
                    }
                }
                _ => {}
            },
            Edge::Close(n) => {
                if let Node::Element(_) = n.value() {
                    let v = stack.pop().unwrap_or(0);
                    ignore = ignore.saturating_sub(1);
                    lens.insert(n.id(), v);
                    if let Some(top) = stack.last_mut() {
                        *top += v;
                    }
                }
            }
        }
    }
    lens
}

/// Up to `max` characters of the text under `node`, visiting at most 2,000
/// nodes, whitespace collapsed.
pub fn excerpt(node: NodeRef<'_, Node>, max: usize) -> String {
    let mut out = String::new();
    let mut ignore = 0usize;
    for (visited, edge) in node.traverse().enumerate() {
        if visited > 4000 || out.len() > max * 4 {
            break;
        }
        match edge {
            Edge::Open(n) => match n.value() {
                Node::Element(e) => {
                    if ignore > 0 || never_read(e.name()) {
                        ignore += 1;
                    } else if is_block(e.name()) || e.name() == "br" {
                        out.push(' ');
                    }
                }
                Node::Text(t) if ignore == 0 => out.push_str(t),
                _ => {}
            },
            Edge::Close(n) => {
                if n.value().is_element() && ignore > 0 {
                    ignore -= 1;
                }
            }
        }
    }
    let mut s = collapse(&out.replace('\n', " "));
    if s.chars().count() > max {
        s = s.chars().take(max).collect::<String>() + "…";
    }
    s
}

fn on(el: &ElementRef<'_>, attr: &str) -> bool {
    el.value().attr(attr).is_some_and(|v| !v.trim().eq_ignore_ascii_case("false"))
}

/// Why `el` is hidden, if it is.
fn hidden(el: &ElementRef<'_>, hints: &Hints) -> Option<String> {
    let v = el.value();
    if v.attr("hidden").is_some() {
        return Some("hidden attribute".into());
    }
    if v.attr("aria-hidden").is_some_and(|a| a.trim().eq_ignore_ascii_case("true")) {
        return Some("aria-hidden".into());
    }
    if let Some(style) = v.attr("style") {
        let s: String = style.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_lowercase();
        for bad in ["display:none", "visibility:hidden", "visibility:collapse"] {
            if s.split(';').any(|decl| decl.trim_end_matches("!important") == bad) {
                return Some(format!("style {bad}"));
            }
        }
    }
    hints.hidden_class(el).map(|c| format!("class {c}"))
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    Read,
    /// Not read, but a `data-loa-read` part inside is.
    Soft,
    /// Nothing inside is read.
    Hard,
}

struct Frame {
    id: NodeId,
    mode: Mode,
    block: bool,
    emph: bool,
    link: bool,
    separate: bool,
    author: bool,
    /// After a skipped "Tin liên quan" heading of this level: later
    /// children are skipped up to a heading of this level or higher.
    skip_below: Option<u8>,
}

#[derive(Default)]
struct Buf {
    text: String,
    chars: usize,
    emph_chars: usize,
    link_chars: usize,
    href: Option<String>,
    image: bool,
    /// Right-aligned (a closing author line, never a caption).
    right: bool,
    kind: Option<BlockKind>,
}

/// What a walk over one page needs to know besides the hints.
pub struct Context<'a> {
    pub hints: &'a Hints,
    pub lens: &'a HashMap<NodeId, usize>,
    /// Nodes the site's skip selectors match.
    pub site_skip: HashSet<NodeId>,
    /// Ancestors of the article body: never skipped.
    pub protect: HashSet<NodeId>,
    /// Skip `<header>`/`<footer>` (when the root is the whole page).
    pub skip_page_chrome: bool,
    /// Text of the roots together (for the whole-page `<form>` rule).
    pub root_len: usize,
}

pub struct Walker<'a> {
    cx: Context<'a>,
    pub blocks: Vec<Block>,
    pub skipped: Vec<Skipped>,
    buf: Buf,
    frames: Vec<Frame>,
    prev_image_only: bool,
    seen_body: bool,
}

impl<'a> Walker<'a> {
    pub fn new(cx: Context<'a>) -> Walker<'a> {
        Walker {
            cx,
            blocks: Vec::new(),
            skipped: Vec::new(),
            buf: Buf::default(),
            frames: Vec::new(),
            prev_image_only: false,
            seen_body: false,
        }
    }

    fn len(&self, id: NodeId) -> usize {
        self.cx.lens.get(&id).copied().unwrap_or(0)
    }

    fn skip(&mut self, node: NodeRef<'_, Node>, reason: SkipReason, detail: impl Into<String>) {
        if self.len(node.id()) > 0 {
            self.skipped.push(Skipped { reason, detail: detail.into(), text: excerpt(node, 160) });
        }
    }

    /// Why `el` is not read: (reason, detail, hard).
    fn reason(&self, el: &ElementRef<'_>) -> Option<(SkipReason, String, bool)> {
        let hints = self.cx.hints;
        let tag = el.value().name();
        if never_read(tag) {
            return Some((SkipReason::Tag, tag.to_string(), true));
        }
        if on(el, &hints.skip_attribute) {
            return Some((SkipReason::Attribute, hints.skip_attribute.clone(), true));
        }
        if let Some(why) = hidden(el, hints) {
            return Some((SkipReason::Hidden, why, true));
        }
        if on(el, &hints.read_attribute) || self.cx.protect.contains(&el.id()) {
            return None;
        }
        if self.cx.site_skip.contains(&el.id()) {
            return Some((SkipReason::Site, String::new(), false));
        }
        if tag == "figcaption" {
            return Some((SkipReason::Caption, tag.to_string(), false));
        }
        if hints.skip_tags.contains(tag) {
            // ASP.NET pages wrap everything in one <form>.
            let page_form = tag == "form" && self.len(el.id()) * 2 > self.cx.root_len;
            if !page_form {
                return Some((SkipReason::Tag, tag.to_string(), false));
            }
        }
        if self.cx.skip_page_chrome && matches!(tag, "header" | "footer") {
            return Some((SkipReason::Tag, tag.to_string(), false));
        }
        if let Some(role) = el.value().attr("role")
            && let Some(r) =
                role.split_whitespace().find(|r| hints.skip_roles.contains(&r.to_ascii_lowercase()))
        {
            return Some((SkipReason::Role, r.to_string(), false));
        }
        if let Some(sel) = hints.skip_selectors.iter().find(|s| s.matches(el)) {
            return Some((SkipReason::Class, selector_name(sel), false));
        }
        let read_anyway =
            Hints::matches(el, &hints.body).is_some() || Hints::matches(el, &hints.standfirst).is_some();
        if Hints::matches(el, &hints.author).is_some() && !read_anyway {
            if !self.seen_body {
                return Some((SkipReason::Byline, String::new(), false));
            }
            return None; // a closing author line; see `Frame::author`
        }
        if !read_anyway && let Some(w) = Hints::matches(el, &hints.skip_classes) {
            return Some((SkipReason::Class, w.join("-"), false));
        }
        if is_block(tag) && self.box_heading(el) {
            return Some((SkipReason::Box, String::new(), false));
        }
        None
    }

    /// True when the first child of `el` with text is a heading-like
    /// element saying "Tin liên quan" or the like.
    fn box_heading(&self, el: &ElementRef<'_>) -> bool {
        let Some(first) = el.children().find(|c| match c.value() {
            Node::Element(_) => self.len(c.id()) > 0,
            Node::Text(t) => !t.trim().is_empty(),
            _ => false,
        }) else {
            return false;
        };
        let Some(fe) = ElementRef::wrap(first) else { return false };
        let tag = fe.value().name();
        let heading_like = heading_level(tag).is_some()
            || matches!(tag, "strong" | "b")
            || fe.value().attr("role") == Some("heading")
            || Hints::matches(&fe, &[vec!["title".into()], vec!["heading".into()], vec!["header".into()]])
                .is_some();
        heading_like && self.len(first.id()) <= 60 && self.cx.hints.is_skip_text(&excerpt(first, 80))
    }

    fn flush(&mut self) {
        let buf = std::mem::take(&mut self.buf);
        let text = collapse(&buf.text);
        if text.is_empty() {
            if buf.image {
                self.prev_image_only = true;
            }
            return;
        }
        let after_image = std::mem::take(&mut self.prev_image_only);
        let author = self.frames.iter().any(|f| f.author);
        let short = text.chars().count() <= 200;
        let lower = text.to_lowercase();
        let reason = if lines::is_date_line(&text) {
            Some(SkipReason::DateLine)
        } else if self.cx.hints.is_label_line(&text) {
            Some(SkipReason::LabelLine)
        } else if short
            && !buf.right
            && (buf.image || after_image)
            && (buf.emph_chars * 10 >= buf.chars * 9
                || self.cx.hints.caption_prefixes.iter().any(|p| lower.starts_with(p.as_str())))
        {
            Some(SkipReason::Caption)
        } else if lines::is_attachment(&text, buf.href.as_deref(), buf.link_chars * 10 >= buf.chars * 9) {
            Some(SkipReason::Attachment)
        } else {
            None
        };
        if let Some(reason) = reason {
            self.skipped.push(Skipped { reason, detail: String::new(), text });
            return;
        }
        let kind = buf.kind.unwrap_or(BlockKind::Paragraph);
        if !matches!(kind, BlockKind::Heading(_)) && text.chars().count() >= 40 && !author {
            self.seen_body = true;
        }
        self.blocks.push(Block { text, kind, author });
    }

    fn push_text(&mut self, t: &str) {
        let n = t.chars().filter(|c| !c.is_whitespace()).count();
        let (emph, link) = self.frames.last().map_or((false, false), |f| (f.emph, f.link));
        self.buf.chars += n;
        if emph {
            self.buf.emph_chars += n;
        }
        if link {
            self.buf.link_chars += n;
        }
        self.buf.text.push_str(t);
    }

    /// Walk one root (itself always read).
    pub fn walk(&mut self, root: NodeRef<'_, Node>) {
        self.flush();
        for edge in root.traverse() {
            match edge {
                Edge::Open(node) => self.open(node, node.id() == root.id()),
                Edge::Close(node) => self.close(node),
            }
        }
        self.flush();
    }

    fn open(&mut self, node: NodeRef<'_, Node>, is_root: bool) {
        let parent_mode = self.frames.last().map_or(Mode::Read, |f| f.mode);
        match node.value() {
            Node::Text(t) if parent_mode == Mode::Read => {
                let t: &str = t;
                self.push_text(t);
            }
            Node::Element(_) => {
                let el = ElementRef::wrap(node).expect("an element");
                let tag = el.value().name();
                let level = heading_level(tag);
                let mut mode = parent_mode;
                let mut below_skipped = false;
                if let Some(parent) = self.frames.last_mut()
                    && let Some(lim) = parent.skip_below
                {
                    if level.is_some_and(|l| l <= lim) {
                        parent.skip_below = None;
                    } else {
                        below_skipped = true;
                    }
                }
                let mut skip_after: Option<u8> = None;
                if !is_root && mode != Mode::Hard {
                    let why = if below_skipped && mode == Mode::Read {
                        Some((SkipReason::Heading, String::new(), false))
                    } else {
                        self.reason(&el)
                    };
                    let heading_skip = why.is_none()
                        && mode == Mode::Read
                        && level.is_some()
                        && self.len(node.id()) <= 60
                        && self.cx.hints.is_skip_text(&excerpt(node, 80));
                    match (mode, why) {
                        (Mode::Read, Some((reason, detail, hard))) => {
                            self.skip(node, reason, detail);
                            mode = if hard { Mode::Hard } else { Mode::Soft };
                        }
                        (Mode::Read, None) if heading_skip => {
                            self.skip(node, SkipReason::Heading, String::new());
                            skip_after = level;
                            mode = Mode::Soft;
                        }
                        (Mode::Soft, why) => {
                            let hard = why.as_ref().is_some_and(|w| w.2);
                            if !hard && on(&el, &self.cx.hints.read_attribute) {
                                mode = Mode::Read;
                            }
                        }
                        _ => {}
                    }
                }
                let block = is_block(tag);
                if mode == Mode::Read {
                    if block {
                        self.flush();
                        self.buf.kind = Some(match (level, tag) {
                            (Some(l), _) => BlockKind::Heading(l),
                            (_, "li" | "dd" | "dt") => BlockKind::Item,
                            (_, "td" | "th") => BlockKind::Cell,
                            _ => BlockKind::Paragraph,
                        });
                    }
                    if right_aligned(&el) {
                        self.buf.right = true;
                    }
                    match tag {
                        "br" => self.buf.text.push('\n'),
                        "img" | "amp-img" | "picture" => self.buf.image = true,
                        _ => {}
                    }
                }
                let hints = self.cx.hints;
                let parent = self.frames.last();
                let frame = Frame {
                    id: node.id(),
                    mode,
                    block,
                    emph: parent.is_some_and(|p| p.emph) || matches!(tag, "em" | "i"),
                    link: parent.is_some_and(|p| p.link) || tag == "a",
                    separate: Hints::matches(&el, &hints.separate_classes).is_some(),
                    author: parent.is_some_and(|p| p.author)
                        || (mode == Mode::Read
                            && !is_root
                            && self.seen_body
                            && Hints::matches(&el, &hints.author).is_some()),
                    skip_below: None,
                };
                if mode == Mode::Read && tag == "a" {
                    self.buf.href = el.value().attr("href").map(str::to_string);
                }
                self.frames.push(frame);
                if let (Some(l), Some(parent)) = (skip_after, self.frames.iter_mut().rev().nth(1)) {
                    parent.skip_below = Some(l);
                }
            }
            _ => {}
        }
    }

    fn close(&mut self, node: NodeRef<'_, Node>) {
        if !matches!(node.value(), Node::Element(_)) {
            return;
        }
        let Some(frame) = self.frames.pop() else { return };
        debug_assert_eq!(frame.id, node.id());
        if frame.mode != Mode::Read {
            return;
        }
        if frame.separate {
            self.buf.text.push_str(" - ");
        }
        if frame.block {
            // Keep the author flag for the block that ends here.
            self.frames.push(frame);
            self.flush();
            self.frames.pop();
        }
    }

    /// The blocks, with author lines that are not the closing line dropped.
    pub fn finish(mut self) -> (Vec<Block>, Vec<Skipped>) {
        self.flush();
        let last_plain = self.blocks.iter().rposition(|b| !b.author);
        let mut blocks = Vec::with_capacity(self.blocks.len());
        for (i, b) in self.blocks.into_iter().enumerate() {
            let closing = last_plain.is_none_or(|p| i > p) && b.text.chars().count() <= 80;
            if b.author && !closing {
                self.skipped.push(Skipped {
                    reason: SkipReason::Byline,
                    detail: String::new(),
                    text: b.text,
                });
            } else {
                blocks.push(b);
            }
        }
        (blocks, self.skipped)
    }
}

fn right_aligned(el: &ElementRef<'_>) -> bool {
    let v = el.value();
    v.attr("align").is_some_and(|a| a.trim().eq_ignore_ascii_case("right"))
        || v.attr("style")
            .is_some_and(|st| st.to_ascii_lowercase().replace(' ', "").contains("text-align:right"))
}

fn selector_name(sel: &Selector) -> String {
    format!("{sel:?}").chars().take(60).collect()
}

/// Whitespace collapsed per line (NBSP and friends are spaces, zero-width
/// characters and soft hyphens vanish), empty lines dropped.
pub fn collapse(s: &str) -> String {
    let cleaned: String = s
        .chars()
        .filter(|c| !matches!(c, '\u{200b}' | '\u{200c}' | '\u{2060}' | '\u{feff}' | '\u{ad}'))
        .map(|c| if c != '\n' && c.is_whitespace() { ' ' } else { c })
        .collect();
    cleaned
        .split('\n')
        .map(|l| l.split(' ').filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}
