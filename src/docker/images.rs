//! Images, as Docker's API has them: list, inspect, remove and pull. A
//! reference travels as one encoded path segment, `/` and `:` included.

use super::client::{Docker, Headers};
use super::models::ImageInspect;
use super::{DockerError, path};
use hyper::body::Incoming;
use hyper::{Method, Response};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::time::Duration;

impl Docker {
    /// `GET /images/json`: the images on the host.
    pub async fn images<T: DeserializeOwned>(&self) -> Result<Vec<T>, DockerError> {
        self.get_json("/images/json").await
    }

    /// `GET /images/{reference}/json`: the image a reference or id resolves to.
    pub async fn image(&self, reference: &str) -> Result<ImageInspect, DockerError> {
        self.get_json(&format!("/images/{}/json", path::segment(reference)))
            .await
    }

    /// `DELETE /images/{reference}`: what Docker untagged and deleted.
    pub async fn remove_image(&self, reference: &str, force: bool) -> Result<Value, DockerError> {
        let query = path::query(&[("force", if force { "1" } else { "0" })]);
        let at = format!("/images/{}{query}", path::segment(reference));
        self.send_json(Method::DELETE, &at, Vec::new(), self.timeout())
            .await
    }

    /// `POST /images/create?fromImage=&tag=` with `headers` (the registry
    /// credentials): the progress stream, read as it comes; `deadline`
    /// bounds the wait for its head.
    pub async fn pull_image(
        &self,
        from_image: &str,
        tag: &str,
        headers: Headers<'_>,
        deadline: Duration,
    ) -> Result<Response<Incoming>, DockerError> {
        let query = path::query(&[("fromImage", from_image), ("tag", tag)]);
        self.open_post(&format!("/images/create{query}"), headers, deadline)
            .await
    }
}
