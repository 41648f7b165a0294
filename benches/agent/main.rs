//! `make bench`: measures the release agent against the real Docker daemon
//! and prints one markdown table. Not a pass/fail test: every loop is
//! bounded in count and time, everything runs on loopback, and every
//! container it creates is labelled and removed.

#[allow(dead_code)]
#[path = "../../tests/agent/util/docker.rs"]
mod docker;
mod support;

use docker::Container;
use futures_util::StreamExt;
use std::time::Duration;
use support::*;

/// How long each throughput window lasts.
const WINDOW: Duration = Duration::from_secs(4);

struct Table(Vec<[String; 3]>);

impl Table {
    fn row(&mut self, what: &str, value: String, note: String) {
        println!("  {what}: {value} {note}");
        self.0.push([what.to_string(), value, note]);
    }

    fn print(&self) {
        println!("\n| measurement | value | notes |\n|---|---|---|");
        for [a, b, c] in &self.0 {
            println!("| {a} | {b} | {c} |");
        }
    }
}

async fn token(addr: &str) -> String {
    let out = std::process::Command::new("curl")
        .args([
            "-s",
            "-X",
            "POST",
            &format!("http://{addr}/api/v1/auth/login"),
            "-d",
        ])
        .arg(format!(r#"{{"username":"admin","password":"{PASSWORD}"}}"#))
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["access_token"].as_str().unwrap().to_string()
}

/// Messages received by `clients` WebSocket subscribers within [`WINDOW`].
async fn ws_lines(addr: &str, path: &str, clients: usize) -> u64 {
    let mut sockets = Vec::new();
    for _ in 0..clients {
        let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}{path}"))
            .await
            .unwrap();
        sockets.push(ws);
    }
    let readers = sockets.into_iter().map(|mut ws| {
        tokio::spawn(async move {
            let mut n = 0u64;
            let read = async {
                while let Some(Ok(msg)) = ws.next().await {
                    n += u64::from(msg.is_text());
                }
            };
            let _ = tokio::time::timeout(WINDOW, read).await;
            n
        })
    });
    let mut total = 0;
    for r in readers {
        total += r.await.unwrap();
    }
    total
}

fn per_sec(n: u64) -> String {
    format!("{:.0}", n as f64 / WINDOW.as_secs_f64())
}

/// Lines of one direct follow of the Docker socket within [`WINDOW`], read
/// by a lean single-threaded client on its own thread.
async fn direct_lines(id: &str) -> u64 {
    let path = format!("/containers/{id}/logs?follow=1&stdout=1&stderr=1&tail=0");
    let reader = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let resp = unix_get(&docker_socket(), &path).await;
            count_direct_lines(resp.into_body(), WINDOW).await
        })
    });
    tokio::task::spawn_blocking(move || reader.join().unwrap())
        .await
        .unwrap()
}

/// Lines received by `clients` WebSocket subscribers, and the agent's CPU time.
async fn ws_round(agent: &AgentProcess, path: &str, clients: usize) -> (u64, Duration) {
    let cpu0 = agent.cpu();
    let lines = ws_lines(&agent.addr, path, clients).await;
    (lines, agent.cpu() - cpu0)
}

async fn websocket_logs(table: &mut Table) {
    let flood = Container::run(
        &["--log-opt", "max-size=50m", "--log-opt", "max-file=2"],
        &["flood"],
    );
    let agent = AgentProcess::start(&[]);
    let token = token(&agent.addr).await;
    let path = format!("/api/v1/logs/ws/{}?token={token}&tail=0", flood.id);
    tokio::time::sleep(Duration::from_secs(2)).await;

    let direct = direct_lines(&flood.id).await;
    table.row(
        "logs: direct follow of the Docker socket",
        format!("{} lines/s", per_sec(direct)),
        "baseline".into(),
    );
    let (one, cpu1) = ws_round(&agent, &path, 1).await;
    table.row(
        "logs: WebSocket, 1 subscriber",
        format!("{} lines/s", per_sec(one)),
        format!(
            "{:.0}% of direct; agent CPU {:.2} s per million lines",
            100.0 * one as f64 / direct.max(1) as f64,
            cpu1.as_secs_f64() * 1e6 / one.max(1) as f64
        ),
    );
    let (fifty, cpu50) = ws_round(&agent, &path, 50).await;
    table.row(
        "logs: WebSocket, 50 subscribers (total)",
        format!("{} lines/s", per_sec(fifty)),
        format!(
            "{:.1}× one subscriber; agent CPU {:.2} s per million lines delivered; RSS {} KiB",
            fifty as f64 / one.max(1) as f64,
            cpu50.as_secs_f64() * 1e6 / fifty.max(1) as f64,
            agent.rss_kib()
        ),
    );
    let again = direct_lines(&flood.id).await;
    table.row(
        "logs: direct follow again",
        format!("{} lines/s", per_sec(again)),
        "drift check".into(),
    );
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut table = Table(Vec::new());
    println!("docker-agent benchmark (release build, real daemon, loopback)");
    runtime.block_on(websocket_logs(&mut table));
    table.print();
}
