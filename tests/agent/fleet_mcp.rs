//! One MCP server for the fleet, against real daemons: three hosts of the
//! fleet harness (host 1 the front door, naming `two`, `three` and a
//! `four` where no agent listens), driven through the front door by the
//! official Python SDK as its README shows. Every tool takes `host`; a
//! call for another host runs there under its owner's policy (host three's
//! `MCP_READ_ONLY`); `host: "*"` lists every host's containers, naming the
//! host that could not answer; a container named without a host is looked
//! for on the others; and a person's yes, asked at the front door, holds
//! on the host it was asked for and nowhere else.

use crate::confirm::{call_as, state_of as question_state};
use crate::front_door::{audit_lines, hosts_when, new_token, state_of};
use crate::lifecycle;
use crate::util::*;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

const PEERS: &str =
    "two=https://10.231.2.2:9001,three=https://10.231.3.2:9001,four=https://10.231.2.2:9009";

/// Host K's settings: a member with its certificate, its audit trail and
/// the shared tokens file; host 1, named `one`, names the others; host
/// three's MCP key is read-only.
fn settings(dir: &Path, k: usize) -> Vec<(String, String)> {
    let name = ["one", "two", "three"][k - 1];
    let mut env = member_env(dir, name);
    let file = |f: String| dir.join(f).display().to_string();
    env.push(("AUDIT_LOG".into(), file(format!("{name}.audit"))));
    env.push(("API_TOKENS_FILE".into(), file("tokens".into())));
    env.push(("RATE_LIMIT_ENABLED".into(), "false".into()));
    match k {
        1 => env.extend([
            ("FLEET_PEERS".into(), PEERS.into()),
            ("FLEET_NAME".into(), "one".into()),
        ]),
        3 => env.push(("MCP_READ_ONLY".into(), "true".into())),
        _ => {}
    }
    env
}

/// The fleet, once the front door sees two and three up; an `admin`
/// token every host knows, which needs a person's yes for every action;
/// and the directory of the audit trails.
async fn fleet() -> (Fleet, String, PathBuf) {
    let dir = certificates(&["one", "two", "three"]);
    let (operator, line) = new_token(&[
        "--name",
        "operator",
        "--role",
        "admin",
        "--marks",
        "confirm=actions",
    ]);
    std::fs::write(dir.join("tokens"), format!("{line}\n")).unwrap();
    let fleet = Fleet::start_with(3, |k| settings(&dir, k));
    let door = &fleet.host(1).agent;
    let login = door.token().await;
    hosts_when(door, &login, |h| {
        ["two", "three"]
            .iter()
            .all(|n| state_of(h, n)["state"] == "up")
    })
    .await;
    (fleet, operator, dir)
}

/// Runs `tests/mcp_fleet.py` against `door` with `credential` in `mode`,
/// answering questions `answer`, through `steps`.
fn python(door: &Agent, credential: &str, mode: &str, answer: &str, steps: &Value) -> Value {
    let base = format!("http://{}", door.addr);
    let steps = steps.to_string();
    tokio::task::block_in_place(|| {
        sdk_client("mcp_fleet.py", &[&base, credential, mode, answer, &steps])
    })
}

/// A container named `name` on `daemon` (several hosts may have one each).
fn named_on(daemon: &Daemon, name: &str) -> Container {
    let label = format!("{LABEL}=1");
    let id = daemon.docker(&[
        "run",
        "-d",
        "--name",
        name,
        "--label",
        &label,
        image(),
        "wait",
    ]);
    Container::adopt(daemon, id, name.to_string())
}

/// The names and hosts of a `host: "*"` listing.
fn tagged(listing: &Value) -> Vec<(String, String)> {
    listing["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let (name, host) = (c["name"].as_str().unwrap(), c["host"].as_str().unwrap());
            (name.to_string(), host.to_string())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_mcp_server_serves_every_host_of_the_fleet_with_each_owner_deciding() {
    let (fleet, _, dir) = fleet().await;
    let door = &fleet.host(1).agent;
    let here = Container::run_on(&fleet.host(1).daemon, &[], &["wait"]);
    let there = Container::run_on(&fleet.host(2).daemon, &[], &["wait"]);
    let on_three = Container::run_on(&fleet.host(3).daemon, &[], &["wait"]);
    let twin = unique_name("twin");
    let _twins = [2, 3].map(|k| named_on(&fleet.host(k).daemon, &twin));

    let steps = json!([
        {"tools": true},
        {"tool": "list_hosts", "args": {}},
        {"tool": "list_containers", "args": {"host": "two"}},
        {"tool": "list_containers", "args": {"host": "*"}},
        {"tool": "stop_container", "args": {"container_id": on_three.name, "host": "three"}},
        {"tool": "stop_container", "args": {"container_id": here.name}},
        {"tool": "get_container", "args": {"container_id": twin}},
        {"tool": "get_container", "args": {"container_id": there.name}},
        {"tool": "get_container", "args": {"container_id": "no-such-container-anywhere"}},
        {"tool": "get_container", "args": {"container_id": there.name, "host": "nowhere"}},
        {"tool": "get_container", "args": {"container_id": there.name, "host": "*"}},
        {"read": format!("docker://hosts/two/containers/{}", there.name)},
        {"read": format!("docker://hosts/two/containers/{}/logs", there.name)},
        {"read": "docker://hosts/nowhere/containers"},
        {"read": "docker://hosts/two/containers/no-such-container-anywhere"},
    ]);
    let seen = python(door, MCP_KEY, "modern", "none", &steps);
    assert_eq!(seen["protocol_version"], "2026-07-28", "{seen:#}");
    let step = |i: usize| &seen["steps"][i];

    // Every tool takes `host`, but the listing of hosts itself.
    let tools = step(0).as_object().unwrap();
    assert!(tools.len() > 20, "{tools:#?}");
    for (name, host) in tools {
        match name.as_str() {
            "list_hosts" => assert!(host.is_null()),
            _ => assert_eq!(host["type"], "string", "{name}"),
        }
    }
    let hosts: Vec<&str> = step(1)["structured"]["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["name"].as_str().unwrap())
        .collect();
    assert_eq!(hosts, ["one", "two", "three", "four"]);

    // Host two's containers, as its own agent lists them.
    let two = &step(2)["structured"]["containers"];
    let names: Vec<&str> = two
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&there.name.as_str()), "{names:?}");
    assert!(!names.contains(&on_three.name.as_str()), "{names:?}");
    assert!(!names.contains(&here.name.as_str()), "{names:?}");

    // Every host's, each tagged; the host that cannot answer is named.
    let every = &step(3)["structured"];
    let tags = tagged(every);
    for (name, host) in [
        (&here.name, "one"),
        (&there.name, "two"),
        (&on_three.name, "three"),
        (&twin, "two"),
        (&twin, "three"),
    ] {
        assert!(
            tags.contains(&(name.clone(), host.to_string())),
            "{name} on {host}: {tags:?}"
        );
    }
    assert_eq!(every["total"], tags.len());
    let missing = every["missing"].as_array().unwrap();
    assert_eq!(missing.len(), 1, "{every:#}");
    assert_eq!(missing[0]["host"], "four");
    assert!(
        !missing[0]["reason"].as_str().unwrap().is_empty(),
        "{missing:?}"
    );

    // Host three's MCP key is read-only there: its agent refuses what the
    // front door does on its own host.
    assert_eq!(step(4)["is_error"], true, "{:#}", step(4));
    let refusal = step(4)["text"].as_str().unwrap();
    assert!(refusal.contains("MCP_READ_ONLY"), "{refusal}");
    assert_eq!(on_three.status(), "running");
    assert_eq!(step(5)["is_error"], false, "{:#}", step(5));
    assert_eq!(here.status(), "exited");

    // A name without a host: on two hosts, an error naming both; on one
    // other host, run there; nowhere, not found (and who was not asked).
    assert_eq!(step(6)["is_error"], true);
    let several = step(6)["text"].as_str().unwrap();
    assert!(
        several.contains("several hosts: two, three") && several.contains("host argument"),
        "{several}"
    );
    assert_eq!(step(7)["is_error"], false, "{:#}", step(7));
    assert_eq!(step(7)["structured"]["id"], there.id.as_str());
    let nowhere = step(8)["text"].as_str().unwrap();
    assert!(
        nowhere.contains("not found") && nowhere.contains("four ("),
        "{nowhere}"
    );
    let unknown = step(9)["text"].as_str().unwrap();
    assert!(
        unknown.contains("No host 'nowhere'") && unknown.contains("list_hosts"),
        "{unknown}"
    );
    assert!(
        step(10)["text"]
            .as_str()
            .unwrap()
            .contains("list_containers only"),
        "{:#}",
        step(10)
    );

    // A host's resources, read through its agent.
    let uri = format!("docker://hosts/two/containers/{}", there.name);
    assert_eq!(step(11)["uri"], uri.as_str());
    let detail: Value = serde_json::from_str(step(11)["text"].as_str().unwrap()).unwrap();
    assert_eq!(detail["id"], there.id.as_str());
    assert_eq!(step(12)["uri"], format!("{uri}/logs"));
    assert_eq!(step(12)["mime"], "text/plain");
    assert_eq!(step(13)["code"], -32602, "{:#}", step(13));
    let gone = step(14)["error"].as_str().unwrap();
    assert_eq!(
        (step(14)["code"].as_i64(), gone),
        (
            Some(-32602),
            "Resource not found: docker://hosts/two/containers/no-such-container-anywhere"
        )
    );

    // The handshake era gets the same, as that revision has it.
    let steps = json!([
        {"tool": "list_containers", "args": {"host": "*"}},
        {"tool": "get_container", "args": {"container_id": on_three.name, "host": "three"}},
        {"read": "docker://hosts/two/containers/no-such-container-anywhere"},
    ]);
    let legacy = python(door, MCP_KEY, "legacy", "none", &steps);
    assert_eq!(legacy["protocol_version"], "2025-11-25");
    assert_eq!(tagged(&legacy["steps"][0]["structured"]), tags);
    assert_eq!(legacy["steps"][1]["structured"]["id"], on_three.id.as_str());
    assert_eq!(
        legacy["steps"][2]["code"], -32002,
        "not found, as that era codes it"
    );

    // The owner recorded its refusal, through whom; the door where it sent it.
    let owner = audit_lines(&dir, "three");
    let refused = owner
        .iter()
        .find(|r| r["action"] == "container.stop" && r["result"] == "denied")
        .unwrap_or_else(|| panic!("{owner:#?}"));
    assert_eq!(
        (&refused["via"], &refused["subject"]),
        (&json!("CN=one"), &json!("mcp"))
    );
    let door_trail = audit_lines(&dir, "one");
    let sent = door_trail
        .iter()
        .find(|r| r["action"] == "fleet.forward" && r["forwarded_to"] == "three")
        .unwrap_or_else(|| panic!("{door_trail:#?}"));
    assert_eq!(
        (&sent["surface"], &sent["result"]),
        (&json!("mcp"), &json!("refused"))
    );

    // A call that came through the fleet is for the host it reached: an
    // agent of the fleet asking two for every host is refused.
    let call = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
        "name": "list_containers", "arguments": {"host": "*"},
        "_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
                  "io.modelcontextprotocol/clientCapabilities": {}}}});
    let auth = format!("Authorization: Bearer {MCP_KEY}");
    let out = std::process::Command::new("curl")
        .args([
            "-s",
            "--max-time",
            "10",
            "-k",
            "https://10.231.2.2:9001/mcp",
        ])
        .arg("--cert")
        .arg(dir.join("one.pem"))
        .arg("--key")
        .arg(dir.join("one.key"))
        .args(["-H", &auth, "-H", "Content-Type: application/json"])
        .args([
            "-H",
            "MCP-Protocol-Version: 2026-07-28",
            "-H",
            "Mcp-Method: tools/call",
        ])
        .args(["-H", "Mcp-Name: list_containers", "-d", &call.to_string()])
        .output()
        .unwrap();
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{out:?}"));
    let text = answer["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_default();
    assert!(text.contains("came through another agent"), "{answer:#}");
    fleet.down();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_s_yes_is_asked_at_the_front_door_and_holds_on_its_host_alone() {
    let (fleet, operator, dir) = fleet().await;
    let door = &fleet.host(1).agent;
    let two = &fleet.host(2).daemon;
    let (first, second) = (
        Container::run_on(two, &[], &["wait"]),
        Container::run_on(two, &[], &["wait"]),
    );

    // Both eras: the question comes through the door, naming the host; the
    // owner runs the call once the person said yes.
    let stop = |c: &Container| json!([{"tool": "stop_container", "args": {"container_id": c.name, "host": "two"}}]);
    for (mode, c) in [("modern", &first), ("legacy", &second)] {
        let seen = python(door, &operator, mode, "accept", &stop(c));
        assert_eq!(seen["steps"][0]["is_error"], false, "{mode}: {seen:#}");
        let asked = seen["asked"].as_array().unwrap();
        assert_eq!(asked.len(), 1, "{mode}: {seen:#}");
        let question = asked[0].as_str().unwrap();
        assert!(
            question.contains(&c.name) && question.contains("on host two"),
            "{question}"
        );
        assert_eq!(c.status(), "exited", "{mode}");
    }
    let start =
        json!([{"tool": "start_container", "args": {"container_id": first.name, "host": "two"}}]);
    let declined = python(door, &operator, "legacy", "decline", &start);
    let text = declined["steps"][0]["text"].as_str().unwrap();
    assert!(text.contains("declined"), "{text}");
    assert_eq!(first.status(), "exited");

    // A yes asked for two, replayed for three: three refuses it.
    let auth = format!("Bearer {operator}");
    let (name, body) = lifecycle::body(json!({}));
    let mut args = body.clone();
    args["host"] = json!("two");
    let asked = call_as(door, &auth, "create_container", args.clone(), None).await;
    let state = question_state(&asked);
    let message = asked["inputRequests"]["confirm"]["params"]["message"]
        .as_str()
        .unwrap();
    assert!(message.contains("on host two"), "{message}");
    let yes = json!({"action": "accept", "content": {"confirm": true}});
    let mut elsewhere = args.clone();
    elsewhere["host"] = json!("three");
    let replayed = call_as(
        door,
        &auth,
        "create_container",
        elsewhere,
        Some((&state, yes.clone())),
    )
    .await;
    assert_eq!(replayed["isError"], true, "{replayed:#}");
    let text = replayed["content"][0]["text"].as_str().unwrap();
    assert!(
        text.contains("another call") && text.contains("Nothing was changed"),
        "{text}"
    );
    assert!(!fleet.host(3).daemon.exists("container", &name));

    // On two it holds, once.
    let done = call_as(
        door,
        &auth,
        "create_container",
        args.clone(),
        Some((&state, yes.clone())),
    )
    .await;
    assert_eq!(done["isError"], false, "{done:#}");
    let id = done["structuredContent"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let _made = Container::adopt(two, id, name.clone());
    let again = call_as(door, &auth, "create_container", args, Some((&state, yes))).await;
    let text = again["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("already used"), "{text}");

    // The owners decided and recorded who said yes, through whom.
    let owner = audit_lines(&dir, "two");
    let stopped: Vec<&Value> = owner
        .iter()
        .filter(|r| r["action"] == "container.stop" && r["result"] == "ok")
        .collect();
    assert_eq!(stopped.len(), 2, "{owner:#?}");
    for r in stopped {
        assert_eq!(r["confirmation"], "accepted", "{r:#}");
        assert_eq!(
            (&r["via"], &r["subject"]),
            (&json!("CN=one"), &json!("token:operator"))
        );
    }
    let invalid = audit_lines(&dir, "three");
    assert!(
        invalid
            .iter()
            .any(|r| r["confirmation"] == "invalid" && r["via"] == "CN=one"),
        "{invalid:#?}"
    );
    fleet.down();
}
