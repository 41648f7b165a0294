//! Benchmark plumbing: the release agent as a child process, /proc readings,
//! a raw Docker socket client for the "direct" baselines, and timing helpers.

use http_body_util::{BodyExt, Empty};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const PASSWORD: &str = "bench-password-1";

/// The release agent, started with `env` on a free loopback port.
pub struct AgentProcess {
    child: Child,
    pub addr: String,
}

impl AgentProcess {
    pub fn start(env: &[(&str, &str)]) -> AgentProcess {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_docker-agent"));
        cmd.env_clear()
            .env("HOST", "127.0.0.1")
            .env("PORT", "0")
            .env("API_PASSWORD", PASSWORD)
            .env("SECRET_KEY", "bench-secret-key-0123456789abcdef0123")
            .env("MCP_API_KEY", "bench-mcp-key-0123456789")
            .env("RATE_LIMIT_ENABLED", "false")
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if let Ok(host) = std::env::var("DOCKER_HOST") {
            cmd.env("DOCKER_HOST", host);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
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
        AgentProcess { child, addr }
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
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.pid())).unwrap_or_default();
        let after_comm = stat.rsplit(')').next().unwrap_or("");
        let fields: Vec<&str> = after_comm.split_whitespace().collect();
        let ticks: u64 = fields.get(11).and_then(|u| u.parse().ok()).unwrap_or(0)
            + fields.get(12).and_then(|s| s.parse().ok()).unwrap_or(0);
        Duration::from_millis(ticks * 10)
    }
}

impl Drop for AgentProcess {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

/// A request over a fresh connection to a Unix socket (the Docker baseline).
pub async fn unix_get(socket: &str, path: &str) -> Response<Incoming> {
    let stream = tokio::net::UnixStream::connect(socket)
        .await
        .expect("docker socket");
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let req = Request::get(path)
        .header("host", "docker")
        .body(Empty::<Bytes>::new())
        .unwrap();
    sender.send_request(req).await.unwrap()
}

pub fn docker_socket() -> String {
    std::env::var("DOCKER_HOST")
        .unwrap_or_else(|_| "unix:///var/run/docker.sock".into())
        .trim_start_matches("unix://")
        .to_string()
}

/// Counts log lines in a multiplexed follow body for `window` (one timer for
/// the whole window, not one per frame, so the reader stays cheap).
pub async fn count_direct_lines(mut body: Incoming, window: Duration) -> u64 {
    let mut decoder = docker_agent::docker::frames::FrameDecoder::new();
    let mut lines = 0u64;
    let count = async {
        while let Some(Ok(frame)) = body.frame().await {
            if let Ok(data) = frame.into_data() {
                decoder.push(&data);
                while let Ok(Some(f)) = decoder.next_frame() {
                    lines += f.data.iter().filter(|&&b| b == b'\n').count() as u64;
                }
            }
        }
    };
    let _ = tokio::time::timeout(window, count).await;
    lines
}
