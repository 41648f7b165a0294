//! A real Prometheus server (Debian's `prometheus`) with the test's
//! configuration, its storage in a fresh directory and its API on a free
//! loopback port, stopped when dropped; optionally resolving names through
//! a DNS server of the test's alone.

use super::*;
use serde_json::Value;
use std::net::Ipv4Addr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub struct Prometheus {
    _process: Process,
    api: Agent,
}

impl Prometheus {
    /// Prometheus with `config` (its `prometheus.yml`). With `nameserver`,
    /// it runs in a mount namespace of its own (`unshare --mount`) where a
    /// `resolv.conf` naming that server alone is bound over
    /// `/etc/resolv.conf`, which its DNS discovery reads; the machine's
    /// stays as it is, and the mount goes with the process.
    pub async fn start(config: &str, nameserver: Option<Ipv4Addr>) -> Prometheus {
        if Command::new("prometheus")
            .arg("--version")
            .output()
            .is_err()
        {
            panic!("prometheus is needed: run tests/setup.sh (Debian's prometheus package)");
        }
        let dir = temp_dir("prometheus");
        std::fs::write(dir.join("prometheus.yml"), config).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let args = [
            format!("--config.file={}", dir.join("prometheus.yml").display()),
            format!("--storage.tsdb.path={}", dir.join("data").display()),
            format!("--web.listen-address=127.0.0.1:{port}"),
        ];
        let mut cmd = match nameserver {
            None => Command::new("prometheus"),
            Some(server) => {
                let resolv = dir.join("resolv.conf");
                std::fs::write(&resolv, format!("nameserver {server}\n")).unwrap();
                let mut cmd = Command::new("unshare");
                cmd.args(["--mount", "--", "sh", "-c"])
                    .arg(r#"mount --bind "$0" /etc/resolv.conf && exec prometheus "$@""#)
                    .arg(&resolv);
                cmd
            }
        };
        cmd.args(&args).stdout(Stdio::null()).stderr(Stdio::piped());
        let process = Process::from_command(cmd);
        let api = Agent::at(([127, 0, 0, 1], port).into());
        let deadline = Instant::now() + Duration::from_secs(60);
        while tokio::net::TcpStream::connect(api.addr).await.is_err() {
            assert!(
                Instant::now() < deadline,
                "Prometheus did not listen on {port}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Prometheus {
            _process: process,
            api,
        }
    }

    /// The result vector of an instant PromQL query.
    pub async fn query(&self, promql: &str) -> Option<Value> {
        let encoded: String = promql
            .bytes()
            .map(|b| match b {
                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' => (b as char).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect();
        let data = self
            .api_get(&format!("/api/v1/query?query={encoded}"))
            .await?;
        Some(data["result"].clone())
    }

    /// The active targets (`/api/v1/targets`), each with its discovered
    /// and final labels, its health and last error.
    pub async fn targets(&self) -> Vec<Value> {
        let data = self.api_get("/api/v1/targets?state=active").await;
        data.and_then(|d| d["activeTargets"].as_array().cloned())
            .unwrap_or_default()
    }

    /// The `data` of an API answer, if it came within 5 s with `200`.
    async fn api_get(&self, path: &str) -> Option<Value> {
        let r = tokio::time::timeout(Duration::from_secs(5), self.api.get(path, None));
        let r = r.await.ok()?;
        (r.status == 200).then(|| r.json()["data"].clone())
    }
}
