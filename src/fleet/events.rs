//! One events stream for every host of the fleet
//! (`/api/v1/events/ws?host=*`): this host's own events and each member's
//! events stream, opened on the member with the caller's own credential,
//! every event tagged with its `host`.
//!
//! Lossless per host across a host's outage: when a member's stream
//! breaks, subscribers get an `agent` `host-unreachable` event naming it,
//! and the stream is opened again (with backoff and jitter) from the time
//! of the last event delivered from that host (`since`, which the member
//! replays from Docker's own event log); what it sends again from that
//! instant is recognised and dropped, then `host-reconnected` says it is
//! back. A member that refuses the stream (its own policy: a credential it
//! does not take, a bad filter) is named in a `host-refused` event and
//! left out. Flow control runs end to end: each host's reader waits while
//! the merged stream has no room, so a slow subscriber slows the members'
//! streams instead of filling memory.
//!
//! The stream follows the fleet as it changes: at each probe interval a
//! member that joined (once the probe knows who it is) is followed from
//! then, with a `host-joined` notice, and one that left the fleet is let
//! go, with `host-left` ([`Readers::changes`]).

use super::Fleet;
use super::members::{HostView, Remote};
use crate::clock::unix_now_nanos;
use crate::docker::path::segment;
use crate::docker::resume::since_nanos;
use crate::streams::hub::{Close, Item, Starter};
use crate::streams::{Next, StreamKey, Sub};
use futures_util::StreamExt;
use hyper::header::{self, HeaderValue};
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::AbortHandle;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};

/// Messages on their way from the hosts' readers to the merged stream.
const IN_FLIGHT: usize = 64;

/// Messages taken from this host's own subscription at once.
const BATCH: usize = 256;

/// The first wait before opening a broken stream again, and the longest.
const RETRY_MIN: Duration = Duration::from_millis(250);
const RETRY_MAX: Duration = Duration::from_secs(10);

/// Largest event message accepted from a member.
const MAX_MESSAGE: usize = 4 << 20;

/// What a merged stream asks of each member.
pub struct EventsAsk {
    /// The stream's filters, as a query string (`type=container&…`).
    pub filters: String,
    /// The caller's credential, as presented.
    pub token: String,
    /// The caller's address, sent on as `X-Forwarded-For`.
    pub client: IpAddr,
    /// Unix nanoseconds the stream starts from.
    pub since: u64,
}

impl Fleet {
    /// The upstream of a merged events topic: `local` is this host's own
    /// subscription (already admitted), `ask` what every member is asked.
    pub fn merged_events(self: &Arc<Self>, local: Sub, ask: EventsAsk) -> Starter<StreamKey> {
        let fleet = self.clone();
        let held = Mutex::new(Some(local));
        let ask = Arc::new(ask);
        Arc::new(move |publisher, _from| {
            let local = held.lock().unwrap_or_else(PoisonError::into_inner).take();
            let (fleet, ask) = (fleet.clone(), ask.clone());
            tokio::spawn(async move {
                let (tx, mut rx) = mpsc::channel::<Merged>(IN_FLIGHT);
                let (views, handles) = fleet.snapshot();
                let here = views.first().map(|v| v.name.clone()).unwrap_or_default();
                let mut readers = Readers {
                    ask: ask.clone(),
                    tx,
                    tasks: tokio::task::JoinSet::new(),
                    followed: Vec::new(),
                };
                if let Some(local) = local {
                    let tx = readers.tx.clone();
                    readers.tasks.spawn(read_local(local, here, tx));
                }
                for (view, member) in members(views, handles) {
                    readers.follow(member, view.name, ask.since);
                }
                let mut rescan = tokio::time::interval(fleet.config.probe_every);
                rescan.tick().await;
                loop {
                    let next = tokio::select! {
                        next = rx.recv() => next,
                        _ = rescan.tick() => {
                            let notices = readers.changes(&fleet);
                            let items: Vec<Item> =
                                notices.into_iter().map(|n| Item::new(n, None)).collect();
                            if !items.is_empty() && publisher.publish(items).await == 0 {
                                return;
                            }
                            continue;
                        }
                    };
                    match next {
                        Some(Merged::Event(text)) => {
                            if publisher.publish(vec![Item::new(text, None)]).await == 0 {
                                return;
                            }
                        }
                        Some(Merged::End(close)) => return publisher.end(close),
                        None => return,
                    }
                }
            })
            .abort_handle()
        })
    }
}

/// The members of a snapshot, each with its view (this host left out).
fn members(
    views: Vec<HostView>,
    handles: Vec<Option<Arc<Remote>>>,
) -> Vec<(HostView, Arc<Remote>)> {
    let pairs = views.into_iter().zip(handles);
    pairs
        .filter_map(|(view, member)| Some((view, member?)))
        .collect()
}

/// The readers of one merged stream: this host's own and each member's,
/// all handing their messages to `tx`.
struct Readers {
    ask: Arc<EventsAsk>,
    tx: mpsc::Sender<Merged>,
    tasks: tokio::task::JoinSet<()>,
    /// Each member followed, the name it goes by, and its reader.
    followed: Vec<(Arc<Remote>, String, AbortHandle)>,
}

impl Readers {
    /// Follows `member`, known as `host`, from `since` (Unix nanoseconds).
    fn follow(&mut self, member: Arc<Remote>, host: String, since: u64) {
        let (ask, tx) = (self.ask.clone(), self.tx.clone());
        let reader = follow(member.clone(), host.clone(), ask, since, tx);
        self.followed.push((member, host, self.tasks.spawn(reader)));
    }

    /// Follows the members that joined the fleet since the stream opened
    /// (once the probe has found who they are), from now, and stops
    /// following those that left it: the notices saying so (`host-joined`,
    /// `host-left`).
    fn changes(&mut self, fleet: &Fleet) -> Vec<String> {
        while self.tasks.try_join_next().is_some() {}
        let (views, handles) = fleet.snapshot();
        let now = members(views, handles);
        let mut notices = Vec::new();
        self.followed.retain(|(member, name, reader)| {
            let stays = now.iter().any(|(_, m)| Arc::ptr_eq(m, member));
            if !stays {
                reader.abort();
                let why = "it is no longer a member of the fleet";
                notices.push(notice("host-left", name, why));
            }
            stays
        });
        for (view, member) in now {
            let known = self
                .followed
                .iter()
                .any(|(m, _, _)| Arc::ptr_eq(m, &member));
            // A view names its agent once the probe has heard from it.
            if known || view.agent.is_none() {
                continue;
            }
            let why = "it joined the fleet: its events follow from now";
            notices.push(notice("host-joined", &view.name, why));
            self.follow(member, view.name, unix_now_nanos());
        }
        notices
    }
}

/// What a host's reader hands the merged stream.
enum Merged {
    Event(String),
    /// This host's own stream ended (its subscriber's credential expired,
    /// say): the merged stream ends the same way.
    End(Close),
}

/// This host's own events, tagged.
async fn read_local(mut sub: Sub, host: String, tx: mpsc::Sender<Merged>) {
    loop {
        match sub.next(BATCH).await {
            Next::Messages(batch) => {
                for text in batch {
                    let raw = String::from_utf8_lossy(&text.into_bytes()).into_owned();
                    let tagged = serde_json::from_str(&raw).map_or(raw, |e| tag(e, &host));
                    if tx.send(Merged::Event(tagged)).await.is_err() {
                        return;
                    }
                }
            }
            Next::Closed(close) => {
                let _ = tx.send(Merged::End(close)).await;
                return;
            }
        }
    }
}

/// One member's events for as long as the merged stream lasts.
async fn follow(
    member: Arc<Remote>,
    host: String,
    ask: Arc<EventsAsk>,
    since: u64,
    tx: mpsc::Sender<Merged>,
) {
    let mut seen = Delivered::from(since);
    let (mut down, mut retry) = (false, RETRY_MIN);
    loop {
        let why = match open(&member, &ask, seen.since()).await {
            Ok(Opened::Stream(mut ws)) => {
                if down {
                    let back = notice("host-reconnected", &host, "its events stream is back");
                    if tx.send(Merged::Event(back)).await.is_err() {
                        return;
                    }
                }
                (down, retry) = (false, RETRY_MIN);
                match relay(&mut ws, &host, &mut seen, &tx).await {
                    Ended::Gone => return,
                    Ended::Refused(reason) => {
                        let refused = notice("host-refused", &host, &reason);
                        let _ = tx.send(Merged::Event(refused)).await;
                        return;
                    }
                    Ended::Broken(why) => why,
                }
            }
            Ok(Opened::Refused(reason)) => {
                let refused = notice("host-refused", &host, &reason);
                let _ = tx.send(Merged::Event(refused)).await;
                return;
            }
            Err(why) => why,
        };
        if !down {
            member.unreachable(why.clone());
            let lost = notice("host-unreachable", &host, &why);
            if tx.send(Merged::Event(lost)).await.is_err() {
                return;
            }
            down = true;
        }
        tokio::time::sleep(crate::random::jittered(retry)).await;
        retry = (retry * 2).min(RETRY_MAX);
    }
}

/// How a member's stream ended.
enum Ended {
    /// The merged stream is gone.
    Gone,
    /// The member closed it as a refusal (a policy code).
    Refused(String),
    /// It broke (the member went away): open it again.
    Broken(String),
}

type MemberStream = WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>;

async fn relay(
    ws: &mut MemberStream,
    host: &str,
    seen: &mut Delivered,
    tx: &mpsc::Sender<Merged>,
) -> Ended {
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(text))) => {
                let Ok(event) = serde_json::from_str::<Value>(&text) else {
                    continue;
                };
                if !seen.fresh(&event, &text) {
                    continue;
                }
                if tx.send(Merged::Event(tag(event, host))).await.is_err() {
                    return Ended::Gone;
                }
            }
            Some(Ok(Message::Close(frame))) => {
                let (code, reason) = frame.map_or((1005, String::new()), |f| {
                    (u16::from(f.code), f.reason.to_string())
                });
                return match code {
                    1008 | 4000..=4999 => Ended::Refused(format!("{code} {reason}")),
                    _ => Ended::Broken(format!("its stream closed ({code} {reason})")),
                };
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => return Ended::Broken(format!("its stream broke: {e}")),
            None => return Ended::Broken("its stream ended".into()),
        }
    }
}

/// What the events a member sent tell about where to resume: the time of
/// the last one delivered, and which were delivered at that very time (a
/// stream opened again from there sends those again).
struct Delivered {
    nanos: u64,
    at: HashSet<u64>,
}

impl Delivered {
    fn from(nanos: u64) -> Delivered {
        Delivered {
            nanos,
            at: HashSet::new(),
        }
    }

    /// Where to open the stream again: the last event's time.
    fn since(&self) -> u64 {
        self.nanos
    }

    /// Whether `event` is new; it is then counted as delivered.
    fn fresh(&mut self, event: &Value, text: &str) -> bool {
        let Some(nanos) = event.get("timeNano").and_then(Value::as_u64) else {
            return true;
        };
        if event.get("Type").and_then(Value::as_str) == Some("agent") {
            return true;
        }
        let key = fingerprint(text);
        match nanos.cmp(&self.nanos) {
            std::cmp::Ordering::Less => false,
            std::cmp::Ordering::Equal => self.at.insert(key),
            std::cmp::Ordering::Greater => {
                self.nanos = nanos;
                self.at.clear();
                self.at.insert(key);
                true
            }
        }
    }
}

fn fingerprint(text: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    h.finish()
}

/// How opening a member's stream went.
enum Opened {
    Stream(Box<MemberStream>),
    /// It answered the upgrade with a refusal (401, 403, 422…).
    Refused(String),
}

/// Opens `member`'s events stream from `since`, as the caller.
async fn open(member: &Remote, ask: &EventsAsk, since: u64) -> Result<Opened, String> {
    let mut key = [0u8; 16];
    crate::random::fill(&mut key);
    let key = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(key)
    };
    let mut path = format!(
        "/api/v1/events/ws?token={}&since={}",
        segment(&ask.token),
        since_nanos(since)
    );
    if !ask.filters.is_empty() {
        path.push('&');
        path.push_str(&ask.filters);
    }
    let req = Request::get(path)
        .header(header::HOST, member.link.address().to_string())
        .header(header::CONNECTION, "upgrade")
        .header(header::UPGRADE, "websocket")
        .header(header::SEC_WEBSOCKET_VERSION, "13")
        .header(header::SEC_WEBSOCKET_KEY, &key)
        .header("x-forwarded-for", ask.client.to_string())
        .body(super::link::empty())
        .map_err(|e| e.to_string())?;
    let mut resp = member.link.send(req).await?;
    if resp.status() != StatusCode::SWITCHING_PROTOCOLS {
        let status = resp.status().as_u16();
        return Ok(Opened::Refused(format!("it answered {status}")));
    }
    let accept = HeaderValue::from_str(&derive_accept_key(key.as_bytes()));
    if resp.headers().get(header::SEC_WEBSOCKET_ACCEPT) != accept.ok().as_ref() {
        return Err("its WebSocket handshake was wrong".into());
    }
    let upgraded = hyper::upgrade::on(&mut resp)
        .await
        .map_err(|e| format!("its upgrade failed: {e}"))?;
    // Small buffers: a stream of every host holds one of these per member.
    let config = WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .max_message_size(Some(MAX_MESSAGE))
        .max_frame_size(Some(MAX_MESSAGE));
    let ws =
        WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Client, Some(config)).await;
    Ok(Opened::Stream(Box::new(ws)))
}

/// `event` with the `host` it came from.
fn tag(mut event: Value, host: &str) -> String {
    if let Some(o) = event.as_object_mut() {
        o.insert("host".into(), json!(host));
    }
    event.to_string()
}

/// An `agent` event about a host of the fleet, shaped like Docker's.
fn notice(action: &str, host: &str, reason: &str) -> String {
    let nanos = unix_now_nanos();
    json!({
        "Type": "agent",
        "Action": action,
        "Actor": {"ID": "docker-agent", "Attributes": {"host": host, "reason": reason}},
        "host": host,
        "scope": "local",
        "time": nanos / 1_000_000_000,
        "timeNano": nanos,
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(nanos: u64, action: &str) -> (Value, String) {
        let v = json!({"Type": "container", "Action": action, "timeNano": nanos});
        let text = v.to_string();
        (v, text)
    }

    #[test]
    fn a_stream_opened_again_from_the_last_event_delivers_each_event_once() {
        let mut seen = Delivered::from(100);
        let delivered: Vec<bool> = [(100, "start"), (200, "stop"), (200, "die"), (300, "start")]
            .iter()
            .map(|(n, a)| {
                let (v, t) = event(*n, a);
                seen.fresh(&v, &t)
            })
            .collect();
        assert_eq!(delivered, [true, true, true, true]);
        assert_eq!(seen.since(), 300);
        // Opened again from 300: Docker sends 300 again, then what is new.
        let again: Vec<bool> = [(300, "start"), (300, "kill"), (250, "old"), (400, "die")]
            .iter()
            .map(|(n, a)| {
                let (v, t) = event(*n, a);
                seen.fresh(&v, &t)
            })
            .collect();
        assert_eq!(again, [false, true, false, true]);
        let notice: Value = serde_json::from_str(&notice("host-unreachable", "two", "x")).unwrap();
        assert!(
            seen.fresh(&notice, "any"),
            "the agent's own notices always pass"
        );
    }

    #[test]
    fn notices_name_the_host() {
        let v: Value = serde_json::from_str(&notice("host-unreachable", "two", "refused")).unwrap();
        assert_eq!(v["Type"], "agent");
        assert_eq!(v["host"], "two");
        assert_eq!(v["Actor"]["Attributes"]["reason"], "refused");
    }
}
