//! The hosts of the fleet (`GET /api/v1/hosts`, the tool `list_hosts`):
//! this host and every member, each with its state and why, its daemon's
//! id and version, its containers, round-trip time and last contact. This
//! host is looked at again (one `/info`); the members are as the
//! background probe last found them, so listing costs no member a call.

use super::{Answer, Cx, Input, Operation, Pending, Rest};
use crate::fleet::members::HostView;
use crate::policy::Op;
use serde::Serialize;

pub static HOSTS: Operation = Operation {
    name: "list_hosts",
    op: Op::read("list_hosts", "list_hosts"),
    rest: Some(Rest::get("/api/v1/hosts")),
    stream: None,
    tool: Some(HOSTS_TOOL),
    openapi: Some(HOSTS_API),
    run: hosts,
};

/// The listing: the hosts, how many, and whether this agent is in a fleet.
#[derive(Serialize)]
struct Hosts {
    hosts: Vec<HostView>,
    total: usize,
    fleet: bool,
}

fn hosts<'a>(cx: &'a Cx<'a>, input: Input<'a>) -> Pending<'a> {
    Box::pin(async move {
        input.finish()?;
        cx.app.service.permit(cx.caller, HOSTS.op)?;
        cx.app.fleet.refresh_local().await;
        let hosts = cx.app.fleet.hosts();
        let listing = Hosts {
            total: hosts.len(),
            hosts,
            fleet: cx.app.fleet.enabled(),
        };
        Answer::json_showing(&listing, &listing.hosts)
    })
}

const HOSTS_TOOL: &str = r#"{"annotations":{"destructiveHint":false,"idempotentHint":true,"openWorldHint":false,"readOnlyHint":true},"description":"List the hosts of the fleet this agent is the front door to (this host first): each host's name (what the host argument of every tool takes), daemon id, state (up, degraded, unreachable) and why, Docker version, container counts, round-trip time and last contact","inputSchema":{"properties":{},"required":[],"type":"object"},"name":"list_hosts","outputSchema":{"properties":{"fleet":{"type":"boolean"},"hosts":{"items":{"properties":{"address":{"type":"string"},"containers":{"properties":{"running":{"type":"integer"},"total":{"type":"integer"}},"type":["object","null"]},"docker_version":{"type":["string","null"]},"duplicate_of":{"items":{"type":"string"},"type":"array"},"id":{"type":["string","null"]},"last_contact":{"type":["string","null"]},"name":{"type":"string"},"reason":{"type":["string","null"]},"rtt_ms":{"type":["number","null"]},"source":{"enum":["local","listed","dns"],"type":"string"},"state":{"enum":["up","degraded","unreachable"],"type":"string"},"version":{"type":["string","null"]}},"required":["name","id","address","source","state"],"type":"object"},"type":"array"},"total":{"type":"integer"}},"required":["hosts","total","fleet"],"type":"object"},"title":"List hosts"}"#;
const HOSTS_API: &str = r##"{"/api/v1/hosts":{"get":{"operationId":"listHosts","summary":"The hosts of the fleet, this one first, as last probed","responses":{"200":{"description":"OK","content":{"application/json":{"schema":{"$ref":"#/components/schemas/HostListResponse"}}}},"401":{"$ref":"#/components/responses/401"},"422":{"$ref":"#/components/responses/422"},"429":{"$ref":"#/components/responses/429"}}}}}"##;
