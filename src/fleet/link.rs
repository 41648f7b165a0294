//! The way to one other agent: HTTP/1.1 over mutual TLS, with a few idle
//! connections kept for the next request. A member that listens is dialled
//! at its fleet port; a member behind NAT dials this agent instead
//! (`FLEET_JOIN`) and keeps connections open for it, on which the roles
//! are reversed ([`Connections::joined`]): a request then waits for one of
//! those (the member opens more as they get busy). A request a kept
//! connection could not take (the peer closed it meanwhile) is sent again
//! on another; a request that was sent is never sent twice.

use crate::conn::Io;
use crate::conn::pool::{self, Kept, Pool};
pub use crate::conn::pool::{Outgoing, empty, full};
use crate::membership::Address;
use crate::tls::{FleetPeer, peer_of};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper::{Request, Response};
use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::Notify;

/// Most idle connections kept per member.
const IDLE: usize = 8;

/// How long a connection and its handshake may take.
const CONNECT: Duration = Duration::from_secs(5);

/// The name a fleet connection presents (SNI). Members are judged by their
/// certificate's chain to the fleet's CA, not by a name.
const FLEET_NAME: &str = "docker-agent.fleet";

/// Why a member could not be reached, in words for `/api/v1/hosts`.
pub type Why = String;

/// A request on its way: the answer's head, or why there is none.
pub type Sending<'a> = Pin<Box<dyn Future<Output = Result<Response<Incoming>, Why>> + Send + 'a>>;

/// How long a request for a joined member waits for one of its connections.
const JOINED_WAIT: Duration = Duration::from_secs(5);

pub struct Connections {
    address: Address,
    way: Way,
    pool: Pool,
}

/// How new connections to the member come about.
enum Way {
    /// This agent dials it.
    Dial(Arc<ClientConfig>),
    /// It dials this agent; `arrived` wakes requests waiting for one.
    Joined { arrived: Notify },
}

impl Connections {
    pub fn new(address: Address, tls: Arc<ClientConfig>) -> Connections {
        Connections {
            address,
            way: Way::Dial(tls),
            pool: Pool::new(IDLE),
        }
    }

    /// The connections a member behind NAT opens to this agent, from `address`.
    pub fn joined(address: Address) -> Connections {
        Connections {
            address,
            way: Way::Joined {
                arrived: Notify::new(),
            },
            // All it opens are for this agent.
            pool: Pool::new(usize::MAX),
        }
    }

    /// Takes a connection a joined member opened (the roles reversed on it).
    pub async fn arrived(&self, io: Box<dyn Io>) -> Result<(), Why> {
        let sender = handshake(io).await?;
        self.pool.keep(sender);
        if let Way::Joined { arrived } = &self.way {
            arrived.notify_waiters();
        }
        Ok(())
    }

    /// Whether it dials this agent (`FLEET_JOIN`).
    pub fn is_joined(&self) -> bool {
        matches!(self.way, Way::Joined { .. })
    }

    pub fn address(&self) -> &Address {
        &self.address
    }

    /// Sends `req` and gives the response's head (its body still to come).
    /// Boxed: every fleet path sends, and one copy of this serves them all.
    pub fn send(&self, req: Request<Outgoing>) -> Sending<'_> {
        Box::pin(self.sending(req))
    }

    async fn sending(&self, req: Request<Outgoing>) -> Result<Response<Incoming>, Why> {
        let req = match self.pool.try_kept(req).await {
            Kept::Sent(answer) => return answer.map_err(|e| describe_http(&e)),
            Kept::Unsent(req) => req,
        };
        let fresh = match &self.way {
            Way::Dial(tls) => self.dial(tls).await?,
            Way::Joined { arrived } => self.wait_joined(arrived).await?,
        };
        self.pool
            .send_on(fresh, req)
            .await
            .map_err(|e| describe_http(&e))
    }

    async fn dial(&self, tls: &Arc<ClientConfig>) -> Result<SendRequest<Outgoing>, Why> {
        handshake(dial_tls(&self.address, tls).await?).await
    }

    /// A joined member's next free connection, waiting [`JOINED_WAIT`] for one.
    async fn wait_joined(&self, arrived: &Notify) -> Result<SendRequest<Outgoing>, Why> {
        let waited = tokio::time::timeout(JOINED_WAIT, async {
            loop {
                let notified = arrived.notified();
                if let Some(sender) = self.pool.take() {
                    return sender;
                }
                notified.await;
            }
        });
        waited.await.map_err(|_| {
            format!(
                "it dials this agent (FLEET_JOIN) and had no free connection to it within {} s",
                JOINED_WAIT.as_secs()
            )
        })
    }
}

/// A mutual-TLS connection to the agent at `address`.
pub async fn dial_tls(address: &Address, tls: &Arc<ClientConfig>) -> Result<Box<dyn Io>, Why> {
    Ok(Box::new(connect(address, tls).await?))
}

/// [`dial_tls`], with the agent as its certificate names it and its address.
pub async fn dial_tls_to_peer(
    address: &Address,
    tls: &Arc<ClientConfig>,
) -> Result<(Box<dyn Io>, FleetPeer, SocketAddr), Why> {
    let stream = connect(address, tls).await?;
    let (tcp, session) = stream.get_ref();
    let at = tcp.peer_addr().map_err(|e| e.to_string())?;
    let peer = peer_of(session.peer_certificates()).ok_or("its certificate is unreadable")?;
    Ok((Box::new(stream), peer, at))
}

async fn connect(
    address: &Address,
    tls: &Arc<ClientConfig>,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, Why> {
    let target = (address.host.as_str(), address.port);
    let tcp = tokio::time::timeout(CONNECT, TcpStream::connect(target))
        .await
        .map_err(|_| format!("no answer within {} s", CONNECT.as_secs()))?
        .map_err(|e| describe_io(&e))?;
    let _ = tcp.set_nodelay(true);
    let name = ServerName::try_from(FLEET_NAME).map_err(|e| e.to_string())?;
    let connector = tokio_rustls::TlsConnector::from(tls.clone());
    let tls = tokio::time::timeout(CONNECT, connector.connect(name, tcp))
        .await
        .map_err(|_| format!("TLS handshake not done within {} s", CONNECT.as_secs()))?
        .map_err(|e| format!("TLS: {}", describe_tls(&e)))?;
    Ok(tls)
}

/// HTTP/1.1 as the client on `io` (upgrades allowed).
pub async fn handshake(io: Box<dyn Io>) -> Result<SendRequest<Outgoing>, Why> {
    pool::handshake(io).await.map_err(|e| describe_http(&e))
}

fn describe_io(e: &std::io::Error) -> Why {
    match e.kind() {
        std::io::ErrorKind::ConnectionRefused => {
            "connection refused: no agent listens on its fleet port".into()
        }
        _ => e.to_string(),
    }
}

/// A TLS failure, with what to do about the usual one.
fn describe_tls(e: &std::io::Error) -> String {
    let inner = e.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>());
    match inner {
        Some(rustls::Error::InvalidCertificate(why)) => format!(
            "its certificate is refused ({why:?}): is it issued by this fleet's CA (FLEET_CA_FILE)?"
        ),
        Some(rustls::Error::AlertReceived(alert)) => format!(
            "it refused this agent's certificate ({alert:?}): do both agents use the same FLEET_CA_FILE?"
        ),
        _ => e.to_string(),
    }
}

pub fn describe_http(e: &hyper::Error) -> Why {
    if e.is_closed() || e.is_incomplete_message() {
        "the connection closed before the answer".into()
    } else {
        e.to_string()
    }
}
