//! One WebSocket client: authenticate, subscribe, then forward messages
//! until the stream, the client or the server ends.
//!
//! - The token comes from `?token=` or `Authorization: Bearer`; a missing,
//!   invalid or expired one closes with 1008 and a readable reason.
//! - Queued messages are written in batches and flushed once per batch; a
//!   write that cannot complete within [`SEND_TIMEOUT`] drops the client.
//! - A ping goes out every `WS_PING_INTERVAL` (30 s); a peer silent for
//!   two intervals is considered dead and dropped.
//! - On server shutdown the client gets close code 1001.

use super::hub::{Close, Next};
use super::topics;
use crate::app::App;
use crate::auth::bearer_token;
use crate::http::query::Query;
use crate::http::router::Route;
use futures_util::{SinkExt, StreamExt};
use hyper::Request;
use hyper::body::Incoming;
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

pub const SEND_TIMEOUT: Duration = Duration::from_secs(30);
/// Messages written before one flush.
const BATCH: usize = 1024;

type Socket = WebSocketStream<TokioIo<Upgraded>>;

/// What a client asked for, captured from the upgrade request.
pub struct StreamRequest {
    route: Route,
    token: Option<String>,
    query: Option<String>,
}

impl StreamRequest {
    pub fn new(route: Route, req: &Request<Incoming>) -> StreamRequest {
        let query = req.uri().query().map(str::to_string);
        let from_query = Query::parse(query.as_deref())
            .get("token")
            .map(str::to_string);
        let token = from_query.or_else(|| bearer_token(req.headers()).map(str::to_string));
        StreamRequest {
            route,
            token,
            query,
        }
    }
}

pub async fn run(app: Arc<App>, mut ws: Socket, req: StreamRequest) {
    let token = req.token.as_deref().filter(|t| !t.is_empty());
    let Some(token) = token else {
        return close(ws, Close::new(1008, "Not authenticated")).await;
    };
    if app.auth.verify(token).is_err() {
        return close(ws, Close::new(1008, "Invalid or expired token")).await;
    }
    let mut sub =
        match topics::subscribe(&app, &req.route, Query::parse(req.query.as_deref())).await {
            Ok(sub) => sub,
            Err(refusal) => return close(ws, refusal).await,
        };
    let mut closing = app.closing();
    let every = app.config.server.ping_interval;
    let mut ping = tokio::time::interval_at(Instant::now() + every, every);
    let mut last_heard = Instant::now();
    loop {
        tokio::select! {
            _ = async { closing.wait_for(|c| *c).await.map(drop) } => {
                return close(ws, Close::new(1001, "Server shutting down")).await;
            }
            incoming = ws.next() => match incoming {
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return,
                Some(Ok(_)) => last_heard = Instant::now(),
            },
            next = sub.next() => match next {
                Next::Message(first) => {
                    let mut batch = vec![first];
                    while batch.len() < BATCH {
                        match sub.try_next() {
                            Some(m) => batch.push(m),
                            None => break,
                        }
                    }
                    if !send_batch(&mut ws, batch).await {
                        return;
                    }
                }
                Next::Closed(reason) => return close(ws, reason).await,
            },
            _ = ping.tick() => {
                if last_heard.elapsed() > every * 2 {
                    log::info!("websocket peer stopped answering pings; dropping it");
                    return;
                }
                if !send_batch_raw(&mut ws, vec![Message::Ping(Default::default())]).await {
                    return;
                }
            }
        }
    }
}

async fn send_batch(
    ws: &mut Socket,
    batch: Vec<tokio_tungstenite::tungstenite::Utf8Bytes>,
) -> bool {
    send_batch_raw(ws, batch.into_iter().map(Message::Text).collect()).await
}

/// Writes and flushes `messages` within [`SEND_TIMEOUT`]; false if the client is gone or stalled.
async fn send_batch_raw(ws: &mut Socket, messages: Vec<Message>) -> bool {
    let write = async {
        for m in messages {
            ws.feed(m).await?;
        }
        ws.flush().await
    };
    matches!(tokio::time::timeout(SEND_TIMEOUT, write).await, Ok(Ok(())))
}

/// Clips a close reason to the 123 bytes a close frame allows.
fn clip_reason(reason: &str) -> String {
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    reason[..end].to_string()
}

/// Sends a close frame and waits briefly for the peer's reply.
async fn close(mut ws: Socket, close: Close) {
    let frame = CloseFrame {
        code: CloseCode::from(close.code),
        reason: clip_reason(&close.reason).into(),
    };
    let polite = async {
        ws.close(Some(frame)).await.ok()?;
        while let Some(Ok(_)) = ws.next().await {}
        Some(())
    };
    let _ = tokio::time::timeout(Duration::from_secs(2), polite).await;
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
}
