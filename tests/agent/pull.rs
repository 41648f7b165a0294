//! Pulling images through the agent from real registries (`tests/registry.sh`,
//! started by `tests/setup.sh`): 127.0.0.1:5000, open, and 127.0.0.1:5001,
//! the same storage behind htpasswd auth. Each test pushes an image of its
//! own — testbox plus a file unique to it, so its layer is new to the
//! daemon — under a unique tag, removes it locally, and pulls it back; every
//! tag a test made is removed when it ends, even on failure.

use crate::util::*;
use hyper::Method;
use serde_json::{Value, json};
use std::process::Command;

const OPEN: &str = "127.0.0.1:5000";
const AUTHENTICATED: &str = "127.0.0.1:5001";
/// The test user of the authenticated registry (see `tests/registry.sh`).
const USER: &str = "agent-test";
const REGISTRY_PASSWORD: &str = "pull-test-password-7f3a";
const REPOSITORY: &str = "docker-agent-test/testbox";

/// An image pushed to the registries under a tag of its own and absent
/// from the daemon; every local tag of it is removed when dropped.
struct Pushed {
    tag: String,
    digest: String,
}

impl Pushed {
    fn new() -> Pushed {
        let registry_answers = Command::new("curl")
            .args([
                "-sf",
                "-o",
                "/dev/null",
                "-m",
                "3",
                &format!("http://{OPEN}/v2/"),
            ])
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            registry_answers,
            "no registry on {OPEN}: run bash tests/setup.sh"
        );
        let tag = unique_name("pull");
        let mut pushed = Pushed {
            tag,
            digest: String::new(),
        };
        let dir = temp_dir("pull-image");
        let tar = dir.join("fs.tar");
        let base = Container::create(&[], &[]);
        docker(&["export", "-o", tar.to_str().unwrap(), &base.id]);
        std::fs::write(dir.join("pulled-marker"), &pushed.tag).unwrap();
        run_ok(Command::new("tar").arg("-C").arg(&dir).args([
            "--append",
            "-f",
            tar.to_str().unwrap(),
            "pulled-marker",
        ]));
        let name = pushed.at(OPEN);
        docker(&[
            "import",
            "-c",
            r#"ENTRYPOINT ["/testbox"]"#,
            tar.to_str().unwrap(),
            &name,
        ]);
        let out = docker(&["push", &name]);
        docker(&["rmi", &name]);
        pushed.digest = out
            .split_whitespace()
            .find(|w| w.starts_with("sha256:"))
            .expect("push prints the digest")
            .to_string();
        pushed
    }

    /// The image's reference on `registry`.
    fn at(&self, registry: &str) -> String {
        format!("{registry}/{REPOSITORY}:{}", self.tag)
    }

    fn is_local(&self, registry: &str) -> bool {
        Command::new("docker")
            .args(["image", "inspect", &self.at(registry)])
            .output()
            .is_ok_and(|o| o.status.success())
    }
}

impl Drop for Pushed {
    fn drop(&mut self) {
        for registry in [OPEN, AUTHENTICATED] {
            let _ = Command::new("docker")
                .args(["rmi", "-f", &self.at(registry)])
                .output();
        }
    }
}

/// `POST /api/v1/images/pull` with `body`.
async fn pull(agent: &Agent, token: &str, body: &Value) -> Resp {
    let auth = format!("Bearer {token}");
    let headers = [
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
    ];
    agent
        .request(
            Method::POST,
            "/api/v1/images/pull",
            &headers,
            body.to_string().as_bytes(),
        )
        .await
}

/// An NDJSON answer's lines: every one JSON, the last the only summary.
fn lines(resp: &Resp) -> (Vec<Value>, Value) {
    assert_eq!(resp.status, 200, "{:?}", resp.body);
    assert_eq!(resp.header("content-type"), Some("application/x-ndjson"));
    let text = std::str::from_utf8(&resp.body).unwrap();
    assert!(text.ends_with('\n'), "{text}");
    let mut all: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let last = all.pop().expect("a summary line");
    for line in &all {
        assert!(line["status"].is_string(), "a progress line: {line}");
        assert!(line.get("summary").is_none(), "one summary, last: {text}");
    }
    (all, last["summary"].clone())
}

fn detail(resp: &Resp) -> String {
    resp.json()["detail"].to_string()
}

#[tokio::test]
async fn an_image_pushed_to_the_registry_is_pulled_back_with_progress_and_runs() {
    let image = Pushed::new();
    assert!(!image.is_local(OPEN));
    let agent = Agent::start(&[]).await;
    let token = agent.token().await;
    let (progress, summary) = lines(
        &pull(
            &agent,
            &token,
            &json!({"image": format!("{OPEN}/{REPOSITORY}"), "tag": image.tag}),
        )
        .await,
    );
    let statuses: Vec<&str> = progress
        .iter()
        .map(|l| l["status"].as_str().unwrap())
        .collect();
    assert!(
        statuses.contains(&"Pull complete") && statuses.contains(&"Downloading"),
        "{statuses:?}"
    );
    let downloading = progress
        .iter()
        .find(|l| l["status"] == "Downloading")
        .unwrap();
    assert!(
        downloading["progress"]["current"].as_u64().unwrap() > 0 && downloading["id"].is_string(),
        "{downloading}"
    );
    assert_eq!(summary["image"], image.at(OPEN));
    assert_eq!(summary["status"], "pulled");
    assert_eq!(summary["digest"], image.digest.as_str());
    assert_eq!(summary["error"], Value::Null);
    let id = docker(&["image", "inspect", "-f", "{{.Id}}", &image.at(OPEN)]);
    assert_eq!(summary["id"], id.as_str());

    let c = Container::run_image(&image.at(OPEN), &["out:pulled and running", "wait"]);
    crate::memory::wait_for_log(&agent, &c.id, "pulled and running").await;
    assert_eq!(c.status(), "running");

    let (_, again) = lines(&pull(&agent, &token, &json!({"image": image.at(OPEN)})).await);
    assert_eq!(again["status"], "up to date", "{again}");
    assert_eq!(again["id"], id.as_str());
}

#[tokio::test]
async fn an_unknown_tag_is_404_and_nothing_is_pulled() {
    let image = Pushed::new();
    let agent = Agent::start(&[]).await;
    let token = agent.token().await;
    let missing = format!("{OPEN}/{REPOSITORY}:{}-missing", image.tag);
    let resp = pull(&agent, &token, &json!({"image": missing})).await;
    assert_eq!(resp.status, 404, "{:?}", resp.body);
    assert!(
        detail(&resp).contains(&format!("Image '{missing}' not found")),
        "{}",
        detail(&resp)
    );
    assert!(!image.is_local(OPEN));
    let no_registry = pull(
        &agent,
        &token,
        &json!({"image": "127.0.0.1:5009/nothing/here"}),
    )
    .await;
    assert_eq!(no_registry.status, 502, "{:?}", no_registry.body);
    assert!(detail(&no_registry).contains("connection refused"));
}

#[tokio::test]
async fn a_layer_that_fails_mid_pull_ends_with_a_failed_summary() {
    let image = Pushed::new();
    // The registries' storage (tests/registry.sh): the layer's blob, made
    // the wrong bytes, fails Docker's check after the pull has begun.
    let manifest = run_ok(Command::new("curl").args([
        "-sf",
        "-H",
        "Accept: application/vnd.docker.distribution.manifest.v2+json",
        &format!("http://{OPEN}/v2/{REPOSITORY}/manifests/{}", image.tag),
    ]));
    let manifest: Value = serde_json::from_str(&manifest).unwrap();
    let layer = manifest["layers"][0]["digest"].as_str().unwrap();
    let hex = layer.strip_prefix("sha256:").unwrap();
    let blob = format!(
        "/tmp/docker-agent-registry/storage/docker/registry/v2/blobs/sha256/{}/{hex}/data",
        &hex[..2]
    );
    let size = std::fs::metadata(&blob).unwrap().len() as usize;
    std::fs::write(&blob, vec![b'x'; size]).unwrap();

    let agent = Agent::start(&[]).await;
    let token = agent.token().await;
    let (progress, summary) = lines(&pull(&agent, &token, &json!({"image": image.at(OPEN)})).await);
    assert!(
        progress.iter().any(|l| l["status"] == "Pulling fs layer"),
        "it had begun: {progress:?}"
    );
    assert_eq!(summary["status"], "failed", "{summary}");
    assert!(
        summary["error"]
            .as_str()
            .unwrap()
            .contains("verification failed"),
        "{summary}"
    );
    assert_eq!(summary["id"], Value::Null);
    assert!(!image.is_local(OPEN));
}

/// The agent's answers to `bodies`, each with its status.
async fn answers(agent: &Agent, token: &str, bodies: &[Value]) -> Vec<Resp> {
    let mut all = Vec::new();
    for body in bodies {
        all.push(pull(agent, token, body).await);
    }
    all
}

#[tokio::test]
async fn credentials_reach_the_registry_and_nowhere_else() {
    let image = Pushed::new();
    let dir = temp_dir("pull-credentials");
    let audit = dir.join("audit.log");
    let env = [
        ("API_PASSWORD", PASSWORD),
        ("SECRET_KEY", SECRET),
        ("MCP_API_KEY", MCP_KEY),
        ("AUDIT_LOG", audit.to_str().unwrap()),
        ("RUST_LOG", "debug"),
    ];
    let mut process = Process::spawn(&dir, &env);
    let agent = Agent::at(process.address().parse().unwrap());
    let token = agent.token().await;
    let wrong = format!("wrong-{}", unique_name("password"));
    let reference = image.at(AUTHENTICATED);
    let bodies = [
        json!({"image": reference}),
        json!({"image": reference, "auth": {"username": USER, "password": wrong}}),
        json!({"image": reference, "auth": {"username": USER, "password": REGISTRY_PASSWORD, "serveraddress": AUTHENTICATED}}),
        json!({"image": reference, "auth": {"username": USER, "password": REGISTRY_PASSWORD, "extra": REGISTRY_PASSWORD}}),
        json!({"image": "Not Valid", "auth": {"username": USER, "password": wrong}}),
    ];
    let all = answers(&agent, &token, &bodies).await;
    for refused in &all[..2] {
        assert_eq!(refused.status, 401, "{:?}", refused.body);
        assert!(detail(refused).contains("The registry refused the pull"));
        assert_eq!(
            refused.header("www-authenticate"),
            None,
            "not the agent's own token"
        );
    }
    let (_, summary) = lines(&all[2]);
    assert_eq!(summary["status"], "pulled", "{summary}");
    assert!(image.is_local(AUTHENTICATED));
    assert_eq!(all[3].status, 422);
    assert_eq!(all[4].status, 422);
    let mcp = agent
        .mcp_tool(
            MCP_KEY,
            "pull_image",
            json!({"image": reference, "auth": {"username": USER, "password": wrong}}),
        )
        .await;
    assert_eq!(mcp["isError"], true, "{mcp}");
    assert!(
        tool_text(&mcp).contains("The registry refused the pull"),
        "{mcp}"
    );

    let (code, output) = tokio::task::spawn_blocking(move || process.terminate())
        .await
        .unwrap();
    assert_eq!(code, 0);
    let trail = std::fs::read_to_string(&audit).unwrap();
    let records: Vec<Value> = trail
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|r: &Value| r["action"] == "image.pull")
        .collect();
    let results: Vec<(&str, &str)> = records
        .iter()
        .map(|r| (r["result"].as_str().unwrap(), r["image"].as_str().unwrap()))
        .collect();
    assert_eq!(
        results,
        [
            ("denied", reference.as_str()),
            ("denied", reference.as_str()),
            ("ok", reference.as_str()),
            ("denied", reference.as_str())
        ],
        "{trail}"
    );
    let mut seen: Vec<(&str, String)> = vec![("the audit trail", trail.clone())];
    seen.push(("the agent's output", output.join("\n")));
    seen.push(("an MCP answer", mcp.to_string()));
    for resp in &all {
        seen.push((
            "an answer",
            String::from_utf8_lossy(&resp.body).into_owned(),
        ));
    }
    for (what, text) in seen {
        for secret in [REGISTRY_PASSWORD, wrong.as_str()] {
            assert!(!text.contains(secret), "{what} holds a registry password");
        }
    }
}

#[tokio::test]
async fn image_allow_refuses_what_it_does_not_name_before_asking_docker() {
    let image = Pushed::new();
    let agent = Agent::start(&[(
        "IMAGE_ALLOW",
        "alpine, 127.0.0.1:5000/docker-agent-test/*:nope-*",
    )])
    .await;
    let token = agent.token().await;
    for reference in [image.at(OPEN), image.at(AUTHENTICATED)] {
        let resp = pull(&agent, &token, &json!({"image": reference})).await;
        assert_eq!(resp.status, 403, "{:?}", resp.body);
        assert_eq!(
            resp.json()["detail"],
            format!("IMAGE_ALLOW does not allow the image '{reference}'")
        );
    }
    let tool = agent
        .mcp_tool(MCP_KEY, "pull_image", json!({"image": image.at(OPEN)}))
        .await;
    assert!(
        tool_text(&tool).starts_with("IMAGE_ALLOW does not allow"),
        "{tool}"
    );
    assert!(!image.is_local(OPEN) && !image.is_local(AUTHENTICATED));

    let allowed = Agent::start(&[("IMAGE_ALLOW", "127.0.0.1:5000/docker-agent-test/*")]).await;
    let token = allowed.token().await;
    let (_, summary) = lines(&pull(&allowed, &token, &json!({"image": image.at(OPEN)})).await);
    assert_eq!(summary["status"], "pulled");
}

#[tokio::test]
async fn only_admins_pull_and_never_in_read_only_mode() {
    use docker_agent::policy::{Role, tokens};
    let image = Pushed::new();
    let (reader, operator) = (tokens::generate(), tokens::generate());
    let file = tokens_file(&[
        ("viewer", Role::Read, &reader),
        ("ops", Role::Operate, &operator),
    ]);
    let agent = Agent::start(&[
        ("API_TOKENS_FILE", file.to_str().unwrap()),
        ("MCP_ROLE", "operate"),
    ])
    .await;
    let body = json!({"image": image.at(OPEN)});
    for (token, role) in [(&reader, "read"), (&operator, "operate")] {
        let resp = pull(&agent, token, &body).await;
        assert_eq!(resp.status, 403);
        assert_eq!(
            resp.json()["detail"],
            format!("Role '{role}' does not allow 'pull': it needs the 'admin' role")
        );
    }
    assert!(
        !agent
            .mcp_tool_names(MCP_KEY)
            .await
            .contains(&"pull_image".to_string())
    );
    let tool = agent.mcp_tool(MCP_KEY, "pull_image", body.clone()).await;
    assert!(
        tool_text(&tool).starts_with("Role 'operate' does not allow 'pull'"),
        "{tool}"
    );

    let read_only = Agent::start(&[("READ_ONLY", "true")]).await;
    let token = read_only.token().await;
    let resp = pull(&read_only, &token, &body).await;
    assert_eq!(resp.status, 403);
    assert_eq!(
        resp.json()["detail"],
        "The agent is read-only (READ_ONLY=true): 'pull' is refused"
    );
    assert!(!image.is_local(OPEN));
}

#[tokio::test]
async fn bad_bodies_are_422_with_the_field_named() {
    let agent = Agent::start(&[]).await;
    let token = agent.token().await;
    let cases = [
        (json!({}), "missing", json!(["body", "image"])),
        (
            json!({"image": "alpine", "platform": "linux/arm64"}),
            "extra_forbidden",
            json!(["body", "platform"]),
        ),
        (
            json!({"image": "alpine:3.20", "tag": "3.21"}),
            "value_error",
            json!(["body", "tag"]),
        ),
        (
            json!({"image": "UPPER/case"}),
            "value_error",
            json!(["body", "image"]),
        ),
        (
            json!({"image": ["alpine"]}),
            "string_type",
            json!(["body", "image"]),
        ),
        (
            json!({"image": "alpine", "auth": {"username": "u"}}),
            "missing",
            json!(["body", "auth", "password"]),
        ),
        (json!(["alpine"]), "model_attributes_type", json!(["body"])),
    ];
    for (body, kind, loc) in cases {
        let resp = pull(&agent, &token, &body).await;
        assert_eq!(resp.status, 422, "{body}");
        let first = &resp.json()["detail"][0];
        assert_eq!(
            (&first["type"], &first["loc"]),
            (&json!(kind), &loc),
            "{body}"
        );
    }
}

#[tokio::test]
async fn the_mcp_tool_sends_docker_s_progress_as_notifications() {
    let image = Pushed::new();
    let agent = Agent::start(&[]).await;
    let args = json!({"image": format!("{OPEN}/{REPOSITORY}"), "tag": image.tag});
    let body = json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "pull_image", "arguments": args, "_meta": {"progressToken": "pull-1", "io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}}}});
    let auth = format!("Bearer {MCP_KEY}");
    let headers = [
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
        ("accept", "application/json, text/event-stream"),
        ("mcp-protocol-version", "2026-07-28"),
        ("mcp-method", "tools/call"),
        ("mcp-name", "pull_image"),
    ];
    let resp = agent
        .request(
            hyper::Method::POST,
            "/mcp",
            &headers,
            body.to_string().as_bytes(),
        )
        .await;
    assert_eq!(resp.header("content-type"), Some("text/event-stream"));
    let text = String::from_utf8_lossy(&resp.body);
    let messages: Vec<Value> = text
        .split("\n\n")
        .filter_map(|e| e.lines().find_map(|l| l.strip_prefix("data: ")))
        .map(|d| serde_json::from_str(d).unwrap())
        .collect();
    let (answer, progress) = messages.split_last().expect("an answer");
    assert_eq!(
        answer["result"]["structuredContent"]["status"], "pulled",
        "{text}"
    );
    assert!(progress.len() >= 2, "{text}");
    let mut last = 0.0;
    for p in progress {
        assert_eq!(p["method"], "notifications/progress", "{p}");
        assert_eq!(p["params"]["progressToken"], "pull-1");
        let n = p["params"]["progress"].as_f64().unwrap();
        assert!(n > last, "progress grows: {text}");
        last = n;
    }
    let said: Vec<&str> = progress
        .iter()
        .map(|p| p["params"]["message"].as_str().unwrap())
        .collect();
    assert!(
        said.iter().any(|m| m.ends_with("Pull complete")),
        "{said:?}"
    );
    assert!(image.is_local(OPEN));
}

#[tokio::test]
async fn the_mcp_tool_pulls_and_answers_with_the_summary() {
    let image = Pushed::new();
    let agent = Agent::start(&[]).await;
    let result = agent
        .mcp_tool(
            MCP_KEY,
            "pull_image",
            json!({"image": format!("{OPEN}/{REPOSITORY}"), "tag": image.tag}),
        )
        .await;
    assert_eq!(result["isError"], false, "{result}");
    let summary = &result["structuredContent"];
    assert_eq!(
        (&summary["image"], &summary["status"], &summary["digest"]),
        (
            &json!(image.at(OPEN)),
            &json!("pulled"),
            &json!(image.digest)
        ),
        "{result}"
    );
    assert_eq!(
        serde_json::from_str::<Value>(tool_text(&result)).unwrap(),
        *summary
    );
    assert!(image.is_local(OPEN));
    let missing = agent
        .mcp_tool(
            MCP_KEY,
            "pull_image",
            json!({"image": format!("{}-missing", image.at(OPEN))}),
        )
        .await;
    assert_eq!(missing["isError"], true);
    assert!(tool_text(&missing).contains("not found"), "{missing}");
    let bad = agent
        .mcp_tool(MCP_KEY, "pull_image", json!({"image": "alpine", "tag": 3}))
        .await;
    assert!(
        tool_text(&bad).contains("\"tag\": Input should be a valid string"),
        "{bad}"
    );
}
