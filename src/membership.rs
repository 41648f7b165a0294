//! Who the other agents of a fleet are, as the operator names them: a
//! static list (`FLEET_PEERS=name=https://addr:port,…`) and a DNS name
//! re-resolved as the orchestrator changes it (`FLEET_DNS=tasks.agent:9000`:
//! Swarm's `tasks.<service>`, a Kubernetes headless Service), and the name
//! this host goes by (`FLEET_NAME`). Only `https` is accepted: agents talk
//! to each other over mutual TLS. A member's identity is its Docker
//! daemon's, learnt when it is reached; the names here are the operator's.
//! The fleet's trust is its own CA and each agent's certificate from it
//! (`FLEET_CA_FILE`, `FLEET_CERT_FILE`, `FLEET_KEY_FILE`); an agent behind
//! NAT dials a front door instead of being dialled (`FLEET_JOIN`).

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// The fleet port when an address names none (`FLEET_PORT`'s default).
pub const DEFAULT_PORT: u16 = 9001;

/// Most characters of a host name.
const MAX_NAME: usize = 63;

/// A member named in `FLEET_PEERS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedPeer {
    pub name: String,
    pub address: Address,
}

/// Where an agent listens: a host name or address, and a port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    pub host: String,
    pub port: u16,
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// The fleet's PEM files: its CA, and this agent's certificate (its server
/// certificate on the fleet port and its client certificate when it
/// forwards) and key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustFiles {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// The fleet settings, read once at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetConfig {
    /// `FLEET_NAME`: this host's name in the fleet; its daemon's when unset.
    pub name: Option<String>,
    /// `FLEET_PEERS`.
    pub peers: Vec<ListedPeer>,
    /// `FLEET_DNS`: re-resolved, every address an agent.
    pub dns: Option<Address>,
    /// `FLEET_JOIN`: the front door this agent dials and serves through,
    /// for a host the others cannot reach (behind NAT).
    pub join: Option<Address>,
    /// `FLEET_PORT`: where other agents reach this one (mutual TLS only).
    pub port: u16,
    /// The fleet's certificates; `None`: no fleet.
    pub trust: Option<TrustFiles>,
    /// How often members are probed and `FLEET_DNS` resolved again.
    pub probe_every: Duration,
}

impl Default for FleetConfig {
    fn default() -> FleetConfig {
        FleetConfig {
            name: None,
            peers: Vec::new(),
            dns: None,
            join: None,
            port: DEFAULT_PORT,
            trust: None,
            probe_every: Duration::from_secs(10),
        }
    }
}

impl FleetConfig {
    /// Whether this agent is part of a fleet at all (it then listens on
    /// the fleet port).
    pub fn enabled(&self) -> bool {
        self.trust.is_some()
    }

    /// Whether it looks for other members (and can be a front door).
    pub fn finds_members(&self) -> bool {
        !self.peers.is_empty() || self.dns.is_some()
    }
}

/// A host name as the fleet shows it: 1 to 63 letters, digits, `.`, `_`
/// or `-`, starting with a letter or digit (so it is a path segment as is).
pub fn valid_name(name: &str) -> bool {
    name.len() <= MAX_NAME
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// One `FLEET_PEERS` entry: `name=https://host:port` (the port defaults
/// to [`DEFAULT_PORT`]).
pub fn parse_peer(entry: &str) -> Result<ListedPeer, String> {
    let (name, url) = entry
        .split_once('=')
        .ok_or_else(|| format!("{entry:?} is not name=https://host:port"))?;
    let name = name.trim();
    if !valid_name(name) {
        return Err(format!(
            "{name:?} is not a host name (1 to {MAX_NAME} letters, digits, '.', '_' or '-')"
        ));
    }
    let address = parse_url(url).map_err(|why| format!("{name}: {why}"))?;
    Ok(ListedPeer {
        name: name.to_string(),
        address,
    })
}

/// An agent's fleet URL, `https://host:port` with nothing after the port.
pub fn parse_url(url: &str) -> Result<Address, String> {
    let rest = url
        .trim()
        .strip_prefix("https://")
        .ok_or_else(|| format!("{url:?} must start with https:// (agents talk over mutual TLS)"))?;
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if authority.contains('/') {
        return Err(format!("{url:?}: an agent's address takes no path"));
    }
    parse_address(authority)
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`, the port defaulting to
/// [`DEFAULT_PORT`]; nothing else (no path, no user).
pub fn parse_address(text: &str) -> Result<Address, String> {
    let (host, port) = match text.strip_prefix('[') {
        Some(v6) => {
            let (host, after) = v6
                .split_once(']')
                .ok_or_else(|| format!("{text:?}: an IPv6 address needs its closing ]"))?;
            (host, after.strip_prefix(':'))
        }
        None => match text.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (text, None),
        },
    };
    let host_ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':'));
    if !host_ok {
        return Err(format!("{text:?} is not host:port"));
    }
    let port = match port {
        None => DEFAULT_PORT,
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| format!("{text:?}: the port must be 1 to 65535"))?,
    };
    Ok(Address {
        host: host.to_string(),
        port,
    })
}

/// Every `FLEET_PEERS` entry, refused as a whole when one is wrong or two
/// share a name.
pub fn parse_peers(entries: &[String]) -> Result<Vec<ListedPeer>, String> {
    let mut peers: Vec<ListedPeer> = Vec::new();
    for entry in entries {
        let peer = parse_peer(entry)?;
        if peers.iter().any(|p| p.name == peer.name) {
            return Err(format!("{:?} is named twice", peer.name));
        }
        peers.push(peer);
    }
    Ok(peers)
}

#[cfg(test)]
mod tests;
