//! Per-container series under cAdvisor's names and labels, so dashboards
//! built for cAdvisor work unchanged: every series carries `id`
//! (`/docker/<full id>`, cAdvisor's cgroup name for a Docker container),
//! `name` (without the leading `/`) and `image` (as the container was
//! created from it). CPU carries `cpu="total"`, network series one
//! `interface` each; block I/O is summed over devices.

use super::text::Exposition;
use crate::service::metrics::{Collection, Sample};

/// A per-container series: name, type, help and how to read it from a sample.
type Series = (&'static str, &'static str, &'static str, fn(&Sample) -> f64);

const SERIES: [Series; 4] = [
    (
        "container_memory_usage_bytes",
        "gauge",
        "Current memory usage in bytes, including all memory regardless of when it was accessed.",
        |s| s.memory_usage as f64,
    ),
    (
        "container_memory_working_set_bytes",
        "gauge",
        "Current working set in bytes (usage minus inactive file cache).",
        |s| s.working_set as f64,
    ),
    (
        "container_fs_reads_bytes_total",
        "counter",
        "Cumulative count of bytes read.",
        |s| s.fs_read as f64,
    ),
    (
        "container_fs_writes_bytes_total",
        "counter",
        "Cumulative count of bytes written.",
        |s| s.fs_write as f64,
    ),
];

pub fn write(out: &mut Exposition, c: &Collection) {
    let ids: Vec<String> = c
        .samples
        .iter()
        .map(|s| format!("/docker/{}", s.id))
        .collect();
    let base = |i: usize| -> [(&str, &str); 3] {
        let s = &c.samples[i];
        [("id", &ids[i]), ("image", &s.image), ("name", &s.name)]
    };
    let name = "container_cpu_usage_seconds_total";
    out.family(name, "counter", "Cumulative cpu time consumed in seconds.");
    for (i, s) in c.samples.iter().enumerate() {
        let [id, image, nm] = base(i);
        out.sample(name, &[("cpu", "total"), id, image, nm], s.cpu_seconds);
    }
    for (name, kind, help, value) in SERIES {
        out.family(name, kind, help);
        for (i, s) in c.samples.iter().enumerate() {
            out.sample(name, &base(i), value(s));
        }
    }
    for (name, help, rx) in [
        (
            "container_network_receive_bytes_total",
            "Cumulative count of bytes received.",
            true,
        ),
        (
            "container_network_transmit_bytes_total",
            "Cumulative count of bytes transmitted.",
            false,
        ),
    ] {
        out.family(name, "counter", help);
        for (i, s) in c.samples.iter().enumerate() {
            let [id, image, nm] = base(i);
            for (interface, r, t) in &s.networks {
                let labels = [id, image, ("interface", interface.as_str()), nm];
                out.sample(name, &labels, if rx { *r } else { *t } as f64);
            }
        }
    }
    let name = "container_last_seen";
    out.family(
        name,
        "gauge",
        "Last time a container was seen by the exporter.",
    );
    for i in 0..c.samples.len() {
        out.sample(name, &base(i), c.seen);
    }
    collection(out, c);
}

/// How the figures above were gathered.
fn collection(out: &mut Exposition, c: &Collection) {
    let name = "docker_agent_metrics_collections_total";
    out.family(
        name,
        "counter",
        "Collections of container figures (scrapes within METRICS_CACHE_SECONDS share one).",
    );
    out.sample(name, &[], c.number as f64);
    let name = "docker_agent_metrics_collection_seconds";
    out.family(
        name,
        "gauge",
        "How long the last collection of container figures took.",
    );
    out.sample(name, &[], c.took.as_secs_f64());
    let name = "docker_agent_metrics_containers_skipped";
    out.family(name, "gauge", "In-scope running containers left out of the last collection (stats failed, or over the cap).");
    out.sample(name, &[], c.skipped as f64);
}
