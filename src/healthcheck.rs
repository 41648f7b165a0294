//! `docker-agent healthcheck`: the container health and readiness probe,
//! for images that have no shell and no curl. It asks `/api/v1/healthz` on
//! the configured port over loopback and succeeds only for `200` with
//! `"status":"ok"`: a running agent that cannot reach Docker is reported
//! unhealthy, with the reason the agent gives. It speaks plain HTTP even
//! when the agent serves TLS: a TLS port answers this one request in plain
//! text from loopback (see [`crate::tls`]).

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::time::Duration;

/// Where to probe: the configured host, or loopback when it listens on all addresses.
pub fn target(host: &str, port: u16) -> SocketAddr {
    let ip = match host.trim_matches(['[', ']']).parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        Ok(IpAddr::V6(v6)) if v6.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        Ok(ip) => ip,
        Err(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
    };
    SocketAddr::new(ip, port)
}

/// Probes `addr`; `Err` says why it is unhealthy.
pub fn probe(addr: SocketAddr, timeout: Duration) -> Result<(), String> {
    let mut stream = TcpStream::connect_timeout(&addr, timeout)
        .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    stream
        .set_read_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    stream
        .set_write_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    stream
        .write_all(b"GET /api/v1/healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .map_err(|e| format!("cannot send the probe: {e}"))?;
    let mut answer = Vec::new();
    stream
        .take(64 * 1024)
        .read_to_end(&mut answer)
        .map_err(|e| format!("no answer: {e}"))?;
    let answer = String::from_utf8_lossy(&answer);
    let status_line = answer.lines().next().unwrap_or("");
    if !status_line.starts_with("HTTP/1.1 200") {
        return Err(format!("unexpected answer: {status_line}"));
    }
    judge(answer.split_once("\r\n\r\n").map_or("", |(_, body)| body))
}

/// Healthy only if the `/healthz` body says `ok`; otherwise its reason.
fn judge(body: &str) -> Result<(), String> {
    let health: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    if health["status"] == "ok" {
        return Ok(());
    }
    let why = health["docker_error"].as_str().unwrap_or("degraded");
    Err(format!("the agent is up but cannot reach Docker: {why}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_hosts_are_probed_on_loopback() {
        assert_eq!(target("0.0.0.0", 9000), "127.0.0.1:9000".parse().unwrap());
        assert_eq!(target("::", 9000), "[::1]:9000".parse().unwrap());
        assert_eq!(target("10.1.2.3", 80), "10.1.2.3:80".parse().unwrap());
        assert_eq!(target("localhost", 1), "127.0.0.1:1".parse().unwrap());
    }

    #[test]
    fn degraded_answers_are_unhealthy_with_their_reason() {
        assert_eq!(judge(r#"{"status":"ok","docker_connected":true}"#), Ok(()));
        assert_eq!(
            judge(r#"{"status":"degraded","docker_connected":false,"docker_error":"cannot open the Docker socket: permission denied"}"#),
            Err("the agent is up but cannot reach Docker: cannot open the Docker socket: permission denied".into())
        );
        assert!(judge("not json").is_err());
    }

    #[test]
    fn nothing_listening_is_unhealthy() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        assert!(probe(target("127.0.0.1", port), Duration::from_secs(1)).is_err());
    }
}
