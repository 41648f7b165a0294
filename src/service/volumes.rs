//! Volumes: a read-only list in a small documented shape. Like images
//! they are the host's, not any container's: the container scope does not
//! filter them (mounting one is the policy's business when a container is
//! created).

use super::Service;
use crate::clock::parse_rfc3339;
use crate::contract::{VolumeList, VolumeSummary};
use crate::docker::models;
use crate::error::Error;
use crate::policy::{Caller, Op};

impl Service {
    pub async fn list_volumes(&self, caller: &Caller, op: Op) -> Result<VolumeList, Error> {
        self.permit(caller, op)?;
        let raw: models::VolumeListing = self.docker.volumes().await?;
        let volumes: Vec<VolumeSummary> = raw
            .volumes
            .unwrap_or_default()
            .into_iter()
            .map(|v| VolumeSummary {
                created: parse_rfc3339(&v.created_at).unwrap_or(0),
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
}
