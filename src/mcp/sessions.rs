//! A bounded table of MCP sessions (handshake-era Streamable HTTP sessions
//! and legacy SSE sessions). Ids are 32 random hex digits. A session unused
//! for the idle limit expires.
//!
//! Two ways in: [`Sessions::open`] (Streamable HTTP) never locks a newcomer
//! out — a client at its share gives up its own least recently used
//! session, and a full table gives up its least recently used one, whose
//! client then gets `404` and initializes again, as the protocol expects;
//! [`Sessions::insert`] (SSE, where each session is an open stream already
//! bounded by the connection caps) refuses when the table is full.
//! Clients are keyed as [`crate::net::client_key`] keys them. Eviction scans
//! the table, which is small (1,000 entries at most).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

struct Entry<T> {
    value: T,
    /// The client that opened it, for per-client shares.
    owner: Option<IpAddr>,
    last_used: Instant,
}

pub struct Sessions<T> {
    map: Mutex<HashMap<String, Entry<T>>>,
    max: usize,
    idle: Duration,
}

type Map<T> = HashMap<String, Entry<T>>;

/// A fresh session id.
pub fn new_id() -> String {
    let mut b = [0u8; 16];
    crate::random::fill(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl<T: Clone> Sessions<T> {
    pub fn new(max: usize, idle: Duration) -> Sessions<T> {
        Sessions {
            map: Mutex::new(HashMap::new()),
            max,
            idle,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry<T>>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Stores `value` under a new id; `None` when the table is full.
    pub fn insert(&self, value: T) -> Option<String> {
        let mut map = self.lock();
        self.sweep_if_full(&mut map);
        (map.len() < self.max).then(|| add(&mut map, None, value))
    }

    /// Stores `client`'s `value` under a new id, making room if needed: a
    /// client holding `share` sessions loses its least recently used one,
    /// and a full table loses its least recently used one.
    pub fn open(&self, client: IpAddr, share: usize, value: T) -> String {
        let owner = Some(crate::net::client_key(client));
        let mut map = self.lock();
        if map.values().filter(|e| e.owner == owner).count() >= share {
            evict_least_recent(&mut map, |e| e.owner == owner);
        }
        self.sweep_if_full(&mut map);
        if map.len() >= self.max {
            evict_least_recent(&mut map, |_| true);
        }
        add(&mut map, owner, value)
    }

    fn sweep_if_full(&self, map: &mut Map<T>) {
        if map.len() >= self.max {
            let now = Instant::now();
            map.retain(|_, e| now.duration_since(e.last_used) < self.idle);
        }
    }

    /// The session under `id`, marked as used; `None` if unknown or expired.
    pub fn get(&self, id: &str) -> Option<T> {
        let now = Instant::now();
        let mut map = self.lock();
        match map.get_mut(id) {
            Some(e) if now.duration_since(e.last_used) < self.idle => {
                e.last_used = now;
                Some(e.value.clone())
            }
            Some(_) => {
                map.remove(id);
                None
            }
            None => None,
        }
    }

    /// Whether `id` has been idle past the limit (or is gone).
    pub fn expired(&self, id: &str) -> bool {
        let now = Instant::now();
        self.lock()
            .get(id)
            .is_none_or(|e| now.duration_since(e.last_used) >= self.idle)
    }

    /// Ends a session, returning it; `None` if it did not exist.
    pub fn remove(&self, id: &str) -> Option<T> {
        self.lock().remove(id).map(|e| e.value)
    }
}

fn add<T>(map: &mut Map<T>, owner: Option<IpAddr>, value: T) -> String {
    let id = new_id();
    let entry = Entry {
        value,
        owner,
        last_used: Instant::now(),
    };
    map.insert(id.clone(), entry);
    id
}

/// Drops the least recently used session among those `chosen`.
fn evict_least_recent<T>(map: &mut Map<T>, chosen: impl Fn(&Entry<T>) -> bool) {
    let oldest = map
        .iter()
        .filter(|(_, e)| chosen(e))
        .min_by_key(|(_, e)| e.last_used)
        .map(|(id, _)| id.clone());
    if let Some(id) = oldest {
        map.remove(&id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn a_client_at_its_share_gives_up_its_least_recently_used_session() {
        let s = Sessions::new(100, Duration::from_secs(60));
        let first = s.open(ip("10.0.0.1"), 2, 1);
        tokio::time::advance(Duration::from_millis(1)).await;
        let second = s.open(ip("10.0.0.1"), 2, 2);
        let other = s.open(ip("10.0.0.2"), 2, 9);
        tokio::time::advance(Duration::from_millis(1)).await;
        assert_eq!(s.get(&first), Some(1), "using it makes it recent");
        let third = s.open(ip("10.0.0.1"), 2, 3);
        assert_eq!(s.get(&second), None, "evicted");
        assert_eq!(
            (s.get(&first), s.get(&third), s.get(&other)),
            (Some(1), Some(3), Some(9))
        );
        let v6 = s.open(ip("2001:db8::1"), 1, 4);
        s.open(ip("2001:db8::2"), 1, 5);
        assert_eq!(s.get(&v6), None, "one /64 is one client");
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_table_gives_up_its_least_recently_used_session() {
        let s = Sessions::new(3, Duration::from_secs(60));
        let mut ids = Vec::new();
        for n in 1..=3 {
            ids.push(s.open(ip(&format!("10.0.0.{n}")), 2, n));
            tokio::time::advance(Duration::from_millis(1)).await;
        }
        assert_eq!(s.get(&ids[0]), Some(1));
        let newcomer = s.open(ip("10.0.0.9"), 2, 9);
        assert_eq!(s.get(&ids[1]), None, "the least recently used went");
        assert_eq!(s.get(&ids[0]), Some(1));
        assert_eq!(s.get(&newcomer), Some(9));
        assert_eq!(s.lock().len(), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn sessions_are_bounded_and_expire_when_idle() {
        let s = Sessions::new(2, Duration::from_secs(60));
        let a = s.insert(1).unwrap();
        let b = s.insert(2).unwrap();
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
        assert_eq!(s.insert(3), None, "full");
        tokio::time::advance(Duration::from_secs(30)).await;
        assert_eq!(s.get(&a), Some(1), "use keeps a alive");
        tokio::time::advance(Duration::from_secs(45)).await;
        assert!(s.expired(&b));
        assert_eq!(s.get(&b), None, "b idled out");
        assert!(s.insert(4).is_some(), "room again");
        assert_eq!(s.remove(&a), Some(1));
        assert_eq!(s.remove(&a), None);
        assert_eq!(s.get(&a), None);
    }
}
