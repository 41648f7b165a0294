//! The agent's own counters and histograms: a leaf that the surfaces, the
//! audit trail, TLS and the Docker client push to as things happen, and
//! that `/metrics` reads. Held in statics of atomics, indexed by label sets
//! fixed in advance (route classes, status codes, credential kinds, Docker
//! error kinds) or, for MCP tools, by the catalogue's own names, so
//! recording never allocates or locks and no client can grow a label set.

pub mod histogram;

use histogram::Histogram;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Route classes as the request series label them: the rate-limit classes,
/// `open` for unlimited routes and `unmatched` for paths no route takes.
pub const CLASSES: [&str; 6] = ["login", "action", "read", "overall", "open", "unmatched"];
/// Status codes counted: 100 to 599.
const STATUSES: usize = 500;
/// How an MCP tool call ended: done, a tool error, or not run for want
/// of a person's yes.
pub const TOOL_OUTCOMES: [&str; 3] = ["ok", "error", "unconfirmed"];
/// The credentials whose refusals are counted.
pub const CREDENTIALS: [&str; 5] = [
    "password",
    "bearer",
    "stream_token",
    "mcp_key",
    "client_certificate",
];
/// Why a Docker call failed: the daemon was not reached, or answered 5xx.
pub const DOCKER_ERRORS: [&str; 2] = ["unreachable", "server"];
/// Tools counted at most (the catalogue has fewer).
const MAX_TOOLS: usize = 64;

static REQUESTS: [[AtomicU64; STATUSES]; CLASSES.len()] =
    [const { [const { AtomicU64::new(0) }; STATUSES] }; CLASSES.len()];
static LATENCY: [Histogram; CLASSES.len()] = [const { Histogram::new() }; CLASSES.len()];
static TOOL_NAMES: [OnceLock<&'static str>; MAX_TOOLS] = [const { OnceLock::new() }; MAX_TOOLS];
static TOOL_CALLS: [[AtomicU64; TOOL_OUTCOMES.len()]; MAX_TOOLS] =
    [const { [const { AtomicU64::new(0) }; TOOL_OUTCOMES.len()] }; MAX_TOOLS];
static AUTH_FAILURES: [AtomicU64; CREDENTIALS.len()] =
    [const { AtomicU64::new(0) }; CREDENTIALS.len()];
static DOCKER_LATENCY: Histogram = Histogram::new();
static DOCKER_FAILURES: [AtomicU64; DOCKER_ERRORS.len()] =
    [const { AtomicU64::new(0) }; DOCKER_ERRORS.len()];
/// When the process started (Unix seconds), fixed by the first app built.
static STARTED: OnceLock<f64> = OnceLock::new();

fn index(names: &[&str], name: &str) -> Option<usize> {
    names.iter().position(|n| *n == name)
}

/// Counts one answered request of route class `class` (one of [`CLASSES`]).
pub fn request(class: &str, status: u16, elapsed: Duration) {
    let Some(c) = index(&CLASSES, class) else {
        return;
    };
    if let Some(counter) = REQUESTS[c].get(usize::from(status).wrapping_sub(100)) {
        counter.fetch_add(1, Relaxed);
    }
    LATENCY[c].observe(elapsed);
}

/// Requests answered so far: `(class, status, count)` for every count above 0.
pub fn requests() -> impl Iterator<Item = (&'static str, u16, u64)> {
    CLASSES.iter().zip(&REQUESTS).flat_map(|(class, counts)| {
        counts.iter().enumerate().filter_map(|(i, n)| {
            let n = n.load(Relaxed);
            (n > 0).then_some((*class, i as u16 + 100, n))
        })
    })
}

/// The latency of requests of `class` (one of [`CLASSES`]).
pub fn latency(class: usize) -> &'static Histogram {
    &LATENCY[class]
}

/// The slot of the tool `tool`, claimed at its first call.
fn tool_slot(tool: &'static str) -> Option<usize> {
    TOOL_NAMES
        .iter()
        .position(|slot| *slot.get_or_init(|| tool) == tool)
}

/// Counts one call of the MCP tool `tool` ending with `outcome` (one of
/// [`TOOL_OUTCOMES`]). Callers count only the catalogue's tools.
pub fn tool_call(tool: &'static str, outcome: &str) {
    if let (Some(t), Some(o)) = (tool_slot(tool), index(&TOOL_OUTCOMES, outcome)) {
        TOOL_CALLS[t][o].fetch_add(1, Relaxed);
    }
}

/// Calls of `tool` so far, by outcome (as [`TOOL_OUTCOMES`] orders them).
pub fn tool_calls(tool: &str) -> [u64; TOOL_OUTCOMES.len()] {
    let slot = TOOL_NAMES.iter().position(|s| s.get() == Some(&tool));
    slot.map_or([0; TOOL_OUTCOMES.len()], |t| {
        TOOL_CALLS[t].each_ref().map(|n| n.load(Relaxed))
    })
}

/// Counts a credential refused (one of [`CREDENTIALS`]).
pub fn auth_failure(credential: &str) {
    if let Some(i) = index(&CREDENTIALS, credential) {
        AUTH_FAILURES[i].fetch_add(1, Relaxed);
    }
}

/// Credentials refused so far, by kind.
pub fn auth_failures() -> impl Iterator<Item = (&'static str, u64)> {
    CREDENTIALS
        .iter()
        .zip(&AUTH_FAILURES)
        .map(|(c, n)| (*c, n.load(Relaxed)))
}

/// Times one Docker call up to its answer's head (`None`: the daemon was
/// not reached); counts that and a `5xx` answer as errors.
pub fn docker_call(elapsed: Duration, status: Option<u16>) {
    DOCKER_LATENCY.observe(elapsed);
    let failed = match status {
        None => Some(0),
        Some(s) if s >= 500 => Some(1),
        Some(_) => None,
    };
    if let Some(i) = failed {
        DOCKER_FAILURES[i].fetch_add(1, Relaxed);
    }
}

/// The latency of Docker calls.
pub fn docker_latency() -> &'static Histogram {
    &DOCKER_LATENCY
}

/// Docker calls failed so far, by kind.
pub fn docker_errors() -> impl Iterator<Item = (&'static str, u64)> {
    DOCKER_ERRORS
        .iter()
        .zip(&DOCKER_FAILURES)
        .map(|(k, n)| (*k, n.load(Relaxed)))
}

/// Marks the process start, once.
pub fn mark_start() {
    STARTED.get_or_init(|| crate::clock::unix_now_nanos() as f64 / 1e9);
}

/// When the process started (Unix seconds), once marked.
pub fn started() -> Option<f64> {
    STARTED.get().copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(class: &str, status: u16) -> u64 {
        requests()
            .find(|(c, s, _)| *c == class && *s == status)
            .map_or(0, |(_, _, n)| n)
    }

    #[test]
    fn requests_are_counted_by_class_and_status_and_others_ignored() {
        let before = count("login", 418);
        request("login", 418, Duration::from_millis(3));
        request("login", 418, Duration::from_millis(3));
        request("no-such-class", 418, Duration::from_millis(3));
        request("login", 99, Duration::ZERO);
        request("login", 600, Duration::ZERO);
        assert_eq!(count("login", 418), before + 2);
    }

    #[test]
    fn tools_are_counted_by_name_and_outcome() {
        let before = tool_calls("a_counted_tool");
        tool_call("a_counted_tool", "ok");
        tool_call("a_counted_tool", "unconfirmed");
        tool_call("a_counted_tool", "no-such-outcome");
        let after = tool_calls("a_counted_tool");
        assert_eq!(after, [before[0] + 1, before[1], before[2] + 1]);
        assert_eq!(tool_calls("never_called"), [0, 0, 0]);
    }
}
