//! The client's side of a WebSocket: the write half (batched writes that
//! wait for a slow reader as long as it is alive), the reader task that
//! takes its frames and notes when it was last heard, pings, the close
//! frame a peer is owed, and when a caller's stream must end (shutdown,
//! an expired or revoked token). Shared by the streams and the terminal.

use crate::app::App;
use crate::policy::Caller;
use crate::streams::Close;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
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

/// Silent ping intervals after which a peer is presumed dead.
const DEAD_AFTER_PINGS: u32 = 3;

pub(super) type Socket = WebSocketStream<TokioIo<Upgraded>>;
pub(super) type Sink = SplitSink<Socket, Message>;

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
    pub(super) fn new(
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
