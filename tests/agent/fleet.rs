//! The fleet harness itself (`tests/fleet.sh`, `util::Fleet`): real daemons
//! in network namespaces of their own, each with its identity, its data root
//! and an agent beside it; the hosts reach one another through the root
//! namespace and nothing beyond; and `down` leaves nothing behind.

use crate::containers::find;
use crate::lifecycle;
use crate::util::*;
use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;

#[tokio::test]
async fn three_hosts_have_their_own_daemons_and_agents_and_a_container_made_through_one_is_on_its_daemon_only()
 {
    let fleet = Fleet::start(3);
    let mut identities = vec![docker(&["info", "--format", "{{.ID}}"])];
    for host in &fleet.hosts {
        let info = host
            .daemon
            .docker(&["info", "--format", "{{.ID}} {{.DockerRootDir}}"]);
        let (id, root) = info.split_once(' ').unwrap();
        let own_root = format!("/var/lib/docker-agent-fleet/{}", host.number);
        assert_eq!(root, own_root, "{}", host.namespace);
        assert!(
            !identities.iter().any(|other| other == id),
            "{} has the identity of another daemon: {id}",
            host.namespace
        );
        identities.push(id.to_string());
        let health = host.agent.get("/api/v1/healthz", None).await;
        assert_eq!(health.status, 200, "{}", host.namespace);
        assert_eq!(
            (&health.json()["status"], &health.json()["docker_connected"]),
            (&json!("ok"), &json!(true)),
            "{}",
            host.namespace
        );
    }

    let two = fleet.host(2);
    let token = two.agent.token().await;
    let (name, body) = lifecycle::body(json!({"start": true}));
    let resp = lifecycle::post_create(&two.agent, &token, &body).await;
    assert_eq!(resp.status, 201, "{:?}", resp.body);
    let id = resp.json()["id"].as_str().unwrap().to_string();
    let made = Container::adopt(&two.daemon, id, name);
    assert_eq!(made.status(), "running");
    let listed = two
        .agent
        .get("/api/v1/containers/?all=true", Some(&token))
        .await;
    assert!(find(&listed.json(), &made.name).is_some(), "{listed:?}");
    assert!(!exists("container", &made.id), "on the main daemon");
    for other in [fleet.host(1), fleet.host(3)] {
        assert!(
            !other.daemon.exists("container", &made.id),
            "on {}",
            other.namespace
        );
        let token = other.agent.token().await;
        let listed = other
            .agent
            .get("/api/v1/containers/?all=true", Some(&token))
            .await;
        assert!(find(&listed.json(), &made.name).is_none(), "{listed:?}");
    }
}

#[tokio::test]
async fn each_host_reaches_the_other_hosts_agents_through_the_root_namespace_and_nothing_beyond() {
    let fleet = Fleet::start(3);
    for from in &fleet.hosts {
        for to in fleet.hosts.iter().filter(|to| to.number != from.number) {
            let url = format!("http://{}/api/v1/healthz", to.agent.addr);
            let body = run_ok(from.command("curl").args(["-s", "--max-time", "10", &url]));
            let health: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(
                health["status"], "ok",
                "{} to {}: {body}",
                from.namespace, to.namespace
            );
        }
        // No default route: an address outside 10.231.0.0/16 is unreachable.
        let out = from
            .command("ip")
            .args(["route", "get", "198.51.100.1"])
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && said.contains("unreachable"),
            "{}: {said}",
            from.namespace
        );
    }
}

/// Every process whose command line mentions `needle`.
fn processes_mentioning(needle: &str) -> Vec<String> {
    let entries = std::fs::read_dir("/proc").unwrap().filter_map(Result::ok);
    entries
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .map(|line| String::from_utf8_lossy(&line).replace('\0', " "))
        .filter(|line| line.contains(needle))
        .collect()
}

#[tokio::test]
async fn fleet_down_leaves_no_namespace_veth_daemon_or_directory_behind() {
    let fleet = Fleet::start(3);
    // A running container, which its daemon stops on the way down.
    let running = Container::run_on(&fleet.host(1).daemon, &[], &["wait"]);
    assert_eq!(running.status(), "running");
    let daemons = processes_mentioning("/run/docker-agent-fleet/");
    assert!(daemons.len() >= 3, "{daemons:#?}");
    // Held through the checks: no other fleet starts meanwhile.
    let _held = fleet.down();

    let namespaces = run_ok(Command::new("ip").args(["netns", "list"]));
    assert!(!namespaces.contains("da-fleet-"), "{namespaces}");
    let links = run_ok(Command::new("ip").args(["-o", "link", "show"]));
    assert!(!links.contains("da-fleet-"), "{links}");
    for dir in ["/run/docker-agent-fleet", "/var/lib/docker-agent-fleet"] {
        assert!(!Path::new(dir).exists(), "{dir} is left");
    }
    let left = processes_mentioning("/run/docker-agent-fleet/");
    assert!(left.is_empty(), "{left:#?}");
    let rules = run_ok(Command::new("iptables").args(["-S", "FORWARD"]));
    assert!(!rules.contains("docker-agent-fleet"), "{rules}");
}
