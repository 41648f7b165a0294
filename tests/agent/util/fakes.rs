//! Stand-ins for a daemon this host cannot produce on demand: one that
//! restarts or misbehaves on cue (a forwarding socket that injects faults),
//! one that hangs, one that reports a newer engine, and a TCP endpoint for
//! `tcp://`.

use super::*;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

/// A temporary Unix socket path unique to this test.
pub fn temp_socket(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("{}.sock", unique_name(name)))
}

/// A Unix socket that forwards to the real daemon, records the HTTP
/// requests it carries, and injects the faults a real daemon can show:
///
/// - [`cut`](Self::cut): every open connection drops at once (a follow torn
///   mid-stream); new connections are still served;
/// - [`set_down`](Self::set_down): the daemon is gone (socket removed, every
///   connection dropped), or back; [`stop`](Self::stop) is `set_down(true)`,
///   exactly what the agent sees while dockerd restarts;
/// - [`stall`](Self::stall): a hung daemon: connections open and stay open,
///   but no byte moves either way until the stall ends (nothing is lost);
/// - [`corrupt_next_log_frame`](Self::corrupt_next_log_frame): the next
///   multiplexed frame of one container's followed log reaches the agent
///   with an invalid stream type.
pub struct DaemonProxy {
    pub path: PathBuf,
    upstream: String,
    shared: Arc<Shared>,
    /// One task per proxied connection; aborting one drops both its sockets.
    conns: Arc<Mutex<JoinSet<()>>>,
    /// The accept loop, while the proxy is up.
    listener: Mutex<Option<JoinHandle<()>>>,
}

/// What every proxied connection consults: the request log and the fault switches.
struct Shared {
    requests: Mutex<Vec<String>>,
    stalled: watch::Sender<bool>,
    /// The container whose followed log gets its next frame corrupted.
    corrupt_log_of: Mutex<Option<String>>,
}

impl Shared {
    fn new() -> Shared {
        Shared {
            requests: Mutex::default(),
            stalled: watch::channel(false).0,
            corrupt_log_of: Mutex::default(),
        }
    }

    fn arm_corruption(&self, container_id: &str) {
        *self.corrupt_log_of.lock().unwrap() = Some(container_id.to_string());
    }

    /// Whether the frame about to pass, in the response to `request`, is
    /// the one to corrupt; if so the fault is used up.
    fn take_corruption(&self, request: &str) -> bool {
        let mut target = self.corrupt_log_of.lock().unwrap();
        let hit = target
            .as_ref()
            .is_some_and(|id| request.contains(&format!("/containers/{id}/logs?")));
        if hit {
            *target = None;
        }
        hit
    }
}

/// The stream type written over a frame header to corrupt it (valid ones are 0–3).
const INVALID_STREAM: u8 = 7;
/// Longest response head or chunk line followed before giving up on a response.
const MAX_LINE: usize = 64 * 1024;

impl DaemonProxy {
    pub fn start(path: &Path) -> DaemonProxy {
        let proxy = DaemonProxy {
            path: path.to_path_buf(),
            upstream: docker_host().trim_start_matches("unix://").to_string(),
            shared: Arc::new(Shared::new()),
            conns: Arc::default(),
            listener: Mutex::default(),
        };
        proxy.listen();
        proxy
    }

    /// Binds the socket and serves it, unless already serving.
    fn listen(&self) {
        let mut slot = self.listener.lock().unwrap();
        if slot.is_some() {
            return;
        }
        let _ = std::fs::remove_file(&self.path);
        let listener = UnixListener::bind(&self.path).unwrap();
        let (upstream, shared, conns) = (
            self.upstream.clone(),
            self.shared.clone(),
            self.conns.clone(),
        );
        *slot = Some(tokio::spawn(async move {
            while let Ok((down, _)) = listener.accept().await {
                let mut conns = conns.lock().unwrap();
                while conns.try_join_next().is_some() {}
                conns.spawn(proxy_connection(down, upstream.clone(), shared.clone()));
            }
        }));
    }

    /// HTTP requests received from the agent so far.
    pub fn requests(&self) -> usize {
        self.shared.requests.lock().unwrap().len()
    }

    /// The request lines received so far (`GET /v1.41/... HTTP/1.1`).
    pub fn request_lines(&self) -> Vec<String> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// Drops the listener and every proxied connection, removing the socket.
    pub async fn stop(&mut self) {
        self.set_down(true).await;
    }

    /// Drops every open proxied connection now; the socket keeps accepting.
    pub async fn cut(&self) {
        let mut open = std::mem::take(&mut *self.conns.lock().unwrap());
        open.shutdown().await;
    }

    /// `true`: the daemon is gone: the socket is removed (connecting fails)
    /// and every open connection is dropped. `false`: it is back.
    pub async fn set_down(&self, down: bool) {
        if !down {
            return self.listen();
        }
        let listener = self.listener.lock().unwrap().take();
        if let Some(task) = listener {
            task.abort();
            let _ = task.await;
        }
        let _ = std::fs::remove_file(&self.path);
        self.cut().await;
    }

    /// `true`: no byte moves in either direction on any connection, old or
    /// new, though all stay open (a hung daemon). `false`: everything held
    /// back flows on, in order.
    pub fn stall(&self, on: bool) {
        self.shared.stalled.send_replace(on);
    }

    /// Arms a one-shot fault: the next multiplexed frame header in the body
    /// of a followed log (`GET .../containers/{container_id}/logs?...follow=1`,
    /// `container_id` in full, as the agent asks for it) reaches the agent
    /// with stream type [`INVALID_STREAM`]. The container must not have a TTY
    /// (a TTY log is raw bytes, not frames).
    pub fn corrupt_next_log_frame(&self, container_id: &str) {
        self.shared.arm_corruption(container_id);
    }
}

impl Drop for DaemonProxy {
    fn drop(&mut self) {
        if let Some(task) = self.listener.lock().unwrap().take() {
            task.abort();
        }
        self.conns.lock().unwrap().abort_all();
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Request lines sent on one connection whose responses have not begun yet,
/// oldest first (HTTP/1.1 answers in order).
type Asked = Arc<Mutex<VecDeque<String>>>;

/// Forwards one agent connection to the daemon, both ways, until both
/// directions have ended or the connection is cut.
async fn proxy_connection(down: UnixStream, upstream: String, shared: Arc<Shared>) {
    let Ok(up) = UnixStream::connect(&upstream).await else {
        return;
    };
    let (down_r, down_w) = down.into_split();
    let (up_r, up_w) = up.into_split();
    let asked = Asked::default();
    let mut requests = Requests {
        pending: Vec::new(),
        asked: asked.clone(),
        shared: shared.clone(),
    };
    let mut responses = Responses::new(asked, shared.clone());
    let to_daemon = pump(down_r, up_w, shared.stalled.subscribe(), |d| {
        requests.scan(d);
    });
    let to_agent = pump(up_r, down_w, shared.stalled.subscribe(), |d| {
        responses.scan(d);
    });
    tokio::join!(to_daemon, to_agent);
}

/// Copies bytes one way. `inspect` sees (and may alter) each read before it
/// is written; writes wait while the proxy is stalled.
async fn pump(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    mut stalled: watch::Receiver<bool>,
    mut inspect: impl FnMut(&mut [u8]),
) {
    let mut buf = vec![0u8; 64 * 1024];
    while let Ok(n @ 1..) = from.read(&mut buf).await {
        inspect(&mut buf[..n]);
        if stalled.wait_for(|on| !on).await.is_err() || to.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}

/// The agent→daemon direction: each request line (`GET /path HTTP/1.1`) is
/// recorded in the proxy's log and queued for the response reader. The
/// agent sends no request bodies, so every line ending in ` HTTP/1.1` is one.
struct Requests {
    pending: Vec<u8>,
    asked: Asked,
    shared: Arc<Shared>,
}

impl Requests {
    fn scan(&mut self, data: &[u8]) {
        self.pending.extend_from_slice(data);
        while let Some(end) = self.pending.windows(2).position(|w| w == b"\r\n") {
            let line = String::from_utf8_lossy(&self.pending[..end]).into_owned();
            self.pending.drain(..end + 2);
            if line.ends_with(" HTTP/1.1") {
                self.asked.lock().unwrap().push_back(line.clone());
                self.shared.requests.lock().unwrap().push(line);
            }
        }
        if self.pending.len() > MAX_LINE {
            self.pending.clear();
        }
    }
}

/// Where the daemon→agent bytes are within HTTP/1.1 responses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Part {
    /// A response head, up to its blank line.
    Head,
    /// A body of known length: bytes left.
    Sized(u64),
    /// A chunk-size line: `<hex>[;extension]\r\n`.
    ChunkSize,
    /// A chunk's data: bytes left.
    ChunkData(u64),
    /// The CRLF that closes a chunk's data.
    ChunkEnd,
    /// Trailer lines after the last (empty) chunk, up to a blank line.
    Trailer,
    /// What this reader does not follow (an upgrade, a body that lasts
    /// until the connection closes, an oversized line): passed through.
    Opaque,
}

/// The daemon→agent direction: follows responses (matched in order with
/// the requests) through their framing, and inside the body of a followed
/// log, the multiplexed frames, so that one frame header can be corrupted.
struct Responses {
    asked: Asked,
    shared: Arc<Shared>,
    part: Part,
    /// The head or line being collected (for `Head`, `ChunkSize`, `ChunkEnd`, `Trailer`).
    line: Vec<u8>,
    /// Set while in the body of a followed log.
    frames: Option<LogFrames>,
}

impl Responses {
    fn new(asked: Asked, shared: Arc<Shared>) -> Responses {
        Responses {
            asked,
            shared,
            part: Part::Head,
            line: Vec::new(),
            frames: None,
        }
    }

    fn scan(&mut self, mut data: &mut [u8]) {
        while !data.is_empty() {
            let used = self.step(data);
            data = &mut data[used..];
        }
    }

    /// Consumes a non-empty prefix of `data`; returns its length.
    fn step(&mut self, data: &mut [u8]) -> usize {
        match self.part {
            Part::Sized(left) | Part::ChunkData(left) => {
                let n = data.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                if let Some(frames) = &mut self.frames {
                    frames.scan(&mut data[..n], &self.shared);
                }
                let left = left - n as u64;
                self.part = match (self.part, left) {
                    (Part::Sized(_), 0) => Part::Head,
                    (Part::Sized(_), _) => Part::Sized(left),
                    (_, 0) => Part::ChunkEnd,
                    _ => Part::ChunkData(left),
                };
                n
            }
            Part::Opaque => data.len(),
            _ => {
                self.line_byte(data[0]);
                1
            }
        }
    }

    /// One byte of a head or of a chunk-framing line.
    fn line_byte(&mut self, b: u8) {
        self.line.push(b);
        let end: &[u8] = if self.part == Part::Head {
            b"\r\n\r\n"
        } else {
            b"\n"
        };
        if !self.line.ends_with(end) {
            if self.line.len() > MAX_LINE {
                self.part = Part::Opaque;
            }
            return;
        }
        let line = std::mem::take(&mut self.line);
        self.part = match self.part {
            Part::Head => self.body_of(&line),
            Part::ChunkEnd => Part::ChunkSize,
            Part::ChunkSize => match chunk_size(&line) {
                Some(0) => Part::Trailer,
                Some(n) => Part::ChunkData(n),
                None => Part::Opaque,
            },
            _ if line == b"\r\n" => Part::Head,
            _ => Part::Trailer,
        };
    }

    /// How the body after this head is framed; pairs the response with its request.
    fn body_of(&mut self, head: &[u8]) -> Part {
        let head = String::from_utf8_lossy(head).to_ascii_lowercase();
        let status: u16 = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        if status == 101 {
            return Part::Opaque;
        }
        if status < 200 {
            return Part::Head; // an interim response: the final one follows
        }
        let request = self.asked.lock().unwrap().pop_front().unwrap_or_default();
        let header = |name: &str| {
            head.lines()
                .filter_map(|l| l.split_once(':'))
                .find(|(n, _)| n.trim() == name)
                .map(|(_, v)| v.trim().to_string())
        };
        let followed_log = request.starts_with("GET ")
            && request.contains("/logs?")
            && request.contains("follow=1");
        self.frames = followed_log.then(|| LogFrames {
            request: request.clone(),
            header: [0; 8],
            have: 0,
            payload_left: 0,
        });
        if request.starts_with("HEAD ") || status == 204 || status == 304 {
            Part::Head
        } else if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
            Part::ChunkSize
        } else {
            match header("content-length").and_then(|v| v.parse().ok()) {
                Some(0) => Part::Head,
                Some(n) => Part::Sized(n),
                None => Part::Opaque,
            }
        }
    }
}

/// A chunk-size line's value (`1a;name=value\r\n` is 26).
fn chunk_size(line: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(line).ok()?;
    let hex = text.split(';').next()?.trim();
    u64::from_str_radix(hex, 16).ok()
}

/// Position within a followed log's multiplexed frames (an 8-byte header
/// `[stream, 0, 0, 0, len u32 BE]`, then `len` payload bytes), which may be
/// split anywhere across chunks and reads.
struct LogFrames {
    request: String,
    header: [u8; 8],
    /// Header bytes seen of the current frame.
    have: usize,
    /// Payload bytes still to pass once the header is complete.
    payload_left: u64,
}

impl LogFrames {
    fn scan(&mut self, data: &mut [u8], shared: &Shared) {
        let mut i = 0;
        while i < data.len() {
            if self.payload_left > 0 {
                let n =
                    (data.len() - i).min(usize::try_from(self.payload_left).unwrap_or(usize::MAX));
                i += n;
                self.payload_left -= n as u64;
                continue;
            }
            if self.have == 0 && shared.take_corruption(&self.request) {
                data[i] = INVALID_STREAM;
            }
            self.header[self.have] = data[i];
            self.have += 1;
            i += 1;
            if self.have == self.header.len() {
                let len = [
                    self.header[4],
                    self.header[5],
                    self.header[6],
                    self.header[7],
                ];
                self.payload_left = u64::from(u32::from_be_bytes(len));
                self.have = 0;
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(stream: u8, payload: &[u8]) -> Vec<u8> {
        let mut f = vec![stream, 0, 0, 0];
        f.extend_from_slice(&(payload.len() as u32).to_be_bytes());
        f.extend_from_slice(payload);
        f
    }

    fn chunk(data: &[u8], extension: &str) -> Vec<u8> {
        let mut c = format!("{:x}{extension}\r\n", data.len()).into_bytes();
        c.extend_from_slice(data);
        c.extend_from_slice(b"\r\n");
        c
    }

    /// One connection's requests and the daemon's bytes in answer: a sized
    /// body that happens to look like a frame, a 204, another container's
    /// followed log (ended, with a trailer), then container `abc`'s followed
    /// log with frames split across chunks. Also where `abc`'s frame headers start.
    fn conversation() -> (Vec<String>, Vec<u8>, Vec<usize>) {
        let requests = [
            "GET /v1.41/containers/json?all=1 HTTP/1.1",
            "POST /v1.41/containers/abc/start HTTP/1.1",
            "GET /v1.41/containers/other/logs?follow=1&tail=0 HTTP/1.1",
            "GET /v1.41/containers/abc/logs?follow=1&stdout=1 HTTP/1.1",
        ];
        let json_like = frame(1, b"not a log");
        let mut bytes = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            json_like.len()
        )
        .into_bytes();
        bytes.extend(json_like);
        bytes.extend(b"HTTP/1.1 204 No Content\r\nServer: Docker\r\n\r\n");
        bytes.extend(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n");
        bytes.extend(chunk(&frame(2, b"elsewhere\n"), ""));
        bytes.extend(b"0\r\nX-Trailer: 1\r\n\r\n");
        bytes.extend(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
        let frames = [
            frame(1, b"hello\n"),
            frame(2, &[b'e'; 40]),
            frame(1, b""),
            frame(1, b"bye\n"),
        ];
        let mut body = Vec::new();
        let mut starts = Vec::new();
        for f in &frames {
            starts.push(body.len());
            body.extend(f);
        }
        // Chunk boundaries inside the second header and inside its payload.
        let (a, b) = (starts[1] + 3, starts[1] + 20);
        let mut absolute = Vec::new();
        for (from, to, extension) in [(0, a, ";ext=1"), (a, b, ""), (b, body.len(), "")] {
            let c = chunk(&body[from..to], extension);
            let data_at = bytes.len() + c.len() - (to - from) - 2;
            absolute.extend(
                starts
                    .iter()
                    .filter(|s| (from..to).contains(s))
                    .map(|s| data_at + s - from),
            );
            bytes.extend(c);
        }
        bytes.extend(b"0\r\n\r\n");
        (requests.map(String::from).to_vec(), bytes, absolute)
    }

    fn scanner(requests: &[String]) -> (Responses, Arc<Shared>) {
        let shared = Arc::new(Shared::new());
        let asked = Asked::new(Mutex::new(requests.iter().cloned().collect()));
        (Responses::new(asked, shared.clone()), shared)
    }

    #[test]
    fn corrupts_exactly_the_next_frame_header_of_the_armed_log_wherever_reads_split() {
        let (requests, bytes, starts) = conversation();
        assert_eq!(starts.len(), 4);
        for cut in 0..=bytes.len() {
            let (mut responses, shared) = scanner(&requests);
            let mut seen = bytes.clone();
            let (before, after) = seen.split_at_mut(cut);
            responses.scan(before);
            shared.arm_corruption("abc");
            responses.scan(after);
            let mut expected = bytes.clone();
            match starts.iter().find(|&&s| s >= cut) {
                Some(&s) => expected[s] = INVALID_STREAM,
                None => assert!(shared.corrupt_log_of.lock().unwrap().is_some()),
            }
            assert_eq!(seen, expected, "armed after byte {cut}");
            assert_eq!(responses.part, Part::Head, "ends between responses");
        }
    }

    #[test]
    fn follows_responses_fed_one_byte_at_a_time() {
        let (requests, bytes, starts) = conversation();
        let (mut responses, shared) = scanner(&requests);
        shared.arm_corruption("abc");
        let mut seen = bytes.clone();
        for b in seen.chunks_mut(1) {
            responses.scan(b);
        }
        let mut expected = bytes;
        expected[starts[0]] = INVALID_STREAM;
        assert_eq!(seen, expected);
        assert!(shared.corrupt_log_of.lock().unwrap().is_none(), "used up");
    }
}
