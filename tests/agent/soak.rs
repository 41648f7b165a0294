//! Load and soak on loopback: a thousand keep-alive clients on the read
//! routes, two hundred WebSocket log subscribers (a fifth of them slow) on
//! four containers, and a login flood from 5,000 forwarded addresses through
//! a trusted proxy, all at once for `SOAK_SECS` seconds (20 in `make test`,
//! 60 in `make soak`), against the real binary with rate limits on.
//!
//! What must hold: every answer is a 200 or a 429; every subscriber's lines
//! are consecutive from its first on; afterwards resident memory comes back
//! to within twice the idle figure and the open descriptors to their
//! baseline. Every loop is bounded by the duration and by a request count;
//! the figures are printed (`make soak` shows them).

use crate::util::*;
use docker_agent::docker::client::MAX_CALLS;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const READERS: usize = 1000;
/// Most requests one reader makes (ten minutes' worth at one a second).
const READS_PER_CLIENT: usize = 600;
/// Reader source addresses: 20 clients each, well under the per-client cap.
const READER_SOURCES: usize = 50;
const SUBSCRIBERS: usize = 200;
const SUBSCRIBER_SOURCES: usize = 10;
const CONTAINERS: usize = 4;
const FLOOD_ADDRESSES: usize = 5000;
const FLOOD_WORKERS: usize = 8;
/// A slow subscriber pauses this long after every line (50 lines/s against
/// the 200 lines/s each container writes).
const SLOW_PAUSE: Duration = Duration::from_millis(20);
/// Hang guard for a single request or line; never a pass/fail timing.
const WAIT: Duration = Duration::from_secs(30);
/// Memory the agent may keep after the load beyond twice its idle RSS, for
/// state it keeps by design: the rate limiter's table (at most
/// `MAX_CLIENTS`, about 100 bytes each, map slack doubling it: 2 MiB) and
/// the Docker connection pool (`MAX_CALLS` idle connections, each keeping a
/// read buffer that may have grown to hyper's 408 KiB cap).
const RSS_SLACK_KIB: u64 = 2048 + MAX_CALLS as u64 * 408;

fn soak_duration() -> Duration {
    let secs = std::env::var("SOAK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    Duration::from_secs(secs)
}

/// Every status seen, and what came back that was neither a 200 nor a 429.
#[derive(Default)]
struct Tally {
    ok: AtomicU64,
    limited: AtomicU64,
    other: Mutex<Vec<String>>,
}

impl Tally {
    fn record(&self, what: &str, outcome: Result<u16, String>) {
        match outcome {
            Ok(200) => drop(self.ok.fetch_add(1, Ordering::Relaxed)),
            Ok(429) => drop(self.limited.fetch_add(1, Ordering::Relaxed)),
            Ok(status) => self.other(format!("{what}: {status}")),
            Err(e) => self.other(format!("{what}: {e}")),
        }
    }

    fn other(&self, what: String) {
        self.other.lock().unwrap().push(what);
    }

    fn ok(&self) -> u64 {
        self.ok.load(Ordering::Relaxed)
    }

    /// "N (a x 200, b x 429, c other)".
    fn summary(&self) -> String {
        let (ok, limited) = (self.ok(), self.limited.load(Ordering::Relaxed));
        let other = self.other.lock().unwrap().len() as u64;
        let total = ok + limited + other;
        format!("{total} ({ok} x 200, {limited} x 429, {other} other)")
    }

    /// Panics with the first few answers that were neither 200 nor 429.
    fn assert_only_200_and_429(&self) {
        let other = self.other.lock().unwrap();
        assert!(other.is_empty(), "{:?}", &other[..other.len().min(10)]);
    }
}

type Http = Client<HttpConnector, Full<Bytes>>;

/// A keep-alive HTTP client whose connections come from `source`.
fn client_from(source: IpAddr) -> Http {
    let mut connector = HttpConnector::new();
    connector.set_local_address(Some(source));
    Client::builder(TokioExecutor::new()).build(connector)
}

/// Sends one request and reads the whole answer; the status, or what failed.
async fn status_of(http: &Http, req: Request<Full<Bytes>>) -> Result<u16, String> {
    let exchange = async {
        let resp = http.request(req).await.map_err(|e| format!("{e:?}"))?;
        let status = resp.status().as_u16();
        let body = resp.into_body().collect().await;
        body.map(|_| status).map_err(|e| format!("body: {e}"))
    };
    tokio::time::timeout(WAIT, exchange)
        .await
        .unwrap_or_else(|_| Err("no answer".into()))
}

/// One keep-alive client: a request a second over the read routes, until
/// `end` or `READS_PER_CLIENT` requests.
async fn reader(tally: Arc<Tally>, http: Http, auth: String, urls: Vec<String>, end: Instant) {
    let n = urls.len();
    let mut i = 0;
    while Instant::now() < end && i < READS_PER_CLIENT {
        let url = &urls[i % n];
        let req = Request::get(url)
            .header("authorization", &auth)
            .body(Full::default())
            .unwrap();
        tally.record(url, status_of(&http, req).await);
        i += 1;
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// The n-th forwarded address, in the benchmarking range 198.18.0.0/15.
fn forwarded(n: usize) -> String {
    format!("198.18.{}.{}", n / 256, n % 256)
}

/// Logins from the trusted proxy on behalf of `worker`'s share of the
/// forwarded addresses, six rounds over all of them at most.
async fn flood(tally: Arc<Tally>, worker: usize, base: String, end: Instant) {
    let http = client_from("127.0.0.1".parse().unwrap());
    let body = serde_json::json!({"username": "admin", "password": PASSWORD}).to_string();
    for n in (worker..FLOOD_ADDRESSES * 6).step_by(FLOOD_WORKERS) {
        if Instant::now() >= end {
            break;
        }
        let req = Request::builder()
            .method(Method::POST)
            .uri(format!("{base}/api/v1/auth/login"))
            .header("content-type", "application/json")
            .header("x-forwarded-for", forwarded(n % FLOOD_ADDRESSES))
            .body(Full::new(Bytes::from(body.clone())))
            .unwrap();
        tally.record("login", status_of(&http, req).await);
    }
}

/// What one subscriber read.
#[derive(Debug)]
struct Lines {
    first: u64,
    count: u64,
}

/// Reads "tick N" lines until `end`; each must follow the one before.
async fn subscriber(mut ws: Ws, slow: bool, end: Instant) -> Lines {
    let mut got: Option<Lines> = None;
    while Instant::now() < end {
        let line = next_text(&mut ws, WAIT)
            .await
            .unwrap_or_else(|e| panic!("after {got:?}: stream ended with {e:?}"));
        let n: u64 = line
            .strip_prefix("tick ")
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("not a tick: {line:?}"));
        match &mut got {
            None => got = Some(Lines { first: n, count: 1 }),
            Some(l) => {
                assert_eq!(n, l.first + l.count, "consecutive, no gap or repeat");
                l.count += 1;
            }
        }
        if slow {
            tokio::time::sleep(SLOW_PAUSE).await;
        }
    }
    got.unwrap_or_else(|| panic!("no line in the whole run"))
}

/// The agent's open descriptors: all of them, and its Unix-domain sockets
/// (its connections to Docker, and one internal pair).
#[derive(Debug)]
struct Fds {
    total: usize,
    unix: usize,
}

impl Fds {
    fn of(process: &Process) -> Fds {
        Fds {
            total: process.open_fds(),
            unix: process.open_unix_sockets(),
        }
    }

    /// Every descriptor but the Docker connections is back to `idle`; the
    /// Docker pool may keep up to `MAX_CALLS` idle connections more than at
    /// idle (they expire only when next wanted).
    fn back_to(&self, idle: &Fds) -> bool {
        self.total - self.unix == idle.total - idle.unix && self.unix <= idle.unix + MAX_CALLS
    }
}

/// Polls `probe` (every 200 ms, for up to `limit`) until it returns true.
async fn settles(limit: Duration, mut probe: impl FnMut() -> bool) -> bool {
    let until = Instant::now() + limit;
    while !probe() {
        if Instant::now() >= until {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    true
}

/// A login and one Docker-backed read; returns the token once the warm-up
/// client's connection is closed, so the baseline holds no client.
async fn warm_up(addr: SocketAddr) -> String {
    let warm = Agent::at(addr);
    let token = warm.token().await;
    let listed = warm.get("/api/v1/containers/", Some(&token)).await;
    assert_eq!(listed.status, 200);
    drop(warm);
    tokio::time::sleep(Duration::from_millis(500)).await;
    token
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soak_mixed_load_stays_correct_and_returns_to_baseline() {
    let boxes: Vec<Container> = (0..CONTAINERS)
        .map(|_| Container::run(&[], &["every:5"]))
        .collect();
    let dir = std::env::temp_dir().join(unique_name("soak"));
    std::fs::create_dir_all(&dir).unwrap();
    let mut process = Process::spawn_chosen(
        &dir,
        &[
            ("SECRET_KEY", SECRET),
            ("API_PASSWORD", PASSWORD),
            ("TRUSTED_PROXIES", "127.0.0.1"),
        ],
    );
    let addr: SocketAddr = process.address().parse().unwrap();
    let token = warm_up(addr).await;
    let agent = Agent::at(addr);
    let (idle_rss, idle_fds) = (process.rss_kib(), Fds::of(&process));
    let (peak, sampler) = process.watch_rss();

    let duration = soak_duration();
    let end = Instant::now() + duration;
    let base = format!("http://{addr}");
    let (reads, logins) = (Arc::new(Tally::default()), Arc::new(Tally::default()));

    let mut subscribers = Vec::new();
    for i in 0..SUBSCRIBERS {
        let id = &boxes[i % CONTAINERS].id;
        let source = format!("127.0.1.{}", 1 + i % SUBSCRIBER_SOURCES);
        let path = format!("/api/v1/logs/ws/{id}?token={token}&tail=0");
        let ws = agent.ws_from(&source, &path).await;
        subscribers.push(tokio::spawn(subscriber(ws, i % 5 == 0, end)));
    }

    let mut readers = Vec::new();
    for i in 0..READERS {
        let id = &boxes[i % CONTAINERS].id;
        let urls = [
            "healthz",
            "containers/",
            &format!("containers/{id}"),
            "version",
            "images/",
        ]
        .map(|p| format!("{base}/api/v1/{p}"))
        .to_vec();
        let source: IpAddr = format!("127.0.0.{}", 10 + i % READER_SOURCES)
            .parse()
            .unwrap();
        let (http, auth) = (client_from(source), format!("Bearer {token}"));
        let tally = reads.clone();
        readers.push(tokio::spawn(async move {
            // Spread the first requests over a second.
            tokio::time::sleep(Duration::from_millis(i as u64)).await;
            reader(tally, http, auth, urls, end).await
        }));
    }
    let floods: Vec<_> = (0..FLOOD_WORKERS)
        .map(|w| tokio::spawn(flood(logins.clone(), w, base.clone(), end)))
        .collect();

    for r in readers {
        r.await.unwrap();
    }
    for f in floods {
        f.await.unwrap();
    }
    let mut delivered = Vec::new();
    for s in subscribers {
        delivered.push(s.await.unwrap());
    }
    sampler.abort();
    let peak = peak.load(Ordering::Relaxed);

    // Everything is closed now; the agent gives back what it took.
    let rss_bound = 2 * idle_rss + RSS_SLACK_KIB;
    let rss_back = settles(Duration::from_secs(10), || process.rss_kib() <= rss_bound).await;
    // The figure is the shipped build's: glibc's malloc (the debug build's)
    // keeps freed heap pages, musl's gives them back.
    let shipped = std::env::var_os("AGENT_BIN").is_some();
    let after_rss = process.rss_kib();
    let fds_back = settles(Duration::from_secs(10), || {
        Fds::of(&process).back_to(&idle_fds)
    })
    .await;
    let after_fds = Fds::of(&process);

    let lines: u64 = delivered.iter().map(|l| l.count).sum();
    let slow_lines: u64 = delivered.iter().step_by(5).map(|l| l.count).sum();
    let fewest = delivered.iter().map(|l| l.count).min().unwrap();
    eprintln!(
        "soak {}s: {READERS} readers made {} requests; the login flood from {FLOOD_ADDRESSES} \
         forwarded addresses made {}; {SUBSCRIBERS} subscribers got \
         {lines} lines ({slow_lines} by the {} slow ones, fewest {fewest}); RSS idle {idle_rss} \
         KiB, peak {peak} KiB, after {after_rss} KiB (bound {rss_bound}); fds idle {idle_fds:?}, \
         after {after_fds:?}",
        duration.as_secs(),
        reads.summary(),
        logins.summary(),
        SUBSCRIBERS / 5,
    );
    reads.assert_only_200_and_429();
    logins.assert_only_200_and_429();
    assert!(reads.ok() > 0 && logins.ok() > 0, "some requests served");
    assert!(
        rss_back || !shipped,
        "RSS {after_rss} KiB stayed above {rss_bound} KiB"
    );
    assert!(fds_back, "open fds {after_fds:?} not back to {idle_fds:?}");
}
