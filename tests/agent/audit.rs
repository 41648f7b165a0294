//! The audit trail, read back from `AUDIT_LOG`: logins and every refused
//! credential on each surface (REST, WebSocket, MCP) with the fields an
//! operator keys on, and no secret anywhere in the file; the file's mode;
//! start errors; the same records on the log's `audit` target.

use crate::util::*;
use hyper::Method;
use serde_json::{Value, json};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Trusted by every audited agent, so clients can be told apart by `X-Forwarded-For`.
const PROXY: (&str, &str) = ("TRUSTED_PROXIES", "127.0.0.1");

/// An agent that appends its audit trail to a fresh file, and that file.
async fn audited(extra: &[(&str, &str)]) -> (Agent, PathBuf) {
    let path = temp_dir("audit").join("audit.log");
    let mut vars = vec![("AUDIT_LOG", path.to_str().unwrap()), PROXY];
    vars.extend_from_slice(extra);
    (Agent::start(&vars).await, path)
}

/// The file's records once it holds `n` (bounded wait), checked to be
/// exactly `n` lines of JSON.
async fn records(path: &Path, n: usize) -> Vec<Value> {
    for _ in 0..200 {
        let text = std::fs::read_to_string(path).unwrap();
        if text.lines().count() >= n {
            assert_eq!(text.lines().count(), n, "{text}");
            return text
                .lines()
                .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
                .collect();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("fewer than {n} records in {}", path.display());
}

/// Fails if any secret, credential or credential-carrying text is in the file.
fn assert_no_secret(path: &Path, presented: &[&str]) {
    let text = std::fs::read_to_string(path).unwrap();
    let fixed = [PASSWORD, SECRET, MCP_KEY, "Bearer", "token=", "api_key="];
    for secret in fixed.iter().chain(presented) {
        assert!(!text.contains(secret), "{secret:?} in {text}");
    }
}

/// Checks the fields every record of one kind shares.
fn assert_fields(r: &Value, surface: &str, action: &str, client: &str) {
    assert_eq!(r["surface"], surface, "{r}");
    assert_eq!(r["action"], action, "{r}");
    assert_eq!(r["client"], client, "{r}");
    assert!(r["duration_ms"].as_f64().is_some_and(|d| d >= 0.0), "{r}");
    assert!(r["time"].as_str().is_some_and(|t| t.ends_with('Z')), "{r}");
}

async fn login(agent: &Agent, client: &str, request_id: &str, user: &str, pass: &str) -> Resp {
    let body = json!({"username": user, "password": pass}).to_string();
    let headers = [
        ("content-type", "application/json"),
        ("x-forwarded-for", client),
        ("x-request-id", request_id),
    ];
    agent
        .request(
            Method::POST,
            "/api/v1/auth/login",
            &headers,
            body.as_bytes(),
        )
        .await
}

#[tokio::test]
async fn logins_are_audited_with_the_user_named_but_never_a_password() {
    let (agent, path) = audited(&[]).await;
    let client = "203.0.113.7";
    let guess = "wrong-password-guess";
    let misplaced = "password-typed-as-user";
    assert_eq!(
        login(&agent, client, "login-1", "admin", guess)
            .await
            .status,
        401
    );
    assert_eq!(
        login(&agent, client, "login-2", misplaced, PASSWORD)
            .await
            .status,
        401
    );
    let ok = login(&agent, client, "login-3", "admin", PASSWORD).await;
    assert_eq!(ok.status, 200);
    let token = ok.json()["access_token"].as_str().unwrap().to_string();

    let recs = records(&path, 3).await;
    let want = [
        (
            "login-1",
            "user:admin",
            "denied",
            json!("Invalid username or password"),
        ),
        (
            "login-2",
            "anonymous",
            "denied",
            json!("Invalid username or password"),
        ),
        ("login-3", "user:admin", "ok", Value::Null),
    ];
    for (r, (id, subject, result, reason)) in recs.iter().zip(want) {
        assert_fields(r, "rest", "login", client);
        assert_eq!(r["request_id"], id, "{r}");
        assert_eq!(r["subject"], subject, "{r}");
        assert_eq!(r["result"], result, "{r}");
        assert_eq!(r["reason"], reason, "{r}");
        assert_eq!(r["container_id"], Value::Null, "{r}");
    }
    assert_no_secret(&path, &[guess, misplaced, &token]);
}

#[tokio::test]
async fn a_rate_limited_login_is_audited_as_refused() {
    let (agent, path) = audited(&[]).await;
    let client = "198.51.100.4";
    for n in 1..=6 {
        let status = login(
            &agent,
            client,
            &format!("try-{n}"),
            "admin",
            "not-it-at-all",
        )
        .await
        .status;
        assert_eq!(status, if n <= 5 { 401 } else { 429 }, "attempt {n}");
    }
    let recs = records(&path, 6).await;
    for r in &recs[..5] {
        assert_fields(r, "rest", "login", client);
        assert_eq!(r["result"], "denied", "{r}");
    }
    let limited = &recs[5];
    assert_fields(limited, "rest", "login", client);
    assert_eq!(limited["request_id"], "try-6");
    assert_eq!(limited["result"], "refused");
    assert_eq!(limited["reason"], "Too many requests. Please slow down.");
    assert_no_secret(&path, &["not-it-at-all"]);
}

#[tokio::test]
async fn refused_bearer_tokens_are_audited_on_rest() {
    let (agent, path) = audited(&[]).await;
    let client = "192.0.2.33";
    let expired = oracle_token(
        jsonwebtoken::Algorithm::HS256,
        &json!({"sub": "admin", "exp": now() - 5}),
        SECRET.as_bytes(),
    );
    let cases = [
        (None, "Not authenticated"),
        (Some("forged.token.value"), "Invalid or expired token"),
        (Some(expired.as_str()), "Invalid or expired token"),
    ];
    for (token, _) in &cases {
        let auth = token.map(|t| format!("Bearer {t}"));
        let mut headers = vec![("x-forwarded-for", client)];
        headers.extend(auth.iter().map(|a| ("authorization", a.as_str())));
        let resp = agent
            .request(Method::POST, "/api/v1/containers/web/stop", &headers, b"")
            .await;
        assert_eq!(resp.status, 401);
    }
    let recs = records(&path, cases.len()).await;
    for (r, (_, reason)) in recs.iter().zip(cases) {
        assert_fields(r, "rest", "auth.token", client);
        assert_eq!(r["subject"], "anonymous", "{r}");
        assert_eq!(r["result"], "denied", "{r}");
        assert_eq!(r["reason"], reason, "{r}");
    }
    assert_no_secret(&path, &["forged.token.value", &expired]);
}

#[tokio::test]
async fn refused_websocket_upgrades_are_audited() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let (agent, path) = audited(&[("CORS_ORIGINS", "https://dash.example")]).await;
    let client = "203.0.113.50";
    let xff = [("x-forwarded-for", client)];
    for (query, reason) in [
        ("?token=not-a-real-token", "Invalid or expired token"),
        ("", "Not authenticated"),
    ] {
        let mut ws = agent
            .ws_with(&format!("/api/v1/events/ws{query}"), &xff)
            .await;
        assert_eq!(
            next_text(&mut ws, Duration::from_secs(10)).await,
            Err(Ending::Closed(1008, reason.into()))
        );
    }
    let token = agent.token().await;
    let mut req = format!("ws://{}/api/v1/events/ws?token={token}", agent.addr)
        .into_client_request()
        .unwrap();
    for (k, v) in [("origin", "https://evil.example"), xff[0]] {
        req.headers_mut().insert(k, v.parse().unwrap());
    }
    match tokio_tungstenite::connect_async(req).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => assert_eq!(resp.status(), 403),
        other => panic!("expected 403, got {:?}", other.map(|(_, r)| r.status())),
    }

    // The token fetched above is a successful login from 127.0.0.1.
    let recs = records(&path, 4).await;
    let refusals: Vec<&Value> = recs.iter().filter(|r| r["action"] != "login").collect();
    let reasons = [
        "Invalid or expired token",
        "Not authenticated",
        "Origin not allowed",
    ];
    assert_eq!(refusals.len(), reasons.len(), "{recs:?}");
    for (r, reason) in refusals.into_iter().zip(reasons) {
        assert_fields(r, "ws", "stream.open", client);
        assert_eq!(r["subject"], "anonymous", "{r}");
        assert_eq!(r["result"], "denied", "{r}");
        assert_eq!(r["reason"], reason, "{r}");
    }
    assert_no_secret(&path, &["not-a-real-token", &token]);
}

/// An MCP request (target, extra headers) and its status and refusal reason.
type McpCase<'a> = (&'a str, &'a [(&'a str, &'a str)], u16, &'a str);

#[tokio::test]
async fn refused_mcp_requests_are_audited() {
    let (agent, path) = audited(&[]).await;
    let client = "198.51.100.200";
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}).to_string();
    let right = format!("Bearer {MCP_KEY}");
    let cases: [McpCase; 4] = [
        ("/mcp", &[], 401, "Invalid or missing MCP API key"),
        (
            "/mcp",
            &[("authorization", "Bearer wrong-key-guess-123")],
            401,
            "Invalid or missing MCP API key",
        ),
        (
            "/mcp?api_key=wrong-query-key-456",
            &[],
            401,
            "Invalid or missing MCP API key",
        ),
        (
            "/mcp",
            &[
                ("authorization", &right),
                ("origin", "https://evil.example"),
            ],
            403,
            "Origin not allowed",
        ),
    ];
    for (target, headers, status, _) in &cases {
        let mut all = vec![("x-forwarded-for", client)];
        all.extend_from_slice(headers);
        let resp = agent
            .request(Method::POST, target, &all, body.as_bytes())
            .await;
        assert_eq!(resp.status, *status, "{target} {headers:?}");
    }
    let recs = records(&path, cases.len()).await;
    for (r, (.., reason)) in recs.iter().zip(cases) {
        assert_fields(r, "mcp", "mcp.auth", client);
        assert_eq!(r["subject"], "anonymous", "{r}");
        assert_eq!(r["result"], "denied", "{r}");
        assert_eq!(r["reason"], reason, "{r}");
    }
    assert_no_secret(&path, &["wrong-key-guess-123", "wrong-query-key-456"]);
}

#[tokio::test]
async fn the_audit_file_is_created_private_and_appended_to() {
    let path = temp_dir("audit-mode").join("audit.log");
    let agent = Agent::start(&[("AUDIT_LOG", path.to_str().unwrap())]).await;
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "created at start, before any record");
    assert_eq!(agent.login_as("admin", "no").await.status, 401);
    records(&path, 1).await;
    agent.shutdown().await;

    let again = Agent::start(&[("AUDIT_LOG", path.to_str().unwrap())]).await;
    assert_eq!(again.login_as("admin", PASSWORD).await.status, 200);
    let recs = records(&path, 2).await;
    assert_eq!(
        [&recs[0]["result"], &recs[1]["result"]],
        ["denied", "ok"],
        "the earlier record is kept"
    );
}

#[test]
fn an_audit_log_that_cannot_be_opened_stops_the_start() {
    let dir = temp_dir("audit-unopenable");
    let missing = dir.join("no-such-dir/audit.log");
    let (code, out) = Process::spawn(&dir, &[("AUDIT_LOG", missing.to_str().unwrap())]).wait_exit();
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("invalid configuration: AUDIT_LOG") && out.contains("does not exist"),
        "{out}"
    );
    // A directory owned by root, mode 0755: the unprivileged agent may not create files in it.
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let denied = dir.join("audit.log");
    let (code, out) =
        Process::spawn_as_nobody(&dir, &[("AUDIT_LOG", denied.to_str().unwrap())]).wait_exit();
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("AUDIT_LOG") && out.contains("Permission denied"),
        "{out}"
    );
    assert!(!denied.exists());
}

#[tokio::test]
async fn records_reach_the_audit_log_target_and_a_loose_file_is_reported() {
    let dir = temp_dir("audit-binary");
    let path = dir.join("audit.log");
    std::fs::write(&path, "").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let env = [
        ("AUDIT_LOG", path.to_str().unwrap()),
        ("API_PASSWORD", PASSWORD),
        ("SECRET_KEY", SECRET),
        ("MCP_API_KEY", MCP_KEY),
    ];
    let mut agent = Process::spawn(&dir, &env);
    let warning = agent.wait_line("AUDIT_LOG is readable or writable by other users");
    assert!(warning.contains("(mode 644)"), "{warning}");
    let client = Agent::at(agent.address().parse().unwrap());
    assert_eq!(client.login_as("admin", "a-wrong-guess").await.status, 401);
    let line = agent.wait_line(r#""target":"audit""#);
    let (code, _) = agent.terminate();
    assert_eq!(code, 0);

    let logged: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(logged["level"], "INFO");
    let filed: Value =
        serde_json::from_str(std::fs::read_to_string(&path).unwrap().trim()).unwrap();
    for key in [
        "action",
        "client",
        "request_id",
        "result",
        "subject",
        "surface",
    ] {
        assert_eq!(logged[key], filed[key], "{key}: {line}");
    }
    assert_eq!(
        (&filed["action"], &filed["result"], &filed["client"]),
        (&json!("login"), &json!("denied"), &json!("127.0.0.1"))
    );
    assert_no_secret(&path, &["a-wrong-guess"]);
}

/// The records of `action` in `all`.
fn of<'a>(all: &'a [Value], action: &str) -> Vec<&'a Value> {
    all.iter().filter(|r| r["action"] == action).collect()
}

#[tokio::test]
async fn actions_on_containers_and_policy_refusals_are_audited_on_every_surface() {
    let c = Container::run(&[], &["every:1000"]);
    let hidden = Container::run(&[], &["every:1000"]);
    let reader = docker_agent::policy::tokens::generate();
    let tokens = tokens_file(&[("viewer", docker_agent::policy::Role::Read, &reader)]);
    let names = format!("{},nothing-else", c.name);
    let (agent, path) = audited(&[
        ("API_TOKENS_FILE", tokens.to_str().unwrap()),
        ("SCOPE_NAMES", &names),
    ])
    .await;
    let jwt = agent.token().await; // login: record 1

    // REST: a stop that happens, by the login user.
    let stopped = agent
        .post(&format!("/api/v1/containers/{}/stop", c.name), Some(&jwt))
        .await;
    assert_eq!(stopped.status, 200, "{}", stopped.json());
    // MCP: a restart the read token may not do.
    let refused = agent
        .mcp_tool(
            &reader,
            "restart_container",
            json!({"container_id": c.name}),
        )
        .await;
    assert_eq!(refused["isError"], true, "{refused}");
    // WebSocket: a stream of a container outside the scope.
    let mut ws = agent
        .ws(&format!("/api/v1/logs/ws/{}?token={jwt}", hidden.name))
        .await;
    let (_, ended) = read_all(&mut ws, Duration::from_secs(20)).await;
    assert!(matches!(ended, Ending::Closed(4404, _)), "{ended:?}");

    let all = records(&path, 4).await;
    let stop = of(&all, "container.stop");
    assert_eq!(stop.len(), 1, "{all:?}");
    assert_fields(stop[0], "rest", "container.stop", "127.0.0.1");
    assert_eq!(stop[0]["subject"], "user:admin");
    assert_eq!(stop[0]["result"], "ok");
    assert_eq!(stop[0]["container_id"], c.id.as_str());
    assert_eq!(stop[0]["container_name"], c.name.as_str());
    let restart = of(&all, "container.restart");
    assert_eq!(restart.len(), 1, "{all:?}");
    assert_fields(restart[0], "mcp", "container.restart", "127.0.0.1");
    assert_eq!(restart[0]["subject"], "token:viewer");
    assert_eq!(restart[0]["result"], "denied");
    assert!(
        restart[0]["reason"].as_str().unwrap().contains("'read'"),
        "{}",
        restart[0]
    );
    let stream = of(&all, "follow_logs");
    assert_eq!(stream.len(), 1, "{all:?}");
    assert_fields(stream[0], "ws", "follow_logs", "127.0.0.1");
    assert_eq!(stream[0]["result"], "refused");
    assert_eq!(stream[0]["container_id"], hidden.id.as_str());
    assert_no_secret(&path, &[&reader, &jwt]);
}
