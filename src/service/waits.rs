//! Bounds on actions Docker answers only after a container's grace period
//! (stop and restart wait up to `timeout` seconds for the container to
//! exit). Such a wait takes none of the Docker client's call turns, which
//! reads need ([`crate::docker::client`]); it is bounded here instead:
//!
//! - per container, one at a time: a second stop of a container being
//!   stopped waits for the first, then finds it stopped;
//! - per caller (the credential, however many addresses it comes from), at
//!   most [`PER_CALLER`] in progress or waiting, else 429;
//! - overall, at most [`TOTAL`], else 503 (each holds a daemon connection).

use crate::error::Error;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::{Mutex as TurnLock, OwnedMutexGuard};

/// Waits one caller may have in progress or queued.
pub const PER_CALLER: usize = 8;
/// Waits in progress or queued on the whole agent.
pub const TOTAL: usize = 64;

#[derive(Default)]
struct Tally {
    total: usize,
    callers: HashMap<String, usize>,
    /// One lock per container with a wait in progress or queued.
    containers: HashMap<String, Arc<TurnLock<()>>>,
}

/// The waits in progress (see the module doc).
#[derive(Default)]
pub struct Waits(Arc<Mutex<Tally>>);

/// A wait's place: its share of the bounds, and its container's turn once
/// [`WaitPlace::turn`] returns, until dropped.
pub struct WaitPlace {
    tally: Arc<Mutex<Tally>>,
    caller: String,
    container: String,
    lock: Arc<TurnLock<()>>,
    held: Option<OwnedMutexGuard<()>>,
}

impl Waits {
    /// A place for `caller`'s wait on `container` (a full id); 429 or 503
    /// past the bounds.
    pub fn enter(&self, caller: String, container: &str) -> Result<WaitPlace, Error> {
        let mut t = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let mine = t.callers.get(&caller).copied().unwrap_or(0);
        if mine >= PER_CALLER {
            return Err(Error::TooManyActions { limit: PER_CALLER });
        }
        if t.total >= TOTAL {
            return Err(Error::Busy(
                "Too many stops and restarts are in progress on this agent; try again shortly",
            ));
        }
        t.total += 1;
        *t.callers.entry(caller.clone()).or_default() += 1;
        let lock = t
            .containers
            .entry(container.to_string())
            .or_default()
            .clone();
        Ok(WaitPlace {
            tally: self.0.clone(),
            caller,
            container: container.to_string(),
            lock,
            held: None,
        })
    }
}

impl WaitPlace {
    /// Waits until no other action of this kind runs on the container;
    /// the turn is this place's until it is dropped.
    pub async fn turn(&mut self) {
        self.held = Some(self.lock.clone().lock_owned().await);
    }
}

impl Drop for WaitPlace {
    fn drop(&mut self) {
        self.held = None;
        let mut t = self.tally.lock().unwrap_or_else(|e| e.into_inner());
        t.total -= 1;
        if let Some(n) = t.callers.get_mut(&self.caller) {
            *n -= 1;
            if *n == 0 {
                t.callers.remove(&self.caller);
            }
        }
        // The table's own reference and this place's: nobody else waits.
        if Arc::strong_count(&self.lock) == 2 {
            t.containers.remove(&self.container);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_wait_per_container_runs_and_the_next_follows() {
        let waits = Waits::default();
        let mut first = waits.enter("user:a".into(), "c1").unwrap();
        let mut second = waits.enter("user:b".into(), "c1").unwrap();
        let mut other = waits.enter("user:b".into(), "c2").unwrap();
        first.turn().await;
        other.turn().await;
        use futures_util::FutureExt;
        assert!(second.turn().now_or_never().is_none(), "c1 is taken");
        drop(first);
        second.turn().await;
        assert_eq!(waits.0.lock().unwrap().containers.len(), 2);
        drop((second, other));
        assert!(waits.0.lock().unwrap().containers.is_empty());
    }

    #[test]
    fn a_caller_has_a_share_and_the_agent_a_total() {
        let waits = Waits::default();
        let mine: Vec<WaitPlace> = (0..PER_CALLER)
            .map(|i| waits.enter("token:x".into(), &format!("c{i}")).unwrap())
            .collect();
        let e = waits.enter("token:x".into(), "c").err().unwrap();
        assert_eq!(e.status(), 429);
        assert!(waits.enter("token:y".into(), "c").is_ok(), "others go on");
        drop(mine);
        let t = waits.0.lock().unwrap();
        assert!(t.callers.is_empty() && t.containers.is_empty() && t.total == 0);
        drop(t);
        let all: Vec<WaitPlace> = (0..TOTAL)
            .map(|i| waits.enter(format!("user:{i}"), "c").unwrap())
            .collect();
        assert_eq!(
            waits.enter("user:late".into(), "c").err().unwrap().status(),
            503
        );
        drop(all);
    }
}
