//! The host's images (`GET /api/v1/images/`, the tool `list_images`), and
//! pulling one (`POST /api/v1/images/pull`, the tool `pull_image`: `image`,
//! `tag` and registry `auth`, read by [`PullRequest::read`]; its progress
//! comes as it goes, then a summary).

use super::{Answer, Cx, Input, Operation, Pending, Rest};
use crate::policy::Op;
use crate::service::pull::PullRequest;

pub static LIST: Operation = Operation {
    name: "list_images",
    op: Op::read("list_images", "list_images"),
    rest: Some(Rest::get("/api/v1/images/")),
    stream: None,
    tool: Some(LIST_TOOL),
    openapi: Some(LIST_API),
    run: list,
};

fn list<'a>(cx: &'a Cx<'a>, input: Input<'a>) -> Pending<'a> {
    Box::pin(async move {
        input.finish()?;
        let list = cx.app.service.list_images(cx.caller, LIST.op).await?;
        Answer::json_showing(&list, &list.images)
    })
}

pub static PULL: Operation = Operation {
    name: "pull_image",
    op: Op::admin("pull", "image.pull"),
    rest: Some(Rest::post("/api/v1/images/pull").with_body(200)),
    stream: None,
    tool: Some(PULL_TOOL),
    openapi: Some(PULL_API),
    run: pull,
};

fn pull<'a>(cx: &'a Cx<'a>, mut input: Input<'a>) -> Pending<'a> {
    Box::pin(async move {
        let request = PullRequest::read(&mut input);
        input.finish()?;
        let request = request.ok_or(crate::error::Error::Internal)?;
        let pull = cx.app.service.pull(cx.caller, PULL.op, request).await?;
        Ok(Answer::Pull(pull))
    })
}

const LIST_TOOL: &str = r#"{"annotations":{"destructiveHint":false,"idempotentHint":true,"openWorldHint":false,"readOnlyHint":true},"description":"List all Docker images with their tags and sizes","inputSchema":{"properties":{},"required":[],"type":"object"},"name":"list_images","outputSchema":{"properties":{"images":{"items":{"properties":{"created":{"type":"integer"},"id":{"type":"string"},"size":{"type":"integer"},"tags":{"items":{"type":"string"},"type":"array"}},"required":["id"],"type":"object"},"type":"array"},"total":{"type":"integer"}},"required":["images","total"],"type":"object"},"title":"List images"}"#;
const LIST_API: &str = r##"{"/api/v1/images/":{"get":{"operationId":"listImages","summary":"List images","responses":{"200":{"description":"OK","content":{"application/json":{"schema":{"$ref":"#/components/schemas/ImageListResponse"}}}},"401":{"$ref":"#/components/responses/401"},"422":{"$ref":"#/components/responses/422"},"429":{"$ref":"#/components/responses/429"},"5XX":{"$ref":"#/components/responses/5XX"}}}}}"##;
const PULL_TOOL: &str = r#"{"annotations":{"destructiveHint":false,"idempotentHint":true,"openWorldHint":true,"readOnlyHint":false},"description":"Pull an image from its registry (Docker Hub unless the image names another) and report how it went. Give the tag in image or tag (default latest), and auth for a private registry.","inputSchema":{"additionalProperties":false,"properties":{"auth":{"additionalProperties":false,"description":"Registry credentials: username and password, or identitytoken","properties":{"identitytoken":{"type":"string"},"password":{"type":"string"},"serveraddress":{"type":"string"},"username":{"type":"string"}},"type":"object"},"image":{"description":"Image reference: alpine, alpine:3.20, ghcr.io/acme/app@sha256:...","type":"string"},"tag":{"description":"Tag, when image has none (default: latest)","type":"string"}},"required":["image"],"type":"object"},"name":"pull_image","outputSchema":{"properties":{"digest":{"type":["string","null"]},"error":{"type":"null"},"id":{"type":["string","null"]},"image":{"type":"string"},"status":{"enum":["pulled","up to date"],"type":"string"}},"required":["image","status"],"type":"object"},"title":"Pull image"}"#;
const PULL_API: &str = r##"{"/api/v1/images/pull":{"post":{"operationId":"pullImage","summary":"Pull an image, streaming progress","description":"Admin only; the image must match IMAGE_ALLOW. 401 when the registry refuses the credentials.","requestBody":{"required":true,"content":{"application/json":{"schema":{"$ref":"#/components/schemas/PullRequest"}}}},"responses":{"200":{"description":"One JSON object a line: Docker's progress, then {summary}","content":{"application/x-ndjson":{"schema":{"$ref":"#/components/schemas/PullLine"}}}},"401":{"$ref":"#/components/responses/401"},"403":{"$ref":"#/components/responses/403"},"404":{"$ref":"#/components/responses/404"},"413":{"$ref":"#/components/responses/413"},"422":{"$ref":"#/components/responses/422"},"429":{"$ref":"#/components/responses/429"},"5XX":{"$ref":"#/components/responses/5XX"}}}}}"##;
