//! Networks, as Docker's API has them.

use super::DockerError;
use super::client::Docker;
use super::models::HostNetwork;

impl Docker {
    /// `GET /networks`.
    pub async fn networks(&self) -> Result<Vec<HostNetwork>, DockerError> {
        self.get_json("/networks").await
    }
}
