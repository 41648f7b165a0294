//! Many hosts as one: the other agents of this agent's fleet, found through
//! what the operator already runs ([`crate::membership`]: a static list,
//! Swarm's or Kubernetes' DNS), probed in the background ([`probe`]), and
//! requests for them sent on as they came ([`forward`]). There is no
//! cluster of agents: no election, no shared state; every agent can be the
//! front door, and the agent that owns a host decides on every request for
//! it, with the caller's own credential.
//!
//! # Layout
//!
//! - [`link`]: the mutual-TLS HTTP/1.1 connections to one member.
//! - [`identity`]: what an agent says of itself to its peers.
//! - [`members`]: each member's state, the names hosts go by, lookups.
//! - [`probe`]: the periodic probe and `FLEET_DNS` resolution.
//! - [`forward`]: a request or a stream for another host, sent on.
//! - [`fanout`]: one question put to many hosts, bounded in number and time.
//! - [`merge`]: a read of every host (`?host=*`), put together.
//! - [`events`]: the events of every host as one stream, lossless per host.

pub mod events;
pub mod fanout;
pub mod forward;
pub mod identity;
pub mod link;
pub mod members;
pub mod merge;
mod probe;

pub use link::{Outgoing, full};

use crate::clock::format_rfc3339_millis;
use crate::conn::Io;
use crate::error::Error;
use crate::membership::{Address, FleetConfig};
use crate::service::Service;
use identity::{Identity, Secrets};
use members::{Counts, HostView, Origin, Remote, State, Status};
use rustls::ClientConfig;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

/// This agent's view of its fleet (its own host included).
pub struct Fleet {
    config: FleetConfig,
    /// How to dial the others; `None` outside a fleet.
    client: Option<Arc<ClientConfig>>,
    /// This process, as peers see it (random at each start).
    agent: String,
    secrets: Secrets,
    service: Arc<Service>,
    members: RwLock<Vec<Arc<Remote>>>,
    /// This host, as the last probe found it.
    local: Mutex<Status>,
    /// Addresses that turned out to be this agent's own.
    ours: Mutex<Vec<crate::membership::Address>>,
}

/// Where a request for a host goes.
pub enum Target {
    /// This agent's own host.
    Local,
    /// Another member, by the name it goes by.
    Remote(Arc<Remote>, String),
}

impl Fleet {
    pub fn new(
        config: FleetConfig,
        client: Option<Arc<ClientConfig>>,
        secrets: Secrets,
        service: Arc<Service>,
    ) -> Fleet {
        let listed = match &client {
            Some(tls) => config
                .peers
                .iter()
                .map(|p| {
                    let link = link::Connections::new(p.address.clone(), tls.clone());
                    Arc::new(Remote::new(Origin::Listed(p.name.clone()), link))
                })
                .collect(),
            None => Vec::new(),
        };
        Fleet {
            config,
            client,
            agent: crate::random::uuid_v4(),
            secrets,
            service,
            members: RwLock::new(listed),
            local: Mutex::default(),
            ours: Mutex::default(),
        }
    }

    /// The configuration this agent dials the other agents with.
    pub fn client(&self) -> Option<Arc<ClientConfig>> {
        self.client.clone()
    }

    /// Whether this agent is a member of a fleet.
    pub fn enabled(&self) -> bool {
        self.client.is_some()
    }

    fn members(&self) -> Vec<Arc<Remote>> {
        self.members
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// What this agent tells a peer that sent `nonce`.
    pub async fn identity(&self, nonce: &str) -> Identity {
        let facts = self.service.host_facts().await;
        let (id, docker_version, docker_error, running, total, daemon_name) = match facts {
            Ok(f) => (
                Some(f.id),
                Some(f.docker_version),
                None,
                Some(f.running),
                Some(f.total),
                Some(f.name),
            ),
            Err(e) => (None, None, Some(self.service.explain(&e)), None, None, None),
        };
        let name = self
            .config
            .name
            .clone()
            .or(daemon_name)
            .unwrap_or_else(|| "unnamed".into());
        Identity {
            agent: self.agent.clone(),
            version: env!("CARGO_PKG_VERSION").into(),
            name,
            id,
            docker_version,
            docker_error,
            running,
            total,
            proofs: self.secrets.proofs(nonce),
        }
    }

    /// Every host: this one first, then the members, with the names they go
    /// by, as last probed.
    pub fn hosts(&self) -> Vec<HostView> {
        self.snapshot().0
    }

    fn snapshot(&self) -> (Vec<HostView>, Vec<Option<Arc<Remote>>>) {
        let local = self
            .local
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let members = self.members();
        let mut views = vec![view(&local, "local".into(), "local", None)];
        let mut wanted = vec![
            self.config
                .name
                .clone()
                .or_else(|| local.identity.as_ref().map(|i| i.name.clone())),
        ];
        for m in &members {
            let status = m.status();
            let source = match m.origin {
                Origin::Listed(_) => "listed",
                Origin::Dns => "dns",
                Origin::Joined(_) => "joined",
            };
            let listed = match &m.origin {
                Origin::Listed(name) => Some(name.clone()),
                Origin::Dns | Origin::Joined(_) => None,
            };
            wanted.push(listed.or_else(|| status.identity.as_ref().map(|i| i.name.clone())));
            let address = match m.link.is_joined() {
                true => format!("{} (dials in)", m.link.address().host),
                false => m.link.address().to_string(),
            };
            views.push(view(&status, address, source, None));
        }
        let pairs: Vec<(String, Option<String>)> = views
            .iter()
            .zip(&wanted)
            .map(|(v, w)| (w.clone().unwrap_or_else(|| v.address.clone()), v.id.clone()))
            .collect();
        for (v, name) in views.iter_mut().zip(members::names(&pairs)) {
            v.name = name;
        }
        members::mark_duplicates(&mut views);
        for v in views.iter_mut().filter(|v| !v.duplicate_of.is_empty()) {
            let twins = format!(
                "the same Docker daemon as {}: listed apart, not merged",
                v.duplicate_of.join(", ")
            );
            v.reason = join_reasons(v.reason.take(), Some(twins));
            if v.state == State::Up {
                v.state = State::Degraded;
            }
        }
        let handles = std::iter::once(None)
            .chain(members.into_iter().map(Some))
            .collect();
        (views, handles)
    }

    /// Takes a connection the member `key` (behind NAT) opened from
    /// `from`: the member is added the first time, and probed at once.
    pub async fn joined(self: &Arc<Self>, key: &str, from: Address, io: Box<dyn Io>) {
        let origin = Origin::Joined(key.to_string());
        let found = self.members().into_iter().find(|m| m.origin == origin);
        let (member, fresh) = match found {
            Some(m) => (m, false),
            None => {
                let m = Arc::new(Remote::new(origin, link::Connections::joined(from)));
                let mut members = self.members.write().unwrap_or_else(PoisonError::into_inner);
                members.push(m.clone());
                (m, true)
            }
        };
        if let Err(why) = member.link.arrived(io).await {
            log::debug!(member = key, error = why.as_str(); "a joined connection failed");
            return;
        }
        if fresh {
            let fleet = self.clone();
            tokio::spawn(async move { fleet.probe(member).await });
        }
    }

    /// What this agent joins a front door as: its daemon's id, or (while
    /// its daemon cannot be reached) its own.
    pub async fn own_key(&self) -> String {
        // One `/info`: the id alone, not the container counts.
        self.service
            .daemon_id()
            .await
            .unwrap_or_else(|_| self.agent.clone())
    }

    /// The name this host goes by in the fleet.
    pub fn local_name(&self) -> String {
        self.snapshot().0.swap_remove(0).name
    }

    /// The host `wanted` names: this one, or a member.
    pub fn target(&self, wanted: &str) -> Result<Target, Error> {
        let (views, handles) = self.snapshot();
        let i = members::find(&views, wanted)?;
        Ok(match &handles[i] {
            None => Target::Local,
            Some(m) => Target::Remote(m.clone(), views[i].name.clone()),
        })
    }

    /// Every host by the name it goes by, this one first, and where a
    /// request for it goes.
    pub fn every(&self) -> Vec<(String, Target)> {
        let (views, handles) = self.snapshot();
        views
            .into_iter()
            .zip(handles)
            .map(|(v, handle)| match handle {
                None => (v.name, Target::Local),
                Some(m) => (v.name.clone(), Target::Remote(m, v.name)),
            })
            .collect()
    }
}

/// A host's view from its last probe.
fn view(status: &Status, address: String, source: &'static str, name: Option<String>) -> HostView {
    let id = status.identity.as_ref();
    HostView {
        name: name.unwrap_or_default(),
        id: id.and_then(|i| i.id.clone()),
        address,
        source,
        state: status.state,
        reason: join_reasons(
            status.reason.clone(),
            status.missing_since.map(|_| unresolved()),
        ),
        version: id.map(|i| i.version.clone()),
        docker_version: id.and_then(|i| i.docker_version.clone()),
        containers: id.and_then(|i| {
            Some(Counts {
                running: i.running?,
                total: i.total?,
            })
        }),
        rtt_ms: status.rtt.map(|d| (d.as_secs_f64() * 1e5).round() / 100.0),
        last_contact: status.last_contact.map(format_rfc3339_millis),
        duplicate_of: Vec::new(),
        agent: id.map(|i| i.agent.clone()),
    }
}

/// Why a member `FLEET_DNS` no longer gives is still listed.
fn unresolved() -> String {
    format!(
        "FLEET_DNS no longer gives its address: it is forgotten {} min after",
        probe::GONE.as_secs() / 60
    )
}

/// `first` and `then`, as one reason.
fn join_reasons(first: Option<String>, then: Option<String>) -> Option<String> {
    match (first, then) {
        (Some(a), Some(b)) => Some(format!("{a}; {b}")),
        (a, b) => a.or(b),
    }
}

impl State {
    /// The state of a member that answered: degraded with every reason found.
    fn of(reasons: &[String]) -> (State, Option<String>) {
        match reasons.is_empty() {
            true => (State::Up, None),
            false => (State::Degraded, Some(reasons.join("; "))),
        }
    }
}
