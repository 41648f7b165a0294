//! Container scope on every surface, walked as a table: each REST route
//! (from the router's own table), each WebSocket stream and each MCP tool,
//! given a container out of scope by full id, id prefix and name, must
//! answer exactly as it does for a container that does not exist, while a
//! container in scope works; lists, health counts and the events stream
//! leave the out-of-scope one out.

use crate::util::*;
use docker_agent::ops;
use docker_agent::router::routes;
use hyper::Method;
use serde_json::{Value, json};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);

/// An agent scoped to a label of this test's own, one container carrying
/// it and one not.
struct Scoped {
    label: String,
    inside: Container,
    outside: Container,
    agent: Agent,
    token: String,
}

impl Scoped {
    async fn start() -> Scoped {
        let label = format!("docker-agent-policy={}", unique_name("scope"));
        let inside = Container::run(&["--label", &label], &["every:100"]);
        let outside = Container::run(&[], &["every:100"]);
        let vars = [
            ("SCOPE_LABEL", label.as_str()),
            ("RATE_LIMIT_ENABLED", "false"),
            ("EXEC_ENABLED", "true"),
            // Scope alone: a person's confirmation is the `confirm` tests'.
            ("MCP_CONFIRM", "off"),
        ];
        let agent = Agent::start(&vars).await;
        let token = agent.token().await;
        Scoped {
            label,
            inside,
            outside,
            agent,
            token,
        }
    }
}

/// A reference to a container as a caller may write it.
fn forms(c: &Container) -> [String; 3] {
    [c.id.clone(), c.id[..16].to_string(), c.name.clone()]
}

/// The same three forms for a container that does not exist.
fn missing_forms() -> [String; 3] {
    let hex = docker_agent::policy::tokens::generate()[4..].to_string();
    [hex.clone(), hex[..16].to_string(), unique_name("missing")]
}

/// What an answer says once the reference in it is blanked out.
fn blank(text: &str, reference: &str) -> String {
    text.replace(reference, "{ref}")
}

/// How the scope applies to a route of the router's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Row {
    /// The hosts of the fleet: this host's container counts are of its scope.
    Hosts,
    /// Names a container: refused as missing when it is out of scope.
    Container,
    /// A stream of one container: closed as for a missing one.
    ContainerStream,
    /// A command run in a container: refused as missing.
    Exec,
    /// A terminal in a container: closed as for a missing one.
    Terminal,
    /// The container list: leaves it out.
    List,
    /// Counts leave it out.
    Health,
    /// Events about it are left out.
    Events,
    /// Names no container (images are the host's, not a container's).
    Unscoped,
    /// Pulls an image: no container, and a body is needed (none: 422).
    Pull,
    /// Open routes: no caller, no container.
    Open,
    /// MCP transports: containers are reached through the tools, walked below.
    Mcp,
    /// Removes a container: refused as missing out of scope; in scope, a
    /// container of its own is removed.
    Removal,
    /// Creates a container: it carries the scope label, so it is listed.
    Create,
    /// Removes an image: images are the host's (a missing one is 404).
    ImageRemoval,
    /// Prometheus metrics: series of the containers in scope only.
    Metrics,
}

fn row(method: &str, path: &str) -> Row {
    match (method, path) {
        ("DELETE", "/api/v1/containers/{id}") => return Row::Removal,
        ("POST", "/api/v1/containers/") => return Row::Create,
        ("DELETE", "/api/v1/images/{image}") => return Row::ImageRemoval,
        _ => {}
    }
    match path {
        "/api/v1/containers/{id}/exec" => Row::Exec,
        "/api/v1/exec/ws/{id}" => Row::Terminal,
        p if p.contains("/ws/{id}") => Row::ContainerStream,
        p if p.contains("{id}") => Row::Container,
        "/api/v1/containers/" => Row::List,
        "/api/v1/health" => Row::Health,
        "/api/v1/hosts" => Row::Hosts,
        "/api/v1/events/ws" => Row::Events,
        "/api/v1/auth/check" | "/api/v1/images/" | "/api/v1/version" => Row::Unscoped,
        "/api/v1/volumes/" | "/api/v1/networks/" => Row::Unscoped,
        "/api/v1/auth/login" | "/api/v1/healthz" | "/api/v1/openapi.json" => Row::Open,
        "/" | "/ui/app.js" | "/ui/app.css" => Row::Open,
        "/api/v1/images/pull" => Row::Pull,
        "/mcp" | "/mcp/sse" | "/mcp/messages/" => Row::Mcp,
        "/metrics" => Row::Metrics,
        _ => panic!("no row for {method} {path}: say how the container scope applies to it"),
    }
}

/// How the scope applies to an MCP tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ToolRow {
    Hosts,
    Container,
    Removal,
    Create,
    ImageRemoval,
    List,
    Health,
    Unscoped,
    /// `pull_image`: no container (without arguments, a tool error).
    Pull,
}

fn tool_row(tool: &Value) -> ToolRow {
    let name = tool["name"].as_str().unwrap();
    let required = tool["inputSchema"]["required"].as_array().unwrap();
    match name {
        "remove_container" => ToolRow::Removal,
        "create_container" => ToolRow::Create,
        "remove_image" => ToolRow::ImageRemoval,
        _ if required.contains(&json!("container_id")) => ToolRow::Container,
        "list_containers" => ToolRow::List,
        "docker_health" => ToolRow::Health,
        "list_hosts" => ToolRow::Hosts,
        "docker_version" | "list_images" | "list_volumes" | "list_networks" => ToolRow::Unscoped,
        "pull_image" => ToolRow::Pull,
        _ => panic!("no row for the tool {name}: say how the container scope applies to it"),
    }
}

async fn call(s: &Scoped, method: &str, path: &str) -> Resp {
    call_with(s, method, path, b"").await
}

async fn call_with(s: &Scoped, method: &str, path: &str, body: &[u8]) -> Resp {
    let auth = format!("Bearer {}", s.token);
    let method = Method::from_bytes(method.as_bytes()).unwrap();
    s.agent
        .request(method, path, &[("authorization", &auth)], body)
        .await
}

/// The command the exec route, the terminal and the tool run.
const COMMAND: [&str; 2] = ["/testbox", "out:hi"];

/// A command run in a container: out of scope it is refused as missing,
/// in scope it runs.
async fn exec_route(s: &Scoped, template: &str) {
    let body = json!({"cmd": COMMAND}).to_string();
    let run = |id: &str| {
        let path = template.replace("{id}", id);
        let body = body.clone();
        async move { call_with(s, "POST", &path, body.as_bytes()).await }
    };
    for (out, missing) in forms(&s.outside).iter().zip(missing_forms()) {
        let (a, b) = (run(out).await, run(&missing).await);
        assert_eq!(a.status, 404, "{template} with {out}");
        assert_eq!(
            (a.status, blank(&String::from_utf8_lossy(&a.body), out)),
            (b.status, blank(&String::from_utf8_lossy(&b.body), &missing)),
        );
    }
    let ok = run(&s.inside.name).await;
    assert_eq!(ok.json()["stdout"], "hi\n", "{template} in scope");
}

/// A terminal: out of scope it closes as for a missing container, in
/// scope it runs the command to its end.
async fn terminal(s: &Scoped, template: &str) {
    let open = |id: &str| {
        let path = template.replace("{id}", id);
        format!(
            "{path}?token={}&cmd={}&cmd={}",
            s.token, COMMAND[0], COMMAND[1]
        )
    };
    for (out, missing) in forms(&s.outside).iter().zip(missing_forms()) {
        let a = next_text(&mut s.agent.ws(&open(out)).await, WAIT).await;
        let b = next_text(&mut s.agent.ws(&open(&missing)).await, WAIT).await;
        let (Err(Ending::Closed(4404, a)), Err(Ending::Closed(4404, b))) = (a, b) else {
            panic!("{template} with {out}: expected 4404 closes");
        };
        assert_eq!(blank(&a, out), blank(&b, &missing), "{template}");
    }
    let mut ws = s.agent.ws(&open(&s.inside.name)).await;
    let ended = next_text(&mut ws, WAIT).await;
    assert_eq!(
        ended,
        Err(Ending::Closed(1000, "exit 0".into())),
        "{template} in scope"
    );
}

/// A tool's arguments naming container `id`.
fn tool_args(name: &str, id: &str) -> Value {
    match name {
        "exec_in_container" => json!({"container_id": id, "cmd": COMMAND}),
        _ => json!({"container_id": id}),
    }
}

/// A route naming a container: out of scope it answers as missing, in scope it works.
async fn container_route(s: &Scoped, method: &str, template: &str) {
    for (out, missing) in forms(&s.outside).iter().zip(missing_forms()) {
        let a = call(s, method, &template.replace("{id}", out)).await;
        let b = call(s, method, &template.replace("{id}", &missing)).await;
        assert_eq!(a.status, 404, "{method} {template} with {out}");
        assert_eq!(
            (a.status, blank(&String::from_utf8_lossy(&a.body), out)),
            (b.status, blank(&String::from_utf8_lossy(&b.body), &missing)),
            "{method} {template}: out of scope answers as missing"
        );
        assert_eq!(a.header("content-type"), b.header("content-type"));
    }
    let ok = call(s, method, &template.replace("{id}", &s.inside.name)).await;
    assert_eq!(
        ok.status, 200,
        "{method} {template} in scope: {:?}",
        ok.body
    );
}

/// A removal: out of scope it answers as missing; in scope it removes a
/// container made for it.
async fn removal_route(s: &Scoped, method: &str, template: &str) {
    for (out, missing) in forms(&s.outside).iter().zip(missing_forms()) {
        let a = call(s, method, &template.replace("{id}", out)).await;
        let b = call(s, method, &template.replace("{id}", &missing)).await;
        assert_eq!(a.status, 404, "{method} {template} with {out}");
        assert_eq!(
            blank(&String::from_utf8_lossy(&a.body), out),
            blank(&String::from_utf8_lossy(&b.body), &missing),
        );
    }
    let spare = Container::run(&["--label", &s.label], &["wait"]);
    let path = format!("{}?force=true", template.replace("{id}", &spare.name));
    let ok = call(s, method, &path).await;
    assert_eq!(
        ok.status, 200,
        "{method} {template} in scope: {:?}",
        ok.body
    );
    assert!(!exists("container", &spare.id));
}

/// A create through the scoped agent: the new container carries the scope
/// label, so the agent lists it.
async fn create_route(s: &Scoped, args: Value, created: impl AsyncFnOnce(Value) -> Value) {
    let made = created(args).await;
    let id = made["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{made}"))
        .to_string();
    let _made = Made(id.clone());
    let list = call(s, "GET", "/api/v1/containers/").await.json();
    assert!(
        list["containers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| id.starts_with(c["id"].as_str().unwrap())),
        "{list}"
    );
}

fn create_args() -> Value {
    json!({"image": image(), "labels": {LABEL: "1"}, "cmd": ["wait"]})
}

/// A tool given a container out of scope answers as for a missing one.
async fn tool_out_of_scope(s: &Scoped, name: &str) {
    for (out, missing) in forms(&s.outside).iter().zip(missing_forms()) {
        let a = s.agent.mcp_tool(MCP_KEY, name, tool_args(name, out)).await;
        let b = s
            .agent
            .mcp_tool(MCP_KEY, name, tool_args(name, &missing))
            .await;
        assert_eq!(a["isError"], true, "{name} with {out}");
        assert_eq!(
            blank(tool_text(&a), out),
            blank(tool_text(&b), &missing),
            "{name}"
        );
        assert!(tool_text(&a).contains("not found"), "{a}");
    }
}

/// A stream of one container: out of scope it closes as for a missing one.
async fn container_stream(s: &Scoped, template: &str) {
    let open = |id: &str| format!("{}?token={}", template.replace("{id}", id), s.token);
    for (out, missing) in forms(&s.outside).iter().zip(missing_forms()) {
        let ending = |end| match end {
            Err(Ending::Closed(code, reason)) => (code, reason),
            other => panic!("{template}: expected a close, got {other:?}"),
        };
        let a = ending(next_text(&mut s.agent.ws(&open(out)).await, WAIT).await);
        let b = ending(next_text(&mut s.agent.ws(&open(&missing)).await, WAIT).await);
        assert_eq!(a.0, 4404, "{template} with {out}");
        assert_eq!(
            (a.0, blank(&a.1, out)),
            (b.0, blank(&b.1, &missing)),
            "{template}"
        );
    }
    let mut ws = s.agent.ws(&open(&s.inside.name)).await;
    assert!(
        next_text(&mut ws, WAIT).await.is_ok(),
        "{template} in scope"
    );
}

fn names(list: &Value) -> Vec<&str> {
    list["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect()
}

fn about(event: &Value, c: &Container) -> bool {
    let actor = &event["Actor"];
    actor["ID"] == c.id.as_str() || actor["Attributes"]["container"] == c.id.as_str()
}

/// Pauses and reconnects `c` (container and network events, no restart).
fn stir(c: &Container) {
    docker(&["pause", &c.id]);
    docker(&["unpause", &c.id]);
    docker(&["network", "disconnect", "bridge", &c.id]);
    docker(&["network", "connect", "bridge", &c.id]);
}

/// The events stream shows what happens to the container in scope and
/// nothing about any other — container events and network events alike.
async fn events_stream(s: &Scoped) {
    let path = format!(
        "/api/v1/events/ws?token={}&type=container&type=network",
        s.token
    );
    let mut ws = s.agent.ws(&path).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    stir(&s.outside);
    stir(&s.inside);
    let mut seen = Vec::new();
    loop {
        let event: Value = serde_json::from_str(&next_text(&mut ws, WAIT).await.unwrap()).unwrap();
        assert!(!about(&event, &s.outside), "out of scope: {event}");
        if event["Type"] == "container" {
            assert_eq!(
                event["Actor"]["ID"],
                s.inside.id.as_str(),
                "only the container in scope: {event}"
            );
        }
        let kind = format!(
            "{}:{}",
            event["Type"].as_str().unwrap(),
            event["Action"].as_str().unwrap()
        );
        let last = kind == "network:connect" && about(&event, &s.inside);
        seen.push(kind);
        if last {
            break;
        }
    }
    for kind in ["container:pause", "container:unpause", "network:disconnect"] {
        assert!(seen.contains(&kind.to_string()), "{kind} in {seen:?}");
    }
}

async fn health(s: &Scoped) {
    let h = call(s, "GET", "/api/v1/health").await.json();
    let running = i64::from(s.inside.status() == "running");
    assert_eq!(
        (
            h["containers_total"].as_i64(),
            h["containers_running"].as_i64()
        ),
        (Some(1), Some(running)),
        "{h}"
    );
    assert_eq!(
        h["scope"],
        json!({"label": s.label, "names": [], "exclude_label": null})
    );
}

#[tokio::test]
async fn out_of_scope_containers_are_missing_on_every_route_stream_and_tool() {
    let s = Scoped::start().await;
    let started = s.outside.inspect("{{.State.StartedAt}}");
    let mut walked = Vec::new();
    for (method, path) in routes() {
        let path = path.as_str();
        let kind = row(method, path);
        match kind {
            Row::Container => container_route(&s, method, path).await,
            Row::ContainerStream => container_stream(&s, path).await,
            Row::Exec => exec_route(&s, path).await,
            Row::Terminal => terminal(&s, path).await,
            Row::List => {
                let list = call(&s, method, path).await.json();
                assert!(names(&list).contains(&s.inside.name.as_str()));
                assert!(!names(&list).contains(&s.outside.name.as_str()), "{list}");
            }
            Row::Health => health(&s).await,
            Row::Hosts => {
                let h = call(&s, method, path).await.json();
                assert_eq!(h["hosts"][0]["containers"]["total"], 1, "{h}");
            }
            Row::Events => events_stream(&s).await,
            Row::Unscoped => assert_eq!(call(&s, method, path).await.status, 200, "{path}"),
            Row::Pull => assert_eq!(call(&s, method, path).await.status, 422, "{path}"),
            Row::Open => {}
            Row::Mcp => {}
            Row::Removal => removal_route(&s, method, path).await,
            Row::Create => {
                create_route(&s, create_args(), async |args| {
                    let auth = format!("Bearer {}", s.token);
                    let headers = [("authorization", auth.as_str())];
                    let body = args.to_string();
                    let r = s
                        .agent
                        .request(Method::POST, path, &headers, body.as_bytes())
                        .await;
                    r.json()
                })
                .await
            }
            Row::ImageRemoval => {
                let r = call(
                    &s,
                    method,
                    &path.replace("{image}", "docker-agent-no-such:1"),
                )
                .await;
                assert_eq!(r.status, 404, "{:?}", r.body);
            }
            Row::Metrics => {
                let text = String::from_utf8_lossy(&call(&s, method, path).await.body).to_string();
                let series = |c: &Container| format!("name=\"{}\"", c.name);
                assert!(text.contains(&series(&s.inside)), "{text}");
                assert!(!text.contains(&series(&s.outside)), "{text}");
                assert!(!text.contains(&s.outside.id), "{text}");
            }
        }
        walked.push(kind);
    }
    for kind in [
        Row::Container,
        Row::ContainerStream,
        Row::Exec,
        Row::Terminal,
    ] {
        assert!(walked.contains(&kind), "{kind:?}");
    }

    for (_, tool) in ops::tools() {
        let name = tool["name"].as_str().unwrap();
        match tool_row(&tool) {
            ToolRow::Container => {
                tool_out_of_scope(&s, name).await;
                let ok = s
                    .agent
                    .mcp_tool(MCP_KEY, name, tool_args(name, &s.inside.name))
                    .await;
                assert_eq!(ok["isError"], false, "{name} in scope: {ok}");
                if s.inside.status() == "exited" {
                    docker(&["start", &s.inside.id]); // after kill_container
                }
            }
            ToolRow::List => {
                let list = s.agent.mcp_tool(MCP_KEY, name, json!({})).await;
                let list = &list["structuredContent"];
                assert!(names(list).contains(&s.inside.name.as_str()));
                assert!(!names(list).contains(&s.outside.name.as_str()), "{list}");
            }
            ToolRow::Hosts => {
                let h = s.agent.mcp_tool(MCP_KEY, name, json!({})).await;
                let local = &h["structuredContent"]["hosts"][0];
                assert_eq!(local["containers"]["total"], 1, "{h}");
            }
            ToolRow::Health => {
                let h = s.agent.mcp_tool(MCP_KEY, name, json!({})).await;
                assert_eq!(h["structuredContent"]["containers_total"], 1, "{h}");
            }
            ToolRow::Unscoped => {
                let r = s.agent.mcp_tool(MCP_KEY, name, json!({})).await;
                assert_eq!(r["isError"], false, "{name}");
            }
            ToolRow::Pull => {
                let r = s.agent.mcp_tool(MCP_KEY, name, json!({})).await;
                assert!(tool_text(&r).contains("Field required"), "{r}");
            }
            ToolRow::Removal => {
                tool_out_of_scope(&s, name).await;
                let spare = Container::run(&["--label", &s.label], &["wait"]);
                let args = json!({"container_id": spare.name, "force": true});
                let ok = s.agent.mcp_tool(MCP_KEY, name, args).await;
                assert_eq!(ok["isError"], false, "{name} in scope: {ok}");
            }
            ToolRow::Create => {
                create_route(&s, create_args(), async |args| {
                    s.agent.mcp_tool(MCP_KEY, name, args).await["structuredContent"].clone()
                })
                .await
            }
            ToolRow::ImageRemoval => {
                let r = s
                    .agent
                    .mcp_tool(MCP_KEY, name, json!({"image": "docker-agent-no-such:1"}))
                    .await;
                assert!(
                    tool_text(&r).starts_with("Image 'docker-agent-no-such:1' not found"),
                    "{r}"
                );
            }
        }
    }

    assert_eq!(s.outside.status(), "running", "no action reached it");
    assert_eq!(s.outside.inspect("{{.State.StartedAt}}"), started);
}

#[tokio::test]
async fn an_id_prefix_means_the_one_container_in_scope_it_starts() {
    let s = Scoped::start().await;
    // Among all the daemon's containers one hex digit is almost surely
    // ambiguous; among those in scope it names the one.
    let one = &s.inside.id[..1];
    let resp = call(&s, "GET", &format!("/api/v1/containers/{one}")).await;
    assert_eq!(resp.status, 200, "{:?}", resp.body);
    assert_eq!(resp.json()["id"], s.inside.id.as_str());
    let other = if one == "0" { "1" } else { "0" };
    let resp = call(&s, "GET", &format!("/api/v1/containers/{other}")).await;
    assert_eq!(resp.status, 404);
}
