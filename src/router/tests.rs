//! The route table: every row resolves to its route with its parameters,
//! trailing slashes, decoding, methods, classes and guards.

use super::*;

fn get(path: &str) -> Result<Route, Error> {
    resolve(&Method::GET, path, true)
}

fn resolve_post(path: &str) -> Result<Route, Error> {
    resolve(&Method::POST, path, true)
}

/// The operation a route runs, and its parameters.
fn op(route: Result<Route, Error>) -> (&'static str, Params) {
    match route {
        Ok(Route::Op(o, params)) => (o.name, params),
        other => panic!("not an operation: {other:?}"),
    }
}

fn id(value: &str) -> Params {
    vec![("id", value.to_string())]
}

#[test]
fn mcp_routes_exist_only_when_enabled() {
    assert_eq!(resolve_post("/mcp"), Ok(Route::Mcp));
    assert_eq!(resolve(&Method::DELETE, "/mcp/", true), Ok(Route::Mcp));
    assert_eq!(get("/mcp"), Ok(Route::Mcp));
    assert_eq!(
        resolve(&Method::PUT, "/mcp", true),
        Err(Error::MethodNotAllowed("GET, POST, DELETE"))
    );
    assert_eq!(get("/mcp/sse"), Ok(Route::McpSse));
    assert_eq!(resolve_post("/mcp/messages/"), Ok(Route::McpMessages));
    assert_eq!(resolve_post("/mcp/messages"), Ok(Route::McpMessages));
    assert_eq!(
        resolve(&Method::POST, "/mcp", false),
        Err(Error::RouteNotFound)
    );
    assert_eq!(
        resolve(&Method::GET, "/mcp/sse", false),
        Err(Error::RouteNotFound)
    );
    assert_eq!(get("/mcpx"), Err(Error::RouteNotFound));
    assert_eq!(Route::Mcp.guard(), Guard::McpKey);
}

#[test]
fn list_routes_answer_with_and_without_trailing_slash() {
    for path in ["/api/v1/containers/", "/api/v1/containers"] {
        assert_eq!(op(get(path)), ("list_containers", vec![]));
    }
    for path in ["/api/v1/images", "/api/v1/images/"] {
        assert_eq!(op(get(path)), ("list_images", vec![]));
    }
    assert_eq!(get("/api/v1/healthz/"), Ok(Route::Healthz));
}

#[test]
fn container_routes_carry_the_decoded_id() {
    assert_eq!(
        op(get("/api/v1/containers/web")),
        ("get_container", id("web"))
    );
    assert_eq!(
        op(get("/api/v1/containers/a%2Fb/logs")),
        ("get_container_logs", id("a/b"))
    );
    assert_eq!(
        op(get("/api/v1/stats/abc123")),
        ("get_container_stats", id("abc123"))
    );
    assert_eq!(
        op(resolve_post("/api/v1/containers/web/restart")),
        ("restart_container", id("web"))
    );
}

#[test]
fn unknown_paths_are_404_and_wrong_methods_405() {
    for p in [
        "/ui/",
        "/ui/app.js/",
        "/api/v2/containers",
        "/api/v1",
        "/api/v1/nope",
        "/api/v1/containers/web/frobnicate",
        "/api/v1/containers/a/b/c/d",
        "/api/v1//containers",
    ] {
        assert_eq!(get(p), Err(Error::RouteNotFound), "{p}");
    }
    assert_eq!(
        resolve(&Method::PUT, "/api/v1/containers/", true),
        Err(Error::MethodNotAllowed("GET, POST"))
    );
    assert_eq!(
        get("/api/v1/auth/login"),
        Err(Error::MethodNotAllowed("POST"))
    );
    assert_eq!(
        resolve(&Method::PUT, "/api/v1/containers/x", true),
        Err(Error::MethodNotAllowed("GET, DELETE"))
    );
    assert_eq!(
        get("/api/v1/images/alpine"),
        Err(Error::MethodNotAllowed("DELETE"))
    );
    assert_eq!(get("/api/v1/images/a//b"), Err(Error::RouteNotFound));
}

#[test]
fn lifecycle_routes_share_their_paths_by_method() {
    assert_eq!(
        op(resolve_post("/api/v1/containers")),
        ("create_container", vec![])
    );
    let delete = |p: &str| resolve(&Method::DELETE, p, true);
    assert_eq!(
        op(delete("/api/v1/containers/web")),
        ("remove_container", id("web"))
    );
    let image = |v: &str| vec![("image", v.to_string())];
    assert_eq!(
        op(delete("/api/v1/images/registry.local:5000/team/app:1")),
        ("remove_image", image("registry.local:5000/team/app:1"))
    );
    assert_eq!(
        op(delete("/api/v1/images/registry.local%3A5000%2Fapp")),
        ("remove_image", image("registry.local:5000/app"))
    );
    for r in [
        resolve_post("/api/v1/containers"),
        delete("/api/v1/containers/x"),
        delete("/api/v1/images/x"),
    ] {
        let r = r.unwrap();
        assert_eq!((r.class(), r.guard()), (Some(Class::Action), Guard::Token));
    }
}

#[test]
fn classes_and_auth_requirements() {
    assert_eq!(Route::Login.class(), Some(Class::Login));
    let stop = resolve_post("/api/v1/containers/x/stop").unwrap();
    assert_eq!(stop.class(), Some(Class::Action));
    assert_eq!(get("/api/v1/images").unwrap().class(), Some(Class::Read));
    let pull = resolve_post("/api/v1/images/pull").unwrap();
    assert_eq!(
        (op(Ok(pull.clone())).0, pull.class()),
        ("pull_image", Some(Class::Action))
    );
    assert_eq!(
        get("/api/v1/images/pull"),
        Err(Error::MethodNotAllowed("POST"))
    );
    assert_eq!(Route::Healthz.class(), None);
    assert_eq!(Route::Login.guard(), Guard::Open);
    assert_eq!(Route::Healthz.guard(), Guard::Open);
    assert_eq!(
        (Route::OpenApi.class(), Route::OpenApi.guard()),
        (Some(Class::Read), Guard::Open)
    );
    assert_eq!(get("/api/v1/health").unwrap().guard(), Guard::Token);
    assert_eq!(Route::AuthCheck.guard(), Guard::Token);
    let events = get("/api/v1/events/ws").unwrap();
    assert_eq!(
        (events.guard(), events.class()),
        (Guard::StreamToken, Some(Class::Read))
    );
    let exec = resolve_post("/api/v1/containers/x/exec").unwrap();
    let terminal = get("/api/v1/exec/ws/x").unwrap();
    assert_eq!(
        (exec.class(), exec.guard()),
        (Some(Class::Action), Guard::Token)
    );
    assert_eq!(
        (terminal.class(), terminal.guard()),
        (Some(Class::Action), Guard::StreamToken)
    );
}

#[test]
fn every_row_of_the_table_resolves_to_a_route_carrying_its_parameter() {
    let all = routes();
    let own_and_pages = OWN.len() + 3;
    let catalogue = CATALOGUE
        .iter()
        .filter(|o| o.rest.is_some() || o.stream.is_some());
    assert_eq!(all.len(), own_and_pages + catalogue.count());
    for (method, path) in all {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let path_of = |id: &str| path.replace("{id}", id).replace("{image}", id);
        let route = resolve(&method, &path_of("web"), true).unwrap();
        if path.contains('{') {
            let other = resolve(&method, &path_of("a%2Fb"), true).unwrap();
            assert_ne!(other, route, "{path}: the parameter is carried");
        }
    }
}

#[test]
fn dashboard_routes_are_open_and_get_only() {
    assert_eq!(get("/"), Ok(Route::Ui(Asset::Page)));
    assert_eq!(get("/ui/app.css"), Ok(Route::Ui(Asset::Style)));
    assert_eq!(resolve_post("/"), Err(Error::MethodNotAllowed("GET")));
    let page = Route::Ui(Asset::Script);
    assert_eq!(
        (page.class(), page.guard()),
        (Some(Class::Overall), Guard::Open)
    );
}

#[test]
fn metrics_is_a_read_route_outside_the_api_prefix() {
    assert_eq!(get("/metrics"), Ok(Route::Metrics));
    assert_eq!(get("/metrics/"), Ok(Route::Metrics));
    assert_eq!(
        resolve_post("/metrics"),
        Err(Error::MethodNotAllowed("GET"))
    );
    assert_eq!(get("/metricsx"), Err(Error::RouteNotFound));
    assert_eq!(get("/api/v1/metrics"), Err(Error::RouteNotFound));
    let m = Route::Metrics;
    assert_eq!((m.class(), m.guard()), (Some(Class::Read), Guard::Token));
}

#[test]
fn websocket_routes() {
    assert_eq!(op(get("/api/v1/logs/ws/web")), ("follow_logs", id("web")));
    assert_eq!(op(get("/api/v1/stats/ws/web")), ("follow_stats", id("web")));
    assert_eq!(
        op(get("/api/v1/stats/ws")),
        ("get_container_stats", id("ws"))
    );
    assert_eq!(op(get("/api/v1/events/ws")), ("follow_events", vec![]));
    assert_eq!(
        resolve_post("/api/v1/events/ws"),
        Err(Error::MethodNotAllowed("GET"))
    );
}
