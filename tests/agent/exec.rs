//! Commands run in containers: the one-shot route (exit code, separate
//! streams, env/workdir/user, the 1 MiB cap, a timeout that kills), every
//! refusal (exec disabled, roles, read-only, a stopped container, bad
//! bodies), the interactive terminal driving a real `sh`, the
//! `exec_in_container` tool, and the audit line with the command.

use crate::util::*;
use docker_agent::policy::{Role, tokens};
use futures_util::{SinkExt, StreamExt};
use hyper::Method;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

const WAIT: Duration = Duration::from_secs(20);
const ENABLED: (&str, &str) = ("EXEC_ENABLED", "true");
const NO_LIMITS: (&str, &str) = ("RATE_LIMIT_ENABLED", "false");

async fn exec(agent: &Agent, token: &str, id: &str, body: &Value) -> Resp {
    let auth = format!("Bearer {token}");
    let path = format!("/api/v1/containers/{id}/exec");
    let headers = [
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
    ];
    let body = body.to_string();
    agent
        .request(Method::POST, &path, &headers, body.as_bytes())
        .await
}

fn detail(resp: &Resp) -> String {
    resp.json()["detail"].to_string()
}

/// Whether `c`'s process list (`docker top`) shows `needle`, polled until
/// it says `expected` (bounded).
async fn shows_process(c: &Container, needle: &str, expected: bool) -> bool {
    for _ in 0..100 {
        let found = docker(&["top", &c.id]).contains(needle);
        if found == expected {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    !expected
}

#[tokio::test]
async fn a_command_s_exit_code_and_streams_come_back_and_the_audit_holds_the_command() {
    let c = Container::run(&[], &["wait"]);
    let log = temp_dir("exec-audit").join("audit.log");
    let agent = Agent::start(&[ENABLED, ("AUDIT_LOG", log.to_str().unwrap())]).await;
    let token = agent.token().await;
    let cmd = json!(["/testbox", "out:hello", "err:oops", "out:world", "exit:3"]);
    let resp = exec(&agent, &token, &c.name, &json!({"cmd": cmd})).await;
    assert_eq!(resp.status, 200, "{:?}", resp.body);
    assert_eq!(
        resp.json(),
        json!({"exit_code": 3, "stdout": "hello\nworld\n", "stderr": "oops\n",
            "truncated": false, "timed_out": false})
    );
    let line = loop_for_line(&log, "container.exec").await;
    assert_eq!(line["command"], cmd.to_string(), "{line}");
    assert_eq!(line["exit_code"], 3, "{line}");
    assert_eq!(line["subject"], "user:admin", "{line}");
    assert_eq!(line["surface"], "rest", "{line}");
    assert_eq!(line["container_id"], c.id.as_str(), "{line}");
    assert_eq!(line["container_name"], c.name.as_str(), "{line}");
    assert_eq!(line["result"], "ok", "{line}");
    assert!(line["duration_ms"].as_f64().is_some(), "{line}");
}

/// The first audit record of `action` (bounded wait).
async fn loop_for_line(path: &std::path::Path, action: &str) -> Value {
    for _ in 0..200 {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let found = text
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .find(|r| r["action"] == action);
        if let Some(r) = found {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no {action} record in {}", path.display());
}

#[tokio::test]
async fn env_workdir_and_user_are_applied() {
    let c = Container::shell(&[], &["sleep", "3600"]);
    let agent = Agent::start(&[ENABLED]).await;
    let token = agent.token().await;
    let body = json!({"cmd": ["/bin/sh", "-c", "echo \"$GREETING\"; pwd; id -u; id -g"],
        "env": {"GREETING": "hi there"}, "workdir": "/tmp", "user": "1234:5678"});
    let resp = exec(&agent, &token, &c.id, &body).await;
    assert_eq!(resp.status, 200, "{:?}", resp.body);
    let r = resp.json();
    assert_eq!(r["stdout"], "hi there\n/tmp\n1234\n5678\n", "{r}");
    assert_eq!(
        (r["exit_code"].as_i64(), r["stderr"].as_str()),
        (Some(0), Some(""))
    );
}

#[tokio::test]
async fn output_past_one_mib_a_stream_is_cut_and_flagged() {
    let c = Container::run(&[], &["wait"]);
    let agent = Agent::start(&[ENABLED]).await;
    let token = agent.token().await;
    let body = json!({"cmd": ["/testbox", "big:3000000", "err:after the flood", "exit:7"]});
    let resp = exec(&agent, &token, &c.id, &body).await;
    assert_eq!(resp.status, 200);
    let r = resp.json();
    assert_eq!(r["stdout"].as_str().unwrap().len(), 1 << 20);
    assert_eq!(r["truncated"], true);
    assert_eq!(
        (r["stderr"].as_str(), r["exit_code"].as_i64()),
        (Some("after the flood\n"), Some(7)),
        "the command ran to its end: it never blocked on a full pipe"
    );
    let small = exec(
        &agent,
        &token,
        &c.id,
        &json!({"cmd": ["/testbox", "big:1000"]}),
    )
    .await;
    assert_eq!(small.json()["truncated"], false);
}

#[tokio::test]
async fn a_command_past_its_timeout_is_killed() {
    let c = Container::run(&[], &["wait"]);
    let agent = Agent::start(&[ENABLED]).await;
    let token = agent.token().await;
    let body = json!({"cmd": ["/testbox", "out:started", "sleep:600000"], "timeout": 1});
    let started = Instant::now();
    let resp = exec(&agent, &token, &c.id, &body).await;
    assert!(started.elapsed() < WAIT, "the answer comes at the timeout");
    assert_eq!(resp.status, 200, "{:?}", resp.body);
    let r = resp.json();
    assert_eq!(
        r,
        json!({"exit_code": null, "stdout": "started\n", "stderr": "", "truncated": false, "timed_out": true})
    );
    assert!(
        !shows_process(&c, "sleep:600000", false).await,
        "the process is gone: {}",
        docker(&["top", &c.id])
    );
    assert_eq!(c.status(), "running", "the container itself lives on");
}

#[tokio::test]
async fn exec_is_refused_everywhere_while_disabled() {
    let c = Container::run(&[], &["wait"]);
    let agent = Agent::start(&[]).await;
    let token = agent.token().await;
    let said = "exec is disabled; an operator can set EXEC_ENABLED=true";
    let body = json!({"cmd": ["/testbox", "out:no"]});
    let resp = exec(&agent, &token, &c.id, &body).await;
    assert_eq!((resp.status, detail(&resp)), (403, json!(said).to_string()));
    let bad = exec(&agent, &token, &c.id, &json!({"nope": 1})).await;
    assert_eq!(bad.status, 403, "refused before the body is read");
    let path = format!("/api/v1/exec/ws/{}?token={token}&cmd=/testbox", c.id);
    let mut ws = agent.ws(&path).await;
    let ending = next_text(&mut ws, WAIT).await;
    assert_eq!(ending, Err(Ending::Closed(1008, said.into())));
    let names = agent.mcp_tool_names(MCP_KEY).await;
    assert!(
        !names.contains(&"exec_in_container".to_string()),
        "{names:?}"
    );
    let args = json!({"container_id": c.id, "cmd": ["/testbox"]});
    let r = agent.mcp_tool(MCP_KEY, "exec_in_container", args).await;
    assert_eq!(r["isError"], true);
    assert!(tool_text(&r).contains(said), "{r}");
    assert!(!shows_process(&c, "out:no", true).await);
}

#[tokio::test]
async fn exec_needs_the_admin_role_and_a_writable_agent() {
    let c = Container::run(&[], &["wait"]);
    let (reader, operator) = (tokens::generate(), tokens::generate());
    let file = tokens_file(&[("r", Role::Read, &reader), ("o", Role::Operate, &operator)]);
    let agent = Agent::start(&[
        ENABLED,
        NO_LIMITS,
        ("API_TOKENS_FILE", file.to_str().unwrap()),
    ])
    .await;
    let body = json!({"cmd": ["/testbox", "out:hi"]});
    for (token, role) in [(&reader, "read"), (&operator, "operate")] {
        let resp = exec(&agent, token, &c.id, &body).await;
        let why = format!("Role '{role}' does not allow 'exec': it needs the 'admin' role");
        assert_eq!((resp.status, detail(&resp)), (403, json!(why).to_string()));
        let mut ws = agent
            .ws(&format!("/api/v1/exec/ws/{}?token={token}", c.id))
            .await;
        assert_eq!(
            next_text(&mut ws, WAIT).await,
            Err(Ending::Closed(1008, why))
        );
        let names = agent.mcp_tool_names(token).await;
        assert!(!names.contains(&"exec_in_container".to_string()), "{role}");
    }
    assert!(
        agent
            .mcp_tool_names(MCP_KEY)
            .await
            .contains(&"exec_in_container".to_string())
    );

    let ro = Agent::start(&[ENABLED, ("READ_ONLY", "true")]).await;
    let resp = exec(&ro, &ro.token().await, &c.id, &body).await;
    assert_eq!(resp.status, 403);
    assert!(
        detail(&resp).contains("READ_ONLY=true"),
        "{}",
        detail(&resp)
    );
    let mcp_ro = Agent::start(&[ENABLED, ("MCP_READ_ONLY", "true")]).await;
    let args = json!({"container_id": c.id, "cmd": ["/testbox", "out:hi"]});
    let r = mcp_ro.mcp_tool(MCP_KEY, "exec_in_container", args).await;
    assert!(tool_text(&r).contains("MCP_READ_ONLY=true"), "{r}");
    assert!(!shows_process(&c, "out:hi", true).await);
}

#[tokio::test]
async fn a_stopped_container_is_409_a_missing_one_404_and_bad_bodies_422() {
    let stopped = Container::create(&[], &["wait"]);
    let agent = Agent::start(&[ENABLED, NO_LIMITS]).await;
    let token = agent.token().await;
    let body = json!({"cmd": ["/testbox"]});
    let resp = exec(&agent, &token, &stopped.name, &body).await;
    assert_eq!(resp.status, 409, "{:?}", resp.body);
    assert!(
        detail(&resp).contains("is not running"),
        "{}",
        detail(&resp)
    );
    let missing = exec(&agent, &token, "no-such-container-here", &body).await;
    assert_eq!(missing.status, 404);
    let running = Container::run(&[], &["wait"]);
    for (bad, field) in [
        (json!({}), "cmd"),
        (json!({"cmd": []}), "cmd"),
        (json!({"cmd": "ls"}), "cmd"),
        (json!({"cmd": ["ls"], "privileged": true}), "privileged"),
        (json!({"cmd": ["ls"], "timeout": 601}), "timeout"),
        (json!({"cmd": ["ls"], "env": ["A=1"]}), "env"),
    ] {
        let resp = exec(&agent, &token, &running.id, &bad).await;
        assert_eq!(resp.status, 422, "{bad}");
        assert_eq!(
            resp.json()["detail"][0]["loc"],
            json!(["body", field]),
            "{bad}"
        );
    }
    let auth = format!("Bearer {token}");
    let path = format!("/api/v1/containers/{}/exec", running.id);
    let not_json = agent
        .request(Method::POST, &path, &[("authorization", &auth)], b"{nope")
        .await;
    assert_eq!(not_json.status, 422);
    let mut ws = agent
        .ws(&format!(
            "/api/v1/exec/ws/{}?token={token}&cmd=/testbox",
            stopped.id
        ))
        .await;
    match next_text(&mut ws, WAIT).await {
        Err(Ending::Closed(4409, reason)) => assert!(reason.contains("is not running")),
        other => panic!("{other:?}"),
    }
}

/// Reads the terminal's binary output until it holds `needle` (bounded).
async fn read_until(ws: &mut Ws, seen: &mut String, needle: &str) {
    let read = async {
        while !seen.contains(needle) {
            match ws.next().await {
                Some(Ok(Message::Binary(b))) => seen.push_str(&String::from_utf8_lossy(&b)),
                Some(Ok(Message::Text(t))) => panic!("text from the terminal: {t}"),
                Some(Ok(Message::Close(f))) => {
                    panic!("closed while waiting for {needle:?}: {f:?}; saw {seen:?}")
                }
                Some(Ok(_)) => {}
                other => panic!("{other:?} while waiting for {needle:?}; saw {seen:?}"),
            }
        }
    };
    tokio::time::timeout(WAIT, read)
        .await
        .unwrap_or_else(|_| panic!("no {needle:?} in {seen:?}"));
}

async fn type_line(ws: &mut Ws, line: &str) {
    ws.send(Message::binary(line.as_bytes().to_vec()))
        .await
        .unwrap();
}

#[tokio::test]
async fn the_terminal_drives_a_shell_resizes_and_closes_with_the_exit_code() {
    let c = Container::shell(&[], &["sleep", "3600"]);
    let log = temp_dir("exec-ws-audit").join("audit.log");
    let agent = Agent::start(&[ENABLED, ("AUDIT_LOG", log.to_str().unwrap())]).await;
    let token = agent.token().await;
    let path = format!("/api/v1/exec/ws/{}?token={token}&cmd=/bin/sh", c.name);
    let mut ws = agent.ws(&path).await;
    let mut seen = String::new();
    type_line(&mut ws, "echo hel\"\"lo\n").await;
    read_until(&mut ws, &mut seen, "hello\r\n").await;
    ws.send(Message::text(r#"{"resize": [123, 45]}"#))
        .await
        .unwrap();
    type_line(&mut ws, "stty size\n").await;
    read_until(&mut ws, &mut seen, "45 123\r\n").await;
    type_line(&mut ws, "exit 3\n").await;
    let ending = next_text(&mut ws, WAIT).await;
    assert_eq!(ending, Err(Ending::Closed(1000, "exit 3".into())));
    let line = loop_for_line(&log, "container.exec").await;
    assert_eq!(line["command"], r#"["/bin/sh"]"#, "{line}");
    assert_eq!(
        (line["surface"].as_str(), line["exit_code"].as_i64()),
        (Some("ws"), Some(3))
    );
}

#[tokio::test]
async fn a_terminal_whose_client_goes_away_is_hung_up() {
    let c = Container::shell(&[], &["sleep", "3600"]);
    let agent = Agent::start(&[ENABLED]).await;
    let token = agent.token().await;
    let path = format!("/api/v1/exec/ws/{}?token={token}&cmd=/bin/cat", c.id);
    let mut ws = agent.ws(&path).await;
    let mut seen = String::new();
    type_line(&mut ws, "ping\n").await;
    read_until(&mut ws, &mut seen, "ping\r\n").await;
    assert!(shows_process(&c, "/bin/cat", true).await);
    drop(ws);
    assert!(
        !shows_process(&c, "/bin/cat", false).await,
        "cat ended with its terminal: {}",
        docker(&["top", &c.id])
    );
}

#[tokio::test]
async fn the_exec_tool_runs_a_command_within_its_answer() {
    let c = Container::run(&[], &["wait"]);
    // The tool itself; its confirmation by a person is tested in `confirm`.
    let agent = Agent::start(&[ENABLED, NO_LIMITS, ("MCP_CONFIRM", "off")]).await;
    let args =
        json!({"container_id": c.name, "cmd": ["/testbox", "out:from mcp", "err:warn", "exit:4"]});
    let r = agent.mcp_tool(MCP_KEY, "exec_in_container", args).await;
    assert_eq!(r["isError"], false, "{r}");
    assert_eq!(
        r["structuredContent"],
        json!({"exit_code": 4, "stdout": "from mcp\n", "stderr": "warn\n", "truncated": false, "timed_out": false})
    );
    let names = agent.mcp_tool_names(MCP_KEY).await;
    assert_eq!(names.last().map(String::as_str), Some("exec_in_container"));
    let big = json!({"container_id": c.id, "cmd": ["/testbox", "big:3000000"]});
    let r = agent.mcp_tool(MCP_KEY, "exec_in_container", big).await;
    assert_eq!(
        r["isError"],
        false,
        "cut to fit, not refused: {}",
        tool_text(&r)
    );
    assert_eq!(r["structuredContent"]["truncated"], true);
    let kept = r["structuredContent"]["stdout"].as_str().unwrap().len();
    assert!((1000..1 << 20).contains(&kept), "{kept}");
    let bad = json!({"container_id": c.id, "cmd": ["/testbox"], "shell": true});
    let r = agent.mcp_tool(MCP_KEY, "exec_in_container", bad).await;
    assert_eq!(r["isError"], true);
    assert!(tool_text(&r).contains("shell"), "{r}");
}
