//! Daemon-wide information: reachability (`/healthz`), version, and the
//! enhanced health object (`/health`), which reports a disconnected daemon
//! as data (`status: "degraded"`) rather than as an error.

use super::Service;
use crate::docker::models;
use crate::error::Error;
use crate::models::{EnhancedHealth, Health, VersionInfo};
use std::time::Duration;

impl Service {
    /// `ok` when the daemon answers, else `degraded`. A daemon that
    /// answered any call in the last second counts without a new ping, so
    /// this unauthenticated, unlimited probe cannot be used to flood the
    /// daemon; a failure to reach it clears that at once.
    pub async fn health(&self) -> Health {
        let connected =
            self.docker.answered_within(Duration::from_secs(1)) || self.docker.ping().await.is_ok();
        Health {
            status: if connected { "ok" } else { "degraded" },
            docker_connected: connected,
        }
    }

    pub async fn version(&self) -> Result<VersionInfo, Error> {
        let v: models::Version = self.docker.get_json("/version").await?;
        Ok(VersionInfo {
            api_version: v.api_version,
            docker_version: v.version,
            os: v.os,
            arch: v.arch,
        })
    }

    /// Version and counts from two concurrent Docker calls.
    pub async fn enhanced_health(&self) -> EnhancedHealth {
        let (version, info) = tokio::join!(
            self.docker.get_json::<models::Version>("/version"),
            self.docker.get_json::<models::Info>("/info"),
        );
        match (version, info) {
            (Ok(v), Ok(i)) => EnhancedHealth {
                status: "ok",
                docker_connected: true,
                docker_version: Some(v.version),
                api_version: Some(v.api_version),
                os: Some(v.os),
                arch: Some(v.arch),
                containers_running: Some(i.containers_running),
                containers_total: Some(i.containers),
                images_total: Some(i.images),
                memory_total: Some(i.mem_total),
                cpus: Some(i.ncpu),
                error: None,
            },
            (Err(e), _) | (_, Err(e)) => {
                let err = Error::from(e);
                EnhancedHealth {
                    status: "degraded",
                    docker_connected: !matches!(
                        err,
                        Error::DockerUnavailable | Error::DockerTimeout
                    ),
                    error: Some(err.message()),
                    ..EnhancedHealth::default()
                }
            }
        }
    }
}
