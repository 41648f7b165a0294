//! The OpenAPI document against a live agent: served without a token and
//! valid OpenAPI 3.1 (`openapi-spec-validator`), and every REST route of the
//! router's table driven against the real daemon — its success and its main
//! errors — with every answer checked against the document by
//! `tests/openapi_check.py` (status listed, content type, headers, body
//! schema with no undocumented field), so the description cannot drift from
//! the code. A route of the table without a case here fails the test.

use crate::util::*;
use docker_agent::policy::{Role, tokens};
use docker_agent::router::routes;
use hyper::Method;
use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;

/// The document, fetched without a token.
async fn fetch(agent: &Agent) -> Value {
    let resp = agent.get("/api/v1/openapi.json", None).await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("content-type"), Some("application/json"));
    assert_eq!(resp.header("cache-control"), Some("public, max-age=300"));
    resp.json()
}

fn write_json(dir: &Path, name: &str, value: &Value) -> String {
    let path = dir.join(name);
    std::fs::write(&path, value.to_string()).unwrap();
    path.to_str().unwrap().to_string()
}

#[tokio::test]
async fn the_served_document_is_valid_openapi_3_1_with_the_agents_version() {
    let agent = Agent::start(&[]).await;
    let doc = fetch(&agent).await;
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    let file = write_json(&temp_dir("openapi"), "openapi.json", &doc);
    let out = run_ok(Command::new("python3").args(["-m", "openapi_spec_validator", &file]));
    assert!(out.ends_with(": OK"), "{out}");
}

/// Answers recorded for the checker: the document's path template, the
/// status, the content type, header names and the body (NDJSON: each line).
struct Recorder {
    agent: Agent,
    admin: String,
    reader: String,
    answers: Vec<Value>,
}

/// Who calls.
#[derive(Clone, Copy)]
enum As {
    Admin,
    Reader,
    Nobody,
}

impl Recorder {
    async fn call(&mut self, who: As, method: &str, template: &str, path: &str, body: &str) -> u16 {
        let auth = match who {
            As::Admin => Some(format!("Bearer {}", self.admin)),
            As::Reader => Some(format!("Bearer {}", self.reader)),
            As::Nobody => None,
        };
        let mut headers = vec![("content-type", "application/json")];
        headers.extend(auth.iter().map(|a| ("authorization", a.as_str())));
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let resp = self
            .agent
            .request(method.clone(), path, &headers, body.as_bytes())
            .await;
        self.record(method.as_str(), template, &resp);
        resp.status
    }

    fn record(&mut self, method: &str, template: &str, resp: &Resp) {
        let content_type = resp.header("content-type").unwrap_or("").to_string();
        let text = String::from_utf8_lossy(&resp.body);
        let bodies: Vec<Value> = if content_type == "application/x-ndjson" {
            text.lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect()
        } else if content_type.starts_with("text/plain") {
            vec![Value::from(text.as_ref())]
        } else {
            vec![resp.json()]
        };
        let headers: Vec<&str> = resp.headers.keys().map(|k| k.as_str()).collect();
        self.answers.push(json!({
            "method": method, "path": template.replace("{id}", "{container_id}"),
            "status": resp.status, "content_type": content_type,
            "headers": headers, "bodies": bodies,
        }));
    }
}

/// The test image under a tag of its own in the open registry (a pull of
/// it is a real pull that finds the image up to date); untagged when dropped.
struct Pushed(String);

impl Pushed {
    fn new() -> Pushed {
        let tag = format!(
            "127.0.0.1:5000/docker-agent-test/openapi:{}",
            unique_name("p")
        );
        docker(&["tag", image(), &tag]);
        let pushed = Pushed(tag);
        docker(&["push", &pushed.0]);
        pushed
    }
}

impl Drop for Pushed {
    fn drop(&mut self) {
        let _ = Command::new("docker").args(["rmi", &self.0]).output();
    }
}

/// Drives one row of the router's table: its success and main errors.
async fn drive(r: &mut Recorder, method: &str, template: &str, c: &Container, stopped: &Container) {
    use As::*;
    let at = |id: &str| template.replace("{id}", id);
    let (on, missing) = (at(&c.name), at("docker-agent-no-such-container"));
    let hit = |statuses: Vec<u16>, expected: &[u16]| {
        assert_eq!(statuses, expected, "{method} {template}");
    };
    match (method, template) {
        ("POST", "/api/v1/auth/login") => {
            let good = json!({"username": "admin", "password": PASSWORD}).to_string();
            let bad = json!({"username": "admin", "password": "wrong"}).to_string();
            let s = vec![
                r.call(Nobody, method, template, template, &good).await,
                r.call(Nobody, method, template, template, &bad).await,
                r.call(Nobody, method, template, template, "{").await,
            ];
            hit(s, &[200, 401, 422]);
        }
        ("GET", "/api/v1/containers/") => {
            let s = vec![
                r.call(Reader, method, template, template, "").await,
                r.call(
                    Reader,
                    method,
                    template,
                    &format!("{template}?status=up"),
                    "",
                )
                .await,
                r.call(Nobody, method, template, template, "").await,
            ];
            hit(s, &[200, 422, 401]);
        }
        ("POST", "/api/v1/containers/") => {
            let name = unique_name("openapi");
            let spec =
                json!({"image": image(), "name": name, "labels": {LABEL: "1"}, "cmd": ["wait"]});
            let status = r
                .call(Admin, method, template, template, &spec.to_string())
                .await;
            let _made = Made(name.clone());
            let missing_image = json!({"image": "docker-agent-no-such:1"}).to_string();
            let s = vec![
                status,
                r.call(Admin, method, template, template, &spec.to_string())
                    .await,
                r.call(Admin, method, template, template, &missing_image)
                    .await,
                r.call(Admin, method, template, template, r#"{"volumes":[]}"#)
                    .await,
                r.call(Reader, method, template, template, &spec.to_string())
                    .await,
            ];
            hit(s, &[201, 409, 404, 422, 403]);
        }
        ("DELETE", "/api/v1/containers/{id}") => {
            let spare = Container::run(&[], &["wait"]);
            let s = vec![
                r.call(Admin, method, template, &at(&spare.name), "").await,
                r.call(
                    Admin,
                    method,
                    template,
                    &format!("{}?force=1", at(&spare.name)),
                    "",
                )
                .await,
                r.call(Admin, method, template, &missing, "").await,
                r.call(Reader, method, template, &on, "").await,
            ];
            hit(s, &[409, 200, 404, 403]);
        }
        ("DELETE", "/api/v1/images/{image}") => {
            let tag = format!("docker-agent-test-openapi:{}", unique_name("t"));
            docker(&["tag", image(), &tag]);
            let path = template.replace("{image}", &tag);
            let s = vec![
                r.call(Reader, method, template, &path, "").await,
                r.call(Admin, method, template, &path, "").await,
                r.call(Admin, method, template, &path, "").await,
            ];
            hit(s, &[403, 200, 404]);
        }
        ("POST", "/api/v1/images/pull") => {
            let pushed = Pushed::new();
            let good = json!({"image": pushed.0.as_str()}).to_string();
            let unknown = json!({"image": "127.0.0.1:5000/docker-agent-test/none:1"}).to_string();
            let s = vec![
                r.call(Admin, method, template, template, &good).await,
                r.call(Admin, method, template, template, &unknown).await,
                r.call(Admin, method, template, template, "[]").await,
                r.call(Reader, method, template, template, &good).await,
            ];
            hit(s, &[200, 404, 422, 403]);
        }
        ("POST", "/api/v1/containers/{id}/exec") => {
            let cmd = json!({"cmd": ["/testbox", "out:hi"]}).to_string();
            let s = vec![
                r.call(Admin, method, template, &on, &cmd).await,
                r.call(Admin, method, template, &on, "{}").await,
                r.call(Admin, method, template, &missing, &cmd).await,
                r.call(Reader, method, template, &on, &cmd).await,
            ];
            hit(s, &[200, 422, 404, 403]);
        }
        ("GET", "/api/v1/stats/{id}") => {
            let s = vec![
                r.call(Reader, method, template, &on, "").await,
                r.call(Reader, method, template, &at(&stopped.name), "")
                    .await,
                r.call(Reader, method, template, &missing, "").await,
            ];
            hit(s, &[200, 409, 404]);
        }
        ("POST", "/api/v1/containers/{id}/kill") => {
            let s = vec![
                r.call(Admin, method, template, &format!("{on}?signal=nope"), "")
                    .await,
                r.call(Admin, method, template, &at(&stopped.name), "")
                    .await,
                r.call(Reader, method, template, &on, "").await,
                r.call(Admin, method, template, &missing, "").await,
                r.call(Admin, method, template, &on, "").await,
            ];
            hit(s, &[422, 409, 403, 404, 200]);
        }
        ("POST", p) if p.starts_with("/api/v1/containers/{id}/") => {
            let s = vec![
                r.call(Reader, method, template, &on, "").await,
                r.call(Admin, method, template, &missing, "").await,
                r.call(Admin, method, template, &on, "").await,
            ];
            hit(s, &[403, 404, 200]);
        }
        ("GET", p) if p.contains("{id}") => {
            let s = vec![
                r.call(Reader, method, template, &on, "").await,
                r.call(Reader, method, template, &missing, "").await,
                r.call(Nobody, method, template, &on, "").await,
                r.call(Reader, method, template, &format!("{on}?bogus=1"), "")
                    .await,
            ];
            hit(s, &[200, 404, 401, 422]);
        }
        ("GET", "/api/v1/healthz" | "/api/v1/openapi.json") => {
            let s = vec![
                r.call(Nobody, method, template, template, "").await,
                r.call(Nobody, method, template, &format!("{template}?bogus=1"), "")
                    .await,
            ];
            hit(s, &[200, 422]);
        }
        ("GET", _) => {
            let s = vec![
                r.call(Reader, method, template, template, "").await,
                r.call(Nobody, method, template, template, "").await,
                r.call(Reader, method, template, &format!("{template}?bogus=1"), "")
                    .await,
            ];
            hit(s, &[200, 401, 422]);
        }
        _ => panic!("no case for {method} {template}: drive it and check its answers"),
    }
}

#[tokio::test]
async fn every_rest_answer_matches_the_documented_schema_for_its_status() {
    let c = Container::run(&[], &["every:100"]);
    let stopped = Container::create(&[], &[]);
    let reader = tokens::generate();
    let file = tokens_file(&[("reader", Role::Read, &reader)]);
    let agent = Agent::start(&[
        ("API_TOKENS_FILE", file.to_str().unwrap()),
        ("RATE_LIMIT_ENABLED", "false"),
        ("EXEC_ENABLED", "true"),
    ])
    .await;
    let admin = agent.token().await;
    let doc = fetch(&agent).await;
    let mut r = Recorder {
        agent,
        admin,
        reader,
        answers: Vec::new(),
    };
    for (method, path) in routes() {
        let path = path.as_str();
        if path.starts_with("/mcp") || path.contains("/ws") {
            continue; // described in prose: not REST
        }
        if path == "/" || path.starts_with("/ui/") {
            continue; // the dashboard's pages (tests/agent/dashboard.rs)
        }
        drive(&mut r, method, path, &c, &stopped).await;
    }
    rate_limited(&mut r.answers).await;
    let dir = temp_dir("openapi");
    let out = Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/openapi_check.py"))
        .arg(write_json(&dir, "openapi.json", &doc))
        .arg(write_json(&dir, "answers.json", &Value::from(r.answers)))
        .output()
        .expect("python3 with jsonschema (tests/requirements.txt)");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{report}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A 429 as the document describes it (with `Retry-After`).
async fn rate_limited(answers: &mut Vec<Value>) {
    let agent = Agent::start(&[("RATE_LIMIT_REQUESTS", "1")]).await;
    let mut r = Recorder {
        agent,
        admin: String::new(),
        reader: String::new(),
        answers: Vec::new(),
    };
    let path = "/api/v1/openapi.json";
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(r.call(As::Nobody, "GET", path, path, "").await);
    }
    assert!(statuses.contains(&429), "{statuses:?}");
    answers.append(&mut r.answers);
}
