//! Cursor pagination for the MCP lists (`resources/list`,
//! `resources/templates/list`, `prompts/list`): items in a stable order by
//! key, a page at a time. The opaque cursor names the last key served, so
//! a page stays right when items come and go between requests (the next
//! page starts after that key, wherever it now stands). A cursor the agent
//! did not issue is invalid params (-32602).

use super::jsonrpc::{INVALID_PARAMS, RpcError};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

const PREFIX: &str = "after:";

fn encode(key: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{PREFIX}{key}"))
}

fn decode(cursor: &str) -> Option<String> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    String::from_utf8(bytes)
        .ok()?
        .strip_prefix(PREFIX)
        .map(str::to_string)
}

/// The page of `items` (key, item) that `params.cursor` asks for, at most
/// `size` long, as `{field: [...], nextCursor?}`.
pub fn page(
    mut items: Vec<(String, Value)>,
    params: &Value,
    size: usize,
    field: &str,
) -> Result<Value, RpcError> {
    items.sort_by(|a, b| a.0.cmp(&b.0));
    let after = match params.get("cursor") {
        None | Some(Value::Null) => None,
        Some(c) => Some(c.as_str().and_then(decode).ok_or_else(|| {
            RpcError::new(
                INVALID_PARAMS,
                "Invalid cursor: pass a nextCursor this server returned",
            )
        })?),
    };
    let start = after.map_or(0, |k| items.partition_point(|(key, _)| *key <= k));
    let rest = items.split_off(start.min(items.len()));
    let more = rest.len() > size;
    let shown: Vec<(String, Value)> = rest.into_iter().take(size).collect();
    let mut result = json!({});
    if more {
        let last = &shown[shown.len() - 1].0;
        result["nextCursor"] = json!(encode(last));
    }
    result[field] = Value::Array(shown.into_iter().map(|(_, v)| v).collect());
    Ok(result)
}

/// The page `params` asks for of a list fixed in the binary: `json`, an
/// array of objects keyed by their `key` field.
pub fn fixed(json: &str, key: &str, params: &Value, field: &str) -> Result<Value, RpcError> {
    let all: Vec<Value> = serde_json::from_str(json).unwrap_or_default();
    let keyed = all
        .into_iter()
        .map(|v| (v[key].as_str().unwrap_or("").to_string(), v));
    page(keyed.collect(), params, usize::MAX, field)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(keys: &[&str]) -> Vec<(String, Value)> {
        keys.iter().map(|k| (k.to_string(), json!(k))).collect()
    }

    fn walk(keys: &[&str], size: usize) -> Vec<Value> {
        let (mut seen, mut params) = (Vec::new(), json!({}));
        loop {
            let p = page(items(keys), &params, size, "x").unwrap();
            seen.extend(p["x"].as_array().unwrap().iter().cloned());
            match p.get("nextCursor") {
                Some(c) => params = json!({"cursor": c}),
                None => return seen,
            }
        }
    }

    #[test]
    fn pages_walk_every_item_once_in_key_order() {
        let keys = ["d", "a", "c", "b", "e"];
        for size in 1..=6 {
            assert_eq!(
                walk(&keys, size),
                json!(["a", "b", "c", "d", "e"]).as_array().unwrap().clone(),
                "{size}"
            );
        }
        assert!(
            page(items(&keys), &json!({}), 5, "x")
                .unwrap()
                .get("nextCursor")
                .is_none()
        );
    }

    #[test]
    fn a_cursor_survives_items_coming_and_going() {
        let first = page(items(&["a", "b", "c", "d"]), &json!({}), 2, "x").unwrap();
        let params = json!({"cursor": first["nextCursor"]});
        let next = page(items(&["0", "b", "bb", "d"]), &params, 2, "x").unwrap();
        assert_eq!(
            next["x"],
            json!(["bb", "d"]),
            "starts after b, wherever it is now"
        );
    }

    #[test]
    fn cursors_not_issued_here_are_invalid_params() {
        for bad in [
            json!("nope"),
            json!(5),
            json!(URL_SAFE_NO_PAD.encode("other:a")),
        ] {
            let e = page(items(&["a"]), &json!({"cursor": bad}), 2, "x").unwrap_err();
            assert_eq!(e.code, INVALID_PARAMS, "{bad}");
        }
    }
}
