//! Idle keep-alive connections parked outside hyper.
//!
//! hyper's HTTP/1 connection keeps an 8 KiB read buffer and an 8 KiB write
//! buffer for its whole life, so a thousand idle keep-alive clients would
//! hold 16 MiB doing nothing. Instead, once a connection has answered
//! everything it was asked and flushed the answer, and its socket has
//! nothing more to read, [`Parkable`] tells hyper the client closed: hyper
//! ends the connection cleanly without shutting the socket, the server
//! takes the socket back ([`Parked`]) and waits for it to become readable
//! with no buffer at all, then serves it with a fresh hyper connection.
//!
//! What keeps this invisible to clients:
//! - Only an idle connection parks: no request in flight, no response body
//!   unsent ([`Activity`] counts them, the response body carries a guard),
//!   every written byte flushed, and no byte read since the last answer
//!   completed (a request head arriving in several packets is never cut).
//! - A pipelined request hyper had already buffered comes back as the
//!   connection's leftover bytes and is replayed first on the next round.
//! - An upgraded connection (WebSocket) never parks: the `101` marks it.

use super::WriteDeadline;
use futures_util::task::AtomicWaker;
use hyper::body::{Body, Buf, Bytes, Frame, SizeHint};
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;

/// A socket that can say when it has something to read.
pub trait Socket: AsyncRead + AsyncWrite + Unpin + Send + 'static {
    fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>>;
}

impl Socket for WriteDeadline<TcpStream> {
    fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_ref().poll_read_ready(cx)
    }
}

impl Socket for Box<TlsStream<WriteDeadline<TcpStream>>> {
    fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_ref().0.poll_read_ready(cx)
    }
}

/// What a connection's requests are doing, shared between its service and
/// its socket wrapper.
#[derive(Debug, Default)]
pub struct Activity {
    in_flight: AtomicUsize,
    /// Answers completed so far.
    completed: AtomicU64,
    upgraded: AtomicBool,
    /// The latest request came with a body, which its handler may have left
    /// unread: the connection stays with hyper, which reads past the rest
    /// of it (or closes), so no leftover body byte is ever taken for the
    /// next request.
    bodied: AtomicBool,
    /// The connection's task, woken when its last request completes so the
    /// socket is read again (and parks if the client has nothing to say).
    waiting: AtomicWaker,
}

impl Activity {
    /// Counts a request until the returned guard (carried by its response
    /// body) drops.
    pub fn begin(self: &Arc<Activity>, bodied: bool) -> InFlight {
        self.bodied.store(bodied, Ordering::Relaxed);
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(self.clone())
    }

    /// A `101` answer: the connection now belongs to its new protocol.
    pub fn upgraded(&self) {
        self.upgraded.store(true, Ordering::Relaxed);
    }
}

/// One request in flight; dropped with its response body.
#[derive(Debug)]
pub struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.completed.fetch_add(1, Ordering::Relaxed);
        if self.0.in_flight.fetch_sub(1, Ordering::Relaxed) == 1 {
            self.0.waiting.wake();
        }
    }
}

/// A response body that holds its request's [`InFlight`] guard.
pub struct Tracked<B> {
    body: B,
    _guard: InFlight,
}

impl<B> Tracked<B> {
    pub fn new(body: B, guard: InFlight) -> Tracked<B> {
        Tracked {
            body,
            _guard: guard,
        }
    }
}

impl<B: Body + Unpin> Body for Tracked<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// The socket as hyper sees it: reads end ("the client closed") once the
/// connection is idle, and then shutting it down leaves it open.
pub struct Parkable<T> {
    io: T,
    activity: Arc<Activity>,
    /// Bytes read by an earlier round and not yet parsed, replayed first.
    leftover: Bytes,
    unflushed: bool,
    /// `completed` when bytes last arrived.
    read_at: u64,
    parked: bool,
}

/// A socket taken back from hyper between requests.
pub struct Parked<T> {
    pub io: T,
    pub leftover: Bytes,
}

impl<T: Socket> Parkable<T> {
    pub fn new(parked: Parked<T>, activity: Arc<Activity>) -> Parkable<T> {
        let read_at = activity.completed.load(Ordering::Relaxed);
        Parkable {
            io: parked.io,
            activity,
            leftover: parked.leftover,
            unflushed: false,
            read_at,
            parked: false,
        }
    }

    /// The socket back, if this round ended by parking; `unread` is what
    /// hyper had read and not parsed.
    pub fn into_parked(self, unread: Bytes) -> Option<Parked<T>> {
        self.parked.then(|| Parked {
            io: self.io,
            leftover: unread,
        })
    }

    fn idle(&self) -> bool {
        let a = &self.activity;
        !self.unflushed
            && !a.upgraded.load(Ordering::Relaxed)
            && !a.bodied.load(Ordering::Relaxed)
            && a.in_flight.load(Ordering::Relaxed) == 0
            && a.completed.load(Ordering::Relaxed) > self.read_at
    }

    fn arrived(&mut self) {
        self.read_at = self.activity.completed.load(Ordering::Relaxed);
    }
}

impl<T> Parked<T> {
    pub fn new(io: T) -> Parked<T> {
        Parked {
            io,
            leftover: Bytes::new(),
        }
    }
}

impl<T: Socket> Parked<T> {
    /// Waits until the client sends more (or closes).
    pub async fn readable(&self) -> io::Result<()> {
        std::future::poll_fn(|cx| self.io.poll_read_ready(cx)).await
    }
}

impl<T: Socket> AsyncRead for Parkable<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.leftover.has_remaining() {
            let n = self.leftover.len().min(buf.remaining());
            buf.put_slice(&self.leftover[..n]);
            self.leftover.advance(n);
            self.arrived();
            return Poll::Ready(Ok(()));
        }
        let before = buf.filled().len();
        match Pin::new(&mut self.io).poll_read(cx, buf) {
            Poll::Pending if self.idle() => {
                self.parked = true;
                Poll::Ready(Ok(()))
            }
            Poll::Pending => {
                self.activity.waiting.register(cx.waker());
                Poll::Pending
            }
            Poll::Ready(Ok(())) if buf.filled().len() > before => {
                self.arrived();
                Poll::Ready(Ok(()))
            }
            other => other,
        }
    }
}

impl<T: Socket> AsyncWrite for Parkable<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.unflushed = true;
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.unflushed = true;
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let poll = Pin::new(&mut self.io).poll_flush(cx);
        if let Poll::Ready(Ok(())) = poll {
            self.unflushed = false;
        }
        poll
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.parked {
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::Full;
    use hyper::server::conn::http1;
    use hyper_util::rt::TokioIo;
    use std::convert::Infallible;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    impl Socket for TcpStream {
        fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            TcpStream::poll_read_ready(self, cx)
        }
    }

    async fn pair() -> (TcpStream, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap());
        let (client, accepted) = tokio::join!(client, listener.accept());
        (client.unwrap(), accepted.unwrap().0)
    }

    /// Serves one round on `server`; the socket back if it parked.
    async fn round(server: Parked<TcpStream>) -> Option<Parked<TcpStream>> {
        let activity = Arc::new(Activity::default());
        let io = TokioIo::new(Parkable::new(server, activity.clone()));
        let svc = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
            let guard = activity.begin(!hyper::body::Body::is_end_stream(req.body()));
            async move {
                let body = Full::new(Bytes::from_static(b"ok"));
                Ok::<_, Infallible>(hyper::Response::new(Tracked::new(body, guard)))
            }
        });
        let mut conn = http1::Builder::new().serve_connection(io, svc);
        let ended = (&mut conn).await;
        if let Err(e) = ended {
            assert!(e.is_incomplete_message(), "{e}");
        }
        let parts = conn.into_parts();
        parts.io.into_inner().into_parked(parts.read_buf)
    }

    const GET: &[u8] = b"GET / HTTP/1.1\r\nhost: a\r\n\r\n";

    async fn answer(client: &mut TcpStream) -> String {
        let mut buf = vec![0; 1024];
        let n = client.read(&mut buf).await.unwrap();
        String::from_utf8_lossy(&buf[..n]).into_owned()
    }

    #[tokio::test]
    async fn an_unread_request_body_is_never_taken_for_the_next_request() {
        let (mut client, server) = pair().await;
        let head = b"POST / HTTP/1.1\r\nhost: a\r\ncontent-length: 27\r\n\r\n";
        // The body, never read by the service, looks like a request.
        client
            .write_all(&[head.as_slice(), GET].concat())
            .await
            .unwrap();
        let serving = tokio::spawn(round(Parked::new(server)));
        let first = answer(&mut client).await;
        client.write_all(GET).await.unwrap();
        let limit = std::time::Duration::from_secs(10);
        let served = tokio::time::timeout(limit, serving).await;
        let parked = served.expect("the bodiless request is answered").unwrap();
        assert!(parked.expect("parked after it").leftover.is_empty());
        let second = tokio::time::timeout(limit, answer(&mut client)).await;
        let second = second.unwrap_or_default();
        let answers = format!("{first}{second}");
        assert_eq!(answers.matches("HTTP/1.1 200").count(), 2, "{answers}");
    }

    #[tokio::test]
    async fn an_answered_connection_parks_and_serves_again() {
        let (mut client, server) = pair().await;
        client.write_all(GET).await.unwrap();
        let parked = round(Parked::new(server)).await.expect("parked");
        assert!(answer(&mut client).await.ends_with("\r\n\r\nok"));
        assert!(parked.leftover.is_empty());
        client.write_all(GET).await.unwrap();
        parked.readable().await.unwrap();
        let again = round(parked).await.expect("parked again");
        assert!(answer(&mut client).await.ends_with("ok"));
        client.shutdown().await.unwrap();
        again.readable().await.unwrap();
        assert!(
            round(again).await.is_none(),
            "a closed client does not park"
        );
    }

    #[tokio::test]
    async fn a_half_read_pipelined_request_is_kept_for_the_next_round() {
        let (mut client, server) = pair().await;
        client
            .write_all(b"GET / HTTP/1.1\r\nhost: a\r\n\r\nGET / HT")
            .await
            .unwrap();
        let parked = round(Parked::new(server)).await.expect("parked");
        assert_eq!(&parked.leftover[..], b"GET / HT");
        client
            .write_all(b"TP/1.1\r\nhost: a\r\n\r\n")
            .await
            .unwrap();
        parked.readable().await.unwrap();
        round(parked).await.expect("parked again");
        let mut both = String::new();
        while both.matches("200 OK").count() < 2 {
            both += &answer(&mut client).await;
        }
        assert!(both.ends_with("ok"), "{both}");
    }

    #[tokio::test]
    async fn a_request_still_arriving_does_not_park() {
        let (mut client, server) = pair().await;
        client.write_all(b"GET / HTTP/1.1\r\nho").await.unwrap();
        let serving = tokio::spawn(round(Parked::new(server)));
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        client.write_all(b"st: a\r\n\r\n").await.unwrap();
        serving.await.unwrap().expect("parked after the answer");
        assert!(answer(&mut client).await.ends_with("ok"));
    }
}
