//! Lossless live streams against the real daemon: every subscriber gets
//! every line in order exactly once whatever its speed, fast readers are
//! not slowed by slow ones, one Docker follow serves everyone who keeps up,
//! the agent's memory stays bounded meanwhile, and a stalled events reader
//! misses nothing.
//!
//! The log tests run the real binary as a child process, so its resident
//! memory can be sampled; lines are "line 1".."line N" and checked one by one.

use crate::util::*;
use docker_agent::docker::client::{Docker, Endpoint};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(30);
/// The agent's resident memory must stay below this while streaming (debug build).
const RSS_BOUND_KIB: u64 = 64 * 1024;

/// How fast a subscriber reads.
#[derive(Clone, Copy)]
enum Pace {
    Unpaced,
    LinesPerSec(u64),
    /// Reads nothing for this long, then reads unpaced.
    StallThenRead(Duration),
}

/// Reads "line 1".."line {n}" (or testbox's 1 KiB `wide` lines, "line N www…")
/// from `ws`, in order, at `pace`; returns how long it took.
async fn read_numbered(mut ws: Ws, n: u64, pace: Pace, wide: bool) -> Duration {
    let start = Instant::now();
    if let Pace::StallThenRead(d) = pace {
        tokio::time::sleep(d).await;
    }
    for i in 1..=n {
        let line = next_text(&mut ws, WAIT)
            .await
            .unwrap_or_else(|e| panic!("line {i} of {n}: stream ended with {e:?}"));
        if wide {
            let ok = line.starts_with(&format!("line {i} ")) && line.len() == 1023;
            assert!(ok, "line {i}: {}", &line[..line.len().min(20)]);
        } else {
            assert_eq!(line, format!("line {i}"), "in order, exactly once");
        }
        if let Pace::LinesPerSec(rate) = pace
            && i % 1000 == 0
        {
            let due = Duration::from_secs_f64(i as f64 / rate as f64);
            tokio::time::sleep(due.saturating_sub(start.elapsed())).await;
        }
    }
    let elapsed = start.elapsed();
    assert_eq!(
        next_text(&mut ws, Duration::from_millis(300)).await,
        Err(Ending::Silent),
        "nothing after the last line"
    );
    elapsed
}

/// The agent binary with rate limits off, following Docker through `socket`.
fn spawn_agent(socket: &str) -> (Process, Agent) {
    let dir = std::env::temp_dir().join(unique_name("lossless"));
    std::fs::create_dir_all(&dir).unwrap();
    let mut process = Process::spawn(
        &dir,
        &[
            ("SECRET_KEY", SECRET),
            ("API_PASSWORD", PASSWORD),
            ("RATE_LIMIT_ENABLED", "false"),
            ("DOCKER_HOST", socket),
        ],
    );
    let addr = process.address().parse().unwrap();
    (process, Agent::at(addr))
}

fn follows(proxy: &DaemonProxy) -> usize {
    proxy
        .request_lines()
        .iter()
        .filter(|l| l.contains("/logs?") && l.contains("follow=1"))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_speed_reader_gets_all_of_a_million_lines_written_at_full_speed() {
    const N: u64 = 1_000_000;
    let c = Container::run(&[], &[&format!("lines:{N}"), "wait"]);
    let (process, agent) = spawn_agent(&docker_host());
    let (peak, sampler) = process.watch_rss();
    let token = agent.token().await;
    let ws = agent
        .ws(&format!("/api/v1/logs/ws/{}?token={token}&tail=all", c.id))
        .await;
    let took = read_numbered(ws, N, Pace::LinesPerSec(20_000), false).await;
    sampler.abort();
    let peak = peak.load(Ordering::Relaxed);
    eprintln!("{N} lines in {took:?}; agent RSS peak {peak} KiB");
    assert!(peak < RSS_BOUND_KIB, "agent RSS peaked at {peak} KiB");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fast_slow_and_stalled_readers_of_one_container_all_get_every_line() {
    // 30 MB of 1 KiB lines: far more than a queue and the socket buffers
    // hold, so the stalled reader must move to a follow of its own.
    const N: u64 = 30_000;
    let c = Container::run(&[], &["sleep:2000", &format!("wide:{N}"), "wait"]);
    let path = temp_socket("lossless");
    let proxy = DaemonProxy::start(&path);
    let (process, agent) = spawn_agent(&format!("unix://{}", path.display()));
    let (peak, sampler) = process.watch_rss();
    let token = agent.token().await;
    let url = format!("/api/v1/logs/ws/{}?token={token}&tail=all", c.id);
    let mut readers = Vec::new();
    for pace in [
        Pace::Unpaced,
        Pace::LinesPerSec(5_000),
        Pace::StallThenRead(Duration::from_secs(6)),
    ] {
        let ws = agent.ws(&url).await;
        readers.push(tokio::spawn(read_numbered(ws, N, pace, true)));
    }
    let mut took = Vec::new();
    for r in readers {
        took.push(r.await.unwrap());
    }
    sampler.abort();
    let peak = peak.load(Ordering::Relaxed);
    eprintln!(
        "fast, slow, stalled took {took:?}; Docker follows: {}; agent RSS peak {peak} KiB",
        follows(&proxy)
    );
    assert!(
        follows(&proxy) >= 2,
        "the stalled reader resumed on its own follow"
    );
    assert!(peak < RSS_BOUND_KIB, "agent RSS peaked at {peak} KiB");
}

#[tokio::test]
async fn one_docker_follow_serves_everyone_who_keeps_up() {
    let c = Container::run(&[], &["sleep:1000", "lines:3000", "every:1"]);
    let path = temp_socket("keepup");
    let proxy = DaemonProxy::start(&path);
    let host = format!("unix://{}", path.display());
    let agent = Agent::start(&[("DOCKER_HOST", &host), ("RATE_LIMIT_ENABLED", "false")]).await;
    let token = agent.token().await;
    let url = format!("/api/v1/logs/ws/{}?token={token}&tail=0", c.id);
    let mut readers = Vec::new();
    for pace in [Pace::Unpaced, Pace::Unpaced, Pace::LinesPerSec(5_000)] {
        let ws = agent.ws(&url).await;
        readers.push(tokio::spawn(async move {
            let mut ws = ws;
            let mut got = Vec::new();
            let start = Instant::now();
            while got.len() < 4000 {
                got.push(next_text(&mut ws, WAIT).await.unwrap());
                if let Pace::LinesPerSec(rate) = pace {
                    let due = Duration::from_secs_f64(got.len() as f64 / rate as f64);
                    tokio::time::sleep(due.saturating_sub(start.elapsed())).await;
                }
            }
            got
        }));
    }
    let mut seen = Vec::new();
    for r in readers {
        seen.push(r.await.unwrap());
    }
    let expected: Vec<String> = (1..=3000)
        .map(|i| format!("line {i}"))
        .chain((1..=1000).map(|i| format!("tick {i}")))
        .collect();
    for got in &seen {
        assert_eq!(got, &expected);
    }
    assert_eq!(follows(&proxy), 1, "everyone kept up: one Docker follow");
}

#[tokio::test]
async fn an_events_reader_that_stalls_through_a_thousand_starts_misses_none() {
    const CONTAINERS: usize = 20;
    const ROUNDS: usize = 50;
    let label = unique_name("starts");
    let tag = format!("{label}=1");
    let boxes: Vec<Container> = (0..CONTAINERS)
        .map(|_| Container::create(&["--label", &tag], &["exit:0"]))
        .collect();
    // A reader silent for three ping intervals counts as dead: give the stall room.
    let agent = Agent::start(&[("RATE_LIMIT_ENABLED", "false"), ("WS_PING_INTERVAL", "600")]).await;
    let token = agent.token().await;
    let mut ws = agent
        .ws(&format!(
            "/api/v1/events/ws?token={token}&type=container&event=start&label={label}"
        ))
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    // A thousand starts while the reader reads nothing.
    let Some(Endpoint::Unix(sock)) = Endpoint::parse(&docker_host()) else {
        panic!("the tests use a Unix socket")
    };
    let docker = Arc::new(Docker::new(&Endpoint::Unix(sock), WAIT));
    let starters: Vec<_> = boxes
        .iter()
        .map(|b| {
            let (docker, id) = (docker.clone(), b.id.clone());
            tokio::spawn(async move {
                for _ in 0..ROUNDS {
                    let started = docker.post(&format!("/containers/{id}/start"), WAIT).await;
                    assert_eq!(started.unwrap().as_u16(), 204);
                    docker
                        .post(&format!("/containers/{id}/wait"), WAIT)
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for s in starters {
        s.await.unwrap();
    }

    let mut per_container: HashMap<String, usize> = HashMap::new();
    let mut seen = std::collections::HashSet::new();
    for n in 0..CONTAINERS * ROUNDS {
        let text = next_text(&mut ws, WAIT)
            .await
            .unwrap_or_else(|e| panic!("event {n}: {e:?}"));
        let event: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(event["Action"], "start", "{event}");
        let id = event["id"].as_str().unwrap().to_string();
        assert!(
            seen.insert((id.clone(), event["timeNano"].as_u64())),
            "no duplicates"
        );
        *per_container.entry(id).or_default() += 1;
    }
    assert_eq!(per_container.len(), CONTAINERS);
    assert!(
        per_container.values().all(|&n| n == ROUNDS),
        "{per_container:?}"
    );
    assert_eq!(
        next_text(&mut ws, Duration::from_millis(500)).await,
        Err(Ending::Silent)
    );
}
