//! `GET /openapi.json`: the OpenAPI 3.0 description of the whole HTTP API,
//! kept by hand in `openapi.json` beside this file (paths, parameters,
//! request and response schemas, error codes).
//!
//! The integration tests hold it to the router: every `.route(…)` under
//! `src/server/` must be documented with its methods, every documented
//! operation must be served, and the JSON answers must have the documented
//! properties, so a route or field added without its documentation fails.

use axum::http::header;
use axum::response::IntoResponse;

/// The document, as served.
pub const DOCUMENT: &str = include_str!("openapi.json");

pub async fn document() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], DOCUMENT)
}
