//! The agent's own series: counters and histograms held in statics of
//! atomics, indexed by label sets fixed in advance (route classes, status
//! codes, the MCP tool table, credential kinds), so recording never
//! allocates or locks and no client can grow a label set.

use super::histogram::Histogram;
use super::text::Text;
use crate::audit::Action;
use crate::docker::DockerError;
use crate::mcp::tools::TOOL_OPS;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Route classes as the request series label them: the rate-limit classes,
/// `open` for unlimited routes and `unmatched` for paths no route takes.
pub const CLASSES: [&str; 6] = ["login", "action", "read", "overall", "open", "unmatched"];
/// Status codes counted: 100 to 599.
const STATUSES: usize = 500;
/// How an MCP tool call ended: done, a tool error, or not run for want
/// of a person's yes (`MCP_CONFIRM`).
pub const TOOL_OUTCOMES: [&str; 3] = ["ok", "error", "unconfirmed"];
/// The credentials whose refusals are counted, by the audit action refusing
/// them; a client certificate is refused in the TLS handshake, before any
/// request or audit record.
const CREDENTIALS: [(&str, Option<Action>); 5] = [
    ("password", Some(Action::Login)),
    ("bearer", Some(Action::Token)),
    ("stream_token", Some(Action::StreamOpen)),
    ("mcp_key", Some(Action::McpAuth)),
    ("client_certificate", None),
];
/// Why a Docker call failed: the daemon was not reached, or answered 5xx.
const DOCKER_ERRORS: [&str; 2] = ["unreachable", "server"];

static REQUESTS: [[AtomicU64; STATUSES]; CLASSES.len()] =
    [const { [const { AtomicU64::new(0) }; STATUSES] }; CLASSES.len()];
static LATENCY: [Histogram; CLASSES.len()] = [const { Histogram::new() }; CLASSES.len()];
static TOOL_CALLS: [[AtomicU64; TOOL_OUTCOMES.len()]; TOOL_OPS.len()] =
    [const { [const { AtomicU64::new(0) }; TOOL_OUTCOMES.len()] }; TOOL_OPS.len()];
static AUTH_FAILURES: [AtomicU64; CREDENTIALS.len()] =
    [const { AtomicU64::new(0) }; CREDENTIALS.len()];
static DOCKER_LATENCY: Histogram = Histogram::new();
static DOCKER_FAILURES: [AtomicU64; DOCKER_ERRORS.len()] =
    [const { AtomicU64::new(0) }; DOCKER_ERRORS.len()];

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

/// Counts one call of the MCP tool `tool` ending with `outcome` (one of
/// [`TOOL_OUTCOMES`]); names outside the tool table are not counted.
pub fn tool_call(tool: &str, outcome: &str) {
    let t = TOOL_OPS.iter().position(|(name, _)| *name == tool);
    if let (Some(t), Some(o)) = (t, index(&TOOL_OUTCOMES, outcome)) {
        TOOL_CALLS[t][o].fetch_add(1, Relaxed);
    }
}

/// Counts a credential refused at admission (the audit trail's `denied`).
pub fn auth_failure(action: Action) {
    if let Some(i) = CREDENTIALS.iter().position(|(_, a)| *a == Some(action)) {
        AUTH_FAILURES[i].fetch_add(1, Relaxed);
    }
}

/// Counts a client certificate refused in the TLS handshake.
pub fn client_certificate_refused() {
    if let Some(i) = index(&CREDENTIALS.map(|(name, _)| name), "client_certificate") {
        AUTH_FAILURES[i].fetch_add(1, Relaxed);
    }
}

/// Times one Docker call up to its answer's head; counts a daemon not
/// reached and a `5xx` answer as errors.
pub fn docker_call(elapsed: Duration, outcome: Result<u16, &DockerError>) {
    DOCKER_LATENCY.observe(elapsed);
    let failed = match outcome {
        Err(_) => Some(0),
        Ok(status) if status >= 500 => Some(1),
        Ok(_) => None,
    };
    if let Some(i) = failed {
        DOCKER_FAILURES[i].fetch_add(1, Relaxed);
    }
}

/// Writes every series of this module.
pub fn write(out: &mut Text) {
    let name = "docker_agent_http_requests_total";
    out.family(
        name,
        "counter",
        "HTTP requests answered, by route class and status.",
    );
    for (class, counts) in CLASSES.iter().zip(&REQUESTS) {
        for (i, n) in counts.iter().enumerate() {
            let n = n.load(Relaxed);
            if n > 0 {
                let status = (i + 100).to_string();
                out.sample(name, &[("class", class), ("status", &status)], n as f64);
            }
        }
    }
    let name = "docker_agent_http_request_duration_seconds";
    out.family(
        name,
        "histogram",
        "Time to answer a request (a stream: to its upgrade).",
    );
    for (class, h) in CLASSES.iter().zip(&LATENCY) {
        out.histogram(name, &[("class", class)], h);
    }
    let name = "docker_agent_mcp_tool_calls_total";
    out.family(name, "counter", "MCP tool calls, by tool and outcome.");
    for ((tool, _), counts) in TOOL_OPS.iter().zip(&TOOL_CALLS) {
        for (outcome, n) in TOOL_OUTCOMES.iter().zip(counts) {
            let labels = [("tool", *tool), ("outcome", *outcome)];
            out.sample(name, &labels, n.load(Relaxed) as f64);
        }
    }
    let name = "docker_agent_auth_failures_total";
    out.family(name, "counter", "Credentials refused, by kind.");
    for ((credential, _), n) in CREDENTIALS.iter().zip(&AUTH_FAILURES) {
        out.sample(name, &[("credential", credential)], n.load(Relaxed) as f64);
    }
    let name = "docker_agent_docker_request_duration_seconds";
    out.family(name, "histogram", "Time to the Docker daemon's answer.");
    out.histogram(name, &[], &DOCKER_LATENCY);
    let name = "docker_agent_docker_errors_total";
    out.family(
        name,
        "counter",
        "Docker calls that failed: daemon unreachable or 5xx.",
    );
    for (kind, n) in DOCKER_ERRORS.iter().zip(&DOCKER_FAILURES) {
        out.sample(name, &[("kind", kind)], n.load(Relaxed) as f64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(class: &str, status: &str) -> u64 {
        let mut t = Text::default();
        write(&mut t);
        let prefix =
            format!("docker_agent_http_requests_total{{class=\"{class}\",status=\"{status}\"}} ");
        t.finish()
            .lines()
            .find_map(|l| l.strip_prefix(&prefix).map(|n| n.parse().unwrap()))
            .unwrap_or(0)
    }

    #[test]
    fn requests_are_counted_by_class_and_status_and_others_ignored() {
        let before = count("login", "418");
        request("login", 418, Duration::from_millis(3));
        request("login", 418, Duration::from_millis(3));
        request("no-such-class", 418, Duration::from_millis(3));
        request("login", 99, Duration::ZERO);
        request("login", 600, Duration::ZERO);
        assert_eq!(count("login", "418"), before + 2);
    }

    #[test]
    fn every_tool_and_credential_has_its_series() {
        tool_call("list_containers", "ok");
        tool_call("not_a_tool", "ok");
        let mut t = Text::default();
        write(&mut t);
        let text = t.finish();
        for (tool, _) in TOOL_OPS {
            for outcome in TOOL_OUTCOMES {
                let s = format!("tool=\"{tool}\",outcome=\"{outcome}\"");
                assert!(text.contains(&s), "{s}");
            }
        }
        assert!(!text.contains("not_a_tool"));
        assert!(text.contains("docker_agent_auth_failures_total{credential=\"mcp_key\"}"));
    }
}
