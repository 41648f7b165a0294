//! The containers in scope (`GET /api/v1/containers/`, the tool
//! `list_containers`: Docker's filters by label, name and state) and one
//! container's detail (`GET /api/v1/containers/{id}`, the tool
//! `get_container`).

use super::{Answer, Cx, Input, Operation, Pending, Rest};
use crate::policy::Op;
use crate::service::filters::ContainerFilters;

pub static LIST: Operation = Operation {
    name: "list_containers",
    op: Op::read("list_containers", "list_containers"),
    rest: Some(Rest::get("/api/v1/containers/")),
    stream: None,
    tool: Some(LIST_TOOL),
    openapi: Some(LIST_API),
    run: list,
};

fn list<'a>(cx: &'a Cx<'a>, mut input: Input<'a>) -> Pending<'a> {
    Box::pin(async move {
        let all = input.bool("all", true);
        let (label, name, status) = (
            input.texts("label"),
            input.texts("name"),
            input.texts("status"),
        );
        input.finish()?;
        let filters = ContainerFilters::new(label, name, status)?;
        let list = cx
            .app
            .service
            .list_containers(cx.caller, LIST.op, all, &filters)
            .await?;
        Answer::json_showing(&list, &list.containers)
    })
}

pub static INSPECT: Operation = Operation {
    name: "get_container",
    op: Op::read("inspect", "inspect"),
    rest: Some(Rest::get("/api/v1/containers/{id}")),
    stream: None,
    tool: Some(INSPECT_TOOL),
    openapi: Some(INSPECT_API),
    run: inspect,
};

fn inspect<'a>(cx: &'a Cx<'a>, mut input: Input<'a>) -> Pending<'a> {
    Box::pin(async move {
        let id = input.container();
        input.finish()?;
        Answer::json(&cx.app.service.container(cx.caller, INSPECT.op, &id).await?)
    })
}

const LIST_TOOL: &str = r#"{"annotations":{"destructiveHint":false,"idempotentHint":true,"openWorldHint":false,"readOnlyHint":true},"description":"List all Docker containers with their status, image, and port information","inputSchema":{"properties":{"all":{"default":true,"description":"Include stopped containers (default: true)","type":"boolean"},"label":{"description":"Only containers with these labels (key or key=value)","items":{"type":"string"},"type":["string","array"]},"name":{"description":"Only containers whose name contains this","type":"string"},"status":{"description":"Only containers in these states","items":{"enum":["created","restarting","running","removing","paused","exited","dead"],"type":"string"},"type":["string","array"]}},"required":[],"type":"object"},"name":"list_containers","outputSchema":{"properties":{"containers":{"items":{"properties":{"created":{"type":"integer"},"exit_code":{"description":"How an exited (or restarting) container's last run ended","type":["integer","null"]},"health":{"description":"A running container's health check, when it has one","enum":["healthy","unhealthy","starting",null]},"id":{"type":"string"},"image":{"type":"string"},"name":{"type":"string"},"ports":{"items":{"type":"object"},"type":"array"},"state":{"type":"string"},"status":{"type":"string"},"status_text":{"description":"Docker's own words: Up 2 minutes (healthy), Exited (137) 5 seconds ago","type":"string"}},"required":["id","name","image","status","state","created"],"type":"object"},"type":"array"},"total":{"type":"integer"}},"required":["containers","total"],"type":"object"},"title":"List containers"}"#;
const LIST_API: &str = r##"{"/api/v1/containers/":{"get":{"operationId":"listContainers","summary":"List containers in scope","parameters":[{"name":"all","in":"query","schema":{"type":"boolean","default":true},"description":"Include stopped containers"},{"name":"label","in":"query","schema":{"type":"array","items":{"type":"string","minLength":1,"maxLength":64,"pattern":"^[^=]"},"maxItems":32},"description":"key or key=value; repeatable"},{"name":"name","in":"query","schema":{"type":"array","items":{"type":"string","minLength":1,"maxLength":64},"maxItems":32},"description":"Name substring; repeatable"},{"name":"status","in":"query","schema":{"type":"array","items":{"enum":["created","restarting","running","removing","paused","exited","dead"]},"maxItems":32}}],"responses":{"200":{"description":"OK","content":{"application/json":{"schema":{"$ref":"#/components/schemas/ContainerListResponse"}}}},"401":{"$ref":"#/components/responses/401"},"422":{"$ref":"#/components/responses/422"},"429":{"$ref":"#/components/responses/429"},"5XX":{"$ref":"#/components/responses/5XX"}}}}}"##;
const INSPECT_TOOL: &str = r#"{"annotations":{"destructiveHint":false,"idempotentHint":true,"openWorldHint":false,"readOnlyHint":true},"description":"Get detailed information about a specific container including config, state, mounts, and networks","inputSchema":{"properties":{"container_id":{"description":"Container ID or name","type":"string"}},"required":["container_id"],"type":"object"},"name":"get_container","outputSchema":{"properties":{"config":{"type":"object"},"created":{"type":"integer"},"host_config":{"type":"object"},"id":{"type":"string"},"image":{"type":"string"},"image_id":{"type":"string"},"mounts":{"type":"array"},"name":{"type":"string"},"networks":{"type":"object"},"ports":{"type":"array"},"short_id":{"type":"string"},"state":{"type":"object"},"status":{"type":"string"}},"required":["id","short_id","name","image","image_id","created","status","state","config","host_config","mounts","networks","ports"],"type":"object"},"title":"Container details"}"#;
const INSPECT_API: &str = r##"{"/api/v1/containers/{container_id}":{"get":{"operationId":"getContainer","summary":"Inspect a container","parameters":[{"$ref":"#/components/parameters/id"}],"responses":{"200":{"description":"OK","content":{"application/json":{"schema":{"$ref":"#/components/schemas/ContainerDetail"}}}},"400":{"$ref":"#/components/responses/400"},"401":{"$ref":"#/components/responses/401"},"404":{"$ref":"#/components/responses/404"},"422":{"$ref":"#/components/responses/422"},"429":{"$ref":"#/components/responses/429"},"5XX":{"$ref":"#/components/responses/5XX"}}}}}"##;
