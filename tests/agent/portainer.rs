//! What users of Portainer and Dozzle expect, against the real daemon:
//! pause, unpause and kill; the stop timeout; the container list's filters;
//! the REST log parameters; volume and network lists; unknown query
//! parameters refused on every route and stream; `images_total`; stats of a
//! stopped container; and, on MCP, environment redaction and the log
//! tool's filters and byte cap.

use crate::util::*;
use docker_agent::router::routes;
use hyper::Method;
use serde_json::{Value, json};
use std::process::Command;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);

async fn agent(vars: &[(&str, &str)]) -> (Agent, String) {
    let mut all = vec![("RATE_LIMIT_ENABLED", "false")];
    all.extend_from_slice(vars);
    let agent = Agent::start(&all).await;
    let token = agent.token().await;
    (agent, token)
}

fn detail(resp: &Resp) -> String {
    resp.json()["detail"].to_string()
}

/// The first field error of a 422: `(parameter, type)`.
fn invalid(resp: &Resp) -> (String, String) {
    assert_eq!(resp.status, 422, "{:?}", resp.body);
    let first = &resp.json()["detail"][0];
    (
        first["loc"][1].as_str().unwrap().to_string(),
        first["type"].as_str().unwrap().to_string(),
    )
}

fn exit_code(c: &Container) -> String {
    c.inspect("{{.State.ExitCode}}")
}

#[tokio::test]
async fn pause_unpause_and_kill_change_what_docker_reports_and_conflicts_are_409() {
    let c = Container::run(&[], &["wait"]);
    let (agent, token) = agent(&[]).await;
    let act = |action: &str| {
        let path = format!("/api/v1/containers/{}/{action}", c.name);
        let (agent, token) = (&agent, token.clone());
        async move { agent.post(&path, Some(&token)).await }
    };

    let paused = act("pause").await;
    assert_eq!(paused.status, 200, "{:?}", paused.body);
    assert_eq!(paused.json()["status"], "paused");
    assert_eq!(c.status(), "paused");
    let again = act("pause").await;
    assert_eq!(again.status, 409);
    assert!(detail(&again).contains("is already paused"), "{again:?}");

    assert_eq!(act("unpause").await.json()["status"], "unpaused");
    assert_eq!(c.status(), "running");
    let again = act("unpause").await;
    assert_eq!(again.status, 409);
    assert!(detail(&again).contains("is not paused"), "{again:?}");

    let bad = act("kill?signal=SIGNOPE").await;
    assert_eq!(invalid(&bad), ("signal".into(), "enum".into()));
    assert_eq!(c.status(), "running", "a refused signal sends nothing");

    // The testbox ends with status 0 on SIGTERM: the named signal was sent.
    let killed = act("kill?signal=term").await;
    assert_eq!(killed.json()["status"], "killed");
    assert_eq!((c.status(), exit_code(&c)), ("exited".into(), "0".into()));
    let again = act("kill").await;
    assert_eq!(again.status, 409);
    assert!(detail(&again).contains("is not running"), "{again:?}");
    let paused = act("pause").await;
    assert_eq!(paused.status, 409, "pausing a stopped container");

    act("start").await;
    assert_eq!(act("kill").await.status, 200);
    assert_eq!(exit_code(&c), "137", "SIGKILL by default");
}

#[tokio::test]
async fn pause_unpause_and_kill_tools_act_as_the_routes_do() {
    let c = Container::run(&[], &["wait"]);
    let (agent, _) = agent(&[]).await;
    let tool = |name: &'static str, args: Value| {
        let agent = &agent;
        async move { agent.mcp_tool(MCP_KEY, name, args).await }
    };
    let id = json!({"container_id": c.name});
    let paused = tool("pause_container", id.clone()).await;
    assert_eq!(paused["structuredContent"]["status"], "paused", "{paused}");
    assert_eq!(c.status(), "paused");
    let again = tool("pause_container", id.clone()).await;
    assert_eq!(again["isError"], true);
    assert!(tool_text(&again).contains("already paused"), "{again}");
    tool("unpause_container", id.clone()).await;
    assert_eq!(c.status(), "running");

    let bad = tool(
        "kill_container",
        json!({"container_id": c.name, "signal": 99}),
    )
    .await;
    assert_eq!(bad["isError"], true);
    assert!(tool_text(&bad).contains("signal"), "{bad}");
    assert_eq!(c.status(), "running");
    let killed = tool(
        "kill_container",
        json!({"container_id": c.name, "signal": 9}),
    )
    .await;
    assert_eq!(killed["structuredContent"]["status"], "killed", "{killed}");
    assert_eq!((c.status(), exit_code(&c)), ("exited".into(), "137".into()));
}

#[tokio::test]
async fn the_stop_timeout_given_is_the_one_docker_uses() {
    // Each container takes 3 s to end after SIGTERM. Its own stop timeout
    // says the opposite of the one asked for, so the exit code tells which
    // one Docker used: 137 killed after the short one, 0 ended gracefully.
    let slow = ["termdelay:3000", "wait"];
    let patient = Container::run(&["--stop-timeout", "60"], &slow);
    let hurried = Container::run(&["--stop-timeout", "1"], &slow);
    let by_tool = Container::run(&["--stop-timeout", "60"], &slow);
    let (agent, token) = agent(&[]).await;

    let stop = |c: &Container, timeout: u32| {
        let path = format!("/api/v1/containers/{}/stop?timeout={timeout}", c.id);
        let (agent, token) = (&agent, token.clone());
        async move { agent.post(&path, Some(&token)).await }
    };
    assert_eq!(stop(&patient, 1).await.json()["status"], "stopped");
    assert_eq!(exit_code(&patient), "137", "killed after 1 s, not 60");
    assert_eq!(stop(&hurried, 20).await.json()["status"], "stopped");
    assert_eq!(exit_code(&hurried), "0", "given 20 s, not 1");

    let r = agent
        .mcp_tool(
            MCP_KEY,
            "stop_container",
            json!({"container_id": by_tool.name, "timeout": 1}),
        )
        .await;
    assert_eq!(r["structuredContent"]["status"], "stopped", "{r}");
    assert_eq!(exit_code(&by_tool), "137");

    let bad = stop(&by_tool, 301).await;
    assert_eq!(invalid(&bad), ("timeout".into(), "less_than_equal".into()));
}

fn names(list: &Value) -> Vec<String> {
    let mut names: Vec<String> = list["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn the_list_takes_dockers_filters_and_the_scope_still_applies() {
    let key = unique_name("filter");
    let (one, two) = (format!("{key}=one"), format!("{key}=two"));
    let running = Container::run(&["--label", &one], &["wait"]);
    let exited = Container::run(&["--label", &two], &["exit:0"]);
    let _ = docker(&["wait", &exited.id]);
    let (agent, token) = agent(&[]).await;
    let list = |query: String| {
        let (agent, token) = (&agent, token.clone());
        async move {
            let resp = agent
                .get(&format!("/api/v1/containers/?{query}"), Some(&token))
                .await;
            assert_eq!(resp.status, 200, "{query}: {:?}", resp.body);
            names(&resp.json())
        }
    };
    let mut both = vec![running.name.clone(), exited.name.clone()];
    both.sort();
    assert_eq!(list(format!("label={key}")).await, both);
    assert_eq!(
        list(format!("label={one}")).await,
        vec![running.name.clone()]
    );
    assert_eq!(
        list(format!("label={key}&status=exited")).await,
        vec![exited.name.clone()]
    );
    assert_eq!(
        list(format!("label={key}&status=exited&status=running")).await,
        both
    );
    assert_eq!(
        list(format!("name={}", exited.name)).await,
        vec![exited.name.clone()]
    );
    assert!(list(format!("label={key}&status=paused")).await.is_empty());

    let bad = agent
        .get("/api/v1/containers/?status=up", Some(&token))
        .await;
    assert_eq!(invalid(&bad), ("status".into(), "enum".into()));

    let by_tool = agent
        .mcp_tool(
            MCP_KEY,
            "list_containers",
            json!({"label": [key], "status": "exited"}),
        )
        .await;
    assert_eq!(
        names(&by_tool["structuredContent"]),
        vec![exited.name.clone()]
    );
    let bad = agent
        .mcp_tool(MCP_KEY, "list_containers", json!({"status": "up"}))
        .await;
    assert_eq!(bad["isError"], true);

    let (scoped, token) = self::agent(&[("SCOPE_LABEL", &one)]).await;
    let seen = scoped
        .get(&format!("/api/v1/containers/?label={key}"), Some(&token))
        .await;
    assert_eq!(names(&seen.json()), vec![running.name.clone()]);
}

/// Unix seconds of Docker's RFC 3339 timestamp, by the `date` CLI.
fn unix_of(rfc3339: &str) -> i64 {
    run_ok(Command::new("date").args(["-u", "-d", rfc3339, "+%s"]))
        .parse()
        .unwrap()
}

fn rfc3339_of(unix: i64) -> String {
    let at = format!("@{unix}");
    run_ok(Command::new("date").args(["-u", "-d", &at, "+%Y-%m-%dT%H:%M:%SZ"]))
}

#[tokio::test]
async fn rest_logs_take_since_until_timestamps_and_stream() {
    let c = Container::run(
        &[],
        &["out:early", "err:oops", "sleep:2500", "out:late", "wait"],
    );
    let (agent, token) = agent(&[]).await;
    let logs = |query: String| {
        let path = format!("/api/v1/containers/{}/logs?{query}", c.name);
        let (agent, token) = (&agent, token.clone());
        async move {
            let resp = agent.get(&path, Some(&token)).await;
            assert_eq!(resp.status, 200, "{query}: {:?}", resp.body);
            resp.json()["logs"].as_str().unwrap().to_string()
        }
    };
    let mut stamped = String::new();
    for _ in 0..100 {
        stamped = logs("timestamps=true".into()).await;
        if stamped.contains("late") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let late = stamped.lines().find(|l| l.ends_with(" late")).unwrap();
    let (time, _) = late.split_once(' ').unwrap();
    let late_at = unix_of(time);
    assert!(
        stamped.lines().all(|l| l.starts_with("20")),
        "every line stamped: {stamped:?}"
    );

    assert_eq!(logs("stream=stderr".into()).await, "oops\n");
    assert_eq!(logs("stream=stdout".into()).await, "early\nlate\n");
    let both = logs("stream=both".into()).await;
    let mut lines: Vec<&str> = both.lines().collect();
    lines.sort();
    assert_eq!(lines, ["early", "late", "oops"], "both streams");
    assert_eq!(logs(format!("since={late_at}")).await, "late\n");
    let until = rfc3339_of(late_at - 1);
    assert_eq!(
        logs(format!("until={until}&stream=stdout")).await,
        "early\n"
    );
    let bad = agent
        .get(
            &format!("/api/v1/containers/{}/logs?stream=stdin", c.name),
            Some(&token),
        )
        .await;
    assert_eq!(invalid(&bad), ("stream".into(), "enum".into()));
}

/// A labelled volume and network of this test, removed when dropped.
struct Objects {
    volume: String,
    network: String,
}

impl Objects {
    fn create() -> Objects {
        let name = unique_name("objects");
        let label = format!("{LABEL}=1");
        docker(&["volume", "create", "--label", &label, &name]);
        docker(&["network", "create", "--label", &label, &name]);
        Objects {
            volume: name.clone(),
            network: name,
        }
    }
}

impl Drop for Objects {
    fn drop(&mut self) {
        let _ = Command::new("docker")
            .args(["volume", "rm", "-f", &self.volume])
            .output();
        let _ = Command::new("docker")
            .args(["network", "rm", &self.network])
            .output();
    }
}

fn find<'a>(list: &'a Value, key: &str, name: &str) -> &'a Value {
    list[key]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == name)
        .unwrap_or_else(|| panic!("{name} not in {list}"))
}

#[tokio::test]
async fn volumes_and_networks_are_listed_on_rest_and_mcp() {
    let o = Objects::create();
    let (agent, token) = agent(&[]).await;
    let volumes = agent.get("/api/v1/volumes/", Some(&token)).await.json();
    assert_eq!(
        volumes["total"],
        volumes["volumes"].as_array().unwrap().len()
    );
    let v = find(&volumes, "volumes", &o.volume);
    assert_eq!(v["driver"], "local");
    assert_eq!(v["labels"][LABEL], "1");
    assert!(v["mountpoint"].as_str().unwrap().contains(&o.volume), "{v}");
    assert!(v["created"].as_i64().unwrap() > 1_600_000_000, "{v}");

    let networks = agent.get("/api/v1/networks", Some(&token)).await.json();
    let n = find(&networks, "networks", &o.network);
    let full = docker(&["network", "inspect", "--format", "{{.Id}}", &o.network]);
    assert_eq!(n["id"], &full[..12]);
    assert_eq!(
        (&n["driver"], &n["scope"]),
        (&json!("bridge"), &json!("local"))
    );
    assert_eq!(n["labels"][LABEL], "1");
    assert!(find(&networks, "networks", "bridge").is_object());

    for (tool, key, name) in [
        ("list_volumes", "volumes", &o.volume),
        ("list_networks", "networks", &o.network),
    ] {
        let r = agent.mcp_tool(MCP_KEY, tool, json!({})).await;
        assert_eq!(r["isError"], false, "{r}");
        assert_eq!(
            find(&r["structuredContent"], key, name)["labels"][LABEL],
            "1"
        );
    }
}

#[tokio::test]
async fn unknown_query_parameters_are_refused_on_every_route_and_stream() {
    let (agent, token) = agent(&[]).await;
    let auth = format!("Bearer {token}");
    let mut checked = 0;
    for (method, path) in routes() {
        let path = path.as_str();
        if path.starts_with("/mcp") {
            continue;
        }
        let path = path.replace("{id}", "x");
        if path.contains("/ws") {
            let url = format!("{path}?token={token}&bogus=1");
            let mut ws = agent.ws(&url).await;
            match next_text(&mut ws, WAIT).await {
                Err(Ending::Closed(1008, reason)) => {
                    assert!(
                        reason.contains("\"bogus\": Unknown query parameter"),
                        "{path}: {reason}"
                    )
                }
                other => panic!("{path}: expected close 1008, got {other:?}"),
            }
        } else {
            let method = Method::from_bytes(method.as_bytes()).unwrap();
            let resp = agent
                .request(
                    method,
                    &format!("{path}?bogus=1"),
                    &[("authorization", &auth)],
                    b"",
                )
                .await;
            assert_eq!(
                invalid(&resp),
                ("bogus".into(), "extra_forbidden".into()),
                "{path}"
            );
        }
        checked += 1;
    }
    assert!(checked >= 20, "{checked}");

    // The documented parameters still pass.
    let listed = agent
        .get("/api/v1/containers/?all=false", Some(&token))
        .await;
    assert_eq!(listed.status, 200);
    let logs = agent
        .get("/api/v1/containers/x/logs?tail=5", Some(&token))
        .await;
    assert_eq!(
        logs.status, 404,
        "x does not exist: past the parameter check"
    );
    let url = format!("/api/v1/events/ws?token={token}&colour=red");
    match next_text(&mut agent.ws(&url).await, WAIT).await {
        Err(Ending::Closed(code, reason)) => {
            assert_eq!(code, 1008);
            assert!(reason.contains("\"colour\""), "{reason}");
        }
        other => panic!("an unknown event filter: {other:?}"),
    }
}

#[tokio::test]
async fn images_total_counts_what_the_image_list_lists() {
    let (agent, token) = agent(&[]).await;
    // Other tests may add or remove images meanwhile: compare readings
    // taken while the list stayed the same.
    for _ in 0..10 {
        let before = agent.get("/api/v1/images/", Some(&token)).await.json()["total"].clone();
        let health = agent.get("/api/v1/health", Some(&token)).await.json();
        let after = agent.get("/api/v1/images/", Some(&token)).await.json()["total"].clone();
        if before == after {
            assert_eq!(health["images_total"], before, "{health}");
            assert!(before.as_u64().unwrap() >= 1);
            return;
        }
    }
    panic!("the image list never held still");
}

#[tokio::test]
async fn stats_of_a_stopped_container_are_a_409_on_rest_and_an_error_on_mcp() {
    let c = Container::create(&[], &["wait"]);
    let (agent, token) = agent(&[]).await;
    let resp = agent
        .get(&format!("/api/v1/stats/{}", c.name), Some(&token))
        .await;
    assert_eq!(resp.status, 409, "{:?}", resp.body);
    assert!(
        detail(&resp).contains("is not running (created)"),
        "{resp:?}"
    );
    let r = agent
        .mcp_tool(
            MCP_KEY,
            "get_container_stats",
            json!({"container_id": c.name}),
        )
        .await;
    assert_eq!(r["isError"], true);
    assert!(tool_text(&r).contains("is not running"), "{r}");
}

#[tokio::test]
async fn mcp_redacts_environment_values_unless_told_not_to() {
    let c = Container::run(&["-e", "DB_PASSWORD=hunter2-secret"], &["wait"]);
    let id = json!({"container_id": c.name});
    let (agent, token) = agent(&[]).await;
    let r = agent.mcp_tool(MCP_KEY, "get_container", id.clone()).await;
    let env = r["structuredContent"]["config"]["env"].as_array().unwrap();
    assert!(env.contains(&json!("DB_PASSWORD=<redacted>")), "{r}");
    assert!(!r.to_string().contains("hunter2"), "{r}");
    let uri = format!("docker://containers/{}", c.name);
    let read = agent
        .mcp(MCP_KEY, "resources/read", json!({"uri": uri}))
        .await;
    let read = read.json().to_string();
    assert!(
        read.contains("DB_PASSWORD=<redacted>") && !read.contains("hunter2"),
        "{read}"
    );
    let prompt = json!({"name": "diagnose_container", "arguments": {"container_id": c.name}});
    let prompt = agent
        .mcp(MCP_KEY, "prompts/get", prompt)
        .await
        .json()
        .to_string();
    assert!(
        prompt.contains("DB_PASSWORD=<redacted>") && !prompt.contains("hunter2"),
        "{prompt}"
    );
    let rest = agent
        .get(&format!("/api/v1/containers/{}", c.name), Some(&token))
        .await;
    assert!(
        rest.json()["config"]["env"]
            .as_array()
            .unwrap()
            .contains(&json!("DB_PASSWORD=hunter2-secret"))
    );

    let (shown, _) = self::agent(&[("MCP_REDACT_ENV", "false")]).await;
    let r = shown.mcp_tool(MCP_KEY, "get_container", id).await;
    let env = r["structuredContent"]["config"]["env"].as_array().unwrap();
    assert!(env.contains(&json!("DB_PASSWORD=hunter2-secret")), "{r}");
}

#[tokio::test]
async fn the_mcp_log_tool_filters_lines_and_caps_its_bytes() {
    let c = Container::run(
        &[],
        &[
            "out:alpha 1",
            "out:beta 2",
            "out:alpha 3",
            "lines:1000",
            "wait",
        ],
    );
    let (agent, _) = agent(&[]).await;
    let logs = |args: Value| {
        let agent = &agent;
        let mut args = args;
        args["container_id"] = json!(c.name);
        async move {
            let r = agent.mcp_tool(MCP_KEY, "get_container_logs", args).await;
            assert_eq!(r["isError"], false, "{r}");
            r["structuredContent"].clone()
        }
    };
    let mut got = json!(null);
    for _ in 0..100 {
        got = logs(json!({"tail": 10_000, "contains": "alpha"})).await;
        if got["logs"] == "alpha 1\nalpha 3\n" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(got["logs"], "alpha 1\nalpha 3\n");
    assert!(
        logs(json!({"contains": "ALPHA"})).await["logs"] == "",
        "case-sensitive"
    );

    let capped = logs(json!({"tail": 10_000, "max_bytes": 100})).await;
    let text = capped["logs"].as_str().unwrap();
    assert!(
        text.len() <= 100 && text.ends_with("line 1000\n"),
        "{text:?}"
    );
    assert!(text.starts_with("line "), "cut at a line start: {text:?}");
    assert_eq!(capped["truncated"], true);
    let whole = logs(json!({"tail": 3})).await;
    assert_eq!(whole["truncated"], false);

    let future = logs(json!({"since": 4_000_000_000u64})).await;
    assert_eq!(future["logs"], "");
    let past = logs(json!({"until": "2001-01-01T00:00:00Z"})).await;
    assert_eq!(past["logs"], "");
    let bad = agent
        .mcp_tool(
            MCP_KEY,
            "get_container_logs",
            json!({"container_id": c.name, "since": "yesterday"}),
        )
        .await;
    assert_eq!(bad["isError"], true);
    assert!(tool_text(&bad).contains("'since'"), "{bad}");
}

/// The README's Python MCP snippet: the one script that ends with
/// `asyncio.run(main())`, with the placeholders filled in.
fn readme_snippet(url: &str) -> String {
    let block = doc_block("README.md", "python", "asyncio.run(main())");
    assert!(!block.contains("._"), "no private SDK imports: {block}");
    assert!(
        !block.contains("mode="),
        "the SDK's default mode, as its own README connects: {block}"
    );
    block
        .replace("http://your-host:9000/mcp", url)
        .replace("YOUR_MCP_API_KEY", MCP_KEY)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_python_snippet_runs_as_pasted() {
    let c = Container::run(&[], &["wait"]);
    let (agent, _) = agent(&[]).await;
    let script = readme_snippet(&agent.url("/mcp"));
    let path = std::env::temp_dir().join(format!("{}.py", unique_name("readme")));
    std::fs::write(&path, script).unwrap();
    let out = tokio::task::block_in_place(|| {
        output_within(Command::new("python3").arg(&path), Duration::from_secs(180))
    });
    let _ = std::fs::remove_file(&path);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the README snippet failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&c.name),
        "it lists the containers: {stdout}"
    );
}
