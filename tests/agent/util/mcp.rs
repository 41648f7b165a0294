//! MCP calls in the stateless revision (2026-07-28), presenting any
//! credential: the MCP key or a scoped API token.

use super::*;
use hyper::Method;
use serde_json::{Value, json};

const MODERN: &str = "2026-07-28";

impl Agent {
    /// A stateless MCP request, with the headers that revision requires.
    pub async fn mcp(&self, credential: &str, method: &str, mut params: Value) -> Resp {
        params["_meta"] = json!({
            "io.modelcontextprotocol/protocolVersion": MODERN,
            "io.modelcontextprotocol/clientCapabilities": {},
        });
        let auth = format!("Bearer {credential}");
        let name = params["name"].as_str().unwrap_or_default().to_string();
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
