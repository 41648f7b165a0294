//! `MCP_CONFIRM` against real containers: the official Python SDK's
//! `elicitation_callback` on both eras (accept, decline, no capability, and
//! the default mode asking nothing), the 2026-07-28 `requestState` replayed
//! or altered over raw HTTP, who confirmed in the audit trail, and progress
//! and questions on the legacy SSE stream.

use crate::mcp::{bearer, open_sse, post};
use crate::util::*;
use docker_agent::policy::{Role, tokens};
use hyper::Method;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Whether a container shows a tool's effect.
type Done = fn(&Container) -> bool;

/// Tools confirmed under `MCP_CONFIRM=actions`, and how to see each one's
/// effect. One row per tool.
const CONFIRMED: &[(&str, Done)] = &[("stop_container", |c| c.status() == "exited")];

/// Runs `tests/mcp_confirm.py`: `tool` on `container` over `mode`,
/// answering `answer`.
fn python(agent: &Agent, mode: &str, answer: &str, tool: &str, container: &str) -> Value {
    let base = format!("http://{}", agent.addr);
    sdk_client(
        "mcp_confirm.py",
        &[&base, MCP_KEY, mode, answer, tool, container],
    )
}

/// The audit records in `path` for `action`, once there are `n` (bounded wait).
async fn audited(path: &Path, action: &str, n: usize) -> Vec<Value> {
    let mut found = Vec::new();
    for _ in 0..200 {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        found = text
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .filter(|r| r["action"] == action)
            .collect();
        if found.len() >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    found
}

/// An agent under `MCP_CONFIRM=actions`, and its audit file.
async fn confirming() -> (Agent, PathBuf) {
    let log = temp_dir("confirm").join("audit.log");
    let agent = Agent::start(&[
        ("MCP_CONFIRM", "actions"),
        ("RATE_LIMIT_ENABLED", "false"),
        ("AUDIT_LOG", log.to_str().unwrap()),
    ])
    .await;
    (agent, log)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_sdk_confirms_on_both_eras() {
    let (agent, log) = confirming().await;
    for (tool, done) in CONFIRMED {
        for (mode, version) in [("legacy", "2025-11-25"), ("modern", "2026-07-28")] {
            let c = Container::run(&[], &["every:1000"]);
            let short = &c.id[..12];
            let run = |answer| {
                tokio::task::block_in_place(|| python(&agent, mode, answer, tool, &c.name))
            };

            let declined = run("decline");
            assert_eq!(declined["protocol_version"], version);
            assert_eq!(declined["is_error"], true, "{mode}: {declined}");
            assert!(declined["text"].as_str().unwrap().contains("declined"));
            let asked = declined["asked"].as_array().unwrap();
            assert_eq!(asked.len(), 1, "{mode}: {declined}");
            let question = asked[0]["message"].as_str().unwrap();
            assert!(
                question.contains(&c.name) && question.contains(short) && question.contains(tool),
                "{mode}: {question}"
            );
            assert_eq!(
                asked[0]["schema"]["properties"]["confirm"]["type"],
                "boolean"
            );
            assert!(!done(&c), "{mode}: declined, so nothing happened");

            let unable = run("none");
            assert_eq!(unable["is_error"], true, "{mode}: {unable}");
            let text = unable["text"].as_str().unwrap();
            assert!(
                text.contains("cannot ask") && text.contains("MCP_CONFIRM"),
                "{mode}: {text}"
            );
            assert_eq!(unable["asked"], json!([]));
            assert!(
                !done(&c),
                "{mode}: nobody could be asked, so nothing happened"
            );

            let accepted = run("accept");
            assert_eq!(accepted["is_error"], false, "{mode}: {accepted}");
            assert_eq!(accepted["asked"].as_array().unwrap().len(), 1);
            assert!(
                !accepted["progress"].as_array().unwrap().is_empty(),
                "{mode}: progress reached the SDK on the request's stream: {accepted}"
            );
            assert!(done(&c), "{mode}: accepted, so it happened");
        }
    }
    let stops = audited(&log, "container.stop", 6).await;
    let answers: Vec<&str> = stops
        .iter()
        .map(|r| r["confirmation"].as_str().unwrap_or("none"))
        .collect();
    assert_eq!(
        answers,
        ["declined", "unavailable", "accepted"].repeat(2),
        "{stops:?}"
    );
    for r in &stops {
        assert_eq!(r["subject"], "mcp", "{r}");
        assert!(
            r["confirmed_by"]
                .as_str()
                .unwrap()
                .starts_with("elicitation:"),
            "{r}"
        );
        let ok = r["confirmation"] == "accepted";
        assert_eq!(r["result"], if ok { "ok" } else { "refused" }, "{r}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_sdk_confirms_over_legacy_sse_in_its_default_mode_and_the_handshake() {
    let (agent, _) = confirming().await;
    // The default mode stays on 2026-07-28 over the SSE stream too, so the
    // question comes back as `input_required`; the handshake asks on the stream.
    for (mode, version) in [("sse", "2026-07-28"), ("sse-legacy", "2025-11-25")] {
        let c = Container::run(&[], &["every:1000"]);
        let run = |answer| {
            tokio::task::block_in_place(|| python(&agent, mode, answer, "stop_container", &c.name))
        };
        let declined = run("decline");
        assert_eq!(declined["protocol_version"], version, "{mode}");
        assert_eq!(declined["is_error"], true, "{mode}: {declined}");
        assert_eq!(
            declined["asked"].as_array().unwrap().len(),
            1,
            "{mode}: {declined}"
        );
        assert_eq!(c.status(), "running", "{mode}: declined");
        let accepted = run("accept");
        assert_eq!(accepted["is_error"], false, "{mode}: {accepted}");
        assert!(
            !accepted["progress"].as_array().unwrap().is_empty(),
            "{mode}: progress reached the SDK on the session's stream: {accepted}"
        );
        assert_eq!(c.status(), "exited", "{mode}: accepted");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_mode_leaves_the_original_actions_unconfirmed() {
    let agent = Agent::start(&[]).await;
    let c = Container::run(&[], &["every:1000"]);
    let seen =
        tokio::task::block_in_place(|| python(&agent, "legacy", "none", "stop_container", &c.name));
    assert_eq!(seen["is_error"], false, "{seen}");
    assert_eq!(seen["asked"], json!([]));
    assert_eq!(c.status(), "exited");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_mode_confirms_removals_and_exec_on_both_eras() {
    let agent = Agent::start(&[("EXEC_ENABLED", "true"), ("RATE_LIMIT_ENABLED", "false")]).await;
    for mode in ["legacy", "modern"] {
        let c = Container::create(&[], &["every:1000"]);
        let exists = || {
            Command::new("docker")
                .args(["inspect", &c.id])
                .output()
                .unwrap()
                .status
                .success()
        };
        let run = |answer| {
            tokio::task::block_in_place(|| {
                python(&agent, mode, answer, "remove_container", &c.name)
            })
        };
        let declined = run("decline");
        assert_eq!(declined["is_error"], true, "{mode}: {declined}");
        assert_eq!(declined["asked"].as_array().unwrap().len(), 1, "{declined}");
        assert!(exists(), "{mode}: declined, so still there");
        let unable = run("none");
        assert!(
            unable["text"].as_str().unwrap().contains("MCP_CONFIRM"),
            "{unable}"
        );
        assert!(exists(), "{mode}: nobody asked, so still there");
        let accepted = run("accept");
        assert_eq!(accepted["is_error"], false, "{mode}: {accepted}");
        assert!(!exists(), "{mode}: accepted, so removed");
    }
    let c = Container::run(&[], &["every:1000"]);
    let args = json!({"container_id": c.name, "cmd": ["/testbox", "exit:0"]});
    let asked = call(&agent, "exec_in_container", args, None).await;
    state_of(&asked);
    let question = asked["inputRequests"]["confirm"]["params"]["message"]
        .as_str()
        .unwrap();
    assert!(
        question.contains(&c.name) && question.contains("exec_in_container"),
        "{question}"
    );
    let image = json!({"image": "docker-agent-no-such:1"});
    state_of(&call(&agent, "remove_image", image, None).await);
}

/// A 2026-07-28 `tools/call` of `tool` from a client that can ask a person
/// ("t"), retrying with `state` and `answer` when given.
async fn call(agent: &Agent, tool: &str, args: Value, retry: Option<(&str, Value)>) -> Value {
    call_as(agent, &bearer(), tool, args, retry).await
}

/// [`call`], presenting `auth` (an `Authorization` value).
pub(crate) async fn call_as(
    agent: &Agent,
    auth: &str,
    tool: &str,
    args: Value,
    retry: Option<(&str, Value)>,
) -> Value {
    let mut params = json!({"name": tool, "arguments": args});
    if let Some((state, answer)) = retry {
        params["requestState"] = json!(state);
        params["inputResponses"] = json!({"confirm": answer});
    }
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "1"},
        "io.modelcontextprotocol/clientCapabilities": {"elicitation": {}},
    });
    let headers = [
        ("authorization", auth),
        ("content-type", "application/json"),
        ("mcp-protocol-version", "2026-07-28"),
        ("mcp-method", "tools/call"),
        ("mcp-name", tool),
    ];
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params});
    let resp = agent
        .request(Method::POST, "/mcp", &headers, body.to_string().as_bytes())
        .await;
    assert_eq!(resp.status, 200, "{:?}", resp.body);
    resp.json()["result"].clone()
}

/// The `requestState` of a question, checked to be one.
pub(crate) fn state_of(result: &Value) -> String {
    assert_eq!(result["resultType"], "input_required", "{result}");
    let q = &result["inputRequests"]["confirm"];
    assert_eq!(q["method"], "elicitation/create", "{result}");
    result["requestState"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_replayed_or_altered_request_state_is_refused() {
    let (agent, log) = confirming().await;
    let c = Container::run(&[], &["every:1000"]);
    let other = Container::run(&[], &["every:1000"]);
    let yes = json!({"action": "accept", "content": {"confirm": true}});
    let stop = |name: &str| json!({"container_id": name});
    let refused = |r: &Value, why: &str| {
        assert_eq!(r["isError"], true, "{r}");
        let text = r["content"][0]["text"].as_str().unwrap();
        assert!(
            text.contains(why) && text.contains("Nothing was changed"),
            "{text}"
        );
    };

    let state = state_of(&call(&agent, "stop_container", stop(&c.name), None).await);
    assert_eq!(c.status(), "running", "asking changes nothing");

    // Altered: for another container, other arguments, a flipped character.
    let elsewhere = call(
        &agent,
        "stop_container",
        stop(&other.name),
        Some((&state, yes.clone())),
    )
    .await;
    refused(&elsewhere, "another call");
    let restart = json!({"container_id": c.name, "timeout": 1});
    let reargued = call(
        &agent,
        "restart_container",
        restart,
        Some((&state, yes.clone())),
    )
    .await;
    refused(&reargued, "another call");
    let mut flipped = state.clone().into_bytes();
    flipped[10] = if flipped[10] == b'A' { b'B' } else { b'A' };
    let flipped = String::from_utf8(flipped).unwrap();
    let forged = call(
        &agent,
        "stop_container",
        stop(&c.name),
        Some((&flipped, yes.clone())),
    )
    .await;
    refused(&forged, "not one this agent signed");
    assert_eq!(
        (c.status(), other.status()),
        ("running".into(), "running".into())
    );

    // The real answer works once.
    let done = call(
        &agent,
        "stop_container",
        stop(&c.name),
        Some((&state, yes.clone())),
    )
    .await;
    assert_eq!(done["isError"], false, "{done}");
    assert_eq!(done["resultType"], "complete");
    assert_eq!(c.status(), "exited");
    docker(&["start", &c.id]);
    let replayed = call(&agent, "stop_container", stop(&c.name), Some((&state, yes))).await;
    refused(&replayed, "already used");
    assert_eq!(c.status(), "running", "a replay does nothing");

    // Declined: nothing done, and that state is spent too.
    let state = state_of(&call(&agent, "stop_container", stop(&c.name), None).await);
    let no = json!({"action": "decline"});
    refused(
        &call(&agent, "stop_container", stop(&c.name), Some((&state, no))).await,
        "declined",
    );
    assert_eq!(c.status(), "running");

    // Out of reach: a missing container is not found before anything is asked.
    let missing = call(&agent, "stop_container", stop("no-such-container"), None).await;
    assert_eq!(missing["isError"], true, "{missing}");
    assert!(missing.get("inputRequests").is_none());

    let stops = audited(&log, "container.stop", 5).await;
    let accepted: Vec<&Value> = stops.iter().filter(|r| r["result"] == "ok").collect();
    assert_eq!(accepted.len(), 1, "{stops:?}");
    assert_eq!(accepted[0]["confirmation"], "accepted");
    assert_eq!(accepted[0]["confirmed_by"], "elicitation:t");
    assert_eq!(accepted[0]["subject"], "mcp");
    assert_eq!(accepted[0]["container_id"], c.id.as_str());
    let answers: Vec<&str> = stops
        .iter()
        .filter_map(|r| r["confirmation"].as_str())
        .collect();
    assert_eq!(
        answers,
        ["invalid", "invalid", "accepted", "invalid", "declined"],
        "{stops:?}"
    );
}

#[tokio::test]
async fn the_legacy_sse_stream_carries_the_question_and_the_progress() {
    let agent = Agent::start(&[("MCP_CONFIRM", "actions")]).await;
    let c = Container::run(&[], &["every:1000"]);
    let mut events = open_sse(&agent).await;
    let (_, endpoint) = events.next().await.unwrap();
    let send = |body: Value| {
        let (agent, endpoint) = (&agent, endpoint.clone());
        async move {
            let auth = bearer();
            let resp = agent
                .request(
                    Method::POST,
                    &endpoint,
                    &[("authorization", &auth)],
                    body.to_string().as_bytes(),
                )
                .await;
            assert_eq!(resp.status, 202, "{:?}", resp.body);
        }
    };
    send(json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25", "capabilities": {"elicitation": {}}, "clientInfo": {"name": "raw", "version": "1"}}})).await;
    events.next().await.unwrap();
    send(json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "stop_container", "arguments": {"container_id": c.name}, "_meta": {"progressToken": "p-1"}}})).await;
    let (_, data) = events.next().await.unwrap();
    let question: Value = serde_json::from_str(&data).unwrap();
    assert_eq!(question["method"], "elicitation/create", "{question}");
    assert!(
        question["params"]["message"]
            .as_str()
            .unwrap()
            .contains(&c.name)
    );
    assert_eq!(c.status(), "running", "waiting for the answer");
    send(json!({"jsonrpc": "2.0", "id": 999, "result": {"action": "accept", "content": {"confirm": true}}})).await;
    let mut answer = question["id"].clone();
    let id = answer.as_str().unwrap_or_default();
    assert!(
        id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()),
        "an unguessable id: {question}"
    );
    answer = json!({"jsonrpc": "2.0", "id": answer, "result": {"action": "accept", "content": {"confirm": true}}});
    send(answer).await;
    let (_, data) = events.next().await.unwrap();
    let progress: Value = serde_json::from_str(&data).unwrap();
    assert_eq!(progress["method"], "notifications/progress", "{progress}");
    assert_eq!(progress["params"]["progressToken"], "p-1");
    let (_, data) = events.next().await.unwrap();
    let result: Value = serde_json::from_str(&data).unwrap();
    assert_eq!(result["id"], 2, "{result}");
    assert_eq!(result["result"]["isError"], false, "{result}");
    assert_eq!(c.status(), "exited");
}

#[tokio::test]
async fn a_question_is_answered_only_by_its_id_in_its_own_session() {
    let operator = tokens::generate();
    let file = tokens_file(&[("operator", Role::Operate, &operator)]);
    let agent = Agent::start(&[
        ("MCP_CONFIRM", "actions"),
        ("API_TOKENS_FILE", file.to_str().unwrap()),
    ])
    .await;
    let c = Container::run(&[], &["every:1000"]);
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25", "capabilities": {"elicitation": {}}, "clientInfo": {"name": "raw", "version": "1"}}});
    let session = post(&agent, &init, &[]).await;
    let session = session.header("mcp-session-id").unwrap().to_string();
    let headers = |credential: &str| {
        vec![
            ("authorization".to_string(), format!("Bearer {credential}")),
            ("content-type".into(), "application/json".into()),
            (
                "accept".into(),
                "application/json, text/event-stream".into(),
            ),
            ("mcp-session-id".into(), session.clone()),
            ("mcp-protocol-version".into(), "2025-11-25".into()),
        ]
    };
    let send = |credential: &str, body: Value| {
        let headers = headers(credential);
        let agent = &agent;
        async move {
            let headers: Vec<(&str, &str)> = headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let body = body.to_string();
            agent
                .request(Method::POST, "/mcp", &headers, body.as_bytes())
                .await
                .status
        }
    };
    let call = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "stop_container", "arguments": {"container_id": c.name}}});
    let key_headers = headers(MCP_KEY);
    let key_headers: Vec<(&str, &str)> = key_headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let (status, events) = open_events(
        &agent,
        Method::POST,
        "/mcp",
        &key_headers,
        &call.to_string(),
    )
    .await;
    assert_eq!(status, 200);
    let mut events = events.expect("the question comes on the answer's stream");
    let question = events.next_json().await.unwrap();
    assert_eq!(question["method"], "elicitation/create", "{question}");
    let id = question["id"].as_str().unwrap_or_default().to_string();
    assert!(
        id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()),
        "an unguessable id: {question}"
    );
    let accept = |id: Value| json!({"jsonrpc": "2.0", "id": id, "result": {"action": "accept", "content": {"confirm": true}}});
    // Guesses in the session are ignored; the right id from another
    // credential does not reach the session at all.
    for guess in [json!(1), json!("1"), json!(2)] {
        assert_eq!(send(MCP_KEY, accept(guess)).await, 202);
    }
    assert_eq!(send(&operator, accept(json!(id))).await, 404);
    let decline = json!({"jsonrpc": "2.0", "id": id, "result": {"action": "decline"}});
    assert_eq!(send(MCP_KEY, decline).await, 202);
    let result = events.next_json().await.unwrap();
    assert_eq!(result["id"], 2, "{result}");
    assert_eq!(
        result["result"]["isError"], true,
        "declined by the session's own answer: {result}"
    );
    assert_eq!(c.status(), "running");
}

#[tokio::test]
async fn progress_turns_a_streamable_answer_into_an_event_stream_only_when_accepted() {
    let agent = Agent::start(&[]).await;
    let c = Container::run(&[], &["every:1000"]);
    let auth = bearer();
    let body = json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": "restart_container", "arguments": {"container_id": c.name, "timeout": 0}, "_meta": {"progressToken": 5, "io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}}}});
    let mut headers = vec![
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
        ("mcp-protocol-version", "2026-07-28"),
        ("mcp-method", "tools/call"),
        ("mcp-name", "restart_container"),
    ];
    let json_only = agent
        .request(Method::POST, "/mcp", &headers, body.to_string().as_bytes())
        .await;
    assert_eq!(json_only.header("content-type"), Some("application/json"));
    assert_eq!(json_only.json()["result"]["isError"], false);
    headers.push(("accept", "application/json, text/event-stream"));
    let streamed = agent
        .request(Method::POST, "/mcp", &headers, body.to_string().as_bytes())
        .await;
    assert_eq!(streamed.header("content-type"), Some("text/event-stream"));
    let text = String::from_utf8_lossy(&streamed.body);
    let messages: Vec<Value> = text
        .split("\n\n")
        .filter_map(|e| e.lines().find_map(|l| l.strip_prefix("data: ")))
        .map(|d| serde_json::from_str(d).unwrap())
        .collect();
    assert_eq!(messages.len(), 2, "{text}");
    assert_eq!(messages[0]["method"], "notifications/progress");
    assert_eq!(messages[0]["params"]["progressToken"], 5);
    assert_eq!(messages[1]["id"], 7);
    assert_eq!(messages[1]["result"]["isError"], false, "{text}");
}
