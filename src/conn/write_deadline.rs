//! A write deadline for client connections: a write that makes no progress
//! for `WRITE_TIMEOUT` fails with `TimedOut`, and hyper then drops the
//! connection, so a client that stops reading cannot hold its connection —
//! and the answer buffered for it — forever. Only a stalled write is timed;
//! an idle connection with nothing to send is the header timeout's business.
//! WebSocket and SSE streams run over the same wrapper after an upgrade; a
//! WebSocket session raises its connection's [`WriteLimit`], since it tells
//! a slow reader from a dead one itself (pings and pongs).

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

/// A connection's write deadline, shared with its requests so an upgrade
/// can change it.
#[derive(Clone, Debug)]
pub struct WriteLimit(Arc<AtomicU64>);

impl WriteLimit {
    pub fn new(limit: Duration) -> WriteLimit {
        WriteLimit(Arc::new(AtomicU64::new(limit.as_millis() as u64)))
    }

    pub fn set(&self, limit: Duration) {
        self.0.store(limit.as_millis() as u64, Ordering::Relaxed);
    }

    fn get(&self) -> Duration {
        Duration::from_millis(self.0.load(Ordering::Relaxed))
    }
}

pub struct WriteDeadline<T> {
    io: T,
    limit: WriteLimit,
    /// Running while a write is stalled.
    stalled: Option<Pin<Box<Sleep>>>,
}

impl<T> WriteDeadline<T> {
    pub fn new(io: T, limit: WriteLimit) -> WriteDeadline<T> {
        WriteDeadline {
            io,
            limit,
            stalled: None,
        }
    }

    pub fn get_ref(&self) -> &T {
        &self.io
    }

    /// Passes progress through; a stall past the limit becomes an error.
    fn watch<R>(&mut self, cx: &mut Context<'_>, poll: Poll<io::Result<R>>) -> Poll<io::Result<R>> {
        if poll.is_ready() {
            self.stalled = None;
            return poll;
        }
        let limit = self.limit.get();
        let timer = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client stopped reading",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for WriteDeadline<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for WriteDeadline<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.io).poll_write(cx, buf);
        self.watch(cx, poll)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        self.watch(cx, poll)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let poll = Pin::new(&mut self.io).poll_flush(cx);
        self.watch(cx, poll)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let poll = Pin::new(&mut self.io).poll_shutdown(cx);
        self.watch(cx, poll)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test(start_paused = true)]
    async fn a_stalled_write_fails_after_the_limit() {
        let (ours, mut theirs) = tokio::io::duplex(16);
        let mut io = WriteDeadline::new(ours, WriteLimit::new(Duration::from_secs(5)));
        io.write_all(&[0; 16]).await.unwrap();
        let err = io.write_all(&[0; 1]).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        let mut got = [0; 16];
        theirs.read_exact(&mut got).await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_reader_that_keeps_reading_is_never_cut_off() {
        let (ours, mut theirs) = tokio::io::duplex(16);
        let mut io = WriteDeadline::new(ours, WriteLimit::new(Duration::from_secs(5)));
        let reader = tokio::spawn(async move {
            let mut chunk = [0; 16];
            let mut total = 0;
            while total < 160 {
                tokio::time::sleep(Duration::from_secs(4)).await;
                total += theirs.read(&mut chunk).await.unwrap();
            }
        });
        io.write_all(&[0; 160]).await.unwrap();
        reader.await.unwrap();
    }
}
