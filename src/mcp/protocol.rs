//! The method dispatcher: what each MCP method answers, per protocol era
//! (tools, resources and prompts answer theirs in their own files).
//!
//! - **Handshake era** (2024-11-05, 2025-03-26, 2025-06-18, 2025-11-25):
//!   `initialize` negotiates a version for the session; `ping` works.
//! - **Modern era** (2026-07-28): stateless; every request carries its
//!   version and capabilities in `params._meta`; `server/discover` describes
//!   the server; every result carries `resultType`, and cacheable results
//!   (`server/discover`, `tools/list`) carry `ttlMs` and `cacheScope`
//!   (`private` for `tools/list`, which depends on the caller's role) —
//!   neither exists on the handshake eras; `initialize` and `ping` do not
//!   exist.
//!
//! A request is served in the revision it carries, whatever transport
//! brought it: one whose `params._meta` names a protocol version
//! ([`stamped_modern`]) is answered statelessly in the modern era — on a
//! handshake session or a legacy SSE stream too, where the session is not
//! consulted (no questions sent to the client, no `resources/subscribe`:
//! the modern ways, `input_required` and `subscriptions/listen`, apply);
//! anything else is answered in its session's handshake version. A batch
//! (handshake eras only) answers a modern request in it with `-32600`.
//!
//! Transports decide how an answer travels; this module only answers, within
//! [`MAX_RESPONSE`]: a single answer's tool result is fitted to it, and a
//! batch runs its requests in order while enough of it is left, answering
//! the rest with a [`RESPONSE_LIMIT`] error without running them.

use super::context::{Ctx, Era, cacheable, unknown_method};
use super::jsonrpc::{
    self, INVALID_PARAMS, INVALID_REQUEST, Id, Incoming, MAX_RESPONSE, METHOD_NOT_FOUND, Message,
    RESPONSE_LIMIT, Replies, Reply, RpcError, UNSUPPORTED_PROTOCOL_VERSION,
};
use super::{prompts, resources, tools};
use crate::http::body::encoded_len;
use serde_json::{Value, json};

pub use super::context::MODERN;
/// Handshake revisions, newest first.
pub const HANDSHAKE: [&str; 4] = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"];
/// Every version served, newest first.
pub const SUPPORTED: [&str; 5] = [
    MODERN,
    HANDSHAKE[0],
    HANDSHAKE[1],
    HANDSHAKE[2],
    HANDSHAKE[3],
];
/// Room for what wraps a result in its answer, `{"jsonrpc":"2.0","id":…,
/// "result":…}` and the modern `"resultType"` (the id is counted apart).
const WRAPPING: usize = 64;
/// A batch runs its next request only while this much of [`MAX_RESPONSE`]
/// is left: room for any answer but a tool's, which is fitted to what is left.
const MIN_ROOM: usize = 32 * 1024;

/// The handshake version to use for a client asking for `requested`.
pub fn negotiate(requested: Option<&str>) -> &'static str {
    HANDSHAKE
        .iter()
        .find(|v| Some(**v) == requested)
        .copied()
        .unwrap_or(HANDSHAKE[0])
}

/// A known handshake version, as a static string.
pub fn handshake_version(v: &str) -> Option<&'static str> {
    HANDSHAKE.iter().find(|h| **h == v).copied()
}

/// Who answers, as `initialize` and `server/discover` name it.
fn server_info() -> Value {
    json!({"name": "docker-agent", "title": "Docker Agent", "version": env!("CARGO_PKG_VERSION")})
}

/// How to use this server, for the model.
const INSTRUCTIONS: &str = "Manage and inspect the Docker containers of one host. \
Use list_containers to find containers (by id, id prefix or name), get_container_logs and \
get_container_stats to inspect them, and start/stop/restart_container to act on them.";

/// Said besides, by the front door of a fleet.
const FLEET_INSTRUCTIONS: &str = " This host is the front door of a fleet: list_hosts lists its \
hosts, every other tool takes a host argument (a host's name; absent: this host, or the one host \
that has the container named), and list_containers takes host \"*\" for every host's containers.";

/// The instructions for the model, in a fleet or not.
fn instructions(in_fleet: bool) -> String {
    match in_fleet {
        true => format!("{INSTRUCTIONS}{FLEET_INSTRUCTIONS}"),
        false => INSTRUCTIONS.to_string(),
    }
}

/// What this server offers: its tools and prompts never change; resources
/// can be subscribed to and their list changes.
fn capabilities() -> Value {
    json!({
        "tools": {"listChanged": false},
        "resources": {"subscribe": true, "listChanged": true},
        "prompts": {"listChanged": false},
    })
}

/// Answers request `method` in the context's era, its result within `room`
/// bytes (a tool's result is fitted to it); `Err` is a JSON-RPC error.
async fn handle_within(
    ctx: &Ctx<'_>,
    method: &str,
    params: &Value,
    room: usize,
) -> Result<Value, RpcError> {
    let modern = ctx.era == Era::Modern;
    let result = match method {
        "initialize" if !modern => initialize(params, ctx.app.fleet.enabled()),
        "ping" if !modern => json!({}),
        "server/discover" => cacheable(
            json!({
                "supportedVersions": SUPPORTED,
                "capabilities": capabilities(),
                "instructions": instructions(ctx.app.fleet.enabled()),
                "_meta": {"io.modelcontextprotocol/serverInfo": server_info()},
            }),
            "public",
        ),
        "tools/list" => {
            let may = |op| ctx.app.service.may(ctx.caller, op);
            let tools = tools::list(ctx.era, &may, ctx.app.fleet.enabled());
            cacheable(json!({"tools": tools}), "private")
        }
        "tools/call" => tools::call(ctx, params, room).await?,
        "subscriptions/listen" => return Err(listen_elsewhere()),
        m if m.starts_with("resources/") => {
            charge_read(ctx)?;
            resources::handle(ctx, m, params, room).await?
        }
        m if m.starts_with("prompts/") => {
            charge_read(ctx)?;
            prompts::handle(ctx, m, params, room).await?
        }
        _ => return Err(unknown_method(method)),
    };
    Ok(shaped(ctx.era, result))
}

/// A resource or prompt read past the read limit.
pub const RATE_LIMITED: i64 = -32029;

/// Resources and prompts read Docker as REST reads do, so they draw from
/// the same read limit (tools charge theirs in [`tools`]).
fn charge_read(ctx: &Ctx<'_>) -> Result<(), RpcError> {
    let limiter = &ctx.app.limiter;
    limiter
        .check_class(ctx.client, crate::limit::Class::Read)
        .map_err(|limited| {
            let secs = limited.retry_after_secs();
            RpcError::new(
                RATE_LIMITED,
                format!("Too many requests: retry after {secs} seconds"),
            )
            .with_data(json!({"retryAfter": secs}))
        })
}

/// `subscriptions/listen` where its answer cannot be a stream of its own:
/// anywhere but a modern `POST /mcp`.
fn listen_elsewhere() -> RpcError {
    RpcError::new(
        METHOD_NOT_FOUND,
        "subscriptions/listen is served only as a 2026-07-28 request to POST /mcp (Streamable HTTP), whose answer is the stream",
    )
}

/// The response to one message, if it needs one (notifications and client
/// responses do not).
pub async fn answer(ctx: &Ctx<'_>, msg: Message) -> Option<Reply> {
    answer_within(ctx, msg, MAX_RESPONSE).await
}

/// [`answer`] in at most `budget` bytes, beyond the id it echoes.
async fn answer_within(ctx: &Ctx<'_>, msg: Message, budget: usize) -> Option<Reply> {
    match msg {
        Message::Request { id, method, params } => {
            let room = budget.saturating_sub(WRAPPING + encoded_len(&id));
            Some(match handle_within(ctx, &method, &params, room).await {
                Ok(result) => jsonrpc::result(&id, result),
                Err(e) => e.response(&id),
            })
        }
        Message::Invalid { id, error } => Some(error.response(&id)),
        Message::Response { id, result } => {
            if let Some(peer) = &ctx.link.peer {
                peer.questions.answer(id.as_str(), result);
            }
            None
        }
        Message::Notification { .. } => None,
    }
}

/// The response to a body: one answer, an array of answers for a batch
/// (where the era allows batches), or nothing.
pub async fn answer_all(ctx: &Ctx<'_>, incoming: Incoming) -> Option<Replies> {
    match incoming {
        Incoming::Single(msg) => answer(ctx, msg).await.map(Replies::One),
        Incoming::Batch(_) if !ctx.era.allows_batches() => {
            let e = RpcError::new(
                INVALID_REQUEST,
                "Invalid Request: this protocol version does not allow batches",
            );
            Some(Replies::One(e.response(&Id::null())))
        }
        Incoming::Batch(msgs) => answer_batch(ctx, msgs).await,
    }
}

/// A batch's answers, in order, within [`MAX_RESPONSE`] (see the module doc).
async fn answer_batch(ctx: &Ctx<'_>, msgs: Vec<Message>) -> Option<Replies> {
    let mut left = MAX_RESPONSE;
    let mut out = Vec::new();
    for msg in msgs {
        let answer = match msg {
            Message::Request { id, params, .. } if stamped_modern(&params) => {
                Some(unbatchable().response(&id))
            }
            Message::Request { id, .. } if left < MIN_ROOM => Some(batch_full().response(&id)),
            msg => answer_within(ctx, msg, left).await,
        };
        if let Some(answer) = answer {
            left = left.saturating_sub(encoded_len(&answer));
            out.push(answer);
        }
    }
    (!out.is_empty()).then_some(Replies::Batch(out))
}

/// A 2026-07-28 request in a batch, which that revision does not have.
fn unbatchable() -> RpcError {
    RpcError::new(
        INVALID_REQUEST,
        "Invalid Request: a 2026-07-28 request cannot be sent in a batch; send it on its own",
    )
}

/// A batch request not run: too little of [`MAX_RESPONSE`] is left.
fn batch_full() -> RpcError {
    RpcError::new(
        RESPONSE_LIMIT,
        format!(
            "Batch response limit reached ({} KiB): this request was not run; send it again on its own",
            MAX_RESPONSE / 1024
        ),
    )
    .with_data(json!({"limit": MAX_RESPONSE}))
}

/// The answer to `initialize`: the handshake version negotiated, and
/// what this server is and offers.
fn initialize(params: &Value, in_fleet: bool) -> Value {
    let requested = params.get("protocolVersion").and_then(Value::as_str);
    json!({
        "protocolVersion": negotiate(requested),
        "capabilities": capabilities(),
        "serverInfo": server_info(),
        "instructions": instructions(in_fleet),
    })
}

/// `result` as `era` has it: on 2026-07-28 marked `complete` unless it
/// says otherwise (a tool call waiting for a confirmation is
/// `input_required`); on the handshake eras without that revision's cache
/// hints.
fn shaped(era: Era, mut result: Value) -> Value {
    if let Some(fields) = result.as_object_mut() {
        match era {
            Era::Modern => {
                fields.entry("resultType").or_insert(json!("complete"));
            }
            Era::Handshake(_) => {
                fields.remove("ttlMs");
                fields.remove("cacheScope");
            }
        }
    }
    result
}

/// Whether a request's `params` carry a protocol version in `_meta`: it is
/// then a 2026-07-28 request, served statelessly.
pub fn stamped_modern(params: &Value) -> bool {
    params
        .pointer("/_meta/io.modelcontextprotocol~1protocolVersion")
        .is_some()
}

/// Checks what a modern request's `params` must carry: `_meta` with the
/// client's capabilities, and a version served here (else -32022 naming
/// those that are).
pub fn check_modern(params: &Value) -> Result<(), RpcError> {
    modern_meta(params).and_then(check_version)
}

/// `version`, asked for by a modern request: served here, or -32022
/// naming the versions that are.
pub fn check_version(version: &str) -> Result<(), RpcError> {
    if version != MODERN {
        return Err(
            RpcError::new(UNSUPPORTED_PROTOCOL_VERSION, "Unsupported protocol version")
                .with_data(json!({"supported": SUPPORTED, "requested": version})),
        );
    }
    Ok(())
}

/// Checks the `_meta` a modern request must carry; returns its protocol version.
fn modern_meta(params: &Value) -> Result<&str, RpcError> {
    let meta = params.get("_meta").and_then(Value::as_object);
    let version = meta
        .and_then(|m| m.get("io.modelcontextprotocol/protocolVersion"))
        .and_then(Value::as_str)
        .ok_or_else(|| {
            RpcError::new(
                INVALID_PARAMS,
                "params._meta must carry io.modelcontextprotocol/protocolVersion",
            )
        })?;
    if !meta.is_some_and(|m| {
        m.get("io.modelcontextprotocol/clientCapabilities")
            .is_some_and(Value::is_object)
    }) {
        return Err(RpcError::new(
            INVALID_PARAMS,
            "params._meta must carry io.modelcontextprotocol/clientCapabilities (an object)",
        ));
    }
    Ok(version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handshake_negotiation_echoes_known_versions() {
        assert_eq!(negotiate(Some("2024-11-05")), "2024-11-05");
        assert_eq!(negotiate(Some("2025-06-18")), "2025-06-18");
        assert_eq!(negotiate(Some("2099-01-01")), "2025-11-25");
        assert_eq!(negotiate(None), "2025-11-25");
    }

    #[test]
    fn the_wrapping_of_a_result_fits_its_allowance() {
        for id in ["1", r#""a-string-id""#, "18446744073709551615"] {
            let id: Id = serde_json::from_str(id).unwrap();
            let answer = jsonrpc::result(&id, shaped(Era::Modern, json!({})));
            let wrapping = encoded_len(&answer) - encoded_len(&id) - "{}".len();
            assert!(wrapping <= WRAPPING, "{wrapping}");
        }
    }

    #[test]
    fn every_answer_but_a_tool_result_fits_the_least_room_a_batch_runs_with() {
        for era in [
            Era::Handshake("2024-11-05"),
            Era::Handshake("2025-11-25"),
            Era::Modern,
        ] {
            let listed = shaped(
                era,
                cacheable(
                    json!({"tools": tools::list(era, &|_| true, true)}),
                    "private",
                ),
            );
            assert!(encoded_len(&listed) + WRAPPING < MIN_ROOM, "{era:?}");
        }
        assert!(encoded_len(&initialize(&json!({}), true)) + WRAPPING < MIN_ROOM);
        assert!(encoded_len(&batch_full().response(&Id::null())) < 512);
        assert_eq!(batch_full().code, RESPONSE_LIMIT);
    }

    #[test]
    fn a_modern_request_names_a_version_served_here() {
        let meta = |v: &str| json!({"_meta": {"io.modelcontextprotocol/protocolVersion": v, "io.modelcontextprotocol/clientCapabilities": {}}});
        assert!(stamped_modern(&meta("1900-01-01")) && !stamped_modern(&json!({})));
        assert_eq!(check_modern(&meta(MODERN)), Ok(()));
        for old in ["1900-01-01", "2025-11-25"] {
            let e = check_modern(&meta(old)).unwrap_err();
            assert_eq!(e.code, UNSUPPORTED_PROTOCOL_VERSION);
            assert_eq!(
                e.data.unwrap(),
                json!({"supported": SUPPORTED, "requested": old})
            );
        }
    }

    #[test]
    fn modern_meta_is_required() {
        let good = json!({"_meta": {"io.modelcontextprotocol/protocolVersion": MODERN, "io.modelcontextprotocol/clientCapabilities": {}}});
        assert_eq!(modern_meta(&good), Ok(MODERN));
        assert!(modern_meta(&json!({})).is_err());
        let no_caps = json!({"_meta": {"io.modelcontextprotocol/protocolVersion": MODERN}});
        assert_eq!(modern_meta(&no_caps).unwrap_err().code, INVALID_PARAMS);
    }
}
