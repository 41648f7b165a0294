//! Change notifications for MCP resources, driven by Docker's events.
//!
//! A [`Listener`] is what one client hears: a handshake-era session (the
//! URIs it passed to `resources/subscribe`, heard on its `GET /mcp` stream
//! or its legacy SSE stream) or one 2026-07-28 `subscriptions/listen`
//! stream. The [`Watcher`] follows the agent's shared Docker events topic
//! ([`crate::streams::Streams::events`], the upstream the WebSocket events
//! stream uses) with one task while any listener is registered, and stops
//! it, closing the Docker follow, when the last one goes.
//!
//! A container's create or destroy changes the list (`list_changed`, and
//! `docker://containers` updated); any other state change (start, stop,
//! die, rename, …) updates `docker://containers/{id}`, its logs and the
//! list. Events about out-of-scope containers never reach the watcher
//! (the events pump leaves them out); a listener whose caller may no longer
//! read (its token removed) hears nothing.
//!
//! Bounded whatever the reader's speed: a listener holds at most
//! [`MAX_URIS`] subscriptions, and what waits for it is a set of those URIs
//! plus one flag. An update carries no data, so changes that arrive before
//! the client reads coalesce into one notification per URI.

use crate::app::App;
use crate::ops;
use crate::policy::Caller;
use crate::service::streams::EventFilters;
use crate::streams::Next;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};
use tokio::sync::Notify;
use tokio::task::AbortHandle;

/// Subscribed URIs one listener may hold.
pub const MAX_URIS: usize = 256;
/// The URI of the container list resource.
pub const LIST_URI: &str = "docker://containers";
/// Container events that change what a resource shows.
const ACTIONS: [&str; 13] = [
    "create",
    "destroy",
    "start",
    "stop",
    "die",
    "kill",
    "pause",
    "unpause",
    "restart",
    "rename",
    "update",
    "oom",
    "health_status",
];

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A notification waiting for a listener's reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    ListChanged,
    Updated(String),
}

impl Change {
    /// The JSON-RPC notification, its `_meta` carrying `subscription` (the
    /// `subscriptions/listen` request id) when given.
    pub fn message(&self, subscription: Option<&Value>) -> String {
        let mut params = match self {
            Change::ListChanged => json!({}),
            Change::Updated(uri) => json!({"uri": uri}),
        };
        if let Some(id) = subscription {
            params["_meta"] = json!({"io.modelcontextprotocol/subscriptionId": id});
        }
        let method = match self {
            Change::ListChanged => "notifications/resources/list_changed",
            Change::Updated(_) => "notifications/resources/updated",
        };
        json!({"jsonrpc": "2.0", "method": method, "params": params}).to_string()
    }
}

/// What a Docker event changes.
#[derive(Debug, PartialEq, Eq)]
enum Event {
    /// Created or destroyed: the list itself changed.
    Listed(String),
    Changed(String),
    /// Events may have been missed (the daemon went away): anything may have changed.
    Anything,
}

fn classify(event: &Value) -> Option<Event> {
    let id = || event.pointer("/Actor/ID")?.as_str().map(str::to_string);
    match event.get("Type")?.as_str()? {
        "agent" => Some(Event::Anything),
        "container" => match event.get("Action")?.as_str()? {
            "create" | "destroy" => id().map(Event::Listed),
            _ => id().map(Event::Changed),
        },
        _ => None,
    }
}

#[derive(Default)]
struct ListenerState {
    /// URI → the full id of the container it names (`None`: the list).
    subscribed: BTreeMap<String, Option<String>>,
    /// Whether list changes are wanted.
    list: bool,
    pending: BTreeSet<String>,
    pending_list: bool,
}

impl ListenerState {
    /// Marks what `event` changes; true if anything new is pending.
    fn mark(&mut self, event: &Event) -> bool {
        let before = (self.pending.len(), self.pending_list);
        let (id, listed) = match event {
            Event::Listed(id) => (Some(id), true),
            Event::Changed(id) => (Some(id), false),
            Event::Anything => (None, true),
        };
        self.pending_list |= listed && self.list;
        for (uri, target) in &self.subscribed {
            if target.is_none() || id.is_none() || target.as_ref() == id {
                self.pending.insert(uri.clone());
            }
        }
        before != (self.pending.len(), self.pending_list)
    }
}

/// What one client hears (see the module doc).
pub struct Listener {
    pub caller: Caller,
    state: Mutex<ListenerState>,
    ready: Notify,
    /// Whether a stream reads it now (one `GET /mcp` stream per session).
    streaming: Mutex<bool>,
    /// Signalled when its session ends.
    pub ended: Notify,
    watcher: OnceLock<Arc<Watcher>>,
}

impl Listener {
    /// A listener for `caller`; `list` says whether list changes are wanted.
    pub fn new(caller: Caller, list: bool) -> Arc<Listener> {
        Arc::new(Listener {
            caller,
            state: Mutex::new(ListenerState {
                list,
                ..ListenerState::default()
            }),
            ready: Notify::new(),
            streaming: Mutex::new(false),
            ended: Notify::new(),
            watcher: OnceLock::new(),
        })
    }

    /// Subscribes `uri`, naming the container `target` (full id) or the
    /// list; false when [`MAX_URIS`] are already held.
    pub fn subscribe(&self, uri: &str, target: Option<String>) -> bool {
        let mut st = lock(&self.state);
        if st.subscribed.len() >= MAX_URIS && !st.subscribed.contains_key(uri) {
            return false;
        }
        st.subscribed.insert(uri.to_string(), target);
        true
    }

    pub fn unsubscribe(&self, uri: &str) {
        let mut st = lock(&self.state);
        st.subscribed.remove(uri);
        st.pending.remove(uri);
    }

    /// Claims the right to read it; false if a stream already does.
    pub fn claim(&self) -> bool {
        !std::mem::replace(&mut *lock(&self.streaming), true)
    }

    /// Gives the claim back (the stream ended).
    pub fn release(&self) {
        *lock(&self.streaming) = false;
    }

    fn take(&self) -> Option<Change> {
        let mut st = lock(&self.state);
        if std::mem::take(&mut st.pending_list) {
            return Some(Change::ListChanged);
        }
        st.pending.pop_first().map(Change::Updated)
    }

    /// The next pending change, waiting for one.
    pub async fn next(&self) -> Change {
        loop {
            let notified = self.ready.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(change) = self.take() {
                return change;
            }
            notified.await;
        }
    }

    fn mark(&self, event: &Event) {
        if lock(&self.state).mark(event) {
            self.ready.notify_one();
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        if let Some(w) = self.watcher.get() {
            w.prune();
        }
    }
}

/// Feeds every registered listener from one Docker events follow.
#[derive(Default)]
pub struct Watcher {
    listeners: Mutex<Vec<Weak<Listener>>>,
    task: Mutex<Option<AbortHandle>>,
}

impl Watcher {
    /// Registers `listener` (once), starting the follow if none runs.
    pub fn register(self: &Arc<Self>, app: &Arc<App>, listener: &Arc<Listener>) {
        if listener.watcher.set(self.clone()).is_err() {
            return;
        }
        lock(&self.listeners).push(Arc::downgrade(listener));
        let mut task = lock(&self.task);
        if task.is_none() {
            *task = Some(tokio::spawn(follow(app.clone())).abort_handle());
        }
    }

    /// Forgets dropped listeners; the follow stops with the last one.
    fn prune(&self) {
        let mut listeners = lock(&self.listeners);
        listeners.retain(|l| l.strong_count() > 0);
        if listeners.is_empty() {
            if let Some(task) = lock(&self.task).take() {
                task.abort();
            }
        }
    }

    /// Listeners registered now (dropped ones are forgotten at once).
    pub fn count(&self) -> usize {
        lock(&self.listeners).len()
    }

    /// Tells each listener whose caller may still read what `event` changed.
    fn dispatch(&self, app: &App, event: &Event) {
        let listeners: Vec<Arc<Listener>> = lock(&self.listeners)
            .iter()
            .filter_map(Weak::upgrade)
            .collect();
        for l in listeners {
            let may = app.policy.refresh(&l.caller);
            if may.is_some_and(|c| app.service.may(&c, ops::INSPECT.op)) {
                l.mark(event);
            }
        }
    }
}

/// The watcher's task: container events from the shared topic, resubscribing
/// (and telling everyone anything may have changed) if the topic ends.
async fn follow(app: Arc<App>) {
    let filters = EventFilters::from([
        ("type".into(), vec!["container".into()]),
        ("event".into(), ACTIONS.map(String::from).to_vec()),
    ]);
    loop {
        let mut sub = app.streams.events(filters.clone(), None);
        while let Next::Messages(msgs) = sub.next(64).await {
            for msg in msgs {
                let event = serde_json::from_str(&msg).ok();
                if let Some(e) = event.as_ref().and_then(classify) {
                    super::state(&app).changes.dispatch(&app, &e);
                }
            }
        }
        super::state(&app).changes.dispatch(&app, &Event::Anything);
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller() -> Caller {
        Caller {
            subject: "t".into(),
            role: crate::policy::Role::Read,
            surface: crate::policy::Surface::Mcp,
            credential: crate::policy::Credential::McpKey,
            restrictions: Default::default(),
            context: None,
        }
    }

    #[test]
    fn events_are_classified_by_what_they_change() {
        let e = |t: &str, a: &str| json!({"Type": t, "Action": a, "Actor": {"ID": "abc"}});
        assert_eq!(
            classify(&e("container", "create")),
            Some(Event::Listed("abc".into()))
        );
        assert_eq!(
            classify(&e("container", "die")),
            Some(Event::Changed("abc".into()))
        );
        assert_eq!(
            classify(&e("agent", "docker-reconnected")),
            Some(Event::Anything)
        );
        assert_eq!(classify(&e("image", "pull")), None);
        assert_eq!(classify(&json!({"Type": "container"})), None);
    }

    #[tokio::test]
    async fn changes_coalesce_per_uri_and_reach_only_subscribers() {
        let l = Listener::new(caller(), true);
        assert!(l.subscribe("docker://containers/abc", Some("abc".into())));
        assert!(l.subscribe("docker://containers/abc/logs", Some("abc".into())));
        assert!(l.subscribe(LIST_URI, None));
        for _ in 0..100 {
            l.mark(&Event::Changed("abc".into()));
            l.mark(&Event::Changed("other".into()));
        }
        let mut seen = Vec::new();
        while let Some(c) = l.take() {
            seen.push(c);
        }
        assert_eq!(
            seen,
            [
                Change::Updated(LIST_URI.into()),
                Change::Updated("docker://containers/abc".into()),
                Change::Updated("docker://containers/abc/logs".into()),
            ],
            "one notification per URI, nothing for other containers, no list change"
        );
        l.mark(&Event::Listed("new".into()));
        assert_eq!(l.next().await, Change::ListChanged);
        assert_eq!(l.next().await, Change::Updated(LIST_URI.into()));
        l.unsubscribe(LIST_URI);
        l.mark(&Event::Listed("new".into()));
        assert_eq!(l.take(), Some(Change::ListChanged));
        assert_eq!(l.take(), None);
    }

    #[test]
    fn subscriptions_are_bounded() {
        let l = Listener::new(caller(), false);
        for n in 0..MAX_URIS {
            assert!(l.subscribe(&format!("docker://containers/{n}"), Some(n.to_string())));
        }
        assert!(!l.subscribe("docker://containers/one-more", None));
        assert!(
            l.subscribe("docker://containers/0", Some("0".into())),
            "again"
        );
        l.mark(&Event::Listed("x".into()));
        assert_eq!(l.take(), None, "no list changes unless wanted");
    }

    #[test]
    fn notifications_carry_the_subscription_id() {
        let m: Value = serde_json::from_str(
            &Change::Updated("docker://containers/a".into()).message(Some(&json!("s-1"))),
        )
        .unwrap();
        assert_eq!(m["method"], "notifications/resources/updated");
        assert_eq!(m["params"]["uri"], "docker://containers/a");
        assert_eq!(
            m["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
            "s-1"
        );
        let plain: Value = serde_json::from_str(&Change::ListChanged.message(None)).unwrap();
        assert_eq!(
            plain,
            json!({"jsonrpc": "2.0", "method": "notifications/resources/list_changed", "params": {}})
        );
    }
}
