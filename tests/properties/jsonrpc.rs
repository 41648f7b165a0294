//! JSON-RPC 2.0 ([`parse`]): requests, notifications and responses written
//! by the test — members in any order, any whitespace — parse into the
//! matching [`Message`], alone or in batches up to [`MAX_BATCH`]; objects
//! with arbitrary members are classified as the module documents; nesting
//! past [`MAX_DEPTH`] is refused; and arbitrary bytes never panic and get a
//! well-formed error response.

use crate::chunks::bytes_rich_in;
use crate::json::{any_object, text, value, whitespace};
use docker_agent::mcp::jsonrpc::{
    INVALID_REQUEST, Id, Incoming, MAX_BATCH, MAX_DEPTH, Message, PARSE_ERROR, Reply, parse,
};
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Map, Value, json};

type Members = Vec<(&'static str, Value)>;

fn id() -> impl Strategy<Value = Value> {
    prop_oneof![
        text().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
    ]
}

fn params() -> impl Strategy<Value = Option<Value>> {
    let array = prop::collection::vec(value(), 0..4).prop_map(Value::Array);
    proptest::option::of(prop_oneof![any_object(), array])
}

fn with_params(mut members: Members, params: &Option<Value>) -> Members {
    members.extend(params.clone().map(|p| ("params", p)));
    members
}

/// A valid message as members, and what it must parse into.
fn message() -> impl Strategy<Value = (Members, Message)> {
    let request = (id(), text(), params()).prop_map(|(id, method, params)| {
        let members = vec![
            ("jsonrpc", json!("2.0")),
            ("id", id.clone()),
            ("method", json!(method)),
        ];
        let params_value = params.clone().unwrap_or(Value::Null);
        let want = Message::Request {
            id: id_of(&id),
            method,
            params: params_value,
        };
        (with_params(members, &params), want)
    });
    let notification = (text(), params()).prop_map(|(method, params)| {
        let members = vec![("jsonrpc", json!("2.0")), ("method", json!(method))];
        let want = Message::Notification {
            method,
            params: params.clone().unwrap_or(Value::Null),
        };
        (with_params(members, &params), want)
    });
    let outcome = prop_oneof![
        value().prop_map(|v| ("result", v)),
        (any::<i64>(), text())
            .prop_map(|(code, msg)| ("error", json!({"code": code, "message": msg}))),
    ];
    let response = (prop_oneof![id(), Just(Value::Null)], outcome).prop_map(|(id, outcome)| {
        let want = Message::Response {
            id: id_of(&id),
            result: (outcome.0 == "result").then(|| outcome.1.clone()),
        };
        (vec![("jsonrpc", json!("2.0")), ("id", id), outcome], want)
    });
    prop_oneof![request, notification, response]
        .prop_flat_map(|(members, want)| (Just(members).prop_shuffle(), Just(want)))
}

/// The members as a JSON object, with `gap` around every token.
fn write(members: &Members, gap: &str, pretty: bool) -> String {
    let value = |v: &Value| {
        if pretty {
            serde_json::to_string_pretty(v)
        } else {
            serde_json::to_string(v)
        }
        .unwrap()
    };
    let members: Vec<String> = members
        .iter()
        .map(|(k, v)| format!("{gap}{}{gap}:{gap}{}{gap}", value(&json!(k)), value(v)))
        .collect();
    format!("{gap}{{{}}}{gap}", members.join(","))
}

/// The id the parser keeps for `v`, written compactly.
fn id_of(v: &Value) -> Id {
    serde_json::from_str(&v.to_string()).unwrap()
}

/// What the module documents for an object with these members.
fn classify(m: &Map<String, Value>) -> Message {
    let id = m.get("id");
    let usable_id = match id {
        Some(id @ (Value::String(_) | Value::Number(_))) => id_of(id),
        _ => Id::null(),
    };
    let invalid = |id: Id| Message::Invalid {
        id,
        error: docker_agent::mcp::jsonrpc::RpcError::new(INVALID_REQUEST, ""),
    };
    let params = m.get("params").cloned();
    if m.get("jsonrpc") != Some(&json!("2.0"))
        || params
            .as_ref()
            .is_some_and(|p| !p.is_object() && !p.is_array())
    {
        return invalid(usable_id);
    }
    let params = params.unwrap_or(Value::Null);
    match (m.get("method"), id) {
        (Some(Value::String(method)), None) => Message::Notification {
            method: method.clone(),
            params,
        },
        (Some(Value::String(method)), Some(Value::String(_) | Value::Number(_))) => {
            Message::Request {
                id: usable_id,
                method: method.clone(),
                params,
            }
        }
        (None, Some(_)) if m.contains_key("result") || m.contains_key("error") => {
            Message::Response {
                id: usable_id,
                result: m.get("result").cloned(),
            }
        }
        _ => invalid(usable_id),
    }
}

/// Objects whose members are right, wrong or missing in every combination.
fn message_like() -> impl Strategy<Value = Map<String, Value>> {
    let jsonrpc = select(vec![json!("2.0"), json!("1.0"), json!(2.0), Value::Null]);
    let id = prop_oneof![
        id(),
        select(vec![Value::Null, json!(true), json!({}), json!([1])])
    ];
    let method = prop_oneof![
        text().prop_map(Value::from),
        select(vec![json!(7), Value::Null])
    ];
    let params = prop_oneof![
        any_object(),
        select(vec![json!([]), json!("s"), json!(1), json!(false)])
    ];
    let members = (
        proptest::option::of(jsonrpc),
        proptest::option::of(id),
        proptest::option::of(method),
        proptest::option::of(params),
        proptest::option::of(value()),
        proptest::option::of(any_object()),
    );
    members.prop_map(|(jsonrpc, id, method, params, result, error)| {
        let names = ["jsonrpc", "id", "method", "params", "result", "error"];
        let values = [jsonrpc, id, method, params, result, error];
        names
            .iter()
            .zip(values)
            .filter_map(|(name, v)| v.map(|v| (name.to_string(), v)))
            .collect()
    })
}

/// Same kind, same fields; an invalid message's text is not compared.
fn same(got: &Message, want: &Message) -> bool {
    match (got, want) {
        (Message::Invalid { id, error }, Message::Invalid { id: want_id, .. }) => {
            error.code == INVALID_REQUEST && id == want_id
        }
        _ => got == want,
    }
}

/// The shape every parse result must have, whatever the input.
fn well_formed(result: &Result<Incoming, Reply>) -> bool {
    let message_ok = |m: &Message| match m {
        Message::Invalid { id, error } => {
            let text = id.as_str();
            error.code == INVALID_REQUEST
                && (text == "null"
                    || text
                        .starts_with(['"', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9']))
        }
        _ => true,
    };
    match result {
        Ok(Incoming::Single(m)) => message_ok(m),
        Ok(Incoming::Batch(ms)) => (1..=MAX_BATCH).contains(&ms.len()) && ms.iter().all(message_ok),
        Err(e) => {
            let e = as_json(e);
            let code = &e["error"]["code"];
            e["jsonrpc"] == "2.0"
                && e["id"].is_null()
                && (*code == PARSE_ERROR || *code == INVALID_REQUEST)
                && e["error"]["message"].is_string()
        }
    }
}

fn code(result: &Result<Incoming, Reply>) -> Option<i64> {
    result
        .as_ref()
        .err()
        .and_then(|e| as_json(e)["error"]["code"].as_i64())
}

/// An error reply as JSON.
fn as_json(reply: &Reply) -> Value {
    serde_json::from_str(&serde_json::to_string(reply).unwrap()).unwrap()
}

proptest! {
    #[test]
    fn valid_messages_parse_into_what_they_say(
        (members, want) in message(),
        gap in whitespace(),
        pretty in any::<bool>(),
    ) {
        let body = write(&members, &gap, pretty);
        prop_assert_eq!(parse(body.as_bytes()), Ok(Incoming::Single(want)), "{}", body);
    }

    #[test]
    fn valid_batches_parse_in_order(
        messages in prop::collection::vec(message(), 1..=MAX_BATCH),
        gap in whitespace(),
    ) {
        let bodies: Vec<String> = messages.iter().map(|(m, _)| write(m, &gap, false)).collect();
        let body = format!("[{}]", bodies.join(","));
        let want = messages.into_iter().map(|(_, want)| want).collect();
        prop_assert_eq!(parse(body.as_bytes()), Ok(Incoming::Batch(want)));
    }

    #[test]
    fn empty_and_oversized_batches_are_refused(
        messages in prop_oneof![
            Just(vec![]),
            prop::collection::vec(message(), (MAX_BATCH + 1)..(MAX_BATCH + 4)),
        ],
    ) {
        let bodies: Vec<String> = messages.iter().map(|(m, _)| write(m, "", false)).collect();
        let result = parse(format!("[{}]", bodies.join(",")).as_bytes());
        prop_assert!(well_formed(&result));
        prop_assert_eq!(code(&result), Some(INVALID_REQUEST));
    }

    #[test]
    fn message_like_objects_are_classified_as_documented(object in message_like()) {
        let want = classify(&object);
        let Ok(Incoming::Single(got)) = parse(&serde_json::to_vec(&object).unwrap()) else {
            return Err(TestCaseError::fail(format!("{object:?} is not one message")));
        };
        prop_assert!(same(&got, &want), "{}: {:?}, want {:?}", Value::Object(object), got, want);
    }

    #[test]
    fn nesting_past_the_limit_is_refused(levels in 0usize..300) {
        let params = format!("{}{{}}{}", "{\"a\":".repeat(levels), "}".repeat(levels));
        let body = format!(r#"{{"jsonrpc":"2.0","method":"m","params":{params}}}"#);
        let result = parse(body.as_bytes());
        prop_assert!(well_formed(&result));
        // The message object, then `levels + 1` nested params objects.
        prop_assert_eq!(result.is_ok(), levels + 2 <= MAX_DEPTH);
    }

    #[test]
    fn any_json_gets_a_well_formed_answer(json in value()) {
        let result = parse(&serde_json::to_vec(&json).unwrap());
        prop_assert!(well_formed(&result));
        prop_assert_ne!(code(&result), Some(PARSE_ERROR));
    }

    #[test]
    fn arbitrary_bytes_get_a_well_formed_answer(
        bytes in bytes_rich_in(b"{}[]\":,0123456789.eE+-truefalsn \\", 300),
    ) {
        let result = parse(&bytes);
        prop_assert!(well_formed(&result));
        if serde_json::from_slice::<Value>(&bytes).is_ok() {
            prop_assert_ne!(code(&result), Some(PARSE_ERROR));
        }
    }
}
