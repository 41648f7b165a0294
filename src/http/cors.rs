//! Cross-origin requests, from `CORS_ORIGINS` and friends.
//!
//! `*` allows any origin but then never with credentials (browsers refuse
//! the pair, and reflecting every origin with credentials would let any site
//! act as the user). A listed origin is echoed back with `Vary: Origin` and,
//! if `CORS_ALLOW_CREDENTIALS`, `Access-Control-Allow-Credentials: true`.
//! Preflights are answered here, before routing, auth or rate limits.
//!
//! The streams and MCP, which a page could reach without CORS (a WebSocket
//! or an `EventSource` is not held to it), check `Origin` themselves with
//! [`Cors::check_origin`].

use super::body::{self, Body};
use crate::error::Error;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Method, Response, StatusCode};

const ALL_METHODS: &str = "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT";
const EXPOSED: &str = "X-Request-ID, X-Process-Time, Retry-After, Mcp-Session-Id";
const MAX_AGE: &str = "600";

/// The `Host` header, or `""` without one.
pub fn host(headers: &HeaderMap) -> &str {
    headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

#[derive(Debug)]
pub struct Cors {
    any_origin: bool,
    origins: Vec<String>,
    credentials: bool,
    methods: String,
    /// `None`: echo whatever headers the preflight asks for.
    headers: Option<String>,
}

impl Cors {
    pub fn new(cfg: &CorsConfig) -> Cors {
        let star = |list: &[String]| list.iter().any(|s| s == "*");
        Cors {
            any_origin: star(&cfg.origins),
            origins: cfg
                .origins
                .iter()
                .map(|o| o.trim_end_matches('/').to_string())
                .collect(),
            credentials: cfg.allow_credentials && !star(&cfg.origins),
            methods: if star(&cfg.allow_methods) {
                ALL_METHODS.into()
            } else {
                cfg.allow_methods.join(", ")
            },
            headers: (!star(&cfg.allow_headers)).then(|| cfg.allow_headers.join(", ")),
        }
    }

    /// The Origin rule of the streams and MCP: no `Origin` (not a
    /// browser), the agent's own origin, or one listed in `CORS_ORIGINS`
    /// (`*` does not count); anything else is 403.
    pub fn check_origin(&self, headers: &HeaderMap) -> Result<(), Error> {
        let Some(origin) = headers.get(header::ORIGIN) else {
            return Ok(());
        };
        let origin = origin.to_str().unwrap_or("");
        let same = origin
            .split_once("://")
            .is_some_and(|(_, authority)| authority == host(headers));
        if same || self.lists(origin) {
            Ok(())
        } else {
            Err(Error::Forbidden("Origin not allowed"))
        }
    }

    /// Is `origin` listed by name (not merely allowed by `*`)?
    fn lists(&self, origin: &str) -> bool {
        self.origins
            .iter()
            .any(|o| o == origin.trim_end_matches('/'))
    }

    /// Is a browser page from `origin` allowed?
    pub fn allows(&self, origin: &str) -> bool {
        self.any_origin || self.origins.iter().any(|o| o == origin)
    }

    /// Answers a preflight (`OPTIONS` + `Origin` + `Access-Control-Request-Method`).
    pub fn preflight(
        &self,
        method: &Method,
        headers: &HeaderMap,
    ) -> Option<Result<Response<Body>, Error>> {
        let origin = headers.get(header::ORIGIN)?.to_str().ok()?;
        if method != Method::OPTIONS || !headers.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
        {
            return None;
        }
        if !self.allows(origin) {
            return Some(Err(Error::BadRequest("Disallowed CORS origin".into())));
        }
        let mut resp = Response::new(body::full("OK"));
        *resp.status_mut() = StatusCode::OK;
        let h = resp.headers_mut();
        self.allow_origin(origin, h);
        h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, value(&self.methods));
        let requested = headers.get(header::ACCESS_CONTROL_REQUEST_HEADERS).cloned();
        if let Some(allowed) = self.headers.as_deref().map(value).or(requested) {
            h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, allowed);
        }
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static(MAX_AGE),
        );
        Some(Ok(resp))
    }

    /// Adds CORS headers to an ordinary response for an allowed `origin`.
    pub fn decorate(&self, origin: Option<&HeaderValue>, headers: &mut HeaderMap) {
        let Some(origin) = origin.and_then(|o| o.to_str().ok()) else {
            return;
        };
        if self.allows(origin) {
            self.allow_origin(origin, headers);
            headers.insert(
                header::ACCESS_CONTROL_EXPOSE_HEADERS,
                HeaderValue::from_static(EXPOSED),
            );
        }
    }

    fn allow_origin(&self, origin: &str, h: &mut HeaderMap) {
        if self.any_origin {
            h.insert(
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            );
            return;
        }
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value(origin));
        if !varies_by_origin(h) {
            h.append(header::VARY, HeaderValue::from_static("Origin"));
        }
        if self.credentials {
            h.insert(
                header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
        }
    }
}

/// Whether `Vary` already names `Origin` (a preflight answer is decorated
/// again on its way out; the header must not repeat).
fn varies_by_origin(h: &HeaderMap) -> bool {
    h.get_all(header::VARY)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|v| v.trim().eq_ignore_ascii_case("origin"))
}

fn value(s: &str) -> HeaderValue {
    HeaderValue::from_str(s).unwrap_or_else(|_| HeaderValue::from_static(""))
}

#[derive(Debug, Clone)]
pub struct CorsConfig {
    /// Allowed origins; `*` allows any (then without credentials).
    pub origins: Vec<String>,
    pub allow_credentials: bool,
    pub allow_methods: Vec<String>,
    pub allow_headers: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cors(origins: &[&str], credentials: bool) -> Cors {
        Cors::new(&CorsConfig {
            origins: origins.iter().map(|s| s.to_string()).collect(),
            allow_credentials: credentials,
            allow_methods: vec!["*".into()],
            allow_headers: vec!["*".into()],
        })
    }

    fn preflight_headers(origin: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ORIGIN, value(origin));
        h.insert(header::ACCESS_CONTROL_REQUEST_METHOD, value("POST"));
        h.insert(
            header::ACCESS_CONTROL_REQUEST_HEADERS,
            value("authorization,content-type"),
        );
        h
    }

    #[test]
    fn wildcard_never_comes_with_credentials() {
        let c = cors(&["*"], true);
        let resp = c
            .preflight(&Method::OPTIONS, &preflight_headers("https://evil.example"))
            .unwrap()
            .unwrap();
        let h = resp.headers();
        assert_eq!(h[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
        assert!(!h.contains_key(header::ACCESS_CONTROL_ALLOW_CREDENTIALS));
        assert_eq!(
            h[header::ACCESS_CONTROL_ALLOW_HEADERS],
            "authorization,content-type"
        );
    }

    #[test]
    fn listed_origin_is_echoed_with_credentials() {
        let c = cors(&["https://dash.example"], true);
        let resp = c
            .preflight(&Method::OPTIONS, &preflight_headers("https://dash.example"))
            .unwrap()
            .unwrap();
        let h = resp.headers();
        assert_eq!(
            h[header::ACCESS_CONTROL_ALLOW_ORIGIN],
            "https://dash.example"
        );
        assert_eq!(h[header::ACCESS_CONTROL_ALLOW_CREDENTIALS], "true");
        assert_eq!(h[header::VARY], "Origin");
        let mut again = resp.headers().clone();
        c.decorate(Some(&value("https://dash.example")), &mut again);
        assert_eq!(again.get_all(header::VARY).iter().count(), 1, "{again:?}");
        assert!(
            h[header::ACCESS_CONTROL_ALLOW_METHODS]
                .to_str()
                .unwrap()
                .contains("POST")
        );
    }

    #[test]
    fn unlisted_origin_preflight_is_refused() {
        let c = cors(&["https://dash.example"], true);
        let err = c
            .preflight(&Method::OPTIONS, &preflight_headers("https://evil.example"))
            .unwrap()
            .unwrap_err();
        assert_eq!(err.status(), 400);
        let mut h = HeaderMap::new();
        c.decorate(Some(&value("https://evil.example")), &mut h);
        assert!(h.is_empty());
    }

    #[test]
    fn plain_options_is_not_a_preflight() {
        let c = cors(&["*"], false);
        let mut h = HeaderMap::new();
        h.insert(header::ORIGIN, value("https://x.example"));
        assert!(c.preflight(&Method::OPTIONS, &h).is_none());
        assert!(
            c.preflight(&Method::GET, &preflight_headers("https://x.example"))
                .is_none()
        );
    }
}
