//! HTTP/1.1 client connections kept for the next request, for every peer
//! the agent calls: its Docker daemon (over its socket or TCP) and the
//! other agents of its fleet; a connection unused for 30 s is closed. One
//! connection type ([`Io`], boxed) and one
//! body type ([`Outgoing`]), so hyper's client machinery is compiled once
//! for all of them. A kept connection that cannot take a request (the peer
//! closed it meanwhile) hands the request back unsent, to go on a new
//! one; a request that was sent is never sent twice.

use super::Io;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::{Bytes, Incoming};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// A request body: a caller's, streamed as it comes, or bytes at hand.
pub type Outgoing = UnsyncBoxBody<Bytes, Box<dyn std::error::Error + Send + Sync>>;

/// An empty request body.
pub fn empty() -> Outgoing {
    Empty::new().map_err(|never| match never {}).boxed_unsync()
}

/// A request body of `bytes`.
pub fn full(bytes: Bytes) -> Outgoing {
    Full::new(bytes)
        .map_err(|never| match never {})
        .boxed_unsync()
}

/// How long a connection is kept without a request.
const IDLE_FOR: Duration = Duration::from_secs(30);

/// Connections to one peer, idle or answering, each with when it was last used.
pub struct Pool {
    idle: Mutex<Vec<(SendRequest<Outgoing>, Instant)>>,
    /// Most connections kept.
    most: usize,
}

/// What became of a request offered to a kept connection.
pub enum Kept {
    /// It was sent: the answer's head, or how it failed.
    Sent(Result<Response<Incoming>, hyper::Error>),
    /// No kept connection took it: here it is, unsent.
    Unsent(Request<Outgoing>),
}

impl Pool {
    pub fn new(most: usize) -> Pool {
        Pool {
            idle: Mutex::default(),
            most,
        }
    }

    /// Sends `req` on a kept connection, if one takes it.
    pub async fn try_kept(&self, req: Request<Outgoing>) -> Kept {
        let Some(mut kept) = self.take() else {
            return Kept::Unsent(req);
        };
        match kept.try_send_request(req).await {
            Ok(response) => {
                self.keep(kept);
                Kept::Sent(Ok(response))
            }
            Err(mut e) => match e.take_message() {
                Some(unsent) => Kept::Unsent(unsent),
                None => Kept::Sent(Err(e.into_error())),
            },
        }
    }

    /// Sends `req` on the new connection `fresh`, and keeps it.
    pub async fn send_on(
        &self,
        mut fresh: SendRequest<Outgoing>,
        req: Request<Outgoing>,
    ) -> Result<Response<Incoming>, hyper::Error> {
        let response = fresh.send_request(req).await?;
        self.keep(fresh);
        Ok(response)
    }

    /// A kept connection ready for a request, if any; closed ones and
    /// ones unused for [`IDLE_FOR`] go.
    pub fn take(&self) -> Option<SendRequest<Outgoing>> {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        tidy(&mut idle);
        let ready = idle.iter().position(|(s, _)| s.is_ready())?;
        Some(idle.swap_remove(ready).0)
    }

    /// Keeps `sender` for a later request (it becomes ready when the
    /// response in flight has been read), up to the most kept.
    pub fn keep(&self, sender: SendRequest<Outgoing>) {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        tidy(&mut idle);
        if !sender.is_closed() && idle.len() < self.most {
            idle.push((sender, Instant::now()));
        }
    }
}

/// Drops the closed connections and those idle for [`IDLE_FOR`] (which
/// closes them).
fn tidy(idle: &mut Vec<(SendRequest<Outgoing>, Instant)>) {
    idle.retain(|(s, used)| !s.is_closed() && used.elapsed() < IDLE_FOR);
}

/// HTTP/1.1 as the client on `io` (upgrades allowed); the connection runs
/// in its own task until it closes.
pub async fn handshake(io: Box<dyn Io>) -> Result<SendRequest<Outgoing>, hyper::Error> {
    let (sender, conn) = http1::handshake(TokioIo::new(io)).await?;
    tokio::spawn(async move {
        let _ = conn.with_upgrades().await;
    });
    Ok(sender)
}
