//! The one way commands read an article: a FILE, `-` for standard input
//! (the default), or an `http(s)://` URL (fetched by [`crate::fetch`]: any
//! public address, or one the allowlist names; cached under the cache
//! directory). Bytes become text here and only here: HTML is recognised
//! once (by `--format`, the file extension, an HTML content type or a
//! leading `<`) and decoded by its charset (HTTP header, `<meta>`, TCVN3,
//! windows-1258); plain text must be UTF-8: a leading BOM is dropped and
//! invalid UTF-8 is a bad-input error (exit 2) naming the input and the
//! byte offset. HTML is reduced to the article's text.

use std::io::Read;
use std::path::{Path, PathBuf};

use clap::ValueEnum;

use super::Exit;

/// How to read the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum InputFormat {
    /// HTML when the file ends in .html/.htm or the text starts with "<".
    #[default]
    Auto,
    /// Plain text.
    Text,
    /// An HTML page: only the article's text is read.
    Html,
}

/// Where an input comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Stdin,
    File(PathBuf),
    Url(String),
}

impl Source {
    /// `None` or `-` is standard input; `http://…`/`https://…` a URL.
    pub fn parse(arg: Option<&Path>) -> Source {
        match arg {
            None => Source::Stdin,
            Some(p) if p == Path::new("-") => Source::Stdin,
            Some(p) => match p.to_str() {
                Some(s) if is_url(s) => Source::Url(s.to_string()),
                _ => Source::File(p.to_path_buf()),
            },
        }
    }

    /// How the input is named in messages.
    pub fn name(&self) -> String {
        match self {
            Source::Stdin => "standard input".into(),
            Source::File(p) => p.display().to_string(),
            Source::Url(u) => u.clone(),
        }
    }
}

/// True for an `http://` or `https://` URL (any letter case).
pub fn is_url(s: &str) -> bool {
    let lower = s.get(..8).unwrap_or(s).to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

/// An input read as text.
#[derive(Debug, Clone)]
pub struct Input {
    /// The text (BOM removed; HTML decoded by its charset).
    pub text: String,
    /// Whether it is read as HTML.
    pub html: bool,
    /// How to read it as HTML (its URL and the `[sources.sites]` rules).
    pub options: crate::text::html::Options,
    /// How it is named in messages.
    pub name: String,
    /// The encoding HTML was decoded from.
    pub encoding: Option<String>,
}

/// An article ready for the pipeline: plain text, paragraphs separated by
/// blank lines.
#[derive(Debug, Clone)]
pub struct Article {
    pub text: String,
}

fn bad(message: String) -> anyhow::Error {
    anyhow::Error::new(Exit { code: 2, message })
}

/// Bytes → text: strips a BOM; invalid UTF-8 names the first bad offset.
pub fn decode_utf8(bytes: Vec<u8>, name: &str) -> anyhow::Result<String> {
    let text = String::from_utf8(bytes).map_err(|e| {
        bad(format!("{name} is not valid UTF-8: invalid byte at offset {}", e.utf8_error().valid_up_to()))
    })?;
    Ok(match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_string(),
        None => text,
    })
}

/// Read `arg` (FILE, `-` or URL) as text and decide whether it is HTML.
pub fn read(
    arg: Option<&Path>,
    format: InputFormat,
    config: &crate::config::Config,
) -> anyhow::Result<Input> {
    let source = Source::parse(arg);
    let name = source.name();
    let mut options =
        crate::text::html::Options { url: None, site: None, sites: config.sources.sites.clone() };
    let bytes = match &source {
        Source::Stdin => {
            let mut buf = Vec::new();
            std::io::stdin().read_to_end(&mut buf).map_err(|e| {
                anyhow::Error::new(Exit { code: 1, message: format!("cannot read standard input: {e}") })
            })?;
            buf
        }
        Source::File(p) => {
            if p.is_dir() {
                return Err(bad(format!("cannot read {}: it is a directory", p.display())));
            }
            std::fs::read(p).map_err(|e| bad(format!("cannot read {}: {e}", p.display())))?
        }
        Source::Url(u) => {
            let page = fetch_page(u, config)?;
            options.url = Some(page.final_url.clone());
            let d = crate::text::html::charset::decode(&page.body, page.content_type.as_deref());
            let html = format != InputFormat::Text;
            return Ok(Input { text: d.text, html, options, name, encoding: Some(d.encoding) });
        }
    };
    if is_html_bytes(format, &name, &bytes) {
        let d = crate::text::html::charset::decode(&bytes, None);
        return Ok(Input { text: d.text, html: true, options, name, encoding: Some(d.encoding) });
    }
    let text = decode_utf8(bytes, &name)?;
    let html = is_html(format, &name, &text);
    Ok(Input { text, html, options, name, encoding: None })
}

/// HTML decided from the bytes (before any decoding).
fn is_html_bytes(format: InputFormat, name: &str, bytes: &[u8]) -> bool {
    let start = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let first = start.iter().find(|b| !b.is_ascii_whitespace());
    match format {
        InputFormat::Text => false,
        InputFormat::Html => true,
        InputFormat::Auto => {
            let lower = name.to_ascii_lowercase();
            lower.ends_with(".html") || lower.ends_with(".htm") || first == Some(&b'<')
        }
    }
}

/// Fetch a page for the CLI: any public address, or one the allowlist
/// names; cached (and revalidated) under the cache directory.
pub fn fetch_page(url: &str, config: &crate::config::Config) -> anyhow::Result<crate::fetch::Fetched> {
    let fetcher = cli_fetcher(config)?;
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| {
        anyhow::Error::new(Exit { code: 1, message: format!("cannot start the runtime: {e}") })
    })?;
    rt.block_on(fetcher.fetch(url, crate::fetch::Kind::Page)).map_err(fetch_error)
}

/// The CLI's fetcher (not limited to the allowlist).
pub fn cli_fetcher(config: &crate::config::Config) -> anyhow::Result<crate::fetch::Fetcher> {
    crate::fetch::Fetcher::new(&config.sources, false, Some(&config.cache.dir.join("pages")))
        .map_err(fetch_error)
}

/// A fetch error with its exit code: 2 for a refused URL or bad config, 1 otherwise.
pub fn fetch_error(e: crate::fetch::FetchError) -> anyhow::Error {
    let code = if e.is_refusal() || matches!(e, crate::fetch::FetchError::Config(_)) { 2 } else { 1 };
    anyhow::Error::new(Exit { code, message: e.to_string() })
}

/// True when the input should be read as HTML.
pub fn is_html(format: InputFormat, name: &str, text: &str) -> bool {
    match format {
        InputFormat::Text => false,
        InputFormat::Html => true,
        InputFormat::Auto => {
            let lower = name.to_ascii_lowercase();
            lower.ends_with(".html") || lower.ends_with(".htm") || text.trim_start().starts_with('<')
        }
    }
}

impl Input {
    /// The page read as HTML, with what was skipped and why.
    pub fn extract(&self) -> crate::text::html::Extracted {
        crate::text::html::extract(&self.text, &self.options)
    }

    /// The article's text: HTML reduced to what is read aloud.
    pub fn into_article(self) -> Article {
        let text = if self.html { self.extract().text } else { self.text };
        Article { text }
    }
}

/// [`read`] then [`Input::into_article`].
pub fn article(
    arg: Option<&Path>,
    format: InputFormat,
    config: &crate::config::Config,
) -> anyhow::Result<Article> {
    Ok(read(arg, format, config)?.into_article())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources() {
        assert_eq!(Source::parse(None), Source::Stdin);
        assert_eq!(Source::parse(Some(Path::new("-"))), Source::Stdin);
        assert_eq!(Source::parse(Some(Path::new("HTTPS://a.vn/x"))), Source::Url("HTTPS://a.vn/x".into()));
        assert_eq!(Source::parse(Some(Path::new("http.txt"))), Source::File("http.txt".into()));
    }

    #[test]
    fn utf8_errors_name_the_offset_and_bom_is_dropped() {
        let e = decode_utf8(b"ab\xffc".to_vec(), "x.txt").unwrap_err().to_string();
        assert_eq!(e, "x.txt is not valid UTF-8: invalid byte at offset 2");
        assert_eq!(decode_utf8("\u{feff}Xin".as_bytes().to_vec(), "x").unwrap(), "Xin");
    }

    #[test]
    fn html_is_sniffed_once() {
        assert!(is_html(InputFormat::Auto, "a.HTML", "x"));
        assert!(is_html(InputFormat::Auto, "-", "  <p>x"));
        assert!(!is_html(InputFormat::Text, "a.html", "<p>"));
        assert!(is_html(InputFormat::Html, "a.txt", "x"));
    }
}
