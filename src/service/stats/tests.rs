use super::*;
use serde_json::json;

fn parse(v: serde_json::Value) -> models::Stats {
    serde_json::from_value(v).unwrap()
}

#[test]
fn captured_cgroup_v1_sample_decodes() {
    let s: models::Stats = serde_json::from_str(include_str!(
        "../../../fixtures/docker/stats-cgroup-v1.json"
    ))
    .unwrap();
    let f = figures(&s);
    assert_eq!(f.memory_usage, 610_304);
    assert_eq!(f.memory_limit, 25_276_514_304);
    assert_eq!(f.network_rx, 736);
    assert_eq!(f.cpu_percent, 0.0);
}

#[test]
fn cpu_percent_matches_the_cli_formula() {
    let s = parse(json!({
        "cpu_stats": {"cpu_usage": {"total_usage": 300_000_000u64}, "system_cpu_usage": 4_000_000_000u64, "online_cpus": 4},
        "precpu_stats": {"cpu_usage": {"total_usage": 100_000_000u64}, "system_cpu_usage": 2_000_000_000u64}
    }));
    // 0.2e9 / 2e9 * 4 * 100 = 40 %
    assert_eq!(cpu_percent(&s), 40.0);
}

#[test]
fn cpu_count_falls_back_to_percpu_entries() {
    let s = parse(json!({
        "cpu_stats": {"cpu_usage": {"total_usage": 150, "percpu_usage": [1, 2, 3]}, "system_cpu_usage": 1000},
        "precpu_stats": {"cpu_usage": {"total_usage": 50}, "system_cpu_usage": 500}
    }));
    assert_eq!(cpu_percent(&s), 60.0);
}

#[test]
fn negative_or_missing_deltas_give_zero() {
    let s = parse(json!({
        "cpu_stats": {"cpu_usage": {"total_usage": 10}, "system_cpu_usage": 100},
        "precpu_stats": {"cpu_usage": {"total_usage": 20}, "system_cpu_usage": 50}
    }));
    assert_eq!(cpu_percent(&s), 0.0);
    assert_eq!(figures(&parse(json!({}))), StatsFigures::default());
}

#[test]
fn memory_excludes_inactive_cache_on_both_cgroup_versions() {
    let v2 = parse(
        json!({"memory_stats": {"usage": 1000, "limit": 4000, "stats": {"inactive_file": 200}}}),
    );
    assert_eq!(figures(&v2).memory_usage, 800);
    assert_eq!(figures(&v2).memory_percent, 20.0);
    let v1 = parse(
        json!({"memory_stats": {"usage": 1000, "limit": 3000, "stats": {"total_inactive_file": 400, "inactive_file": 1}}}),
    );
    assert_eq!(figures(&v1).memory_usage, 600);
    assert_eq!(figures(&v1).memory_percent, 20.0);
    let odd = parse(json!({"memory_stats": {"usage": 100, "stats": {"inactive_file": 500}}}));
    assert_eq!(figures(&odd).memory_usage, 100);
    assert_eq!(figures(&odd).memory_percent, 0.0);
}

#[test]
fn network_and_block_io_are_summed() {
    let s = parse(json!({
        "networks": {"eth0": {"rx_bytes": 10, "tx_bytes": 1}, "eth1": {"rx_bytes": 5, "tx_bytes": 2}},
        "blkio_stats": {"io_service_bytes_recursive": [
            {"op": "Read", "value": 100}, {"op": "read", "value": 1}, {"op": "Write", "value": 7}, {"op": "Total", "value": 108}
        ]}
    }));
    let f = figures(&s);
    assert_eq!(
        (f.network_rx, f.network_tx, f.block_read, f.block_write),
        (15, 3, 101, 7)
    );
}
