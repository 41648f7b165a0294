//! A bounded table of MCP sessions (handshake-era Streamable HTTP sessions
//! and legacy SSE sessions). Ids are 32 random hex digits. A session unused
//! for the idle limit expires.
//!
//! A session belongs to its [`Holder`]: the client that opened it (keyed as
//! [`crate::net::client_key`] keys it) and the credential it was opened
//! with (the MCP key, or a scoped token by its hash). Only that credential
//! finds it again ([`Sessions::get`], [`Sessions::remove`]): to any other,
//! it is unknown, exactly as an id that never existed.
//!
//! [`Sessions::open`] never locks a newcomer out, and nobody can push
//! others out beyond a fair share ([`Shares`]):
//! - a newcomer whose client holds its share gives up that client's least
//!   recently used session;
//! - a newcomer whose credential holds its share gives up one of that
//!   credential's sessions;
//! - a full table gives up one session of the credential holding the most
//!   (on a tie, the newcomer's own).
//!
//! "One session of a credential" is the least recently used session of its
//! client holding the most (on a tie, the newcomer's client), so clients
//! sharing a credential do not push each other out either. Every session
//! given up is told why ([`Session::end`]): its client then gets `404` and
//! starts again, as the protocols expect. Eviction scans the table, which
//! is small (1,000 entries at most).

use crate::policy::{Caller, Credential};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// How many sessions a table holds, in all and per holder.
#[derive(Debug, Clone, Copy)]
pub struct Shares {
    pub max: usize,
    pub per_client: usize,
    pub per_credential: usize,
}

/// Who holds a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    client: IpAddr,
    credential: Credential,
}

impl Holder {
    /// `caller`, calling from `client`.
    pub fn of(client: IpAddr, caller: &Caller) -> Holder {
        Holder {
            client: crate::net::client_key(client),
            credential: caller.credential.clone(),
        }
    }
}

/// Why the table gave a session up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Evicted {
    /// Its client opened another beyond its share.
    Client,
    /// Its credential was used for another beyond its share.
    Credential,
    /// The table was full and its credential held the most.
    Full,
}

impl Evicted {
    /// The reason, as its client may be told.
    pub fn reason(self, shares: Shares) -> String {
        match self {
            Evicted::Client => format!(
                "this client opened a session beyond its share of {}, and this one was its least recently used",
                shares.per_client
            ),
            Evicted::Credential => format!(
                "this credential opened a session beyond its share of {}, and this one was among its least recently used",
                shares.per_credential
            ),
            Evicted::Full => format!(
                "the table of {} sessions was full, and this credential held the most",
                shares.max
            ),
        }
    }
}

/// What a table holds: a session that can be told it was given up.
pub trait Session: Clone {
    fn end(&self, why: Evicted, shares: Shares);
}

struct SessionEntry<T> {
    value: T,
    holder: Holder,
    last_used: Instant,
}

type Map<T> = HashMap<String, SessionEntry<T>>;

pub struct Sessions<T> {
    map: Mutex<Map<T>>,
    shares: Shares,
    idle: Duration,
}

/// A fresh random id: 128 bits, in hex.
pub fn new_id() -> String {
    let mut b = [0u8; 16];
    crate::random::fill(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl<T: Session> Sessions<T> {
    pub fn new(shares: Shares, idle: Duration) -> Sessions<T> {
        Sessions {
            map: Mutex::new(HashMap::new()),
            shares,
            idle,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Map<T>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Stores `holder`'s `value` under a new id, making room as the module
    /// doc says; the sessions given up are ended.
    pub fn open(&self, holder: Holder, value: T) -> String {
        let shares = self.shares;
        let mut given_up = Vec::new();
        let id = {
            let mut map = self.lock();
            let now = Instant::now();
            map.retain(|_, e| now.duration_since(e.last_used) < self.idle);
            let client = holder.client;
            if map.values().filter(|e| e.holder.client == client).count() >= shares.per_client {
                let own = take_least_recent(&mut map, |e| e.holder.client == client);
                given_up.extend(own.map(|v| (v, Evicted::Client)));
            }
            let credential = &holder.credential;
            let held = map.values().filter(|e| e.holder.credential == *credential);
            if held.count() >= shares.per_credential {
                let own = evict(&mut map, Some(credential), &holder);
                given_up.extend(own.map(|v| (v, Evicted::Credential)));
            }
            if map.len() >= shares.max {
                given_up.extend(evict(&mut map, None, &holder).map(|v| (v, Evicted::Full)));
            }
            let id = loop {
                let id = new_id();
                if !map.contains_key(&id) {
                    break id;
                }
            };
            let entry = SessionEntry {
                value,
                holder: holder.clone(),
                last_used: now,
            };
            map.insert(id.clone(), entry);
            id
        };
        for (value, why) in given_up {
            value.end(why, shares);
        }
        id
    }

    /// `credential`'s session under `id`, marked as used; `None` if
    /// unknown, expired or held by another credential.
    pub fn get(&self, id: &str, credential: &Credential) -> Option<T> {
        let now = Instant::now();
        let mut map = self.lock();
        let entry = map
            .get_mut(id)
            .filter(|e| e.holder.credential == *credential)?;
        if now.duration_since(entry.last_used) >= self.idle {
            map.remove(id);
            return None;
        }
        entry.last_used = now;
        Some(entry.value.clone())
    }

    /// The live session under `id`, whoever holds it, left as it was (for
    /// admitting a message by the session it names).
    pub fn peek(&self, id: &str) -> Option<T> {
        let now = Instant::now();
        self.lock()
            .get(id)
            .filter(|e| now.duration_since(e.last_used) < self.idle)
            .map(|e| e.value.clone())
    }

    /// Whether `id` has been idle past the limit (or is gone).
    pub fn expired(&self, id: &str) -> bool {
        self.peek(id).is_none()
    }

    /// Ends `credential`'s session under `id`, returning it; `None` if it
    /// is unknown or held by another credential.
    pub fn remove(&self, id: &str, credential: &Credential) -> Option<T> {
        let mut map = self.lock();
        map.get(id).filter(|e| e.holder.credential == *credential)?;
        map.remove(id).map(|e| e.value)
    }
}

/// Removes the least recently used session among those `chosen`.
fn take_least_recent<T>(map: &mut Map<T>, chosen: impl Fn(&SessionEntry<T>) -> bool) -> Option<T> {
    let id = map
        .iter()
        .filter(|(_, e)| chosen(e))
        .min_by_key(|(_, e)| e.last_used)
        .map(|(id, _)| id.clone())?;
    map.remove(&id).map(|e| e.value)
}

/// Of `keys` (each with the last use of one of its sessions), the one
/// holding the most sessions; a tie goes to `preferred`, then to the one
/// holding the least recently used session.
fn heaviest<'a, K: PartialEq>(
    keys: impl Iterator<Item = (&'a K, Instant)>,
    preferred: &K,
) -> Option<&'a K> {
    let mut tally: Vec<(&K, usize, Instant)> = Vec::new();
    for (key, used) in keys {
        match tally.iter_mut().find(|(k, _, _)| *k == key) {
            Some((_, n, oldest)) => (*n, *oldest) = (*n + 1, (*oldest).min(used)),
            None => tally.push((key, 1, used)),
        }
    }
    tally
        .into_iter()
        .max_by_key(|(k, n, oldest)| (*n, *k == preferred, std::cmp::Reverse(*oldest)))
        .map(|(k, _, _)| k)
}

/// Gives up one session of credential `from` — or, when `None`, of the
/// credential holding the most — for `newcomer` (see the module doc).
fn evict<T>(map: &mut Map<T>, from: Option<&Credential>, newcomer: &Holder) -> Option<T> {
    let credential = match from {
        Some(c) => c.clone(),
        None => {
            let all = map.values().map(|e| (&e.holder.credential, e.last_used));
            heaviest(all, &newcomer.credential)?.clone()
        }
    };
    let client = {
        let held = map.values().filter(|e| e.holder.credential == credential);
        *heaviest(
            held.map(|e| (&e.holder.client, e.last_used)),
            &newcomer.client,
        )?
    };
    let holder = Holder { client, credential };
    take_least_recent(map, |e| e.holder == holder)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// A session that remembers why it was given up.
    #[derive(Clone, Default)]
    struct Probe(Arc<Mutex<Option<Evicted>>>);

    impl Session for Probe {
        fn end(&self, why: Evicted, _: Shares) {
            *self.0.lock().unwrap() = Some(why);
        }
    }

    impl Probe {
        fn ended(&self) -> Option<Evicted> {
            *self.0.lock().unwrap()
        }
    }

    const KEY: Credential = Credential::McpKey;

    fn token(n: u8) -> Credential {
        Credential::Token([n; 32])
    }

    fn holder(ip: &str, credential: &Credential) -> Holder {
        Holder {
            client: crate::net::client_key(ip.parse().unwrap()),
            credential: credential.clone(),
        }
    }

    fn table(max: usize, per_client: usize, per_credential: usize) -> Sessions<Probe> {
        let shares = Shares {
            max,
            per_client,
            per_credential,
        };
        Sessions::new(shares, Duration::from_secs(60))
    }

    /// Opens a session for `ip` with `credential`, a millisecond after the last.
    async fn open(s: &Sessions<Probe>, ip: &str, credential: &Credential) -> (String, Probe) {
        tokio::time::advance(Duration::from_millis(1)).await;
        let probe = Probe::default();
        (s.open(holder(ip, credential), probe.clone()), probe)
    }

    #[tokio::test(start_paused = true)]
    async fn a_client_at_its_share_gives_up_its_least_recently_used_session() {
        let s = table(100, 2, 50);
        let (first, _) = open(&s, "10.0.0.1", &KEY).await;
        let (second, evicted) = open(&s, "10.0.0.1", &KEY).await;
        let (other, _) = open(&s, "10.0.0.2", &KEY).await;
        tokio::time::advance(Duration::from_millis(1)).await;
        assert!(s.get(&first, &KEY).is_some(), "using it makes it recent");
        let (third, _) = open(&s, "10.0.0.1", &KEY).await;
        assert!(s.get(&second, &KEY).is_none(), "evicted");
        assert_eq!(evicted.ended(), Some(Evicted::Client), "and told why");
        assert!(
            [first, third, other]
                .iter()
                .all(|id| s.get(id, &KEY).is_some())
        );
        let (v6, _) = open(&s, "2001:db8::1", &KEY).await;
        open(&s, "2001:db8::2", &KEY).await;
        open(&s, "2001:db8::3", &KEY).await;
        assert!(s.get(&v6, &KEY).is_none(), "one /64 is one client");
    }

    #[tokio::test(start_paused = true)]
    async fn a_credential_at_its_share_gives_up_a_session_of_its_busiest_client() {
        let s = table(100, 10, 4);
        let (quiet, quiet_probe) = open(&s, "10.0.0.1", &KEY).await;
        let mut busy = Vec::new();
        for n in 2..=4 {
            busy.push(open(&s, &format!("10.0.1.{}", n % 2), &KEY).await);
        }
        let (other, _) = open(&s, "10.0.0.9", &token(1)).await;
        // The key holds 4: the busiest of its clients (10.0.1.0, two) gives one up.
        open(&s, "10.0.0.7", &KEY).await;
        assert_eq!(busy[0].1.ended(), Some(Evicted::Credential));
        assert_eq!(quiet_probe.ended(), None);
        assert!(s.get(&quiet, &KEY).is_some() && s.get(&other, &token(1)).is_some());
        // On a tie, the newcomer's own client gives one up.
        let (_, mine) = open(&s, "10.0.0.1", &KEY).await;
        assert_eq!(quiet_probe.ended(), Some(Evicted::Credential));
        assert_eq!(mine.ended(), None);
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_table_gives_up_a_session_of_the_credential_holding_the_most() {
        let s = table(6, 10, 10);
        let (key_session, key_probe) = open(&s, "10.0.0.1", &KEY).await;
        let mut hoard = Vec::new();
        for n in 0..5 {
            hoard.push(open(&s, &format!("10.0.2.{n}"), &token(1)).await);
        }
        // The token holds the most: whoever opens next, the token gives one up.
        let (key_again, _) = open(&s, "10.0.0.1", &KEY).await;
        assert_eq!(hoard[0].1.ended(), Some(Evicted::Full));
        let (_, latest) = open(&s, "10.0.2.9", &token(1)).await;
        assert_eq!(hoard[1].1.ended(), Some(Evicted::Full));
        assert_eq!((key_probe.ended(), latest.ended()), (None, None));
        assert!(s.peek(&key_session).is_some() && s.peek(&key_again).is_some());
        open(&s, "10.0.0.1", &KEY).await;
        assert_eq!(hoard[2].1.ended(), Some(Evicted::Full), "4 against 2");
        // Even (3 and 3): the newcomer's credential gives one up.
        open(&s, "10.0.0.1", &KEY).await;
        assert_eq!(key_probe.ended(), Some(Evicted::Full));
        assert_eq!(s.lock().len(), 6);
    }

    #[tokio::test(start_paused = true)]
    async fn one_credential_from_many_addresses_cannot_push_another_out() {
        let s = table(20, 4, 10);
        let (victim, probe) = open(&s, "10.0.0.1", &KEY).await;
        for n in 0..200 {
            open(&s, &format!("10.0.3.{n}"), &token(7)).await;
        }
        assert_eq!(probe.ended(), None);
        assert!(s.get(&victim, &KEY).is_some());
        let held = |c: &Credential| {
            s.lock()
                .values()
                .filter(|e| e.holder.credential == *c)
                .count()
        };
        assert_eq!((held(&token(7)), held(&KEY)), (10, 1));
    }

    #[tokio::test(start_paused = true)]
    async fn a_session_is_found_only_with_the_credential_that_opened_it() {
        let s = table(10, 10, 10);
        let (id, _) = open(&s, "10.0.0.1", &token(1)).await;
        assert!(s.get(&id, &KEY).is_none() && s.get(&id, &token(2)).is_none());
        assert!(s.remove(&id, &KEY).is_none(), "nor ended by another");
        assert!(s.peek(&id).is_some(), "the session itself is still there");
        assert!(s.get(&id, &token(1)).is_some());
        assert!(s.remove(&id, &token(1)).is_some());
        assert!(s.peek(&id).is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn sessions_expire_when_idle() {
        let s = table(2, 2, 2);
        let (a, _) = open(&s, "10.0.0.1", &KEY).await;
        let (b, _) = open(&s, "10.0.0.1", &KEY).await;
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
        tokio::time::advance(Duration::from_secs(30)).await;
        assert!(s.get(&a, &KEY).is_some(), "use keeps a alive");
        tokio::time::advance(Duration::from_secs(45)).await;
        assert!(s.expired(&b) && s.get(&b, &KEY).is_none(), "b idled out");
        assert!(!s.expired(&a));
        let (_, c) = open(&s, "10.0.0.1", &KEY).await;
        assert!(s.get(&a, &KEY).is_some(), "b's place was free");
        assert_eq!(c.ended(), None);
    }
}
