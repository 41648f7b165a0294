//! MCP calls in the stateless revision (2026-07-28), presenting any
//! credential: the MCP key or a scoped API token.

use super::*;
use hyper::Method;
use serde_json::{Value, json};
use std::time::Duration;

const MODERN: &str = "2026-07-28";

impl Agent {
    /// A stateless MCP request, with the headers that revision requires.
    pub async fn mcp(&self, credential: &str, method: &str, mut params: Value) -> Resp {
        params["_meta"] = json!({
            "io.modelcontextprotocol/protocolVersion": MODERN,
            "io.modelcontextprotocol/clientCapabilities": {},
        });
        let auth = format!("Bearer {credential}");
        let named = params.get("name").or(params.get("uri"));
        let name = named
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let mut headers = vec![
            ("authorization", auth.as_str()),
            ("content-type", "application/json"),
            ("mcp-protocol-version", MODERN),
            ("mcp-method", method),
        ];
        if !name.is_empty() {
            headers.push(("mcp-name", &name));
        }
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        self.request(Method::POST, "/mcp", &headers, body.to_string().as_bytes())
            .await
    }

    /// `tools/call`: the result (`isError` says whether the tool failed).
    pub async fn mcp_tool(&self, credential: &str, tool: &str, args: Value) -> Value {
        let resp = self
            .mcp(
                credential,
                "tools/call",
                json!({"name": tool, "arguments": args}),
            )
            .await;
        assert_eq!(resp.status, 200, "{tool}: {:?}", resp.body);
        resp.json()["result"].clone()
    }

    /// The names `tools/list` shows to `credential`.
    pub async fn mcp_tool_names(&self, credential: &str) -> Vec<String> {
        let resp = self.mcp(credential, "tools/list", json!({})).await;
        assert_eq!(resp.status, 200, "{:?}", resp.body);
        resp.json()["result"]["tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_string())
            .collect()
    }
}

/// The text of a tool result's first content block.
pub fn tool_text(result: &Value) -> &str {
    result["content"][0]["text"].as_str().unwrap_or_default()
}

/// Reads server-sent events from a streaming response.
pub struct Events {
    pub body: hyper::body::Incoming,
    buf: String,
}

impl Events {
    /// The next event's name and data (keep-alive comments skipped);
    /// `None` when the stream ends or stays silent for 20 s.
    pub async fn next(&mut self) -> Option<(String, String)> {
        use http_body_util::BodyExt;
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                if block.starts_with(':') {
                    continue;
                }
                let field = |name: &str| {
                    block
                        .lines()
                        .find_map(|l| l.strip_prefix(name))
                        .unwrap_or("")
                        .trim()
                        .to_string()
                };
                return Some((field("event:"), field("data:")));
            }
            let frame = tokio::time::timeout(Duration::from_secs(20), self.body.frame())
                .await
                .ok()??
                .ok()?;
            if let Ok(data) = frame.into_data() {
                self.buf.push_str(&String::from_utf8_lossy(&data));
            }
        }
    }

    /// The next event's data, as JSON.
    pub async fn next_json(&mut self) -> Option<Value> {
        let (_, data) = self.next().await?;
        Some(serde_json::from_str(&data).expect("JSON event data"))
    }
}

/// A request whose answer may stream: its status and, for an event
/// stream, its events.
pub async fn open_events(
    agent: &Agent,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, Option<Events>) {
    use http_body_util::Full;
    use hyper_util::client::legacy::Client;
    let client: Client<_, Full<hyper::body::Bytes>> =
        Client::builder(hyper_util::rt::TokioExecutor::new()).build_http();
    let mut req = hyper::Request::builder()
        .method(method)
        .uri(agent.url(path));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req.body(Full::from(body.to_string())).unwrap();
    let resp = client.request(req).await.unwrap();
    let status = resp.status().as_u16();
    let streaming = resp
        .headers()
        .get("content-type")
        .is_some_and(|v| v == "text/event-stream");
    let events = streaming.then(|| Events {
        body: resp.into_body(),
        buf: String::new(),
    });
    (status, events)
}

/// `GET /mcp/sse` with `credential`, from the loopback address `source`:
/// the stream's events, past the first (`endpoint`), and the endpoint.
pub async fn open_sse_from(agent: &Agent, source: &str, credential: &str) -> (Events, String) {
    let auth = format!("Bearer {credential}");
    let mut conn = Connection::from(source, agent).await;
    let resp = conn
        .send(Method::GET, "/mcp/sse", &[("authorization", &auth)], "")
        .await;
    assert_eq!(resp.status(), 200, "{source}");
    let mut events = Events {
        body: resp.into_body(),
        buf: String::new(),
    };
    let (kind, endpoint) = events.next().await.expect("the endpoint event");
    assert_eq!(kind, "endpoint");
    (events, endpoint)
}

/// How many tools an admin sees by default: every one but exec's, which
/// needs `EXEC_ENABLED`.
pub fn default_tool_count() -> usize {
    docker_agent::ops::tools()
        .filter(|(_, t)| t["name"] != "exec_in_container")
        .count()
}

/// Runs one of the official MCP Python SDK's client scripts in `tests/`
/// with `args` and returns the JSON object it prints. Each script gives up
/// after two minutes; four here stop one the SDK leaves hanging.
/// It blocks: call it inside `tokio::task::block_in_place`.
pub fn sdk_client(script: &str, args: &[&str]) -> Value {
    let path = format!("{}/tests/{script}", env!("CARGO_MANIFEST_DIR"));
    let mut cmd = std::process::Command::new("python3");
    cmd.arg(&path).args(args);
    let out = output_within(&mut cmd, Duration::from_secs(240));
    assert!(
        out.status.success(),
        "the Python MCP SDK client {script} failed (tests/setup.sh installs it): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{script} printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}
