//! Error paths: unknown container ids, unknown routes, and a Docker daemon
//! that is missing, hung, or restarting. Hostile ids are rows of
//! [`crate::hostile_table`].

use crate::util::*;
use hyper::Method;
use serde_json::json;

#[tokio::test]
async fn unknown_container_is_404_on_every_route() {
    let agent = Agent::start(&[]).await;
    let token = agent.token().await;
    let id = "no-such-container-anywhere";
    let expect = json!({"detail": format!("Container '{id}' not found")});
    for path in [
        format!("/api/v1/containers/{id}"),
        format!("/api/v1/containers/{id}/logs"),
        format!("/api/v1/stats/{id}"),
    ] {
        let resp = agent.get(&path, Some(&token)).await;
        assert_eq!((resp.status, resp.json()), (404, expect.clone()), "{path}");
    }
    for action in ["start", "stop", "restart"] {
        let resp = agent
            .post(&format!("/api/v1/containers/{id}/{action}"), Some(&token))
            .await;
        assert_eq!(
            (resp.status, resp.json()),
            (404, expect.clone()),
            "{action}"
        );
    }
}

#[tokio::test]
async fn unknown_routes_are_404_and_wrong_methods_405() {
    let agent = Agent::start(&[]).await;
    let token = agent.token().await;
    for path in [
        "/ui/nothing",
        "/api/v2/containers/",
        "/api/v1/nothing",
        "/api/v1/containers/x/frobnicate",
        "/docs",
    ] {
        let resp = agent.get(path, Some(&token)).await;
        assert_eq!(
            (resp.status, resp.json()),
            (404, json!({"detail": "Not Found"})),
            "{path}"
        );
        assert!(resp.header("x-request-id").is_some());
    }
    let resp = agent
        .request(Method::PUT, "/api/v1/containers/x", &[], b"")
        .await;
    assert_eq!(resp.status, 405);
    assert_eq!(resp.header("allow"), Some("GET, DELETE"));
    assert_eq!(resp.json(), json!({"detail": "Method Not Allowed"}));
    let resp = agent.get("/api/v1/auth/login", None).await;
    assert_eq!((resp.status, resp.header("allow")), (405, Some("POST")));
    let resp = agent
        .request(Method::GET, "/api/v1/containers/x/start", &[], b"")
        .await;
    assert_eq!(resp.status, 405);
}

#[tokio::test]
async fn docker_unavailable_is_503_and_healthz_degraded() {
    let missing = temp_socket("missing");
    let host = format!("unix://{}", missing.display());
    let agent = Agent::start(&[("DOCKER_HOST", &host)]).await;
    let token = agent.token().await;
    let healthz = agent.get("/api/v1/healthz", None).await;
    assert_eq!(healthz.status, 200);
    assert_eq!(
        healthz.json(),
        json!({"status": "degraded", "docker_connected": false,
               "docker_error": "cannot open the Docker socket: not found"}),
        "the open probe says why, without the path"
    );
    let detail = format!(
        "Docker service is unavailable: cannot open the Docker socket {}: not found \
         — start the Docker daemon, mount its socket \
         (docker run -v /var/run/docker.sock:/var/run/docker.sock) or set DOCKER_HOST",
        missing.display()
    );
    for path in [
        "/api/v1/containers/",
        "/api/v1/images/",
        "/api/v1/version",
        "/api/v1/containers/web",
        "/api/v1/stats/web",
    ] {
        let resp = agent.get(path, Some(&token)).await;
        assert_eq!(
            (resp.status, resp.json()),
            (503, json!({"detail": detail})),
            "{path}"
        );
    }
    assert_eq!(
        agent
            .post("/api/v1/containers/web/start", Some(&token))
            .await
            .status,
        503
    );
    let health = agent.get("/api/v1/health", Some(&token)).await.json();
    assert_eq!(health["status"], "degraded");
    assert_eq!(health["docker_connected"], false);
    assert_eq!(health["error"], detail.as_str());
}

/// The 503 detail and the open probe's reason for a daemon at `host`.
async fn unreachable_reasons(host: &str) -> (String, String) {
    let agent = Agent::start(&[("DOCKER_HOST", host)]).await;
    let token = agent.token().await;
    let resp = agent.get("/api/v1/containers/", Some(&token)).await;
    assert_eq!(resp.status, 503);
    let healthz = agent.get("/api/v1/healthz", None).await.json();
    assert_eq!(healthz["docker_connected"], false);
    (
        resp.json()["detail"].as_str().unwrap().to_string(),
        healthz["docker_error"].as_str().unwrap().to_string(),
    )
}

#[tokio::test]
async fn a_socket_nobody_listens_on_is_connection_refused() {
    let path = temp_socket("refused");
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
    let (detail, reason) = unreachable_reasons(&format!("unix://{}", path.display())).await;
    assert_eq!(
        detail,
        format!(
            "Docker service is unavailable: cannot open the Docker socket {}: connection refused \
             — no daemon is listening on it; start the Docker daemon or set DOCKER_HOST",
            path.display()
        )
    );
    assert_eq!(reason, "cannot open the Docker socket: connection refused");
    let _ = std::fs::remove_file(&path);
}

#[tokio::test]
async fn a_tcp_address_nobody_listens_on_is_connection_refused() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (detail, reason) = unreachable_reasons(&format!("tcp://127.0.0.1:{port}")).await;
    assert_eq!(
        detail,
        format!(
            "Docker service is unavailable: cannot reach the Docker daemon at tcp://127.0.0.1:{port}: \
             connection refused — check that the daemon listens there or set DOCKER_HOST"
        )
    );
    assert_eq!(reason, "cannot reach the Docker daemon: connection refused");
}

#[tokio::test]
async fn hung_daemon_times_out_with_504() {
    let path = temp_socket("hung");
    let _daemon = hung_daemon(&path);
    let host = format!("unix://{}", path.display());
    let agent = Agent::start(&[("DOCKER_HOST", &host), ("DOCKER_TIMEOUT", "1")]).await;
    let token = agent.token().await;
    let resp = agent.get("/api/v1/containers/", Some(&token)).await;
    assert_eq!(resp.status, 504);
    assert_eq!(
        resp.json(),
        json!({"detail": "Docker did not respond in time"})
    );
    let healthz = agent.get("/api/v1/healthz", None).await.json();
    assert_eq!(healthz["status"], "degraded");
    assert_eq!(
        healthz["docker_error"],
        "the Docker daemon did not answer in time"
    );
    let _ = std::fs::remove_file(&path);
}

#[tokio::test]
async fn agent_recovers_by_itself_when_the_daemon_restarts() {
    let path = temp_socket("restart");
    let mut proxy = DaemonProxy::start(&path);
    let host = format!("unix://{}", path.display());
    let agent = Agent::start(&[("DOCKER_HOST", &host), ("RATE_LIMIT_ENABLED", "false")]).await;
    let token = agent.token().await;
    assert_eq!(
        agent.get("/api/v1/containers/", Some(&token)).await.status,
        200
    );

    proxy.stop().await;
    assert_eq!(
        agent.get("/api/v1/containers/", Some(&token)).await.status,
        503
    );
    assert_eq!(
        agent.get("/api/v1/healthz", None).await.json()["status"],
        "degraded"
    );

    let _proxy = DaemonProxy::start(&path);
    assert_eq!(
        agent.get("/api/v1/healthz", None).await.json()["status"],
        "ok"
    );
    let resp = agent.get("/api/v1/containers/", Some(&token)).await;
    assert_eq!(resp.status, 200, "{:?}", resp.body);
    assert_eq!(agent.get("/api/v1/version", Some(&token)).await.status, 200);
}

#[tokio::test]
async fn docker_over_tcp_works() {
    let (addr, _proxy) = tcp_daemon_proxy().await;
    let host = format!("tcp://{addr}");
    let agent = Agent::start(&[("DOCKER_HOST", &host)]).await;
    let token = agent.token().await;
    assert_eq!(
        agent.get("/api/v1/healthz", None).await.json()["status"],
        "ok"
    );
    let resp = agent.get("/api/v1/containers/", Some(&token)).await;
    assert_eq!(resp.status, 200);
    assert!(resp.json()["total"].is_u64());
}

async fn api_path_used_with(max: &str, min: &str) -> String {
    let path = temp_socket("engine");
    let engine = ScriptedEngine::start(&path, max, min);
    let host = format!("unix://{}", path.display());
    let agent = Agent::start(&[("DOCKER_HOST", &host)]).await;
    let token = agent.token().await;
    let resp = agent.get("/api/v1/containers/", Some(&token)).await;
    assert_eq!(resp.status, 200, "{:?}", resp.body);
    let _ = std::fs::remove_file(&path);
    let lines = engine.lines();
    assert_eq!(
        lines[0], "GET /version HTTP/1.1",
        "negotiates first, unversioned"
    );
    lines[1].clone()
}

#[tokio::test]
async fn api_version_is_negotiated_with_newer_engines() {
    let newer = api_path_used_with("1.52", "1.44").await;
    assert_eq!(newer, "GET /v1.47/containers/json?all=1 HTTP/1.1");
    let raised_minimum = api_path_used_with("1.60", "1.50").await;
    assert_eq!(raised_minimum, "GET /v1.50/containers/json?all=1 HTTP/1.1");
    let engine_20_10 = api_path_used_with("1.41", "1.12").await;
    assert_eq!(engine_20_10, "GET /v1.41/containers/json?all=1 HTTP/1.1");
}

#[tokio::test]
async fn an_engine_upgrade_is_noticed_and_negotiated_again() {
    let path = temp_socket("upgrade");
    let engine = ScriptedEngine::start(&path, "1.41", "1.12");
    let host = format!("unix://{}", path.display());
    let agent = Agent::start(&[("DOCKER_HOST", &host)]).await;
    let token = agent.token().await;
    assert_eq!(
        agent.get("/api/v1/containers/", Some(&token)).await.status,
        200
    );
    engine.set("1.52", "1.44");
    let resp = agent.get("/api/v1/containers/", Some(&token)).await;
    assert_eq!(resp.status, 200, "{:?}", resp.body);
    let lines = engine.lines();
    assert_eq!(
        lines.last().unwrap(),
        "GET /v1.47/containers/json?all=1 HTTP/1.1"
    );
    engine.set("1.41", "1.24");
    assert_eq!(
        agent.get("/api/v1/containers/", Some(&token)).await.status,
        200,
        "and a downgrade too"
    );
    let _ = std::fs::remove_file(&path);
}

#[tokio::test]
async fn the_open_health_probe_cannot_flood_the_daemon() {
    let path = temp_socket("probe");
    let proxy = DaemonProxy::start(&path);
    let host = format!("unix://{}", path.display());
    let agent = Agent::start(&[("DOCKER_HOST", &host)]).await;
    for _ in 0..50 {
        assert_eq!(
            agent.get("/api/v1/healthz", None).await.json()["status"],
            "ok"
        );
    }
    let pings = proxy
        .request_lines()
        .iter()
        .filter(|l| l.contains("/_ping"))
        .count();
    assert!((1..10).contains(&pings), "{pings} pings for 50 probes");
}

#[tokio::test]
async fn a_panic_in_one_request_fails_that_request_alone() {
    let c = Container::create(&[], &["wait"]);
    let agent = Agent::start(&[]).await;
    let token = agent.token().await;
    let mut ws = agent
        .ws(&format!(
            "/api/v1/events/ws?token={token}&type=container&container={}",
            c.id
        ))
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;

    let auth = format!("Bearer {token}");
    let headers = [("authorization", auth.as_str()), ("x-test-panic", "1")];
    let resp = agent
        .request(Method::GET, "/api/v1/containers/", &headers, b"")
        .await;
    assert_eq!(
        (resp.status, resp.json()),
        (500, json!({"detail": "Internal server error"}))
    );
    assert!(resp.header("x-request-id").is_some());

    let list = agent
        .get("/api/v1/containers/?all=true", Some(&token))
        .await;
    assert_eq!(list.status, 200, "the agent goes on serving");
    docker(&["start", &c.id]);
    let event: serde_json::Value = serde_json::from_str(
        &next_text(&mut ws, std::time::Duration::from_secs(10))
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        (&event["Action"], &event["id"]),
        (&json!("start"), &json!(c.id)),
        "a stream opened before the panic still delivers"
    );
}
