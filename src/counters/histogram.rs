//! A latency histogram of atomics: one counter per bucket (not cumulative;
//! `/metrics` adds them up), a count and a sum in microseconds, so
//! observing is three relaxed additions and never a lock.

use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::time::Duration;

/// Upper bounds of the buckets, in seconds (Prometheus' defaults); `+Inf`
/// is the count.
pub const BOUNDS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

pub struct Histogram {
    buckets: [AtomicU64; BOUNDS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    pub const fn new() -> Histogram {
        Histogram {
            buckets: [const { AtomicU64::new(0) }; BOUNDS.len()],
            count: AtomicU64::new(0),
            sum_micros: AtomicU64::new(0),
        }
    }

    /// Counts one observation: the count first, then (released) its
    /// bucket, so whoever sees the bucket sees the count too.
    pub fn observe(&self, elapsed: Duration) {
        self.count.fetch_add(1, Relaxed);
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        self.sum_micros.fetch_add(micros, Relaxed);
        let secs = elapsed.as_secs_f64();
        if let Some(i) = BOUNDS.iter().position(|le| secs <= *le) {
            self.buckets[i].fetch_add(1, Release);
        }
    }

    /// Per-bucket counts, the sum in seconds and the count. The buckets
    /// are read (acquired) before the count, so the count is never below
    /// their total, even while others observe.
    pub fn snapshot(&self) -> ([u64; BOUNDS.len()], f64, u64) {
        let buckets = std::array::from_fn(|i| self.buckets[i].load(Acquire));
        let sum = self.sum_micros.load(Relaxed) as f64 / 1e6;
        (buckets, sum, self.count.load(Relaxed))
    }
}

impl Default for Histogram {
    fn default() -> Histogram {
        Histogram::new()
    }
}
