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
pub(crate) fn read_token(dir: &Path) -> String {
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

    // Its stats stream and a terminal in it, through the door.
    let mut stats = door
        .ws(&format!(
            "/api/v1/hosts/three/stats/ws/{}?token={token}",
            made.id
        ))
        .await;
    let sample: Value = serde_json::from_str(
        &next_text(&mut stats, Duration::from_secs(20))
            .await
            .unwrap(),
    )
    .unwrap();
    assert!(sample["cpu_percent"].is_number(), "{sample}");
    drop(stats);
    let mut terminal = door
        .ws(&format!(
            "/api/v1/hosts/three/exec/ws/{}?token={token}&cmd=/testbox",
            made.id
        ))
        .await;
    {
        use futures_util::{SinkExt, StreamExt};
        use tokio_tungstenite::tungstenite::Message;
        terminal
            .send(Message::Binary("over the door\n".into()))
            .await
            .unwrap();
        let mut seen = String::new();
        while !seen.contains("over the door") {
            match tokio::time::timeout(Duration::from_secs(20), terminal.next()).await {
                Ok(Some(Ok(Message::Binary(b)))) => seen.push_str(&String::from_utf8_lossy(&b)),
                Ok(Some(Ok(Message::Close(f)))) => panic!("closed: {f:?}; saw {seen:?}"),
                Ok(Some(Ok(_))) => {}
                other => panic!("{other:?}; saw {seen:?}"),
            }
        }
    }
    drop(terminal);

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
    // What a peer forwards is served there, never sent on again: host two
    // asks the front door, which knows three.
    let as_peer = |path: &str| {
        let out = std::process::Command::new("curl")
            .args([
                "-s",
                "--max-time",
                "10",
                "-k",
                "-w",
                "\n%{http_code}",
                "--cert",
            ])
            .arg(dir.join("two.pem"))
            .arg("--key")
            .arg(dir.join("two.key"))
            .args(["-H", &format!("Authorization: Bearer {token}")])
            .arg(format!("https://10.231.1.2:9001{path}"))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let (body, code) = text.rsplit_once('\n').unwrap();
        (code.to_string(), body.to_string())
    };
    let (code, body) = as_peer("/api/v1/hosts/three/containers/");
    assert_eq!(code, "400", "{body}");
    assert!(body.contains("never forwarded again"), "{body}");
    let (code, body) = as_peer("/api/v1/containers/?host=*");
    assert_eq!(code, "422", "{body}");
    let (code, _) = as_peer("/api/v1/containers/");
    assert_eq!(code, "200");
    fleet.down();
}

/// Container events of `id` on `host` read from a merged stream until
/// `until` says stop: every message, as read.
pub(crate) async fn read_until(
    ws: &mut Ws,
    what: &str,
    until: impl Fn(&Value) -> bool,
) -> Vec<Value> {
    let mut seen = Vec::new();
    loop {
        let text = next_text(ws, Duration::from_secs(30))
            .await
            .unwrap_or_else(|end| {
                panic!("waiting for {what}, the stream ended ({end:?}) after {seen:#?}")
            });
        let event: Value = serde_json::from_str(&text).unwrap();
        let done = until(&event);
        seen.push(event);
        if done {
            return seen;
        }
    }
}

pub(crate) fn is(event: &Value, host: &str, action: &str, id: &str) -> bool {
    event["host"] == host && event["Action"] == action && event["Actor"]["ID"] == id
}

#[tokio::test]
async fn every_host_at_once_merges_lists_and_one_events_stream_outlives_a_host_s_outage_losing_and_repeating_nothing()
 {
    let dir = certificates(&["one", "two", "three"]);
    read_token(&dir);
    let mut fleet = Fleet::start_with(3, |k| settings(&dir, k));
    let door = Agent::at(fleet.host(1).agent.addr);
    let token = door.token().await;
    hosts_when(&door, &token, |h| {
        ["two", "three"]
            .iter()
            .all(|n| state_of(h, n)["state"] == "up")
    })
    .await;
    let here = door.get("/api/v1/hosts", Some(&token)).await.json()["hosts"][0]["name"]
        .as_str()
        .unwrap()
        .to_string();
    let on: Vec<Container> = (1..=3)
        .map(|k| Container::run_on(&fleet.host(k).daemon, &[], &["wait"]))
        .collect();

    let all = door
        .get("/api/v1/containers/?all=true&host=*", Some(&token))
        .await;
    assert_eq!(all.status, 200, "{:?}", all.body);
    let all = all.json();
    let listed = all["containers"].as_array().unwrap();
    for (container, host) in on.iter().zip([here.as_str(), "two", "three"]) {
        let item = listed
            .iter()
            .find(|c| container.id.starts_with(c["id"].as_str().unwrap()))
            .unwrap_or_else(|| panic!("{} missing: {all:#}", container.name));
        assert_eq!(item["host"], host, "{item:#}");
    }
    assert_eq!(all["total"], listed.len());
    assert_eq!(all["missing"], json!([]));
    let health = door.get("/api/v1/health?host=*", Some(&token)).await.json();
    let hosts: Vec<&str> = health["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["host"].as_str().unwrap())
        .collect();
    assert_eq!(hosts, [here.as_str(), "two", "three"], "{health:#}");
    for route in [
        "/api/v1/images/?host=*",
        "/api/v1/volumes/?host=*",
        "/api/v1/networks/?host=*",
    ] {
        let resp = door.get(route, Some(&token)).await;
        assert_eq!(resp.status, 200, "{route}: {:?}", resp.body);
        assert_eq!(resp.json()["missing"], json!([]), "{route}");
    }
    let one = door.get("/api/v1/containers/?host=two", Some(&token)).await;
    assert_eq!(one.status, 422, "{:?}", one.body);
    let not_a_list = door
        .get(
            &format!("/api/v1/containers/{}?host=*", on[0].id),
            Some(&token),
        )
        .await;
    assert_eq!(not_a_list.status, 422, "{:?}", not_a_list.body);

    // One stream of every host's events, each tagged.
    let mut events = door
        .ws(&format!(
            "/api/v1/events/ws?host=*&type=container&token={token}"
        ))
        .await;
    let three = &on[2];
    fleet.host(2).daemon.docker(&["pause", &on[1].id]);
    fleet.host(3).daemon.docker(&["pause", &three.id]);
    let before = read_until(&mut events, "both pauses", {
        let (two, three) = (on[1].id.clone(), three.id.clone());
        let seen = std::cell::Cell::new(0);
        move |e| {
            if is(e, "two", "pause", &two) || is(e, "three", "pause", &three) {
                seen.set(seen.get() + 1);
            }
            seen.get() == 2
        }
    })
    .await;
    assert!(before.iter().all(|e| e["host"].is_string()), "{before:#?}");

    // Host three's agent dies; its daemon goes on without it.
    fleet.hosts[2].kill_agent();
    let lost = read_until(&mut events, "three reported unreachable", |e| {
        e["Action"] == "host-unreachable" && e["host"] == "three"
    })
    .await;
    assert!(
        lost.iter()
            .all(|e| e["Type"] == "agent" || e["host"] != "three")
    );
    fleet.host(3).daemon.docker(&["unpause", &three.id]);
    fleet.host(3).daemon.docker(&["stop", &three.id]);
    hosts_when(&door, &token, |h| {
        state_of(h, "three")["state"] == "unreachable"
    })
    .await;
    let partial = door
        .get("/api/v1/containers/?all=true&host=*", Some(&token))
        .await;
    assert_eq!(partial.status, 200);
    let partial = partial.json();
    assert_eq!(partial["missing"][0]["host"], "three", "{partial:#}");
    assert!(partial["missing"][0]["reason"].is_string());
    assert!(
        partial["containers"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["host"] != "three")
    );

    // It comes back: its stream resumes from its last event delivered.
    fleet.hosts[2].start_agent();
    fleet.hosts[2].check_address();
    let after = read_until(&mut events, "three's stop, delivered after it came back", {
        let id = three.id.clone();
        move |e| is(e, "three", "stop", &id)
    })
    .await;
    let of_three: Vec<(String, u64)> = before
        .iter()
        .chain(&lost)
        .chain(&after)
        .filter(|e| e["host"] == "three" && e["Type"] == "container")
        .map(|e| {
            (
                e["Action"].as_str().unwrap().to_string(),
                e["timeNano"].as_u64().unwrap(),
            )
        })
        .collect();
    let actions: Vec<&str> = of_three.iter().map(|(a, _)| a.as_str()).collect();
    for done in ["pause", "unpause", "kill", "die", "stop"] {
        assert_eq!(
            actions.iter().filter(|a| **a == done).count(),
            1,
            "{done} once, no loss, no repeat: {actions:?}"
        );
    }
    let mut stamps: Vec<u64> = of_three.iter().map(|(_, t)| *t).collect();
    let sorted = {
        let mut s = stamps.clone();
        s.sort();
        s
    };
    assert_eq!(stamps, sorted, "in Docker's order");
    stamps.dedup();
    assert_eq!(stamps.len(), of_three.len(), "{of_three:?}");
    assert!(
        after
            .iter()
            .any(|e| e["Action"] == "host-reconnected" && e["host"] == "three"),
        "{after:#?}"
    );
    fleet.down();
}

/// Drops new connections into host K's namespace from anywhere (replies to
/// connections it opens still pass): a host behind NAT. Removed on drop.
struct Unreachable(usize);

impl Unreachable {
    fn rule(&self, op: &str) -> std::process::Command {
        let mut cmd = std::process::Command::new("iptables");
        let to = format!("10.231.{}.2", self.0);
        cmd.args([
            op,
            "FORWARD",
            "-d",
            &to,
            "-m",
            "conntrack",
            "--ctstate",
            "NEW",
        ])
        .args([
            "-m",
            "comment",
            "--comment",
            "docker-agent-fleet-nat",
            "-j",
            "DROP",
        ]);
        cmd
    }

    fn new(k: usize) -> Unreachable {
        let nat = Unreachable(k);
        run_ok(&mut nat.rule("-I"));
        nat
    }
}

impl Drop for Unreachable {
    fn drop(&mut self) {
        let _ = self.rule("-D").status();
    }
}

#[tokio::test]
async fn a_host_behind_nat_joins_the_front_door_and_is_served_like_the_others() {
    let dir = certificates(&["one", "two", "three", "four"]);
    read_token(&dir);
    let mut fleet = Fleet::start_with(4, |k| {
        let mut env = match k {
            4 => member_env(&dir, "four"),
            _ => settings(&dir, k),
        };
        if k == 4 {
            env.push(("FLEET_JOIN".into(), "https://10.231.1.2:9001".into()));
            env.push(("FLEET_NAME".into(), "four".into()));
            env.push((
                "API_TOKENS_FILE".into(),
                dir.join("tokens").display().to_string(),
            ));
        }
        env
    });
    // Above the fleet's own rules, which `start` puts first.
    let nat = Unreachable::new(4);
    let door = Agent::at(fleet.host(1).agent.addr);
    let token = door.token().await;
    let hosts = hosts_when(&door, &token, |h| state_of(h, "four")["state"] == "up").await;
    let four = state_of(&hosts, "four");
    assert_eq!(four["source"], "joined", "{four:#}");
    let id = fleet
        .host(4)
        .daemon
        .docker(&["info", "--format", "{{.ID}}"]);
    assert_eq!(four["id"], id.trim());
    // Nobody can open a connection to it: not the front door, not this test.
    let url = "http://10.231.4.2:9000/api/v1/healthz";
    let direct = fleet
        .host(1)
        .command("curl")
        .args(["-s", "--max-time", "3", url])
        .status()
        .unwrap();
    assert!(
        !direct.success(),
        "host four is reachable from the front door"
    );

    let lines = Container::run_on(&fleet.host(4).daemon, &[], &["lines:3", "wait"]);
    let listed = door
        .get("/api/v1/hosts/four/containers/?all=true", Some(&token))
        .await;
    assert_eq!(listed.status, 200, "{:?}", listed.body);
    assert!(
        listed.json()["containers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| lines.id.starts_with(c["id"].as_str().unwrap())),
        "{:?}",
        listed.body
    );
    let all = door
        .get("/api/v1/containers/?host=*", Some(&token))
        .await
        .json();
    assert!(
        all["containers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["host"] == "four"),
        "{all:#}"
    );
    let mut logs = door
        .ws(&format!(
            "/api/v1/hosts/four/logs/ws/{}?token={token}&tail=all",
            lines.id
        ))
        .await;
    for n in 1..=3 {
        let line = next_text(&mut logs, Duration::from_secs(20)).await.unwrap();
        assert_eq!(line, format!("line {n}"));
    }
    let stop = door
        .post(
            &format!("/api/v1/hosts/four/containers/{}/stop", lines.id),
            Some(&token),
        )
        .await;
    assert_eq!(stop.status, 200, "{:?}", stop.body);
    assert_eq!(lines.status(), "exited");
    assert!(matches!(
        next_text(&mut logs, Duration::from_secs(20)).await,
        Err(Ending::Closed(1000, _))
    ));

    // Its agent goes away and comes back: it joins again by itself.
    fleet.hosts[3].kill_agent();
    hosts_when(&door, &token, |h| {
        state_of(h, "four")["state"] == "unreachable"
    })
    .await;
    fleet.hosts[3].start_agent();
    fleet.hosts[3].check_address();
    hosts_when(&door, &token, |h| state_of(h, "four")["state"] == "up").await;
    let again = door
        .get("/api/v1/hosts/four/containers/", Some(&token))
        .await;
    assert_eq!(again.status, 200, "{:?}", again.body);
    drop(nat);
    fleet.down();
}
