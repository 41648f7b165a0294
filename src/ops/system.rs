//! The daemon: its health with the agent's policy (`GET /api/v1/health`,
//! the tool `docker_health`) and its version (`GET /api/v1/version`, the
//! tool `docker_version`).

use super::{Answer, Cx, Input, Operation, Pending, Rest};
use crate::policy::Op;

pub static HEALTH: Operation = Operation {
    name: "docker_health",
    op: Op::read("health", "health"),
    rest: Some(Rest::get("/api/v1/health")),
    stream: None,
    tool: Some(HEALTH_TOOL),
    openapi: Some(HEALTH_API),
    run: health,
};

fn health<'a>(cx: &'a Cx<'a>, input: Input<'a>) -> Pending<'a> {
    Box::pin(async move {
        input.finish()?;
        let health = cx.app.service.enhanced_health(cx.caller, HEALTH.op).await?;
        Answer::json(&health)
    })
}

pub static VERSION: Operation = Operation {
    name: "docker_version",
    op: Op::read("version", "version"),
    rest: Some(Rest::get("/api/v1/version")),
    stream: None,
    tool: Some(VERSION_TOOL),
    openapi: Some(VERSION_API),
    run: version,
};

fn version<'a>(cx: &'a Cx<'a>, input: Input<'a>) -> Pending<'a> {
    Box::pin(async move {
        input.finish()?;
        Answer::json(&cx.app.service.version(cx.caller, VERSION.op).await?)
    })
}

const HEALTH_TOOL: &str = r#"{"annotations":{"destructiveHint":false,"idempotentHint":true,"openWorldHint":false,"readOnlyHint":true},"description":"Get Docker daemon health status and system information including container counts, memory, and CPU info","inputSchema":{"properties":{},"required":[],"type":"object"},"name":"docker_health","outputSchema":{"properties":{"api_version":{"type":["string","null"]},"arch":{"type":["string","null"]},"containers_running":{"type":["integer","null"]},"containers_total":{"type":["integer","null"]},"cpus":{"type":["integer","null"]},"docker_connected":{"type":"boolean"},"docker_version":{"type":["string","null"]},"error":{"type":["string","null"]},"images_total":{"type":["integer","null"]},"memory_total":{"type":["integer","null"]},"os":{"type":["string","null"]},"status":{"enum":["ok","degraded"],"type":"string"}},"required":["status","docker_connected"],"type":"object"},"title":"Docker health"}"#;
const HEALTH_API: &str = r##"{"/api/v1/health":{"get":{"operationId":"health","summary":"Health, host figures and the policy in force","responses":{"200":{"description":"OK","content":{"application/json":{"schema":{"$ref":"#/components/schemas/EnhancedHealthResponse"}}}},"401":{"$ref":"#/components/responses/401"},"422":{"$ref":"#/components/responses/422"},"429":{"$ref":"#/components/responses/429"}}}}}"##;
const VERSION_TOOL: &str = r#"{"annotations":{"destructiveHint":false,"idempotentHint":true,"openWorldHint":false,"readOnlyHint":true},"description":"Get Docker version information","inputSchema":{"properties":{},"required":[],"type":"object"},"name":"docker_version","outputSchema":{"properties":{"api_version":{"type":"string"},"arch":{"type":"string"},"docker_version":{"type":"string"},"os":{"type":"string"}},"required":["api_version","docker_version","os","arch"],"type":"object"},"title":"Docker version"}"#;
const VERSION_API: &str = r##"{"/api/v1/version":{"get":{"operationId":"getVersion","summary":"Docker's version","responses":{"200":{"description":"OK","content":{"application/json":{"schema":{"$ref":"#/components/schemas/VersionResponse"}}}},"401":{"$ref":"#/components/responses/401"},"422":{"$ref":"#/components/responses/422"},"429":{"$ref":"#/components/responses/429"},"5XX":{"$ref":"#/components/responses/5XX"}}}}}"##;
