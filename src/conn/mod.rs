//! What an open connection holds and owes, whatever serves it: its slot
//! under the caps on open connections overall and per client ([`slots`]),
//! and the deadline on writes to a client that stops reading
//! ([`write_deadline`]). The accept loop ([`crate::server`]) takes them;
//! TLS and the WebSocket streams carry them along. The connections the
//! agent opens itself are kept in a [`pool`].

pub mod pool;
mod slots;
mod write_deadline;

pub use slots::{Admission, ConnectionSlot, OverClientCap, Slots};
pub use write_deadline::{WriteDeadline, WriteLimit};

/// A connection's byte stream, whatever carries it (TCP, TLS either way,
/// an upgraded request): one type, so hyper's connection machinery is
/// compiled once for all of them.
pub trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}

impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Io for T {}
