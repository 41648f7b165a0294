//! A running container's resource figures, sampled once
//! (`GET /api/v1/stats/{id}`, the tool `get_container_stats`), computed as
//! the Docker CLI computes them.

use super::{Answer, Cx, Input, Operation, Pending, Rest};
use crate::policy::Op;

pub static STATS: Operation = Operation {
    name: "get_container_stats",
    op: Op::read("stats", "stats"),
    rest: Some(Rest::get("/api/v1/stats/{id}")),
    stream: None,
    tool: Some(STATS_TOOL),
    openapi: Some(STATS_API),
    run: stats,
};

fn stats<'a>(cx: &'a Cx<'a>, mut input: Input<'a>) -> Pending<'a> {
    Box::pin(async move {
        let id = input.container();
        input.finish()?;
        Answer::json(&cx.app.service.stats(cx.caller, STATS.op, &id).await?)
    })
}

const STATS_TOOL: &str = r#"{"annotations":{"destructiveHint":false,"idempotentHint":true,"openWorldHint":false,"readOnlyHint":true},"description":"Get resource usage statistics (CPU, memory, network, block I/O) for a container","inputSchema":{"properties":{"container_id":{"description":"Container ID or name","type":"string"}},"required":["container_id"],"type":"object"},"name":"get_container_stats","outputSchema":{"properties":{"block_read":{"type":"integer"},"block_write":{"type":"integer"},"container_id":{"type":"string"},"cpu_percent":{"type":"number"},"memory_limit":{"type":"integer"},"memory_percent":{"type":"number"},"memory_usage":{"type":"integer"},"network_rx":{"type":"integer"},"network_tx":{"type":"integer"}},"required":["container_id","cpu_percent","memory_usage","memory_limit","memory_percent"],"type":"object"},"title":"Container stats"}"#;
const STATS_API: &str = r##"{"/api/v1/stats/{container_id}":{"get":{"operationId":"getStats","summary":"One stats sample","parameters":[{"$ref":"#/components/parameters/id"}],"responses":{"200":{"description":"OK","content":{"application/json":{"schema":{"$ref":"#/components/schemas/ContainerStats"}}}},"400":{"$ref":"#/components/responses/400"},"401":{"$ref":"#/components/responses/401"},"404":{"$ref":"#/components/responses/404"},"409":{"$ref":"#/components/responses/409"},"422":{"$ref":"#/components/responses/422"},"429":{"$ref":"#/components/responses/429"},"5XX":{"$ref":"#/components/responses/5XX"}}}}}"##;
