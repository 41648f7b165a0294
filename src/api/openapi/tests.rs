//! The document: its version, and its paths held to the routes.

use super::*;
use crate::router::{Guard, Route, resolve, routes};
use hyper::Method;

fn doc() -> Value {
    serde_json::from_str(text()).expect("the document is JSON")
}

/// The document's path for a route's template (its container id is
/// `container_id`, as in the v1 contract's document).
fn documented(path: &str) -> String {
    path.replace("{id}", "{container_id}")
}

/// Every REST route: method, template, and the route it resolves to.
fn rest_rows() -> Vec<(&'static str, String, Route)> {
    routes()
        .into_iter()
        .map(|(m, p)| {
            let method = Method::from_bytes(m.as_bytes()).unwrap();
            let route = resolve(&method, &p.replace(['{', '}'], ""), true).unwrap();
            (m, p, route)
        })
        .filter(|(_, _, r)| matches!(r.guard(), Guard::Open | Guard::Token))
        .filter(|(_, _, r)| !matches!(r, Route::Ui(_)))
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
fn every_rest_route_is_described_and_nothing_else() {
    let d = doc();
    let rows = rest_rows();
    for (method, path, _) in &rows {
        let op = &d["paths"][documented(path)][method.to_ascii_lowercase()];
        assert!(op.is_object(), "{method} {path} is not in the document");
    }
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
fn the_source_is_compact() {
    assert!(DOCUMENT.lines().all(|l| !l.starts_with(' ')));
    let d: Value = serde_json::from_str(DOCUMENT).unwrap();
    let minified = serde_json::to_string(&d).unwrap().len();
    assert_eq!(
        DOCUMENT.len(),
        minified + DOCUMENT.lines().count(),
        "minified, a line per path or schema"
    );
}
