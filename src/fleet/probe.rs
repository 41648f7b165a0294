//! The fleet's background probe: every `FLEET_PROBE_INTERVAL` seconds this
//! host's daemon is checked, `FLEET_DNS` is resolved again (new addresses
//! become members; one that stays unresolved for [`GONE`] is forgotten),
//! and every member is asked who it is — at most [`AT_ONCE`] at a time,
//! each within [`ANSWER`]. So a host's state is known before anyone asks.

use super::Fleet;
use super::identity::{Identity, PATH};
use super::link::Connections;
use super::members::{Origin, Remote, State};
use crate::membership::Address;
use futures_util::StreamExt;
use http_body_util::{BodyExt, Limited};
use hyper::Request;
use std::sync::{Arc, PoisonError};
use std::time::{Duration, Instant, SystemTime};

/// Members probed at once.
const AT_ONCE: usize = 32;

/// How long a member has to answer a probe.
const ANSWER: Duration = Duration::from_secs(5);

/// How long an address `FLEET_DNS` no longer gives stays listed.
pub(super) const GONE: Duration = Duration::from_secs(300);

/// Largest identity document read.
const MAX_IDENTITY: usize = 16 * 1024;

impl Fleet {
    /// Probes for ever, the first time at once.
    pub async fn run(self: Arc<Self>) {
        let mut tick = tokio::time::interval(self.config.probe_every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            self.probe_all().await;
        }
    }

    /// One round: this host, `FLEET_DNS`, every member.
    pub async fn probe_all(&self) {
        self.refresh_local().await;
        if let Some(dns) = &self.config.dns {
            Box::pin(self.resolve(dns)).await;
        }
        futures_util::stream::iter(self.members())
            .for_each_concurrent(AT_ONCE, |m| self.probe(m))
            .await;
    }

    /// Looks at this host again: its daemon, its containers in scope.
    pub async fn refresh_local(&self) {
        let nonce = crate::random::uuid_v4().replace('-', "");
        let local = Box::pin(self.identity(&nonce)).await;
        self.local
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone_from(&local_status(local));
    }

    /// Adds the addresses `dns` resolves to now, marks the ones it no
    /// longer gives, and forgets those gone for [`GONE`].
    async fn resolve(&self, dns: &Address) {
        let Some(tls) = &self.client else { return };
        let found: Vec<Address> = match tokio::net::lookup_host((dns.host.as_str(), dns.port)).await
        {
            Ok(addrs) => addrs
                .map(|a| Address {
                    host: a.ip().to_canonical().to_string(),
                    port: a.port(),
                })
                .collect(),
            Err(e) => {
                log::warn!(name = dns.host.as_str(), error = e.to_string().as_str(); "FLEET_DNS does not resolve; keeping the members known");
                return;
            }
        };
        let now = Instant::now();
        let mut members = self.members.write().unwrap_or_else(PoisonError::into_inner);
        for m in members.iter().filter(|m| m.origin == Origin::Dns) {
            let resolved = found.contains(m.link.address());
            m.update(|s| match resolved {
                true => s.missing_since = None,
                false => s.missing_since = s.missing_since.or(Some(now)),
            });
        }
        members.retain(|m| {
            m.status()
                .missing_since
                .is_none_or(|since| now.duration_since(since) < GONE)
        });
        for address in found {
            let known = members.iter().any(|m| m.link.address() == &address);
            let ours = self
                .ours
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .contains(&address);
            if !known && !ours {
                let link = Connections::new(address, tls.clone());
                members.push(Arc::new(Remote::new(Origin::Dns, link)));
            }
        }
    }

    /// Asks `m` who it is, and records its state.
    pub(super) async fn probe(&self, m: Arc<Remote>) {
        let nonce = crate::random::uuid_v4().replace('-', "");
        let started = Instant::now();
        let answer = tokio::time::timeout(ANSWER, ask(&m, &nonce)).await;
        let rtt = started.elapsed();
        let identity = match answer {
            Ok(Ok(identity)) => identity,
            Ok(Err(why)) => return m.unreachable(why),
            Err(_) => return m.unreachable(format!("no answer within {} s", ANSWER.as_secs())),
        };
        if identity.agent == self.agent {
            // FLEET_DNS (or a list) gave this agent's own address.
            self.ours
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(m.link.address().clone());
            let mut members = self.members.write().unwrap_or_else(PoisonError::into_inner);
            members.retain(|other| !Arc::ptr_eq(other, &m));
            return;
        }
        let mut reasons: Vec<String> = Vec::new();
        if let Some(why) = &identity.docker_error {
            reasons.push(format!("its Docker daemon cannot be reached: {why}"));
        }
        let differ = self.secrets.differences(&nonce, &identity.proofs);
        reasons.extend(differ.iter().map(|d| d.to_string()));
        let (state, reason) = State::of(&reasons);
        m.update(|s| {
            s.identity = Some(identity);
            s.state = state;
            s.reason = reason;
            s.rtt = Some(rtt);
            s.last_contact = Some(SystemTime::now());
        });
    }
}

/// This host's status from its own identity.
fn local_status(identity: Identity) -> super::Status {
    let reasons: Vec<String> = identity.docker_error.iter().cloned().collect();
    let (state, reason) = State::of(&reasons);
    super::Status {
        identity: Some(identity),
        state,
        reason,
        rtt: None,
        last_contact: Some(SystemTime::now()),
        missing_since: None,
    }
}

/// The identity `m` gives for `nonce`.
async fn ask(m: &Remote, nonce: &str) -> Result<Identity, String> {
    // Closed after the answer: a probe keeps no connection (and its TLS
    // buffers) open to every member between rounds.
    let req = Request::get(format!("{PATH}?nonce={nonce}"))
        .header(hyper::header::HOST, m.link.address().to_string())
        .header(hyper::header::CONNECTION, "close")
        .body(super::link::empty())
        .map_err(|e| e.to_string())?;
    let response = m.link.send(req).await?;
    let status = response.status();
    let bytes = Limited::new(response.into_body(), MAX_IDENTITY)
        .collect()
        .await
        .map_err(|e| format!("its answer broke off: {e}"))?
        .to_bytes();
    if !status.is_success() {
        return Err(format!(
            "it answered {status} to the fleet's identity request: is FLEET_PORT its fleet port, and its agent this version?"
        ));
    }
    serde_json::from_slice(&bytes).map_err(|e| format!("its identity is unreadable: {e}"))
}
