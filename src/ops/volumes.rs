//! The host's volumes (`GET /api/v1/volumes/`, the tool `list_volumes`)
//! and networks (`GET /api/v1/networks/`, the tool `list_networks`). Like
//! images they are the host's, not a container's: the scope does not
//! filter them.

use super::{Answer, Cx, Input, Operation, Pending, Rest};
use crate::policy::Op;

pub static VOLUMES: Operation = Operation {
    name: "list_volumes",
    op: Op::read("list_volumes", "list_volumes"),
    rest: Some(Rest::get("/api/v1/volumes/")),
    stream: None,
    tool: Some(VOLUMES_TOOL),
    openapi: Some(VOLUMES_API),
    run: volumes,
};

fn volumes<'a>(cx: &'a Cx<'a>, input: Input<'a>) -> Pending<'a> {
    Box::pin(async move {
        input.finish()?;
        Answer::json(&cx.app.service.list_volumes(cx.caller, VOLUMES.op).await?)
    })
}

pub static NETWORKS: Operation = Operation {
    name: "list_networks",
    op: Op::read("list_networks", "list_networks"),
    rest: Some(Rest::get("/api/v1/networks/")),
    stream: None,
    tool: Some(NETWORKS_TOOL),
    openapi: Some(NETWORKS_API),
    run: networks,
};

fn networks<'a>(cx: &'a Cx<'a>, input: Input<'a>) -> Pending<'a> {
    Box::pin(async move {
        input.finish()?;
        Answer::json(&cx.app.service.list_networks(cx.caller, NETWORKS.op).await?)
    })
}

const VOLUMES_TOOL: &str = r#"{"annotations":{"destructiveHint":false,"idempotentHint":true,"openWorldHint":false,"readOnlyHint":true},"description":"List Docker volumes with their driver, mountpoint, scope, creation time and labels","inputSchema":{"properties":{},"required":[],"type":"object"},"name":"list_volumes","outputSchema":{"properties":{"total":{"type":"integer"},"volumes":{"items":{"properties":{"created":{"type":"integer"},"driver":{"type":"string"},"labels":{"type":"object"},"mountpoint":{"type":"string"},"name":{"type":"string"},"scope":{"type":"string"}},"required":["name","driver","mountpoint","scope","created","labels"],"type":"object"},"type":"array"}},"required":["volumes","total"],"type":"object"},"title":"List volumes"}"#;
const VOLUMES_API: &str = r##"{"/api/v1/volumes/":{"get":{"operationId":"listVolumes","summary":"List volumes","responses":{"200":{"description":"OK","content":{"application/json":{"schema":{"$ref":"#/components/schemas/VolumeList"}}}},"401":{"$ref":"#/components/responses/401"},"422":{"$ref":"#/components/responses/422"},"429":{"$ref":"#/components/responses/429"},"5XX":{"$ref":"#/components/responses/5XX"}}}}}"##;
const NETWORKS_TOOL: &str = r#"{"annotations":{"destructiveHint":false,"idempotentHint":true,"openWorldHint":false,"readOnlyHint":true},"description":"List Docker networks with their short id, driver, scope, creation time and labels","inputSchema":{"properties":{},"required":[],"type":"object"},"name":"list_networks","outputSchema":{"properties":{"networks":{"items":{"properties":{"created":{"type":"integer"},"driver":{"type":"string"},"id":{"type":"string"},"internal":{"type":"boolean"},"labels":{"type":"object"},"name":{"type":"string"},"scope":{"type":"string"}},"required":["id","name","driver","scope","internal","created","labels"],"type":"object"},"type":"array"},"total":{"type":"integer"}},"required":["networks","total"],"type":"object"},"title":"List networks"}"#;
const NETWORKS_API: &str = r##"{"/api/v1/networks/":{"get":{"operationId":"listNetworks","summary":"List networks","responses":{"200":{"description":"OK","content":{"application/json":{"schema":{"$ref":"#/components/schemas/NetworkList"}}}},"401":{"$ref":"#/components/responses/401"},"422":{"$ref":"#/components/responses/422"},"429":{"$ref":"#/components/responses/429"},"5XX":{"$ref":"#/components/responses/5XX"}}}}}"##;
