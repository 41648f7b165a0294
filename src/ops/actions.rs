//! What can be done to a container: start, stop, restart, pause, unpause
//! and kill (`POST /api/v1/containers/{id}/<action>`, the tools
//! `<action>_container`). "Already started" and "already stopped"
//! (Docker's 304) are successes; Docker's 409 (not running, already
//! paused, not paused) is a 409 with Docker's message. A stop or restart
//! gives the container `timeout` seconds before Docker kills it; a kill
//! sends `signal`.

use super::{Answer, Cx, Input, Operation, Pending, Range, Rest};
use crate::policy::Op;
use crate::service::{action, kill};

/// Seconds a stop or restart allows the container (Docker's default 10).
pub const TIMEOUT: Range = Range {
    default: 10,
    min: 0,
    max: 300,
};

/// The answer to an action done: `{container_id, status, message}`.
fn done(id: &str, status: &'static str) -> Result<Answer, crate::error::Error> {
    Answer::json(&action(id, status))
}

/// An action with no parameters of its own.
async fn plain(
    cx: &Cx<'_>,
    mut input: Input<'_>,
    op: Op,
    status: &'static str,
) -> Result<Answer, crate::error::Error> {
    let id = input.container();
    input.finish()?;
    cx.app.service.act(cx.caller, op, &id, &[], None).await?;
    done(&id, status)
}

/// A stop or restart: Docker waits `timeout` seconds after `SIGTERM`.
async fn graceful(
    cx: &Cx<'_>,
    mut input: Input<'_>,
    op: Op,
    status: &'static str,
) -> Result<Answer, crate::error::Error> {
    let id = input.container();
    let timeout = input.int("timeout", TIMEOUT) as u32;
    input.finish()?;
    cx.app
        .service
        .act(cx.caller, op, &id, &[], Some(timeout))
        .await?;
    done(&id, status)
}

/// Starting a container: what the dashboard calls being able to operate.
pub const START_OP: Op = Op::operate("start", "container.start").starting();

pub static START: Operation = Operation {
    name: "start_container",
    op: START_OP,
    rest: Some(Rest::post("/api/v1/containers/{id}/start")),
    stream: None,
    tool: Some(START_TOOL),
    openapi: Some(START_API),
    run: start,
};

fn start<'a>(cx: &'a Cx<'a>, input: Input<'a>) -> Pending<'a> {
    Box::pin(plain(cx, input, START.op, "started"))
}

pub static STOP: Operation = Operation {
    name: "stop_container",
    op: Op::operate("stop", "container.stop").interrupting(),
    rest: Some(Rest::post("/api/v1/containers/{id}/stop")),
    stream: None,
    tool: Some(STOP_TOOL),
    openapi: Some(STOP_API),
    run: stop,
};

fn stop<'a>(cx: &'a Cx<'a>, input: Input<'a>) -> Pending<'a> {
    Box::pin(graceful(cx, input, STOP.op, "stopped"))
}

pub static RESTART: Operation = Operation {
    name: "restart_container",
    op: Op::operate("restart", "container.restart")
        .interrupting()
        .starting(),
    rest: Some(Rest::post("/api/v1/containers/{id}/restart")),
    stream: None,
    tool: Some(RESTART_TOOL),
    openapi: Some(RESTART_API),
    run: restart,
};

fn restart<'a>(cx: &'a Cx<'a>, input: Input<'a>) -> Pending<'a> {
    Box::pin(graceful(cx, input, RESTART.op, "restarted"))
}

pub static PAUSE: Operation = Operation {
    name: "pause_container",
    op: Op::operate("pause", "container.pause").interrupting(),
    rest: Some(Rest::post("/api/v1/containers/{id}/pause")),
    stream: None,
    tool: Some(PAUSE_TOOL),
    openapi: Some(PAUSE_API),
    run: pause,
};

fn pause<'a>(cx: &'a Cx<'a>, input: Input<'a>) -> Pending<'a> {
    Box::pin(plain(cx, input, PAUSE.op, "paused"))
}

pub static UNPAUSE: Operation = Operation {
    name: "unpause_container",
    op: Op::operate("unpause", "container.unpause").starting(),
    rest: Some(Rest::post("/api/v1/containers/{id}/unpause")),
    stream: None,
    tool: Some(UNPAUSE_TOOL),
    openapi: Some(UNPAUSE_API),
    run: unpause,
};

fn unpause<'a>(cx: &'a Cx<'a>, input: Input<'a>) -> Pending<'a> {
    Box::pin(plain(cx, input, UNPAUSE.op, "unpaused"))
}

pub static KILL: Operation = Operation {
    name: "kill_container",
    op: Op::operate("kill", "container.kill").interrupting(),
    rest: Some(Rest::post("/api/v1/containers/{id}/kill")),
    stream: None,
    tool: Some(KILL_TOOL),
    openapi: Some(KILL_API),
    run: kill,
};

fn kill<'a>(cx: &'a Cx<'a>, mut input: Input<'a>) -> Pending<'a> {
    Box::pin(async move {
        let id = input.container();
        let raw = input.text("signal");
        let signal = kill::signal(raw.as_deref().unwrap_or(kill::DEFAULT_SIGNAL))
            .map_err(|msg| input.fail("signal", "enum", msg))
            .unwrap_or_default();
        input.finish()?;
        let query = [("signal", signal.as_str())];
        cx.app
            .service
            .act(cx.caller, KILL.op, &id, &query, None)
            .await?;
        done(&id, "killed")
    })
}

const START_TOOL: &str = r#"{"annotations":{"destructiveHint":false,"idempotentHint":true,"openWorldHint":false,"readOnlyHint":false},"description":"Start a stopped container","inputSchema":{"properties":{"container_id":{"description":"Container ID or name","type":"string"}},"required":["container_id"],"type":"object"},"name":"start_container","outputSchema":{"properties":{"container_id":{"type":"string"},"message":{"type":"string"},"status":{"type":"string"}},"required":["container_id","status","message"],"type":"object"},"title":"Start container"}"#;
const START_API: &str = r##"{"/api/v1/containers/{container_id}/start":{"post":{"operationId":"startContainer","summary":"Start a container","parameters":[{"$ref":"#/components/parameters/id"}],"responses":{"200":{"description":"OK","content":{"application/json":{"schema":{"$ref":"#/components/schemas/ContainerActionResponse"}}}},"400":{"$ref":"#/components/responses/400"},"401":{"$ref":"#/components/responses/401"},"403":{"$ref":"#/components/responses/403"},"404":{"$ref":"#/components/responses/404"},"409":{"$ref":"#/components/responses/409"},"422":{"$ref":"#/components/responses/422"},"429":{"$ref":"#/components/responses/429"},"5XX":{"$ref":"#/components/responses/5XX"}}}}}"##;
const STOP_TOOL: &str = r#"{"annotations":{"destructiveHint":true,"idempotentHint":true,"openWorldHint":false,"readOnlyHint":false},"description":"Stop a running container","inputSchema":{"properties":{"container_id":{"description":"Container ID or name","type":"string"},"timeout":{"default":10,"description":"Seconds to wait before killing the container (default: 10)","maximum":300,"minimum":0,"type":"integer"}},"required":["container_id"],"type":"object"},"name":"stop_container","outputSchema":{"properties":{"container_id":{"type":"string"},"message":{"type":"string"},"status":{"type":"string"}},"required":["container_id","status","message"],"type":"object"},"title":"Stop container"}"#;
const STOP_API: &str = r##"{"/api/v1/containers/{container_id}/stop":{"post":{"operationId":"stopContainer","summary":"Stop a container","parameters":[{"$ref":"#/components/parameters/id"},{"$ref":"#/components/parameters/timeout"}],"responses":{"200":{"description":"OK","content":{"application/json":{"schema":{"$ref":"#/components/schemas/ContainerActionResponse"}}}},"400":{"$ref":"#/components/responses/400"},"401":{"$ref":"#/components/responses/401"},"403":{"$ref":"#/components/responses/403"},"404":{"$ref":"#/components/responses/404"},"409":{"$ref":"#/components/responses/409"},"422":{"$ref":"#/components/responses/422"},"429":{"$ref":"#/components/responses/429"},"5XX":{"$ref":"#/components/responses/5XX"}}}}}"##;
const RESTART_TOOL: &str = r#"{"annotations":{"destructiveHint":true,"idempotentHint":false,"openWorldHint":false,"readOnlyHint":false},"description":"Restart a container","inputSchema":{"properties":{"container_id":{"description":"Container ID or name","type":"string"},"timeout":{"default":10,"description":"Timeout in seconds before killing the container (default: 10)","maximum":300,"minimum":0,"type":"integer"}},"required":["container_id"],"type":"object"},"name":"restart_container","outputSchema":{"properties":{"container_id":{"type":"string"},"message":{"type":"string"},"status":{"type":"string"}},"required":["container_id","status","message"],"type":"object"},"title":"Restart container"}"#;
const RESTART_API: &str = r##"{"/api/v1/containers/{container_id}/restart":{"post":{"operationId":"restartContainer","summary":"Restart a container","parameters":[{"$ref":"#/components/parameters/id"},{"$ref":"#/components/parameters/timeout"}],"responses":{"200":{"description":"OK","content":{"application/json":{"schema":{"$ref":"#/components/schemas/ContainerActionResponse"}}}},"400":{"$ref":"#/components/responses/400"},"401":{"$ref":"#/components/responses/401"},"403":{"$ref":"#/components/responses/403"},"404":{"$ref":"#/components/responses/404"},"409":{"$ref":"#/components/responses/409"},"422":{"$ref":"#/components/responses/422"},"429":{"$ref":"#/components/responses/429"},"5XX":{"$ref":"#/components/responses/5XX"}}}}}"##;
const PAUSE_TOOL: &str = r#"{"annotations":{"destructiveHint":false,"idempotentHint":false,"openWorldHint":false,"readOnlyHint":false},"description":"Pause (freeze) all processes of a running container","inputSchema":{"properties":{"container_id":{"description":"Container ID or name","type":"string"}},"required":["container_id"],"type":"object"},"name":"pause_container","outputSchema":{"properties":{"container_id":{"type":"string"},"message":{"type":"string"},"status":{"type":"string"}},"required":["container_id","status","message"],"type":"object"},"title":"Pause container"}"#;
const PAUSE_API: &str = r##"{"/api/v1/containers/{container_id}/pause":{"post":{"operationId":"pauseContainer","summary":"Pause a container","parameters":[{"$ref":"#/components/parameters/id"}],"responses":{"200":{"description":"OK","content":{"application/json":{"schema":{"$ref":"#/components/schemas/ContainerActionResponse"}}}},"400":{"$ref":"#/components/responses/400"},"401":{"$ref":"#/components/responses/401"},"403":{"$ref":"#/components/responses/403"},"404":{"$ref":"#/components/responses/404"},"409":{"$ref":"#/components/responses/409"},"422":{"$ref":"#/components/responses/422"},"429":{"$ref":"#/components/responses/429"},"5XX":{"$ref":"#/components/responses/5XX"}}}}}"##;
const UNPAUSE_TOOL: &str = r#"{"annotations":{"destructiveHint":false,"idempotentHint":false,"openWorldHint":false,"readOnlyHint":false},"description":"Resume the processes of a paused container","inputSchema":{"properties":{"container_id":{"description":"Container ID or name","type":"string"}},"required":["container_id"],"type":"object"},"name":"unpause_container","outputSchema":{"properties":{"container_id":{"type":"string"},"message":{"type":"string"},"status":{"type":"string"}},"required":["container_id","status","message"],"type":"object"},"title":"Unpause container"}"#;
const UNPAUSE_API: &str = r##"{"/api/v1/containers/{container_id}/unpause":{"post":{"operationId":"unpauseContainer","summary":"Unpause a container","parameters":[{"$ref":"#/components/parameters/id"}],"responses":{"200":{"description":"OK","content":{"application/json":{"schema":{"$ref":"#/components/schemas/ContainerActionResponse"}}}},"400":{"$ref":"#/components/responses/400"},"401":{"$ref":"#/components/responses/401"},"403":{"$ref":"#/components/responses/403"},"404":{"$ref":"#/components/responses/404"},"409":{"$ref":"#/components/responses/409"},"422":{"$ref":"#/components/responses/422"},"429":{"$ref":"#/components/responses/429"},"5XX":{"$ref":"#/components/responses/5XX"}}}}}"##;
const KILL_TOOL: &str = r#"{"annotations":{"destructiveHint":true,"idempotentHint":false,"openWorldHint":false,"readOnlyHint":false},"description":"Send a signal to a running container's main process (default SIGKILL, which stops it at once)","inputSchema":{"properties":{"container_id":{"description":"Container ID or name","type":"string"},"signal":{"default":"SIGKILL","description":"Signal name (SIGKILL, KILL, SIGHUP...) or number 1-64 (default: SIGKILL)","type":["string","integer"]}},"required":["container_id"],"type":"object"},"name":"kill_container","outputSchema":{"properties":{"container_id":{"type":"string"},"message":{"type":"string"},"status":{"type":"string"}},"required":["container_id","status","message"],"type":"object"},"title":"Kill container"}"#;
const KILL_API: &str = r##"{"/api/v1/containers/{container_id}/kill":{"post":{"operationId":"killContainer","summary":"Kill a container","parameters":[{"$ref":"#/components/parameters/id"},{"name":"signal","in":"query","schema":{"type":"string","default":"SIGKILL","pattern":"^((SIG)?(ABRT|ALRM|BUS|CHLD|CONT|FPE|HUP|ILL|INT|IO|KILL|PIPE|PROF|PWR|QUIT|SEGV|STKFLT|STOP|SYS|TERM|TRAP|TSTP|TTIN|TTOU|URG|USR1|USR2|VTALRM|WINCH|XCPU|XFSZ)|[1-9]|[1-5][0-9]|6[0-4])$"},"description":"A name, any case, or a number 1-64"}],"responses":{"200":{"description":"OK","content":{"application/json":{"schema":{"$ref":"#/components/schemas/ContainerActionResponse"}}}},"400":{"$ref":"#/components/responses/400"},"401":{"$ref":"#/components/responses/401"},"403":{"$ref":"#/components/responses/403"},"404":{"$ref":"#/components/responses/404"},"409":{"$ref":"#/components/responses/409"},"422":{"$ref":"#/components/responses/422"},"429":{"$ref":"#/components/responses/429"},"5XX":{"$ref":"#/components/responses/5XX"}}}}}"##;
