//! The request pipeline, in order: request id and client address; the
//! connection cap (429 for a client over `MAX_CONNECTIONS_PER_CLIENT`);
//! header size (431 past [`MAX_HEADER_BYTES`]; hyper itself answers 431 past
//! 100 fields); CORS
//! preflight; route (404/405); rate limit (429); credential — a JWT or a
//! scoped API token, or the MCP key — (401; failed logins and MCP keys are
//! counted, see [`crate::limit`]), which names the caller; then its surface
//! (REST, the streams, MCP, the dashboard, `/metrics`). The
//! request's [`audit::Context`] rides in its extensions; a refused bearer
//! token and a rate-limited login are recorded in the audit trail here (the
//! other refusals where they are decided: login, WebSocket and MCP
//! admission, and the policy).
//! Every response, errors included, then gets CORS headers, `X-Request-ID`
//! and `X-Process-Time`, and one access-log line; a `429` also gets
//! `Connection: close`, so a refused client gives its connection back.
//! A `503` for an unreachable daemon says why and how to fix it.
//!
//! A panic while a request is handled (a bug) fails that request alone: it
//! is caught here and answered `500`, and the agent goes on serving.

use super::hosts;
use crate::app::App;
use crate::audit::{self, Action};
use crate::conn::OverClientCap;
use crate::error::Error;
use crate::http::body::{self, Body};
use crate::http::credential::{Carrier, credential, misplaced};
use crate::http::request_id;
use crate::input::no_query;
use crate::limit::Class;
use crate::policy::Surface;
use crate::router::{self, Guard, Route};
use crate::{api, mcp, metrics, ui, ws};
use futures_util::FutureExt;
use hyper::body::Incoming;
use hyper::header::{CONNECTION, HeaderValue, ORIGIN};
use hyper::{Request, Response, StatusCode};
use std::net::{IpAddr, SocketAddr};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Instant;

/// Most bytes of request header fields (names, values and their `: ` and
/// line ends) a request may carry.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// In debug builds only, a request carrying this header panics in the
/// pipeline: how the tests show that a panic is contained.
#[cfg(debug_assertions)]
pub const PANIC_TRIGGER: &str = "x-test-panic";

pub async fn handle(app: Arc<App>, mut req: Request<Incoming>, peer: SocketAddr) -> Response<Body> {
    let started = Instant::now();
    let id = request_id::pick(req.headers());
    let via = hosts::peer(&req);
    let client = match via {
        Some(_) => {
            hosts::as_asked(&mut req);
            hosts::forwarded_client(&req, peer.ip())
        }
        None => crate::net::client_ip(peer.ip(), req.headers(), &app.config.server.trusted_proxies),
    };
    let context = audit::Context::new(id.clone(), client, started);
    let context = match &via {
        Some(peer) => context.via(peer.subject.clone()),
        None => context,
    };
    req.extensions_mut().insert(context);
    let origin = req.headers().get(ORIGIN).cloned();
    let (method, path) = (req.method().clone(), req.uri().path().to_string());

    let mut class = "unmatched";
    let result = AssertUnwindSafe(respond(app.clone(), req, client, &mut class))
        .catch_unwind()
        .await
        .unwrap_or_else(|_| {
            log::error!(request_id = id.as_str(); "a request's handling panicked: answered 500");
            Err(Error::Internal)
        });
    let mut resp = result.unwrap_or_else(|e| error_response(&app, &e));
    if resp.status() == StatusCode::TOO_MANY_REQUESTS {
        resp.headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("close"));
    }

    let headers = resp.headers_mut();
    app.cors.decorate(origin.as_ref(), headers);
    let elapsed = started.elapsed();
    if let Ok(v) = HeaderValue::from_str(&id) {
        headers.insert(request_id::HEADER, v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("{:.4}", elapsed.as_secs_f64())) {
        headers.insert("x-process-time", v);
    }
    crate::counters::request(class, resp.status().as_u16(), elapsed);
    crate::logging::access(
        &id,
        method.as_str(),
        &path,
        resp.status().as_u16(),
        elapsed,
        client,
    );
    resp
}

/// The error response, with the daemon's reason in a `503`'s detail.
fn error_response(app: &App, e: &Error) -> Response<Body> {
    match e {
        Error::DockerUnavailable => {
            body::error_with(e, &serde_json::json!({"detail": app.service.explain(e)}))
        }
        _ => body::error(e),
    }
}

/// Records a REST request turned away before its handler ran.
fn refused(app: &App, req: &Request<Incoming>, action: Action, e: &Error) {
    app.audit
        .refused(req.extensions().get(), Surface::Rest, action, e);
}

/// The caller a bearer `token` names: on `/metrics`, `METRICS_TOKEN` too.
fn identify(app: &App, route: &Route, token: &str) -> Result<crate::policy::Caller, Error> {
    let key = app.config.metrics.token.as_ref();
    match crate::policy::Policy::metrics_caller(key, token) {
        Some(scraper) if *route == Route::Metrics => Ok(scraper),
        _ => app.policy.identify(&app.auth, token, Surface::Rest),
    }
}

/// The 401 for a request without a bearer token; one that put its token in
/// the query, as the streams take it, is told where it goes instead (the
/// query's token is not read).
fn no_bearer(req: &Request<Incoming>) -> Error {
    if misplaced(req.uri().query()) {
        Error::Unauthorized(QUERY_TOKEN)
    } else {
        Error::Unauthorized("Not authenticated")
    }
}

/// Why a REST request with `?token=` and no bearer token is refused.
const QUERY_TOKEN: &str = "Not authenticated: a REST route takes the token in the \
    Authorization header (Authorization: Bearer <token>), not in the query string, \
    where only the WebSocket streams read it";

/// Whether a setting turned `route` off (`METRICS_ENABLED`, `UI_ENABLED`):
/// then it answers as a route that does not exist.
fn switched_off(app: &App, route: &Route) -> bool {
    match route {
        Route::Metrics => !app.config.metrics.enabled,
        Route::Ui(_) => !app.config.server.ui_enabled,
        _ => false,
    }
}

/// 431 when the header fields add up to more than [`MAX_HEADER_BYTES`].
fn check_header_size(headers: &hyper::HeaderMap) -> Result<(), Error> {
    let total: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    if total > MAX_HEADER_BYTES {
        return Err(Error::HeadersTooLarge(MAX_HEADER_BYTES));
    }
    Ok(())
}

/// Answers `req`, naming its route class in `class` once it is routed.
async fn respond(
    app: Arc<App>,
    req: Request<Incoming>,
    client: IpAddr,
    class: &mut &'static str,
) -> Result<Response<Body>, Error> {
    if let Some(over) = req.extensions().get::<OverClientCap>() {
        return Err(Error::TooManyConnections { limit: over.limit });
    }
    check_header_size(req.headers())?;
    #[cfg(debug_assertions)]
    if req.headers().contains_key(PANIC_TRIGGER) {
        panic!("{PANIC_TRIGGER} asked for a panic");
    }
    if let Some(answer) = app.cors.preflight(req.method(), req.headers()) {
        return answer;
    }
    let fleet_port = hosts::peer(&req).is_some();
    let req = match fleet_port && req.uri().path().starts_with("/fleet/") {
        true => {
            *class = "fleet";
            return Box::pin(hosts::fleet_endpoint(&app, req, client))
                .await
                .unwrap_or(Err(Error::RouteNotFound));
        }
        false => req,
    };
    // Boxed: a request for this host needs none of its state.
    let req = match Box::pin(hosts::route(&app, req, client)).await? {
        hosts::Routed::Here(req) => req,
        hosts::Routed::Answered(response) => {
            *class = "forwarded";
            return Ok(response);
        }
    };
    let route = router::resolve(req.method(), req.uri().path(), app.config.mcp.enabled)?;
    if switched_off(&app, &route) {
        return Err(Error::RouteNotFound);
    }
    *class = route.class().map_or("open", Class::name);
    if let Some(class) = route.class() {
        app.limiter
            .check(client, class)
            .map_err(Error::from)
            .inspect_err(|e| {
                if route == Route::Login {
                    refused(&app, &req, Action::Login, e);
                }
            })?;
    }
    match route.guard() {
        Guard::Token => {
            let caller = credential(req.headers(), None, Carrier::Header)
                .ok_or_else(|| no_bearer(&req))
                .and_then(|token| identify(&app, &route, &token))
                .map(|caller| caller.at(req.extensions().get()))
                .inspect_err(|e| refused(&app, &req, Action::Token, e))?;
            match route {
                Route::Metrics => {
                    no_query(req.uri().query())?;
                    metrics::serve(&app, &caller).await
                }
                _ => api::dispatch(&app, route, req, caller).await,
            }
        }
        Guard::McpKey => {
            let caller = mcp::authorize(&app, &route, &req, client)?;
            mcp::handle(&app, route, req, client, caller).await
        }
        Guard::StreamToken => ws::accept(&app, route, req),
        Guard::Open => match route {
            Route::Ui(asset) => {
                no_query(req.uri().query())?;
                Ok(ui::serve(asset))
            }
            _ => api::open(&app, route, req, client).await,
        },
    }
}
