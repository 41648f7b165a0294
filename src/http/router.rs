//! The route table: one `match` on path segments, then the method check.
//! Paths answer with and without a trailing slash; segments are
//! percent-decoded (so `%2F` inside an id stays inside the id). Each route
//! also says which rate-limit class it draws from and whether it needs a token.

use super::query::percent_decode;
use crate::error::Error;
use crate::limit::Class;
use hyper::Method;

/// The REST API's prefix.
pub const API_V1: &str = "/api/v1";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Start,
    Stop,
    Restart,
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
    Version,
    Healthz,
    Health,
    LogsWs(String),
    StatsWs(String),
    EventsWs,
}

impl Route {
    /// The rate-limit class, `None` for unlimited routes (the liveness probe).
    pub fn class(&self) -> Option<Class> {
        match self {
            Route::Healthz => None,
            Route::Login => Some(Class::Login),
            Route::AuthCheck => Some(Class::Overall),
            Route::ContainerAction(..) => Some(Class::Action),
            _ => Some(Class::Read),
        }
    }

    /// Whether the pipeline checks a bearer token. WebSocket routes check
    /// theirs after the upgrade, to refuse with a readable close frame.
    pub fn needs_token(&self) -> bool {
        !matches!(self, Route::Login | Route::Healthz) && !self.is_websocket()
    }

    pub fn is_websocket(&self) -> bool {
        matches!(self, Route::LogsWs(_) | Route::StatsWs(_) | Route::EventsWs)
    }
}

/// Finds the route for `method` and `path`, or 404 / 405 (with `Allow`).
pub fn resolve(method: &Method, path: &str) -> Result<Route, Error> {
    let (route, allow) = match_path(path).ok_or(Error::RouteNotFound)?;
    let wanted = if allow == "POST" {
        Method::POST
    } else {
        Method::GET
    };
    if *method == wanted {
        Ok(route)
    } else {
        Err(Error::MethodNotAllowed(allow))
    }
}

fn match_path(path: &str) -> Option<(Route, &'static str)> {
    let rest = path.strip_prefix(API_V1)?.strip_prefix('/')?;
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let segs: Vec<String> = rest.split('/').map(|s| percent_decode(s, false)).collect();
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    let get = |r: Route| Some((r, "GET"));
    let post = |r: Route| Some((r, "POST"));
    match segs.as_slice() {
        ["auth", "login"] => post(Route::Login),
        ["auth", "check"] => get(Route::AuthCheck),
        ["containers"] => get(Route::Containers),
        ["containers", id] if !id.is_empty() => get(Route::Container(id.to_string())),
        ["containers", id, "logs"] => get(Route::ContainerLogs(id.to_string())),
        ["containers", id, action] => {
            let action = match *action {
                "start" => Action::Start,
                "stop" => Action::Stop,
                "restart" => Action::Restart,
                _ => return None,
            };
            post(Route::ContainerAction(id.to_string(), action))
        }
        ["stats", id] if !id.is_empty() => get(Route::Stats(id.to_string())),
        ["images"] => get(Route::Images),
        ["version"] => get(Route::Version),
        ["healthz"] => get(Route::Healthz),
        ["health"] => get(Route::Health),
        ["logs", "ws", id] => get(Route::LogsWs(id.to_string())),
        ["stats", "ws", id] => get(Route::StatsWs(id.to_string())),
        ["events", "ws"] => get(Route::EventsWs),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(path: &str) -> Result<Route, Error> {
        resolve(&Method::GET, path)
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
            resolve(&Method::POST, "/api/v1/containers/web/restart"),
            Ok(Route::ContainerAction("web".into(), Action::Restart))
        );
    }

    #[test]
    fn unknown_paths_are_404_and_wrong_methods_405() {
        for p in [
            "/",
            "/api/v2/containers",
            "/api/v1",
            "/api/v1/nope",
            "/api/v1/containers/web/kill",
            "/api/v1/containers/a/b/c/d",
            "/api/v1//containers",
        ] {
            assert_eq!(get(p), Err(Error::RouteNotFound), "{p}");
        }
        assert_eq!(
            resolve(&Method::POST, "/api/v1/containers/"),
            Err(Error::MethodNotAllowed("GET"))
        );
        assert_eq!(
            get("/api/v1/auth/login"),
            Err(Error::MethodNotAllowed("POST"))
        );
        assert_eq!(
            resolve(&Method::DELETE, "/api/v1/containers/x"),
            Err(Error::MethodNotAllowed("GET"))
        );
    }

    #[test]
    fn classes_and_auth_requirements() {
        assert_eq!(Route::Login.class(), Some(Class::Login));
        assert_eq!(
            Route::ContainerAction("x".into(), Action::Stop).class(),
            Some(Class::Action)
        );
        assert_eq!(Route::Images.class(), Some(Class::Read));
        assert_eq!(Route::Healthz.class(), None);
        assert!(!Route::Login.needs_token() && !Route::Healthz.needs_token());
        assert!(Route::Health.needs_token() && Route::AuthCheck.needs_token());
        assert!(!Route::EventsWs.needs_token() && Route::EventsWs.class() == Some(Class::Read));
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
            resolve(&Method::POST, "/api/v1/events/ws"),
            Err(Error::MethodNotAllowed("GET"))
        );
    }
}
