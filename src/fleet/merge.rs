//! Fleet-wide reads (`?host=*`): the same read asked of every member with
//! the caller's own credential ([`super::fanout`]: a bounded number at a
//! time, all within one deadline) and the answers put together with this
//! host's: each item of a list tagged with its `host`, totals added up; an
//! answer that is no list (health) becomes one entry per host. A host that
//! cannot answer never fails the whole: it is named in `missing` with the
//! reason (a host the probe finds unreachable is not even asked, so one
//! dead host costs the answer no deadline). The answers held at once are
//! bounded: each by [`MAX_ANSWER`], all of them together by [`MAX_ALL`].

use super::Fleet;
use super::fanout::{self, Asking};
use super::link::empty;
use super::members::State;
use http_body_util::BodyExt;
use hyper::header::{self, HeaderValue};
use hyper::{Request, StatusCode};
use serde_json::{Map, Value, json};
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Largest answer read from one member.
const MAX_ANSWER: usize = 16 * 1024 * 1024;

/// Most bytes of all members' answers to one read, together.
const MAX_ALL: usize = 64 * 1024 * 1024;

/// One member's answer, or why there is none.
pub struct Part {
    pub host: String,
    pub answer: Result<Value, String>,
}

impl Fleet {
    /// Asks every member `GET path_and_query` with the caller's bearer
    /// `credential`, for `client`; the answers in the hosts' order.
    pub async fn gather(
        &self,
        path_and_query: &str,
        credential: Option<&str>,
        client: IpAddr,
    ) -> Vec<Part> {
        let authorization =
            credential.and_then(|c| HeaderValue::from_str(&format!("Bearer {c}")).ok());
        let authorization = authorization.as_ref();
        let left = AtomicUsize::new(MAX_ALL);
        let left = &left;
        let (views, handles) = self.snapshot();
        let asked = views.into_iter().zip(handles).filter_map(|(view, member)| {
            let member = member?;
            let answer: Asking<Value> = Box::pin(async move {
                if view.state == State::Unreachable {
                    return Err(view.reason.unwrap_or_else(|| "not reached yet".into()));
                }
                let req = request(path_and_query, authorization, client)?;
                read(member.link.send(req).await?, left).await
            });
            Some((view.name, answer))
        });
        fanout::each(asked.collect())
            .await
            .into_iter()
            .map(|(host, answer)| Part { host, answer })
            .collect()
    }
}

fn request(
    path_and_query: &str,
    authorization: Option<&HeaderValue>,
    client: IpAddr,
) -> Result<Request<super::link::Outgoing>, String> {
    let mut req = Request::get(path_and_query)
        .header("x-forwarded-for", client.to_string())
        .body(empty())
        .map_err(|e| e.to_string())?;
    if let Some(auth) = authorization {
        req.headers_mut()
            .insert(header::AUTHORIZATION, auth.clone());
    }
    Ok(req)
}

/// A member's answer as JSON, its bytes taken from what all the answers
/// of the read may hold together (`left`); any status but 200 is a
/// reason, with the member's own `detail`.
async fn read(
    resp: hyper::Response<hyper::body::Incoming>,
    left: &AtomicUsize,
) -> Result<Value, String> {
    let status = resp.status();
    let mut body = resp.into_body();
    let mut bytes = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| format!("its answer broke off: {e}"))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        if bytes.len() + data.len() > MAX_ANSWER {
            return Err(format!("its answer is over {} MiB", MAX_ANSWER >> 20));
        }
        take(left, data.len())?;
        bytes.extend_from_slice(&data);
    }
    let value: Value = serde_json::from_slice(&bytes)
        .map_err(|_| format!("it answered {status} with something not JSON"))?;
    if status != StatusCode::OK {
        let detail = value["detail"].as_str().unwrap_or("no detail");
        return Err(format!("it answered {}: {detail}", status.as_u16()));
    }
    Ok(value)
}

/// Takes `n` bytes from what is `left`, or says the answers together are
/// too large.
fn take(left: &AtomicUsize, n: usize) -> Result<(), String> {
    left.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |l| l.checked_sub(n))
        .map(drop)
        .map_err(|_| {
            format!(
                "the answers of all hosts together are over {} MiB: ask it alone (/api/v1/hosts/{{host}}/…)",
                MAX_ALL >> 20
            )
        })
}

/// This host's answer `local` (as `host`) and the members' `parts`, as
/// one: a list's items tagged and totalled, anything else one entry per
/// host under `hosts`; the hosts without an answer under `missing`.
pub fn combine(host: &str, local: Value, parts: Vec<Part>) -> Value {
    let mut answers = vec![(host.to_string(), local)];
    let mut missing = Vec::new();
    for part in parts {
        match part.answer {
            Ok(v) => answers.push((part.host, v)),
            Err(reason) => missing.push(json!({"host": part.host, "reason": reason})),
        }
    }
    let list = answers[0]
        .1
        .as_object()
        .and_then(|o| o.iter().find(|(_, v)| v.is_array()).map(|(k, _)| k.clone()));
    let mut out = Map::new();
    match list {
        Some(key) => {
            let mut items = Vec::new();
            for (host, answer) in answers {
                if let Value::Array(list) = &answer[&key] {
                    items.extend(list.iter().map(|item| tagged(item, &host)));
                }
            }
            out.insert("total".into(), json!(items.len()));
            out.insert(key, Value::Array(items));
        }
        None => {
            let hosts: Vec<Value> = answers.iter().map(|(h, a)| tagged(a, h)).collect();
            out.insert("total".into(), json!(hosts.len()));
            out.insert("hosts".into(), Value::Array(hosts));
        }
    }
    out.insert("missing".into(), Value::Array(missing));
    Value::Object(out)
}

/// `item` with `host` added (an object's field; anything else wrapped).
fn tagged(item: &Value, host: &str) -> Value {
    match item {
        Value::Object(o) => {
            let mut o = o.clone();
            o.insert("host".into(), json!(host));
            Value::Object(o)
        }
        other => json!({"host": host, "value": other}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answers_of_one_read_share_one_allowance() {
        let left = AtomicUsize::new(MAX_ALL);
        assert!(take(&left, MAX_ALL - 10).is_ok());
        assert!(take(&left, 10).is_ok());
        let refused = take(&left, 1).unwrap_err();
        assert!(refused.contains("over 64 MiB"), "{refused}");
        assert_eq!(left.load(Ordering::Relaxed), 0, "a refusal takes nothing");
    }

    #[test]
    fn lists_are_tagged_and_totalled_and_a_failed_host_is_named_not_fatal() {
        let local = json!({"containers": [{"id": "a"}], "total": 1});
        let parts = vec![
            Part {
                host: "two".into(),
                answer: Ok(json!({"containers": [{"id": "b"}, {"id": "c"}], "total": 2})),
            },
            Part {
                host: "three".into(),
                answer: Err("connection refused".into()),
            },
        ];
        let merged = combine("one", local, parts);
        assert_eq!(merged["total"], 3);
        let hosts: Vec<&str> = merged["containers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["host"].as_str().unwrap())
            .collect();
        assert_eq!(hosts, ["one", "two", "two"]);
        assert_eq!(
            merged["missing"],
            json!([{"host": "three", "reason": "connection refused"}])
        );
    }

    #[test]
    fn an_answer_that_is_no_list_is_one_entry_per_host() {
        let merged = combine(
            "one",
            json!({"status": "ok", "cpus": 2}),
            vec![Part {
                host: "two".into(),
                answer: Ok(json!({"status": "degraded", "cpus": null})),
            }],
        );
        assert_eq!(merged["total"], 2);
        assert_eq!(
            merged["hosts"][0],
            json!({"host": "one", "status": "ok", "cpus": 2})
        );
        assert_eq!(merged["hosts"][1]["status"], "degraded");
        assert_eq!(merged["missing"], json!([]));
    }
}
