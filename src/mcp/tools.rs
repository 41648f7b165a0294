//! The ten Docker tools, with the original's names, arguments, defaults and
//! required lists, plus `title`, `annotations`, `outputSchema` and
//! `structuredContent`; then `pull_image`, `create_container`,
//! `remove_container` and `remove_image`, whose arguments are the REST
//! body's and query's; then pause, unpause and kill, and the volume and
//! network lists ([`MORE_TOOLS`]); then `exec_in_container` (listed only
//! where the policy allows exec: `EXEC_ENABLED`, `admin`). Every tool calls
//! the same service method as the matching REST route. `get_container`
//! shows environment values as `<redacted>` unless `MCP_REDACT_ENV=false`.
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
//! Every result fits the room its answer leaves ([`call`]): logs and a
//! command's output are cut to fit (flagged `truncated`), and any other result too large to send is
//! replaced by a tool error saying so.

use super::confirm::Ask;
use super::exchange::Progress;
use super::jsonrpc::{INVALID_PARAMS, RpcError};
use super::protocol::{Ctx, Era};
use crate::error::Error;
use crate::http::body::{encoded_len, escaped_len};
use crate::http::query::unix_time;
use crate::limit::Class;
use crate::models::{ContainerDetail, ContainerLogs, ExecResult};
use crate::policy::Op;
use crate::service::STOP_TIMEOUT;
use crate::service::exec::request::ExecRequest;
use crate::service::filters::{ContainerFilters, STATUSES};
use crate::service::kill;
use crate::service::logs::{LogLimit, LogRead, MAX_LOG_BYTES};
use crate::service::pull::{PullRequest, Step};

/// `max_bytes` of `get_container_logs`: its default, and its maximum (the
/// REST answer's cap; the room left in the answer may cut sooner).
const DEFAULT_LOG_BYTES: i64 = 64 << 10;
const MAX_TOOL_LOG_BYTES: i64 = MAX_LOG_BYTES as i64;
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

/// `pull_image`, whole (its schemas are the REST body's and summary's).
const PULL_IMAGE: &str = r#"{"name": "pull_image", "title": "Pull image",
"description": "Pull an image from its registry (Docker Hub unless the image names another) and report how it went. Give the tag in image or tag (default latest), and auth for a private registry.",
"inputSchema": {"type": "object", "required": ["image"], "additionalProperties": false, "properties": {
  "image": {"type": "string", "description": "Image reference: alpine, alpine:3.20, ghcr.io/acme/app@sha256:..."},
  "tag": {"type": "string", "description": "Tag, when image has none (default: latest)"},
  "auth": {"type": "object", "description": "Registry credentials: username and password, or identitytoken", "additionalProperties": false, "properties": {
    "username": {"type": "string"}, "password": {"type": "string"}, "identitytoken": {"type": "string"}, "serveraddress": {"type": "string"}}}}},
"outputSchema": {"type": "object", "required": ["image", "status"], "properties": {
  "image": {"type": "string"}, "id": {"type": ["string", "null"]}, "digest": {"type": ["string", "null"]},
  "status": {"type": "string", "enum": ["pulled", "up to date"]}, "error": {"type": "null"}}},
"annotations": {"readOnlyHint": false, "destructiveHint": false, "idempotentHint": true, "openWorldHint": true}}"#;
/// `create_container`'s arguments: the REST create body, field for field.
const CREATE_INPUT: &str = r#"{"type":"object","required":["image"],"additionalProperties":false,"properties":{
"image":{"type":"string","description":"Image reference; it must be on the host already (never pulled implicitly)"},
"name":{"type":"string","description":"Container name"},
"cmd":{"type":"array","items":{"type":"string"},"description":"Command (the image's default when absent)"},
"entrypoint":{"type":"array","items":{"type":"string"}},
"env":{"type":"object","additionalProperties":{"type":"string"},"description":"Environment, NAME: value"},
"labels":{"type":"object","additionalProperties":{"type":"string"}},
"ports":{"type":"array","items":{"type":"string"},"description":"As docker run -p: 8080, 18080:8080, 127.0.0.1:18080:8080/udp"},
"restart_policy":{"type":"string","description":"no, always, unless-stopped, on-failure or on-failure:N"},
"memory_limit":{"type":["integer","string"],"description":"Bytes, or a string such as 256m or 1g"},
"cpu_shares":{"type":"integer","minimum":0,"maximum":262144},
"start":{"type":"boolean","default":false,"description":"Start it once created (docker run); default false (docker create)"},
"privileged":{"type":"boolean","description":"Refused unless the operator set ALLOW_HOST_ACCESS"},
"network_mode":{"type":"string","description":"bridge, none or a network name; host and container:<name> need ALLOW_HOST_ACCESS"},
"pid_mode":{"type":"string"},"ipc_mode":{"type":"string"},"uts_mode":{"type":"string"},
"binds":{"type":"array","items":{"type":"string"},"description":"As docker run -v: source:/destination[:ro]; host paths only under ALLOW_BIND_MOUNTS_FROM"},
"devices":{"type":"array","items":{"type":"string"}},"cap_add":{"type":"array","items":{"type":"string"}},
"security_opt":{"type":"array","items":{"type":"string"},"description":"no-new-privileges; others need ALLOW_HOST_ACCESS"}}}"#;

const REMOVE_CONTAINER_INPUT: &str = r#"{"type":"object","required":["container_id"],"properties":{
"container_id":{"type":"string","description":"Container ID or name"},
"force":{"type":"boolean","default":false,"description":"Kill and remove a running container"},
"volumes":{"type":"boolean","default":false,"description":"Also remove its anonymous volumes"}}}"#;

const REMOVE_IMAGE_INPUT: &str = r#"{"type":"object","required":["image"],"properties":{
"image":{"type":"string","description":"Image reference or id"},
"force":{"type":"boolean","default":false,"description":"Also remove it from under stopped containers, or untag an image with several tags"}}}"#;

const REMOVE_IMAGE_OUTPUT: &str = r#"{"type":"object","required":["image","status","message","untagged","deleted"],"properties":{
"image":{"type":"string"},"status":{"type":"string"},"message":{"type":"string"},
"untagged":{"type":"array","items":{"type":"string"}},"deleted":{"type":"array","items":{"type":"string"}}}}"#;

/// A schema written as JSON text (checked by the tests).
fn schema(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_default()
}

/// The tool list, in a stable order (the original's, then the tools added since).
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
    let mut tools = vec![
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
                json!({"all": {"type": "boolean", "description": "Include stopped containers (default: true)", "default": true},
                    "label": {"type": ["string", "array"], "items": {"type": "string"}, "description": "Only containers with these labels (key or key=value)"},
                    "name": {"type": "string", "description": "Only containers whose name contains this"},
                    "status": {"type": ["string", "array"], "items": {"type": "string", "enum": STATUSES}, "description": "Only containers in these states"}}),
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
                json!({"container_id": container_id_arg(), "tail": {"type": "integer", "description": "Number of lines to return from the end (default: 100)", "default": 100, "minimum": 1, "maximum": 10000},
                    "since": {"type": ["string", "integer"], "description": "Only lines from this time on: Unix seconds or RFC 3339"},
                    "until": {"type": ["string", "integer"], "description": "Only lines before this time: Unix seconds or RFC 3339"},
                    "contains": {"type": "string", "description": "Only the lines (among the tail) containing this text, case-sensitive"},
                    "max_bytes": {"type": "integer", "description": "Most bytes of log text returned, the newest kept (default: 65536)", "default": DEFAULT_LOG_BYTES, "minimum": 1, "maximum": MAX_TOOL_LOG_BYTES}}),
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
            object(
                json!({"container_id": container_id_arg(), "timeout": {"type": "integer", "description": "Seconds to wait before killing the container (default: 10)", "default": 10, "minimum": 0, "maximum": 300}}),
                &["container_id"],
            ),
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
        serde_json::from_str(PULL_IMAGE).unwrap_or_default(),
        tool(
            "create_container",
            "Create container",
            "Create a container from an image on the host, optionally starting it",
            schema(CREATE_INPUT),
            detail_output(),
            annotations(false, false, false),
        ),
        tool(
            "remove_container",
            "Remove container",
            "Remove a container (force to remove a running one)",
            schema(REMOVE_CONTAINER_INPUT),
            action_output(),
            annotations(false, true, true),
        ),
        tool(
            "remove_image",
            "Remove image",
            "Remove an image from the host (refused while a container uses it)",
            schema(REMOVE_IMAGE_INPUT),
            schema(REMOVE_IMAGE_OUTPUT),
            annotations(false, true, true),
        ),
    ];
    let mut more: Vec<Value> = serde_json::from_str(MORE_TOOLS).unwrap_or_default();
    for t in &mut more {
        if t["outputSchema"].is_null() {
            t["outputSchema"] = action_output();
        }
        t["annotations"]["openWorldHint"] = false.into();
    }
    tools.extend(more);
    tools.push(tool(
        "exec_in_container",
        "Run a command in a container",
        "Run a command in a running container and return its exit code and output (at most 1 MiB per stream). The command is an argv array run as is, without a shell; it is killed at its timeout.",
        serde_json::from_str(EXEC_INPUT).unwrap_or_default(),
        serde_json::from_str(EXEC_OUTPUT).unwrap_or_default(),
        annotations(false, true, false),
    ));
    tools
}

/// Pause, unpause, kill and the volume and network lists, as JSON text
/// (the actions' `outputSchema` is [`action_output`]).
const MORE_TOOLS: &str = r#"[
{"name": "pause_container", "title": "Pause container", "description": "Pause (freeze) all processes of a running container",
 "inputSchema": {"type": "object", "properties": {"container_id": {"type": "string", "description": "Container ID or name"}}, "required": ["container_id"]},
 "annotations": {"readOnlyHint": false, "destructiveHint": false, "idempotentHint": false}},
{"name": "unpause_container", "title": "Unpause container", "description": "Resume the processes of a paused container",
 "inputSchema": {"type": "object", "properties": {"container_id": {"type": "string", "description": "Container ID or name"}}, "required": ["container_id"]},
 "annotations": {"readOnlyHint": false, "destructiveHint": false, "idempotentHint": false}},
{"name": "kill_container", "title": "Kill container", "description": "Send a signal to a running container's main process (default SIGKILL, which stops it at once)",
 "inputSchema": {"type": "object", "properties": {"container_id": {"type": "string", "description": "Container ID or name"},
   "signal": {"type": ["string", "integer"], "description": "Signal name (SIGKILL, KILL, SIGHUP...) or number 1-64 (default: SIGKILL)", "default": "SIGKILL"}}, "required": ["container_id"]},
 "annotations": {"readOnlyHint": false, "destructiveHint": true, "idempotentHint": false}},
{"name": "list_volumes", "title": "List volumes", "description": "List Docker volumes with their driver, mountpoint, scope, creation time and labels",
 "inputSchema": {"type": "object", "properties": {}, "required": []},
 "outputSchema": {"type": "object", "required": ["volumes", "total"], "properties": {"total": {"type": "integer"}, "volumes": {"type": "array", "items": {"type": "object",
   "required": ["name", "driver", "mountpoint", "scope", "created", "labels"], "properties": {"name": {"type": "string"}, "driver": {"type": "string"},
   "mountpoint": {"type": "string"}, "scope": {"type": "string"}, "created": {"type": "integer"}, "labels": {"type": "object"}}}}}},
 "annotations": {"readOnlyHint": true, "destructiveHint": false, "idempotentHint": true}},
{"name": "list_networks", "title": "List networks", "description": "List Docker networks with their short id, driver, scope, creation time and labels",
 "inputSchema": {"type": "object", "properties": {}, "required": []},
 "outputSchema": {"type": "object", "required": ["networks", "total"], "properties": {"total": {"type": "integer"}, "networks": {"type": "array", "items": {"type": "object",
   "required": ["id", "name", "driver", "scope", "internal", "created", "labels"], "properties": {"id": {"type": "string"}, "name": {"type": "string"},
   "driver": {"type": "string"}, "scope": {"type": "string"}, "internal": {"type": "boolean"}, "created": {"type": "integer"}, "labels": {"type": "object"}}}}}},
 "annotations": {"readOnlyHint": true, "destructiveHint": false, "idempotentHint": true}}
]"#;

const EXEC_INPUT: &str = r#"{"type": "object", "required": ["container_id", "cmd"], "properties": {
"container_id": {"type": "string", "description": "Container ID or name"},
"cmd": {"type": "array", "items": {"type": "string"}, "minItems": 1, "description": "The command and its arguments, e.g. [\"ls\", \"-l\", \"/\"]"},
"env": {"type": "object", "additionalProperties": {"type": "string"}, "description": "Extra environment variables"},
"workdir": {"type": "string", "description": "Absolute working directory"},
"user": {"type": "string", "description": "User (name or uid[:gid]) to run as"},
"timeout": {"type": "integer", "description": "Seconds before the command is killed (default: 30)", "default": 30, "minimum": 1, "maximum": 600}}}"#;

const EXEC_OUTPUT: &str = r#"{"type": "object", "required": ["exit_code", "stdout", "stderr", "truncated", "timed_out"], "properties": {
"exit_code": {"type": ["integer", "null"], "description": "null when the command was killed at its timeout"},
"stdout": {"type": "string"}, "stderr": {"type": "string"},
"truncated": {"type": "boolean", "description": "Output was cut (1 MiB per stream, or to fit this answer)"},
"timed_out": {"type": "boolean"}}}"#;

/// Every tool and the operation it performs, for the policy (and, by
/// position, for its call counters in [`crate::metrics`]).
pub const TOOL_OPS: [(&str, Op); 20] = [
    ("docker_health", Op::Health),
    ("docker_version", Op::Version),
    ("list_containers", Op::ListContainers),
    ("get_container", Op::Inspect),
    ("get_container_logs", Op::Logs),
    ("get_container_stats", Op::Stats),
    ("list_images", Op::ListImages),
    ("start_container", Op::Start),
    ("stop_container", Op::Stop),
    ("restart_container", Op::Restart),
    ("pull_image", Op::Pull),
    ("create_container", Op::Create),
    ("remove_container", Op::Remove),
    ("remove_image", Op::RemoveImage),
    ("pause_container", Op::Pause),
    ("unpause_container", Op::Unpause),
    ("kill_container", Op::Kill),
    ("list_volumes", Op::ListVolumes),
    ("exec_in_container", Op::Exec),
    ("list_networks", Op::ListNetworks),
];

/// The operation a tool performs, for the policy.
fn op_of(name: &str) -> Op {
    TOOL_OPS
        .iter()
        .find(|(tool, _)| *tool == name)
        .map_or(Op::ListNetworks, |(_, op)| *op)
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
/// counting each character where it appears ([`text_cost`]).
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

/// The costs of each character of a result's text: escaped once in
/// `structuredContent`, and twice in the text, a JSON string held in a
/// JSON string.
fn text_cost(era: Era) -> fn(char) -> usize {
    if era.has_structured_content() {
        |c| escaped_len(c, 1) + escaped_len(c, 2)
    } else {
        |c| escaped_len(c, 2)
    }
}

/// A command's result cut to fit in `room`: each stream gets half the
/// room its text may take, or more when the other needs less.
fn fit_exec(era: Era, mut r: ExecResult, room: usize) -> Outcome {
    let cost = text_cost(era);
    let bare = ExecResult {
        stdout: String::new(),
        stderr: String::new(),
        truncated: false,
        ..r
    };
    let rest = outcome(era, Ok(&bare)).map_or(room, |v| encoded_len(&v));
    let free = room.saturating_sub(rest);
    let [out, err] = [&r.stdout, &r.stderr].map(|s| s.chars().map(cost).sum::<usize>());
    if out + err > free {
        let out_room = out.min(free - err.min(free / 2));
        r.stdout = clip_cost(&r.stdout, out_room, cost);
        r.stderr = clip_cost(&r.stderr, free - out_room, cost);
        r.truncated = true;
    }
    outcome(era, Ok(&r))
}

/// The longest start of `s` whose characters cost at most `budget`.
fn clip_cost(s: &str, budget: usize, cost: fn(char) -> usize) -> String {
    let mut spent = 0;
    s.chars()
        .take_while(|&c| {
            spent += cost(c);
            spent <= budget
        })
        .collect()
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

/// A container's detail as MCP shows it, in a tool's result, a resource or
/// a prompt: environment values redacted unless `MCP_REDACT_ENV=false`.
pub(super) async fn shown_container(ctx: &Ctx<'_>, id: &str) -> Result<ContainerDetail, Error> {
    let mut detail = ctx.app.service.container(ctx.caller, id).await?;
    if ctx.app.config.mcp.redact_env {
        redact(&mut detail.config.env);
    }
    Ok(detail)
}

/// Replaces each `KEY=value` by `KEY=<redacted>`, keeping the names.
fn redact(env: &mut [String]) {
    for entry in env {
        let name = entry.split('=').next().unwrap_or_default();
        *entry = format!("{name}=<redacted>");
    }
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

    /// A string, or an array of strings (each value once).
    fn strings(&self, name: &str) -> Result<Vec<String>, String> {
        let bad = || format!("Argument '{name}' must be a string or an array of strings.");
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::String(s)) => Ok(vec![s.clone()]),
            Some(Value::Array(a)) => a
                .iter()
                .map(|v| v.as_str().map(str::to_string).ok_or_else(bad))
                .collect(),
            Some(_) => Err(bad()),
        }
    }

    /// A string or a number, as text (a time, a signal); `None` when absent.
    fn text(&self, name: &str) -> Result<Option<String>, String> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(other) => Err(format!(
                "Argument '{name}' must be a string or a number, not {other}."
            )),
        }
    }

    /// A time as Docker takes it: Unix seconds or RFC 3339.
    fn time(&self, name: &str) -> Result<Option<String>, String> {
        let Some(raw) = self.text(name)? else {
            return Ok(None);
        };
        unix_time(&raw).map(Some).ok_or_else(|| {
            format!("Argument '{name}' must be Unix seconds or an RFC 3339 timestamp, not {raw:?}.")
        })
    }

    /// What `get_container_logs` reads.
    fn log_read(&self) -> Result<LogRead, String> {
        let mut read = LogRead::tail(self.int("tail", 100, 1, 10_000)? as u32);
        read.since = self.time("since")?;
        read.until = self.time("until")?;
        read.contains = match self.0.get("contains") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()).filter(|s| !s.is_empty()),
            Some(other) => {
                return Err(format!(
                    "Argument 'contains' must be a string, not {other}."
                ));
            }
        };
        read.max_bytes = self.int("max_bytes", DEFAULT_LOG_BYTES, 1, MAX_TOOL_LOG_BYTES)? as usize;
        Ok(read)
    }

    fn filters(&self) -> Result<ContainerFilters, String> {
        let (label, name, status) = (
            self.strings("label")?,
            self.strings("name")?,
            self.strings("status")?,
        );
        ContainerFilters::new(label, name, status).map_err(|e| explain(&e))
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
        Err(answer) => {
            crate::metrics::series::tool_call(name, "unconfirmed");
            return Ok(answer);
        }
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
    let failed = result["isError"] == true;
    crate::metrics::series::tool_call(name, if failed { "error" } else { "ok" });
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
            let filters = args.filters()?;
            let list = s
                .list_containers(c, args.bool("all", true)?, &filters)
                .await
                .map_err(|e| explain(&e))?;
            present(era, &list, &list.containers)
        }
        "get_container" => outcome(era, shown_container(ctx, &args.container_id()?).await),
        "get_container_logs" => {
            let id = args.container_id()?;
            let read = args.log_read()?;
            let limit = log_limit(era, &id, read.tail, room);
            let (logs, _turn) = s
                .logs(c, &id, &read, limit)
                .await
                .map_err(|e| explain(&e))?;
            present_logs(era, &logs)
        }
        "get_container_stats" => outcome(era, s.stats(c, &args.container_id()?).await),
        "list_images" => {
            let list = s.list_images(c).await.map_err(|e| explain(&e))?;
            present(era, &list, &list.images)
        }
        "pull_image" => pull_image(ctx, PullRequest::read(args.0, "arguments"), progress).await,
        "list_volumes" => outcome(era, s.list_volumes(c).await),
        "list_networks" => outcome(era, s.list_networks(c).await),
        "create_container" => outcome(era, s.create(c, args.0).await),
        "remove_container" => {
            let (id, force) = (args.container_id()?, args.bool("force", false)?);
            outcome(
                era,
                s.remove(c, &id, force, args.bool("volumes", false)?).await,
            )
        }
        "remove_image" => {
            let image = match args.0.get("image") {
                Some(Value::String(s)) if !s.is_empty() => s,
                _ => {
                    return Err(
                        "Missing required argument 'image' (string): an image reference or id."
                            .into(),
                    );
                }
            };
            outcome(
                era,
                s.remove_image(c, image, args.bool("force", false)?).await,
            )
        }
        "exec_in_container" => {
            let id = args.container_id()?;
            s.permit(c, Op::Exec).map_err(|e| explain(&e))?;
            let req = ExecRequest::read(args.0, "arguments", &["container_id"])
                .map_err(|e| explain(&e))?;
            let done = s.exec(c, &id, &req).await.map_err(|e| explain(&e))?;
            fit_exec(era, done, room)
        }
        action => {
            let id = args.container_id()?;
            let timeout = args.int("timeout", STOP_TIMEOUT.into(), 0, 300)? as u32;
            let signal = args.text("signal")?;
            let signal = kill::signal(signal.as_deref().unwrap_or(kill::DEFAULT_SIGNAL));
            progress.report(0.0, Some(1.0), Some(&format!("{action}: asked Docker")));
            outcome(
                era,
                match action {
                    "start_container" => s.start(c, &id).await,
                    "stop_container" => s.stop(c, &id, timeout).await,
                    "restart_container" => s.restart(c, &id, timeout).await,
                    "pause_container" => s.pause(c, &id).await,
                    "unpause_container" => s.unpause(c, &id).await,
                    _ => match signal {
                        Ok(signal) => s.kill(c, &id, &signal).await,
                        Err(e) => Err(e),
                    },
                },
            )
        }
    }
}

/// Runs a pull to its end; the result is its summary, a failed pull a tool
/// error. Each of Docker's progress messages goes on as an MCP progress
/// notification when the client asked for them (numbered, so the progress
/// always grows; no total, since Docker announces layers as it goes).
async fn pull_image(
    ctx: &Ctx<'_>,
    request: Result<PullRequest, Error>,
    progress: &Progress,
) -> Outcome {
    let request = request.map_err(|e| explain(&e))?;
    let mut pull = ctx
        .app
        .service
        .pull(ctx.caller, request)
        .await
        .map_err(|e| explain(&e))?;
    let mut n = 0.0;
    while let Some(step) = pull.next().await {
        match step {
            Step::Progress(p) => {
                n += 1.0;
                progress.report(n, None, Some(&progress_message(&p)));
            }
            Step::Done { summary } => {
                return match &summary.error {
                    Some(e) => Err(format!("Pulling {} failed: {e}", summary.image)),
                    None => present(ctx.era, &summary, &summary),
                };
            }
        }
    }
    Err("The pull ended without a summary.".into())
}

/// A progress message as `docker pull` prints it: `a1b2c3: Downloading 1024/2048`.
fn progress_message(p: &crate::models::PullProgress) -> String {
    let mut text = match &p.id {
        Some(id) => format!("{id}: {}", p.status),
        None => p.status.clone(),
    };
    if let Some(b) = p.progress {
        text += &format!(" {}", b.current);
        if let Some(total) = b.total {
            text += &format!("/{total}");
        }
    }
    text
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
                "restart_container",
                "pull_image",
                "create_container",
                "remove_container",
                "remove_image",
                "pause_container",
                "unpause_container",
                "kill_container",
                "list_volumes",
                "list_networks",
                "exec_in_container"
            ]
        );
    }

    #[test]
    fn the_operation_table_names_every_tool_once() {
        let mut names: Vec<String> = definitions()
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_string())
            .collect();
        let mut table: Vec<String> = TOOL_OPS.iter().map(|(n, _)| n.to_string()).collect();
        names.sort();
        table.sort();
        table.dedup();
        assert_eq!(names, table);
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
        let pull = by_name("pull_image");
        assert_eq!(
            pull["annotations"],
            json!({"readOnlyHint": false, "destructiveHint": false, "idempotentHint": true, "openWorldHint": true})
        );
        assert_eq!(pull["inputSchema"]["required"], json!(["image"]));
        assert_eq!(op_of("pull_image"), Op::Pull);
        let create = by_name("create_container");
        let props = create["inputSchema"]["properties"].as_object().unwrap();
        let names: Vec<&str> = props.keys().map(String::as_str).collect();
        let mut fields = crate::service::spec::FIELDS.to_vec();
        fields.sort_unstable();
        assert_eq!(names, fields, "the same arguments as the REST body");
        assert_eq!(create["annotations"], annotations(false, false, false));
        for removal in ["remove_container", "remove_image"] {
            assert_eq!(
                by_name(removal)["annotations"],
                annotations(false, true, true)
            );
        }
        assert_eq!(
            by_name("remove_image")["outputSchema"]["required"][4],
            "deleted"
        );
        assert_eq!(
            by_name("remove_container")["inputSchema"]["properties"]["volumes"]["default"],
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
        assert_eq!(names.len(), 9);
        for action in [
            "start_container",
            "stop_container",
            "restart_container",
            "pause_container",
            "unpause_container",
            "kill_container",
        ] {
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
    fn environment_values_are_redacted_names_kept() {
        let mut env = vec![
            "PASSWORD=hunter2".to_string(),
            "A=b=c".into(),
            "EMPTY".into(),
        ];
        redact(&mut env);
        assert_eq!(
            env,
            ["PASSWORD=<redacted>", "A=<redacted>", "EMPTY=<redacted>"]
        );
    }

    #[test]
    fn log_arguments_are_checked() {
        let args = |v: Value| v.as_object().unwrap().clone();
        let m = args(
            json!({"since": 1704067200, "until": "2024-01-01T00:00:10Z", "contains": "ERR", "max_bytes": 10}),
        );
        let read = Args(&m).log_read().unwrap();
        assert_eq!(read.since.as_deref(), Some("1704067200"));
        assert_eq!(read.until.as_deref(), Some("1704067210"));
        assert_eq!(
            (read.contains.as_deref(), read.max_bytes),
            (Some("ERR"), 10)
        );
        assert_eq!(Args(&Map::new()).log_read().unwrap().max_bytes, 65_536);
        for bad in [
            json!({"since": "yesterday"}),
            json!({"max_bytes": 0}),
            json!({"max_bytes": 9_000_000}),
            json!({"contains": 5}),
        ] {
            assert!(Args(&args(bad.clone())).log_read().is_err(), "{bad}");
        }
        let f = args(json!({"label": ["a=b"], "status": "running", "name": "web"}));
        assert!(
            Args(&f)
                .filters()
                .unwrap()
                .docker_json()
                .unwrap()
                .contains("running")
        );
        let f = args(json!({"status": "up"}));
        assert!(Args(&f).filters().unwrap_err().contains("status"));
    }

    #[test]
    fn a_command_s_output_is_cut_to_fit_the_answer() {
        let result = |out: &str, err: &str| ExecResult {
            exit_code: Some(0),
            stdout: out.into(),
            stderr: err.into(),
            truncated: false,
            timed_out: false,
        };
        let big = "line \"q\"\t\u{1}🐳\n".repeat(5000);
        for era in [OLD, NEW] {
            let room = 20_000;
            let fitted = fit_exec(era, result(&big, &big), room).unwrap();
            assert!(encoded_len(&fitted) <= room, "{era:?}");
            assert!(
                encoded_len(&fitted) > room - 200,
                "{era:?}: the room is used"
            );
            let text: Value =
                serde_json::from_str(fitted["content"][0]["text"].as_str().unwrap()).unwrap();
            assert_eq!(text["truncated"], true);
            let (out, err) = (
                text["stdout"].as_str().unwrap(),
                text["stderr"].as_str().unwrap(),
            );
            assert!(big.starts_with(out) && big.starts_with(err));
            assert!(
                out.len().abs_diff(err.len()) < 100,
                "halves: {} {}",
                out.len(),
                err.len()
            );
            let small = fit_exec(era, result("ok\n", &big), room).unwrap();
            let text: Value =
                serde_json::from_str(small["content"][0]["text"].as_str().unwrap()).unwrap();
            assert_eq!(text["stdout"], "ok\n", "a small stream is kept whole");
            assert!(encoded_len(&small) <= room);
            let whole = fit_exec(era, result("ok\n", "warn\n"), room).unwrap();
            assert_eq!(
                whole["content"][0]["text"],
                r#"{"exit_code":0,"stdout":"ok\n","stderr":"warn\n","truncated":false,"timed_out":false}"#
            );
        }
    }

    #[test]
    fn service_errors_come_with_a_next_step() {
        assert!(explain(&Error::ContainerNotFound("web".into())).contains("list_containers"));
        assert!(explain(&Error::DockerUnavailable).contains("try again"));
    }
}
