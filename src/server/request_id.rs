//! A request id on every request: a sane incoming `X-Request-Id` (1–128
//! characters of letters, digits and `._:-`, as a proxy or load balancer
//! sets it) is kept, anything else is replaced by 32 random hex digits. The
//! id goes back in the response's `X-Request-Id` and into the request's
//! tracing span ([`span`]), so every log line of the request carries it as
//! `request_id`, and the access line (status, latency) ends the request.

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The id of the request being served (a request extension).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

/// Whether an incoming id is kept as it is.
pub fn sane(id: &str) -> bool {
    (1..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"._:-".contains(&b))
}

fn fresh() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// Middleware: give the request its id (header and extension) and return
/// it on the response.
pub async fn assign(mut request: Request, next: Next) -> Response {
    let id = request.headers().get(&X_REQUEST_ID).and_then(|v| v.to_str().ok()).filter(|s| sane(s));
    let id = id.map_or_else(fresh, str::to_string);
    // Sane ids and hex are valid header values.
    let value = HeaderValue::from_str(&id).unwrap_or_else(|_| HeaderValue::from_static("invalid"));
    request.headers_mut().insert(X_REQUEST_ID.clone(), value.clone());
    request.extensions_mut().insert(RequestId(id));
    let mut response = next.run(request).await;
    response.headers_mut().insert(X_REQUEST_ID.clone(), value);
    response
}

/// The tracing span of one request (for `TraceLayer::make_span_with`).
pub fn span<B>(request: &axum::http::Request<B>) -> tracing::Span {
    let id = request.extensions().get::<RequestId>().map_or("", |r| r.0.as_str());
    tracing::info_span!(
        "request",
        request_id = %id,
        method = %request.method(),
        path = %request.uri().path(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_ids_are_kept() {
        assert!(sane("3f2a-17.b:c_d"));
        assert!(sane(&"a".repeat(128)));
        for bad in ["", "has space", "quote\"", "ünï", "a\nb", &"a".repeat(129)] {
            assert!(!sane(bad), "{bad:?}");
        }
        let a = fresh();
        assert!(sane(&a) && a.len() == 32 && a != fresh());
    }
}
