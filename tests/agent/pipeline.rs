//! What every request goes through: request ids and timing headers, CORS,
//! rate limits (and who counts as the client), the connection cap and
//! graceful shutdown.

use crate::util::*;
use hyper::Method;
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn every_response_carries_request_id_and_process_time() {
    let agent = Agent::start(&[]).await;
    for path in ["/api/v1/healthz", "/api/v1/containers/", "/nope"] {
        let resp = agent.get(path, None).await;
        let id = resp.header("x-request-id").expect("x-request-id");
        assert_eq!(id.len(), 36, "generated ids are UUIDs");
        let secs: f64 = resp
            .header("x-process-time")
            .expect("x-process-time")
            .parse()
            .unwrap();
        assert!(secs >= 0.0);
    }
    let echoed = agent
        .request(
            Method::GET,
            "/api/v1/healthz",
            &[("x-request-id", "trace-42.a:b_c")],
            b"",
        )
        .await;
    assert_eq!(echoed.header("x-request-id"), Some("trace-42.a:b_c"));
    let replaced = agent
        .request(
            Method::GET,
            "/api/v1/healthz",
            &[("x-request-id", "has spaces \" and quotes")],
            b"",
        )
        .await;
    assert_eq!(replaced.header("x-request-id").unwrap().len(), 36);
}

#[tokio::test]
async fn login_is_limited_to_five_per_minute_with_retry_after() {
    let agent = Agent::start(&[]).await;
    for _ in 0..5 {
        assert_eq!(agent.login_as("admin", "wrong").await.status, 401);
    }
    let resp = agent.login_as("admin", PASSWORD).await;
    assert_eq!(resp.status, 429);
    let retry: u64 = resp
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .unwrap();
    assert!((1..=12).contains(&retry), "{retry}");
    let body = resp.json();
    assert_eq!(body["detail"], "Too many requests. Please slow down.");
    assert_eq!(body["retry_after"], retry);
    assert!(resp.header("x-request-id").is_some());
}

#[tokio::test]
async fn reads_are_limited_to_sixty_and_actions_to_ten_per_minute() {
    let agent = Agent::start(&[("RATE_LIMIT_REQUESTS", "1000")]).await;
    for i in 0..60 {
        assert_eq!(
            agent.get("/api/v1/images/", None).await.status,
            401,
            "read {i}"
        );
    }
    assert_eq!(agent.get("/api/v1/images/", None).await.status, 429);
    for i in 0..10 {
        assert_eq!(
            agent.post("/api/v1/containers/x/start", None).await.status,
            401,
            "action {i}"
        );
    }
    assert_eq!(
        agent.post("/api/v1/containers/x/stop", None).await.status,
        429
    );
    assert_eq!(
        agent.get("/api/v1/healthz", None).await.status,
        200,
        "the liveness probe is never limited"
    );
}

#[tokio::test]
async fn overall_limit_follows_rate_limit_requests_and_window() {
    let agent = Agent::start(&[("RATE_LIMIT_REQUESTS", "3"), ("RATE_LIMIT_WINDOW", "30")]).await;
    for _ in 0..3 {
        assert_eq!(agent.get("/api/v1/auth/check", None).await.status, 401);
    }
    let resp = agent.get("/api/v1/auth/check", None).await;
    assert_eq!(resp.status, 429);
    assert_eq!(resp.header("retry-after"), Some("10"));
}

#[tokio::test]
async fn rate_limits_can_be_turned_off() {
    let agent = Agent::start(&[("RATE_LIMIT_ENABLED", "false")]).await;
    for _ in 0..20 {
        assert_eq!(agent.login_as("admin", PASSWORD).await.status, 200);
    }
}

async fn login_from(agent: &Agent, forwarded_for: &str) -> u16 {
    login_with_from(agent, "wrong", forwarded_for).await.status
}

async fn login_with_from(agent: &Agent, password: &str, forwarded_for: &str) -> Resp {
    let body = json!({"username": "admin", "password": password}).to_string();
    agent
        .request(
            Method::POST,
            "/api/v1/auth/login",
            &[("x-forwarded-for", forwarded_for)],
            body.as_bytes(),
        )
        .await
}

#[tokio::test]
async fn forwarded_for_counts_only_from_trusted_proxies() {
    let trusting = Agent::start(&[("TRUSTED_PROXIES", "127.0.0.1")]).await;
    for _ in 0..5 {
        assert_eq!(login_from(&trusting, "198.51.100.1").await, 401);
    }
    assert_eq!(login_from(&trusting, "198.51.100.1").await, 429);
    assert_eq!(
        login_from(&trusting, "198.51.100.2").await,
        401,
        "another client behind the proxy"
    );

    let untrusting = Agent::start(&[]).await;
    for _ in 0..5 {
        assert_eq!(login_from(&untrusting, "198.51.100.1").await, 401);
    }
    assert_eq!(
        login_from(&untrusting, "198.51.100.2").await,
        429,
        "spoofed header ignored"
    );
}

#[tokio::test]
async fn cors_wildcard_allows_any_origin_without_credentials() {
    let agent = Agent::start(&[]).await;
    let resp = agent
        .request(
            Method::GET,
            "/api/v1/healthz",
            &[("origin", "https://any.example")],
            b"",
        )
        .await;
    assert_eq!(resp.header("access-control-allow-origin"), Some("*"));
    assert_eq!(resp.header("access-control-allow-credentials"), None);
    assert!(
        resp.header("access-control-expose-headers")
            .unwrap()
            .contains("X-Request-ID")
    );
    let pre = agent
        .request(
            Method::OPTIONS,
            "/api/v1/containers/",
            &[
                ("origin", "https://any.example"),
                ("access-control-request-method", "GET"),
                ("access-control-request-headers", "authorization"),
            ],
            b"",
        )
        .await;
    assert_eq!(pre.status, 200);
    assert_eq!(pre.header("access-control-allow-origin"), Some("*"));
    assert_eq!(
        pre.header("access-control-allow-headers"),
        Some("authorization")
    );
    assert!(
        pre.header("access-control-allow-methods")
            .unwrap()
            .contains("GET")
    );
    assert_eq!(pre.header("access-control-allow-credentials"), None);
}

#[tokio::test]
async fn cors_listed_origins_get_credentials_and_others_are_refused() {
    let agent =
        Agent::start(&[("CORS_ORIGINS", "https://dash.example, https://ops.example")]).await;
    async fn preflight(agent: &Agent, origin: &str) -> Resp {
        let headers = [
            ("origin", origin),
            ("access-control-request-method", "POST"),
        ];
        agent
            .request(Method::OPTIONS, "/api/v1/containers/x/start", &headers, b"")
            .await
    }
    let ok = preflight(&agent, "https://ops.example").await;
    assert_eq!(ok.status, 200);
    assert_eq!(
        ok.header("access-control-allow-origin"),
        Some("https://ops.example")
    );
    assert_eq!(ok.header("access-control-allow-credentials"), Some("true"));
    assert_eq!(
        ok.headers.get_all("vary").iter().collect::<Vec<_>>(),
        ["Origin"],
        "Vary: Origin once"
    );
    let refused = preflight(&agent, "https://evil.example").await;
    assert_eq!(refused.status, 400);
    assert_eq!(refused.json(), json!({"detail": "Disallowed CORS origin"}));
    let plain = agent
        .request(
            Method::GET,
            "/api/v1/healthz",
            &[("origin", "https://evil.example")],
            b"",
        )
        .await;
    assert_eq!(plain.status, 200);
    assert_eq!(plain.header("access-control-allow-origin"), None);
}

#[tokio::test]
async fn in_flight_requests_finish_during_graceful_shutdown() {
    let c = Container::run(&[], &["wait"]);
    let agent = Agent::start(&[]).await;
    let token = agent.token().await;
    let addr = agent.addr;
    // A stats sample takes Docker about a second: shut down in the middle of it.
    let url = format!("/api/v1/stats/{}", c.id);
    let in_flight = agent.get(&url, Some(&token));
    let trigger = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        agent.begin_shutdown();
    };
    let (resp, ()) = tokio::join!(in_flight, trigger);
    assert_eq!(resp.status, 200);
    assert_eq!(resp.json()["container_id"], c.id);
    agent.shutdown().await;
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "no longer accepting"
    );
}

#[tokio::test]
async fn connections_beyond_max_connections_wait_for_a_free_slot() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let agent = Agent::start(&[("MAX_CONNECTIONS", "1")]).await;
    let holder = tokio::net::TcpStream::connect(agent.addr).await.unwrap();
    let (order_tx, mut order_rx) = tokio::sync::mpsc::unbounded_channel();
    let waiter = {
        let (addr, order) = (agent.addr, order_tx.clone());
        tokio::spawn(async move {
            let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
            s.write_all(b"GET /api/v1/healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
                .await
                .unwrap();
            let mut buf = Vec::new();
            s.read_to_end(&mut buf).await.unwrap();
            order.send("answered").unwrap();
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    order_tx.send("slot freed").unwrap();
    drop(holder);
    let answer = waiter.await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert_eq!(
        order_rx.recv().await,
        Some("slot freed"),
        "served only after the first connection closed"
    );
}

#[tokio::test]
async fn a_second_forwarded_for_line_cannot_hide_the_client() {
    let agent = Agent::start(&[("TRUSTED_PROXIES", "127.0.0.1")]).await;
    let body = serde_json::json!({"username": "admin", "password": "wrong"}).to_string();
    let mut statuses = Vec::new();
    for i in 0..6 {
        let spoofed = format!("10.9.9.{i}");
        let headers = [
            ("x-forwarded-for", spoofed.as_str()),
            ("x-forwarded-for", "203.0.113.7"),
        ];
        let resp = agent
            .request(
                Method::POST,
                "/api/v1/auth/login",
                &headers,
                body.as_bytes(),
            )
            .await;
        statuses.push(resp.status);
    }
    assert_eq!(
        statuses,
        [401, 401, 401, 401, 401, 429],
        "keyed on the address the proxy appended"
    );
}

/// A failed login sent over a fresh connection with `forwarded` as the raw
/// bytes of one `X-Forwarded-For` line; the response's status.
async fn login_with_raw_forwarded_for(agent: &Agent, forwarded: &[u8]) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let body = json!({"username": "admin", "password": "wrong"}).to_string();
    let mut req = b"POST /api/v1/auth/login HTTP/1.1\r\nHost: agent\r\nConnection: close\r\nX-Forwarded-For: ".to_vec();
    req.extend_from_slice(forwarded);
    req.extend_from_slice(
        format!(
            "\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    );
    let mut s = tokio::net::TcpStream::connect(agent.addr).await.unwrap();
    s.write_all(&req).await.unwrap();
    let mut answer = Vec::new();
    s.read_to_end(&mut answer).await.unwrap();
    let head = String::from_utf8_lossy(&answer);
    head.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[tokio::test]
async fn bytes_that_are_not_text_cannot_hide_the_client_behind_the_proxy() {
    let agent = Agent::start(&[("TRUSTED_PROXIES", "127.0.0.1")]).await;
    for _ in 0..5 {
        assert_eq!(
            login_with_raw_forwarded_for(&agent, b"203.0.113.7").await,
            401
        );
    }
    // The client sent `X-Forwarded-For: \xff`; its proxy appended its address.
    assert_eq!(
        login_with_raw_forwarded_for(&agent, b"\xff\xfe, 203.0.113.7").await,
        429,
        "still keyed on the address the proxy appended"
    );
}

#[tokio::test]
async fn request_headers_over_16_kib_or_100_fields_are_431() {
    let agent = Agent::start(&[]).await;
    let under = "a".repeat(15 * 1024);
    let resp = agent
        .request(Method::GET, "/api/v1/healthz", &[("x-big", &under)], b"")
        .await;
    assert_eq!(resp.status, 200, "15 KiB of headers is fine");
    let over = "a".repeat(17 * 1024);
    let resp = agent
        .request(Method::GET, "/api/v1/healthz", &[("x-big", &over)], b"")
        .await;
    assert_eq!(resp.status, 431);
    assert_eq!(
        resp.json()["detail"],
        "Request headers too large (limit 16 KiB and 100 fields)"
    );
    let names: Vec<String> = (0..101).map(|i| format!("x-field-{i}")).collect();
    let many: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "1")).collect();
    let resp = agent
        .request(Method::GET, "/api/v1/healthz", &many, b"")
        .await;
    assert_eq!(resp.status, 431, "101 fields");
}

#[tokio::test]
async fn past_50_failed_logins_a_minute_recent_failers_are_held_back_and_others_are_not() {
    let agent = Agent::start(&[("TRUSTED_PROXIES", "127.0.0.1")]).await;
    assert_eq!(login_from(&agent, "198.51.100.1").await, 401);
    // Sixty more addresses, one failure each: more than the global budget of
    // 50, with room for what refills while the test runs. Each gets its try.
    for n in 10..70 {
        assert_eq!(login_from(&agent, &format!("198.51.100.{n}")).await, 401);
    }
    assert_eq!(
        login_from(&agent, "198.51.100.10").await,
        429,
        "a second guess waits"
    );
    let login = |from| login_with_from(&agent, PASSWORD, from);
    let held = login("198.51.100.1").await;
    assert_eq!(
        held.status, 429,
        "failed recently, with its own budget left"
    );
    let retry: u64 = held.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert_eq!(
        login("198.51.100.99").await.status,
        200,
        "an address with no recent failure is not locked out"
    );
}
