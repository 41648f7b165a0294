//! The parts of Docker's JSON we read, as Docker spells them. Every field
//! defaults when absent so older and newer engines decode alike; the service
//! layer turns these into the agent's own response shapes.

use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// `GET /version`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Version {
    pub version: String,
    pub api_version: String,
    #[serde(rename = "MinAPIVersion")]
    pub min_api_version: String,
    pub os: String,
    pub arch: String,
}

/// `GET /info`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Info {
    /// The daemon's identity: a UUID, or `XXXX:XXXX:…` on older daemons.
    #[serde(rename = "ID")]
    pub id: String,
    /// The host's name (on a Swarm, the node's hostname).
    pub name: String,
    pub server_version: String,
    pub containers: i64,
    pub containers_running: i64,
    pub images: i64,
    pub mem_total: i64,
    #[serde(rename = "NCPU")]
    pub ncpu: i64,
}

/// One entry of `GET /containers/json`: only the fields the list shows
/// and the labels the scope reads (everything else in Docker's entry —
/// mounts, network settings — is skipped while parsing instead of being
/// built and thrown away).
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct ListedContainer {
    pub id: String,
    pub names: Vec<String>,
    pub image: String,
    pub state: String,
    /// Docker's words for the state: `Up 2 minutes (healthy)`,
    /// `Exited (137) 5 seconds ago`, `Created`.
    pub status: String,
    pub created: i64,
    pub ports: Vec<Port>,
    pub labels: Option<BTreeMap<String, String>>,
}

/// What the list tells of a container beyond its state, read from Docker's
/// status text (the list has no other field for it; the times behind "Up 2
/// minutes" are only in each container's inspect).
impl ListedContainer {
    /// How the last run ended: `Exited (137) …`, or `Restarting (1) …`
    /// for a container about to run again.
    pub fn exit_code(&self) -> Option<i64> {
        let rest = (self.status.strip_prefix("Exited ("))
            .or_else(|| self.status.strip_prefix("Restarting ("))?;
        rest.split_once(')')?.0.parse().ok()
    }

    /// A running container's health check: `healthy`, `unhealthy` or
    /// `starting` (`Up 3 seconds (health: starting)`); `None` without a check.
    pub fn health(&self) -> Option<&'static str> {
        let (_, note) = self.status.strip_prefix("Up ")?.split_once(" (")?;
        match note.strip_suffix(')')? {
            "healthy" => Some("healthy"),
            "unhealthy" => Some("unhealthy"),
            "health: starting" => Some("starting"),
            _ => None,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Port {
    #[serde(rename = "IP")]
    pub ip: Option<String>,
    #[serde(rename = "PrivatePort")]
    pub private_port: u16,
    #[serde(rename = "PublicPort")]
    pub public_port: Option<u16>,
    #[serde(rename = "Type")]
    pub kind: String,
}

/// `GET /containers/{id}/json`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct ContainerInspect {
    pub id: String,
    pub name: String,
    pub created: String,
    /// The image id (`sha256:...`).
    pub image: String,
    pub state: InspectState,
    pub config: InspectConfig,
    pub host_config: HostConfig,
    pub mounts: Vec<Mount>,
    pub network_settings: NetworkSettings,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct InspectState {
    pub status: String,
    pub running: bool,
    pub paused: bool,
    pub restarting: bool,
    pub pid: i64,
    pub exit_code: i64,
    pub started_at: String,
    pub finished_at: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct InspectConfig {
    pub hostname: String,
    pub user: String,
    pub env: Option<Vec<String>>,
    pub cmd: Option<Vec<String>>,
    pub entrypoint: Option<Vec<String>>,
    pub working_dir: String,
    pub labels: Option<BTreeMap<String, String>>,
    /// The image reference the container was created from.
    pub image: String,
    pub tty: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct HostConfig {
    pub memory: i64,
    pub cpu_shares: i64,
    pub restart_policy: Option<Value>,
    pub privileged: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Mount {
    #[serde(rename = "Type")]
    pub kind: String,
    /// A volume's name (`volume` mounts).
    pub name: String,
    /// A volume's driver (`volume` mounts).
    pub driver: String,
    pub source: String,
    pub destination: String,
    pub mode: String,
    #[serde(rename = "RW")]
    pub rw: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct NetworkSettings {
    pub networks: Option<BTreeMap<String, Network>>,
    pub ports: Option<BTreeMap<String, Option<Vec<PortBinding>>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Network {
    #[serde(rename = "IPAddress")]
    pub ip_address: String,
    pub gateway: String,
    pub mac_address: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct PortBinding {
    pub host_ip: String,
    pub host_port: String,
}

/// One entry of `GET /images/json`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct ListedImage {
    pub id: String,
    pub repo_tags: Option<Vec<String>>,
    pub size: i64,
    pub created: i64,
}

/// `GET /volumes`: the list is under `Volumes` (null when there are none).
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct VolumeListing {
    pub volumes: Option<Vec<Volume>>,
}

/// One volume of `GET /volumes`, or `GET /volumes/{name}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Volume {
    pub name: String,
    pub driver: String,
    pub mountpoint: String,
    pub created_at: String,
    pub scope: String,
    pub labels: Option<BTreeMap<String, String>>,
    /// The driver's options (`local`: `type`, `o`, `device`).
    pub options: Option<BTreeMap<String, String>>,
}

/// `GET /containers/{id}/top`: the processes in a container, as `ps`
/// lists them (one row of `titles` columns each).
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Top {
    pub titles: Vec<String>,
    pub processes: Vec<Vec<String>>,
}

/// `GET /images/{name}/json`: the image a reference resolves to.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct ImageInspect {
    pub id: String,
    pub repo_tags: Option<Vec<String>>,
    pub repo_digests: Option<Vec<String>>,
}

/// One entry of `GET /networks` (a host network, not a container's attachment).
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct HostNetwork {
    pub id: String,
    pub name: String,
    pub driver: String,
    pub scope: String,
    pub created: String,
    pub internal: bool,
    pub labels: Option<BTreeMap<String, String>>,
}

/// One sample of `GET /containers/{id}/stats`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Stats {
    pub read: String,
    pub cpu_stats: CpuStats,
    pub precpu_stats: CpuStats,
    pub memory_stats: MemoryStats,
    pub networks: Option<BTreeMap<String, NetworkStats>>,
    pub blkio_stats: BlkioStats,
    pub pids_stats: PidsStats,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CpuStats {
    pub cpu_usage: CpuUsage,
    pub system_cpu_usage: Option<u64>,
    pub online_cpus: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CpuUsage {
    pub total_usage: u64,
    pub percpu_usage: Option<Vec<u64>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MemoryStats {
    pub usage: Option<u64>,
    pub limit: Option<u64>,
    pub stats: Option<BTreeMap<String, u64>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NetworkStats {
    pub rx_bytes: u64,
    pub tx_bytes: u64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct BlkioStats {
    pub io_service_bytes_recursive: Option<Vec<BlkioEntry>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct BlkioEntry {
    pub op: String,
    pub value: u64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PidsStats {
    pub current: Option<u64>,
}

/// One message of `POST /images/create`'s progress stream.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PullMessage {
    pub status: Option<String>,
    pub id: Option<String>,
    #[serde(rename = "progressDetail")]
    pub detail: Option<PullDetail>,
    /// Set when the pull failed after it began.
    pub error: Option<String>,
}

/// `progressDetail`: `{}` or `{"current", "total"}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PullDetail {
    pub current: Option<u64>,
    pub total: Option<u64>,
}

/// What creating an object answers (an exec, here).
#[derive(Debug, Default, Deserialize)]
pub struct Created {
    #[serde(rename = "Id")]
    pub id: String,
}

/// `GET /exec/{id}/json`: whether the command still runs, how it ended,
/// and its process id as the daemon sees it.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct ExecInspect {
    pub running: bool,
    pub exit_code: Option<i64>,
    pub pid: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(status: &str) -> ListedContainer {
        ListedContainer {
            status: status.into(),
            ..ListedContainer::default()
        }
    }

    #[test]
    fn the_status_text_gives_exit_codes_and_health() {
        for (text, code, health) in [
            ("Up 2 minutes", None, None),
            ("Up 2 minutes (healthy)", None, Some("healthy")),
            ("Up About an hour (unhealthy)", None, Some("unhealthy")),
            (
                "Up Less than a second (health: starting)",
                None,
                Some("starting"),
            ),
            ("Up 5 minutes (Paused)", None, None),
            ("Exited (137) 5 seconds ago", Some(137), None),
            ("Exited (0) About a minute ago", Some(0), None),
            ("Exited (-1) 2 days ago", Some(-1), None),
            ("Restarting (1) 3 seconds ago", Some(1), None),
            ("Created", None, None),
            ("Dead", None, None),
            ("Removal In Progress", None, None),
            ("", None, None),
            ("Exited (x) now", None, None),
        ] {
            let c = listed(text);
            assert_eq!((c.exit_code(), c.health()), (code, health), "{text}");
        }
    }
}
