//! Request handlers, one module per group, and the request-body helpers
//! they share (JSON parsing with size, UTF-8 and length checks).

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode, header};
use serde::de::DeserializeOwned;

use super::{ApiError, AppState};

pub mod admin;
pub mod assets;
pub mod audio;
pub mod info;
pub mod openai;
pub mod speech;

/// Any path no route matches.
pub async fn not_found() -> ApiError {
    ApiError::not_found("not_found", "no such endpoint")
}

/// Parse a JSON request body: 413 past the body limit, 400 for bytes that
/// are not UTF-8 or not the expected JSON.
pub fn parse_body<T: DeserializeOwned>(body: Result<Bytes, BytesRejection>) -> Result<T, ApiError> {
    let bytes = body.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::too_large("request body is larger than the configured limit")
        } else {
            ApiError::bad_request("bad_body", r.body_text())
        }
    })?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|e| ApiError::bad_request("invalid_utf8", format!("request body is not UTF-8: {e}")))?;
    serde_json::from_str(text)
        .map_err(|e| ApiError::bad_request("invalid_json", format!("bad JSON body: {e}")))
}

/// The article text of a request that gives `text`, `html` or `url`
/// (exactly one), checked against the configured length limit. HTML is
/// parsed on a blocking thread; a URL is fetched only when the allowlist
/// covers it (403 otherwise, 502 when the site fails).
pub async fn article_text(
    state: &AppState,
    text: Option<String>,
    html: Option<String>,
    url: Option<String>,
) -> Result<String, ApiError> {
    let text = match (text, html, url) {
        (Some(t), None, None) => t,
        (None, Some(h), None) => {
            check_len(state, &h)?;
            tokio::task::spawn_blocking(move || crate::text::html_to_text(&h))
                .await
                .map_err(|e| ApiError::internal(format!("reading the HTML failed: {e}")))?
        }
        (None, None, Some(u)) => url_article(state, &u).await?,
        (None, None, None) => {
            return Err(ApiError::bad_request("missing_text", "give \"text\", \"html\" or \"url\""));
        }
        _ => {
            return Err(ApiError::bad_request(
                "bad_request",
                "give only one of \"text\", \"html\" and \"url\"",
            ));
        }
    };
    check_len(state, &text)?;
    if text.trim().is_empty() {
        return Err(ApiError::bad_request("empty_text", "the text has nothing to read"));
    }
    Ok(text)
}

/// The article at `url` (see [`crate::fetch::fetch_article`]), for any
/// handler that takes a URL.
pub async fn url_article(state: &AppState, url: &str) -> Result<String, ApiError> {
    use crate::fetch::{FetchError, Refusal};
    match crate::fetch::fetch_article(&state.inner().fetcher, url).await {
        Ok(a) => Ok(a.extracted.text),
        Err(FetchError::Refused(r @ (Refusal::BadUrl(_) | Refusal::Scheme(_) | Refusal::Credentials))) => {
            Err(ApiError::bad_request("bad_url", r.to_string()))
        }
        Err(FetchError::Refused(r @ Refusal::NotAllowed { .. })) => {
            Err(ApiError::new(StatusCode::FORBIDDEN, "url_not_allowed", r.to_string()))
        }
        Err(FetchError::Refused(r)) => {
            Err(ApiError::new(StatusCode::FORBIDDEN, "url_refused", r.to_string()))
        }
        Err(e) => Err(ApiError::new(StatusCode::BAD_GATEWAY, "fetch_failed", e.to_string())),
    }
}

fn check_len(state: &AppState, text: &str) -> Result<(), ApiError> {
    let max = state.inner().limits.max_text_chars;
    // Cheap upper bound first: a string of n bytes has at most n chars.
    if text.len() > max && text.chars().count() > max {
        return Err(ApiError::too_large(format!("text is longer than {max} characters")));
    }
    Ok(())
}

/// True when the client prefers a JSON answer to audio bytes.
pub fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json") && !v.contains("audio/"))
}

/// Byte offsets in `text` → UTF-16 offsets (what JavaScript strings use),
/// for ascending positions in one pass.
pub struct Utf16Offsets<'a> {
    text: &'a str,
    byte: usize,
    unit: usize,
}

impl<'a> Utf16Offsets<'a> {
    pub fn new(text: &'a str) -> Self {
        Utf16Offsets { text, byte: 0, unit: 0 }
    }

    /// The UTF-16 offset of byte offset `pos` (clamped to a char boundary).
    pub fn at(&mut self, pos: usize) -> usize {
        let mut pos = pos.min(self.text.len());
        while !self.text.is_char_boundary(pos) {
            pos -= 1;
        }
        if pos < self.byte {
            self.byte = 0;
            self.unit = 0;
        }
        self.unit += self.text[self.byte..pos].encode_utf16().count();
        self.byte = pos;
        self.unit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_offsets_follow_js() {
        let s = "Đọc 𝄞 nội";
        let mut o = Utf16Offsets::new(s);
        assert_eq!(o.at(0), 0);
        let noi = s.find("nội").unwrap();
        assert_eq!(o.at(noi), "Đọc 𝄞 ".encode_utf16().count());
        assert_eq!(o.at(s.len()), s.encode_utf16().count());
        assert_eq!(o.at(5), 2); // back to "Đọ" after going forward
        assert_eq!(o.at(3), 1); // inside "ọ": clamped to its start
    }
}
