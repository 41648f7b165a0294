//! Removing a container (`DELETE /api/v1/containers/{id}`, the tool
//! `remove_container`: `force` kills a running one, `volumes` removes its
//! anonymous volumes too) and an image (`DELETE /api/v1/images/{image}`,
//! the reference with its `/`, and the tool `remove_image`: `force` also
//! removes it from under stopped containers).

use super::{Answer, Cx, Input, Operation, Pending, Rest};
use crate::policy::Op;

pub static CONTAINER: Operation = Operation {
    name: "remove_container",
    op: Op::admin("remove", "container.remove")
        .interrupting()
        .destructive(),
    rest: Some(Rest::delete("/api/v1/containers/{id}")),
    stream: None,
    tool: Some(CONTAINER_TOOL),
    openapi: Some(CONTAINER_API),
    run: container,
};

fn container<'a>(cx: &'a Cx<'a>, mut input: Input<'a>) -> Pending<'a> {
    Box::pin(async move {
        let id = input.container();
        let (force, volumes) = (input.bool("force", false), input.bool("volumes", false));
        input.finish()?;
        let s = &cx.app.service;
        Answer::json(
            &s.remove(cx.caller, CONTAINER.op, &id, force, volumes)
                .await?,
        )
    })
}

pub static IMAGE: Operation = Operation {
    name: "remove_image",
    op: Op::admin("remove_image", "image.remove").destructive(),
    rest: Some(Rest::delete("/api/v1/images/{image*}")),
    stream: None,
    tool: Some(IMAGE_TOOL),
    openapi: Some(IMAGE_API),
    run: image,
};

fn image<'a>(cx: &'a Cx<'a>, mut input: Input<'a>) -> Pending<'a> {
    Box::pin(async move {
        let image = input.target("image", "image", "an image reference or id.");
        let force = input.bool("force", false);
        input.finish()?;
        let s = &cx.app.service;
        Answer::json(&s.remove_image(cx.caller, IMAGE.op, &image, force).await?)
    })
}

const CONTAINER_TOOL: &str = r#"{"annotations":{"destructiveHint":true,"idempotentHint":true,"openWorldHint":false,"readOnlyHint":false},"description":"Remove a container (force to remove a running one)","inputSchema":{"properties":{"container_id":{"description":"Container ID or name","type":"string"},"force":{"default":false,"description":"Kill and remove a running container","type":"boolean"},"volumes":{"default":false,"description":"Also remove its anonymous volumes","type":"boolean"}},"required":["container_id"],"type":"object"},"name":"remove_container","outputSchema":{"properties":{"container_id":{"type":"string"},"message":{"type":"string"},"status":{"type":"string"}},"required":["container_id","status","message"],"type":"object"},"title":"Remove container"}"#;
const CONTAINER_API: &str = r##"{"/api/v1/containers/{container_id}":{"delete":{"operationId":"removeContainer","summary":"Remove a container","parameters":[{"$ref":"#/components/parameters/id"},{"name":"force","in":"query","schema":{"type":"boolean","default":false},"description":"Kill it first if running"},{"name":"volumes","in":"query","schema":{"type":"boolean","default":false},"description":"Also remove its anonymous volumes"}],"responses":{"200":{"description":"OK","content":{"application/json":{"schema":{"$ref":"#/components/schemas/ContainerActionResponse"}}}},"400":{"$ref":"#/components/responses/400"},"401":{"$ref":"#/components/responses/401"},"403":{"$ref":"#/components/responses/403"},"404":{"$ref":"#/components/responses/404"},"409":{"$ref":"#/components/responses/409"},"422":{"$ref":"#/components/responses/422"},"429":{"$ref":"#/components/responses/429"},"5XX":{"$ref":"#/components/responses/5XX"}}}}}"##;
const IMAGE_TOOL: &str = r#"{"annotations":{"destructiveHint":true,"idempotentHint":true,"openWorldHint":false,"readOnlyHint":false},"description":"Remove an image from the host (refused while a container uses it)","inputSchema":{"properties":{"force":{"default":false,"description":"Also remove it from under stopped containers, or untag an image with several tags","type":"boolean"},"image":{"description":"Image reference or id","type":"string"}},"required":["image"],"type":"object"},"name":"remove_image","outputSchema":{"properties":{"deleted":{"items":{"type":"string"},"type":"array"},"image":{"type":"string"},"message":{"type":"string"},"status":{"type":"string"},"untagged":{"items":{"type":"string"},"type":"array"}},"required":["image","status","message","untagged","deleted"],"type":"object"},"title":"Remove image"}"#;
const IMAGE_API: &str = r##"{"/api/v1/images/{image}":{"delete":{"operationId":"removeImage","summary":"Remove an image","parameters":[{"name":"image","in":"path","required":true,"schema":{"type":"string"},"description":"Reference or id; its / may stay unencoded"},{"name":"force","in":"query","schema":{"type":"boolean","default":false}}],"responses":{"200":{"description":"OK","content":{"application/json":{"schema":{"$ref":"#/components/schemas/ImageRemoval"}}}},"400":{"$ref":"#/components/responses/400"},"401":{"$ref":"#/components/responses/401"},"403":{"$ref":"#/components/responses/403"},"404":{"$ref":"#/components/responses/404"},"409":{"$ref":"#/components/responses/409"},"422":{"$ref":"#/components/responses/422"},"429":{"$ref":"#/components/responses/429"},"5XX":{"$ref":"#/components/responses/5XX"}}}}}"##;
