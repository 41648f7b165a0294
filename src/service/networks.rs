//! Networks: a read-only list in a small documented shape. Like images
//! they are the host's, not any container's: the container scope does not
//! filter them.

use super::Service;
use crate::clock::parse_rfc3339;
use crate::contract::{NetworkList, NetworkSummary};
use crate::docker::models;
use crate::error::Error;
use crate::policy::{Caller, Op};

impl Service {
    pub async fn list_networks(&self, caller: &Caller, op: Op) -> Result<NetworkList, Error> {
        self.permit(caller, op)?;
        let raw: Vec<models::HostNetwork> = self.docker.networks().await?;
        let networks: Vec<NetworkSummary> = raw
            .into_iter()
            .map(|n| NetworkSummary {
                id: n.id.chars().take(12).collect(),
                created: parse_rfc3339(&n.created).unwrap_or(0),
                name: n.name,
                driver: n.driver,
                scope: n.scope,
                internal: n.internal,
                labels: n.labels.unwrap_or_default(),
            })
            .collect();
        Ok(NetworkList {
            total: networks.len(),
            networks,
        })
    }
}
