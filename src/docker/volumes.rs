//! Volumes, as Docker's API has them.

use super::client::Docker;
use super::models::{Volume, VolumeListing};
use super::{DockerError, path};
use hyper::Method;
use serde_json::{Value, json};
use std::collections::BTreeMap;

impl Docker {
    /// `GET /volumes`.
    pub async fn volumes(&self) -> Result<VolumeListing, DockerError> {
        self.get_json("/volumes").await
    }

    /// `GET /volumes/{name}`.
    pub async fn volume(&self, name: &str) -> Result<Volume, DockerError> {
        self.get_json(&format!("/volumes/{}", path::segment(name)))
            .await
    }

    /// `POST /volumes/create`: a `local` volume `name` with `labels`.
    pub async fn create_volume(
        &self,
        name: &str,
        labels: &BTreeMap<String, String>,
    ) -> Result<(), DockerError> {
        let body = json!({"Name": name, "Labels": labels})
            .to_string()
            .into_bytes();
        self.send_json::<Value>(Method::POST, "/volumes/create", body, self.timeout())
            .await
            .map(drop)
    }

    /// `DELETE /volumes/{name}`.
    pub async fn remove_volume(&self, name: &str) -> Result<(), DockerError> {
        let at = format!("/volumes/{}", path::segment(name));
        self.send_json::<Value>(Method::DELETE, &at, Vec::new(), self.timeout())
            .await
            .map(drop)
    }
}
