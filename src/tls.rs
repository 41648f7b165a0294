//! HTTPS and WSS on the agent's port: the current rustls configuration,
//! the handshake of each accepted connection (bounded by the header-read
//! timeout, so a client that never finishes it cannot hold a slot), and
//! reloading certificates without a restart ([`watch`]).
//!
//! The configuration sits behind a `RwLock<Arc<_>>`: a reload swaps the
//! `Arc`, new connections take the new one, open connections keep theirs.
//! A reload that fails keeps the previous configuration and logs why.

mod auto;
mod material;
pub mod probe;
mod validity;
mod watch;

pub use material::MaterialError;
pub use watch::watch;

use crate::config::{TlsConfig, TlsSource};
use crate::server::{WriteDeadline, WriteLimit};
use rustls::ServerConfig;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;

/// What a client speaking plain HTTP to the TLS port is told.
const PLAIN_HTTP_ANSWER: &[u8] = b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\n\
Content-Length: 46\r\nConnection: close\r\n\r\nThis port speaks HTTPS: use https:// (wss://)\n";

/// The first byte of a TLS handshake record.
const TLS_HANDSHAKE: u8 = 0x16;

/// The TLS side of the listener.
pub struct Tls {
    current: RwLock<Arc<ServerConfig>>,
    /// The files to reload from; `None` for a generated certificate.
    files: Option<Files>,
}

#[derive(Clone)]
struct Files {
    cert: PathBuf,
    key: PathBuf,
    client_ca: Option<PathBuf>,
}

impl Files {
    fn load(&self) -> Result<Arc<ServerConfig>, MaterialError> {
        material::from_files(&self.cert, &self.key, self.client_ca.as_deref())
    }
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
                    cert: cert.clone(),
                    key: key.clone(),
                    client_ca: client_ca.map(PathBuf::from),
                };
                (files.load()?, Some(files), None)
            }
            TlsSource::Auto => {
                let made = auto::generate(host).map_err(|message| MaterialError {
                    var: "TLS_AUTO",
                    message,
                })?;
                let fingerprint = auto::fingerprint(&made.cert);
                let server = material::build(vec![made.cert], made.key, client_ca)?;
                (server, None, Some(fingerprint))
            }
        };
        let tls = Arc::new(Tls {
            current: RwLock::new(server),
            files,
        });
        Ok(Some(Started { tls, fingerprint }))
    }

    fn current(&self) -> Arc<ServerConfig> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
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
    /// when it fails (a plain HTTP request gets a short 400 first).
    pub async fn accept(
        &self,
        stream: TcpStream,
        limit: &WriteLimit,
        timeout: Duration,
        peer: SocketAddr,
    ) -> Option<TlsStream<WriteDeadline<TcpStream>>> {
        let acceptor = tokio_rustls::TlsAcceptor::from(self.current());
        let handshake = async {
            let mut first = [0u8; 1];
            stream.peek(&mut first).await.ok()?;
            if first[0] != TLS_HANDSHAKE {
                if first[0].is_ascii_uppercase() {
                    let mut stream = WriteDeadline::new(stream, limit.clone());
                    let _ = stream.write_all(PLAIN_HTTP_ANSWER).await;
                    let _ = stream.shutdown().await;
                }
                return None;
            }
            let io = WriteDeadline::new(stream, limit.clone());
            match acceptor.accept(io).await {
                Ok(tls) => Some(tls),
                Err(e) => {
                    log::debug!(peer = peer.to_string().as_str(), error = e.to_string().as_str(); "TLS handshake failed");
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

#[cfg(test)]
mod tests {
    #[test]
    fn the_plain_http_answer_has_the_length_it_says() {
        let text = std::str::from_utf8(super::PLAIN_HTTP_ANSWER).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.contains(&format!("Content-Length: {}", body.len())));
    }
}
