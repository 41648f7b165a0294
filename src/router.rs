//! The route table: the agent's own routes (login, the credential check,
//! the liveness probe, the OpenAPI document, `/metrics`, the dashboard and
//! the MCP transports) and every operation of the catalogue by its REST
//! route or stream ([`crate::ops`]). Paths answer with and without a
//! trailing slash; segments are percent-decoded, so `%2F` inside an id
//! stays inside the id. A path several routes share answers each by its
//! method, and any other method with 405 naming them; where a literal
//! segment and a parameter both match (`images/pull`), the literal wins.
//! Each route also says which rate-limit class it draws from and which
//! credential guards it. The MCP routes exist only when `MCP_ENABLED`; the
//! dashboard's (`/`, `/ui/…`) answer 404 unless `UI_ENABLED`, and
//! `/metrics` unless `METRICS_ENABLED` (the pipeline's check).

use crate::error::Error;
use crate::http::query::percent_decode;
use crate::limit::Class;
use crate::ops::{CATALOGUE, Operation};
use hyper::Method;

/// The REST API's prefix.
pub const API_V1: &str = "/api/v1";

/// The agent's own routes, as `(method, path)`.
const OWN: [(&str, &str); 10] = [
    ("POST", "/api/v1/auth/login"),
    ("GET", "/api/v1/auth/check"),
    ("GET", "/api/v1/healthz"),
    ("GET", "/api/v1/openapi.json"),
    ("GET", "/metrics"),
    ("POST", "/mcp"),
    ("DELETE", "/mcp"),
    ("GET", "/mcp"),
    ("GET", "/mcp/sse"),
    ("POST", "/mcp/messages/"),
];

/// The container actions in the order a walk of the table takes them, so
/// that it leaves a running container running: paused and unpaused,
/// killed, then started, stopped and restarted.
const WALK: [&str; 6] = [
    "pause_container",
    "unpause_container",
    "kill_container",
    "start_container",
    "stop_container",
    "restart_container",
];

/// Every route as `(method, path template)` — `{id}` for a container
/// reference, `{image}` for an image reference with its `/` — the agent's
/// own, the catalogue's (its container actions in [`WALK`]'s order, where
/// the first of them stands), and the dashboard's pages.
pub fn routes() -> Vec<(&'static str, String)> {
    let mut all = OWN.to_vec();
    for o in CATALOGUE {
        let walked = WALK.contains(&o.name);
        if walked && o.name != "start_container" {
            continue;
        }
        let ops: Vec<&Operation> = match walked {
            true => WALK
                .iter()
                .filter_map(|n| CATALOGUE.iter().find(|c| c.name == *n).copied())
                .collect(),
            false => vec![o],
        };
        for o in ops {
            all.extend(o.rest.map(|r| (r.method, r.path)));
            all.extend(o.stream.map(|s| ("GET", s)));
        }
    }
    all.extend([("GET", "/"), ("GET", "/ui/app.js"), ("GET", "/ui/app.css")]);
    all.into_iter()
        .map(|(m, p)| (m, p.replace("*}", "}")))
        .collect()
}

/// A route's path parameters: `(name, decoded value)`.
pub type Params = Vec<(&'static str, String)>;

#[derive(Clone)]
pub enum Route {
    Login,
    AuthCheck,
    Healthz,
    /// The OpenAPI document of the REST API.
    OpenApi,
    /// `/metrics`: Prometheus' text format; a `read` token or `METRICS_TOKEN`.
    Metrics,
    /// A file of the embedded dashboard.
    Ui(Asset),
    /// `/mcp`: Streamable HTTP, every protocol era.
    Mcp,
    /// `/mcp/sse`: the legacy HTTP+SSE stream.
    McpSse,
    /// `/mcp/messages/`: the legacy HTTP+SSE message endpoint.
    McpMessages,
    /// An operation of the catalogue, by its REST route or its stream, with
    /// its path's parameters.
    Op(&'static Operation, Params),
}

impl std::fmt::Debug for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Route::Op(o, params) => write!(f, "Op({}, {params:?})", o.name),
            Route::Ui(asset) => write!(f, "Ui({asset:?})"),
            Route::Login => f.write_str("Login"),
            Route::AuthCheck => f.write_str("AuthCheck"),
            Route::Healthz => f.write_str("Healthz"),
            Route::OpenApi => f.write_str("OpenApi"),
            Route::Metrics => f.write_str("Metrics"),
            Route::Mcp => f.write_str("Mcp"),
            Route::McpSse => f.write_str("McpSse"),
            Route::McpMessages => f.write_str("McpMessages"),
        }
    }
}

impl PartialEq for Route {
    fn eq(&self, other: &Route) -> bool {
        match (self, other) {
            (Route::Op(a, pa), Route::Op(b, pb)) => a.name == b.name && pa == pb,
            (Route::Ui(a), Route::Ui(b)) => a == b,
            (a, b) => std::mem::discriminant(a) == std::mem::discriminant(b),
        }
    }
}

/// The credential a route demands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guard {
    Open,
    /// A JWT or a scoped token as `Authorization: Bearer`, checked by the pipeline.
    Token,
    /// A token checked by the WebSocket session after the upgrade, so the
    /// refusal is a readable close frame.
    StreamToken,
    /// `MCP_API_KEY` or a scoped token, checked by the MCP transports.
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
            Route::Op(o, _) if o.op.mutates => Some(Class::Action),
            _ => Some(Class::Read),
        }
    }

    pub fn guard(&self) -> Guard {
        match self {
            Route::Login | Route::Healthz | Route::Ui(_) | Route::OpenApi => Guard::Open,
            Route::Op(o, _) if o.stream.is_some() => Guard::StreamToken,
            Route::Mcp | Route::McpSse | Route::McpMessages => Guard::McpKey,
            _ => Guard::Token,
        }
    }
}

/// Finds the route for `method` and `path`, or 404 / 405 (with `Allow`).
pub fn resolve(method: &Method, path: &str, mcp: bool) -> Result<Route, Error> {
    let found = match path.strip_prefix("/mcp") {
        Some(rest) if mcp => match_mcp(rest).into_iter().collect(),
        _ if matches!(path, "/metrics" | "/metrics/") => vec![("GET", Route::Metrics)],
        _ => match Asset::at(path) {
            Some(asset) => vec![("GET", Route::Ui(asset))],
            None => match_api(path),
        },
    };
    if found.is_empty() {
        return Err(Error::RouteNotFound);
    }
    let allowed = |m: &str| found.iter().any(|(fm, _)| *fm == m);
    let allow = match (allowed("GET"), allowed("POST"), allowed("DELETE")) {
        (true, true, true) => "GET, POST, DELETE",
        (true, true, false) => "GET, POST",
        (true, false, true) => "GET, DELETE",
        (false, true, true) => "POST, DELETE",
        (true, false, false) => "GET",
        (false, true, false) => "POST",
        _ => "DELETE",
    };
    found
        .into_iter()
        .find(|(m, _)| *m == method.as_str())
        .map(|(_, route)| route)
        .ok_or(Error::MethodNotAllowed(allow))
}

fn match_mcp(rest: &str) -> Vec<(&'static str, Route)> {
    match rest.strip_suffix('/').unwrap_or(rest) {
        "" => ["GET", "POST", "DELETE"].map(|m| (m, Route::Mcp)).into(),
        "/sse" => vec![("GET", Route::McpSse)],
        "/messages" => vec![("POST", Route::McpMessages)],
        _ => Vec::new(),
    }
}

/// The routes under `/api/v1` that `path` matches, by method; where
/// several match, those with the most literal segments.
fn match_api(path: &str) -> Vec<(&'static str, Route)> {
    let Some(rest) = path.strip_prefix(API_V1).and_then(|r| r.strip_prefix('/')) else {
        return Vec::new();
    };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let segs: Vec<String> = rest.split('/').map(|s| percent_decode(s, false)).collect();
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    let own = [
        ("POST", "/api/v1/auth/login", Route::Login),
        ("GET", "/api/v1/auth/check", Route::AuthCheck),
        ("GET", "/api/v1/healthz", Route::Healthz),
        ("GET", "/api/v1/openapi.json", Route::OpenApi),
    ];
    let mut found: Vec<(usize, &'static str, Route)> = Vec::new();
    for (method, template, route) in own {
        if let Some((literals, _)) = fit(template, &segs) {
            found.push((literals, method, route));
        }
    }
    for o in CATALOGUE {
        let ways = [
            o.rest.map(|r| (r.method, r.path)),
            o.stream.map(|s| ("GET", s)),
        ];
        for (method, template) in ways.into_iter().flatten() {
            if let Some((literals, params)) = fit(template, &segs) {
                found.push((literals, method, Route::Op(o, params)));
            }
        }
    }
    let most = found.iter().map(|(l, _, _)| *l).max().unwrap_or(0);
    found
        .into_iter()
        .filter(|(l, _, _)| *l == most)
        .map(|(_, m, r)| (m, r))
        .collect()
}

/// Whether the decoded segments `segs` fit `template` (under `/api/v1/`):
/// its literal segments' count and its parameters' values. `{name}` takes
/// one non-empty segment, `{name*}` the rest (each non-empty), joined by `/`.
fn fit(template: &'static str, segs: &[&str]) -> Option<(usize, Params)> {
    let t = template.strip_prefix(API_V1)?.trim_matches('/');
    let param = |part: &'static str| part.strip_prefix('{').and_then(|p| p.strip_suffix('}'));
    // The shape first, allocating nothing: every route is tried on every
    // request, and most do not fit.
    let (mut literals, mut count) = (0, 0);
    for (i, part) in t.split('/').enumerate() {
        count = i + 1;
        match param(part) {
            Some(name) if name.ends_with('*') => {
                let tail = segs.get(i..).filter(|t| !t.is_empty())?;
                if tail.iter().any(|s| s.is_empty()) {
                    return None;
                }
                count = segs.len();
                break;
            }
            Some(_) => {
                segs.get(i).filter(|s| !s.is_empty())?;
            }
            None if segs.get(i) == Some(&part) => literals += 1,
            None => return None,
        }
    }
    if count != segs.len() {
        return None;
    }
    let mut params = Params::new();
    for (i, part) in t.split('/').enumerate() {
        match param(part) {
            Some(name) if name.ends_with('*') => {
                params.push((name.trim_end_matches('*'), segs[i..].join("/")));
                break;
            }
            Some(name) => params.push((name, segs[i].to_string())),
            None => {}
        }
    }
    Some((literals, params))
}

/// One file of the dashboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asset {
    Page,
    Script,
    Style,
}

impl Asset {
    /// The asset served at `path`, if any.
    pub fn at(path: &str) -> Option<Asset> {
        match path {
            "/" => Some(Asset::Page),
            "/ui/app.js" => Some(Asset::Script),
            "/ui/app.css" => Some(Asset::Style),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests;
