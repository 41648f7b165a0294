//! MCP resources, resource templates, subscriptions and prompts over real
//! HTTP, against real containers: an agent scoped to a label of the test's
//! own, so a container without it must be invisible — not listed, not
//! readable, not subscribable, and silent on every notification stream —
//! and the official Python SDK as an independent client on both eras.

use crate::mcp::{bearer, end_session, in_session, initialize, meta, modern, open_sse, post};
use crate::util::*;
use docker_agent::mcp::listen::STREAMS_PER_CLIENT;
use hyper::Method;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

const LIST: &str = "docker://containers";

/// An agent scoped to this test's label; two containers carry it, one does not.
struct Scoped {
    label: String,
    inside: Container,
    second: Container,
    outside: Container,
    agent: Agent,
}

impl Scoped {
    async fn start(extra: &[(&str, &str)]) -> Scoped {
        let label = format!("docker-agent-resources={}", unique_name("res"));
        let inside = Container::run(&["--label", &label], &["out:hello resources", "wait"]);
        let second = Container::run(&["--label", &label], &["wait"]);
        let outside = Container::run(&[], &["out:secret outside", "wait"]);
        let mut vars = vec![
            ("SCOPE_LABEL", label.as_str()),
            ("RATE_LIMIT_ENABLED", "false"),
        ];
        vars.extend_from_slice(extra);
        let agent = Agent::start(&vars).await;
        Scoped {
            label,
            inside,
            second,
            outside,
            agent,
        }
    }

    fn in_scope(&self) -> Container {
        Container::run(&["--label", &self.label], &["wait"])
    }
}

fn uri(c: &Container) -> String {
    format!("{LIST}/{}", &c.id[..12])
}

/// The result of a stateless request, which must succeed.
async fn result(agent: &Agent, method: &str, params: Value) -> Value {
    let resp = modern(agent, method, params).await;
    assert_eq!(resp.status, 200, "{method}: {:?}", resp.body);
    let body = resp.json();
    assert!(body.get("error").is_none(), "{method}: {body}");
    body["result"].clone()
}

/// The JSON-RPC error code of a stateless request.
async fn error_of(agent: &Agent, method: &str, params: Value) -> (i64, Value) {
    let body = modern(agent, method, params).await.json();
    let e = &body["error"];
    (e["code"].as_i64().unwrap_or_default(), e["data"].clone())
}

fn read(uri: &str) -> Value {
    json!({"uri": uri, "name": uri})
}

#[tokio::test]
async fn resources_are_listed_in_pages_and_read_within_the_scope() {
    let s = Scoped::start(&[("MCP_PAGE_SIZE", "1")]).await;
    let (a, mut params, mut uris) = (&s.agent, json!({}), Vec::new());
    loop {
        let page = result(a, "resources/list", params.clone()).await;
        assert_eq!(page["resultType"], "complete");
        assert!(page["ttlMs"].as_u64().unwrap() > 0 && page["cacheScope"] == "private");
        let listed = page["resources"].as_array().unwrap();
        assert_eq!(listed.len(), 1, "a page of MCP_PAGE_SIZE");
        uris.push(listed[0]["uri"].as_str().unwrap().to_string());
        match page.get("nextCursor") {
            Some(c) => params = json!({"cursor": c}),
            None => break,
        }
    }
    let mut ids = [uri(&s.inside), uri(&s.second)];
    ids.sort();
    assert_eq!(
        uris,
        [LIST, &ids[0], &ids[1]],
        "the list, then by id; nothing out of scope"
    );
    let (code, _) = error_of(a, "resources/list", json!({"cursor": "not-ours"})).await;
    assert_eq!(code, -32602, "an invalid cursor");

    let templates = result(a, "resources/templates/list", json!({})).await;
    let t: Vec<&str> = templates["resourceTemplates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["uriTemplate"].as_str().unwrap())
        .collect();
    assert_eq!(
        t,
        ["docker://containers/{id}", "docker://containers/{id}/logs"]
    );
    assert!(templates["ttlMs"].is_u64() && templates["cacheScope"] == "public");

    let detail = result(a, "resources/read", read(&uri(&s.inside))).await;
    assert!(detail["ttlMs"].is_u64() && detail["cacheScope"] == "private");
    let content = &detail["contents"][0];
    assert_eq!(
        (&content["uri"], &content["mimeType"]),
        (&json!(uri(&s.inside)), &json!("application/json"))
    );
    let shown: Value = serde_json::from_str(content["text"].as_str().unwrap()).unwrap();
    assert_eq!(shown["name"], s.inside.name.as_str());
    let by_name = result(
        a,
        "resources/read",
        read(&format!("{LIST}/{}/logs", s.inside.name)),
    )
    .await;
    assert_eq!(by_name["contents"][0]["mimeType"], "text/plain");
    assert!(
        by_name["contents"][0]["text"]
            .as_str()
            .unwrap()
            .contains("hello resources")
    );
    let list = result(a, "resources/read", read(LIST)).await;
    let text = list["contents"][0]["text"].as_str().unwrap();
    assert!(
        text.contains(&s.second.name) && !text.contains(&s.outside.name),
        "{text}"
    );

    for hidden in [
        format!("{LIST}/{}", s.outside.id),
        format!("{LIST}/{}", s.outside.name),
        format!("{LIST}/{}/logs", s.outside.name),
        format!("{LIST}/no-such-container"),
        "docker://containers/../images".into(),
        "file:///etc/passwd".into(),
    ] {
        let (code, data) = error_of(a, "resources/read", read(&hidden)).await;
        assert_eq!(
            (code, data),
            (-32602, json!({"uri": hidden})),
            "not found on 2026-07-28"
        );
    }
    let mismatch = post(
        a,
        &json!({"jsonrpc": "2.0", "id": 1, "method": "resources/read", "params": {"uri": LIST, "_meta": meta()}}),
        &[("mcp-protocol-version", "2026-07-28"), ("mcp-method", "resources/read"), ("mcp-name", "docker://other")],
    )
    .await;
    assert_eq!(
        (mismatch.status, mismatch.json()["error"]["code"].clone()),
        (400, json!(-32020))
    );
}

#[tokio::test]
async fn handshake_eras_announce_resources_and_answer_not_found_with_32002() {
    let s = Scoped::start(&[]).await;
    let a = &s.agent;
    let init = post(a, &json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}), &[]).await;
    let caps = &init.json()["result"]["capabilities"];
    assert_eq!(
        caps["resources"],
        json!({"subscribe": true, "listChanged": true})
    );
    assert!(caps["prompts"].is_object());
    let discover = result(a, "server/discover", json!({})).await;
    assert_eq!(discover["capabilities"]["resources"]["subscribe"], true);

    let session = initialize(a, "2025-11-25").await;
    let ask = |id: u64, method: &str, params: Value| json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
    let listed = in_session(
        a,
        &session,
        "2025-11-25",
        &ask(1, "resources/list", json!({})),
    )
    .await
    .json();
    assert_eq!(listed["result"]["resources"].as_array().unwrap().len(), 3);
    let hidden = format!("{LIST}/{}", s.outside.name);
    for method in ["resources/read", "resources/subscribe"] {
        let e = in_session(
            a,
            &session,
            "2025-11-25",
            &ask(2, method, json!({"uri": hidden})),
        )
        .await
        .json();
        assert_eq!(e["error"]["code"], -32002, "{method}: {e}");
        assert_eq!(e["error"]["data"]["uri"], hidden.as_str());
    }
    let (code, _) = error_of(a, "resources/subscribe", json!({"uri": LIST})).await;
    assert_eq!(code, -32601, "2026-07-28 has subscriptions/listen instead");
}

#[tokio::test]
async fn prompts_are_listed_and_assembled_from_the_container() {
    let s = Scoped::start(&[]).await;
    let a = &s.agent;
    let listed = result(a, "prompts/list", json!({})).await;
    let names: Vec<&str> = listed["prompts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["diagnose_container", "host_overview"]);
    assert!(listed["ttlMs"].is_u64() && listed["cacheScope"] == "public");

    let args = json!({"container_id": s.inside.name});
    let got = result(
        a,
        "prompts/get",
        json!({"name": "diagnose_container", "arguments": args}),
    )
    .await;
    let m = got["messages"].as_array().unwrap();
    let intro = m[0]["content"]["text"].as_str().unwrap();
    assert!(
        intro.contains(&s.inside.name) && intro.contains("Resource use now"),
        "{intro}"
    );
    assert_eq!(m[1]["content"]["resource"]["uri"], uri(&s.inside));
    assert_eq!(m[2]["content"]["type"], "resource");
    assert_eq!(
        m[2]["content"]["resource"]["uri"],
        format!("{}/logs", uri(&s.inside))
    );
    assert!(
        m[2]["content"]["resource"]["text"]
            .as_str()
            .unwrap()
            .contains("hello resources")
    );

    let overview = result(a, "prompts/get", json!({"name": "host_overview"})).await;
    let text = overview["messages"][0]["content"]["text"].as_str().unwrap();
    assert!(
        text.contains("Containers: 2 (2 running)") && text.contains("Images: "),
        "{text}"
    );
    let list = overview["messages"][1]["content"]["resource"]["text"]
        .as_str()
        .unwrap();
    assert!(!list.contains(&s.outside.name));

    for params in [
        json!({"name": "no_such_prompt"}),
        json!({"name": "diagnose_container"}),
        json!({"name": "diagnose_container", "arguments": {"container_id": 5}}),
        json!({"name": "diagnose_container", "arguments": {"container_id": s.outside.name}}),
    ] {
        assert_eq!(
            error_of(a, "prompts/get", params.clone()).await.0,
            -32602,
            "{params}"
        );
    }
}

/// Collects notifications until one `is` what the test waits for; all of them.
async fn until(events: &mut Events, is: impl Fn(&Value) -> bool) -> Vec<Value> {
    let mut seen = Vec::new();
    loop {
        let n = events
            .next_json()
            .await
            .unwrap_or_else(|| panic!("not arrived; seen: {seen:?}"));
        let done = is(&n);
        seen.push(n);
        if done {
            return seen;
        }
    }
}

/// [`until`] a notification that `uri` was updated.
async fn until_updated(events: &mut Events, uri: &str) -> Vec<Value> {
    until(events, |n| {
        n["method"] == "notifications/resources/updated" && n["params"]["uri"] == uri
    })
    .await
}

fn is_list_change(n: &Value) -> bool {
    n["method"] == "notifications/resources/list_changed"
}

fn kill(c: &Container) {
    docker(&["kill", &c.id]);
}

#[tokio::test]
async fn a_session_hears_of_its_subscriptions_on_its_get_stream() {
    let s = Scoped::start(&[]).await;
    let a = &s.agent;
    let session = initialize(a, "2025-11-25").await;
    let auth = bearer();
    let headers = [
        ("authorization", auth.as_str()),
        ("mcp-session-id", &session),
    ];
    let (status, events) = open_events(a, Method::GET, "/mcp", &headers, "").await;
    assert_eq!(status, 200);
    let mut events = events.expect("an event stream");
    let (again, _) = open_events(a, Method::GET, "/mcp", &headers, "").await;
    assert_eq!(again, 409, "one stream per session");
    let unknown = [
        ("authorization", auth.as_str()),
        ("mcp-session-id", "0123456789abcdef0123456789abcdef"),
    ];
    assert_eq!(
        open_events(a, Method::GET, "/mcp", &unknown, "").await.0,
        404
    );

    let subscribe = |uri: String| json!({"jsonrpc": "2.0", "id": 1, "method": "resources/subscribe", "params": {"uri": uri}});
    for u in [uri(&s.inside), format!("{}/logs", uri(&s.inside))] {
        let ok = in_session(a, &session, "2025-11-25", &subscribe(u))
            .await
            .json();
        assert_eq!(ok["result"], json!({}), "{ok}");
    }
    let outsider = Container::run(&[], &["wait"]);
    kill(&s.outside);
    kill(&s.inside);
    let seen = until_updated(&mut events, &uri(&s.inside)).await;
    let text = serde_json::to_string(&seen).unwrap();
    assert!(
        !text.contains("list_changed"),
        "an out-of-scope creation is not a list change: {text}"
    );
    assert!(!text.contains(&s.outside.id[..12]) && !text.contains(&outsider.id[..12]));
    until_updated(&mut events, &format!("{}/logs", uri(&s.inside))).await;

    let _new = s.in_scope();
    let seen = until(&mut events, is_list_change).await;
    let mine = [uri(&s.inside), format!("{}/logs", uri(&s.inside))];
    for n in &seen[..seen.len() - 1] {
        assert!(mine.iter().any(|u| n["params"]["uri"] == u.as_str()), "{n}");
    }
    assert_eq!(end_session(a, &session).await.status, 200);
    assert_eq!(
        events.next().await,
        None,
        "the stream ends with its session"
    );
}

#[tokio::test]
async fn subscriptions_listen_acknowledges_and_streams_what_it_honours() {
    let s = Scoped::start(&[]).await;
    let a = &s.agent;
    let wanted = [uri(&s.second), uri(&s.outside), "docker://nope".to_string()];
    let params = json!({"_meta": meta(), "notifications": {"resourcesListChanged": true, "toolsListChanged": true, "resourceSubscriptions": wanted}});
    let body = json!({"jsonrpc": "2.0", "id": "listen-1", "method": "subscriptions/listen", "params": params});
    let auth = bearer();
    let headers = [
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
        ("mcp-protocol-version", "2026-07-28"),
        ("mcp-method", "subscriptions/listen"),
    ];
    let (status, events) = open_events(a, Method::POST, "/mcp", &headers, &body.to_string()).await;
    assert_eq!(status, 200);
    let mut events = events.expect("the answer is a stream");
    let ack = events.next_json().await.unwrap();
    assert_eq!(ack["method"], "notifications/subscriptions/acknowledged");
    let id = json!({"io.modelcontextprotocol/subscriptionId": "listen-1"});
    assert_eq!(ack["params"]["_meta"], id);
    assert_eq!(
        ack["params"]["notifications"],
        json!({"resourcesListChanged": true, "resourceSubscriptions": [uri(&s.second)]}),
        "only what exists in scope; tools never change"
    );
    let _outsider = Container::run(&[], &["wait"]);
    kill(&s.outside);
    kill(&s.second);
    let seen = until_updated(&mut events, &uri(&s.second)).await;
    for n in &seen {
        assert!(
            !is_list_change(n),
            "an out-of-scope creation is not a list change: {n}"
        );
        assert_eq!(n["params"]["_meta"], id);
    }
    let _new = s.in_scope();
    let seen = until(&mut events, is_list_change).await;
    assert_eq!(seen.last().unwrap()["params"]["_meta"], id);
    assert!(
        !serde_json::to_string(&seen)
            .unwrap()
            .contains(&s.outside.id[..12])
    );

    let bad = json!({"jsonrpc": "2.0", "id": 2, "method": "subscriptions/listen", "params": {"_meta": meta(), "notifications": {"resourceSubscriptions": "docker://containers"}}});
    let resp = a
        .request(Method::POST, "/mcp", &headers, bad.to_string().as_bytes())
        .await;
    assert_eq!(resp.json()["error"]["code"], -32602);
}

/// A 2026-07-28 `subscriptions/listen` for list changes alone.
fn listen_all() -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "subscriptions/listen", "params": {"_meta": meta(), "notifications": {"resourcesListChanged": true}}})
}

/// The headers of a `subscriptions/listen` request with `auth`.
fn listen_headers(auth: &str) -> [(&'static str, &str); 3] {
    [
        ("authorization", auth),
        ("mcp-protocol-version", "2026-07-28"),
        ("mcp-method", "subscriptions/listen"),
    ]
}

#[tokio::test]
async fn notification_streams_are_bounded_per_client() {
    let s = Scoped::start(&[]).await;
    let a = &s.agent;
    let (body, auth) = (listen_all(), bearer());
    let headers = listen_headers(&auth);
    let mut open = Vec::new();
    for _ in 0..STREAMS_PER_CLIENT {
        let (status, events) =
            open_events(a, Method::POST, "/mcp", &headers, &body.to_string()).await;
        assert_eq!(status, 200);
        open.push(events.expect("a stream"));
    }
    let (status, refused) = open_events(a, Method::POST, "/mcp", &headers, &body.to_string()).await;
    assert!(
        status == 200 && refused.is_none(),
        "refused with a JSON-RPC error"
    );
    open.pop();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let (_, again) = open_events(a, Method::POST, "/mcp", &headers, &body.to_string()).await;
    assert!(again.is_some(), "a closed stream gives its place back");
}

#[tokio::test]
async fn legacy_sse_sessions_hear_their_subscriptions() {
    let s = Scoped::start(&[]).await;
    let a = &s.agent;
    let mut events = open_sse(a).await;
    let (_, endpoint) = events.next().await.unwrap();
    let auth = bearer();
    let send = |body: Value| {
        let (endpoint, auth) = (endpoint.clone(), auth.clone());
        async move {
            a.request(
                Method::POST,
                &endpoint,
                &[("authorization", &auth)],
                body.to_string().as_bytes(),
            )
            .await
        }
    };
    send(json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2024-11-05", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}})).await;
    events.next().await.unwrap();
    send(json!({"jsonrpc": "2.0", "id": 2, "method": "resources/subscribe", "params": {"uri": uri(&s.inside)}})).await;
    assert_eq!(events.next_json().await.unwrap()["result"], json!({}));
    let _outsider = Container::run(&[], &["wait"]);
    kill(&s.inside);
    let seen = until_updated(&mut events, &uri(&s.inside)).await;
    assert!(
        !serde_json::to_string(&seen)
            .unwrap()
            .contains("list_changed")
    );
}

/// Runs the SDK script for `era`; kills `c` once it has subscribed.
fn python_client(agent: &Agent, era: &str, c: &Container) -> Value {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/mcp_resources_interop.py"
    );
    // `timeout` ends a client the SDK leaves hanging past its own bound.
    let mut child = Command::new("timeout")
        .args([
            "--kill-after=5",
            "240",
            "python3",
            script,
            &format!("http://{}", agent.addr),
            MCP_KEY,
            era,
            &c.name,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 is needed for the MCP interoperability tests");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut last = String::new();
    for line in lines.by_ref() {
        last = line.unwrap();
        if last == "subscribed" {
            kill(c);
        } else {
            break;
        }
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the Python MCP SDK client failed ({era}): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&last).unwrap_or_else(|_| panic!("{era}: {last}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_python_sdk_reads_subscribes_and_gets_prompts_on_both_eras() {
    let s = Scoped::start(&[]).await;
    for (era, version) in [("legacy", "2025-11-25"), ("modern", "2026-07-28")] {
        docker(&["start", &s.inside.id]);
        let seen = tokio::task::block_in_place(|| python_client(&s.agent, era, &s.inside));
        assert_eq!(seen["protocol_version"], version, "{era}");
        assert_eq!(seen["capabilities"], json!([true, true]), "{era}");
        let uris = seen["uris"].as_array().unwrap();
        assert!(
            uris.contains(&json!(uri(&s.inside))) && !uris.contains(&json!(uri(&s.outside))),
            "{era}"
        );
        assert_eq!(seen["read_name"], s.inside.name.as_str());
        assert!(seen["logs"].as_str().unwrap().contains("hello resources"));
        assert_eq!(seen["templates"].as_array().unwrap().len(), 2);
        assert_eq!(
            seen["prompts"],
            json!(["diagnose_container", "host_overview"])
        );
        assert_eq!(
            seen["prompt_kinds"],
            json!(["text", "resource", "resource"])
        );
        assert_eq!(seen["prompt_uris"][0], uri(&s.inside));
        assert_eq!(
            seen["updated"],
            uri(&s.inside),
            "{era}: the change notification arrived"
        );
    }
}

/// Waits (bounded) until `done` holds.
async fn eventually(what: &str, done: impl Fn() -> bool) {
    for _ in 0..200 {
        if done() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("never: {what}");
}

#[tokio::test]
async fn one_docker_follow_serves_every_listener_and_stops_with_the_last() {
    use docker_agent::app::App;
    use docker_agent::config::Config;
    let config = Config::from_vars(&test_vars(&[("WS_PING_INTERVAL", "1")])).unwrap();
    let app = App::new(config);
    let agent = Agent::serve(app.clone()).await;
    assert_eq!(
        (
            docker_agent::mcp::state(&app).changes.count(),
            app.streams.upstream_count()
        ),
        (0, 0)
    );
    let (body, auth) = (listen_all(), bearer());
    let headers = listen_headers(&auth);
    let mut streams = Vec::new();
    for _ in 0..3 {
        let (_, events) =
            open_events(&agent, Method::POST, "/mcp", &headers, &body.to_string()).await;
        let mut events = events.unwrap();
        events.next_json().await.unwrap();
        streams.push(events);
    }
    assert_eq!(docker_agent::mcp::state(&app).changes.count(), 3);
    eventually("one follow", || app.streams.upstream_count() == 1).await;
    streams.clear();
    eventually("no listener and no follow left", || {
        docker_agent::mcp::state(&app).changes.count() == 0 && app.streams.upstream_count() == 0
    })
    .await;
}

#[tokio::test]
async fn resources_and_prompts_draw_from_the_read_limit() {
    let agent = Agent::start(&[]).await;
    let mut codes = Vec::new();
    for _ in 0..61 {
        let body = modern(&agent, "prompts/list", json!({})).await.json();
        codes.push(body["error"]["code"].as_i64().unwrap_or(0));
    }
    assert!(codes[..60].iter().all(|c| *c == 0), "{codes:?}");
    assert_eq!(codes[60], -32029, "the 61st read in a minute");
    let e = modern(&agent, "resources/read", read(LIST)).await.json();
    assert_eq!(e["error"]["code"], -32029);
    assert!(
        e["error"]["data"]["retryAfter"].as_u64().unwrap() >= 1,
        "{e}"
    );
}
