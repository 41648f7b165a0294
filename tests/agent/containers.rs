//! Container, image, stats and system endpoints against real containers,
//! with every effect checked through Docker itself.

use crate::util::*;
use serde_json::{Value, json};

/// The container named `name` in a `/containers/` list.
pub(crate) fn find<'a>(list: &'a Value, name: &str) -> Option<&'a Value> {
    list["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
}

#[tokio::test]
async fn list_shows_running_and_stopped_containers_with_trailing_slash_or_not() {
    let running = Container::run(&["-p", "127.0.0.1::80"], &["wait"]);
    let stopped = Container::create(&[], &["wait"]);
    let agent = Agent::start(&[]).await;
    let token = agent.token().await;
    for path in [
        "/api/v1/containers/",
        "/api/v1/containers",
        "/api/v1/containers/?all=true",
    ] {
        let resp = agent.get(path, Some(&token)).await;
        assert_eq!(resp.status, 200, "{path}");
        let list = resp.json();
        assert_eq!(list["total"], list["containers"].as_array().unwrap().len());
        let c = find(&list, &running.name).expect("running container listed");
        assert_eq!(c["id"], &running.id[..12]);
        assert_eq!(c["image"], image());
        assert_eq!(c["state"], "running");
        assert_eq!(c["status"], "running");
        assert!(c["created"].as_i64().unwrap() > 1_600_000_000);
        let port = &c["ports"][0];
        assert_eq!(port["PrivatePort"], 80);
        assert_eq!(port["Type"], "tcp");
        assert_eq!(port["IP"], "127.0.0.1");
        let host_port =
            running.inspect(r#"{{(index (index .NetworkSettings.Ports "80/tcp") 0).HostPort}}"#);
        assert_eq!(port["PublicPort"].to_string(), host_port);
        assert_eq!(find(&list, &stopped.name).unwrap()["state"], "created");
    }
    let running_only = agent
        .get("/api/v1/containers/?all=false", Some(&token))
        .await
        .json();
    assert!(find(&running_only, &running.name).is_some());
    assert!(find(&running_only, &stopped.name).is_none());
}

#[tokio::test]
async fn the_list_says_what_docker_ps_says_with_exit_codes_and_health() {
    let exited = Container::run(&[], &["out:bye", "exit:3"]);
    let running = Container::run(&[], &["wait"]);
    let created = Container::create(&[], &["wait"]);
    let checked = Container::shell(
        &["--health-cmd", "true", "--health-interval", "1s"],
        &["sleep", "600"],
    );
    let agent = Agent::start(&[]).await;
    let token = agent.token().await;
    let mut list = Value::Null;
    for _ in 0..100 {
        list = agent.get("/api/v1/containers/", Some(&token)).await.json();
        let done =
            |c: &Container, field: &str, want: &str| find(&list, &c.name).unwrap()[field] == want;
        if done(&exited, "state", "exited") && done(&checked, "health", "healthy") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let shown = |c: &Container| find(&list, &c.name).unwrap().clone();

    let e = shown(&exited);
    assert_eq!(
        (e["state"].as_str(), e["status"].as_str()),
        (Some("exited"), Some("exited"))
    );
    assert_eq!(e["exit_code"], 3, "{e}");
    let text = e["status_text"].as_str().unwrap();
    assert!(
        text.starts_with("Exited (3) ") && text.ends_with(" ago"),
        "{text}"
    );
    assert_eq!(e["health"], Value::Null);
    assert_eq!(exited.inspect("{{.State.ExitCode}}"), "3");

    let r = shown(&running);
    assert!(r["status_text"].as_str().unwrap().starts_with("Up "), "{r}");
    assert_eq!(
        (&r["exit_code"], &r["health"]),
        (&Value::Null, &Value::Null)
    );

    let h = shown(&checked);
    assert_eq!(h["health"], "healthy", "{h}");
    assert!(
        h["status_text"].as_str().unwrap().ends_with(" (healthy)"),
        "{h}"
    );
    assert_eq!(checked.inspect("{{.State.Health.Status}}"), "healthy");

    let c = shown(&created);
    assert_eq!(c["status_text"], "Created");
    assert_eq!(
        (&c["exit_code"], &c["health"]),
        (&Value::Null, &Value::Null)
    );

    // The MCP tool lists the same fields.
    let r = agent
        .mcp_tool(MCP_KEY, "list_containers", json!({"name": exited.name}))
        .await;
    let listed = &r["structuredContent"]["containers"][0];
    assert_eq!(listed["exit_code"], 3, "{r}");
    let text = listed["status_text"].as_str().unwrap();
    assert!(text.starts_with("Exited (3) "), "{text}");
}

#[tokio::test]
async fn listing_containers_is_one_docker_call_however_many_there_are() {
    let _many: Vec<Container> = (0..5).map(|_| Container::create(&[], &["wait"])).collect();
    let path = temp_socket("count");
    let proxy = DaemonProxy::start(&path);
    let host = format!("unix://{}", path.display());
    let agent = Agent::start(&[("DOCKER_HOST", &host)]).await;
    let token = agent.token().await;
    let warm = agent.get("/api/v1/containers/", Some(&token)).await;
    assert!(warm.json()["total"].as_u64().unwrap() >= 5);
    let before = proxy.requests();
    let resp = agent.get("/api/v1/containers/", Some(&token)).await;
    assert_eq!(resp.status, 200);
    assert_eq!(
        proxy.requests() - before,
        1,
        "one Docker call for the whole list"
    );
}

#[tokio::test]
async fn detail_is_addressable_by_full_id_prefix_and_name() {
    let c = Container::run(
        &[
            "-e",
            "MODE=test",
            "--label",
            "tier=web",
            "--restart",
            "on-failure:3",
            "--memory",
            "64m",
        ],
        &["wait"],
    );
    let agent = Agent::start(&[]).await;
    let token = agent.token().await;
    let by_id = agent
        .get(&format!("/api/v1/containers/{}", c.id), Some(&token))
        .await
        .json();
    let by_prefix = agent
        .get(&format!("/api/v1/containers/{}", &c.id[..16]), Some(&token))
        .await
        .json();
    let by_name = agent
        .get(&format!("/api/v1/containers/{}", c.name), Some(&token))
        .await
        .json();
    assert_eq!(by_id, by_prefix);
    assert_eq!(by_id, by_name);
    let d = by_id;
    assert_eq!(d["id"], c.id);
    assert_eq!(d["short_id"], &c.id[..12]);
    assert_eq!(d["name"], c.name);
    assert_eq!(d["image"], image());
    assert_eq!(d["image_id"], c.inspect("{{.Image}}"));
    assert_eq!(d["status"], "running");
    assert_eq!(d["state"]["running"], true);
    assert_eq!(d["state"]["pid"].to_string(), c.inspect("{{.State.Pid}}"));
    assert_eq!(d["state"]["started_at"], c.inspect("{{.State.StartedAt}}"));
    assert_eq!(d["config"]["hostname"], &c.id[..12]);
    assert!(
        d["config"]["env"]
            .as_array()
            .unwrap()
            .contains(&json!("MODE=test"))
    );
    assert_eq!(d["config"]["cmd"], json!(["wait"]));
    assert_eq!(d["config"]["entrypoint"], json!(["/testbox"]));
    assert_eq!(d["config"]["labels"]["tier"], "web");
    assert_eq!(d["host_config"]["memory_limit"], 64 * 1024 * 1024);
    assert_eq!(
        d["host_config"]["restart_policy"],
        json!({"Name": "on-failure", "MaximumRetryCount": 3})
    );
    assert_eq!(d["host_config"]["privileged"], false);
    assert_eq!(
        d["networks"]["bridge"]["ip_address"],
        c.inspect("{{.NetworkSettings.Networks.bridge.IPAddress}}")
    );
    for key in ["created", "mounts", "ports"] {
        assert!(!d[key].is_null(), "{key}");
    }
}

#[tokio::test]
async fn ambiguous_id_prefix_is_a_clear_400() {
    let mut made = Vec::new();
    let prefix = loop {
        made.push(Container::create(&[], &["wait"]));
        let firsts: Vec<char> = made.iter().map(|c| c.id.chars().next().unwrap()).collect();
        if let Some(p) = firsts
            .iter()
            .find(|ch| firsts.iter().filter(|x| x == ch).count() > 1)
        {
            break *p;
        }
        assert!(
            made.len() <= 17,
            "pigeonhole guarantees a shared first digit"
        );
    };
    // Other containers on the host may share the digit too; the answer is ambiguous either way.
    let agent = Agent::start(&[]).await;
    let token = agent.token().await;
    let resp = agent
        .get(&format!("/api/v1/containers/{prefix}"), Some(&token))
        .await;
    assert_eq!(resp.status, 400, "{:?}", resp.body);
    assert!(
        resp.json()["detail"]
            .as_str()
            .unwrap()
            .contains("ambiguous")
    );
}

#[tokio::test]
async fn logs_return_stdout_and_stderr_in_order_and_honour_tail() {
    // Docker reads stdout and stderr in separate goroutines: pause between them so order is defined.
    let c = Container::run(
        &[],
        &[
            "out:first",
            "sleep:50",
            "err:second ✓",
            "sleep:50",
            "lines:5",
            "wait",
        ],
    );
    let agent = Agent::start(&[]).await;
    let token = agent.token().await;
    let path = format!("/api/v1/containers/{}/logs", c.name);
    let mut all = Value::Null;
    for _ in 0..50 {
        all = agent.get(&path, Some(&token)).await.json();
        if all["logs"].as_str().unwrap().contains("line 5") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(all["container_id"], c.name);
    assert_eq!(all["tail"], 100);
    assert_eq!(
        all["logs"],
        "first\nsecond ✓\nline 1\nline 2\nline 3\nline 4\nline 5\n"
    );
    let tail = agent
        .get(&format!("{path}?tail=2"), Some(&token))
        .await
        .json();
    assert_eq!(tail["logs"], "line 4\nline 5\n");
    assert_eq!(tail["tail"], 2);
    assert_eq!(tail["truncated"], false);
}

/// Polls the logs at `path` until they hold `needle`; returns that answer.
async fn logs_holding(agent: &Agent, token: &str, path: &str, needle: &str) -> Value {
    for _ in 0..100 {
        let body = agent.get(path, Some(token)).await.json();
        if body["logs"].as_str().unwrap().contains(needle) {
            return body;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the logs never held {needle:?}");
}

#[tokio::test]
async fn rest_tail_all_is_the_whole_log_within_the_size_cap_with_its_line_count() {
    use docker_agent::service::logs::MAX_LOG_BYTES;
    let agent = Agent::start(&[]).await;
    let token = agent.token().await;
    // More lines than a number may ask for, well under the cap: all of them.
    let many = Container::run(&[], &["lines:25000", "wait"]);
    let path = format!("/api/v1/containers/{}/logs?tail=all", many.id);
    let all = logs_holding(&agent, &token, &path, "line 25000\n").await;
    let text = all["logs"].as_str().unwrap();
    assert!(text.starts_with("line 1\nline 2\n"), "from the first line");
    assert_eq!(text.lines().count(), 25_000);
    assert_eq!(all["tail"], 25_000, "tail says how many lines came");
    assert_eq!(all["truncated"], false);
    let most = format!("/api/v1/containers/{}/logs?tail=10000", many.id);
    let most = agent.get(&most, Some(&token)).await.json();
    assert_eq!(most["logs"].as_str().unwrap().lines().count(), 10_000);
    assert_eq!(most["tail"], 10_000);

    // A log past the cap (about 9.2 MB): its newest whole lines, and said so.
    let huge = Container::run(&[], &["wide:9000", "wait"]);
    let last = format!("/api/v1/containers/{}/logs?tail=1", huge.id);
    logs_holding(&agent, &token, &last, "line 9000 ").await;
    let path = format!("/api/v1/containers/{}/logs?tail=ALL", huge.id);
    let body = agent.get(&path, Some(&token)).await.json();
    let text = body["logs"].as_str().unwrap();
    assert_eq!(body["truncated"], true);
    assert!(text.len() <= MAX_LOG_BYTES);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines.len() > 7000 && lines.len() < 9000,
        "{} lines",
        lines.len()
    );
    assert_eq!(body["tail"], lines.len());
    assert!(lines[0].starts_with("line "), "cut at a line start");
    assert!(lines.last().unwrap().starts_with("line 9000 "));
}

#[tokio::test]
async fn logs_are_capped_by_their_size_once_json_encoded() {
    use docker_agent::service::logs::MAX_LOG_BYTES;
    // Twelve lines of 120,000 control characters: 1.4 MB as logged, 8.6 MB
    // once JSON-escaped (each \u0001 takes six bytes).
    let line = format!("out:{}", "\u{1}".repeat(120_000));
    let mut steps = vec![line.as_str(); 12];
    steps.extend(["out:last \"line\"", "wait"]);
    let c = Container::run(&[], &steps);
    let agent = Agent::start(&[]).await;
    let token = agent.token().await;
    let path = format!("/api/v1/containers/{}/logs?tail=10000", c.id);
    let mut resp = agent.get(&path, Some(&token)).await;
    for _ in 0..50 {
        if resp.json()["logs"]
            .as_str()
            .unwrap()
            .ends_with("last \"line\"\n")
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        resp = agent.get(&path, Some(&token)).await;
    }
    assert!(
        resp.body.len() <= MAX_LOG_BYTES + 1024,
        "{} bytes sent",
        resp.body.len()
    );
    assert_eq!(
        resp.header("content-length"),
        Some(resp.body.len().to_string().as_str())
    );
    let body = resp.json();
    assert_eq!(body["truncated"], true);
    let logs = body["logs"].as_str().unwrap();
    assert!(
        logs.ends_with("last \"line\"\n"),
        "the newest lines are kept"
    );
    let lines: Vec<&str> = logs.lines().collect();
    assert!(lines.len() > 2 && lines.len() < 13, "{} lines", lines.len());
    let whole = "\u{1}".repeat(120_000);
    assert!(
        lines[..lines.len() - 1].iter().all(|l| *l == whole),
        "only whole lines, cut at a line start"
    );
}

#[tokio::test]
async fn logs_of_a_tty_container_are_returned_raw() {
    let c = Container::run(&["-t"], &["out:on a terminal", "wait"]);
    let agent = Agent::start(&[]).await;
    let token = agent.token().await;
    let path = format!("/api/v1/containers/{}/logs", c.id);
    let mut logs = String::new();
    for _ in 0..50 {
        logs = agent.get(&path, Some(&token)).await.json()["logs"]
            .as_str()
            .unwrap()
            .to_string();
        if !logs.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(logs, "on a terminal\r\n");
}

#[tokio::test]
async fn logs_tail_is_validated() {
    let agent = Agent::start(&[]).await;
    let token = agent.token().await;
    for (q, kind) in [
        ("-1", "greater_than_equal"),
        ("10001", "less_than_equal"),
        ("ten", "int_parsing"),
    ] {
        let resp = agent
            .get(&format!("/api/v1/containers/x/logs?tail={q}"), Some(&token))
            .await;
        assert_eq!(resp.status, 422, "tail={q}");
        let detail = &resp.json()["detail"][0];
        assert_eq!(detail["type"], kind);
        assert_eq!(detail["loc"], json!(["query", "tail"]));
    }
    let resp = agent
        .get("/api/v1/containers/?all=maybe", Some(&token))
        .await;
    assert_eq!(resp.status, 422);
    assert_eq!(resp.json()["detail"][0]["type"], "bool_parsing");
}

#[tokio::test]
async fn start_stop_restart_change_the_container_in_docker() {
    let c = Container::create(&[], &["wait"]);
    let agent = Agent::start(&[]).await;
    let token = agent.token().await;
    let act = |what: &'static str| {
        let path = format!("/api/v1/containers/{}/{what}", c.name);
        let (agent, token) = (&agent, &token);
        async move { agent.post(&path, Some(token)).await }
    };

    let started = act("start").await;
    assert_eq!(started.status, 200);
    assert_eq!(
        started.json(),
        json!({"container_id": c.name, "status": "started", "message": format!("Container {} started successfully", c.name)})
    );
    assert_eq!(c.status(), "running");
    assert_eq!(
        act("start").await.status,
        200,
        "starting a running container succeeds"
    );

    let first_start = c.inspect("{{.State.StartedAt}}");
    let restarted = act("restart").await;
    assert_eq!(restarted.json()["status"], "restarted");
    assert_eq!(c.status(), "running");
    assert_ne!(
        c.inspect("{{.State.StartedAt}}"),
        first_start,
        "restart really restarted"
    );

    let stopped = act("stop").await;
    assert_eq!(stopped.json()["status"], "stopped");
    assert_eq!(c.status(), "exited");
    assert_eq!(
        act("stop").await.status,
        200,
        "stopping a stopped container succeeds"
    );
}

#[tokio::test]
async fn restart_timeout_is_validated_and_used() {
    let c = Container::run(&[], &["wait"]);
    let agent = Agent::start(&[]).await;
    let token = agent.token().await;
    let bad = agent
        .post(
            &format!("/api/v1/containers/{}/restart?timeout=301", c.id),
            Some(&token),
        )
        .await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.json()["detail"][0]["loc"], json!(["query", "timeout"]));
    assert_eq!(
        c.status(),
        "running",
        "a refused action leaves the container as it was"
    );
    let ok = agent
        .post(
            &format!("/api/v1/containers/{}/restart?timeout=0", c.id),
            Some(&token),
        )
        .await;
    assert_eq!(ok.status, 200);
    assert_eq!(c.status(), "running");
}

#[tokio::test]
async fn failed_start_reports_docker_reason_and_leaves_container_as_it_was() {
    let c = Container::create(&["--entrypoint", "/does-not-exist"], &[]);
    let agent = Agent::start(&[]).await;
    let token = agent.token().await;
    let resp = agent
        .post(&format!("/api/v1/containers/{}/start", c.id), Some(&token))
        .await;
    assert_eq!(resp.status, 502);
    let detail = resp.json()["detail"].as_str().unwrap().to_string();
    assert!(detail.contains("does-not-exist"), "{detail}");
    assert_ne!(c.status(), "running");
}

#[tokio::test]
async fn conflicting_action_is_409_and_changes_nothing() {
    let c = Container::run(&[], &["wait"]);
    docker(&["pause", &c.id]);
    let agent = Agent::start(&[]).await;
    let token = agent.token().await;
    let resp = agent
        .post(&format!("/api/v1/containers/{}/start", c.id), Some(&token))
        .await;
    assert_eq!(resp.status, 409);
    assert_eq!(
        resp.json(),
        json!({"detail": "Conflict: cannot start a paused container, try unpause instead"})
    );
    assert_eq!(c.status(), "paused");
    docker(&["unpause", &c.id]);
}

#[tokio::test]
async fn stats_report_figures_for_a_running_container() {
    let c = Container::run(&["--memory", "32m"], &["wait"]);
    let agent = Agent::start(&[]).await;
    let token = agent.token().await;
    let resp = agent
        .get(&format!("/api/v1/stats/{}", c.name), Some(&token))
        .await;
    assert_eq!(resp.status, 200);
    let s = resp.json();
    assert_eq!(s["container_id"], c.name);
    assert_eq!(s["memory_limit"], 32 * 1024 * 1024);
    assert!(s["memory_usage"].as_u64().unwrap() > 0);
    let pct = s["memory_percent"].as_f64().unwrap();
    assert!(pct > 0.0 && pct <= 100.0);
    assert!(s["cpu_percent"].as_f64().unwrap() >= 0.0);
    for key in ["network_rx", "network_tx", "block_read", "block_write"] {
        assert!(s[key].is_u64(), "{key}");
    }
}

#[tokio::test]
async fn top_lists_the_processes_docker_runs_in_the_container() {
    let c = Container::run(&[], &["wait"]);
    let stopped = Container::create(&[], &["wait"]);
    let pid = c.inspect("{{.State.Pid}}");
    let agent = Agent::start(&[]).await;
    let token = agent.token().await;
    let resp = agent
        .get(&format!("/api/v1/containers/{}/top", c.name), Some(&token))
        .await;
    assert_eq!(resp.status, 200, "{:?}", resp.body);
    let top = resp.json();
    assert_eq!(top["container_id"], c.name);
    let titles: Vec<&str> = top["titles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    let column = titles
        .iter()
        .position(|t| *t == "PID")
        .expect("a PID column");
    let rows = top["processes"].as_array().unwrap();
    assert_eq!(top["total"], rows.len());
    assert!(
        rows.iter().any(|r| r[column] == pid.as_str()),
        "the container's main process {pid} in {rows:?}"
    );

    // ps options reach Docker; the titles follow them.
    let custom = agent
        .get(
            &format!("/api/v1/containers/{}/top?ps_args=-o%20pid,comm", c.id),
            Some(&token),
        )
        .await;
    assert_eq!(custom.status, 200, "{:?}", custom.body);
    assert_eq!(custom.json()["titles"], json!(["PID", "COMMAND"]));

    // The MCP tool answers the same.
    let result = agent
        .mcp_tool(
            MCP_KEY,
            "list_container_processes",
            json!({"container_id": c.name}),
        )
        .await;
    assert_eq!(result["isError"], false, "{result}");
    assert_eq!(result["structuredContent"]["titles"], top["titles"]);

    // Options that are not plain ps options never reach the host's ps.
    let bad = agent
        .get(
            &format!("/api/v1/containers/{}/top?ps_args=aux%3Bid", c.name),
            Some(&token),
        )
        .await;
    assert_eq!(bad.status, 422, "{:?}", bad.body);
    assert_eq!(bad.json()["detail"][0]["loc"], json!(["query", "ps_args"]));

    // A container that is not running has no processes.
    let resp = agent
        .get(
            &format!("/api/v1/containers/{}/top", stopped.name),
            Some(&token),
        )
        .await;
    assert_eq!(resp.status, 409, "{:?}", resp.body);
    assert!(
        resp.json()["detail"]
            .as_str()
            .unwrap()
            .contains("is not running")
    );
    let missing = agent
        .get("/api/v1/containers/no-such-container-xyz/top", Some(&token))
        .await;
    assert_eq!(missing.status, 404);
}

#[tokio::test]
async fn images_list_includes_the_test_image() {
    let agent = Agent::start(&[]).await;
    let token = agent.token().await;
    let list = agent.get("/api/v1/images/", Some(&token)).await.json();
    assert_eq!(list["total"], list["images"].as_array().unwrap().len());
    let img = list["images"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["tags"].as_array().unwrap().contains(&json!(image())))
        .expect("test image listed");
    let full_id = docker(&["image", "inspect", "--format", "{{.Id}}", image()]);
    assert_eq!(img["id"], &full_id[..17]);
    assert!(img["size"].as_i64().unwrap() > 0);
    assert!(img["created"].as_i64().unwrap() > 0);
    assert_eq!(agent.get("/api/v1/images", Some(&token)).await.status, 200);
}

#[tokio::test]
async fn version_and_health_describe_the_daemon() {
    let agent = Agent::start(&[]).await;
    let token = agent.token().await;
    let v = agent.get("/api/v1/version", Some(&token)).await.json();
    assert_eq!(
        v["docker_version"],
        docker(&["version", "--format", "{{.Server.Version}}"])
    );
    assert_eq!(
        v["api_version"],
        docker(&["version", "--format", "{{.Server.APIVersion}}"])
    );
    assert_eq!(v["os"], "linux");
    assert!(!v["arch"].as_str().unwrap().is_empty());

    let healthz = agent.get("/api/v1/healthz", None).await;
    assert_eq!(healthz.status, 200);
    assert_eq!(
        healthz.json(),
        json!({"status": "ok", "docker_connected": true})
    );

    let h = agent.get("/api/v1/health", Some(&token)).await.json();
    assert_eq!(h["status"], "ok");
    assert_eq!(h["docker_connected"], true);
    assert_eq!(
        h["cpus"].to_string(),
        docker(&["info", "--format", "{{.NCPU}}"])
    );
    assert!(h["containers_total"].as_i64().unwrap() >= h["containers_running"].as_i64().unwrap());
    assert!(h["images_total"].as_i64().unwrap() >= 1);
    assert!(h["memory_total"].as_i64().unwrap() > 0);
    assert_eq!(h["error"], Value::Null);
}

#[tokio::test]
async fn stops_waiting_on_a_slow_container_leave_reads_answering() {
    let slow = Container::run(&[], &["termdelay:120000", "wait"]);
    let agent = Agent::start(&[("RATE_LIMIT_ENABLED", "false")]).await;
    let token = agent.token().await;
    let path = format!("/api/v1/containers/{}/stop?timeout=60", slow.id);
    let mut stops = Vec::new();
    for n in 0..16 {
        let (token, path, addr) = (token.clone(), path.clone(), agent.addr);
        let source = if n % 2 == 0 { "127.0.0.7" } else { "127.0.0.8" };
        stops.push(tokio::spawn(async move {
            let mut s = connect_from(source, addr).await;
            send_on(&mut s, "POST", &path, Some(&token)).await.unwrap()
        }));
    }
    // Every stop is in: either waiting on Docker or turned away.
    let refused = {
        let mut refused = Vec::new();
        while refused.len() < 16 - docker_agent::service::WAITS_PER_CALLER {
            let i = guarded("a refusal", async {
                loop {
                    if let Some(i) = (0..stops.len()).find(|&i| stops[i].is_finished()) {
                        return i;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                }
            })
            .await;
            refused.push(stops.remove(i).await.unwrap());
        }
        refused
    };
    for r in &refused {
        assert_eq!(r.status, 429, "{}", r.body);
        assert!(r.body.contains("Too many stops and restarts"), "{}", r.body);
    }

    let mut reader = connect_from("127.0.0.9", agent.addr).await;
    let list = guarded(
        "the list",
        send_on(
            &mut reader,
            "GET",
            "/api/v1/containers/?all=true",
            Some(&token),
        ),
    )
    .await
    .unwrap();
    assert_eq!(list.status, 200, "{}", list.body);
    assert!(list.body.contains(&slow.name));
    assert!(
        stops.iter().all(|s| !s.is_finished()),
        "the stops are still waiting on the container"
    );

    docker(&["kill", &slow.id]);
    for stop in stops {
        let r = guarded("a stop", stop).await.unwrap();
        assert_eq!(r.status, 200, "{}", r.body);
    }
    assert_eq!(slow.status(), "exited");
}
