//! Arbitrary JSON values for the JSON decoders' properties: strings full of
//! quotes, backslashes, brackets and control characters, and numbers that
//! survive a text round-trip exactly (integers and short binary fractions).

use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Map, Value};

/// Text that is hard to split: JSON syntax, escapes, controls and non-ASCII.
pub fn text() -> impl Strategy<Value = String> {
    let tricky = select(vec![
        '"', '\\', '{', '}', '[', ']', ',', ':', '/', 'a', ' ', '\n', '\t', '\u{0}', '\u{1f}',
        '\u{7f}', 'é', '✓', '😀', '\u{2028}',
    ]);
    prop_oneof![
        any::<String>(),
        prop::collection::vec(tricky, 0..12).prop_map(String::from_iter),
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1_000_000i32..1_000_000).prop_map(|n| Value::from(f64::from(n) / 1024.0)),
        text().prop_map(Value::from),
    ]
}

fn object(inner: impl Strategy<Value = Value>) -> impl Strategy<Value = Value> {
    prop::collection::vec((text(), inner), 0..6)
        .prop_map(|members| Value::Object(members.into_iter().collect::<Map<_, _>>()))
}

/// Any JSON value, nested up to four levels.
pub fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            object(inner),
        ]
    })
}

/// A JSON object with arbitrary members.
pub fn any_object() -> impl Strategy<Value = Value> {
    object(value())
}

/// An object or an array: what a JSON stream carries.
pub fn container() -> impl Strategy<Value = Value> {
    prop_oneof![
        any_object(),
        prop::collection::vec(value(), 0..6).prop_map(Value::Array),
    ]
}

/// Whitespace JSON allows between values.
pub fn whitespace() -> impl Strategy<Value = String> {
    prop::collection::vec(select(vec![' ', '\n', '\r', '\t']), 0..4).prop_map(String::from_iter)
}
