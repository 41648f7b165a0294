//! MCP (Model Context Protocol) for AI assistants, written in-house:
//! JSON-RPC 2.0 over the legacy HTTP+SSE transport (`/mcp/sse`,
//! `/mcp/messages/`) and over Streamable HTTP (`/mcp`) in both the
//! handshake era (2025-03-26 … 2025-11-25) and the stateless 2026-07-28
//! revision, which needs no sticky sessions behind a load balancer.
//!
//! # Layout
//!
//! One line per file, bottom first: each file imports only the files listed
//! before it, and this module, their parent (the shared [`McpState`]);
//! `tests/layers.rs` holds the files to this list.
//!
//! - [`jsonrpc`]: JSON-RPC 2.0 messages, their limits and error codes;
//! - [`sessions`]: the session tables of both transports, bounded overall,
//!   per client and per credential;
//! - [`changes`]: resource change notifications, driven by Docker's events;
//! - [`paging`]: the stable order and cursors of the lists;
//! - [`transport`]: what the transports share: reading a message, SSE
//!   framing, the keep-alive comment and the session header;
//! - [`exchange`]: what a request may send before its result (progress,
//!   questions to the client) and the SSE answers that carry it;
//! - [`context`]: the per-request context (who asks, from where, in which
//!   era) and the helpers every method handler shares;
//! - [`tool_error`]: a tool's error result, with a message a model can act on;
//! - [`confirm`]: `MCP_CONFIRM`, a person's confirmation of a tool call;
//! - [`fleet`]: one MCP server for the fleet: the `host` argument, calls
//!   sent on to the host's own agent, every host's containers at once;
//! - [`tools`]: the operation catalogue's tools, listed to each caller as
//!   its role and the read-only modes allow;
//! - [`resources`]: the container resources, read and subscribed to;
//! - [`prompts`]: the prompts assembled from those resources;
//! - [`protocol`]: the method dispatcher: what each method answers, per era;
//! - [`listen`]: the notification streams of Streamable HTTP (`GET /mcp`,
//!   `subscriptions/listen`);
//! - [`sse`]: the legacy HTTP+SSE transport;
//! - [`streamable`]: the Streamable HTTP transport;
//! - this module: admission (Origin, Host, API key) and routing to the
//!   transports.
//!
//! Admission, before anything is read: an `Origin` that is neither listed in
//! `CORS_ORIGINS` nor the agent's own origin gets 403 (`*` does not count
//! here); when bound to loopback, a `Host` that is not loopback gets 403
//! (DNS rebinding); then `MCP_API_KEY` or a scoped API token — as
//! `Authorization: Bearer` or `?api_key=` — compared in constant time, else
//! 401. A legacy SSE message with no key at all is admitted by the live
//! session it names. A session belongs to the credential that opened it: to
//! any other it is unknown (`404`, as an id that never existed). Every
//! refused admission is recorded in the audit trail (`mcp.auth`).

pub mod changes;
pub mod confirm;
mod context;
pub mod exchange;
mod fleet;
pub mod jsonrpc;
pub mod listen;
mod paging;
mod prompts;
pub mod protocol;
mod resources;
pub mod sessions;
pub mod sse;
pub mod streamable;
mod tool_error;
pub mod tools;
pub mod transport;

use crate::app::App;
use crate::audit::{Action, Surface};
use crate::auth::secret::Secret;
use crate::error::Error;
use crate::http::body::Body;
use crate::http::cors::host;
use crate::http::credential::{Carrier, credential};
use crate::limit::Attempt;
use crate::net::{host_name, is_loopback};
use crate::policy::Caller;
use crate::router::Route;
use hyper::body::Incoming;
use hyper::header::HeaderMap;
use hyper::{Method, Request, Response};
use sessions::{Sessions, Shares};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

/// Sessions of both transports, and the notification streams.
pub struct McpState {
    /// Handshake-era Streamable HTTP sessions: id → their client.
    pub streamable: Sessions<Arc<exchange::SessionClient>>,
    /// Legacy HTTP+SSE sessions.
    pub sse: Sessions<Arc<sse::SseSession>>,
    /// Resource change notifications, from Docker's events.
    pub changes: Arc<changes::Watcher>,
    /// Open notification streams, per client.
    slots: listen::StreamSlots,
    /// Confirmations already used ([`confirm`]).
    pub spent: confirm::Spent,
}

/// Sessions idle this long expire.
const SESSION_IDLE: Duration = Duration::from_secs(3600);

/// Handshake-era Streamable HTTP sessions: in all, per client, per credential.
pub const STREAMABLE_SESSIONS: Shares = Shares {
    max: 1000,
    per_client: 64,
    per_credential: 500,
};

/// Legacy SSE sessions (each an open stream): in all, per client, per credential.
pub const SSE_SESSIONS: Shares = Shares {
    max: 100,
    per_client: 16,
    per_credential: 50,
};

/// The MCP surface's state in `app`.
pub fn state(app: &App) -> Arc<McpState> {
    app.surface()
}

impl Default for McpState {
    fn default() -> McpState {
        McpState {
            streamable: Sessions::new(STREAMABLE_SESSIONS, SESSION_IDLE),
            sse: Sessions::new(SSE_SESSIONS, SESSION_IDLE),
            changes: Arc::default(),
            slots: listen::StreamSlots::default(),
            spent: confirm::Spent::default(),
        }
    }
}

/// Origin and Host rules (see the module doc).
fn check_origin_and_host(app: &App, headers: &HeaderMap) -> Result<(), Error> {
    app.cors.check_origin(headers)?;
    let host = host(headers);
    if is_loopback(host_name(&app.config.server.host)) && !is_loopback(host_name(host)) {
        return Err(Error::Forbidden("Host not allowed"));
    }
    Ok(())
}

/// Admission for every MCP route (see [`admit`]); a refusal is recorded in
/// the audit trail.
pub fn authorize(
    app: &App,
    route: &Route,
    req: &Request<Incoming>,
    client: IpAddr,
) -> Result<Caller, Error> {
    let admitted = admit(app, route, req, client);
    admitted
        .map(|c| c.at(req.extensions().get()))
        .inspect_err(|e| {
            let ctx = req.extensions().get();
            app.audit.refused(ctx, Surface::Mcp, Action::McpAuth, e);
        })
}

/// Origin, Host, then the credential — the API key or a scoped API token —
/// which names the caller. A legacy SSE message that presents no key is
/// admitted by the live session it names, as the caller who opened it
/// (clients given `/mcp/sse?api_key=` POST to the bare endpoint the stream
/// announced), while that caller's token is still in force. A wrong or
/// missing key counts as a failed credential ([`crate::limit`]).
fn admit(
    app: &App,
    route: &Route,
    req: &Request<Incoming>,
    client: IpAddr,
) -> Result<Caller, Error> {
    check_origin_and_host(app, req.headers())?;
    let key = credential(req.headers(), req.uri().query(), Carrier::McpKey);
    if key.is_none() && *route == Route::McpMessages {
        if let Some(caller) = sse::session_caller(app, req) {
            return Ok(caller);
        }
    }
    app.limiter.may_try(client, Attempt::McpKey)?;
    let caller = key.and_then(|key| app.policy.mcp_caller(&app.config.mcp.api_key, &key));
    caller.ok_or_else(|| {
        app.limiter.failed(client, Attempt::McpKey);
        Error::Unauthorized("Invalid or missing MCP API key")
    })
}

/// Serves an admitted MCP request for `caller`.
pub async fn handle(
    app: &Arc<App>,
    route: Route,
    req: Request<Incoming>,
    client: IpAddr,
    caller: Caller,
) -> Result<Response<Body>, Error> {
    let presented = credential(req.headers(), req.uri().query(), Carrier::McpKey).map(Secret::new);
    match (route, req.method()) {
        (Route::McpSse, _) => Ok(sse::open(app, client, caller, presented)),
        (Route::McpMessages, _) => sse::message(app, req, client, caller, presented).await,
        (_, &Method::DELETE) => streamable::delete(app, req.headers(), &caller),
        (_, &Method::GET) => listen::get(app, req.headers(), client, &caller),
        _ => streamable::post(app, req, client, (&caller, presented.as_ref())).await,
    }
}
