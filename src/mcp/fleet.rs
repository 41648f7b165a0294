//! MCP for the fleet: one MCP server for every host. Every tool but
//! `list_hosts` takes an optional `host` argument — a host's name, its
//! daemon's id or a unique prefix of it, as `list_hosts` shows them;
//! absent, or this host's own name, means this host.
//!
//! A call for another host is sent on to the agent that owns it, over the
//! fleet's link, as a stateless (2026-07-28) `tools/call` to its `/mcp`
//! without the `host` argument, with the caller's own credential as it was
//! presented here and `X-Forwarded-For` naming the caller ([`call`]). The
//! owner authenticates it, applies its own policy (role, scope,
//! `MCP_READ_ONLY`, confirmation) and audits it; its result comes back as
//! it gave it, fitted to the caller's protocol revision. Its progress is
//! passed on. A person's confirmation the owner wants is asked here, where
//! the person is: a 2026-07-28 client gets the owner's `input_required`
//! as it is and calls again through this agent; a handshake-era client is
//! asked over its session and the answer is sent on with the owner's
//! `requestState`. Either way the owner checks the yes itself: the state
//! is its own, bound to its daemon's id ([`super::confirm`]), and spent
//! there once. This agent records every call it sent on that changes
//! something (`fleet.forward`, with `forwarded_to`).
//!
//! Besides:
//! - `list_containers` with `host: "*"` ([`everywhere`]): every host's
//!   containers, asked at once ([`fanout`]: a bounded number at a time,
//!   all within one deadline; one the probe found unreachable is not asked),
//!   each tagged with its `host`; a host that failed is named in `missing`
//!   with why, and never fails the call (the shape of REST's `?host=*`).
//! - A tool given a `container_id` and no `host`, for a container this host
//!   does not have ([`locate`]): the other hosts are asked for it (as the
//!   caller, `get_container`); the one host that has it runs the call;
//!   several are a tool error naming them; none, the usual not found.
//! - The resources `docker://hosts/{host}/containers…` ([`host_uri`],
//!   [`read`]): `docker://containers…` of that host, read through its agent.
//!
//! A call that came through the fleet is for the host it reached: it is
//! never sent on again, nor looked for elsewhere.

use super::confirm::{HOST_META, ask_in_session, not_done, why_not};
use super::context::{Ctx, Era, MODERN};
use super::exchange::Progress;
use super::jsonrpc::{INTERNAL_ERROR, MAX_RESPONSE, RpcError};
use super::tool_error::{explain, failure};
use crate::audit::{Action, Outcome, Record, Surface};
use crate::error::{Error, clip};
use crate::fleet::fanout::{self, Asking};
use crate::fleet::members::{Remote, State};
use crate::fleet::{Target, forward, full};
use crate::input::Input;
use crate::ops::{self, Answer, Operation};
use base64::Engine;
use http_body_util::BodyExt;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request};
use serde::Serialize;
use serde_json::{Map, Value, json};
use std::sync::Arc;

/// The argument that names the host a tool runs on.
pub const HOST: &str = "host";
/// The `host` of `list_containers` that means every host.
pub const EVERY: &str = "*";
/// Most bytes of an owner's answer held at once: the largest result, and
/// room for a progress message before it.
const MAX_ANSWER: usize = MAX_RESPONSE + 64 * 1024;

/// Where a tool call runs.
pub enum Where {
    /// This host: named (`host` given), or not named.
    Here { named: bool },
    /// Another host: its agent, and the name it goes by here.
    There(Arc<Remote>, String),
    /// Every host (`list_containers` with `host: "*"`).
    Everywhere,
}

/// The place `args` name (their `host`), and the arguments without it; or
/// the message of a tool error.
pub fn place(
    ctx: &Ctx<'_>,
    tool: &Operation,
    args: &Map<String, Value>,
) -> Result<(Where, Map<String, Value>), String> {
    let mut rest = args.clone();
    let named = match rest.remove(HOST) {
        None | Some(Value::Null) => return Ok((Where::Here { named: false }, rest)),
        Some(Value::String(h)) => h,
        Some(_) => {
            return Err(format!(
                "Invalid arguments ('{HOST}'): a host's name, daemon id or id prefix, as list_hosts shows them."
            ));
        }
    };
    let place = match named == EVERY {
        true if tool.name == ops::LIST_CONTAINERS.name => Where::Everywhere,
        true => {
            return Err(format!(
                "host \"{EVERY}\" (every host) is for list_containers only: name one host (list_hosts lists them)."
            ));
        }
        false => match ctx.app.fleet.target(&named).map_err(|e| explain(&e))? {
            Target::Local => Where::Here { named: true },
            Target::Remote(member, name) => Where::There(member, name),
        },
    };
    if through_fleet(ctx) && !matches!(place, Where::Here { .. }) {
        return Err(format!(
            "This call came through another agent of the fleet, so it is for this host only, not '{}'.",
            clip(&named, crate::audit::MAX_TEXT)
        ));
    }
    Ok((place, rest))
}

/// Whether the request came from another agent of the fleet.
fn through_fleet(ctx: &Ctx<'_>) -> bool {
    let context = ctx.caller.context.as_ref();
    context.and_then(|c| c.through()).is_some()
}

/// Adds the `host` argument to a tool's definition (and, to
/// `list_containers`, `"*"` and what its answer then holds).
pub fn add_host_argument(tool: &mut Value) {
    let name = tool["name"].as_str().unwrap_or_default();
    if name == "list_hosts" {
        return;
    }
    let every = name == ops::LIST_CONTAINERS.name;
    let description = match every {
        true => {
            "The host to list: a host's name, daemon id or unique id prefix (list_hosts lists them), or \"*\" for every host, each container tagged with its host and the hosts that could not answer in missing; absent: this host"
        }
        false => {
            "The host to run on: a host's name, daemon id or unique id prefix (list_hosts lists them); absent: this host, or the one host that has the container named"
        }
    };
    tool["inputSchema"]["properties"][HOST] = json!({"type": "string", "description": description});
    if every && tool["outputSchema"].is_object() {
        let out = &mut tool["outputSchema"]["properties"];
        out["containers"]["items"]["properties"][HOST] =
            json!({"description": "The host it is on (with host \"*\")", "type": "string"});
        out["missing"] = json!({
            "description": "With host \"*\": the hosts that could not answer, and why",
            "items": {"properties": {"host": {"type": "string"}, "reason": {"type": "string"}}, "required": ["host", "reason"], "type": "object"},
            "type": "array",
        });
    }
}

/// Why a request sent on has no result.
enum Failed {
    /// The owner answered with a JSON-RPC error.
    Rpc(RpcError),
    /// The owner could not be reached, or refused the request itself.
    Host(String),
}

impl Failed {
    fn reason(self) -> String {
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
fn meta(ctx: &Ctx<'_>, params: &Value, host: &str) -> Value {
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
async fn send(
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

/// A tool call for another host (see the module doc): the owner's result
/// in `ctx`'s era, or its JSON-RPC error.
pub async fn call(
    ctx: &Ctx<'_>,
    (member, host): (&Remote, &str),
    tool: &Operation,
    args: &Map<String, Value>,
    params: &Value,
    progress: &Progress,
) -> Result<Value, RpcError> {
    let mut sent = json!({"name": tool.name, "arguments": args, "_meta": meta(ctx, params, host)});
    for field in ["requestState", "inputResponses"] {
        if let Some(v) = params.get(field) {
            sent[field] = v.clone();
        }
    }
    let mut answer = send(
        ctx,
        member,
        host,
        "tools/call",
        tool.name,
        sent.clone(),
        progress,
    )
    .await;
    if let (Ok(asks), Era::Handshake(_)) = (&answer, ctx.era) {
        if asks["resultType"] == "input_required" {
            answer = match relay(ctx, asks, &mut sent).await {
                Ok(()) => send(ctx, member, host, "tools/call", tool.name, sent, progress).await,
                Err(refused) => Ok(refused),
            };
        }
    }
    let result = match answer {
        Ok(result) => fitted(ctx.era, result),
        Err(Failed::Rpc(e)) => return Err(e),
        Err(Failed::Host(why)) => failure(&explain(&Error::HostUnreachable(host.into(), why))),
    };
    if tool.op.mutates && result["resultType"] != "input_required" {
        record(ctx, host, &result);
    }
    Ok(result)
}

/// Asks `ctx`'s handshake-era client the question the owner's answer
/// `asks` holds, and puts the answer and the owner's state in `sent`, for
/// the owner to check; or the tool error when nobody said yes or no.
async fn relay(ctx: &Ctx<'_>, asks: &Value, sent: &mut Value) -> Result<(), Value> {
    let question = asks.pointer("/inputRequests/confirm");
    let question = question
        .filter(|q| q["method"] == "elicitation/create")
        .and_then(|q| q.get("params"))
        .cloned()
        .ok_or_else(|| {
            failure(
                "The host asks for input this agent cannot pass on; call it through its own agent.",
            )
        })?;
    let message = question["message"].as_str().unwrap_or_default().to_string();
    let (answer, _by) = ask_in_session(&ctx.link, question).await;
    let response = match answer {
        "accepted" => json!({"action": "accept", "content": {"confirm": true}}),
        "declined" => json!({"action": "decline"}),
        "cancelled" => json!({"action": "cancel"}),
        "unavailable" => {
            let why = "this client cannot ask a person (it declared no elicitation capability, or does not accept text/event-stream answers)";
            return Err(failure(&not_done(why, &message)));
        }
        other => return Err(failure(&not_done(&why_not(other), &message))),
    };
    sent["requestState"] = asks["requestState"].clone();
    sent["inputResponses"] = json!({"confirm": response});
    Ok(())
}

/// An owner's 2026-07-28 result as `era` has it: a question stays as it
/// is; a complete result loses what that revision alone has.
fn fitted(era: Era, mut result: Value) -> Value {
    if result["resultType"] == "input_required" {
        return result;
    }
    if let Some(fields) = result.as_object_mut() {
        for modern_only in ["resultType", "ttlMs", "cacheScope"] {
            fields.remove(modern_only);
        }
        if !era.has_structured_content() {
            fields.remove("structuredContent");
        }
    }
    result
}

/// Records a call sent on to `host` that changes something, as it ended.
fn record(ctx: &Ctx<'_>, host: &str, result: &Value) {
    let caller = ctx.caller;
    let mut r = Record::new(
        caller.context.as_ref(),
        Surface::Mcp,
        Action::Forward,
        caller.subject(),
    )
    .forwarded_to(host);
    if result["isError"] == true {
        r.result = Outcome::Refused;
        let text = result.pointer("/content/0/text").and_then(Value::as_str);
        r.reason = Some(clip(text.unwrap_or_default(), crate::audit::MAX_TEXT));
    }
    ctx.app.audit.record(r);
}

/// A tool's result from another host (its structured content, or the
/// text of its tool error), or why the host gave none. A host the probe
/// found unreachable is not asked (so it costs no deadline).
async fn ask_tool(
    ctx: &Ctx<'_>,
    (member, host): (&Remote, &str),
    tool: &str,
    args: Value,
) -> Result<Result<Value, String>, String> {
    let status = member.status();
    if status.state == State::Unreachable {
        return Err(status.reason.unwrap_or_else(|| "not reached yet".into()));
    }
    let params = json!({"name": tool, "arguments": args, "_meta": meta(ctx, &Value::Null, host)});
    let progress = Progress::default();
    let result = send(ctx, member, host, "tools/call", tool, params, &progress)
        .await
        .map_err(Failed::reason)?;
    if result["isError"] == true {
        let text = result.pointer("/content/0/text").and_then(Value::as_str);
        return Ok(Err(text.unwrap_or("the tool failed").to_string()));
    }
    let structured = result.get("structuredContent").cloned();
    structured
        .map(Ok)
        .ok_or_else(|| "its answer has no structured content".to_string())
}

/// A host that could not answer, and why.
#[derive(Serialize)]
pub struct Missing {
    pub host: String,
    pub reason: String,
}

/// Every host's containers, each tagged with its host (see the module doc).
#[derive(Serialize)]
pub struct Everywhere {
    pub containers: Vec<Value>,
    pub total: usize,
    pub missing: Vec<Missing>,
}

/// `list_containers` with `args` (no `host`) on every host.
pub async fn everywhere(ctx: &Ctx<'_>, args: &Map<String, Value>) -> Everywhere {
    let asked = ctx.app.fleet.every().into_iter().map(|(name, target)| {
        let host = name.clone();
        let answer: Asking<Value> = Box::pin(async move {
            match target {
                Target::Local => list_here(ctx, args).await,
                Target::Remote(member, _) => {
                    let tool = ops::LIST_CONTAINERS.name;
                    ask_tool(ctx, (&member, &host), tool, Value::Object(args.clone())).await?
                }
            }
        });
        (name, answer)
    });
    let answers = fanout::each(asked.collect()).await;
    let mut merged = Everywhere {
        containers: Vec::new(),
        total: 0,
        missing: Vec::new(),
    };
    for (host, answer) in answers {
        let host = host.as_str();
        let listed = answer.and_then(|mut list| match list["containers"].take() {
            Value::Array(items) => Ok(items),
            _ => Err("its answer lists no containers".to_string()),
        });
        match listed {
            Ok(items) => merged.containers.extend(items.into_iter().map(|mut c| {
                c[HOST] = json!(host);
                c
            })),
            Err(reason) => merged.missing.push(Missing {
                host: host.to_string(),
                reason,
            }),
        }
    }
    merged.total = merged.containers.len();
    merged
}

/// `list_containers` with `args` on this host: its structured answer.
async fn list_here(ctx: &Ctx<'_>, args: &Map<String, Value>) -> Result<Value, String> {
    let cx = ops::Cx {
        app: ctx.app,
        caller: ctx.caller,
        credential: ctx.presented.map(|s| s.expose()),
        log_fit: None,
    };
    let run = ops::run(&ops::LIST_CONTAINERS, &cx, Input::arguments(args)).await;
    match run.map_err(|e| explain(&e))? {
        Answer::Json(json) => serde_json::from_str(&json.text).map_err(|e| e.to_string()),
        _ => Err(explain(&Error::Internal)),
    }
}

/// Where a call not naming its host runs when it names a container this
/// host does not have (see the module doc): the one other host that has
/// it; else here (where it is not found as usual), or the message of a tool
/// error — several hosts have it, or some could not be asked.
pub async fn locate(ctx: &Ctx<'_>, args: &Map<String, Value>) -> Result<Where, String> {
    let here = Where::Here { named: false };
    let Some(reference) = args.get("container_id").and_then(Value::as_str) else {
        return Ok(here);
    };
    let members: Vec<(String, Arc<Remote>)> = ctx
        .app
        .fleet
        .every()
        .into_iter()
        .filter_map(|(name, t)| match t {
            Target::Remote(member, _) => Some((name, member)),
            Target::Local => None,
        })
        .collect();
    if members.is_empty() || through_fleet(ctx) {
        return Ok(here);
    }
    let service = &ctx.app.service;
    match service.target(ctx.caller, ops::INSPECT.op, reference).await {
        Err(Error::ContainerNotFound(_)) => {}
        _ => return Ok(here),
    }
    let asked = members.iter().map(|(name, member)| {
        let args = json!({"container_id": reference});
        let answer: Asking<Result<Value, String>> =
            Box::pin(ask_tool(ctx, (member, name), ops::INSPECT.name, args));
        (name.clone(), answer)
    });
    let answers = fanout::each(asked.collect()).await;
    let (mut holders, mut unasked) = (Vec::new(), Vec::new());
    for ((name, answer), (_, member)) in answers.into_iter().zip(&members) {
        match answer {
            Ok(Ok(_)) => holders.push((member.clone(), name)),
            Ok(Err(_not_there)) => {}
            Err(why) => unasked.push(format!("{name} ({why})")),
        }
    }
    let reference = clip(reference, crate::audit::MAX_TEXT);
    match holders.as_slice() {
        [(member, name)] => Ok(Where::There(member.clone(), name.clone())),
        [] if unasked.is_empty() => Ok(here),
        [] => Err(format!(
            "{} Hosts that could not be asked: {}.",
            explain(&Error::ContainerNotFound(reference)),
            unasked.join(", ")
        )),
        several => {
            let names: Vec<&str> = several.iter().map(|(_, n)| n.as_str()).collect();
            Err(format!(
                "Container '{reference}' is on several hosts: {}. Name the one you mean with the host argument.",
                names.join(", ")
            ))
        }
    }
}

/// A host's resource URI, `docker://hosts/{host}/containers…`: the host
/// as given, and the URI it means on that host (`docker://containers…`).
pub fn host_uri(uri: &str) -> Option<(&str, String)> {
    let rest = uri.strip_prefix("docker://hosts/")?;
    let (host, path) = rest.split_once('/')?;
    let tail = path.strip_prefix("containers")?;
    let inner = format!("docker://containers{tail}");
    (!host.is_empty()).then_some((host, inner))
}

/// `resources/read` of `inner` on `member`, known here as `host`, for the
/// URI `uri`: the owner's contents, named by `uri`, or its error (one with
/// `data.uri` is "not found").
pub async fn read(
    ctx: &Ctx<'_>,
    (member, host): (&Remote, &str),
    inner: &str,
    uri: &str,
) -> Result<Value, RpcError> {
    let params = json!({"uri": inner, "_meta": meta(ctx, &Value::Null, host)});
    let progress = Progress::default();
    let sent = send(
        ctx,
        member,
        host,
        "resources/read",
        inner,
        params,
        &progress,
    )
    .await;
    let mut result = match sent {
        Ok(result) => result,
        Err(Failed::Rpc(e)) => return Err(e),
        Err(Failed::Host(why)) => {
            return Err(RpcError::new(
                INTERNAL_ERROR,
                Error::HostUnreachable(host.into(), why).message(),
            ));
        }
    };
    if let Some(contents) = result["contents"].as_array_mut() {
        for c in contents {
            c["uri"] = json!(uri);
        }
    }
    if let Some(fields) = result.as_object_mut() {
        fields.remove("resultType");
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_host_s_uri_names_the_host_and_the_uri_it_means_there() {
        assert_eq!(
            host_uri("docker://hosts/two/containers"),
            Some(("two", "docker://containers".into()))
        );
        assert_eq!(
            host_uri("docker://hosts/vm~4qox/containers/web/logs"),
            Some(("vm~4qox", "docker://containers/web/logs".into()))
        );
        for bad in [
            "docker://hosts/two",
            "docker://hosts//containers",
            "docker://hosts/two/images",
            "docker://containers/web",
        ] {
            assert_eq!(host_uri(bad), None, "{bad}");
        }
    }

    #[test]
    fn every_tool_but_list_hosts_takes_a_host() {
        let mut tools: Vec<Value> = ops::tools().map(|(_, t)| t).collect();
        for tool in &mut tools {
            add_host_argument(tool);
        }
        for tool in &tools {
            let host = &tool["inputSchema"]["properties"][HOST];
            match tool["name"].as_str() {
                Some("list_hosts") => assert!(host.is_null()),
                _ => assert_eq!(host["type"], "string", "{}", tool["name"]),
            }
            assert!(
                !tool["inputSchema"]["required"]
                    .as_array()
                    .is_some_and(|r| r.contains(&json!(HOST))),
                "optional"
            );
        }
        let list = tools
            .iter()
            .find(|t| t["name"] == "list_containers")
            .unwrap();
        let out = &list["outputSchema"]["properties"];
        assert_eq!(
            out["containers"]["items"]["properties"][HOST]["type"],
            "string"
        );
        assert_eq!(out["missing"]["type"], "array");
    }

    #[test]
    fn a_result_from_the_owner_fits_the_caller_s_revision() {
        let owner = json!({"resultType": "complete", "content": [], "isError": false, "structuredContent": {"a": 1}});
        let old = fitted(Era::Handshake("2025-03-26"), owner.clone());
        assert_eq!(old, json!({"content": [], "isError": false}));
        let newer = fitted(Era::Handshake("2025-06-18"), owner.clone());
        assert_eq!(newer["structuredContent"], json!({"a": 1}));
        assert!(newer.get("resultType").is_none());
        let asks = json!({"resultType": "input_required", "requestState": "s"});
        assert_eq!(fitted(Era::Modern, asks.clone()), asks);
    }

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
