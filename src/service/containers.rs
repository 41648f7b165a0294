//! Containers: list (one Docker call with Docker's own filters, then
//! filtered to the scope), inspect, and the start/stop/restart/pause/
//! unpause/kill actions. "Already started" and "already stopped" (Docker's
//! 304) are successes, as in the v1 contract; Docker's 409 (not running,
//! already paused, not paused) is a 409 with Docker's message.

use super::access::summary_facts;
use super::filters::ContainerFilters;
use super::{Service, check_container_ref, image_display};
use crate::contract::*;
use crate::docker::models;
use crate::error::Error;
use crate::policy::{Caller, Op};
use std::time::Duration;

impl Service {
    /// The containers in scope that Docker's `filters` match.
    pub async fn list_containers(
        &self,
        caller: &Caller,
        op: Op,
        all: bool,
        filters: &ContainerFilters,
    ) -> Result<ContainerList, Error> {
        self.permit(caller, op)?;
        let json = filters.docker_json();
        let raw: Vec<models::ListedContainer> =
            self.docker.containers(all, json.as_deref()).await?;
        let containers: Vec<ContainerSummary> = raw
            .into_iter()
            .filter(|c| self.policy.sees(summary_facts(c)))
            .map(summary)
            .collect();
        Ok(ContainerList {
            total: containers.len(),
            containers,
        })
    }

    /// Inspects a reference as Docker resolves it, without asking the policy.
    pub(super) async fn inspect(&self, id: &str) -> Result<models::ContainerInspect, Error> {
        check_container_ref(id)?;
        self.docker
            .container(id)
            .await
            .map_err(|e| Error::for_container(e, id))
    }

    /// A container's detail; environment values redacted for a caller
    /// whose credential is kept from them (see [`crate::policy::Restrictions`]).
    pub async fn container(
        &self,
        caller: &Caller,
        op: Op,
        id: &str,
    ) -> Result<ContainerDetail, Error> {
        let mut d = detail(self.admit(caller, op, id).await?);
        if caller.restrictions.redact_env {
            redact(&mut d.config.env);
        }
        Ok(d)
    }

    /// Admits `op` on `id`, judges its host paths again before it starts
    /// (see [`super::mounts`]), then POSTs the action (with `query`) to the
    /// container's full id. A stop or restart (`timeout`), which Docker
    /// answers only after the container's grace period, takes a place
    /// among the bounded waits ([`super::waits`]) instead of a Docker call
    /// turn, and that long on top of the usual deadline.
    pub async fn act(
        &self,
        caller: &Caller,
        op: Op,
        id: &str,
        query: &[(&str, &str)],
        timeout: Option<u32>,
    ) -> Result<(), Error> {
        let c = self.admit(caller, op, id).await?;
        let done = async {
            if op.starts {
                self.vet_mounts_before_start(&c).await?;
            }
            let deadline = self.docker.timeout();
            let sent = match timeout {
                Some(t) => {
                    let mut place = self.waits.enter(caller.subject().to_string(), &c.id)?;
                    place.turn().await;
                    let grace = deadline + Duration::from_secs(t.into());
                    self.docker
                        .container_wait_action(&c.id, op.name, t, grace)
                        .await
                }
                None => {
                    self.docker
                        .container_action(&c.id, op.name, query, deadline)
                        .await
                }
            };
            sent.map(drop)
                .map_err(|e| state_conflict(Error::for_container(e, id)))
        }
        .await;
        self.record_action(caller, op, &c, &done);
        done
    }
}

/// Docker answers unpausing a container that is not paused with a 500:
/// it is a conflict with the container's state, like "already paused".
fn state_conflict(e: Error) -> Error {
    match e {
        Error::DockerFailed(m) if m.ends_with("is not paused") => Error::Conflict(m),
        e => e,
    }
}

/// Replaces each `KEY=value` by `KEY=<redacted>`, keeping the names.
fn redact(env: &mut [String]) {
    for entry in env {
        let name = entry.split('=').next().unwrap_or_default();
        *entry = format!("{name}=<redacted>");
    }
}

pub fn action(id: &str, status: &'static str) -> ContainerAction {
    ContainerAction {
        container_id: id.to_string(),
        status,
        message: format!("Container {id} {status} successfully"),
    }
}

fn summary(c: models::ListedContainer) -> ContainerSummary {
    let (exit_code, health) = (c.exit_code(), c.health());
    let name = c
        .names
        .first()
        .map(|n| n.trim_start_matches('/'))
        .unwrap_or_default();
    ContainerSummary {
        id: c.id.chars().take(12).collect(),
        name: name.to_string(),
        image: image_display(&c.image),
        status: c.state.clone(),
        state: c.state,
        created: c.created,
        ports: c
            .ports
            .into_iter()
            .map(|p| ContainerPort {
                private_port: p.private_port,
                public_port: p.public_port,
                kind: if p.kind.is_empty() {
                    "tcp".into()
                } else {
                    p.kind
                },
                ip: p.ip,
            })
            .collect(),
        status_text: c.status,
        exit_code,
        health,
    }
}

pub(super) fn detail(c: models::ContainerInspect) -> ContainerDetail {
    let ports = port_details(c.network_settings.ports.unwrap_or_default());
    let networks = c
        .network_settings
        .networks
        .unwrap_or_default()
        .into_iter()
        .map(|(name, n)| {
            let net = ContainerNetwork {
                ip_address: n.ip_address,
                gateway: n.gateway,
                mac_address: n.mac_address,
            };
            (name, net)
        })
        .collect();
    ContainerDetail {
        short_id: c.id.chars().take(12).collect(),
        id: c.id,
        name: c.name.trim_start_matches('/').to_string(),
        image: image_display(&c.config.image),
        image_id: c.image,
        created: crate::clock::parse_rfc3339(&c.created).unwrap_or(0),
        status: c.state.status.clone(),
        state: state(c.state),
        config: config(c.config),
        host_config: ContainerHostConfig {
            memory_limit: c.host_config.memory,
            cpu_shares: c.host_config.cpu_shares,
            restart_policy: c
                .host_config
                .restart_policy
                .unwrap_or_else(|| serde_json::json!({})),
            privileged: c.host_config.privileged,
        },
        mounts: c.mounts.into_iter().map(mount).collect(),
        networks,
        ports,
    }
}

fn state(s: models::InspectState) -> ContainerState {
    ContainerState {
        status: s.status,
        running: s.running,
        paused: s.paused,
        restarting: s.restarting,
        pid: s.pid,
        exit_code: s.exit_code,
        started_at: s.started_at,
        finished_at: s.finished_at,
    }
}

fn config(c: models::InspectConfig) -> ContainerConfig {
    ContainerConfig {
        hostname: c.hostname,
        user: c.user,
        env: c.env.unwrap_or_default(),
        cmd: c.cmd,
        entrypoint: c.entrypoint,
        working_dir: c.working_dir,
        labels: c.labels.unwrap_or_default(),
    }
}

fn mount(m: models::Mount) -> ContainerMount {
    ContainerMount {
        kind: m.kind,
        source: m.source,
        destination: m.destination,
        mode: m.mode,
        read_only: !m.rw,
    }
}

/// `{"80/tcp": [{"HostIp","HostPort"}] | null}` → one entry per binding,
/// or one unbound entry for an exposed-only port.
fn port_details(
    ports: std::collections::BTreeMap<String, Option<Vec<models::PortBinding>>>,
) -> Vec<ContainerPortDetail> {
    let mut out = Vec::new();
    for (spec, bindings) in ports {
        let (port, protocol) = spec.split_once('/').unwrap_or((&spec, "tcp"));
        let Ok(container_port) = port.parse::<u16>() else {
            continue;
        };
        let unbound = || ContainerPortDetail {
            container_port,
            host_port: None,
            protocol: protocol.to_string(),
            host_ip: String::new(),
        };
        match bindings.filter(|b| !b.is_empty()) {
            None => out.push(unbound()),
            Some(bindings) => out.extend(bindings.into_iter().map(|b| ContainerPortDetail {
                host_port: b.host_port.parse().ok(),
                host_ip: b.host_ip,
                ..unbound()
            })),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inspect_fixture_maps_to_the_contract() {
        let raw: models::ContainerInspect =
            serde_json::from_str(include_str!("../../fixtures/docker/container-inspect.json"))
                .unwrap();
        let d = serde_json::to_value(detail(raw)).unwrap();
        assert_eq!(d["short_id"].as_str().unwrap().len(), 12);
        assert_eq!(d["name"], "web");
        assert_eq!(d["state"]["running"], true);
        assert!(d["created"].as_i64().unwrap() > 1_600_000_000);
        assert_eq!(d["config"]["entrypoint"], serde_json::json!(["/testbox"]));
        assert_eq!(d["config"]["env"], serde_json::json!([]));
        assert_eq!(d["host_config"]["restart_policy"]["Name"], "no");
        assert_eq!(d["mounts"][0]["read_only"], true);
        assert_eq!(d["networks"]["bridge"]["gateway"], "172.17.0.1");
        let ports = d["ports"].as_array().unwrap();
        assert!(ports.contains(&serde_json::json!({"container_port": 80, "host_port": 8080, "protocol": "tcp", "host_ip": "0.0.0.0"})));
        assert!(ports.contains(&serde_json::json!({"container_port": 53, "host_port": null, "protocol": "udp", "host_ip": ""})));
    }

    #[test]
    fn environment_values_are_redacted_names_kept() {
        let mut env = vec![
            "PASSWORD=hunter2".to_string(),
            "A=b=c".into(),
            "EMPTY".into(),
        ];
        redact(&mut env);
        assert_eq!(
            env,
            ["PASSWORD=<redacted>", "A=<redacted>", "EMPTY=<redacted>"]
        );
    }

    #[test]
    fn unpausing_a_running_container_is_a_conflict() {
        let e = state_conflict(Error::DockerFailed("Container abc is not paused".into()));
        assert_eq!(e.status(), 409);
        let other = state_conflict(Error::DockerFailed("disk full".into()));
        assert_eq!(other.status(), 502);
    }

    #[test]
    fn list_entry_maps_to_the_contract() {
        let raw: models::ListedContainer = serde_json::from_value(serde_json::json!({
            "Id": "0123456789abcdef0123", "Names": ["/web"], "Image": "sha256:708fdf49030d5a8e59",
            "State": "running", "Status": "Up 2 minutes", "Created": 1735123456,
            "Ports": [{"IP": "0.0.0.0", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"}, {"PrivatePort": 443, "Type": "tcp"}]
        }))
        .unwrap();
        let s = serde_json::to_value(summary(raw)).unwrap();
        assert_eq!(
            s,
            serde_json::json!({
                "id": "0123456789ab", "name": "web", "image": "sha256:708fdf4903", "status": "running",
                "state": "running", "created": 1735123456,
                "ports": [{"PrivatePort": 80, "PublicPort": 8080, "Type": "tcp", "IP": "0.0.0.0"},
                          {"PrivatePort": 443, "PublicPort": null, "Type": "tcp", "IP": null}],
                "status_text": "Up 2 minutes", "exit_code": null, "health": null
            })
        );
    }
}
