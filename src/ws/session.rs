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

use super::peer::{Peer, Socket, Stop, cut_off, departure};
use crate::app::App;
use crate::audit::{self, Action};
use crate::error::Error;
use crate::http::credential::{Carrier, credential};
use crate::http::query::Query;
use crate::input::Input;
use crate::ops::{self, Answer, Cx, Operation};
use crate::policy::{Caller, Surface};
use crate::router::{Params, Route};
use crate::streams::{Close, Next, Sub, close_for};
use futures_util::StreamExt;
use hyper::Request;
use hyper::body::Incoming;
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

/// Messages written before one flush.
const BATCH: usize = 1024;

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
        let token = credential(req.headers(), query.as_deref(), Carrier::StreamToken);
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
    let token = req.token.as_deref();
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
        credential: req.token.as_deref(),
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
