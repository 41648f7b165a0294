//! Serving through a front door, for a host nobody can reach (behind NAT):
//! with `FLEET_JOIN`, this agent dials the front door's fleet port (mutual
//! TLS with the fleet's CA, both sides verified), asks to join
//! (`GET /fleet/v1/join`, upgraded), and then serves its unchanged API on
//! that connection with the roles reversed: the front door sends requests,
//! this agent answers them through the same pipeline as any request from a
//! peer of the fleet.
//!
//! It keeps [`SPARE`] such connections free at all times: when a request
//! (or a stream, which keeps its connection) takes one, another is opened,
//! up to [`MOST`]. A connection that breaks is replaced; while the front
//! door cannot be reached, it is dialled again with backoff and jitter.
//! Each connection holds a slot under `MAX_CONNECTIONS`.

use super::{Standing, http};
use crate::app::App;
use crate::conn::{Io, Slots, WriteLimit};
use crate::fleet::link;
use crate::http::body::Body;
use crate::membership::Address;
use hyper::body::{Bytes, Frame};
use hyper::header::{self, HeaderValue};
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use rustls::ClientConfig;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::{Notify, mpsc, watch};

/// Free connections kept open to the front door.
const SPARE: usize = 2;

/// Most connections open to the front door at once.
const MOST: usize = 256;

/// The first wait before dialling a front door that could not be reached, and the longest.
const RETRY_MIN: Duration = Duration::from_millis(500);
const RETRY_MAX: Duration = Duration::from_secs(30);

/// The connections open to the front door, and how many are serving.
#[derive(Default)]
pub struct Busy {
    open: AtomicUsize,
    serving: AtomicUsize,
    changed: Notify,
}

impl Busy {
    fn spare(&self) -> usize {
        let open = self.open.load(Ordering::Relaxed);
        open.saturating_sub(self.serving.load(Ordering::Relaxed))
    }

    /// Counts a request served until the guard (held by its answer's body) drops.
    pub fn serving(self: &Arc<Self>) -> Serving {
        self.serving.fetch_add(1, Ordering::Relaxed);
        self.changed.notify_one();
        Serving(self.clone())
    }
}

/// One request being served on a joined connection.
pub struct Serving(Arc<Busy>);

impl Drop for Serving {
    fn drop(&mut self) {
        self.0.serving.fetch_sub(1, Ordering::Relaxed);
        self.0.changed.notify_one();
    }
}

/// An answer's body that keeps its connection counted as serving until
/// it has been sent (or dropped).
pub struct Counted {
    pub body: Body,
    pub _serving: Serving,
}

impl hyper::body::Body for Counted {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.body.size_hint()
    }
}

/// Keeps connections open to the front door `door` and serves on them
/// until the server stops.
pub async fn run(
    app: Arc<App>,
    door: Address,
    tls: Arc<ClientConfig>,
    slots: &Slots,
    stop: watch::Receiver<bool>,
    done: mpsc::Sender<()>,
) {
    let busy = Arc::new(Busy::default());
    let mut retry = RETRY_MIN;
    let mut down = false;
    loop {
        if busy.spare() >= SPARE || busy.open.load(Ordering::Relaxed) >= MOST {
            busy.changed.notified().await;
            continue;
        }
        let Some(slot) = slots.vacancy().await else {
            return;
        };
        match join(&app, &door, &tls).await {
            Ok((io, via, at)) => {
                if down {
                    log::info!(door = door.to_string().as_str(); "joined the front door again");
                }
                (down, retry) = (false, RETRY_MIN);
                let Some(admission) = slots.admit(slot, at.ip()) else {
                    continue;
                };
                busy.open.fetch_add(1, Ordering::Relaxed);
                let standing = Standing {
                    via: Some(Arc::new(via)),
                    plain_on_tls: None,
                    busy: Some(busy.clone()),
                };
                let (app, stop, done, busy) =
                    (app.clone(), stop.clone(), done.clone(), busy.clone());
                let limit = WriteLimit::new(app.config.server.write_timeout);
                tokio::spawn(async move {
                    http(io, at, app, stop, admission, limit, standing).await;
                    busy.open.fetch_sub(1, Ordering::Relaxed);
                    busy.changed.notify_one();
                    drop(done);
                });
            }
            Err(why) => {
                if !down {
                    log::warn!(door = door.to_string().as_str(), error = why.as_str(); "cannot join the front door (FLEET_JOIN); retrying");
                    down = true;
                }
                tokio::time::sleep(crate::random::jittered(retry)).await;
                retry = (retry * 2).min(RETRY_MAX);
            }
        }
    }
}

/// Dials the front door and asks to join: the connection to serve on, the
/// front door as its certificate names it, and its address.
async fn join(
    app: &App,
    door: &Address,
    tls: &Arc<ClientConfig>,
) -> Result<(Box<dyn Io>, crate::tls::FleetPeer, SocketAddr), String> {
    let (io, via, at) = link::dial_tls_to_peer(door, tls).await?;
    let mut sender = link::handshake(io).await?;
    let key = app.fleet.own_key().await;
    let req = Request::get(format!(
        "{}?id={}",
        super::hosts::JOIN,
        crate::docker::path::segment(&key)
    ))
    .header(header::HOST, door.to_string())
    .header(header::CONNECTION, "upgrade")
    .header(
        header::UPGRADE,
        HeaderValue::from_static(super::hosts::JOIN_PROTOCOL),
    )
    .body(link::empty())
    .map_err(|e| e.to_string())?;
    let mut resp = sender
        .send_request(req)
        .await
        .map_err(|e| link::describe_http(&e))?;
    if resp.status() != StatusCode::SWITCHING_PROTOCOLS {
        return Err(format!(
            "it answered {} to joining: is FLEET_JOIN its fleet port (FLEET_PORT)?",
            resp.status().as_u16()
        ));
    }
    let upgraded = hyper::upgrade::on(&mut resp)
        .await
        .map_err(|e| format!("joining failed: {e}"))?;
    Ok((Box::new(TokioIo::new(upgraded)), via, at))
}
