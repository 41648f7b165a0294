//! Docker failing under a running agent, injected between the two by a
//! [`DaemonProxy`]: a daemon that goes away and comes back, one that stalls,
//! a corrupt log frame, and connections cut in the middle of a follow.
//!
//! Waits here are bounded by [`GUARD`] only so that a hang fails the test
//! instead of blocking it; no test measures how long anything takes.

use crate::util::*;
use serde_json::{Value, json};
use std::time::Duration;

/// The agents' Docker call timeout, in seconds (`DOCKER_TIMEOUT`).
const CALL_TIMEOUT: &str = "2";
/// A proxy to the real daemon and an agent that reaches Docker only through it.
async fn agent_behind_proxy(name: &str) -> (DaemonProxy, Agent, String) {
    let proxy = DaemonProxy::start(&temp_socket(name));
    let host = format!("unix://{}", proxy.path.display());
    let agent = Agent::start(&[
        ("DOCKER_HOST", &host),
        ("DOCKER_TIMEOUT", CALL_TIMEOUT),
        ("RATE_LIMIT_ENABLED", "false"),
    ])
    .await;
    let token = agent.token().await;
    (proxy, agent, token)
}

fn logs_path(id: &str, token: &str, extra: &str) -> String {
    format!("/api/v1/logs/ws/{id}?token={token}{extra}")
}

/// The number of a testbox `tick N` line.
fn tick(line: &str) -> u64 {
    line.strip_prefix("tick ")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("not a tick line: {line:?}"))
}

/// Reads `count` more lines, which must be the ticks right after `last`;
/// returns the last one read.
async fn contiguous_ticks(ws: &mut Ws, mut last: u64, count: u64, when: &str) -> u64 {
    for _ in 0..count {
        let line = next_text(ws, GUARD).await;
        assert_eq!(line, Ok(format!("tick {}", last + 1)), "{when}");
        last += 1;
    }
    last
}

async fn healthz(agent: &Agent) -> (u16, Value) {
    let resp = guarded("/healthz", agent.get("/api/v1/healthz", None)).await;
    (resp.status, resp.json())
}

async fn list_status(agent: &Agent, token: &str) -> (u16, Value) {
    let resp = guarded(
        "container list",
        agent.get("/api/v1/containers/", Some(token)),
    )
    .await;
    (resp.status, resp.json())
}

/// While Docker fails: REST answers `status` with a detail starting with
/// `detail` (the reason follows), `/healthz` reports Docker degraded and why,
/// and a log stream opened now closes 1013 with that reason instead of waiting.
async fn assert_docker_failing(agent: &Agent, token: &str, id: &str, status: u16, detail: &str) {
    let (got, body) = list_status(agent, token).await;
    assert_eq!(got, status, "{body}");
    let text = body["detail"].as_str().unwrap_or_default();
    assert!(text.starts_with(detail), "{body}");
    let (code, health) = healthz(agent).await;
    assert_eq!(code, 200);
    assert_eq!(
        (&health["status"], &health["docker_connected"]),
        (&json!("degraded"), &json!(false))
    );
    assert!(
        health["docker_error"]
            .as_str()
            .is_some_and(|e| !e.is_empty()),
        "{health}"
    );
    let mut ws = agent.ws(&logs_path(id, token, "&tail=0")).await;
    match next_text(&mut ws, GUARD).await {
        Err(Ending::Closed(1013, reason)) => assert!(reason.starts_with(detail), "{reason}"),
        other => panic!("expected a 1013 close, got {other:?}"),
    }
}

/// Once Docker is back: `/healthz` is ok and REST answers again.
async fn assert_docker_back(agent: &Agent, token: &str) -> Value {
    assert_eq!(
        healthz(agent).await,
        (200, json!({"status": "ok", "docker_connected": true}))
    );
    let (status, list) = list_status(agent, token).await;
    assert_eq!(status, 200, "{list}");
    list
}

#[tokio::test]
async fn a_daemon_that_goes_away_is_503_at_once_then_recovers_without_a_restart() {
    let c = Container::run(&[], &["out:still here", "wait"]);
    let (proxy, agent, token) = agent_behind_proxy("gone").await;
    assert_eq!(list_status(&agent, &token).await.0, 200);

    proxy.set_down(true).await;
    // 503, not 504: a missing daemon is reported at once, not after the call timeout.
    assert_docker_failing(&agent, &token, &c.id, 503, "Docker service is unavailable").await;

    proxy.set_down(false).await;
    let list = assert_docker_back(&agent, &token).await;
    assert!(
        list["containers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["name"] == c.name),
        "{list}"
    );
    let mut ws = agent.ws(&logs_path(&c.id, &token, "")).await;
    assert_eq!(next_text(&mut ws, GUARD).await, Ok("still here".into()));
}

#[tokio::test]
async fn a_stalled_daemon_times_out_instead_of_hanging_and_nothing_is_lost_after() {
    let c = Container::run(&[], &["every:50"]);
    let label = format!("faults-stall={}", unique_name("stall"));
    let (proxy, agent, token) = agent_behind_proxy("stall").await;
    let mut open = agent.ws(&logs_path(&c.id, &token, "&tail=1000")).await;
    let last = contiguous_ticks(&mut open, 0, 3, "before the stall").await;

    proxy.stall(true);
    assert_docker_failing(&agent, &token, &c.id, 504, "Docker did not respond in time").await;
    // An events subscriber is told, rather than left waiting in silence.
    let mut events = agent
        .ws(&format!(
            "/api/v1/events/ws?token={token}&type=container&label={label}"
        ))
        .await;
    let notice = next_event(&mut events).await;
    assert_eq!(
        (notice["Type"].as_str(), notice["Action"].as_str()),
        (Some("agent"), Some("docker-disconnected"))
    );

    proxy.stall(false);
    assert_eq!(
        next_event(&mut events).await["Action"],
        "docker-reconnected"
    );
    assert_docker_back(&agent, &token).await;
    // The stream opened before the stall goes on where it stopped: the
    // stall held Docker's bytes back, and they all arrive, in order.
    contiguous_ticks(&mut open, last, 60, "across the stall").await;
    let mut fresh = agent.ws(&logs_path(&c.id, &token, "&tail=1")).await;
    tick(&next_text(&mut fresh, GUARD).await.unwrap());
}

#[tokio::test]
async fn a_corrupt_log_frame_ends_that_stream_with_a_reason_and_nothing_else() {
    let bad = Container::run(&[], &["every:50"]);
    let good = Container::run(&[], &["every:50"]);
    let (proxy, agent, token) = agent_behind_proxy("corrupt").await;
    let mut bad_ws = agent.ws(&logs_path(&bad.id, &token, "&tail=0")).await;
    let mut good_ws = agent.ws(&logs_path(&good.id, &token, "&tail=0")).await;
    tick(&next_text(&mut bad_ws, GUARD).await.unwrap());
    let last = tick(&next_text(&mut good_ws, GUARD).await.unwrap());

    proxy.corrupt_next_log_frame(&bad.id);
    let (lines, end) = guarded("the corrupted stream", read_all(&mut bad_ws, GUARD)).await;
    for line in &lines {
        tick(line);
    }
    let Ending::Closed(code, reason) = end else {
        panic!("the corrupted stream must end with a close frame, got {end:?}");
    };
    assert_eq!(code, 1011, "{reason}");
    assert!(
        reason.contains("corrupt stream from Docker: unknown stream type 7"),
        "the reason names the problem: {reason:?}"
    );

    contiguous_ticks(&mut good_ws, last, 20, "the other stream carries on").await;
    assert_eq!(list_status(&agent, &token).await.0, 200);
    let mut again = agent.ws(&logs_path(&bad.id, &token, "&tail=0")).await;
    tick(&next_text(&mut again, GUARD).await.unwrap());
}

#[tokio::test]
async fn a_log_follow_cut_mid_stream_resumes_without_loss_or_duplicates() {
    let c = Container::run(&[], &["every:50"]);
    let (proxy, agent, token) = agent_behind_proxy("cutlogs").await;
    let mut ws = agent.ws(&logs_path(&c.id, &token, "&tail=1000")).await;
    let last = contiguous_ticks(&mut ws, 0, 5, "before the cut").await;
    proxy.cut().await;
    contiguous_ticks(&mut ws, last, 40, "after the cut").await;
}

async fn next_event(ws: &mut Ws) -> Value {
    let text = next_text(ws, GUARD).await;
    serde_json::from_str(text.as_deref().unwrap()).unwrap()
}

/// Container events (`Action`, container id) until `last` arrives; the
/// agent's own connection notices are skipped.
async fn container_events_until(ws: &mut Ws, last: (&str, &str)) -> Vec<(String, String)> {
    let mut seen: Vec<(String, String)> = Vec::new();
    loop {
        let event = next_event(ws).await;
        if event["Type"] != "container" {
            continue;
        }
        let field = |k: &str| event[k].as_str().unwrap_or_default().to_string();
        seen.push((field("Action"), field("id")));
        if (field("Action").as_str(), field("id").as_str()) == last {
            break;
        }
    }
    seen
}

#[tokio::test]
async fn an_events_stream_resumes_without_loss_or_duplicates_across_cuts() {
    let label = format!("faults-events={}", unique_name("events"));
    let a = Container::create(&["--label", &label], &["wait"]);
    let b = Container::create(&["--label", &label], &["wait"]);
    let (proxy, agent, token) = agent_behind_proxy("cutevents").await;
    let mut ws = agent
        .ws(&format!(
            "/api/v1/events/ws?token={token}&type=container&event=start,stop&label={label}"
        ))
        .await;
    guarded("the events subscription", async {
        while !proxy.request_lines().iter().any(|l| l.contains("/events?")) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;

    docker(&["start", &a.id]);
    let mut seen = container_events_until(&mut ws, ("start", &a.id)).await;
    // A cut the agent may reconnect from at once...
    proxy.cut().await;
    docker(&["start", &b.id]);
    seen.extend(container_events_until(&mut ws, ("start", &b.id)).await);
    // ...and an outage during which Docker goes on without it.
    proxy.set_down(true).await;
    docker(&["stop", "-t", "1", &a.id]);
    proxy.set_down(false).await;
    docker(&["stop", "-t", "1", &b.id]);
    seen.extend(container_events_until(&mut ws, ("stop", &b.id)).await);

    let expected = [("start", &a), ("start", &b), ("stop", &a), ("stop", &b)]
        .map(|(action, c)| (action.to_string(), c.id.clone()));
    assert_eq!(seen, expected);
}
