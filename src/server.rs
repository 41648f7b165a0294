//! The accept loop: HTTP/1.1 with keep-alive on hyper, a cap on open
//! connections (a semaphore permit is taken before `accept`, so excess
//! clients wait in the kernel backlog instead of costing memory), a
//! header-read timeout against slow-loris clients, and graceful shutdown.
//!
//! Shutdown: stop accepting, tell every connection to finish its in-flight
//! request and close, and every WebSocket stream to close with 1001 (through
//! [`App::closing`]), then wait for both — at most `SHUTDOWN_TIMEOUT` seconds.

use crate::app::App;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, watch};

/// Read buffer per connection, which also caps the size of request headers.
const MAX_BUF: usize = 64 * 1024;

/// Serves `listener` until `shutdown` completes, then drains connections.
pub async fn serve(listener: TcpListener, app: Arc<App>, shutdown: impl Future<Output = ()>) {
    let permits = Arc::new(Semaphore::new(app.config.server.max_connections));
    let (stop_tx, stop_rx) = watch::channel(false);
    let (done_tx, mut done_rx) = mpsc::channel::<()>(1);
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            _ = &mut shutdown => break,
            permit = permits.clone().acquire_owned() => match permit {
                Ok(p) => tokio::select! {
                    _ = &mut shutdown => break,
                    r = listener.accept() => r.map(|conn| (conn, p)),
                },
                Err(_) => break,
            },
        };
        match accepted {
            Ok(((stream, peer), permit)) => {
                let (app, stop, done) = (app.clone(), stop_rx.clone(), done_tx.clone());
                tokio::spawn(async move {
                    connection(stream, peer, app, stop, ConnectionSlot::new(permit)).await;
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
    drop(listener);
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

/// A connection's place under `MAX_CONNECTIONS`. Requests carry it so that
/// a WebSocket upgrade can take the permit along: the stream then keeps
/// counting as an open connection after hyper lets go of the socket.
#[derive(Clone)]
pub struct ConnectionSlot(Arc<Mutex<Option<OwnedSemaphorePermit>>>);

impl ConnectionSlot {
    fn new(permit: OwnedSemaphorePermit) -> ConnectionSlot {
        ConnectionSlot(Arc::new(Mutex::new(Some(permit))))
    }

    /// Takes the permit (once) for something that outlives the HTTP connection.
    pub fn take(&self) -> Option<OwnedSemaphorePermit> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    app: Arc<App>,
    mut stop: watch::Receiver<bool>,
    slot: ConnectionSlot,
) {
    let _ = stream.set_nodelay(true);
    let header_timeout = app.config.server.header_read_timeout;
    let svc = service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
        req.extensions_mut().insert(slot.clone());
        let app = app.clone();
        async move { Ok::<_, Infallible>(crate::http::handler::handle(app, req, peer).await) }
    });
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .max_buf_size(MAX_BUF)
        .serve_connection(TokioIo::new(stream), svc)
        .with_upgrades();
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => return,
        _ = stop.wait_for(|s| *s) => {}
    }
    conn.as_mut().graceful_shutdown();
    let _ = conn.await;
}
