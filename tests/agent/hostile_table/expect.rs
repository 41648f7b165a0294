//! The answers a hostile case may get, each checked against what came
//! back. Every check also holds the rules common to all rows: no 5xx, at
//! most the answers the case allows, `WWW-Authenticate: Bearer` on every
//! 401, and `X-Request-ID` on every answer the agent's pipeline wrote (a
//! JSON body; the HTTP layer's own refusals carry neither).

use super::wire::{Answer, Outcome};
use serde_json::Value;

/// The answer a case is owed.
#[derive(Debug)]
pub enum Expect {
    /// One answer: this status and `{"detail": <this text>}`.
    Detail(u16, &'static str),
    /// One 422 whose first field error has this `type`.
    Invalid(&'static str),
    /// One 404: `Container '…' not found`, `Image '…' not found on this
    /// host…`, or `Not Found` for no route.
    NotFound,
    /// One answer with this status from the HTTP layer (no body needed), or
    /// the connection closed without an answer: hyper may do either.
    StatusOrClosed(u16),
    /// One answer with this status, then the connection closed, though a
    /// second request was sent behind the first.
    OnceThenClosed(u16),
    /// One JSON-RPC answer with this HTTP status; its error (each error of
    /// a batch) has this code.
    Rpc(u16, i64),
    /// One JSON-RPC result whose id is written exactly like this (a prefix
    /// for long ids).
    Echo(&'static str),
    /// One MCP tool result that is an error whose text says this.
    ToolError(&'static str),
    /// The WebSocket closed with this code and a reason starting with this.
    WsClose(u16, &'static str),
    /// The WebSocket closed with 4404 `Container '…' not found` (the
    /// reason clipped to the 123 bytes a close frame holds).
    WsNotFound,
    /// The frame was ignored: the stream stayed open and answered a ping.
    WsIgnored,
}

impl Expect {
    /// `Ok` if `seen` is what this expectation allows.
    pub fn check(&self, seen: &Outcome) -> Result<(), String> {
        seen.answers.iter().try_for_each(common)?;
        match self {
            Expect::Detail(status, detail) => {
                let body = one_json(seen, *status)?;
                same(&body["detail"], &Value::from(*detail))
            }
            Expect::Invalid(kind) => {
                let body = one_json(seen, 422)?;
                same(&body["detail"][0]["type"], &Value::from(*kind))
            }
            Expect::NotFound => not_found(&one_json(seen, 404)?["detail"]),
            Expect::StatusOrClosed(status) => match seen.answers.as_slice() {
                [] => Ok(()),
                [a] if a.status == *status => Ok(()),
                other => Err(format!(
                    "expected {status} or a close, got {}",
                    statuses(other)
                )),
            },
            Expect::OnceThenClosed(status) => one(seen, *status).map(drop),
            Expect::Rpc(status, code) => rpc_errors(&one_json(seen, *status)?, *code),
            Expect::Echo(id) => echo(one(seen, 200)?, id),
            Expect::ToolError(says) => tool_error(&one_json(seen, 200)?, says),
            Expect::WsClose(code, reason) => closed_with(seen, *code, |r| r.starts_with(reason)),
            Expect::WsNotFound => closed_with(seen, 4404, |r| r.starts_with("Container '")),
            Expect::WsIgnored if seen.pong && seen.close.is_none() => Ok(()),
            Expect::WsIgnored => Err(format!("the stream ended: {:?}", seen.close)),
        }
    }
}

/// The rules every answer keeps (see the module doc).
fn common(a: &Answer) -> Result<(), String> {
    if a.status >= 500 {
        Err(format!("a {} answer", a.status))
    } else if a.status == 401 && a.header("www-authenticate") != Some("Bearer") {
        Err("a 401 without WWW-Authenticate: Bearer".into())
    } else if a.body.starts_with(b"{") && a.header("x-request-id").is_none() {
        Err(format!("a {} answer without X-Request-ID", a.status))
    } else {
        Ok(())
    }
}

/// At most 300 characters of `text`, for a failure message.
fn short(text: impl std::fmt::Display) -> String {
    text.to_string().chars().take(300).collect()
}

fn statuses(answers: &[Answer]) -> String {
    let all: Vec<String> = answers.iter().map(|a| a.status.to_string()).collect();
    format!("[{}]", all.join(", "))
}

/// The only answer, which must have `status`.
fn one(seen: &Outcome, status: u16) -> Result<&Answer, String> {
    match seen.answers.as_slice() {
        [a] if a.status == status => Ok(a),
        other => Err(format!(
            "expected one {status} answer, got {} (close: {:?})",
            statuses(other),
            seen.close
        )),
    }
}

fn one_json(seen: &Outcome, status: u16) -> Result<Value, String> {
    let answer = one(seen, status)?;
    serde_json::from_slice(&answer.body).map_err(|e| {
        let text = String::from_utf8_lossy(&answer.body);
        format!("{status} answer is not JSON ({e}): {}", short(text))
    })
}

fn same(got: &Value, want: &Value) -> Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(format!("expected {want}, got {}", short(got)))
    }
}

fn not_found(detail: &Value) -> Result<(), String> {
    let container = |d: &str| d.starts_with("Container '") && d.ends_with("' not found");
    let image = |d: &str| d.starts_with("Image '") && d.contains("' not found on this host");
    match detail.as_str() {
        Some(d) if d == "Not Found" || container(d) || image(d) => Ok(()),
        _ => Err(format!(
            "expected a not-found detail, got {}",
            short(detail)
        )),
    }
}

/// Every error in a JSON-RPC answer (one reply or a batch) has `code`.
fn rpc_errors(body: &Value, code: i64) -> Result<(), String> {
    let replies = body
        .as_array()
        .cloned()
        .unwrap_or_else(|| vec![body.clone()]);
    let codes: Vec<&Value> = replies.iter().map(|r| &r["error"]["code"]).collect();
    if !codes.is_empty() && codes.iter().all(|c| **c == code) {
        Ok(())
    } else {
        Err(format!("expected error code {code}, got {}", short(body)))
    }
}

/// The reply's raw text carries `"id":<id>` exactly as sent.
fn echo(answer: &Answer, id: &str) -> Result<(), String> {
    let text = String::from_utf8_lossy(&answer.body);
    // Read as text: `1e400` is beyond what serde_json's `Value` holds.
    if text.contains(r#""result":"#) && text.contains(&format!(r#""id":{id}"#)) {
        Ok(())
    } else {
        Err(format!(
            "expected a result with id {id}, got {}",
            short(text)
        ))
    }
}

fn tool_error(body: &Value, says: &str) -> Result<(), String> {
    let result = &body["result"];
    let text = result["content"][0]["text"].as_str().unwrap_or("");
    if result["isError"] == true && text.contains(says) {
        Ok(())
    } else {
        Err(format!(
            "expected a tool error saying {says:?}, got {}",
            short(body)
        ))
    }
}

fn closed_with(seen: &Outcome, code: u16, reason: impl Fn(&str) -> bool) -> Result<(), String> {
    match &seen.close {
        Some((c, r)) if *c == code && reason(r) => Ok(()),
        other => Err(format!(
            "expected close {code}, got {other:?} (answers {})",
            statuses(&seen.answers)
        )),
    }
}
