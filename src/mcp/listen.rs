//! The long-lived notification streams of Streamable HTTP:
//!
//! - `GET /mcp` with a handshake-era `Mcp-Session-Id`: the session's
//!   standalone stream, carrying its resource change notifications (see
//!   [`super::changes`]). One per session (a second gets 409); it ends
//!   when the session does (`DELETE`, expiry, eviction).
//! - `subscriptions/listen` (2026-07-28): the request's answer is the
//!   stream. Its first event acknowledges the filter the agent honours —
//!   `resourcesListChanged`, and those `resourceSubscriptions` URIs that
//!   exist in scope (tools and prompts never change, so their flags are
//!   left out) — and every message carries the request id as
//!   `io.modelcontextprotocol/subscriptionId`. It ends when the client
//!   closes it; on shutdown the agent answers the request (a graceful end)
//!   first.
//!
//! Both are bounded: [`MAX_STREAMS`] in all and [`STREAMS_PER_CLIENT`] per
//! client; what waits for a slow reader is bounded by its [`Listener`].
//! Idle streams get a keep-alive comment every `WS_PING_INTERVAL`.

use super::changes::{Listener, MAX_URIS};
use super::context::Ctx;
use super::jsonrpc::{INTERNAL_ERROR, INVALID_PARAMS, Id, RpcError};
use super::resources;
use super::transport::{KEEP_ALIVE, SESSION_HEADER, event, event_stream};
use crate::app::App;
use crate::error::Error;
use crate::http::body::Body;
use crate::policy::Caller;
use hyper::Response;
use hyper::body::Bytes;
use hyper::header::HeaderMap;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use tokio::sync::watch;

/// Notification streams open at once, in all.
pub const MAX_STREAMS: usize = 256;
/// Notification streams one client may hold.
pub const STREAMS_PER_CLIENT: usize = 16;

/// Open streams per client.
#[derive(Default)]
pub struct StreamSlots(Mutex<HashMap<IpAddr, usize>>);

/// One open stream's place, given back when the stream ends.
struct Slot {
    app: Arc<App>,
    client: IpAddr,
}

impl StreamSlots {
    fn take(&self, app: &Arc<App>, client: IpAddr) -> Option<Slot> {
        let client = crate::net::client_key(client);
        let mut open = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let total: usize = open.values().sum();
        let mine = open.entry(client).or_default();
        if total >= MAX_STREAMS || *mine >= STREAMS_PER_CLIENT {
            return None;
        }
        *mine += 1;
        Some(Slot {
            app: app.clone(),
            client,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let state = super::state(&self.app);
        let mut open = state.slots.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.get_mut(&self.client) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.client);
            }
        }
    }
}

const BUSY: &str = "Too many MCP notification streams are open; close one first";

/// What one stream waits on.
struct Feed {
    app: Arc<App>,
    listener: Arc<Listener>,
    /// The `subscriptions/listen` request id; `None` for a session's stream.
    subscription: Option<Value>,
    /// The handshake session it belongs to.
    session: Option<String>,
    tick: tokio::time::Interval,
    closing: watch::Receiver<bool>,
    _slot: Slot,
    done: bool,
}

impl Feed {
    fn new(
        app: &Arc<App>,
        listener: Arc<Listener>,
        subscription: Option<Value>,
        session: Option<String>,
        slot: Slot,
    ) -> Feed {
        let every = app.config.server.ping_interval;
        Feed {
            app: app.clone(),
            listener,
            subscription,
            session,
            tick: tokio::time::interval_at(tokio::time::Instant::now() + every, every),
            closing: app.closing(),
            _slot: slot,
            done: false,
        }
    }

    /// Whether the stream may go on: its session lives and its caller's
    /// credential is still in force.
    fn alive(&self) -> bool {
        let session = self.session.as_deref();
        !session.is_some_and(|id| super::state(&self.app).streamable.expired(id))
            && self.app.policy.refresh(&self.listener.caller).is_some()
    }

    /// The next bytes to write; `None` ends the stream.
    async fn next(&mut self) -> Option<Bytes> {
        if self.done {
            return None;
        }
        let closing = &mut self.closing;
        tokio::select! {
            change = self.listener.next() => {
                Some(event("message", change.message(self.subscription.as_ref())))
            }
            _ = self.tick.tick() => self.alive().then(|| Bytes::from_static(KEEP_ALIVE)),
            _ = self.listener.ended.notified() => None,
            _ = async { closing.wait_for(|c| *c).await.map(drop) } => {
                self.done = true;
                self.subscription.as_ref().map(|id| event("message", closed(id)))
            }
        }
    }

    fn into_response(self, first: Option<Bytes>) -> Response<Body> {
        let rest = futures_util::stream::unfold(self, |mut feed| async move {
            feed.next().await.map(|bytes| (bytes, feed))
        });
        event_stream(futures_util::StreamExt::chain(
            futures_util::stream::iter(first),
            rest,
        ))
    }
}

impl Drop for Feed {
    fn drop(&mut self) {
        self.listener.release();
    }
}

/// The answer that ends a `subscriptions/listen` request gracefully.
fn closed(id: &Value) -> String {
    let meta = json!({"io.modelcontextprotocol/subscriptionId": id});
    json!({"jsonrpc": "2.0", "id": id, "result": {"resultType": "complete", "_meta": meta}})
        .to_string()
}

/// `GET /mcp`: the stream of the handshake-era session the request names.
/// A session opened with another credential is unknown to this caller.
pub fn get(
    app: &Arc<App>,
    headers: &HeaderMap,
    client: IpAddr,
    caller: &Caller,
) -> Result<Response<Body>, Error> {
    let id = headers
        .get(SESSION_HEADER)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            Error::BadRequest(
                "Missing Mcp-Session-Id header: GET /mcp opens a session's stream".into(),
            )
        })?;
    let session = super::state(app)
        .streamable
        .get(id, &caller.credential)
        .ok_or(Error::UnknownSession)?;
    let slot = super::state(app)
        .slots
        .take(app, client)
        .ok_or(Error::Busy(BUSY))?;
    let listener = session.listener.clone();
    if !listener.claim() {
        return Err(Error::Conflict(
            "This session's stream is already open; a session has one".into(),
        ));
    }
    super::state(app).changes.register(app, &listener);
    Ok(Feed::new(app, listener, None, Some(id.to_string()), slot).into_response(None))
}

/// `subscriptions/listen` (2026-07-28): the stream of the changes asked for.
pub async fn modern(ctx: &Ctx<'_>, id: &Id, params: &Value) -> Result<Response<Body>, RpcError> {
    let asked = params
        .get("notifications")
        .and_then(Value::as_object)
        .ok_or_else(|| {
            RpcError::new(
                INVALID_PARAMS,
                "params.notifications (an object) is required",
            )
        })?;
    let uris = subscriptions(asked)?;
    let slot = super::state(ctx.app)
        .slots
        .take(ctx.app, ctx.client)
        .ok_or_else(|| RpcError::new(INTERNAL_ERROR, BUSY))?;
    let list = asked.get("resourcesListChanged") == Some(&Value::Bool(true));
    let listener = Listener::new(ctx.caller.clone(), list);
    let mut honoured = Map::new();
    if list {
        honoured.insert("resourcesListChanged".into(), json!(true));
    }
    let mut kept = Vec::new();
    for uri in uris {
        if let Ok(target) = resources::target(ctx, uri).await {
            listener.subscribe(uri, target);
            kept.push(uri);
        }
    }
    if !kept.is_empty() {
        honoured.insert("resourceSubscriptions".into(), json!(kept));
    }
    if !honoured.is_empty() {
        super::state(ctx.app).changes.register(ctx.app, &listener);
    }
    let sub_id: Value = serde_json::from_str(id.as_str()).unwrap_or(Value::Null);
    let ack = json!({"jsonrpc": "2.0", "method": "notifications/subscriptions/acknowledged", "params": {
        "_meta": {"io.modelcontextprotocol/subscriptionId": sub_id}, "notifications": honoured}});
    let first = event("message", ack);
    Ok(Feed::new(ctx.app, listener, Some(sub_id), None, slot).into_response(Some(first)))
}

/// The URIs of `resourceSubscriptions`, checked.
fn subscriptions(asked: &Map<String, Value>) -> Result<Vec<&str>, RpcError> {
    let bad = || {
        RpcError::new(
            INVALID_PARAMS,
            format!(
                "notifications.resourceSubscriptions must be an array of at most {MAX_URIS} URI strings"
            ),
        )
    };
    match asked.get("resourceSubscriptions") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(a)) if a.len() <= MAX_URIS => {
            a.iter().map(|u| u.as_str().ok_or_else(bad)).collect()
        }
        Some(_) => Err(bad()),
    }
}
