//! Benchmark plumbing: the release agent as a child process, /proc readings,
//! keep-alive HTTP/1.1 connections over TCP (the agent) or the Unix socket
//! (Docker directly, the baseline), a closed-loop load generator, and
//! percentiles.

use http_body_util::{BodyExt, Empty};
use hyper::body::{Bytes, Incoming};
use hyper::client::conn::http1::SendRequest;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const PASSWORD: &str = "bench-password-1";

/// The binary under test: `$AGENT_BIN` if set (to compare builds), else the
/// static release build when `make release` made one, else this build's own.
pub fn agent_binary() -> PathBuf {
    if let Some(bin) = std::env::var_os("AGENT_BIN") {
        return bin.into();
    }
    let static_bin = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/target/static/docker-agent"
    ));
    if static_bin.exists() {
        static_bin
    } else {
        PathBuf::from(env!("CARGO_BIN_EXE_docker-agent"))
    }
}

/// Runs the future `make` builds on a single-threaded runtime of its own
/// thread, so a measuring client pays no cross-thread wake-ups and competes
/// equally whichever side it measures.
pub async fn isolated<T, F, Fut>(make: F) -> T
where
    T: Send + 'static,
    F: FnOnce() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = T>,
{
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(make())
    });
    tokio::task::spawn_blocking(move || thread.join().unwrap())
        .await
        .unwrap()
}

/// The release agent, started with `env` on a free loopback port.
pub struct AgentProcess {
    child: Child,
    pub addr: String,
    /// Spawn to first line of output saying it listens.
    pub started: Instant,
}

impl AgentProcess {
    pub fn start(env: &[(&str, &str)]) -> AgentProcess {
        let mut cmd = Command::new(agent_binary());
        cmd.env_clear()
            .env("HOST", "127.0.0.1")
            .env("PORT", "0")
            .env("API_PASSWORD", PASSWORD)
            .env("SECRET_KEY", "bench-secret-key-0123456789abcdef0123")
            .env("MCP_API_KEY", "bench-mcp-key-0123456789")
            .env("RATE_LIMIT_ENABLED", "false")
            // The bench is one client opening a thousand connections.
            .env("MAX_CONNECTIONS_PER_CLIENT", "2048")
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        for pass in ["DOCKER_HOST", "TOKIO_WORKER_THREADS"] {
            if let Ok(value) = std::env::var(pass) {
                cmd.env(pass, value);
            }
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let started = Instant::now();
        let mut child = cmd.spawn().expect("start docker-agent");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let addr = loop {
            let line = lines.next().expect("agent exited early").unwrap();
            if let Some(rest) = line.split("\"address\":\"").nth(1) {
                break rest.split('"').next().unwrap().to_string();
            }
        };
        std::thread::spawn(move || for _ in lines {});
        AgentProcess {
            child,
            addr,
            started,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory in KiB.
    pub fn rss_kib(&self) -> u64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
            .unwrap_or(0)
    }

    /// User + system CPU time consumed so far.
    pub fn cpu(&self) -> Duration {
        cpu_of(self.pid())
    }
}

/// User + system CPU time process `pid` has consumed so far (zero if gone).
pub fn cpu_of(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let ticks = docker_agent::metrics::cpu_ticks(&stat).unwrap_or(0);
    Duration::from_millis(ticks * 10)
}

impl Drop for AgentProcess {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

pub fn docker_socket() -> String {
    std::env::var("DOCKER_HOST")
        .unwrap_or_else(|_| "unix:///var/run/docker.sock".into())
        .trim_start_matches("unix://")
        .to_string()
}

/// One keep-alive HTTP/1.1 connection.
pub struct Conn(SendRequest<Empty<Bytes>>);

async fn handshake<T>(io: T) -> Conn
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .unwrap();
    tokio::spawn(conn);
    Conn(sender)
}

/// A connection to the agent.
pub async fn tcp(addr: &str) -> Conn {
    handshake(tokio::net::TcpStream::connect(addr).await.expect("agent")).await
}

/// A connection to the Docker socket itself.
pub async fn unix(path: &str) -> Conn {
    handshake(
        tokio::net::UnixStream::connect(path)
            .await
            .expect("docker socket"),
    )
    .await
}

impl Conn {
    /// Sends a GET and returns the response head; the body is the caller's.
    pub async fn open(&mut self, path: &str, token: Option<&str>) -> Response<Incoming> {
        let mut req = Request::get(path).header("host", "localhost");
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        self.0.ready().await.unwrap();
        self.0
            .send_request(req.body(Empty::new()).unwrap())
            .await
            .unwrap()
    }

    /// A whole GET: status and body length.
    pub async fn get(&mut self, path: &str, token: Option<&str>) -> (u16, usize) {
        let resp = self.open(path, token).await;
        let status = resp.status().as_u16();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        (status, body.len())
    }
}

/// Times `n` sequential GETs on one connection (after two warm-ups).
pub async fn latencies(
    conn: &mut Conn,
    path: &str,
    token: Option<&str>,
    n: usize,
) -> Vec<Duration> {
    for _ in 0..2 {
        assert_eq!(conn.get(path, token).await.0, 200, "{path}");
    }
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        conn.get(path, token).await;
        out.push(t.elapsed());
    }
    out
}

/// Closed-loop load: `concurrency` connections each sending GETs back to
/// back for `window`. Returns requests done and every latency.
pub async fn load(
    addr: &str,
    path: &str,
    concurrency: usize,
    window: Duration,
) -> (usize, Vec<Duration>) {
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let mut conn = tcp(addr).await;
        let path = path.to_string();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let end = Instant::now() + window;
            while Instant::now() < end {
                let t = Instant::now();
                conn.get(&path, None).await;
                lat.push(t.elapsed());
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    (all.len(), all)
}

/// (p50, p99) of `samples`.
pub fn percentiles(samples: &mut [Duration]) -> (Duration, Duration) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    (at(0.50), at(0.99))
}

/// How a benchmark reader reads: as fast as it can, or at most `Some(n)`
/// lines a second (a browser-speed client), after an optional stall.
#[derive(Clone, Copy)]
pub struct Pace {
    pub rate: Option<u64>,
    pub stall: Duration,
}

impl Pace {
    pub const UNPACED: Pace = Pace {
        rate: None,
        stall: Duration::ZERO,
    };

    pub fn at(rate: u64) -> Pace {
        Pace {
            rate: Some(rate),
            ..Pace::UNPACED
        }
    }
}

/// Keeps a reader to its [`Pace`]: call [`Pacer::read`] after each batch of lines.
pub struct Pacer {
    pace: Pace,
    start: std::time::Instant,
}

impl Pacer {
    pub async fn new(pace: Pace) -> Pacer {
        tokio::time::sleep(pace.stall).await;
        Pacer {
            pace,
            start: std::time::Instant::now(),
        }
    }

    /// Waits until `lines` read so far are due at this pace.
    pub async fn read(&self, lines: u64) {
        if let Some(rate) = self.pace.rate {
            let due = Duration::from_secs_f64(lines as f64 / rate as f64);
            tokio::time::sleep(due.saturating_sub(self.start.elapsed())).await;
        }
    }
}

/// Counts log lines in a multiplexed follow body for `window` (one timer for
/// the whole window, not one per frame, so the reader stays cheap), read at `pace`.
pub async fn count_direct_lines(mut body: Incoming, window: Duration, pace: Pace) -> u64 {
    let mut decoder = docker_agent::docker::frames::FrameDecoder::new();
    let mut lines = 0u64;
    let count = async {
        let pacer = Pacer::new(pace).await;
        let mut checked = 0;
        while let Some(Ok(frame)) = body.frame().await {
            if let Ok(data) = frame.into_data() {
                decoder.push(&data);
                while let Ok(Some(f)) = decoder.next_frame() {
                    lines += f.data.iter().filter(|&&b| b == b'\n').count() as u64;
                }
                // As the WebSocket reader: a pause at most every 256 lines.
                if lines >= checked + 256 {
                    checked = lines;
                    pacer.read(lines).await;
                }
            }
        }
    };
    let _ = tokio::time::timeout(window, count).await;
    lines
}
