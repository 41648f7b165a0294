//! HTTPS and WSS on the agent's port: the current rustls configuration,
//! the handshake of each accepted connection (bounded by the header-read
//! timeout, so a client that never finishes it cannot hold a slot), the
//! log of refused client certificates ([`refusals`]), and reloading
//! certificates without a restart ([`watch`]).
//!
//! The configuration sits behind a `RwLock<Arc<_>>`: a reload swaps the
//! `Arc`, new connections take the new one, open connections keep theirs.
//! A reload that fails keeps the previous configuration and logs why.
//!
//! Plain text on the TLS port gets a short `400` and is closed — except
//! `GET /api/v1/healthz` from this host (a loopback peer, or one whose
//! address is the one it connected to), which is answered, so that
//! `docker-agent healthcheck` needs no TLS client (which would cost the
//! binary a second TLS state machine); a local process could reach the
//! agent over TLS as well, and the probe sends no credentials.

mod auto;
mod client;
mod material;
mod refusals;
mod stored;
mod watch;
mod x509;

pub use client::{FleetPeer, fleet_client, peer_of};
pub use material::MaterialError;
pub use watch::watch;

use crate::conn::{WriteDeadline, WriteLimit};
use crate::membership::TrustFiles;
use rustls::ServerConfig;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;

/// What a client speaking plain HTTP to the TLS port is told.
const HTTPS_ONLY: &str = "This port speaks HTTPS: use https:// (wss://)\n";

/// The only request a peer on this host may make in plain text.
const HEALTH_PROBE: &str = "/api/v1/healthz";

/// The first byte of a TLS handshake record.
const TLS_HANDSHAKE: u8 = 0x16;

/// The TLS side of the listener.
pub struct Tls {
    current: RwLock<Arc<ServerConfig>>,
    /// The files to reload from; `None` for a generated certificate (kept
    /// in `TLS_AUTO_DIR` or not: [`stored`]).
    files: Option<Files>,
    /// Client certificates refused (mutual TLS), logged with a rate limit.
    refusals: refusals::Refusals,
}

struct Files {
    names: material::Names,
    cert: PathBuf,
    key: PathBuf,
    client_ca: Option<PathBuf>,
}

impl Files {
    fn load(&self) -> Result<Arc<ServerConfig>, MaterialError> {
        material::from_files(self.names, &self.cert, &self.key, self.client_ca.as_deref())
    }
}

/// An accepted connection: TLS, or plain HTTP (which [`Plain`] filters).
pub enum Accepted {
    Tls(Box<TlsStream<WriteDeadline<TcpStream>>>),
    Plain(WriteDeadline<TcpStream>, Plain),
}

/// A plain-text connection to the TLS port, and whether it comes from this host.
#[derive(Clone, Copy, Debug)]
pub struct Plain {
    pub this_host: bool,
}

impl Plain {
    /// Of a connection from `peer` to `local`.
    pub fn between(peer: SocketAddr, local: SocketAddr) -> Plain {
        let peer = peer.ip().to_canonical();
        Plain {
            this_host: peer.is_loopback() || peer == local.ip().to_canonical(),
        }
    }

    /// Whether `req` may be served: only the health probe, only from this host.
    pub fn allows<B>(self, req: &hyper::Request<B>) -> bool {
        self.this_host && req.method() == hyper::Method::GET && req.uri().path() == HEALTH_PROBE
    }
}

/// The answer to any other plain-text request on the TLS port.
pub fn https_only() -> hyper::Response<crate::http::body::Body> {
    let mut response = hyper::Response::new(crate::http::body::full(HTTPS_ONLY));
    *response.status_mut() = hyper::StatusCode::BAD_REQUEST;
    let headers = response.headers_mut();
    let text = hyper::header::HeaderValue::from_static("text/plain");
    headers.insert(hyper::header::CONTENT_TYPE, text);
    let close = hyper::header::HeaderValue::from_static("close");
    headers.insert(hyper::header::CONNECTION, close);
    response
}

/// What starting TLS produced: the listener side, and for a generated
/// certificate its fingerprint (to print once).
pub struct Started {
    pub tls: Arc<Tls>,
    pub fingerprint: Option<String>,
}

impl Tls {
    /// Loads the configured certificate (or generates one); `None` when TLS is off.
    pub fn start(config: &TlsConfig, host: &str) -> Result<Option<Started>, MaterialError> {
        let client_ca = config.client_ca.as_deref();
        let (server, files, fingerprint) = match &config.source {
            TlsSource::Off => return Ok(None),
            TlsSource::Files { cert, key } => {
                let files = Files {
                    names: material::API,
                    cert: cert.clone(),
                    key: key.clone(),
                    client_ca: client_ca.map(PathBuf::from),
                };
                (files.load()?, Some(files), None)
            }
            TlsSource::Auto { dir } => {
                let (var, made) = match dir {
                    None => ("TLS_AUTO", auto::generate(host)),
                    Some(dir) => ("TLS_AUTO_DIR", stored::load_or_generate(dir, host)),
                };
                let made = made.map_err(|message| MaterialError { var, message })?;
                let fingerprint = auto::fingerprint(&made.cert);
                let server = material::build(material::API, vec![made.cert], made.key, client_ca)?;
                (server, None, Some(fingerprint))
            }
        };
        let tls = Arc::new(Tls {
            current: RwLock::new(server),
            files,
            refusals: refusals::Refusals::default(),
        });
        Ok(Some(Started { tls, fingerprint }))
    }

    /// The fleet port's TLS: this agent's fleet certificate, and a client
    /// certificate of the fleet's CA required of every peer.
    pub fn fleet(trust: &TrustFiles) -> Result<Arc<Tls>, MaterialError> {
        let files = Files {
            names: material::FLEET,
            cert: trust.cert.clone(),
            key: trust.key.clone(),
            client_ca: Some(trust.ca.clone()),
        };
        Ok(Arc::new(Tls {
            current: RwLock::new(files.load()?),
            files: Some(files),
            refusals: refusals::Refusals::default(),
        }))
    }

    fn current(&self) -> Arc<ServerConfig> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Whether the certificate comes from files (and can be reloaded).
    pub fn from_files(&self) -> bool {
        self.files.is_some()
    }

    /// Reads the files again; on success new connections use them.
    pub fn reload(&self) -> Result<(), MaterialError> {
        let Some(files) = &self.files else {
            return Ok(());
        };
        let server = files.load()?;
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = server;
        Ok(())
    }

    /// Runs the handshake on an accepted connection within `timeout`; `None`
    /// when it fails. A connection that starts like an HTTP request is
    /// handed back as plain text.
    pub async fn accept(
        &self,
        stream: TcpStream,
        limit: &WriteLimit,
        timeout: Duration,
        peer: SocketAddr,
    ) -> Option<Accepted> {
        let acceptor = tokio_rustls::TlsAcceptor::from(self.current());
        let handshake = async {
            let mut first = [0u8; 1];
            stream.peek(&mut first).await.ok()?;
            if first[0] != TLS_HANDSHAKE {
                let plain = Plain::between(peer, stream.local_addr().ok()?);
                let io = WriteDeadline::new(stream, limit.clone());
                return first[0]
                    .is_ascii_uppercase()
                    .then_some(Accepted::Plain(io, plain));
            }
            let io = WriteDeadline::new(stream, limit.clone());
            match refusals::recording(acceptor.accept(io)).await {
                (Ok(tls), _) => Some(Accepted::Tls(Box::new(tls))),
                (Err(e), presented) => {
                    let error = e.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>());
                    let noted = error
                        .is_some_and(|error| self.refusals.note(peer, error, presented.as_ref()));
                    if !noted {
                        log::debug!(peer = peer.to_string().as_str(), error = e.to_string().as_str(); "TLS handshake failed");
                    }
                    None
                }
            }
        };
        tokio::time::timeout(timeout, handshake)
            .await
            .ok()
            .flatten()
    }

    /// The reload stamps of the files (for [`watch`]); empty for a generated certificate.
    fn stamp(&self) -> Vec<Option<(std::time::SystemTime, u64)>> {
        let Some(f) = &self.files else {
            return Vec::new();
        };
        [Some(&f.cert), Some(&f.key), f.client_ca.as_ref()]
            .into_iter()
            .flatten()
            .map(|p| {
                let m = std::fs::metadata(p).ok()?;
                Some((m.modified().ok()?, m.len()))
            })
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsSource {
    /// Plain HTTP and WebSocket.
    Off,
    /// PEM files, reloaded when they change.
    Files { cert: PathBuf, key: PathBuf },
    /// A self-signed certificate generated at start, or kept in `dir`
    /// across restarts.
    Auto { dir: Option<PathBuf> },
}

/// Who reaches a plain-HTTP port on a non-loopback address, as the
/// operator says (`PLAIN_HTTP_EXPOSURE`): in a container, or behind a
/// firewall, the agent cannot see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlainExposure {
    /// `loopback`: only this host (a port published on 127.0.0.1 only).
    Loopback,
    /// `tls-proxy`: only a reverse proxy that ends TLS in front of it.
    TlsProxy,
}

#[derive(Debug, Clone)]
pub struct TlsConfig {
    pub source: TlsSource,
    /// PEM bundle of the CA(s) client certificates must be signed by (mutual TLS).
    pub client_ca: Option<PathBuf>,
    /// What reaches the port when it speaks plain HTTP, if the operator said.
    pub plain_exposure: Option<PlainExposure>,
}

impl PlainExposure {
    pub fn as_str(self) -> &'static str {
        match self {
            PlainExposure::Loopback => "loopback",
            PlainExposure::TlsProxy => "tls-proxy",
        }
    }
}

impl TlsConfig {
    pub fn enabled(&self) -> bool {
        self.source != TlsSource::Off
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_serves_only_the_health_probe_from_this_host() {
        let get = |path: &str| hyper::Request::get(path).body(()).unwrap();
        let addr = |s: &str| s.parse::<SocketAddr>().unwrap();
        let public = addr("10.0.0.5:9000");
        let from = |peer: &str| Plain::between(addr(peer), public);
        for peer in ["127.0.0.1:5000", "[::ffff:127.0.0.1]:5000", "10.0.0.5:6000"] {
            assert!(from(peer).allows(&get("/api/v1/healthz")), "{peer}");
        }
        assert!(!from("10.0.0.7:5000").allows(&get("/api/v1/healthz")));
        let local = from("127.0.0.1:5000");
        assert!(!local.allows(&get("/api/v1/containers/")));
        assert!(!local.allows(&hyper::Request::post("/api/v1/healthz").body(()).unwrap()));
        assert_eq!(https_only().status(), 400);
    }
}
