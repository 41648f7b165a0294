//! One WebSocket client: authenticate, subscribe, then forward messages
//! until the stream, the client or the server ends.
//!
//! - The token (a login JWT or a scoped API token) comes from `?token=` or
//!   `Authorization: Bearer`; a missing, invalid or expired one closes with
//!   1008 and a readable reason, and so does an open stream when its JWT's
//!   `exp` passes ("token expired") or its scoped token is removed from the
//!   tokens file ("token revoked"). An empty `?token=` counts as absent, so
//!   it cannot hide a valid header.
//!   A refused token is recorded in the audit trail.
//! - The stream is the catalogue's operation for the route
//!   ([`crate::ops`]), run for the caller with the route's parameters and
//!   query string; a refusal or a bad parameter closes as
//!   [`crate::streams::close_for`] says.
//! - Queued messages are written in batches and flushed once per batch. A
//!   slow reader is never cut off: writing simply waits for it, and its
//!   stream lags (see [`crate::streams::hub`] for why nothing is lost
//!   meanwhile).
//! - A ping goes out every `WS_PING_INTERVAL` (30 s). Only a **dead** peer
//!   is closed: one that for three intervals neither sent anything (no pong)
//!   nor took any of the bytes we were waiting to write. It gets 1008 and a
//!   reason.
//! - On server shutdown the client gets close code 1001.
//! - Clients need send nothing but control frames; their messages are read
//!   and ignored (the terminal, [`super::exec`], takes them as its input). One that breaks the protocol gets a close frame saying
//!   how instead of a silent disconnect: 1009 for a message over 64 KiB,
//!   1007 for text that is not UTF-8, 1002 for anything else. A client's
//!   own close frame is answered before the connection ends.

use crate::app::App;
use crate::audit::{self, Action};
use crate::auth::bearer_token;
use crate::error::Error;
use crate::http::query::Query;
use crate::http::router::{Params, Route};
use crate::input::Input;
use crate::ops::{self, Answer, Cx, Operation};
use crate::policy::{Caller, Surface};
use crate::streams::{Close, Next, Sub, close_for};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use hyper::Request;
use hyper::body::Incoming;
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::error::ProtocolError;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

/// Messages written before one flush.
const BATCH: usize = 1024;
/// Silent ping intervals after which a peer is presumed dead.
const DEAD_AFTER_PINGS: u32 = 3;

pub(super) type Socket = WebSocketStream<TokioIo<Upgraded>>;
type Sink = SplitSink<Socket, Message>;

/// What a client asked for, captured from the upgrade request.
pub struct StreamRequest {
    operation: &'static Operation,
    params: Params,
    token: Option<String>,
    query: Option<String>,
    /// The request's audit context, for a refused token.
    audit: Option<audit::Context>,
}

impl StreamRequest {
    /// The request for the stream `operation`; `None` for a route that
    /// is not one.
    pub fn new(route: Route, req: &Request<Incoming>) -> Option<StreamRequest> {
        let Route::Op(operation, params) = route else {
            return None;
        };
        let query = req.uri().query().map(str::to_string);
        let from_query = Query::parse(query.as_deref())
            .get("token")
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        let token = from_query.or_else(|| bearer_token(req.headers()).map(str::to_string));
        Some(StreamRequest {
            operation,
            params,
            token,
            query,
            audit: req.extensions().get().cloned(),
        })
    }
}

pub async fn run(app: Arc<App>, ws: Socket, req: StreamRequest) {
    let (sink, stream) = ws.split();
    let (inbox, input) = match req.operation.op.runs_commands {
        true => {
            let (tx, rx) = mpsc::channel(super::exec::INBOX);
            (Some(tx), Some(rx))
        }
        false => (None, None),
    };
    let peer = Peer::new(sink, stream, app.config.server.ping_interval, inbox);
    let token = req.token.as_deref().filter(|t| !t.is_empty());
    let identified = token
        .ok_or(Error::Unauthorized("Not authenticated"))
        .and_then(|t| app.policy.identify(&app.auth, t, Surface::Ws));
    let caller = match identified {
        Ok(caller) => caller.at(req.audit.as_ref()),
        Err(e) => {
            let ctx = req.audit.as_ref();
            app.audit.refused(ctx, Surface::Ws, Action::StreamOpen, &e);
            let reason = if token.is_some() {
                "Invalid or expired token"
            } else {
                "Not authenticated"
            };
            return peer.close(Close::new(1008, reason)).await;
        }
    };
    let query = Query::parse(req.query.as_deref());
    let mut fields = Input::query(req.params, &query);
    fields.ignore("token");
    let cx = Cx {
        app: &app,
        caller: &caller,
        log_fit: None,
    };
    let answer = ops::run(req.operation, &cx, fields).await;
    match (answer, input) {
        (Ok(Answer::Stream(sub)), _) => forward(&app, peer, sub, &caller).await,
        (Ok(Answer::Terminal(t, io)), Some(input)) => {
            super::exec::run(app.clone(), peer, input, &caller, t, io).await
        }
        (Ok(_), _) => peer.close(close_for(&Error::Internal)).await,
        (Err(e), _) => peer.close(close_for(&e)).await,
    }
}

/// How long a peer may show no sign of life before it counts as dead.
pub fn dead_after(ping_interval: Duration) -> Duration {
    ping_interval * DEAD_AFTER_PINGS
}

/// The instant a token expiring at `exp` (Unix seconds) stops being valid.
fn expiry(exp: i64) -> Instant {
    let at = std::time::UNIX_EPOCH + Duration::from_secs(exp.max(0) as u64);
    let left = at
        .duration_since(std::time::SystemTime::now())
        .unwrap_or_default();
    Instant::now() + left
}

/// Completes with the close owed to `caller`'s stream when the server
/// shuts down, or the caller's token expires or is revoked.
pub(super) async fn cut_off(app: &App, caller: &Caller) -> Close {
    let mut closing = app.closing();
    let expires = caller.expires().map(expiry);
    let expired = async {
        match expires {
            Some(at) => tokio::time::sleep_until(at).await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = closing.wait_for(|c| *c) => Close::new(1001, "Server shutting down"),
        _ = expired => Close::new(1008, "token expired"),
        _ = app.policy.revoked(caller) => Close::new(1008, "token revoked: it is no longer in API_TOKENS_FILE"),
    }
}

/// Forwards the subscription to the peer until one of them ends, or the
/// caller's token expires or is revoked.
async fn forward(app: &App, mut peer: Peer, mut sub: Sub, caller: &Caller) {
    let mut gone = peer.gone.clone();
    let mut ping = peer.pings();
    let cut = cut_off(app, caller);
    tokio::pin!(cut);
    let close = loop {
        let step = tokio::select! {
            close = &mut cut => Err(Stop::Close(close)),
            stop = departure(&mut gone) => Err(stop),
            next = sub.next(BATCH) => match next {
                Next::Messages(batch) => peer.write(batch.into_iter().map(text)).await,
                Next::Closed(reason) => Err(Stop::Close(reason)),
            },
            _ = ping.tick() => peer.ping().await,
        };
        match step {
            Ok(()) => {}
            Err(Stop::Gone) => return peer.finish().await,
            Err(Stop::Close(close)) => break close,
        }
    };
    peer.close(close).await;
}

/// A stream's message as a WebSocket text message (its bytes are UTF-8).
fn text(t: crate::streams::Text) -> Message {
    match tokio_tungstenite::tungstenite::Utf8Bytes::try_from(t.into_bytes()) {
        Ok(text) => Message::Text(text),
        Err(_) => Message::Text("".into()),
    }
}

/// Waits until the peer's side ends, and says what is owed to it.
pub(super) async fn departure(gone: &mut watch::Receiver<Option<Departure>>) -> Stop {
    match gone.wait_for(Option::is_some).await.map(|d| d.clone()) {
        Ok(Some(Departure::Broke(close))) => Stop::Close(close),
        _ => Stop::Gone,
    }
}

/// Why forwarding stops.
pub(super) enum Stop {
    /// The peer left or the connection broke: nothing more to send.
    Gone,
    /// Close the connection with this frame.
    Close(Close),
}

/// The client's side of the socket: the write half, and what the reader
/// task (which answers pings and takes the peer's frames) last heard.
pub(super) struct Peer {
    sink: Sink,
    every: Duration,
    heard: Arc<Mutex<Instant>>,
    /// When a write we had to wait for last went through.
    progress: Instant,
    pub(super) gone: watch::Receiver<Option<Departure>>,
    reader: tokio::task::JoinHandle<()>,
}

impl Peer {
    /// The peer; its data messages go to `inbox` when there is one
    /// (waiting for room there), else are dropped.
    fn new(
        sink: Sink,
        stream: SplitStream<Socket>,
        every: Duration,
        inbox: Option<mpsc::Sender<Message>>,
    ) -> Peer {
        let heard = Arc::new(Mutex::new(Instant::now()));
        let (gone_tx, gone) = watch::channel(None);
        let reader = tokio::spawn(read_peer(stream, heard.clone(), gone_tx, inbox));
        Peer {
            sink,
            every,
            heard,
            progress: Instant::now(),
            gone,
            reader,
        }
    }

    /// How long the peer has shown no sign of life.
    fn silent_for(&self) -> Duration {
        let heard = *self.heard.lock().unwrap_or_else(|e| e.into_inner());
        heard.max(self.progress).elapsed()
    }

    /// The ticks at which the peer is pinged.
    pub(super) fn pings(&self) -> tokio::time::Interval {
        tokio::time::interval_at(Instant::now() + self.every, self.every)
    }

    fn dead(&self) -> Option<Stop> {
        let limit = dead_after(self.every);
        (self.silent_for() > limit).then(|| {
            let reason = format!(
                "no reads and no pong for {} s: peer presumed dead",
                limit.as_secs()
            );
            Stop::Close(Close::new(1008, reason))
        })
    }

    pub(super) async fn ping(&mut self) -> Result<(), Stop> {
        if let Some(dead) = self.dead() {
            return Err(dead);
        }
        self.write(std::iter::once(Message::Ping(Default::default())))
            .await
    }

    /// Writes and flushes `messages`, waiting as long as the peer is alive.
    pub(super) async fn write(
        &mut self,
        messages: impl Iterator<Item = Message>,
    ) -> Result<(), Stop> {
        for m in messages {
            self.wait(|sink, cx| sink.poll_ready_unpin(cx)).await?;
            self.sink.start_send_unpin(m).map_err(|_| Stop::Gone)?;
        }
        self.wait(|sink, cx| sink.poll_flush_unpin(cx)).await
    }

    /// Polls `op` to completion; gives up only when the peer is dead.
    async fn wait(
        &mut self,
        mut op: impl FnMut(&mut Sink, &mut Context<'_>) -> Poll<Result<(), WsError>>,
    ) -> Result<(), Stop> {
        let mut blocked = false;
        loop {
            let sink = &mut self.sink;
            let step = std::future::poll_fn(|cx| {
                let r = op(sink, cx);
                blocked |= r.is_pending();
                r
            });
            match tokio::time::timeout(self.every, step).await {
                Ok(Ok(())) => {
                    if blocked {
                        self.progress = Instant::now();
                    }
                    return Ok(());
                }
                Ok(Err(_)) => return Err(Stop::Gone),
                Err(_) => {
                    if let Some(dead) = self.dead() {
                        return Err(dead);
                    }
                }
            }
        }
    }

    /// Sends a close frame and waits briefly for the peer's reply.
    pub(super) async fn close(mut self, close: Close) {
        let frame = CloseFrame {
            code: CloseCode::from(close.code),
            reason: clip_reason(&close.reason).into(),
        };
        let polite = async {
            self.sink.send(Message::Close(Some(frame))).await.ok()?;
            self.gone.wait_for(Option::is_some).await.map(drop).ok()?;
            Some(())
        };
        let _ = tokio::time::timeout(Duration::from_secs(2), polite).await;
        self.reader.abort();
    }

    /// Sends what the socket still owes a peer that left (the answer to
    /// its close frame), briefly: the connection may be gone already.
    pub(super) async fn finish(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(2), self.sink.flush()).await;
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

/// How the peer's side of the connection ended.
#[derive(Debug, Clone)]
pub(super) enum Departure {
    /// It closed, or the connection broke: nothing is owed but the answer
    /// to its close frame, if it sent one.
    Left,
    /// It broke the protocol or a limit: it gets a close frame saying how.
    Broke(Close),
}

/// Takes the peer's frames (tungstenite answers its pings meanwhile),
/// noting when each arrived; says how the peer left when its frames end.
async fn read_peer(
    mut stream: SplitStream<Socket>,
    heard: Arc<Mutex<Instant>>,
    gone: watch::Sender<Option<Departure>>,
    inbox: Option<mpsc::Sender<Message>>,
) {
    let departure = loop {
        match stream.next().await {
            Some(Ok(msg)) => {
                *heard.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
                if matches!(msg, Message::Close(_)) {
                    break Departure::Left;
                }
                let delivered = match (&inbox, &msg) {
                    (Some(inbox), Message::Binary(_) | Message::Text(_)) => {
                        inbox.send(msg).await.is_ok()
                    }
                    _ => true,
                };
                if !delivered {
                    break Departure::Left;
                }
            }
            Some(Err(e)) => break broken(&e),
            None => break Departure::Left,
        }
    };
    gone.send_replace(Some(departure));
}

/// What a peer whose frames failed with `e` is owed: a close frame for a
/// message too big, text that is not UTF-8 or a protocol violation;
/// nothing for a connection that merely ended.
fn broken(e: &WsError) -> Departure {
    let close = match e {
        WsError::Capacity(_) => Close::new(
            1009,
            format!("message too big (limit {} KiB)", super::MAX_INCOMING / 1024),
        ),
        WsError::Utf8(_) => Close::new(1007, "text message is not UTF-8"),
        WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake) => return Departure::Left,
        WsError::Protocol(p) => Close::new(1002, format!("protocol error: {p}")),
        _ => return Departure::Left,
    };
    Departure::Broke(close)
}

/// Clips a close reason to the 123 bytes a close frame allows.
fn clip_reason(reason: &str) -> String {
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    reason[..end].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_reasons_fit_a_close_frame() {
        assert_eq!(clip_reason("short"), "short");
        let long = "é".repeat(100);
        let clipped = clip_reason(&long);
        assert!(clipped.len() <= 123 && clipped.len() >= 122);
    }

    fn owed(e: WsError) -> Option<(u16, String)> {
        match broken(&e) {
            Departure::Broke(c) => Some((c.code, c.reason)),
            Departure::Left => None,
        }
    }

    #[test]
    fn a_peer_that_breaks_the_rules_is_told_how() {
        use tokio_tungstenite::tungstenite::error::CapacityError;
        let too_long = CapacityError::MessageTooLong {
            size: 70_000,
            max_size: 65_536,
        };
        assert_eq!(
            owed(WsError::Capacity(too_long)),
            Some((1009, "message too big (limit 64 KiB)".into()))
        );
        assert_eq!(
            owed(WsError::Utf8("\u{fffd}".into())),
            Some((1007, "text message is not UTF-8".into()))
        );
        let unmasked = owed(WsError::Protocol(ProtocolError::UnmaskedFrameFromClient));
        assert_eq!(unmasked.map(|(code, _)| code), Some(1002));
        assert_eq!(
            owed(WsError::Protocol(
                ProtocolError::ResetWithoutClosingHandshake
            )),
            None,
            "a peer that just went away is owed nothing"
        );
        assert_eq!(owed(WsError::ConnectionClosed), None);
    }
}
