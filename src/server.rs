//! The accept loop: HTTP/1.1 with keep-alive on hyper, each connection
//! served once by hyper's own lifecycle (upgrades included), caps on open
//! connections overall and per client ([`crate::conn`]), a header-read timeout
//! against slow-loris clients, a write deadline against clients that stop
//! reading, TLS when configured (the handshake and
//! certificates live in [`crate::tls`]), and graceful shutdown.
//!
//! Shutdown: stop accepting, tell every connection to finish its in-flight
//! request and close, and every WebSocket stream to close with 1001 (through
//! [`App::closing`]), then wait for both — at most `SHUTDOWN_TIMEOUT` seconds.

mod hosts;
mod join;
mod pipeline;

use crate::app::App;
use crate::conn::{Admission, Io, Slots, WriteDeadline, WriteLimit};
use crate::tls::{Accepted, FleetPeer, Plain, Tls};
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};

/// Read buffer per connection. hyper checks it before each read, so one read
/// can overshoot it: at this size no request head past about 64 KiB is ever
/// buffered. The pipeline answers 431 past 16 KiB of headers.
const MAX_BUF: usize = 32 * 1024;

/// A listening port and how it is served.
pub struct Listening {
    pub listener: TcpListener,
    /// TLS on it, if any (always, on the fleet port).
    pub tls: Option<Arc<Tls>>,
    /// The fleet port: mutual TLS with the fleet's CA, requests from peers.
    pub fleet: bool,
}

/// Serves `ports` until `shutdown` completes, then drains connections.
pub async fn serve(ports: Vec<Listening>, app: Arc<App>, shutdown: impl Future<Output = ()>) {
    let slots = Slots::new(
        app.config.server.max_connections,
        app.config.server.max_connections_per_client,
    );
    let (stop_tx, stop_rx) = watch::channel(false);
    let (done_tx, mut done_rx) = mpsc::channel::<()>(1);
    let accepting = ports.into_iter().map(|port| {
        let (slots, app, stop, done) = (&slots, app.clone(), stop_rx.clone(), done_tx.clone());
        accept(port, slots, app, stop, done)
    });
    // A host behind NAT serves through the front door it dials (FLEET_JOIN).
    let joining = async {
        match (app.config.fleet.join.clone(), app.fleet.client()) {
            (Some(door), Some(tls)) => {
                let (stop, done) = (stop_rx.clone(), done_tx.clone());
                join::run(app.clone(), door, tls, &slots, stop, done).await
            }
            _ => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = shutdown => {}
        _ = futures_util::future::join_all(accepting) => {}
        () = joining => {}
    }
    log::info!("shutting down: finishing in-flight requests");
    app.begin_shutdown();
    let _ = stop_tx.send(true);
    drop(done_tx);
    let grace = app.config.server.shutdown_grace;
    let drained = async {
        done_rx.recv().await;
        app.streams_done().await;
    };
    if tokio::time::timeout(grace, drained).await.is_err() {
        log::warn!(grace_secs = grace.as_secs(); "connections still open after the grace period; closing them");
    }
}

/// Accepts connections on `port` for as long as the server runs (the
/// caller drops this future at shutdown, which closes the listener).
async fn accept(
    port: Listening,
    slots: &Slots,
    app: Arc<App>,
    stop: watch::Receiver<bool>,
    done: mpsc::Sender<()>,
) {
    let side = Side {
        tls: port.tls,
        fleet: port.fleet,
    };
    loop {
        let Some(slot) = slots.vacancy().await else {
            return;
        };
        match port.listener.accept().await {
            Ok((stream, peer)) => {
                // `None`: over its cap with no refusal turn free; dropping closes it.
                let Some(admission) = slots.admit(slot, peer.ip()) else {
                    continue;
                };
                let (app, stop, done) = (app.clone(), stop.clone(), done.clone());
                let side = side.clone();
                tokio::spawn(async move {
                    connection(stream, peer, app, stop, admission, side).await;
                    drop(done);
                });
            }
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning.
                log::warn!(error = e.to_string().as_str(); "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// Which port a connection came to.
#[derive(Clone)]
struct Side {
    tls: Option<Arc<Tls>>,
    fleet: bool,
}

async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    app: Arc<App>,
    stop: watch::Receiver<bool>,
    admission: Admission,
    side: Side,
) {
    let _ = stream.set_nodelay(true);
    let server = &app.config.server;
    let header_timeout = admission.header_timeout(server.header_read_timeout);
    let limit = WriteLimit::new(server.write_timeout);
    let Some(tls) = side.tls else {
        let io = WriteDeadline::new(stream, limit.clone());
        let standing = Standing::default();
        return http(Box::new(io), peer, app, stop, admission, limit, standing).await;
    };
    // The handshake counts against the header-read timeout. Boxed: the
    // handshake's state is kilobytes, and every connection's task would
    // otherwise keep room for it.
    match Box::pin(tls.accept(stream, &limit, header_timeout, peer)).await {
        Some(Accepted::Tls(io)) => {
            let standing = match side.fleet {
                // The handshake required a certificate of the fleet's CA.
                true => match crate::tls::peer_of(io.get_ref().1.peer_certificates()) {
                    Some(peer) => Standing {
                        via: Some(Arc::new(peer)),
                        ..Standing::default()
                    },
                    None => return,
                },
                false => Standing::default(),
            };
            http(io, peer, app, stop, admission, limit, standing).await
        }
        // The fleet port takes nothing in plain text.
        Some(Accepted::Plain(..)) if side.fleet => {}
        Some(Accepted::Plain(io, plain)) => {
            let standing = Standing {
                plain_on_tls: Some(plain),
                ..Standing::default()
            };
            http(Box::new(io), peer, app, stop, admission, limit, standing).await
        }
        None => {}
    }
}

/// What a connection's requests carry from how it was made.
#[derive(Clone, Default)]
struct Standing {
    /// On the fleet port: the agent at the other end.
    via: Option<Arc<FleetPeer>>,
    /// Plain text on the TLS port, which serves only what [`Plain`] allows.
    plain_on_tls: Option<Plain>,
    /// On a connection this agent opened to its front door: the count of
    /// connections serving ([`join`]).
    busy: Option<Arc<join::Busy>>,
}

/// Serves HTTP/1.1 (with upgrades) on an established connection until it
/// closes, or the server stops (then the request in flight finishes and
/// the connection closes); plain text on the TLS port (`plain_on_tls`)
/// gets only what [`Plain`] allows. hyper's header-read timeout also
/// closes a keep-alive connection that stays quiet that long.
async fn http(
    io: Box<dyn Io>,
    peer: SocketAddr,
    app: Arc<App>,
    mut stop: watch::Receiver<bool>,
    admission: Admission,
    limit: WriteLimit,
    standing: Standing,
) {
    let header_timeout = admission.header_timeout(app.config.server.header_read_timeout);
    let requests = Requests {
        app,
        peer,
        admission: Arc::new(admission),
        limit,
        standing,
    };
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .max_buf_size(MAX_BUF)
        .serve_connection(TokioIo::new(io), requests)
        .with_upgrades();
    tokio::pin!(conn);
    let stopping = async move {
        let _ = stop.wait_for(|s| *s).await;
    };
    tokio::select! {
        _ = conn.as_mut() => {}
        () = stopping => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

/// Every request of a connection goes through the pipeline
/// ([`pipeline`]) with its connection's standing attached.
#[derive(Clone)]
struct Requests {
    app: Arc<App>,
    peer: SocketAddr,
    admission: Arc<Admission>,
    limit: WriteLimit,
    standing: Standing,
}

impl hyper::service::Service<hyper::Request<hyper::body::Incoming>> for Requests {
    type Response = hyper::Response<crate::http::body::Body>;
    type Error = Infallible;
    // Boxed: hyper keeps room for one request future in every connection,
    // and the pipeline's future is kilobytes.
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn call(&self, mut req: hyper::Request<hyper::body::Incoming>) -> Self::Future {
        self.admission.mark(&mut req);
        req.extensions_mut().insert(self.limit.clone());
        if let Some(via) = &self.standing.via {
            req.extensions_mut().insert(via.clone());
        }
        let (app, peer, plain_on_tls) = (self.app.clone(), self.peer, self.standing.plain_on_tls);
        let serving = self.standing.busy.as_ref().map(join::Busy::serving);
        Box::pin(async move {
            let resp = if plain_on_tls.is_some_and(|p| !p.allows(&req)) {
                crate::tls::https_only()
            } else {
                pipeline::handle(app, req, peer).await
            };
            Ok(match serving {
                Some(serving) => resp.map(|body| {
                    http_body_util::BodyExt::boxed_unsync(join::Counted {
                        body,
                        _serving: serving,
                    })
                }),
                None => resp,
            })
        })
    }
}
