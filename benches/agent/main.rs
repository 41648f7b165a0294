//! `make bench`: measures the release agent against the real Docker daemon,
//! side by side with Docker's own socket where there is a direct
//! equivalent, and prints one markdown table. Not a pass/fail test. Every
//! loop is bounded in count and time, everything runs on loopback, and
//! every container it creates is labelled and removed.

#[allow(dead_code)]
#[path = "../../tests/agent/util/docker.rs"]
mod docker;
mod fleet;
mod support;

use docker::Container;
use futures_util::StreamExt;
use std::time::{Duration, Instant};
use support::*;

/// How long each throughput window lasts.
const WINDOW: Duration = Duration::from_secs(4);
/// Sequential requests per latency measurement.
const SAMPLES: usize = 200;

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

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn mib(bytes: u64) -> String {
    format!("{:.2} MiB", bytes as f64 / (1024.0 * 1024.0))
}

fn per_sec(n: u64) -> String {
    format!("{:.0}", n as f64 / WINDOW.as_secs_f64())
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

fn sizes(table: &mut Table) {
    let bin = agent_binary();
    let size = std::fs::metadata(&bin).map(|m| m.len()).unwrap_or(0);
    table.row(
        "binary size",
        mib(size),
        format!("{} ({size} bytes)", bin.display()),
    );
    let image = std::process::Command::new("docker")
        .args(["image", "inspect", "-f", "{{.Size}}", "docker-agent:latest"])
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .trim()
                .parse::<u64>()
                .ok()
        });
    match image {
        Some(bytes) => table.row(
            "image size",
            format!("{:.2} MB", bytes as f64 / 1e6),
            format!("docker-agent:latest, {bytes} bytes"),
        ),
        None => table.row("image size", "n/a".into(), "run `make image` first".into()),
    }
}

/// Spawn to the first `200` from `/healthz`, median of five starts (the
/// agent logs that it listens only once its socket is bound).
async fn cold_start(table: &mut Table) {
    let mut times = Vec::new();
    for _ in 0..5 {
        let agent = AgentProcess::start(&[]);
        let mut conn = tcp(&agent.addr).await;
        for _ in 0..500 {
            if conn.get("/api/v1/healthz", None).await.0 == 200 {
                break;
            }
        }
        times.push(agent.started.elapsed());
    }
    times.sort();
    table.row(
        "cold start to first 200 on /healthz",
        ms(times[2]),
        format!("median of 5; fastest {}", ms(times[0])),
    );
}

async fn memory(table: &mut Table) {
    let agent = AgentProcess::start(&[]);
    tcp(&agent.addr).await.get("/api/v1/healthz", None).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle = agent.rss_kib();
    table.row(
        "idle RSS",
        format!("{idle} KiB"),
        "after start and one request".into(),
    );

    let mut conns = Vec::new();
    for _ in 0..1000 {
        let mut c = tcp(&agent.addr).await;
        c.get("/api/v1/healthz", None).await;
        conns.push(c);
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss = agent.rss_kib();
    table.row(
        "RSS with 1,000 idle keep-alive connections",
        format!("{rss} KiB"),
        format!(
            "each served one request and kept open, idle for 1 s: {:.1} KiB a connection",
            rss.saturating_sub(idle) as f64 / 1000.0
        ),
    );
    drop(conns);

    let quiet = Container::run(&[], &["every:1000"]);
    let token = token(&agent.addr).await;
    let url = format!(
        "ws://{}/api/v1/logs/ws/{}?token={token}",
        agent.addr, quiet.id
    );
    let mut subs = Vec::new();
    for _ in 0..100 {
        subs.push(
            tokio_tungstenite::connect_async(url.as_str())
                .await
                .unwrap()
                .0,
        );
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    table.row(
        "RSS with 100 WebSocket log subscribers",
        format!("{} KiB", agent.rss_kib()),
        "one container, shared upstream".into(),
    );
}

async fn healthz_throughput(table: &mut Table) {
    let agent = AgentProcess::start(&[]);
    for concurrency in [1, 64] {
        let (n, mut lat) = load(&agent.addr, "/api/v1/healthz", concurrency, WINDOW).await;
        let (p50, p99) = percentiles(&mut lat);
        table.row(
            &format!("GET /healthz, concurrency {concurrency}"),
            format!("{} req/s", per_sec(n as u64)),
            format!("p50 {}, p99 {}", ms(p50), ms(p99)),
        );
    }
}

/// p50/p99 of the agent's route and of Docker's own endpoint, and their ratio.
async fn side_by_side(
    table: &mut Table,
    what: &str,
    agent: &AgentProcess,
    token: &str,
    ours: &str,
    direct: &str,
) {
    let (addr, ours, token, direct) = (
        agent.addr.clone(),
        ours.to_string(),
        token.to_string(),
        direct.to_string(),
    );
    let mut a = isolated(move || async move {
        latencies(&mut tcp(&addr).await, &ours, Some(&token), SAMPLES).await
    })
    .await;
    let mut d = isolated(move || async move {
        latencies(&mut unix(&docker_socket()).await, &direct, None, SAMPLES).await
    })
    .await;
    let ((a50, a99), (d50, d99)) = (percentiles(&mut a), percentiles(&mut d));
    table.row(
        what,
        format!("p50 {}, p99 {}", ms(a50), ms(a99)),
        format!(
            "direct socket p50 {}, p99 {}; ratio {:.2}×",
            ms(d50),
            ms(d99),
            a50.as_secs_f64() / d50.as_secs_f64()
        ),
    );
}

async fn container_list(table: &mut Table) {
    let agent = AgentProcess::start(&[]);
    let token = token(&agent.addr).await;
    let mut made = Vec::new();
    for total in [10, 100] {
        while made.len() < total {
            made.push(Container::create(&[], &["wait"]));
        }
        let what = format!("GET /containers/ with {total} containers");
        side_by_side(
            table,
            &what,
            &agent,
            &token,
            "/api/v1/containers/",
            "/containers/json?all=1",
        )
        .await;
    }
}

/// Running containers the scrape cost is measured with.
const SCRAPED: usize = 100;
const METRICS_TOKEN: &str = "bench-metrics-0123456789abcdef";

/// The daemon's pid, to charge it the stats calls a scrape makes.
fn dockerd_pid() -> Option<u32> {
    let out = std::process::Command::new("pidof")
        .arg("dockerd")
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// `n` scrapes of `/metrics`: time per scrape, and the agent's and the
/// daemon's CPU time per scrape.
async fn scrapes(agent: &AgentProcess, n: u32) -> (Duration, Duration, Duration, usize) {
    let mut conn = tcp(&agent.addr).await;
    let dockerd = dockerd_pid();
    let (cpu, daemon) = (agent.cpu(), dockerd.map(cpu_of).unwrap_or_default());
    let started = Instant::now();
    let mut size = 0;
    for _ in 0..n {
        let (status, bytes) = conn.get("/metrics", Some(METRICS_TOKEN)).await;
        assert_eq!(status, 200);
        size = bytes;
    }
    let daemon = dockerd
        .map(cpu_of)
        .unwrap_or_default()
        .saturating_sub(daemon);
    (
        started.elapsed() / n,
        (agent.cpu() - cpu) / n,
        daemon / n,
        size,
    )
}

async fn metrics_scrape(table: &mut Table) {
    let running: Vec<Container> = (0..SCRAPED)
        .map(|_| Container::run(&[], &["wait"]))
        .collect();
    let rows = [("cold", "0", 5), ("cached", "60", 200)];
    for (kind, cache, n) in rows {
        let agent = AgentProcess::start(&[
            ("METRICS_TOKEN", METRICS_TOKEN),
            ("METRICS_CACHE_SECONDS", cache),
        ]);
        scrapes(&agent, 1).await;
        let (time, cpu, daemon, size) = scrapes(&agent, n).await;
        table.row(
            &format!(
                "GET /metrics with {} running containers, {kind}",
                running.len()
            ),
            ms(time),
            format!(
                "agent CPU {} per scrape, dockerd CPU {} per scrape; {size} bytes; {n} scrapes",
                ms(cpu),
                ms(daemon)
            ),
        );
    }
}

async fn logs_tail(table: &mut Table) {
    let big = Container::run(&["--log-opt", "max-size=200m"], &["lines:1000000"]);
    let _ = std::process::Command::new("docker")
        .args(["wait", &big.id])
        .output();
    let agent = AgentProcess::start(&[]);
    let token = token(&agent.addr).await;
    let ours = format!("/api/v1/containers/{}/logs?tail=10000", big.id);
    let direct = format!("/containers/{}/logs?stdout=1&stderr=1&tail=10000", big.id);
    side_by_side(
        table,
        "GET /containers/{id}/logs?tail=10000, 1,000,000-line log",
        &agent,
        &token,
        &ours,
        &direct,
    )
    .await;
}

/// Lines of one direct follow of the Docker socket within [`WINDOW`], read
/// by a lean single-threaded client at `pace`.
async fn direct_lines(id: &str, pace: Pace) -> u64 {
    let path = format!("/containers/{id}/logs?follow=1&stdout=1&stderr=1&tail=0");
    isolated(move || async move {
        let resp = unix(&docker_socket()).await.open(&path, None).await;
        count_direct_lines(resp.into_body(), WINDOW, pace).await
    })
    .await
}

/// Messages received within [`WINDOW`] by one WebSocket subscriber per pace.
async fn ws_lines(addr: &str, path: &str, paces: &[Pace]) -> Vec<u64> {
    let mut sockets = Vec::new();
    for _ in paces {
        let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}{path}"))
            .await
            .unwrap();
        sockets.push(ws);
    }
    let readers = sockets
        .into_iter()
        .zip(paces.to_vec())
        .map(|(mut ws, pace)| {
            tokio::spawn(async move {
                let mut n = 0u64;
                let read = async {
                    let pacer = Pacer::new(pace).await;
                    while let Some(Ok(msg)) = ws.next().await {
                        n += u64::from(msg.is_text());
                        if n % 256 == 0 {
                            pacer.read(n).await;
                        }
                    }
                };
                let _ = tokio::time::timeout(WINDOW, read).await;
                n
            })
        });
    let mut counts = Vec::new();
    for r in readers {
        counts.push(r.await.unwrap());
    }
    counts
}

/// Lines received by `clients` unpaced subscribers, and the agent's CPU time meanwhile.
async fn ws_round(agent: &AgentProcess, path: &str, clients: usize) -> (u64, Duration) {
    let cpu = agent.cpu();
    let lines = ws_lines(&agent.addr, path, &vec![Pace::UNPACED; clients]).await;
    (lines.iter().sum(), agent.cpu() - cpu)
}

/// Equal terms: the same slow reader on a direct follow and on the agent.
async fn paced_side_by_side(table: &mut Table, id: &str, addr: &str, path: &str) {
    const BROWSER: u64 = 20_000;
    let direct = direct_lines(id, Pace::at(BROWSER)).await;
    let ours = ws_lines(addr, path, &[Pace::at(BROWSER)]).await[0];
    table.row(
        "logs: one reader paced at 20,000 lines/s, direct / WebSocket",
        format!("{} / {} lines/s", per_sec(direct), per_sec(ours)),
        format!(
            "{:.0}% of direct, same reader",
            100.0 * ours as f64 / direct.max(1) as f64
        ),
    );
}

/// The lossless cases: a fast reader alone, then beside a slow and a stalled one.
async fn lossless_rows(table: &mut Table, addr: &str, path: &str) {
    let alone = ws_lines(addr, path, &[Pace::UNPACED]).await[0];
    let stalled = Pace {
        stall: WINDOW / 2,
        ..Pace::UNPACED
    };
    let mixed = ws_lines(addr, path, &[Pace::UNPACED, Pace::at(5_000), stalled]).await;
    table.row(
        "logs, lossless: fast reader alone / beside a slow and a stalled one",
        format!("{} / {} lines/s", per_sec(alone), per_sec(mixed[0])),
        format!(
            "slow (5,000 lines/s) got {} lines/s, stalled-then-resumed {} lines/s; nobody cut off",
            per_sec(mixed[1]),
            per_sec(mixed[2])
        ),
    );
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

    let direct = direct_lines(&flood.id, Pace::UNPACED).await;
    table.row(
        "logs: direct follow of the Docker socket",
        format!("{} lines/s", per_sec(direct)),
        "baseline (a container writing as fast as it can)".into(),
    );
    let (one, cpu_one) = ws_round(&agent, &path, 1).await;
    table.row(
        "logs: WebSocket, 1 subscriber",
        format!("{} lines/s", per_sec(one)),
        format!(
            "{:.0}% of direct; agent CPU {:.2} s per million lines",
            100.0 * one as f64 / direct.max(1) as f64,
            cpu_one.as_secs_f64() * 1e6 / one.max(1) as f64
        ),
    );
    let (fifty, cpu_fifty) = ws_round(&agent, &path, 50).await;
    table.row(
        "logs: WebSocket, 50 subscribers (total)",
        format!("{} lines/s", per_sec(fifty)),
        format!(
            "{:.1}× one subscriber; agent CPU {:.2} s per million lines delivered; RSS {} KiB",
            fifty as f64 / one.max(1) as f64,
            cpu_fifty.as_secs_f64() * 1e6 / fifty.max(1) as f64,
            agent.rss_kib()
        ),
    );
    paced_side_by_side(table, &flood.id, &agent.addr, &path).await;
    lossless_rows(table, &agent.addr, &path).await;
}

/// The groups of rows, by the name that selects them on the command line
/// (`cargo bench --bench agent -- memory healthz` runs only those two; no
/// names run them all), so a row disturbed by other load can be repeated.
const GROUPS: [&str; 9] = [
    "sizes",
    "cold-start",
    "memory",
    "healthz",
    "list",
    "metrics",
    "logs-tail",
    "websocket",
    "fleet",
];

async fn run(group: &str, table: &mut Table) {
    match group {
        "sizes" => sizes(table),
        "cold-start" => cold_start(table).await,
        "memory" => memory(table).await,
        "healthz" => healthz_throughput(table).await,
        "list" => container_list(table).await,
        "metrics" => metrics_scrape(table).await,
        "logs-tail" => logs_tail(table).await,
        "websocket" => websocket_logs(table).await,
        _ => fleet::fleet(table).await,
    }
}

/// The groups named on the command line (cargo's own `--bench` flag aside), or all.
fn selected() -> Vec<&'static str> {
    let named: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    for name in &named {
        assert!(
            GROUPS.contains(&name.as_str()),
            "unknown group {name:?}; the groups are {GROUPS:?}"
        );
    }
    GROUPS
        .into_iter()
        .filter(|g| named.is_empty() || named.iter().any(|n| n == g))
        .collect()
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut table = Table(Vec::new());
    let started = Instant::now();
    println!(
        "docker-agent benchmark: {} against the real daemon, loopback",
        agent_binary().display()
    );
    runtime.block_on(async {
        for group in selected() {
            run(group, &mut table).await;
        }
    });
    table.print();
    println!("\n(finished in {:.0} s)", started.elapsed().as_secs_f64());
}
