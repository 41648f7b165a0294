//! The daemon itself: its version, its figures, and its events.

use super::client::Docker;
use super::models::{Info, Version};
use super::{DockerError, path};
use hyper::Response;
use hyper::body::Incoming;

impl Docker {
    /// `GET /version`.
    pub async fn version(&self) -> Result<Version, DockerError> {
        self.get_json("/version").await
    }

    /// `GET /info`.
    pub async fn info(&self) -> Result<Info, DockerError> {
        self.get_json("/info").await
    }

    /// `GET /events?filters=&since=`: the events stream, read as it comes
    /// (`filters` is Docker's JSON; `since` is `secs.nanos`).
    pub async fn events(
        &self,
        filters: &str,
        since: Option<&str>,
    ) -> Result<Response<Incoming>, DockerError> {
        let mut pairs = vec![("filters", filters)];
        pairs.extend(since.map(|s| ("since", s)));
        self.open(&format!("/events{}", path::query(&pairs))).await
    }
}
