//! MCP over real HTTP: admission, the JSON-RPC layer, both Streamable HTTP
//! eras, the legacy SSE transport, the tools against real containers, and
//! the official Python SDK as an independent client on every transport.

use crate::memory::wait_for_log;
use crate::util::*;
use docker_agent::policy::{Role, tokens};
use hyper::Method;
use serde_json::{Value, json};
use std::time::Duration;

const MODERN: &str = "2026-07-28";

pub fn bearer() -> String {
    format!("Bearer {MCP_KEY}")
}

/// POSTs a JSON-RPC body to `/mcp` with the key and extra headers.
pub async fn post(agent: &Agent, body: &Value, headers: &[(&str, &str)]) -> Resp {
    let auth = bearer();
    let mut all = vec![
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
    ];
    all.extend_from_slice(headers);
    agent
        .request(Method::POST, "/mcp", &all, body.to_string().as_bytes())
        .await
}

pub fn meta() -> Value {
    json!({"io.modelcontextprotocol/protocolVersion": MODERN, "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "1"}, "io.modelcontextprotocol/clientCapabilities": {}})
}

/// `DELETE /mcp` for `session`.
pub async fn end_session(agent: &Agent, session: &str) -> Resp {
    let auth = bearer();
    let headers = [
        ("authorization", auth.as_str()),
        ("mcp-session-id", session),
    ];
    agent.request(Method::DELETE, "/mcp", &headers, b"").await
}

/// POSTs a raw body to `/mcp` with the key.
async fn raw(agent: &Agent, body: &str) -> Resp {
    let auth = bearer();
    agent
        .request(
            Method::POST,
            "/mcp",
            &[("authorization", auth.as_str())],
            body.as_bytes(),
        )
        .await
}

/// A stateless 2026-07-28 request with correct headers.
pub async fn modern(agent: &Agent, method: &str, mut params: Value) -> Resp {
    params["_meta"] = meta();
    let name = params
        .get("name")
        .and_then(Value::as_str)
        .map(str::to_string);
    let mut headers = vec![("mcp-protocol-version", MODERN), ("mcp-method", method)];
    if let Some(n) = name.as_deref() {
        headers.push(("mcp-name", n));
    }
    post(
        agent,
        &json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}),
        &headers,
    )
    .await
}

/// Opens a handshake-era session; returns its id.
pub async fn initialize(agent: &Agent, version: &str) -> String {
    let body = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {"protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
    let resp = post(agent, &body, &[]).await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.json()["result"]["protocolVersion"], version);
    resp.header("mcp-session-id")
        .expect("a session id")
        .to_string()
}

pub async fn in_session(agent: &Agent, session: &str, version: &str, body: &Value) -> Resp {
    post(
        agent,
        body,
        &[
            ("mcp-session-id", session),
            ("mcp-protocol-version", version),
        ],
    )
    .await
}

fn call(id: u64, tool: &str, args: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": tool, "arguments": args}})
}

#[tokio::test]
async fn the_api_key_is_required_in_header_or_query() {
    let agent = Agent::start(&[]).await;
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}).to_string();
    for headers in [
        vec![],
        vec![("authorization", "Bearer wrong-key-wrong-key")],
    ] {
        let resp = agent
            .request(Method::POST, "/mcp", &headers, body.as_bytes())
            .await;
        assert_eq!(resp.status, 401);
        assert_eq!(resp.header("www-authenticate"), Some("Bearer"));
        assert_eq!(
            resp.json(),
            json!({"detail": "Invalid or missing MCP API key"})
        );
    }
    assert_eq!(
        agent
            .request(Method::GET, "/mcp/sse", &[], b"")
            .await
            .status,
        401
    );
    let by_query = agent
        .request(
            Method::POST,
            &format!("/mcp?api_key={MCP_KEY}"),
            &[],
            body.as_bytes(),
        )
        .await;
    assert_eq!(
        by_query.status, 400,
        "admitted (then refused for lack of a session)"
    );
    let bare = agent
        .request(
            Method::POST,
            "/mcp",
            &[("authorization", MCP_KEY)],
            body.as_bytes(),
        )
        .await;
    assert_eq!(
        bare.status, 400,
        "a bare key in Authorization is accepted, as before"
    );
}

#[tokio::test]
async fn foreign_origins_and_hosts_are_refused() {
    let agent = Agent::start(&[("CORS_ORIGINS", "https://inspector.example")]).await;
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"});
    let evil = post(&agent, &body, &[("origin", "https://evil.example")]).await;
    assert_eq!(
        (evil.status, evil.json()),
        (403, json!({"detail": "Origin not allowed"}))
    );
    assert_eq!(
        post(&agent, &body, &[("origin", "https://inspector.example")])
            .await
            .status,
        400
    );
    let own = format!("http://{}", agent.addr);
    assert_eq!(
        post(&agent, &body, &[("origin", &own)]).await.status,
        400,
        "same origin is fine"
    );
    let rebinding = post(&agent, &body, &[("host", "attacker.example:9000")]).await;
    assert_eq!(
        (rebinding.status, rebinding.json()),
        (403, json!({"detail": "Host not allowed"}))
    );
    let wildcard = Agent::start(&[]).await;
    assert_eq!(
        post(&wildcard, &body, &[("origin", "https://evil.example")])
            .await
            .status,
        403,
        "CORS * does not open MCP"
    );
}

#[tokio::test]
async fn mcp_can_be_turned_off() {
    let agent = Agent::start(&[("MCP_ENABLED", "false")]).await;
    assert_eq!(post(&agent, &json!({}), &[]).await.status, 404);
    assert_eq!(
        agent
            .request(
                Method::GET,
                "/mcp/sse",
                &[("authorization", &bearer())],
                b""
            )
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn json_rpc_errors_land_where_the_spec_puts_them() {
    let agent = Agent::start(&[]).await;
    let auth = bearer();
    let parse = raw(&agent, "{oops").await;
    assert_eq!(parse.status, 400);
    assert_eq!(
        parse.json(),
        json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32700, "message": "Parse error"}})
    );
    let invalid = raw(&agent, r#"{"jsonrpc":"1.0","id":9,"method":"ping"}"#).await;
    assert_eq!(invalid.status, 400);
    assert_eq!(
        (
            invalid.json()["id"].clone(),
            invalid.json()["error"]["code"].clone()
        ),
        (json!(9), json!(-32600))
    );
    assert_eq!(raw(&agent, "[]").await.json()["error"]["code"], -32600);
    let deep = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"ping","params":{{"x":{}0{}}}}}"#,
        "[".repeat(80),
        "]".repeat(80)
    );
    let resp = agent
        .request(
            Method::POST,
            "/mcp",
            &[("authorization", auth.as_str())],
            deep.as_bytes(),
        )
        .await;
    assert_eq!(resp.json()["error"]["code"], -32600);
    let huge = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"ping","params":{{"x":"{}"}}}}"#,
        "x".repeat(300 * 1024)
    );
    let resp = agent
        .request(
            Method::POST,
            "/mcp",
            &[("authorization", auth.as_str())],
            huge.as_bytes(),
        )
        .await;
    assert_eq!(resp.status, 413);

    let session = initialize(&agent, "2025-06-18").await;
    let unknown = in_session(
        &agent,
        &session,
        "2025-06-18",
        &json!({"jsonrpc": "2.0", "id": 5, "method": "nope/nothing"}),
    )
    .await;
    assert_eq!(unknown.status, 200);
    assert_eq!(unknown.json()["error"]["code"], -32601);
    let note = in_session(
        &agent,
        &session,
        "2025-06-18",
        &json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    )
    .await;
    assert_eq!(
        (note.status, note.body.len()),
        (202, 0),
        "notifications get no response"
    );
    let bad_params = in_session(
        &agent,
        &session,
        "2025-06-18",
        &call(6, "no_such_tool", json!({})),
    )
    .await;
    assert_eq!(bad_params.json()["error"]["code"], -32602);
    let bad_args = in_session(&agent, &session, "2025-06-18", &json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": "list_images", "arguments": [1]}})).await;
    assert_eq!(bad_args.json()["error"]["code"], -32602);
}

#[tokio::test]
async fn handshake_sessions_follow_the_streamable_http_rules() {
    let agent = Agent::start(&[]).await;
    let ping = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"});
    let missing = post(&agent, &ping, &[]).await;
    assert_eq!(missing.status, 400, "a request without a session");
    let unknown = post(
        &agent,
        &ping,
        &[("mcp-session-id", "0123456789abcdef0123456789abcdef")],
    )
    .await;
    assert_eq!(unknown.status, 404);

    let session = initialize(&agent, "2025-11-25").await;
    assert!(session.bytes().all(|b| b.is_ascii_graphic()));
    let ok = in_session(&agent, &session, "2025-11-25", &ping).await;
    assert_eq!((ok.status, ok.json()["result"].clone()), (200, json!({})));
    assert_eq!(ok.header("content-type"), Some("application/json"));
    let no_header = post(&agent, &ping, &[("mcp-session-id", &session)]).await;
    assert_eq!(
        no_header.status, 200,
        "no MCP-Protocol-Version means 2025-03-26"
    );
    let bad_version = in_session(&agent, &session, "2024-01-01", &ping).await;
    assert_eq!(bad_version.status, 400);

    let get = agent
        .request(Method::GET, "/mcp", &[("authorization", &bearer())], b"")
        .await;
    assert_eq!(get.status, 400, "GET /mcp opens a session's stream");
    let delete = end_session(&agent, &session).await;
    assert_eq!(delete.status, 200);
    assert_eq!(
        in_session(&agent, &session, "2025-11-25", &ping)
            .await
            .status,
        404,
        "ended sessions are gone"
    );
    let again = end_session(&agent, &session).await;
    assert_eq!(again.status, 404);
}

/// Opens a handshake-era session as `client` (behind the trusted proxy 127.0.0.1).
async fn initialize_as(agent: &Agent, client: &str) -> String {
    let body = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
    let resp = post(agent, &body, &[("x-forwarded-for", client)]).await;
    assert_eq!(resp.status, 200, "{client}: {:?}", resp.body);
    resp.header("mcp-session-id").unwrap().to_string()
}

/// The status of a ping in `session` (which also marks it used).
async fn ping_in(agent: &Agent, session: &str) -> u16 {
    let ping = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"});
    in_session(agent, session, "2025-11-25", &ping).await.status
}

#[tokio::test]
async fn handshake_sessions_cannot_be_hoarded() {
    const TABLE: usize = 1000;
    let per_client = docker_agent::mcp::STREAMABLE_SESSIONS.per_client;
    let agent = Agent::start(&[
        ("RATE_LIMIT_ENABLED", "false"),
        ("TRUSTED_PROXIES", "127.0.0.1"),
    ])
    .await;
    // A client that reconnects without DELETE as many times as the table
    // holds sessions keeps only its most recent ones...
    let mut hoarded = Vec::new();
    for _ in 0..TABLE {
        hoarded.push(initialize_as(&agent, "198.51.100.1").await);
    }
    assert_eq!(ping_in(&agent, &hoarded[TABLE - per_client - 1]).await, 404);
    assert_eq!(ping_in(&agent, &hoarded[TABLE - per_client]).await, 200);
    assert_eq!(ping_in(&agent, &hoarded[TABLE - 1]).await, 200);
    // ...and locks nobody else out.
    let other = initialize_as(&agent, "198.51.100.2").await;
    assert_eq!(ping_in(&agent, &other).await, 200);
}

/// Opens a handshake-era session on `conn` with `credential`.
async fn initialize_on(conn: &mut Connection, credential: &str) -> String {
    let body = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
    let auth = format!("Bearer {credential}");
    let headers = [
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
    ];
    let resp = conn
        .request(Method::POST, "/mcp", &headers, &body.to_string())
        .await;
    assert_eq!(resp.status, 200, "{:?}", resp.body);
    resp.header("mcp-session-id").unwrap().to_string()
}

/// The status of a ping in `session`, presenting `credential`.
async fn ping_as(agent: &Agent, credential: &str, session: &str) -> u16 {
    let auth = format!("Bearer {credential}");
    let ping = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}).to_string();
    let headers = [
        ("authorization", auth.as_str()),
        ("mcp-session-id", session),
        ("mcp-protocol-version", "2025-11-25"),
    ];
    let resp = agent
        .request(Method::POST, "/mcp", &headers, ping.as_bytes())
        .await;
    resp.status
}

/// An agent with two scoped `read` tokens besides the MCP key.
pub async fn agent_with_two_tokens() -> (Agent, String, String) {
    let (reader, other) = (tokens::generate(), tokens::generate());
    let file = tokens_file(&[
        ("reader", Role::Read, &reader),
        ("other", Role::Read, &other),
    ]);
    let agent = Agent::start(&[
        ("API_TOKENS_FILE", file.to_str().unwrap()),
        ("RATE_LIMIT_ENABLED", "false"),
    ])
    .await;
    (agent, reader, other)
}

#[tokio::test]
async fn a_client_with_many_addresses_cannot_evict_another_credential_s_handshake_sessions() {
    let shares = docker_agent::mcp::STREAMABLE_SESSIONS;
    let (agent, reader, other) = agent_with_two_tokens().await;
    let key_session = initialize(&agent, "2025-11-25").await;
    let theirs = initialize_on(&mut Connection::from("127.0.0.2", &agent).await, &other).await;
    // The reader opens its share of sessions from each of 20 addresses:
    // 1,280, more than the table holds.
    let mut opened = Vec::new();
    for a in 0..20 {
        let mut conn = Connection::from(&format!("127.0.1.{a}"), &agent).await;
        for _ in 0..shares.per_client {
            opened.push(initialize_on(&mut conn, &reader).await);
        }
    }
    assert_eq!(
        ping_in(&agent, &key_session).await,
        200,
        "the key's session stays"
    );
    assert_eq!(
        ping_as(&agent, &other, &theirs).await,
        200,
        "so does the other token's"
    );
    let n = opened.len();
    assert_eq!(ping_as(&agent, &reader, &opened[n - 1]).await, 200);
    assert_eq!(
        ping_as(&agent, &reader, &opened[n - shares.per_credential - 1]).await,
        404,
        "the reader keeps at most its credential's share"
    );
}

#[tokio::test]
async fn batches_only_where_the_protocol_version_allows_them() {
    let agent = Agent::start(&[]).await;
    let batch = json!([
        {"jsonrpc": "2.0", "id": 1, "method": "ping"},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}
    ]);
    let old = initialize(&agent, "2025-03-26").await;
    let resp = in_session(&agent, &old, "2025-03-26", &batch).await;
    assert_eq!(resp.status, 200);
    let answers = resp.json();
    assert_eq!(
        answers.as_array().unwrap().len(),
        2,
        "one answer per request, none for the notification"
    );
    assert_eq!(
        answers[1]["result"]["tools"].as_array().unwrap().len(),
        default_tool_count()
    );
    let new = initialize(&agent, "2025-06-18").await;
    let refused = in_session(&agent, &new, "2025-06-18", &batch).await;
    assert_eq!(
        (refused.status, refused.json()["error"]["code"].clone()),
        (400, json!(-32600))
    );
}

#[tokio::test]
async fn the_stateless_revision_is_served_without_sessions() {
    let agent = Agent::start(&[]).await;
    let discover = modern(&agent, "server/discover", json!({})).await;
    assert_eq!(discover.status, 200);
    assert_eq!(
        discover.header("mcp-session-id"),
        None,
        "never mints a session"
    );
    let d = &discover.json()["result"];
    assert_eq!(d["resultType"], "complete");
    assert_eq!(d["supportedVersions"][0], MODERN);
    assert!(
        d["supportedVersions"]
            .as_array()
            .unwrap()
            .contains(&json!("2024-11-05"))
    );
    assert!(d["ttlMs"].as_u64().is_some() && d["cacheScope"] == "public");
    assert_eq!(
        d["_meta"]["io.modelcontextprotocol/serverInfo"]["name"],
        "docker-agent"
    );
    assert!(d["capabilities"]["tools"].is_object());

    let tools = modern(&agent, "tools/list", json!({})).await.json();
    assert_eq!(tools["result"]["resultType"], "complete");
    assert!(tools["result"]["ttlMs"].is_u64() && tools["result"]["cacheScope"].is_string());
    let call = modern(
        &agent,
        "tools/call",
        json!({"name": "docker_version", "arguments": {}}),
    )
    .await
    .json();
    assert_eq!(call["result"]["resultType"], "complete");
    assert_eq!(call["result"]["isError"], false);
    assert_eq!(
        call["result"]["structuredContent"]["docker_version"],
        docker(&["version", "--format", "{{.Server.Version}}"])
    );

    let ping = modern(&agent, "ping", json!({})).await;
    assert_eq!(
        (ping.status, ping.json()["error"]["code"].clone()),
        (404, json!(-32601)),
        "no ping in 2026-07-28"
    );
    let unknown = modern(&agent, "completion/complete", json!({})).await;
    assert_eq!(unknown.status, 404, "an unknown method");
}

#[tokio::test]
async fn stateless_headers_must_match_the_body() {
    let agent = Agent::start(&[]).await;
    let body = |method: &str, name: Option<&str>| {
        let mut params = json!({"_meta": meta()});
        if let Some(n) = name {
            params["name"] = json!(n);
            params["arguments"] = json!({});
        }
        json!({"jsonrpc": "2.0", "id": 4, "method": method, "params": params})
    };
    let call = |name: &'static str| body("tools/call", Some(name));
    type Headers<'a> = &'a [(&'a str, &'a str)];
    let cases: [(&str, Value, Headers, u16); 4] = [
        (
            "no Mcp-Method",
            body("tools/list", None),
            &[("mcp-protocol-version", MODERN)],
            400,
        ),
        (
            "wrong Mcp-Name",
            call("list_images"),
            &[
                ("mcp-protocol-version", MODERN),
                ("mcp-method", "tools/call"),
                ("mcp-name", "docker_health"),
            ],
            400,
        ),
        (
            "no Mcp-Name",
            call("list_images"),
            &[
                ("mcp-protocol-version", MODERN),
                ("mcp-method", "tools/call"),
            ],
            400,
        ),
        (
            "base64 sentinel name",
            call("list_images"),
            &[
                ("mcp-protocol-version", MODERN),
                ("mcp-method", "tools/call"),
                ("mcp-name", "=?base64?bGlzdF9pbWFnZXM=?="),
            ],
            200,
        ),
    ];
    for (what, request, headers, status) in cases {
        let resp = post(&agent, &request, headers).await;
        assert_eq!(resp.status, status, "{what}");
        if status == 400 {
            assert_eq!(resp.json()["error"]["code"], -32020, "{what}");
        }
    }

    let mut old = body("tools/list", None);
    old["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"] = json!("1900-01-01");
    let unsupported = post(
        &agent,
        &old,
        &[
            ("mcp-protocol-version", "1900-01-01"),
            ("mcp-method", "tools/list"),
        ],
    )
    .await;
    let e = unsupported.json()["error"].clone();
    assert_eq!(
        (unsupported.status, e["code"].clone()),
        (400, json!(-32022))
    );
    assert_eq!(e["data"]["requested"], "1900-01-01");
    assert_eq!(e["data"]["supported"][0], MODERN);
    let mismatch = post(
        &agent,
        &body("tools/list", None),
        &[
            ("mcp-protocol-version", "2025-11-25"),
            ("mcp-method", "tools/list"),
        ],
    )
    .await;
    assert_eq!(mismatch.status, 400);
}

#[tokio::test]
async fn tools_act_on_real_containers_and_report_failures_as_results() {
    let c = Container::run(&[], &["out:tool line", "wait"]);
    let agent = Agent::start(&[]).await;
    let session = initialize(&agent, "2025-06-18").await;
    let run = |id: u64, tool: &'static str, args: Value| {
        let (agent, session) = (&agent, session.clone());
        async move {
            in_session(agent, &session, "2025-06-18", &call(id, tool, args))
                .await
                .json()["result"]
                .clone()
        }
    };
    let listed = run(1, "list_containers", json!({})).await;
    assert_eq!(listed["isError"], false);
    assert!(
        listed["structuredContent"]["containers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["name"] == c.name.as_str())
    );
    let text: Value = serde_json::from_str(listed["content"][0]["text"].as_str().unwrap()).unwrap();
    assert!(text.is_array(), "the text keeps the original's bare list");

    let stopped = run(2, "stop_container", json!({"container_id": c.name})).await;
    assert_eq!(stopped["structuredContent"]["status"], "stopped");
    assert_eq!(c.status(), "exited");
    let started = run(3, "start_container", json!({"container_id": c.id})).await;
    assert_eq!(started["isError"], false);
    assert_eq!(c.status(), "running");
    let before = c.inspect("{{.State.StartedAt}}");
    let restarted = run(
        4,
        "restart_container",
        json!({"container_id": c.id, "timeout": 1}),
    )
    .await;
    assert_eq!(restarted["structuredContent"]["status"], "restarted");
    assert_ne!(c.inspect("{{.State.StartedAt}}"), before);

    let logs = run(
        5,
        "get_container_logs",
        json!({"container_id": c.id, "tail": 1}),
    )
    .await;
    assert_eq!(logs["structuredContent"]["logs"], "tool line\n");
    let stats = run(6, "get_container_stats", json!({"container_id": c.id})).await;
    assert!(stats["structuredContent"]["memory_usage"].as_u64().unwrap() > 0);
    let health = run(7, "docker_health", json!({})).await;
    assert_eq!(health["structuredContent"]["docker_connected"], true);

    for (args, needle) in [
        (json!({"container_id": "no-such-container"}), "not found"),
        (json!({}), "Missing required argument 'container_id'"),
        (json!({"container_id": 42}), "must be a non-empty string"),
    ] {
        let r = run(8, "get_container", args).await;
        assert_eq!(r["isError"], true);
        assert!(
            r["content"][0]["text"].as_str().unwrap().contains(needle),
            "{r}"
        );
    }
    let bad_timeout = run(
        9,
        "restart_container",
        json!({"container_id": c.id, "timeout": 301}),
    )
    .await;
    assert_eq!(bad_timeout["isError"], true);
}

#[tokio::test]
async fn docker_errors_are_tool_errors_not_protocol_errors() {
    let missing = temp_socket("mcp-missing");
    let host = format!("unix://{}", missing.display());
    let agent = Agent::start(&[("DOCKER_HOST", &host)]).await;
    let r = modern(
        &agent,
        "tools/call",
        json!({"name": "list_containers", "arguments": {}}),
    )
    .await
    .json();
    assert_eq!(r["result"]["isError"], true);
    assert!(
        r["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("Docker service is unavailable")
    );
}

pub async fn open_sse(agent: &Agent) -> Events {
    let auth = bearer();
    let (status, events) = open_events(
        agent,
        Method::GET,
        "/mcp/sse",
        &[("authorization", &auth)],
        "",
    )
    .await;
    assert_eq!(status, 200);
    events.expect("an event stream")
}

#[tokio::test]
async fn a_handshake_session_is_unknown_to_another_credential() {
    let (agent, reader, _) = agent_with_two_tokens().await;
    let session = initialize(&agent, "2025-11-25").await;
    let never = "0123456789abcdef0123456789abcdef";
    let auth = format!("Bearer {reader}");
    let as_reader = |method: Method, session: &str, body: Value| {
        let (agent, auth, session) = (&agent, auth.clone(), session.to_string());
        async move {
            let headers = [
                ("authorization", auth.as_str()),
                ("content-type", "application/json"),
                ("mcp-session-id", session.as_str()),
                ("mcp-protocol-version", "2025-11-25"),
            ];
            let body = if body.is_null() {
                String::new()
            } else {
                body.to_string()
            };
            let resp = agent
                .request(method, "/mcp", &headers, body.as_bytes())
                .await;
            (resp.status, resp.body)
        }
    };
    // Posting a request or an answer into it, opening its stream, ending
    // it: each gets exactly what an id that never existed gets.
    let ping = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"});
    let answer = json!({"jsonrpc": "2.0", "id": "1", "result": {"action": "accept"}});
    for (method, body) in [
        (Method::POST, ping),
        (Method::POST, answer),
        (Method::GET, Value::Null),
        (Method::DELETE, Value::Null),
    ] {
        let theirs = as_reader(method.clone(), &session, body.clone()).await;
        let unknown = as_reader(method.clone(), never, body).await;
        assert_eq!(theirs.0, 404, "{method}: {:?}", theirs.1);
        assert_eq!(theirs, unknown, "{method}");
    }
    assert_eq!(ping_in(&agent, &session).await, 200, "the session lives on");
}

#[tokio::test]
async fn a_legacy_sse_session_is_unknown_to_another_credential() {
    let (agent, reader, _) = agent_with_two_tokens().await;
    let mut events = open_sse(&agent).await;
    let (_, endpoint) = events.next().await.unwrap();
    let never = "/mcp/messages/?session_id=0123456789abcdef0123456789abcdef";
    let ping = |id: u64| json!({"jsonrpc": "2.0", "id": id, "method": "ping"});
    let theirs = post_message(&agent, &endpoint, &reader, ping(5)).await;
    let unknown = post_message(&agent, never, &reader, ping(5)).await;
    assert_eq!(theirs.status, 404, "{:?}", theirs.body);
    assert_eq!((theirs.status, theirs.body), (unknown.status, unknown.body));
    // Nothing of it reached the session: the next answer is the key's own.
    assert_eq!(
        post_message(&agent, &endpoint, MCP_KEY, ping(6))
            .await
            .status,
        202
    );
    assert_eq!(events.next_json().await.unwrap()["id"], 6);
}

/// POSTs `body` to a legacy SSE session's `endpoint` with `credential`.
async fn post_message(agent: &Agent, endpoint: &str, credential: &str, body: Value) -> Resp {
    let auth = format!("Bearer {credential}");
    agent
        .request(
            Method::POST,
            endpoint,
            &[("authorization", &auth)],
            body.to_string().as_bytes(),
        )
        .await
}

#[tokio::test]
async fn legacy_sse_transport_works_as_before() {
    let agent = Agent::start(&[]).await;
    let mut events = open_sse(&agent).await;
    let (kind, endpoint) = events.next().await.unwrap();
    assert_eq!(kind, "endpoint");
    assert!(
        endpoint.starts_with("/mcp/messages/?session_id="),
        "{endpoint}"
    );
    let send = |body: Value| post_message(&agent, &endpoint, MCP_KEY, body);
    let init = send(json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2024-11-05", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}})).await;
    assert_eq!(init.status, 202);
    let (kind, data) = events.next().await.unwrap();
    assert_eq!(kind, "message");
    let answer: Value = serde_json::from_str(&data).unwrap();
    assert_eq!(answer["result"]["protocolVersion"], "2024-11-05");
    assert_eq!(
        send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
            .await
            .status,
        202
    );
    send(json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"})).await;
    let (_, data) = events.next().await.unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&data).unwrap()["result"]["tools"]
            .as_array()
            .unwrap()
            .len(),
        default_tool_count()
    );
    assert_eq!(
        send(json!("not json-rpc")).await.status,
        202,
        "invalid messages are answered on the stream"
    );
    let (_, data) = events.next().await.unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&data).unwrap()["error"]["code"],
        -32600
    );
    let garbage = agent
        .request(
            Method::POST,
            &endpoint,
            &[("authorization", &bearer())],
            b"{nope",
        )
        .await;
    assert_eq!(garbage.status, 400);

    let auth = bearer();
    let bad_id = agent
        .request(
            Method::POST,
            "/mcp/messages/?session_id=xyz",
            &[("authorization", &auth)],
            b"{}",
        )
        .await;
    assert_eq!(bad_id.status, 400);
    let unknown = agent
        .request(
            Method::POST,
            "/mcp/messages/?session_id=0123456789abcdef0123456789abcdef",
            &[("authorization", &auth)],
            b"{}",
        )
        .await;
    assert_eq!(
        (unknown.status, unknown.json()),
        (404, json!({"detail": "Could not find session"}))
    );

    drop(events);
    let mut gone = false;
    for _ in 0..50 {
        if send(json!({"jsonrpc": "2.0", "id": 3, "method": "ping"}))
            .await
            .status
            == 404
        {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(gone, "the session ends with its stream");
}

#[tokio::test]
async fn a_read_token_opening_more_sse_streams_than_its_share_cannot_lock_out_the_mcp_key() {
    let shares = docker_agent::mcp::SSE_SESSIONS;
    let (agent, reader, other) = agent_with_two_tokens().await;
    // The reader opens more streams than its share, each from an address
    // of its own: its least recently used ones are given up...
    let over = 5;
    let mut readers = Vec::new();
    for n in 0..shares.per_credential + over {
        readers.push(open_sse_from(&agent, &format!("127.0.2.{n}"), &reader).await);
    }
    for (events, endpoint) in &mut readers[..over] {
        let (kind, data) = events.next().await.unwrap();
        assert_eq!(kind, "error");
        assert!(
            data.contains("this credential opened a session beyond its share of 50"),
            "{data}"
        );
        assert_eq!(events.next().await, None, "and the stream ends");
        let ping = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"});
        let later = post_message(&agent, endpoint, &reader, ping).await;
        assert_eq!(later.status, 404, "its later messages");
    }
    // ...and with another token's streams the table is full.
    let mut others = Vec::new();
    for n in 0..shares.max - shares.per_credential {
        others.push(open_sse_from(&agent, &format!("127.0.3.{n}"), &other).await);
    }
    // The MCP key still opens a session, and gets answers.
    let (mut events, endpoint) = open_sse_from(&agent, "127.0.0.1", MCP_KEY).await;
    let (kind, data) = readers[over].0.next().await.unwrap();
    assert_eq!(kind, "error", "the credential holding the most gave one up");
    assert!(
        data.contains("the table of 100 sessions was full"),
        "{data}"
    );
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2024-11-05", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
    let send = |body: Value| post_message(&agent, &endpoint, MCP_KEY, body);
    assert_eq!(send(init).await.status, 202);
    assert_eq!(
        events.next_json().await.unwrap()["result"]["protocolVersion"],
        "2024-11-05"
    );
    // The reader keeps opening streams: it gives up its own, not the key's.
    for n in 0..10 {
        readers.push(open_sse_from(&agent, &format!("127.0.4.{n}"), &reader).await);
    }
    let list = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"});
    assert_eq!(send(list).await.status, 202);
    let tools = events.next_json().await.unwrap();
    assert_eq!(tools["id"], 2);
    assert!(!tools["result"]["tools"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn a_request_is_answered_in_the_revision_it_carries_on_every_transport() {
    let agent = Agent::start(&[]).await;
    let mut events = open_sse(&agent).await;
    let (_, endpoint) = events.next().await.unwrap();
    // One message on the SSE session, then its answer.
    let mut ask = async |method: &str, mut params: Value, stamped: Option<&str>| {
        if let Some(version) = stamped {
            params["_meta"] = meta();
            params["_meta"]["io.modelcontextprotocol/protocolVersion"] = json!(version);
        }
        let body = json!({"jsonrpc": "2.0", "id": method, "method": method, "params": params});
        assert_eq!(
            post_message(&agent, &endpoint, MCP_KEY, body).await.status,
            202
        );
        let answer = events.next_json().await.unwrap();
        assert_eq!(answer["id"], method, "{answer}");
        answer
    };
    // Over legacy SSE, a request stamped 2026-07-28 is answered in that revision...
    let d = ask("server/discover", json!({}), Some(MODERN)).await["result"].clone();
    assert_eq!(d["resultType"], "complete", "{d}");
    assert!(d["ttlMs"].is_u64() && d["cacheScope"] == "public", "{d}");
    assert_eq!(d["supportedVersions"][0], MODERN);
    let listed = ask("tools/list", json!({}), Some(MODERN)).await["result"].clone();
    assert_eq!(listed["resultType"], "complete");
    assert!(listed["ttlMs"].is_u64() && listed["cacheScope"] == "private");
    assert!(listed["tools"][0]["outputSchema"].is_object(), "{listed}");
    let call = json!({"name": "docker_version", "arguments": {}});
    let called = ask("tools/call", call, Some(MODERN)).await["result"].clone();
    assert_eq!(
        (&called["resultType"], &called["isError"]),
        (&json!("complete"), &json!(false))
    );
    // ...with what that revision leaves out refused, as on POST /mcp...
    let ping = ask("ping", json!({}), Some(MODERN)).await;
    assert_eq!(ping["error"]["code"], -32601, "{ping}");
    let uri = json!({"uri": "docker://containers"});
    let subscribe = ask("resources/subscribe", uri, Some(MODERN)).await;
    assert_eq!(subscribe["error"]["code"], -32601, "{subscribe}");
    let listen = ask(
        "subscriptions/listen",
        json!({"notifications": {}}),
        Some(MODERN),
    )
    .await;
    assert_eq!(listen["error"]["code"], -32601, "{listen}");
    assert!(
        listen["error"]["message"]
            .as_str()
            .unwrap()
            .contains("POST /mcp")
    );
    let old = ask("tools/list", json!({}), Some("1900-01-01")).await["error"].clone();
    assert_eq!(
        (&old["code"], &old["data"]["requested"]),
        (&json!(-32022), &json!("1900-01-01"))
    );
    assert_eq!(old["data"]["supported"][0], MODERN);
    // ...while the session's own requests keep its version (2024-11-05 here).
    let listed = ask("tools/list", json!({}), None).await["result"].clone();
    assert!(
        listed.get("resultType").is_none() && listed.get("ttlMs").is_none(),
        "{listed}"
    );
    assert!(listed["tools"][0].get("outputSchema").is_none(), "{listed}");
    let stamped = json!({"_meta": meta()});
    let batch = json!([
        {"jsonrpc": "2.0", "id": 1, "method": "ping"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": stamped},
    ]);
    assert_eq!(
        post_message(&agent, &endpoint, MCP_KEY, batch).await.status,
        202
    );
    let answers = events.next_json().await.unwrap();
    assert_eq!(answers[0]["result"], json!({}), "{answers}");
    assert_eq!(
        answers[1]["error"]["code"], -32600,
        "no batches in 2026-07-28: {answers}"
    );

    // On a handshake session of Streamable HTTP, a stamped request is
    // answered in its revision too, and the session is neither used nor named.
    let session = initialize(&agent, "2025-11-25").await;
    let stamped =
        json!({"jsonrpc": "2.0", "id": 3, "method": "tools/list", "params": {"_meta": meta()}});
    let headers = [
        ("mcp-session-id", session.as_str()),
        ("mcp-protocol-version", MODERN),
        ("mcp-method", "tools/list"),
    ];
    let modern_answer = post(&agent, &stamped, &headers).await;
    assert_eq!(modern_answer.header("mcp-session-id"), None);
    assert_eq!(modern_answer.json()["result"]["resultType"], "complete");
    let plain = json!({"jsonrpc": "2.0", "id": 4, "method": "tools/list"});
    let handshake_answer = in_session(&agent, &session, "2025-11-25", &plain)
        .await
        .json();
    assert!(handshake_answer["result"].get("resultType").is_none());
}

#[tokio::test]
async fn idle_sse_streams_get_keep_alive_comments() {
    use http_body_util::BodyExt;
    let agent = Agent::start(&[("WS_PING_INTERVAL", "1")]).await;
    let mut events = open_sse(&agent).await;
    events.next().await.unwrap();
    let mut raw = String::new();
    while !raw.contains(": ping\n\n") {
        let frame = tokio::time::timeout(Duration::from_secs(10), events.body.frame())
            .await
            .expect("a keep-alive within the interval")
            .unwrap()
            .unwrap();
        raw.push_str(&String::from_utf8_lossy(&frame.into_data().unwrap()));
    }
}

#[tokio::test]
async fn sse_streams_end_on_shutdown() {
    let agent = Agent::start(&[]).await;
    let mut events = open_sse(&agent).await;
    events.next().await.unwrap();
    let shutdown = tokio::spawn(agent.shutdown());
    assert_eq!(events.next().await, None, "the stream ends");
    tokio::time::timeout(Duration::from_secs(10), shutdown)
        .await
        .expect("exits within the grace period")
        .unwrap();
}

/// Runs the official Python SDK against the agent over `transport`, in
/// `mode` (`default`: no `mode=`, as the SDK's README connects).
fn python_client(agent: &Agent, transport: &str, mode: &str, container: &str) -> Value {
    let base = format!("http://{}", agent.addr);
    sdk_client(
        "mcp_interop.py",
        &[&base, MCP_KEY, transport, mode, container],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_python_sdk_works_over_every_transport() {
    let c = Container::run(&[], &["out:from the sdk", "wait"]);
    let agent = Agent::start(&[("RATE_LIMIT_ENABLED", "false")]).await;
    for (transport, mode, version) in [
        ("sse", "default", MODERN),
        ("sse", "legacy", "2025-11-25"),
        ("streamable", "default", MODERN),
        ("streamable", "legacy", "2025-11-25"),
        ("streamable", "auto", MODERN),
    ] {
        let seen = {
            let (agent_ref, name) = (&agent, c.name.clone());
            tokio::task::block_in_place(|| python_client(agent_ref, transport, mode, &name))
        };
        let transport = format!("{transport} in mode {mode}");
        assert_eq!(seen["protocol_version"], version, "{transport}");
        assert_eq!(
            seen["tools"].as_array().unwrap().len(),
            default_tool_count(),
            "{transport}"
        );
        assert_eq!(seen["tools"][0], "docker_health");
        assert_eq!(
            (seen["titles"].clone(), seen["output_schemas"].clone()),
            (json!(true), json!(true))
        );
        assert!(
            seen["listed"].as_array().unwrap().contains(&json!(c.name)),
            "{transport}"
        );
        assert_eq!(seen["listed_text_is_array"], true);
        assert_eq!(seen["detail_name"], c.name.as_str());
        assert!(seen["logs"].as_str().unwrap().contains("from the sdk"));
        assert_eq!(seen["stopped"], json!([false, "stopped"]));
        assert_eq!(seen["started"], json!([false, "started"]));
        assert_eq!(seen["missing"][0], true);
        assert!(seen["missing"][1].as_str().unwrap().contains("not found"));
        assert_eq!(seen["bad_arg"][0], true);
        assert!(seen["resources"].as_u64().unwrap() >= 2, "{transport}");
        assert_eq!(
            c.status(),
            "running",
            "{transport}: the SDK's stop and start really happened"
        );
    }
}

#[tokio::test]
async fn a_tool_result_is_fitted_to_the_response_limit_and_flagged() {
    use docker_agent::mcp::jsonrpc::MAX_RESPONSE;
    // About 3 MB of logs, with a quote and a control character on every line.
    let c = Container::run(&[], &["wide:3000", "out:\"last\"\u{1}", "wait"]);
    let agent = Agent::start(&[]).await;
    wait_for_log(&agent, &c.id, "\"last\"").await;
    let session = initialize(&agent, "2025-06-18").await;
    // No byte cap of its own: the response limit is what cuts.
    let args = json!({"container_id": c.id, "tail": 10000, "max_bytes": 8 << 20});
    let resp = in_session(
        &agent,
        &session,
        "2025-06-18",
        &call(1, "get_container_logs", args),
    )
    .await;
    assert!(
        resp.body.len() <= MAX_RESPONSE,
        "{} bytes sent",
        resp.body.len()
    );
    let result = &resp.json()["result"];
    assert_eq!(result["isError"], false);
    let structured = &result["structuredContent"];
    assert_eq!(structured["truncated"], true);
    let logs = structured["logs"].as_str().unwrap();
    assert!(
        logs.ends_with("\"last\"\u{1}\n"),
        "the newest lines are kept"
    );
    assert!(logs.starts_with("line "), "cut at a line start");
    assert!(
        resp.body.len() > MAX_RESPONSE - 64 * 1024,
        "fitted, not cut short: {} bytes",
        resp.body.len()
    );
    let text = result["content"][0]["text"].as_str().unwrap();
    assert_eq!(text, serde_json::to_string(logs).unwrap(), "compact JSON");
    assert!(
        result["content"][1]["text"]
            .as_str()
            .unwrap()
            .contains("left out")
    );

    let small = in_session(
        &agent,
        &session,
        "2025-06-18",
        &call(
            2,
            "get_container_logs",
            json!({"container_id": c.id, "tail": 1}),
        ),
    )
    .await
    .json();
    assert_eq!(small["result"]["structuredContent"]["truncated"], false);
}

#[tokio::test]
async fn before_2025_06_18_a_result_is_sent_once_as_text() {
    let agent = Agent::start(&[]).await;
    for version in ["2024-11-05", "2025-03-26"] {
        let session = initialize(&agent, version).await;
        let listed = in_session(
            &agent,
            &session,
            version,
            &json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}),
        )
        .await
        .json();
        let tools = listed["result"]["tools"].as_array().unwrap();
        assert!(
            tools.iter().all(|t| t.get("outputSchema").is_none()),
            "{version}: no outputSchema without structuredContent"
        );
        let result = in_session(
            &agent,
            &session,
            version,
            &call(2, "docker_version", json!({})),
        )
        .await
        .json()["result"]
            .clone();
        assert_eq!(result["isError"], false);
        assert!(result.get("structuredContent").is_none(), "{version}");
        let text = result["content"][0]["text"].as_str().unwrap();
        let value: Value = serde_json::from_str(text).unwrap();
        assert_eq!(
            text.len(),
            value.to_string().len(),
            "{version}: compact JSON"
        );
        assert!(value["docker_version"].is_string());
    }
    let session = initialize(&agent, "2025-06-18").await;
    let result = in_session(
        &agent,
        &session,
        "2025-06-18",
        &call(1, "docker_version", json!({})),
    )
    .await
    .json()["result"]
        .clone();
    let text = result["content"][0]["text"].as_str().unwrap();
    let structured = &result["structuredContent"];
    assert_eq!(&serde_json::from_str::<Value>(text).unwrap(), structured);
    assert_eq!(
        text.len(),
        structured.to_string().len(),
        "compact, not pretty"
    );
}

#[tokio::test]
async fn a_batch_answer_is_capped_and_later_requests_are_refused_in_order() {
    use docker_agent::mcp::jsonrpc::{MAX_RESPONSE, RESPONSE_LIMIT};
    // About 600 KB of logs: one answer fits, two do not.
    let c = Container::run(&[], &["wide:600", "wait"]);
    let agent = Agent::start(&[("RATE_LIMIT_ENABLED", "false")]).await;
    wait_for_log(&agent, &c.id, "line 600 ").await;
    let session = initialize(&agent, "2025-03-26").await;
    let logs = || json!({"container_id": c.id, "tail": 10000, "max_bytes": 8 << 20});
    let mut batch: Vec<Value> = (1..=5)
        .map(|id| call(id, "get_container_logs", logs()))
        .collect();
    batch.push(call(6, "stop_container", json!({"container_id": c.id})));
    batch.push(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
    batch.push(json!({"jsonrpc": "2.0", "id": "last", "method": "ping"}));
    let resp = in_session(&agent, &session, "2025-03-26", &Value::Array(batch)).await;
    assert_eq!(resp.status, 200);
    assert!(
        resp.body.len() <= MAX_RESPONSE + 8 * 512,
        "{} bytes sent",
        resp.body.len()
    );
    let answers = resp.json();
    let answers = answers.as_array().unwrap();
    let ids: Vec<Value> = answers.iter().map(|a| a["id"].clone()).collect();
    assert_eq!(
        ids,
        json!([1, 2, 3, 4, 5, 6, "last"])
            .as_array()
            .unwrap()
            .clone()
    );
    let content = |i: usize| answers[i]["result"]["content"].as_array().unwrap().clone();
    assert_eq!(content(0).len(), 1, "the whole log, no note");
    let first: Value = serde_json::from_str(content(0)[0]["text"].as_str().unwrap()).unwrap();
    assert!(first.as_str().unwrap().starts_with("line 1 "));
    assert!(
        content(1)[1]["text"].as_str().unwrap().contains("left out"),
        "the second is fitted to what is left, with a note"
    );
    let refused: Vec<&Value> = answers
        .iter()
        .filter(|a| a["error"]["code"] == RESPONSE_LIMIT)
        .collect();
    assert!(refused.len() >= 3, "{answers:?}");
    for a in &refused {
        assert!(
            a["error"]["message"]
                .as_str()
                .unwrap()
                .contains("Batch response limit reached")
        );
    }
    assert_eq!(answers[5]["error"]["code"], RESPONSE_LIMIT);
    assert_eq!(c.status(), "running", "a refused request is not run");
}

#[tokio::test]
async fn request_ids_are_echoed_verbatim() {
    let agent = Agent::start(&[]).await;
    for id in [
        "18446744073709551616",
        "-9223372036854775809",
        "123456789012345678901234567890",
        "1e400",
        "1.50",
        "\"big-18446744073709551616\"",
    ] {
        let body = format!(
            r#"{{"jsonrpc":"2.0","id":{id},"method":"initialize","params":{{"protocolVersion":"2025-06-18","capabilities":{{}},"clientInfo":{{"name":"t","version":"1"}}}}}}"#
        );
        let resp = raw(&agent, &body).await;
        assert_eq!(resp.status, 200, "{id}");
        let text = String::from_utf8_lossy(&resp.body);
        assert!(text.contains(&format!(r#""id":{id},"#)), "{id}: {text}");
        let invalid = raw(
            &agent,
            &format!(r#"{{"jsonrpc":"1.0","id":{id},"method":"ping"}}"#),
        )
        .await;
        let text = String::from_utf8_lossy(&invalid.body);
        assert!(text.contains(&format!(r#""id":{id},"#)), "{id}: {text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_python_sdk_works_over_legacy_sse_with_only_the_api_key_query() {
    let c = Container::run(&[], &["out:from the sdk", "wait"]);
    let agent = Agent::start(&[("RATE_LIMIT_ENABLED", "false")]).await;
    for (mode, version) in [("default", MODERN), ("legacy", "2025-11-25")] {
        let seen = {
            let (agent_ref, name) = (&agent, c.name.clone());
            tokio::task::block_in_place(|| python_client(agent_ref, "sse-query", mode, &name))
        };
        assert_eq!(seen["protocol_version"], version, "{mode}");
        assert_eq!(
            seen["tools"].as_array().unwrap().len(),
            default_tool_count()
        );
        assert!(seen["listed"].as_array().unwrap().contains(&json!(c.name)));
        assert!(seen["logs"].as_str().unwrap().contains("from the sdk"));
    }
}

#[tokio::test]
async fn a_live_sse_session_admits_keyless_messages_but_not_a_wrong_key() {
    let agent = Agent::start(&[]).await;
    let mut events = open_sse(&agent).await;
    let (_, endpoint) = events.next().await.unwrap();
    let ping = json!({"jsonrpc": "2.0", "id": 7, "method": "ping"}).to_string();
    let keyless = agent
        .request(Method::POST, &endpoint, &[], ping.as_bytes())
        .await;
    assert_eq!(keyless.status, 202, "the session admits it");
    let (kind, data) = events.next().await.unwrap();
    assert_eq!(kind, "message");
    assert_eq!(serde_json::from_str::<Value>(&data).unwrap()["id"], 7);
    let wrong = agent
        .request(
            Method::POST,
            &endpoint,
            &[("authorization", "Bearer not-the-key")],
            ping.as_bytes(),
        )
        .await;
    assert_eq!(wrong.status, 401, "a presented key must match");
    let wrong_query = agent
        .request(
            Method::POST,
            &format!("{endpoint}&api_key=not-the-key"),
            &[],
            ping.as_bytes(),
        )
        .await;
    assert_eq!(wrong_query.status, 401);
    let unknown = agent
        .request(
            Method::POST,
            "/mcp/messages/?session_id=0123456789abcdef0123456789abcdef",
            &[],
            ping.as_bytes(),
        )
        .await;
    assert_eq!(unknown.status, 401, "no live session, no key");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_python_sdk_drives_the_new_tools_on_both_eras() {
    let agent = Agent::start(&[("EXEC_ENABLED", "true"), ("RATE_LIMIT_ENABLED", "false")]).await;
    for mode in ["legacy", "modern"] {
        let name = unique_name("sdk");
        let base = format!("http://{}", agent.addr);
        // Removed by the script; removed here too if it failed half-way.
        let _made = Made(name.clone());
        let seen = tokio::task::block_in_place(|| {
            sdk_client("mcp_new_tools.py", &[&base, MCP_KEY, mode, image(), &name])
        });
        assert_eq!(seen["created"], json!([false, name, "running"]), "{mode}");
        assert_eq!(seen["paused"], json!([false, "paused"]), "{mode}");
        assert_eq!(seen["unpaused"], json!([false, "unpaused"]), "{mode}");
        let exec = &seen["exec"];
        assert_eq!(
            (&exec["exit_code"], &exec["stdout"], &exec["stderr"]),
            (&json!(3), &json!("from exec\n"), &json!("to stderr\n")),
            "{mode}: {seen}"
        );
        assert!(
            seen["networks"]
                .as_array()
                .unwrap()
                .contains(&json!("bridge"))
        );
        assert_eq!(seen["volumes_error"], false);
        assert_eq!(seen["removed"], json!([false, "removed"]), "{mode}: {seen}");
        let asked = seen["asked"].as_array().unwrap();
        assert_eq!(asked.len(), 2, "exec and remove were confirmed: {seen}");
        assert!(asked[1].as_str().unwrap().contains(&name), "{seen}");
        let gone = std::process::Command::new("docker")
            .args(["inspect", &name])
            .output()
            .unwrap();
        assert!(!gone.status.success(), "{mode}: removed for real");
    }
}
