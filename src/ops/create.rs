//! Creating a container from an image on the host
//! (`POST /api/v1/containers/`, the tool `create_container`): the body's
//! documented fields only ([`crate::service::spec::Spec`]), what they ask of the
//! host and mount judged by the policy, and `201` with the new container's
//! detail.

use super::{Answer, Cx, Input, Operation, Pending, Rest};
use crate::policy::Op;

pub static CREATE: Operation = Operation {
    name: "create_container",
    op: Op::admin("create", "container.create"),
    rest: Some(Rest::post("/api/v1/containers/").with_body(201)),
    stream: None,
    tool: Some(CREATE_TOOL),
    openapi: Some(CREATE_API),
    run: create,
};

fn create<'a>(cx: &'a Cx<'a>, input: Input<'a>) -> Pending<'a> {
    Box::pin(
        async move { Answer::json(&cx.app.service.create(cx.caller, CREATE.op, input).await?) },
    )
}

const CREATE_TOOL: &str = r#"{"annotations":{"destructiveHint":false,"idempotentHint":false,"openWorldHint":false,"readOnlyHint":false},"description":"Create a container from an image on the host, optionally starting it","inputSchema":{"additionalProperties":false,"properties":{"binds":{"description":"As docker run -v: source:/destination[:ro]; host paths only under ALLOW_BIND_MOUNTS_FROM","items":{"type":"string"},"type":"array"},"cap_add":{"items":{"type":"string"},"type":"array"},"cmd":{"description":"Command (the image's default when absent)","items":{"type":"string"},"type":"array"},"cpu_shares":{"maximum":262144,"minimum":0,"type":"integer"},"devices":{"items":{"type":"string"},"type":"array"},"entrypoint":{"items":{"type":"string"},"type":"array"},"env":{"additionalProperties":{"type":"string"},"description":"Environment, NAME: value","type":"object"},"image":{"description":"Image reference; it must be on the host already (never pulled implicitly)","type":"string"},"ipc_mode":{"type":"string"},"labels":{"additionalProperties":{"type":"string"},"type":"object"},"memory_limit":{"description":"Bytes, or a string such as 256m or 1g","type":["integer","string"]},"name":{"description":"Container name","type":"string"},"network_mode":{"description":"bridge, none or a network name; host and container:<name> need ALLOW_HOST_ACCESS","type":"string"},"pid_mode":{"type":"string"},"ports":{"description":"As docker run -p: 8080, 18080:8080, 127.0.0.1:18080:8080/udp","items":{"type":"string"},"type":"array"},"privileged":{"description":"Refused unless the operator set ALLOW_HOST_ACCESS","type":"boolean"},"restart_policy":{"description":"no, always, unless-stopped, on-failure or on-failure:N","type":"string"},"security_opt":{"description":"no-new-privileges; others need ALLOW_HOST_ACCESS","items":{"type":"string"},"type":"array"},"start":{"default":false,"description":"Start it once created (docker run); default false (docker create)","type":"boolean"},"uts_mode":{"type":"string"}},"required":["image"],"type":"object"},"name":"create_container","outputSchema":{"properties":{"config":{"type":"object"},"created":{"type":"integer"},"host_config":{"type":"object"},"id":{"type":"string"},"image":{"type":"string"},"image_id":{"type":"string"},"mounts":{"type":"array"},"name":{"type":"string"},"networks":{"type":"object"},"ports":{"type":"array"},"short_id":{"type":"string"},"state":{"type":"object"},"status":{"type":"string"}},"required":["id","short_id","name","image","image_id","created","status","state","config","host_config","mounts","networks","ports"],"type":"object"},"title":"Create container"}"#;
const CREATE_API: &str = r##"{"/api/v1/containers/":{"post":{"operationId":"createContainer","summary":"Create (and with start, start) a container","description":"Admin only. The image must be on the host (404 otherwise) and allowed by IMAGE_ALLOW; host access is refused (403) unless allowed.","requestBody":{"required":true,"content":{"application/json":{"schema":{"$ref":"#/components/schemas/CreateRequest"}}}},"responses":{"201":{"description":"Created","content":{"application/json":{"schema":{"$ref":"#/components/schemas/ContainerDetail"}}}},"400":{"$ref":"#/components/responses/400"},"401":{"$ref":"#/components/responses/401"},"403":{"$ref":"#/components/responses/403"},"404":{"$ref":"#/components/responses/404"},"409":{"$ref":"#/components/responses/409"},"413":{"$ref":"#/components/responses/413"},"422":{"$ref":"#/components/responses/422"},"429":{"$ref":"#/components/responses/429"},"5XX":{"$ref":"#/components/responses/5XX"}}}}}"##;
