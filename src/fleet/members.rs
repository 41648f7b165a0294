//! The hosts of the fleet as `/api/v1/hosts` shows them: each member's
//! last known state, and the names hosts go by. A host's name is the
//! operator's (`FLEET_PEERS`), else the one its agent gives (`FLEET_NAME`,
//! else its daemon's); a name several hosts share is shown with enough of
//! each daemon's id to tell them apart (`vm~4qox`). Two members with the
//! same daemon are reported, never merged. A host is found by its name,
//! its daemon's id or a unique prefix of that id.

use super::identity::Identity;
use super::link::Connections;
use crate::error::Error;
use serde::Serialize;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

/// Fewest characters of a daemon id that a name or a lookup uses.
const MIN_PREFIX: usize = 4;

/// How a member came to be known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Named in `FLEET_PEERS`.
    Listed(String),
    /// An address `FLEET_DNS` resolved to.
    Dns,
    /// It dials this agent (`FLEET_JOIN`), known by its daemon's id (or
    /// its agent's, while its daemon cannot be reached).
    Joined(String),
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// It answers, its daemon answers, and it shares this agent's secrets.
    Up,
    /// It answers, but something needs the operator: its daemon, its secrets,
    /// or a daemon another member has too.
    Degraded,
    /// It does not answer (or has not been reached yet).
    #[default]
    Unreachable,
}

/// A member's last probe.
#[derive(Debug, Clone, Default)]
pub struct Status {
    pub identity: Option<Identity>,
    pub state: State,
    pub reason: Option<String>,
    pub rtt: Option<Duration>,
    /// When it last answered.
    pub last_contact: Option<SystemTime>,
    /// When `FLEET_DNS` stopped resolving to it.
    pub missing_since: Option<Instant>,
}

/// Another agent of the fleet.
pub struct Remote {
    pub origin: Origin,
    pub link: Connections,
    status: Mutex<Status>,
}

impl Remote {
    pub fn new(origin: Origin, link: Connections) -> Remote {
        Remote {
            origin,
            link,
            status: Mutex::default(),
        }
    }

    pub fn status(&self) -> Status {
        self.status
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub fn update(&self, change: impl FnOnce(&mut Status)) {
        change(&mut self.status.lock().unwrap_or_else(PoisonError::into_inner));
    }

    /// Records that it could not be reached, and why (what it said before
    /// stays, for the listing).
    pub fn unreachable(&self, why: String) {
        self.update(|s| {
            s.state = State::Unreachable;
            s.reason = Some(why);
            s.rtt = None;
        });
    }
}

/// Containers in the host agent's scope.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct Counts {
    pub running: i64,
    pub total: i64,
}

/// One host as `/api/v1/hosts` lists it.
#[derive(Debug, Clone, Serialize)]
pub struct HostView {
    /// The name it is addressed by: `/api/v1/hosts/{name}/…`.
    pub name: String,
    /// Its daemon's id.
    pub id: Option<String>,
    /// Its agent's fleet address; `local` for this agent's own host.
    pub address: String,
    /// `local`, `listed` (FLEET_PEERS), `dns` (FLEET_DNS) or `joined`
    /// (it dials this agent: FLEET_JOIN).
    pub source: &'static str,
    pub state: State,
    pub reason: Option<String>,
    /// Its agent's version.
    pub version: Option<String>,
    pub docker_version: Option<String>,
    pub containers: Option<Counts>,
    pub rtt_ms: Option<f64>,
    /// When it last answered (RFC 3339).
    pub last_contact: Option<String>,
    /// The other hosts with the same daemon, if any.
    pub duplicate_of: Vec<String>,
    /// The process id of its agent (tells a duplicate from a second address).
    #[serde(skip)]
    pub agent: Option<String>,
}

/// The names the hosts go by, in the order given: each `(wanted name,
/// daemon id)`; a name given more than once gets `~` and the shortest
/// prefix of its id (from [`MIN_PREFIX`] characters) that no other host
/// with that name shares.
pub fn names(hosts: &[(String, Option<String>)]) -> Vec<String> {
    hosts
        .iter()
        .map(|(name, id)| {
            let rivals: Vec<String> = hosts
                .iter()
                .filter(|(n, i)| n == name && i != id)
                .map(|(_, i)| i.as_deref().map(short).unwrap_or_default())
                .collect();
            if rivals.is_empty() && hosts.iter().filter(|(n, _)| n == name).count() < 2 {
                return name.clone();
            }
            let mine = id.as_deref().map(short).unwrap_or_default();
            let len = (MIN_PREFIX..=mine.len())
                .find(|&n| rivals.iter().all(|r| !r.starts_with(&mine[..n])))
                .unwrap_or(mine.len());
            match mine.is_empty() {
                true => format!("{name}~unknown"),
                false => format!("{name}~{}", &mine[..len]),
            }
        })
        .collect()
}

/// A daemon id as names and lookups use it: lowercase letters and digits.
pub fn short(id: &str) -> String {
    id.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The host `wanted` names among `hosts`: a name, a daemon id, or a
/// prefix of one (from [`MIN_PREFIX`] characters) that only one host has.
pub fn find(hosts: &[HostView], wanted: &str) -> Result<usize, Error> {
    if let Some(i) = hosts.iter().position(|h| h.name == wanted) {
        return Ok(i);
    }
    let key = short(wanted);
    let by_id: Vec<usize> = (0..hosts.len())
        .filter(|&i| {
            let id = hosts[i].id.as_deref().map(short).unwrap_or_default();
            !id.is_empty() && (id == key || (key.len() >= MIN_PREFIX && id.starts_with(&key)))
        })
        .collect();
    match by_id.as_slice() {
        [one] => Ok(*one),
        [] => {
            let named: Vec<usize> = (0..hosts.len())
                .filter(|&i| hosts[i].name.split('~').next() == Some(wanted))
                .collect();
            match named.as_slice() {
                [] => Err(Error::UnknownHost(wanted.to_string())),
                [one] => Ok(*one),
                many => Err(ambiguous(hosts, wanted, many)),
            }
        }
        many => Err(ambiguous(hosts, wanted, many)),
    }
}

fn ambiguous(hosts: &[HostView], wanted: &str, which: &[usize]) -> Error {
    let names = which.iter().map(|&i| hosts[i].name.clone()).collect();
    Error::AmbiguousHost(wanted.to_string(), names)
}

/// Marks the hosts that share a daemon with another (not merged).
pub fn mark_duplicates(hosts: &mut [HostView]) {
    for i in 0..hosts.len() {
        let twins: Vec<String> = hosts
            .iter()
            .enumerate()
            .filter(|(j, h)| *j != i && h.id.is_some() && h.id == hosts[i].id)
            .map(|(_, h)| h.name.clone())
            .collect();
        hosts[i].duplicate_of = twins;
    }
}

#[cfg(test)]
mod tests;
