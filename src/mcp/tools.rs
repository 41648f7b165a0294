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
//! The text content is what the original returned (pretty JSON of the
//! result; lists as bare arrays, logs as a JSON string); `structuredContent`
//! is always an object, matching `outputSchema`.

use super::jsonrpc::{INVALID_PARAMS, RpcError};
use super::protocol::Ctx;
use crate::error::Error;
use crate::limit::Class;
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
                json!({"container_id": {"type": "string"}, "logs": {"type": "string"}, "tail": {"type": "integer"}}),
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

/// A tool's outcome: text (the original's format) and the structured object.
type Outcome = Result<(String, Value), String>;

/// Text and structured content of a result whose text shows `shown` (the
/// whole result, or the part the original printed). Text is serialised from
/// the typed value, so fields keep their documented order.
fn present<T: Serialize, S: Serialize + ?Sized>(whole: &T, shown: &S) -> Outcome {
    let text = serde_json::to_string_pretty(shown).map_err(|e| e.to_string())?;
    let structured = serde_json::to_value(whole).map_err(|e| e.to_string())?;
    Ok((text, structured))
}

fn outcome<T: Serialize>(r: Result<T, Error>) -> Outcome {
    let value = r.map_err(|e| explain(&e))?;
    present(&value, &value)
}

/// The service error as a message with a next step for the model.
fn explain(e: &Error) -> String {
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

/// `tools/call`: runs the named tool.
pub async fn call(ctx: &Ctx<'_>, params: &Value) -> Result<Value, RpcError> {
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
    if !definitions().iter().any(|t| t["name"] == name) {
        return Err(RpcError::new(
            INVALID_PARAMS,
            format!("Unknown tool: {name}"),
        ));
    }
    log::debug!(tool = name; "mcp tool call");
    let outcome = run(ctx, name, &Args(args)).await;
    Ok(match outcome {
        Ok((text, structured)) => json!({
            "content": [{"type": "text", "text": text}],
            "structuredContent": structured,
            "isError": false,
        }),
        Err(message) => json!({"content": [{"type": "text", "text": message}], "isError": true}),
    })
}

/// Container actions draw from the action limit, everything else from the
/// read limit, as the same operations do over REST.
fn charge(ctx: &Ctx<'_>, name: &str) -> Result<(), String> {
    let class = match name {
        "start_container" | "stop_container" | "restart_container" => Class::Action,
        _ => Class::Read,
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

async fn run(ctx: &Ctx<'_>, name: &str, args: &Args<'_>) -> Outcome {
    charge(ctx, name)?;
    let s = &ctx.app.service;
    match name {
        "docker_health" => outcome(Ok(s.enhanced_health().await)),
        "docker_version" => outcome(s.version().await),
        "list_containers" => {
            let list = s
                .list_containers(args.bool("all", true)?)
                .await
                .map_err(|e| explain(&e))?;
            present(&list, &list.containers)
        }
        "get_container" => outcome(s.container(&args.container_id()?).await),
        "get_container_logs" => {
            let (id, tail) = (args.container_id()?, args.int("tail", 100, 1, 10_000)?);
            let logs = s.logs(&id, tail as u32).await.map_err(|e| explain(&e))?;
            present(&logs, &logs.logs)
        }
        "get_container_stats" => outcome(s.stats(&args.container_id()?).await),
        "list_images" => {
            let list = s.list_images().await.map_err(|e| explain(&e))?;
            present(&list, &list.images)
        }
        action => {
            let id = args.container_id()?;
            let timeout = args.int("timeout", 10, 0, 300)?;
            outcome(match action {
                "start_container" => s.start(&id).await,
                "stop_container" => s.stop(&id).await,
                _ => s.restart(&id, timeout as u32).await,
            })
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

    #[test]
    fn service_errors_come_with_a_next_step() {
        assert!(explain(&Error::ContainerNotFound("web".into())).contains("list_containers"));
        assert!(explain(&Error::DockerUnavailable).contains("try again"));
    }
}
