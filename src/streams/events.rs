//! The events stream's upstream task: Docker's events, lossless across
//! daemon outages and slow readers.
//!
//! Every event carries its position (`timeNano` and rank). When the daemon
//! goes away subscribers get an `agent` `docker-disconnected` event, the
//! task reconnects with backoff and resumes from Docker's event log just
//! after the last event delivered — or, if none was yet, from the moment
//! the subscription began — then announces `docker-reconnected`. Docker
//! keeps only its most recent events for this; if the resume point has
//! already left that buffer, subscribers get an `agent` `events-missed`
//! event instead of silence.
//!
//! An event too large to decode (a container with megabytes of labels) is
//! delivered as a summary — its type, action, ids and time, with the
//! attribute `docker-agent.truncated` giving its size — and the stream goes
//! on past it.
//!
//! Under a container scope, events about out-of-scope containers are left
//! out ([`crate::service::Service::shows_event`]) after being counted, so
//! resume positions stay those of Docker's event log.

use super::Pub;
use super::hub::{Close, Item};
use super::pumps::{RETRY_MAX, RETRY_MIN};
use crate::docker::jsonstream::{Outline, Value as Json};
use crate::docker::resume::{EntryCounter, Position, Skip, Skipper, since_for, since_nanos};
use crate::error::Error;
use crate::service::Service;
use crate::service::streams::EventFilters;
use serde_json::{Value, json};
use std::sync::Arc;

/// Follows Docker's events matching `filters` into `publisher`: from
/// `since` (Unix nanoseconds, when the subscription began) or after `from`.
pub async fn pump(
    service: Arc<Service>,
    publisher: Pub,
    filters: EventFilters,
    since: u64,
    from: Option<Position>,
) {
    let mut pos = from;
    let mut down = false;
    let mut retry = RETRY_MIN;
    loop {
        let anchor = pos.and_then(|p| p.after);
        let since = anchor.map_or_else(|| since_nanos(since), since_for);
        match service.events(&filters, Some(&since)).await {
            Ok(mut stream) => {
                if down
                    && publisher
                        .publish(vec![notice("docker-reconnected", pos)])
                        .await
                        == 0
                {
                    return;
                }
                (down, retry) = (false, RETRY_MIN);
                let (mut ids, mut skipper) = (EntryCounter::default(), Skipper::new(anchor));
                while let Ok(Some(value)) = stream.next_value().await {
                    let Some((msg, nanos, event)) = event_message(value) else {
                        continue;
                    };
                    let id = ids.next(nanos);
                    let mut items = Vec::with_capacity(2);
                    match skipper.check(id) {
                        Skip::Drop => continue,
                        Skip::Gap => items.push(notice("events-missed", pos)),
                        Skip::Keep => {}
                    }
                    if service.shows_event(&event).await {
                        pos = Some(Position {
                            after: Some(id),
                            skip: 0,
                        });
                        items.push(Item::new(msg, pos));
                    }
                    if !items.is_empty() && publisher.publish(items).await == 0 {
                        return;
                    }
                }
            }
            Err(e @ (Error::DockerFailed(_) | Error::Conflict(_))) => {
                return publisher.end(Close::new(1008, e.message()));
            }
            Err(_) => {}
        }
        if !down {
            if publisher
                .publish(vec![notice("docker-disconnected", pos)])
                .await
                == 0
            {
                return;
            }
            down = true;
        }
        tokio::time::sleep(retry).await;
        retry = (retry * 2).min(RETRY_MAX);
    }
}

/// An event as sent to subscribers, its `timeNano`, and its JSON (which the scope reads).
fn event_message(value: Json) -> Option<(String, u64, Value)> {
    match value {
        Json::Whole(raw) => {
            let event: Value = serde_json::from_slice(&raw).ok()?;
            let nanos = event.get("timeNano").and_then(Value::as_u64)?;
            Some((String::from_utf8_lossy(&raw).into_owned(), nanos, event))
        }
        Json::Oversized(outline) => summary(&outline),
    }
}

/// A summary of an event too large to keep, from its first and last bytes.
fn summary(outline: &Outline) -> Option<(String, u64, Value)> {
    let nanos = number_field(&outline.tail, "timeNano")?;
    let text = |name| string_field(&outline.head, name);
    let event = json!({
        "status": text("status"),
        "id": text("id"),
        "from": text("from"),
        "Type": text("Type"),
        "Action": text("Action"),
        "Actor": {
            "ID": text("ID"),
            "Attributes": {"docker-agent.truncated": format!("event of {} bytes", outline.size)},
        },
        "scope": text("scope").unwrap_or_else(|| "local".into()),
        "time": nanos / 1_000_000_000,
        "timeNano": nanos,
    });
    Some((event.to_string(), nanos, event))
}

/// The first string value of `"name":` in a fragment of JSON.
fn string_field(json: &[u8], name: &str) -> Option<String> {
    let key = format!("\"{name}\":\"");
    let start = find(json, key.as_bytes())? + key.len();
    let mut escaped = false;
    let end = json[start..].iter().position(|&b| {
        let close = b == b'"' && !escaped;
        escaped = b == b'\\' && !escaped;
        close
    })?;
    let quoted = format!("\"{}\"", String::from_utf8_lossy(&json[start..start + end]));
    serde_json::from_str(&quoted).ok()
}

/// The last unsigned number value of `"name":` in a fragment of JSON.
fn number_field(json: &[u8], name: &str) -> Option<u64> {
    let key = format!("\"{name}\":");
    let at = json.windows(key.len()).rposition(|w| w == key.as_bytes())?;
    let digits: String = json[at + key.len()..]
        .iter()
        .map(|&b| b as char)
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// An event of our own, shaped like Docker's, about the stream itself. It
/// keeps the position of the event before it.
fn notice(action: &str, pos: Option<Position>) -> Item {
    let reason = match action {
        "docker-disconnected" => "Docker daemon connection lost; reconnecting",
        "docker-reconnected" => "Docker daemon is reachable again",
        _ => "Docker no longer holds some events this stream missed",
    };
    let nanos = crate::clock::unix_now_nanos();
    let event = json!({
        "Type": "agent",
        "Action": action,
        "Actor": {"ID": "docker-agent", "Attributes": {"reason": reason}},
        "scope": "local",
        "time": nanos / 1_000_000_000,
        "timeNano": nanos,
    });
    Item::new(event.to_string(), pos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_look_like_docker_events() {
        let item = notice("docker-disconnected", None);
        let v: Value = serde_json::from_str(&item.msg).unwrap();
        assert_eq!(v["Type"], "agent");
        assert_eq!(v["Action"], "docker-disconnected");
        assert!(v["timeNano"].as_u64().unwrap() > 0);
    }

    #[test]
    fn an_oversized_event_is_summarised_with_its_time() {
        let labels = "x".repeat(10_000);
        let raw = format!(
            r#"{{"status":"create","id":"abc","from":"img","Type":"container","Action":"create","Actor":{{"ID":"abc","Attributes":{{"big":"{labels}","q":"a\"b"}}}},"scope":"local","time":7,"timeNano":7000000123}}"#
        );
        let outline = Outline {
            head: raw.as_bytes()[..4096].to_vec(),
            tail: raw.as_bytes()[raw.len() - 4096..].to_vec(),
            size: raw.len(),
        };
        let (msg, nanos, _) = summary(&outline).unwrap();
        assert_eq!(nanos, 7_000_000_123);
        let v: Value = serde_json::from_str(&msg).unwrap();
        assert_eq!(
            (&v["Type"], &v["Action"], &v["id"], &v["Actor"]["ID"]),
            (
                &json!("container"),
                &json!("create"),
                &json!("abc"),
                &json!("abc")
            )
        );
        assert_eq!(v["time"], 7);
        let note = v["Actor"]["Attributes"]["docker-agent.truncated"]
            .as_str()
            .unwrap();
        assert!(note.contains(&raw.len().to_string()), "{note}");
    }

    #[test]
    fn fields_are_found_in_fragments() {
        assert_eq!(
            string_field(br#"{"a":"x\"y","b":1"#, "a").as_deref(),
            Some("x\"y")
        );
        assert_eq!(string_field(br#"{"a":"unterminated"#, "a"), None);
        assert_eq!(
            number_field(br#""timeNano":1,"timeNano":22}"#, "timeNano"),
            Some(22)
        );
        assert_eq!(number_field(b"nothing", "timeNano"), None);
    }
}
