//! The dashboard of a fleet, in a real headless Chromium that talks to the
//! front door alone: three hosts of the fleet harness, host 1 naming the
//! others in `FLEET_PEERS`. The picker lists the hosts; picked, host two's
//! containers, the events that keep its list live, a container's logs and
//! stats and the stop button all go through the door to host two's agent,
//! and the host stays in the URL across a reload. The overview shows each
//! host's state and figures, and a host whose agent stops as unreachable
//! with its reason, which its pages then show instead of failing; axe-core
//! finds nothing wrong with the overview, which fits a phone. And a
//! browser's stream through the door is held to the origin of its page.

use crate::dashboard::{open_row, page_state, row_state, sign_in};
use crate::util::*;
use serde_json::Value;

const PEERS: &str = "two=https://10.231.2.2:9001,three=https://10.231.3.2:9001";

/// Host K's settings: a member of the fleet, host 1 naming `peers`.
fn settings(dir: &std::path::Path, k: usize, peers: &str) -> Vec<(String, String)> {
    let mut env = member_env(dir, ["one", "two", "three"][k - 1]);
    env.push(("RATE_LIMIT_ENABLED".into(), "false".into()));
    if k == 1 {
        env.push(("FLEET_PEERS".into(), peers.into()));
    }
    env
}

/// The overview's rows as shown, `[host, state, reason, containers,
/// CPUs]` each, once `ready` (a condition on `rows`) holds.
async fn overview_when(b: &Browser, what: &str, ready: &str) -> Vec<Vec<String>> {
    let script = format!(
        "const rows = [...document.querySelectorAll('#hrows tr')].map(r => [
           r.cells[0].querySelector('a').textContent,
           r.cells[1].querySelector('.st').textContent,
           (r.cells[1].querySelector('small') || {{}}).textContent || '',
           r.cells[3].textContent, r.cells[4].textContent]);
         return !document.getElementById('fleet').hidden && ({ready}) && rows"
    );
    serde_json::from_value(b.wait_for(what, &script).await).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_fleet_the_dashboard_picks_a_host_and_works_for_it_through_the_front_door() {
    let dir = certificates(&["one", "two", "three"]);
    let mut fleet = Fleet::start_with(3, |k| settings(&dir, k, PEERS));
    let door = Agent::at(fleet.host(1).agent.addr);
    let two = fleet.host(2).daemon.clone();
    let c = Container::run_on(&two, &[], &["lines:5", "err:on two only", "every:300"]);
    let b = Browser::open(1280, 800, true).await;

    sign_in(&b, &door, PASSWORD).await;
    let picker = "const p = document.getElementById('pick'), t = [...p.options].map(o => o.text);
        return !p.hidden && t.includes('two') && t.includes('three') && t";
    let options = b.wait_for("the picker with two and three up", picker).await;
    assert_eq!(options[0], "All hosts", "{options}");
    assert_eq!(options.as_array().unwrap().len(), 4, "{options}");
    b.wait_for(
        "this host's list",
        "return document.getElementById('count').textContent != ''",
    )
    .await;
    let here = format!("//tr[td[text()='{}']]", c.name);
    let mine = format!("return document.evaluate(\"{here}\", document).iterateNext() == null");
    assert_eq!(b.run(&mine).await, true, "not on the front door's daemon");

    b.click("#pick option[value=two]").await;
    assert_eq!(row_state(&b, &c.name).await, "running");
    assert_eq!(b.run("return location.hash").await, "#/h/two/");
    let host = "return /^two · Docker .* · ok · \\d+\\/\\d+ running$/.test(document.getElementById('host').textContent)";
    b.wait_for("host two's version and health", host).await;

    // Host two's events keep its list live, through the door.
    b.run("window.sameDocument = true").await;
    let later = Container::run_on(&two, &[], &["wait"]);
    let started = format!(
        "return [...document.querySelectorAll('#rows tr')].some(r => r.cells[0].textContent == '{}'
           && r.cells[1].querySelector('.st').textContent == 'running')",
        later.name
    );
    b.wait_for("the new container running in the list", &started)
        .await;
    assert_eq!(b.run("return window.sameDocument").await, true, "no reload");

    // A reload keeps the host.
    b.run("location.reload()").await;
    assert_eq!(row_state(&b, &c.name).await, "running");
    assert_eq!(
        b.run("return document.getElementById('pick').value").await,
        "two"
    );

    open_row(&b, &c.name).await;
    let ticks = "return document.getElementById('logs').textContent.includes('tick 2')";
    b.wait_for("host two's log lines", ticks).await;
    let shown: Vec<String> = serde_json::from_value(
        b.run(
            "return [...document.querySelectorAll('#logs div')].map(d => d.lastChild.textContent)",
        )
        .await,
    )
    .unwrap();
    assert!(shown.contains(&"on two only".to_string()), "{shown:?}");
    let outs: Vec<&String> = shown.iter().filter(|l| *l != "on two only").collect();
    assert_eq!(
        outs[..5],
        ["line 1", "line 2", "line 3", "line 4", "line 5"],
        "{shown:?}"
    );
    b.wait_for(
        "a stats sample of host two's container",
        "return /CPU \\d/.test(document.getElementById('now').textContent)",
    )
    .await;
    assert!(
        b.displayed("#acts").await,
        "an admin of host two gets the actions"
    );
    b.click("#acts [data-a=stop]").await;
    page_state(&b, "exited").await;
    assert_eq!(c.status(), "exited", "stopped on host two's daemon");
    let hash = b.run("return location.hash").await;
    assert!(hash.as_str().unwrap().starts_with("#/h/two/c/"), "{hash}");

    // The overview: every host up, with its figures.
    b.click("#pick option[value='*']").await;
    let ready = "rows.length == 3 && rows.every(r => r[1] == 'up' && r[4] != '')";
    let rows = overview_when(&b, "the overview with every host up", ready).await;
    assert_eq!(rows[1][0], "two");
    assert_eq!(rows[2][0], "three");
    assert!(rows.iter().all(|r| r[3].ends_with(" running")), "{rows:?}");

    // Host three's agent stops: unreachable, and why.
    fleet.hosts[2].kill_agent();
    let ready = "rows[2][1] == 'unreachable' && rows[2][2] != ''";
    let rows = overview_when(&b, "host three unreachable", ready).await;
    assert!(rows[2][2].contains("connection refused"), "{rows:?}");
    assert_eq!(rows[1][1], "up", "{rows:?}");
    b.screenshot("desktop-fleet").await;
    let violations = b.accessibility_violations().await;
    assert_eq!(violations, Vec::<Value>::new(), "axe-core on the overview");

    b.click("//a[text()='three']").await;
    let why = "return !document.getElementById('down').hidden && document.getElementById('dwhy').textContent";
    let said = b.wait_for("host three's reason", why).await;
    assert!(
        said.as_str().unwrap().contains("connection refused"),
        "{said}"
    );
    assert!(!b.displayed("#list").await, "no broken list");
    assert_eq!(b.text("#dstate").await, "unreachable");
    b.close().await;

    // On a phone, the overview fits the screen.
    let phone = Browser::open(390, 844, true).await;
    sign_in(&phone, &door, PASSWORD).await;
    let shown = "return !document.getElementById('pick').hidden";
    phone.wait_for("the picker", shown).await;
    phone.click("#pick option[value='*']").await;
    overview_when(&phone, "the overview", "rows.length == 3").await;
    let fits = "return innerWidth == 390 && document.documentElement.scrollWidth <= innerWidth";
    assert_eq!(
        phone.run(fits).await,
        true,
        "no sideways scrolling on a phone"
    );
    phone.screenshot("phone-fleet").await;
    phone.close().await;
    drop((c, later));
    fleet.down();
}

/// Opens a stream of `door` with `headers`; the status of its answer.
async fn upgrade_status(door: &Agent, path: &str, headers: &[(&str, &str)]) -> u16 {
    use tokio_tungstenite::tungstenite::{Error, client::IntoClientRequest};
    let mut req = door
        .url(path)
        .replacen("http", "ws", 1)
        .into_client_request()
        .unwrap();
    for (name, value) in headers {
        let name = hyper::header::HeaderName::from_bytes(name.as_bytes()).unwrap();
        req.headers_mut().insert(name, value.parse().unwrap());
    }
    match tokio_tungstenite::connect_async(req).await {
        Ok((_, resp)) => resp.status().as_u16(),
        Err(Error::Http(resp)) => resp.status().as_u16(),
        Err(e) => panic!("{path}: {e}"),
    }
}

#[tokio::test]
async fn through_the_front_door_a_browser_s_stream_is_held_to_the_origin_its_page_came_from() {
    let dir = certificates(&["one", "two"]);
    let fleet = Fleet::start_with(2, |k| {
        let mut env = settings(&dir, k, "two=https://10.231.2.2:9001");
        if k == 2 {
            env.push(("CORS_ORIGINS".into(), "https://dash.example".into()));
        }
        env
    });
    let door = &fleet.host(1).agent;
    let token = door.token().await;
    let path = format!("/api/v1/hosts/two/events/ws?token={token}&type=container");
    let mut tries = 0;
    while door
        .get("/api/v1/hosts/two/health", Some(&token))
        .await
        .status
        != 200
    {
        tries += 1;
        assert!(tries < 60, "host two never answered through the door");
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    let page = format!("http://{}", door.addr);
    assert_eq!(
        upgrade_status(door, &path, &[("origin", &page)]).await,
        101,
        "the page the front door served"
    );
    let listed = [("origin", "https://dash.example")];
    assert_eq!(
        upgrade_status(door, &path, &listed).await,
        101,
        "the owner's CORS_ORIGINS"
    );
    let foreign = [("origin", "https://evil.example")];
    assert_eq!(upgrade_status(door, &path, &foreign).await, 403);
    let claimed = [
        ("origin", "https://evil.example"),
        ("x-forwarded-host", "evil.example"),
    ];
    assert_eq!(
        upgrade_status(door, &path, &claimed).await,
        403,
        "a caller's own X-Forwarded-Host is not believed"
    );
    assert_eq!(upgrade_status(door, &path, &[]).await, 101, "not a browser");
    fleet.down();
}
