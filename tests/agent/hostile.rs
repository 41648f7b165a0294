//! Hostile clients and bursts, reproduced on loopback: one address holding
//! every connection slot, WebSocket streams that keep counting, a client that
//! never reads its answers, bursts of reads and of health probes against a
//! daemon behind a counting socket, and a hung daemon.
//!
//! Pass or fail never depends on timing: each test asserts what happened
//! (who got an answer, how many Docker requests were outstanding at once);
//! timeouts are generous hang guards only.

use crate::util::*;
use futures_util::StreamExt;
use futures_util::future::join_all;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, UnixListener, UnixStream};
use tokio::task::JoinHandle;

#[tokio::test]
async fn one_address_cannot_take_every_connection_slot() {
    let agent = Agent::start(&[]).await;
    let config = docker_agent::config::Config::from_vars(&test_vars(&[])).unwrap();
    let (total, per_client) = (
        config.server.max_connections,
        config.server.max_connections_per_client,
    );
    assert!(per_client * 8 <= total, "the default is well below the cap");

    // The attack of the report: one address opens MAX_CONNECTIONS keep-alive
    // sockets, each asking for /healthz and holding on.
    let mut held = Vec::new();
    let mut refused = 0;
    for i in 0..total {
        let mut s = connect_from("127.0.0.3", agent.addr).await;
        match guarded(
            "a hostile socket's answer",
            get_on(&mut s, "/api/v1/healthz"),
        )
        .await
        {
            Some(r) if r.status == 200 => held.push(s),
            Some(r) => {
                assert_eq!(r.status, 429, "socket {i}: {}", r.head);
                assert_eq!(r.header("connection"), Some("close"));
                assert!(r.body.contains("Too many open connections"), "{}", r.body);
                assert!(closed_by_peer(&mut s).await, "closed after the refusal");
                refused += 1;
            }
            None => panic!("socket {i} closed without an answer"),
        }
    }
    assert_eq!(held.len(), per_client);
    assert_eq!(refused, total - per_client);

    // Everyone else, the orchestrator's probe included, is still served.
    let mut probe = connect_from("127.0.0.4", agent.addr).await;
    let answer = guarded("the probe", get_on(&mut probe, "/api/v1/healthz")).await;
    assert_eq!(answer.map(|r| r.status), Some(200));
    // And the hostile client keeps what it holds.
    let again = guarded("a held socket", get_on(&mut held[0], "/api/v1/healthz")).await;
    assert_eq!(again.map(|r| r.status), Some(200));
}

#[tokio::test]
async fn websocket_streams_keep_counting_against_their_clients_cap() {
    let agent = Agent::start(&[("MAX_CONNECTIONS_PER_CLIENT", "2")]).await;
    let token = agent.token().await;
    let path = format!("/api/v1/events/ws?token={token}");
    let mut streams = Vec::new();
    for _ in 0..2 {
        let s = connect_from("127.0.0.5", agent.addr).await;
        let url = format!("ws://{}{path}", agent.addr);
        let (ws, resp) = tokio_tungstenite::client_async(url, s).await.unwrap();
        assert_eq!(resp.status(), 101);
        streams.push(ws);
    }
    let mut third = connect_from("127.0.0.5", agent.addr).await;
    let refused = guarded("the refusal", get_on(&mut third, "/api/v1/healthz"))
        .await
        .expect("an answer");
    assert_eq!(refused.status, 429);
    let mut other = connect_from("127.0.0.6", agent.addr).await;
    let served = guarded("another client", get_on(&mut other, "/api/v1/healthz")).await;
    assert_eq!(served.map(|r| r.status), Some(200));

    // Ending a stream gives its slot back.
    let mut ws = streams.pop().unwrap();
    ws.close(None).await.unwrap();
    guarded("the close handshake", async {
        while let Some(Ok(_)) = ws.next().await {}
    })
    .await;
    guarded("the slot to come back", async {
        loop {
            let mut s = connect_from("127.0.0.5", agent.addr).await;
            if get_on(&mut s, "/api/v1/healthz").await.map(|r| r.status) == Some(200) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
}

#[tokio::test]
async fn a_client_that_stops_reading_is_cut_off() {
    let agent = Agent::start(&[("WRITE_TIMEOUT", "1")]).await;
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    socket.bind("127.0.0.7:0".parse().unwrap()).unwrap();
    let mut s = socket.connect(agent.addr).await.unwrap();
    // Pipelined requests whose answers are never read: the agent's writes
    // stall, so it stops reading too and these writes block — until the
    // write deadline closes the connection and they fail.
    let batch = "GET /nope HTTP/1.1\r\nhost: agent\r\n\r\n".repeat(100);
    let ended = guarded("the agent to give up on the silent reader", async {
        loop {
            if let Err(e) = s.write_all(batch.as_bytes()).await {
                return e;
            }
        }
    })
    .await;
    assert!(
        matches!(
            ended.kind(),
            std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::BrokenPipe
        ),
        "{ended}"
    );
}

/// What a [`CountingProxy`] saw.
#[derive(Default)]
struct Counts {
    open: AtomicUsize,
    max_open: AtomicUsize,
    outstanding: AtomicUsize,
    max_outstanding: AtomicUsize,
    requests: AtomicUsize,
}

impl Counts {
    fn opened(&self) {
        let now = self.open.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_open.fetch_max(now, Ordering::SeqCst);
    }

    /// A request went out on a connection (`waiting` is that connection's flag).
    fn asked(&self, waiting: &AtomicBool, requests: usize) {
        self.requests.fetch_add(requests, Ordering::SeqCst);
        if !waiting.swap(true, Ordering::SeqCst) {
            let now = self.outstanding.fetch_add(1, Ordering::SeqCst) + 1;
            self.max_outstanding.fetch_max(now, Ordering::SeqCst);
        }
    }

    /// The daemon answered on a connection (or it ended).
    fn answered(&self, waiting: &AtomicBool) {
        if waiting.swap(false, Ordering::SeqCst) {
            self.outstanding.fetch_sub(1, Ordering::SeqCst);
        }
    }

    fn max_outstanding(&self) -> usize {
        self.max_outstanding.load(Ordering::SeqCst)
    }
}

/// A Unix socket forwarding to the real daemon that counts connections open
/// at once and requests outstanding at once (sent on, no answer yet). A
/// request is marked before it is passed on and unmarked before its answer
/// is, so the count never exceeds what the agent had in flight.
struct CountingProxy {
    path: PathBuf,
    counts: Arc<Counts>,
    task: JoinHandle<()>,
}

impl CountingProxy {
    fn start(path: &Path) -> CountingProxy {
        let _ = std::fs::remove_file(path);
        let listener = UnixListener::bind(path).unwrap();
        let upstream = docker_host().trim_start_matches("unix://").to_string();
        let counts = Arc::new(Counts::default());
        let seen = counts.clone();
        let task = tokio::spawn(async move {
            let mut conns = tokio::task::JoinSet::new();
            while let Ok((down, _)) = listener.accept().await {
                let Ok(up) = UnixStream::connect(&upstream).await else {
                    continue;
                };
                conns.spawn(forward_counting(down, up, seen.clone()));
            }
        });
        CountingProxy {
            path: path.to_path_buf(),
            counts,
            task,
        }
    }

    fn docker_host(&self) -> String {
        format!("unix://{}", self.path.display())
    }
}

impl Drop for CountingProxy {
    fn drop(&mut self) {
        self.task.abort();
        let _ = std::fs::remove_file(&self.path);
    }
}

async fn forward_counting(down: UnixStream, up: UnixStream, counts: Arc<Counts>) {
    counts.opened();
    let waiting = AtomicBool::new(false);
    let (mut down_r, mut down_w) = down.into_split();
    let (mut up_r, mut up_w) = up.into_split();
    let requests = async {
        let mut buf = vec![0u8; 64 * 1024];
        while let Ok(n) = down_r.read(&mut buf).await {
            let lines = buf[..n]
                .windows(11)
                .filter(|w| w == b" HTTP/1.1\r\n")
                .count();
            if lines > 0 {
                counts.asked(&waiting, lines);
            }
            if n == 0 || up_w.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
        let _ = up_w.shutdown().await;
    };
    let answers = async {
        let mut buf = vec![0u8; 64 * 1024];
        while let Ok(n) = up_r.read(&mut buf).await {
            counts.answered(&waiting);
            if n == 0 || down_w.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
        let _ = down_w.shutdown().await;
    };
    tokio::join!(requests, answers);
    counts.answered(&waiting);
    counts.open.fetch_sub(1, Ordering::SeqCst);
}

/// An agent on a daemon behind a [`CountingProxy`], open to bursts from
/// one address (no rate limit, no per-client connection cap to speak of).
async fn agent_behind_counting_proxy(name: &str) -> (CountingProxy, Agent) {
    let proxy = CountingProxy::start(&temp_socket(name));
    let host = proxy.docker_host();
    let agent = Agent::start(&[
        ("DOCKER_HOST", &host),
        ("RATE_LIMIT_ENABLED", "false"),
        ("MAX_CONNECTIONS_PER_CLIENT", "2048"),
    ])
    .await;
    (proxy, agent)
}

#[tokio::test]
async fn a_burst_of_reads_waits_for_docker_turns_instead_of_opening_connections() {
    let (proxy, agent) = agent_behind_counting_proxy("burst").await;
    let token = agent.token().await;
    let burst = (0..500).map(|_| agent.get("/api/v1/containers/", Some(&token)));
    let statuses: Vec<u16> = guarded("the burst", join_all(burst))
        .await
        .iter()
        .map(|r| r.status)
        .collect();
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let turns = docker_agent::docker::client::MAX_CALLS;
    let most = proxy.counts.max_outstanding();
    assert!(
        (1..=turns).contains(&most),
        "{most} Docker requests at once"
    );
    // Connections: the busy ones plus the pool's idle ones, and at worst one
    // being handed back to the pool while its successor connects.
    let open = proxy.counts.max_open.load(Ordering::SeqCst);
    assert!(open <= 2 * turns, "{open} Docker connections at once");
}

#[tokio::test]
async fn concurrent_health_probes_share_one_docker_ping() {
    let (proxy, agent) = agent_behind_counting_proxy("probes").await;
    let probes = (0..1000).map(|_| agent.get("/api/v1/healthz", None));
    let answers = guarded("the probes", join_all(probes)).await;
    assert!(answers.iter().all(|r| r.json()["status"] == "ok"));
    assert_eq!(
        proxy.counts.max_outstanding(),
        1,
        "never more than one ping in flight"
    );
    let pings = proxy.counts.requests.load(Ordering::SeqCst);
    assert!((1..1000).contains(&pings), "{pings} pings");
}

/// A "daemon" that accepts and never answers, counting connections open at once.
fn counting_hung_daemon(path: &Path) -> (Arc<Counts>, JoinHandle<()>) {
    let _ = std::fs::remove_file(path);
    let listener = UnixListener::bind(path).unwrap();
    let counts = Arc::new(Counts::default());
    let seen = counts.clone();
    let task = tokio::spawn(async move {
        let mut conns = tokio::task::JoinSet::new();
        while let Ok((mut conn, _)) = listener.accept().await {
            seen.opened();
            let seen = seen.clone();
            conns.spawn(async move {
                let mut sink = Vec::new();
                let _ = conn.read_to_end(&mut sink).await;
                seen.open.fetch_sub(1, Ordering::SeqCst);
            });
        }
    });
    (counts, task)
}

#[tokio::test]
async fn a_hung_daemon_gets_at_most_a_pool_of_connections_and_every_call_ends() {
    let path = temp_socket("hung-burst");
    let (counts, daemon) = counting_hung_daemon(&path);
    let host = format!("unix://{}", path.display());
    let agent = Agent::start(&[
        ("DOCKER_HOST", &host),
        ("DOCKER_TIMEOUT", "4"),
        ("RATE_LIMIT_ENABLED", "false"),
    ])
    .await;
    let token = agent.token().await;
    let burst = join_all((0..50).map(|_| agent.get("/api/v1/images/", Some(&token))));
    // Counted while every call is still within its deadline: no call can
    // have ended yet, so every connection the daemon sees belongs to a call
    // in progress. (Once calls time out, a dropped connection closes just
    // after its turn passes on; that teardown is not what is bounded here.)
    let midway = async {
        tokio::time::sleep(Duration::from_secs(2)).await;
        counts.max_open.load(Ordering::SeqCst)
    };
    let (answers, most) = guarded("the burst", async { tokio::join!(burst, midway) }).await;
    assert!(
        (1..=docker_agent::docker::client::MAX_CALLS).contains(&most),
        "{most} connections at once"
    );
    assert!(answers.iter().all(|r| r.status == 504));
    daemon.abort();
    let _ = std::fs::remove_file(&path);
}

#[tokio::test]
async fn a_rate_limited_connection_is_closed_after_its_429() {
    let agent = Agent::start(&[("RATE_LIMIT_REQUESTS", "3")]).await;
    let mut s = connect_from("127.0.0.8", agent.addr).await;
    let mut statuses = Vec::new();
    while let Some(r) = guarded("an answer", get_on(&mut s, "/api/v1/auth/check")).await {
        statuses.push(r.status);
        if r.status == 429 {
            assert_eq!(r.header("connection"), Some("close"));
            break;
        }
    }
    assert_eq!(statuses, [401, 401, 401, 429]);
    assert!(
        closed_by_peer(&mut s).await,
        "the connection ends with its 429"
    );
}
