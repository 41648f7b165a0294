//! Prometheus metrics, served at `GET /metrics` in the text exposition
//! format (0.0.4).
//!
//! - [`text`]: the exposition writer (HELP/TYPE lines, escaping, histograms).
//! - [`series`]: the agent's own counters and histograms (requests, MCP
//!   tools, refused credentials, Docker calls), read from [`crate::counters`].
//! - [`containers`]: per-container series under cAdvisor's names and labels,
//!   from the service layer's cached collection.
//!
//! Gauges read at scrape time (WebSocket subscribers and upstreams, the
//! process' memory and CPU) and build info (with the Docker API version
//! negotiated, as the Docker client reports it) are written here.

pub mod containers;
pub mod series;
pub mod text;

use crate::app::App;
use crate::error::Error;
use crate::http::body::{self, Body};
use crate::policy::{Caller, Op};
use crate::service::metrics::Collection;
use hyper::Response;
use text::{CONTENT_TYPE, Exposition};

/// Reading `/metrics`: the figures of every container in scope.
const METRICS: Op = Op::read("metrics", "metrics");

/// `GET /metrics` for `caller`.
pub async fn serve(app: &App, caller: &Caller) -> Result<Response<Body>, Error> {
    let containers = app.service.container_metrics(caller, METRICS).await?;
    Ok(body::text(CONTENT_TYPE, render(app, &containers)))
}

/// The whole exposition: the agent's series, then the containers'.
fn render(app: &App, containers: &Collection) -> String {
    let mut out = Exposition::default();
    build_info(&mut out, &app.service.api_version().unwrap_or_default());
    process(&mut out);
    series::write(&mut out);
    let gauge = |out: &mut Exposition, name: &str, help: &str, value: usize| {
        out.family(name, "gauge", help);
        out.sample(name, &[], value as f64);
    };
    let hub = &app.streams;
    let help = "WebSocket stream subscribers now.";
    gauge(
        &mut out,
        "docker_agent_ws_subscribers",
        help,
        hub.subscriber_count(),
    );
    let help = "Docker streams open for WebSocket subscribers now (shared or own).";
    gauge(
        &mut out,
        "docker_agent_ws_upstreams",
        help,
        hub.upstream_count(),
    );
    containers::write(&mut out, containers);
    out.finish()
}

/// The agent's version and the Docker API version it negotiated with the
/// daemon (empty while the daemon has not been reached).
fn build_info(out: &mut Exposition, docker_api: &str) {
    let name = "docker_agent_build_info";
    let help = "The agent's version and the Docker API version in use; always 1.";
    out.family(name, "gauge", help);
    let labels = [
        ("version", env!("CARGO_PKG_VERSION")),
        ("docker_api", docker_api),
        ("arch", std::env::consts::ARCH),
    ];
    out.sample(name, &labels, 1.0);
}

/// Start time, CPU seconds and resident memory, under the names every
/// Prometheus client library uses; CPU from `/proc/self/stat` (in the
/// kernel's fixed 100 ticks a second), memory from `/proc/self/status`.
fn process(out: &mut Exposition) {
    if let Some(started) = crate::counters::started() {
        let name = "process_start_time_seconds";
        out.family(
            name,
            "gauge",
            "Start time of the process since the Unix epoch.",
        );
        out.sample(name, &[], started);
    }
    if let Some(ticks) = read_proc("/proc/self/stat").as_deref().and_then(cpu_ticks) {
        let name = "process_cpu_seconds_total";
        out.family(
            name,
            "counter",
            "User and system CPU time spent, in seconds.",
        );
        out.sample(name, &[], ticks as f64 / 100.0);
    }
    if let Some(kib) = read_proc("/proc/self/status").as_deref().and_then(rss_kib) {
        let name = "process_resident_memory_bytes";
        out.family(name, "gauge", "Resident memory size in bytes.");
        out.sample(name, &[], (kib * 1024) as f64);
    }
}

fn read_proc(path: &str) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

/// utime + stime from a `/proc/<pid>/stat` line (fields 14 and 15; the
/// command name, field 2, may hold spaces, so fields count after its `)`).
pub fn cpu_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

fn rss_kib(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn process_figures_are_read_from_proc_lines() {
        let stat = "42 (a (b) c) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 4 0 99";
        assert_eq!(cpu_ticks(stat), Some(300));
        assert_eq!(cpu_ticks("garbage"), None);
        assert_eq!(rss_kib("Name:\tx\nVmRSS:\t  5120 kB\n"), Some(5120));
        assert!(cpu_ticks(&read_proc("/proc/self/stat").unwrap()).is_some());
    }
}
