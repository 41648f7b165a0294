//! `GET /api/v1/openapi.json`: the OpenAPI 3.1 description of the REST API.
//! The document is `openapi.json` beside this file, written by hand and
//! embedded as it is (compact JSON, one path or schema a line, to keep the
//! binary small); only `info.version` is filled in, with the agent's own.
//! It is open: it describes the API, nothing about the host. The WebSocket
//! and MCP routes are described in prose in `info.description`.

use crate::http::body::{self, Body};
use hyper::header::{CACHE_CONTROL, HeaderValue};
use hyper::{Response, StatusCode};

const DOCUMENT: &str = include_str!("openapi.json");
/// The empty `info.version` of the source: the first `version` in it.
const NO_VERSION: &str = r#""version":"""#;
const VERSION: &str = concat!(r#""version":""#, env!("CARGO_PKG_VERSION"), r#"""#);

/// The document, versioned.
fn text() -> String {
    DOCUMENT.replacen(NO_VERSION, VERSION, 1)
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
mod tests {
    use super::*;
    use crate::http::router::{Guard, ROUTES, resolve};
    use hyper::Method;
    use serde_json::Value;

    fn doc() -> Value {
        serde_json::from_str(&text()).expect("openapi.json is JSON")
    }

    /// The document's path for a row of [`ROUTES`] (its container id is
    /// `container_id`, as in the original's document).
    fn documented(path: &str) -> String {
        path.replace("{id}", "{container_id}")
    }

    /// Every REST row of the route table, with the route it resolves to.
    fn rest_rows() -> Vec<(&'static str, &'static str, crate::http::router::Route)> {
        ROUTES
            .iter()
            .map(|(m, p)| {
                let method = Method::from_bytes(m.as_bytes()).unwrap();
                let route = resolve(&method, &p.replace(['{', '}'], ""), true).unwrap();
                (*m, *p, route)
            })
            // The dashboard's files are pages, not API.
            .filter(|(_, _, r)| matches!(r.guard(), Guard::Open | Guard::Token))
            .filter(|(_, _, r)| !matches!(r, crate::http::router::Route::Ui(_)))
            .collect()
    }

    #[test]
    fn the_version_is_the_agents_and_servers_are_relative() {
        let d = doc();
        assert_eq!(d["openapi"], "3.1.0");
        assert_eq!(d["info"]["version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(d["servers"], serde_json::json!([{"url": "/"}]));
    }

    #[test]
    fn every_rest_route_is_described_with_the_query_parameters_it_takes() {
        let d = doc();
        for (method, path, route) in rest_rows() {
            let op = &d["paths"][documented(path)][method.to_ascii_lowercase()];
            assert!(op.is_object(), "{method} {path} is not in openapi.json");
            let mut names: Vec<String> = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| match p["$ref"].as_str() {
                    Some(r) => d["components"]["parameters"][&r[24..]].clone(),
                    None => p.clone(),
                })
                .filter(|p| p["in"] == "query")
                .map(|p| p["name"].as_str().unwrap().to_string())
                .collect();
            names.sort();
            let mut taken: Vec<&str> = route.params().unwrap().to_vec();
            taken.sort();
            assert_eq!(names, taken, "{method} {path}");
        }
    }

    #[test]
    fn nothing_is_described_that_the_router_does_not_route() {
        let d = doc();
        let rows = rest_rows();
        for (path, item) in d["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                let found = rows
                    .iter()
                    .any(|(m, p, _)| m.eq_ignore_ascii_case(method) && documented(p) == *path);
                assert!(found, "{method} {path} is described but not routed");
            }
        }
    }

    #[test]
    fn the_document_is_compact() {
        assert!(DOCUMENT.lines().all(|l| !l.starts_with(' ')));
        let d: Value = serde_json::from_str(DOCUMENT).unwrap();
        let minified = serde_json::to_string(&d).unwrap().len();
        let lines = DOCUMENT.lines().count();
        assert_eq!(
            DOCUMENT.len(),
            minified + lines,
            "minified, a line per path or schema"
        );
    }
}
