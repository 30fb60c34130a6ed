//! The one way commands read an article: a FILE, `-` for standard input
//! (the default), or an `http(s)://` URL. Bytes become text here and only
//! here: a leading BOM is dropped, invalid UTF-8 is a bad-input error
//! (exit 2) naming the input and the byte offset, and HTML is recognised
//! once (by `--format`, the file extension or a leading `<`) and reduced to
//! the article's text.

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
    /// The text (BOM removed).
    pub text: String,
    /// Whether it is read as HTML.
    pub html: bool,
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
pub fn read(arg: Option<&Path>, format: InputFormat) -> anyhow::Result<Input> {
    let source = Source::parse(arg);
    let name = source.name();
    let (bytes, content_type_html) = match &source {
        Source::Stdin => {
            let mut buf = Vec::new();
            std::io::stdin().read_to_end(&mut buf).map_err(|e| {
                anyhow::Error::new(Exit { code: 1, message: format!("cannot read standard input: {e}") })
            })?;
            (buf, false)
        }
        Source::File(p) => {
            if p.is_dir() {
                return Err(bad(format!("cannot read {}: it is a directory", p.display())));
            }
            (std::fs::read(p).map_err(|e| bad(format!("cannot read {}: {e}", p.display())))?, false)
        }
        Source::Url(u) => {
            return Err(bad(format!("cannot read {u}: reading URLs is not supported by this build")));
        }
    };
    let text = decode_utf8(bytes, &name)?;
    let html = content_type_html || is_html(format, &name, &text);
    Ok(Input { text, html })
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
    /// The article's text: HTML reduced to what is read aloud.
    pub fn into_article(self) -> Article {
        let text = if self.html { crate::text::html_to_text(&self.text) } else { self.text };
        Article { text }
    }
}

/// [`read`] then [`Input::into_article`].
pub fn article(arg: Option<&Path>, format: InputFormat) -> anyhow::Result<Article> {
    Ok(read(arg, format)?.into_article())
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
