//! The MCP tools: every operation of the catalogue ([`crate::ops`]) that
//! has a tool, each defined there once — name, title, description, input
//! and output schemas, annotations, and the function that runs it. Here
//! they are listed to each caller as its role and restrictions allow, in
//! catalogue order (the v1 contract's ten first, with its names, arguments
//! and defaults), called with their arguments read by the one input reader,
//! and their answers presented. `get_container` shows environment values
//! as `<redacted>` to a credential kept from them (the MCP key unless
//! `MCP_REDACT_ENV=false`).
//!
//! A tool that fails — unknown container, a missing or wrongly typed
//! argument, a Docker error, a rate limit — answers with `isError: true`
//! and a message a model can act on ([`super::tool_error`]). Only protocol
//! problems (unknown tool, `arguments` not an object) are JSON-RPC errors.
//!
//! A result is sent once where the protocol version allows it. Before
//! 2025-06-18 there is no `structuredContent` (nor `outputSchema`): the text
//! content alone carries the result, in the v1 contract's shape (lists as
//! bare arrays, logs as a JSON string) as compact JSON. From 2025-06-18,
//! `structuredContent` (an object matching `outputSchema`) comes with that
//! text as the backwards-compatible copy the specification asks for.
//!
//! Every result fits the room its answer leaves ([`call`]): logs and a
//! command's output are cut to fit (flagged `truncated`), and any other
//! result too large to send is replaced by a tool error saying so.

use super::confirm::Ask;
use super::context::{Ctx, Era};
use super::exchange::Progress;
use super::fleet::{self, Where};
use super::jsonrpc::{INVALID_PARAMS, RpcError};
use super::tool_error::{explain, failure};
use crate::contract::{ContainerLogs, ExecResult};
use crate::error::Error;
use crate::http::body::{encoded_len, escaped_len};
use crate::input::Input;
use crate::limit::Class;
use crate::ops::{self, Answer, Operation};
use crate::policy::{Op, Role};
use crate::service::logs::LogLimit;
use crate::service::pull::{Pull, Step};
use serde::Serialize;
use serde_json::{Map, Value, json};

/// `tools/list` for `era`, with only the tools whose operation `may`
/// allows (a read-only mode or a `read` role hides the container actions);
/// no `outputSchema` where results carry no `structuredContent` (a client
/// validating one would expect the other).
pub fn list(era: Era, may: &dyn Fn(Op) -> bool, in_fleet: bool) -> Vec<Value> {
    let mut tools: Vec<Value> = ops::tools()
        .filter(|(o, _)| may(o.op))
        .map(|(_, definition)| definition)
        .collect();
    if in_fleet {
        tools.iter_mut().for_each(fleet::add_host_argument);
    }
    if !era.has_structured_content() {
        for tool in tools.iter_mut().filter_map(Value::as_object_mut) {
            tool.remove("outputSchema");
        }
    }
    tools
}

/// A tool's result object, or the message of a tool error.
type ToolResult = Result<Value, String>;

/// A successful result in `era` (see the module doc): text showing `shown`
/// (the whole result, or the part the v1 contract printed) and, from
/// 2025-06-18, `whole` as `structuredContent`. Text is serialised from the
/// typed value, so fields keep their documented order.
fn present<T: Serialize, S: Serialize + ?Sized>(era: Era, whole: &T, shown: &S) -> ToolResult {
    let text = serde_json::to_string(shown).map_err(|e| e.to_string())?;
    let mut result = json!({"content": [{"type": "text", "text": text}], "isError": false});
    if era.has_structured_content() {
        result["structuredContent"] = serde_json::to_value(whole).map_err(|e| e.to_string())?;
    }
    Ok(result)
}

/// A service answer as a tool's result in `era`, or its error explained.
fn outcome<T: Serialize>(era: Era, r: Result<T, Error>) -> ToolResult {
    let value = r.map_err(|e| explain(&e))?;
    present(era, &value, &value)
}

/// Told in a second text block when lines were left out, for models (and
/// clients before 2025-06-18) that do not see the `truncated` flag.
const TRUNCATED_NOTE: &str = "Older log lines were left out to fit the size limit of this answer.";

/// A logs result: the v1 contract's text, the structured object, and a note
/// when lines were left out.
fn present_logs(era: Era, logs: &ContainerLogs) -> ToolResult {
    let mut result = present(era, logs, &logs.logs)?;
    if let (true, Some(content)) = (logs.truncated, result["content"].as_array_mut()) {
        content.push(json!({"type": "text", "text": TRUNCATED_NOTE}));
    }
    Ok(result)
}

/// What the log text of a logs result may take so that the result fits in
/// `room` bytes: what the rest of the result (`empty`, its text empty)
/// leaves, note included, counting each character where it appears
/// ([`text_cost`]).
fn log_limit(era: Era, empty: &ContainerLogs, room: usize) -> LogLimit {
    let rest = present_logs(era, empty).map_or(room, |r| encoded_len(&r));
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
fn fit_exec(era: Era, mut r: ExecResult, room: usize) -> ToolResult {
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

/// A JSON answer in `era`: its text (or the part the v1 tools showed) and,
/// from 2025-06-18, the whole as `structuredContent`.
fn present_json(era: Era, json: ops::Json) -> ToolResult {
    let text = json.shown.unwrap_or_else(|| json.text.clone());
    let mut result = json!({"content": [{"type": "text", "text": text}], "isError": false});
    if era.has_structured_content() {
        result["structuredContent"] =
            serde_json::from_str(&json.text).map_err(|e| e.to_string())?;
    }
    Ok(result)
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
    let Some(tool) = ops::tool(name) else {
        return Err(RpcError::new(
            INVALID_PARAMS,
            format!("Unknown tool: {name}"),
        ));
    };
    log::debug!(tool = name; "mcp tool call");
    let progress = Progress::new(&ctx.link.out, params);
    let placed = match fleet::place(ctx, tool, args) {
        Ok((Where::Here { named: false }, rest)) => {
            fleet::locate(ctx, &rest).await.map(|p| (p, rest))
        }
        other => other,
    };
    let (place, args) = match placed {
        Ok(placed) => placed,
        Err(message) => return Ok(failure(&message)),
    };
    let args = &args;
    match place {
        Where::Here { .. } => {}
        Where::There(member, host) => {
            if let Err(message) = charge(ctx, tool.op) {
                return Ok(failure(&message));
            }
            let result = fleet::call(ctx, (&member, &host), tool, args, params, &progress).await?;
            return Ok(fit(name, result, room));
        }
        Where::Everywhere => {
            let listed = match charge(ctx, tool.op) {
                Ok(()) => {
                    let merged = fleet::everywhere(ctx, args).await;
                    present(ctx.era, &merged, &merged)
                }
                Err(message) => Err(message),
            };
            return Ok(fit(name, listed.unwrap_or_else(|m| failure(&m)), room));
        }
    }
    let caller = match confirmed(ctx, tool, args, params).await {
        Ok(caller) => caller,
        Err(answer) => {
            crate::counters::tool_call(tool.name, "unconfirmed");
            return Ok(answer);
        }
    };
    let ctx = Ctx {
        caller: &caller,
        link: ctx.link.clone(),
        ..*ctx
    };
    let result = run(&ctx, tool, args, room, &progress)
        .await
        .unwrap_or_else(|message| failure(&message));
    let failed = result["isError"] == true;
    crate::counters::tool_call(tool.name, if failed { "error" } else { "ok" });
    Ok(fit(name, result, room))
}

/// `result` of tool `name`, or a tool error when it takes more than `room` bytes.
fn fit(name: &str, result: Value, room: usize) -> Value {
    let size = encoded_len(&result);
    if size <= room {
        return result;
    }
    failure(&format!(
        "The result of {name} is too large to send: {size} bytes, and this answer has room for {room}. \
         Ask for less, or call it on its own rather than in a batch."
    ))
}

/// The caller `tool` runs as: `ctx`'s, once a person said yes where its
/// credential needs one ([`super::confirm`]); else the answer to send
/// instead.
async fn confirmed(
    ctx: &Ctx<'_>,
    tool: &Operation,
    args: &Map<String, Value>,
    params: &Value,
) -> Result<crate::policy::Caller, Value> {
    if !ctx.caller.restrictions.confirm.covers(tool.op) {
        return Ok(ctx.caller.clone());
    }
    let definition: Value = tool
        .tool
        .and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or_default();
    let title = definition["title"]
        .as_str()
        .unwrap_or(tool.name)
        .to_string();
    let ask = Ask {
        ctx,
        tool: tool.name,
        title: &title,
        op: tool.op,
        args,
        params,
    };
    ask.confirm().await
}

/// Changes draw from the action limit, everything else from the read
/// limit, as the same operations do over REST.
fn charge(ctx: &Ctx<'_>, op: Op) -> Result<(), String> {
    let class = if op.mutates {
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

/// Runs `tool` with `args` and presents its answer in the context's era.
async fn run(
    ctx: &Ctx<'_>,
    tool: &Operation,
    args: &Map<String, Value>,
    room: usize,
    progress: &Progress,
) -> ToolResult {
    charge(ctx, tool.op)?;
    let era = ctx.era;
    if tool.op.mutates && tool.op.needs == Role::Operate {
        progress.report(
            0.0,
            Some(1.0),
            Some(&format!("{}: asked Docker", tool.name)),
        );
    }
    let fit = move |empty: &ContainerLogs| log_limit(era, empty, room);
    let cx = ops::Cx {
        credential: ctx.presented.map(|s| s.expose()),
        app: ctx.app,
        caller: ctx.caller,
        log_fit: Some(&fit),
    };
    let answer = ops::run(tool, &cx, Input::arguments(args))
        .await
        .map_err(|e| explain(&e))?;
    match answer {
        Answer::Json(json) => present_json(era, json),
        Answer::Logs(logs, _turn) => present_logs(era, &logs),
        Answer::Exec(done) => fit_exec(era, done, room),
        Answer::Pull(pull) => pull_image(era, pull, progress).await,
        Answer::Stream(_) | Answer::Terminal(..) => Err(explain(&Error::Internal)),
    }
}

/// Runs a pull to its end; the result is its summary, a failed pull a tool
/// error. Each of Docker's progress messages goes on as an MCP progress
/// notification when the client asked for them (numbered, so the progress
/// always grows; no total, since Docker announces layers as it goes).
async fn pull_image(era: Era, mut pull: Pull, progress: &Progress) -> ToolResult {
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
                    None => present(era, &summary, &summary),
                };
            }
        }
    }
    Err("The pull ended without a summary.".into())
}

/// A progress message as `docker pull` prints it: `a1b2c3: Downloading 1024/2048`.
fn progress_message(p: &crate::contract::PullProgress) -> String {
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
mod tests;
