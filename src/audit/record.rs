//! One audit record and the request context it is drawn from.
//!
//! A [`Context`] is made once per request by the pipeline (request id,
//! client address after `TRUSTED_PROXIES`, start instant) and travels in the
//! request's extensions; whoever decides an outcome makes a [`Record`] from
//! it with `Record::new(ctx, surface, action, subject)`, adds the container
//! and the outcome, and hands it to [`super::Audit::record`].
//!
//! A record is written as key-values of a `log` record (see
//! [`super::Audit::record`]), so the log's JSON formatter writes both the
//! log line and the file's line, and stamps the time. Free text that a
//! client can influence (user and token names, container references,
//! reasons) is clipped, and every value is escaped by serde_json there, so
//! no value can forge a second line. Nothing secret has a field here: no
//! token, password, key, header or query string.

use crate::error::{Error, clip};
use log::kv;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Instant;

/// Longest name, container reference or reason kept in a record.
pub const MAX_TEXT: usize = 128;
/// Longest command line kept in a record (a request body holds at most 64 KiB).
pub const MAX_COMMAND: usize = 4096;

/// What was attempted. The names are stable: tools and alerts key on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// `POST /api/v1/auth/login`.
    Login,
    /// A REST route's bearer token.
    Token,
    /// Opening a WebSocket stream (its `Origin`, then its token).
    StreamOpen,
    /// Admission to MCP (`Origin`, `Host`, then the API key).
    McpAuth,
    /// An operation the policy decides, by its audit action
    /// (`container.stop`, `inspect`): a refused one, or an action that
    /// changes a container.
    Op(&'static str),
    /// A request sent on to another host of the fleet.
    Forward,
}

/// The surface a request came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    Rest,
    Ws,
    Mcp,
}

impl Surface {
    pub fn name(self) -> &'static str {
        match self {
            Surface::Rest => "rest",
            Surface::Ws => "ws",
            Surface::Mcp => "mcp",
        }
    }
}

impl Action {
    /// The credential a refused admission was, as the counters name it.
    pub fn credential(self) -> &'static str {
        match self {
            Action::Login => "password",
            Action::Token => "bearer",
            Action::StreamOpen => "stream_token",
            Action::McpAuth => "mcp_key",
            Action::Op(_) | Action::Forward => "",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Action::Login => "login",
            Action::Token => "auth.token",
            Action::StreamOpen => "stream.open",
            Action::McpAuth => "mcp.auth",
            Action::Op(action) => action,
            Action::Forward => "fleet.forward",
        }
    }
}

/// How it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Denied => "denied",
            Outcome::Refused => "refused",
            Outcome::Failed => "failed",
        }
    }

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
    /// A scraper with `METRICS_TOKEN`.
    Metrics,
    Anonymous,
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::User(name) => write!(f, "user:{}", clip(name, MAX_TEXT)),
            Subject::Token(name) => write!(f, "token:{}", clip(name, MAX_TEXT)),
            Subject::Mcp => f.write_str("mcp"),
            Subject::Metrics => f.write_str("metrics"),
            Subject::Anonymous => f.write_str("anonymous"),
        }
    }
}

/// A person's answer to "do this?" (`MCP_CONFIRM`), and through whom it came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirmation {
    /// `accepted`, `declined`, `cancelled`, `timed_out`, `unavailable`,
    /// `invalid` (a forged, expired, used or foreign `requestState`), `busy` or `gone`.
    pub answer: &'static str,
    /// How it was asked: `elicitation:<client name>`.
    pub by: String,
}

/// The request a record is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    request_id: String,
    client: IpAddr,
    started: Instant,
    /// The confirmation the request carried, if it needed one.
    confirmation: Option<Confirmation>,
    /// The agent of the fleet the request came through, as its
    /// certificate names it.
    via: Option<String>,
}

impl Context {
    pub fn new(request_id: String, client: IpAddr, started: Instant) -> Context {
        Context {
            request_id,
            client,
            started,
            confirmation: None,
            via: None,
        }
    }

    /// The caller's address.
    pub fn client(&self) -> IpAddr {
        self.client
    }

    /// The request, forwarded by the fleet's agent `peer`.
    pub fn via(mut self, peer: String) -> Context {
        self.via = Some(peer);
        self
    }

    /// The agent of the fleet the request came through, if it did.
    pub fn through(&self) -> Option<&str> {
        self.via.as_deref()
    }

    /// The request, confirmed (or not) as `c` says.
    pub fn confirmed(mut self, c: Confirmation) -> Context {
        self.confirmation = Some(c);
        self
    }

    /// Whether a person said yes to the request.
    pub fn is_confirmed(&self) -> bool {
        self.confirmation
            .as_ref()
            .is_some_and(|c| c.answer == "accepted")
    }
}

/// One record of the audit trail.
#[derive(Debug, Clone)]
pub struct Record {
    pub request_id: String,
    pub subject: Subject,
    pub client: IpAddr,
    pub surface: Surface,
    pub action: Action,
    pub container_id: Option<String>,
    pub container_name: Option<String>,
    /// The image acted on: pulled (as the caller named it, with its tag),
    /// created from, or removed.
    pub image: Option<String>,
    /// The command run (exec): its argv as a JSON array.
    pub command: Option<String>,
    /// The command's exit code, when it ended by itself.
    pub exit_code: Option<i64>,
    pub result: Outcome,
    pub reason: Option<String>,
    pub duration_ms: f64,
    pub confirmation: Option<Confirmation>,
    /// The fleet agent a forwarded request came through.
    pub via: Option<String>,
    /// The host of the fleet this agent forwarded the request to.
    pub forwarded_to: Option<String>,
}

impl Record {
    /// A record of `action` by `subject` in the request `ctx` (`None`
    /// outside the pipeline: no id, an unknown client), ending now,
    /// successful unless [`Record::outcome`] or [`Record::refusal`] says
    /// otherwise.
    pub fn new(
        ctx: Option<&Context>,
        surface: Surface,
        action: Action,
        subject: Subject,
    ) -> Record {
        let (request_id, client, ms) = ctx.map_or_else(
            || (String::new(), Ipv4Addr::UNSPECIFIED.into(), 0.0),
            |c| {
                let ms = c.started.elapsed().as_secs_f64() * 1e3;
                (c.request_id.clone(), c.client, ms)
            },
        );
        let confirmation = ctx.and_then(|c| c.confirmation.clone());
        let via = ctx.and_then(|c| c.via.clone());
        Record {
            via,
            forwarded_to: None,
            request_id,
            subject,
            client,
            surface,
            action,
            container_id: None,
            container_name: None,
            image: None,
            command: None,
            exit_code: None,
            result: Outcome::Ok,
            reason: None,
            duration_ms: (ms * 100.0).round() / 100.0,
            confirmation,
        }
    }

    /// The container acted on.
    pub fn container(mut self, id: &str, name: Option<&str>) -> Record {
        self.container_id = Some(clip(id, MAX_TEXT));
        self.container_name = name.map(|n| clip(n, MAX_TEXT));
        self
    }

    /// The image acted on.
    pub fn image(mut self, reference: &str) -> Record {
        self.image = Some(clip(reference, MAX_TEXT));
        self
    }

    /// The command run, as its argv in JSON (clipped past [`MAX_COMMAND`]).
    pub fn command(mut self, argv: &[String]) -> Record {
        let json = serde_json::to_string(argv).unwrap_or_default();
        self.command = Some(clip(&json, MAX_COMMAND));
        self
    }

    /// The command's exit code, when known.
    /// The record of a request forwarded to the fleet's `host`.
    pub fn forwarded_to(mut self, host: &str) -> Record {
        self.forwarded_to = Some(clip(host, MAX_TEXT));
        self
    }

    pub fn exit_code(mut self, code: Option<i64>) -> Record {
        self.exit_code = code;
        self
    }

    /// Failed for `reason` (a command that timed out).
    pub fn failed(mut self, reason: &str) -> Record {
        self.result = Outcome::Failed;
        self.reason = Some(clip(reason, MAX_TEXT));
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

    /// The record's fields as key-values, named as documented; empty
    /// fields are `None` and left out.
    pub fn pairs(&self) -> [Option<Pair<'_>>; 17] {
        let confirmation = self.confirmation.as_ref();
        [
            Some(("request_id", self.request_id.as_str().into())),
            Some(("subject", kv::Value::from_display(&self.subject))),
            Some(("client", kv::Value::from_display(&self.client))),
            Some(("surface", self.surface.name().into())),
            Some(("action", self.action.name().into())),
            text("container_id", &self.container_id),
            text("container_name", &self.container_name),
            text("image", &self.image),
            text("command", &self.command),
            self.exit_code.map(|code| ("exit_code", code.into())),
            Some(("result", self.result.name().into())),
            text("reason", &self.reason),
            Some(("duration_ms", self.duration_ms.into())),
            confirmation.map(|c| ("confirmation", c.answer.into())),
            confirmation.map(|c| ("confirmed_by", c.by.as_str().into())),
            text("via", &self.via),
            text("forwarded_to", &self.forwarded_to),
        ]
    }
}

/// A field's name and value.
pub type Pair<'a> = (&'static str, kv::Value<'a>);

/// An optional text field.
fn text<'a>(name: &'static str, value: &'a Option<String>) -> Option<Pair<'a>> {
    value.as_deref().map(|v| (name, kv::Value::from(v)))
}

#[cfg(test)]
mod tests;
