//! Rate limiting: token buckets per client address and route class.
//!
//! Each client has one bucket per class — login 5/min, actions 10/min,
//! reads 60/min, as in the original — plus an overall bucket of
//! `RATE_LIMIT_REQUESTS` per `RATE_LIMIT_WINDOW` that every limited request
//! draws from. A request passes only if every bucket it needs has a token,
//! and only then are tokens taken.
//!
//! IPv6 clients are keyed by their /64 (one subscriber's allocation), so an
//! attacker cannot mint fresh buckets by rotating addresses inside it.
//! Memory is bounded: idle clients (every bucket refilled) are swept when the
//! map doubles, and past [`MAX_CLIENTS`] the least recently seen tenth is
//! dropped. Time is `tokio::time::Instant`, so tests run on paused time.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// Upper bound on tracked clients (about 100 bytes each).
pub const MAX_CLIENTS: usize = 10_000;
const MIN_SWEEP: usize = 256;

/// Which class bucket a route draws from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    Login,
    Action,
    Read,
    /// Only the overall bucket (e.g. `/auth/check`).
    Overall,
}

#[derive(Clone, Copy, Debug)]
struct Rule {
    capacity: f64,
    period: Duration,
}

impl Rule {
    fn new(capacity: u32, period: Duration) -> Rule {
        Rule {
            capacity: f64::from(capacity),
            period,
        }
    }

    fn rate(&self) -> f64 {
        self.capacity / self.period.as_secs_f64()
    }
}

#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

impl Bucket {
    fn full(rule: &Rule, now: Instant) -> Bucket {
        Bucket {
            tokens: rule.capacity,
            updated: now,
        }
    }

    fn refill(&mut self, rule: &Rule, now: Instant) {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.tokens = (self.tokens + elapsed * rule.rate()).min(rule.capacity);
        self.updated = now;
    }

    /// Time until one token is available (zero if one is).
    fn wait(&self, rule: &Rule) -> Duration {
        if self.tokens >= 1.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64((1.0 - self.tokens) / rule.rate())
        }
    }
}

#[derive(Debug)]
struct Client {
    /// Overall, login, action, read.
    buckets: [Bucket; 4],
    last_seen: Instant,
}

/// The limiter shared by every connection.
#[derive(Debug)]
pub struct Limiter {
    enabled: bool,
    rules: [Rule; 4],
    clients: Mutex<Clients>,
}

#[derive(Debug)]
struct Clients {
    map: HashMap<IpAddr, Client>,
    sweep_at: usize,
}

/// A refused request: how long until it would pass.
#[derive(Debug, PartialEq, Eq)]
pub struct Limited {
    pub retry_after: Duration,
}

impl Limited {
    /// Whole seconds for `Retry-After` (rounded up, at least 1).
    pub fn retry_after_secs(&self) -> u64 {
        (self.retry_after.as_secs_f64().ceil() as u64).max(1)
    }
}

impl Limiter {
    pub fn new(enabled: bool, requests: u32, window: Duration) -> Limiter {
        let minute = Duration::from_secs(60);
        Limiter {
            enabled,
            rules: [
                Rule::new(requests, window),
                Rule::new(5, minute),
                Rule::new(10, minute),
                Rule::new(60, minute),
            ],
            clients: Mutex::new(Clients {
                map: HashMap::new(),
                sweep_at: MIN_SWEEP,
            }),
        }
    }

    /// Takes a token for `class` (and the overall bucket) or says how long to wait.
    pub fn check(&self, ip: IpAddr, class: Class) -> Result<(), Limited> {
        let needed: &[usize] = match class {
            Class::Overall => &[0],
            Class::Login => &[0, 1],
            Class::Action => &[0, 2],
            Class::Read => &[0, 3],
        };
        self.take(ip, needed)
    }

    /// Takes a token from `class`'s own bucket only, for work inside a
    /// request the overall bucket has already paid for (an MCP tool call).
    pub fn check_class(&self, ip: IpAddr, class: Class) -> Result<(), Limited> {
        let needed: &[usize] = match class {
            Class::Overall => &[],
            Class::Login => &[1],
            Class::Action => &[2],
            Class::Read => &[3],
        };
        self.take(ip, needed)
    }

    fn take(&self, ip: IpAddr, needed: &[usize]) -> Result<(), Limited> {
        if !self.enabled {
            return Ok(());
        }
        let now = Instant::now();
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        clients.make_room(now, self.longest_period());
        let rules = self.rules;
        let client = clients
            .map
            .entry(crate::net::client_key(ip))
            .or_insert_with(|| Client {
                buckets: rules.map(|r| Bucket::full(&r, now)),
                last_seen: now,
            });
        client.last_seen = now;
        let mut wait = Duration::ZERO;
        for &i in needed {
            client.buckets[i].refill(&rules[i], now);
            wait = wait.max(client.buckets[i].wait(&rules[i]));
        }
        if !wait.is_zero() {
            return Err(Limited { retry_after: wait });
        }
        for &i in needed {
            client.buckets[i].tokens -= 1.0;
        }
        Ok(())
    }

    fn longest_period(&self) -> Duration {
        self.rules
            .iter()
            .map(|r| r.period)
            .max()
            .unwrap_or_default()
    }

    /// Number of clients currently tracked.
    pub fn tracked_clients(&self) -> usize {
        self.clients
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .map
            .len()
    }
}

impl Clients {
    fn make_room(&mut self, now: Instant, idle_after: Duration) {
        if self.map.len() < self.sweep_at {
            return;
        }
        self.map
            .retain(|_, c| now.saturating_duration_since(c.last_seen) < idle_after);
        if self.map.len() >= MAX_CLIENTS {
            self.drop_least_recent_tenth();
        }
        self.sweep_at = (self.map.len() * 2).clamp(MIN_SWEEP, MAX_CLIENTS);
    }

    fn drop_least_recent_tenth(&mut self) {
        let mut seen: Vec<Instant> = self.map.values().map(|c| c.last_seen).collect();
        let cut = seen.len() / 10;
        let (_, cutoff, _) = seen.select_nth_unstable(cut);
        let cutoff = *cutoff;
        self.map.retain(|_, c| c.last_seen > cutoff);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn ip(n: u32) -> IpAddr {
        IpAddr::V4(Ipv4Addr::from(n))
    }

    fn limiter() -> Limiter {
        Limiter::new(true, 100, Duration::from_secs(60))
    }

    #[tokio::test(start_paused = true)]
    async fn login_allows_five_per_minute_then_says_when() {
        let l = limiter();
        for _ in 0..5 {
            l.check(ip(1), Class::Login).unwrap();
        }
        let err = l.check(ip(1), Class::Login).unwrap_err();
        assert_eq!(err.retry_after_secs(), 12);
        tokio::time::advance(Duration::from_secs(12)).await;
        l.check(ip(1), Class::Login).unwrap();
        assert!(l.check(ip(1), Class::Login).is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn classes_and_clients_are_independent() {
        let l = limiter();
        for _ in 0..10 {
            l.check(ip(1), Class::Action).unwrap();
        }
        assert!(l.check(ip(1), Class::Action).is_err());
        l.check(ip(1), Class::Read).unwrap();
        l.check(ip(2), Class::Action).unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn overall_bucket_caps_every_class() {
        let l = Limiter::new(true, 3, Duration::from_secs(10));
        for _ in 0..3 {
            l.check(ip(1), Class::Read).unwrap();
        }
        let err = l.check(ip(1), Class::Overall).unwrap_err();
        assert_eq!(err.retry_after_secs(), 4);
        tokio::time::advance(Duration::from_secs(4)).await;
        l.check(ip(1), Class::Overall).unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn refused_requests_take_no_tokens() {
        let l = Limiter::new(true, 6, Duration::from_secs(60));
        for _ in 0..5 {
            l.check(ip(1), Class::Login).unwrap();
        }
        for _ in 0..20 {
            assert!(l.check(ip(1), Class::Login).is_err());
        }
        // The overall bucket still has the one token the refusals did not take.
        l.check(ip(1), Class::Read).unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn ipv6_clients_share_their_slash_64() {
        let l = limiter();
        for i in 0..5u16 {
            let addr: IpAddr = format!("2001:db8::{i:x}").parse().unwrap();
            l.check(addr, Class::Login).unwrap();
        }
        assert!(
            l.check("2001:db8::ffff".parse().unwrap(), Class::Login)
                .is_err()
        );
        l.check("2001:db8:0:1::1".parse().unwrap(), Class::Login)
            .unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn memory_stays_bounded_under_a_flood_of_addresses() {
        let l = limiter();
        for n in 0..(MAX_CLIENTS as u32 * 3) {
            l.check(ip(n), Class::Read).unwrap();
            assert!(l.tracked_clients() <= MAX_CLIENTS);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn idle_clients_are_swept() {
        let l = limiter();
        for n in 0..(MIN_SWEEP as u32 - 1) {
            l.check(ip(n), Class::Read).unwrap();
        }
        tokio::time::advance(Duration::from_secs(61)).await;
        l.check(ip(1_000_000), Class::Read).unwrap();
        l.check(ip(1_000_001), Class::Read).unwrap();
        assert_eq!(l.tracked_clients(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn class_only_checks_leave_the_overall_bucket_alone() {
        let l = Limiter::new(true, 1, Duration::from_secs(60));
        for _ in 0..10 {
            l.check_class(ip(1), Class::Action).unwrap();
        }
        assert!(l.check_class(ip(1), Class::Action).is_err());
        l.check(ip(1), Class::Overall).unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn disabled_limiter_allows_everything() {
        let l = Limiter::new(false, 1, Duration::from_secs(60));
        for _ in 0..100 {
            l.check(ip(1), Class::Login).unwrap();
        }
    }
}
