//! The agent's own series, as `/metrics` writes them: read from the
//! counters the rest of the agent pushes to ([`crate::counters`]).

use super::text::Exposition;
use crate::counters::{self, CLASSES, TOOL_OUTCOMES};
use crate::ops;

/// Writes every series of this module.
pub fn write(out: &mut Exposition) {
    let name = "docker_agent_http_requests_total";
    out.family(
        name,
        "counter",
        "HTTP requests answered, by route class and status.",
    );
    for (class, status, n) in counters::requests() {
        let status = status.to_string();
        out.sample(name, &[("class", class), ("status", &status)], n as f64);
    }
    let name = "docker_agent_http_request_duration_seconds";
    out.family(
        name,
        "histogram",
        "Time to answer a request (a stream: to its upgrade).",
    );
    for (i, class) in CLASSES.iter().enumerate() {
        out.histogram(name, &[("class", class)], counters::latency(i));
    }
    let name = "docker_agent_mcp_tool_calls_total";
    out.family(name, "counter", "MCP tool calls, by tool and outcome.");
    for (tool, _) in ops::tools() {
        let tool = tool.name;
        for (outcome, n) in TOOL_OUTCOMES.iter().zip(counters::tool_calls(tool)) {
            let labels = [("tool", tool), ("outcome", *outcome)];
            out.sample(name, &labels, n as f64);
        }
    }
    let name = "docker_agent_auth_failures_total";
    out.family(name, "counter", "Credentials refused, by kind.");
    for (credential, n) in counters::auth_failures() {
        out.sample(name, &[("credential", credential)], n as f64);
    }
    let name = "docker_agent_docker_request_duration_seconds";
    out.family(name, "histogram", "Time to the Docker daemon's answer.");
    out.histogram(name, &[], counters::docker_latency());
    let name = "docker_agent_docker_errors_total";
    out.family(
        name,
        "counter",
        "Docker calls that failed: daemon unreachable or 5xx.",
    );
    for (kind, n) in counters::docker_errors() {
        out.sample(name, &[("kind", kind)], n as f64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tool_and_credential_has_its_series() {
        counters::tool_call("list_containers", "ok");
        let mut t = Exposition::default();
        write(&mut t);
        let text = t.finish();
        for (tool, _) in ops::tools() {
            let tool = tool.name;
            for outcome in TOOL_OUTCOMES {
                let s = format!("tool=\"{tool}\",outcome=\"{outcome}\"");
                assert!(text.contains(&s), "{s}");
            }
        }
        assert!(text.contains("docker_agent_auth_failures_total{credential=\"mcp_key\"}"));
    }
}
