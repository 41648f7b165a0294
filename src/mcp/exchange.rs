//! What a request's handling may tell its client before the result:
//! `notifications/progress` (when the request carried
//! `_meta.progressToken`) and, on the handshake eras, server→client
//! requests such as `elicitation/create`.
//!
//! - [`Outbox`]: where those messages go — the request's own SSE response
//!   on Streamable HTTP ([`respond`] turns the answer into
//!   `text/event-stream` when the first one is sent, and only if the
//!   client's `Accept` lists it), the session's stream on the legacy
//!   transport (an [`Outlet`]), or nowhere (progress is then skipped and
//!   nobody can be asked).
//! - [`SessionClient`]: what a handshake session knows of its client
//!   (version, whether it declared `elicitation`, its name) and its
//!   [`OpenQuestions`], server→client requests awaiting their answer: at
//!   most [`MAX_PENDING`], each answered by the client's
//!   JSON-RPC response routed here by id (unknown ids are ignored), and
//!   each wait bounded by its caller. Their ids are 128 random bits in hex,
//!   so an answer cannot be forged by guessing one. A client that goes away
//!   drops the request's task (its response body is gone) or, on the legacy
//!   transport, closes the table, which ends every wait at once.
//! - [`Progress`]: the sink a tool reports progress to; cheap to clone and
//!   `'static`, so a tool may move it into a stream it forwards.

use super::changes::Listener;
use super::sessions::{Evicted, Session, Shares, new_id};
use super::transport::{event, event_stream};
use crate::http::body::{self, Body};
use futures_util::StreamExt;
use hyper::body::Bytes;
use hyper::{Response, StatusCode};
use serde_json::{Value, json};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// Server→client requests one session may have waiting for an answer.
pub const MAX_PENDING: usize = 8;
/// Messages a request's stream may hold before its client reads them;
/// progress beyond that is dropped, requests wait for room.
pub const STREAM_QUEUE: usize = 32;

/// Where a request's messages before its result go (see the module doc).
#[derive(Clone, Default)]
pub enum Outbox {
    #[default]
    None,
    /// The request's own SSE response.
    Stream(mpsc::Sender<Said>),
    /// The legacy transport's session stream.
    Session(Arc<dyn Outlet>),
}

/// A stream of its own that a session's requests send on (the legacy
/// transport's session stream).
pub trait Outlet: Send + Sync {
    /// Queues SSE `bytes` for the stream; false if they cannot reach the
    /// client.
    fn offer(&self, bytes: Bytes) -> bool;
}

impl Outbox {
    /// Whether messages can reach the client at all.
    pub fn open(&self) -> bool {
        !matches!(self, Outbox::None)
    }

    /// Sends `msg`, waiting for room; false if it cannot reach the client.
    async fn send(&self, msg: &Value) -> bool {
        match self {
            Outbox::None => false,
            Outbox::Stream(tx) => tx.send(Said::Message(msg.to_string())).await.is_ok(),
            Outbox::Session(s) => s.offer(event("message", msg)),
        }
    }

    /// Sends `msg` if there is room now; dropped otherwise.
    fn offer(&self, msg: &Value) {
        match self {
            Outbox::None => {}
            Outbox::Stream(tx) => drop(tx.try_send(Said::Message(msg.to_string()))),
            Outbox::Session(s) => drop(s.offer(event("message", msg))),
        }
    }
}

/// Where a tool reports progress: a no-op unless the request carried a
/// `progressToken` and its answer can stream.
#[derive(Clone, Default)]
pub struct Progress {
    out: Outbox,
    token: Option<Value>,
}

impl Progress {
    /// The sink for a request with `params`, answered through `out`.
    pub fn new(out: &Outbox, params: &Value) -> Progress {
        let token = params
            .pointer("/_meta/progressToken")
            .filter(|t| t.is_string() || t.is_number())
            .cloned();
        Progress {
            out: if token.is_some() {
                out.clone()
            } else {
                Outbox::None
            },
            token,
        }
    }

    /// Sends `notifications/progress` (`progress` must grow from one call
    /// to the next); skipped when nobody asked or the client lags behind.
    pub fn report(&self, progress: f64, total: Option<f64>, message: Option<&str>) {
        let Some(token) = &self.token else { return };
        let mut params = json!({"progressToken": token, "progress": progress});
        if let Some(total) = total {
            params["total"] = json!(total);
        }
        if let Some(message) = message {
            params["message"] = json!(message);
        }
        self.out.offer(
            &json!({"jsonrpc": "2.0", "method": "notifications/progress", "params": params}),
        );
    }
}

/// What a handshake session knows of its client.
pub struct SessionClient {
    pub version: &'static str,
    /// Declared the `elicitation` capability at `initialize`.
    pub elicits: bool,
    /// `clientInfo.name`, for the audit trail.
    pub client: String,
    /// What the agent asked it and awaits the answer to.
    pub questions: OpenQuestions,
    /// What the session subscribed to (resource change notifications).
    pub listener: Arc<Listener>,
}

impl SessionClient {
    /// The client `initialize` with `params` describes, in `version`,
    /// hearing of its subscriptions through `listener`.
    pub fn new(version: &'static str, params: &Value, listener: Arc<Listener>) -> SessionClient {
        SessionClient {
            version,
            elicits: params.pointer("/capabilities/elicitation").is_some(),
            client: client_name(params.pointer("/clientInfo/name")),
            questions: OpenQuestions::default(),
            listener,
        }
    }

    /// Ends the session: every wait for an answer, and its stream.
    pub fn end(&self) {
        self.questions.close();
        self.listener.ended.notify_one();
    }
}

/// A handshake session given up by its table ends like a deleted one.
impl Session for Arc<SessionClient> {
    fn end(&self, _: Evicted, _: Shares) {
        SessionClient::end(self);
    }
}

/// A client's name as it gave it (clipped), or `unknown client`.
pub fn client_name(name: Option<&Value>) -> String {
    let name = name.and_then(Value::as_str).unwrap_or("unknown client");
    crate::error::clip(name, crate::audit::MAX_TEXT)
}

/// Server→client requests awaiting their answer (see the module doc).
#[derive(Default)]
pub struct OpenQuestions {
    table: Mutex<Table>,
}

#[derive(Default)]
struct Table {
    /// Few ([`MAX_PENDING`]), so a list.
    waiting: Vec<(String, oneshot::Sender<Option<Value>>)>,
    /// Set once the client went away.
    closed: bool,
}

impl Table {
    fn take(&mut self, id: &str) -> Option<oneshot::Sender<Option<Value>>> {
        let at = self.waiting.iter().position(|(i, _)| i == id)?;
        Some(self.waiting.swap_remove(at).1)
    }
}

/// Why a question got no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unanswered {
    /// The client cannot be asked (no capability or no stream).
    CannotAsk,
    /// [`MAX_PENDING`] questions are already waiting.
    Busy,
    /// The client went away.
    Gone,
    /// No answer in time.
    TimedOut,
}

/// An entry of [`OpenQuestions`], removed when dropped.
struct Waiting<'a> {
    questions: &'a OpenQuestions,
    id: String,
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.questions.lock().take(&self.id);
    }
}

impl OpenQuestions {
    fn lock(&self) -> std::sync::MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Hands the client's answer to request `id` (its JSON text) to
    /// whoever waits for it; false when nobody does (unknown, answered or
    /// expired: ignored).
    pub fn answer(&self, id: &str, result: Option<Value>) -> bool {
        let id = serde_json::from_str::<String>(id).ok();
        let waiter = id.and_then(|id| self.lock().take(&id));
        waiter.is_some_and(|tx| tx.send(result).is_ok())
    }

    /// Ends every wait (the client went away); later questions get [`Unanswered::Gone`].
    pub fn close(&self) {
        let mut table = self.lock();
        table.closed = true;
        table.waiting.clear();
    }

    /// Sends request `method` with `params` through `out` and waits at most
    /// `wait` for its result (`None` if the client answered with an error).
    pub async fn ask(
        &self,
        out: &Outbox,
        method: &str,
        params: Value,
        wait: Duration,
    ) -> Result<Option<Value>, Unanswered> {
        let (tx, rx) = oneshot::channel();
        let id = {
            let mut table = self.lock();
            if table.closed {
                return Err(Unanswered::Gone);
            }
            if table.waiting.len() >= MAX_PENDING {
                return Err(Unanswered::Busy);
            }
            let id = loop {
                let id = new_id();
                if table.waiting.iter().all(|(taken, _)| *taken != id) {
                    break id;
                }
            };
            table.waiting.push((id.clone(), tx));
            id
        };
        let request = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        let _entry = Waiting {
            questions: self,
            id,
        };
        if !out.send(&request).await {
            return Err(Unanswered::CannotAsk);
        }
        match tokio::time::timeout(wait, rx).await {
            Ok(Ok(result)) => Ok(result),
            Ok(Err(_)) => Err(Unanswered::Gone),
            Err(_) => Err(Unanswered::TimedOut),
        }
    }
}

/// A request's way back to its client before its result.
#[derive(Clone, Default)]
pub struct Link {
    pub out: Outbox,
    /// The handshake session's client, if any (none on 2026-07-28).
    pub peer: Option<Arc<SessionClient>>,
}

/// What a request's task says on its [`Outbox::Stream`]: messages, then its answer.
pub enum Said {
    Message(String),
    Answer(StatusCode, String),
}

/// Aborts the task when dropped: a request whose client went away stops.
struct Abort(JoinHandle<()>);

impl Drop for Abort {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The answer to one request: `work` runs with the request's [`Outbox`]
/// and yields the status and JSON-RPC text of its answer. Plain JSON, unless
/// `work` sends a message first and `streams` (the client accepts
/// `text/event-stream`): then an SSE stream of those messages and the
/// answer, ending with it.
pub async fn respond<F>(streams: bool, work: impl FnOnce(Outbox) -> F) -> Response<Body>
where
    F: Future<Output = (StatusCode, String)> + Send + 'static,
{
    let (tx, mut rx) = mpsc::channel(STREAM_QUEUE);
    let out = match streams {
        true => Outbox::Stream(tx.clone()),
        false => Outbox::None,
    };
    let work = work(out);
    let task = Abort(tokio::spawn(async move {
        let (status, text) = work.await;
        let _ = tx.send(Said::Answer(status, text)).await;
    }));
    match rx.recv().await {
        Some(Said::Answer(status, text)) => body::json_response(status, body::full(text)),
        Some(Said::Message(first)) => stream(first, rx, task),
        None => body::json_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            body::full(
                r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32603,"message":"Internal error"}}"#,
            ),
        ),
    }
}

/// The SSE answer: `first`, what follows it, then the answer.
fn stream(first: String, rx: mpsc::Receiver<Said>, task: Abort) -> Response<Body> {
    let rest = futures_util::stream::unfold(Some((rx, task)), |state| async move {
        let (mut rx, task) = state?;
        match rx.recv().await? {
            Said::Message(msg) => Some((event("message", msg), Some((rx, task)))),
            Said::Answer(_, text) => Some((event("message", text), None)),
        }
    });
    event_stream(futures_util::stream::once(async { event("message", first) }).chain(rest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    fn said(s: Option<Said>) -> String {
        match s {
            Some(Said::Message(m)) => m,
            _ => panic!("not a message"),
        }
    }

    async fn text(resp: Response<Body>) -> String {
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn an_answer_reaches_the_question_of_its_id_only() {
        let pending = Arc::new(OpenQuestions::default());
        let (tx, mut rx) = mpsc::channel(4);
        let out = Outbox::Stream(tx);
        let asking = {
            let (pending, out) = (pending.clone(), out.clone());
            tokio::spawn(async move {
                pending
                    .ask(
                        &out,
                        "elicitation/create",
                        json!({}),
                        Duration::from_secs(60),
                    )
                    .await
            })
        };
        let sent: Value = serde_json::from_str(&said(rx.recv().await)).unwrap();
        assert_eq!(sent["method"], "elicitation/create");
        let hex = sent["id"].as_str().unwrap();
        assert!(hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()));
        let id = sent["id"].to_string();
        assert!(
            !pending.answer("1", Some(json!({}))),
            "unknown ids are ignored"
        );
        assert!(!pending.answer("\"x\"", Some(json!({}))));
        assert!(!pending.answer(hex, Some(json!({}))), "the id is a string");
        assert!(pending.answer(&id, Some(json!({"action": "accept"}))));
        assert_eq!(asking.await.unwrap(), Ok(Some(json!({"action": "accept"}))));
        assert!(!pending.answer(&id, None), "answered once");
        assert!(pending.lock().waiting.is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn questions_are_bounded_in_number_and_time() {
        let pending = Arc::new(OpenQuestions::default());
        let (tx, _rx) = mpsc::channel(MAX_PENDING + 1);
        let out = Outbox::Stream(tx);
        let mut waits = Vec::new();
        for _ in 0..MAX_PENDING {
            let (pending, out) = (pending.clone(), out.clone());
            waits.push(tokio::spawn(async move {
                pending
                    .ask(&out, "m", json!({}), Duration::from_secs(5))
                    .await
            }));
        }
        tokio::task::yield_now().await;
        while pending.lock().waiting.len() < MAX_PENDING {
            tokio::task::yield_now().await;
        }
        let over = pending
            .ask(&out, "m", json!({}), Duration::from_secs(5))
            .await;
        assert_eq!(over, Err(Unanswered::Busy));
        let mut ids: Vec<String> = pending
            .lock()
            .waiting
            .iter()
            .map(|(id, _)| id.clone())
            .collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), MAX_PENDING, "each question has an id of its own");
        tokio::time::advance(Duration::from_secs(6)).await;
        for w in waits {
            assert_eq!(w.await.unwrap(), Err(Unanswered::TimedOut));
        }
        assert!(
            pending.lock().waiting.is_empty(),
            "expired entries are gone"
        );
        let nowhere = pending
            .ask(&Outbox::None, "m", json!({}), Duration::from_secs(5))
            .await;
        assert_eq!(nowhere, Err(Unanswered::CannotAsk));
    }

    #[tokio::test]
    async fn a_client_that_goes_away_ends_its_waits() {
        let pending = Arc::new(OpenQuestions::default());
        let (tx, mut rx) = mpsc::channel(1);
        let out = Outbox::Stream(tx);
        let asking = {
            let pending = pending.clone();
            tokio::spawn(async move {
                pending
                    .ask(&out, "m", json!({}), Duration::from_secs(60))
                    .await
            })
        };
        rx.recv().await.unwrap();
        pending.close();
        assert_eq!(asking.await.unwrap(), Err(Unanswered::Gone));
        let later = pending
            .ask(&Outbox::None, "m", json!({}), Duration::from_secs(1))
            .await;
        assert_eq!(later, Err(Unanswered::Gone));
    }

    #[tokio::test]
    async fn progress_is_sent_only_for_a_token() {
        let (tx, mut rx) = mpsc::channel(4);
        let out = Outbox::Stream(tx);
        Progress::new(&out, &json!({})).report(1.0, None, None);
        Progress::new(&out, &json!({"_meta": {"progressToken": {"no": 1}}}))
            .report(1.0, None, None);
        let sink = Progress::new(&out, &json!({"_meta": {"progressToken": "t"}}));
        sink.report(2.0, Some(4.0), Some("half"));
        Progress::default().report(3.0, None, None);
        drop((out, sink));
        let sent: Value = serde_json::from_str(&said(rx.recv().await)).unwrap();
        assert_eq!(
            sent,
            json!({"jsonrpc": "2.0", "method": "notifications/progress", "params": {"progressToken": "t", "progress": 2.0, "total": 4.0, "message": "half"}})
        );
        assert!(rx.recv().await.is_none(), "nothing else");
    }

    #[tokio::test]
    async fn an_answer_streams_only_once_something_precedes_it_and_the_client_accepts_it() {
        let quiet = respond(true, |_| async { (StatusCode::OK, "{}".to_string()) }).await;
        assert_eq!(quiet.headers()["content-type"], "application/json");
        assert_eq!(text(quiet).await, "{}");
        let chatty = |out: Outbox| async move {
            out.send(&json!({"n": 1})).await;
            (StatusCode::OK, r#"{"done":true}"#.to_string())
        };
        let streamed = respond(true, chatty).await;
        assert_eq!(streamed.headers()["content-type"], "text/event-stream");
        assert_eq!(
            text(streamed).await,
            "event: message\ndata: {\"n\":1}\n\nevent: message\ndata: {\"done\":true}\n\n"
        );
        let refused = respond(false, chatty).await;
        assert_eq!(refused.headers()["content-type"], "application/json");
        assert_eq!(text(refused).await, r#"{"done":true}"#);
    }
}
