//! Daemon-wide information: reachability (`/healthz`, and the check at
//! start), version, and the enhanced health object (`/health`), which
//! reports a disconnected daemon as data (`status: "degraded"`) rather than
//! as an error, and the access policy in force (modes, scope, roles). An unreachable daemon is explained: the open probe says what
//! the OS said, callers with a token also get the socket and the fix.

use super::Service;
use super::access::summary_facts;
use crate::contract::{EnhancedHealth, Health, VersionInfo};
use crate::docker::DockerError;
use crate::error::Error;
use crate::policy::{Caller, Op};
use serde::de::IgnoredAny;
use std::time::Duration;

/// A host's daemon as the fleet knows it ([`Service::host_facts`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostFacts {
    pub id: String,
    pub name: String,
    pub docker_version: String,
    /// Containers in scope: running, and all.
    pub running: i64,
    pub total: i64,
}

impl Service {
    /// `ok` when the daemon answers, else `degraded` with the reason. A
    /// daemon that answered any call in the last second counts without a new
    /// ping, and concurrent probes share one ping, so this unauthenticated,
    /// unlimited probe cannot be used to flood the daemon; a failure to reach
    /// it clears that at once.
    pub async fn health(&self) -> Health {
        let reached = if self.docker.answered_within(Duration::from_secs(1)) {
            Ok(())
        } else {
            self.docker.ping().await
        };
        match reached {
            Ok(()) => Health {
                status: "ok",
                docker_connected: true,
                docker_error: None,
            },
            Err(e) => Health {
                status: "degraded",
                docker_connected: false,
                docker_error: Some(self.summary(&e)),
            },
        }
    }

    /// Why a ping failed, without the socket path or address.
    fn summary(&self, e: &DockerError) -> String {
        match e {
            DockerError::Unavailable(_) => self.docker.unreachable().map_or_else(
                || "cannot reach the Docker daemon".into(),
                |why| why.summary(),
            ),
            DockerError::Timeout => "the Docker daemon did not answer in time".into(),
            DockerError::Status { status, .. } => format!("the Docker daemon answered {status}"),
            DockerError::Protocol(_) => "the Docker daemon's answer was unreadable".into(),
        }
    }

    /// The message for `e`, with — for an unreachable daemon — the socket or
    /// address, what the OS said and the fix (for callers with a token).
    pub fn explain(&self, e: &Error) -> String {
        match (e, self.docker.unreachable()) {
            (Error::DockerUnavailable, Some(why)) => format!("{}: {why}", e.message()),
            _ => e.message(),
        }
    }

    /// Probes the daemon once at start and, if it cannot be reached, says
    /// why and how to fix it. The agent serves anyway: the daemon may come later.
    pub async fn check_at_start(&self) {
        if let Err(e) = self.docker.ping().await {
            let why = self
                .docker
                .unreachable()
                .map_or_else(|| e.to_string(), |why| why.to_string());
            log::warn!("{why}; serving anyway: Docker routes answer 503 until it can be reached");
        }
    }

    /// The Docker API version the agent speaks with the daemon, once
    /// negotiated (`None` while the daemon has not been reached).
    pub fn api_version(&self) -> Option<String> {
        self.docker.api_version()
    }

    pub async fn version(&self, caller: &Caller, op: Op) -> Result<VersionInfo, Error> {
        self.permit(caller, op)?;
        let v = self.docker.version().await?;
        Ok(VersionInfo {
            api_version: v.api_version,
            docker_version: v.version,
            os: v.os,
            arch: v.arch,
        })
    }

    /// Version and counts from three concurrent Docker calls (under a scope,
    /// the container counts are of the containers in scope), and the policy
    /// in force. `images_total` counts what `/images/` lists (Docker's
    /// `/info` also counts intermediate images).
    pub async fn enhanced_health(&self, caller: &Caller, op: Op) -> Result<EnhancedHealth, Error> {
        self.permit(caller, op)?;
        let (version, info, images) = tokio::join!(
            self.docker.version(),
            self.docker.info(),
            self.docker.images::<IgnoredAny>(),
        );
        let mut health = match (version, info, images) {
            (Ok(v), Ok(i), Ok(images)) => EnhancedHealth {
                status: "ok",
                docker_connected: true,
                docker_version: Some(v.version),
                api_version: Some(v.api_version),
                os: Some(v.os),
                arch: Some(v.arch),
                containers_running: Some(i.containers_running),
                containers_total: Some(i.containers),
                images_total: Some(images.len() as i64),
                memory_total: Some(i.mem_total),
                cpus: Some(i.ncpu),
                ..EnhancedHealth::default()
            },
            (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => self.degraded(Error::from(e)),
        };
        if health.status == "ok" && self.policy.scoped() {
            match self.scoped_counts().await {
                Ok((running, total)) => {
                    health.containers_running = Some(running);
                    health.containers_total = Some(total);
                }
                Err(e) => health = self.degraded(e),
            }
        }
        (health.read_only, health.mcp_read_only) = self.policy.modes();
        health.scope = self.policy.scope_report();
        health.roles = self.policy.roles_report();
        Ok(health)
    }

    fn degraded(&self, err: Error) -> EnhancedHealth {
        EnhancedHealth {
            status: "degraded",
            docker_connected: !matches!(err, Error::DockerUnavailable | Error::DockerTimeout),
            error: Some(self.explain(&err)),
            ..EnhancedHealth::default()
        }
    }

    /// Who this host is, for the other agents of a fleet: the daemon's id,
    /// name and version, and its containers in scope. Asked by peers, not
    /// callers, so it needs no caller and says nothing a caller could not
    /// learn from `/health`.
    pub async fn host_facts(&self) -> Result<HostFacts, Error> {
        let info = self.docker.info().await.map_err(Error::from)?;
        let (running, total) = match self.policy.scoped() {
            true => self.scoped_counts().await?,
            false => (info.containers_running, info.containers),
        };
        Ok(HostFacts {
            id: info.id,
            name: info.name,
            docker_version: info.server_version,
            running,
            total,
        })
    }

    /// This host's Docker daemon id: what a person's confirmation is bound
    /// to, besides the call.
    pub async fn daemon_id(&self) -> Result<String, Error> {
        Ok(self.docker.info().await.map_err(Error::from)?.id)
    }

    /// `(running, total)` containers in scope.
    async fn scoped_counts(&self) -> Result<(i64, i64), Error> {
        let all = self.all_containers().await?;
        let seen = all.iter().filter(|c| self.policy.sees(summary_facts(c)));
        Ok(seen.fold((0, 0), |(r, t), c| {
            (r + i64::from(c.state == "running"), t + 1)
        }))
    }
}
