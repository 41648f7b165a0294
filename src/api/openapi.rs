//! `GET /api/v1/openapi.json`: the OpenAPI 3.1 description of the REST API,
//! assembled once from `openapi.json` beside this file (the agent's own
//! routes and the components every operation shares, written by hand and
//! embedded compact) and each operation's own path item from the catalogue
//! ([`crate::ops`]); `info.version` is the agent's own. It is open: it
//! describes the API, nothing about the host. The WebSocket and MCP routes
//! are described in prose in `info.description`.

use crate::http::body::{self, Body};
use crate::ops::CATALOGUE;
use hyper::header::{CACHE_CONTROL, HeaderValue};
use hyper::{Response, StatusCode};
use serde_json::Value;
use std::sync::OnceLock;

const DOCUMENT: &str = include_str!("openapi.json");

/// The whole document.
pub fn text() -> &'static str {
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(|| {
        let mut doc: Value = serde_json::from_str(DOCUMENT).unwrap_or_default();
        doc["info"]["version"] = env!("CARGO_PKG_VERSION").into();
        for fragment in CATALOGUE.iter().filter_map(|o| o.openapi) {
            let Ok(Value::Object(items)) = serde_json::from_str(fragment) else {
                continue;
            };
            for (path, methods) in items {
                let Value::Object(methods) = methods else {
                    continue;
                };
                let item = doc["paths"][&path].as_object_mut();
                match item {
                    Some(item) => item.extend(methods),
                    None => doc["paths"][&path] = Value::Object(methods),
                }
            }
        }
        serde_json::to_string(&doc).unwrap_or_default()
    })
}

pub fn document() -> Response<Body> {
    let mut resp = body::json_response(StatusCode::OK, body::full(text()));
    resp.headers_mut().insert(
        CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    resp
}

#[cfg(test)]
mod tests;
