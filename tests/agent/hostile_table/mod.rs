//! One table of hostile inputs, kept as data ([`cases`]), and one driver
//! that runs every row against one agent: the real binary as a child
//! process (so its output can be read), started with known secrets, with
//! Docker behind a proxy that records every request the agent makes.
//!
//! Each row, sent from a loopback address of its own (so rate limits and
//! the per-client connection cap never blur one row into the next), must
//! get exactly the answer it is owed ([`expect`]): a clear 4xx, a JSON-RPC
//! error, a WebSocket close code, a closed connection, or (for a message a
//! stream has no use for) being ignored — never a 5xx,
//! and never a secret (password, signing key, MCP key, issued token) in
//! what comes back. Each row has a generous hang guard; nothing is timed.
//! After the whole table the agent must still answer `/healthz`, Docker
//! must have been asked only about paths a real container could have, and
//! the agent's output must hold no panic and none of the secrets.

mod cases;
mod expect;
mod wire;

use crate::util::*;
use serde_json::json;
use std::net::SocketAddr;
use std::time::Duration;

/// Longest a row may take before it counts as a hang.
const GUARD: Duration = Duration::from_secs(30);

#[tokio::test]
async fn every_hostile_case_is_refused_cleanly_and_the_agent_stays_up() {
    let proxy = DaemonProxy::start(&temp_socket("hostile-table"));
    let docker = format!("unix://{}", proxy.path.display());
    let env = [
        ("SECRET_KEY", SECRET),
        ("API_PASSWORD", PASSWORD),
        ("MCP_API_KEY", MCP_KEY),
        ("DOCKER_HOST", &docker),
        ("HEADER_READ_TIMEOUT", "2"),
        ("RUST_LOG", "debug"),
        ("EXEC_ENABLED", "true"),
    ];
    let mut agent = Process::spawn_chosen(&temp_dir("hostile-table"), &env);
    let addr: SocketAddr = agent.address().parse().unwrap();
    let keys = keys(addr).await;
    let secrets = [PASSWORD, SECRET, MCP_KEY, keys.token.as_str()];

    let table = cases::table(&keys);
    let mut failures = run(&table, addr, &secrets).await;
    eprintln!("hostile cases: {}", table.len());

    let healthz = Agent::at(addr).get("/api/v1/healthz", None).await;
    assert_eq!(
        healthz.status, 200,
        "the agent still answers after the table"
    );
    failures.extend(docker_paths_outside_containers(&proxy.request_lines()));
    let (code, lines) = tokio::task::spawn_blocking(move || agent.terminate())
        .await
        .unwrap();
    assert_eq!(code, 0, "a clean exit after the table");
    let output = lines.join("\n");
    if output.contains("panicked") {
        failures.push(format!("the agent panicked:\n{output}"));
    }
    failures.extend(no_secret("the agent's output", output.as_bytes(), &secrets).err());
    assert!(
        failures.is_empty(),
        "{} of {} hostile cases failed:\n{}",
        failures.len(),
        table.len(),
        failures.join("\n")
    );
}

/// Runs every case, each from its own address; what went wrong, by case.
async fn run(table: &[cases::Case], addr: SocketAddr, secrets: &[&str]) -> Vec<String> {
    let mut failures = Vec::new();
    for (i, case) in table.iter().enumerate() {
        let source = source_address(i);
        let exchange = wire::exchange(addr, &source, &case.send);
        let verdict = match tokio::time::timeout(GUARD, exchange).await {
            Err(_) => Err(format!("neither answered nor closed within {GUARD:?}")),
            Ok(seen) => case
                .expect
                .check(&seen)
                .and_then(|()| no_secret("the answer", &seen.bytes, secrets)),
        };
        if let Err(why) = verdict {
            failures.push(format!("{}: {why}", case.name));
        }
    }
    failures
}

/// A valid token and a live MCP session (2025-03-26, which has batches).
async fn keys(addr: SocketAddr) -> cases::Keys {
    let agent = Agent::at(addr);
    let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-03-26", "capabilities": {},
        "clientInfo": {"name": "hostile-table", "version": "1"}}});
    let auth = format!("Bearer {MCP_KEY}");
    let headers = [
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
        ("accept", "application/json, text/event-stream"),
    ];
    let resp = agent
        .request(
            hyper::Method::POST,
            "/mcp",
            &headers,
            init.to_string().as_bytes(),
        )
        .await;
    assert_eq!(resp.status, 200, "initialize: {:?}", resp.body);
    cases::Keys {
        token: agent.token().await,
        session: resp.header("mcp-session-id").unwrap().to_string(),
    }
}

/// Row `i`'s own loopback address.
fn source_address(i: usize) -> String {
    format!("127.77.{}.{}", i / 250, i % 250 + 1)
}

/// `Err` naming `what` if `bytes` contain any of `secrets` (never the secret itself).
fn no_secret(what: &str, bytes: &[u8], secrets: &[&str]) -> Result<(), String> {
    let leaked = secrets
        .iter()
        .position(|s| bytes.windows(s.len()).any(|w| w == s.as_bytes()));
    match leaked {
        None => Ok(()),
        Some(n) => Err(format!("{what} carries secret #{n}")),
    }
}

/// Docker requests for anything but the agent's own endpoints, containers
/// addressed by a name or id a container could have, and images by one
/// encoded reference: an id that escaped its path segment would show here.
fn docker_paths_outside_containers(lines: &[String]) -> Vec<String> {
    const ENDPOINTS: [&str; 6] = [
        "_ping",
        "version",
        "info",
        "events",
        "containers/json",
        "images/json",
    ];
    let asked_about_x = lines.iter().any(|l| l.contains("/containers/x/json"));
    let mut odd: Vec<String> = lines
        .iter()
        .filter(|line| {
            let target = line.split(' ').nth(1).unwrap_or("");
            let path = target
                .split('?')
                .next()
                .unwrap_or("")
                .trim_start_matches('/');
            let path = match path.split_once('/') {
                Some((v, rest)) if v.starts_with("v1.") => rest,
                _ => path,
            };
            let segs: Vec<&str> = path.split('/').collect();
            let container = matches!(segs.as_slice(), ["containers", id, _] if plausible(id));
            // An image reference is sent as one encoded segment (its
            // removal, or its inspection before a create).
            let image = matches!(segs.as_slice(), ["images", r] | ["images", r, "json"] if plausible(&r.replace('%', "")));
            !container && !image && !ENDPOINTS.contains(&path)
        })
        .map(|line| format!("Docker was asked {line}"))
        .collect();
    if !asked_about_x {
        odd.push("the recorder never saw the lookup of container 'x'".into());
    }
    odd
}

/// A container name or id as Docker allows them: `[a-zA-Z0-9][a-zA-Z0-9_.-]*`.
fn plausible(id: &str) -> bool {
    let mut bytes = id.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphanumeric())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}
