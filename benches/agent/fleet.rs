//! The fleet in `make bench`: one front door and up to 49 members, all on
//! loopback and all on this machine's one daemon — each member an agent
//! with a scope label of its own (`SCOPE_LABEL=bench.fleet=mK`) and one
//! created container in it, so each host answers for its own containers
//! and every list is of the same size. The certificates come from
//! docs/fleet.md's own recipe.
//!
//! Rows: the fleet-wide container list (`?host=*`) through a front door
//! of 1, 10 and 50 hosts, against the slowest member's own list (same
//! client, same connection, sequential) and against the same 49 reads sent
//! by that client straight to the members at once; the front door's memory per
//! member and its CPU per fleet-wide list; one events stream of all 50
//! hosts (`/api/v1/events/ws?host=*`): how much later an event reaches it
//! than the owner's own stream, and the front door's memory while it is
//! open.

use super::{SAMPLES, Table, ms, token};
use crate::docker::Container;
use crate::support::*;
use futures_util::StreamExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Front doors of this many hosts (itself included).
const SIZES: [usize; 3] = [1, 10, 50];

/// Rounds of every member asked at once.
const ROUNDS: usize = 20;

/// Events timed through the merged stream.
const EVENTS: usize = 20;

/// A free loopback port (bound, then released).
fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// docs/fleet.md's certificate recipe, run for `names` in `dir`.
fn certificates(dir: &Path, names: &[String]) -> PathBuf {
    let page =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/fleet.md")).unwrap();
    let recipe = page
        .split("```bash\n")
        .filter_map(|rest| rest.split_once("```").map(|(code, _)| code))
        .find(|code| code.contains("openssl genpkey"))
        .expect("docs/fleet.md has the certificate recipe");
    let script = recipe.replace(
        "for agent in node-a node-b node-c; do",
        &format!("for agent in {}; do", names.join(" ")),
    );
    let ok = std::process::Command::new("bash")
        .args(["-ec", &script])
        .current_dir(dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap()
        .success();
    assert!(ok, "the certificate recipe failed");
    dir.join("fleet")
}

/// Agent `name`'s settings: its certificate, its scope, its fleet port.
fn member(certs: &Path, name: &str, port: u16) -> Vec<(String, String)> {
    let file = |f: String| certs.join(f).display().to_string();
    vec![
        ("FLEET_CA_FILE".into(), file("ca.pem".into())),
        ("FLEET_CERT_FILE".into(), file(format!("{name}.pem"))),
        ("FLEET_KEY_FILE".into(), file(format!("{name}.key"))),
        ("FLEET_PORT".into(), port.to_string()),
        ("FLEET_PROBE_INTERVAL".into(), "2".into()),
        ("SCOPE_LABEL".into(), format!("bench.fleet={name}")),
    ]
}

fn start(env: &[(String, String)]) -> AgentProcess {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    AgentProcess::start(&env)
}

/// Waits until the front door lists `n` hosts, each with its daemon's id.
async fn known(door: &AgentProcess, token: &str, n: usize) {
    let mut conn = tcp(&door.addr).await;
    for _ in 0..120 {
        let resp = conn.open("/api/v1/hosts", Some(token)).await;
        let body = http_body_util::BodyExt::collect(resp.into_body())
            .await
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body.to_bytes()).unwrap();
        let hosts = v["hosts"].as_array().cloned().unwrap_or_default();
        if hosts.len() == n
            && hosts
                .iter()
                .all(|h| h["id"].is_string() && h["state"] != "unreachable")
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    panic!("the front door never knew its {n} hosts");
}

pub async fn fleet(table: &mut Table) {
    let dir = std::env::temp_dir().join(format!("bench-fleet-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let names: Vec<String> = (0..50).map(|k| format!("m{k}")).collect();
    let certs = certificates(&dir, &names);
    let _made: Vec<Container> = names
        .iter()
        .map(|n| Container::create(&["--label", &format!("bench.fleet={n}")], &["wait"]))
        .collect();
    let ports: Vec<u16> = names.iter().map(|_| free_port()).collect();
    let members: Vec<AgentProcess> = (1..50)
        .map(|k| start(&member(&certs, &names[k], ports[k])))
        .collect();

    // The slowest member's own list: each member's p50 and p99, the worst.
    let token = token(&members[0].addr).await;
    let (mut slowest50, mut slowest99) = (Duration::ZERO, Duration::ZERO);
    for m in &members {
        let mut conn = tcp(&m.addr).await;
        let mut lat = latencies(&mut conn, "/api/v1/containers/?all=true", Some(&token), 20).await;
        let (p50, p99) = percentiles(&mut lat);
        slowest50 = slowest50.max(p50);
        slowest99 = slowest99.max(p99);
    }
    table.row(
        "fleet: the slowest member's own container list",
        format!("p50 {} / p99 {}", ms(slowest50), ms(slowest99)),
        "each of 49 members' `GET /containers/?all=true`, 20 each, the worst p50 and p99".into(),
    );

    let (together50, together99) = together(&members, &token).await;
    table.row(
        "fleet: every member's own list, all 49 asked at once",
        format!("p50 {} / p99 {}", ms(together50), ms(together99)),
        "the 49 reads a 50-host list makes, sent by this client straight to the members, all at once: each round as long as its slowest answer".into(),
    );

    let mut alone = 0;
    for n in SIZES {
        let peers: Vec<String> = (1..n)
            .map(|k| format!("{}=https://127.0.0.1:{}", names[k], ports[k]))
            .collect();
        let mut env = member(&certs, &names[0], free_port());
        env.push(("FLEET_PEERS".into(), peers.join(",")));
        if n == 1 {
            env.retain(|(k, _)| k != "FLEET_PEERS");
        }
        let door = start(&env);
        known(&door, &token, n).await;
        let idle_rss = door.rss_kib();
        let mut conn = tcp(&door.addr).await;
        let cpu = door.cpu();
        let mut lat = latencies(
            &mut conn,
            "/api/v1/containers/?all=true&host=*",
            Some(&token),
            SAMPLES / 2,
        )
        .await;
        let per_list = (door.cpu() - cpu) / (SAMPLES as u32 / 2 + 2);
        let (p50, p99) = percentiles(&mut lat);
        let times = p50.as_secs_f64() / slowest50.as_secs_f64();
        let at_once = if n == 50 {
            let x = p50.as_secs_f64() / together50.as_secs_f64();
            format!(", {x:.1}× its members asked at once")
        } else {
            String::new()
        };
        table.row(
            &format!("fleet: `?host=*` container list, {n} hosts"),
            format!("p50 {} / p99 {}", ms(p50), ms(p99)),
            format!(
                "{times:.1}× the slowest member's p50{at_once}; front door CPU {} per list, RSS {} KiB idle, {} KiB after",
                ms(per_list),
                idle_rss,
                door.rss_kib()
            ),
        );
        if n == 1 {
            alone = idle_rss;
            continue;
        }
        if n == 50 {
            let per = |rss: u64| rss.saturating_sub(alone) as f64 / 49.0;
            table.row(
                "fleet: front door memory per member",
                format!("{:.1} KiB", per(idle_rss)),
                format!(
                    "RSS with 49 members, probed, minus with none ({alone} KiB), over 49; {:.1} KiB each while a kept connection to every member lasts (30 s after a fleet-wide list)",
                    per(door.rss_kib())
                ),
            );
            events(table, &door, &token, &names, &members).await;
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// Every member's own container list, all asked at once by this client:
/// the p50 and p99 of a round, which lasts as long as its slowest answer.
async fn together(members: &[AgentProcess], token: &str) -> (Duration, Duration) {
    let path = "/api/v1/containers/?all=true";
    let mut conns = Vec::with_capacity(members.len());
    for m in members {
        conns.push(tcp(&m.addr).await);
    }
    let mut rounds = Vec::with_capacity(ROUNDS);
    for round in 0..ROUNDS + 2 {
        let t = Instant::now();
        let asked = conns.iter_mut().map(|c| c.get(path, Some(token)));
        let answers = futures_util::future::join_all(asked).await;
        assert!(answers.iter().all(|(status, _)| *status == 200));
        if round >= 2 {
            rounds.push(t.elapsed());
        }
    }
    percentiles(&mut rounds)
}

/// One events stream of all 50 hosts: each event's arrival there against
/// its arrival on the owner's own stream.
async fn events(
    table: &mut Table,
    door: &AgentProcess,
    token: &str,
    names: &[String],
    members: &[AgentProcess],
) {
    let open = |addr: &str| {
        let url = format!("ws://{addr}/api/v1/events/ws?type=container&token={token}");
        async move { tokio_tungstenite::connect_async(url).await.unwrap().0 }
    };
    let merged_url = format!(
        "ws://{}/api/v1/events/ws?host=*&type=container&token={token}",
        door.addr
    );
    let (mut merged, _) = tokio_tungstenite::connect_async(merged_url).await.unwrap();
    let owners: Vec<usize> = (0..EVENTS).map(|i| 1 + (i * 7) % 49).collect();
    let mut direct = std::collections::HashMap::new();
    for k in &owners {
        if !direct.contains_key(k) {
            direct.insert(*k, open(&members[k - 1].addr).await);
        }
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let open_rss = door.rss_kib();
    let mut later = Vec::with_capacity(EVENTS);
    for k in owners {
        let name = &names[k];
        let c = Container::create(&["--label", &format!("bench.fleet={name}")], &["wait"]);
        // Both read at once, each stamping its own arrival.
        let (own, through) = tokio::join!(
            arrival(direct.get_mut(&k).unwrap(), &c.id),
            arrival(&mut merged, &c.id)
        );
        later.push(through.saturating_duration_since(own));
    }
    let (p50, p99) = percentiles(&mut later);
    table.row(
        "fleet: one events stream of 50 hosts",
        format!("+{} p50 / +{} p99", ms(p50), ms(p99)),
        format!(
            "{EVENTS} creates, each in one member's scope: arrival on the merged stream after arrival on the owner's own; front door RSS {open_rss} KiB with it open"
        ),
    );
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// When the `create` event of container `id` arrives on `ws`.
async fn arrival(ws: &mut Ws, id: &str) -> Instant {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(20), ws.next())
            .await
            .expect("an event within 20 s")
            .unwrap()
            .unwrap();
        let at = Instant::now();
        let v: serde_json::Value =
            serde_json::from_str(msg.to_text().unwrap_or("{}")).unwrap_or_default();
        if v["Action"] == "create" && id.starts_with(v["Actor"]["ID"].as_str().unwrap_or("-")) {
            return at;
        }
    }
}
