//! The processes running in a container, as `docker top` lists them
//! (`GET /api/v1/containers/{id}/top?ps_args=`, the tool
//! `list_container_processes`): `ps`'s column titles and one row of
//! columns a process. `ps_args` are `ps`'s options (Docker's default
//! `-ef`): letters, digits, spaces and `-,=_` only, at most 64 characters,
//! since Docker runs `ps` on the host with them. A container that is not
//! running has no processes to list: 409.

use super::{Answer, Cx, Input, Operation, Pending, Rest};
use crate::error::Error;
use crate::policy::Op;
use serde::Serialize;

pub static TOP: Operation = Operation {
    name: "list_container_processes",
    op: Op::read("top", "top"),
    rest: Some(Rest::get("/api/v1/containers/{id}/top")),
    stream: None,
    tool: Some(TOOL),
    openapi: Some(API),
    run: top,
};

/// The answer: the container as named, `ps`'s titles and its rows.
#[derive(Debug, Serialize)]
struct Processes {
    container_id: String,
    titles: Vec<String>,
    processes: Vec<Vec<String>>,
    total: usize,
}

/// Whether `args` may be handed to `ps`.
fn safe_ps_args(args: &str) -> bool {
    args.len() <= 64
        && args
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b" ,=_-".contains(&b))
}

fn top<'a>(cx: &'a Cx<'a>, mut input: Input<'a>) -> Pending<'a> {
    Box::pin(async move {
        let id = input.container();
        let ps_args = input.text("ps_args").unwrap_or_default();
        if !safe_ps_args(&ps_args) {
            let msg = "Input should be ps options: letters, digits, spaces and -,=_ only, at most 64 characters";
            input.fail("ps_args", "value_error", msg);
        }
        input.finish()?;
        let c = cx.app.service.admit(cx.caller, TOP.op, &id).await?;
        if !c.state.running {
            return Err(Error::Conflict(format!(
                "Container {id} is not running ({}): its processes are listed from a running container",
                c.state.status
            )));
        }
        let top = cx
            .app
            .service
            .docker()
            .container_top(&c.id, &ps_args)
            .await
            .map_err(|e| Error::for_container(e, &id))?;
        Answer::json(&Processes {
            container_id: id,
            total: top.processes.len(),
            titles: top.titles,
            processes: top.processes,
        })
    })
}

const TOOL: &str = r#"{"annotations":{"destructiveHint":false,"idempotentHint":true,"openWorldHint":false,"readOnlyHint":true},"description":"List the processes running in a container, as docker top does: ps's column titles and one row per process","inputSchema":{"properties":{"container_id":{"description":"Container ID or name","type":"string"},"ps_args":{"description":"ps options, e.g. aux or -eo pid,comm (Docker's default: -ef)","maxLength":64,"type":"string"}},"required":["container_id"],"type":"object"},"name":"list_container_processes","outputSchema":{"properties":{"container_id":{"type":"string"},"processes":{"items":{"items":{"type":"string"},"type":"array"},"type":"array"},"titles":{"items":{"type":"string"},"type":"array"},"total":{"type":"integer"}},"required":["container_id","titles","processes","total"],"type":"object"},"title":"Container processes"}"#;

const API: &str = r##"{"/api/v1/containers/{container_id}/top":{"get":{"operationId":"listContainerProcesses","summary":"The processes in a container, as docker top lists them","parameters":[{"$ref":"#/components/parameters/id"},{"name":"ps_args","in":"query","schema":{"type":"string","maxLength":64,"pattern":"^[A-Za-z0-9 ,=_-]*$"},"description":"ps options (Docker's default: -ef)"}],"responses":{"200":{"description":"OK","content":{"application/json":{"schema":{"type":"object","required":["container_id","titles","processes","total"],"properties":{"container_id":{"type":"string"},"titles":{"type":"array","items":{"type":"string"}},"processes":{"type":"array","items":{"type":"array","items":{"type":"string"}}},"total":{"type":"integer"}}}}}},"400":{"$ref":"#/components/responses/400"},"401":{"$ref":"#/components/responses/401"},"403":{"$ref":"#/components/responses/403"},"404":{"$ref":"#/components/responses/404"},"409":{"$ref":"#/components/responses/409"},"422":{"$ref":"#/components/responses/422"},"429":{"$ref":"#/components/responses/429"},"5XX":{"$ref":"#/components/responses/5XX"}}}}}"##;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_ps_options_are_taken() {
        for ok in ["", "aux", "-ef", "-eo pid,comm", "-o pid=PID"] {
            assert!(safe_ps_args(ok), "{ok}");
        }
        for bad in ["aux; rm -rf /", "$(id)", "a\nb", "`x`", &"a".repeat(65)] {
            assert!(!safe_ps_args(bad), "{bad}");
        }
    }
}
