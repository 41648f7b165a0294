//! The service layer: one method per Docker operation, returning the
//! contract's shapes. REST handlers, WebSocket streams and MCP tools all call
//! these and nothing else, passing who is calling, so policy that must hold
//! on every surface (container references, roles, scope, read-only modes)
//! lives in exactly one place.
//!
//! - [`access`]: resolving a reference within the scope, and asking the policy.
//! - [`containers`]: list, inspect, start/stop/restart/pause/unpause/kill;
//!   [`kill`]: the signals kill accepts; [`filters`]: the list's filters.
//! - [`exec`]: commands run in containers, one-shot and interactive.
//! - [`logs`]: a container's recent log lines.
//! - [`stats`]: resource figures computed as the Docker CLI does;
//!   [`metrics`]: every in-scope container's figures for `/metrics`, cached.
//! - [`images`]: image list; [`volumes`] and [`networks`]: their lists.
//! - [`pull`]: pulling an image, its progress read as Docker sends it.
//! - [`lifecycle`]: creating and removing containers, removing images;
//!   [`spec`]: the create body, checked, and the Docker JSON made from it;
//!   [`mounts`]: host paths and volumes judged by what Docker will mount.
//! - [`system`]: ping, version, enhanced health.
//! - [`waits`]: bounds on stops and restarts, which wait on a container.
//! - [`streams`]: followed logs, stats and events for the shared streams;
//!   [`follow`]: a followed log decoded into lines with resume positions.

mod access;
mod containers;
pub use containers::action;
pub use waits::PER_CALLER as WAITS_PER_CALLER;
pub mod exec;
pub mod filters;
pub mod follow;
mod images;
pub mod kill;
mod lifecycle;
pub mod logs;
pub mod metrics;
mod mounts;
mod networks;
pub mod pull;
pub mod spec;
pub mod stats;
pub mod streams;
mod system;
pub use system::HostFacts;
mod volumes;
mod waits;

use crate::audit::Audit;
use crate::docker::Docker;
use crate::error::Error;
use crate::policy::Policy;
use std::sync::Arc;
use tokio::sync::Semaphore;

pub struct Service {
    /// Shared with pulls in progress, which outlive the call that began them.
    docker: Arc<Docker>,
    policy: Arc<Policy>,
    /// Turns for reading whole logs, kept until the answer is written
    /// (see [`logs::CONCURRENT_READS`]).
    log_reads: Arc<Semaphore>,
    /// Where refusals and actions on containers are recorded.
    audit: Arc<Audit>,
    /// The last collection of container figures for `/metrics`.
    metrics: metrics::Cache,
    /// The host paths mounted into the agent's own container at the same
    /// path (`None` on the host), found at the first need.
    own_binds: tokio::sync::OnceCell<Option<Vec<std::path::PathBuf>>>,
    /// Stops and restarts in progress, bounded per caller and container.
    waits: waits::Waits,
}

impl Service {
    pub fn new(docker: Docker, policy: Arc<Policy>, audit: Arc<Audit>) -> Service {
        Service {
            docker: Arc::new(docker),
            policy,
            audit,
            log_reads: Arc::new(Semaphore::new(logs::CONCURRENT_READS)),
            metrics: metrics::Cache::default(),
            own_binds: tokio::sync::OnceCell::new(),
            waits: waits::Waits::default(),
        }
    }

    /// The Docker client, for an operation's own calls.
    pub fn docker(&self) -> &Docker {
        &self.docker
    }

    /// How long one collection of container figures serves `/metrics`.
    pub fn with_metrics_cache(mut self, ttl: std::time::Duration) -> Service {
        self.metrics = metrics::Cache::new(ttl);
        self
    }
}

/// Refuses container references Docker could never hold — names are
/// `[a-zA-Z0-9][a-zA-Z0-9_.-]*`, ids are hex — before any Docker call.
/// (Encoding in [`crate::docker::path`] already makes them harmless;
/// this answers 404 without bothering the daemon.)
pub fn check_container_ref(id: &str) -> Result<(), Error> {
    let mut bytes = id.bytes();
    let first_ok = bytes.next().is_some_and(|b| b.is_ascii_alphanumeric());
    let rest_ok = bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if first_ok && rest_ok && id.len() <= 255 {
        Ok(())
    } else {
        Err(Error::ContainerNotFound(id.to_string()))
    }
}

/// Short image id as the v1 contract shows it: `sha256:` and 10 hex digits.
fn short_image_id(id: &str) -> String {
    match id.strip_prefix("sha256:") {
        Some(hex) => format!("sha256:{}", &hex[..hex.len().min(10)]),
        None => id.chars().take(12).collect(),
    }
}

/// An image reference for display: ids shortened, names as given.
fn image_display(reference: &str) -> String {
    if reference.starts_with("sha256:") {
        short_image_id(reference)
    } else {
        reference.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn container_refs_are_checked() {
        for ok in ["web", "a1b2c3", "my_app.v2-blue", &"f".repeat(64)] {
            assert!(check_container_ref(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "../../images/json",
            "x?all=1",
            "-x",
            ".x",
            "a/b",
            "a b",
            "é",
            &"a".repeat(256),
        ] {
            assert_eq!(check_container_ref(bad).unwrap_err().status(), 404, "{bad}");
        }
    }

    #[test]
    fn image_ids_are_shortened_as_the_v1_contract_does() {
        assert_eq!(
            short_image_id("sha256:708fdf49030d5a8e59470a8c"),
            "sha256:708fdf4903"
        );
        assert_eq!(image_display("nginx:latest"), "nginx:latest");
        assert_eq!(
            image_display("sha256:708fdf49030d5a8e"),
            "sha256:708fdf4903"
        );
    }
}
