//! Creating and removing containers and images, on REST and MCP, against
//! the real daemon: the documented body and nothing else reaching Docker,
//! every refusal (host access, roles, read-only, `IMAGE_ALLOW`, in use,
//! running, the agent's own container) leaving everything as it was, and
//! the labels that keep what the agent creates in its scope.

use crate::util::*;
use docker_agent::app::App;
use docker_agent::config::Config;
use docker_agent::policy::{Role, tokens};
use hyper::Method;
use serde_json::{Value, json};

/// The test label, as a create body's `labels` carries it.
pub(crate) fn test_labels() -> Value {
    json!({ LABEL: "1" })
}

/// A create body for the test image with `extra` fields and a fresh name.
pub(crate) fn body(extra: Value) -> (String, Value) {
    let name = unique_name("made");
    let mut b = json!({"image": image(), "name": name, "labels": test_labels(), "cmd": ["wait"]});
    for (k, v) in extra.as_object().unwrap() {
        b[k] = v.clone();
    }
    (name, b)
}

pub(crate) fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// `POST /api/v1/containers/`; a container it made is removed on drop.
pub(crate) async fn create(agent: &Agent, token: &str, body: &Value) -> (Resp, Option<Made>) {
    let resp = post_create(agent, token, body).await;
    let made = (resp.status == 201).then(|| Made(resp.json()["id"].as_str().unwrap().to_string()));
    (resp, made)
}

/// `POST /api/v1/containers/` with `body`, as `token`.
pub(crate) async fn post_create(agent: &Agent, token: &str, body: &Value) -> Resp {
    let auth = bearer(token);
    let headers = [
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
    ];
    agent
        .request(
            Method::POST,
            "/api/v1/containers/",
            &headers,
            body.to_string().as_bytes(),
        )
        .await
}

async fn delete(agent: &Agent, token: &str, path: &str) -> Resp {
    let auth = bearer(token);
    agent
        .request(Method::DELETE, path, &[("authorization", &auth)], b"")
        .await
}

pub(crate) fn detail(resp: &Resp) -> String {
    resp.json()["detail"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

pub(crate) fn inspect(id: &str, format: &str) -> String {
    docker(&["inspect", "--format", format, id])
}

#[tokio::test]
async fn a_container_is_created_started_and_removed_with_its_detail_and_audit_lines() {
    let audit = temp_dir("lifecycle-audit").join("audit.log");
    let agent = Agent::start(&[
        ("AUDIT_LOG", audit.to_str().unwrap()),
        ("RATE_LIMIT_ENABLED", "false"),
    ])
    .await;
    let token = agent.token().await;
    let (name, b) = body(json!({
        "cmd": ["out:made by the agent", "wait"], "env": {"MODE": "test"}, "start": true,
        "ports": ["127.0.0.1::80"], "restart_policy": "on-failure:2", "memory_limit": "64m", "cpu_shares": 512
    }));
    let (resp, made) = create(&agent, &token, &b).await;
    assert_eq!(resp.status, 201, "{:?}", resp.body);
    let made = made.unwrap();
    let created = resp.json();
    let shown = agent
        .get(&format!("/api/v1/containers/{}", made.0), Some(&token))
        .await
        .json();
    assert_eq!(created["id"], shown["id"]);
    assert_eq!(
        created.as_object().unwrap().keys().collect::<Vec<_>>(),
        shown.as_object().unwrap().keys().collect::<Vec<_>>()
    );
    assert_eq!(created["name"], name.as_str());
    assert_eq!(created["state"]["running"], true);
    assert_eq!(created["config"]["env"].as_array().unwrap()[0], "MODE=test");
    assert_eq!(
        created["config"]["labels"]["docker-agent.created-by"],
        "Docker Agent"
    );
    assert_eq!(created["config"]["labels"][LABEL], "1");
    assert_eq!(created["host_config"]["memory_limit"], 64 << 20);
    assert_eq!(created["host_config"]["cpu_shares"], 512);
    assert_eq!(
        created["host_config"]["restart_policy"],
        json!({"Name": "on-failure", "MaximumRetryCount": 2})
    );
    assert_eq!(created["ports"][0]["host_ip"], "127.0.0.1");
    assert!(
        created["ports"][0]["host_port"].as_u64().is_some(),
        "{created}"
    );
    let logs = agent
        .get(&format!("/api/v1/containers/{name}/logs"), Some(&token))
        .await
        .json();
    assert_eq!(logs["logs"], "made by the agent\n", "it runs");

    let refused = delete(&agent, &token, &format!("/api/v1/containers/{name}")).await;
    assert_eq!(refused.status, 409, "{:?}", refused.body);
    assert!(detail(&refused).contains("running"), "{}", detail(&refused));
    assert_eq!(
        inspect(&made.0, "{{.State.Status}}"),
        "running",
        "nothing removed"
    );
    let removed = delete(
        &agent,
        &token,
        &format!("/api/v1/containers/{name}?force=true&volumes=true"),
    )
    .await;
    assert_eq!(removed.status, 200, "{:?}", removed.body);
    assert_eq!(
        removed.json(),
        json!({"container_id": name, "status": "removed", "message": format!("Container {name} removed successfully")})
    );
    assert!(!exists("container", &made.0));
    let again = delete(&agent, &token, &format!("/api/v1/containers/{name}")).await;
    assert_eq!(
        (again.status, detail(&again)),
        (404, format!("Container '{name}' not found"))
    );

    agent.shutdown().await;
    let lines: Vec<Value> = std::fs::read_to_string(&audit)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let about = |action: &str| {
        lines
            .iter()
            .filter(|l| l["action"] == action)
            .cloned()
            .collect::<Vec<_>>()
    };
    let creates = about("container.create");
    assert_eq!(creates.len(), 1, "{lines:?}");
    assert_eq!(
        (creates[0]["result"].as_str(), creates[0]["image"].as_str()),
        (Some("ok"), Some(image()))
    );
    assert_eq!(
        (
            creates[0]["container_id"].as_str(),
            creates[0]["container_name"].as_str()
        ),
        (Some(made.0.as_str()), Some(name.as_str()))
    );
    let results: Vec<Value> = about("container.remove")
        .iter()
        .map(|l| l["result"].clone())
        .collect();
    assert_eq!(results, ["refused", "ok"], "the 409, then the removal");
}

/// Fields set by the body of [`hidden_parameters_never_reach_docker`], in
/// Docker's `HostConfig` (`MemorySwap` Docker derives from `Memory`).
const SET: [&str; 5] = [
    "PortBindings",
    "RestartPolicy",
    "Memory",
    "MemorySwap",
    "CpuShares",
];

#[tokio::test]
async fn hidden_parameters_never_reach_docker() {
    let agent = Agent::start(&[("RATE_LIMIT_ENABLED", "false")]).await;
    let token = agent.token().await;
    // (a) Fields outside the documented set are 422 naming them; nothing is created.
    let hidden = [
        ("Privileged", json!(true)),
        ("HostConfig", json!({"Privileged": true})),
        ("volumes", json!(["/:/host"])),
        (
            "mounts",
            json!([{"Type": "bind", "Source": "/", "Target": "/host"}]),
        ),
        ("user", json!("0")),
        ("cgroup_parent", json!("/")),
        ("userns_mode", json!("host")),
        ("sysctls", json!({"kernel.shmmax": "1"})),
        ("runtime", json!("runc")),
        ("Image", json!("other")),
        ("volumes_from", json!(["db"])),
        ("extra_hosts", json!(["a:1.2.3.4"])),
        ("cap_drop", json!(["ALL"])),
        ("tmpfs", json!({"/t": ""})),
    ];
    for (field, value) in hidden {
        let (name, b) = body(json!({ field: value }));
        let (resp, _made) = create(&agent, &token, &b).await;
        assert_eq!(resp.status, 422, "{field}: {:?}", resp.body);
        let errors = resp.json()["detail"].clone();
        assert_eq!(errors[0]["loc"], json!(["body", field]), "{field}");
        assert_eq!(errors[0]["type"], "extra_forbidden");
        assert!(!exists("container", &name), "{field}: nothing created");
    }
    // (b) What the agent creates differs from Docker's defaults only where the body says so.
    let (_, b) = body(
        json!({"ports": ["127.0.0.1::80"], "restart_policy": "always", "memory_limit": 67108864, "cpu_shares": 256}),
    );
    let (resp, made) = create(&agent, &token, &b).await;
    assert_eq!(resp.status, 201, "{:?}", resp.body);
    let ours = full_inspect(&made.unwrap().0);
    // Docker's defaults: what the daemon makes of a create that sets
    // nothing (an empty HostConfig, as every client sends one).
    let baseline = Made(raw_create(
        &json!({"Image": image(), "Labels": test_labels(), "Cmd": ["wait"], "HostConfig": {}}),
    ));
    let defaults = full_inspect(&baseline.0);
    let (host, default_host) = (
        ours["HostConfig"].as_object().unwrap(),
        defaults["HostConfig"].as_object().unwrap(),
    );
    assert_eq!(
        host.keys().collect::<Vec<_>>(),
        default_host.keys().collect::<Vec<_>>()
    );
    for (key, value) in host {
        if !SET.contains(&key.as_str()) {
            assert_eq!(
                value, &default_host[key],
                "HostConfig.{key} is Docker's default"
            );
        }
    }
    for (key, want) in [
        ("Privileged", json!(false)),
        ("Binds", Value::Null),
        ("CapAdd", Value::Null),
        ("SecurityOpt", Value::Null),
        ("PidMode", json!("")),
        ("UTSMode", json!("")),
        ("UsernsMode", json!("")),
        ("CgroupParent", json!("")),
        ("PublishAllPorts", json!(false)),
    ] {
        assert_eq!(host[key], want, "HostConfig.{key}");
    }
    assert_eq!(host["NetworkMode"], default_host["NetworkMode"]);
    assert!(
        host["Devices"].as_array().is_none_or(Vec::is_empty),
        "{}",
        host["Devices"]
    );
    let (config, default_config) = (
        ours["Config"].as_object().unwrap(),
        defaults["Config"].as_object().unwrap(),
    );
    for (key, value) in config {
        if !["Hostname", "Labels", "ExposedPorts"].contains(&key.as_str()) {
            assert_eq!(
                value, &default_config[key],
                "Config.{key} is Docker's default"
            );
        }
    }
    let labels: Vec<&String> = config["Labels"].as_object().unwrap().keys().collect();
    assert_eq!(labels, ["docker-agent-test", "docker-agent.created-by"]);
}

/// `docker inspect` of one container, as JSON.
fn full_inspect(id: &str) -> Value {
    serde_json::from_str::<Value>(&docker(&["inspect", id])).unwrap()[0].clone()
}

/// Creates a container with Docker's API directly (no CLI defaults): its id.
fn raw_create(body: &Value) -> String {
    let socket = docker_host().trim_start_matches("unix://").to_string();
    let out = run_ok(std::process::Command::new("curl").args([
        "-s",
        "--unix-socket",
        &socket,
        "-H",
        "content-type: application/json",
        "-d",
        &body.to_string(),
        "http://docker/containers/create",
    ]));
    serde_json::from_str::<Value>(&out).unwrap()["Id"]
        .as_str()
        .unwrap_or_else(|| panic!("{out}"))
        .to_string()
}

#[tokio::test]
async fn host_access_is_refused_by_field_unless_allowed() {
    let allowed_dir = temp_dir("binds");
    let agent = Agent::start(&[
        ("ALLOW_BIND_MOUNTS_FROM", allowed_dir.to_str().unwrap()),
        ("RATE_LIMIT_ENABLED", "false"),
    ])
    .await;
    let token = agent.token().await;
    let cases = [
        ("privileged", json!({"privileged": true})),
        ("network_mode", json!({"network_mode": "host"})),
        ("pid_mode", json!({"pid_mode": "host"})),
        ("ipc_mode", json!({"ipc_mode": "host"})),
        ("uts_mode", json!({"uts_mode": "host"})),
        ("devices", json!({"devices": ["/dev/null"]})),
        ("cap_add", json!({"cap_add": ["SYS_ADMIN"]})),
        (
            "security_opt",
            json!({"security_opt": ["seccomp=unconfined"]}),
        ),
        (
            "security_opt",
            json!({"security_opt": ["apparmor=unconfined"]}),
        ),
        ("binds", json!({"binds": ["/etc:/host-etc:ro"]})),
        (
            "binds",
            json!({"binds": [format!("{}/../../etc:/x", allowed_dir.display())]}),
        ),
    ];
    for (field, extra) in cases {
        let (name, b) = body(extra.clone());
        let (resp, _made) = create(&agent, &token, &b).await;
        assert_eq!(resp.status, 403, "{extra}: {:?}", resp.body);
        assert!(
            detail(&resp).starts_with(&format!("'{field}'")),
            "{}",
            detail(&resp)
        );
        assert!(!exists("container", &name), "{extra}: nothing created");
    }
    let source = allowed_dir.join("data");
    std::fs::create_dir_all(&source).unwrap();
    let (_, b) = body(json!({"binds": [format!("{}:/data:ro", source.display())]}));
    let (resp, made) = create(&agent, &token, &b).await;
    assert_eq!(
        resp.status, 201,
        "a bind under ALLOW_BIND_MOUNTS_FROM: {:?}",
        resp.body
    );
    assert_eq!(resp.json()["mounts"][0]["source"], source.to_str().unwrap());
    assert_eq!(resp.json()["mounts"][0]["read_only"], true);
    drop(made);

    let open = Agent::start(&[("ALLOW_HOST_ACCESS", "true")]).await;
    let token = open.token().await;
    let (_, b) = body(json!({"privileged": true}));
    let (resp, made) = create(&open, &token, &b).await;
    assert_eq!(resp.status, 201, "{:?}", resp.body);
    assert_eq!(resp.json()["host_config"]["privileged"], true);
    assert_eq!(
        inspect(&made.unwrap().0, "{{.HostConfig.Privileged}}"),
        "true"
    );
}

#[tokio::test]
async fn only_admins_create_and_remove_and_read_only_or_image_allow_refuse() {
    let c = Container::run(&[], &["wait"]);
    let (reader, operator, admin) = (tokens::generate(), tokens::generate(), tokens::generate());
    let file = tokens_file(&[
        ("r", Role::Read, &reader),
        ("o", Role::Operate, &operator),
        ("a", Role::Admin, &admin),
    ]);
    let agent = Agent::start(&[
        ("API_TOKENS_FILE", file.to_str().unwrap()),
        ("RATE_LIMIT_ENABLED", "false"),
    ])
    .await;
    for (token, role) in [(&reader, "read"), (&operator, "operate")] {
        let (name, b) = body(json!({}));
        let (resp, _made) = create(&agent, token, &b).await;
        assert_eq!(
            (resp.status, detail(&resp)),
            (
                403,
                format!("Role '{role}' does not allow 'create': it needs the 'admin' role")
            )
        );
        assert!(!exists("container", &name));
        let resp = delete(
            &agent,
            token,
            &format!("/api/v1/containers/{}?force=true", c.name),
        )
        .await;
        assert_eq!(
            (resp.status, detail(&resp)),
            (
                403,
                format!("Role '{role}' does not allow 'remove': it needs the 'admin' role")
            )
        );
        let resp = delete(&agent, token, &format!("/api/v1/images/{}", image())).await;
        assert_eq!(resp.status, 403, "{:?}", resp.body);
        let tools = agent.mcp_tool_names(token).await;
        assert!(
            !tools
                .iter()
                .any(|t| ["create_container", "remove_container", "remove_image"]
                    .contains(&t.as_str())),
            "{tools:?}"
        );
    }
    assert_eq!(c.status(), "running", "nothing removed");
    let (_, b) = body(json!({}));
    let (resp, made) = create(&agent, &admin, &b).await;
    assert_eq!(resp.status, 201, "{:?}", resp.body);
    drop(made);

    let missing = json!({"image": "docker-agent-no-such-image:1", "labels": test_labels()});
    let (resp, _made) = create(&agent, &admin, &missing).await;
    assert_eq!(resp.status, 404);
    assert!(detail(&resp).contains("never pulls"), "{}", detail(&resp));
    let (resp, _made) = create(
        &agent,
        &admin,
        &json!({"image": image(), "name": c.name, "labels": test_labels()}),
    )
    .await;
    assert_eq!(resp.status, 409, "a name in use: {:?}", resp.body);

    let read_only = Agent::start(&[("READ_ONLY", "true")]).await;
    let token = read_only.token().await;
    let (_, b) = body(json!({}));
    let (resp, _made) = create(&read_only, &token, &b).await;
    assert_eq!(
        (resp.status, detail(&resp)),
        (
            403,
            "The agent is read-only (READ_ONLY=true): 'create' is refused".to_string()
        )
    );
    let resp = delete(
        &read_only,
        &token,
        &format!("/api/v1/containers/{}?force=true", c.name),
    )
    .await;
    assert_eq!(resp.status, 403);
    assert_eq!(c.status(), "running");

    let allowing = Agent::start(&[("IMAGE_ALLOW", "registry.local:5000/*,alpine:*")]).await;
    let token = allowing.token().await;
    let (name, b) = body(json!({}));
    let (resp, _made) = create(&allowing, &token, &b).await;
    assert_eq!(resp.status, 403, "{:?}", resp.body);
    assert_eq!(
        detail(&resp),
        format!("IMAGE_ALLOW does not allow the image '{}'", image())
    );
    assert!(!exists("container", &name));
}

#[tokio::test]
async fn a_container_that_does_not_start_is_removed_again() {
    let agent = Agent::start(&[("RATE_LIMIT_ENABLED", "false")]).await;
    let token = agent.token().await;
    let (name, b) = body(json!({"entrypoint": ["/no/such/binary"], "start": true}));
    let (resp, _made) = create(&agent, &token, &b).await;
    assert!(resp.status >= 400, "{:?}", resp.body);
    assert!(
        detail(&resp).ends_with("the container was created but did not start, and was removed"),
        "{}",
        detail(&resp)
    );
    assert!(!exists("container", &name), "nothing left half-done");
}

#[tokio::test]
async fn images_in_use_are_409_and_stay_while_a_spare_tag_is_removed() {
    let c = Container::run(&[], &["wait"]);
    let agent = Agent::start(&[("RATE_LIMIT_ENABLED", "false")]).await;
    let token = agent.token().await;
    let id = docker(&["image", "inspect", "--format", "{{.Id}}", image()]);
    let resp = delete(&agent, &token, &format!("/api/v1/images/{id}")).await;
    assert_eq!(resp.status, 409, "{:?}", resp.body);
    assert!(
        exists("image", image()) && c.status() == "running",
        "nothing removed"
    );

    let spare = format!(
        "docker-agent-spare-{}:1",
        unique_name("tag").to_ascii_lowercase()
    );
    docker(&["tag", image(), &spare]);
    let resp = delete(&agent, &token, &format!("/api/v1/images/{spare}")).await;
    assert_eq!(resp.status, 200, "{:?}", resp.body);
    assert_eq!(resp.json()["untagged"], json!([spare]));
    assert!(!exists("image", &spare) && exists("image", image()));
    let resp = delete(&agent, &token, &format!("/api/v1/images/{spare}")).await;
    assert_eq!(
        (resp.status, detail(&resp)),
        (
            404,
            format!(
                "Image '{spare}' not found on this host; the agent never pulls implicitly: pull it first"
            )
        )
    );
}

#[tokio::test]
async fn the_agents_own_container_cannot_be_removed() {
    let c = Container::run(&[], &["wait"]);
    let config = Config::from_vars(&test_vars(&[])).unwrap();
    let agent = Agent::serve(App::in_container(config, Some(c.id[..12].to_string()))).await;
    let token = agent.token().await;
    let resp = delete(
        &agent,
        &token,
        &format!("/api/v1/containers/{}?force=true", c.name),
    )
    .await;
    assert_eq!(resp.status, 409, "{:?}", resp.body);
    assert!(
        detail(&resp).contains("runs this agent"),
        "{}",
        detail(&resp)
    );
    assert_eq!(c.status(), "running");
}

#[tokio::test]
async fn a_scoped_agent_labels_what_it_creates_and_refuses_the_opt_out_and_names_outside() {
    let label = format!("docker-agent-lifecycle={}", unique_name("scope"));
    let agent = Agent::start(&[
        ("SCOPE_LABEL", label.as_str()),
        ("EXCLUDE_LABEL", "private"),
    ])
    .await;
    let token = agent.token().await;
    let (name, b) = body(json!({}));
    let (resp, made) = create(&agent, &token, &b).await;
    assert_eq!(resp.status, 201, "{:?}", resp.body);
    let (key, value) = label.split_once('=').unwrap();
    assert_eq!(resp.json()["config"]["labels"][key], value);
    let list = agent.get("/api/v1/containers/", Some(&token)).await.json();
    assert!(
        list["containers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == name.as_str()),
        "visible in scope: {list}"
    );
    drop(made);
    let (name, b) = body(json!({"labels": {LABEL: "1", "private": "yes"}}));
    let (resp, _made) = create(&agent, &token, &b).await;
    assert_eq!(resp.status, 403, "{:?}", resp.body);
    assert!(detail(&resp).contains("EXCLUDE_LABEL"), "{}", detail(&resp));
    assert!(!exists("container", &name));

    let named = Agent::start(&[("SCOPE_NAMES", "dat-kept-*")]).await;
    let token = named.token().await;
    let (name, b) = body(json!({}));
    let (resp, _made) = create(&named, &token, &b).await;
    assert_eq!(resp.status, 403, "{:?}", resp.body);
    assert!(
        detail(&resp).contains("SCOPE_NAMES (dat-kept-*)"),
        "{}",
        detail(&resp)
    );
    assert!(!exists("container", &name));
}

#[tokio::test]
async fn the_lifecycle_tools_create_and_remove_over_mcp() {
    // The tools themselves; their confirmation by a person is tested in `confirm`.
    let agent = Agent::start(&[("RATE_LIMIT_ENABLED", "false"), ("MCP_CONFIRM", "off")]).await;
    let listed = agent.mcp(MCP_KEY, "tools/list", json!({})).await.json();
    let tools = listed["result"]["tools"].as_array().unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    let at = names.iter().position(|n| *n == "create_container").unwrap();
    assert_eq!(
        names[at..at + 3],
        ["create_container", "remove_container", "remove_image"]
    );
    for t in &tools[at..at + 3] {
        let a = &t["annotations"];
        let destructive = t["name"] != "create_container";
        assert_eq!(
            (
                a["readOnlyHint"].clone(),
                a["destructiveHint"].clone(),
                a["idempotentHint"].clone(),
                a["openWorldHint"].clone()
            ),
            (
                json!(false),
                json!(destructive),
                json!(destructive),
                json!(false)
            ),
            "{}",
            t["name"]
        );
        assert!(t["outputSchema"].is_object() && t["title"].is_string());
    }

    let (name, b) = body(json!({"start": true, "cmd": ["out:from a tool", "wait"]}));
    let created = agent.mcp_tool(MCP_KEY, "create_container", b).await;
    assert_eq!(created["isError"], false, "{created}");
    let made = Made(
        created["structuredContent"]["id"]
            .as_str()
            .unwrap()
            .to_string(),
    );
    assert_eq!(created["structuredContent"]["state"]["running"], true);
    let bad = agent
        .mcp_tool(
            MCP_KEY,
            "create_container",
            json!({"image": image(), "labels": test_labels(), "privileged": true}),
        )
        .await;
    assert_eq!(bad["isError"], true);
    assert!(
        tool_text(&bad).starts_with("'privileged' gives the container access to the host"),
        "{bad}"
    );
    let unknown = agent
        .mcp_tool(
            MCP_KEY,
            "create_container",
            json!({"image": image(), "labels": test_labels(), "HostConfig": {}}),
        )
        .await;
    assert!(
        tool_text(&unknown).contains("\"HostConfig\": Extra inputs are not permitted"),
        "{unknown}"
    );

    let running = agent
        .mcp_tool(MCP_KEY, "remove_container", json!({"container_id": name}))
        .await;
    assert_eq!(running["isError"], true);
    assert!(tool_text(&running).starts_with("Conflict:"), "{running}");
    assert!(exists("container", &made.0));
    let removed = agent
        .mcp_tool(
            MCP_KEY,
            "remove_container",
            json!({"container_id": name, "force": true}),
        )
        .await;
    assert_eq!(
        removed["structuredContent"]["status"], "removed",
        "{removed}"
    );
    assert!(!exists("container", &made.0));

    let spare = format!(
        "docker-agent-spare-{}:mcp",
        unique_name("tag").to_ascii_lowercase()
    );
    docker(&["tag", image(), &spare]);
    let gone = agent
        .mcp_tool(MCP_KEY, "remove_image", json!({"image": spare}))
        .await;
    assert_eq!(
        gone["structuredContent"]["untagged"],
        json!([spare]),
        "{gone}"
    );
    assert!(!exists("image", &spare));

    let read_only = Agent::start(&[("MCP_READ_ONLY", "true")]).await;
    let names = read_only.mcp_tool_names(MCP_KEY).await;
    assert!(
        !names
            .iter()
            .any(|n| n.starts_with("create_") || n.starts_with("remove_")),
        "{names:?}"
    );
    let refused = read_only
        .mcp_tool(
            MCP_KEY,
            "create_container",
            json!({"image": image(), "labels": test_labels()}),
        )
        .await;
    assert_eq!(
        tool_text(&refused),
        "MCP is read-only (MCP_READ_ONLY=true): 'create' is refused."
    );
}
