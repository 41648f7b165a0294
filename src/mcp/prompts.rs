//! MCP prompts, assembled from what the service layer reads (so roles and
//! scope apply as for the tools):
//!
//! - `diagnose_container` (`container_id`, required): a summary of the
//!   container's state and current resource use, then its inspect data and
//!   its last [`LOG_LINES`] log lines (at most [`LOG_BYTES`]) as embedded
//!   resources carrying their `docker://` URIs;
//! - `host_overview`: Docker's health and version, the containers by
//!   state and the image count, then the container list as an embedded
//!   resource.
//!
//! An unknown prompt, a missing argument or a container that does not
//! exist (or is out of scope) is invalid params (-32602).

use super::changes::LIST_URI;
use super::context::{Ctx, cacheable, shown_container, unknown_method, within};
use super::jsonrpc::{INTERNAL_ERROR, INVALID_PARAMS, RpcError};
use super::paging;
use super::resources::to_text;
use crate::contract::{ContainerDetail, StatsFigures};
use crate::error::Error;
use crate::http::body::escaped_len;
use crate::ops;
use crate::service::filters::ContainerFilters;
use crate::service::logs::{LogLimit, LogRead};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::fmt::Write;

/// Log lines `diagnose_container` includes.
const LOG_LINES: u32 = 50;
/// Bytes of log text it includes at most (JSON-escaped).
const LOG_BYTES: usize = 64 * 1024;

const PROMPTS: &str = r#"[
{"name":"diagnose_container","title":"Diagnose a container","description":"A container's state, current resource use, inspect data and recent logs, with the request to find out what is wrong with it","arguments":[{"name":"container_id","description":"Container ID, ID prefix or name","required":true}]},
{"name":"host_overview","title":"Host overview","description":"Docker's health and version, the containers by state and the image count of this host, with the request to point out what needs attention","arguments":[]}]"#;

/// Answers a `prompts/…` method within `room` bytes.
pub async fn handle(
    ctx: &Ctx<'_>,
    method: &str,
    params: &Value,
    room: usize,
) -> Result<Value, RpcError> {
    match method {
        "prompts/list" => {
            let page = paging::fixed(PROMPTS, "name", params, "prompts")?;
            Ok(cacheable(page, "public"))
        }
        "prompts/get" => within(get(ctx, params).await?, room, "The prompt"),
        _ => Err(unknown_method(method)),
    }
}

fn invalid(message: impl Into<String>) -> RpcError {
    RpcError::new(INVALID_PARAMS, message)
}

/// A service error, as a prompt's error: what the caller named is invalid
/// params, anything else internal.
fn failed(e: Error) -> RpcError {
    match e {
        Error::ContainerNotFound(_) | Error::AmbiguousContainer(_) => invalid(e.message()),
        e => RpcError::new(INTERNAL_ERROR, e.message()),
    }
}

async fn get(ctx: &Ctx<'_>, params: &Value) -> Result<Value, RpcError> {
    let name = params
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("params.name (a string) is required"))?;
    let args = params.get("arguments").unwrap_or(&Value::Null);
    match name {
        "diagnose_container" => match args.get("container_id").and_then(Value::as_str) {
            Some(id) if !id.is_empty() => diagnose(ctx, id).await,
            _ => Err(invalid(
                "Missing required argument 'container_id' (string): a container id, id prefix or name",
            )),
        },
        "host_overview" => overview(ctx).await,
        _ => Err(invalid(format!(
            "Unknown prompt: {name}; prompts/list names the prompts"
        ))),
    }
}

fn text(text: String) -> Value {
    json!({"role": "user", "content": {"type": "text", "text": text}})
}

fn embedded(uri: &str, mime: &str, text: String) -> Value {
    json!({"role": "user", "content": {"type": "resource", "resource": {"uri": uri, "mimeType": mime, "text": text}}})
}

async fn diagnose(ctx: &Ctx<'_>, id: &str) -> Result<Value, RpcError> {
    let (s, c) = (&ctx.app.service, ctx.caller);
    let detail = shown_container(ctx, id).await.map_err(failed)?;
    let limit = LogLimit {
        bytes: LOG_BYTES,
        cost: |ch| escaped_len(ch, 1),
    };
    let logs = match s
        .logs(
            c,
            ops::LOGS.op,
            &detail.id,
            &LogRead::tail(LOG_LINES),
            limit,
        )
        .await
    {
        Ok((logs, _turn)) => logs.logs,
        Err(e) => format!("(logs unavailable: {})", e.message()),
    };
    let stats = match detail.state.running {
        true => s
            .stats(c, ops::STATS.op, &detail.id)
            .await
            .ok()
            .map(|s| s.figures),
        false => None,
    };
    let uri = format!("{LIST_URI}/{}", detail.short_id);
    let messages = [
        text(summary(&detail, stats.as_ref())),
        embedded(&uri, "application/json", to_text(&detail)),
        embedded(&format!("{uri}/logs"), "text/plain", logs),
    ];
    Ok(json!({
        "description": format!("Diagnose the container {}", detail.name),
        "messages": messages,
    }))
}

fn summary(d: &ContainerDetail, stats: Option<&StatsFigures>) -> String {
    let st = &d.state;
    let mut t = format!(
        "Diagnose the Docker container \"{}\" ({}, image {}).\nState: {}; exit code {}; started {}; finished {}.\n",
        d.name, d.short_id, d.image, st.status, st.exit_code, st.started_at, st.finished_at
    );
    let _ = match stats {
        Some(f) => writeln!(
            t,
            "Resource use now: CPU {:.1}%, memory {} of {} bytes ({:.1}%).",
            f.cpu_percent, f.memory_usage, f.memory_limit, f.memory_percent
        ),
        None => writeln!(t, "It is not running: no current resource use."),
    };
    t.push_str(&format!(
        "Its inspect data and its last {LOG_LINES} log lines follow. Say whether it is healthy; \
         if not, what its logs and configuration show is wrong, and what to do next."
    ));
    t
}

async fn overview(ctx: &Ctx<'_>) -> Result<Value, RpcError> {
    let (s, c) = (&ctx.app.service, ctx.caller);
    let health = s.enhanced_health(c, ops::HEALTH.op).await.map_err(failed)?;
    let list = s
        .list_containers(
            c,
            ops::LIST_CONTAINERS.op,
            true,
            &ContainerFilters::default(),
        )
        .await
        .map_err(failed)?;
    let images = s
        .list_images(c, ops::LIST_IMAGES.op)
        .await
        .map_err(failed)?
        .total;
    let mut states = BTreeMap::new();
    for container in &list.containers {
        *states.entry(container.state.as_str()).or_insert(0) += 1;
    }
    let states: Vec<String> = states.iter().map(|(s, n)| format!("{n} {s}")).collect();
    let or = |v: &Option<String>| v.clone().unwrap_or_else(|| "unknown".into());
    let n = |v: Option<i64>| v.map_or("unknown".into(), |n| n.to_string());
    let t = format!(
        "Give an overview of this Docker host and point out anything that needs attention.\n\
         Docker {} (API {}) on {}/{}, {} CPUs, {} bytes of memory; status {}.\n\
         Containers: {} ({}).\nImages: {images}.\nThe container list follows.",
        or(&health.docker_version),
        or(&health.api_version),
        or(&health.os),
        or(&health.arch),
        n(health.cpus),
        n(health.memory_total),
        health.status,
        list.total,
        states.join(", "),
    );
    Ok(json!({
        "description": "An overview of this Docker host",
        "messages": [text(t), embedded(LIST_URI, "application/json", to_text(&list))],
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompts_are_listed_in_name_order_with_their_arguments() {
        let p: Vec<Value> = serde_json::from_str(PROMPTS).unwrap();
        let names: Vec<&str> = p.iter().map(|p| p["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["diagnose_container", "host_overview"]);
        assert_eq!(p[0]["arguments"][0]["required"], true);
        assert_eq!(p[1]["arguments"], json!([]));
    }

    #[test]
    fn unknown_names_are_invalid_params() {
        assert_eq!(
            failed(Error::ContainerNotFound("x".into())).code,
            INVALID_PARAMS
        );
        assert_eq!(failed(Error::DockerUnavailable).code, INTERNAL_ERROR);
    }
}
