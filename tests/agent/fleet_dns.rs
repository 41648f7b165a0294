//! A front door that finds its members through DNS (`FLEET_DNS`), as on a
//! Swarm or behind a Kubernetes headless Service: the addresses the name
//! gives at each probe round become members (its own address dropped), one
//! it no longer gives is listed with why until it is forgotten, and a
//! member that appears while a merged events stream is open joins that
//! stream. The door resolves from a hosts file of the test's, changed in
//! place while it runs.

use crate::front_door::{hosts_when, is, read_until, state_of};
use crate::util::*;
use std::io::Write;

const NAME: &str = "members.fleet.test";

#[tokio::test]
async fn a_front_door_finds_its_members_by_dns_and_its_merged_stream_takes_in_one_that_appears() {
    let dir = certificates(&["one", "two", "three"]);
    let mut fleet = Fleet::start_with(3, |k| {
        let name = ["one", "two", "three"][k - 1];
        let mut env = member_env(&dir, name);
        env.push(("FLEET_NAME".into(), name.into()));
        if k == 1 {
            env.push(("FLEET_DNS".into(), format!("{NAME}:9001")));
        }
        env
    });
    // The name gives the door's own address and host two's.
    let hosts = dir.join("hosts");
    std::fs::write(&hosts, format!("10.231.1.2 {NAME}\n10.231.2.2 {NAME}\n")).unwrap();
    fleet.hosts[0].resolve_from(&hosts);
    let door = Agent::at(fleet.host(1).agent.addr);
    let token = door.token().await;
    let listed = hosts_when(&door, &token, |h| {
        h.len() == 2 && state_of(h, "two")["state"] == "up"
    })
    .await;
    assert_eq!(
        listed[0]["name"], "one",
        "its own address is itself: {listed:#?}"
    );
    let two = state_of(&listed, "two");
    assert_eq!(two["source"], "dns", "{two:#}");
    assert_eq!(two["address"], "10.231.2.2:9001", "{two:#}");
    let id = fleet
        .host(2)
        .daemon
        .docker(&["info", "--format", "{{.ID}}"]);
    assert_eq!(two["id"], id.trim(), "{two:#}");

    let mut merged = door
        .ws(&format!(
            "/api/v1/events/ws?host=*&type=container&token={token}"
        ))
        .await;
    // Host three's address appears under the name, as a new task would.
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&hosts)
        .unwrap();
    writeln!(file, "10.231.3.2 {NAME}").unwrap();
    drop(file);
    let listed = hosts_when(&door, &token, |h| state_of(h, "three")["state"] == "up").await;
    let three = state_of(&listed, "three");
    assert_eq!(three["source"], "dns", "{three:#}");
    assert_eq!(three["address"], "10.231.3.2:9001", "{three:#}");
    read_until(&mut merged, "host three joining the stream", |e| {
        e["Type"] == "agent" && e["Action"] == "host-joined" && e["host"] == "three"
    })
    .await;
    let c = Container::run_on(&fleet.host(3).daemon, &[], &["wait"]);
    read_until(&mut merged, "host three's create", |e| {
        is(e, "three", "create", &c.id)
    })
    .await;

    // Host two's address is no longer given: still listed, saying why.
    std::fs::write(&hosts, format!("10.231.1.2 {NAME}\n10.231.3.2 {NAME}\n")).unwrap();
    let listed = hosts_when(&door, &token, |h| {
        let reason = state_of(h, "two")["reason"].as_str().unwrap_or_default();
        reason.contains("FLEET_DNS no longer gives its address")
    })
    .await;
    assert_eq!(listed.len(), 3, "forgotten only after 5 min: {listed:#?}");
    fleet.down();
}
