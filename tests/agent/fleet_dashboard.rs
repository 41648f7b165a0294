//! The dashboard of a fleet: a browser's stream through the front door is
//! held to the origin of the page it came from, as the owner's own check
//! decides (three hosts of the fleet harness, host 1 the front door).

use crate::util::*;

/// Host K's settings: a member of the fleet, host 1 naming `peers`.
fn settings(dir: &std::path::Path, k: usize, peers: &str) -> Vec<(String, String)> {
    let mut env = member_env(dir, ["one", "two", "three"][k - 1]);
    env.push(("RATE_LIMIT_ENABLED".into(), "false".into()));
    if k == 1 {
        env.push(("FLEET_PEERS".into(), peers.into()));
    }
    env
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
