//! The ten Docker tools, with the original's names, arguments, defaults and
//! required lists, plus `title`, `annotations`, `outputSchema` and
//! `structuredContent`. Every tool calls the same service method as the
//! matching REST route.
//!
//! A tool that fails — unknown container, a missing or wrongly typed
//! argument, a Docker error, a rate limit — answers with `isError: true`
//! and a message a model can act on. Only protocol problems (unknown tool,
//! `arguments` not an object) are JSON-RPC errors.
//!
//! A result is sent once where the protocol version allows it. Before
//! 2025-06-18 there is no `structuredContent` (nor `outputSchema`): the text
//! content alone carries the result, in the original's shape (lists as bare
//! arrays, logs as a JSON string) as compact JSON. From 2025-06-18,
//! `structuredContent` (an object matching `outputSchema`) comes with that
//! text as the backwards-compatible copy the specification asks for.
//!
//! Every result fits the room its answer leaves ([`call`]): logs are cut to
//! fit (flagged `truncated`), and any other result too large to send is
//! replaced by a tool error saying so.

use super::confirm::Ask;
use super::exchange::Progress;
use super::jsonrpc::{INVALID_PARAMS, RpcError};
use super::protocol::{Ctx, Era};
use crate::error::Error;
use crate::http::body::{encoded_len, escaped_len};
use crate::limit::Class;
use crate::models::ContainerLogs;
use crate::policy::Op;
use crate::service::logs::LogLimit;
use serde::Serialize;
use serde_json::{Map, Value, json};

fn object(properties: Value, required: &[&str]) -> Value {
    json!({"type": "object", "properties": properties, "required": required})
}

fn container_id_arg() -> Value {
    json!({"type": "string", "description": "Container ID or name"})
}

fn annotations(read_only: bool, destructive: bool, idempotent: bool) -> Value {
    json!({"readOnlyHint": read_only, "destructiveHint": destructive, "idempotentHint": idempotent, "openWorldHint": false})
}

fn nullable(t: &str) -> Value {
    json!({"type": [t, "null"]})
}

fn action_output() -> Value {
    object(
        json!({"container_id": {"type": "string"}, "status": {"type": "string"}, "message": {"type": "string"}}),
        &["container_id", "status", "message"],
    )
}

fn health_output() -> Value {
    let mut props = json!({"status": {"type": "string", "enum": ["ok", "degraded"]}, "docker_connected": {"type": "boolean"}});
    for s in ["docker_version", "api_version", "os", "arch", "error"] {
        props[s] = nullable("string");
    }
    for i in [
        "containers_running",
        "containers_total",
        "images_total",
        "memory_total",
        "cpus",
    ] {
        props[i] = nullable("integer");
    }
    object(props, &["status", "docker_connected"])
}

fn containers_output() -> Value {
    let summary = object(
        json!({
            "id": {"type": "string"}, "name": {"type": "string"}, "image": {"type": "string"},
            "status": {"type": "string"}, "state": {"type": "string"}, "created": {"type": "integer"},
            "ports": {"type": "array", "items": {"type": "object"}}
        }),
        &["id", "name", "image", "status", "state", "created"],
    );
    object(
        json!({"containers": {"type": "array", "items": summary}, "total": {"type": "integer"}}),
        &["containers", "total"],
    )
}

fn detail_output() -> Value {
    let mut props = json!({"created": {"type": "integer"}, "state": {"type": "object"}, "config": {"type": "object"},
        "host_config": {"type": "object"}, "mounts": {"type": "array"}, "networks": {"type": "object"}, "ports": {"type": "array"}});
    for s in ["id", "short_id", "name", "image", "image_id", "status"] {
        props[s] = json!({"type": "string"});
    }
    object(
        props,
        &[
            "id",
            "short_id",
            "name",
            "image",
            "image_id",
            "created",
            "status",
            "state",
            "config",
            "host_config",
            "mounts",
            "networks",
            "ports",
        ],
    )
}

fn stats_output() -> Value {
    let mut props = json!({"container_id": {"type": "string"}, "cpu_percent": {"type": "number"}, "memory_percent": {"type": "number"}});
    for i in [
        "memory_usage",
        "memory_limit",
        "network_rx",
        "network_tx",
        "block_read",
        "block_write",
    ] {
        props[i] = json!({"type": "integer"});
    }
    object(
        props,
        &[
            "container_id",
            "cpu_percent",
            "memory_usage",
            "memory_limit",
            "memory_percent",
        ],
    )
}

fn images_output() -> Value {
    let image = object(
        json!({"id": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}}, "size": {"type": "integer"}, "created": {"type": "integer"}}),
        &["id"],
    );
    object(
        json!({"images": {"type": "array", "items": image}, "total": {"type": "integer"}}),
        &["images", "total"],
    )
}

/// The tool list, in a stable order (the original's).
pub fn definitions() -> Vec<Value> {
    let one_container = || {
        object(
            json!({"container_id": container_id_arg()}),
            &["container_id"],
        )
    };
    let read = || annotations(true, false, true);
    let tool = |name: &str,
                title: &str,
                description: &str,
                input: Value,
                output: Value,
                hints: Value| {
        json!({"name": name, "title": title, "description": description, "inputSchema": input, "outputSchema": output, "annotations": hints})
    };
    vec![
        tool(
            "docker_health",
            "Docker health",
            "Get Docker daemon health status and system information including container counts, memory, and CPU info",
            object(json!({}), &[]),
            health_output(),
            read(),
        ),
        tool(
            "docker_version",
            "Docker version",
            "Get Docker version information",
            object(json!({}), &[]),
            object(
                json!({"api_version": {"type": "string"}, "docker_version": {"type": "string"}, "os": {"type": "string"}, "arch": {"type": "string"}}),
                &["api_version", "docker_version", "os", "arch"],
            ),
            read(),
        ),
        tool(
            "list_containers",
            "List containers",
            "List all Docker containers with their status, image, and port information",
            object(
                json!({"all": {"type": "boolean", "description": "Include stopped containers (default: true)", "default": true}}),
                &[],
            ),
            containers_output(),
            read(),
        ),
        tool(
            "get_container",
            "Container details",
            "Get detailed information about a specific container including config, state, mounts, and networks",
            one_container(),
            detail_output(),
            read(),
        ),
        tool(
            "get_container_logs",
            "Container logs",
            "Get logs from a specific container",
            object(
                json!({"container_id": container_id_arg(), "tail": {"type": "integer", "description": "Number of lines to return from the end (default: 100)", "default": 100, "minimum": 1, "maximum": 10000}}),
                &["container_id"],
            ),
            object(
                json!({"container_id": {"type": "string"}, "logs": {"type": "string"}, "tail": {"type": "integer"}, "truncated": {"type": "boolean", "description": "Older lines were left out to fit the answer's size limit"}}),
                &["container_id", "logs", "tail"],
            ),
            read(),
        ),
        tool(
            "get_container_stats",
            "Container stats",
            "Get resource usage statistics (CPU, memory, network, block I/O) for a container",
            one_container(),
            stats_output(),
            read(),
        ),
        tool(
            "list_images",
            "List images",
            "List all Docker images with their tags and sizes",
            object(json!({}), &[]),
            images_output(),
            read(),
        ),
        tool(
            "start_container",
            "Start container",
            "Start a stopped container",
            one_container(),
            action_output(),
            annotations(false, false, true),
        ),
        tool(
            "stop_container",
            "Stop container",
            "Stop a running container",
            one_container(),
            action_output(),
            annotations(false, true, true),
        ),
        tool(
            "restart_container",
            "Restart container",
            "Restart a container",
            object(
                json!({"container_id": container_id_arg(), "timeout": {"type": "integer", "description": "Timeout in seconds before killing the container (default: 10)", "default": 10, "minimum": 0, "maximum": 300}}),
                &["container_id"],
            ),
            action_output(),
            annotations(false, true, false),
        ),
    ]
}

/// The operation a tool performs, for the policy.
fn op_of(name: &str) -> Op {
    match name {
        "docker_health" => Op::Health,
        "docker_version" => Op::Version,
        "list_containers" => Op::ListContainers,
        "get_container" => Op::Inspect,
        "get_container_logs" => Op::Logs,
        "get_container_stats" => Op::Stats,
        "list_images" => Op::ListImages,
        "start_container" => Op::Start,
        "stop_container" => Op::Stop,
        _ => Op::Restart,
    }
}

/// `tools/list` for `era`, with only the tools whose operation `may`
/// allows (a read-only mode or a `read` role hides the container actions);
/// no `outputSchema` where results carry no `structuredContent` (a client
/// validating one would expect the other).
pub fn list(era: Era, may: &dyn Fn(Op) -> bool) -> Vec<Value> {
    let mut tools = definitions();
    tools.retain(|t| t["name"].as_str().is_some_and(|n| may(op_of(n))));
    if !era.has_structured_content() {
        for tool in tools.iter_mut().filter_map(Value::as_object_mut) {
            tool.remove("outputSchema");
        }
    }
    tools
}

/// A tool's result object, or the message of a tool error.
type Outcome = Result<Value, String>;

/// A successful result in `era` (see the module doc): text showing `shown`
/// (the whole result, or the part the original printed) and, from
/// 2025-06-18, `whole` as `structuredContent`. Text is serialised from the
/// typed value, so fields keep their documented order.
fn present<T: Serialize, S: Serialize + ?Sized>(era: Era, whole: &T, shown: &S) -> Outcome {
    let text = serde_json::to_string(shown).map_err(|e| e.to_string())?;
    let mut result = json!({"content": [{"type": "text", "text": text}], "isError": false});
    if era.has_structured_content() {
        result["structuredContent"] = serde_json::to_value(whole).map_err(|e| e.to_string())?;
    }
    Ok(result)
}

fn outcome<T: Serialize>(era: Era, r: Result<T, Error>) -> Outcome {
    let value = r.map_err(|e| explain(&e))?;
    present(era, &value, &value)
}

pub(super) fn failure(message: &str) -> Value {
    json!({"content": [{"type": "text", "text": message}], "isError": true})
}

/// Told in a second text block when lines were left out, for models (and
/// clients before 2025-06-18) that do not see the `truncated` flag.
const TRUNCATED_NOTE: &str = "Older log lines were left out to fit the size limit of this answer.";

/// A logs result: the original's text, the structured object, and a note
/// when lines were left out.
fn present_logs(era: Era, logs: &ContainerLogs) -> Outcome {
    let mut result = present(era, logs, &logs.logs)?;
    if let (true, Some(content)) = (logs.truncated, result["content"].as_array_mut()) {
        content.push(json!({"type": "text", "text": TRUNCATED_NOTE}));
    }
    Ok(result)
}

/// What the log text of a logs result may take so that the result fits in
/// `room` bytes: what the rest of the result leaves (note included),
/// counting each character where it appears — escaped once in
/// `structuredContent`, and twice in the text, a JSON string held in a
/// JSON string.
fn log_limit(era: Era, id: &str, tail: u32, room: usize) -> LogLimit {
    let empty = ContainerLogs {
        container_id: id.to_string(),
        logs: String::new(),
        tail,
        truncated: true,
    };
    let rest = present_logs(era, &empty).map_or(room, |r| encoded_len(&r));
    let cost: fn(char) -> usize = if era.has_structured_content() {
        |c| escaped_len(c, 1) + escaped_len(c, 2)
    } else {
        |c| escaped_len(c, 2)
    };
    LogLimit {
        bytes: room.saturating_sub(rest),
        cost,
    }
}

/// The service error as a message with a next step for the model.
pub(super) fn explain(e: &Error) -> String {
    let hint = match e {
        Error::ContainerNotFound(_) => " Call list_containers to see the containers on this host.",
        Error::AmbiguousContainer(_) => " Use a longer id prefix or the container name.",
        Error::DockerUnavailable | Error::DockerTimeout => {
            " The Docker daemon is not answering; try again later."
        }
        _ => "",
    };
    let message = e.message();
    let stop = if message.ends_with('.') { "" } else { "." };
    format!("{message}{stop}{hint}")
}

/// Reads the call's arguments; a bad argument is a tool error (isError).
struct Args<'a>(&'a Map<String, Value>);

impl Args<'_> {
    fn container_id(&self) -> Result<String, String> {
        match self.0.get("container_id") {
            Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
            None | Some(Value::Null) => Err("Missing required argument 'container_id' (string): a container id, id prefix or name.".into()),
            Some(other) => Err(format!("Argument 'container_id' must be a non-empty string, not {other}.")),
        }
    }

    fn int(&self, name: &str, default: i64, min: i64, max: i64) -> Result<i64, String> {
        let value = match self.0.get(name) {
            None | Some(Value::Null) => return Ok(default),
            Some(v) => v
                .as_i64()
                .or_else(|| v.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
        };
        value.filter(|n| (min..=max).contains(n)).ok_or_else(|| {
            format!(
                "Argument '{name}' must be an integer from {min} to {max}, not {}.",
                self.0[name]
            )
        })
    }

    fn bool(&self, name: &str, default: bool) -> Result<bool, String> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(other) => Err(format!(
                "Argument '{name}' must be true or false, not {other}."
            )),
        }
    }
}

/// `tools/call`: runs the named tool; its result takes at most `room` bytes.
pub async fn call(ctx: &Ctx<'_>, params: &Value, room: usize) -> Result<Value, RpcError> {
    let name = params
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| RpcError::new(INVALID_PARAMS, "tools/call needs params.name (a string)"))?;
    let empty = Map::new();
    let args = match params.get("arguments") {
        None | Some(Value::Null) => &empty,
        Some(Value::Object(m)) => m,
        Some(_) => {
            return Err(RpcError::new(
                INVALID_PARAMS,
                "params.arguments must be an object",
            ));
        }
    };
    let Some(tool) = definitions().into_iter().find(|t| t["name"] == name) else {
        return Err(RpcError::new(
            INVALID_PARAMS,
            format!("Unknown tool: {name}"),
        ));
    };
    log::debug!(tool = name; "mcp tool call");
    let caller = match confirmed(ctx, &tool, args, params).await {
        Ok(caller) => caller,
        Err(answer) => return Ok(answer),
    };
    let ctx = Ctx {
        caller: &caller,
        link: ctx.link.clone(),
        ..*ctx
    };
    let progress = Progress::new(&ctx.link.out, params);
    let result = run(&ctx, name, &Args(args), room, &progress)
        .await
        .unwrap_or_else(|message| failure(&message));
    let size = encoded_len(&result);
    if size <= room {
        return Ok(result);
    }
    Ok(failure(&format!(
        "The result of {name} is too large to send: {size} bytes, and this answer has room for {room}. \
         Ask for less, or call it on its own rather than in a batch."
    )))
}

/// The caller `tool` runs as: `ctx`'s, once a person said yes where
/// `MCP_CONFIRM` asks for it ([`super::confirm`]); else the answer to send
/// instead.
async fn confirmed(
    ctx: &Ctx<'_>,
    tool: &Value,
    args: &Map<String, Value>,
    params: &Value,
) -> Result<crate::policy::Caller, Value> {
    let name = tool["name"].as_str().unwrap_or_default();
    let op = op_of(name);
    if !ctx.app.config.mcp.confirm.covers(name, op) {
        return Ok(ctx.caller.clone());
    }
    let title = tool["title"].as_str().unwrap_or(name);
    let ask = Ask {
        ctx,
        tool: name,
        title,
        op,
        args,
        params,
    };
    ask.confirm().await
}

/// Container actions draw from the action limit, everything else from the
/// read limit, as the same operations do over REST.
fn charge(ctx: &Ctx<'_>, name: &str) -> Result<(), String> {
    let class = if op_of(name).mutates() {
        Class::Action
    } else {
        Class::Read
    };
    ctx.app
        .limiter
        .check_class(ctx.client, class)
        .map_err(|limited| {
            let what = if class == Class::Action {
                "container actions"
            } else {
                "requests"
            };
            format!(
                "Too many {what}: retry after {} seconds.",
                limited.retry_after_secs()
            )
        })
}

async fn run(
    ctx: &Ctx<'_>,
    name: &str,
    args: &Args<'_>,
    room: usize,
    progress: &Progress,
) -> Outcome {
    charge(ctx, name)?;
    let (s, era, c) = (&ctx.app.service, ctx.era, ctx.caller);
    match name {
        "docker_health" => outcome(era, s.enhanced_health(c).await),
        "docker_version" => outcome(era, s.version(c).await),
        "list_containers" => {
            let list = s
                .list_containers(c, args.bool("all", true)?)
                .await
                .map_err(|e| explain(&e))?;
            present(era, &list, &list.containers)
        }
        "get_container" => outcome(era, s.container(c, &args.container_id()?).await),
        "get_container_logs" => {
            let id = args.container_id()?;
            let tail = args.int("tail", 100, 1, 10_000)? as u32;
            let limit = log_limit(era, &id, tail, room);
            let (logs, _turn) = s.logs(c, &id, tail, limit).await.map_err(|e| explain(&e))?;
            present_logs(era, &logs)
        }
        "get_container_stats" => outcome(era, s.stats(c, &args.container_id()?).await),
        "list_images" => {
            let list = s.list_images(c).await.map_err(|e| explain(&e))?;
            present(era, &list, &list.images)
        }
        action => {
            let id = args.container_id()?;
            let timeout = args.int("timeout", 10, 0, 300)?;
            progress.report(0.0, Some(1.0), Some(&format!("{action}: asked Docker")));
            outcome(
                era,
                match action {
                    "start_container" => s.start(c, &id).await,
                    "stop_container" => s.stop(c, &id).await,
                    _ => s.restart(c, &id, timeout as u32).await,
                },
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tools_keep_the_original_names_and_order() {
        let names: Vec<String> = definitions()
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(
            names,
            [
                "docker_health",
                "docker_version",
                "list_containers",
                "get_container",
                "get_container_logs",
                "get_container_stats",
                "list_images",
                "start_container",
                "stop_container",
                "restart_container"
            ]
        );
    }

    #[test]
    fn every_tool_is_fully_described() {
        for t in definitions() {
            for key in [
                "title",
                "description",
                "inputSchema",
                "outputSchema",
                "annotations",
            ] {
                assert!(!t[key].is_null(), "{} lacks {key}", t["name"]);
            }
            assert_eq!(t["inputSchema"]["type"], "object");
            assert_eq!(t["outputSchema"]["type"], "object");
        }
        let by_name = |n: &str| definitions().into_iter().find(|t| t["name"] == n).unwrap();
        assert_eq!(
            by_name("get_container_logs")["inputSchema"]["properties"]["tail"]["default"],
            100
        );
        assert_eq!(
            by_name("restart_container")["inputSchema"]["required"],
            json!(["container_id"])
        );
        assert_eq!(
            by_name("list_containers")["annotations"]["readOnlyHint"],
            true
        );
        assert_eq!(
            by_name("stop_container")["annotations"]["destructiveHint"],
            true
        );
        assert_eq!(
            by_name("restart_container")["annotations"]["idempotentHint"],
            false
        );
    }

    #[test]
    fn arguments_are_checked_with_actionable_messages() {
        let m = json!({"container_id": 5, "tail": "ten", "all": "yes", "timeout": 400})
            .as_object()
            .unwrap()
            .clone();
        let a = Args(&m);
        assert!(
            a.container_id()
                .unwrap_err()
                .contains("must be a non-empty string")
        );
        assert!(
            a.int("tail", 100, 1, 10_000)
                .unwrap_err()
                .contains("integer from 1 to 10000")
        );
        assert!(a.bool("all", true).unwrap_err().contains("true or false"));
        assert!(a.int("timeout", 10, 0, 300).is_err());
        let empty = Map::new();
        let e = Args(&empty);
        assert!(
            e.container_id()
                .unwrap_err()
                .contains("Missing required argument 'container_id'")
        );
        assert_eq!(e.int("tail", 100, 1, 10_000), Ok(100));
        let float = json!({"tail": 5.0}).as_object().unwrap().clone();
        assert_eq!(Args(&float).int("tail", 100, 1, 10_000), Ok(5));
    }

    const OLD: Era = Era::Handshake("2025-03-26");
    const NEW: Era = Era::Handshake("2025-06-18");

    #[test]
    fn output_schemas_are_listed_only_where_structured_content_exists() {
        let all = |_| true;
        assert!(
            list(OLD, &all)
                .iter()
                .all(|t| t.get("outputSchema").is_none())
        );
        assert!(
            list(NEW, &all)
                .iter()
                .all(|t| t["outputSchema"].is_object())
        );
        assert_eq!(list(OLD, &all).len(), definitions().len());
    }

    #[test]
    fn only_the_tools_the_policy_allows_are_listed() {
        let reads = |op: Op| !op.mutates();
        let names: Vec<Value> = list(NEW, &reads)
            .iter()
            .map(|t| t["name"].clone())
            .collect();
        assert_eq!(names.len(), 7);
        for action in ["start_container", "stop_container", "restart_container"] {
            assert!(!names.contains(&json!(action)), "{action}");
            assert!(op_of(action).mutates(), "{action}");
        }
        for t in definitions() {
            let name = t["name"].as_str().unwrap();
            assert_eq!(
                op_of(name).mutates(),
                t["annotations"]["readOnlyHint"] == false,
                "{name}: the operation and the read-only hint agree"
            );
        }
    }

    #[test]
    fn a_result_is_sent_once_before_2025_06_18_and_compact_after() {
        let version = json!({"api_version": "1.47", "docker_version": "28.2.2"});
        let old = present(OLD, &version, &version).unwrap();
        assert!(old.get("structuredContent").is_none());
        assert_eq!(old["content"][0]["text"], version.to_string());
        let new = present(NEW, &version, &version).unwrap();
        assert_eq!(new["structuredContent"], version);
        assert_eq!(
            new["content"][0]["text"],
            version.to_string(),
            "compact JSON"
        );
        assert_eq!(new["isError"], false);
    }

    #[test]
    fn the_log_limit_counts_every_byte_of_a_logs_result() {
        let text = "plain\n\u{1}\u{1b}[0m \"q\" \\ \t🐳 é\r\n";
        for era in [OLD, NEW] {
            let room = 10_000;
            let limit = log_limit(era, "web", 10, room);
            let cost: usize = text.chars().map(limit.cost).sum();
            for truncated in [true, false] {
                let logs = ContainerLogs {
                    container_id: "web".into(),
                    logs: text.into(),
                    tail: 10,
                    truncated,
                };
                let size = encoded_len(&present_logs(era, &logs).unwrap());
                assert!(size <= room - limit.bytes + cost, "{era:?}");
                if truncated {
                    assert_eq!(size, room - limit.bytes + cost, "{era:?}: exact");
                }
            }
        }
    }

    #[test]
    fn service_errors_come_with_a_next_step() {
        assert!(explain(&Error::ContainerNotFound("web".into())).contains("list_containers"));
        assert!(explain(&Error::DockerUnavailable).contains("try again"));
    }
}
