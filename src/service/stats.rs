//! Container resource figures, computed exactly as the Docker CLI's
//! `docker stats` does:
//!
//! - CPU % = (Δ container CPU time / Δ system CPU time) × online CPUs × 100,
//!   zero unless both deltas are positive;
//! - memory = usage minus inactive page cache (`total_inactive_file` on
//!   cgroup v1, `inactive_file` on v2), % of the limit;
//! - network = sum over interfaces; block I/O = sum of `read`/`write` ops
//!   (either case: cgroup v1 says `Read`, v2 says `read`).

use super::Service;
use crate::contract::{ContainerStats, StatsFigures};
use crate::docker::models;
use crate::error::Error;
use crate::policy::{Caller, Op};

impl Service {
    /// One sample (`stream=false`: Docker waits for two readings so CPU % is
    /// real). A container that is not running has no figures: 409, as the
    /// stats stream ends for it.
    pub async fn stats(&self, caller: &Caller, op: Op, id: &str) -> Result<ContainerStats, Error> {
        let c = self.admit(caller, op, id).await?;
        if !c.state.running {
            return Err(Error::Conflict(format!(
                "Container {id} is not running ({}): stats are sampled from a running container",
                c.state.status
            )));
        }
        let raw: models::Stats = self
            .docker
            .container_stats(&c.id, false)
            .await
            .map_err(|e| Error::for_container(e, id))?;
        Ok(ContainerStats {
            container_id: id.to_string(),
            figures: figures(&raw),
        })
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The CLI's CPU percentage.
pub fn cpu_percent(s: &models::Stats) -> f64 {
    let cpu = &s.cpu_stats;
    let pre = &s.precpu_stats;
    let cpu_delta = cpu.cpu_usage.total_usage as f64 - pre.cpu_usage.total_usage as f64;
    let system_delta =
        cpu.system_cpu_usage.unwrap_or(0) as f64 - pre.system_cpu_usage.unwrap_or(0) as f64;
    let online = match cpu.online_cpus {
        Some(n) if n > 0 => f64::from(n),
        _ => cpu.cpu_usage.percpu_usage.as_ref().map_or(0, Vec::len) as f64,
    };
    if cpu_delta > 0.0 && system_delta > 0.0 {
        round2(cpu_delta / system_delta * online * 100.0)
    } else {
        0.0
    }
}

/// Inactive page cache: `total_inactive_file` on cgroup v1, `inactive_file` on v2.
pub fn inactive_file(m: &models::MemoryStats) -> u64 {
    m.stats
        .as_ref()
        .and_then(|s| {
            s.get("total_inactive_file")
                .or_else(|| s.get("inactive_file"))
        })
        .copied()
        .unwrap_or(0)
}

/// The CLI's memory usage: usage without inactive page cache.
pub fn memory_used(m: &models::MemoryStats) -> u64 {
    let usage = m.usage.unwrap_or(0);
    let cache = inactive_file(m);
    if cache < usage { usage - cache } else { usage }
}

/// Bytes of block I/O for `op` (`read` or `write`, either case), summed over devices.
pub fn block_bytes(s: &models::Stats, op: &str) -> u64 {
    s.blkio_stats
        .io_service_bytes_recursive
        .as_ref()
        .map_or(0, |entries| {
            entries
                .iter()
                .filter(|e| e.op.eq_ignore_ascii_case(op))
                .map(|e| e.value)
                .sum()
        })
}

/// All figures of one sample.
pub fn figures(s: &models::Stats) -> StatsFigures {
    let memory_usage = memory_used(&s.memory_stats);
    let memory_limit = s.memory_stats.limit.unwrap_or(0);
    let memory_percent = if memory_limit > 0 {
        round2(memory_usage as f64 / memory_limit as f64 * 100.0)
    } else {
        0.0
    };
    let nets = s.networks.as_ref();
    let net = |f: fn(&models::NetworkStats) -> u64| nets.map_or(0, |n| n.values().map(f).sum());
    StatsFigures {
        cpu_percent: cpu_percent(s),
        memory_usage,
        memory_limit,
        memory_percent,
        network_rx: net(|n| n.rx_bytes),
        network_tx: net(|n| n.tx_bytes),
        block_read: block_bytes(s, "read"),
        block_write: block_bytes(s, "write"),
    }
}

#[cfg(test)]
mod tests;
