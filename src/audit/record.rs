//! One audit record and the request context it is drawn from.
//!
//! A [`Context`] is made once per request by the pipeline (request id,
//! client address after `TRUSTED_PROXIES`, start instant) and travels in the
//! request's extensions; whoever decides an outcome turns it into a
//! [`Record`] with `ctx.record(surface, action, subject)`, adds the
//! container and the outcome, and hands it to [`super::Audit::record`].
//!
//! Free text that a client can influence (user and token names, container
//! references, reasons) is clipped, and everything is escaped by serde_json,
//! so no value can forge a second line. Nothing secret has a field here:
//! no token, password, key, header or query string.

use crate::error::{Error, clip};
use serde::{Serialize, Serializer};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Instant, SystemTime};

/// Longest name, container reference or reason kept in a record.
pub const MAX_TEXT: usize = 128;

/// Where a request came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Surface {
    Rest,
    Ws,
    Mcp,
}

/// What was attempted. The names are stable: tools and alerts key on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Action {
    /// `POST /api/v1/auth/login`.
    #[serde(rename = "login")]
    Login,
    /// A REST route's bearer token.
    #[serde(rename = "auth.token")]
    Token,
    /// Opening a WebSocket stream (its `Origin`, then its token).
    #[serde(rename = "stream.open")]
    StreamOpen,
    /// Admission to MCP (`Origin`, `Host`, then the API key).
    #[serde(rename = "mcp.auth")]
    McpAuth,
    /// Reserved for the records of actions on containers.
    #[serde(rename = "container.start")]
    ContainerStart,
    #[serde(rename = "container.stop")]
    ContainerStop,
    #[serde(rename = "container.restart")]
    ContainerRestart,
}

/// How it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Done.
    Ok,
    /// The caller is not who it claims or may not do this (`401`, `403`).
    Denied,
    /// Turned away for another reason: a rate limit, a conflict, a bad request.
    Refused,
    /// Allowed, but it failed (Docker or the agent, `5xx`).
    Failed,
}

impl Outcome {
    /// The outcome an error stands for.
    pub fn of(e: &Error) -> Outcome {
        match e.status() {
            401 | 403 => Outcome::Denied,
            500.. => Outcome::Failed,
            _ => Outcome::Refused,
        }
    }
}

/// Who acted, as far as the agent knows. Written `user:NAME`,
/// `token:NAME`, `mcp` (the MCP API key) or `anonymous` (no credential that
/// names anyone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    User(String),
    Token(String),
    Mcp,
    Anonymous,
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::User(name) => write!(f, "user:{}", clip(name, MAX_TEXT)),
            Subject::Token(name) => write!(f, "token:{}", clip(name, MAX_TEXT)),
            Subject::Mcp => f.write_str("mcp"),
            Subject::Anonymous => f.write_str("anonymous"),
        }
    }
}

impl Serialize for Subject {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The request a record is about.
#[derive(Debug, Clone)]
pub struct Context {
    request_id: String,
    client: IpAddr,
    started: Instant,
}

impl Context {
    pub fn new(request_id: String, client: IpAddr, started: Instant) -> Context {
        Context {
            request_id,
            client,
            started,
        }
    }

    /// The context the pipeline attached to `req` (an unknown client if none was).
    pub fn of<B>(req: &hyper::Request<B>) -> Context {
        req.extensions()
            .get::<Context>()
            .cloned()
            .unwrap_or_else(|| {
                let id = crate::http::request_id::pick(req.headers());
                Context::new(id, Ipv4Addr::UNSPECIFIED.into(), Instant::now())
            })
    }

    /// A record of `action` by `subject`, ending now, successful unless
    /// [`Record::outcome`] or [`Record::refusal`] says otherwise.
    pub fn record(&self, surface: Surface, action: Action, subject: Subject) -> Record {
        let ms = self.started.elapsed().as_secs_f64() * 1e3;
        Record {
            time: crate::clock::format_rfc3339_millis(SystemTime::now()),
            request_id: self.request_id.clone(),
            subject,
            client: self.client,
            surface,
            action,
            container_id: None,
            container_name: None,
            result: Outcome::Ok,
            reason: None,
            duration_ms: (ms * 100.0).round() / 100.0,
        }
    }
}

/// One line of the audit trail.
#[derive(Debug, Clone, Serialize)]
pub struct Record {
    /// RFC 3339, UTC, milliseconds.
    pub time: String,
    pub request_id: String,
    pub subject: Subject,
    pub client: IpAddr,
    pub surface: Surface,
    pub action: Action,
    pub container_id: Option<String>,
    pub container_name: Option<String>,
    pub result: Outcome,
    pub reason: Option<String>,
    pub duration_ms: f64,
}

impl Record {
    /// The container acted on.
    pub fn container(mut self, id: &str, name: Option<&str>) -> Record {
        self.container_id = Some(clip(id, MAX_TEXT));
        self.container_name = name.map(|n| clip(n, MAX_TEXT));
        self
    }

    /// The outcome of `result`: ok, or what its error stands for.
    pub fn outcome<T>(self, result: &Result<T, Error>) -> Record {
        match result {
            Ok(_) => self,
            Err(e) => self.refusal(e),
        }
    }

    /// Not done because of `e`: its outcome, with its message as the reason.
    pub fn refusal(mut self, e: &Error) -> Record {
        self.result = Outcome::of(e);
        self.reason = Some(clip(&e.message(), MAX_TEXT));
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};
    use std::time::Duration;

    fn ctx() -> Context {
        Context::new(
            "req-1".into(),
            "203.0.113.9".parse().unwrap(),
            Instant::now() - Duration::from_millis(12),
        )
    }

    fn json_of(r: &Record) -> Value {
        serde_json::to_value(r).unwrap()
    }

    #[test]
    fn a_record_carries_every_documented_field() {
        let r = ctx()
            .record(
                Surface::Rest,
                Action::ContainerStop,
                Subject::User("admin".into()),
            )
            .container("4f1c0ffee", Some("web"));
        let v = json_of(&r);
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "action",
                "client",
                "container_id",
                "container_name",
                "duration_ms",
                "reason",
                "request_id",
                "result",
                "subject",
                "surface",
                "time"
            ]
        );
        assert_eq!(v["action"], "container.stop");
        assert_eq!(v["client"], "203.0.113.9");
        assert_eq!(v["container_id"], "4f1c0ffee");
        assert_eq!(v["container_name"], "web");
        assert_eq!(v["request_id"], "req-1");
        assert_eq!(v["result"], "ok");
        assert_eq!(v["reason"], Value::Null);
        assert_eq!(v["subject"], "user:admin");
        assert_eq!(v["surface"], "rest");
        assert!(v["duration_ms"].as_f64().unwrap() >= 12.0);
        let time = v["time"].as_str().unwrap();
        assert_eq!(time.len(), "2024-12-25T10:30:56.789Z".len(), "{time}");
        assert!(crate::clock::parse_rfc3339(time).is_some(), "{time}");
    }

    #[test]
    fn the_vocabulary_is_spelled_as_documented() {
        let names = |v: Value| v.as_str().unwrap().to_string();
        let surfaces = [Surface::Rest, Surface::Ws, Surface::Mcp].map(|s| names(json!(s)));
        assert_eq!(surfaces, ["rest", "ws", "mcp"]);
        let actions = [
            Action::Login,
            Action::Token,
            Action::StreamOpen,
            Action::McpAuth,
            Action::ContainerStart,
            Action::ContainerStop,
            Action::ContainerRestart,
        ]
        .map(|a| names(json!(a)));
        assert_eq!(
            actions,
            [
                "login",
                "auth.token",
                "stream.open",
                "mcp.auth",
                "container.start",
                "container.stop",
                "container.restart"
            ]
        );
        let subjects = [
            Subject::User("ops".into()),
            Subject::Token("ci-bot".into()),
            Subject::Mcp,
            Subject::Anonymous,
        ]
        .map(|s| names(json!(s)));
        assert_eq!(subjects, ["user:ops", "token:ci-bot", "mcp", "anonymous"]);
    }

    #[test]
    fn errors_become_outcomes_with_their_message() {
        let cases = [
            (Error::Unauthorized("Invalid or expired token"), "denied"),
            (Error::Forbidden("Origin not allowed"), "denied"),
            (Error::TooManyRequests { retry_after: 3 }, "refused"),
            (Error::Conflict("is the agent itself".into()), "refused"),
            (Error::DockerUnavailable, "failed"),
        ];
        for (e, want) in cases {
            let r = ctx().record(Surface::Mcp, Action::McpAuth, Subject::Anonymous);
            let v = json_of(&r.outcome(&Err::<(), _>(e.clone())));
            assert_eq!(v["result"], want, "{e:?}");
            assert_eq!(v["reason"], e.message(), "{e:?}");
        }
        let ok = ctx().record(Surface::Ws, Action::StreamOpen, Subject::Mcp);
        assert_eq!(json_of(&ok.outcome(&Ok::<(), Error>(())))["result"], "ok");
    }

    #[test]
    fn client_text_cannot_forge_a_line_and_is_clipped() {
        let forged = "web\n{\"action\":\"login\",\"result\":\"ok\"}\r\u{2028}\"}";
        let r = ctx()
            .record(
                Surface::Rest,
                Action::ContainerRestart,
                Subject::User(forged.into()),
            )
            .container(&"x".repeat(10_000), Some(forged));
        let line = serde_json::to_string(&r).unwrap();
        assert!(!line.contains('\n') && !line.contains('\r'), "{line}");
        let back: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(back["container_name"], forged);
        assert_eq!(back["subject"], format!("user:{forged}"));
        assert!(line.len() < 1024, "{} bytes", line.len());
    }
}
