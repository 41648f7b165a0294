//! The agent's response shapes: the v1 contract
//! (`openapi.json`), field for field. REST returns them as JSON and MCP tools
//! return the same values as `structuredContent`, so both surfaces agree.

use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Debug, Serialize)]
pub struct Token {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
}

#[derive(Debug, Serialize)]
pub struct AuthCheck {
    pub authenticated: bool,
    pub username: String,
    /// Beyond the contract: what the dashboard needs to offer actions.
    pub role: &'static str,
    /// `READ_ONLY`.
    pub read_only: bool,
    /// Whether the caller may start, stop and restart containers in scope.
    pub can_operate: bool,
}

/// A port in the container list; field names as Docker spells them.
#[derive(Debug, Serialize, PartialEq)]
pub struct ContainerPort {
    #[serde(rename = "PrivatePort")]
    pub private_port: u16,
    #[serde(rename = "PublicPort")]
    pub public_port: Option<u16>,
    #[serde(rename = "Type")]
    pub kind: String,
    #[serde(rename = "IP")]
    pub ip: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct ContainerSummary {
    pub id: String,
    pub name: String,
    pub image: String,
    /// The state again, as the v1 contract has it.
    pub status: String,
    pub state: String,
    pub created: i64,
    pub ports: Vec<ContainerPort>,
    /// Beyond the v1 contract, for people reading the list: Docker's own
    /// words (`Up 2 minutes (healthy)`, `Exited (137) 5 seconds ago`).
    pub status_text: String,
    /// How an exited (or restarting) container's last run ended; else `null`.
    pub exit_code: Option<i64>,
    /// `healthy`, `unhealthy` or `starting` for a running container with a
    /// health check; else `null`.
    pub health: Option<&'static str>,
}

#[derive(Debug, Serialize)]
pub struct ContainerList {
    pub containers: Vec<ContainerSummary>,
    pub total: usize,
}

#[derive(Debug, Serialize)]
pub struct ContainerState {
    pub status: String,
    pub running: bool,
    pub paused: bool,
    pub restarting: bool,
    pub pid: i64,
    pub exit_code: i64,
    pub started_at: String,
    pub finished_at: String,
}

#[derive(Debug, Serialize)]
pub struct ContainerConfig {
    pub hostname: String,
    pub user: String,
    pub env: Vec<String>,
    pub cmd: Option<Vec<String>>,
    pub entrypoint: Option<Vec<String>>,
    pub working_dir: String,
    pub labels: BTreeMap<String, String>,
}

#[derive(Debug, Serialize)]
pub struct ContainerHostConfig {
    pub memory_limit: i64,
    pub cpu_shares: i64,
    pub restart_policy: Value,
    pub privileged: bool,
}

#[derive(Debug, Serialize)]
pub struct ContainerMount {
    #[serde(rename = "type")]
    pub kind: String,
    pub source: String,
    pub destination: String,
    pub mode: String,
    pub read_only: bool,
}

#[derive(Debug, Serialize)]
pub struct ContainerNetwork {
    pub ip_address: String,
    pub gateway: String,
    pub mac_address: String,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct ContainerPortDetail {
    pub container_port: u16,
    pub host_port: Option<u16>,
    pub protocol: String,
    pub host_ip: String,
}

#[derive(Debug, Serialize)]
pub struct ContainerDetail {
    pub id: String,
    pub short_id: String,
    pub name: String,
    pub image: String,
    pub image_id: String,
    pub created: i64,
    pub status: String,
    pub state: ContainerState,
    pub config: ContainerConfig,
    pub host_config: ContainerHostConfig,
    pub mounts: Vec<ContainerMount>,
    pub networks: BTreeMap<String, ContainerNetwork>,
    pub ports: Vec<ContainerPortDetail>,
}

#[derive(Debug, Serialize)]
pub struct ContainerLogs {
    pub container_id: String,
    pub logs: String,
    pub tail: u32,
    /// Older lines were left out to keep the answer within its size limit.
    /// Not in the v1 contract: an added field, which clients that do
    /// not know it ignore.
    pub truncated: bool,
}

#[derive(Debug, Serialize)]
pub struct ContainerAction {
    pub container_id: String,
    pub status: &'static str,
    pub message: String,
}

/// The answer to an image removal: what Docker untagged and deleted.
#[derive(Debug, Serialize)]
pub struct ImageRemoval {
    pub image: String,
    pub status: &'static str,
    pub message: String,
    pub untagged: Vec<String>,
    pub deleted: Vec<String>,
}

/// Resource figures of one stats sample, as the Docker CLI computes them.
#[derive(Debug, Serialize, PartialEq, Clone, Copy, Default)]
pub struct StatsFigures {
    pub cpu_percent: f64,
    pub memory_usage: u64,
    pub memory_limit: u64,
    pub memory_percent: f64,
    pub network_rx: u64,
    pub network_tx: u64,
    pub block_read: u64,
    pub block_write: u64,
}

#[derive(Debug, Serialize)]
pub struct ContainerStats {
    pub container_id: String,
    #[serde(flatten)]
    pub figures: StatsFigures,
}

/// One message of the stats WebSocket stream.
#[derive(Debug, Serialize)]
pub struct StatsSample {
    #[serde(flatten)]
    pub figures: StatsFigures,
    /// When Docker took the sample (RFC 3339).
    pub timestamp: String,
    pub pids: u64,
}

#[derive(Debug, Serialize)]
pub struct ImageSummary {
    pub id: String,
    pub tags: Vec<String>,
    pub size: i64,
    pub created: i64,
}

#[derive(Debug, Serialize)]
pub struct ImageList {
    pub images: Vec<ImageSummary>,
    pub total: usize,
}

#[derive(Debug, Serialize)]
pub struct VolumeSummary {
    pub name: String,
    pub driver: String,
    pub mountpoint: String,
    pub scope: String,
    /// Unix seconds (0 when Docker does not say).
    pub created: i64,
    pub labels: BTreeMap<String, String>,
}

#[derive(Debug, Serialize)]
pub struct VolumeList {
    pub volumes: Vec<VolumeSummary>,
    pub total: usize,
}

#[derive(Debug, Serialize)]
pub struct NetworkSummary {
    /// The short id (12 characters).
    pub id: String,
    pub name: String,
    pub driver: String,
    pub scope: String,
    pub internal: bool,
    /// Unix seconds (0 when Docker does not say).
    pub created: i64,
    pub labels: BTreeMap<String, String>,
}

#[derive(Debug, Serialize)]
pub struct NetworkList {
    pub networks: Vec<NetworkSummary>,
    pub total: usize,
}

#[derive(Debug, Serialize)]
pub struct VersionInfo {
    pub api_version: String,
    pub docker_version: String,
    pub os: String,
    pub arch: String,
}

#[derive(Debug, Serialize)]
pub struct Health {
    pub status: &'static str,
    pub docker_connected: bool,
    /// Why Docker is unreachable (no path or address: the route is open);
    /// absent when connected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub docker_error: Option<String>,
}

#[derive(Debug, Serialize, Default)]
pub struct EnhancedHealth {
    pub status: &'static str,
    pub docker_connected: bool,
    pub docker_version: Option<String>,
    pub api_version: Option<String>,
    pub os: Option<String>,
    pub arch: Option<String>,
    pub containers_running: Option<i64>,
    pub containers_total: Option<i64>,
    pub images_total: Option<i64>,
    pub memory_total: Option<i64>,
    pub cpus: Option<i64>,
    pub error: Option<String>,
    /// Added to the v1 contract's fields: the access policy in force.
    pub read_only: bool,
    pub mcp_read_only: bool,
    pub scope: ScopeReport,
    pub roles: RolesReport,
}

/// The container scope in force (`null` and `[]` when unset).
#[derive(Debug, Serialize, Default)]
pub struct ScopeReport {
    pub label: Option<String>,
    pub names: Vec<String>,
    pub exclude_label: Option<String>,
}

/// The roles in force: the login's, the MCP key's, and each scoped token's by name.
#[derive(Debug, Serialize, Default)]
pub struct RolesReport {
    pub login: &'static str,
    pub mcp: &'static str,
    pub tokens: BTreeMap<String, &'static str>,
}

/// A line of `POST /images/pull`'s NDJSON: one of Docker's progress
/// messages, Docker's field names kept (`progress` is its `progressDetail`).
#[derive(Debug, Serialize, PartialEq)]
pub struct PullProgress {
    pub status: String,
    /// The layer (or tag) the message is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress: Option<PullBytes>,
}

/// Bytes done of a layer's download or extraction.
#[derive(Debug, Serialize, PartialEq, Clone, Copy)]
pub struct PullBytes {
    pub current: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
}

/// How a pull ended: its last NDJSON line (inside `{"summary": ...}`) and
/// the `pull_image` tool's result.
#[derive(Debug, Serialize, PartialEq)]
pub struct PullSummary {
    /// The reference pulled, with its tag or digest (`alpine:latest`).
    pub image: String,
    /// The local image id, once pulled.
    pub id: Option<String>,
    /// The manifest digest the registry served.
    pub digest: Option<String>,
    /// `pulled`, `up to date` or `failed`.
    pub status: &'static str,
    /// Why it failed.
    pub error: Option<String>,
}

/// A command run to its end (or its timeout): `POST /containers/{id}/exec`
/// and the `exec_in_container` tool.
#[derive(Debug, Serialize)]
pub struct ExecResult {
    /// `null` when the command was stopped at its timeout.
    pub exit_code: Option<i64>,
    pub stdout: String,
    pub stderr: String,
    /// Output was cut: past 1 MiB a stream (REST), or to fit an MCP answer.
    pub truncated: bool,
    pub timed_out: bool,
}
