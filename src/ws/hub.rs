//! Fan-out of upstream Docker streams to WebSocket subscribers.
//!
//! One *topic* per (kind, container, options): the first subscriber starts
//! its upstream task, later ones share it, and the last one to leave stops
//! it (dropping the Docker connection). Messages are reference-counted
//! `Utf8Bytes`, so a line sent to fifty subscribers exists once.
//!
//! Backpressure rule: the upstream never waits for a subscriber. Each
//! subscriber has a bounded queue ([`QUEUE_MESSAGES`] messages beyond the
//! replay, and [`QUEUE_BYTES`] bytes); a subscriber whose queue is full is cut off —
//! it receives what is already queued, then is closed with 1008 "client too
//! slow". Fast subscribers are never delayed, and memory is bounded by the
//! queues whatever the number of subscribers.
//!
//! A topic can replay its last few messages (the log tail, the latest stats
//! sample) to late joiners, so everyone sharing an upstream sees the same
//! lines.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::mpsc;
use tokio::task::AbortHandle;
use tokio_tungstenite::tungstenite::Utf8Bytes;

/// Messages a subscriber may have queued.
pub const QUEUE_MESSAGES: usize = 4096;
/// Bytes a subscriber may have queued.
pub const QUEUE_BYTES: usize = 4 << 20;
/// Bytes a topic keeps for replay.
const REPLAY_BYTES: usize = 1 << 20;

/// How a stream ends, as a WebSocket close code and reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Close {
    pub code: u16,
    pub reason: String,
}

impl Close {
    pub fn new(code: u16, reason: impl Into<String>) -> Close {
        Close {
            code,
            reason: reason.into(),
        }
    }
}

/// What a subscriber and the upstream share.
#[derive(Debug, Default)]
struct SubState {
    queued_bytes: AtomicUsize,
    too_slow: AtomicBool,
    end: Mutex<Option<Close>>,
}

struct Sub {
    id: u64,
    tx: mpsc::Sender<Utf8Bytes>,
    state: Arc<SubState>,
}

struct TopicState {
    subs: Vec<Sub>,
    /// Subscriptions alive (including ones cut off but not yet dropped).
    members: usize,
    replay: VecDeque<Utf8Bytes>,
    replay_bytes: usize,
    replay_max: usize,
    ended: bool,
    upstream: Option<AbortHandle>,
}

pub struct Topic {
    state: Mutex<TopicState>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Topic {
    fn new(replay_max: usize) -> Topic {
        Topic {
            state: Mutex::new(TopicState {
                subs: Vec::new(),
                members: 0,
                replay: VecDeque::new(),
                replay_bytes: 0,
                replay_max,
                ended: false,
                upstream: None,
            }),
        }
    }

    /// Queues `msgs`, in order, for every subscriber under one lock, so each
    /// subscriber wakes once per batch; returns how many still listen.
    fn publish(&self, msgs: &[Utf8Bytes]) -> usize {
        let mut st = lock(&self.state);
        if st.replay_max > 0 {
            for msg in msgs {
                st.replay.push_back(msg.clone());
                st.replay_bytes += msg.len();
            }
            while st.replay.len() > st.replay_max
                || (st.replay_bytes > REPLAY_BYTES && st.replay.len() > 1)
            {
                if let Some(old) = st.replay.pop_front() {
                    st.replay_bytes -= old.len();
                }
            }
        }
        st.subs.retain(|sub| msgs.iter().all(|msg| offer(sub, msg)));
        st.subs.len()
    }

    fn end(&self, close: &Close) {
        let mut st = lock(&self.state);
        st.ended = true;
        for sub in st.subs.drain(..) {
            *lock(&sub.state.end) = Some(close.clone());
        }
    }
}

/// Queues `msg` for `sub` unless its queue is full; a full queue cuts it off.
fn offer(sub: &Sub, msg: &Utf8Bytes) -> bool {
    let queued = sub.state.queued_bytes.load(Ordering::Relaxed);
    if queued + msg.len() <= QUEUE_BYTES && sub.tx.try_send(msg.clone()).is_ok() {
        sub.state
            .queued_bytes
            .fetch_add(msg.len(), Ordering::Relaxed);
        return true;
    }
    sub.state.too_slow.store(true, Ordering::Relaxed);
    false
}

/// All topics, by key.
pub struct Hub<K> {
    topics: Mutex<HashMap<K, Arc<Topic>>>,
    next_id: AtomicUsize,
}

impl<K: Hash + Eq + Clone + Send + 'static> Hub<K> {
    pub fn new() -> Arc<Hub<K>> {
        Arc::new(Hub {
            topics: Mutex::new(HashMap::new()),
            next_id: AtomicUsize::new(0),
        })
    }

    /// Joins the topic for `key`, starting its upstream with `start` if it
    /// has none. `start` gets the [`Publisher`] and returns the task to abort
    /// when the last subscriber leaves.
    pub fn subscribe(
        self: &Arc<Self>,
        key: K,
        replay_max: usize,
        start: impl FnOnce(Publisher<K>) -> AbortHandle,
    ) -> Subscription<K> {
        let mut topics = lock(&self.topics);
        let existing = topics.get(&key).filter(|t| !lock(&t.state).ended).cloned();
        let (topic, fresh) = match existing {
            Some(t) => (t, false),
            None => {
                let t = Arc::new(Topic::new(replay_max));
                topics.insert(key.clone(), t.clone());
                (t, true)
            }
        };
        let state = Arc::new(SubState::default());
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) as u64;
        let rx = {
            let mut st = lock(&topic.state);
            // Room for the whole replay on top of the live queue.
            let (tx, rx) = mpsc::channel(QUEUE_MESSAGES + st.replay_max);
            let sub = Sub {
                id,
                tx,
                state: state.clone(),
            };
            let replayed = st.replay.iter().all(|m| offer(&sub, m));
            if replayed {
                st.subs.push(sub);
            }
            st.members += 1;
            rx
        };
        drop(topics);
        if fresh {
            let handle = start(Publisher {
                hub: self.clone(),
                key: key.clone(),
                topic: topic.clone(),
            });
            lock(&topic.state).upstream = Some(handle);
        }
        Subscription {
            hub: self.clone(),
            key,
            topic,
            id,
            rx,
            state,
        }
    }

    /// Topics with an upstream right now.
    pub fn topic_count(&self) -> usize {
        lock(&self.topics).len()
    }

    fn leave(&self, key: &K, topic: &Arc<Topic>, id: u64) {
        let mut topics = lock(&self.topics);
        let mut st = lock(&topic.state);
        st.subs.retain(|s| s.id != id);
        st.members -= 1;
        if st.members == 0 {
            if let Some(upstream) = st.upstream.take() {
                upstream.abort();
            }
            st.ended = true;
            drop(st);
            if topics.get(key).is_some_and(|t| Arc::ptr_eq(t, topic)) {
                topics.remove(key);
            }
        }
    }

    fn forget(&self, key: &K, topic: &Arc<Topic>) {
        let mut topics = lock(&self.topics);
        if topics.get(key).is_some_and(|t| Arc::ptr_eq(t, topic)) {
            topics.remove(key);
        }
    }
}

/// The upstream task's handle on its topic.
pub struct Publisher<K: Hash + Eq + Clone + Send + 'static> {
    hub: Arc<Hub<K>>,
    key: K,
    topic: Arc<Topic>,
}

impl<K: Hash + Eq + Clone + Send + 'static> Publisher<K> {
    /// Sends a message to every subscriber; returns how many still listen.
    pub fn publish(&self, msg: impl Into<Utf8Bytes>) -> usize {
        self.topic.publish(&[msg.into()])
    }

    /// Sends several messages, in order, waking each subscriber once.
    pub fn publish_all(&self, msgs: Vec<String>) -> usize {
        let msgs: Vec<Utf8Bytes> = msgs.into_iter().map(Utf8Bytes::from).collect();
        self.topic.publish(&msgs)
    }

    /// Ends the topic: every subscriber is closed with `close` after its
    /// queue drains, and the next subscriber starts a fresh upstream.
    pub fn end(self, close: Close) {
        self.topic.end(&close);
        self.hub.forget(&self.key, &self.topic);
    }
}

/// One subscriber's end of a topic. Dropping it leaves the topic.
pub struct Subscription<K: Hash + Eq + Clone + Send + 'static> {
    hub: Arc<Hub<K>>,
    key: K,
    topic: Arc<Topic>,
    id: u64,
    rx: mpsc::Receiver<Utf8Bytes>,
    state: Arc<SubState>,
}

/// What a subscriber receives next.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    Message(Utf8Bytes),
    Closed(Close),
}

impl<K: Hash + Eq + Clone + Send + 'static> Subscription<K> {
    /// The next message, or how the stream closed.
    pub async fn next(&mut self) -> Next {
        match self.rx.recv().await {
            Some(msg) => {
                self.state
                    .queued_bytes
                    .fetch_sub(msg.len(), Ordering::Relaxed);
                Next::Message(msg)
            }
            None => Next::Closed(self.closing()),
        }
    }

    /// A message already queued, without waiting.
    pub fn try_next(&mut self) -> Option<Utf8Bytes> {
        let msg = self.rx.try_recv().ok()?;
        self.state
            .queued_bytes
            .fetch_sub(msg.len(), Ordering::Relaxed);
        Some(msg)
    }

    fn closing(&self) -> Close {
        if self.state.too_slow.load(Ordering::Relaxed) {
            return Close::new(1008, "client too slow: fell too far behind the stream");
        }
        lock(&self.state.end)
            .clone()
            .unwrap_or_else(|| Close::new(1011, "stream ended"))
    }
}

impl<K: Hash + Eq + Clone + Send + 'static> Drop for Subscription<K> {
    fn drop(&mut self) {
        self.hub.leave(&self.key, &self.topic, self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use tokio::sync::oneshot;

    type TestHub = Arc<Hub<&'static str>>;
    type Publishers = Arc<Mutex<Vec<Publisher<&'static str>>>>;

    /// Subscribes; the upstream (if started) hands its publisher to `publishers`.
    fn join(
        hub: &TestHub,
        key: &'static str,
        replay: usize,
        started: &Arc<AtomicUsize>,
        publishers: &Publishers,
    ) -> Subscription<&'static str> {
        let (started, publishers) = (started.clone(), publishers.clone());
        hub.subscribe(key, replay, move |p| {
            started.fetch_add(1, Ordering::SeqCst);
            lock(&publishers).push(p);
            let (_tx, rx) = oneshot::channel::<()>();
            tokio::spawn(async move {
                let _ = rx.await;
            })
            .abort_handle()
        })
    }

    fn fixtures() -> (TestHub, Arc<AtomicUsize>, Publishers) {
        (
            Hub::new(),
            Arc::new(AtomicUsize::new(0)),
            Arc::new(Mutex::new(Vec::new())),
        )
    }

    #[tokio::test]
    async fn subscribers_share_one_upstream_per_key() {
        let (hub, started, pubs) = fixtures();
        let mut subs: Vec<_> = (0..50)
            .map(|_| join(&hub, "logs:a", 0, &started, &pubs))
            .collect();
        let _other = join(&hub, "logs:b", 0, &started, &pubs);
        assert_eq!(started.load(Ordering::SeqCst), 2);
        assert_eq!(lock(&pubs)[0].publish("line 1"), 50);
        for s in &mut subs {
            assert_eq!(s.next().await, Next::Message("line 1".into()));
        }
    }

    #[tokio::test]
    async fn last_subscriber_leaving_stops_the_upstream() {
        let (hub, started, pubs) = fixtures();
        let a = join(&hub, "k", 0, &started, &pubs);
        let b = join(&hub, "k", 0, &started, &pubs);
        drop(a);
        assert_eq!(hub.topic_count(), 1);
        drop(b);
        assert_eq!(hub.topic_count(), 0);
        let _c = join(&hub, "k", 0, &started, &pubs);
        assert_eq!(
            started.load(Ordering::SeqCst),
            2,
            "a fresh upstream after everyone left"
        );
    }

    #[tokio::test]
    async fn late_joiners_get_the_replay() {
        let (hub, started, pubs) = fixtures();
        let _first = join(&hub, "k", 2, &started, &pubs);
        for line in ["a", "b", "c"] {
            lock(&pubs)[0].publish(line);
        }
        let mut late = join(&hub, "k", 2, &started, &pubs);
        assert_eq!(late.next().await, Next::Message("b".into()));
        assert_eq!(late.next().await, Next::Message("c".into()));
        lock(&pubs)[0].publish("d");
        assert_eq!(late.next().await, Next::Message("d".into()));
    }

    #[tokio::test]
    async fn a_replay_longer_than_the_live_queue_is_delivered_whole() {
        let (hub, started, pubs) = fixtures();
        let replay = QUEUE_MESSAGES + 1000;
        let _first = join(&hub, "k", replay, &started, &pubs);
        for i in 0..replay {
            lock(&pubs)[0].publish(format!("{i}"));
        }
        let mut late = join(&hub, "k", replay, &started, &pubs);
        for i in 0..replay {
            assert_eq!(late.next().await, Next::Message(format!("{i}").into()));
        }
        assert_eq!(
            lock(&pubs)[0].publish("live"),
            2,
            "the late joiner was not cut off"
        );
    }

    #[tokio::test]
    async fn a_stalled_subscriber_is_cut_off_without_delaying_others() {
        let (hub, started, pubs) = fixtures();
        let mut fast = join(&hub, "k", 0, &started, &pubs);
        let mut stalled = join(&hub, "k", 0, &started, &pubs);
        for i in 0..QUEUE_MESSAGES + 10 {
            let listening = lock(&pubs)[0].publish(format!("m{i}"));
            assert!(listening >= 1);
            assert_eq!(fast.next().await, Next::Message(format!("m{i}").into()));
        }
        let mut got = 0;
        let close = loop {
            match stalled.next().await {
                Next::Message(_) => got += 1,
                Next::Closed(c) => break c,
            }
        };
        assert_eq!(got, QUEUE_MESSAGES, "keeps what was queued, nothing more");
        assert_eq!(close.code, 1008);
    }

    #[tokio::test]
    async fn queues_are_bounded_in_bytes_too() {
        let (hub, started, pubs) = fixtures();
        let mut sub = join(&hub, "k", 0, &started, &pubs);
        let big = "x".repeat(QUEUE_BYTES / 4 + 1);
        for _ in 0..4 {
            lock(&pubs)[0].publish(big.clone());
        }
        assert_eq!(
            lock(&pubs)[0].publish("more"),
            0,
            "cut off at the byte budget"
        );
        let mut got = 0;
        while let Next::Message(_) = sub.next().await {
            got += 1;
        }
        assert_eq!(got, 3);
    }

    #[tokio::test]
    async fn ending_a_topic_closes_subscribers_after_their_queue() {
        let (hub, started, pubs) = fixtures();
        let mut sub = join(&hub, "k", 0, &started, &pubs);
        let publisher = lock(&pubs).pop().unwrap();
        publisher.publish("last words");
        publisher.end(Close::new(1000, "Container stopped"));
        assert_eq!(sub.next().await, Next::Message("last words".into()));
        assert_eq!(
            sub.next().await,
            Next::Closed(Close::new(1000, "Container stopped"))
        );
        assert_eq!(hub.topic_count(), 0);
        let _fresh = join(&hub, "k", 0, &started, &pubs);
        assert_eq!(started.load(Ordering::SeqCst), 2);
    }
}
