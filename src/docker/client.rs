//! The Docker Engine API transport: HTTP/1.1 over the Unix socket (or
//! `tcp://`), a deadline on every call, bounded response bodies, API
//! version negotiation, and bounded concurrency.
//!
//! At most [`MAX_CALLS`] calls talk to the daemon at once — the size of the
//! connection pool — so no burst of requests opens hundreds of daemon
//! connections; a call waits for its turn within its own deadline. Health
//! pings take no turn: concurrent pings share one in flight (see
//! [`Docker::ping`]), so they add at most one connection. Nor does a call
//! that Docker answers only after a container's grace period
//! ([`Docker::post_waiting`]: stop, restart), which would otherwise hold a
//! turn that reads need for up to minutes; its callers bound those.
//!
//! Negotiation asks the unversioned `/version` once and uses the highest
//! version both sides speak (ours: [`MAX_API`]; never below the daemon's
//! minimum), so Engine 20.10 (1.41) through current releases all work. When
//! the daemon goes away the cached version is dropped and renegotiated on the
//! next call, so the agent recovers by itself after a daemon restart; the
//! connection pool discards dead sockets on its own.
//!
//! Every request goes out through one send, which times it and counts its
//! failures for [`crate::counters`].
//!
//! A call may carry a JSON body, and may ask for Docker's hijacked
//! connection ([`Docker::hijack`]: `Upgrade: tcp`, answered `101`, then raw
//! bytes both ways), as exec does.

use super::error::{DockerError, Unreachable};
use crate::conn::Io;
use crate::conn::pool::{self, Kept, Outgoing, Pool};
use http_body_util::{BodyExt, Limited};
use hyper::body::Bytes;
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::upgrade::Upgraded;
use hyper::{Method, Request, Response, StatusCode};
use serde::de::DeserializeOwned;
use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{Semaphore, SemaphorePermit};

/// The newest API version we speak.
pub const MAX_API: (u32, u32) = (1, 47);
/// Calls to the daemon at once, and idle connections kept for them.
pub const MAX_CALLS: usize = 16;
/// Longest wait for a health ping.
const PING_LIMIT: Duration = Duration::from_secs(5);
/// Largest JSON body we read from Docker.
pub const MAX_BODY: usize = 64 << 20;
/// Largest error body we read from Docker.
const MAX_ERROR_BODY: usize = 64 << 10;

/// Extra request headers: `(name, value)`.
pub type Headers<'a> = &'a [(&'static str, &'a str)];

/// Where the daemon listens (`DOCKER_HOST`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    Unix(PathBuf),
    Tcp(String),
}

impl Endpoint {
    /// `unix:///path`, a bare absolute path, `tcp://host:port` or `http://host:port`.
    pub fn parse(s: &str) -> Option<Endpoint> {
        if let Some(path) = s.strip_prefix("unix://") {
            return path.starts_with('/').then(|| Endpoint::Unix(path.into()));
        }
        if s.starts_with('/') {
            return Some(Endpoint::Unix(s.into()));
        }
        let rest = s
            .strip_prefix("tcp://")
            .or_else(|| s.strip_prefix("http://"))?;
        let authority = rest.trim_end_matches('/');
        if authority.is_empty() || authority.contains(['/', '?', '#', '@']) {
            return None;
        }
        Some(Endpoint::Tcp(if authority.contains(':') {
            authority.to_string()
        } else {
            format!("{authority}:2375")
        }))
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Unix(path) => write!(f, "unix://{}", path.display()),
            Endpoint::Tcp(authority) => write!(f, "tcp://{authority}"),
        }
    }
}

/// What a request carries besides its method and path.
#[derive(Clone, Copy, Default)]
struct Payload<'a> {
    /// Headers of its own (a pull's `X-Registry-Auth`).
    headers: Headers<'a>,
    /// A JSON body.
    json: Option<&'a [u8]>,
    /// Ask for the hijacked connection (`Connection: Upgrade`, `Upgrade: tcp`).
    upgrade: bool,
}

const NONE: Payload = Payload {
    headers: &[],
    json: None,
    upgrade: false,
};

/// A handle on one Docker daemon, shared by every request.
pub struct Docker {
    /// Connections kept for the next call.
    pool: Pool,
    endpoint: Endpoint,
    /// The `Host` every request names: the daemon's address, or `docker`
    /// over its socket.
    host: HeaderValue,
    /// The negotiated `/v1.NN` prefix, once known.
    version: Mutex<Option<Arc<str>>>,
    /// What the last attempt to reach the daemon gave.
    reach: Mutex<Reach>,
    /// Turns to talk to the daemon ([`MAX_CALLS`]).
    turns: Semaphore,
    pings: PingRounds,
    timeout: Duration,
}

/// The daemon's reachability, as the last request found it.
enum Reach {
    Unknown,
    Answered(Instant),
    Failed(Unreachable),
}

/// Single-flight pings: a caller that queues behind a running ping takes
/// that ping's outcome instead of sending its own.
struct PingRounds {
    /// Pings completed so far.
    finished: AtomicU64,
    /// The turn to ping, and the last outcome.
    last: tokio::sync::Mutex<Option<Result<(), DockerError>>>,
}

impl Docker {
    pub fn new(endpoint: &Endpoint, timeout: Duration) -> Docker {
        let host = match endpoint {
            Endpoint::Unix(_) => HeaderValue::from_static("docker"),
            Endpoint::Tcp(authority) => HeaderValue::from_str(authority)
                .unwrap_or_else(|_| HeaderValue::from_static("docker")),
        };
        Docker {
            pool: Pool::new(MAX_CALLS),
            endpoint: endpoint.clone(),
            host,
            version: Mutex::new(None),
            reach: Mutex::new(Reach::Unknown),
            turns: Semaphore::new(MAX_CALLS),
            pings: PingRounds {
                finished: AtomicU64::new(0),
                last: tokio::sync::Mutex::new(None),
            },
            timeout,
        }
    }

    /// The default deadline for one call.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        payload: Payload<'_>,
    ) -> Result<Response<Incoming>, DockerError> {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, self.host.clone());
        for (name, value) in payload.headers {
            req = req.header(*name, *value);
        }
        if payload.json.is_some() {
            req = req.header(header::CONTENT_TYPE, "application/json");
        }
        if payload.upgrade {
            req = req
                .header(header::CONNECTION, "Upgrade")
                .header(header::UPGRADE, "tcp");
        }
        let body = Bytes::copy_from_slice(payload.json.unwrap_or_default());
        let req = req
            .body(pool::full(body))
            .map_err(|e| DockerError::Protocol(format!("bad request path: {e}")))?;
        let started = Instant::now();
        let result = self.exchange(req).await;
        let (reach, result) = match result {
            Ok(resp) => (Reach::Answered(Instant::now()), Ok(resp)),
            Err(e) => {
                self.forget_version();
                let why = Unreachable::classify(&self.endpoint, &*e);
                let err = DockerError::Unavailable(why.to_string());
                (Reach::Failed(why), Err(err))
            }
        };
        *self.reach.lock().unwrap_or_else(|e| e.into_inner()) = reach;
        let status = result.as_ref().map(|r| r.status().as_u16());
        crate::counters::docker_call(started.elapsed(), status.ok());
        result
    }

    /// Sends `req` on a kept connection, or on a new one to the daemon.
    async fn exchange(
        &self,
        req: Request<Outgoing>,
    ) -> Result<Response<Incoming>, Box<dyn std::error::Error + Send + Sync>> {
        let req = match self.pool.try_kept(req).await {
            Kept::Sent(answer) => return Ok(answer?),
            Kept::Unsent(req) => req,
        };
        let io: Box<dyn Io> = match &self.endpoint {
            Endpoint::Unix(path) => Box::new(tokio::net::UnixStream::connect(path).await?),
            Endpoint::Tcp(authority) => {
                let tcp = tokio::net::TcpStream::connect(authority.as_str()).await?;
                let _ = tcp.set_nodelay(true);
                Box::new(tcp)
            }
        };
        let fresh = pool::handshake(io).await?;
        Ok(self.pool.send_on(fresh, req).await?)
    }

    /// The API version negotiated with the daemon (`1.41`), while known.
    pub fn api_version(&self) -> Option<String> {
        let prefix = self
            .version
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()?;
        prefix.strip_prefix("/v").map(str::to_string)
    }

    fn forget_version(&self) {
        *self.version.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// Whether the daemon answered some call within `within` (and nothing
    /// failed to reach it since).
    pub fn answered_within(&self, within: Duration) -> bool {
        matches!(*self.reach.lock().unwrap_or_else(|e| e.into_inner()),
            Reach::Answered(t) if t.elapsed() < within)
    }

    /// Why the daemon could not be reached, if the last attempt failed to.
    pub fn unreachable(&self) -> Option<Unreachable> {
        match &*self.reach.lock().unwrap_or_else(|e| e.into_inner()) {
            Reach::Failed(why) => Some(why.clone()),
            _ => None,
        }
    }

    /// A turn to talk to the daemon; waiting for it counts against the
    /// caller's deadline like any other wait.
    async fn turn(&self) -> Result<SemaphorePermit<'_>, DockerError> {
        // The semaphore is never closed; a closed one would mean no turns at all.
        self.turns.acquire().await.map_err(|_| DockerError::Timeout)
    }

    /// Sends a request on the negotiated API version and turns error statuses into errors.
    async fn call(
        &self,
        method: Method,
        path: &str,
        payload: Payload<'_>,
    ) -> Result<Response<Incoming>, DockerError> {
        let prefix = self.api_prefix().await?;
        let resp = self
            .send(method.clone(), &format!("{prefix}{path}"), payload)
            .await?;
        match check_status(resp).await {
            // The daemon was upgraded or downgraded under us: negotiate again, once.
            Err(e) if e.is_version_mismatch() => {
                self.forget_version();
                let prefix = self.api_prefix().await?;
                let again = format!("{prefix}{path}");
                check_status(self.send(method, &again, payload).await?).await
            }
            other => other,
        }
    }

    async fn api_prefix(&self) -> Result<Arc<str>, DockerError> {
        if let Some(v) = self
            .version
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
        {
            return Ok(v);
        }
        let resp = check_status(self.send(Method::GET, "/version", NONE).await?).await?;
        let info: super::models::Version = read_json(resp).await?;
        let chosen = negotiate(&info.api_version, &info.min_api_version);
        let prefix: Arc<str> = format!("/v{}.{}", chosen.0, chosen.1).into();
        *self.version.lock().unwrap_or_else(|e| e.into_inner()) = Some(prefix.clone());
        Ok(prefix)
    }

    /// GET a JSON document, within the default deadline. The call's turn
    /// lasts until the (bounded) body is read.
    pub async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, DockerError> {
        self.deadline(self.timeout, async {
            let _turn = self.turn().await?;
            read_json(self.call(Method::GET, path, NONE).await?).await
        })
        .await
    }

    /// POSTs a JSON body asking for the hijacked connection, and returns
    /// that connection once Docker has switched to it. The deadline and the
    /// call's turn cover the switch only, as for [`Docker::open`].
    pub async fn hijack(&self, path: &str, body: &[u8]) -> Result<Upgraded, DockerError> {
        let payload = Payload {
            json: Some(body),
            upgrade: true,
            ..NONE
        };
        self.deadline(self.timeout, async {
            let resp = {
                let _turn = self.turn().await?;
                self.call(Method::POST, path, payload).await?
            };
            if resp.status() != StatusCode::SWITCHING_PROTOCOLS {
                let status = resp.status();
                return Err(DockerError::Protocol(format!(
                    "expected 101 Switching Protocols, got {status}"
                )));
            }
            hyper::upgrade::on(resp)
                .await
                .map_err(|e| DockerError::Protocol(format!("switching protocols: {e}")))
        })
        .await
    }

    /// POST without a body; returns Docker's status (e.g. 204, or 304 "already so").
    pub async fn post(&self, path: &str, deadline: Duration) -> Result<StatusCode, DockerError> {
        self.deadline(deadline, async {
            let _turn = self.turn().await?;
            self.post_bare(path).await
        })
        .await
    }

    /// POST without a body, answered only once Docker has waited on a
    /// container (stop, restart: up to their timeout): takes no turn, so
    /// such waits never hold up other calls. The caller bounds how many run
    /// (see [`crate::service`]'s waits).
    pub async fn post_waiting(
        &self,
        path: &str,
        deadline: Duration,
    ) -> Result<StatusCode, DockerError> {
        self.deadline(deadline, self.post_bare(path)).await
    }

    /// POST without a body, its answer's body drained: Docker's status.
    async fn post_bare(&self, path: &str) -> Result<StatusCode, DockerError> {
        let resp = self.call(Method::POST, path, NONE).await?;
        let status = resp.status();
        drain(resp.into_body(), MAX_ERROR_BODY).await;
        Ok(status)
    }

    /// Sends `method` with a JSON `body` (none when empty) and reads the
    /// JSON answer (`null` for an empty one), within `deadline`.
    pub async fn send_json<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Vec<u8>,
        deadline: Duration,
    ) -> Result<T, DockerError> {
        self.deadline(deadline, async {
            let _turn = self.turn().await?;
            let payload = Payload {
                json: Some(&body).filter(|b| !b.is_empty()).map(Vec::as_slice),
                ..NONE
            };
            let resp = self.call(method, path, payload).await?;
            let bytes = collect(resp.into_body(), MAX_BODY).await?;
            let bytes: &[u8] = if bytes.is_empty() { b"null" } else { &bytes };
            serde_json::from_slice(bytes)
                .map_err(|e| DockerError::Protocol(format!("decoding JSON: {e}")))
        })
        .await
    }

    /// Opens a response whose body the caller reads incrementally (logs,
    /// followed logs, stats and events). The deadline covers the response
    /// head only, and so does the call's turn: a long-lived stream holds a
    /// connection but no turn, or a few hundred WebSocket subscribers would
    /// starve every other call. (Streams are bounded by the connection cap
    /// and shared between subscribers instead.)
    pub async fn open(&self, path: &str) -> Result<Response<Incoming>, DockerError> {
        self.deadline(self.timeout, async {
            let _turn = self.turn().await?;
            self.call(Method::GET, path, NONE).await
        })
        .await
    }

    /// POSTs with `headers` and returns the response for the caller to read
    /// incrementally (an image pull's progress). As with [`Docker::open`],
    /// `deadline` and the call's turn cover the response head only.
    pub async fn open_post(
        &self,
        path: &str,
        headers: Headers<'_>,
        deadline: Duration,
    ) -> Result<Response<Incoming>, DockerError> {
        self.deadline(deadline, async {
            let _turn = self.turn().await?;
            self.call(Method::POST, path, Payload { headers, ..NONE })
                .await
        })
        .await
    }

    /// Is the daemon answering? (`GET /_ping`, unversioned.) Concurrent
    /// callers share one ping: whoever queues behind a ping in flight gets
    /// its outcome, so a flood of health probes costs one request at a time.
    pub async fn ping(&self) -> Result<(), DockerError> {
        let seen = self.pings.finished.load(Ordering::SeqCst);
        let mut last = self.pings.last.lock().await;
        if self.pings.finished.load(Ordering::SeqCst) != seen {
            if let Some(outcome) = last.clone() {
                return outcome;
            }
        }
        let outcome = self
            .deadline(self.timeout.min(PING_LIMIT), async {
                let resp = check_status(self.send(Method::GET, "/_ping", NONE).await?).await?;
                drain(resp.into_body(), MAX_ERROR_BODY).await;
                Ok(())
            })
            .await;
        *last = Some(outcome.clone());
        self.pings.finished.fetch_add(1, Ordering::SeqCst);
        outcome
    }

    /// Runs `fut` within `limit`; a miss is [`DockerError::Timeout`].
    pub async fn deadline<T>(
        &self,
        limit: Duration,
        fut: impl Future<Output = Result<T, DockerError>>,
    ) -> Result<T, DockerError> {
        tokio::time::timeout(limit, fut)
            .await
            .unwrap_or(Err(DockerError::Timeout))
    }
}

/// Picks min(ours, daemon's max), raised to the daemon's minimum.
fn negotiate(server_max: &str, server_min: &str) -> (u32, u32) {
    let parse = |s: &str| -> Option<(u32, u32)> {
        let (a, b) = s.split_once('.')?;
        Some((a.parse().ok()?, b.parse().ok()?))
    };
    let max = parse(server_max).unwrap_or(MAX_API);
    let chosen = max.min(MAX_API);
    match parse(server_min) {
        Some(min) if min > chosen => min,
        _ => chosen,
    }
}

async fn check_status(resp: Response<Incoming>) -> Result<Response<Incoming>, DockerError> {
    let status = resp.status();
    if status.is_success()
        || status == StatusCode::NOT_MODIFIED
        || status == StatusCode::SWITCHING_PROTOCOLS
    {
        return Ok(resp);
    }
    let body = collect(resp.into_body(), MAX_ERROR_BODY)
        .await
        .unwrap_or_default();
    let message = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| {
            v.get("message")
                .and_then(|m| m.as_str())
                .map(str::to_string)
        })
        .unwrap_or_else(|| String::from_utf8_lossy(&body).trim().to_string());
    Err(DockerError::Status {
        status: status.as_u16(),
        message,
    })
}

async fn collect(body: Incoming, limit: usize) -> Result<Bytes, DockerError> {
    Limited::new(body, limit)
        .collect()
        .await
        .map(|c| c.to_bytes())
        .map_err(|e| DockerError::Protocol(format!("reading body: {e}")))
}

async fn drain(body: Incoming, limit: usize) {
    let _ = collect(body, limit).await;
}

async fn read_json<T: DeserializeOwned>(resp: Response<Incoming>) -> Result<T, DockerError> {
    let body = collect(resp.into_body(), MAX_BODY).await?;
    serde_json::from_slice(&body).map_err(|e| DockerError::Protocol(format!("decoding JSON: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_parse() {
        assert_eq!(
            Endpoint::parse("unix:///var/run/docker.sock"),
            Some(Endpoint::Unix("/var/run/docker.sock".into()))
        );
        assert_eq!(
            Endpoint::parse("/run/d.sock"),
            Some(Endpoint::Unix("/run/d.sock".into()))
        );
        assert_eq!(
            Endpoint::parse("tcp://10.0.0.1:2375"),
            Some(Endpoint::Tcp("10.0.0.1:2375".into()))
        );
        assert_eq!(
            Endpoint::parse("tcp://docker"),
            Some(Endpoint::Tcp("docker:2375".into()))
        );
        for bad in [
            "unix://relative",
            "npipe:////./pipe/docker",
            "ssh://me@host",
            "tcp://",
            "tcp://a/b",
        ] {
            assert_eq!(Endpoint::parse(bad), None, "{bad}");
        }
    }

    #[tokio::test]
    async fn connect_failures_name_the_socket_and_the_os_error() {
        let missing = std::env::temp_dir().join(format!("no-daemon-{}.sock", std::process::id()));
        let docker = Docker::new(&Endpoint::Unix(missing.clone()), Duration::from_secs(5));
        let err = docker
            .get_json::<serde_json::Value>("/info")
            .await
            .unwrap_err();
        let why = docker.unreachable().expect("a reason");
        assert_eq!(why.cause, crate::docker::error::Cause::NotFound);
        assert_eq!(err, DockerError::Unavailable(why.to_string()));
        assert!(why.to_string().contains(&missing.display().to_string()));
        assert!(!docker.answered_within(Duration::from_secs(60)));
    }

    #[test]
    fn endpoints_display_as_docker_host_values() {
        assert_eq!(
            Endpoint::Unix("/run/d.sock".into()).to_string(),
            "unix:///run/d.sock"
        );
        assert_eq!(Endpoint::Tcp("h:2375".into()).to_string(), "tcp://h:2375");
    }

    #[test]
    fn negotiation_picks_the_highest_common_version() {
        assert_eq!(negotiate("1.41", "1.12"), (1, 41));
        assert_eq!(negotiate("1.51", "1.24"), MAX_API);
        assert_eq!(negotiate("1.60", "1.50"), (1, 50));
        assert_eq!(negotiate("garbage", ""), MAX_API);
    }
}
