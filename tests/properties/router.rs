//! The router ([`resolve`]): every documented route, with an arbitrary id
//! percent-encoded into its path and with or without a trailing slash,
//! resolves to the right [`Route`], and other methods get 405 naming the
//! allowed ones; arbitrary methods and paths never panic and give a
//! consistent answer: a route, 404 whatever the method, or 405 whose `Allow`
//! methods do resolve.

use crate::json::text;
use crate::percent::{Style, encode, style};
use docker_agent::error::Error;
use docker_agent::ops::CATALOGUE;
use docker_agent::router::Asset;
use docker_agent::router::{Route, resolve};
use hyper::Method;
use proptest::prelude::*;
use proptest::sample::{Index, select};

const METHODS: [Method; 7] = [
    Method::GET,
    Method::POST,
    Method::PUT,
    Method::DELETE,
    Method::PATCH,
    Method::HEAD,
    Method::OPTIONS,
];

/// The catalogue's operation `name` on a route, with its parameters.
fn op(name: &str, params: &[(&'static str, &str)]) -> Route {
    let o = CATALOGUE.iter().find(|o| o.name == name).unwrap();
    Route::Op(o, params.iter().map(|(k, v)| (*k, v.to_string())).collect())
}

/// The documented routes (docs/api.md, "Every route"): method, path with the
/// encoded id in place, and the route that carries the decoded id.
fn documented(encoded: &str, id: &str) -> Vec<(Method, String, Route)> {
    let api = |p: &str| format!("/api/v1/{p}");
    let one = |p: &str| api(&p.replace("{id}", encoded));
    let with_id = |name: &str| op(name, &[("id", id)]);
    vec![
        (Method::POST, api("auth/login"), Route::Login),
        (Method::GET, api("auth/check"), Route::AuthCheck),
        (Method::GET, api("containers"), op("list_containers", &[])),
        (
            Method::GET,
            one("containers/{id}"),
            with_id("get_container"),
        ),
        (
            Method::GET,
            one("containers/{id}/logs"),
            with_id("get_container_logs"),
        ),
        (
            Method::POST,
            one("containers/{id}/start"),
            with_id("start_container"),
        ),
        (
            Method::POST,
            one("containers/{id}/stop"),
            with_id("stop_container"),
        ),
        (
            Method::POST,
            one("containers/{id}/restart"),
            with_id("restart_container"),
        ),
        (
            Method::GET,
            one("stats/{id}"),
            with_id("get_container_stats"),
        ),
        (Method::GET, api("images"), op("list_images", &[])),
        (Method::GET, api("version"), op("docker_version", &[])),
        (Method::GET, api("healthz"), Route::Healthz),
        (Method::GET, api("health"), op("docker_health", &[])),
        (Method::GET, one("logs/ws/{id}"), with_id("follow_logs")),
        (Method::GET, one("stats/ws/{id}"), with_id("follow_stats")),
        (Method::GET, api("events/ws"), op("follow_events", &[])),
        (Method::POST, "/mcp".into(), Route::Mcp),
        (Method::DELETE, "/mcp".into(), Route::Mcp),
        (Method::GET, "/mcp/sse".into(), Route::McpSse),
        (Method::POST, "/mcp/messages".into(), Route::McpMessages),
        (Method::GET, "/mcp".into(), Route::Mcp),
        (
            Method::POST,
            one("containers/{id}/pause"),
            with_id("pause_container"),
        ),
        (
            Method::POST,
            one("containers/{id}/unpause"),
            with_id("unpause_container"),
        ),
        (
            Method::POST,
            one("containers/{id}/kill"),
            with_id("kill_container"),
        ),
        (Method::POST, api("containers"), op("create_container", &[])),
        (
            Method::DELETE,
            one("containers/{id}"),
            with_id("remove_container"),
        ),
        (
            Method::POST,
            one("containers/{id}/exec"),
            with_id("exec_in_container"),
        ),
        (Method::GET, one("exec/ws/{id}"), with_id("exec_terminal")),
        (Method::POST, api("images/pull"), op("pull_image", &[])),
        (
            Method::DELETE,
            one("images/{id}"),
            op("remove_image", &[("image", id)]),
        ),
        (Method::GET, api("volumes"), op("list_volumes", &[])),
        (Method::GET, api("networks"), op("list_networks", &[])),
        (Method::GET, "/metrics".into(), Route::Metrics),
        (Method::GET, api("openapi.json"), Route::OpenApi),
    ]
}

fn is_mcp(route: &Route) -> bool {
    matches!(route, Route::Mcp | Route::McpSse | Route::McpMessages)
}

fn method() -> impl Strategy<Value = Method> {
    let extension = "[A-Z]{1,8}".prop_map(|m| Method::from_bytes(m.as_bytes()).unwrap());
    prop_oneof![select(METHODS.to_vec()), extension]
}

/// Paths near the route table, and arbitrary text.
fn path() -> impl Strategy<Value = String> {
    let prefix = select(vec![
        "",
        "/",
        "/api/v1",
        "/api/v1/",
        "/mcp",
        "/mcp/",
        "//api/v1/",
    ]);
    let segment = prop_oneof![
        select(vec![
            "",
            "api",
            "v1",
            "auth",
            "login",
            "check",
            "containers",
            "logs",
            "start",
            "stop",
            "restart",
            "stats",
            "images",
            "version",
            "healthz",
            "health",
            "ws",
            "events",
            "mcp",
            "sse",
            "messages",
            "ui",
            "app.js",
            "app.css",
            "%",
            "%2F",
            "%2f",
            "%zz",
            "%ff",
            "%C3%A9",
            "é",
            "+",
            "..",
        ])
        .prop_map(String::from),
        text(),
    ];
    let near = (prefix, prop::collection::vec(segment, 0..6))
        .prop_map(|(prefix, segments)| format!("{prefix}{}", segments.join("/")));
    prop_oneof![near, any::<String>()]
}

/// A non-empty id with its encoding into a path segment.
fn id() -> impl Strategy<Value = (String, Style)> {
    let id = (any::<char>(), text()).prop_map(|(c, s)| format!("{c}{s}"));
    (
        id,
        style().prop_map(|s| Style {
            plus_for_space: false,
            ..s
        }),
    )
}

fn allowed(allow: &str) -> Vec<Method> {
    allow
        .split(", ")
        .map(|m| Method::from_bytes(m.as_bytes()).unwrap())
        .collect()
}

proptest! {
    #[test]
    fn documented_routes_resolve_with_any_id(
        (id, style) in id(),
        which in any::<Index>(),
        slash in any::<bool>(),
    ) {
        let table = documented(&encode(&id, style), &id);
        let (method, bare, route) = &table[which.index(table.len())];
        let path = if slash { format!("{bare}/") } else { bare.clone() };
        prop_assert_eq!(resolve(method, &path, true), Ok(route.clone()), "{} {}", method, path);
        let want = if is_mcp(route) { Err(Error::RouteNotFound) } else { Ok(route.clone()) };
        prop_assert_eq!(resolve(method, &path, false), want);
        let documented_methods: Vec<&Method> =
            table.iter().filter(|(_, p, _)| p == bare).map(|(m, _, _)| m).collect();
        for other in METHODS.iter().filter(|m| !documented_methods.contains(m)) {
            let Err(Error::MethodNotAllowed(allow)) = resolve(other, &path, true) else {
                return Err(TestCaseError::fail(format!("{other} {path} is not a 405")));
            };
            prop_assert!(allowed(allow).contains(method), "{} not in Allow: {}", method, allow);
        }
    }

    #[test]
    fn arbitrary_requests_get_a_consistent_answer(
        method in method(),
        path in path(),
        mcp in any::<bool>(),
    ) {
        let answer = resolve(&method, &path, mcp);
        match &answer {
            Ok(route) => prop_assert!(mcp || !is_mcp(route), "{:?} with MCP off", route),
            Err(Error::RouteNotFound) => {
                for other in &METHODS {
                    prop_assert_eq!(resolve(other, &path, mcp), Err(Error::RouteNotFound));
                }
            }
            Err(Error::MethodNotAllowed(allow)) => {
                let allowed = allowed(allow);
                prop_assert!(!allowed.contains(&method));
                for ok in &allowed {
                    prop_assert!(resolve(ok, &path, mcp).is_ok(), "{} {} in Allow", ok, path);
                }
            }
            Err(other) => prop_assert!(false, "unexpected {:?}", other),
        }
        let ours = path.starts_with("/api/v1/") || path.starts_with("/mcp");
        if !ours && Asset::at(&path).is_none() {
            prop_assert_eq!(answer.clone(), Err(Error::RouteNotFound));
        }
        if !path.starts_with("/mcp") {
            prop_assert_eq!(answer, resolve(&method, &path, !mcp));
        }
    }
}
