//! What the agent tells whoever starts it, decided from its settings, the
//! address it is bound to and whether it runs in a container: where the
//! dashboard and the metrics are, and whether listening in plain text may
//! let credentials cross the network. Pure functions; `main` prints.
//!
//! What the agent can and cannot know: it sees the address it listens on,
//! whether TLS is on, and whether it runs in a container
//! ([`crate::policy::own`]). It cannot see what reaches its port from the
//! outside: inside a container it listens on the container's own addresses
//! while Docker decides where the port is published (`-p 127.0.0.1:9000:9000`
//! or every address of the host), and on a host a firewall or a TLS proxy
//! may stand in front. `PLAIN_HTTP_EXPOSURE` is the operator's word for it.

use crate::net::is_loopback;
use crate::tls::PlainExposure;
use std::net::SocketAddr;

/// What the agent serves besides the API, as configured.
#[derive(Debug, Clone, Copy)]
pub struct Pages {
    pub dashboard: bool,
    pub metrics: bool,
}

/// The lines naming the URLs of the dashboard and of `/metrics` for an
/// agent bound to `addr`: on a wildcard address, `localhost` and how to
/// reach it from elsewhere (another machine, or the host of its container).
pub fn urls(addr: SocketAddr, tls: bool, pages: Pages, in_container: bool) -> Vec<String> {
    let scheme = if tls { "https" } else { "http" };
    let port = addr.port();
    let wildcard = addr.ip().is_unspecified();
    let base = if wildcard {
        format!("{scheme}://localhost:{port}")
    } else {
        format!("{scheme}://{addr}")
    };
    let named: Vec<String> = [
        (pages.dashboard, format!("dashboard {base}/")),
        (pages.metrics, format!("metrics {base}/metrics")),
    ]
    .into_iter()
    .filter_map(|(on, url)| on.then_some(url))
    .collect();
    if named.is_empty() {
        return Vec::new();
    }
    let mut lines = vec![named.join(", ")];
    if in_container {
        lines.push(format!(
            "that is port {port} inside this container: from the Docker host, use the address \
             and port it is published on ({scheme}://127.0.0.1:9000/ for -p 127.0.0.1:9000:{port})"
        ));
    } else if wildcard {
        lines.push(format!(
            "listening on every address: from another machine, this machine's name or address \
             in place of localhost ({scheme}://ADDRESS:{port}/)"
        ));
    }
    lines
}

/// A start-up record about plain text on a reachable address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// The operator said what reaches the port (`PLAIN_HTTP_EXPOSURE`).
    Acknowledged(String),
    /// Credentials may cross the network in clear text: what to do.
    Exposed(String),
}

/// Whether listening on `host` without TLS deserves a word, and which: none
/// on loopback or with TLS; the operator's acknowledgement when given;
/// otherwise a warning, worded for a container (which cannot see where its
/// port is published) or for a host.
pub fn plain_text(
    tls: bool,
    host: &str,
    exposure: Option<PlainExposure>,
    in_container: bool,
) -> Option<Notice> {
    if tls || is_loopback(host) {
        return None;
    }
    if let Some(exposure) = exposure {
        let who = match exposure {
            PlainExposure::Loopback => "only this host reaches the port",
            PlainExposure::TlsProxy => "only a reverse proxy that ends TLS reaches the port",
        };
        return Some(Notice::Acknowledged(format!(
            "plain HTTP on {host} acknowledged: PLAIN_HTTP_EXPOSURE={} says {who}",
            exposure.as_str()
        )));
    }
    let ending = "REQUIRE_TLS=true refuses this start instead";
    Some(Notice::Exposed(if in_container {
        format!(
            "listening without TLS on {host} inside a container, which cannot see where Docker \
             publishes its port. Published on 127.0.0.1 only (-p 127.0.0.1:9000:9000) or reached \
             only through a TLS reverse proxy, nothing crosses the network in clear text: say so \
             with PLAIN_HTTP_EXPOSURE=loopback (or tls-proxy) and this warning goes. Published \
             on other addresses, passwords, tokens and API keys cross the network in clear text: \
             set TLS_CERT_FILE and TLS_KEY_FILE (or TLS_AUTO=true). {ending}"
        )
    } else {
        format!(
            "listening without TLS on an address other machines can reach: passwords, tokens and \
             API keys cross the network in clear text. Fix: set TLS_CERT_FILE and TLS_KEY_FILE \
             (or TLS_AUTO=true), or listen on HOST=127.0.0.1 behind a TLS reverse proxy. If a \
             firewall or a TLS proxy already keeps others off this port, say so with \
             PLAIN_HTTP_EXPOSURE=loopback (or tls-proxy) and this warning goes. {ending}"
        )
    }))
}

#[cfg(test)]
mod tests;
