//! The ten Docker tools, with the original's names, arguments, defaults and
//! required lists, plus `title`, `annotations`, `outputSchema` and
//! `structuredContent`; then `pull_image`, `create_container`,
//! `remove_container` and `remove_image`, whose arguments are the REST
//! body's and query's; then pause, unpause and kill, and the volume and
//! network lists; then `exec_in_container` (listed only
//! where the policy allows exec: `EXEC_ENABLED`, `admin`). Every tool calls
//! the same service method as the matching REST route. `get_container`
//! shows environment values as `<redacted>` to a credential kept from them
//! (the MCP key unless `MCP_REDACT_ENV=false`).
//! The definitions are JSON text (`tools.json`), which the tests hold to
//! the code: arguments, defaults and limits.
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
use crate::service::filters::ContainerFilters;
use crate::service::kill;
use crate::service::logs::{LogLimit, LogRead, MAX_LOG_BYTES};
use crate::service::pull::{PullRequest, Step};

/// `max_bytes` of `get_container_logs`: its default, and its maximum (the
/// REST answer's cap; the room left in the answer may cut sooner).
const DEFAULT_LOG_BYTES: i64 = 64 << 10;
const MAX_TOOL_LOG_BYTES: i64 = MAX_LOG_BYTES as i64;
use serde::Serialize;
use serde_json::{Map, Value, json};

/// Every tool's definition (name, title, description, input and output
/// schemas, annotations), one a line, in a stable order: the original's ten,
/// then the tools added since. JSON text rather than code, for its size.
const TOOLS: &str = include_str!("tools.json");

/// The tool list, in a stable order (the original's, then the tools added since).
pub fn definitions() -> Vec<Value> {
    serde_json::from_str(TOOLS).unwrap_or_default()
}

/// Every tool and the operation it performs, for the policy (and, by
/// name, for its call counters in [`crate::counters`]).
pub const TOOL_OPS: [(&str, Op); 20] = [
    ("docker_health", Op::HEALTH),
    ("docker_version", Op::VERSION),
    ("list_containers", Op::LIST_CONTAINERS),
    ("get_container", Op::INSPECT),
    ("get_container_logs", Op::LOGS),
    ("get_container_stats", Op::STATS),
    ("list_images", Op::LIST_IMAGES),
    ("start_container", Op::START),
    ("stop_container", Op::STOP),
    ("restart_container", Op::RESTART),
    ("pull_image", Op::PULL),
    ("create_container", Op::CREATE),
    ("remove_container", Op::REMOVE),
    ("remove_image", Op::REMOVE_IMAGE),
    ("pause_container", Op::PAUSE),
    ("unpause_container", Op::UNPAUSE),
    ("kill_container", Op::KILL),
    ("list_volumes", Op::LIST_VOLUMES),
    ("exec_in_container", Op::EXEC),
    ("list_networks", Op::LIST_NETWORKS),
];

/// The operation a tool performs, for the policy.
fn op_of(name: &str) -> Op {
    TOOL_OPS
        .iter()
        .find(|(tool, _)| *tool == name)
        .map_or(Op::LIST_NETWORKS, |(_, op)| *op)
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
/// a prompt (environment values redacted for a credential kept from them).
pub(super) async fn shown_container(ctx: &Ctx<'_>, id: &str) -> Result<ContainerDetail, Error> {
    ctx.app.service.container(ctx.caller, id).await
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
    let counted = TOOL_OPS
        .iter()
        .find(|(tool, _)| *tool == name)
        .map_or("", |(tool, _)| *tool);
    let caller = match confirmed(ctx, &tool, args, params).await {
        Ok(caller) => caller,
        Err(answer) => {
            crate::counters::tool_call(counted, "unconfirmed");
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
    crate::counters::tool_call(counted, if failed { "error" } else { "ok" });
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
    if !ctx.caller.restrictions.confirm.covers(op) {
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
    let class = if op_of(name).mutates {
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
            let limit = log_limit(era, &id, read.tail.unwrap_or(u32::MAX), room);
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
            s.permit(c, Op::EXEC).map_err(|e| explain(&e))?;
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
    fn the_definitions_hold_the_code_s_states_and_defaults() {
        let tools = definitions();
        let by_name = |n: &str| tools.iter().find(|t| t["name"] == n).unwrap().clone();
        let list = by_name("list_containers");
        let states = &list["inputSchema"]["properties"]["status"]["items"]["enum"];
        assert_eq!(*states, json!(crate::service::filters::STATUSES));
        let stop = by_name("stop_container");
        let timeout = &stop["inputSchema"]["properties"]["timeout"];
        assert_eq!(timeout["default"], json!(STOP_TIMEOUT));
        let logs = by_name("get_container_logs");
        let max = &logs["inputSchema"]["properties"]["max_bytes"];
        assert_eq!(
            (&max["default"], &max["maximum"]),
            (&json!(DEFAULT_LOG_BYTES), &json!(MAX_TOOL_LOG_BYTES))
        );
    }

    fn annotations(read_only: bool, destructive: bool, idempotent: bool) -> Value {
        json!({"readOnlyHint": read_only, "destructiveHint": destructive, "idempotentHint": idempotent, "openWorldHint": false})
    }

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
        assert_eq!(op_of("pull_image"), Op::PULL);
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
        let reads = |op: Op| !op.mutates;
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
            assert!(op_of(action).mutates, "{action}");
        }
        for t in definitions() {
            let name = t["name"].as_str().unwrap();
            assert_eq!(
                op_of(name).mutates,
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
