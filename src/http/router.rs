//! The route table: one `match` on path segments, then the method check.
//! Paths answer with and without a trailing slash; segments are
//! percent-decoded (so `%2F` inside an id stays inside the id). Each route
//! also says which rate-limit class it draws from and which credential
//! guards it, and which query parameters it takes (any other is refused:
//! 422, or close 1008 on a stream). The MCP routes exist only when
//! `MCP_ENABLED`; the dashboard's (`/`, `/ui/…`) answer 404 unless
//! `UI_ENABLED`, and `/metrics` unless `METRICS_ENABLED` (the pipeline's check).

use super::query::percent_decode;
use crate::error::Error;
use crate::limit::Class;
use crate::ui::Asset;
use hyper::Method;

/// The REST API's prefix.
pub const API_V1: &str = "/api/v1";

/// Every route as `(method, path template)`, `{id}` standing for a
/// container reference: the route table as data, which the policy test
/// walks row by row. A new route belongs here too (a unit test below checks
/// that each row resolves to the route it names). Pause, unpause and kill
/// come before start, so a walk of the table leaves a container running.
pub const ROUTES: [(&str, &str); 37] = [
    ("POST", "/api/v1/auth/login"),
    ("GET", "/api/v1/auth/check"),
    ("GET", "/api/v1/containers/"),
    ("GET", "/api/v1/containers/{id}"),
    ("GET", "/api/v1/containers/{id}/logs"),
    ("POST", "/api/v1/containers/{id}/pause"),
    ("POST", "/api/v1/containers/{id}/unpause"),
    ("POST", "/api/v1/containers/{id}/kill"),
    ("POST", "/api/v1/containers/{id}/start"),
    ("POST", "/api/v1/containers/{id}/stop"),
    ("POST", "/api/v1/containers/{id}/restart"),
    ("GET", "/api/v1/stats/{id}"),
    ("GET", "/api/v1/images/"),
    ("GET", "/api/v1/version"),
    ("GET", "/api/v1/healthz"),
    ("GET", "/api/v1/health"),
    ("GET", "/api/v1/logs/ws/{id}"),
    ("GET", "/api/v1/stats/ws/{id}"),
    ("GET", "/api/v1/events/ws"),
    ("POST", "/mcp"),
    ("DELETE", "/mcp"),
    ("GET", "/mcp"),
    ("GET", "/mcp/sse"),
    ("POST", "/mcp/messages/"),
    ("POST", "/api/v1/images/pull"),
    ("GET", "/api/v1/volumes/"),
    ("GET", "/api/v1/networks/"),
    ("POST", "/api/v1/containers/"),
    ("DELETE", "/api/v1/containers/{id}"),
    ("DELETE", "/api/v1/images/{image}"),
    ("POST", "/api/v1/containers/{id}/exec"),
    ("GET", "/api/v1/exec/ws/{id}"),
    ("GET", "/"),
    ("GET", "/ui/app.js"),
    ("GET", "/ui/app.css"),
    ("GET", "/metrics"),
    ("GET", "/api/v1/openapi.json"),
];

/// The events stream's query parameters: the token, then the filters
/// Docker takes, by its names.
pub const EVENT_PARAMS: [&str; 8] = [
    "token",
    "type",
    "event",
    "container",
    "image",
    "label",
    "network",
    "volume",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Start,
    Stop,
    Restart,
    Pause,
    Unpause,
    Kill,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Login,
    AuthCheck,
    Containers,
    Container(String),
    ContainerLogs(String),
    ContainerAction(String, Action),
    Stats(String),
    Images,
    /// `POST /images/pull`: NDJSON progress.
    ImagesPull,
    Version,
    Healthz,
    Health,
    LogsWs(String),
    StatsWs(String),
    EventsWs,
    Volumes,
    Networks,
    /// `/mcp`: Streamable HTTP, every protocol era.
    Mcp,
    /// `/mcp/sse`: the legacy HTTP+SSE stream.
    McpSse,
    /// `/mcp/messages/`: the legacy HTTP+SSE message endpoint.
    McpMessages,
    CreateContainer,
    RemoveContainer(String),
    /// An image reference, its `/` included.
    RemoveImage(String),
    /// A one-shot command in a container.
    Exec(String),
    /// An interactive command in a container, over WebSocket.
    ExecWs(String),
    /// A file of the embedded dashboard.
    Ui(Asset),
    /// `/metrics`: Prometheus' text format; a `read` token or `METRICS_TOKEN`.
    Metrics,
    /// The OpenAPI document of the REST API.
    OpenApi,
}

/// The credential a route demands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guard {
    Open,
    /// A JWT as `Authorization: Bearer`, checked by the pipeline.
    Token,
    /// A JWT checked by the WebSocket session after the upgrade, so the
    /// refusal is a readable close frame.
    StreamToken,
    /// `MCP_API_KEY`, checked by the MCP transports.
    McpKey,
}

impl Route {
    /// The rate-limit class, `None` for unlimited routes (the liveness probe).
    pub fn class(&self) -> Option<Class> {
        match self {
            Route::Healthz => None,
            Route::Login => Some(Class::Login),
            Route::AuthCheck | Route::Mcp | Route::McpSse | Route::McpMessages | Route::Ui(_) => {
                Some(Class::Overall)
            }
            Route::ContainerAction(..)
            | Route::ImagesPull
            | Route::CreateContainer
            | Route::RemoveContainer(_)
            | Route::RemoveImage(_)
            | Route::Exec(_)
            | Route::ExecWs(_) => Some(Class::Action),
            _ => Some(Class::Read),
        }
    }

    /// The query parameters the route takes; `None` for the MCP
    /// transports, which read their own (`api_key`, `session_id`).
    pub fn params(&self) -> Option<&'static [&'static str]> {
        Some(match self {
            Route::Containers => &["all", "label", "name", "status"],
            Route::ContainerLogs(_) => &["tail", "since", "until", "timestamps", "stream"],
            Route::ContainerAction(_, Action::Stop | Action::Restart) => &["timeout"],
            Route::ContainerAction(_, Action::Kill) => &["signal"],
            Route::RemoveContainer(_) => &["force", "volumes"],
            Route::RemoveImage(_) => &["force"],
            Route::LogsWs(_) => &["token", "tail", "since", "until", "timestamps", "stream"],
            Route::StatsWs(_) => &["token"],
            Route::ExecWs(_) => &["token", "cmd"],
            Route::EventsWs => &EVENT_PARAMS,
            Route::Mcp | Route::McpSse | Route::McpMessages => return None,
            _ => &[],
        })
    }

    pub fn guard(&self) -> Guard {
        match self {
            Route::Login | Route::Healthz | Route::Ui(_) | Route::OpenApi => Guard::Open,
            Route::LogsWs(_) | Route::StatsWs(_) | Route::EventsWs | Route::ExecWs(_) => {
                Guard::StreamToken
            }
            Route::Mcp | Route::McpSse | Route::McpMessages => Guard::McpKey,
            _ => Guard::Token,
        }
    }
}

/// Finds the route for `method` and `path`, or 404 / 405 (with `Allow`).
pub fn resolve(method: &Method, path: &str, mcp: bool) -> Result<Route, Error> {
    let found = match path.strip_prefix("/mcp") {
        Some(rest) if mcp => match_mcp(rest),
        _ if matches!(path, "/metrics" | "/metrics/") => Some((Route::Metrics, "GET")),
        _ => match Asset::at(path) {
            Some(asset) => Some((Route::Ui(asset), "GET")),
            None => match_api(method, path),
        },
    };
    let (route, allow) = found.ok_or(Error::RouteNotFound)?;
    if allow.split(", ").any(|m| m == method.as_str()) {
        Ok(route)
    } else {
        Err(Error::MethodNotAllowed(allow))
    }
}

fn match_mcp(rest: &str) -> Option<(Route, &'static str)> {
    match rest.strip_suffix('/').unwrap_or(rest) {
        "" => Some((Route::Mcp, "GET, POST, DELETE")),
        "/sse" => Some((Route::McpSse, "GET")),
        "/messages" => Some((Route::McpMessages, "POST")),
        _ => None,
    }
}

fn match_api(method: &Method, path: &str) -> Option<(Route, &'static str)> {
    let rest = path.strip_prefix(API_V1)?.strip_prefix('/')?;
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let segs: Vec<String> = rest.split('/').map(|s| percent_decode(s, false)).collect();
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    let get = |r: Route| Some((r, "GET"));
    let post = |r: Route| Some((r, "POST"));
    match segs.as_slice() {
        ["auth", "login"] => post(Route::Login),
        ["auth", "check"] => get(Route::AuthCheck),
        ["containers"] if method == Method::POST => Some((Route::CreateContainer, "GET, POST")),
        ["containers"] => Some((Route::Containers, "GET, POST")),
        ["containers", id] if !id.is_empty() => {
            let id = id.to_string();
            match *method {
                Method::DELETE => Some((Route::RemoveContainer(id), "GET, DELETE")),
                _ => Some((Route::Container(id), "GET, DELETE")),
            }
        }
        ["containers", id, "logs"] => get(Route::ContainerLogs(id.to_string())),
        ["containers", id, "exec"] => post(Route::Exec(id.to_string())),
        ["containers", id, action] => {
            let action = match *action {
                "start" => Action::Start,
                "stop" => Action::Stop,
                "restart" => Action::Restart,
                "pause" => Action::Pause,
                "unpause" => Action::Unpause,
                "kill" => Action::Kill,
                _ => return None,
            };
            post(Route::ContainerAction(id.to_string(), action))
        }
        ["stats", id] if !id.is_empty() => get(Route::Stats(id.to_string())),
        ["images"] => get(Route::Images),
        ["images", "pull"] => post(Route::ImagesPull),
        ["images", image @ ..] if image.iter().all(|s| !s.is_empty()) => {
            Some((Route::RemoveImage(image.join("/")), "DELETE"))
        }
        ["version"] => get(Route::Version),
        ["healthz"] => get(Route::Healthz),
        ["openapi.json"] => get(Route::OpenApi),
        ["health"] => get(Route::Health),
        ["logs", "ws", id] => get(Route::LogsWs(id.to_string())),
        ["stats", "ws", id] => get(Route::StatsWs(id.to_string())),
        ["events", "ws"] => get(Route::EventsWs),
        ["volumes"] => get(Route::Volumes),
        ["networks"] => get(Route::Networks),
        ["exec", "ws", id] => get(Route::ExecWs(id.to_string())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(path: &str) -> Result<Route, Error> {
        resolve(&Method::GET, path, true)
    }

    fn resolve_post(path: &str) -> Result<Route, Error> {
        resolve(&Method::POST, path, true)
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
        assert_eq!(get("/api/v1/containers/"), Ok(Route::Containers));
        assert_eq!(get("/api/v1/containers"), Ok(Route::Containers));
        assert_eq!(get("/api/v1/images"), Ok(Route::Images));
        assert_eq!(get("/api/v1/images/"), Ok(Route::Images));
        assert_eq!(get("/api/v1/healthz/"), Ok(Route::Healthz));
    }

    #[test]
    fn container_routes_carry_the_decoded_id() {
        assert_eq!(
            get("/api/v1/containers/web"),
            Ok(Route::Container("web".into()))
        );
        assert_eq!(
            get("/api/v1/containers/a%2Fb/logs"),
            Ok(Route::ContainerLogs("a/b".into()))
        );
        assert_eq!(
            get("/api/v1/stats/abc123"),
            Ok(Route::Stats("abc123".into()))
        );
        assert_eq!(
            resolve_post("/api/v1/containers/web/restart"),
            Ok(Route::ContainerAction("web".into(), Action::Restart))
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
            resolve_post("/api/v1/containers"),
            Ok(Route::CreateContainer)
        );
        assert_eq!(get("/api/v1/containers"), Ok(Route::Containers));
        let delete = |p: &str| resolve(&Method::DELETE, p, true);
        assert_eq!(
            delete("/api/v1/containers/web"),
            Ok(Route::RemoveContainer("web".into()))
        );
        assert_eq!(
            delete("/api/v1/images/registry.local:5000/team/app:1"),
            Ok(Route::RemoveImage("registry.local:5000/team/app:1".into()))
        );
        assert_eq!(
            delete("/api/v1/images/registry.local%3A5000%2Fapp"),
            Ok(Route::RemoveImage("registry.local:5000/app".into()))
        );
        for r in [
            Route::CreateContainer,
            Route::RemoveContainer("x".into()),
            Route::RemoveImage("x".into()),
        ] {
            assert_eq!((r.class(), r.guard()), (Some(Class::Action), Guard::Token));
        }
    }

    #[test]
    fn classes_and_auth_requirements() {
        assert_eq!(Route::Login.class(), Some(Class::Login));
        assert_eq!(
            Route::ContainerAction("x".into(), Action::Stop).class(),
            Some(Class::Action)
        );
        assert_eq!(Route::Images.class(), Some(Class::Read));
        assert_eq!(Route::ImagesPull.class(), Some(Class::Action));
        assert_eq!(resolve_post("/api/v1/images/pull"), Ok(Route::ImagesPull));
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
        assert_eq!(Route::Health.guard(), Guard::Token);
        assert_eq!(Route::AuthCheck.guard(), Guard::Token);
        assert_eq!(Route::EventsWs.guard(), Guard::StreamToken);
        assert_eq!(Route::EventsWs.class(), Some(Class::Read));
        let (exec, terminal) = (Route::Exec("x".into()), Route::ExecWs("x".into()));
        assert_eq!(
            (exec.class(), exec.guard()),
            (Some(Class::Action), Guard::Token)
        );
        assert_eq!(
            (terminal.class(), terminal.guard()),
            (Some(Class::Action), Guard::StreamToken)
        );
    }

    /// The template of each kind of route: a new kind fails to compile
    /// here until it has one, which must then be a row of [`ROUTES`].
    fn template(route: &Route) -> &'static str {
        match route {
            Route::Login => "/api/v1/auth/login",
            Route::AuthCheck => "/api/v1/auth/check",
            Route::Containers => "/api/v1/containers/",
            Route::Container(_) => "/api/v1/containers/{id}",
            Route::ContainerLogs(_) => "/api/v1/containers/{id}/logs",
            Route::ContainerAction(_, Action::Start) => "/api/v1/containers/{id}/start",
            Route::ContainerAction(_, Action::Stop) => "/api/v1/containers/{id}/stop",
            Route::ContainerAction(_, Action::Restart) => "/api/v1/containers/{id}/restart",
            Route::ContainerAction(_, Action::Pause) => "/api/v1/containers/{id}/pause",
            Route::ContainerAction(_, Action::Unpause) => "/api/v1/containers/{id}/unpause",
            Route::ContainerAction(_, Action::Kill) => "/api/v1/containers/{id}/kill",
            Route::Stats(_) => "/api/v1/stats/{id}",
            Route::Images => "/api/v1/images/",
            Route::ImagesPull => "/api/v1/images/pull",
            Route::Version => "/api/v1/version",
            Route::Healthz => "/api/v1/healthz",
            Route::Health => "/api/v1/health",
            Route::LogsWs(_) => "/api/v1/logs/ws/{id}",
            Route::StatsWs(_) => "/api/v1/stats/ws/{id}",
            Route::EventsWs => "/api/v1/events/ws",
            Route::Volumes => "/api/v1/volumes/",
            Route::Networks => "/api/v1/networks/",
            Route::Mcp => "/mcp",
            Route::McpSse => "/mcp/sse",
            Route::McpMessages => "/mcp/messages/",
            Route::CreateContainer => "/api/v1/containers/",
            Route::RemoveContainer(_) => "/api/v1/containers/{id}",
            Route::RemoveImage(_) => "/api/v1/images/{image}",
            Route::Exec(_) => "/api/v1/containers/{id}/exec",
            Route::ExecWs(_) => "/api/v1/exec/ws/{id}",
            Route::Ui(Asset::Page) => "/",
            Route::Ui(Asset::Script) => "/ui/app.js",
            Route::Ui(Asset::Style) => "/ui/app.css",
            Route::Metrics => "/metrics",
            Route::OpenApi => "/api/v1/openapi.json",
        }
    }

    #[test]
    fn every_row_of_the_table_resolves_to_the_route_it_names() {
        for (method, path) in ROUTES {
            let method = Method::from_bytes(method.as_bytes()).unwrap();
            let path_of = |id: &str| path.replace("{id}", id).replace("{image}", id);
            let route = resolve(&method, &path_of("web"), true).unwrap();
            assert_eq!(template(&route), path);
            if path.contains('{') {
                let id = resolve(&method, &path_of("a%2Fb"), true).unwrap();
                assert_ne!(id, route, "{path}: the id is carried");
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
        assert_eq!(
            (m.class(), m.guard(), m.params()),
            (Some(Class::Read), Guard::Token, Some(&[][..]))
        );
    }

    #[test]
    fn websocket_routes() {
        assert_eq!(get("/api/v1/logs/ws/web"), Ok(Route::LogsWs("web".into())));
        assert_eq!(
            get("/api/v1/stats/ws/web"),
            Ok(Route::StatsWs("web".into()))
        );
        assert_eq!(get("/api/v1/stats/ws"), Ok(Route::Stats("ws".into())));
        assert_eq!(get("/api/v1/events/ws"), Ok(Route::EventsWs));
        assert_eq!(
            resolve_post("/api/v1/events/ws"),
            Err(Error::MethodNotAllowed("GET"))
        );
    }
}
