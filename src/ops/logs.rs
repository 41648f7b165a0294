//! A container's recent log lines (`GET /api/v1/containers/{id}/logs`,
//! the tool `get_container_logs`), and the log parameters every surface
//! reads the same way ([`options`]): `tail` (0 to [`MAX_TAIL`] lines, or
//! `all`), `since` and `until` (Unix seconds or RFC 3339), `timestamps`,
//! `stream` (`all` or `both`, `stdout`, `stderr`). Only `tail`'s default
//! differs, as the v1 contract has it: 100 here, 50 on the stream. A read
//! may also keep only lines `contains` holds, and at most `max_bytes` of
//! text (64 KiB by default on MCP, where the answer goes to a model).

use super::{Answer, Cx, Input, Operation, Pending, Range, Rest};
use crate::contract::ContainerLogs;
use crate::http::body;
use crate::policy::Op;
use crate::service::logs::{LogLimit, LogRead, MAX_LOG_BYTES};
use crate::service::streams::LogOptions;

/// Most log lines `tail` may ask for by number.
pub const MAX_TAIL: i64 = 10_000;
/// Log text kept by default in an MCP answer.
const TOOL_BYTES: i64 = 64 << 10;

/// Log text in a REST answer: one JSON string of at most [`MAX_LOG_BYTES`].
const REST_LIMIT: LogLimit = LogLimit {
    bytes: MAX_LOG_BYTES,
    cost: |c| body::escaped_len(c, 1),
};

/// The log parameters (see the module doc), `tail` defaulting to `default_tail`.
pub fn options(input: &mut Input, default_tail: i64) -> LogOptions {
    let tail = match input.text("tail") {
        Some(all) if all.trim().eq_ignore_ascii_case("all") => None,
        Some(raw) if raw.trim().parse::<i64>().is_err() => {
            let msg = format!("Input should be an integer from 0 to {MAX_TAIL}, or 'all'");
            input.fail("tail", "int_parsing", msg);
            None
        }
        _ => {
            let range = Range {
                default: default_tail,
                min: 0,
                max: MAX_TAIL,
            };
            Some(input.int("tail", range) as u32)
        }
    };
    let (since, until) = (input.time("since"), input.time("until"));
    let timestamps = input.bool("timestamps", false);
    let (stdout, stderr) = match input.choice("stream", &["all", "both", "stdout", "stderr"], "all")
    {
        "stdout" => (true, false),
        "stderr" => (false, true),
        _ => (true, true),
    };
    LogOptions {
        tail,
        since,
        until,
        timestamps,
        stdout,
        stderr,
    }
}

pub static LOGS: Operation = Operation {
    name: "get_container_logs",
    op: Op::read("logs", "logs"),
    rest: Some(Rest::get("/api/v1/containers/{id}/logs")),
    stream: None,
    tool: Some(LOGS_TOOL),
    openapi: Some(LOGS_API),
    run: logs,
};

fn logs<'a>(cx: &'a Cx<'a>, mut input: Input<'a>) -> Pending<'a> {
    Box::pin(async move {
        let id = input.container();
        let mut read = LogRead::from(options(&mut input, 100));
        read.contains = input.text("contains").filter(|c| !c.is_empty());
        let bytes = Range {
            default: if cx.log_fit.is_some() {
                TOOL_BYTES
            } else {
                MAX_LOG_BYTES as i64
            },
            min: 1,
            max: MAX_LOG_BYTES as i64,
        };
        read.max_bytes = input.int("max_bytes", bytes) as usize;
        input.finish()?;
        let limit = match cx.log_fit {
            Some(fit) => fit(&ContainerLogs {
                container_id: id.clone(),
                logs: String::new(),
                tail: read.options.tail.unwrap_or(0),
                truncated: true,
            }),
            None => REST_LIMIT,
        };
        let (logs, turn) = cx
            .app
            .service
            .logs(cx.caller, LOGS.op, &id, &read, limit)
            .await?;
        Ok(Answer::Logs(logs, turn))
    })
}

const LOGS_TOOL: &str = r#"{"annotations":{"destructiveHint":false,"idempotentHint":true,"openWorldHint":false,"readOnlyHint":true},"description":"Get logs from a specific container","inputSchema":{"properties":{"container_id":{"description":"Container ID or name","type":"string"},"contains":{"description":"Only the lines (among the tail) containing this text, case-sensitive","type":"string"},"max_bytes":{"default":65536,"description":"Most bytes of log text returned, the newest kept (default: 65536)","maximum":8388608,"minimum":1,"type":"integer"},"since":{"description":"Only lines from this time on: Unix seconds or RFC 3339","type":["string","integer"]},"tail":{"default":100,"description":"Number of lines to return from the end (default: 100)","maximum":10000,"minimum":1,"type":"integer"},"until":{"description":"Only lines before this time: Unix seconds or RFC 3339","type":["string","integer"]}},"required":["container_id"],"type":"object"},"name":"get_container_logs","outputSchema":{"properties":{"container_id":{"type":"string"},"logs":{"type":"string"},"tail":{"type":"integer"},"truncated":{"description":"Older lines were left out to fit the answer's size limit","type":"boolean"}},"required":["container_id","logs","tail"],"type":"object"},"title":"Container logs"}"#;
const LOGS_API: &str = r##"{"/api/v1/containers/{container_id}/logs":{"get":{"operationId":"getLogs","summary":"Recent log lines","description":"The log parameters are the logs stream's (/api/v1/logs/ws/{id}); only the default tail differs (100 here, 50 there). The text is at most 8 MiB once JSON-escaped, its newest whole lines; truncated says older lines were left out.","parameters":[{"$ref":"#/components/parameters/id"},{"name":"tail","in":"query","schema":{"oneOf":[{"type":"integer","minimum":0,"maximum":10000},{"enum":["all"]}],"default":100},"description":"Lines from the end, or all (any case): the whole log read through, keeping its newest 8 MiB"},{"name":"since","in":"query","schema":{"type":"string","pattern":"^[0-9]{1,12}(\\.[0-9]{1,9})?$"},"description":"Unix seconds (RFC 3339 is also taken)"},{"name":"until","in":"query","schema":{"type":"string","pattern":"^[0-9]{1,12}(\\.[0-9]{1,9})?$"},"description":"Unix seconds (RFC 3339 is also taken)"},{"name":"timestamps","in":"query","schema":{"type":"boolean","default":false}},{"name":"stream","in":"query","schema":{"enum":["all","both","stdout","stderr"],"default":"all"},"description":"all and both are the same: stdout and stderr"}],"responses":{"200":{"description":"OK","content":{"application/json":{"schema":{"$ref":"#/components/schemas/ContainerLogsResponse"}}}},"400":{"$ref":"#/components/responses/400"},"401":{"$ref":"#/components/responses/401"},"404":{"$ref":"#/components/responses/404"},"422":{"$ref":"#/components/responses/422"},"429":{"$ref":"#/components/responses/429"},"5XX":{"$ref":"#/components/responses/5XX"}}}}}"##;
