//! MCP resources: the container list (`docker://containers`), each
//! container's inspect data (`docker://containers/{id}`, JSON, what
//! `get_container` shows) and its recent logs
//! (`docker://containers/{id}/logs`, text, the last [`LOG_TAIL`] lines
//! within the answer's room, as the logs tool bounds them).
//!
//! Everything is read through the service layer as the matching tool
//! reads it, so roles and scope apply: an out-of-scope container is "not
//! found" — `-32602` on 2026-07-28, `-32002` before — with the URI in
//! `data`. `resources/list` shows the list and one resource per container
//! in scope, by short id (the order and cursors of [`super::paging`]);
//! list results and reads carry `ttlMs`/`cacheScope` (on 2026-07-28,
//! the only revision that has them). `resources/subscribe` and `resources/unsubscribe` exist on
//! the handshake eras only: they resolve the URI as a read would and
//! remember it on the session's [`Listener`].
//!
//! In a fleet, `docker://hosts/{host}/containers…` is that host's
//! `docker://containers…`, read through its own agent ([`super::fleet`])
//! and named in the answer as asked; `resources/list` adds each other
//! host's list and the templates list the three. They are read, not
//! subscribed to.

use super::changes::{LIST_URI, Listener};
use super::context::{Ctx, Era, cacheable, cached, shown_container, unknown_method, within};
use super::fleet;
use super::jsonrpc::{INTERNAL_ERROR, INVALID_PARAMS, RpcError};
use super::paging;
use crate::error::Error;
use crate::fleet::Target;
use crate::http::body::escaped_len;
use crate::ops;

use crate::service::filters::ContainerFilters;
use crate::service::logs::{LogLimit, LogRead};
use serde_json::{Value, json};
use std::sync::Arc;

/// Log lines a logs resource shows.
pub const LOG_TAIL: u32 = 100;
/// How long a client may cache what it read or listed: containers change,
/// and subscribers are told when.
const LIVE_TTL_MS: u64 = 5_000;
/// "Resource not found" before 2026-07-28.
const RESOURCE_NOT_FOUND: i64 = -32002;

/// The templates of this host's resources.
macro_rules! local_templates {
    () => {
        r#"{"uriTemplate":"docker://containers/{id}","name":"container","title":"Container","description":"A container's inspect data (state, config, mounts, networks, ports) as JSON; {id} is a container id, id prefix or name","mimeType":"application/json"},
{"uriTemplate":"docker://containers/{id}/logs","name":"container-logs","title":"Container logs","description":"A container's last 100 log lines (stdout and stderr), as text","mimeType":"text/plain"}"#
    };
}

const TEMPLATES: &str = concat!("[", local_templates!(), "]");

/// In a fleet, those and the same of every host.
const FLEET_TEMPLATES: &str = concat!(
    "[",
    local_templates!(),
    r#",
{"uriTemplate":"docker://hosts/{host}/containers","name":"host-containers","title":"A host's containers","description":"Every container on a host of the fleet, as list_containers shows them; {host} is a host's name, daemon id or unique id prefix (list_hosts lists them)","mimeType":"application/json"},
{"uriTemplate":"docker://hosts/{host}/containers/{id}","name":"host-container","title":"A host's container","description":"A container's inspect data on a host of the fleet, as JSON","mimeType":"application/json"},
{"uriTemplate":"docker://hosts/{host}/containers/{id}/logs","name":"host-container-logs","title":"A host's container logs","description":"A container's last 100 log lines on a host of the fleet, as text","mimeType":"text/plain"}]"#
);

/// What a URI names.
#[derive(Debug, PartialEq, Eq)]
pub enum Uri<'a> {
    List,
    Container(&'a str),
    Logs(&'a str),
}

pub fn parse(uri: &str) -> Option<Uri<'_>> {
    let rest = uri.strip_prefix(LIST_URI)?;
    if rest.is_empty() {
        return Some(Uri::List);
    }
    let rest = rest.strip_prefix('/')?;
    let (id, logs) = match rest.strip_suffix("/logs") {
        Some(id) => (id, true),
        None => (rest, false),
    };
    crate::service::check_container_ref(id).ok()?;
    Some(if logs {
        Uri::Logs(id)
    } else {
        Uri::Container(id)
    })
}

/// "Resource not found" as `era` codes it.
fn not_found(era: Era, uri: &str) -> RpcError {
    let code = if era == Era::Modern {
        INVALID_PARAMS
    } else {
        RESOURCE_NOT_FOUND
    };
    RpcError::new(code, format!("Resource not found: {uri}")).with_data(json!({"uri": uri}))
}

/// A service error reading `uri`, as a JSON-RPC error.
fn failed(era: Era, uri: &str, e: Error) -> RpcError {
    match e {
        Error::ContainerNotFound(_) => not_found(era, uri),
        Error::AmbiguousContainer(_) => RpcError::new(INVALID_PARAMS, e.message()),
        e => RpcError::new(INTERNAL_ERROR, e.message()),
    }
}

fn uri_param(params: &Value) -> Result<&str, RpcError> {
    params
        .get("uri")
        .and_then(Value::as_str)
        .ok_or_else(|| RpcError::new(INVALID_PARAMS, "params.uri (a string) is required"))
}

/// Answers a `resources/…` method, a read within `room` bytes.
pub async fn handle(
    ctx: &Ctx<'_>,
    method: &str,
    params: &Value,
    room: usize,
) -> Result<Value, RpcError> {
    match (method, ctx.listener()) {
        ("resources/list", _) => list(ctx, params).await,
        ("resources/templates/list", _) => {
            let templates = match ctx.app.fleet.enabled() {
                true => FLEET_TEMPLATES,
                false => TEMPLATES,
            };
            let page = paging::fixed(templates, "uriTemplate", params, "resourceTemplates")?;
            Ok(cacheable(page, "public"))
        }
        ("resources/read", _) => read(ctx, params, room).await,
        ("resources/subscribe", Some(l)) => subscribe(ctx, l, uri_param(params)?).await,
        ("resources/unsubscribe", Some(l)) => {
            l.unsubscribe(uri_param(params)?);
            Ok(json!({}))
        }
        _ => Err(unknown_method(method)),
    }
}

fn resource(uri: &str, name: &str, title: &str, description: &str) -> Value {
    json!({"uri": uri, "name": name, "title": title, "description": description, "mimeType": "application/json"})
}

async fn list(ctx: &Ctx<'_>, params: &Value) -> Result<Value, RpcError> {
    let containers = ctx
        .app
        .service
        .list_containers(
            ctx.caller,
            ops::LIST_CONTAINERS.op,
            true,
            &ContainerFilters::default(),
        )
        .await
        .map_err(|e| failed(ctx.era, LIST_URI, e))?;
    let mut items = vec![(
        String::new(),
        resource(
            LIST_URI,
            "containers",
            "Containers",
            "Every container on this host, running or not, as list_containers shows them",
        ),
    )];
    for c in containers.containers {
        let uri = format!("{LIST_URI}/{}", c.id);
        let about = format!("Inspect data of {} ({}, {})", c.name, c.image, c.state);
        items.push((c.id, resource(&uri, &c.name, &c.name, &about)));
    }
    // The other hosts' lists, after this host's (a space sorts before an id).
    for host in ctx.app.fleet.hosts().into_iter().skip(1) {
        let uri = format!("docker://hosts/{}/containers", host.name);
        let about = format!("Every container on host {}, running or not", host.name);
        let title = format!("Containers of {}", host.name);
        let key = format!(" {}", host.name);
        items.push((key, resource(&uri, &title, &title, &about)));
    }
    let page = paging::page(items, params, ctx.app.config.mcp.page_size, "resources")?;
    Ok(cached(page, LIVE_TTL_MS, "private"))
}

async fn read(ctx: &Ctx<'_>, params: &Value, room: usize) -> Result<Value, RpcError> {
    let uri = uri_param(params)?;
    let Some((host, inner)) = fleet::host_uri(uri) else {
        return read_here(ctx, uri, uri, room).await;
    };
    let fail = |e: Error| {
        let e = RpcError::new(INVALID_PARAMS, e.message());
        e.with_data(json!({"uri": uri}))
    };
    match ctx.app.fleet.target(host).map_err(fail)? {
        Target::Local => read_here(ctx, &inner, uri, room).await,
        Target::Remote(member, name) => {
            let read = fleet::read(ctx, (&member, &name), &inner, uri).await;
            let missing = |e: &RpcError| e.data.as_ref().is_some_and(|d| d.get("uri").is_some());
            let read = read.map_err(|e| match missing(&e) {
                true => not_found(ctx.era, uri),
                false => e,
            });
            within(read?, room, uri)
        }
    }
}

/// Reads `uri` of this host, naming it `shown` in the answer.
async fn read_here(ctx: &Ctx<'_>, uri: &str, shown: &str, room: usize) -> Result<Value, RpcError> {
    let (s, c, era) = (&ctx.app.service, ctx.caller, ctx.era);
    let fail = |e| failed(era, shown, e);
    let (mime, text) = match parse(uri).ok_or_else(|| not_found(era, shown))? {
        Uri::List => (
            "application/json",
            to_text(
                &s.list_containers(
                    c,
                    ops::LIST_CONTAINERS.op,
                    true,
                    &ContainerFilters::default(),
                )
                .await
                .map_err(fail)?,
            ),
        ),
        Uri::Container(id) => (
            "application/json",
            to_text(&shown_container(ctx, id).await.map_err(fail)?),
        ),
        Uri::Logs(id) => {
            let limit = LogLimit {
                bytes: room.saturating_sub(256 + 2 * uri.len()),
                cost: |ch| escaped_len(ch, 1),
            };
            let (logs, _turn) = s
                .logs(c, ops::LOGS.op, id, &LogRead::tail(LOG_TAIL), limit)
                .await
                .map_err(fail)?;
            ("text/plain", logs.logs)
        }
    };
    let result = json!({"contents": [{"uri": shown, "mimeType": mime, "text": text}]});
    Ok(cached(within(result, room, shown)?, LIVE_TTL_MS, "private"))
}

/// A value as compact JSON text.
pub fn to_text<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// What subscribing to `uri` watches: the list (`None`) or the container's
/// full id — resolved as a read of it would be, so scope and role apply.
pub async fn target(ctx: &Ctx<'_>, uri: &str) -> Result<Option<String>, Error> {
    let (s, c) = (&ctx.app.service, ctx.caller);
    let (op, id) = match parse(uri) {
        None => return Err(Error::ContainerNotFound(uri.to_string())),
        Some(Uri::List) => return s.permit(c, ops::LIST_CONTAINERS.op).map(|()| None),
        Some(Uri::Container(id)) => (ops::INSPECT.op, id),
        Some(Uri::Logs(id)) => (ops::LOGS.op, id),
    };
    Ok(Some(s.follow_target(c, op, id).await?.id))
}

async fn subscribe(ctx: &Ctx<'_>, listener: &Arc<Listener>, uri: &str) -> Result<Value, RpcError> {
    if fleet::host_uri(uri).is_some() {
        return Err(RpcError::new(
            INVALID_PARAMS,
            "A host's resources (docker://hosts/…) are read, not subscribed to: read them again, or subscribe through that host's own agent",
        ));
    }
    let target = target(ctx, uri)
        .await
        .map_err(|e| failed(ctx.era, uri, e))?;
    if !listener.subscribe(uri, target) {
        return Err(RpcError::new(
            INVALID_PARAMS,
            format!(
                "A session may hold at most {} subscriptions: unsubscribe from one first",
                super::changes::MAX_URIS
            ),
        ));
    }
    super::state(ctx.app).changes.register(ctx.app, listener);
    Ok(json!({}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_name_the_list_a_container_or_its_logs() {
        assert_eq!(parse("docker://containers"), Some(Uri::List));
        assert_eq!(
            parse("docker://containers/web"),
            Some(Uri::Container("web"))
        );
        assert_eq!(
            parse("docker://containers/ab12/logs"),
            Some(Uri::Logs("ab12"))
        );
        for bad in [
            "docker://containers/",
            "docker://containersx",
            "docker://containers/a/b",
            "docker://containers/../images",
            "docker://containers/web/logs/x",
            "docker://containers//logs",
            "file:///etc/passwd",
            "docker://images",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn not_found_is_coded_as_the_era_requires() {
        let modern = not_found(Era::Modern, "docker://containers/x");
        assert_eq!(modern.code, -32602);
        assert_eq!(modern.data.unwrap()["uri"], "docker://containers/x");
        assert_eq!(not_found(Era::Handshake("2025-11-25"), "u").code, -32002);
        let e = failed(Era::Modern, "u", Error::ContainerNotFound("x".into()));
        assert_eq!(e.code, -32602);
        assert_eq!(
            failed(Era::Modern, "u", Error::DockerUnavailable).code,
            INTERNAL_ERROR
        );
    }

    #[test]
    fn templates_are_valid_json() {
        let fleet: Vec<Value> = serde_json::from_str(FLEET_TEMPLATES).unwrap();
        assert_eq!(fleet.len(), 5);
        assert!(fleet[2..].iter().all(|t| {
            let uri = t["uriTemplate"].as_str().unwrap().replace("{host}", "two");
            let (host, inner) = fleet::host_uri(&uri).unwrap();
            host == "two" && parse(&inner.replace("{id}", "web")).is_some()
        }));
        let t: Vec<Value> = serde_json::from_str(TEMPLATES).unwrap();
        assert_eq!(t.len(), 2);
        assert!(
            t.iter().all(
                |t| parse(&t["uriTemplate"].as_str().unwrap().replace("{id}", "web")).is_some()
            )
        );
    }
}
