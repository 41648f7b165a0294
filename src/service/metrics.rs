//! Figures of every running in-scope container for `/metrics`, gathered
//! at most once per `METRICS_CACHE_SECONDS`: one container list, then one
//! `stats?stream=false&one-shot=true` call per container, 8 at a time (8
//! workers taking the next container in turn). Concurrent scrapes wait for the collection under way and share
//! it, so a scrape costs N Docker calls at most once per interval, whatever
//! the number of scrapers. At most [`MAX_CONTAINERS`] containers are
//! collected, which bounds the memory one collection holds.

use super::Service;
use super::access::summary_facts;
use super::stats::{block_bytes, inactive_file};
use crate::docker::models;
use crate::error::Error;
use crate::policy::{Caller, Op};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Most containers one collection holds.
pub const MAX_CONTAINERS: usize = 1000;

/// One container's figures, as cAdvisor names them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sample {
    pub id: String,
    /// Without the leading `/`.
    pub name: String,
    pub image: String,
    pub cpu_seconds: f64,
    pub memory_usage: u64,
    /// Usage minus inactive file cache, floored at zero (cAdvisor's).
    pub working_set: u64,
    /// `(interface, received, transmitted)` bytes.
    pub networks: Vec<(String, u64, u64)>,
    pub fs_read: u64,
    pub fs_write: u64,
}

/// One collection, shared by the scrapes within its interval.
#[derive(Debug, Default)]
pub struct Collection {
    pub samples: Vec<Sample>,
    /// When it was made (Unix seconds): the containers' `last_seen`.
    pub seen: f64,
    pub took: Duration,
    /// Containers left out: their stats failed, or past [`MAX_CONTAINERS`].
    pub skipped: usize,
    /// Collections made so far, this one included.
    pub number: u64,
    made: Option<Instant>,
}

/// The last collection, and the lock that makes concurrent scrapes share one.
#[derive(Default)]
pub struct Cache {
    last: tokio::sync::Mutex<Arc<Collection>>,
    ttl: Duration,
}

impl Cache {
    pub fn new(ttl: Duration) -> Cache {
        Cache {
            ttl,
            ..Cache::default()
        }
    }
}

/// A sample from Docker's one-shot stats of a listed container.
pub fn sample(c: &models::ListedContainer, s: &models::Stats) -> Sample {
    let usage = s.memory_stats.usage.unwrap_or(0);
    let nets = s.networks.iter().flatten();
    Sample {
        id: c.id.clone(),
        name: summary_facts(c).name.to_string(),
        image: c.image.clone(),
        cpu_seconds: s.cpu_stats.cpu_usage.total_usage as f64 / 1e9,
        memory_usage: usage,
        working_set: usage.saturating_sub(inactive_file(&s.memory_stats)),
        networks: nets
            .map(|(i, n)| (i.clone(), n.rx_bytes, n.tx_bytes))
            .collect(),
        fs_read: block_bytes(s, "read"),
        fs_write: block_bytes(s, "write"),
    }
}

impl Service {
    /// The figures of the running containers in scope, from the cache
    /// while it is fresh, if `caller` may `op`.
    pub async fn container_metrics(
        &self,
        caller: &Caller,
        op: Op,
    ) -> Result<Arc<Collection>, Error> {
        self.permit(caller, op)?;
        let mut last = self.metrics.last.lock().await;
        if last.made.is_some_and(|t| t.elapsed() < self.metrics.ttl) {
            return Ok(last.clone());
        }
        let fresh = Arc::new(self.collect(last.number + 1).await?);
        *last = fresh.clone();
        Ok(fresh)
    }

    async fn collect(&self, number: u64) -> Result<Collection, Error> {
        let started = Instant::now();
        let seen = crate::clock::unix_now_nanos() as f64 / 1e9;
        let listed: Vec<models::ListedContainer> = self.docker.containers(false, None).await?;
        let mut in_scope: Vec<_> = listed
            .into_iter()
            .filter(|c| self.policy.sees(summary_facts(c)))
            .collect();
        let over = in_scope.len().saturating_sub(MAX_CONTAINERS);
        in_scope.truncate(MAX_CONTAINERS);
        let next = AtomicUsize::new(0);
        let worker = || self.sample_some(&in_scope, &next);
        let found = tokio::join!(
            worker(),
            worker(),
            worker(),
            worker(),
            worker(),
            worker(),
            worker(),
            worker()
        );
        let found = [
            found.0, found.1, found.2, found.3, found.4, found.5, found.6, found.7,
        ];
        let mut samples: Vec<Sample> = found.into_iter().flatten().collect();
        samples.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Collection {
            skipped: over + in_scope.len() - samples.len(),
            samples,
            seen,
            took: started.elapsed(),
            number,
            made: Some(Instant::now()),
        })
    }
}

impl Service {
    /// One of the 8 workers of a collection: samples the
    /// containers of `all` whose turn it takes from `next`, one at a time,
    /// leaving out those Docker gives no stats for (stopped meanwhile).
    async fn sample_some(
        &self,
        all: &[models::ListedContainer],
        next: &AtomicUsize,
    ) -> Vec<Sample> {
        let mut samples = Vec::new();
        while let Some(c) = all.get(next.fetch_add(1, Ordering::Relaxed)) {
            if let Ok(raw) = self.docker.container_stats(&c.id, true).await {
                samples.push(sample(c, &raw));
            }
        }
        samples
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_sample_takes_cadvisor_figures_from_docker_stats() {
        let c: models::ListedContainer = serde_json::from_value(json!({
            "Id": "abc123", "Names": ["/web"], "Image": "nginx:1"
        }))
        .unwrap();
        let s: models::Stats = serde_json::from_value(json!({
            "cpu_stats": {"cpu_usage": {"total_usage": 2_500_000_000u64}},
            "memory_stats": {"usage": 1000, "stats": {"inactive_file": 300}},
            "networks": {"eth0": {"rx_bytes": 10, "tx_bytes": 20}},
            "blkio_stats": {"io_service_bytes_recursive": [
                {"op": "read", "value": 7}, {"op": "write", "value": 9}]}
        }))
        .unwrap();
        let got = sample(&c, &s);
        assert_eq!((got.name.as_str(), got.image.as_str()), ("web", "nginx:1"));
        assert_eq!(got.cpu_seconds, 2.5);
        assert_eq!((got.memory_usage, got.working_set), (1000, 700));
        assert_eq!(got.networks, [("eth0".to_string(), 10, 20)]);
        assert_eq!((got.fs_read, got.fs_write), (7, 9));
        let cache_heavy: models::Stats = serde_json::from_value(json!({
            "memory_stats": {"usage": 100, "stats": {"total_inactive_file": 500}}
        }))
        .unwrap();
        assert_eq!(
            sample(&c, &cache_heavy).working_set,
            0,
            "floored as cAdvisor does"
        );
    }
}
