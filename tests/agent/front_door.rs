//! Many hosts as one, against real daemons: three hosts of the fleet
//! harness, each with its own daemon and agent, members through the
//! fleet's own CA (made with `openssl`); host 1 is the front door and names
//! the others in `FLEET_PEERS`. Through it: the hosts and their states,
//! every route and stream of another host with the caller's credential,
//! the owner's policy (scope, role, its own secrets) deciding, and the
//! audit trail on both sides.

use crate::lifecycle;
use crate::util::*;
use hyper::Method;
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;

const PEERS: &str = "two=https://10.231.2.2:9001,three=https://10.231.3.2:9001";

/// A `read` token's line, shared by every agent's tokens file.
fn read_token(dir: &Path) -> String {
    let (token, line) = new_token(&["--name", "reader", "--role", "read"]);
    std::fs::write(dir.join("tokens"), format!("{line}\n")).unwrap();
    token
}

/// A new token (`docker-agent token new` with `args`): the token, and its
/// line for a tokens file.
pub(crate) fn new_token(args: &[&str]) -> (String, String) {
    let out = run_ok(
        std::process::Command::new(env!("CARGO_BIN_EXE_docker-agent"))
            .args(["token", "new"])
            .args(args),
    );
    let mut lines = out.lines();
    let token = lines.next().unwrap().to_string();
    (token, lines.next().unwrap().to_string())
}

/// Host K's settings: a member with its certificate, its audit trail and
/// the shared tokens file; host 1 names the others.
fn settings(dir: &Path, k: usize) -> Vec<(String, String)> {
    let name = ["one", "two", "three"][k - 1];
    let mut env = member_env(dir, name);
    env.push((
        "AUDIT_LOG".into(),
        dir.join(format!("{name}.audit")).display().to_string(),
    ));
    env.push((
        "API_TOKENS_FILE".into(),
        dir.join("tokens").display().to_string(),
    ));
    env.push(("EXEC_ENABLED".into(), "true".into()));
    if k == 1 {
        env.push(("FLEET_PEERS".into(), PEERS.into()));
    }
    env
}

/// The hosts the front door lists, once every member's state is known.
pub(crate) async fn hosts_when(
    door: &Agent,
    token: &str,
    ready: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let mut last = Value::Null;
    for _ in 0..60 {
        let resp = door.get("/api/v1/hosts", Some(token)).await;
        assert_eq!(resp.status, 200, "{:?}", resp.body);
        last = resp.json();
        let hosts = last["hosts"].as_array().unwrap().clone();
        if ready(&hosts) {
            return hosts;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    panic!("the hosts never got there: {last:#}");
}

pub(crate) fn state_of<'a>(hosts: &'a [Value], name: &str) -> &'a Value {
    hosts
        .iter()
        .find(|h| h["name"] == name)
        .unwrap_or(&Value::Null)
}

pub(crate) fn audit_lines(dir: &Path, name: &str) -> Vec<Value> {
    std::fs::read_to_string(dir.join(format!("{name}.audit")))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

#[tokio::test]
async fn one_front_door_serves_every_route_and_stream_of_each_host_with_the_owner_deciding() {
    let dir = certificates(&["one", "two", "three"]);
    let reader = read_token(&dir);
    let fleet = Fleet::start_with(3, |k| settings(&dir, k));
    let door = &fleet.host(1).agent;
    let token = door.token().await;

    let hosts = hosts_when(door, &token, |h| {
        ["two", "three"]
            .iter()
            .all(|n| state_of(h, n)["state"] == "up")
    })
    .await;
    assert_eq!(hosts.len(), 3, "{hosts:#?}");
    assert_eq!(hosts[0]["source"], "local");
    assert_eq!(hosts[0]["address"], "local");
    for (k, name) in [(2, "two"), (3, "three")] {
        let h = state_of(&hosts, name);
        let id = fleet
            .host(k)
            .daemon
            .docker(&["info", "--format", "{{.ID}}"]);
        assert_eq!(h["id"], id.trim(), "{h:#}");
        assert_eq!(h["address"], format!("10.231.{k}.2:9001"));
        assert_eq!(h["source"], "listed");
        assert!(
            h["rtt_ms"].as_f64().is_some() && h["last_contact"].is_string(),
            "{h:#}"
        );
        assert!(
            h["docker_version"].is_string() && h["containers"]["total"].is_i64(),
            "{h:#}"
        );
    }

    // Reads of another host are its own agent's answers.
    let on_two = Container::run_on(&fleet.host(2).daemon, &[], &["wait"]);
    let through = door
        .get("/api/v1/hosts/two/containers/?all=true", Some(&token))
        .await;
    assert_eq!(through.status, 200, "{:?}", through.body);
    let ids = |v: &Value| -> Vec<String> {
        let mut ids: Vec<String> = v["containers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_string())
            .collect();
        ids.sort();
        ids
    };
    let direct = fleet
        .host(2)
        .agent
        .get("/api/v1/containers/?all=true", Some(&token))
        .await;
    assert_eq!(ids(&through.json()), ids(&direct.json()));
    assert!(
        ids(&through.json())
            .iter()
            .any(|id| on_two.id.starts_with(id.as_str()))
    );
    let by_id_prefix = format!(
        "/api/v1/hosts/{}/containers/{}",
        &state_of(&hosts, "two")["id"].as_str().unwrap()[..8],
        on_two.name
    );
    let inspected = door.get(&by_id_prefix, Some(&token)).await;
    assert_eq!(inspected.status, 200, "{:?}", inspected.body);
    assert!(
        on_two
            .id
            .starts_with(inspected.json()["id"].as_str().unwrap())
    );
    let nowhere = door
        .get("/api/v1/hosts/nowhere/containers/", Some(&token))
        .await;
    assert_eq!(nowhere.status, 404);
    assert!(
        nowhere.json()["detail"]
            .as_str()
            .unwrap()
            .contains("GET /api/v1/hosts")
    );

    // An event stream of host three through the door, while the door acts there.
    let mut events = door
        .ws(&format!("/api/v1/hosts/three/events/ws?token={token}"))
        .await;
    let (name, body) = lifecycle::body(json!({"start": true}));
    let auth = format!("Bearer {token}");
    let json_headers = [
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
    ];
    let made = door
        .request(
            Method::POST,
            "/api/v1/hosts/three/containers/",
            &json_headers,
            body.to_string().as_bytes(),
        )
        .await;
    assert_eq!(made.status, 201, "{:?}", made.body);
    let id = made.json()["id"].as_str().unwrap().to_string();
    let made = Container::adopt(&fleet.host(3).daemon, id, name);
    assert_eq!(made.status(), "running");
    for other in [&fleet.host(1).daemon, &fleet.host(2).daemon] {
        assert!(!other.exists("container", &made.id));
    }
    let mut seen = Vec::new();
    while !seen
        .iter()
        .any(|e: &Value| e["Action"] == "start" && e["Actor"]["ID"] == made.id.as_str())
    {
        let text = next_text(&mut events, Duration::from_secs(20))
            .await
            .unwrap_or_else(|end| panic!("the stream ended ({end:?}) after {seen:#?}"));
        seen.push(serde_json::from_str(&text).unwrap());
    }

    // A command in it, through the door.
    let exec = door
        .request(
            Method::POST,
            &format!("/api/v1/hosts/three/containers/{}/exec", made.id),
            &json_headers,
            json!({"cmd": ["out:through the door"]})
                .to_string()
                .as_bytes(),
        )
        .await;
    assert_eq!(exec.status, 200, "{:?}", exec.body);

    // A read token acts nowhere: the owner refuses it, and nothing changed.
    let stop = format!("/api/v1/hosts/three/containers/{}/stop", made.id);
    let refused = door.post(&stop, Some(&reader)).await;
    assert_eq!(refused.status, 403, "{:?}", refused.body);
    assert_eq!(made.status(), "running");
    let stopped = door.post(&stop, Some(&token)).await;
    assert_eq!(stopped.status, 200, "{:?}", stopped.body);
    assert_eq!(made.status(), "exited");

    // Both sides audited the stop: the owner through whom, the door where to.
    let owner = audit_lines(&dir, "three");
    let at_owner = owner
        .iter()
        .find(|r| r["action"] == "container.stop" && r["result"] == "ok")
        .unwrap_or_else(|| panic!("{owner:#?}"));
    assert_eq!(at_owner["via"], "CN=one");
    assert_eq!(at_owner["subject"], "user:admin");
    let refusal = owner
        .iter()
        .find(|r| r["action"] == "container.stop" && r["result"] == "denied")
        .unwrap_or_else(|| panic!("{owner:#?}"));
    assert_eq!(refusal["subject"], "token:reader");
    let door_trail = audit_lines(&dir, "one");
    let sent = door_trail
        .iter()
        .filter(|r| r["action"] == "fleet.forward" && r["forwarded_to"] == "three")
        .count();
    assert!(sent >= 3, "create, exec, two stops: {door_trail:#?}");
    fleet.down();
}

#[tokio::test]
async fn the_owner_s_scope_and_secrets_hold_through_the_door_and_strangers_are_refused() {
    let dir = certificates(&["one", "two", "three"]);
    read_token(&dir);
    let fleet = Fleet::start_with(3, |k| {
        let mut env = settings(&dir, k);
        match k {
            2 => env.push(("SCOPE_LABEL".into(), "fleet.scope=in".into())),
            3 => env.push((
                "SECRET_KEY".into(),
                "9c2e7f1a5b3d80e46c1f9a7b2d5e3c08aa".into(),
            )),
            _ => {}
        }
        env
    });
    let door = &fleet.host(1).agent;
    let token = door.token().await;
    let hosts = hosts_when(door, &token, |h| {
        state_of(h, "two")["state"] == "up" && state_of(h, "three")["state"] == "degraded"
    })
    .await;
    let reason = state_of(&hosts, "three")["reason"].as_str().unwrap();
    assert!(
        reason.contains("SECRET_KEY") && reason.contains("same SECRET_KEY"),
        "{reason}"
    );
    let refused = door
        .get("/api/v1/hosts/three/containers/", Some(&token))
        .await;
    assert_eq!(refused.status, 401, "the owner decides: {:?}", refused.body);

    let outside = Container::run_on(&fleet.host(2).daemon, &[], &["wait"]);
    let inside = Container::run_on(
        &fleet.host(2).daemon,
        &["--label", "fleet.scope=in"],
        &["wait"],
    );
    let listed = door
        .get("/api/v1/hosts/two/containers/?all=true", Some(&token))
        .await;
    let listed = listed.json();
    let names: Vec<&str> = listed["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&inside.name.as_str()), "{names:?}");
    assert!(!names.contains(&outside.name.as_str()), "{names:?}");
    let hidden = door
        .get(
            &format!("/api/v1/hosts/two/containers/{}", outside.id),
            Some(&token),
        )
        .await;
    assert_eq!(hidden.status, 404, "{:?}", hidden.body);
    let stop = door
        .post(
            &format!("/api/v1/hosts/two/containers/{}/stop", outside.id),
            Some(&token),
        )
        .await;
    assert_eq!(stop.status, 404, "{:?}", stop.body);
    assert_eq!(outside.status(), "running");

    // The fleet port takes only certificates of the fleet's CA.
    let url = "https://10.231.2.2:9001/fleet/v1/identity?nonce=00";
    let ca = dir.join("ca.pem").display().to_string();
    let bare = std::process::Command::new("curl")
        .args(["-s", "--max-time", "10", "--cacert", &ca, url])
        .output()
        .unwrap();
    assert!(!bare.status.success(), "no client certificate: {bare:?}");
    let strangers = certificates(&["stranger"]);
    let (cert, key) = (
        strangers.join("stranger.pem"),
        strangers.join("stranger.key"),
    );
    let stranger = std::process::Command::new("curl")
        .args(["-s", "--max-time", "10", "-k", url, "--cert"])
        .arg(&cert)
        .arg("--key")
        .arg(&key)
        .output()
        .unwrap();
    assert!(
        !stranger.status.success(),
        "another CA's certificate: {stranger:?}"
    );
    let member = std::process::Command::new("curl")
        .args(["-s", "--max-time", "10", "-k", url, "--cert"])
        .arg(dir.join("one.pem"))
        .arg("--key")
        .arg(dir.join("one.key"))
        .output()
        .unwrap();
    let identity: Value = serde_json::from_slice(&member.stdout).unwrap();
    assert_eq!(identity["name"], "vm");
    assert_eq!(identity["proofs"]["secret_key"].as_str().unwrap().len(), 64);
    fleet.down();
}
