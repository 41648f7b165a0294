//! Shared test helpers: the locally built test image, labelled containers
//! that remove themselves, an in-process agent on port 0, a small HTTP
//! client, and stand-ins for a daemon that restarts or hangs.

use docker_agent::app::App;
use docker_agent::config::{Config, Vars};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{HeaderMap, Method, Request};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Every container a test creates carries this label (`make test` sweeps it too).
pub const LABEL: &str = "docker-agent-test";
pub const PASSWORD: &str = "test-password-1";
pub const SECRET: &str = "test-secret-key-0123456789abcdef0123";
pub const MCP_KEY: &str = "test-mcp-key-0123456789";

/// Runs the docker CLI and returns its stdout; panics with its stderr on failure.
pub fn docker(args: &[&str]) -> String {
    let out = Command::new("docker")
        .args(args)
        .output()
        .expect("the docker CLI must be installed");
    assert!(
        out.status.success(),
        "docker {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// The Docker socket the CLI and the agent both use.
pub fn docker_host() -> String {
    std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".into())
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The test image, built once per source version from `fixtures/testbox`:
/// compiled with `gcc -static` and imported from a tarball (no registry).
pub fn image() -> &'static str {
    static IMAGE: OnceLock<String> = OnceLock::new();
    IMAGE.get_or_init(|| {
        let src = repo().join("fixtures/testbox/testbox.c");
        let code = std::fs::read(&src).expect("fixtures/testbox/testbox.c");
        let hash: String = Sha256::digest(&code)
            .iter()
            .take(6)
            .map(|b| format!("{b:02x}"))
            .collect();
        let tag = format!("docker-agent-testbox:{hash}");
        if Command::new("docker")
            .args(["image", "inspect", &tag])
            .output()
            .is_ok_and(|o| o.status.success())
        {
            return tag;
        }
        let dir = repo().join("target/testbox");
        std::fs::create_dir_all(&dir).unwrap();
        let bin = dir.join("testbox");
        let status = Command::new("gcc")
            .args(["-static", "-Os", "-s", "-o"])
            .arg(&bin)
            .arg(&src)
            .status()
            .expect("gcc is needed to build the test image");
        assert!(status.success(), "building testbox failed");
        let tar = dir.join("testbox.tar");
        let status = Command::new("tar")
            .arg("-C")
            .arg(&dir)
            .arg("-cf")
            .arg(&tar)
            .arg("testbox")
            .status()
            .unwrap();
        assert!(status.success());
        docker(&[
            "import",
            "-c",
            r#"ENTRYPOINT ["/testbox"]"#,
            tar.to_str().unwrap(),
            &tag,
        ]);
        tag
    })
}

/// A unique, recognisable container name.
pub fn unique_name(prefix: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "dat-{prefix}-{}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed),
        &docker_agent::random::token(4)[..4]
            .to_ascii_lowercase()
            .replace(['-', '_'], "x")
    )
}

/// A labelled test container, force-removed when dropped (even on panic).
pub struct Container {
    pub id: String,
    pub name: String,
}

impl Container {
    /// `docker run -d` with extra `docker` options, then testbox steps.
    pub fn run(options: &[&str], steps: &[&str]) -> Container {
        Container::new("run", &["-d"], options, steps)
    }

    /// `docker create`: exists but not started.
    pub fn create(options: &[&str], steps: &[&str]) -> Container {
        Container::new("create", &[], options, steps)
    }

    fn new(verb: &str, verb_opts: &[&str], options: &[&str], steps: &[&str]) -> Container {
        let name = unique_name(verb);
        let label = format!("{LABEL}=1");
        let mut args = vec![verb];
        args.extend_from_slice(verb_opts);
        args.extend_from_slice(&["--name", &name, "--label", &label]);
        args.extend_from_slice(options);
        let image = image();
        args.push(image);
        args.extend_from_slice(steps);
        let id = docker(&args);
        Container { id, name }
    }

    /// `docker inspect --format` on this container.
    pub fn inspect(&self, format: &str) -> String {
        docker(&["inspect", "--format", format, &self.id])
    }

    pub fn status(&self) -> String {
        self.inspect("{{.State.Status}}")
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = Command::new("docker").args(["rm", "-f", &self.id]).output();
    }
}

/// A response, read whole.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// An agent served in-process on 127.0.0.1:0, shut down when dropped.
pub struct Agent {
    pub addr: SocketAddr,
    client: Client<HttpConnector, Full<Bytes>>,
    stop: std::sync::Mutex<Option<oneshot::Sender<()>>>,
    task: Option<JoinHandle<()>>,
}

/// The settings every test agent starts from; `overrides` win.
pub fn test_vars(overrides: &[(&str, &str)]) -> Vars {
    let host = docker_host();
    let mut pairs: Vec<(&str, &str)> = vec![
        ("SECRET_KEY", SECRET),
        ("API_PASSWORD", PASSWORD),
        ("MCP_API_KEY", MCP_KEY),
        ("HOST", "127.0.0.1"),
        ("PORT", "0"),
        ("DOCKER_HOST", &host),
    ];
    pairs.extend_from_slice(overrides);
    Vars::from_pairs(pairs)
}

impl Agent {
    pub async fn start(overrides: &[(&str, &str)]) -> Agent {
        let config = Config::from_vars(&test_vars(overrides)).expect("test config");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = App::new(config);
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(docker_agent::server::serve(listener, app, async {
            let _ = rx.await;
        }));
        Agent {
            addr,
            client: Client::builder(TokioExecutor::new()).build(HttpConnector::new()),
            stop: std::sync::Mutex::new(Some(tx)),
            task: Some(task),
        }
    }

    /// Tells the server to shut down (as SIGTERM would), without waiting.
    pub fn begin_shutdown(&self) {
        if let Some(tx) = self.stop.lock().unwrap().take() {
            let _ = tx.send(());
        }
    }

    /// Signals shutdown and waits for the server to finish draining.
    pub async fn shutdown(mut self) {
        self.begin_shutdown();
        if let Some(task) = self.task.take() {
            task.await.unwrap();
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Resp {
        let mut req = Request::builder().method(method).uri(self.url(path));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = self
            .client
            .request(req.body(Full::new(Bytes::copy_from_slice(body))).unwrap())
            .await
            .expect("request failed");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        Resp {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Resp {
        let auth = token.map(|t| format!("Bearer {t}"));
        let headers: Vec<(&str, &str)> =
            auth.iter().map(|a| ("authorization", a.as_str())).collect();
        self.request(Method::GET, path, &headers, b"").await
    }

    pub async fn post(&self, path: &str, token: Option<&str>) -> Resp {
        let auth = token.map(|t| format!("Bearer {t}"));
        let headers: Vec<(&str, &str)> =
            auth.iter().map(|a| ("authorization", a.as_str())).collect();
        self.request(Method::POST, path, &headers, b"").await
    }

    pub async fn login_as(&self, username: &str, password: &str) -> Resp {
        let body = serde_json::json!({"username": username, "password": password}).to_string();
        self.request(
            Method::POST,
            "/api/v1/auth/login",
            &[("content-type", "application/json")],
            body.as_bytes(),
        )
        .await
    }

    /// A valid token for the default user.
    pub async fn token(&self) -> String {
        let resp = self.login_as("admin", PASSWORD).await;
        assert_eq!(resp.status, 200, "login: {:?}", resp.body);
        resp.json()["access_token"].as_str().unwrap().to_string()
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        self.begin_shutdown();
    }
}

/// A temporary Unix socket path unique to this test.
pub fn temp_socket(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("{}.sock", unique_name(name)))
}

/// A Unix socket that forwards to the real daemon, counts the HTTP requests
/// it carries, and can be "restarted": stopping it drops every connection
/// and removes the socket, exactly what the agent sees when dockerd restarts.
pub struct DaemonProxy {
    pub path: PathBuf,
    requests: RequestLog,
    task: Option<JoinHandle<()>>,
}

type RequestLog = Arc<std::sync::Mutex<Vec<String>>>;

/// Copies client→daemon bytes, recording each request line (`GET /path HTTP/1.1`).
async fn forward_recording(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, log: RequestLog) {
    let mut buf = vec![0u8; 64 * 1024];
    let mut pending: Vec<u8> = Vec::new();
    while let Ok(n) = from.read(&mut buf).await {
        if n == 0 || to.write_all(&buf[..n]).await.is_err() {
            break;
        }
        pending.extend_from_slice(&buf[..n]);
        while let Some(end) = pending.windows(2).position(|w| w == b"\r\n") {
            let line = String::from_utf8_lossy(&pending[..end]).into_owned();
            pending.drain(..end + 2);
            if line.ends_with(" HTTP/1.1") {
                log.lock().unwrap().push(line);
            }
        }
        if pending.len() > 64 * 1024 {
            pending.clear();
        }
    }
    let _ = to.shutdown().await;
}

impl DaemonProxy {
    pub fn start(path: &Path) -> DaemonProxy {
        let _ = std::fs::remove_file(path);
        let listener = UnixListener::bind(path).unwrap();
        let upstream = docker_host().trim_start_matches("unix://").to_string();
        let requests = RequestLog::default();
        let recorder = requests.clone();
        let task = tokio::spawn(async move {
            let mut conns = tokio::task::JoinSet::new();
            while let Ok((down, _)) = listener.accept().await {
                let Ok(up) = UnixStream::connect(&upstream).await else {
                    continue;
                };
                let (down_r, mut down_w) = down.into_split();
                let (mut up_r, up_w) = up.into_split();
                conns.spawn(forward_recording(down_r, up_w, recorder.clone()));
                conns.spawn(async move {
                    let _ = tokio::io::copy(&mut up_r, &mut down_w).await;
                    let _ = down_w.shutdown().await;
                });
            }
        });
        DaemonProxy {
            path: path.to_path_buf(),
            requests,
            task: Some(task),
        }
    }

    /// HTTP requests forwarded so far.
    pub fn requests(&self) -> usize {
        self.requests.lock().unwrap().len()
    }

    /// The request lines forwarded so far (`GET /v1.41/... HTTP/1.1`).
    pub fn request_lines(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }

    /// Drops the listener and every proxied connection, removing the socket.
    pub async fn stop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
        let _ = std::fs::remove_file(&self.path);
    }
}

impl Drop for DaemonProxy {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
        let _ = std::fs::remove_file(&self.path);
    }
}

/// A TCP port forwarding to the real daemon's socket, for `DOCKER_HOST=tcp://`.
pub async fn tcp_daemon_proxy() -> (SocketAddr, JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let upstream = docker_host().trim_start_matches("unix://").to_string();
    let task = tokio::spawn(async move {
        let mut conns = tokio::task::JoinSet::new();
        while let Ok((mut down, _)) = listener.accept().await {
            let upstream = upstream.clone();
            conns.spawn(async move {
                if let Ok(mut up) = UnixStream::connect(upstream).await {
                    let _ = tokio::io::copy_bidirectional(&mut down, &mut up).await;
                }
            });
        }
    });
    (addr, task)
}

/// A scripted "daemon" speaking just enough HTTP/1.1: `/version` answers
/// `version_json`, everything else `[]`; every request line is recorded.
/// For engine versions this host cannot run.
pub fn scripted_daemon(
    path: &Path,
    version_json: &'static str,
) -> (Arc<std::sync::Mutex<Vec<String>>>, JoinHandle<()>) {
    let _ = std::fs::remove_file(path);
    let listener = UnixListener::bind(path).unwrap();
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    let task = tokio::spawn(async move {
        let mut conns = tokio::task::JoinSet::new();
        while let Ok((mut conn, _)) = listener.accept().await {
            let log = log.clone();
            conns.spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                while let Ok(n) = conn.read(&mut chunk).await {
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..end]).into_owned();
                        buf.drain(..end + 4);
                        let line = head.lines().next().unwrap_or_default().to_string();
                        let body = if line.contains(" /version ") { version_json } else { "[]" };
                        log.lock().unwrap().push(line);
                        let resp = format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                            body.len()
                        );
                        if conn.write_all(resp.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    (seen, task)
}

/// A "daemon" that accepts connections and never answers.
pub fn hung_daemon(path: &Path) -> JoinHandle<()> {
    let _ = std::fs::remove_file(path);
    let listener = UnixListener::bind(path).unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((conn, _)) = listener.accept().await {
            held.push(conn);
        }
    })
}

/// Signs a token with the test secret using the oracle JWT library.
pub fn oracle_token(alg: jsonwebtoken::Algorithm, claims: &Value, secret: &[u8]) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(alg),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(secret),
    )
    .unwrap()
}

pub fn now() -> i64 {
    docker_agent::clock::unix_now() as i64
}

/// A WebSocket client connection.
pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// How a WebSocket conversation ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Ending {
    /// A close frame: code and reason.
    Closed(u16, String),
    /// The connection ended without a close frame.
    Dropped,
    /// Nothing arrived for the whole wait.
    Silent,
}

impl Agent {
    /// Opens a WebSocket to `path` (query included), with extra request headers.
    pub async fn ws_with(&self, path: &str, headers: &[(&str, &str)]) -> Ws {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut req = format!("ws://{}{path}", self.addr)
            .into_client_request()
            .unwrap();
        for (k, v) in headers {
            req.headers_mut().insert(
                hyper::header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        let (ws, resp) = tokio_tungstenite::connect_async(req)
            .await
            .expect("websocket handshake");
        assert_eq!(resp.status(), 101);
        ws
    }

    pub async fn ws(&self, path: &str) -> Ws {
        self.ws_with(path, &[]).await
    }
}

/// The next text message within `wait`, skipping control frames; `Err` says how the stream ended.
pub async fn next_text(ws: &mut Ws, wait: std::time::Duration) -> Result<String, Ending> {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    let read = async {
        loop {
            match ws.next().await {
                None | Some(Err(_)) => return Err(Ending::Dropped),
                Some(Ok(Message::Text(t))) => return Ok(t.to_string()),
                Some(Ok(Message::Close(frame))) => {
                    let (code, reason) = frame.map_or((1005, String::new()), |f| {
                        (u16::from(f.code), f.reason.to_string())
                    });
                    return Err(Ending::Closed(code, reason));
                }
                Some(Ok(_)) => continue,
            }
        }
    };
    tokio::time::timeout(wait, read)
        .await
        .unwrap_or(Err(Ending::Silent))
}

/// Every text message until the stream ends (each wait bounded by `wait`).
pub async fn read_all(ws: &mut Ws, wait: std::time::Duration) -> (Vec<String>, Ending) {
    let mut got = Vec::new();
    loop {
        match next_text(ws, wait).await {
            Ok(t) => got.push(t),
            Err(end) => return (got, end),
        }
    }
}
