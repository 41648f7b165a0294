//! Stand-ins for a daemon this host cannot produce on demand: one that
//! restarts (a forwarding socket that can be stopped), one that hangs, one
//! that reports a newer engine, and a TCP endpoint for `tcp://`.

use super::*;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{UnixListener, UnixStream};
use tokio::task::JoinHandle;

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

/// A scripted "daemon" speaking just enough HTTP/1.1 to stand in for engine
/// versions this host cannot run: `/version` reports the current API range,
/// a request on a version outside it gets Docker's 400 "client version …",
/// anything else `[]`. Every request line is recorded; the range can be
/// changed on the fly (an engine upgrade).
pub struct ScriptedEngine {
    pub seen: Arc<std::sync::Mutex<Vec<String>>>,
    range: Arc<std::sync::Mutex<(String, String)>>,
    task: JoinHandle<()>,
}

fn parse_version(v: &str) -> (u32, u32) {
    let (a, b) = v.split_once('.').unwrap_or(("0", "0"));
    (a.parse().unwrap_or(0), b.parse().unwrap_or(0))
}

/// The scripted engine's answer to one request line.
fn scripted_answer(line: &str, max: &str, min: &str) -> (u16, String) {
    if line.contains(" /version ") {
        return (
            200,
            format!(r#"{{"ApiVersion":"{max}","MinAPIVersion":"{min}","Version":"scripted"}}"#),
        );
    }
    let asked = line
        .split(" /v")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or("");
    if !asked.is_empty() && parse_version(asked) < parse_version(min) {
        return (
            400,
            format!(
                r#"{{"message":"client version {asked} is too old. Minimum supported API version is {min}, please upgrade your client to a newer version"}}"#
            ),
        );
    }
    if !asked.is_empty() && parse_version(asked) > parse_version(max) {
        return (
            400,
            format!(
                r#"{{"message":"client version {asked} is too new. Maximum supported API version is {max}"}}"#
            ),
        );
    }
    (200, "[]".into())
}

impl ScriptedEngine {
    pub fn start(path: &Path, max: &str, min: &str) -> ScriptedEngine {
        let _ = std::fs::remove_file(path);
        let listener = UnixListener::bind(path).unwrap();
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let range = Arc::new(std::sync::Mutex::new((max.to_string(), min.to_string())));
        let (log, current) = (seen.clone(), range.clone());
        let task = tokio::spawn(async move {
            let mut conns = tokio::task::JoinSet::new();
            while let Ok((conn, _)) = listener.accept().await {
                conns.spawn(serve_scripted(conn, log.clone(), current.clone()));
            }
        });
        ScriptedEngine { seen, range, task }
    }

    /// Changes the API range, as an engine upgrade would.
    pub fn set(&self, max: &str, min: &str) {
        *self.range.lock().unwrap() = (max.to_string(), min.to_string());
    }

    pub fn lines(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for ScriptedEngine {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve_scripted(
    mut conn: UnixStream,
    log: Arc<std::sync::Mutex<Vec<String>>>,
    range: Arc<std::sync::Mutex<(String, String)>>,
) {
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
            let (max, min) = range.lock().unwrap().clone();
            let (status, body) = scripted_answer(&line, &max, &min);
            log.lock().unwrap().push(line);
            let resp = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            );
            if conn.write_all(resp.as_bytes()).await.is_err() {
                return;
            }
        }
    }
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
