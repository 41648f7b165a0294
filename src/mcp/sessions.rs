//! A bounded table of MCP sessions (handshake-era Streamable HTTP sessions
//! and legacy SSE sessions). Ids are 32 random hex digits. A session unused
//! for the idle limit expires; when the table is full, expired ones are
//! swept and, if still full, the new session is refused.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

struct Entry<T> {
    value: T,
    last_used: Instant,
}

pub struct Sessions<T> {
    map: Mutex<HashMap<String, Entry<T>>>,
    max: usize,
    idle: Duration,
}

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
        let now = Instant::now();
        let mut map = self.lock();
        if map.len() >= self.max {
            map.retain(|_, e| now.duration_since(e.last_used) < self.idle);
        }
        if map.len() >= self.max {
            return None;
        }
        let id = new_id();
        map.insert(
            id.clone(),
            Entry {
                value,
                last_used: now,
            },
        );
        Some(id)
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

    /// Ends a session; false if it did not exist.
    pub fn remove(&self, id: &str) -> bool {
        self.lock().remove(id).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(s.remove(&a));
        assert!(!s.remove(&a));
        assert_eq!(s.get(&a), None);
    }
}
