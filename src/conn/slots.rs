//! Connection slots: the global `MAX_CONNECTIONS` cap and the per-client
//! `MAX_CONNECTIONS_PER_CLIENT` cap.
//!
//! A global permit is taken before `accept`, so excess clients wait in the
//! kernel backlog instead of costing memory. Once the peer is known it must
//! also have room under its own cap, counted per TCP peer (IPv6 by /64) —
//! the socket's address, never `X-Forwarded-For`, which is not read yet and
//! could be forged. A peer over its cap gets its slot back at once and a
//! prompt refusal (a `429` that closes the connection; see
//! [`OverClientCap`]), served from a small pool of its own so that refusals
//! cannot hold the slots everyone else needs. When that pool is busy the
//! connection is simply closed.
//!
//! Memory: the per-peer table holds only peers with an open connection, so
//! it never has more than `MAX_CONNECTIONS` entries.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Refusals being answered at once; more over-cap connections are closed.
const MAX_REFUSING: usize = 64;
/// How long a refused client has to send the request its refusal answers.
const REFUSAL_WAIT: Duration = Duration::from_secs(2);

/// Every slot of the server.
pub struct Slots {
    global: Arc<Semaphore>,
    peers: Arc<Peers>,
    refusals: Arc<Semaphore>,
}

/// Open connections per client key.
struct Peers {
    per_client: usize,
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// One connection counted against its client; uncounted when dropped.
struct PeerClaim {
    peers: Arc<Peers>,
    key: IpAddr,
}

impl Drop for PeerClaim {
    fn drop(&mut self) {
        let mut open = self.peers.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.key);
            }
        }
    }
}

/// What an open connection holds: its client's share and its global slot.
/// (Fields drop in order: the client's share is free before the global
/// slot lets the next connection in.)
pub struct Held {
    _peer: PeerClaim,
    _global: OwnedSemaphorePermit,
}

/// What the accept loop does with a new connection.
pub enum Admission {
    /// Served normally, holding its slots.
    Admitted(ConnectionSlot),
    /// Its client is over `MAX_CONNECTIONS_PER_CLIENT`: every request gets
    /// a `429` that closes the connection.
    Refused {
        limit: usize,
        _turn: OwnedSemaphorePermit,
    },
}

impl Admission {
    /// How long the connection may take to send request headers.
    pub fn header_timeout(&self, configured: Duration) -> Duration {
        match self {
            Admission::Admitted(_) => configured,
            Admission::Refused { .. } => configured.min(REFUSAL_WAIT),
        }
    }

    /// Marks a request with its connection's standing.
    pub fn mark<B>(&self, req: &mut hyper::Request<B>) {
        let extensions = req.extensions_mut();
        match self {
            Admission::Admitted(slot) => {
                extensions.insert(slot.clone());
            }
            Admission::Refused { limit, .. } => {
                extensions.insert(OverClientCap { limit: *limit });
            }
        }
    }
}

/// Carried by the requests of a connection whose client is over its cap;
/// the pipeline answers them `429` with `Connection: close`.
#[derive(Clone, Copy, Debug)]
pub struct OverClientCap {
    pub limit: usize,
}

impl Slots {
    /// `total` connections at once, `per_client` of them from one client.
    pub fn new(total: usize, per_client: usize) -> Slots {
        Slots {
            global: Arc::new(Semaphore::new(total)),
            peers: Arc::new(Peers {
                per_client,
                open: Mutex::new(HashMap::new()),
            }),
            refusals: Arc::new(Semaphore::new(MAX_REFUSING)),
        }
    }

    /// Waits for a free global slot (taken before `accept`).
    pub async fn vacancy(&self) -> Option<OwnedSemaphorePermit> {
        self.global.clone().acquire_owned().await.ok()
    }

    /// Admits a connection from `peer` holding `slot`, refuses it, or —
    /// `None` — has it closed at once.
    pub fn admit(&self, slot: OwnedSemaphorePermit, peer: IpAddr) -> Option<Admission> {
        match self.claim(peer) {
            Some(claim) => Some(Admission::Admitted(ConnectionSlot::new(Held {
                _peer: claim,
                _global: slot,
            }))),
            None => {
                drop(slot);
                let turn = self.refusals.clone().try_acquire_owned().ok()?;
                Some(Admission::Refused {
                    limit: self.peers.per_client,
                    _turn: turn,
                })
            }
        }
    }

    fn claim(&self, peer: IpAddr) -> Option<PeerClaim> {
        let key = crate::net::client_key(peer);
        let mut open = self.peers.open.lock().unwrap_or_else(|e| e.into_inner());
        let n = open.entry(key).or_insert(0);
        if *n >= self.peers.per_client {
            return None;
        }
        *n += 1;
        Some(PeerClaim {
            peers: self.peers.clone(),
            key,
        })
    }
}

/// A connection's place under both caps. Requests carry it so that a
/// WebSocket upgrade can take it along: the stream then keeps counting as an
/// open connection of its client after hyper lets go of the socket.
#[derive(Clone)]
pub struct ConnectionSlot(Arc<Mutex<Option<Held>>>);

impl ConnectionSlot {
    fn new(held: Held) -> ConnectionSlot {
        ConnectionSlot(Arc::new(Mutex::new(Some(held))))
    }

    /// Takes the slots (once) for something that outlives the HTTP connection.
    pub fn take(&self) -> Option<Held> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slots(total: usize, per_client: usize) -> Slots {
        Slots::new(total, per_client)
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    async fn connect(s: &Slots, peer: &str) -> Option<Admission> {
        let slot = s.vacancy().await.unwrap();
        s.admit(slot, ip(peer))
    }

    fn admitted(a: &Option<Admission>) -> bool {
        matches!(a, Some(Admission::Admitted(_)))
    }

    #[tokio::test]
    async fn a_client_over_its_cap_is_refused_and_gives_its_slot_back() {
        let s = slots(10, 2);
        let a = connect(&s, "10.0.0.1").await;
        let b = connect(&s, "10.0.0.1").await;
        assert!(admitted(&a) && admitted(&b));
        let over = connect(&s, "10.0.0.1").await;
        assert!(matches!(over, Some(Admission::Refused { limit: 2, .. })));
        assert_eq!(s.global.available_permits(), 8, "the refusal holds no slot");
        assert!(admitted(&connect(&s, "10.0.0.2").await));
        drop(a);
        assert!(admitted(&connect(&s, "10.0.0.1").await), "room again");
    }

    #[tokio::test]
    async fn ipv6_clients_share_their_slash_64_and_the_table_empties() {
        let s = slots(10, 1);
        let a = connect(&s, "2001:db8::1").await;
        assert!(admitted(&a));
        assert!(!admitted(&connect(&s, "2001:db8::2").await));
        assert!(admitted(&connect(&s, "2001:db8:0:1::1").await));
        drop(a);
        assert!(s.peers.open.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn taken_slots_keep_counting_until_dropped() {
        let s = slots(10, 1);
        let Some(Admission::Admitted(slot)) = connect(&s, "10.0.0.1").await else {
            panic!("admitted");
        };
        let stream = slot.take();
        drop(slot);
        assert!(stream.is_some());
        assert!(!admitted(&connect(&s, "10.0.0.1").await));
        drop(stream);
        assert!(admitted(&connect(&s, "10.0.0.1").await));
    }

    #[tokio::test]
    async fn refusals_beyond_their_pool_are_closed_at_once() {
        let s = slots(1000, 1);
        let _held = connect(&s, "10.0.0.1").await;
        let refusing: Vec<_> = (0..MAX_REFUSING)
            .map(|_| {
                s.admit(
                    s.global.clone().try_acquire_owned().unwrap(),
                    ip("10.0.0.1"),
                )
            })
            .collect();
        assert!(
            refusing
                .iter()
                .all(|r| matches!(r, Some(Admission::Refused { .. })))
        );
        let slot = s.vacancy().await.unwrap();
        assert!(s.admit(slot, ip("10.0.0.1")).is_none());
    }
}
