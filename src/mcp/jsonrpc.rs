//! JSON-RPC 2.0 as MCP uses it: classify an incoming body (request,
//! notification, response, batch), build results and errors, and refuse
//! oversized or deeply nested input before any of it is interpreted.
//!
//! Errors land where the JSON-RPC spec puts them: unparseable JSON is
//! -32700 with `id: null`; JSON that is not a valid message (wrong
//! `jsonrpc`, no `method`, an `id` that is neither string nor number,
//! `params` that is neither object nor array, an empty batch) is -32600.
//!
//! An id is kept as the client wrote it ([`Id`]) and echoed byte for byte:
//! parsed into a number, `18446744073709551616` would come back as
//! `1.8446744073709552e19` and `1e400` would not parse at all.

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::fmt;

pub const PARSE_ERROR: i64 = -32700;
pub const INVALID_REQUEST: i64 = -32600;
pub const METHOD_NOT_FOUND: i64 = -32601;
pub const INVALID_PARAMS: i64 = -32602;
pub const INTERNAL_ERROR: i64 = -32603;
/// HTTP headers disagree with the body, or a required one is missing (2026-07-28).
pub const HEADER_MISMATCH: i64 = -32020;
/// The requested protocol version is not served here (2026-07-28).
pub const UNSUPPORTED_PROTOCOL_VERSION: i64 = -32022;
/// A batch's answer reached [`MAX_RESPONSE`], so this request was not run
/// (a server error of our own, in the range JSON-RPC leaves to servers).
pub const RESPONSE_LIMIT: i64 = -32000;

/// Deepest nesting accepted in a message.
pub const MAX_DEPTH: usize = 64;
/// Largest message body accepted.
pub const MAX_BODY: usize = 256 * 1024;
/// Most messages in one batch.
pub const MAX_BATCH: usize = 32;
/// Largest answer to one message or to a whole batch, counted as sent
/// (compact JSON), beyond the ids it echoes: tool results are fitted to it
/// and a batch stops running requests once it is used up.
pub const MAX_RESPONSE: usize = 1 << 20;

/// A JSON-RPC error, before it is given an id.
#[derive(Debug, Clone, PartialEq)]
pub struct RpcError {
    pub code: i64,
    pub message: String,
    pub data: Option<Value>,
}

impl RpcError {
    pub fn new(code: i64, message: impl Into<String>) -> RpcError {
        RpcError {
            code,
            message: message.into(),
            data: None,
        }
    }

    pub fn with_data(mut self, data: Value) -> RpcError {
        self.data = Some(data);
        self
    }

    /// The error response for request `id` ([`Id::null`] when unknown).
    pub fn response(&self, id: &Id) -> Reply {
        let mut error = json!({"code": self.code, "message": self.message});
        if let Some(data) = &self.data {
            error["data"] = data.clone();
        }
        Reply {
            id: id.clone(),
            outcome: ResultOrError::Error(error),
        }
    }
}

/// A success response.
pub fn result(id: &Id, result: Value) -> Reply {
    Reply {
        id: id.clone(),
        outcome: ResultOrError::Result(result),
    }
}

/// A request id exactly as the client wrote it: a string or a number.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(transparent)]
pub struct Id(Box<RawValue>);

impl Id {
    /// `null`, the id of an answer to a message whose id is unknown.
    pub fn null() -> Id {
        Id(RawValue::NULL.to_owned())
    }

    /// The id's JSON text.
    pub fn as_str(&self) -> &str {
        self.0.get()
    }

    /// `raw` if it is a string or a number (the only kinds of id).
    fn usable(raw: &RawValue) -> Option<Id> {
        let first = raw.get().bytes().next()?;
        (first == b'"' || first == b'-' || first.is_ascii_digit()).then(|| Id(raw.to_owned()))
    }
}

impl PartialEq for Id {
    fn eq(&self, other: &Id) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Serialize for Id {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

/// One answer: `{"jsonrpc":"2.0","id":…,"result":…}` or `…"error":…}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub id: Id,
    pub outcome: ResultOrError,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ResultOrError {
    Result(Value),
    Error(Value),
}

impl Serialize for Reply {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(3))?;
        map.serialize_entry("jsonrpc", "2.0")?;
        map.serialize_entry("id", &self.id)?;
        match &self.outcome {
            ResultOrError::Result(v) => map.serialize_entry("result", v)?,
            ResultOrError::Error(v) => map.serialize_entry("error", v)?,
        }
        map.end()
    }
}

/// What a body gets back: one reply, or a batch's replies in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Replies {
    One(Reply),
    Batch(Vec<Reply>),
}

impl Serialize for Replies {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Replies::One(reply) => reply.serialize(s),
            Replies::Batch(replies) => {
                let mut seq = s.serialize_seq(Some(replies.len()))?;
                for r in replies {
                    seq.serialize_element(r)?;
                }
                seq.end()
            }
        }
    }
}

impl fmt::Display for Replies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = serde_json::to_string(self).map_err(|_| fmt::Error)?;
        f.write_str(&text)
    }
}

/// One classified message.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    Request {
        id: Id,
        method: String,
        params: Value,
    },
    Notification {
        method: String,
        params: Value,
    },
    /// A client's answer to a request the server sent (an elicitation):
    /// its id as written (`null` when unusable) and its result, `None` for
    /// an error.
    Response {
        id: Id,
        result: Option<Value>,
    },
    /// Not a valid message: answer with this error, to this id.
    Invalid {
        id: Id,
        error: RpcError,
    },
}

/// A parsed body: one message or a batch.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    Single(Message),
    Batch(Vec<Message>),
}

/// A message's members, the id kept as written; `None` for a message that
/// is not an object.
type Members<'a> = Option<(Option<&'a RawValue>, Map<String, Value>)>;

/// Parses a body; `Err` is the complete error response to send back.
pub fn parse(body: &[u8]) -> Result<Incoming, Reply> {
    let parse_error = || RpcError::new(PARSE_ERROR, "Parse error").response(&Id::null());
    let text = std::str::from_utf8(body).map_err(|_| parse_error())?;
    let raw: &RawValue = serde_json::from_str(text).map_err(|_| parse_error())?;
    let invalid = |why: String| RpcError::new(INVALID_REQUEST, why).response(&Id::null());
    if depth(raw.get()) > MAX_DEPTH {
        return Err(invalid(format!(
            "Invalid Request: nested deeper than {MAX_DEPTH}"
        )));
    }
    let batch = raw.get().starts_with('[');
    let items: Vec<&RawValue> = if batch {
        serde_json::from_str(raw.get()).map_err(|_| parse_error())?
    } else {
        vec![raw]
    };
    let messages: Vec<Members> = items
        .into_iter()
        .map(members)
        .collect::<Result<_, _>>()
        .map_err(|_| parse_error())?;
    match messages.len() {
        0 if batch => Err(invalid("Invalid Request: empty batch".into())),
        n if n > MAX_BATCH => Err(invalid(format!(
            "Invalid Request: at most {MAX_BATCH} messages per batch"
        ))),
        _ if batch => Ok(Incoming::Batch(
            messages.into_iter().map(classify).collect(),
        )),
        _ => Ok(Incoming::Single(
            messages
                .into_iter()
                .map(classify)
                .next()
                .unwrap_or_else(|| invalid_message(Id::null(), "a message must be an object")),
        )),
    }
}

/// Splits a message into its raw id and its other members (parsed).
fn members(raw: &RawValue) -> Result<Members<'_>, serde_json::Error> {
    if !raw.get().starts_with('{') {
        return Ok(None);
    }
    let mut all: BTreeMap<String, &RawValue> = serde_json::from_str(raw.get())?;
    let id = all.remove("id");
    let rest = all
        .into_iter()
        .map(|(k, v)| Ok((k, serde_json::from_str(v.get())?)))
        .collect::<Result<_, serde_json::Error>>()?;
    Ok(Some((id, rest)))
}

/// How deeply JSON `text` nests, a value inside a container counting one
/// level deeper (`1` and `[]` are 1, `[1]` is 2); a scan, not recursion.
fn depth(text: &str) -> usize {
    let (mut level, mut deepest) = (0usize, 0usize);
    let (mut in_string, mut escaped) = (false, false);
    for b in text.bytes() {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'[' | b'{' => {
                level += 1;
                deepest = deepest.max(level);
            }
            b']' | b'}' => level = level.saturating_sub(1),
            b',' | b':' | b' ' | b'\t' | b'\r' | b'\n' => {}
            other => {
                in_string = other == b'"';
                deepest = deepest.max(level + 1);
            }
        }
    }
    deepest
}

fn invalid_message(id: Id, why: &str) -> Message {
    Message::Invalid {
        id,
        error: RpcError::new(INVALID_REQUEST, format!("Invalid Request: {why}")),
    }
}

fn classify(members: Members) -> Message {
    let Some((id, mut m)) = members else {
        return invalid_message(Id::null(), "a message must be an object");
    };
    let usable_id = id.and_then(Id::usable);
    let echo = usable_id.clone().unwrap_or_else(Id::null);
    if m.get("jsonrpc") != Some(&json!("2.0")) {
        return invalid_message(echo, "jsonrpc must be \"2.0\"");
    }
    let params = m.remove("params").unwrap_or(Value::Null);
    if !matches!(params, Value::Null | Value::Object(_) | Value::Array(_)) {
        return invalid_message(echo, "params must be an object or an array");
    }
    match (m.remove("method"), id, usable_id) {
        (Some(Value::String(method)), None, _) => Message::Notification { method, params },
        (Some(Value::String(method)), Some(_), Some(id)) => Message::Request { id, method, params },
        (Some(Value::String(_)), Some(_), None) => {
            invalid_message(Id::null(), "id must be a string or a number")
        }
        (Some(_), _, _) => invalid_message(echo, "method must be a string"),
        (None, Some(_), _) if m.contains_key("result") || m.contains_key("error") => {
            Message::Response {
                id: echo,
                result: m.remove("result"),
            }
        }
        (None, _, _) => invalid_message(echo, "missing method"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(text: &str) -> Id {
        serde_json::from_str(text).unwrap()
    }

    fn as_json(r: &Reply) -> Value {
        serde_json::from_str(&serde_json::to_string(r).unwrap()).unwrap()
    }

    fn single(s: &str) -> Message {
        match parse(s.as_bytes()) {
            Ok(Incoming::Single(m)) => m,
            other => panic!("{other:?}"),
        }
    }

    fn code_of(m: &Message) -> i64 {
        match m {
            Message::Invalid { error, .. } => error.code,
            other => panic!("not invalid: {other:?}"),
        }
    }

    #[test]
    fn requests_notifications_and_responses_are_told_apart() {
        assert_eq!(
            single(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#),
            Message::Request {
                id: id("1"),
                method: "tools/list".into(),
                params: Value::Null
            }
        );
        assert_eq!(
            single(r#"{"jsonrpc":"2.0","method":"notifications/initialized","params":{}}"#),
            Message::Notification {
                method: "notifications/initialized".into(),
                params: json!({})
            }
        );
        assert_eq!(
            single(r#"{"jsonrpc":"2.0","id":"a","result":{}}"#),
            Message::Response {
                id: id(r#""a""#),
                result: Some(json!({}))
            }
        );
        assert_eq!(
            single(r#"{"jsonrpc":"2.0","id":7,"error":{"code":-1,"message":"no"}}"#),
            Message::Response {
                id: id("7"),
                result: None
            }
        );
    }

    #[test]
    fn unparseable_json_is_a_parse_error_with_null_id() {
        for bad in [&b"{not json"[..], b"\xff", b"{\"a\":1e400}"] {
            let err = as_json(&parse(bad).unwrap_err());
            assert_eq!(err["error"]["code"], PARSE_ERROR);
            assert_eq!(err["id"], Value::Null);
        }
    }

    #[test]
    fn malformed_messages_are_invalid_requests() {
        for bad in [
            r#"{"id":1,"method":"x"}"#,
            r#"{"jsonrpc":"1.0","id":1,"method":"x"}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":7}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"x","params":"str"}"#,
            r#"{"jsonrpc":"2.0","id":{"a":1},"method":"x"}"#,
            r#"{"jsonrpc":"2.0","id":null,"method":"x"}"#,
            r#"{"jsonrpc":"2.0","id":1}"#,
            r#""just a string""#,
        ] {
            assert_eq!(code_of(&single(bad)), INVALID_REQUEST, "{bad}");
        }
        let Message::Invalid { id, .. } = single(r#"{"jsonrpc":"1.0","id":7,"method":"x"}"#) else {
            panic!()
        };
        assert_eq!(
            id,
            super::Id(RawValue::from_string("7".into()).unwrap()),
            "a readable id is kept"
        );
    }

    #[test]
    fn batches_are_split_and_empty_batches_refused() {
        let Ok(Incoming::Batch(items)) =
            parse(br#"[{"jsonrpc":"2.0","id":1,"method":"a"},{"jsonrpc":"2.0","method":"b"},5]"#)
        else {
            panic!()
        };
        assert!(matches!(items[0], Message::Request { .. }));
        assert!(matches!(items[1], Message::Notification { .. }));
        assert_eq!(code_of(&items[2]), INVALID_REQUEST);
        assert_eq!(
            as_json(&parse(b"[]").unwrap_err())["error"]["code"],
            INVALID_REQUEST
        );
        let big = format!(
            "[{}]",
            vec![r#"{"jsonrpc":"2.0","method":"n"}"#; MAX_BATCH + 1].join(",")
        );
        assert_eq!(
            as_json(&parse(big.as_bytes()).unwrap_err())["error"]["code"],
            INVALID_REQUEST
        );
    }

    #[test]
    fn deep_nesting_is_refused_without_recursion() {
        let deep = format!("{}{}", "[".repeat(100), "]".repeat(100));
        assert_eq!(
            as_json(&parse(deep.as_bytes()).unwrap_err())["error"]["code"],
            INVALID_REQUEST
        );
        let ok = format!(
            r#"{{"jsonrpc":"2.0","id":1,"method":"x","params":{{"a":{}1{}}}}}"#,
            "[".repeat(20),
            "]".repeat(20)
        );
        assert!(matches!(single(&ok), Message::Request { .. }));
    }

    #[test]
    fn error_responses_carry_data_when_given() {
        let e = RpcError::new(UNSUPPORTED_PROTOCOL_VERSION, "Unsupported protocol version")
            .with_data(json!({"supported": ["2026-07-28"], "requested": "1900-01-01"}));
        let r = as_json(&e.response(&id("3")));
        assert_eq!(r["id"], 3);
        assert_eq!(r["error"]["data"]["requested"], "1900-01-01");
    }

    #[test]
    fn ids_are_echoed_as_written() {
        for written in [
            "18446744073709551616",
            "-9223372036854775809",
            "1e400",
            "1.50",
            "7",
            r#""\u0041b""#,
        ] {
            let body = format!(r#"{{"jsonrpc":"2.0","id": {written} ,"method":"x"}}"#);
            let Message::Request { id, .. } = single(&body) else {
                panic!("{body}")
            };
            let reply = serde_json::to_string(&result(&id, json!({}))).unwrap();
            assert_eq!(
                reply,
                format!(r#"{{"jsonrpc":"2.0","id":{written},"result":{{}}}}"#)
            );
        }
        let Message::Invalid { id, .. } = single(r#"{"jsonrpc":"2.0","id":true,"method":"x"}"#)
        else {
            panic!()
        };
        assert_eq!(id, Id::null(), "an id of another kind is not echoed");
    }
}
