//! Sending a request on to the agent that owns a host: the owner's `/mcp`
//! as a stateless call with the caller's credential, its answer (plain JSON
//! or an event stream with progress) read back.

use super::*;

/// Why a request sent on has no result.
pub(super) enum Failed {
    /// The owner answered with a JSON-RPC error.
    Rpc(RpcError),
    /// The owner could not be reached, or refused the request itself.
    Host(String),
}

impl Failed {
    pub(super) fn reason(self) -> String {
        match self {
            Failed::Rpc(e) => e.message,
            Failed::Host(why) => why,
        }
    }
}

/// The `_meta` of a request sent on for `ctx`'s caller, from the caller's
/// `params`: the stateless revision; the caller's capabilities, client and
/// progress token (a handshake-era caller can answer a question when its
/// session can be asked one); and the host's name here, for the owner's
/// question.
pub(super) fn meta(ctx: &Ctx<'_>, params: &Value, host: &str) -> Value {
    let theirs = params.get("_meta");
    let field = |k: &str| theirs.and_then(|m| m.get(k)).cloned();
    let (capabilities, client) = match &ctx.link.peer {
        Some(peer) => {
            let elicits = peer.elicits && ctx.link.out.open();
            let capabilities = match elicits {
                true => json!({"elicitation": {}}),
                false => json!({}),
            };
            (capabilities, Some(json!({"name": peer.client})))
        }
        None => (
            field("io.modelcontextprotocol/clientCapabilities")
                .filter(Value::is_object)
                .unwrap_or_else(|| json!({})),
            field("io.modelcontextprotocol/clientInfo"),
        ),
    };
    let mut meta = json!({
        "io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientCapabilities": capabilities,
        HOST_META: host,
    });
    if let Some(client) = client {
        meta["io.modelcontextprotocol/clientInfo"] = client;
    }
    if let Some(token) = field("progressToken") {
        meta["progressToken"] = token;
    }
    meta
}

/// A `Mcp-Name` header value: as it is when a header can carry it, else
/// in the `=?base64?…?=` form.
fn name_header(name: &str) -> Option<HeaderValue> {
    let plain = name.bytes().all(|b| (0x20..0x7f).contains(&b));
    match plain {
        true => HeaderValue::from_str(name).ok(),
        false => {
            let encoded = base64::engine::general_purpose::STANDARD.encode(name);
            HeaderValue::from_str(&format!("=?base64?{encoded}?=")).ok()
        }
    }
}

/// Sends request `method` with `params` (naming `named`: a tool or a URI)
/// to `member`, known here as `host`, as `ctx`'s caller; its result. Its
/// progress messages go to `progress`, when it carries a token.
pub(super) async fn send(
    ctx: &Ctx<'_>,
    member: &Remote,
    host: &str,
    method: &str,
    named: &str,
    params: Value,
    progress: &Progress,
) -> Result<Value, Failed> {
    let credential = ctx
        .presented
        .ok_or_else(|| Failed::Host("this request presented no credential to send on".into()))?;
    let streams = params.pointer("/_meta/progressToken").is_some();
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let mut req = Request::builder()
        .method(Method::POST)
        .uri("/mcp")
        .header(header::CONTENT_TYPE, "application/json")
        .header(
            header::ACCEPT,
            match streams {
                true => "application/json, text/event-stream",
                false => "application/json",
            },
        )
        .header("mcp-protocol-version", MODERN)
        .header("mcp-method", method)
        .header("x-forwarded-for", ctx.client.to_string())
        .body(full(body.to_string().into()))
        .map_err(|_| Failed::Host("the request could not be made".into()))?;
    let headers = req.headers_mut();
    let bearer = HeaderValue::from_str(&format!("Bearer {}", credential.expose()))
        .map_err(|_| Failed::Host("the credential cannot be sent in a header".into()))?;
    headers.insert(header::AUTHORIZATION, bearer);
    if let Some(v) = name_header(named) {
        headers.insert("mcp-name", v);
    }
    let answer = forward::send(member, host, req)
        .await
        .map_err(|e| Failed::Host(e.message()))?;
    let status = answer.status();
    let mut body = answer.into_body();
    let mut buf: Vec<u8> = Vec::new();
    loop {
        while let Some(end) = find(&buf, b"\n\n") {
            let event: Vec<u8> = buf.drain(..end + 2).collect();
            if let Some(reply) = said(&event, progress) {
                return reply;
            }
        }
        let frame = match body.frame().await {
            Some(Ok(frame)) => frame,
            Some(Err(e)) => return Err(Failed::Host(format!("its answer broke off: {e}"))),
            None => break,
        };
        if let Ok(data) = frame.into_data() {
            buf.extend_from_slice(&data);
        }
        if buf.len() > MAX_ANSWER {
            return Err(Failed::Host(format!(
                "its answer is over {MAX_ANSWER} bytes"
            )));
        }
    }
    let value: Value = serde_json::from_slice(&buf)
        .map_err(|_| Failed::Host(format!("it answered {status} with no JSON-RPC answer")))?;
    reply(value).unwrap_or_else(|value| {
        let detail = value["detail"].as_str().unwrap_or("no reason given");
        Err(Failed::Host(format!(
            "it answered {}: {}",
            status.as_u16(),
            clip(detail, 512)
        )))
    })
}

/// Where `needle` first starts in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// One event of an owner's `text/event-stream` answer: progress is passed
/// on; the answer ends the stream.
fn said(event: &[u8], progress: &Progress) -> Option<Result<Value, Failed>> {
    let text = String::from_utf8_lossy(event);
    let data: String = text
        .lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .map(str::trim_start)
        .collect();
    let value: Value = serde_json::from_str(&data).ok()?;
    if value["method"] == "notifications/progress" {
        let p = &value["params"];
        if let Some(done) = p["progress"].as_f64() {
            progress.report(done, p["total"].as_f64(), p["message"].as_str());
        }
        return None;
    }
    reply(value).ok()
}

/// A JSON-RPC response's result or error; anything else given back.
fn reply(value: Value) -> Result<Result<Value, Failed>, Value> {
    if value.get("jsonrpc").is_none() {
        return Err(value);
    }
    if let Some(e) = value.get("error") {
        let code = e["code"].as_i64().unwrap_or(INTERNAL_ERROR);
        let message = e["message"].as_str().unwrap_or("error").to_string();
        let mut error = RpcError::new(code, message);
        error.data = e.get("data").cloned();
        return Ok(Err(Failed::Rpc(error)));
    }
    Ok(Ok(value.get("result").cloned().unwrap_or(Value::Null)))
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn an_owner_s_stream_gives_its_progress_and_then_its_answer() {
        let progress = Progress::default();
        let note = br#"event: message
data: {"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"t","progress":1}}

"#;
        assert!(said(note, &progress).is_none());
        let answer =
            b"event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"ok\":true}}\n\n";
        assert_eq!(
            said(answer, &progress).unwrap().ok(),
            Some(json!({"ok": true}))
        );
        let error = json!({"jsonrpc": "2.0", "id": 1, "error": {"code": -32602, "message": "no", "data": {"uri": "u"}}});
        match reply(error) {
            Ok(Err(Failed::Rpc(e))) => {
                assert_eq!((e.code, e.data), (-32602, Some(json!({"uri": "u"}))))
            }
            _ => panic!("a JSON-RPC error"),
        }
        assert!(reply(json!({"detail": "Invalid or missing MCP API key"})).is_err());
        assert_eq!(find(b"ab\n\ncd", b"\n\n"), Some(2));
    }

    #[test]
    fn a_name_a_header_cannot_carry_is_sent_in_base64() {
        assert_eq!(name_header("list_containers").unwrap(), "list_containers");
        assert_eq!(
            name_header("docker://containers/caf\u{e9}").unwrap(),
            "=?base64?ZG9ja2VyOi8vY29udGFpbmVycy9jYWbDqQ==?="
        );
    }
}
