//! The legacy HTTP+SSE transport (protocol 2024-11-05), as the v1
//! contract has it: `GET /mcp/sse` opens a stream whose first event, `endpoint`,
//! names `/mcp/messages/?session_id=<id>`; the client POSTs each message
//! there, gets `202 Accepted`, and the answer arrives on the stream as a
//! `message` event. The session id admits the client's POSTs when they
//! carry no key, as the caller who opened it: clients given
//! `/mcp/sse?api_key=` post to the bare endpoint (a key they do present
//! must still be valid, and a session opened with a scoped token stops
//! admitting once the token is removed). A message presenting another
//! credential than the session's gets `404`, as for an unknown session.
//!
//! A request whose `params._meta` carries a protocol version is answered in
//! the 2026-07-28 revision, as on `POST /mcp` but without its header
//! checks (a Streamable HTTP rule) and without the session: it sees no
//! questions (a confirmation comes back `input_required`) and no
//! `resources/subscribe`; its progress still comes on the stream. So a
//! client that probed with `server/discover` and stayed modern (the official
//! Python SDK's default) is served here too.
//!
//! A session's resource subscriptions (`resources/subscribe`) are heard on
//! its stream too, as `message` events, taken from its
//! [`super::changes::Listener`] as the stream is read (so they never fill
//! the answer queue).
//!
//! Sessions are bounded in number — overall, per client and per credential
//! ([`super::SSE_SESSIONS`]) — and in idle time (no message for an hour
//! ends the stream); a comment line keeps the stream alive every
//! `WS_PING_INTERVAL` (30 s); the session is removed when its stream
//! closes, and streams end on shutdown. Opening a session never fails: a
//! session the table gives up to make room (see [`super::sessions`]) gets
//! an `error` event saying why, its stream ends, and its later messages get
//! 404.
//! Each session runs at most [`IN_FLIGHT`] requests at once and queues at
//! most [`QUEUE`] answers and [`QUEUE_BYTES`] bytes. SSE clients are
//! expected to read their stream: one whose queue is full is cut off — it
//! gets an `error` event, its stream ends and the session is removed (later
//! messages to it get 404), with a warning in the agent's log.

use super::changes::Listener;
use super::context::Ctx;
use super::exchange::{Outbox, Outlet, SessionClient};
use super::jsonrpc::{self, Incoming, MAX_RESPONSE, Message, Replies};
use super::protocol;
use super::sessions::{Evicted, Holder, Session, Shares};
use super::transport::{KEEP_ALIVE, event, event_stream, read_body};
use crate::app::App;
use crate::auth::secret::Secret;
use crate::error::Error;
use crate::http::body::{self, Body};
use crate::http::query::Query;
use crate::policy::{Caller, Credential};
use futures_util::StreamExt;
use hyper::body::{Bytes, Incoming as HyperBody};
use hyper::{Request, Response, StatusCode};
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use tokio::sync::{Notify, Semaphore, mpsc, watch};

/// Requests one session may have in progress.
pub const IN_FLIGHT: usize = 8;
/// Answers one session may have waiting to be written.
pub const QUEUE: usize = 64;
/// Bytes of answers one session may have waiting: two of the largest.
pub const QUEUE_BYTES: usize = 2 * MAX_RESPONSE;

/// A legacy SSE session: its stream's queue, who opened it, its client and
/// its subscriptions.
pub struct SseSession {
    tx: mpsc::Sender<Bytes>,
    /// Who opened the session: the caller of its keyless messages.
    caller: Caller,
    /// The credential it opened the session with, as presented: what its
    /// keyless messages' calls for another host are sent on with.
    presented: Option<Secret>,
    /// Its client as `initialize` described it; 2024-11-05 and no
    /// capabilities until then.
    peer: Mutex<Arc<SessionClient>>,
    in_flight: Arc<Semaphore>,
    /// Bytes sent into `tx` and not yet taken by the stream.
    queued: AtomicUsize,
    /// Why the agent ended the session, once it did; `cut` then ends the
    /// stream with an `error` event saying so.
    ending: OnceLock<String>,
    cut: Notify,
    /// The resources it subscribed to, heard on its stream.
    listener: Arc<Listener>,
}

impl SseSession {
    fn peer(&self) -> Arc<SessionClient> {
        self.peer.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Ends the stream with an `error` event giving `why`; false if it was
    /// already ending.
    fn stop(&self, why: String) -> bool {
        let first = self.ending.set(why).is_ok();
        if first {
            self.cut.notify_one();
        }
        first
    }
}

impl Outlet for SseSession {
    /// Queues a message for the stream; false once the session is cut off
    /// because its queue is full (the stream then ends when next polled).
    fn offer(&self, bytes: Bytes) -> bool {
        if self.ending.get().is_some() {
            return false;
        }
        let len = bytes.len();
        let queued = self.queued.fetch_add(len, Ordering::Relaxed) + len;
        if queued <= QUEUE_BYTES && self.tx.try_send(bytes).is_ok() {
            return true;
        }
        self.queued.fetch_sub(len, Ordering::Relaxed);
        let why = format!(
            "over {QUEUE_BYTES} bytes of answers were waiting; this client is not reading its stream"
        );
        if self.stop(why) {
            log::warn!(queue_bytes = QUEUE_BYTES, queue_messages = QUEUE; "mcp sse session cut off: its client is not reading the stream");
        }
        false
    }
}

/// A session given up by the table: its stream says why and ends, and its
/// later messages get `404`.
impl Session for Arc<SseSession> {
    fn end(&self, why: Evicted, shares: Shares) {
        self.stop(why.reason(shares));
    }
}

/// Removes the session when its stream is dropped (client gone or shutdown).
struct Cleanup {
    app: Arc<App>,
    id: String,
    credential: Credential,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        super::state(&self.app)
            .sse
            .remove(&self.id, &self.credential);
    }
}

/// Ends the waits of the session's questions when its stream goes.
impl Drop for SessionStream {
    fn drop(&mut self) {
        self.session.peer().questions.close();
    }
}

/// What a session's stream waits on.
struct SessionStream {
    rx: mpsc::Receiver<Bytes>,
    session: Arc<SseSession>,
    tick: tokio::time::Interval,
    closing: watch::Receiver<bool>,
    cleanup: Cleanup,
    ended: bool,
}

impl SessionStream {
    /// The next bytes to write: an answer, a keep-alive, or the event that
    /// ends a cut-off session; `None` ends the stream.
    async fn next(&mut self) -> Option<Bytes> {
        if self.ended {
            return None;
        }
        let app = &self.cleanup.app;
        tokio::select! {
            msg = self.rx.recv() => {
                let bytes = msg?;
                self.session.queued.fetch_sub(bytes.len(), Ordering::Relaxed);
                Some(bytes)
            }
            _ = self.tick.tick() => (!super::state(app).sse.expired(&self.cleanup.id)).then(|| Bytes::from_static(KEEP_ALIVE)),
            change = self.session.listener.next() => Some(event("message", change.message(None))),
            _ = self.session.cut.notified() => {
                self.ended = true;
                let why = self.session.ending.get().map_or("", String::as_str);
                Some(event("error", format_args!("session ended: {why}")))
            }
            _ = async { self.closing.wait_for(|c| *c).await.map(drop) } => None,
        }
    }
}

/// `GET /mcp/sse`, opened by `caller` from `client` with `presented`.
pub fn open(
    app: &Arc<App>,
    client: IpAddr,
    caller: Caller,
    presented: Option<Secret>,
) -> Response<Body> {
    let (tx, rx) = mpsc::channel(QUEUE);
    let listener = Listener::new(caller.clone(), true);
    let session = Arc::new(SseSession {
        tx,
        listener: listener.clone(),
        caller,
        presented,
        peer: Mutex::new(Arc::new(SessionClient::new(
            "2024-11-05",
            &serde_json::Value::Null,
            listener,
        ))),
        in_flight: Arc::new(Semaphore::new(IN_FLIGHT)),
        queued: AtomicUsize::new(0),
        ending: OnceLock::new(),
        cut: Notify::new(),
    });
    let id = super::state(app)
        .sse
        .open(Holder::of(client, &session.caller), session.clone());
    let first = event("endpoint", format_args!("/mcp/messages/?session_id={id}"));
    let keepalive = app.config.server.ping_interval;
    let credential = session.caller.credential.clone();
    let state = SessionStream {
        rx,
        session,
        tick: tokio::time::interval_at(tokio::time::Instant::now() + keepalive, keepalive),
        closing: app.closing(),
        cleanup: Cleanup {
            app: app.clone(),
            id,
            credential,
        },
        ended: false,
    };
    let rest = futures_util::stream::unfold(state, |mut stream| async move {
        stream.next().await.map(|bytes| (bytes, stream))
    });
    event_stream(futures_util::stream::once(async { first }).chain(rest))
}

fn is_session_id(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The caller of the live session `req` names (`?session_id=`): its
/// credential, since opening one took the API key or a token — `None` once
/// that token was removed from the tokens file.
pub fn session_caller(app: &App, req: &Request<HyperBody>) -> Option<Caller> {
    let query = Query::parse(req.uri().query());
    let id = query.get("session_id").filter(|id| is_session_id(id))?;
    let session = super::state(app).sse.peek(id)?;
    app.policy.refresh(&session.caller)
}

/// `POST /mcp/messages/?session_id=…`, from `caller` presenting
/// `presented` (else the session's credential).
pub async fn message(
    app: &Arc<App>,
    req: Request<HyperBody>,
    client: IpAddr,
    caller: Caller,
    presented: Option<Secret>,
) -> Result<Response<Body>, Error> {
    let query = Query::parse(req.uri().query());
    let id = query
        .get("session_id")
        .ok_or(Error::BadRequest("session_id is required".into()))?;
    if !is_session_id(id) {
        return Err(Error::BadRequest("Invalid session ID".into()));
    }
    let credential = &caller.credential;
    let session = super::state(app)
        .sse
        .get(id, credential)
        .ok_or(Error::UnknownSession)?;
    let (_, bytes) = read_body(app, req).await?;
    let incoming = match jsonrpc::parse(&bytes) {
        Ok(i) => i,
        Err(error) => return Ok(body::json(StatusCode::BAD_REQUEST, &error)),
    };
    // A client's answer to a question takes no turn: the questions hold theirs.
    let answers = matches!(incoming, Incoming::Single(Message::Response { .. }));
    let permit = match answers {
        true => None,
        false => Some(
            session
                .in_flight
                .clone()
                .try_acquire_owned()
                .map_err(|_| Error::TooManyRequests { retry_after: 1 })?,
        ),
    };
    // A request carrying the 2026-07-28 `_meta` is answered in that
    // revision, statelessly; `Err` is its refusal (an unsupported version).
    let stateless = match &incoming {
        Incoming::Single(Message::Request { id, method, params })
            if method != "initialize" && protocol::stamped_modern(params) =>
        {
            Some(protocol::check_modern(params).map_err(|e| e.response(id)))
        }
        _ => None,
    };
    if let Incoming::Single(Message::Request { method, params, .. }) = &incoming {
        if method == "initialize" {
            let requested = params.get("protocolVersion").and_then(|v| v.as_str());
            let listener = session.listener.clone();
            let peer = SessionClient::new(protocol::negotiate(requested), params, listener);
            *session.peer.lock().unwrap_or_else(|e| e.into_inner()) = Arc::new(peer);
        }
    }
    let (app, id) = (app.clone(), id.to_string());
    let presented = presented.or_else(|| session.presented.clone());
    tokio::spawn(async move {
        let out = Outbox::Session(session.clone());
        let who = (&caller, presented.as_ref());
        let reply = match stateless {
            Some(Err(refusal)) => Some(Replies::One(refusal)),
            Some(Ok(())) => {
                let ctx = Ctx::stateless(&app, client, who, out);
                protocol::answer_all(&ctx, incoming).await
            }
            None => {
                let ctx = Ctx::in_session(&app, client, who, session.peer(), out);
                protocol::answer_all(&ctx, incoming).await
            }
        };
        if let Some(reply) = reply {
            if !session.offer(event("message", reply)) {
                super::state(&app)
                    .sse
                    .remove(&id, &session.caller.credential);
            }
        }
        drop(permit);
    });
    let mut resp = Response::new(body::full("Accepted"));
    *resp.status_mut() = StatusCode::ACCEPTED;
    Ok(resp)
}
