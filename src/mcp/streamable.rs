//! The Streamable HTTP transport at `/mcp`, serving each request in the era
//! it speaks.
//!
//! - A request whose `params._meta` carries a protocol version (or whose
//!   `MCP-Protocol-Version` names a non-handshake version) is **modern**
//!   (2026-07-28): stateless, no session; headers must mirror the body
//!   (`MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name`, base64 sentinel
//!   decoded) or it is 400 with -32020; an unsupported version is 400 with
//!   -32022 listing ours; an unknown method is 404 with -32601.
//! - `initialize` opens a **handshake-era** session (2025-03-26 …
//!   2025-11-25): the answer carries `Mcp-Session-Id`; later requests must
//!   echo it (missing: 400; unknown, ended or opened with another
//!   credential: 404, alike); an unsupported
//!   `MCP-Protocol-Version` is 400 (absent means 2025-03-26); batches only
//!   under 2025-03-26; `DELETE` ends the session. Sessions are bounded
//!   overall, per client and per credential ([`super::STREAMABLE_SESSIONS`]);
//!   a newcomer is never locked out (see [`super::sessions`]).
//!
//! Notifications and client responses get `202` with no body (a response
//! answers a question the agent asked, see [`super::exchange`]); requests
//! get `application/json`, or `text/event-stream` when their handling sends
//! progress or a question before the result and the client accepts it, and
//! `subscriptions/listen`, whose answer is a stream; `GET` opens a
//! handshake session's stream (see [`super::listen`]).

use super::changes::Listener;
use super::context::{Ctx, Era, Who};
use super::exchange::{Link, Outbox, SessionClient, respond};
use super::jsonrpc::{
    self, HEADER_MISMATCH, INVALID_REQUEST, Id, Incoming, METHOD_NOT_FOUND, Message, Replies,
    Reply, ResultOrError, RpcError,
};
use super::protocol::{self, SUPPORTED};
use super::sessions::Holder;
use super::transport::{SESSION_HEADER, accepts_stream, read_body};
use crate::app::App;
use crate::error::Error;
use crate::http::body::{self, Body};
use crate::policy::Caller;
use base64::Engine;
use hyper::body::Incoming as HyperBody;
use hyper::header::{HeaderMap, HeaderValue};
use hyper::{Request, Response, StatusCode};
use serde_json::Value;
use std::net::IpAddr;
use std::sync::Arc;

const VERSION_HEADER: &str = "mcp-protocol-version";

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// A JSON-RPC answer with `status`, optionally naming the session.
fn rpc(status: StatusCode, value: &impl serde::Serialize, session: Option<&str>) -> Response<Body> {
    let mut resp = body::json(status, value);
    if let Some(v) = session.and_then(|s| HeaderValue::from_str(s).ok()) {
        resp.headers_mut().insert(SESSION_HEADER, v);
    }
    resp
}

fn accepted() -> Response<Body> {
    let mut resp = Response::new(body::empty());
    *resp.status_mut() = StatusCode::ACCEPTED;
    resp
}

/// `POST /mcp`, from `who`.
pub async fn post(
    app: &Arc<App>,
    req: Request<HyperBody>,
    client: IpAddr,
    who: Who<'_>,
) -> Result<Response<Body>, Error> {
    let caller = who.0;
    let (headers, bytes) = read_body(app, req).await?;
    let incoming = match jsonrpc::parse(&bytes) {
        Ok(i) => i,
        Err(error) => return Ok(rpc(StatusCode::BAD_REQUEST, &error, None)),
    };
    let version_header = header(&headers, VERSION_HEADER);
    let modern = |params: &Value| {
        protocol::stamped_modern(params)
            || version_header.is_some_and(|v| protocol::handshake_version(v).is_none())
    };
    Ok(match incoming {
        Incoming::Single(Message::Request { id, method, params }) if method == "initialize" => {
            initialize(app, client, caller, &id, &params).await
        }
        Incoming::Single(Message::Request { id, method, params }) if modern(&params) => {
            if let Err((status, e)) = check_modern(&headers, &method, &params) {
                return Ok(rpc(status, &e.response(&id), None));
            }
            if method == "subscriptions/listen" {
                let ctx = Ctx::stateless(app, client, who, Outbox::None);
                return Ok(match super::listen::modern(&ctx, &id, &params).await {
                    Ok(stream) => stream,
                    Err(e) => rpc(StatusCode::OK, &e.response(&id), None),
                });
            }
            let request = Message::Request { id, method, params };
            single(app, client, who, None, &headers, request).await
        }
        Incoming::Single(Message::Notification { params, .. }) if modern(&params) => accepted(),
        other => handshake(app, client, who, &headers, other).await,
    })
}

async fn initialize(
    app: &Arc<App>,
    client: IpAddr,
    caller: &Caller,
    id: &Id,
    params: &Value,
) -> Response<Body> {
    let version = protocol::negotiate(params.get("protocolVersion").and_then(Value::as_str));
    let listener = Listener::new(caller.clone(), true);
    let peer = Arc::new(SessionClient::new(version, params, listener));
    let session = super::state(app)
        .streamable
        .open(Holder::of(client, caller), peer);
    let ctx = Ctx {
        app,
        era: Era::Handshake(version),
        client,
        caller,
        presented: None,
        link: Link::default(),
    };
    let answer = protocol::answer(
        &ctx,
        Message::Request {
            id: id.clone(),
            method: "initialize".into(),
            params: params.clone(),
        },
    )
    .await;
    rpc(StatusCode::OK, &answer, Some(&session))
}

async fn handshake(
    app: &Arc<App>,
    client: IpAddr,
    who: Who<'_>,
    headers: &HeaderMap,
    incoming: Incoming,
) -> Response<Body> {
    let caller = who.0;
    let id = match &incoming {
        Incoming::Single(Message::Request { id, .. } | Message::Invalid { id, .. }) => id.clone(),
        _ => Id::null(),
    };
    let refuse = |status, message: String| {
        rpc(
            status,
            &RpcError::new(INVALID_REQUEST, message).response(&id),
            None,
        )
    };
    if let Some(v) =
        header(headers, VERSION_HEADER).filter(|v| protocol::handshake_version(v).is_none())
    {
        return refuse(
            StatusCode::BAD_REQUEST,
            format!(
                "Unsupported MCP-Protocol-Version {v:?}; supported: {}",
                SUPPORTED.join(", ")
            ),
        );
    }
    let Some(session) = header(headers, SESSION_HEADER) else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "Missing Mcp-Session-Id header: send initialize first".into(),
        );
    };
    let Some(peer) = super::state(app)
        .streamable
        .get(session, &caller.credential)
    else {
        return refuse(
            StatusCode::NOT_FOUND,
            "Session not found: it ended or expired; initialize again".into(),
        );
    };
    if let Incoming::Single(request @ Message::Request { .. }) = incoming {
        return single(app, client, who, Some(peer), headers, request).await;
    }
    let ctx = Ctx::in_session(app, client, who, peer, Default::default());
    let invalid = match &incoming {
        Incoming::Single(Message::Invalid { .. }) => true,
        Incoming::Batch(_) => !ctx.era.allows_batches(),
        _ => false,
    };
    match protocol::answer_all(&ctx, incoming).await {
        None => accepted(),
        Some(reply) if invalid => rpc(StatusCode::BAD_REQUEST, &reply, None),
        Some(reply) => rpc(StatusCode::OK, &reply, None),
    }
}

/// Decodes a header value that may use the `=?base64?…?=` sentinel.
fn decode_sentinel(value: &str) -> Option<String> {
    match value
        .strip_prefix("=?base64?")
        .and_then(|v| v.strip_suffix("?="))
    {
        Some(encoded) => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .ok()?;
            String::from_utf8(bytes).ok()
        }
        None => Some(value.to_string()),
    }
}

/// The 2026-07-28 header ↔ body checks; `Err` is the refusal to send.
fn check_modern_headers(
    headers: &HeaderMap,
    method: &str,
    params: &Value,
) -> Result<(), (StatusCode, RpcError)> {
    let mismatch = |m: String| (StatusCode::BAD_REQUEST, RpcError::new(HEADER_MISMATCH, m));
    let body_version = params
        .pointer("/_meta/io.modelcontextprotocol~1protocolVersion")
        .and_then(Value::as_str);
    let header_version = header(headers, VERSION_HEADER)
        .ok_or_else(|| mismatch("Missing MCP-Protocol-Version header".into()))?;
    if body_version != Some(header_version) {
        return Err(mismatch(format!(
            "Header mismatch: MCP-Protocol-Version {header_version:?} does not match params._meta protocol version {body_version:?}"
        )));
    }
    protocol::check_version(header_version).map_err(|e| (StatusCode::BAD_REQUEST, e))?;
    match header(headers, "mcp-method") {
        Some(m) if m == method => {}
        other => {
            return Err(mismatch(format!(
                "Header mismatch: Mcp-Method {other:?} does not match body method {method:?}"
            )));
        }
    }
    let named = match method {
        "tools/call" | "prompts/get" => params.get("name"),
        "resources/read" => params.get("uri"),
        _ => return Ok(()),
    };
    let body_name = named.and_then(Value::as_str);
    let header_name = header(headers, "mcp-name").and_then(decode_sentinel);
    if body_name.is_none() || header_name.as_deref() != body_name {
        return Err(mismatch(format!(
            "Header mismatch: Mcp-Name {header_name:?} does not match body value {body_name:?}"
        )));
    }
    Ok(())
}

/// The headers and `_meta` a modern request must carry.
fn check_modern(
    headers: &HeaderMap,
    method: &str,
    params: &Value,
) -> Result<(), (StatusCode, RpcError)> {
    check_modern_headers(headers, method, params)
        .and_then(|()| protocol::check_modern(params).map_err(|e| (StatusCode::BAD_REQUEST, e)))
}

/// The answer to one request ([`respond`]): in the handshake session
/// whose client is `peer`, or stateless (2026-07-28) without one, where an
/// unknown method is `404`.
async fn single(
    app: &Arc<App>,
    client: IpAddr,
    (caller, presented): Who<'_>,
    peer: Option<Arc<SessionClient>>,
    headers: &HeaderMap,
    request: Message,
) -> Response<Body> {
    let (app, caller, presented) = (app.clone(), caller.clone(), presented.cloned());
    respond(accepts_stream(headers), move |out| async move {
        let who = (&caller, presented.as_ref());
        let ctx = match peer {
            Some(peer) => Ctx::in_session(&app, client, who, peer, out),
            None => Ctx::stateless(&app, client, who, out),
        };
        let reply = protocol::answer(&ctx, request).await;
        let unknown = |e: &Value| e["code"] == METHOD_NOT_FOUND;
        let status = match &reply {
            Some(Reply {
                outcome: ResultOrError::Error(e),
                ..
            }) if ctx.era == Era::Modern && unknown(e) => StatusCode::NOT_FOUND,
            _ => StatusCode::OK,
        };
        (
            status,
            reply
                .map(Replies::One)
                .map_or_else(String::new, |a| a.to_string()),
        )
    })
    .await
}

/// `DELETE /mcp`: ends `caller`'s handshake-era session.
pub fn delete(app: &App, headers: &HeaderMap, caller: &Caller) -> Result<Response<Body>, Error> {
    let session = header(headers, SESSION_HEADER).ok_or(Error::MethodNotAllowed("POST"))?;
    let ended = super::state(app)
        .streamable
        .remove(session, &caller.credential)
        .ok_or(Error::UnknownSession)?;
    ended.end();
    Ok(Response::new(body::empty()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mcp::jsonrpc::UNSUPPORTED_PROTOCOL_VERSION;
    use crate::mcp::protocol::MODERN;
    use serde_json::json;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                hyper::header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    fn params(version: &str, name: Option<&str>) -> Value {
        let mut p = json!({"_meta": {"io.modelcontextprotocol/protocolVersion": version, "io.modelcontextprotocol/clientCapabilities": {}}});
        if let Some(n) = name {
            p["name"] = json!(n);
        }
        p
    }

    fn code(r: Result<(), (StatusCode, RpcError)>) -> (u16, i64) {
        let (s, e) = r.unwrap_err();
        (s.as_u16(), e.code)
    }

    #[test]
    fn modern_headers_must_mirror_the_body() {
        let good = headers(&[
            ("mcp-protocol-version", MODERN),
            ("mcp-method", "tools/call"),
            ("mcp-name", "list_images"),
        ]);
        assert!(
            check_modern_headers(&good, "tools/call", &params(MODERN, Some("list_images"))).is_ok()
        );
        let no_version = headers(&[("mcp-method", "tools/list")]);
        assert_eq!(
            code(check_modern_headers(
                &no_version,
                "tools/list",
                &params(MODERN, None)
            )),
            (400, HEADER_MISMATCH)
        );
        let wrong_method = headers(&[
            ("mcp-protocol-version", MODERN),
            ("mcp-method", "tools/list"),
        ]);
        assert_eq!(
            code(check_modern_headers(
                &wrong_method,
                "tools/call",
                &params(MODERN, Some("x"))
            )),
            (400, HEADER_MISMATCH)
        );
        let wrong_name = headers(&[
            ("mcp-protocol-version", MODERN),
            ("mcp-method", "tools/call"),
            ("mcp-name", "other"),
        ]);
        assert_eq!(
            code(check_modern_headers(
                &wrong_name,
                "tools/call",
                &params(MODERN, Some("list_images"))
            )),
            (400, HEADER_MISMATCH)
        );
        let version_mismatch = headers(&[
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-method", "tools/list"),
        ]);
        assert_eq!(
            code(check_modern_headers(
                &version_mismatch,
                "tools/list",
                &params("2025-11-25", None)
            )),
            (400, HEADER_MISMATCH)
        );
    }

    #[test]
    fn unsupported_versions_are_named() {
        let h = headers(&[
            ("mcp-protocol-version", "1900-01-01"),
            ("mcp-method", "tools/list"),
        ]);
        let (status, e) =
            check_modern_headers(&h, "tools/list", &params("1900-01-01", None)).unwrap_err();
        assert_eq!(
            (status.as_u16(), e.code),
            (400, UNSUPPORTED_PROTOCOL_VERSION)
        );
        assert_eq!(e.data.unwrap()["requested"], "1900-01-01");
    }

    #[test]
    fn base64_sentinel_names_are_decoded() {
        assert_eq!(
            decode_sentinel("=?base64?SGVsbG8sIOS4lueVjA==?="),
            Some("Hello, 世界".into())
        );
        assert_eq!(decode_sentinel("plain"), Some("plain".into()));
        assert_eq!(decode_sentinel("=?base64?!!!?="), None);
        let h = headers(&[
            ("mcp-protocol-version", MODERN),
            ("mcp-method", "tools/call"),
            ("mcp-name", "=?base64?bGlzdF9pbWFnZXM=?="),
        ]);
        assert!(
            check_modern_headers(&h, "tools/call", &params(MODERN, Some("list_images"))).is_ok()
        );
    }
}
