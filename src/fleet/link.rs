//! The way to one other agent: HTTP/1.1 over mutual TLS to its fleet port,
//! with a few idle connections kept for the next request. A request a
//! kept connection could not take (the peer closed it meanwhile) is sent
//! again on a new one; a request that was sent is never sent twice.

use crate::membership::Address;
use http_body_util::combinators::UnsyncBoxBody;
use hyper::body::Bytes;
use hyper::body::Incoming;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::net::TcpStream;

/// Most idle connections kept per member.
const IDLE: usize = 8;

/// How long a connection and its handshake may take.
const CONNECT: Duration = Duration::from_secs(5);

/// The name a fleet connection presents (SNI). Members are judged by their
/// certificate's chain to the fleet's CA, not by a name.
const FLEET_NAME: &str = "docker-agent.fleet";

/// Why a member could not be reached, in words for `/api/v1/hosts`.
pub type Why = String;

/// A request body sent to a member: a caller's, streamed as it comes.
pub type Outgoing = UnsyncBoxBody<Bytes, Box<dyn std::error::Error + Send + Sync>>;

/// An empty request body.
pub fn empty() -> Outgoing {
    use http_body_util::BodyExt;
    http_body_util::Empty::new()
        .map_err(|never| match never {})
        .boxed_unsync()
}

/// A request body held whole.
pub fn full(bytes: impl Into<Bytes>) -> Outgoing {
    use http_body_util::BodyExt;
    http_body_util::Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed_unsync()
}

pub struct Connections {
    address: Address,
    tls: Arc<ClientConfig>,
    idle: Mutex<Vec<SendRequest<Outgoing>>>,
}

impl Connections {
    pub fn new(address: Address, tls: Arc<ClientConfig>) -> Connections {
        Connections {
            address,
            tls,
            idle: Mutex::default(),
        }
    }

    pub fn address(&self) -> &Address {
        &self.address
    }

    /// Sends `req` and gives the response's head (its body still to come).
    pub async fn send(&self, req: Request<Outgoing>) -> Result<Response<Incoming>, Why> {
        let mut req = req;
        if let Some(mut kept) = self.take() {
            match kept.try_send_request(req).await {
                Ok(response) => {
                    self.keep(kept);
                    return Ok(response);
                }
                Err(mut e) => match e.take_message() {
                    Some(unsent) => req = unsent,
                    None => return Err(describe_http(e.error())),
                },
            }
        }
        let mut fresh = self.dial().await?;
        let response = fresh
            .send_request(req)
            .await
            .map_err(|e| describe_http(&e))?;
        self.keep(fresh);
        Ok(response)
    }

    /// A kept connection ready for a request, if any; closed ones go.
    fn take(&self) -> Option<SendRequest<Outgoing>> {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        idle.retain(|s| !s.is_closed());
        let ready = idle.iter().position(SendRequest::is_ready)?;
        Some(idle.swap_remove(ready))
    }

    /// Keeps `sender` for a later request (it becomes ready when the
    /// response in flight has been read).
    fn keep(&self, sender: SendRequest<Outgoing>) {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if !sender.is_closed() && idle.len() < IDLE {
            idle.push(sender);
        }
    }

    async fn dial(&self) -> Result<SendRequest<Outgoing>, Why> {
        let target = (self.address.host.as_str(), self.address.port);
        let tcp = tokio::time::timeout(CONNECT, TcpStream::connect(target))
            .await
            .map_err(|_| format!("no answer within {} s", CONNECT.as_secs()))?
            .map_err(|e| describe_io(&e))?;
        let _ = tcp.set_nodelay(true);
        let name = ServerName::try_from(FLEET_NAME).map_err(|e| e.to_string())?;
        let connector = tokio_rustls::TlsConnector::from(self.tls.clone());
        let tls = tokio::time::timeout(CONNECT, connector.connect(name, tcp))
            .await
            .map_err(|_| format!("TLS handshake not done within {} s", CONNECT.as_secs()))?
            .map_err(|e| format!("TLS: {}", describe_tls(&e)))?;
        let (sender, conn) = http1::handshake(TokioIo::new(tls))
            .await
            .map_err(|e| describe_http(&e))?;
        tokio::spawn(async move {
            let _ = conn.with_upgrades().await;
        });
        Ok(sender)
    }
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

fn describe_http(e: &hyper::Error) -> Why {
    if e.is_closed() || e.is_incomplete_message() {
        "the connection closed before the answer".into()
    } else {
        e.to_string()
    }
}
