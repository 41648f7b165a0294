//! The legacy HTTP+SSE transport (protocol 2024-11-05), as the original
//! served it: `GET /mcp/sse` opens a stream whose first event, `endpoint`,
//! names `/mcp/messages/?session_id=<id>`; the client POSTs each message
//! there, gets `202 Accepted`, and the answer arrives on the stream as a
//! `message` event.
//!
//! Sessions are bounded in number and idle time (no message for an hour
//! ends the stream); a comment line keeps the stream alive every
//! `WS_PING_INTERVAL` (30 s); the
//! session is removed when its stream closes, and streams end on shutdown.
//! Each session runs at most [`IN_FLIGHT`] requests at once and queues at
//! most [`QUEUE`] answers.

use super::jsonrpc::{self, Incoming, Message};
use super::protocol::{self, Ctx, Era};
use super::streamable::read_body;
use crate::app::App;
use crate::error::Error;
use crate::http::body::{self, Body};
use crate::http::query::Query;
use futures_util::StreamExt;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::{Bytes, Frame, Incoming as HyperBody};
use hyper::header::{self, HeaderValue};
use hyper::{Request, Response, StatusCode};
use std::convert::Infallible;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use tokio::sync::{Semaphore, mpsc};

/// Requests one session may have in progress.
pub const IN_FLIGHT: usize = 8;
/// Answers one session may have waiting to be written.
pub const QUEUE: usize = 64;

pub struct SseSession {
    tx: mpsc::Sender<Bytes>,
    /// Negotiated by `initialize`; 2024-11-05 until then.
    version: Mutex<&'static str>,
    in_flight: Arc<Semaphore>,
}

/// Removes the session when its stream is dropped (client gone or shutdown).
struct Cleanup {
    app: Arc<App>,
    id: String,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        self.app.mcp.sse.remove(&self.id);
    }
}

fn event(name: &str, data: &str) -> Bytes {
    Bytes::from(format!("event: {name}\ndata: {data}\n\n"))
}

/// `GET /mcp/sse`.
pub fn open(app: &Arc<App>) -> Result<Response<Body>, Error> {
    let (tx, rx) = mpsc::channel(QUEUE);
    let session = Arc::new(SseSession {
        tx,
        version: Mutex::new("2024-11-05"),
        in_flight: Arc::new(Semaphore::new(IN_FLIGHT)),
    });
    let id = app
        .mcp
        .sse
        .insert(session)
        .ok_or(Error::Busy("Too many MCP sessions; try again later"))?;
    let first = event("endpoint", &format!("/mcp/messages/?session_id={id}"));
    let keepalive = app.config.server.ping_interval;
    let state = (
        rx,
        tokio::time::interval_at(tokio::time::Instant::now() + keepalive, keepalive),
        app.closing(),
        Cleanup {
            app: app.clone(),
            id,
        },
    );
    let rest = futures_util::stream::unfold(
        state,
        |(mut rx, mut tick, mut closing, cleanup)| async move {
            let next = tokio::select! {
                msg = rx.recv() => msg,
                _ = tick.tick() => (!cleanup.app.mcp.sse.expired(&cleanup.id)).then(|| Bytes::from_static(b": ping\n\n")),
                _ = async { closing.wait_for(|c| *c).await.map(drop) } => None,
            };
            next.map(|bytes| (bytes, (rx, tick, closing, cleanup)))
        },
    );
    let frames = futures_util::stream::once(async { first })
        .chain(rest)
        .map(|bytes| Ok::<_, Infallible>(Frame::data(bytes)));
    let mut resp = Response::new(StreamBody::new(frames).boxed_unsync());
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(resp)
}

fn is_session_id(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `POST /mcp/messages/?session_id=…`.
pub async fn message(
    app: &Arc<App>,
    req: Request<HyperBody>,
    client: IpAddr,
) -> Result<Response<Body>, Error> {
    let query = Query::parse(req.uri().query());
    let id = query
        .get("session_id")
        .ok_or(Error::BadRequest("session_id is required".into()))?;
    if !is_session_id(id) {
        return Err(Error::BadRequest("Invalid session ID".into()));
    }
    let session = app.mcp.sse.get(id).ok_or(Error::UnknownSession)?;
    let (_, bytes) = read_body(app, req).await?;
    let incoming = match jsonrpc::parse(&bytes) {
        Ok(i) => i,
        Err(error) => return Ok(body::json(StatusCode::BAD_REQUEST, &error)),
    };
    let permit = session
        .in_flight
        .clone()
        .try_acquire_owned()
        .map_err(|_| Error::TooManyRequests { retry_after: 1 })?;
    if let Incoming::Single(Message::Request { method, params, .. }) = &incoming {
        if method == "initialize" {
            let requested = params.get("protocolVersion").and_then(|v| v.as_str());
            *session.version.lock().unwrap_or_else(|e| e.into_inner()) =
                protocol::negotiate(requested);
        }
    }
    let app = app.clone();
    tokio::spawn(async move {
        let version = *session.version.lock().unwrap_or_else(|e| e.into_inner());
        let ctx = Ctx {
            app: &app,
            era: Era::Handshake(version),
            client,
        };
        if let Some(reply) = protocol::answer_all(&ctx, incoming).await {
            let _ = session.tx.send(event("message", &reply.to_string())).await;
        }
        drop(permit);
    });
    let mut resp = Response::new(body::full("Accepted"));
    *resp.status_mut() = StatusCode::ACCEPTED;
    Ok(resp)
}
