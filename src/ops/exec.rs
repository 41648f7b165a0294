//! Running commands in a container, off unless `EXEC_ENABLED`: one-shot
//! (`POST /api/v1/containers/{id}/exec`, the tool `exec_in_container`: the
//! body's `cmd`, `env`, `workdir`, `user` and `timeout`, run to its end)
//! and interactive (`/api/v1/exec/ws/{id}?cmd=…`, a terminal over
//! WebSocket: `cmd` repeated for each argument, `/bin/sh` when absent).
//! Whether the caller may run commands is asked before the body is read,
//! so a refusal is the same whatever the body holds.

use super::{Answer, Cx, Input, Operation, Pending, Rest};
use crate::policy::Op;
use crate::service::exec::request::ExecRequest;

/// Running commands, one-shot or interactive.
const EXEC_OP: Op = Op::operate("exec", "container.exec").running_commands();

pub static EXEC: Operation = Operation {
    name: "exec_in_container",
    op: EXEC_OP,
    rest: Some(Rest::post("/api/v1/containers/{id}/exec").with_body(200)),
    stream: None,
    tool: Some(EXEC_TOOL),
    openapi: Some(EXEC_API),
    run: exec,
};

fn exec<'a>(cx: &'a Cx<'a>, mut input: Input<'a>) -> Pending<'a> {
    Box::pin(async move {
        cx.app.service.permit(cx.caller, EXEC.op)?;
        let id = input.container();
        let request = ExecRequest::read(&mut input);
        input.finish()?;
        let done = cx
            .app
            .service
            .exec(cx.caller, EXEC.op, &id, &request)
            .await?;
        Ok(Answer::Exec(done))
    })
}

pub static TERMINAL: Operation = Operation {
    name: "exec_terminal",
    op: EXEC_OP,
    rest: None,
    stream: Some("/api/v1/exec/ws/{id}"),
    tool: None,
    openapi: None,
    run: terminal,
};

fn terminal<'a>(cx: &'a Cx<'a>, mut input: Input<'a>) -> Pending<'a> {
    Box::pin(async move {
        let id = input.container();
        let mut cmd = input.texts("cmd");
        input.finish()?;
        if cmd.is_empty() {
            cmd.push("/bin/sh".into());
        }
        let s = &cx.app.service;
        let (terminal, io) = s.open_terminal(cx.caller, TERMINAL.op, &id, cmd).await?;
        Ok(Answer::Terminal(terminal, io))
    })
}

const EXEC_TOOL: &str = r#"{"annotations":{"destructiveHint":true,"idempotentHint":false,"openWorldHint":false,"readOnlyHint":false},"description":"Run a command in a running container and return its exit code and output (at most 1 MiB per stream). The command is an argv array run as is, without a shell; it is killed at its timeout.","inputSchema":{"properties":{"cmd":{"description":"The command and its arguments, e.g. [\"ls\", \"-l\", \"/\"]","items":{"type":"string"},"minItems":1,"type":"array"},"container_id":{"description":"Container ID or name","type":"string"},"env":{"additionalProperties":{"type":"string"},"description":"Extra environment variables","type":"object"},"timeout":{"default":30,"description":"Seconds before the command is killed (default: 30)","maximum":600,"minimum":1,"type":"integer"},"user":{"description":"User (name or uid[:gid]) to run as","type":"string"},"workdir":{"description":"Absolute working directory","type":"string"}},"required":["container_id","cmd"],"type":"object"},"name":"exec_in_container","outputSchema":{"properties":{"exit_code":{"description":"null when the command was killed at its timeout","type":["integer","null"]},"stderr":{"type":"string"},"stdout":{"type":"string"},"timed_out":{"type":"boolean"},"truncated":{"description":"Output was cut (1 MiB per stream, or to fit this answer)","type":"boolean"}},"required":["exit_code","stdout","stderr","truncated","timed_out"],"type":"object"},"title":"Run a command in a container"}"#;
const EXEC_API: &str = r##"{"/api/v1/containers/{container_id}/exec":{"post":{"operationId":"execInContainer","summary":"Run a command to its end","description":"Admin only, and only with EXEC_ENABLED (403 otherwise). Output past 1 MiB a stream is cut (truncated); a command past its timeout is stopped (timed_out, exit_code null).","parameters":[{"$ref":"#/components/parameters/id"}],"requestBody":{"required":true,"content":{"application/json":{"schema":{"$ref":"#/components/schemas/ExecRequest"}}}},"responses":{"200":{"description":"OK","content":{"application/json":{"schema":{"$ref":"#/components/schemas/ExecResult"}}}},"400":{"$ref":"#/components/responses/400"},"401":{"$ref":"#/components/responses/401"},"403":{"$ref":"#/components/responses/403"},"404":{"$ref":"#/components/responses/404"},"409":{"$ref":"#/components/responses/409"},"413":{"$ref":"#/components/responses/413"},"422":{"$ref":"#/components/responses/422"},"429":{"$ref":"#/components/responses/429"},"5XX":{"$ref":"#/components/responses/5XX"}}}}}"##;
