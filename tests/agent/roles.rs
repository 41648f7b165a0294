//! Who may do what: scoped API tokens and their roles on REST, WebSocket
//! and MCP, the login's and the MCP key's roles, the read-only modes, the
//! agent's own container, `docker-agent token new`, and tokens removed from
//! the file on SIGHUP.

use crate::util::*;
use docker_agent::app::App;
use docker_agent::config::Config;
use docker_agent::policy::{Role, own, tokens};
use hyper::Method;
use serde_json::{Value, json};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);
const ACTIONS: [&str; 6] = ["start", "stop", "restart", "pause", "unpause", "kill"];
const ACTION_TOOLS: [&str; 6] = [
    "start_container",
    "stop_container",
    "restart_container",
    "pause_container",
    "unpause_container",
    "kill_container",
];

/// How many tools a caller that may only read sees: those that change nothing.
fn read_tools() -> usize {
    tools_up_to(Role::Read)
}

/// How many tools the catalogue lists for a role (exec and confirmation
/// settings aside).
fn tools_up_to(role: Role) -> usize {
    docker_agent::ops::tools()
        .filter(|(o, _)| o.op.needs <= role && !o.op.runs_commands)
        .count()
}

fn detail(resp: &Resp) -> String {
    resp.json()["detail"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

async fn act(agent: &Agent, token: &str, action: &str, c: &Container) -> Resp {
    agent
        .post(
            &format!("/api/v1/containers/{}/{action}", c.name),
            Some(token),
        )
        .await
}

/// Each container action over REST is `403` with the detail `why` gives for it.
async fn refused(agent: &Agent, token: &str, c: &Container, why: impl Fn(&str) -> String) {
    for action in ACTIONS {
        let resp = act(agent, token, action, c).await;
        assert_eq!((resp.status, detail(&resp)), (403, why(action)), "{action}");
    }
}

#[tokio::test]
async fn a_read_token_may_look_and_follow_but_not_act_on_any_surface() {
    let c = Container::run(&[], &["every:100"]);
    let started = c.inspect("{{.State.StartedAt}}");
    let reader = tokens::generate();
    let file = tokens_file(&[("assistant", Role::Read, &reader)]);
    let agent = Agent::start(&[
        ("API_TOKENS_FILE", file.to_str().unwrap()),
        ("RATE_LIMIT_ENABLED", "false"),
    ])
    .await;

    let check = agent.get("/api/v1/auth/check", Some(&reader)).await.json();
    assert_eq!(
        check,
        json!({"authenticated": true, "username": "assistant", "role": "read", "read_only": false, "can_operate": false})
    );
    for path in [
        "/api/v1/containers/".to_string(),
        format!("/api/v1/containers/{}", c.name),
        format!("/api/v1/containers/{}/logs?tail=1", c.name),
        "/api/v1/health".to_string(),
    ] {
        assert_eq!(agent.get(&path, Some(&reader)).await.status, 200, "{path}");
    }
    refused(&agent, &reader, &c, |action| {
        format!("Role 'read' does not allow '{action}': it needs the 'operate' role")
    })
    .await;

    let query = format!("/api/v1/logs/ws/{}?token={reader}", c.name);
    let mut by_query = agent.ws(&query).await;
    assert!(
        next_text(&mut by_query, WAIT)
            .await
            .unwrap()
            .starts_with("tick")
    );
    let bearer = format!("Bearer {reader}");
    let stats = format!("/api/v1/stats/ws/{}", c.name);
    let mut by_header = agent.ws_with(&stats, &[("authorization", &bearer)]).await;
    let sample: Value =
        serde_json::from_str(&next_text(&mut by_header, WAIT).await.unwrap()).unwrap();
    assert!(sample["memory_usage"].is_u64(), "{sample}");

    let listed = agent.mcp_tool_names(&reader).await;
    assert_eq!(listed.len(), read_tools(), "{listed:?}");
    assert!(
        ACTION_TOOLS
            .iter()
            .all(|t| !listed.contains(&t.to_string()))
    );
    let refused = agent
        .mcp_tool(&reader, "stop_container", json!({"container_id": c.name}))
        .await;
    assert_eq!(refused["isError"], true);
    assert!(
        tool_text(&refused).starts_with("Role 'read' does not allow 'stop'"),
        "{refused}"
    );
    let list = agent.mcp_tool(&reader, "list_containers", json!({})).await;
    assert_eq!(list["isError"], false);

    assert_eq!(c.status(), "running");
    assert_eq!(c.inspect("{{.State.StartedAt}}"), started, "nothing acted");
}

#[tokio::test]
async fn an_operate_token_may_stop_and_start_over_rest_and_mcp() {
    let c = Container::run(&[], &["wait"]);
    let operator = tokens::generate();
    let file = tokens_file(&[("ops", Role::Operate, &operator)]);
    let agent = Agent::start(&[("API_TOKENS_FILE", file.to_str().unwrap())]).await;
    let stopped = act(&agent, &operator, "stop", &c).await;
    assert_eq!(stopped.status, 200, "{:?}", stopped.body);
    assert_eq!(c.status(), "exited");
    let started = agent
        .mcp_tool(&operator, "start_container", json!({"container_id": c.id}))
        .await;
    assert_eq!(started["isError"], false, "{started}");
    assert_eq!(c.status(), "running");
    assert_eq!(
        agent.mcp_tool_names(&operator).await.len(),
        tools_up_to(Role::Operate)
    );
}

#[tokio::test]
async fn api_role_and_mcp_role_set_the_roles_of_the_login_and_the_key() {
    let c = Container::run(&[], &["wait"]);
    let agent = Agent::start(&[("API_ROLE", "read"), ("MCP_ROLE", "read")]).await;
    let jwt = agent.token().await;
    assert_eq!(
        agent.get("/api/v1/containers/", Some(&jwt)).await.status,
        200
    );
    let resp = act(&agent, &jwt, "restart", &c).await;
    assert_eq!(resp.status, 403);
    assert!(detail(&resp).contains("Role 'read'"), "{}", detail(&resp));
    assert_eq!(agent.mcp_tool_names(MCP_KEY).await.len(), read_tools());
    let health = agent.get("/api/v1/health", Some(&jwt)).await.json();
    assert_eq!(
        health["roles"],
        json!({"login": "read", "mcp": "read", "tokens": {}})
    );
}

#[tokio::test]
async fn unknown_tokens_are_refused_on_every_surface() {
    let kept = tokens::generate();
    let file = tokens_file(&[("kept", Role::Admin, &kept)]);
    let agent = Agent::start(&[("API_TOKENS_FILE", file.to_str().unwrap())]).await;
    for stranger in [tokens::generate(), "dat_".to_string(), format!("{kept}0")] {
        let rest = agent.get("/api/v1/containers/", Some(&stranger)).await;
        assert_eq!(rest.status, 401, "{stranger}");
        assert_eq!(detail(&rest), "Invalid or expired token");
        let mcp = agent.mcp(&stranger, "tools/list", json!({})).await;
        assert_eq!(mcp.status, 401);
        let mut ws = agent
            .ws(&format!("/api/v1/events/ws?token={stranger}"))
            .await;
        assert_eq!(
            next_text(&mut ws, WAIT).await,
            Err(Ending::Closed(1008, "Invalid or expired token".into()))
        );
    }
    assert_eq!(agent.get("/api/v1/images/", Some(&kept)).await.status, 200);
}

#[tokio::test]
async fn read_only_refuses_every_change_on_every_surface() {
    let c = Container::run(&[], &["wait"]);
    let agent = Agent::start(&[("READ_ONLY", "true"), ("RATE_LIMIT_ENABLED", "false")]).await;
    let jwt = agent.token().await;
    refused(&agent, &jwt, &c, |action| {
        format!("The agent is read-only (READ_ONLY=true): '{action}' is refused")
    })
    .await;
    let listed = agent.mcp_tool_names(MCP_KEY).await;
    assert_eq!(listed.len(), read_tools(), "{listed:?}");
    for tool in ACTION_TOOLS {
        assert!(!listed.contains(&tool.to_string()), "{tool} hidden");
        let refused = agent
            .mcp_tool(MCP_KEY, tool, json!({"container_id": c.name}))
            .await;
        assert_eq!(refused["isError"], true, "{tool}");
        assert!(tool_text(&refused).contains("READ_ONLY=true"), "{refused}");
    }
    assert_eq!(c.status(), "running");
    let health = agent.get("/api/v1/health", Some(&jwt)).await.json();
    assert_eq!(
        (&health["read_only"], &health["mcp_read_only"]),
        (&json!(true), &json!(false))
    );
}

#[tokio::test]
async fn mcp_read_only_refuses_changes_over_mcp_and_leaves_rest_working() {
    let c = Container::run(&[], &["wait"]);
    let agent = Agent::start(&[("MCP_READ_ONLY", "true")]).await;
    let listed = agent.mcp_tool_names(MCP_KEY).await;
    assert!(
        ACTION_TOOLS
            .iter()
            .all(|t| !listed.contains(&t.to_string())),
        "{listed:?}"
    );
    let refused = agent
        .mcp_tool(MCP_KEY, "stop_container", json!({"container_id": c.name}))
        .await;
    assert!(
        tool_text(&refused).contains("MCP_READ_ONLY=true"),
        "{refused}"
    );
    assert_eq!(c.status(), "running");
    let jwt = agent.token().await;
    let stopped = act(&agent, &jwt, "stop", &c).await;
    assert_eq!(stopped.status, 200, "{:?}", stopped.body);
    assert_eq!(c.status(), "exited", "REST still acts");
    let health = agent.get("/api/v1/health", Some(&jwt)).await.json();
    assert_eq!(health["mcp_read_only"], true);
}

#[tokio::test]
async fn the_agent_finds_its_own_container_and_refuses_to_stop_or_restart_it() {
    let c = Container::run(&[], &["wait"]);
    let pid = c.inspect("{{.State.Pid}}");
    let proc_file = |name: &str| std::fs::read_to_string(format!("/proc/{pid}/{name}")).unwrap();
    assert_eq!(
        own::from_mountinfo(&proc_file("mountinfo")),
        Some(c.id.clone())
    );
    if let Some(found) = own::from_cgroup(&proc_file("cgroup")) {
        assert_eq!(found, c.id, "a cgroup path names it, when it names any");
    }
    let started = c.inspect("{{.State.StartedAt}}");
    for own_id in [c.id.clone(), c.id[..12].to_string()] {
        let config = Config::from_vars(&test_vars(&[])).unwrap();
        let agent = Agent::serve(App::in_container(config, Some(own_id))).await;
        let jwt = agent.token().await;
        for action in ["stop", "restart"] {
            let resp = act(&agent, &jwt, action, &c).await;
            assert_eq!(resp.status, 409, "{action}");
            assert!(
                detail(&resp).contains("runs this agent"),
                "{}",
                detail(&resp)
            );
        }
        let refused = agent
            .mcp_tool(MCP_KEY, "restart_container", json!({"container_id": c.id}))
            .await;
        assert!(tool_text(&refused).contains("runs this agent"), "{refused}");
        assert_eq!(
            act(&agent, &jwt, "start", &c).await.status,
            200,
            "starting is harmless"
        );
    }
    assert_eq!(c.status(), "running");
    assert_eq!(c.inspect("{{.State.StartedAt}}"), started);
}

/// Runs `docker-agent` with `args` (no environment): exit code, stdout, stderr.
fn agent_command(args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_docker-agent"))
        .args(args)
        .env_clear()
        .output()
        .unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (
        out.status.code().unwrap_or(-1),
        text(&out.stdout),
        text(&out.stderr),
    )
}

/// The binary's environment for a test agent, with `extra`.
fn binary_env<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut env = vec![
        ("SECRET_KEY", SECRET),
        ("API_PASSWORD", PASSWORD),
        ("MCP_API_KEY", MCP_KEY),
    ];
    env.extend_from_slice(extra);
    env
}

#[tokio::test]
async fn token_new_prints_a_token_and_the_line_that_admits_it() {
    let (code, stdout, stderr) = agent_command(&["token", "new", "--name", "ci", "--role", "read"]);
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    let [token, line] = lines[..] else {
        panic!("two lines: {stdout:?}");
    };
    assert!(token.starts_with("dat_") && token.len() == 68, "{token}");
    assert!(
        token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_'),
        "URL-safe"
    );
    let fields: Vec<&str> = line.split(' ').collect();
    assert_eq!(fields[..2], ["ci", "read"]);
    assert_eq!(fields[2].len(), 64);

    let dir = temp_dir("token-new");
    std::fs::write(dir.join("tokens"), format!("{line}\n")).unwrap();
    let file = dir.join("tokens");
    let env = binary_env(&[("API_TOKENS_FILE", file.to_str().unwrap())]);
    let mut process = Process::spawn(&dir, &env);
    let agent = Agent::at(process.address().parse().unwrap());
    let check = agent.get("/api/v1/auth/check", Some(token)).await;
    assert_eq!(check.json()["username"], "ci");
    let c = Container::run(&[], &["wait"]);
    assert_eq!(
        act(&agent, token, "stop", &c).await.status,
        403,
        "a read token"
    );
    let (_, output) = process.terminate();
    assert!(
        !output.join("\n").contains(token),
        "the token is never logged"
    );

    for bad in [
        &["token", "new", "--name", "ci"][..],
        &["token", "new", "--name", "ci", "--role", "root"],
        &["token", "new", "--name", "c i", "--role", "read"],
        &[
            "token", "new", "--name", "ci", "--role", "read", "--role", "admin",
        ],
        &["token", "old", "--name", "ci", "--role", "read"],
        &["token"],
    ] {
        let (code, stdout, stderr) = agent_command(bad);
        assert_eq!((code, stdout.as_str()), (2, ""), "{bad:?}");
        assert!(stderr.starts_with("docker-agent token: "), "{stderr}");
    }
}

#[test]
fn a_bad_tokens_file_stops_the_start_naming_the_file_and_the_line() {
    let dir = temp_dir("bad-tokens");
    let file = dir.join("tokens");
    std::fs::write(&file, "# ok\n\nci read not-a-hash\n").unwrap();
    let env = binary_env(&[("API_TOKENS_FILE", file.to_str().unwrap())]);
    let (code, out) = Process::spawn(&dir, &env).wait_exit();
    assert_eq!(code, 2, "{out}");
    let want = format!(
        "API_TOKENS_FILE: {}: line 3: the hash must be 64 hex digits",
        file.display()
    );
    assert!(out.contains(&want), "{out}");
}

/// Opens a legacy SSE session with `credential` in the query; its id.
async fn sse_session(agent: &Agent, credential: &str) -> (tokio::net::TcpStream, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(agent.addr).await.unwrap();
    let request = format!("GET /mcp/sse?api_key={credential} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = tokio::time::timeout(WAIT, stream.read(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert!(
            n > 0,
            "the stream ended: {}",
            String::from_utf8_lossy(&seen)
        );
        seen.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&seen);
        if let Some(at) = text.find("session_id=") {
            let id: String = text[at + 11..]
                .chars()
                .take_while(char::is_ascii_hexdigit)
                .collect();
            if id.len() == 32 {
                return (stream, id);
            }
        }
    }
}

async fn sse_message(agent: &Agent, session: &str) -> u16 {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).to_string();
    let path = format!("/mcp/messages/?session_id={session}");
    agent
        .request(
            Method::POST,
            &path,
            &[("content-type", "application/json")],
            body.as_bytes(),
        )
        .await
        .status
}

#[tokio::test]
async fn a_token_removed_from_the_file_stops_working_at_sighup_and_its_streams_close() {
    let (gone, kept) = (tokens::generate(), tokens::generate());
    let dir = temp_dir("revoke");
    let file = dir.join("tokens");
    write_tokens(
        &file,
        &[("gone", Role::Read, &gone), ("kept", Role::Read, &kept)],
    );
    let env = binary_env(&[("API_TOKENS_FILE", file.to_str().unwrap())]);
    let mut process = Process::spawn(&dir, &env);
    let agent = Agent::at(process.address().parse().unwrap());

    let quiet = "type=container&container=no-such-container-ever";
    let mut gone_ws = agent
        .ws(&format!("/api/v1/events/ws?{quiet}&token={gone}"))
        .await;
    let kept_header = format!("Bearer {kept}");
    let path = format!("/api/v1/events/ws?{quiet}");
    let mut kept_ws = agent
        .ws_with(&path, &[("authorization", &kept_header)])
        .await;
    let (_sse, session) = sse_session(&agent, &gone).await;
    assert_eq!(
        sse_message(&agent, &session).await,
        202,
        "the session admits its messages"
    );
    assert_eq!(agent.mcp_tool_names(&gone).await.len(), read_tools());
    assert_eq!(
        next_text(&mut gone_ws, Duration::from_millis(300)).await,
        Err(Ending::Silent)
    );

    // A file that does not parse keeps the tokens in force.
    std::fs::write(&file, "gone read broken\n").unwrap();
    let pid = process.pid().to_string();
    run_ok(std::process::Command::new("kill").args(["-HUP", &pid]));
    process.wait_line("API_TOKENS_FILE reload failed");
    assert_eq!(agent.get("/api/v1/images/", Some(&gone)).await.status, 200);

    write_tokens(&file, &[("kept", Role::Read, &kept)]);
    run_ok(std::process::Command::new("kill").args(["-HUP", &pid]));
    process.wait_line("API tokens reloaded");
    assert_eq!(
        next_text(&mut gone_ws, WAIT).await,
        Err(Ending::Closed(
            1008,
            "token revoked: it is no longer in API_TOKENS_FILE".into()
        ))
    );
    assert_eq!(agent.get("/api/v1/images/", Some(&gone)).await.status, 401);
    assert_eq!(agent.mcp(&gone, "tools/list", json!({})).await.status, 401);
    assert_eq!(
        sse_message(&agent, &session).await,
        401,
        "the session's token is gone"
    );
    assert_eq!(
        next_text(&mut kept_ws, Duration::from_millis(300)).await,
        Err(Ending::Silent),
        "the other token's stream goes on"
    );
    assert_eq!(agent.get("/api/v1/images/", Some(&kept)).await.status, 200);
    let (code, _) = process.terminate();
    assert_eq!(code, 0, "SIGHUP reloaded, it did not end the agent");
}

/// A token line made by the binary: `token new` with `--marks`.
fn marked_token(name: &str, role: &str, marks: &str) -> (String, String) {
    let out = run_ok(
        std::process::Command::new(env!("CARGO_BIN_EXE_docker-agent")).args([
            "token", "new", "--name", name, "--role", role, "--marks", marks,
        ]),
    );
    let mut lines = out.lines();
    let (token, line) = (lines.next().unwrap(), lines.next().unwrap());
    assert!(line.ends_with(&format!(" {marks}")), "{line}");
    (token.to_string(), line.to_string())
}

#[tokio::test]
async fn a_credentials_restrictions_hold_on_every_surface_it_reaches() {
    let c = Container::run(&["-e", "DB_PASSWORD=hunter2"], &["wait"]);
    let (bot, bot_line) = marked_token("bot", "admin", "mcp");
    let ci = tokens::generate();
    let file = temp_dir("marked").join("tokens");
    std::fs::write(
        &file,
        format!("{bot_line}\n{}\n", tokens::line("ci", Role::Admin, &ci)),
    )
    .unwrap();
    let agent = Agent::start(&[
        ("API_TOKENS_FILE", file.to_str().unwrap()),
        ("MCP_READ_ONLY", "true"),
        ("RATE_LIMIT_ENABLED", "false"),
    ])
    .await;
    let restart = json!({"container_id": c.name});

    // The token that takes the MCP key's restrictions is read-only everywhere.
    let refused = agent
        .mcp_tool(&bot, "restart_container", restart.clone())
        .await;
    assert_eq!(refused["isError"], true, "{refused}");
    let resp = act(&agent, &bot, "restart", &c).await;
    assert_eq!(
        (resp.status, detail(&resp)),
        (
            403,
            "The token 'bot' (marked mcp in API_TOKENS_FILE) is read-only: 'restart' is refused"
                .to_string()
        )
    );
    let check = agent.get("/api/v1/auth/check", Some(&bot)).await.json();
    assert_eq!(
        (&check["read_only"], &check["can_operate"]),
        (&json!(true), &json!(false))
    );
    let env = agent
        .get(&format!("/api/v1/containers/{}", c.name), Some(&bot))
        .await
        .json()["config"]["env"]
        .clone();
    assert!(
        env.as_array()
            .unwrap()
            .contains(&json!("DB_PASSWORD=<redacted>")),
        "{env}"
    );

    // An unmarked token is its role alone, on MCP as on REST.
    let started = c.inspect("{{.State.StartedAt}}");
    let done = agent.mcp_tool(&ci, "restart_container", restart).await;
    assert_eq!(done["isError"], false, "{done}");
    assert_ne!(c.inspect("{{.State.StartedAt}}"), started);
    assert_eq!(act(&agent, &ci, "restart", &c).await.status, 200);
    let shown = agent
        .mcp_tool(&ci, "get_container", json!({"container_id": c.name}))
        .await;
    assert!(tool_text(&shown).contains("DB_PASSWORD=hunter2"), "{shown}");
    assert_eq!(c.status(), "running");
}

#[tokio::test]
async fn a_confirmation_a_credential_needs_is_asked_on_mcp_and_refused_over_rest() {
    let c = Container::run(&[], &["wait"]);
    let (bot, bot_line) = marked_token("bot", "admin", "confirm=actions");
    let file = temp_dir("marked").join("tokens");
    std::fs::write(&file, format!("{bot_line}\n")).unwrap();
    let agent = Agent::start(&[
        ("API_TOKENS_FILE", file.to_str().unwrap()),
        ("RATE_LIMIT_ENABLED", "false"),
    ])
    .await;
    let resp = act(&agent, &bot, "stop", &c).await;
    assert_eq!(resp.status, 403, "{:?}", resp.body);
    assert!(
        detail(&resp).contains("needs a person's yes to 'stop', which only MCP can ask"),
        "{}",
        detail(&resp)
    );
    let mut ws = agent
        .ws(&format!(
            "/api/v1/exec/ws/{}?token={bot}&cmd=/testbox",
            c.id
        ))
        .await;
    assert!(
        matches!(next_text(&mut ws, WAIT).await, Err(Ending::Closed(1008, _))),
        "the terminal is refused too"
    );
    let asked = agent
        .mcp_tool(&bot, "stop_container", json!({"container_id": c.name}))
        .await;
    assert_eq!(asked["isError"], true, "{asked}");
    assert!(
        tool_text(&asked).starts_with(
            "Not done: Its marks in API_TOKENS_FILE (confirm=actions) requires a person to confirm stop_container, and this client cannot ask one"
        ),
        "{asked}"
    );
    let mut params = json!({"name": "stop_container", "arguments": {"container_id": c.name}});
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {"elicitation": {}},
    });
    let auth = format!("Bearer {bot}");
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params});
    let headers = [
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
        ("mcp-protocol-version", "2026-07-28"),
        ("mcp-method", "tools/call"),
        ("mcp-name", "stop_container"),
    ];
    let resp = agent
        .request(Method::POST, "/mcp", &headers, body.to_string().as_bytes())
        .await;
    let result = &resp.json()["result"];
    assert_eq!(result["resultType"], "input_required", "{result}");
    assert_eq!(c.status(), "running", "nothing done without a yes");
}
