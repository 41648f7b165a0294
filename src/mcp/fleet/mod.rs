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
//!
//! # Layout
//!
//! - this file: where a call runs ([`place`]), the `host` argument, and a
//!   call sent on ([`call`]);
//! - [`send`]: the request to the owner's `/mcp` and its answer read back;
//! - [`across`]: `host: "*"` and the search for a container's host;
//! - [`resources`]: a host's resources.

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

mod across;
mod resources;
mod send;

pub use across::{everywhere, locate};
pub use resources::{host_uri, read};
use send::{Failed, meta, send};

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

#[cfg(test)]
mod tests {
    use super::*;
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
}
