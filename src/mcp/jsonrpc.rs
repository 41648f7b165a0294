//! JSON-RPC 2.0 as MCP uses it: classify an incoming body (request,
//! notification, response, batch), build results and errors, and refuse
//! oversized or deeply nested input before any of it is interpreted.
//!
//! Errors land where the JSON-RPC spec puts them: unparseable JSON is
//! -32700 with `id: null`; JSON that is not a valid message (wrong
//! `jsonrpc`, no `method`, an `id` that is neither string nor number,
//! `params` that is neither object nor array, an empty batch) is -32600.

use serde_json::{Value, json};

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

    /// The error response for request `id` (`null` when unknown).
    pub fn response(&self, id: &Value) -> Value {
        let mut error = json!({"code": self.code, "message": self.message});
        if let Some(data) = &self.data {
            error["data"] = data.clone();
        }
        json!({"jsonrpc": "2.0", "id": id, "error": error})
    }
}

/// A success response.
pub fn result(id: &Value, result: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "result": result})
}

/// One classified message.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    Request {
        id: Value,
        method: String,
        params: Value,
    },
    Notification {
        method: String,
        params: Value,
    },
    /// A client's answer to a server request (we send none; accepted and ignored).
    Response,
    /// Not a valid message: answer with this error, to this id.
    Invalid {
        id: Value,
        error: RpcError,
    },
}

/// A parsed body: one message or a batch.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    Single(Message),
    Batch(Vec<Message>),
}

/// Parses a body; `Err` is the complete error response to send back.
pub fn parse(body: &[u8]) -> Result<Incoming, Value> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|_| RpcError::new(PARSE_ERROR, "Parse error").response(&Value::Null))?;
    if depth(&value) > MAX_DEPTH {
        let e = RpcError::new(
            INVALID_REQUEST,
            format!("Invalid Request: nested deeper than {MAX_DEPTH}"),
        );
        return Err(e.response(&Value::Null));
    }
    match value {
        Value::Array(items) if items.is_empty() => Err(RpcError::new(
            INVALID_REQUEST,
            "Invalid Request: empty batch",
        )
        .response(&Value::Null)),
        Value::Array(items) if items.len() > MAX_BATCH => Err(RpcError::new(
            INVALID_REQUEST,
            format!("Invalid Request: at most {MAX_BATCH} messages per batch"),
        )
        .response(&Value::Null)),
        Value::Array(items) => Ok(Incoming::Batch(items.into_iter().map(classify).collect())),
        other => Ok(Incoming::Single(classify(other))),
    }
}

/// How deeply `v` nests arrays and objects (iterative: no recursion on input).
fn depth(v: &Value) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(v, 1usize)];
    while let Some((v, d)) = stack.pop() {
        deepest = deepest.max(d);
        match v {
            Value::Array(items) => stack.extend(items.iter().map(|i| (i, d + 1))),
            Value::Object(map) => stack.extend(map.values().map(|i| (i, d + 1))),
            _ => {}
        }
    }
    deepest
}

fn invalid(id: Value, why: &str) -> Message {
    Message::Invalid {
        id,
        error: RpcError::new(INVALID_REQUEST, format!("Invalid Request: {why}")),
    }
}

fn classify(v: Value) -> Message {
    let Value::Object(mut m) = v else {
        return invalid(Value::Null, "a message must be an object");
    };
    let id = m.remove("id");
    let usable_id = match &id {
        Some(i @ (Value::String(_) | Value::Number(_))) => i.clone(),
        _ => Value::Null,
    };
    if m.get("jsonrpc") != Some(&json!("2.0")) {
        return invalid(usable_id, "jsonrpc must be \"2.0\"");
    }
    let params = m.remove("params").unwrap_or(Value::Null);
    if !matches!(params, Value::Null | Value::Object(_) | Value::Array(_)) {
        return invalid(usable_id, "params must be an object or an array");
    }
    match (m.remove("method"), id) {
        (Some(Value::String(method)), None) => Message::Notification { method, params },
        (Some(Value::String(method)), Some(i @ (Value::String(_) | Value::Number(_)))) => {
            Message::Request {
                id: i,
                method,
                params,
            }
        }
        (Some(Value::String(_)), Some(_)) => {
            invalid(Value::Null, "id must be a string or a number")
        }
        (Some(_), _) => invalid(usable_id, "method must be a string"),
        (None, Some(_)) if m.contains_key("result") || m.contains_key("error") => Message::Response,
        (None, _) => invalid(usable_id, "missing method"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
                id: json!(1),
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
            Message::Response
        );
    }

    #[test]
    fn unparseable_json_is_a_parse_error_with_null_id() {
        let err = parse(b"{not json").unwrap_err();
        assert_eq!(err["error"]["code"], PARSE_ERROR);
        assert_eq!(err["id"], Value::Null);
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
        assert_eq!(id, json!(7), "a readable id is kept");
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
        assert_eq!(parse(b"[]").unwrap_err()["error"]["code"], INVALID_REQUEST);
        let big = format!(
            "[{}]",
            vec![r#"{"jsonrpc":"2.0","method":"n"}"#; MAX_BATCH + 1].join(",")
        );
        assert_eq!(
            parse(big.as_bytes()).unwrap_err()["error"]["code"],
            INVALID_REQUEST
        );
    }

    #[test]
    fn deep_nesting_is_refused_without_recursion() {
        let deep = format!("{}{}", "[".repeat(100), "]".repeat(100));
        assert_eq!(
            parse(deep.as_bytes()).unwrap_err()["error"]["code"],
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
        let r = e.response(&json!(3));
        assert_eq!(r["id"], 3);
        assert_eq!(r["error"]["data"]["requested"], "1900-01-01");
    }
}
