//! Volumes and networks: read-only lists in a small documented shape.
//! Like images they are the host's, not any container's: the container
//! scope does not filter them.

use super::Service;
use crate::docker::models;
use crate::error::Error;
use crate::models::{NetworkList, NetworkSummary, VolumeList, VolumeSummary};
use crate::policy::{Caller, Op};

/// Docker's RFC 3339 time as Unix seconds, 0 when absent or unreadable.
fn unix(time: &str) -> i64 {
    crate::clock::parse_rfc3339(time).unwrap_or(0)
}

impl Service {
    pub async fn list_volumes(&self, caller: &Caller, op: Op) -> Result<VolumeList, Error> {
        self.permit(caller, op)?;
        let raw: models::VolumeList = self.docker.volumes().await?;
        let volumes: Vec<VolumeSummary> = raw
            .volumes
            .unwrap_or_default()
            .into_iter()
            .map(|v| VolumeSummary {
                created: unix(&v.created_at),
                name: v.name,
                driver: v.driver,
                mountpoint: v.mountpoint,
                scope: v.scope,
                labels: v.labels.unwrap_or_default(),
            })
            .collect();
        Ok(VolumeList {
            total: volumes.len(),
            volumes,
        })
    }

    pub async fn list_networks(&self, caller: &Caller, op: Op) -> Result<NetworkList, Error> {
        self.permit(caller, op)?;
        let raw: Vec<models::HostNetwork> = self.docker.networks().await?;
        let networks: Vec<NetworkSummary> = raw
            .into_iter()
            .map(|n| NetworkSummary {
                id: n.id.chars().take(12).collect(),
                created: unix(&n.created),
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
