//! Who may make loa speak: the text policy (`server.text_input`), the
//! secrets the service is given in its environment, and the warnings
//! `loa serve` prints when it is exposed without them.
//!
//! * `open`: any text.
//! * `signed`: a `text` (or `html`) must come with `signature` =
//!   hex(HMAC-SHA256(key, SHA-256(text) ‖ voice)), `key` being
//!   `LOA_SIGNING_KEY` and `voice` the request's `voice` field as sent
//!   (empty when it names none). The site computes it when it publishes
//!   the article (`loa sign` does the same); anything else is 403
//!   `bad_signature`. A `url` needs no signature: the allowlist of origins
//!   decides.
//! * `url`: only `{"url": …}` requests; loa fetches the page itself from an
//!   allowlisted origin. A `text` or `html` is 403 `text_not_accepted`.
//!
//! Signatures and the admin token are compared in constant time.

use std::net::SocketAddr;

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

use super::ApiError;
use crate::config::{ServerConfig, TextInput};

type HmacSha256 = Hmac<Sha256>;

/// Secrets read from the environment, never from config files.
#[derive(Clone, Default)]
pub struct Secrets {
    /// `LOA_SIGNING_KEY`: the key of `signed` text.
    pub signing_key: Option<Vec<u8>>,
    /// `LOA_ADMIN_TOKEN`: the bearer token of `/v1/admin/` (no token: no admin API).
    pub admin_token: Option<String>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secrets")
            .field("signing_key", &self.signing_key.as_ref().map(|_| "…"))
            .field("admin_token", &self.admin_token.as_ref().map(|_| "…"))
            .finish()
    }
}

impl Secrets {
    /// `LOA_SIGNING_KEY` and `LOA_ADMIN_TOKEN` (empty values are unset).
    pub fn from_env() -> Secrets {
        Secrets::from_vars(|k| std::env::var(k).ok())
    }

    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Secrets {
        let value = |k| get(k).filter(|v: &String| !v.trim().is_empty());
        Secrets {
            signing_key: value("LOA_SIGNING_KEY").map(String::into_bytes),
            admin_token: value("LOA_ADMIN_TOKEN").map(|t| t.trim().to_string()),
        }
    }
}

fn mac(key: &[u8], text: &str, voice: &str) -> HmacSha256 {
    // HMAC takes keys of any length, so this cannot fail.
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC accepts any key length");
    mac.update(&Sha256::digest(text.as_bytes()));
    mac.update(voice.as_bytes());
    mac
}

/// The signature of `text` read with `voice` ("" for the default voice):
/// lowercase hex of HMAC-SHA256(key, SHA-256(text) ‖ voice).
pub fn sign(key: &[u8], text: &str, voice: &str) -> String {
    hex::encode(mac(key, text, voice).finalize().into_bytes())
}

/// True when `signature` (hex, either case) is the one of `text` and `voice`.
pub fn verify(key: &[u8], text: &str, voice: &str, signature: &str) -> bool {
    match hex::decode(signature.trim()) {
        Ok(tag) => mac(key, text, voice).verify_slice(&tag).is_ok(),
        Err(_) => false,
    }
}

/// True when the `Authorization` header value carries `token` as a bearer token.
pub fn bearer_matches(header: Option<&str>, token: &str) -> bool {
    let Some(given) = header.and_then(|h| {
        let (scheme, rest) = h.trim().split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
    }) else {
        return false;
    };
    // Compare MACs of both under one key: constant time whatever the lengths.
    let tag = |t: &str| {
        let mut m = HmacSha256::new_from_slice(b"loa admin token").expect("any key length");
        m.update(t.as_bytes());
        m
    };
    tag(given).verify(&tag(token).finalize().into_bytes()).is_ok()
}

/// What a request gives to read, for the policy check.
#[derive(Debug, Clone, Copy, Default)]
pub struct TextRequest<'a> {
    pub text: Option<&'a str>,
    pub html: Option<&'a str>,
    pub url: bool,
    pub voice: Option<&'a str>,
    pub signature: Option<&'a str>,
}

/// Whether `policy` lets `req` through: 403 `text_not_accepted` or
/// `bad_signature` otherwise. Missing input is left to the handler's own
/// checks (400).
pub fn check(policy: TextInput, key: Option<&[u8]>, req: &TextRequest<'_>) -> Result<(), ApiError> {
    let words = req.text.or(req.html);
    match policy {
        TextInput::Open => Ok(()),
        TextInput::Url => match words {
            Some(_) => Err(ApiError::forbidden(
                "text_not_accepted",
                "this service reads only pages of the sites it serves: send {\"url\": \"…\"}",
            )),
            None => Ok(()),
        },
        TextInput::Signed => {
            let Some(words) = words else { return Ok(()) };
            let Some(signature) = req.signature.filter(|s| !s.trim().is_empty()) else {
                return Err(ApiError::forbidden(
                    "bad_signature",
                    "this service reads only text signed by the site: send \"signature\" with the text",
                ));
            };
            let Some(key) = key else {
                tracing::error!("server.text_input is \"signed\" but LOA_SIGNING_KEY is not set");
                return Err(ApiError::forbidden("bad_signature", "the signature does not match the text"));
            };
            if verify(key, words, req.voice.unwrap_or(""), signature) {
                Ok(())
            } else {
                Err(ApiError::forbidden(
                    "bad_signature",
                    "the signature does not match the text and voice (sign exactly the text sent, with the voice sent)",
                ))
            }
        }
    }
}

/// Settings `loa serve` refuses to start with.
pub fn startup_errors(config: &ServerConfig, secrets: &Secrets) -> Result<(), String> {
    if config.text_input == TextInput::Signed && secrets.signing_key.is_none() {
        return Err("server.text_input is \"signed\" but LOA_SIGNING_KEY is not set".into());
    }
    super::client::TrustedProxies::parse(&config.trusted_proxies, config.forwarded_header)?;
    Ok(())
}

/// Warnings for an operator about to expose the service on `bound`.
pub fn exposure_warnings(config: &ServerConfig, secrets: &Secrets, bound: SocketAddr) -> Vec<String> {
    let mut out = Vec::new();
    let public = !bound.ip().is_loopback();
    let any_origin = config.cors_origins.iter().any(|o| o.trim() == "*");
    if public && config.text_input == TextInput::Open && any_origin {
        out.push(format!(
            "loa is listening on {bound}, which is not a loopback address, with server.text_input = \"open\" \
             and cors_origins = [\"*\"]: any web page and any program can make it read any text. \
             Set server.text_input to \"signed\" or \"url\" and list your sites in server.cors_origins \
             (README: Deploying on a public site)."
        ));
    }
    if public && config.metrics_address.is_none() && secrets.admin_token.is_none() {
        out.push(format!(
            "GET /metrics is open to anyone who can reach {bound}; set server.metrics_address to a \
             private address or LOA_ADMIN_TOKEN to protect it."
        ));
    }
    if secrets.signing_key.as_ref().is_some_and(|k| k.len() < 32) {
        out.push("LOA_SIGNING_KEY is shorter than 32 characters; use a long random key".into());
    }
    if secrets.admin_token.as_ref().is_some_and(|t| t.len() < 24) {
        out.push("LOA_ADMIN_TOKEN is shorter than 24 characters; use a long random token".into());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_known_answer() {
        // Computed independently with sha256sum and openssl:
        // D=$(printf 'Xin chào.' | sha256sum | cut -d' ' -f1)
        // { printf '%s' "$D" | xxd -r -p; printf vi-espeak; } | openssl dgst -sha256 -hmac k
        let expected = "b28ac90c44d73171ab7f59df803218298f145906c025573872aa55263972c850";
        assert_eq!(sign(b"k", "Xin chào.", "vi-espeak"), expected);
        assert!(verify(b"k", "Xin chào.", "vi-espeak", &expected.to_uppercase()));
        assert!(!verify(b"k", "Xin chào.", "", expected), "the voice is signed too");
        assert!(!verify(b"k", "Xin chào!", "vi-espeak", expected));
        assert!(!verify(b"K", "Xin chào.", "vi-espeak", expected));
        assert!(!verify(b"k", "Xin chào.", "vi-espeak", "zz"));
        assert!(!verify(b"k", "Xin chào.", "vi-espeak", &expected[..62]));
    }

    #[test]
    fn policies() {
        let text = TextRequest { text: Some("Xin chào."), ..TextRequest::default() };
        let url = TextRequest { url: true, ..TextRequest::default() };
        assert!(check(TextInput::Open, None, &text).is_ok());
        let e = check(TextInput::Url, None, &text).unwrap_err();
        assert_eq!((e.status.as_u16(), e.code), (403, "text_not_accepted"));
        let html = TextRequest { html: Some("<p>x</p>"), ..TextRequest::default() };
        assert_eq!(check(TextInput::Url, None, &html).unwrap_err().code, "text_not_accepted");
        assert!(check(TextInput::Url, None, &url).is_ok());
        let key = b"0123456789abcdef0123456789abcdef";
        assert_eq!(check(TextInput::Signed, Some(key), &text).unwrap_err().code, "bad_signature");
        let sig = sign(key, "Xin chào.", "");
        let signed = TextRequest { signature: Some(&sig), ..text };
        assert!(check(TextInput::Signed, Some(key), &signed).is_ok());
        let other_voice = TextRequest { voice: Some("vi-espeak"), ..signed };
        assert_eq!(check(TextInput::Signed, Some(key), &other_voice).unwrap_err().code, "bad_signature");
        assert_eq!(check(TextInput::Signed, None, &signed).unwrap_err().code, "bad_signature");
        assert!(check(TextInput::Signed, Some(key), &url).is_ok());
    }

    #[test]
    fn bearer_tokens() {
        assert!(bearer_matches(Some("Bearer s3cret"), "s3cret"));
        assert!(bearer_matches(Some("bearer  s3cret "), "s3cret"));
        assert!(!bearer_matches(Some("Bearer s3cre"), "s3cret"));
        assert!(!bearer_matches(Some("Basic s3cret"), "s3cret"));
        assert!(!bearer_matches(Some("s3cret"), "s3cret"));
        assert!(!bearer_matches(None, "s3cret"));
    }

    #[test]
    fn warns_when_exposed_openly() {
        let config = ServerConfig::default();
        let secrets = Secrets::default();
        let public: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        let local: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let w = exposure_warnings(&config, &secrets, public);
        assert!(w.iter().any(|m| m.contains("text_input = \"open\"") && m.contains("cors_origins")), "{w:?}");
        assert!(w.iter().any(|m| m.contains("/metrics")), "{w:?}");
        assert!(exposure_warnings(&config, &secrets, local).is_empty());
        let safe = ServerConfig {
            text_input: TextInput::Url,
            cors_origins: vec!["https://bao.example".into()],
            metrics_address: Some("127.0.0.1:9090".into()),
            ..ServerConfig::default()
        };
        assert!(exposure_warnings(&safe, &secrets, public).is_empty());
        let signed = ServerConfig { text_input: TextInput::Signed, ..ServerConfig::default() };
        assert!(startup_errors(&signed, &secrets).unwrap_err().contains("LOA_SIGNING_KEY"));
        let env = Secrets::from_vars(|k| (k == "LOA_SIGNING_KEY").then(|| "k".to_string()));
        assert!(startup_errors(&signed, &env).is_ok());
    }
}
