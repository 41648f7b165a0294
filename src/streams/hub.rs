//! Fan-out of upstream Docker streams to their subscribers (WebSocket
//! streams, MCP change notifications), without losing anyone's messages.
//!
//! One *topic* per (kind, container, options): the first subscriber starts
//! its upstream task, later ones share it, and the last one to leave stops
//! it (dropping the Docker connection). Messages are reference-counted
//! [`Text`], so a line sent to fifty subscribers exists once.
//!
//! # The lossless rule
//! Each subscriber has a bounded queue ([`Limits`]: messages and encoded
//! bytes, and all queues together stay under [`TOTAL_BYTES`]). Each message
//! of a resumable stream (logs, events) carries the [`Position`] just after
//! it in Docker's log.
//! - The upstream is paced by its **fastest** subscriber: a message goes to
//!   every subscriber with room; when no subscriber has room the upstream
//!   waits, reading nothing more from Docker, so Docker's own socket
//!   backpressure holds the producer's lines in its log file, exactly as a
//!   direct follow does.
//! - A subscriber without room while another has some has fallen a whole
//!   queue behind the fastest: it is **moved** to a topic of its own, whose
//!   upstream is a new Docker follow resuming just after the last message
//!   in its queue. It first receives what is queued, then the resumed
//!   follow, paced by itself alone. Fast subscribers are never slowed.
//! - A moved subscriber that catches up — its own upstream publishes the
//!   same position the shared one last did — rejoins the shared topic and
//!   its own Docker follow closes.
//! - Samples (stats, [`Overflow::Latest`]) are not resumed: a full queue
//!   drops its oldest sample for the newest.
//!
//! So every subscriber gets every message, in order, exactly once, at its
//! own speed; memory is bounded by the queues whatever the speeds; and the
//! number of Docker follows stays one per topic while everyone keeps up.
//!
//! A topic can replay its last messages (the log tail, the latest stats
//! sample) to late joiners, so everyone sharing an upstream sees the same
//! lines; a late joiner whose replay would be incomplete gets its own
//! upstream instead.

use crate::docker::resume::Position;
use hyper::body::Bytes;
use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::Notify;
use tokio::task::AbortHandle;

/// Encoded bytes all subscriber queues together may hold.
pub const TOTAL_BYTES: usize = 64 << 20;
/// Bytes a topic keeps for replay.
const REPLAY_BYTES: usize = 1 << 20;

/// What happens to a message for a subscriber whose queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overflow {
    /// Move the subscriber to its own upstream resuming at its position.
    Resume,
    /// Drop the oldest queued message for the newest (samples).
    Latest,
}

/// A subscriber queue's bounds and overflow rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub messages: usize,
    pub bytes: usize,
    pub overflow: Overflow,
}

/// A message's text: UTF-8, reference-counted, shared by every subscriber
/// it goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text(Bytes);

impl Text {
    /// Its bytes, UTF-8.
    pub fn into_bytes(self) -> Bytes {
        self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for Text {
    fn from(s: String) -> Text {
        Text(Bytes::from(s))
    }
}

impl From<&'static str> for Text {
    fn from(s: &'static str) -> Text {
        Text(Bytes::from_static(s.as_bytes()))
    }
}

impl std::ops::Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        // Built from `String` and `&str` only.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl std::fmt::Display for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self)
    }
}

/// One message and, for resumable streams, the position just after it.
#[derive(Debug, Clone)]
pub struct Item {
    pub msg: Text,
    pub pos: Option<Position>,
}

impl Item {
    pub fn new(msg: impl Into<Text>, pos: Option<Position>) -> Item {
        Item {
            msg: msg.into(),
            pos,
        }
    }

    /// Bytes this message takes on the wire: payload plus frame header.
    fn size(&self) -> usize {
        let n = self.msg.len();
        n + match n {
            0..126 => 2,
            126..65_536 => 4,
            _ => 10,
        }
    }
}

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

/// Starts a topic's upstream task — fresh (`None`) or resuming after a
/// position — and returns the handle that stops it.
pub type Starter<K> = Arc<dyn Fn(Publisher<K>, Option<Position>) -> AbortHandle + Send + Sync>;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A subscriber's queue, shared by its reader and its topic's publisher.
#[derive(Default)]
struct Queue {
    items: VecDeque<Item>,
    bytes: usize,
    /// Position after the last message ever queued.
    last_pos: Option<Position>,
    end: Option<Close>,
}

/// One subscriber: its queue and what it has been sent.
struct Member<K: Hash + Eq + Clone + Send + 'static> {
    id: u64,
    queue: Mutex<Queue>,
    /// Wakes the reader.
    ready: Notify,
    /// The topic feeding this subscriber now (it changes when moved).
    topic: Mutex<Arc<Topic<K>>>,
}

impl Queue {
    /// An empty queue always takes one message, so every reader progresses.
    fn has_room(&self, item: &Item, limits: &Limits, total: &AtomicUsize) -> bool {
        if self.items.is_empty() {
            return true;
        }
        self.items.len() < limits.messages
            && self.bytes + item.size() <= limits.bytes
            && total.load(Ordering::Relaxed) + item.size() <= TOTAL_BYTES
    }

    /// Queues `item`, counting its bytes here and in the hub's `total`.
    fn push(&mut self, item: Item, total: &AtomicUsize) {
        let size = item.size();
        self.bytes += size;
        total.fetch_add(size, Ordering::Relaxed);
        if item.pos.is_some() {
            self.last_pos = item.pos;
        }
        self.items.push_back(item);
    }

    fn pop(&mut self, total: &AtomicUsize) -> Option<Item> {
        let item = self.items.pop_front()?;
        self.bytes -= item.size();
        total.fetch_sub(item.size(), Ordering::Relaxed);
        Some(item)
    }
}

struct TopicState<K: Hash + Eq + Clone + Send + 'static> {
    subs: Vec<Arc<Member<K>>>,
    replay: VecDeque<Item>,
    replay_bytes: usize,
    /// False once the replay lost messages to its byte budget.
    replay_complete: bool,
    ended: bool,
    upstream: Option<AbortHandle>,
    /// Position after the last message published.
    last_pos: Option<Position>,
}

/// One upstream and its subscribers.
pub struct Topic<K: Hash + Eq + Clone + Send + 'static> {
    state: Mutex<TopicState<K>>,
    /// Signalled when a subscriber makes room.
    room: Notify,
    limits: Limits,
    replay_max: usize,
    starter: Starter<K>,
    /// The hub key for shared topics; `None` for a moved subscriber's own.
    key: Option<K>,
    /// For a moved subscriber's own topic: the shared topic it may rejoin.
    home: Option<Arc<Topic<K>>>,
}

impl<K: Hash + Eq + Clone + Send + 'static> Topic<K> {
    fn new(
        key: Option<K>,
        home: Option<Arc<Topic<K>>>,
        limits: Limits,
        replay_max: usize,
        starter: Starter<K>,
    ) -> Topic<K> {
        Topic {
            state: Mutex::new(TopicState {
                subs: Vec::new(),
                replay: VecDeque::new(),
                replay_bytes: 0,
                replay_complete: true,
                ended: false,
                upstream: None,
                last_pos: None,
            }),
            room: Notify::new(),
            limits,
            replay_max,
            starter,
            key,
            home,
        }
    }

    fn remember(&self, st: &mut TopicState<K>, item: &Item) {
        if self.replay_max == 0 {
            return;
        }
        st.replay.push_back(item.clone());
        st.replay_bytes += item.msg.len();
        while st.replay.len() > self.replay_max
            || (st.replay_bytes > REPLAY_BYTES && st.replay.len() > 1)
        {
            if let Some(old) = st.replay.pop_front() {
                st.replay_bytes -= old.msg.len();
                if st.replay.len() < self.replay_max {
                    st.replay_complete = false;
                }
            }
        }
    }
}

/// All shared topics, by key, and the byte count of every queue.
pub struct Hub<K: Hash + Eq + Clone + Send + 'static> {
    topics: Mutex<HashMap<K, Arc<Topic<K>>>>,
    next_id: AtomicU64,
    total: AtomicUsize,
    /// Upstreams running now, shared and own (Docker follows open).
    upstreams: AtomicUsize,
    /// Subscriptions held now.
    subscribers: AtomicUsize,
}

impl<K: Hash + Eq + Clone + Send + 'static> Hub<K> {
    pub fn new() -> Arc<Hub<K>> {
        Arc::new(Hub {
            topics: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(0),
            total: AtomicUsize::new(0),
            upstreams: AtomicUsize::new(0),
            subscribers: AtomicUsize::new(0),
        })
    }

    /// Joins the topic for `key`, starting its upstream with `starter` if it
    /// has none.
    pub fn subscribe(
        self: &Arc<Self>,
        key: K,
        limits: Limits,
        replay_max: usize,
        starter: Starter<K>,
    ) -> Subscription<K> {
        let mut topics = lock(&self.topics);
        let existing = topics.get(&key).filter(|t| !lock(&t.state).ended).cloned();
        let (topic, fresh) = match existing {
            Some(t) => (t, false),
            None => {
                let t = Arc::new(Topic::new(
                    Some(key.clone()),
                    None,
                    limits,
                    replay_max,
                    starter,
                ));
                topics.insert(key, t.clone());
                (t, true)
            }
        };
        let sub = Arc::new(Member {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            queue: Mutex::new(Queue::default()),
            ready: Notify::new(),
            topic: Mutex::new(topic.clone()),
        });
        let joined = {
            let mut st = lock(&topic.state);
            let whole = st.replay_complete;
            if whole {
                let mut q = lock(&sub.queue);
                for item in &st.replay {
                    q.push(item.clone(), &self.total);
                }
                drop(q);
                st.subs.push(sub.clone());
            }
            whole
        };
        drop(topics);
        self.subscribers.fetch_add(1, Ordering::Relaxed);
        if fresh {
            self.start(&topic, None);
        } else if !joined {
            // History the replay no longer holds: an upstream of its own from the start.
            self.own_topic(&topic, &sub, None);
        }
        Subscription {
            hub: self.clone(),
            sub,
        }
    }

    fn start(self: &Arc<Self>, topic: &Arc<Topic<K>>, from: Option<Position>) {
        self.upstreams.fetch_add(1, Ordering::Relaxed);
        let handle = (topic.starter)(
            Publisher {
                hub: self.clone(),
                topic: topic.clone(),
            },
            from,
        );
        let mut st = lock(&topic.state);
        if st.ended && st.subs.is_empty() {
            handle.abort();
        }
        st.upstream = Some(handle);
    }

    /// Moves `sub` from `from` to a topic of its own resuming at `pos`.
    /// The caller holds `from`'s state lock and has removed `sub` from it.
    fn own_topic(
        self: &Arc<Self>,
        from: &Arc<Topic<K>>,
        sub: &Arc<Member<K>>,
        pos: Option<Position>,
    ) {
        let home = from.home.clone().unwrap_or_else(|| from.clone());
        let own = Topic::new(None, Some(home), from.limits, 0, from.starter.clone());
        let own = Arc::new(own);
        lock(&own.state).subs.push(sub.clone());
        *lock(&sub.topic) = own.clone();
        self.start(&own, pos);
    }

    /// Shared topics with an upstream right now.
    pub fn topic_count(&self) -> usize {
        lock(&self.topics).len()
    }

    /// Upstream tasks running now (one Docker stream each), shared or own.
    pub fn upstream_count(&self) -> usize {
        self.upstreams.load(Ordering::Relaxed)
    }

    /// Subscriptions held now, on shared topics or their own.
    pub fn subscriber_count(&self) -> usize {
        self.subscribers.load(Ordering::Relaxed)
    }

    /// Encoded bytes queued for all subscribers.
    pub fn queued_bytes(&self) -> usize {
        self.total.load(Ordering::Relaxed)
    }

    fn leave(&self, sub: &Arc<Member<K>>) {
        self.subscribers.fetch_sub(1, Ordering::Relaxed);
        loop {
            let topic = lock(&sub.topic).clone();
            let mut topics = lock(&self.topics);
            let mut st = lock(&topic.state);
            if !Arc::ptr_eq(&lock(&sub.topic), &topic) {
                continue; // moved meanwhile
            }
            st.subs.retain(|s| s.id != sub.id);
            if st.subs.is_empty() {
                if let Some(upstream) = st.upstream.take() {
                    upstream.abort();
                }
                st.ended = true;
                drop(st);
                forget(&mut topics, &topic);
            }
            let mut q = lock(&sub.queue);
            while q.pop(&self.total).is_some() {}
            return;
        }
    }
}

fn forget<K: Hash + Eq + Clone + Send + 'static>(
    topics: &mut HashMap<K, Arc<Topic<K>>>,
    topic: &Arc<Topic<K>>,
) {
    if let Some(key) = &topic.key
        && topics.get(key).is_some_and(|t| Arc::ptr_eq(t, topic))
    {
        topics.remove(key);
    }
}

/// The upstream task's handle on its topic.
pub struct Publisher<K: Hash + Eq + Clone + Send + 'static> {
    hub: Arc<Hub<K>>,
    topic: Arc<Topic<K>>,
}

impl<K: Hash + Eq + Clone + Send + 'static> Drop for Publisher<K> {
    fn drop(&mut self) {
        self.hub.upstreams.fetch_sub(1, Ordering::Relaxed);
    }
}

impl<K: Hash + Eq + Clone + Send + 'static> Publisher<K> {
    /// Delivers `items` in order under the lossless rule, waiting while no
    /// subscriber has room; returns how many subscribers still listen.
    pub async fn publish(&self, items: Vec<Item>) -> usize {
        let mut items = items.into_iter().peekable();
        loop {
            {
                let mut st = lock(&self.topic.state);
                while let Some(item) = items.peek() {
                    if st.subs.is_empty() {
                        return 0;
                    }
                    if !self.offer(&mut st, item) {
                        break;
                    }
                    let item = items.next().expect("peeked");
                    if item.pos.is_some() {
                        st.last_pos = item.pos;
                    }
                    self.topic.remember(&mut st, &item);
                }
                if items.peek().is_none() {
                    return if self.rejoin(&mut st) {
                        0
                    } else {
                        st.subs.len()
                    };
                }
            }
            self.topic.room.notified().await;
        }
    }

    /// Offers one message to every subscriber; false if none has room (and
    /// it must wait). Subscribers without room are moved or, for samples,
    /// lose their oldest message.
    fn offer(&self, st: &mut TopicState<K>, item: &Item) -> bool {
        let (limits, total) = (&self.topic.limits, &self.hub.total);
        let mut roomy = Vec::with_capacity(st.subs.len());
        for sub in &st.subs {
            let q = lock(&sub.queue);
            roomy.push(q.has_room(item, limits, total));
        }
        let latest = limits.overflow == Overflow::Latest;
        if !latest && !roomy.contains(&true) {
            return false;
        }
        let mut kept = Vec::with_capacity(st.subs.len());
        for (sub, room) in st.subs.drain(..).zip(roomy) {
            let mut q = lock(&sub.queue);
            if room || latest {
                if !room {
                    q.pop(total);
                }
                q.push(item.clone(), total);
                drop(q);
                sub.ready.notify_one();
                kept.push(sub);
            } else {
                let pos = q.last_pos;
                drop(q);
                self.hub.own_topic(&self.topic, &sub, pos);
            }
        }
        st.subs = kept;
        true
    }

    /// A moved subscriber's own upstream that has caught up with the shared
    /// one (both just published the same position) hands its subscriber
    /// back and stops: true if it did.
    fn rejoin(&self, st: &mut TopicState<K>) -> bool {
        let Some(home) = &self.topic.home else {
            return false;
        };
        let at = st.last_pos.filter(|p| p.skip == 0);
        if st.subs.len() != 1 || at.is_none() {
            return false;
        }
        let mut hs = lock(&home.state);
        if hs.ended || hs.last_pos != at {
            return false;
        }
        let sub = st.subs.pop().expect("one subscriber");
        *lock(&sub.topic) = home.clone();
        hs.subs.push(sub);
        st.ended = true;
        true
    }

    /// Ends the topic: every subscriber is closed with `close` after its
    /// queue drains, and the next subscriber starts a fresh upstream.
    pub fn end(self, close: Close) {
        let mut topics = lock(&self.hub.topics);
        let mut st = lock(&self.topic.state);
        st.ended = true;
        for sub in &st.subs {
            lock(&sub.queue).end = Some(close.clone());
            sub.ready.notify_one();
        }
        drop(st);
        forget(&mut topics, &self.topic);
    }
}

/// One subscriber's end of a topic. Dropping it leaves the topic.
pub struct Subscription<K: Hash + Eq + Clone + Send + 'static> {
    hub: Arc<Hub<K>>,
    sub: Arc<Member<K>>,
}

/// What a subscriber receives next.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    Messages(Vec<Text>),
    Closed(Close),
}

impl<K: Hash + Eq + Clone + Send + 'static> Subscription<K> {
    /// Up to `max` queued messages (waiting for at least one), or how the
    /// stream closed once everything queued was taken.
    pub async fn next(&mut self, max: usize) -> Next {
        loop {
            {
                let mut q = lock(&self.sub.queue);
                let mut batch = Vec::new();
                while batch.len() < max {
                    match q.pop(&self.hub.total) {
                        Some(item) => batch.push(item.msg),
                        None => break,
                    }
                }
                if !batch.is_empty() {
                    drop(q);
                    lock(&self.sub.topic).room.notify_one();
                    return Next::Messages(batch);
                }
                if let Some(close) = &q.end {
                    return Next::Closed(close.clone());
                }
            }
            self.sub.ready.notified().await;
        }
    }
}

impl<K: Hash + Eq + Clone + Send + 'static> Drop for Subscription<K> {
    fn drop(&mut self) {
        self.hub.leave(&self.sub);
    }
}

#[cfg(test)]
mod tests;
