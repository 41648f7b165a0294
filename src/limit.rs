//! Rate limiting: token buckets per client address and route class.
//!
//! Each client has one bucket per class — login 5/min, actions 10/min,
//! reads 60/min, as in the v1 contract — plus an overall bucket of
//! `RATE_LIMIT_REQUESTS` per `RATE_LIMIT_WINDOW` that every limited request
//! draws from. A request passes only if every bucket it needs has a token,
//! and only then are tokens taken.
//!
//! Failed credentials — a wrong login or a wrong or missing MCP API key —
//! are counted too. A wrong MCP key takes a token from the client's login
//! bucket, so the key can be guessed no faster than the password (5/min):
//! a client that failed within the last minute and has an empty login
//! bucket gets 429 before its key is compared (successful logins alone
//! never hold back an MCP client). Across all clients, [`FAILURES_PER_MINUTE`] failures fill a
//! global budget; while it is spent, a client that itself failed within the
//! last minute gets 429 before its credential is compared, while clients
//! with no recent failure are not held back. This slows a guesser spread
//! over many addresses to one guess per address per minute without letting
//! it lock everyone else out (docs/security.md).
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
/// Failed credentials per minute, all clients together, before clients
/// that failed recently are held back.
pub const FAILURES_PER_MINUTE: u32 = 50;
/// How long a failure marks a client as a recent failer.
const FAILURE_MEMORY: Duration = Duration::from_secs(60);
const FAILURE_RULE: Rule = Rule {
    capacity: FAILURES_PER_MINUTE as f64,
    period: FAILURE_MEMORY,
};
const MIN_SWEEP: usize = 256;

/// The kind of credential a request tries, whose failures the limiter counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attempt {
    /// `/auth/login`, whose route already drew from the login bucket.
    Password,
    /// `MCP_API_KEY`: a failure draws from the login bucket.
    McpKey,
}

/// Which class bucket a route draws from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    Login,
    Action,
    Read,
    /// Only the overall bucket (e.g. `/auth/check`).
    Overall,
}

impl Class {
    /// Its name, as the request series label it.
    pub fn name(self) -> &'static str {
        match self {
            Class::Login => "login",
            Class::Action => "action",
            Class::Read => "read",
            Class::Overall => "overall",
        }
    }
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
    last_failure: Option<Instant>,
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
    /// Failed credentials, all clients together.
    failures: Bucket,
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

impl From<Limited> for crate::error::Error {
    fn from(l: Limited) -> Self {
        crate::error::Error::TooManyRequests {
            retry_after: l.retry_after_secs(),
        }
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
                failures: Bucket::full(&FAILURE_RULE, Instant::now()),
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

    /// Whether `ip` may present `credential` now (see the module doc);
    /// takes nothing.
    pub fn may_try(&self, ip: IpAddr, credential: Attempt) -> Result<(), Limited> {
        self.with_client(ip, |client, failures, now| {
            let forgotten = client.last_failure.map_or(Duration::ZERO, |failed| {
                (failed + FAILURE_MEMORY).saturating_duration_since(now)
            });
            if forgotten.is_zero() {
                return Ok(());
            }
            failures.refill(&FAILURE_RULE, now);
            let mut wait = failures.wait(&FAILURE_RULE).min(forgotten);
            if credential == Attempt::McpKey {
                client.buckets[1].refill(&self.rules[1], now);
                wait = wait.max(client.buckets[1].wait(&self.rules[1]));
            }
            if wait.is_zero() {
                Ok(())
            } else {
                Err(Limited { retry_after: wait })
            }
        })
        .unwrap_or(Ok(()))
    }

    /// Counts a failed `credential` from `ip`.
    pub fn failed(&self, ip: IpAddr, credential: Attempt) {
        self.with_client(ip, |client, failures, now| {
            if credential == Attempt::McpKey {
                client.buckets[1].refill(&self.rules[1], now);
                client.buckets[1].tokens = (client.buckets[1].tokens - 1.0).max(0.0);
            }
            failures.refill(&FAILURE_RULE, now);
            failures.tokens = (failures.tokens - 1.0).max(0.0);
            client.last_failure = Some(now);
        });
    }

    fn take(&self, ip: IpAddr, needed: &[usize]) -> Result<(), Limited> {
        let rules = self.rules;
        self.with_client(ip, |client, _, now| {
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
        })
        .unwrap_or(Ok(()))
    }

    /// Runs `f` on `ip`'s entry (made if new) and the global failure bucket;
    /// `None` from a disabled limiter, which runs nothing.
    fn with_client<R>(
        &self,
        ip: IpAddr,
        f: impl FnOnce(&mut Client, &mut Bucket, Instant) -> R,
    ) -> Option<R> {
        if !self.enabled {
            return None;
        }
        let now = Instant::now();
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        clients.make_room(now, self.longest_period());
        let rules = self.rules;
        let Clients { map, failures, .. } = &mut *clients;
        let client = map
            .entry(crate::net::client_key(ip))
            .or_insert_with(|| Client {
                buckets: rules.map(|r| Bucket::full(&r, now)),
                last_seen: now,
                last_failure: None,
            });
        client.last_seen = now;
        Some(f(client, failures, now))
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
mod tests;
